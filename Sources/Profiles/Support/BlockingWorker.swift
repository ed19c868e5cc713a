internal import Foundation

/// A thread of its own that runs blocking jobs one after another, in submission order.
///
/// Blocking calls — libpq queries, libcurl transfers — must not run on Swift concurrency's
/// cooperative threads (one per core) or on an event loop: they would stall unrelated work for
/// their whole length. Storage gives each pooled connection one of these threads (which also
/// keeps libpq's rule that one connection is never used by two threads at once); Shipping's
/// `HTTPUploader` runs its transfers on one. Here, the lowest module both import; `package`, so
/// it is not part of the DriftProfiler API.
package final class BlockingWorker: @unchecked Sendable {
    // @unchecked: `jobs`, `started` and `stopping` are read and written only with `condition`
    // locked; the thread is started once, by the first job.
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var started = false
    private var stopping = false
    private let name: String

    /// - Parameter name: the thread's name as tools show it (at most 15 bytes on Linux).
    package init(name: String) {
        self.name = name
    }

    /// Queues `job`, starting the thread on the first one (a worker never used costs no
    /// thread); false (and the job is dropped) once ``stop()`` was called.
    @discardableResult
    package func submit(_ job: @escaping @Sendable () -> Void) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !stopping else { return false }
        jobs.append(job)
        if !started {
            started = true
            let name = self.name
            Thread { [self] in
                Self.nameCurrentThread(name)
                run()
            }.start()
        }
        condition.signal()
        return true
    }

    /// Lets the queued jobs finish, then ends the thread.
    package func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    /// Names the calling thread for `top -H`, `ps -L` and debuggers. On Linux a new thread
    /// inherits its creator's name (often a dispatch queue's); Foundation's `Thread.name`
    /// reaches the kernel only when the setter wins a race with `start()`, and
    /// `pthread_setname_np` is not exported to Swift, so the name is written to
    /// `/proc/thread-self/comm` (proc(5); at most 15 bytes).
    private static func nameCurrentThread(_ name: String) {
        #if os(Linux)
            let fd = open("/proc/thread-self/comm", O_WRONLY)
            guard fd >= 0 else { return }
            let bytes = Array(name.utf8.prefix(15))
            _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
        #else
            Thread.current.name = name
        #endif
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
