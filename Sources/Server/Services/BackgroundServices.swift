import Drift
import Logging
import Profiles
import ServiceLifecycle
import Storage

/// Sleeps for `milliseconds`, returning early when the daemon shuts down.
func pause(milliseconds: Int64) async {
    await cancelWhenGracefulShutdown {
        try? await Task.sleep(for: .milliseconds(milliseconds))
    }
}

/// Merges raw profiles into rollups in the background: a pass after another while work is
/// pending, then one per ``ServerConfiguration/rollupIntervalMs``. Failures (e.g. the database
/// restarting) are logged, counted and retried with backoff; nothing is lost because a pass is
/// one transaction.
struct RollupService: Service {
    let store: RollupStore
    let profiles: ProfileStore
    let configuration: ServerConfiguration
    let metrics: ServerMetrics
    let logger: Logger

    func run() async throws {
        var backoff: Int64 = configuration.rollupIntervalMs
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let started = ContinuousClock.now
                let pass = try await store.rollUpPending(limit: configuration.rollupBatchSize)
                backoff = configuration.rollupIntervalMs
                metrics.rollupProfiles.increment(by: Int64(pass.rawProfiles - pass.setAside.count))
                for (id, reason) in pass.setAside {
                    metrics.rollupSetAside.increment()
                    logger.warning("raw profile set aside", metadata: ["raw_id": "\(id)", "reason": "\(reason)"])
                }
                if let pending = try? await profiles.pendingCount() { metrics.rollupPending.set(Double(pending)) }
                if pass.rawProfiles > 0 {
                    logger.debug(
                        "rollup pass",
                        metadata: ["profiles": "\(pass.rawProfiles)", "windows": "\(pass.windows.count)"])
                    // Rollups are background work: under a backlog they take at most the
                    // configured share of a core, so that acknowledging uploads stays fast.
                    let share = configuration.rollupDutyCycle
                    if share < 1 {
                        let busy = ContinuousClock.now - started
                        let busyMs = Double(busy.components.seconds) * 1000 + Double(busy.components.attoseconds) / 1e15
                        let rest = Int64(busyMs * (1 - share) / share)
                        if rest > 0 { await pause(milliseconds: rest) }
                    }
                    continue
                }
                await pause(milliseconds: configuration.rollupIntervalMs)
            } catch {
                metrics.rollupErrors.increment()
                logger.error("rollup pass failed; retrying", metadata: ["error": "\(error)", "retry_ms": "\(backoff)"])
                await pause(milliseconds: backoff)
                backoff = min(backoff * 2, 30_000)
            }
        }
    }
}

/// Computes the metric rows of closed rollup windows (and again when late data changed them):
/// one transaction per batch claims due windows, compares each with every baseline of its
/// model, writes the rows and marks the windows computed.
struct MetricsService: Service {
    let pool: ConnectionPool
    let configuration: ServerConfiguration
    let metrics: ServerMetrics
    let logger: Logger
    /// Wall clock in ms (a parameter so that tests can move time).
    var now: @Sendable () -> Int64 = { Clock.nowMilliseconds() }

    func run() async throws {
        var backoff = configuration.metricsIntervalMs
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let computed = try await pass(limit: 20)
                backoff = configuration.metricsIntervalMs
                if computed > 0 { continue }
                await pause(milliseconds: configuration.metricsIntervalMs)
            } catch {
                metrics.metricErrors.increment()
                logger.error("metric pass failed; retrying", metadata: ["error": "\(error)", "retry_ms": "\(backoff)"])
                await pause(milliseconds: backoff)
                backoff = min(backoff * 2, 60_000)
            }
        }
    }

    /// One batch: returns the number of windows computed.
    func pass(limit: Int) async throws -> Int {
        let endedBy = now() - configuration.metricsGraceMs
        let settle = configuration.metricsSettleMs
        let granularities = configuration.metricGranularities
        let (windows, rows) = try await pool.withTransaction { connection in
            let due = try EvaluationStore.claimDue(
                limit: limit, endedBy: endedBy, settleMilliseconds: settle, granularities: granularities, connection)
            var rows = 0
            for window in due {
                let records = try Self.records(for: window, connection)
                rows += try EvaluationStore.upsert(records, connection)
                try EvaluationStore.markComputed(window, connection)
            }
            return (due.count, rows)
        }
        metrics.metricWindows.increment(by: Int64(windows))
        metrics.metricRows.increment(by: Int64(rows))
        if windows > 0 { logger.debug("metric pass", metadata: ["windows": "\(windows)", "rows": "\(rows)"]) }
        return windows
    }

    /// The metric rows of one window against every baseline of its model that applies to its
    /// segment (a baseline of segment `*` applies to all).
    static func records(for due: DueWindow, _ connection: PostgresConnection) throws -> [MetricRecord] {
        let target = try NativeCodec.decode(due.bytes)
        var records: [MetricRecord] = []
        var absoluteWritten = false
        for baseline in try EvaluationStore.baselines(project: due.project, model: due.model, connection)
        where baseline.segment == "*" || baseline.segment == due.segment {
            let reference = try BaselineResolver.profile(
                baseline,
                for: .init(start: due.window.windowStart, streamID: due.window.streamID, segment: nil), connection)
            guard let reference else { continue }
            let report = DriftReport.compare(reference: reference, target: target)
            records += MetricRows.relative(report, window: due.window, baseline: baseline.name)
            if !absoluteWritten {
                records += MetricRows.absolute(report, window: due.window)
                absoluteWritten = true
            }
        }
        if !absoluteWritten {
            records += MetricRows.absolute(DriftReport.compare(reference: target, target: target), window: due.window)
        }
        return records
    }
}

/// Creates next month's partitions ahead of time and applies retention, hourly.
struct MaintenanceService: Service {
    let partitions: PartitionManager
    let retention: RetentionPolicy
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let now = Clock.nowMilliseconds()
                try await partitions.ensureAhead(now: now)
                let dropped = try await partitions.applyRetention(retention, now: now)
                if !dropped.isEmpty {
                    logger.info(
                        "retention dropped partitions", metadata: ["partitions": "\(dropped.joined(separator: ","))"])
                }
            } catch {
                logger.error("maintenance failed; retrying in an hour", metadata: ["error": "\(error)"])
            }
            await pause(milliseconds: 3_600_000)
        }
    }
}
