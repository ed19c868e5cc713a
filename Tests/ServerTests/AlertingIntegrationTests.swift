import Crypto
import DriftTestSupport
import Foundation
import HummingbirdTesting
import Profiles
import Server
import Storage
import Synchronization
import Testing

/// Rules → metric rows → alert → webhook, through the real daemon, PostgreSQL and a real
/// receiver on 127.0.0.1.
@Suite(.serialized) struct AlertingIntegrationTests {
    @Test func driftingStreamFiresOneGroupedNotificationThenResolves() async throws {
        let receiver = Receiver(script: [500])  // the first attempt fails: retried
        try await Self.withReceiver(receiver) { hook in
            """
            receivers:
              - name: hook
                webhook:
                  url: "\(hook)"
                  secret: "s3cret"
            \(Self.busyHours)
                annotations:
                  summary: "{{ .column }} saw {{ .value }} rows in the hour of {{ .window }}"
            """
        } _: { rules in
            let server = try await ServerHarness.make("alerting") {
                $0.alertsPath = rules
                $0.alertIntervalMs = 100
            }
            let token = try await server.token(project: "acme")
            try await server.run { client in
                var random = SeededRandom(seed: 60)
                let busy = TestProfiles.columns(
                    model: "fraud", columns: 2, rows: 150, windowStart: IngestTests.base, random: &random)
                #expect(try await client.upload(TestProfiles.bytes(busy), token: token).status == .accepted)
                try await server.waitForRollups()
                try await server.waitForMetrics()
                let metricsWritten = ContinuousClock.now
                try await Self.waitFor { receiver.deliveries.count >= 1 }
                // Includes the scripted 500 and its retry (about 1 s of backoff).
                print("alert latency: metric rows written -> webhook received: \(ContinuousClock.now - metricsWritten)")
                let firing = try #require(receiver.deliveries.first)
                let payload = try #require(try JSONSerialization.jsonObject(with: Data(firing.body)) as? [String: Any])
                #expect(payload["status"] as? String == "firing")
                #expect(payload["version"] as? String == "1")
                let alerts = payload["alerts"] as? [[String: Any]] ?? []
                #expect(alerts.count == 2, "one notification for the group, both columns in it")
                let summary = (alerts.first?["annotations"] as? [String: String])?["summary"] ?? ""
                #expect(summary.hasPrefix("feature_0 saw 150 rows in the hour of 2024-03-01T00:00:00"), "\(summary)")
                #expect(firing.signature?.hasPrefix("sha256=") == true)
                let listed = try await client.get("/v1/alerts?state=firing", token: token)
                #expect((listed.json["alerts"] as? [[String: Any]])?.count == 2, "\(listed.text)")

                // The next hour is quiet: the alert resolves and says so once.
                let quiet = TestProfiles.columns(
                    model: "fraud", columns: 2, rows: 20, windowStart: IngestTests.base + 3_600_000, random: &random)
                #expect(try await client.upload(TestProfiles.bytes(quiet), token: token).status == .accepted)
                try await server.waitForRollups()
                try await server.waitForMetrics()
                try await Self.waitFor { receiver.deliveries.count >= 2 }
                let resolved = try #require(
                    try JSONSerialization.jsonObject(with: Data(receiver.deliveries[1].body)) as? [String: Any])
                #expect(resolved["status"] as? String == "resolved")
                try await Task.sleep(for: .milliseconds(600))
                #expect(receiver.deliveries.count == 2, "nothing is sent twice")
                let keys = receiver.deliveries.map(\.dedupKey)
                #expect(Set(keys).count == keys.count)
                let none = try await client.get("/v1/alerts?state=firing", token: token)
                #expect((none.json["alerts"] as? [[String: Any]])?.isEmpty == true, "\(none.text)")
            }
            let counts = try await server.components.pool.withConnection { try OutboxStore.counts($0) }
            #expect(counts == ["sent": 2])
            server.components.pool.close()
        }
    }

    /// Two daemons on one database, each evaluating and delivering: eight models fire and
    /// resolve, and each of the sixteen notifications reaches the receiver exactly once.
    @Test func twoDaemonsOnOneDatabaseNotifyOnce() async throws {
        let receiver = Receiver(script: [])
        try await Self.withReceiver(receiver) { hook in
            """
            receivers:
              - name: hook
                webhook: {url: "\(hook)"}
            route:
              receiver: hook
              group_by: [rule, model]
              group_wait: 0s
              group_interval: 0s
            rules:
              - name: busy-hours
                metric: row_count
                granularity: hour
                op: ">="
                threshold: 100
            """
        } _: { rules in
            let configure: (inout ServerConfiguration) -> Void = {
                $0.alertsPath = rules
                $0.alertIntervalMs = 50
            }
            let a = try await ServerHarness.make("replicas", configure)
            let b = try await ServerHarness.make("replicas", database: a.database, configure)
            let token = try await a.token(project: "acme")
            let models = (0..<8).map { "model-\($0)" }
            try await a.run { first in
                try await b.run { second in
                    var random = SeededRandom(seed: 62)
                    for (hour, rows) in [(0, 150), (1, 20)] {
                        for (i, model) in models.enumerated() {
                            let profile = TestProfiles.columns(
                                model: model, columns: 1, rows: rows,
                                windowStart: IngestTests.base + Int64(hour) * 3_600_000, random: &random)
                            let client = i % 2 == 0 ? first : second
                            #expect(
                                try await client.upload(TestProfiles.bytes(profile), token: token).status == .accepted)
                        }
                        try await a.waitForRollups()
                        try await a.waitForMetrics()
                        let written = ContinuousClock.now
                        try await Self.waitFor(seconds: 30) { receiver.deliveries.count >= 8 * (hour + 1) }
                        // The issue's budget: evaluation interval (50 ms here) + 1 s.
                        print(
                            "alert latency without failures: metric rows written -> 8 webhooks received: "
                                + "\(ContinuousClock.now - written)")
                    }
                    try await Task.sleep(for: .milliseconds(500))  // anything sent twice would arrive by now
                }
            }
            let keys = receiver.deliveries.map(\.dedupKey)
            #expect(keys.count == 16 && Set(keys).count == 16, "\(keys)")
            let statuses = receiver.deliveries.compactMap {
                (try? JSONSerialization.jsonObject(with: Data($0.body)) as? [String: Any])?["status"] as? String
            }
            #expect(statuses.filter { $0 == "firing" }.count == 8 && statuses.filter { $0 == "resolved" }.count == 8)
            let attempts = try await a.components.pool.withConnection { c in
                try c.query("SELECT status, attempts FROM notifications").map {
                    "\(try $0.decode(String.self, at: 0))/\(try $0.decode(Int.self, at: 1))"
                }
            }
            #expect(attempts.count == 16 && attempts.allSatisfy { $0 == "sent/1" }, "\(attempts)")
            a.components.pool.close()
            b.components.pool.close()
        }
    }

    /// A model that stops sending: the no-data rule reads the rollups through the daemon's own
    /// query, fires once its latest hourly window ended longer ago than `absent`, and resolves
    /// when a new window arrives.
    @Test func noDataFiresFromTheRollupsAndResolves() async throws {
        let receiver = Receiver(script: [])
        try await Self.withReceiver(receiver) { hook in
            """
            receivers:
              - name: hook
                webhook: {url: "\(hook)"}
            route: {receiver: hook, group_wait: 0s, group_interval: 0s}
            rules:
              - name: silent
                model: fraud
                absent: 90m
            """
        } _: { rules in
            let server = try await ServerHarness.make("nodata") {
                $0.alertsPath = rules
                $0.alertIntervalMs = 50
            }
            let token = try await server.token(project: "acme")
            // The daemon's clock: 30 minutes into the hour of the first window.
            let clock = Atomic<Int64>(IngestTests.base + 30 * 60_000)
            try await server.run(now: { clock.load(ordering: .relaxed) }) { client in
                var random = SeededRandom(seed: 63)
                let first = TestProfiles.columns(
                    model: "fraud", columns: 1, rows: 10, windowStart: IngestTests.base, random: &random)
                #expect(try await client.upload(TestProfiles.bytes(first), token: token).status == .accepted)
                try await server.waitForRollups()
                try await Task.sleep(for: .milliseconds(300))
                #expect(receiver.deliveries.isEmpty, "the window is still open")
                // Two hours later the hour [base, base+1h) ended 60 minutes ago: not yet 90.
                clock.store(IngestTests.base + 2 * 3_600_000, ordering: .relaxed)
                try await Task.sleep(for: .milliseconds(300))
                #expect(receiver.deliveries.isEmpty)
                // Half an hour more: 90 minutes without a window.
                clock.store(IngestTests.base + 2 * 3_600_000 + 31 * 60_000, ordering: .relaxed)
                try await Self.waitFor { receiver.deliveries.count >= 1 }
                let firing = try #require(
                    try JSONSerialization.jsonObject(with: Data(receiver.deliveries[0].body)) as? [String: Any])
                let alert = try #require((firing["alerts"] as? [[String: Any]])?.first)
                #expect(firing["status"] as? String == "firing")
                #expect((alert["labels"] as? [String: String])?["metric"] == "no_data")
                #expect(abs((alert["value"] as? Double ?? 0) - 91.0 / 60) < 1e-9, "\(alert)")
                // Data again: the alert resolves.
                let next = TestProfiles.columns(
                    model: "fraud", columns: 1, rows: 10, windowStart: IngestTests.base + 2 * 3_600_000,
                    random: &random)
                #expect(try await client.upload(TestProfiles.bytes(next), token: token).status == .accepted)
                try await server.waitForRollups()
                try await Self.waitFor { receiver.deliveries.count >= 2 }
                let resolved =
                    try JSONSerialization.jsonObject(with: Data(receiver.deliveries[1].body)) as? [String: Any]
                #expect(resolved?["status"] as? String == "resolved")
            }
            server.components.pool.close()
        }
    }

    /// Runs `body` while `receiver` listens on 127.0.0.1, with a rules file written from
    /// `rules(hookURL)` in a temporary directory; `body` gets the file's path.
    static func withReceiver(
        _ receiver: Receiver, _ rules: @Sendable (String) -> String, _ body: @Sendable (String) async throws -> Void
    ) async throws {
        let work = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: work) }
        try await receiver.application().test(.live) { hook in
            let path = work.appendingPathComponent("rules.yaml").path
            try rules("http://127.0.0.1:\(hook.port ?? 0)/hook").write(toFile: path, atomically: true, encoding: .utf8)
            try await body(path)
        }
    }

    /// The route (no waits, resolve notices on) and the rule the tests share: a feature column
    /// of `fraud` with at least 100 rows in an hour fires.
    static let busyHours = """
        route:
          receiver: hook
          group_by: [rule, model]
          group_wait: 0s
          group_interval: 0s
          send_resolved: true
        rules:
          - name: busy-hours
            model: fraud
            metric: count
            columns: {include: ["feature_*"]}
            granularity: hour
            op: ">="
            threshold: 100
        """

    static func waitFor(seconds: Int = 15, _ condition: @Sendable () -> Bool) async throws {
        for _ in 0..<(seconds * 20) {
            if condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("timed out")
    }

    /// A silence mutes one column's alert; the receiver is down (connection refused) while the
    /// daemon first runs, then, after a restart, answers 500, then too slowly, then 200: every
    /// notification arrives (the slow one twice, under one dedup key), signed; expiring the
    /// silence announces the muted alert.
    @Test func silencesAndAReceiverOutageAcrossARestart() async throws {
        let receiver = Receiver(script: [500], delays: [.zero, .milliseconds(1200)])
        let work = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: work) }
        let rules = work.appendingPathComponent("rules.yaml").path
        // The URL is read from a file at every send: first a port nobody listens on.
        let urlFile = work.path + "/url"
        try "http://127.0.0.1:\(try ServeProcessTests.freePort())/hook\n".write(
            toFile: urlFile, atomically: true, encoding: .utf8)
        try """
        receivers:
          - name: hook
            webhook:
              url_file: "\(urlFile)"
              secret_file: "\(work.path)/secret"
        \(Self.busyHours)
        """.write(toFile: rules, atomically: true, encoding: .utf8)
        try "wh-secret\n".write(toFile: work.path + "/secret", atomically: true, encoding: .utf8)
        let server = try await ServerHarness.make("silences") {
            $0.alertsPath = rules
            $0.alertIntervalMs = 100
            $0.deliveryTimeoutMs = 300
        }
        let token = try await server.token(project: "acme")
        let reader = try await server.token(project: "acme", scopes: [.read])
        @Sendable func outbox() async throws -> [(key: String, status: String, attempts: Int)] {
            try await server.components.pool.withConnection { c in
                try c.query("SELECT dedup_key, status, attempts FROM notifications ORDER BY id").map {
                    (
                        try $0.decode(String.self, at: 0), try $0.decode(String.self, at: 1),
                        try $0.decode(Int.self, at: 2)
                    )
                }
            }
        }
        // 1. The receiver is down.
        let silenceID = try await server.run { client in
            // Bad silences are refused with the reason.
            for (body, message) in [
                ("{\"matchers\": [\"column=\\\"feature_1\\\"\"], \"duration\": \"1h\"}", "comment"),
                ("{\"matchers\": [\"column=~\\\".*\\\"\"], \"duration\": \"1h\", \"comment\": \"x\"}", "every alert"),
                ("{\"matchers\": [\"column feature_1\"], \"duration\": \"1h\", \"comment\": \"x\"}", "matchers[0]"),
                ("{\"matchers\": [\"a=b\"], \"duration\": \"soon\", \"comment\": \"x\"}", "duration"),
                ("{\"matchers\": [\"a=b\"], \"comment\": \"x\"}", "ends_at or duration"),
                ("{\"matchers\": [\"a=b\"], \"duration\": \"1h\", \"comment\": \"x\", \"until\": 1}", "unknown field"),
                ("[1]", "JSON object"),
            ] {
                let answer = try await client.send(.post, "/v1/silences", token: token, json: body)
                #expect(answer.status == .badRequest && answer.errorMessage.contains(message), "\(answer.text)")
            }
            #expect(
                try await client.send(.post, "/v1/silences", token: reader, json: "{}").status == .forbidden)
            let created = try await client.send(
                .post, "/v1/silences", token: token,
                json: """
                    {"matchers": ["column=\\"feature_1\\"", {"name": "model", "value": "fr.*", "isRegex": true}],
                     "duration": "1h", "comment": "known noisy column", "createdBy": "oncall"}
                    """)
            #expect(created.status == .created, "\(created.text)")
            let id = try #require(created.json["id"] as? Int)
            #expect(created.json["state"] as? String == "active")
            #expect(created.json["matchers"] as? [String] == ["column=\"feature_1\"", "model=~\"fr.*\""])
            let listed = try await client.get("/v1/silences", token: reader)
            #expect((listed.json["silences"] as? [[String: Any]])?.map { $0["id"] as? Int } == [id])

            var random = SeededRandom(seed: 61)
            let busy = TestProfiles.columns(
                model: "fraud", columns: 2, rows: 150, windowStart: IngestTests.base, random: &random)
            #expect(try await client.upload(TestProfiles.bytes(busy), token: token).status == .accepted)
            try await server.waitForRollups()
            try await server.waitForMetrics()
            for _ in 0..<300 {
                if try await outbox().first?.attempts ?? 0 >= 1 { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            let alerts = try await client.get("/v1/alerts?state=firing", token: reader)
            let states = alerts.json["alerts"] as? [[String: Any]] ?? []
            #expect(states.count == 2)
            let muted = states.first { ($0["labels"] as? [String: String])?["column"] == "feature_1" }
            #expect(muted?["silencedBy"] as? [Int] == [id], "\(alerts.text)")
            // The gauges say so too: two firing, one muted, one silence, one notification waiting.
            var exposition = ""
            for _ in 0..<100 {
                exposition = try await client.get("/metrics", token: nil).text
                if exposition.contains("drift_notifications_pending 1") { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            for line in [
                "drift_alerts{state=\"firing\"} 2", "drift_alerts_muted 1", "drift_silences_active 1",
                "drift_notifications_pending 1",
            ] {
                #expect(exposition.contains(line + "\n") || exposition.contains(line + ".0\n"), "\(line)")
            }
            return id
        }
        var rows = try await outbox()
        #expect(rows.count == 1 && rows[0].status == "pending" && rows[0].attempts >= 1, "\(rows)")
        // 2. The daemon starts again; the receiver is back but answers 500, then slowly.
        try await receiver.application().test(.live) { hook in
            try "http://127.0.0.1:\(hook.port ?? 0)/hook\n".write(toFile: urlFile, atomically: true, encoding: .utf8)
            try await server.run { client in
                try await Self.waitFor(seconds: 40) { receiver.deliveries.count >= 2 }
                try #require(receiver.deliveries.count >= 2)
                let first = try #require(
                    try JSONSerialization.jsonObject(with: Data(receiver.deliveries[0].body)) as? [String: Any])
                let columns = (first["alerts"] as? [[String: Any]] ?? []).map {
                    ($0["labels"] as? [String: String])?["column"] ?? ""
                }
                #expect(columns == ["feature_0"], "the silenced column is left out")
                // 3. The silence is expired: the muted alert is announced.
                let expired = try await client.send(.delete, "/v1/silences/\(silenceID)", token: token)
                #expect(expired.status == .ok && expired.json["state"] as? String == "expired", "\(expired.text)")
                try await Self.waitFor(seconds: 30) { receiver.deliveries.count >= 3 }
                try #require(receiver.deliveries.count >= 3)
                let after = try await client.get("/v1/silences?state=expired", token: reader)
                #expect((after.json["silences"] as? [[String: Any]])?.count == 1)
                #expect(try await client.send(.delete, "/v1/silences/999999", token: token).status == .notFound)
            }
        }
        rows = try await outbox()
        #expect(rows.count == 2 && rows.allSatisfy { $0.status == "sent" }, "\(rows)")
        let deliveries = receiver.deliveries
        try #require(deliveries.count == 3)
        // The slow attempt reached the receiver and was repeated under the same key.
        #expect(deliveries.map(\.dedupKey) == [rows[0].key, rows[0].key, rows[1].key], "\(deliveries.map(\.dedupKey))")
        let last = try #require(try JSONSerialization.jsonObject(with: Data(deliveries[2].body)) as? [String: Any])
        let columns = (last["alerts"] as? [[String: Any]] ?? []).compactMap {
            ($0["labels"] as? [String: String])?["column"]
        }
        #expect(columns.sorted() == ["feature_0", "feature_1"])
        for d in deliveries {
            let timestamp = try #require(d.timestamp)
            let mac = HMAC<SHA256>.authenticationCode(
                for: Array((timestamp + ".").utf8) + d.body, using: SymmetricKey(data: Array("wh-secret".utf8)))
            #expect(d.signature == "sha256=" + mac.map { String(format: "%02x", $0) }.joined())
        }
        server.components.pool.close()
    }
}
