/// How a column's values are compared: as numbers (quantile sketch) or as categories
/// (frequent-items sketch).
public enum ColumnKind: String, Sendable, Hashable, CaseIterable {
    case numeric
    case categorical
}

/// A drift statistic, by the name the CLI and the JSON use. Each one can decide a column's
/// verdict (a "stattest" in Evidently's terms); see docs/statistics.md for the formulas.
public enum DriftMethod: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Population stability index over the bins (numeric) or categories.
    case psi
    /// Two-sample Kolmogorov–Smirnov: the value is D, the verdict uses the p-value.
    case ks
    /// Jensen–Shannon distance, base 2 (in [0, 1]).
    case js
    /// Hellinger distance (in [0, 1]).
    case hellinger
    /// Wasserstein-1 distance, in the column's units.
    case wasserstein
    /// Wasserstein-1 distance divided by the reference's standard deviation.
    case wassersteinNormed = "wasserstein_normed"
    /// L∞ distance of the binned (or categorical) distributions: the largest mass difference.
    case linf
    /// Chi-square test of homogeneity: the value is the statistic, the verdict uses the p-value.
    case chi2

    public var description: String { rawValue }

    /// True when the verdict compares the p-value (drift when p < threshold) rather than the
    /// value (drift when value ≥ threshold).
    public var decidesByPValue: Bool { self == .ks || self == .chi2 }

    /// The column kinds this statistic is computed for.
    public var kinds: Set<ColumnKind> {
        switch self {
        case .ks, .wasserstein, .wassersteinNormed: return [.numeric]
        case .chi2: return [.categorical]
        case .psi, .js, .hellinger, .linf: return [.numeric, .categorical]
        }
    }

    /// Default drift thresholds. Distances drift at `value ≥ threshold`, tests at
    /// `p-value < threshold`. Sources: PSI 0.1 / 0.2 (warning / drift) is the usual
    /// credit-scoring rule of thumb (Siddiqi, *Credit Risk Scorecards*, 2006); Jensen–Shannon
    /// 0.1, normed Wasserstein 0.1, Hellinger 0.1 and p < 0.05 are Evidently's defaults
    /// (`evidently.calculations.stattests`); L∞ 0.1 mirrors Jensen–Shannon. Plain Wasserstein is
    /// in the column's units and has no default: it decides only with a configured threshold.
    public var defaultThreshold: Double? {
        switch self {
        case .psi: return 0.2
        case .ks, .chi2: return 0.05
        case .js, .hellinger, .wassersteinNormed, .linf: return 0.1
        case .wasserstein: return nil
        }
    }

    /// Default warning thresholds (same direction as the drift threshold): PSI 0.1, half the
    /// drift threshold for the other distances, none for the tests.
    public var defaultWarningThreshold: Double? {
        switch self {
        case .psi: return 0.1
        case .js, .hellinger, .wassersteinNormed, .linf: return 0.05
        case .ks, .chi2, .wasserstein: return nil
        }
    }
}

/// One statistic's answer: the value computed from the sketches, how far it can be from the
/// value on the raw data, and the p-value of a test.
public struct MetricValue: Sendable, Hashable {
    /// The statistic on the sketches' distributions.
    public var value: Double
    /// Half-width of the interval around `value` that contains the statistic of the raw data,
    /// given the sketches' 99% error bounds (0 when both sketches are exact); nil when no bound
    /// is known (chi-square on purged frequent-items sketches).
    public var bound: Double?
    /// The test's p-value (KS, chi-square); nil for distances.
    public var pValue: Double?
    /// Degrees of freedom (chi-square).
    public var degreesOfFreedom: Int?
    /// True when the p-value is the exact finite-sample one (KS with both samples exact and
    /// small); false for asymptotic p-values.
    public var isExactPValue: Bool

    public init(
        value: Double, bound: Double? = nil, pValue: Double? = nil, degreesOfFreedom: Int? = nil,
        isExactPValue: Bool = false
    ) {
        self.value = value
        self.bound = bound
        self.pValue = pValue
        self.degreesOfFreedom = degreesOfFreedom
        self.isExactPValue = isExactPValue
    }
}

/// A column's or a metric's verdict.
public enum DriftStatus: String, Sendable, Hashable, CaseIterable, Comparable {
    /// Below the warning threshold.
    case ok
    /// At or above the warning threshold, below the drift threshold.
    case warning
    /// At or above the drift threshold (or p below it).
    case drift
    /// Not evaluated: no data on one side, or the column exists on one side only (see the
    /// column's `note`).
    case skipped

    private var order: Int {
        switch self {
        case .skipped: return 0
        case .ok: return 1
        case .warning: return 2
        case .drift: return 3
        }
    }

    public static func < (a: DriftStatus, b: DriftStatus) -> Bool { a.order < b.order }
}
