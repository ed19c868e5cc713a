/// Alert rules, receivers and routing, as loaded from the YAML files in `alerts/`
/// (docs/alerts.md).
public struct RuleSet: Sendable, Equatable {
    public var rules: [AlertRule] = []
    public var receivers: [Receiver] = []
    public var route = Route()
    /// Alertmanager-style inhibition: a firing source alert mutes matching target alerts.
    public var inhibitions: [InhibitionRule] = []

    public init() {}

    public func receiver(named name: String) -> Receiver? { receivers.first { $0.name == name } }
}

/// One threshold rule over the metric rows of `drift serve`.
public struct AlertRule: Sendable, Equatable {
    public var name: String
    /// Model names or globs (`fraud-*`); empty matches every model.
    public var models: [String] = []
    /// A segment (`key=value,...`) or a glob over it (`region=*`); `*`: any segment.
    public var segment = "*"
    /// The baseline the metric rows compare with; nil for any (and for window-only metrics).
    public var baseline: String?
    public var metric: String
    /// Column globs (`*`, `?`); empty means dataset-level metrics (column `''`).
    public var include: [String] = []
    public var exclude: [String] = []
    public var granularity = "day"
    public var comparison: Comparison
    public var threshold: Double
    /// Milliseconds the condition must hold before the alert fires.
    public var forMilliseconds: Int64 = 0
    /// A "no data" rule (`absent: 2h`): fires for a model and segment whose latest window of
    /// the rule's granularity ended longer ago than this. Its metric is ``MetricNames/noData``,
    /// its value the hours since that window ended, its threshold this span in hours.
    public var absentMilliseconds: Int64?
    public var severity = "warning"
    public var labels: [String: String] = [:]
    public var annotations: [String: Template] = [:]

    public init(name: String, metric: String, comparison: Comparison, threshold: Double) {
        self.name = name
        self.metric = metric
        self.comparison = comparison
        self.threshold = threshold
    }

    /// Whether the rule watches `column` (`''` = dataset-level).
    public func watches(column: String) -> Bool {
        if include.isEmpty { return column.isEmpty }
        guard !column.isEmpty else { return false }
        return include.contains { Glob.matches($0, column) } && !exclude.contains { Glob.matches($0, column) }
    }
}

public enum Comparison: String, Sendable, Equatable, CaseIterable {
    case greater = ">", greaterOrEqual = ">=", less = "<", lessOrEqual = "<=", equal = "==", notEqual = "!="

    /// `value <op> threshold`; a NaN value (an undefined metric) never holds, not even `!=`.
    public func holds(_ value: Double, _ threshold: Double) -> Bool {
        guard !value.isNaN else { return false }
        return switch self {
        case .greater: value > threshold
        case .greaterOrEqual: value >= threshold
        case .less: value < threshold
        case .lessOrEqual: value <= threshold
        case .equal: value == threshold
        case .notEqual: value != threshold
        }
    }
}

/// Where notifications go. Secrets and URLs may come from the environment or files, resolved
/// when a notification is sent (never stored in the database).
public struct Receiver: Sendable, Equatable {
    public enum Source: Sendable, Equatable {
        case literal(String)
        case environment(String)
        case file(String)
    }

    public enum Kind: String, Sendable, Equatable { case webhook, slack }

    /// The body a webhook receiver gets: Driftwatch's JSON (version 1) or Alertmanager's
    /// webhook JSON (version 4), for receivers written for Alertmanager.
    public enum Format: String, Sendable, Equatable, CaseIterable { case driftwatch, alertmanager }

    public var name: String
    public var kind: Kind
    public var url: Source
    public var headers: [String: String] = [:]
    public var secret: Source?
    public var format = Format.driftwatch

    public init(name: String, kind: Kind = .webhook, url: Source) {
        self.name = name
        self.kind = kind
        self.url = url
    }
}

/// Grouping and routing, as in Alertmanager: a tree of routes. The top-level route names the
/// default receiver and timers; a sub-route applies to the alerts its matchers match and
/// inherits whatever it does not set (receiver, `group_by`, timers, `send_resolved`) from its
/// parent. An alert descends into the first sub-route that matches it (and, when that one says
/// `continue`, into the following matching ones too); a route none of whose sub-routes match
/// takes the alert itself.
public struct Route: Sendable, Equatable {
    public var receiver = ""
    public var groupBy: [String] = ["rule", "model"]
    public var groupWaitMilliseconds: Int64 = 30_000
    public var groupIntervalMilliseconds: Int64 = 5 * 60_000
    public var repeatIntervalMilliseconds: Int64 = 4 * 3_600_000
    public var sendResolved = true
    /// All must match (`match:` entries become `=` matchers, `match_re:` entries `=~`); the
    /// top-level route has none.
    public var matchers: [LabelMatcher] = []
    /// Alertmanager's `continue`: after this route took an alert, try its later siblings too.
    public var continueMatching = false
    public var routes: [Route] = []
    /// Where the route sits in the tree (`""` for the top level, `"1"`, `"1.0"`, ...): part of
    /// the group keys of the sub-routes' groups, so that routes with different timers never share
    /// a group.
    public var path = ""

    public init() {}

    /// The routes that take an alert with these labels (at least one; the top level when no
    /// sub-route matches).
    public func matching(_ labels: [String: String]) -> [Route] {
        var out: [Route] = []
        for child in routes where child.matchers.matches(labels) {
            out += child.matching(labels)
            if !child.continueMatching { break }
        }
        return out.isEmpty ? [self] : out
    }

    /// The receivers an alert with these labels goes to.
    public func receivers(for labels: [String: String]) -> [String] {
        var out: [String] = []
        for route in matching(labels) where !out.contains(route.receiver) { out.append(route.receiver) }
        return out
    }

    /// The route at `path` (nil when the tree no longer has it, e.g. after a reload).
    public func route(at path: String) -> Route? {
        if path == self.path { return self }
        for child in routes where path == child.path || path.hasPrefix(child.path + ".") {
            return child.route(at: path)
        }
        return nil
    }
}

/// Alertmanager's `inhibit_rules`: while an alert matching `sourceMatchers` fires, alerts
/// matching `targetMatchers` that have the same values for the `equal` labels are muted
/// (e.g. "no data" mutes the drift alerts of the same model). An alert never inhibits itself.
public struct InhibitionRule: Sendable, Equatable {
    public var sourceMatchers: [LabelMatcher]
    public var targetMatchers: [LabelMatcher]
    public var equal: [String]

    public init(sourceMatchers: [LabelMatcher], targetMatchers: [LabelMatcher], equal: [String] = []) {
        self.sourceMatchers = sourceMatchers
        self.targetMatchers = targetMatchers
        self.equal = equal
    }
}

/// A silence: alerts whose labels all its matchers match are muted from `startsAt` until
/// `endsAt` (ms). Created through `POST /v1/silences` or `drift silence add`; expiring one sets
/// `endsAt` to now.
public struct Silence: Sendable, Equatable {
    public var id: Int64
    public var matchers: [LabelMatcher]
    public var startsAt: Int64
    public var endsAt: Int64
    public var createdBy: String
    public var comment: String

    public init(
        id: Int64, matchers: [LabelMatcher], startsAt: Int64, endsAt: Int64, createdBy: String = "",
        comment: String = ""
    ) {
        self.id = id
        self.matchers = matchers
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.createdBy = createdBy
        self.comment = comment
    }

    public func isActive(at now: Int64) -> Bool { startsAt <= now && now < endsAt }

    /// `pending` (starts later), `active` or `expired`, as Alertmanager says.
    public func state(at now: Int64) -> String { now < startsAt ? "pending" : now < endsAt ? "active" : "expired" }
}

/// `*` and `?` globs.
public enum Glob {
    public static func matches(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern.unicodeScalars)
        let t = Array(text.unicodeScalars)
        var (i, j, star, mark) = (0, 0, -1, 0)
        while j < t.count {
            if i < p.count && (p[i] == "?" || p[i] == t[j]) {
                i += 1
                j += 1
            } else if i < p.count && p[i] == "*" {
                star = i
                mark = j
                i += 1
            } else if star >= 0 {
                i = star + 1
                mark += 1
                j = mark
            } else {
                return false
            }
        }
        while i < p.count && p[i] == "*" { i += 1 }
        return i == p.count
    }
}

/// The metric names `drift serve` writes (docs/operations.md, "Metric rows"), for validating
/// rules.
public enum MetricNames {
    static let performance = [
        "accuracy", "precision_macro", "recall_macro", "f1_macro", "precision_weighted", "recall_weighted",
        "f1_weighted", "roc_auc", "log_loss", "mae", "rmse", "bias", "r2",
    ]
    static let latency = [
        "latency_p50", "latency_p90", "latency_p95", "latency_p99", "latency_max", "latency_count",
        "latency_error_rate",
    ]
    /// Metrics per column.
    public static let column: Set<String> = [
        "psi", "ks", "js", "hellinger", "wasserstein", "wasserstein_normed", "linf", "chi2", "drift_status",
        "effect_size", "null_ratio", "nan_ratio", "inf_ratio", "null_ratio_change", "type_mix_change", "cardinality",
        "cardinality_ratio", "out_of_range", "new_categories", "missing_categories", "count", "mean", "stddev", "min",
        "max",
    ]
    /// Dataset-level metrics (column `''`).
    public static let dataset: Set<String> = Set(
        [
            "row_count", "row_count_change", "dataset_drift", "drift_share", "drifted_columns", "schema_added",
            "schema_missing", "schema_type_changes",
        ] + performance + performance.map { $0 + "_change" } + latency + latency.map { $0 + "_change" })

    /// The metric of "no data" rules (`absent:`): hours since the latest window ended.
    public static let noData = "no_data"

    public static func isKnown(_ name: String) -> Bool { column.contains(name) || dataset.contains(name) }
}
