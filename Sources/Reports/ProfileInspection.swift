public import Profiles
import Sketches

/// What `drift profile inspect` reports about a profile, as JSON (the documented contract;
/// also what the server's profile endpoint returns) or text.
public struct ProfileInspection: Sendable {
    public let json: JSONValue
    public let text: String

    /// - Parameter format: the file's format; whylogs profiles report quantiles with whylogs'
    ///   own rule so that numbers match whylogs' `to_pandas()`.
    public init(_ profile: DatasetProfile, format: ProfileFormat) {
        let ranks = SketchSummary.defaultRanks
        var columns: [(String, JSONValue)] = []
        var table = TextTable("column", "count", "null", "types", "mean", "stddev", "median", "distinct", "top item")
        for name in profile.columnNames {
            let c = profile.columns[name]!
            let numeric = c.numeric
            let n = numeric.map { Double($0.moments.count) } ?? 0
            let stddev: Double? = numeric.map { _ in n <= 1 ? 0 : (numeric!.moments.m2 / (n - 1)).squareRoot() }
            let quantiles: [Double]? = numeric.flatMap { numeric -> [Double]? in
                guard !numeric.kll.isEmpty else { return nil }
                switch format {
                case .whylogs:
                    return WhylogsCodec.whylogsQuantiles(of: numeric.kll, ranks: ranks).map { values in
                        zip(ranks, values).map { rank, value in
                            rank == 0 ? numeric.kll.min! : rank == 1 ? numeric.kll.max! : value
                        }
                    }
                case .native:
                    return numeric.kll.quantiles(ranks: ranks)
                }
            }
            let items = c.frequentItems.map { SketchSummary.sortedRows($0.frequentItems(errorType: .noFalsePositives)) }
            var entry: [(String, JSONValue)] = [
                ("count", .int(c.count)),
                ("null_count", .int(c.nullCount)),
                ("nan_count", .int(c.nanCount)),
                ("inf_count", .int(c.infCount)),
                (
                    "types",
                    .object([
                        ("integral", .int(c.types.integral)), ("fractional", .int(c.types.fractional)),
                        ("boolean", .int(c.types.boolean)), ("string", .int(c.types.string)),
                        ("object", .int(c.types.other)),
                    ])
                ),
                ("min", .number(numeric.map(\.min))),
                ("max", .number(numeric.map(\.max))),
                ("mean", .number(numeric.map(\.moments.mean))),
                ("stddev", .number(stddev)),
                (
                    "quantiles",
                    quantiles.map { values in
                        .object(zip(ranks, values).map { (SketchSummary.rankKey($0), JSONValue.double($1)) })
                    } ?? .null
                ),
                (
                    "cardinality",
                    .object([
                        ("estimate", .double(c.cardinality.estimate)),
                        ("lower_bound", .double(c.cardinality.lowerBound(standardDeviations: 1))),
                        ("upper_bound", .double(c.cardinality.upperBound(standardDeviations: 1))),
                    ])
                ),
                ("frequent_items", items.map { .array($0.map(SketchSummary.rowJSON)) } ?? .array([])),
            ]
            if let lengths = c.stringLengths {
                entry.append(
                    (
                        "string_length",
                        .object([
                            ("min", .int(lengths.min)), ("max", .int(lengths.max)),
                            ("mean", .double(lengths.moments.mean)),
                        ])
                    ))
            }
            columns.append((name, .object(entry)))
            let types = [
                ("int", c.types.integral), ("frac", c.types.fractional), ("bool", c.types.boolean),
                ("str", c.types.string), ("other", c.types.other),
            ]
            .filter { $0.1 > 0 }.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
            table.append(
                name, "\(c.count)", "\(c.nullCount)", types.isEmpty ? "-" : types,
                numeric.map { Self.short($0.moments.mean) } ?? "-", stddev.map(Self.short) ?? "-",
                quantiles.map { Self.short($0[5]) } ?? "-", String(Int64(c.cardinality.estimate.rounded())),
                items?.first.map { "\($0.item) (\($0.estimate))" } ?? "-")
        }
        var top: [(String, JSONValue)] = [
            ("format", .string(format.rawValue)),
            ("model", .string(profile.model)),
            ("model_version", profile.modelVersion.map(JSONValue.string) ?? .null),
            ("segment", .object(profile.segment.tags.map { ($0.key, JSONValue.string($0.value)) })),
            (
                "window_start",
                profile.windowStart != 0 || profile.windowLength > 0
                    ? .string(ISOTime.format(milliseconds: profile.windowStart)) : .null
            ),
            ("window_seconds", .double(Double(profile.windowLength) / 1000)),
            ("upload_id", .string(profile.uploadID.description)),
            ("created_at", profile.createdAt > 0 ? .string(ISOTime.format(milliseconds: profile.createdAt)) : .null),
            ("row_count", .int(profile.rowCount)),
            ("columns", .object(columns)),
        ]
        var header: [(String, String)] = [
            ("model", profile.model + (profile.modelVersion.map { " (version \($0))" } ?? "")),
            ("format", format.rawValue),
            ("segment", profile.segment.description),
            (
                "window",
                profile.windowLength > 0
                    ? "\(ISOTime.format(milliseconds: profile.windowStart)) + \(profile.windowLength / 1000) s"
                    : (profile.windowStart != 0 ? ISOTime.format(milliseconds: profile.windowStart) : "-")
            ),
            ("rows", "\(profile.rowCount)"),
            ("upload id", profile.uploadID.description),
        ]
        if let performance = profile.performance {
            let (json, line) = Self.performance(performance)
            top.append(("performance", json))
            header.append(("performance", line))
        }
        if let latency = profile.latency {
            let (json, line) = Self.latency(latency)
            top.append(("latency", json))
            header.append(("latency", line))
        }
        json = .object(top)
        text = keyValueLines(header) + "\n\n" + (columns.isEmpty ? "no columns" : table.rendered())
    }

    public static func short(_ x: Double) -> String {
        guard x.isFinite else { return "\(x)" }
        if x != 0 && (abs(x) >= 1e7 || abs(x) < 1e-3) { return String(format: "%.3e", x) }
        let rounded = (x * 1000).rounded() / 1000
        return rounded == rounded.rounded() ? String(Int64(rounded)) : "\(rounded)"
    }

    public static func performance(_ p: PerformanceProfile) -> (JSONValue, String) {
        switch p {
        case .classification(let c):
            let total = Double(c.matrixTotal)
            let correct = c.labels.indices.reduce(Int64(0)) { $0 + c.matrix[$1][$1] }
            let accuracy: Double? = total > 0 ? Double(correct) / total : nil
            var perClass: [(String, JSONValue)] = []
            for (i, label) in c.labels.enumerated() {
                let predicted = c.matrix[i].reduce(0, +)
                let actual = c.labels.indices.reduce(Int64(0)) { $0 + c.matrix[$1][i] }
                let tp = Double(c.matrix[i][i])
                perClass.append(
                    (
                        label,
                        .object([
                            ("precision", .number(predicted > 0 ? tp / Double(predicted) : nil)),
                            ("recall", .number(actual > 0 ? tp / Double(actual) : nil)),
                            ("support", .int(actual)),
                        ])
                    ))
            }
            let matrix = JSONValue.object(
                c.labels.enumerated().map { i, label in
                    (
                        label,
                        JSONValue.object(
                            c.labels.enumerated().map { j, other in (other, JSONValue.int(c.matrix[i][j])) })
                    )
                })
            let logLoss: Double? = c.logLossCount > 0 ? c.logLossSum / Double(c.logLossCount) : nil
            let json = JSONValue.object([
                ("task", .string("classification")),
                ("count", .int(c.count)),
                ("labels", .array(c.labels.map(JSONValue.string))),
                ("confusion_matrix", matrix),
                ("accuracy", .number(accuracy)),
                ("per_class", .object(perClass)),
                ("log_loss", .number(logLoss)),
                ("overflow", .int(c.overflowCount)),
            ])
            return (json, "classification, \(c.count) labelled rows, accuracy \(accuracy.map(short) ?? "-")")
        case .regression(let r):
            let n = Double(r.count)
            let mae: Double? = n > 0 ? r.sumAbsoluteError / n : nil
            let rmse: Double? = n > 0 ? (r.sumSquaredError / n).squareRoot() : nil
            let bias: Double? = n > 0 ? r.sumError / n : nil
            let r2: Double? = r.target.count > 1 && r.target.m2 > 0 ? 1 - r.sumSquaredError / r.target.m2 : nil
            let json = JSONValue.object([
                ("task", .string("regression")),
                ("count", .int(r.count)),
                ("mae", .number(mae)),
                ("rmse", .number(rmse)),
                ("mean_error", .number(bias)),
                ("r2", .number(r2)),
            ])
            return (
                json,
                "regression, \(r.count) labelled rows, MAE \(mae.map(short) ?? "-"), RMSE \(rmse.map(short) ?? "-")"
            )
        }
    }

    public static func latency(_ l: LatencyProfile) -> (JSONValue, String) {
        let q = l.milliseconds.quantiles(ranks: [0.5, 0.9, 0.95, 0.99])
        let errorRate: Double? = l.requestCount > 0 ? Double(l.errorCount) / Double(l.requestCount) : nil
        let json = JSONValue.object([
            ("count", .int(l.requestCount)),
            ("errors", .int(l.errorCount)),
            ("error_rate", .number(errorRate)),
            ("p50_ms", .number(q?[0])),
            ("p90_ms", .number(q?[1])),
            ("p95_ms", .number(q?[2])),
            ("p99_ms", .number(q?[3])),
            ("max_ms", .number(l.milliseconds.max)),
        ])
        return (
            json,
            "\(l.requestCount) requests, p50 \(q.map { short($0[0]) } ?? "-") ms, p99 \(q.map { short($0[3]) } ?? "-") ms"
        )
    }
}
