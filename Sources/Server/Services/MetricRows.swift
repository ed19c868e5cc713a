import Drift
import Storage

/// How a ``DriftReport`` becomes metric rows (the `metrics` table, which alerts, reports and
/// dashboards read). docs/operations.md ("Metric rows") lists the names.
///
/// Rows that describe the window alone (null ratios, row count, performance, latency) carry
/// the baseline `''`; rows that compare with a baseline (drift statistics, changes) carry its
/// name. Dataset-level rows have the column `''`.
enum MetricRows {
    /// The window's own values (the target side of `report`).
    static func absolute(_ report: DriftReport, window: RollupWindow) -> [MetricRecord] {
        var rows: [MetricRecord] = []
        func add(_ column: String, _ metric: String, _ value: Double?, bound: Double? = nil) {
            guard let value, value.isFinite else { return }
            rows.append(
                MetricRecord(
                    window: window, column: column, metric: metric, baseline: "", value: value, bound: bound,
                    pValue: nil))
        }
        add("", "row_count", Double(report.target.rowCount))
        for column in report.columns {
            guard let t = column.quality.target else { continue }
            add(column.name, "count", Double(t.count))
            add(column.name, "null_ratio", t.nullRatio)
            add(column.name, "nan_ratio", t.nanRatio)
            add(column.name, "inf_ratio", t.infRatio)
            if let c = t.cardinality {
                add(
                    column.name, "cardinality", c.estimate,
                    bound: Swift.max(c.upperBound - c.estimate, c.estimate - c.lowerBound))
            }
            add(column.name, "mean", t.mean)
            add(column.name, "stddev", t.standardDeviation)
            add(column.name, "min", t.minimum)
            add(column.name, "max", t.maximum)
        }
        for change in report.performance?.changes ?? [] { add("", change.name, change.target) }
        for change in report.latency?.changes ?? [] { add("", "latency_" + change.name, change.target) }
        return rows
    }

    /// The comparison with `baseline`.
    static func relative(_ report: DriftReport, window: RollupWindow, baseline: String) -> [MetricRecord] {
        var rows: [MetricRecord] = []
        func add(_ column: String, _ metric: String, _ value: Double?, bound: Double? = nil, p: Double? = nil) {
            guard let value, value.isFinite else { return }
            rows.append(
                MetricRecord(
                    window: window, column: column, metric: metric, baseline: baseline, value: value,
                    bound: bound.flatMap { $0.isFinite ? $0 : nil }, pValue: p.flatMap { $0.isFinite ? $0 : nil }))
        }
        let d = report.datasetDrift
        add("", "dataset_drift", d.drift ? 1 : 0)
        add("", "drift_share", d.share)
        add("", "drifted_columns", Double(d.driftedColumns))
        add("", "row_count_change", report.rows.change)
        add("", "schema_added", Double(report.schema.addedColumns.count))
        add("", "schema_missing", Double(report.schema.missingColumns.count))
        add("", "schema_type_changes", Double(report.schema.typeChanges.count))
        for column in report.columns {
            for (method, value) in column.metrics {
                add(column.name, method.rawValue, value.value, bound: value.bound, p: value.pValue)
            }
            if column.status != .skipped {
                add(column.name, "drift_status", column.status == .drift ? 2 : column.status == .warning ? 1 : 0)
            }
            add(column.name, "effect_size", column.effectSize)
            let q = column.quality
            add(column.name, "null_ratio_change", q.nullRatioChange)
            add(column.name, "type_mix_change", q.typeMixChange)
            add(column.name, "cardinality_ratio", q.cardinalityRatio)
            if let o = q.outOfRange { add(column.name, "out_of_range", o.value, bound: o.bound) }
            if q.reference?.cardinality != nil || !q.newCategories.isEmpty {
                add(column.name, "new_categories", Double(q.newCategories.count))
                add(column.name, "missing_categories", Double(q.missingCategories.count))
            }
        }
        for change in report.performance?.changes ?? [] { add("", change.name + "_change", change.change) }
        for change in report.latency?.changes ?? [] { add("", "latency_" + change.name + "_change", change.change) }
        return rows
    }
}
