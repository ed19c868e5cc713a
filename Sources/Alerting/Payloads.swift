public import Reports
import Storage

/// Notification bodies. The generic webhook JSON is versioned (`"version": "1"`, documented in
/// docs/alerts.md); fields are only ever added within a version.
public enum Payloads {
    public static func webhook(_ n: AlertNotification, project: String) -> JSONValue {
        func labels(_ l: [String: String]) -> JSONValue {
            .object(l.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
        }
        return .object([
            ("version", .string("1")),
            ("status", .string(n.status)),
            ("project", .string(project)),
            ("receiver", .string(n.receiver)),
            ("group_key", .string(n.groupKey)),
            ("dedup_key", .string(n.dedupKey)),
            ("group_labels", labels(n.groupLabels)),
            (
                "alerts",
                .array(
                    n.alerts.map { a in
                        var members: [(String, JSONValue)] = [
                            ("status", .string(a.status.rawValue)),
                            ("rule", .string(a.rule)),
                            ("labels", labels(a.labels)),
                            ("annotations", labels(a.annotations)),
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
}
