import Foundation
import Profiles
import Testing

@testable import Drift

/// A bridge for scripts/crosscheck/drift_exactness.py until `drift diff` exists.
///
/// With `DRIFT_DIFF_BRIDGE="REF.csv|TARGET.csv|OUT.json[;REF|TARGET|OUT...]"` it profiles each
/// CSV (every cell typed by `Value.inferred(from:)`, the default profile configuration), runs
/// `DriftReport.compare` and writes the JSON `drift diff --json` is to print (keys in
/// ``json(_:)``). `DRIFT_DIFF_PERFORMANCE="classification,TARGET,PREDICTION,SCORE"` or
/// `"regression,TARGET,PREDICTION"` adds the performance block (the score is the positive
/// class's probability; log loss uses it). `DRIFT_DIFF_KLL_K=K` profiles with KLL k = K instead
/// of 200. Without the variable it runs the same path on a
/// small in-memory CSV and checks the JSON shape.
@Suite("drift diff bridge")
struct DriftDiffBridge {
    @Test func bridge() throws {
        let environment = ProcessInfo.processInfo.environment
        let performance = environment["DRIFT_DIFF_PERFORMANCE"].map { $0.split(separator: ",").map(String.init) }
        if let spec = environment["DRIFT_DIFF_BRIDGE"] {
            for job in spec.split(separator: ";") {
                let paths = job.split(separator: "|").map(String.init)
                try #require(paths.count == 3, "DRIFT_DIFF_BRIDGE=REF.csv|TARGET.csv|OUT.json[;...]")
                let reference = try Self.profile(csv: String(contentsOfFile: paths[0], encoding: .utf8), performance)
                let target = try Self.profile(csv: String(contentsOfFile: paths[1], encoding: .utf8), performance)
                let report = DriftReport.compare(reference: reference, target: target)
                let data = try JSONSerialization.data(withJSONObject: Self.json(report), options: [.sortedKeys])
                try data.write(to: URL(fileURLWithPath: paths[2]))
            }
        } else {
            let header = "x,c,y,p\n"
            let a =
                header
                + (0..<300).map { "\(Double($0 % 17)),\($0 % 3 == 0 ? "u" : "v"),\($0 % 2),0.\($0 % 10)" }.joined(
                    separator: "\n")
            let b =
                header
                + (0..<200).map { "\(Double($0 % 13) + 0.5),\($0 % 2 == 0 ? "u" : "w"),\($0 % 2),0.\($0 % 7)" }.joined(
                    separator: "\n")
            let spec = ["classification", "y", "y", "p"]
            let report = DriftReport.compare(
                reference: try Self.profile(csv: a, spec), target: try Self.profile(csv: b, spec))
            let data = try JSONSerialization.data(withJSONObject: Self.json(report), options: [.sortedKeys])
            let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            let columns = try #require(object["columns"] as? [String: [String: Any]])
            #expect(Set(columns.keys) == ["x", "c", "y", "p"])
            #expect(columns["x"]?["type"] as? String == "numeric" && columns["c"]?["type"] as? String == "categorical")
            let metrics = try #require(columns["c"]?["metrics"] as? [String: [String: Any]])
            #expect(metrics["chi2"]?["p_value"] != nil && metrics["chi2"]?["bound"] as? Double == 0)
            let dataset = try #require(object["dataset_drift"] as? [String: Any])
            #expect(dataset["drifted_columns"] is Int && dataset["share"] is Double && dataset["drift"] is Bool)
            #expect((object["reference"] as? [String: Any])?["rows"] as? Int == 300)
            #expect((object["performance"] as? [String: Any])?["task"] as? String == "classification")
        }
    }

    /// Profiles a header + rows CSV without quoting (the test datasets have none).
    static func profile(csv: String, _ performance: [String]?) throws -> DatasetProfile {
        var lines = csv.split(separator: "\n", omittingEmptySubsequences: true)
        let header = lines.removeFirst().split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let config =
            try ProcessInfo.processInfo.environment["DRIFT_DIFF_KLL_K"].flatMap(Int.init).map {
                try ProfileConfig(kllK: $0)
            } ?? ProfileConfig.default
        var columns = header.map { _ in ColumnProfile(config: config) }
        var classification: ClassificationProfile?
        var regression: RegressionProfile?
        var indices: [Int] = []
        if let performance {
            indices = try performance.dropFirst().map { name in
                try #require(header.firstIndex(of: name), "performance column \(name) not in the CSV")
            }
            if performance.first == "classification" { classification = ClassificationProfile() }
            if performance.first == "regression" { regression = RegressionProfile() }
        }
        for line in lines {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
            for (i, cell) in cells.enumerated() where i < columns.count {
                columns[i].update(Value.inferred(from: cell))
            }
            if classification != nil {
                let actual = String(cells[indices[0]])
                let predicted = String(cells[indices[1]])
                let score = indices.count > 2 ? Double(cells[indices[2]]) : nil
                // the score is P(positive): log loss needs P(actual); "1"/"true" are positive
                let positive = actual == "1" || actual.lowercased() == "true"
                classification?.update(
                    predicted: predicted, actual: actual, score: score,
                    probabilityOfActual: score.map { positive ? $0 : 1 - $0 })
            }
            if regression != nil, let actual = Double(cells[indices[0]]), let predicted = Double(cells[indices[1]]) {
                regression?.update(predicted: predicted, actual: actual)
            }
        }
        var profile = DatasetProfile(model: "crosscheck", config: config)
        for (name, column) in zip(header, columns) { profile.columns[name] = column }
        if let classification { profile.performance = .classification(classification) }
        if let regression { profile.performance = .regression(regression) }
        return profile
    }

    /// The JSON of a report, with the keys `drift diff --json` uses (issue 4): `reference`,
    /// `target`, `dataset_drift`, `columns` → {type, method, drift, status, metrics → {value,
    /// bound?, p_value?, dof?}, quality}, plus `ranking`, `schema`, `performance`, `latency`.
    /// Non-finite numbers become null.
    static func json(_ report: DriftReport) -> [String: Any] {
        func number(_ x: Double?) -> Any { x.map { $0.isFinite ? $0 as Any : NSNull() } ?? NSNull() }
        func metric(_ m: MetricValue) -> [String: Any] {
            var object: [String: Any] = ["value": number(m.value)]
            if let bound = m.bound { object["bound"] = number(bound) }
            if let p = m.pValue { object["p_value"] = number(p) }
            if let dof = m.degreesOfFreedom { object["dof"] = dof }
            return object
        }
        func side(_ s: ProfileSummary) -> [String: Any] {
            [
                "rows": s.rowCount, "model": s.model, "segment": s.segment, "window_start": s.windowStart,
                "window_length": s.windowLength,
            ]
        }
        func changes(_ list: [MetricChange]) -> [String: Any] {
            Dictionary(
                uniqueKeysWithValues: list.map {
                    (
                        $0.name,
                        ["reference": number($0.reference), "target": number($0.target), "change": number($0.change)]
                    )
                })
        }
        var columns: [String: Any] = [:]
        for column in report.columns {
            var quality: [String: Any] = [:]
            let q = column.quality
            quality["null_ratio"] = [
                "reference": number(q.reference?.nullRatio), "target": number(q.target?.nullRatio),
                "change": number(q.nullRatioChange),
            ]
            quality["nan_ratio"] = ["reference": number(q.reference?.nanRatio), "target": number(q.target?.nanRatio)]
            quality["inf_ratio"] = ["reference": number(q.reference?.infRatio), "target": number(q.target?.infRatio)]
            quality["type_mix_change"] = number(q.typeMixChange)
            quality["new_types"] = q.newTypes.map(\.rawValue)
            if let outOfRange = q.outOfRange { quality["out_of_range"] = metric(outOfRange) }
            quality["new_categories"] = q.newCategories
            quality["missing_categories"] = q.missingCategories
            quality["cardinality"] = [
                "reference": number(q.reference?.cardinality?.estimate),
                "target": number(q.target?.cardinality?.estimate),
                "ratio": number(q.cardinalityRatio),
            ]
            var entry: [String: Any] = [
                "type": column.kind?.rawValue ?? NSNull(), "method": column.method?.rawValue ?? NSNull(),
                "drift": column.drift, "status": column.status.rawValue,
                "metrics": Dictionary(uniqueKeysWithValues: column.metrics.map { ($0.key.rawValue, metric($0.value)) }),
                "quality": quality,
            ]
            if let note = column.note { entry["note"] = note }
            if let effect = column.effectSize { entry["effect_size"] = number(effect) }
            if let bins = column.bins {
                entry["bins"] = [
                    "cuts": bins.cuts.map { number($0) }, "reference": bins.reference, "target": bins.target,
                ]
            }
            columns[column.name] = entry
        }
        var object: [String: Any] = [
            "reference": side(report.reference), "target": side(report.target),
            "dataset_drift": [
                "drifted_columns": report.datasetDrift.driftedColumns,
                "evaluated_columns": report.datasetDrift.evaluatedColumns, "share": report.datasetDrift.share,
                "threshold": report.datasetDrift.threshold, "drift": report.datasetDrift.drift,
            ],
            "columns": columns, "ranking": report.ranking,
            "schema": [
                "added": report.schema.addedColumns, "missing": report.schema.missingColumns,
                "type_changes": report.schema.typeChanges.map {
                    ["column": $0.column, "reference": $0.reference.rawValue, "target": $0.target.rawValue]
                },
            ],
        ]
        if let performance = report.performance {
            var block: [String: Any] = ["task": performance.task, "metrics": changes(performance.changes)]
            if let auc = performance.targetClassification?.rocAUC { block["roc_auc_target"] = metric(auc) }
            if let auc = performance.referenceClassification?.rocAUC { block["roc_auc_reference"] = metric(auc) }
            object["performance"] = block
        }
        if let latency = report.latency { object["latency"] = changes(latency.changes) }
        return object
    }
}
