import Sketches
import Testing

@testable import Drift

/// Chi-square expectations from `scipy.stats.chi2_contingency` (default `correction=True`).
@Suite("Categorical drift statistics")
struct CategoricalDriftTests {
    struct ChiCase: Sendable, CustomTestStringConvertible {
        let reference: [Double]
        let target: [Double]
        let correction: Bool
        let statistic: Double
        let pValue: Double
        let dof: Int
        var testDescription: String { "\(reference) vs \(target)\(correction ? "" : " (no Yates)")" }
    }

    static let chiCases: [ChiCase] = [
        // 2 × 3: expected 15, 20, 25 in both rows; χ² = 2·(25/15 + 0 + 25/25) = 5.333…
        ChiCase(
            reference: [10, 20, 30], target: [20, 20, 20], correction: true, statistic: 5.333_333_333_333_334,
            pValue: 0.069_483_451_222_801_5, dof: 2),
        // 2 × 2 with Yates: |O − E| = 5 → 4.5; χ² = 4.5²·(1/15 + 1/15 + 1/20 + 1/20) = 4.725
        ChiCase(
            reference: [10, 20], target: [25, 15], correction: true, statistic: 4.725,
            pValue: 0.029_727_183_306_054_655,
            dof: 1),
        // the same without the correction: 25·(2/15 + 2/20) = 5.833…
        ChiCase(
            reference: [10, 20], target: [25, 15], correction: false, statistic: 5.833_333_333_333_334,
            pValue: 0.015_725_299_754_505_4, dof: 1),
        // a column empty on both sides is dropped (dof stays 2)
        ChiCase(
            reference: [10, 0, 20, 30], target: [20, 0, 20, 20], correction: true, statistic: 5.333_333_333_333_334,
            pValue: 0.069_483_451_222_801_5, dof: 2),
        // identical rows: χ² exactly 0, p = 1
        ChiCase(reference: [7, 3, 5], target: [7, 3, 5], correction: true, statistic: 0, pValue: 1, dof: 2),
        // a single category: no test
        ChiCase(reference: [12], target: [40], correction: true, statistic: 0, pValue: 1, dof: 0),
    ]

    @Test(arguments: chiCases)
    func chiSquareMatchesScipy(c: ChiCase) {
        let result = CategoricalDrift.chiSquare(
            reference: c.reference, target: c.target, continuityCorrection: c.correction)
        #expect(close(result.value, c.statistic, 1e-12))
        #expect(abs((result.pValue ?? -1) - c.pValue) <= 1e-12 * max(c.pValue, 1e-300) + 1e-15)
        #expect(result.degreesOfFreedom == c.dof)
    }

    static func strings(_ counts: [String: Int]) -> [String] {
        counts.sorted { $0.key < $1.key }.flatMap { [String](repeating: $0.key, count: $0.value) }
    }

    @Test func tableFromExactSketches() {
        let reference = column(strings: Self.strings(["a": 10, "b": 20, "c": 30])).frequentItems!
        let target = column(strings: Self.strings(["a": 20, "b": 20, "d": 20])).frequentItems!
        let table = CategoricalTable(reference: reference, target: target)
        #expect(table.isExact && !table.hasOther)
        #expect(table.newCategories == ["d"])
        #expect(table.missingCategories == ["c"])
        var counts: [String: (Double, Double)] = [:]
        for (i, name) in table.categories.enumerated() { counts[name] = (table.reference[i], table.target[i]) }
        #expect(
            counts["a"]! == (10, 20) && counts["b"]! == (20, 20) && counts["c"]! == (30, 0) && counts["d"]! == (0, 20))
        let metrics = CategoricalDrift.statistics(table)
        // scipy.stats.chi2_contingency([[10, 20, 30, 0], [20, 20, 0, 20]])
        let chi2 = metrics[.chi2]!
        #expect(chi2.degreesOfFreedom == 3 && chi2.bound == 0)
        let direct = CategoricalDrift.chiSquare(reference: [10, 20, 30, 0], target: [20, 20, 0, 20])
        #expect(close(chi2.value, direct.value, 1e-12))
        // masses a, b, c, d: reference ⅙, ⅓, ½, 0; target ⅓, ⅓, 0, ⅓
        let p = [1.0 / 6, 1.0 / 3, 0.5, 0]
        let q = [1.0 / 3, 1.0 / 3, 0, 1.0 / 3]
        #expect(close(metrics[.js]!.value, Divergence.jensenShannon(reference: p, target: q), 1e-12))
        #expect(close(metrics[.linf]!.value, 0.5, 1e-15))
        #expect(close(metrics[.psi]!.value, Divergence.psi(reference: p, target: q), 1e-12))
        for method in [DriftMethod.js, .psi, .hellinger, .linf] { #expect(metrics[method]!.bound == 0) }
    }

    @Test func singleCategoryHasNoDrift() {
        let a = column(strings: [String](repeating: "x", count: 50)).frequentItems!
        let b = column(strings: [String](repeating: "x", count: 5)).frequentItems!
        let metrics = CategoricalDrift.statistics(CategoricalTable(reference: a, target: b))
        #expect(metrics[.chi2]!.value == 0 && metrics[.chi2]!.pValue == 1 && metrics[.chi2]!.degreesOfFreedom == 0)
        for method in [DriftMethod.js, .psi, .hellinger, .linf] { #expect(metrics[method]!.value == 0) }
    }

    /// Past the sketch's capacity the untracked mass becomes "other"; the distances computed from
    /// the true counts of the same categories (everything else lumped into "other") lie within
    /// the reported bounds.
    @Test func purgedSketchesKeepOtherMassWithinBounds() {
        let seed: UInt64 = 99
        var rng = TestRandom(seed: seed)
        func draw(_ skew: Double) -> String {
            let u = rng.unit()
            return
                "v\(Int(Double(400) * Swift.min(0.999_999, Elementary.exponential(skew * Elementary.naturalLog(u)))))"
        }
        // the default profile configuration tracks at most 96 items (lgMaxMapSize 7)
        let a = (0..<20_000).map { _ in draw(3) }
        let b = (0..<15_000).map { _ in draw(2.5) }
        let reference = column(strings: a).frequentItems!
        let target = column(strings: b).frequentItems!
        #expect(reference.maximumError > 0 && target.maximumError > 0)
        let table = CategoricalTable(reference: reference, target: target)
        #expect(table.hasOther && !table.isExact)
        let metrics = CategoricalDrift.statistics(table)
        #expect(metrics[.chi2]!.bound == nil)
        func trueMasses(_ values: [String]) -> [Double] {
            var counts: [String: Double] = [:]
            for v in values { counts[v, default: 0] += 1 }
            var masses = table.categories.map { (counts[$0] ?? 0) / Double(values.count) }
            masses.append(1 - masses.reduce(0, +))
            return masses
        }
        let p = trueMasses(a)
        let q = trueMasses(b)
        let checks: [(DriftMethod, Double)] = [
            (.js, Divergence.jensenShannon(reference: p, target: q)),
            (.hellinger, Divergence.hellinger(reference: p, target: q)),
            (.psi, Divergence.psi(reference: p, target: q)),
            (.linf, Divergence.lInfinity(reference: p, target: q)),
        ]
        for (method, exact) in checks {
            let value = metrics[method]!
            #expect(
                abs(value.value - exact) <= value.bound! + 1e-12, "seed \(seed) \(method): \(value.value) vs \(exact)")
        }
    }
}
