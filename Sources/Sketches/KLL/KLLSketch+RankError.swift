extension KLLSketch {
    /// The normalized rank error at ``minK``: with 99% confidence a quantile's true rank
    /// (or a returned rank) is within this of the requested one; `pmf: true` gives the
    /// double-sided bound for PMF/CDF bucket masses.
    @inlinable
    public func normalizedRankError(pmf: Bool) -> Double {
        Self.normalizedRankError(k: Int(_minK), pmf: pmf)
    }

    /// DataSketches' empirical fit to the 99th percentile of the measured maximum rank
    /// error (`kll_sketch::get_normalized_rank_error`, C++ 5.2.0): `2.296 / k^0.9723`,
    /// and `2.446 / k^0.9433` for PMF. 0.0133 at k = 200, 0.125 at k = 20.
    ///
    /// `k^e` is evaluated in double-double arithmetic and rounded once (the module has no
    /// libm), giving the correctly rounded power. The library calls the platform `pow`;
    /// glibc's is not correctly rounded for about 0.05% of inputs (e.g. `155^0.9433`), so
    /// for 105 of the 131,056 (k, pmf) pairs the result here is 1 or 2 ulps from the
    /// library's.
    /// Every k in common use (8, 16, 20, 50, 100, 128, 200, 256, 400, 512, 1000, 1024,
    /// 2048, 4096, ...) matches exactly; the tests check all k against the platform `pow`.
    ///
    /// - Precondition: `k ≥ 1`.
    public static func normalizedRankError(k: Int, pmf: Bool) -> Double {
        precondition(k >= 1, "KLL normalized rank error needs k >= 1, got \(k)")
        return pmf
            ? 2.446 / PreciseMath.power(Double(k), 0.9433)
            : 2.296 / PreciseMath.power(Double(k), 0.9723)
    }
}
