public import CoreMetrics
import Foundation
public import Logging
public import Profiles
internal import Synchronization

/// Spools profiles and uploads them in the background, on a thread of its own.
///
/// ``enqueue(_:)`` only appends to an in-memory queue and signals the thread, so callers (the
/// profiler's logging threads) never wait on the disk or the network. The thread writes each
/// queued profile to the ``Spool`` first, then uploads spooled profiles oldest first:
/// a 2xx deletes the file; a network error, 5xx, 408 or 429 pauses all uploads for the
/// ``RetryPolicy``'s backoff (at least the server's `Retry-After`), since the server, not the
/// profile, is the problem; any other status moves the file to `rejected/`.
///
/// Every upload carries `Idempotency-Key: <upload id>`, so a profile resent after a lost
/// response is stored once by the server.
///
/// What the spool held when the shipper starts is sent first.
public final class Shipper: @unchecked Sendable {
    // Safety of @unchecked Sendable: `spool`, `failures`, `notBefore` and `random` are touched
    // only by the shipper's thread (after init); the queue and the stop state are guarded by
    // `condition`; `stats` is a Mutex.
    public let configuration: ShipperConfiguration
    private let uploader: HTTPUploader
    private let logger: Logger
    private let metrics: ShippingMetrics
    private let tick: (@Sendable () -> Void)?

    private let condition = NSCondition()
    private var pending: [DatasetProfile] = []
    private var stopDeadline: ContinuousClock.Instant?
    private var stopRequested: ContinuousClock.Instant?
    private var woken = false
    private var finished: ShutdownReport?
    /// False once the final round has spooled the last queued profiles. Until then profiles are
    /// accepted even after shutdown was requested: a window the tick closed while `shutdown`
    /// began must still reach the spool.
    private var accepting = true
    private var waiters: [CheckedContinuation<ShutdownReport, Never>] = []

    private let spool: Spool
    private var failures = 0
    /// Profiles lost because the spool could not write them (counted as dropped).
    private var writeFailures: Int64 = 0
    private var notBefore = ContinuousClock.now
    private var random = SystemRandomNumberGenerator()
    private let stats: Mutex<ShippingStatistics>

    /// Opens the spool and starts the shipper's thread, which begins by sending what the spool
    /// holds.
    ///
    /// - Parameters:
    ///   - tick: called on the shipper's thread at every wake-up (at least every
    ///     ``ShipperConfiguration/tickInterval``); the ``DriftMonitor`` closes due windows here.
    ///   - metricsFactory: where counters and gauges go; nil uses the process's bootstrapped
    ///     `MetricsSystem`.
    /// - Throws: ``ShippingError`` for a bad configuration or a spool directory that cannot be
    ///   created.
    public init(
        configuration: ShipperConfiguration, logger: Logger = Logger(label: "driftwatch.shipping"),
        metricsFactory: (any MetricsFactory)? = nil, tick: (@Sendable () -> Void)? = nil
    ) throws(ShippingError) {
        self.configuration = try configuration.validated()
        self.uploader = HTTPUploader(configuration: configuration.http)
        self.logger = logger
        self.metrics = ShippingMetrics(dimensions: configuration.metricDimensions, factory: metricsFactory)
        self.tick = tick
        self.spool = try Spool(
            directory: configuration.spoolDirectory, limits: configuration.spoolLimits, logger: logger)
        var initial = ShippingStatistics()
        initial.quarantined = spool.statistics.quarantined
        initial.spoolFiles = spool.statistics.files
        initial.spoolBytes = spool.statistics.bytes
        self.stats = Mutex(initial)
        metrics.publish(initial, previous: ShippingStatistics())
        let thread = Thread { [self] in run() }
        thread.name = "driftwatch-shipper"
        thread.start()
    }

    /// Queues a profile for spooling and upload. Returns at once. Profiles given after
    /// ``shutdown(deadline:)`` began are logged and ignored.
    public func enqueue(_ profile: DatasetProfile) {
        condition.lock()
        defer { condition.unlock() }
        guard accepting else {
            logger.error("shipper: profile \(profile.uploadID) arrived after shutdown; not spooled")
            return
        }
        pending.append(profile)
        condition.signal()
    }

    /// Wakes the shipper now and ignores the current backoff (e.g. the operator knows the
    /// server is back).
    public func retryNow() {
        condition.lock()
        woken = true
        condition.signal()
        condition.unlock()
    }

    /// Counters since start, and the spool's current size.
    public var statistics: ShippingStatistics { stats.withLock { $0 } }

    /// Spools everything queued, makes one upload round that ends by `deadline` (from now), and
    /// stops the thread. Returns by the deadline even when an upload is still in flight (it is
    /// then abandoned; the profile stays spooled and is sent at the next start). Calling it again
    /// returns the same report.
    public func shutdown(deadline: Duration) async -> ShutdownReport {
        let end = ContinuousClock.now + deadline
        let report = await withCheckedContinuation { (continuation: CheckedContinuation<ShutdownReport, Never>) in
            condition.lock()
            if let finished {
                condition.unlock()
                continuation.resume(returning: finished)
                return
            }
            waiters.append(continuation)
            if stopDeadline == nil {
                stopDeadline = end
                stopRequested = .now
            }
            condition.signal()
            condition.unlock()
            // The guard against an upload that outlives the deadline.
            Thread.detachNewThread { [self] in
                Thread.sleep(forTimeInterval: Swift.max(0, (end - ContinuousClock.now).seconds) + 0.05)
                let remaining = stats.withLock { $0.spoolFiles }
                finish(ShutdownReport(shipped: 0, remaining: remaining, deadlineReached: true, duration: .zero))
            }
        }
        return report
    }

    // MARK: The shipper's thread

    private func run() {
        while true {
            spoolPending()
            if let deadline = condition.locked({ stopDeadline }) {
                // Profiles queued while the previous ones were being written (before shutdown
                // was requested) go to disk before the last round reads the spool.
                spoolPending()
                finalRound(until: deadline)
                return
            }
            tick?()
            spoolPending()
            if !spool.entries.isEmpty && ContinuousClock.now >= notBefore { uploadRound() }
            condition.lock()
            if pending.isEmpty && stopDeadline == nil && !woken {
                var wait = configuration.tickInterval
                if !spool.entries.isEmpty { wait = Swift.min(wait, notBefore - ContinuousClock.now) }
                if wait > .zero { _ = condition.wait(until: Date(timeIntervalSinceNow: wait.seconds)) }
            }
            if woken {
                woken = false
                notBefore = ContinuousClock.now
            }
            condition.unlock()
        }
    }

    /// Writes queued profiles to the spool; `last` also stops accepting new ones (shutdown).
    private func spoolPending(last: Bool = false) {
        let batch: [DatasetProfile] = condition.locked {
            let batch = pending
            pending.removeAll()
            if last { accepting = false }
            return batch
        }
        for profile in batch {
            do {
                try spool.add(profile)
            } catch {
                // The disk refused: the profile cannot be kept. Count it as dropped, loudly.
                logger.error("shipper: cannot spool profile \(profile.uploadID): \(error.description); dropped")
                writeFailures += 1
                update { _ in }
            }
        }
        if !batch.isEmpty { update { _ in } }
    }

    /// Uploads spooled profiles oldest first until the spool is empty, a retryable failure
    /// starts a backoff, or shutdown is requested.
    private func uploadRound() {
        for entry in spool.entries {
            if condition.locked({ stopDeadline != nil }) { return }
            spoolPending()
            guard spool.entries.contains(entry) else { continue }  // merged away meanwhile
            switch attempt(entry, timeout: nil) {
            case .delivered, .rejected, .skipped: continue
            case .retry(let delay):
                notBefore = ContinuousClock.now + delay
                return
            }
        }
    }

    private func finalRound(until deadline: ContinuousClock.Instant) {
        var shipped = 0
        var deadlineReached = false
        for entry in spool.entries {
            let left = deadline - ContinuousClock.now
            guard left > .milliseconds(1) else {
                deadlineReached = true
                break
            }
            let result = attempt(entry, timeout: left)
            if case .delivered = result { shipped += 1 }
            if case .retry = result { break }  // the server is unwell: leave the rest for next start
        }
        // Whatever was queued during the round is kept on disk for the next start.
        spoolPending(last: true)
        // An upload whose timeout was what remained of the deadline ends a hair before it.
        if !spool.entries.isEmpty && ContinuousClock.now >= deadline - .milliseconds(20) { deadlineReached = true }
        finish(
            ShutdownReport(
                shipped: shipped, remaining: spool.entries.count, deadlineReached: deadlineReached, duration: .zero))
    }

    private func finish(_ report: ShutdownReport) {
        let toResume: [CheckedContinuation<ShutdownReport, Never>] = condition.locked {
            guard finished == nil else { return [] }
            var report = report
            report.duration = stopRequested.map { ContinuousClock.now - $0 } ?? .zero
            finished = report
            let waiting = waiters
            waiters.removeAll()
            return waiting
        }
        let final = condition.locked { finished ?? report }
        for waiter in toResume { waiter.resume(returning: final) }
    }

    private enum AttemptResult {
        case delivered
        case rejected
        case skipped
        case retry(Duration)
    }

    private func attempt(_ entry: SpoolEntry, timeout: Duration?) -> AttemptResult {
        guard let (bytes, profile) = spool.load(entry) else {
            update { _ in }
            return .skipped
        }
        let key = profile.uploadID.description
        let response: HTTPResponse
        do {
            response = try uploader.post(
                configuration.endpoint, body: bytes, headers: configuration.headers(idempotencyKey: key),
                timeout: timeout)
        } catch {
            if error.mayHaveReachedServer { spool.possiblyDelivered.insert(entry.sequence) }
            failures += 1
            let delay = configuration.retry.delay(afterFailures: failures, using: &random)
            update { $0.retried += 1 }
            logger.warning(
                "shipper: upload of \(key) failed (\(error.description)); retrying in \(delay.formatted) (failure \(failures))"
            )
            return .retry(delay)
        }
        let now = Clock.nowMilliseconds()
        switch configuration.retry.disposition(
            of: response, failures: failures + 1, nowMilliseconds: now, using: &random)
        {
        case .delivered:
            spool.remove(entry)
            failures = 0
            let duplicate = UploadReceipt(response)?.duplicate ?? false
            update {
                $0.shipped += 1
                $0.lastSuccessMilliseconds = now
                if duplicate { $0.duplicates += 1 }
            }
            logger.debug("shipper: shipped \(key)\(duplicate ? " (the server already had it)" : "")")
            return .delivered
        case .retry(let delay):
            spool.possiblyDelivered.insert(entry.sequence)
            failures += 1
            update { $0.retried += 1 }
            logger.warning(
                "shipper: upload of \(key) got \(ServerError.message(of: response)); retrying in \(delay.formatted) (failure \(failures))"
            )
            return .retry(delay)
        case .reject(let message):
            spool.reject(entry, status: response.status, message: message)
            update { _ in }
            return .rejected
        }
    }

    /// Applies `change` to the statistics, refreshes the spool's figures and publishes the
    /// differences to the metrics.
    private func update(_ change: (inout ShippingStatistics) -> Void) {
        let (before, after) = stats.withLock { stats in
            let before = stats
            change(&stats)
            stats.rejected = spool.statistics.rejected
            stats.merged = spool.statistics.merged
            stats.quarantined = spool.statistics.quarantined
            stats.dropped = spool.statistics.dropped + writeFailures
            stats.spoolFiles = spool.statistics.files
            stats.spoolBytes = spool.statistics.bytes
            return (before, stats)
        }
        metrics.publish(after, previous: before)
    }
}

extension Duration {
    /// `1.25 s`, for log lines.
    var formatted: String {
        let s = seconds
        return s < 10 ? "\((s * 1000).rounded() / 1000) s" : "\(Int(s.rounded())) s"
    }
}

extension NSCondition {
    func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}
