import Foundation
import Testing

@testable import Sketches

/// Seeded trials of the published error bound: `normalizedRankError` is DataSketches' fit
/// to the 99th percentile of the maximum rank error, so about 1% of trials may exceed it.
/// Each trial uses its own data and its own compaction-coin seed; the test allows up to
/// 2% of trials over the bound (plus one) and requires the mean error to be well below it.
@Suite struct KLLAccuracyTests {
    struct Outcome {
        var errors: [Double] = []
        var over = 0
        var mean: Double { errors.reduce(0, +) / Double(Swift.max(1, errors.count)) }
        var worst: Double { errors.max() ?? 0 }
    }

    static func check(_ outcome: Outcome, bound: Double, label: String, seed: UInt64) {
        let allowed = outcome.errors.count / 50 + 1
        print(
            "KLL accuracy \(label): \(outcome.errors.count) trials, mean max error \(outcome.mean), "
                + "worst \(outcome.worst), bound \(bound), over bound \(outcome.over)")
        #expect(outcome.over <= allowed, "\(label): \(outcome.over) trials over \(bound) (seed \(seed))")
        #expect(outcome.mean < 0.75 * bound, "\(label): mean max error \(outcome.mean) (seed \(seed))")
    }

    static func stream(_ generator: inout SplitMix64, count: Int, trial: Int) -> [Double] {
        // alternate uniform, skewed and heavily duplicated inputs
        switch trial % 3 {
        case 0: return (0..<count).map { _ in generator.nextUnitDouble() }
        case 1: return (0..<count).map { _ in -Foundation.log(1 - generator.nextUnitDouble()) }
        default: return (0..<count).map { _ in Double(generator.next() % 500) }
        }
    }

    @Test(arguments: [(200, 60, 20_000), (20, 100, 10_000)])
    func singleStreamStaysWithinRankErrorBound(k: Int, trials: Int, n: Int) throws {
        let seed: UInt64 = 0xACC0_0000 + UInt64(k)
        var generator = SplitMix64(seed: seed)
        var outcome = Outcome()
        let bound = KLLDoublesSketch.normalizedRankError(k: k, pmf: false)
        for trial in 0..<trials {
            let data = Self.stream(&generator, count: n, trial: trial)
            var sketch = try KLLDoublesSketch(k: k, randomSeed: generator.next())
            sketch.update(contentsOf: data)
            #expect(sketch.isEstimationMode)
            let error = KLLTestSupport.maxRankError(sketch, sortedStream: data.sorted())
            outcome.errors.append(error)
            if error > bound { outcome.over += 1 }
        }
        Self.check(outcome, bound: bound, label: "k=\(k) n=\(n)", seed: seed)
    }

    @Test func floatSketchStaysWithinRankErrorBound() throws {
        let seed: UInt64 = 0xF10A_7000
        var generator = SplitMix64(seed: seed)
        var outcome = Outcome()
        let bound = KLLFloatsSketch.normalizedRankError(k: 200, pmf: false)
        for _ in 0..<30 {
            let data = (0..<20_000).map { _ in Float(generator.nextUnitDouble()) }
            var sketch = try KLLFloatsSketch(k: 200, randomSeed: generator.next())
            sketch.update(contentsOf: data)
            let error = KLLTestSupport.maxRankError(sketch, sortedStream: data.sorted())
            outcome.errors.append(error)
            if error > bound { outcome.over += 1 }
        }
        Self.check(outcome, bound: bound, label: "floats k=200", seed: seed)
    }

    /// Four parts of one stream summarized with k = 200, 100, 50 and 200, merged into an
    /// empty k = 200 sketch: the bound of the smallest k applies.
    @Test func mergedSketchesOfDifferentKKeepRankErrorBound() throws {
        let seed: UInt64 = 0x3E26_E000
        var generator = SplitMix64(seed: seed)
        var outcome = Outcome()
        let bound = KLLDoublesSketch.normalizedRankError(k: 50, pmf: false)
        for trial in 0..<40 {
            let data = Self.stream(&generator, count: 24_000, trial: trial)
            var merged = KLLDoublesSketch()
            for (part, k) in [200, 100, 50, 200].enumerated() {
                var sketch = try KLLDoublesSketch(k: k, randomSeed: generator.next())
                sketch.update(contentsOf: data[(part * 6000)..<((part + 1) * 6000)])
                merged.merge(sketch)
            }
            #expect(merged.minK == 50 && merged.count == 24_000 && merged.invariantViolations() == [])
            let error = KLLTestSupport.maxRankError(merged, sortedStream: data.sorted())
            outcome.errors.append(error)
            if error > bound { outcome.over += 1 }
        }
        Self.check(outcome, bound: bound, label: "merge k=200/100/50/200", seed: seed)
    }

    /// Many small sketches merged one after another (the rollup pattern).
    @Test func manyWayMergeKeepsRankErrorBound() throws {
        let seed: UInt64 = 0x3E26_E001
        var generator = SplitMix64(seed: seed)
        var outcome = Outcome()
        let bound = KLLDoublesSketch.normalizedRankError(k: 200, pmf: false)
        for trial in 0..<15 {
            let data = Self.stream(&generator, count: 40_000, trial: trial)
            var merged = KLLDoublesSketch()
            for part in 0..<40 {
                var sketch = try KLLDoublesSketch(k: 200, randomSeed: generator.next())
                sketch.update(contentsOf: data[(part * 1000)..<((part + 1) * 1000)])
                merged.merge(sketch)
            }
            #expect(merged.count == 40_000 && merged.invariantViolations() == [])
            let error = KLLTestSupport.maxRankError(merged, sortedStream: data.sorted())
            outcome.errors.append(error)
            if error > bound { outcome.over += 1 }
        }
        Self.check(outcome, bound: bound, label: "40-way merge k=200", seed: seed)
    }
}
