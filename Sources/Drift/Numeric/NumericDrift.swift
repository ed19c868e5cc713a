/// How numeric values are cut into bins for PSI, Jensen–Shannon, Hellinger and L∞.
public enum Binning: String, Sendable, Hashable, CaseIterable {
    /// Cut at the reference's quantiles j/B (deciles for B = 10).
    case quantiles
    /// Cut the reference's exact [min, max] into B intervals of equal width.
    case equalWidth = "equal-width"
}

/// Numeric columns binned for the binned distances: cut points and each side's masses.
///
/// Bins are `(−∞, c₁], (c₁, c₂], …, (c_K, +∞)`: closed on the right, the outer ones open, so
/// every value — including target values beyond the reference's range — falls in one bin.
/// Duplicate cut points (ties in the reference, e.g. a column that is 0 for 70% of rows) are
/// collapsed, so there may be fewer bins than asked for.
public struct NumericBins: Sendable, Hashable {
    /// Strictly increasing cut points; `cuts.count + 1` bins.
    public var cuts: [Double]
    public var reference: [Double]
    public var target: [Double]
    /// Per-bin mass error of each side (the sketch's PMF error; 0 when exact).
    public var referenceError: [Double]
    public var targetError: [Double]
    /// Each side's single-rank error ε (``SketchDistribution/rankError``; 0 when exact): the
    /// cuts are the reference's quantiles within `referenceRankError` in rank.
    public var referenceRankError: Double
    public var targetRankError: Double

    /// Bins cut from `reference` and filled from both sides.
    ///
    /// - Precondition: both distributions are non-empty; `count ≥ 1`.
    public init(reference: SketchDistribution, target: SketchDistribution, count: Int, binning: Binning) {
        precondition(!reference.isEmpty && !target.isEmpty, "binning needs data on both sides")
        cuts = Self.cutPoints(reference: reference, count: count, binning: binning)
        self.reference = Self.masses(reference, cuts: cuts)
        self.target = Self.masses(target, cuts: cuts)
        referenceError = [Double](repeating: reference.massError, count: cuts.count + 1)
        targetError = [Double](repeating: target.massError, count: cuts.count + 1)
        referenceRankError = reference.rankError
        targetRankError = target.rankError
    }

    /// The `count − 1` inner cut points, duplicates removed: the quantiles
    /// `Q(j/count) = min{x : F(x) ≥ j/count}` of the reference (numpy's `inverted_cdf`), or
    /// `min + j·(max − min)/count` for equal widths.
    public static func cutPoints(reference: SketchDistribution, count: Int, binning: Binning) -> [Double] {
        precondition(count >= 1, "bin count must be positive")
        precondition(!reference.isEmpty, "cut points of an empty distribution")
        var cuts: [Double] = []
        cuts.reserveCapacity(count)
        for j in 1..<count {
            let cut: Double
            switch binning {
            case .quantiles:
                cut = reference.quantile(j, of: count)
            case .equalWidth:
                let width = (reference.maximum - reference.minimum) / Double(count)
                cut = reference.minimum + Double(j) * width
            }
            if let last = cuts.last, !(last < cut) { continue }
            cuts.append(cut)
        }
        if cuts.isEmpty {
            // one bin asked for, or a constant reference under equal widths: keep one cut at
            // the reference's top so that values above it still count as different
            cuts.append(reference.maximum)
        }
        return cuts
    }

    /// The mass of each bin `(−∞, c₁], …, (c_K, +∞)`: differences of the weight at or below
    /// each cut (``SketchDistribution/debiasedWeight(atOrBelow:)``, which corrects a compacted
    /// sketch's weight where a cut is one of its retained items), over the total.
    ///
    /// - Complexity: O(K log r) for K cuts and r retained items.
    public static func masses(_ distribution: SketchDistribution, cuts: [Double]) -> [Double] {
        let total = Double(distribution.count)
        var result: [Double] = []
        result.reserveCapacity(cuts.count + 1)
        var previous = 0.0
        for cut in cuts {
            let weight = distribution.debiasedWeight(atOrBelow: cut)
            result.append((weight - previous) / total)
            previous = weight
        }
        result.append((total - previous) / total)
        return result
    }
}

/// The numeric drift statistics between two sketch distributions.
public enum NumericDrift {
    /// The two-sample Kolmogorov–Smirnov statistic D = supₓ |F_ref(x) − F_target(x)|,
    /// evaluated at every retained item of both sketches (the CDFs are step functions that
    /// change only there, so this is the exact supremum for the sketches' distributions).
    ///
    /// - bound: the two sketches' rank errors added (each CDF is within its error everywhere).
    /// - p-value: exact (``SpecialFunctions/kolmogorovSmirnovExactPValue(m:n:scaledStatistic:)``)
    ///   when both sketches hold every value and n₁·n₂ ≤ `exactLimit`, else the asymptotic
    ///   Kolmogorov distribution with nₑ = n₁n₂/(n₁ + n₂).
    public static func kolmogorovSmirnov(
        reference: SketchDistribution, target: SketchDistribution, exactLimit: Int = 1_000_000
    ) -> MetricValue {
        let walk = CDFWalk(reference, target, exactLimit: exactLimit)
        return walk.kolmogorovSmirnov(reference, target)
    }

    /// The Wasserstein-1 distance ∫ |F_ref(x) − F_target(x)| dx = ∫₀¹ |Q_ref(u) − Q_target(u)| du
    /// between the sketches' distributions, exact for them (both CDFs are constant between
    /// consecutive retained items). This is `scipy.stats.wasserstein_distance` on the same data
    /// when both sketches are exact.
    ///
    /// - bound: ε_ref·(max_ref − min_ref) + ε_target·(max_target − min_target), ε the rank
    ///   errors: F̂ − F vanishes outside [min, max], which a KLL sketch knows exactly.
    public static func wasserstein(reference: SketchDistribution, target: SketchDistribution) -> MetricValue {
        CDFWalk(reference, target, exactLimit: 0).wasserstein(reference, target)
    }

    /// Every numeric statistic: psi, ks, js, hellinger, wasserstein, wasserstein_normed (when
    /// `referenceStandardDeviation` is given) and linf.
    ///
    /// - Parameter referenceStandardDeviation: the reference's population standard deviation
    ///   (σ with divisor n, as `numpy.std`, which Evidently normalizes by); it is raised to at
    ///   least `options.minimumNormalizingStandardDeviation`.
    /// - Precondition: both distributions are non-empty.
    public static func statistics(
        reference: SketchDistribution, target: SketchDistribution, referenceStandardDeviation: Double?,
        options: DriftOptions = DriftOptions()
    ) -> [DriftMethod: MetricValue] {
        let bins = NumericBins(reference: reference, target: target, count: options.binCount, binning: options.binning)
        return statistics(
            reference: reference, target: target, bins: bins, referenceStandardDeviation: referenceStandardDeviation,
            options: options)
    }

    /// ``statistics(reference:target:referenceStandardDeviation:options:)`` on bins already cut.
    public static func statistics(
        reference: SketchDistribution, target: SketchDistribution, bins: NumericBins,
        referenceStandardDeviation: Double?, options: DriftOptions = DriftOptions()
    ) -> [DriftMethod: MetricValue] {
        precondition(!reference.isEmpty && !target.isEmpty, "numeric drift needs data on both sides")
        var metrics: [DriftMethod: MetricValue] = [:]
        let walk = CDFWalk(reference, target, exactLimit: options.exactKolmogorovSmirnovLimit)
        metrics[.ks] = walk.kolmogorovSmirnov(reference, target)
        let distance = walk.wasserstein(reference, target)
        metrics[.wasserstein] = distance
        if let sigma = referenceStandardDeviation {
            let scale = Swift.max(sigma, options.minimumNormalizingStandardDeviation)
            metrics[.wassersteinNormed] = MetricValue(
                value: distance.value / scale, bound: distance.bound.map { $0 / scale })
        }
        for (method, value) in binnedStatistics(
            bins.reference, bins.target, bins.referenceError, bins.targetError, epsilon: options.emptyBinEpsilon)
        {
            metrics[method] = value
        }
        return metrics
    }

    /// psi, js, hellinger and linf over masses with per-bin errors.
    static func binnedStatistics(
        _ p: [Double], _ q: [Double], _ dp: [Double], _ dq: [Double], epsilon: Double
    ) -> [(DriftMethod, MetricValue)] {
        let psi = Divergence.psi(reference: p, target: q, epsilon: epsilon)
        let js = Divergence.jensenShannon(reference: p, target: q)
        let hellinger = Divergence.hellinger(reference: p, target: q)
        let linf = Divergence.lInfinity(reference: p, target: q)
        return [
            (.psi, MetricValue(value: psi, bound: Divergence.psiBound(p, q, dp, dq, epsilon: epsilon, value: psi))),
            (.js, MetricValue(value: js, bound: Divergence.jensenShannonBound(p, q, dp, dq, value: js))),
            (
                .hellinger,
                MetricValue(value: hellinger, bound: Divergence.hellingerBound(p, q, dp, dq, value: hellinger))
            ),
            (.linf, MetricValue(value: linf, bound: Divergence.lInfinityBound(dp, dq))),
        ]
    }
}

/// One merged pass over both sorted views: the KS statistic (also scaled to an integer for the
/// exact p-value) and the Wasserstein integral.
struct CDFWalk {
    var statistic = 0.0
    /// max |c_ref·n_target − c_target·n_ref| when the exact p-value applies, else nil.
    var scaledStatistic: Int?
    var area = 0.0

    init(_ a: SketchDistribution, _ b: SketchDistribution, exactLimit: Int) {
        let na = Double(a.count)
        let nb = Double(b.count)
        var exact = false
        if a.isExact && b.isExact, let m = Int(exactly: a.count), let n = Int(exactly: b.count), m > 0, n > 0 {
            let (product, overflow) = m.multipliedReportingOverflow(by: n)
            exact = !overflow && product <= exactLimit
        }
        var scaled = 0
        var statistic = 0.0
        var area = 0.0
        let countA = a.items.count
        let countB = b.items.count
        let sizeA = Int(truncatingIfNeeded: a.count)
        let sizeB = Int(truncatingIfNeeded: b.count)
        a.items.withUnsafeBufferPointer { itemsA in
            b.items.withUnsafeBufferPointer { itemsB in
                a.cumulativeWeights.withUnsafeBufferPointer { weightsA in
                    b.cumulativeWeights.withUnsafeBufferPointer { weightsB in
                        var i = 0
                        var j = 0
                        var weightA: UInt64 = 0
                        var weightB: UInt64 = 0
                        var fa = 0.0
                        var fb = 0.0
                        // both CDFs are 0 before the first item, so the first area term is 0
                        var previous = Swift.min(itemsA.first ?? .infinity, itemsB.first ?? .infinity)
                        while i < countA || j < countB {
                            let x: Double
                            if i < countA && j < countB {
                                x = Swift.min(itemsA[i], itemsB[j])
                            } else {
                                x = i < countA ? itemsA[i] : itemsB[j]
                            }
                            // (guarded: an infinite item would make 0·∞ a NaN)
                            if fa != fb { area += abs(fa - fb) * (x - previous) }
                            if i < countA && itemsA[i] == x {
                                repeat { i &+= 1 } while i < countA && itemsA[i] == x
                                weightA = weightsA[i &- 1]
                                fa = Double(weightA) / na
                            }
                            if j < countB && itemsB[j] == x {
                                repeat { j &+= 1 } while j < countB && itemsB[j] == x
                                weightB = weightsB[j &- 1]
                                fb = Double(weightB) / nb
                            }
                            let difference = abs(fa - fb)
                            if difference > statistic { statistic = difference }
                            if exact {
                                scaled = Swift.max(scaled, abs(Int(weightA) * sizeB - Int(weightB) * sizeA))
                            }
                            previous = x
                        }
                    }
                }
            }
        }
        self.statistic = statistic
        self.area = area
        scaledStatistic = exact ? scaled : nil
    }

    func kolmogorovSmirnov(_ a: SketchDistribution, _ b: SketchDistribution) -> MetricValue {
        let bound = Swift.min(1, a.rankError + b.rankError)
        if let scaledStatistic {
            let p = SpecialFunctions.kolmogorovSmirnovExactPValue(
                m: Int(a.count), n: Int(b.count), scaledStatistic: scaledStatistic)
            return MetricValue(value: statistic, bound: bound, pValue: p, isExactPValue: true)
        }
        let p = SpecialFunctions.kolmogorovSmirnovAsymptoticPValue(
            statistic: statistic, n1: Double(a.count), n2: Double(b.count))
        return MetricValue(value: statistic, bound: bound, pValue: p)
    }

    func wasserstein(_ a: SketchDistribution, _ b: SketchDistribution) -> MetricValue {
        let bound = a.rankError * (a.maximum - a.minimum) + b.rankError * (b.maximum - b.minimum)
        return MetricValue(value: area, bound: bound)
    }
}
