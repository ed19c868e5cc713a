public import Profiles

/// Request latency of one profile: percentiles from the latency sketch, the exact maximum, the
/// request count and the error rate.
public struct LatencyMetrics: Sendable, Hashable {
    /// Percentiles in milliseconds, `Q(p) = min{x : F(x) ≥ p}` on the sketch; nil without
    /// timed requests.
    public var p50: Double?
    public var p90: Double?
    public var p95: Double?
    public var p99: Double?
    /// The largest latency (exact).
    public var max: Double?
    /// Rank error of the percentiles: the true rank of each returned value is within this of
    /// the asked one (99%); 0 when the sketch is exact.
    public var rankError: Double
    public var requestCount: Int64
    /// Failed requests over all requests; nil without requests.
    public var errorRate: Double?

    public init(_ profile: LatencyProfile) {
        requestCount = profile.requestCount
        errorRate = profile.requestCount > 0 ? Double(profile.errorCount) / Double(profile.requestCount) : nil
        let distribution = SketchDistribution(profile.milliseconds)
        rankError = distribution.rankError
        guard !distribution.isEmpty else { return }
        p50 = distribution.quantile(50, of: 100)
        p90 = distribution.quantile(90, of: 100)
        p95 = distribution.quantile(95, of: 100)
        p99 = distribution.quantile(99, of: 100)
        max = distribution.maximum
    }

    public var namedValues: [(String, Double?)] {
        [
            ("p50", p50), ("p90", p90), ("p95", p95), ("p99", p99), ("max", max),
            ("count", Double(requestCount)), ("error_rate", errorRate),
        ]
    }
}

/// Latency in both profiles.
public struct LatencyComparison: Sendable, Hashable {
    public var reference: LatencyMetrics?
    public var target: LatencyMetrics?
    /// p50, p90, p95, p99, max, count, error_rate with values and change.
    public var changes: [MetricChange]

    /// nil when neither profile has latency data.
    public init?(reference: LatencyProfile?, target: LatencyProfile?) {
        guard reference != nil || target != nil else { return nil }
        self.reference = reference.map(LatencyMetrics.init)
        self.target = target.map(LatencyMetrics.init)
        let referenceValues = self.reference?.namedValues
        let targetValues = self.target?.namedValues
        let names = (referenceValues ?? targetValues ?? []).map(\.0)
        changes = names.enumerated().map { index, name in
            MetricChange(name: name, reference: referenceValues?[index].1, target: targetValues?[index].1)
        }
    }
}
