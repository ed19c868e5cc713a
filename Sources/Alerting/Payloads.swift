public import Reports
import Storage

/// Notification bodies. The generic webhook JSON is versioned (`"version": "1"`, documented in
/// docs/alerts.md); fields are only ever added within a version.
public enum Payloads {
    public static func webhook(_ n: AlertNotification, project: String) -> JSONValue {
        return .object([
            ("version", .string("1")),
            ("status", .string(n.status)),
            ("project", .string(project)),
            ("receiver", .string(n.receiver)),
            ("group_key", .string(n.groupKey)),
            ("dedup_key", .string(n.dedupKey)),
            ("group_labels", sortedObject(n.groupLabels)),
            (
                "alerts",
                .array(
                    n.alerts.map { a in
                        var members: [(String, JSONValue)] = [
                            ("status", .string(a.status.rawValue)),
                            ("rule", .string(a.rule)),
                            ("labels", sortedObject(a.labels)),
                            ("annotations", sortedObject(a.annotations)),
                            ("value", .number(a.value)),
                            ("threshold", .number(a.threshold)),
                            ("window_start", .string(RFC3339.format(milliseconds: a.windowStart))),
                            ("starts_at", .string(RFC3339.format(milliseconds: a.firedAt ?? a.activeSince))),
                        ]
                        if let end = a.resolvedAt {
                            members.append(("ends_at", .string(RFC3339.format(milliseconds: end))))
                        }
                        return .object(members)
                    })
            ),
        ])
    }

    /// Alertmanager's webhook body (`"version": "4"`, as documented in Alertmanager's
    /// configuration reference), for receivers written for Alertmanager. Labels carry
    /// `alertname` (the rule) and `project` besides Driftwatch's own; a firing alert's `endsAt`
    /// is Go's zero time, as Alertmanager sends it.
    public static func alertmanager(_ n: AlertNotification, project: String, externalURL: String = "") -> JSONValue {
        func amLabels(_ a: AlertState) -> [String: String] {
            var labels = a.labels
            labels["alertname"] = a.rule
            labels["project"] = project
            return labels
        }
        let all = n.alerts.map(amLabels)
        func common(_ maps: [[String: String]]) -> [String: String] {
            guard var shared = maps.first else { return [:] }
            for m in maps.dropFirst() { shared = shared.filter { m[$0.key] == $0.value } }
            return shared
        }
        return .object([
            ("version", .string("4")),
            ("groupKey", .string(n.groupKey)),
            ("truncatedAlerts", .int(0)),
            ("status", .string(n.status)),
            ("receiver", .string(n.receiver)),
            ("groupLabels", sortedObject(n.groupLabels)),
            ("commonLabels", sortedObject(common(all))),
            ("commonAnnotations", sortedObject(common(n.alerts.map(\.annotations)))),
            ("externalURL", .string(externalURL)),
            (
                "alerts",
                .array(
                    zip(n.alerts, all).map { a, labels in
                        .object([
                            ("status", .string(a.status == .resolved ? "resolved" : "firing")),
                            ("labels", sortedObject(labels)),
                            ("annotations", sortedObject(a.annotations)),
                            ("startsAt", .string(RFC3339.format(milliseconds: a.firedAt ?? a.activeSince))),
                            (
                                "endsAt",
                                .string(a.resolvedAt.map { RFC3339.format(milliseconds: $0) } ?? "0001-01-01T00:00:00Z")
                            ),
                            ("generatorURL", .string(externalURL)),
                            ("fingerprint", .string(fingerprint(labels))),
                        ])
                    })
            ),
        ])
    }

    /// A string map as a JSON object with its keys in order (stable bodies, stable signatures).
    static func sortedObject(_ map: [String: String]) -> JSONValue {
        .object(map.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
    }

    /// A stable 16-hex-digit identity of a label set (FNV-1a 64 over the sorted pairs).
    static func fingerprint(_ labels: [String: String]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for (key, value) in labels.sorted(by: { $0.key < $1.key }) {
            for byte in key.utf8 + [0xff] + value.utf8 + [0xfe] {
                hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
            }
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The body for `receiver`: Slack Block Kit, Alertmanager's JSON or Driftwatch's.
    public static func body(
        for receiver: Receiver?, _ n: AlertNotification, project: String, externalURL: String = ""
    ) -> JSONValue {
        switch (receiver?.kind, receiver?.format) {
        case (.slack, _): slack(n, project: project, externalURL: externalURL.isEmpty ? nil : externalURL)
        case (_, .alertmanager): alertmanager(n, project: project, externalURL: externalURL)
        default: webhook(n, project: project)
        }
    }

    /// A Slack incoming-webhook message in Block Kit: a header, a section per alert with fields
    /// (model, column, metric, value, threshold), and a context line with the window. Within
    /// Slack's limits (header ≤ 150 characters, section text ≤ 3,000, ≤ 10 fields, ≤ 50 blocks);
    /// `&`, `<`, `>` escaped as Slack requires.
    public static func slack(_ n: AlertNotification, project: String, externalURL: String? = nil) -> JSONValue {
        func escape(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;")
        }
        func clip(_ s: String, _ n: Int) -> String { s.count <= n ? s : String(s.prefix(n - 1)) + "…" }
        let title =
            (n.status == "firing" ? "Firing: " : "Resolved: ")
            + (n.groupLabels["rule"] ?? n.alerts.first?.rule ?? "alert")
            + (n.groupLabels["model"].map { " — \($0)" } ?? "")
        var blocks: [JSONValue] = [
            .object([
                ("type", .string("header")),
                ("text", .object([("type", .string("plain_text")), ("text", .string(clip(title, 150)))])),
            ])
        ]
        let shown = n.alerts.prefix(15)
        for a in shown {
            let fields: [(String, String)] = [
                ("Model", a.labels["model"] ?? "-"), ("Column", a.labels["column"] ?? "(dataset)"),
                ("Metric", a.labels["metric"] ?? "-"), ("Value", Evaluator.format(a.value)),
                ("Threshold", Evaluator.format(a.threshold)), ("Status", a.status.rawValue),
            ]
            var section: [(String, JSONValue)] = [
                ("type", .string("section")),
                (
                    "fields",
                    .array(
                        fields.map { name, value in
                            .object([
                                ("type", .string("mrkdwn")),
                                ("text", .string(clip("*\(name)*\n\(escape(value))", 2000))),
                            ])
                        })
                ),
            ]
            if let summary = a.annotations["summary"] {
                section.insert(
                    ("text", .object([("type", .string("mrkdwn")), ("text", .string(clip(escape(summary), 3000)))])),
                    at: 1)
            }
            blocks.append(.object(section))
            var context = "Window \(RFC3339.format(milliseconds: a.windowStart)) · project \(escape(project))"
            if let externalURL { context += " · <\(externalURL)|Driftwatch>" }
            blocks.append(
                .object([
                    ("type", .string("context")),
                    (
                        "elements",
                        .array([.object([("type", .string("mrkdwn")), ("text", .string(clip(context, 3000)))])])
                    ),
                ]))
        }
        if n.alerts.count > shown.count {
            blocks.append(
                .object([
                    ("type", .string("context")),
                    (
                        "elements",
                        .array([
                            .object([
                                ("type", .string("mrkdwn")),
                                ("text", .string("… and \(n.alerts.count - shown.count) more alerts")),
                            ])
                        ])
                    ),
                ]))
        }
        return .object([("text", .string(clip(escape(title), 3000))), ("blocks", .array(blocks))])
    }
}
