public import Sketches

/// Two frequent-items sketches laid side by side over the union of their tracked categories,
/// plus one "other" category for the mass no tracked category accounts for.
///
/// Counts are the sketches' estimates (a tracked item's counter plus the sketch's maximum
/// error; 0 for an item the sketch does not track). The "other" count of a side is its total
/// weight minus the sum of its estimates, or 0 when the estimates already add up to more. With
/// no purge on either side (every distinct value tracked) all counts are exact and there is no
/// "other" mass. Masses are counts divided by `max(total weight, Σ estimates)` so that they add
/// up to 1.
///
/// Errors (per category, in count units): a side's maximum error for every category (tracked
/// or not, the true count is within it of the estimate), and `tracked × maximum error` for
/// "other". These are guaranteed bounds of the sketch, not probabilistic ones.
public struct CategoricalTable: Sendable, Hashable {
    /// The categories, reference's tracked ones first (in the sketch's order), then those only
    /// the target tracks; "other" is not among them.
    public var categories: [String]
    /// Counts per category, followed by the "other" count when ``hasOther``.
    public var reference: [Double]
    public var target: [Double]
    /// Absolute count error per entry of ``reference`` / ``target``.
    public var referenceError: [Double]
    public var targetError: [Double]
    /// True when either side has mass beyond its tracked categories; the last entry of the
    /// count arrays is then that mass.
    public var hasOther: Bool
    /// Categories tracked in the target whose reference count is certainly 0 (the reference
    /// sketch never purged, so it would have tracked them), sorted.
    public var newCategories: [String]
    /// Categories tracked in the reference whose target count is certainly 0, sorted.
    public var missingCategories: [String]
    /// True when both sketches are exact (no purge): counts, chi-square and distances are the
    /// exact ones of the data.
    public var isExact: Bool

    public init(reference: FrequentStringsSketch, target: FrequentStringsSketch) {
        let referenceRows = reference.items
        let targetRows = target.items
        var index: [String: Int] = [:]
        index.reserveCapacity(referenceRows.count + targetRows.count)
        categories = []
        categories.reserveCapacity(referenceRows.count + targetRows.count)
        var referenceCounts: [Double] = []
        var targetCounts: [Double] = []
        for row in referenceRows {
            index[row.item] = categories.count
            categories.append(row.item)
            referenceCounts.append(Double(row.estimate))
            targetCounts.append(0)
        }
        for row in targetRows {
            if let i = index[row.item] {
                targetCounts[i] = Double(row.estimate)
            } else {
                index[row.item] = categories.count
                categories.append(row.item)
                referenceCounts.append(0)
                targetCounts.append(Double(row.estimate))
            }
        }
        let referenceOther = Swift.max(0, Double(reference.totalWeight) - referenceCounts.reduce(0, +))
        let targetOther = Swift.max(0, Double(target.totalWeight) - targetCounts.reduce(0, +))
        hasOther = referenceOther > 0 || targetOther > 0
        if hasOther {
            referenceCounts.append(referenceOther)
            targetCounts.append(targetOther)
        }
        referenceError = Self.errors(
            referenceCounts, sketch: reference, categories: categories.count, hasOther: hasOther)
        targetError = Self.errors(targetCounts, sketch: target, categories: categories.count, hasOther: hasOther)
        self.reference = referenceCounts
        self.target = targetCounts
        isExact = reference.maximumError == 0 && target.maximumError == 0
        newCategories =
            reference.maximumError == 0
            ? targetRows.filter { $0.lowerBound > 0 && reference.upperBound($0.item) == 0 }.map(\.item).sorted() : []
        missingCategories =
            target.maximumError == 0
            ? referenceRows.filter { $0.lowerBound > 0 && target.upperBound($0.item) == 0 }.map(\.item).sorted() : []
    }

    /// Count errors such that error / S bounds the mass error, S = Σ counts = max(N, Σ estimates)
    /// for total weight N and maximum error e: a category's estimate is within e of its true
    /// count, and S exceeds N by at most (tracked items)·e, so |est/S − true/N| ≤
    /// e/N + (est/S)·(S − N)/N. The "other" mass is off by at most e per category.
    static func errors(
        _ counts: [Double], sketch: FrequentStringsSketch, categories: Int, hasOther: Bool
    ) -> [Double] {
        let offset = Double(sketch.maximumError)
        guard offset > 0 else { return [Double](repeating: 0, count: counts.count) }
        let n = Double(sketch.totalWeight)
        let s = counts.reduce(0, +)
        var errors = counts.map { (s * offset + $0 * (s - n)) / n }
        if hasOther { errors[errors.count - 1] = s * Double(categories) * offset / n }
        return errors
    }

    /// A table from exact counts (for tests and for callers holding raw counts): categories in
    /// the given order, no "other", no error.
    public init(categories: [String], reference: [Double], target: [Double]) {
        precondition(categories.count == reference.count && reference.count == target.count, "ragged table")
        self.categories = categories
        self.reference = reference
        self.target = target
        referenceError = [Double](repeating: 0, count: reference.count)
        targetError = referenceError
        hasOther = false
        newCategories = zip(categories, zip(reference, target)).filter { $1.0 == 0 && $1.1 > 0 }.map(\.0).sorted()
        missingCategories = zip(categories, zip(reference, target)).filter { $1.0 > 0 && $1.1 == 0 }.map(\.0).sorted()
        isExact = true
    }

    public var referenceTotal: Double { reference.reduce(0, +) }
    public var targetTotal: Double { target.reduce(0, +) }
}

/// The categorical drift statistics over a ``CategoricalTable``.
public enum CategoricalDrift {
    /// chi2, psi, js, hellinger and linf. The distances have bounds from the table's count
    /// errors; chi-square has bound 0 when the table is exact, none otherwise.
    ///
    /// - Precondition: both sides have a positive total.
    public static func statistics(
        _ table: CategoricalTable, options: DriftOptions = DriftOptions()
    ) -> [DriftMethod: MetricValue] {
        let referenceTotal = table.referenceTotal
        let targetTotal = table.targetTotal
        precondition(referenceTotal > 0 && targetTotal > 0, "categorical drift needs data on both sides")
        var metrics: [DriftMethod: MetricValue] = [:]
        var chi2 = chiSquare(
            reference: table.reference, target: table.target,
            continuityCorrection: options.chiSquareContinuityCorrection)
        chi2.bound = table.isExact ? 0 : nil
        metrics[.chi2] = chi2
        let p = table.reference.map { $0 / referenceTotal }
        let q = table.target.map { $0 / targetTotal }
        let dp = table.referenceError.map { Swift.min(1, $0 / referenceTotal) }
        let dq = table.targetError.map { Swift.min(1, $0 / targetTotal) }
        for (method, value) in NumericDrift.binnedStatistics(p, q, dp, dq, epsilon: options.emptyBinEpsilon) {
            metrics[method] = value
        }
        return metrics
    }

    /// Pearson's chi-square test of homogeneity on the 2 × K table of counts (reference row,
    /// target row): χ² = Σ (O − E)²/E with E = row total × column total / grand total, over the
    /// categories with a non-zero column total; K − 1 degrees of freedom; p = P(χ²_{K−1} ≥ χ²).
    ///
    /// With one degree of freedom and `continuityCorrection`, Yates' correction moves each
    /// observed count towards its expectation by min(½, |O − E|) first, as
    /// `scipy.stats.chi2_contingency` does by default, so that the two agree exactly. A single
    /// category (or none) gives χ² = 0, 0 degrees of freedom and p = 1.
    public static func chiSquare(
        reference: [Double], target: [Double], continuityCorrection: Bool = true
    ) -> MetricValue {
        precondition(reference.count == target.count, "chi-square over different categories")
        var columns: [(Double, Double)] = []
        columns.reserveCapacity(reference.count)
        for i in reference.indices where reference[i] + target[i] > 0 {
            columns.append((reference[i], target[i]))
        }
        let referenceTotal = columns.reduce(0) { $0 + $1.0 }
        let targetTotal = columns.reduce(0) { $0 + $1.1 }
        let total = referenceTotal + targetTotal
        let dof = columns.count - 1
        guard dof > 0, referenceTotal > 0, targetTotal > 0 else {
            return MetricValue(value: 0, pValue: 1, degreesOfFreedom: Swift.max(0, dof))
        }
        let correct = continuityCorrection && dof == 1
        func contribution(_ observed: Double, _ rowTotal: Double, _ columnTotal: Double) -> Double {
            let expected = rowTotal * columnTotal / total
            var difference = observed - expected
            if correct {
                difference = difference < 0 ? Swift.min(0, difference + 0.5) : Swift.max(0, difference - 0.5)
            }
            return difference * difference / expected
        }
        var statistic = 0.0
        for (observedReference, observedTarget) in columns {
            let columnTotal = observedReference + observedTarget
            statistic += contribution(observedReference, referenceTotal, columnTotal)
            statistic += contribution(observedTarget, targetTotal, columnTotal)
        }
        let p = SpecialFunctions.chiSquareSurvival(statistic, degreesOfFreedom: dof)
        return MetricValue(value: statistic, pValue: p, degreesOfFreedom: dof)
    }
}
