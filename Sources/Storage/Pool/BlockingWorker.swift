internal import Foundation

/// A thread of its own that runs blocking jobs one after another, in submission order.
///
/// libpq calls block until the server answers; running them on Swift concurrency's
/// cooperative threads (one per core) or on an event loop would stall unrelated work for the
/// length of every query. Each pooled connection therefore owns one of these threads, which
/// also satisfies libpq's rule that one connection is never used by two threads at once.
final class BlockingWorker: @unchecked Sendable {
    // @unchecked: `jobs` and `stopping` are read and written only with `condition` locked;
    // the thread itself is started once in init.
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var stopping = false

    /// - Parameter name: the thread's name as tools show it (at most 15 bytes on Linux).
    init(name: String) {
        let thread = Thread { [self] in
            // A name given before start() does not reach the kernel here, and a new thread
            // inherits its creator's name (often a dispatch queue's): name it from the inside.
            Thread.current.name = name
            run()
        }
        thread.start()
    }

    /// Queues `job`; false (and the job is dropped) once ``stop()`` was called.
    @discardableResult
    func submit(_ job: @escaping @Sendable () -> Void) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !stopping else { return false }
        jobs.append(job)
        condition.signal()
        return true
    }

    /// Lets the queued jobs finish, then ends the thread.
    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
        }
    }
}
