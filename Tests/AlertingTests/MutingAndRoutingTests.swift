import Foundation
import Reports
import Testing

@testable import Alerting

/// Silences, inhibition, "no data" rules, routes with matchers and `continue`, episodes and
/// the Alertmanager body.
@Suite struct MutingAndRoutingTests {
    static let minute: Int64 = 60_000
    static let hour: Int64 = 3_600_000

    static func parse(_ text: String) -> RuleSet {
        let (set, diagnostics) = RuleParser.parse(files: [("t.yaml", text)])
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        return set ?? RuleSet()
    }

    /// A drift rule, a no-data rule, no group wait: every change is due at once.
    static let rules = parse(
        """
        receivers:
          - name: hook
            webhook: {url: "http://127.0.0.1:1/hook"}
          - name: pager
            webhook: {url: "http://127.0.0.1:1/pager", format: alertmanager}
        route:
          receiver: hook
          group_by: [rule, model]
          group_wait: 0s
          group_interval: 0s
          repeat_interval: 4h
          routes:
            - matchers: ['severity=~"crit.*"', 'model!~"test-.*"']
              receiver: pager
              continue: true
            - match_re: {model: "fraud|churn"}
              receiver: hook
        inhibit_rules:
          - source_matchers: ['metric="no_data"']
            target_matchers: ['metric!="no_data"']
            equal: [model]
        rules:
          - name: drift
            metric: psi
            threshold: 0.2
          - name: silent
            absent: 2h
            severity: critical
            granularity: hour
        """)

    static func psi(_ model: String, _ column: String, _ value: Double) -> MetricSample {
        MetricSample(
            model: model, column: column, metric: "psi", baseline: "ref", granularity: "day", windowStart: 0,
            value: value)
    }

    struct Run {
        var states: [AlertState] = []
        var groups: [GroupState] = []
        var silences: [Silence] = []

        mutating func step(
            _ samples: [MetricSample], at now: Int64, rules: RuleSet = MutingAndRoutingTests.rules
        )
            -> [AlertNotification]
        {
            let result = Evaluator.evaluate(
                rules: rules, samples: samples, states: states, groups: groups, silences: silences, now: now)
            states = result.states
            groups = result.groups
            return result.notifications
        }
    }

    @Test func aGroupThatFiresAgainLaterGetsNewDedupKeys() {
        var run = Run()
        let first = run.step([Self.psi("fraud", "a", 0.5)], at: 0)
        let resolved = run.step([Self.psi("fraud", "a", 0.1)], at: Self.minute)
        let again = run.step([Self.psi("fraud", "a", 0.6)], at: 2 * Self.minute)
        #expect(first.map(\.status) == ["firing"] && resolved.map(\.status) == ["resolved"])
        #expect(again.map(\.status) == ["firing"])
        let keys = (first + resolved + again).map(\.dedupKey)
        // The outbox skips a dedup key it has seen: a repeated key would lose the second episode.
        #expect(Set(keys).count == 3, "\(keys)")
    }

    @Test func aSilenceMutesAndItsExpiryRestores() throws {
        var run = Run()
        run.silences = [
            Silence(
                id: 7,
                matchers: [try LabelMatcher.parse("model=\"fraud\""), try LabelMatcher.parse("column=~\"a|b\"")],
                startsAt: 0, endsAt: 10 * Self.minute, createdBy: "oncall", comment: "retraining")
        ]
        // Silenced from the start: nothing is sent, the alert is listed as silenced.
        #expect(run.step([Self.psi("fraud", "a", 0.5)], at: Self.minute).isEmpty)
        #expect(run.states.map(\.status) == [.firing])
        #expect(run.states.first?.silencedBy == [7])
        // A column the silence does not match still notifies, alone.
        let other = run.step([Self.psi("fraud", "a", 0.5), Self.psi("fraud", "c", 0.5)], at: 2 * Self.minute)
        #expect(other.map { $0.alerts.map { $0.labels["column"] ?? "" } } == [["c"]])
        // The silence ends: the still-firing alert is announced.
        let restored = run.step([Self.psi("fraud", "a", 0.5), Self.psi("fraud", "c", 0.5)], at: 10 * Self.minute)
        #expect(restored.count == 1)
        #expect(Set(restored.first?.alerts.map { $0.labels["column"] ?? "" } ?? []) == ["a", "c"])
        #expect(run.states.allSatisfy { $0.silencedBy == nil })
    }

    @Test func anAlertSilencedWhileFiringStillGetsItsResolveNotice() throws {
        var run = Run()
        #expect(run.step([Self.psi("churn", "a", 0.5)], at: 0).map(\.status) == ["firing"])
        run.silences = [
            Silence(id: 1, matchers: [try LabelMatcher.parse("model=churn")], startsAt: 0, endsAt: Self.hour)
        ]
        #expect(run.step([Self.psi("churn", "a", 0.5)], at: Self.minute).isEmpty)
        #expect(run.groups.count == 1)  // kept, quietly, for what it said before
        let resolved = run.step([Self.psi("churn", "a", 0.0)], at: 2 * Self.minute)
        #expect(resolved.map(\.status) == ["resolved"])
        #expect(run.states.isEmpty && run.groups.isEmpty)
    }

    @Test func noDataInhibitsTheDriftAlertsOfItsModelOnly() {
        var run = Run()
        let now = 100 * Self.hour
        // fraud's latest hourly window ended 3 hours ago; churn's 1 hour ago.
        let fraudQuiet = Evaluator.noDataSample(
            model: "fraud", segment: "*", granularity: "hour", lastWindowStart: now - 4 * Self.hour, now: now)
        let churnQuiet = Evaluator.noDataSample(
            model: "churn", segment: "*", granularity: "hour", lastWindowStart: now - 2 * Self.hour, now: now)
        #expect(fraudQuiet.value == 3 && churnQuiet.value == 1)
        let sent = run.step(
            [fraudQuiet, churnQuiet, Self.psi("fraud", "a", 0.5), Self.psi("churn", "a", 0.5)], at: now)
        let byRule = Dictionary(grouping: run.states, by: \.rule)
        #expect(byRule["silent"]?.map { $0.labels["model"] ?? "" } == ["fraud"])
        let fraudDrift = run.states.first { $0.rule == "drift" && $0.labels["model"] == "fraud" }
        let churnDrift = run.states.first { $0.rule == "drift" && $0.labels["model"] == "churn" }
        #expect(fraudDrift?.inhibitedBy == [byRule["silent"]?.first?.key ?? "?"])
        #expect(churnDrift?.inhibitedBy == nil)
        // Sent: the no-data alert (critical → pager, and continue → hook) and churn's drift.
        let told = sent.map { "\($0.receiver):\($0.alerts.map(\.rule).joined(separator: ","))" }.sorted()
        #expect(told == ["hook:drift", "hook:silent", "pager:silent"], "\(told)")
        // Data arrives again: no-data resolves (to both receivers), fraud's drift is announced.
        let back = run.step(
            [
                Evaluator.noDataSample(
                    model: "fraud", segment: "*", granularity: "hour", lastWindowStart: now, now: now + 90 * Self.minute
                ),
                Self.psi("fraud", "a", 0.5), Self.psi("churn", "a", 0.5),
            ], at: now + 90 * Self.minute)
        let after = back.map { "\($0.receiver):\($0.status):\($0.alerts.map(\.rule).joined(separator: ","))" }.sorted()
        #expect(after == ["hook:firing:drift", "hook:resolved:silent", "pager:resolved:silent"], "\(after)")
    }

    @Test func routesMatchRegexesAndContinue() throws {
        let route = Self.rules.route
        #expect(route.receivers(for: ["severity": "critical", "model": "fraud"]) == ["pager", "hook"])
        #expect(route.receivers(for: ["severity": "critical", "model": "test-1"]) == ["hook"])
        #expect(route.receivers(for: ["severity": "warning", "model": "churn"]) == ["hook"])
        #expect(route.receivers(for: ["severity": "warning", "model": "churned"]) == ["hook"])  // the default
        #expect(route.routes[1].matchers.map(\.description) == ["model=~\"fraud|churn\""])
    }

    @Test(arguments: [
        ("model=\"fraud\"", "model", "=", "fraud"),
        ("model = fraud", "model", "=", "fraud"),
        ("column!=\"a b\"", "column", "!=", "a b"),
        ("column=~\"age|income\"", "column", "=~", "age|income"),
        ("severity!~crit.*", "severity", "!~", "crit.*"),
        ("note=\"say \\\"hi\\\" \\\\ bye\"", "note", "=", "say \"hi\" \\ bye"),
    ])
    func matchersParse(text: String, name: String, op: String, value: String) throws {
        let m = try LabelMatcher.parse(text)
        #expect(m.name == name && m.operation.rawValue == op && m.value == value)
        #expect(try LabelMatcher.parse(m.description) == m)  // description round-trips
    }

    @Test(arguments: [
        ("model", "needs an operator"), ("9x=\"a\"", "not a label name"), ("a=~\"(\"", "not a valid regular"),
        ("a=\"open", "not closed"), ("a=\"x\" y", "after the closing quote"),
    ])
    func badMatchersSayWhy(text: String, message: String) {
        #expect(throws: MatcherError.self) { try LabelMatcher.parse(text) }
        do {
            _ = try LabelMatcher.parse(text)
        } catch {
            #expect(error.message.contains(message), "\(error.message)")
        }
    }

    @Test func matchersAreAnchoredAndAbsentLabelsAreEmpty() throws {
        let m = try LabelMatcher.parse("model=~\"fraud\"")
        #expect(m.matches(["model": "fraud"]) && !m.matches(["model": "fraud-2"]))
        #expect(try LabelMatcher.parse("column=\"\"").matches(["model": "x"]))
        #expect(try LabelMatcher.parse("column!~\".+\"").matches([:]))
        // Coded as Alertmanager's API object.
        let json = String(decoding: try JSONEncoder().encode(try LabelMatcher.parse("a!~\"b\"")), as: UTF8.self)
        #expect(json.contains("\"isRegex\":true") && json.contains("\"isEqual\":false"))
        let back = try JSONDecoder().decode(LabelMatcher.self, from: Data(json.utf8))
        #expect(back.description == "a!~\"b\"")
    }

    /// Nested routes inherit what they do not set and group with their own settings.
    @Test func nestedRoutesWithTheirOwnGroupingAndTimers() {
        let rules = Self.parse(
            """
            receivers:
              - {name: hook, webhook: {url: "http://127.0.0.1:1/hook"}}
              - {name: pager, webhook: {url: "http://127.0.0.1:1/pager"}}
            route:
              receiver: hook
              group_by: [rule, model]
              group_wait: 0s
              group_interval: 0s
              repeat_interval: 4h
              routes:
                - matchers: ['severity="critical"']
                  receiver: pager
                  group_by: [rule]              # one page per rule, all models together
                  repeat_interval: 1h
                  routes:
                    - matchers: ['model="sandbox"']
                      receiver: hook            # group_by [rule] and 1h inherited
            rules:
              - {name: drift, metric: psi, threshold: 0.2, severity: critical}
              - {name: shift, metric: ks, threshold: 0.2}
            """)
        let route = rules.route
        #expect(route.receivers(for: ["severity": "critical", "model": "fraud"]) == ["pager"])
        #expect(route.receivers(for: ["severity": "critical", "model": "sandbox"]) == ["hook"])
        #expect(route.receivers(for: ["severity": "warning", "model": "sandbox"]) == ["hook"])
        #expect(route.routes[0].routes[0].groupBy == ["rule"] && route.routes[0].routes[0].path == "0.0")
        #expect(route.routes[0].routes[0].repeatIntervalMilliseconds == Self.hour)
        func ks(_ model: String) -> MetricSample {
            var s = Self.psi(model, "a", 0.5)
            s.metric = "ks"
            return s
        }
        let samples = [
            Self.psi("fraud", "a", 0.5), Self.psi("churn", "a", 0.5), Self.psi("sandbox", "a", 0.5), ks("fraud"),
        ]
        var run = Run()
        let first = run.step(samples, at: 0, rules: rules)
        let summary = first.map { "\($0.receiver):\($0.alerts.map { $0.labels["model"] ?? "" }.sorted())" }.sorted()
        // The page groups fraud and churn; sandbox's page goes to hook under its own route; the
        // warning goes to hook grouped by rule and model.
        #expect(summary == ["hook:[\"fraud\"]", "hook:[\"sandbox\"]", "pager:[\"churn\", \"fraud\"]"], "\(summary)")
        #expect(Set(first.map(\.groupKey)).count == 3)
        // An hour later only the critical routes (repeat_interval 1h) repeat.
        let repeated = run.step(samples, at: Self.hour, rules: rules)
        #expect(repeated.map(\.receiver).sorted() == ["hook", "pager"])
        #expect(repeated.allSatisfy { $0.alerts.allSatisfy { $0.rule == "drift" } })
    }

    @Test(arguments: [
        ("{{ .value | humanizePercentage }}", "52.35%"),
        ("{{ .value|fixed 1 }} / {{ .threshold | fixed 3 }}", "0.5 / 0.200"),
        ("{{ .model | upper }} {{ .labels.team | title }}", "FRAUD MODEL Risk"),
        ("{{ .column | humanize }}", "a"),  // not a number: unchanged
        ("{{ .threshold | humanize }}", "200m"),
    ])
    func templateFunctions(text: String, expected: String) throws {
        var rule = AlertRule(name: "r", metric: "psi", comparison: .greater, threshold: 0.2)
        rule.include = ["*"]
        rule.labels = ["team": "risk"]
        rule.annotations = ["a": try Template(parsing: text)]
        var set = RuleSet()
        set.rules = [rule]
        set.route.receiver = "hook"
        let result = Evaluator.evaluate(
            rules: set, samples: [Self.psi("fraud model", "a", 0.523456)], states: [], groups: [], now: 0)
        #expect(result.states.first?.annotations["a"] == expected)
    }

    @Test func templateFunctionErrorsAndHumanize() {
        #expect(throws: Template.ParseError.self) { try Template(parsing: "x {{ .value | shout }}") }
        #expect(throws: Template.ParseError.self) { try Template(parsing: "{{ .value | fixed many }}") }
        #expect(Template.Function.humanize(1_234_567) == "1.235M" && Template.Function.humanize(-1500) == "-1.5k")
        #expect(Template.Function.humanize(0.00042) == "420µ" && Template.Function.humanize(42) == "42")
    }

    @Test func anUndefinedValueNeverHolds() {
        #expect(Comparison.allCases.allSatisfy { !$0.holds(.nan, 1) })
        #expect(Comparison.notEqual.holds(2, 1) && Comparison.lessOrEqual.holds(1, 1))
    }

    @Test func modelsAndSegmentsMatchGlobs() {
        let rules = Self.parse(
            """
            receivers: [{name: hook, webhook: {url: "http://127.0.0.1:1/hook"}}]
            rules:
              - {name: eu, model: ["churn-*", fraud], segment: "region=eu*", metric: psi, threshold: 0.2}
            """)
        func fires(_ model: String, _ segment: String) -> Bool {
            var sample = Self.psi(model, "a", 0.5)
            sample.segment = segment
            return !Evaluator.evaluate(rules: rules, samples: [sample], states: [], groups: [], now: 0).states.isEmpty
        }
        #expect(fires("churn-v2", "region=eu") && fires("fraud", "region=eu-west"))
        #expect(!fires("fraud-2", "region=eu") && !fires("churn-v2", "region=us") && !fires("fraud", "*"))
    }

    @Test func annotationsLinkToTheWindowsDriftOnTheServer() {
        let rules = Self.parse(
            """
            receivers: [{name: hook, webhook: {url: "http://127.0.0.1:1/hook"}}]
            rules:
              - name: drift
                metric: psi
                threshold: 0.2
                annotations: {link: "see {{ .link }}"}
            """)
        var sample = Self.psi("fraud model", "a", 0.5)
        sample.segment = "region=eu"
        sample.windowStart = 86_400_000
        let linked = Evaluator.evaluate(
            rules: rules, samples: [sample], states: [], groups: [], externalURL: "https://drift.example/", now: 0)
        #expect(
            linked.states.first?.annotations["link"]
                == "see https://drift.example/v1/models/fraud%20model/drift?from=1970-01-02T00:00:00.000Z"
                + "&to=1970-01-03T00:00:00.000Z&baseline=ref&segment=region%3Deu")
        let bare = Evaluator.evaluate(rules: rules, samples: [sample], states: [], groups: [], now: 0)
        #expect(bare.states.first?.annotations["link"] == "see ")
    }

    @Test func alertmanagerBodyHasVersion4Fields() throws {
        var run = Run()
        let sent = run.step([Self.psi("fraud", "a", 0.5), Self.psi("fraud", "b", 0.7)], at: Self.hour)
        let n = try #require(sent.first)
        let body = Payloads.body(
            for: Self.rules.receiver(named: "pager"), n, project: "acme", externalURL: "https://drift.example")
        guard case .object(let members) = body else { Issue.record("not an object"); return }
        let top = Dictionary(members, uniquingKeysWith: { a, _ in a })
        #expect(top["version"] == .string("4") && top["status"] == .string("firing"))
        #expect(top["groupKey"] == .string(n.groupKey) && top["externalURL"] == .string("https://drift.example"))
        guard case .array(let alerts) = top["alerts"], alerts.count == 2,
            case .object(let first) = alerts[0]
        else {
            Issue.record("alerts")
            return
        }
        let alert = Dictionary(first, uniquingKeysWith: { a, _ in a })
        #expect(alert["endsAt"] == .string("0001-01-01T00:00:00Z"))
        #expect(alert["startsAt"] == .string("1970-01-01T01:00:00.000Z"))
        guard case .object(let labels) = alert["labels"], case .string(let fp) = alert["fingerprint"] else {
            Issue.record("labels")
            return
        }
        let l = Dictionary(labels, uniquingKeysWith: { a, _ in a })
        #expect(l["alertname"] == .string("drift") && l["project"] == .string("acme"))
        #expect(fp.count == 16 && fp.allSatisfy(\.isHexDigit))
        guard case .object(let common) = top["commonLabels"] else { return }
        let c = Dictionary(common, uniquingKeysWith: { a, _ in a })
        #expect(c["model"] == .string("fraud") && c["column"] == nil)
        // Driftwatch's own receivers keep version 1.
        let own = Payloads.body(for: Self.rules.receiver(named: "hook"), n, project: "acme")
        #expect(own.serialized().contains("\"version\":\"1\"") || own.serialized().contains("\"version\": \"1\""))
    }
}
