import Alerting
import Foundation
import Testing

/// The alert state machine and grouping, table-driven over `now`.
@Suite struct EvaluatorTests {
    static let minute: Int64 = 60_000

    static func rules(
        for forMs: Int64 = 0, groupWait: Int64 = 0, groupInterval: Int64 = 0, repeatMs: Int64 = 3_600_000,
        sendResolved: Bool = true
    ) -> RuleSet {
        let text = """
            receivers:
              - name: hook
                webhook: {url: "http://127.0.0.1:1/hook"}
            route:
              receiver: hook
              group_by: [rule, model]
              group_wait: \(groupWait)ms
              group_interval: \(groupInterval)ms
              repeat_interval: \(repeatMs)ms
              send_resolved: \(sendResolved)
            rules:
              - name: drift
                model: fraud
                metric: psi
                columns: {include: ["*"], exclude: [id]}
                op: ">="
                threshold: 0.2
                for: \(forMs)ms
                annotations:
                  summary: "{{ .column }} psi {{ .value }} >= {{ .threshold }}"
            """
        let (set, diagnostics) = RuleParser.parse(files: [("t.yaml", text)])
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        return set!
    }

    static func sample(_ column: String, _ value: Double, model: String = "fraud", window: Int64 = 0) -> MetricSample {
        MetricSample(
            model: model, column: column, metric: "psi", baseline: "ref", granularity: "day", windowStart: window,
            value: value)
    }

    struct Step {
        var now: Int64
        var samples: [MetricSample]
        /// Expected status per column after the step ("-" for no alert).
        var statuses: [String: String]
        /// Expected notifications: status and alert count.
        var notifications: [(String, Int)]
    }

    func run(_ rules: RuleSet, _ steps: [Step]) {
        var states: [AlertState] = []
        var groups: [GroupState] = []
        var dedupKeys: Set<String> = []
        for (i, step) in steps.enumerated() {
            let result = Evaluator.evaluate(
                rules: rules, samples: step.samples, states: states, groups: groups, now: step.now)
            states = result.states
            groups = result.groups
            for (column, status) in step.statuses {
                let found = states.first { $0.labels["column"] == column }?.status.rawValue ?? "-"
                #expect(found == status, "step \(i): \(column) is \(found), expected \(status)")
            }
            let got = result.notifications.map { ($0.status, $0.alerts.count) }
            #expect(got.map(\.0) == step.notifications.map(\.0), "step \(i): \(got)")
            #expect(got.map(\.1) == step.notifications.map(\.1), "step \(i): \(got)")
            for n in result.notifications { #expect(dedupKeys.insert(n.dedupKey).inserted, "dedup key repeated") }
        }
    }

    @Test func firesResolvesAndGroups() {
        run(
            Self.rules(),
            [
                Step(now: 0, samples: [Self.sample("a", 0.1)], statuses: ["a": "-"], notifications: []),
                // Two columns breach: one grouped notification (rule + model).
                Step(
                    now: 1, samples: [Self.sample("a", 0.3), Self.sample("b", 0.5), Self.sample("id", 9)],
                    statuses: ["a": "firing", "b": "firing", "id": "-"], notifications: [("firing", 2)]),
                // Unchanged: nothing until the repeat interval.
                Step(
                    now: 2, samples: [Self.sample("a", 0.3), Self.sample("b", 0.5)], statuses: ["a": "firing"],
                    notifications: []),
                // b calms down: a notification with a still firing and b resolved.
                Step(
                    now: 3, samples: [Self.sample("a", 0.3), Self.sample("b", 0.01)],
                    statuses: ["a": "firing", "b": "-"], notifications: [("firing", 2)]),
                // Repeat after an hour.
                Step(
                    now: 3 + 3_600_000, samples: [Self.sample("a", 0.3)], statuses: ["a": "firing"],
                    notifications: [("firing", 1)]),
                // All calm: the resolve notice, then nothing.
                Step(
                    now: 4 + 3_600_000, samples: [Self.sample("a", 0.0)], statuses: ["a": "-"],
                    notifications: [("resolved", 1)]),
                Step(now: 5 + 3_600_000, samples: [Self.sample("a", 0.0)], statuses: ["a": "-"], notifications: []),
            ])
    }

    @Test func forDurationKeepsAlertsPending() {
        run(
            Self.rules(for: 10 * Self.minute),
            [
                Step(now: 0, samples: [Self.sample("a", 0.3)], statuses: ["a": "pending"], notifications: []),
                Step(
                    now: 5 * Self.minute, samples: [Self.sample("a", 0.3)], statuses: ["a": "pending"],
                    notifications: []),
                // A dip resets it: flapping never fires.
                Step(now: 6 * Self.minute, samples: [Self.sample("a", 0.1)], statuses: ["a": "-"], notifications: []),
                Step(
                    now: 7 * Self.minute, samples: [Self.sample("a", 0.3)], statuses: ["a": "pending"],
                    notifications: []),
                Step(
                    now: 17 * Self.minute, samples: [Self.sample("a", 0.3)], statuses: ["a": "firing"],
                    notifications: [("firing", 1)]),
            ])
    }

    @Test func groupWaitAndGroupInterval() {
        run(
            Self.rules(groupWait: Self.minute, groupInterval: 5 * Self.minute),
            [
                Step(now: 0, samples: [Self.sample("a", 0.3)], statuses: ["a": "firing"], notifications: []),
                Step(
                    now: 30_000, samples: [Self.sample("a", 0.3), Self.sample("b", 0.3)], statuses: ["b": "firing"],
                    notifications: []),
                Step(
                    now: Self.minute, samples: [Self.sample("a", 0.3), Self.sample("b", 0.3)], statuses: [:],
                    notifications: [("firing", 2)]),
                // A third column joins; the group waits for its interval.
                Step(
                    now: 2 * Self.minute,
                    samples: [Self.sample("a", 0.3), Self.sample("b", 0.3), Self.sample("c", 0.3)],
                    statuses: ["c": "firing"], notifications: []),
                Step(
                    now: 6 * Self.minute,
                    samples: [Self.sample("a", 0.3), Self.sample("b", 0.3), Self.sample("c", 0.3)],
                    statuses: [:], notifications: [("firing", 3)]),
            ])
    }

    @Test func resolvedWithinGroupWaitSaysNothing() {
        run(
            Self.rules(groupWait: Self.minute, sendResolved: true),
            [
                Step(now: 0, samples: [Self.sample("a", 0.3)], statuses: ["a": "firing"], notifications: []),
                Step(now: 10_000, samples: [Self.sample("a", 0.1)], statuses: ["a": "-"], notifications: []),
                Step(now: 2 * Self.minute, samples: [Self.sample("a", 0.1)], statuses: ["a": "-"], notifications: []),
            ])
    }

    @Test func withoutSendResolvedResolvesQuietly() {
        run(
            Self.rules(sendResolved: false),
            [
                Step(
                    now: 0, samples: [Self.sample("a", 0.3)], statuses: ["a": "firing"], notifications: [("firing", 1)]),
                Step(now: 1, samples: [Self.sample("a", 0.1)], statuses: ["a": "-"], notifications: []),
            ])
    }

    @Test func otherModelsAndMetricsAreIgnoredAndAnnotationsRendered() {
        let rules = Self.rules()
        let result = Evaluator.evaluate(
            rules: rules,
            samples: [
                Self.sample("a", 0.9, model: "other"),
                MetricSample(
                    model: "fraud", column: "a", metric: "ks", baseline: "ref", granularity: "day", windowStart: 0,
                    value: 0.9),
                MetricSample(
                    model: "fraud", column: "a", metric: "psi", baseline: "ref", granularity: "hour", windowStart: 0,
                    value: 0.9),
                Self.sample("a", 0.25, window: 86_400_000),
            ], states: [], groups: [], now: 0)
        #expect(result.states.count == 1)
        let alert = result.states[0]
        #expect(alert.annotations["summary"] == "a psi 0.25 >= 0.2")
        #expect(
            alert.labels["baseline"] == "ref" && alert.labels["model"] == "fraud"
                && alert.labels["severity"] == "warning")
        #expect(result.notifications.count == 1)
        let payload = Payloads.webhook(result.notifications[0], project: "acme").serialized()
        #expect(payload.contains("\"version\":\"1\""))
        #expect(payload.contains("\"window_start\":\"1970-01-02T00:00:00.000Z\""))
    }
}

@Suite struct SlackPayloadTests {
    @Test func blockKitWithinLimitsAndEscaped() throws {
        let alerts = (0..<40).map { i in
            AlertState(
                key: "k\(i)", rule: "drift", labels: ["model": "fraud<&>", "column": "c\(i)", "metric": "psi"],
                annotations: ["summary": "psi <b>high</b> & rising " + String(repeating: "x", count: 4000)],
                status: .firing, activeSince: 0, firedAt: 0, resolvedAt: nil, value: 0.31234, threshold: 0.2,
                windowStart: 0)
        }
        let n = AlertNotification(
            receiver: "slack", groupKey: "g", dedupKey: "g#1", status: "firing",
            groupLabels: ["rule": "drift", "model": String(repeating: "m", count: 300)], alerts: alerts)
        let text = Payloads.slack(n, project: "acme").serialized()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let blocks = try #require(object["blocks"] as? [[String: Any]])
        #expect(blocks.count <= 50)
        let header = ((blocks.first?["text"] as? [String: Any])?["text"] as? String) ?? ""
        #expect(blocks.first?["type"] as? String == "header" && header.count <= 150)
        let sections = blocks.filter { $0["type"] as? String == "section" }
        #expect(sections.count == 15)
        for section in sections {
            let body = ((section["text"] as? [String: Any])?["text"] as? String) ?? ""
            #expect(body.count <= 3000)
            #expect(body.hasPrefix("psi &lt;b&gt;high&lt;/b&gt; &amp; rising"))
            #expect(((section["fields"] as? [Any])?.count ?? 99) <= 10)
        }
        let fields = (sections.first?["fields"] as? [[String: Any]])?.compactMap { $0["text"] as? String } ?? []
        #expect(fields.contains("*Model*\nfraud&lt;&amp;&gt;"))
        let last = ((blocks.last?["elements"] as? [[String: Any]])?.first?["text"] as? String) ?? ""
        #expect(last == "… and 25 more alerts")
    }
}
