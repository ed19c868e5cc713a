import Alerting
import Testing

/// Rule files: every error with its position.
@Suite struct RuleParserTests {
    func diagnostics(_ text: String) -> [String] {
        RuleParser.parse(files: [("r.yaml", text)]).1.map(\.description)
    }

    static let receiver = """
        receivers:
          - name: hook
            webhook: {url: "http://127.0.0.1:1/hook"}

        """

    @Test(arguments: [
        ("rules:\n  - name: a\n    metric: psy\n    threshold: 1\n", "r.yaml:3:13: unknown metric 'psy'"),
        (
            "rules:\n  - name: a\n    metric: psi\n    threshold: high\n",
            "r.yaml:4:16: threshold 'high' is not a finite number"
        ),
        (
            "rules:\n  - name: a\n    metric: psi\n    threshold: 1\n    for: 5 minutes\n",
            "r.yaml:5:10: for: '5 minutes' is not a duration"
        ),
        (
            "rules:\n  - name: a\n    metric: psi\n    threshold: 1\n    op: '=>'\n",
            "r.yaml:5:9: op '=>' must be one of"
        ),
        (
            "rules:\n  - name: a\n    metric: psi\n    threshold: 1\n    annotations:\n      s: \"x {{ .colum }}\"\n",
            "r.yaml:6:13: annotations.s: unknown template variable '.colum'"
        ),
        (
            "rules:\n  - name: a\n    metric: psi\n    threshold: 1\n    annotations:\n      s: \"x {{ .value | shout }}\"\n",
            "r.yaml:6:13: annotations.s: unknown template function 'shout'"
        ),
        (
            "rules:\n  - name: a\n    metric: psi\n    threshold: 1\n    annotations:\n      s: x {{ .column\n",
            "r.yaml:6:12: annotations.s: '{{' is not closed"
        ),
        (
            "rules:\n  - name: a\n    metric: psi\n    threshold: 1\n    colums: {}\n",
            "r.yaml:5:5: unknown key 'colums'"
        ),
        ("route:\n  receiver: pager\n", "r.yaml:2:13: unknown receiver 'pager'"),
        (
            "rules:\n  - name: a\n    metric: row_count\n    threshold: 1\n    columns: {include: [x]}\n",
            "metric 'row_count' is dataset-level"
        ),
        (
            "rules:\n  - name: a\n    metric: psi\n    threshold: 1\n  - name: a\n    metric: ks\n    threshold: 1\n",
            "r.yaml:5:11: rule 'a' is already defined at r.yaml:5:11"
        ),
        (
            "route:\n  receiver: hook\n  routes:\n    - matchers: ['model=~\"(\"']\n      receiver: hook\n",
            "r.yaml:4:18: matchers: '(' is not a valid regular expression"
        ),
        (
            "route:\n  receiver: hook\n  routes:\n    - matchers: ['model fraud']\n      receiver: hook\n",
            "r.yaml:4:18: matchers: 'model fraud' needs an operator"
        ),
        (
            "inhibit_rules:\n  - source_matchers: ['rule=\"quiet\"']\n",
            "r.yaml:2:5: an inhibit rule needs source_matchers and target_matchers"
        ),
        (
            "inhibit_rules:\n  - source_matchers: ['rule=quiet']\n    target_matchers: ['x=y']\n    equal: [9lives]\n",
            "r.yaml:4:12: equal: '9lives' is not a label name"
        ),
        (
            "rules:\n  - name: a\n    absent: 2h\n    threshold: 1\n",
            "r.yaml:4:5: rule 'a' is a no-data rule (absent): it takes no threshold"
        ),
        ("rules:\n  - name: a\n    absent: 2 hours\n", "r.yaml:3:13: absent: '2 hours' is not a duration"),
        (
            "route:\n  receiver: hook\n  routes:\n    - receiver: hook\n      routes:\n        - grup_by: [a]\n",
            "r.yaml:6:11: unknown key 'grup_by' in a route"
        ),
        (
            "route:\n  receiver: hook\n  routes:\n    - routes:\n        - receiver: pager\n",
            "r.yaml:5:21: unknown receiver 'pager'"
        ),
    ])
    func reportsPositions(text: String, expected: String) {
        let found = diagnostics(Self.receiver + text)
        if expected.hasPrefix("r.yaml:") {
            // Positions are written as in `text`; the receiver block in front shifts lines by 3.
            let shifted = expected.replacingLine(by: 3)
            #expect(found.contains { $0.hasPrefix(shifted) }, "\(found)")
        } else {
            #expect(found.contains { $0.contains(expected) }, "\(found)")
        }
    }

    @Test func reportsEveryErrorNotOnlyTheFirst() {
        let found = diagnostics(
            "rules:\n  - name: a\n    metric: psy\n    threshold: x\n    for: soon\nbogus: 1\n")
        #expect(found.count == 4, "\(found)")
    }

    @Test func examplesParse() {
        let (set, diagnostics) = RuleParser.parse(files: [
            (
                "x.yaml",
                Self.receiver + """
                    route:
                      receiver: hook
                      routes:
                        - match: {severity: critical}
                          receiver: hook
                    rules:
                      - name: latency
                        metric: latency_p99
                        granularity: hour
                        op: ">"
                        threshold: 250
                        for: 2h
                    """
            )
        ])
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        let rule = set?.rules.first
        #expect(rule?.forMilliseconds == 7_200_000 && rule?.comparison == .greater && rule?.granularity == "hour")
        #expect(rule?.watches(column: "") == true && rule?.watches(column: "x") == false)
        #expect(set?.route.receivers(for: ["severity": "critical"]) == ["hook"])
        #expect(Glob.matches("feat_*", "feat_x") && !Glob.matches("feat_?", "feat_xy") && Glob.matches("*", ""))
    }
}

extension String {
    /// `file:LINE:col: ...` with LINE increased by `lines` (for expectations written without
    /// the shared receiver block).
    func replacingLine(by lines: Int) -> String {
        let parts = split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let line = Int(parts[1]) else { return self }
        return "\(parts[0]):\(line + lines):\(parts[2])"
    }
}
