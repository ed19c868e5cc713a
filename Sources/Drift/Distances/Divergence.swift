/// Distances between two discrete distributions given as masses over the same bins (or
/// categories), and their error bounds when each mass is known only within ± an error.
///
/// Conventions (docs/statistics.md): `reference` is p, `target` is q; natural logarithms for
/// PSI, base 2 for Jensen–Shannon (so that its distance lies in [0, 1], as
/// `scipy.spatial.distance.jensenshannon(p, q, base=2)`); 0·ln 0 = 0. Identical inputs give
/// exactly 0 for every distance.
public enum Divergence {
    /// The proportion an empty bin is given in PSI, whose terms divide by the masses: 1e-4, the
    /// value Evidently substitutes for empty bins (`evidently.calculations.stattests.utils.
    /// get_binned_data`, when the smallest non-empty proportion exceeds it).
    public static let defaultEpsilon = 1e-4

    /// Population stability index, PSI = Σᵢ (qᵢ − pᵢ)·ln(qᵢ / pᵢ), each mass first raised to at
    /// least `epsilon` (not renormalized). Non-negative; symmetric in p and q.
    public static func psi(reference p: [Double], target q: [Double], epsilon: Double = defaultEpsilon) -> Double {
        precondition(p.count == q.count, "PSI over different bins")
        var sum = 0.0
        for i in p.indices { sum += psiTerm(p[i], q[i], epsilon) }
        return sum
    }

    /// The Jensen–Shannon distance with base-2 logarithms:
    /// √(½ Σ pᵢ log₂(pᵢ/mᵢ) + ½ Σ qᵢ log₂(qᵢ/mᵢ)), mᵢ = (pᵢ + qᵢ)/2. In [0, 1].
    public static func jensenShannon(reference p: [Double], target q: [Double]) -> Double {
        precondition(p.count == q.count, "Jensen–Shannon over different bins")
        var sum = 0.0
        for i in p.indices { sum += jensenShannonTerm(p[i], q[i]) }
        return (Swift.max(0, sum) / Elementary.ln2).squareRoot()
    }

    /// The Hellinger distance √(½ Σ (√pᵢ − √qᵢ)²), in [0, 1] (the form Evidently's
    /// `hellinger` computes as √(1 − Σ √(pᵢqᵢ)) for normalized masses; the difference form
    /// keeps identical inputs at exactly 0).
    public static func hellinger(reference p: [Double], target q: [Double]) -> Double {
        precondition(p.count == q.count, "Hellinger over different bins")
        var sum = 0.0
        for i in p.indices { sum += hellingerTerm(p[i], q[i]) }
        return Swift.min(1, Swift.max(0, sum).squareRoot())
    }

    /// max |pᵢ − qᵢ|.
    public static func lInfinity(reference p: [Double], target q: [Double]) -> Double {
        precondition(p.count == q.count, "L∞ over different bins")
        var largest = 0.0
        for i in p.indices { largest = Swift.max(largest, abs(p[i] - q[i])) }
        return largest
    }

    // MARK: Terms

    @inline(__always)
    static func psiTerm(_ p: Double, _ q: Double, _ epsilon: Double) -> Double {
        let a = Swift.max(p, epsilon)
        let b = Swift.max(q, epsilon)
        if a == b { return 0 }
        return (b - a) * Elementary.naturalLog(b / a)
    }

    /// ½ p ln(2p/(p+q)) + ½ q ln(2q/(p+q)), in nats.
    @inline(__always)
    static func jensenShannonTerm(_ p: Double, _ q: Double) -> Double {
        if p == q { return 0 }
        let m = (p + q) / 2
        var term = 0.0
        if p > 0 { term += p * Elementary.naturalLog(p / m) }
        if q > 0 { term += q * Elementary.naturalLog(q / m) }
        return term / 2
    }

    /// ½ (√p − √q)².
    @inline(__always)
    static func hellingerTerm(_ p: Double, _ q: Double) -> Double {
        let d = p.squareRoot() - q.squareRoot()
        return d * d / 2
    }

    // MARK: Bounds

    /// The smallest and largest value of Σᵢ term(pᵢ', qᵢ') over all masses with
    /// |pᵢ' − pᵢ| ≤ δpᵢ and |qᵢ' − qᵢ| ≤ δqᵢ (clamped to [0, 1]).
    ///
    /// Each term is g(p, q) = q·f(p/q) for a convex f with f(1) = 0 (PSI, Jensen–Shannon and
    /// squared Hellinger are f-divergences): it is jointly convex, zero on p = q, increasing
    /// in p and decreasing in q where p > q (and the reverse where p < q). So its maximum over
    /// a box is at one of the corners, and its minimum is 0 when the box meets the diagonal,
    /// else at the corner nearest to it. The sum of per-bin extremes ignores that masses add up
    /// to 1, so the interval is conservative.
    static func interval(
        _ p: [Double], _ q: [Double], _ dp: [Double], _ dq: [Double], term: (Double, Double) -> Double
    ) -> (lower: Double, upper: Double) {
        var lower = 0.0
        var upper = 0.0
        for i in p.indices {
            let pLow = Swift.max(0, p[i] - dp[i])
            let pHigh = Swift.min(1, p[i] + dp[i])
            let qLow = Swift.max(0, q[i] - dq[i])
            let qHigh = Swift.min(1, q[i] + dq[i])
            upper += Swift.max(
                Swift.max(term(pLow, qLow), term(pLow, qHigh)), Swift.max(term(pHigh, qLow), term(pHigh, qHigh)))
            if pLow > qHigh {
                lower += term(pLow, qHigh)
            } else if qLow > pHigh {
                lower += term(pHigh, qLow)
            }
        }
        return (lower, upper)
    }

    /// Half-width of the interval around `value` that the PSI of masses within the given
    /// errors can take.
    static func psiBound(
        _ p: [Double], _ q: [Double], _ dp: [Double], _ dq: [Double], epsilon: Double, value: Double
    ) -> Double {
        if isZero(dp) && isZero(dq) { return 0 }
        let (lower, upper) = interval(p, q, dp, dq) { psiTerm($0, $1, epsilon) }
        return Swift.max(upper - value, value - lower, 0)
    }

    static func jensenShannonBound(
        _ p: [Double], _ q: [Double], _ dp: [Double], _ dq: [Double], value: Double
    ) -> Double {
        if isZero(dp) && isZero(dq) { return 0 }
        let (lower, upper) = interval(p, q, dp, dq, term: jensenShannonTerm)
        let low = (Swift.max(0, lower) / Elementary.ln2).squareRoot()
        let high = Swift.min(1, (Swift.max(0, upper) / Elementary.ln2).squareRoot())
        return Swift.max(high - value, value - low, 0)
    }

    static func hellingerBound(
        _ p: [Double], _ q: [Double], _ dp: [Double], _ dq: [Double], value: Double
    ) -> Double {
        if isZero(dp) && isZero(dq) { return 0 }
        let (lower, upper) = interval(p, q, dp, dq, term: hellingerTerm)
        let low = Swift.max(0, lower).squareRoot()
        let high = Swift.min(1, Swift.max(0, upper).squareRoot())
        return Swift.max(high - value, value - low, 0)
    }

    /// |max|pᵢ' − qᵢ'| − max|pᵢ − qᵢ|| ≤ maxᵢ (δpᵢ + δqᵢ).
    static func lInfinityBound(_ dp: [Double], _ dq: [Double]) -> Double {
        var largest = 0.0
        for i in dp.indices { largest = Swift.max(largest, dp[i] + dq[i]) }
        return Swift.min(1, largest)
    }

    private static func isZero(_ errors: [Double]) -> Bool { errors.allSatisfy { $0 == 0 } }
}
