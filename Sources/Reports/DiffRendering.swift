public import Drift
import Profiles

/// JSON, Markdown and text renderings of a ``DriftReport`` (the JSON is also what the server's
/// drift endpoint returns).
public enum DiffRendering {
    public static func json(_ report: DriftReport) -> JSONValue {
        func metric(_ m: MetricValue) -> JSONValue {
            var members: [(String, JSONValue)] = [("value", .number(m.value))]
            if let bound = m.bound { members.append(("bound", .number(bound))) }
            if let p = m.pValue { members.append(("p_value", .number(p))) }
            if let dof = m.degreesOfFreedom { members.append(("dof", .int(Int64(dof)))) }
            return .object(members)
        }
        func side(_ s: ProfileSummary) -> JSONValue {
            .object([
                ("rows", .int(s.rowCount)), ("model", .string(s.model)), ("segment", .string(s.segment)),
                (
                    "window_start",
                    s.windowStart != 0 || s.windowLength > 0
                        ? .string(ISOTime.format(milliseconds: s.windowStart)) : .null
                ),
                ("window_seconds", .double(Double(s.windowLength) / 1000)),
            ])
        }
        func changes(_ list: [MetricChange]) -> JSONValue {
            .object(
                list.map { change in
                    (
                        change.name,
                        .object([
                            ("reference", .number(change.reference)), ("target", .number(change.target)),
                            ("change", .number(change.change)),
                        ])
                    )
                })
        }
        var columns: [(String, JSONValue)] = []
        for column in report.columns {
            let q = column.quality
            var quality: [(String, JSONValue)] = [
                (
                    "null_ratio",
                    .object([
                        ("reference", .number(q.reference?.nullRatio)), ("target", .number(q.target?.nullRatio)),
                        ("change", .number(q.nullRatioChange)),
                    ])
                ),
                (
                    "nan_ratio",
                    .object([("reference", .number(q.reference?.nanRatio)), ("target", .number(q.target?.nanRatio))])
                ),
                (
                    "inf_ratio",
                    .object([("reference", .number(q.reference?.infRatio)), ("target", .number(q.target?.infRatio))])
                ),
                ("type_mix_change", .number(q.typeMixChange)),
                ("new_types", .array(q.newTypes.map { .string($0.rawValue) })),
                ("new_categories", .array(q.newCategories.map(JSONValue.string))),
                ("missing_categories", .array(q.missingCategories.map(JSONValue.string))),
                (
                    "cardinality",
                    .object([
                        ("reference", .number(q.reference?.cardinality?.estimate)),
                        ("target", .number(q.target?.cardinality?.estimate)), ("ratio", .number(q.cardinalityRatio)),
                    ])
                ),
            ]
            if let outOfRange = q.outOfRange { quality.append(("out_of_range", metric(outOfRange))) }
            var entry: [(String, JSONValue)] = [
                ("type", column.kind.map { .string($0.rawValue) } ?? .null),
                ("method", column.method.map { .string($0.rawValue) } ?? .null),
                ("drift", .bool(column.drift)),
                ("status", .string(column.status.rawValue)),
                (
                    "metrics",
                    .object(
                        column.metrics.sorted { $0.key.rawValue < $1.key.rawValue }.map {
                            ($0.key.rawValue, metric($0.value))
                        })
                ),
                ("quality", .object(quality)),
            ]
            if let effect = column.effectSize { entry.append(("effect_size", .number(effect))) }
            if let note = column.note { entry.append(("note", .string(note))) }
            if let bins = column.bins {
                entry.append(
                    (
                        "bins",
                        .object([
                            ("cuts", .array(bins.cuts.map { JSONValue.number($0) })),
                            ("reference", .array(bins.reference.map { JSONValue.number($0) })),
                            ("target", .array(bins.target.map { JSONValue.number($0) })),
                            ("reference_error", .array(bins.referenceError.map { JSONValue.number($0) })),
                            ("target_error", .array(bins.targetError.map { JSONValue.number($0) })),
                            (
                                "rank_error",
                                .object([
                                    ("reference", .number(bins.referenceRankError)),
                                    ("target", .number(bins.targetRankError)),
                                ])
                            ),
                        ])
                    ))
            }
            columns.append((column.name, .object(entry)))
        }
        var top: [(String, JSONValue)] = [
            ("reference", side(report.reference)),
            ("target", side(report.target)),
            (
                "dataset_drift",
                .object([
                    ("drifted_columns", .int(Int64(report.datasetDrift.driftedColumns))),
                    ("evaluated_columns", .int(Int64(report.datasetDrift.evaluatedColumns))),
                    ("share", .number(report.datasetDrift.share)),
                    ("threshold", .number(report.datasetDrift.threshold)),
                    ("drift", .bool(report.datasetDrift.drift)),
                ])
            ),
            ("columns", .object(columns)),
            ("ranking", .array(report.ranking.map(JSONValue.string))),
            (
                "schema",
                .object([
                    ("added", .array(report.schema.addedColumns.map(JSONValue.string))),
                    ("missing", .array(report.schema.missingColumns.map(JSONValue.string))),
                    (
                        "type_changes",
                        .array(
                            report.schema.typeChanges.map {
                                .object([
                                    ("column", .string($0.column)), ("reference", .string($0.reference.rawValue)),
                                    ("target", .string($0.target.rawValue)),
                                ])
                            })
                    ),
                ])
            ),
        ]
        if let performance = report.performance {
            var block: [(String, JSONValue)] = [
                ("task", .string(performance.task)), ("metrics", changes(performance.changes)),
            ]
            if let auc = performance.targetClassification?.rocAUC { block.append(("roc_auc_target", metric(auc))) }
            if let auc = performance.referenceClassification?.rocAUC {
                block.append(("roc_auc_reference", metric(auc)))
            }
            top.append(("performance", .object(block)))
        }
        if let latency = report.latency { top.append(("latency", changes(latency.changes))) }
        return .object(top)
    }

    public static func mainMetric(_ column: ColumnDrift) -> String {
        guard let method = column.method, let m = column.metrics[method] else { return "-" }
        var text = "\(method.rawValue) \(ProfileInspection.short(m.value))"
        if let p = m.pValue { text += " (p \(ProfileInspection.short(p)))" }
        return text
    }

    public static func markdown(_ report: DriftReport) -> String {
        let d = report.datasetDrift
        var lines = [
            "# Drift report: \(report.target.model)",
            "",
            "Dataset drift: **\(d.drift ? "yes" : "no")** — \(d.driftedColumns) of \(d.evaluatedColumns) columns drifted (threshold share \(ProfileInspection.short(d.threshold))).",
            "Reference rows: \(report.reference.rowCount); target rows: \(report.target.rowCount).",
            "",
            "| column | type | status | method | value | effect size | null ratio (ref → target) |",
            "|---|---|---|---|---|---|---|",
        ]
        let byName = Dictionary(uniqueKeysWithValues: report.columns.map { ($0.name, $0) })
        for name in report.ranking {
            guard let c = byName[name] else { continue }
            let nulls =
                "\(c.quality.reference?.nullRatio.map(ProfileInspection.short) ?? "-") → \(c.quality.target?.nullRatio.map(ProfileInspection.short) ?? "-")"
            lines.append(
                "| \(name) | \(c.kind?.rawValue ?? "-") | \(c.status.rawValue) | \(c.method?.rawValue ?? "-") | "
                    + "\(mainMetric(c).split(separator: " ").dropFirst().joined(separator: " ")) | "
                    + "\(c.effectSize.map(ProfileInspection.short) ?? "-") | \(nulls) |")
        }
        if let performance = report.performance {
            lines += [
                "", "## Performance (\(performance.task))", "", "| metric | reference | target | change |",
                "|---|---|---|---|",
            ]
            for change in performance.changes {
                lines.append(
                    "| \(change.name) | \(change.reference.map(ProfileInspection.short) ?? "-") | \(change.target.map(ProfileInspection.short) ?? "-") | \(change.change.map(ProfileInspection.short) ?? "-") |"
                )
            }
        }
        return lines.joined(separator: "\n")
    }

    public static func text(_ report: DriftReport) -> String {
        let d = report.datasetDrift
        var table = TextTable("column", "type", "status", "metric", "effect size")
        let byName = Dictionary(uniqueKeysWithValues: report.columns.map { ($0.name, $0) })
        for name in report.ranking {
            guard let c = byName[name] else { continue }
            table.append(
                name, c.kind?.rawValue ?? "-", c.status.rawValue, mainMetric(c),
                c.effectSize.map(ProfileInspection.short) ?? "-")
        }
        var out =
            keyValueLines([
                ("dataset drift", "\(d.drift ? "YES" : "no"): \(d.driftedColumns) of \(d.evaluatedColumns) columns"),
                ("rows", "\(report.reference.rowCount) → \(report.target.rowCount)"),
            ]) + "\n\n" + table.rendered()
        if let performance = report.performance {
            var perf = TextTable("metric", "reference", "target", "change")
            for change in performance.changes {
                perf.append(
                    change.name, change.reference.map(ProfileInspection.short) ?? "-",
                    change.target.map(ProfileInspection.short) ?? "-", change.change.map(ProfileInspection.short) ?? "-"
                )
            }
            out += "\n\nperformance (\(performance.task))\n" + perf.rendered()
        }
        return out
    }
}
