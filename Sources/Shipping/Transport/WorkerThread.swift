import Foundation

/// A thread of its own that runs submitted jobs in order: blocking calls (libcurl transfers,
/// fsync) go here instead of onto Swift concurrency's cooperative threads.
///
/// The job queue and the stop flag are only touched under `condition`'s lock, which is why the
/// unchecked `Sendable` is safe.
final class WorkerThread: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var stopped = false
    private var started = false
    private let name: String

    init(name: String) {
        self.name = name
    }

    /// Queues `job`; the thread starts on the first job.
    func submit(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(job)
        if !started {
            started = true
            let thread = Thread { [self] in run() }
            thread.name = name
            thread.start()
        }
        condition.signal()
        condition.unlock()
    }

    /// Lets the thread finish the queued jobs and exit.
    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopped { condition.wait() }
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
