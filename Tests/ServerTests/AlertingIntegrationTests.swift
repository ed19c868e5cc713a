import DriftTestSupport
import Foundation
import HummingbirdTesting
import Profiles
import Server
import Storage
import Testing

/// Rules → metric rows → alert → webhook, through the real daemon, PostgreSQL and a real
/// receiver on 127.0.0.1.
@Suite(.serialized) struct AlertingIntegrationTests {
    @Test func driftingStreamFiresOneGroupedNotificationThenResolves() async throws {
        let receiver = Receiver(script: [500])  // the first attempt fails: retried
        let work = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: work) }
        try await receiver.application().test(.live) { hook in
            let rules = work.appendingPathComponent("rules.yaml").path
            try """
            receivers:
              - name: hook
                webhook:
                  url: "http://127.0.0.1:\(hook.port ?? 0)/hook"
                  secret: "s3cret"
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
                annotations:
                  summary: "{{ .column }} saw {{ .value }} rows in the hour of {{ .window }}"
            """.write(toFile: rules, atomically: true, encoding: .utf8)
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

    static func waitFor(_ condition: @Sendable () -> Bool) async throws {
        for _ in 0..<300 {
            if condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("timed out")
    }
}
