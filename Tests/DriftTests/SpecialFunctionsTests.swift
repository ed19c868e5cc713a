import Testing

@testable import Drift

/// Expected values from scipy 1.x (`scipy.special.gammaln`, `scipy.stats.chi2.sf`,
/// `scipy.stats.kstwobign.sf`, `scipy.stats.ks_2samp(method="exact")`).
@Suite("Special functions")
struct SpecialFunctionsTests {
    @Test(arguments: [
        (0.5, 0.572_364_942_924_7),  // ln √π
        (1.0, 0.0),
        (10.0, 12.801_827_480_081_469),  // ln 9!
        (100.5, 361.435_540_467_777_57),
        (0.001, 6.907_178_885_383_853),
    ])
    func logGammaMatchesReference(x: Double, expected: Double) {
        #expect(abs(SpecialFunctions.logGamma(x) - expected) <= 1e-13 * max(1, abs(expected)))
    }

    @Test(arguments: [
        // (x, dof, p)
        (3.841_458_820_694_124, 1, 0.05),  // the 95% critical value, 1 dof
        (18.307_038_053_275_146, 10, 0.05),
        (500.0, 300, 3.359_222_457_579_277_5e-12),  // continued-fraction region, small p
        (2.0, 5, 0.849_145_036_084_609_6),  // series region
        (1000.0, 10, 1.870_290_720_915_977e-208),  // deep tail keeps relative precision
    ])
    func chiSquareSurvivalMatchesScipy(x: Double, dof: Int, expected: Double) {
        let p = SpecialFunctions.chiSquareSurvival(x, degreesOfFreedom: dof)
        #expect(abs(p - expected) <= 1e-12 * expected, "χ²=\(x) dof=\(dof): \(p) vs \(expected)")
    }

    @Test func chiSquareWithTwoDegreesIsExponential() {
        // Q(1, x/2) = e^{−x/2}
        for x in [0.1, 1.0, 5.0, 40.0] {
            let p = SpecialFunctions.chiSquareSurvival(x, degreesOfFreedom: 2)
            #expect(abs(p - Elementary.exponential(-x / 2)) <= 1e-14)
        }
    }

    @Test func degenerateChiSquareIsOne() {
        #expect(SpecialFunctions.chiSquareSurvival(0, degreesOfFreedom: 3) == 1)
        #expect(SpecialFunctions.chiSquareSurvival(12, degreesOfFreedom: 0) == 1)
    }

    @Test(arguments: [
        (0.3, 0.999_990_694),
        (0.5, 0.963_945_244),
        (1.0, 0.269_999_672),
        (1.18, 0.123_453_809),
        (1.5, 0.022_217_962_6),
        (2.0, 6.709_252_56e-4),
        (3.0, 3.045_995_95e-8),
    ])
    func kolmogorovSurvivalMatchesScipy(lambda: Double, expected: Double) {
        let q = SpecialFunctions.kolmogorovSurvival(lambda)
        #expect(abs(q - expected) <= 1e-8 * max(expected, 1e-3), "λ=\(lambda): \(q) vs \(expected)")
    }

    /// Exact two-sample KS p-values against `ks_2samp(method="exact")`, including the data
    /// generated from the same integer recipe in Python.
    @Test func exactKolmogorovSmirnovMatchesScipy() {
        // a = 1...5, b = [2.5, 6, 7, 8]: D = 0.75 → h = 0.75·20 = 15
        #expect(close(SpecialFunctions.kolmogorovSmirnovExactPValue(m: 5, n: 4, scaledStatistic: 15), 1 / 7.0, 1e-15))
        let cases: [(m: Int, n: Int, shift: Double, d: Double, p: Double)] = [
            (60, 50, 0.3, 0.303_333_333_333_333_34, 0.010_305_303_095_157_791),
            (150, 120, 0.05, 0.07, 0.877_137_764_615_709_2),
            (100, 100, 0.5, 0.51, 3.319_419_024_623_016e-12),
        ]
        for c in cases {
            let a = (0..<c.m).map { Double($0 * 7919 % 1000) / 1000 }
            let b = (0..<c.n).map { Double($0 * 104_729 % 997) / 997 + c.shift }
            let metric = NumericDrift.kolmogorovSmirnov(
                reference: SketchDistribution(exactValues: a), target: SketchDistribution(exactValues: b))
            #expect(close(metric.value, c.d, 1e-12))
            #expect(metric.isExactPValue)
            let p = metric.pValue ?? -1
            #expect(abs(p - c.p) <= 1e-9 * c.p, "m=\(c.m) n=\(c.n): \(p) vs \(c.p)")
        }
    }

    @Test func exactKolmogorovSmirnovOfZeroStatisticIsOne() {
        #expect(SpecialFunctions.kolmogorovSmirnovExactPValue(m: 3, n: 3, scaledStatistic: 0) == 1)
    }
}
