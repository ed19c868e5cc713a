import Alerting
import Dispatch
import Foundation
import Logging
import Profiles
import ServiceLifecycle
import Storage
import Synchronization

/// The rules of `alerts_dir`, reloaded when a file changes or on SIGHUP. A file with errors
/// keeps the previous rules (and says why, once per change).
final class RuleLibrary: Sendable {
    let directory: String
    let logger: Logger
    private let state = Mutex<(rules: RuleSet?, signature: String)>((nil, ""))
    private let hangup = Atomic<Bool>(false)
    private let signalSource = Mutex<(any DispatchSourceSignal)?>(nil)

    init(directory: String, logger: Logger) {
        self.directory = directory
        self.logger = logger
    }

    var rules: RuleSet? { state.withLock { $0.rules } }

    /// Reloads on SIGHUP from now on.
    func watchHangup() {
        signal(SIGHUP, SIG_IGN)
        signalSource.withLock { slot in
            guard slot == nil else { return }
            let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
            source.setEventHandler { [self] in hangup.store(true, ordering: .relaxed) }
            source.resume()
            slot = source
        }
    }

    /// The rule files: the directory's `*.yaml`/`*.yml`, or the one file it names.
    func files() -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else { return [] }
        guard isDirectory.boolValue else { return [directory] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted().map { directory + "/" + $0 }
    }

    /// Loads the rules when the files changed (names, sizes, modification times) or a SIGHUP
    /// arrived; returns the rules in force.
    @discardableResult
    func refresh() -> RuleSet? {
        let paths = files()
        let signature = paths.map { path -> String in
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            return "\(path):\(attributes?[.size] ?? 0):\(modified)"
        }.joined(separator: ";")
        let forced = hangup.exchange(false, ordering: .relaxed)
        guard forced || signature != state.withLock({ $0.signature }) else { return rules }
        var inputs: [(path: String, text: String)] = []
        for path in paths {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                logger.error("cannot read rule file; keeping the previous rules", metadata: ["file": "\(path)"])
                state.withLock { $0.signature = signature }
                return rules
            }
            inputs.append((path, text))
        }
        let (set, diagnostics) = RuleParser.parse(files: inputs)
        state.withLock { s in
            s.signature = signature
            if let set { s.rules = set }
        }
        if let set {
            logger.notice(
                "alert rules loaded",
                metadata: [
                    "rules": "\(set.rules.count)", "receivers": "\(set.receivers.count)", "directory": "\(directory)",
                ])
        } else {
            for d in diagnostics {
                logger.error("rule file error; keeping the previous rules", metadata: ["at": "\(d)"])
            }
        }
        return rules
    }

    /// Where the receiver `name` delivers (URLs and secrets read from the environment or files
    /// now).
    func endpoint(named name: String) -> ReceiverEndpoint? {
        guard let receiver = rules?.receiver(named: name), let url = Self.resolve(receiver.url) else { return nil }
        return ReceiverEndpoint(
            url: url, headers: receiver.headers,
            signingSecret: receiver.secret.flatMap(Self.resolve).map { Array($0.utf8) })
    }

    static func resolve(_ source: Receiver.Source) -> String? {
        switch source {
        case .literal(let v): return v
        case .environment(let name): return ProcessInfo.processInfo.environment[name].flatMap { $0.isEmpty ? nil : $0 }
        case .file(let path):
            return (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }
}

/// Evaluates the alert rules against the latest metric rows every interval. One replica at a
/// time (a transaction-level advisory lock); the new states, group timers and the
/// notifications they cause are written in that one transaction (the outbox).
struct AlertService: Service {
    let pool: ConnectionPool
    let library: RuleLibrary
    let intervalMilliseconds: Int64
    let logger: Logger
    /// `alerts.external_url`: the link in Slack messages and Alertmanager bodies.
    var externalURL = ""
    /// Where the alert, silence and outbox gauges go (refreshed every interval, by every replica).
    var metrics: ServerMetrics?
    var now: @Sendable () -> Int64 = { Clock.nowMilliseconds() }
    /// Expired silences are listed for this long, then deleted.
    static let silenceRetentionMilliseconds: Int64 = 30 * 86_400_000

    func run() async throws {
        library.watchHangup()
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await pass()
                try await refreshGauges()
            } catch {
                logger.error("alert evaluation failed; retrying", metadata: ["error": "\(error)"])
            }
            await pause(milliseconds: intervalMilliseconds)
        }
    }

    /// One evaluation; returns the notifications enqueued.
    @discardableResult
    func pass() async throws -> Int {
        guard let rules = library.refresh(), !rules.rules.isEmpty else { return 0 }
        let now = self.now()
        return try await pool.withTransaction { connection in
            guard
                try connection.query("SELECT pg_try_advisory_xact_lock(hashtext('drift_alert_evaluation'))")
                    .scalar(Bool.self)
            else { return 0 }
            var samples = try Self.latestSamples(rules, connection)
            for (project, quiet) in try Self.noDataSamples(rules, now: now, connection) {
                samples[project, default: []] += quiet
            }
            let silences = try activeSilences(now: now, connection)
            let decoder = JSONDecoder()
            var states: [String: [AlertState]] = [:]
            for row in try connection.query("SELECT project, state::text FROM alert_states") {
                let state = try decoder.decode(AlertState.self, from: Data(try row.decode(String.self, at: 1).utf8))
                states[try row.decode(String.self, at: 0), default: []].append(state)
            }
            var groups: [String: [GroupState]] = [:]
            for row in try connection.query("SELECT project, state::text FROM alert_groups") {
                let group = try decoder.decode(GroupState.self, from: Data(try row.decode(String.self, at: 1).utf8))
                groups[try row.decode(String.self, at: 0), default: []].append(group)
            }
            let projects = Set(samples.keys).union(states.keys).union(groups.keys).sorted()
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            var enqueued = 0
            let externalURL = self.externalURL
            for project in projects {
                let before = (states[project] ?? []).sorted { $0.key < $1.key }
                let groupsBefore = (groups[project] ?? []).sorted { $0.key < $1.key }
                let result = Evaluator.evaluate(
                    rules: rules, samples: samples[project] ?? [], states: before, groups: groupsBefore,
                    silences: silences[project] ?? [], externalURL: externalURL, now: now)
                // Most passes change nothing: then nothing is rewritten.
                guard result.states != before || result.groups != groupsBefore || !result.notifications.isEmpty
                else { continue }
                try connection.execute("DELETE FROM alert_states WHERE project = $1", [.text(project)])
                try connection.execute("DELETE FROM alert_groups WHERE project = $1", [.text(project)])
                for s in result.states {
                    try connection.execute(
                        """
                        INSERT INTO alert_states (project, alert_key, rule, status, labels, state)
                        VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb)
                        """,
                        [
                            .text(project), .text(s.key), .text(s.rule), .text(s.status.rawValue),
                            .text(String(decoding: try encoder.encode(s.labels), as: UTF8.self)),
                            .text(String(decoding: try encoder.encode(s), as: UTF8.self)),
                        ])
                }
                for g in result.groups {
                    try connection.execute(
                        "INSERT INTO alert_groups (project, group_key, state) VALUES ($1, $2, $3::jsonb)",
                        [.text(project), .text(g.key), .text(String(decoding: try encoder.encode(g), as: UTF8.self))])
                }
                enqueued += try OutboxStore.enqueue(
                    result.notifications.map { n in
                        let body = Payloads.body(
                            for: rules.receiver(named: n.receiver), n, project: project, externalURL: externalURL)
                        return NewNotification(
                            project: project, dedupKey: n.dedupKey, receiver: n.receiver,
                            payload: Array(body.serialized().utf8), groupKey: n.groupKey)
                    }, connection)
            }
            try SilenceStore.prune(now: now, olderThanMilliseconds: Self.silenceRetentionMilliseconds, connection)
            return enqueued
        }
    }

    /// Reads the alert, silence and outbox figures for `/metrics`.
    func refreshGauges() async throws {
        guard let metrics else { return }
        try await pool.withConnection { c in
            // One row: firing, pending, muted firing, silences in force, pending notifications,
            // age of the oldest one.
            guard
                let row = try c.query(
                    """
                    SELECT count(*) FILTER (WHERE status = 'firing')::float8,
                           count(*) FILTER (WHERE status = 'pending')::float8,
                           count(*) FILTER (WHERE status = 'firing' AND (state ? 'silencedBy' OR state ? 'inhibitedBy'))::float8,
                           (SELECT count(*) FROM silences WHERE starts_at <= now() AND ends_at > now())::float8,
                           (SELECT count(*) FROM notifications WHERE status = 'pending')::float8,
                           (SELECT COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)
                            FROM notifications WHERE status = 'pending')::float8
                    FROM alert_states
                    """
                ).first
            else { return }
            metrics.alertsFiring.set(try row.decode(Double.self, at: 0))
            metrics.alertsPending.set(try row.decode(Double.self, at: 1))
            metrics.alertsMuted.set(try row.decode(Double.self, at: 2))
            metrics.silencesActive.set(try row.decode(Double.self, at: 3))
            metrics.notificationsPending.set(try row.decode(Double.self, at: 4))
            metrics.notificationsOldestPending.set(try row.decode(Double.self, at: 5))
        }
    }

    /// The silences in force, per project. One whose stored matchers cannot be read (written
    /// by hand, say) is skipped and logged, never applied as "match everything".
    func activeSilences(now: Int64, _ connection: PostgresConnection) throws -> [String: [Silence]] {
        var out: [String: [Silence]] = [:]
        for stored in try SilenceStore.active(at: now, connection) {
            guard let silence = Silence(stored) else {
                logger.error(
                    "silence has unreadable matchers; ignored",
                    metadata: ["silence": "\(stored.id)", "project": "\(stored.project)"])
                continue
            }
            out[stored.project, default: []].append(silence)
        }
        return out
    }

    /// The samples of "no data" rules: per project, model and segment, how long ago its latest
    /// window (of each granularity such rules use) ended. Model versions count together, so a
    /// version being replaced by the next is not "no data".
    static func noDataSamples(
        _ rules: RuleSet, now: Int64, _ connection: PostgresConnection
    ) throws -> [String: [MetricSample]] {
        let granularities = Set(rules.rules.filter { $0.absentMilliseconds != nil }.map(\.granularity))
        var samples: [String: [MetricSample]] = [:]
        for granularity in granularities.sorted() {
            for row in try connection.query(
                """
                SELECT s.project, s.model, s.segment, max(r.window_start)
                FROM streams s
                CROSS JOIN LATERAL (
                    SELECT window_start FROM rollups
                    WHERE stream_id = s.id AND granularity = $1 ORDER BY window_start DESC LIMIT 1
                ) r
                GROUP BY s.project, s.model, s.segment
                """, [.text(granularity)])
            {
                samples[try row.decode(String.self, at: 0), default: []].append(
                    Evaluator.noDataSample(
                        model: try row.decode(String.self, at: 1), segment: try row.decode(String.self, at: 2),
                        granularity: granularity,
                        lastWindowStart: try row.decode(PostgresTimestamp.self, at: 3).milliseconds, now: now))
            }
        }
        return samples
    }

    /// The latest window's value of every series the rules watch, per project.
    static func latestSamples(_ rules: RuleSet, _ connection: PostgresConnection) throws -> [String: [MetricSample]] {
        // No-data rules read the rollups instead (noDataSamples).
        let threshold = rules.rules.filter { $0.absentMilliseconds == nil }
        guard !threshold.isEmpty else { return [:] }
        let metrics = Array(Set(threshold.map(\.metric))).sorted()
        let granularities = Array(Set(threshold.map(\.granularity))).sorted()
        var samples: [String: [MetricSample]] = [:]
        for row in try connection.query(
            """
            SELECT DISTINCT ON (m.stream_id, m.granularity, m.column_name, m.metric, m.baseline)
                   s.project, s.model, s.model_version, s.segment, m.granularity, m.column_name, m.metric, m.baseline,
                   m.window_start, m.value
            FROM metrics m JOIN streams s ON s.id = m.stream_id
            WHERE m.metric = ANY($1::text[]) AND m.granularity = ANY($2::text[])
            ORDER BY m.stream_id, m.granularity, m.column_name, m.metric, m.baseline, m.window_start DESC
            """, [.textArray(metrics), .textArray(granularities)])
        {
            samples[try row.decode(String.self, at: 0), default: []].append(
                MetricSample(
                    model: try row.decode(String.self, at: 1), modelVersion: try row.decode(String.self, at: 2),
                    segment: try row.decode(String.self, at: 3), column: try row.decode(String.self, at: 5),
                    metric: try row.decode(String.self, at: 6), baseline: try row.decode(String.self, at: 7),
                    granularity: try row.decode(String.self, at: 4),
                    windowStart: try row.decode(PostgresTimestamp.self, at: 8).milliseconds,
                    value: try row.decode(Double.self, at: 9)))
        }
        return samples
    }
}
