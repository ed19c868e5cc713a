/// Alert rules, receivers and routing, as loaded from the YAML files in `alerts/`
/// (docs/alerts.md).
public struct RuleSet: Sendable, Equatable {
    public var rules: [AlertRule] = []
    public var receivers: [Receiver] = []
    public var route = Route()

    public init() {}

    public func receiver(named name: String) -> Receiver? { receivers.first { $0.name == name } }
}

/// One threshold rule over the metric rows of `drift serve`.
public struct AlertRule: Sendable, Equatable {
    public var name: String
    /// Exact model names; empty matches every model.
    public var models: [String] = []
    /// `key=value,...` segment description, or `*` (any segment).
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

    public func holds(_ value: Double, _ threshold: Double) -> Bool {
        switch self {
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

    public var name: String
    public var kind: Kind
    public var url: Source
    public var headers: [String: String] = [:]
    public var secret: Source?

    public init(name: String, kind: Kind = .webhook, url: Source) {
        self.name = name
        self.kind = kind
        self.url = url
    }
}

/// Grouping and routing: the default receiver and timers, and label-matching sub-routes
/// tried in order (first match wins).
public struct Route: Sendable, Equatable {
    public var receiver = ""
    public var groupBy: [String] = ["rule", "model"]
    public var groupWaitMilliseconds: Int64 = 30_000
    public var groupIntervalMilliseconds: Int64 = 5 * 60_000
    public var repeatIntervalMilliseconds: Int64 = 4 * 3_600_000
    public var sendResolved = true
    public var routes: [SubRoute] = []

    public init() {}

    /// The receiver for an alert's labels.
    public func receiver(for labels: [String: String]) -> String {
        for route in routes where route.match.allSatisfy({ labels[$0.key] == $0.value }) { return route.receiver }
        return receiver
    }
}

public struct SubRoute: Sendable, Equatable {
    public var match: [String: String]
    public var receiver: String
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

    public static func isKnown(_ name: String) -> Bool { column.contains(name) || dataset.contains(name) }
}
