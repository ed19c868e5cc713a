public import Profiles

/// What a report says about one side of the comparison.
public struct ProfileSummary: Sendable, Hashable {
    public var model: String
    /// `key=value,...` or `*`.
    public var segment: String
    /// Window start (ms since the epoch) and length (ms; 0 for a profile without a window).
    public var windowStart: Int64
    public var windowLength: Int64
    public var rowCount: Int64

    public init(_ profile: DatasetProfile) {
        model = profile.model
        segment = profile.segment.description
        windowStart = profile.windowStart
        windowLength = profile.windowLength
        rowCount = profile.rowCount
    }
}

/// The dataset-level verdict: the share of compared columns that drift.
public struct DatasetDrift: Sendable, Hashable {
    /// Columns with a verdict (present on both sides with data).
    public var evaluatedColumns: Int
    public var driftedColumns: Int
    /// driftedColumns / evaluatedColumns; 0 when nothing was evaluated.
    public var share: Double
    /// The share at which the dataset drifts (``DriftOptions/datasetDriftShare``).
    public var threshold: Double
    public var drift: Bool
}

/// One column's comparison: its statistics, the verdict of the statistic that decides it, and
/// its data-quality changes.
public struct ColumnDrift: Sendable, Hashable {
    public var name: String
    /// nil when neither side has typed values.
    public var kind: ColumnKind?
    /// The statistic that decided ``status``; nil when skipped.
    public var method: DriftMethod?
    public var status: DriftStatus
    /// Every statistic computed for the column's kind (empty when skipped).
    public var metrics: [DriftMethod: MetricValue]
    /// The Jensen–Shannon distance (base 2) of the column's bins or categories: an effect size
    /// on the same [0, 1] scale for every column and kind, used for ranking.
    public var effectSize: Double?
    public var quality: ColumnQuality
    /// The bins the binned numeric statistics used (cut points and both sides' masses), for
    /// histograms and for recomputing the statistics exactly on the same bins.
    public var bins: NumericBins?
    /// The categories the categorical statistics used, with both sides' counts.
    public var categories: CategoricalTable?
    /// Why the column was skipped, or why the requested method was not used.
    public var note: String?

    public var drift: Bool { status == .drift }
}

/// Drift, data quality, performance and latency between a reference (baseline) profile and a
/// target profile. Pure: no I/O, deterministic for given inputs.
public struct DriftReport: Sendable, Hashable {
    public var reference: ProfileSummary
    public var target: ProfileSummary
    public var datasetDrift: DatasetDrift
    /// Every compared column, sorted by name.
    public var columns: [ColumnDrift]
    /// Evaluated columns, drifted first, then warnings, then the rest, each group by effect
    /// size (largest first), then by name.
    public var ranking: [String]
    public var schema: SchemaChange
    /// Row counts of both sides and the change.
    public var rows: MetricChange
    public var performance: PerformanceComparison?
    public var latency: LatencyComparison?

    /// The column named `name`.
    public subscript(column name: String) -> ColumnDrift? {
        columns.first { $0.name == name }
    }

    /// Compares `target` with `reference`.
    ///
    /// Per column the statistics of its kind are computed (numeric from the KLL sketches,
    /// categorical from the frequent-items sketches; see docs/statistics.md), and one of them
    /// decides the verdict: the column's entry in `options.methods`, else the default for its
    /// kind — KS (numeric) or chi-square (categorical) at p < 0.05 when the reference has at
    /// most `options.smallSampleLimit` values, otherwise normalized Wasserstein (numeric),
    /// or Jensen–Shannon (categorical, and numeric with at most `lowCardinalityLimit`
    /// distinct values).
    ///
    /// - Precondition: `options` passes ``DriftOptions/validate()``.
    /// - Complexity: O(r log r) per numeric column for r retained sketch items, O(m) per
    ///   categorical column for m tracked items.
    public static func compare(
        reference: DatasetProfile, target: DatasetProfile, options: DriftOptions = DriftOptions()
    ) -> DriftReport {
        let names: [String]
        if let selected = options.columns {
            names = Array(Set(selected)).sorted()
        } else {
            names = Set(reference.columns.keys).union(target.columns.keys).sorted()
        }
        let columns = names.map { name in
            evaluate(name: name, reference: reference.columns[name], target: target.columns[name], options: options)
        }
        // (status, effect size, name) keys rather than the column values: sorting those copies
        // large structs
        var keys: [(status: DriftStatus, effect: Double, name: String)] = []
        keys.reserveCapacity(columns.count)
        for column in columns where column.status != .skipped {
            keys.append((column.status, column.effectSize ?? 0, column.name))
        }
        let drifted = keys.reduce(0) { $0 + ($1.status == .drift ? 1 : 0) }
        let share = keys.isEmpty ? 0 : Double(drifted) / Double(keys.count)
        let dataset = DatasetDrift(
            evaluatedColumns: keys.count, driftedColumns: drifted, share: share,
            threshold: options.datasetDriftShare, drift: !keys.isEmpty && share >= options.datasetDriftShare)
        let ranking = keys.sorted { a, b in
            if a.status != b.status { return a.status > b.status }
            if a.effect != b.effect { return a.effect > b.effect }
            return a.name < b.name
        }.map(\.name)
        return DriftReport(
            reference: ProfileSummary(reference), target: ProfileSummary(target), datasetDrift: dataset,
            columns: columns, ranking: ranking, schema: SchemaChange(reference: reference, target: target),
            rows: MetricChange(name: "rows", reference: Double(reference.rowCount), target: Double(target.rowCount)),
            performance: PerformanceComparison(
                reference: reference.performance, target: target.performance, positiveLabel: options.positiveLabel),
            latency: LatencyComparison(reference: reference.latency, target: target.latency))
    }

    /// The verdict of one statistic under `options`' thresholds; `.ok` when the method has no
    /// threshold in force.
    public static func status(of value: MetricValue, method: DriftMethod, options: DriftOptions) -> DriftStatus {
        guard let threshold = options.threshold(for: method) else { return .ok }
        let warning = options.warningThreshold(for: method)
        if method.decidesByPValue {
            let p = value.pValue ?? 1
            if p < threshold { return .drift }
            if let warning, p < warning { return .warning }
            return .ok
        }
        if value.value >= threshold { return .drift }
        if let warning, value.value >= warning { return .warning }
        return .ok
    }

    static func evaluate(
        name: String, reference: ColumnProfile?, target: ColumnProfile?, options: DriftOptions
    ) -> ColumnDrift {
        let standardDeviations = options.cardinalityStandardDeviations
        let referenceSummary = reference.map { ColumnSummary($0, cardinalityStandardDeviations: standardDeviations) }
        let targetSummary = target.map { ColumnSummary($0, cardinalityStandardDeviations: standardDeviations) }
        var quality = ColumnQuality(reference: referenceSummary, target: targetSummary)
        var column = ColumnDrift(
            name: name, kind: nil, method: nil, status: .skipped, metrics: [:], effectSize: nil, quality: quality,
            bins: nil, categories: nil, note: nil)
        let referenceKind = referenceSummary?.inferredType.kind
        column.kind = referenceKind ?? targetSummary?.inferredType.kind
        guard let reference, let target else {
            column.note =
                reference == nil && target == nil
                ? "not in either profile" : reference == nil ? "only in the target" : "only in the reference"
            return column
        }
        guard let kind = column.kind else {
            column.note = "no values on either side"
            return column
        }
        let referenceSize: UInt64
        switch kind {
        case .numeric:
            guard let referenceNumbers = reference.numeric, !referenceNumbers.kll.isEmpty else {
                column.note = "no numbers in the reference"
                return column
            }
            guard let targetNumbers = target.numeric, !targetNumbers.kll.isEmpty else {
                column.note = "no numbers in the target"
                return column
            }
            let referenceDistribution =
                SketchDistribution(exactIntegers: reference) ?? SketchDistribution(referenceNumbers.kll)
            let targetDistribution = SketchDistribution(exactIntegers: target) ?? SketchDistribution(targetNumbers.kll)
            let sigma = referenceNumbers.moments.populationVariance.map { Swift.max(0, $0).squareRoot() }
            let bins = NumericBins(
                reference: referenceDistribution, target: targetDistribution, count: options.binCount,
                binning: options.binning)
            column.metrics = NumericDrift.statistics(
                reference: referenceDistribution, target: targetDistribution, bins: bins,
                referenceStandardDeviation: sigma, options: options)
            column.bins = bins
            quality.outOfRange = ColumnQuality.outOfRangeShare(
                target: targetDistribution, minimum: referenceNumbers.min, maximum: referenceNumbers.max)
            referenceSize = referenceNumbers.kll.count
        case .categorical:
            guard let referenceItems = reference.frequentItems, referenceItems.totalWeight > 0 else {
                column.note = "no categories in the reference"
                return column
            }
            guard let targetItems = target.frequentItems, targetItems.totalWeight > 0 else {
                column.note = "no categories in the target"
                return column
            }
            let table = CategoricalTable(reference: referenceItems, target: targetItems)
            column.metrics = CategoricalDrift.statistics(table, options: options)
            column.categories = table
            quality.newCategories = table.newCategories
            quality.missingCategories = table.missingCategories
            referenceSize = referenceItems.totalWeight
        }
        column.quality = quality
        column.effectSize = column.metrics[.js]?.value

        var method = defaultMethod(
            kind: kind, referenceSize: referenceSize,
            distinct: Swift.max(
                referenceSummary?.cardinality?.estimate ?? 0, targetSummary?.cardinality?.estimate ?? 0),
            options: options)
        if let requested = options.methods[name] {
            if !requested.kinds.contains(kind) {
                column.note = "\(requested) does not apply to a \(kind) column; used \(method)"
            } else if options.threshold(for: requested) == nil {
                column.note = "\(requested) has no threshold configured; used \(method)"
            } else {
                method = requested
            }
        }
        column.method = method
        if let value = column.metrics[method] {
            column.status = status(of: value, method: method, options: options)
        }
        return column
    }

    /// The default deciding statistic (docs/statistics.md, "Verdicts").
    public static func defaultMethod(
        kind: ColumnKind, referenceSize: UInt64, distinct: Double, options: DriftOptions
    ) -> DriftMethod {
        let small = referenceSize <= options.smallSampleLimit
        switch kind {
        case .numeric:
            if small { return .ks }
            return distinct <= Double(options.lowCardinalityLimit) ? .js : .wassersteinNormed
        case .categorical:
            return small ? .chi2 : .js
        }
    }
}
