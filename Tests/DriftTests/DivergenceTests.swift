import Testing

@testable import Drift

/// Expected values from numpy/scipy: PSI with proportions floored at 1e-4 and natural logs,
/// `scipy.spatial.distance.jensenshannon(p, q, base=2)`, Hellinger √(½ Σ (√p − √q)²), L∞.
@Suite("Distances over binned distributions")
struct DivergenceTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let p: [Double]
        let q: [Double]
        let psi: Double
        let js: Double
        let hellinger: Double
        let linf: Double
        var testDescription: String { "\(p) vs \(q)" }
    }

    static let cases: [Case] = [
        // two bins, a big shift
        Case(
            p: [0.5, 0.5], q: [0.9, 0.1], psi: 0.878_889_830_934_487_8, js: 0.383_135_879_859_942_3,
            hellinger: 0.324_919_696_232_906_34, linf: 0.4),
        // one bin unchanged
        Case(
            p: [0.2, 0.3, 0.5], q: [0.1, 0.4, 0.5], psi: 0.098_082_925_301_172_63, js: 0.132_006_731_948_937_33,
            hellinger: 0.110_310_843_750_354_12, linf: 0.1),
        // disjoint supports: JS and Hellinger reach 1; PSI = 2(1 − ε)·ln(1/ε) with ε = 1e-4
        Case(p: [1, 0], q: [0, 1], psi: 18.418_838_675_877_968, js: 1, hellinger: 1, linf: 1),
        // identical: everything exactly 0
        Case(p: [0.25, 0.25, 0.25, 0.25], q: [0.25, 0.25, 0.25, 0.25], psi: 0, js: 0, hellinger: 0, linf: 0),
        // reversed
        Case(
            p: [0.1, 0.2, 0.3, 0.4], q: [0.4, 0.3, 0.2, 0.1], psi: 0.912_869_638_293_567_3, js: 0.391_868_160_647_155_2,
            hellinger: 0.331_816_291_708_777_3, linf: 0.3),
    ]

    @Test(arguments: cases)
    func distancesMatchReference(c: Case) {
        #expect(close(Divergence.psi(reference: c.p, target: c.q), c.psi, 1e-12))
        #expect(close(Divergence.jensenShannon(reference: c.p, target: c.q), c.js, 1e-12))
        #expect(close(Divergence.hellinger(reference: c.p, target: c.q), c.hellinger, 1e-12))
        #expect(close(Divergence.lInfinity(reference: c.p, target: c.q), c.linf, 1e-15))
        // all four are symmetric
        #expect(close(Divergence.psi(reference: c.q, target: c.p), c.psi, 1e-12))
        #expect(close(Divergence.jensenShannon(reference: c.q, target: c.p), c.js, 1e-12))
    }

    @Test func identicalMassesGiveExactlyZero() {
        var rng = TestRandom(seed: 7)
        let raw = (0..<13).map { _ in rng.unit() }
        let p = raw.map { $0 / raw.reduce(0, +) }
        #expect(Divergence.psi(reference: p, target: p) == 0)
        #expect(Divergence.jensenShannon(reference: p, target: p) == 0)
        #expect(Divergence.hellinger(reference: p, target: p) == 0)
        #expect(Divergence.lInfinity(reference: p, target: p) == 0)
    }

    @Test func epsilonIsConfigurable() {
        // one empty target bin: (1 − ½)·ln(1/½) + (ε − ½)·ln(ε/½)
        let p = [0.5, 0.5]
        let q = [1.0, 0.0]
        for epsilon in [1e-4, 1e-3, 1e-6] {
            let expected =
                (1 - 0.5) * Elementary.naturalLog(1 / 0.5) + (epsilon - 0.5) * Elementary.naturalLog(epsilon / 0.5)
            #expect(close(Divergence.psi(reference: p, target: q, epsilon: epsilon), expected, 1e-12))
        }
    }

    /// Masses anywhere inside the error boxes give distances within value ± bound.
    @Test func boundsContainEveryPerturbation() {
        let seed: UInt64 = 0xB0B
        var rng = TestRandom(seed: seed)
        for trial in 0..<200 {
            let bins = 2 + Int(rng.next() % 9)
            let rawP = (0..<bins).map { _ in rng.unit() * (rng.next() % 4 == 0 ? 0 : 1) + 1e-9 }
            let rawQ = (0..<bins).map { _ in rng.unit() }
            let p = rawP.map { $0 / rawP.reduce(0, +) }
            let q = rawQ.map { $0 / rawQ.reduce(0, +) }
            let dp = [Double](repeating: rng.unit() * 0.05, count: bins)
            let dq = [Double](repeating: rng.unit() * 0.05, count: bins)
            let psi = Divergence.psi(reference: p, target: q)
            let js = Divergence.jensenShannon(reference: p, target: q)
            let hellinger = Divergence.hellinger(reference: p, target: q)
            let psiBound = Divergence.psiBound(p, q, dp, dq, epsilon: Divergence.defaultEpsilon, value: psi)
            let jsBound = Divergence.jensenShannonBound(p, q, dp, dq, value: js)
            let hellingerBound = Divergence.hellingerBound(p, q, dp, dq, value: hellinger)
            for _ in 0..<20 {
                let p2 = p.indices.map { Swift.min(1, Swift.max(0, p[$0] + (2 * rng.unit() - 1) * dp[$0])) }
                let q2 = q.indices.map { Swift.min(1, Swift.max(0, q[$0] + (2 * rng.unit() - 1) * dq[$0])) }
                // the per-bin terms, summed without renormalizing (that is what the bound covers)
                let psi2 = p2.indices.reduce(0) { $0 + Divergence.psiTerm(p2[$1], q2[$1], Divergence.defaultEpsilon) }
                let jsd2 = p2.indices.reduce(0) { $0 + Divergence.jensenShannonTerm(p2[$1], q2[$1]) }
                let js2 = Swift.min(1, (Swift.max(0, jsd2) / Elementary.ln2).squareRoot())
                let h2 = p2.indices.reduce(0) { $0 + Divergence.hellingerTerm(p2[$1], q2[$1]) }.squareRoot()
                #expect(abs(psi2 - psi) <= psiBound + 1e-12, "seed \(seed) trial \(trial): PSI")
                #expect(abs(js2 - js) <= jsBound + 1e-12, "seed \(seed) trial \(trial): JS")
                #expect(abs(Swift.min(1, h2) - hellinger) <= hellingerBound + 1e-12, "seed \(seed) trial \(trial): H")
            }
        }
    }

    @Test func exactMassesHaveZeroBounds() {
        let p = [0.2, 0.8]
        let q = [0.6, 0.4]
        let zero = [0.0, 0.0]
        #expect(Divergence.psiBound(p, q, zero, zero, epsilon: 1e-4, value: 1) == 0)
        #expect(Divergence.jensenShannonBound(p, q, zero, zero, value: 0.3) == 0)
        #expect(Divergence.hellingerBound(p, q, zero, zero, value: 0.3) == 0)
        #expect(Divergence.lInfinityBound(zero, zero) == 0)
        #expect(Divergence.lInfinityBound([0.01, 0.02], [0.03, 0.01]) == 0.04)
    }
}
