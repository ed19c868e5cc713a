/// Count, mean and sum of squared deviations of a stream of numbers, updated with Welford's
/// recurrence and merged with Chan et al.'s parallel formula, so that the moments of two
/// disjoint streams merge to those of their union (up to floating-point rounding).
///
/// Chan, Golub, LeVeque, "Updating formulae and a pairwise algorithm for computing sample
/// variances" (1979): for parts a, b with δ = mean_b − mean_a,
/// mean = mean_a + δ·n_b/n and M2 = M2_a + M2_b + δ²·n_a·n_b/n.
public struct Moments: Sendable, Hashable {
    public private(set) var count: Int64 = 0
    public private(set) var mean: Double = 0
    /// Σ (x − mean)².
    public private(set) var m2: Double = 0

    public init() {}

    /// Moments with the given state (from a decoded profile).
    public init(count: Int64, mean: Double, m2: Double) {
        self.count = count
        self.mean = count == 0 ? 0 : mean
        self.m2 = count == 0 ? 0 : m2
    }

    public mutating func update(_ x: Double) {
        count &+= 1
        let delta = x - mean
        mean += delta / Double(count)
        m2 += delta * (x - mean)
    }

    public mutating func merge(_ other: Moments) {
        guard other.count > 0 else { return }
        guard count > 0 else {
            self = other
            return
        }
        let n = Double(count) + Double(other.count)
        let delta = other.mean - mean
        let weightOther = Double(other.count) / n
        m2 += other.m2 + delta * delta * Double(count) * weightOther
        mean += delta * weightOther
        count += other.count
    }

    public var sum: Double { mean * Double(count) }

    /// Population variance (M2 / n); nil when empty.
    public var populationVariance: Double? { count > 0 ? m2 / Double(count) : nil }

    /// Sample variance (M2 / (n − 1)), the `stddev²` that whylogs and pandas report; nil for
    /// fewer than two values.
    public var sampleVariance: Double? { count > 1 ? m2 / Double(count - 1) : nil }

    /// Sample standard deviation; nil for fewer than two values.
    public var standardDeviation: Double? { sampleVariance.map { $0.squareRoot() } }
}
