/// Everything that shapes a drift comparison: which columns, which statistic decides each
/// column, the thresholds and the binning. Plain data with working defaults
/// (docs/statistics.md, "Verdicts").
public struct DriftOptions: Sendable, Hashable {
    /// Columns to compare; nil compares every column.
    public var columns: [String]?
    /// Per-column statistic that decides the verdict (the CLI's `--stattest column=method`),
    /// overriding the default by kind.
    public var methods: [String: DriftMethod] = [:]
    /// Drift thresholds overriding ``DriftMethod/defaultThreshold``.
    public var thresholds: [DriftMethod: Double] = [:]
    /// Warning thresholds overriding ``DriftMethod/defaultWarningThreshold``.
    public var warningThresholds: [DriftMethod: Double] = [:]
    /// Bins for the binned numeric statistics (PSI, JS, Hellinger, L∞); default 10 (deciles).
    public var binCount = 10
    public var binning: Binning = .quantiles
    /// The proportion an empty bin counts as in PSI (default 1e-4).
    public var emptyBinEpsilon = Divergence.defaultEpsilon
    /// The dataset drifts when at least this share of the compared columns drift (default ½).
    public var datasetDriftShare = 0.5
    /// Reference sizes up to this (default 1,000) are "small": there the default verdict is a
    /// test (KS for numeric, chi-square for categorical columns) at p < 0.05, as in Evidently;
    /// above it a distance decides, because any difference becomes "significant" at large n.
    public var smallSampleLimit: UInt64 = 1000
    /// Numeric columns with at most this many distinct values (HLL estimate, larger side;
    /// default 5) are judged on their binned distribution (Jensen–Shannon) rather than by
    /// normalized Wasserstein, as Evidently does for `n_unique ≤ 5`.
    public var lowCardinalityLimit = 5
    /// Yates' continuity correction for 2 × 2 chi-square tables (scipy's default; default true).
    public var chiSquareContinuityCorrection = true
    /// The exact KS p-value is used when both sketches hold every value and n₁·n₂ is at most
    /// this (default 10⁶: the dynamic program costs O(n₁·n₂)); 0 always uses the asymptotic one.
    public var exactKolmogorovSmirnovLimit = 1_000_000
    /// Normalized Wasserstein divides by max(σ_reference, this) (default 0.001, Evidently's
    /// floor), so a constant reference column gives a finite value.
    public var minimumNormalizingStandardDeviation = 0.001
    /// The positive class for binary ROC AUC; nil picks the larger of the two labels in string
    /// order (`1` over `0`, `true` over `false`, `yes` over `no`), as scikit-learn does.
    public var positiveLabel: String?
    /// Standard deviations of the HLL cardinality bounds reported in the quality section
    /// (1...3, default 2 ≈ 95%).
    public var cardinalityStandardDeviations = 2

    public init() {}

    /// The drift threshold in force for `method`; nil when it has none (plain Wasserstein
    /// without a configured threshold).
    public func threshold(for method: DriftMethod) -> Double? {
        thresholds[method] ?? method.defaultThreshold
    }

    /// The warning threshold in force for `method`, if any.
    public func warningThreshold(for method: DriftMethod) -> Double? {
        warningThresholds[method] ?? method.defaultWarningThreshold
    }

    /// Applies `column=method` (e.g. `age=psi`).
    ///
    /// - Throws: ``DriftOptionsError`` naming the bad part.
    public mutating func setMethod(_ specification: String) throws(DriftOptionsError) {
        guard let equals = specification.lastIndex(of: "=") else {
            throw DriftOptionsError(.syntax(specification, "column=method"))
        }
        let column = String(specification[..<equals])
        let name = String(specification[specification.index(after: equals)...])
        guard !column.isEmpty else { throw DriftOptionsError(.syntax(specification, "column=method")) }
        guard let method = DriftMethod(rawValue: name) else { throw DriftOptionsError(.unknownMethod(name)) }
        methods[column] = method
    }

    /// Applies `metric=value` (drift threshold), `metric.warning=value` (warning threshold) or
    /// `dataset_share=value`, e.g. `psi=0.25`, `js.warning=0.08`, `ks=0.01`.
    ///
    /// - Throws: ``DriftOptionsError`` naming the bad part.
    public mutating func setThreshold(_ specification: String) throws(DriftOptionsError) {
        guard let equals = specification.firstIndex(of: "=") else {
            throw DriftOptionsError(.syntax(specification, "metric=value"))
        }
        var key = specification[..<equals]
        let text = specification[specification.index(after: equals)...]
        guard let value = Double(text), value.isFinite, value >= 0 else {
            throw DriftOptionsError(.badValue(String(key), String(text)))
        }
        if key == "dataset_share" {
            guard value > 0 && value <= 1 else { throw DriftOptionsError(.badValue(String(key), String(text))) }
            datasetDriftShare = value
            return
        }
        let warning = key.hasSuffix(".warning")
        if warning { key = key.dropLast(".warning".count) }
        guard let method = DriftMethod(rawValue: String(key)) else {
            throw DriftOptionsError(.unknownMethod(String(key)))
        }
        if method.decidesByPValue && value > 1 {
            throw DriftOptionsError(.badValue(String(specification[..<equals]), String(text)))
        }
        if warning { warningThresholds[method] = value } else { thresholds[method] = value }
    }

    /// Checks the numeric settings.
    ///
    /// - Throws: ``DriftOptionsError`` naming the first setting out of range.
    public func validate() throws(DriftOptionsError) {
        guard (1...1000).contains(binCount) else {
            throw DriftOptionsError(.outOfRange("binCount", "\(binCount)", "1...1000"))
        }
        guard emptyBinEpsilon > 0 && emptyBinEpsilon < 1 else {
            throw DriftOptionsError(.outOfRange("emptyBinEpsilon", "\(emptyBinEpsilon)", "(0, 1)"))
        }
        guard datasetDriftShare > 0 && datasetDriftShare <= 1 else {
            throw DriftOptionsError(.outOfRange("datasetDriftShare", "\(datasetDriftShare)", "(0, 1]"))
        }
        guard (1...3).contains(cardinalityStandardDeviations) else {
            throw DriftOptionsError(
                .outOfRange("cardinalityStandardDeviations", "\(cardinalityStandardDeviations)", "1...3"))
        }
        guard minimumNormalizingStandardDeviation > 0 else {
            throw DriftOptionsError(
                .outOfRange("minimumNormalizingStandardDeviation", "\(minimumNormalizingStandardDeviation)", "> 0"))
        }
    }
}

/// A drift option that could not be applied; the message names the offending text.
public struct DriftOptionsError: Error, Sendable, Hashable, CustomStringConvertible {
    enum Kind: Sendable, Hashable {
        case syntax(String, String)
        case unknownMethod(String)
        case badValue(String, String)
        case outOfRange(String, String, String)
    }

    let kind: Kind

    init(_ kind: Kind) { self.kind = kind }

    public var description: String {
        switch kind {
        case .syntax(let text, let form): return "'\(text)': expected \(form)"
        case .unknownMethod(let name):
            let known = DriftMethod.allCases.map(\.rawValue).joined(separator: ", ")
            return "unknown drift method '\(name)' (known: \(known))"
        case .badValue(let key, let text): return "threshold '\(key)': '\(text)' is not a valid value"
        case .outOfRange(let key, let value, let range): return "\(key)=\(value) out of range \(range)"
        }
    }
}
