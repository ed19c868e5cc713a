import Foundation
import Testing

@testable import Sketches

/// Edge cases of the public API: construction, empty sketches, NaN and infinities,
/// value semantics, merges of every shape, argument validation.
@Suite struct KLLBehaviourTests {
    @Test(arguments: [0, 3, 7, 65536, -1])
    func rejectsKOutOfRange(k: Int) {
        do {
            _ = try KLLDoublesSketch(k: k)
            Issue.record("k=\(k) accepted")
        } catch {
            #expect(error.description == "KLL k=\(k) out of range 8...65535")
            #expect(!error.isDecodingError)
        }
    }

    @Test func acceptsKAtTheLimitsAndDefaultsTo200() throws {
        #expect(try KLLFloatsSketch(k: 8).k == 8)
        #expect(try KLLFloatsSketch(k: 65535).k == 65535)
        #expect(KLLDoublesSketch().k == 200 && KLLDoublesSketch.defaultK == 200)
        #expect(KLLDoublesSketch().minK == 200)
    }

    @Test func emptySketchAnswersNil() throws {
        let sketch = KLLDoublesSketch()
        #expect(sketch.isEmpty && sketch.count == 0 && sketch.numRetained == 0 && !sketch.isEstimationMode)
        #expect(sketch.min == nil && sketch.max == nil)
        #expect(sketch.quantile(rank: 0.5) == nil)
        #expect(sketch.quantiles(ranks: [0, 1]) == nil)
        #expect(sketch.rank(of: 1) == nil)
        #expect(try sketch.cdf(splitPoints: [1]) == nil)
        #expect(try sketch.pmf(splitPoints: [1]) == nil)
        #expect(sketch.sortedView().isEmpty && sketch.sortedView().totalWeight == 0)
        #expect(sketch.serialized() == [2, 1, 15, 1, 200, 0, 8, 0])
    }

    @Test func nanIsIgnored() throws {
        var sketch = KLLDoublesSketch()
        sketch.update(.nan)
        #expect(sketch.isEmpty)
        sketch.update(contentsOf: [.nan, 1, .nan, 2, .nan])
        sketch.update(contentsOf: [Double.nan, 3].lazy.map { $0 })
        #expect(sketch.count == 3 && sketch.min == 1 && sketch.max == 3)
        #expect(sketch.quantile(rank: 0.5) == 2)
        var floats = KLLFloatsSketch()
        floats.update(.nan)
        floats.update(-Float.signalingNaN)
        #expect(floats.isEmpty)
    }

    @Test func infinitiesAreKept() throws {
        var sketch = KLLDoublesSketch()
        sketch.update(contentsOf: [1, .infinity, -.infinity, 2])
        #expect(sketch.count == 4 && sketch.min == -.infinity && sketch.max == .infinity)
        #expect(sketch.quantile(rank: 0) == -.infinity && sketch.quantile(rank: 1) == .infinity)
        #expect(sketch.rank(of: .infinity) == 0.75 && sketch.rank(of: .infinity, inclusive: true) == 1)
        let decoded = try KLLDoublesSketch(serialized: sketch.serialized())
        #expect(decoded.serialized() == sketch.serialized() && decoded.max == .infinity)
        // only infinities, through compactions
        var infinite = try KLLFloatsSketch(k: 8)
        for i in 0..<1000 { infinite.update(i.isMultiple(of: 2) ? .infinity : -.infinity) }
        #expect(infinite.invariantViolations() == [] && infinite.quantile(rank: 0) == -.infinity)
        #expect(infinite.quantile(rank: 1) == .infinity)
    }

    @Test func singleItemSketch() throws {
        var sketch = KLLFloatsSketch()
        sketch.update(42)
        #expect(sketch.quantile(rank: 0) == 42 && sketch.quantile(rank: 1, inclusive: true) == 42)
        #expect(sketch.rank(of: 42) == 0 && sketch.rank(of: 42, inclusive: true) == 1)
        #expect(
            sketch.serialized() == [2, 2, 15, 4, 200, 0, 8, 0] + withUnsafeBytes(of: Float(42).bitPattern) { Array($0) }
        )
    }

    @Test func queriesDoNotChangeTheSketch() throws {
        var sketch = KLLDoublesSketch()
        var generator = SplitMix64(seed: 3)
        for _ in 0..<1234 { sketch.update(generator.nextUnitDouble()) }
        let before = sketch.serialized()
        #expect(!sketch.isLevelZeroSorted)
        _ = sketch.quantile(rank: 0.3)
        _ = sketch.quantiles(ranks: [0.1, 0.9])
        _ = sketch.rank(of: 0.5)
        _ = try sketch.pmf(splitPoints: [0.2, 0.4])
        _ = sketch.sortedView()
        #expect(sketch.serialized() == before)
    }

    @Test func sortedViewIsAscendingWithCumulativeWeights() throws {
        var sketch = try KLLDoublesSketch(k: 20)
        var generator = SplitMix64(seed: 9)
        for _ in 0..<10_000 { sketch.update(generator.nextUnitDouble()) }
        let view = sketch.sortedView()
        #expect(view.items.count == sketch.numRetained && view.cumulativeWeights.count == view.items.count)
        #expect(zip(view.items, view.items.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(zip(view.cumulativeWeights, view.cumulativeWeights.dropFirst()).allSatisfy { $0 < $1 })
        #expect(view.totalWeight == sketch.count)
        #expect(view.quantile(rank: 1, inclusive: false) == view.items.last)
        #expect(view.quantile(rank: 0, inclusive: true) == view.items.first)
    }

    @Test func bulkUpdateMatchesItemByItemUpdates() throws {
        var generator = SplitMix64(seed: 11)
        var stream: [Double] = []
        for i in 0..<100_000 { stream.append(i % 997 == 0 ? .nan : generator.nextUnitDouble()) }
        stream += [.nan, .nan]
        var one = KLLDoublesSketch()
        for item in stream { one.update(item) }
        var bulk = KLLDoublesSketch()
        bulk.update(contentsOf: stream)
        var chunked = KLLDoublesSketch()
        for start in stride(from: 0, to: stream.count, by: 777) {
            chunked.update(contentsOf: stream[start..<min(start + 777, stream.count)])
        }
        var lazy = KLLDoublesSketch()
        lazy.update(contentsOf: stream.lazy.map { $0 })
        #expect(bulk.serialized() == one.serialized())
        #expect(chunked.serialized() == one.serialized())
        #expect(lazy.serialized() == one.serialized())
        #expect(one.invariantViolations() == [])
    }

    @Test func equalInputsAndSeedsGiveEqualBytes() throws {
        var generator = SplitMix64(seed: 5)
        let stream = (0..<20_000).map { _ in Float(generator.nextUnitDouble()) }
        var a = KLLFloatsSketch()
        var b = KLLFloatsSketch()
        a.update(contentsOf: stream)
        b.update(contentsOf: stream)
        #expect(a.serialized() == b.serialized())
        var c = try KLLFloatsSketch(k: 200, randomSeed: 99)
        c.update(contentsOf: stream)
        #expect(c.count == a.count && c.invariantViolations() == [])
    }

    // MARK: - merges

    enum Shape: String, CaseIterable, Sendable { case empty, single, full }

    static func sketch(_ shape: Shape, k: Int, offset: Double) throws -> (KLLDoublesSketch, [Double]) {
        var sketch = try KLLDoublesSketch(k: k)
        let stream: [Double]
        switch shape {
        case .empty: stream = []
        case .single: stream = [offset + 0.5]
        case .full:
            var generator = SplitMix64(seed: UInt64(offset * 10))
            stream = (0..<3000).map { _ in offset + generator.nextUnitDouble() }
        }
        sketch.update(contentsOf: stream)
        return (sketch, stream)
    }

    @Test(arguments: Shape.allCases, Shape.allCases)
    func mergeCombinesEveryShape(left: Shape, right: Shape) throws {
        for (kLeft, kRight) in [(200, 200), (200, 50), (20, 300)] {
            var (a, streamA) = try Self.sketch(left, k: kLeft, offset: 1)
            let (b, streamB) = try Self.sketch(right, k: kRight, offset: 1.25)
            let bBytes = b.serialized()
            a.merge(b)
            let stream = streamA + streamB
            #expect(b.serialized() == bBytes)  // the argument is not changed
            #expect(a.invariantViolations() == [], "\(left)+\(right) k \(kLeft)/\(kRight)")
            #expect(a.count == UInt64(stream.count) && a.k == kLeft)
            #expect(a.min == stream.min() && a.max == stream.max())
            let expectedMinK = right == .full ? min(kLeft, kRight) : kLeft
            #expect(a.minK == expectedMinK)
            if stream.isEmpty {
                #expect(a.isEmpty)
                continue
            }
            let epsilon = a.normalizedRankError(pmf: false)
            for rank in stride(from: 0.0, through: 1.0, by: 0.05) {
                let quantile = try #require(a.quantile(rank: rank))
                #expect(KLLTestSupport.quantileRankError(stream, quantile: quantile, rank: rank) <= epsilon)
            }
            let decoded = try KLLDoublesSketch(serialized: a.serialized())
            #expect(decoded.serialized() == a.serialized())
        }
    }

    @Test func mergeIntoItsOwnCopyDoublesTheWeights() throws {
        var generator = SplitMix64(seed: 21)
        var original = KLLDoublesSketch()
        for _ in 0..<50_000 { original.update(generator.nextUnitDouble()) }
        let bytes = original.serialized()
        var doubled = original
        doubled.merge(doubled)
        #expect(original.serialized() == bytes)
        #expect(doubled.count == 2 * original.count && doubled.min == original.min && doubled.max == original.max)
        #expect(doubled.invariantViolations() == [])
        for rank in [0.1, 0.25, 0.5, 0.75, 0.9] {
            let q = try #require(doubled.quantile(rank: rank))
            #expect(abs(q - rank) <= 2 * doubled.normalizedRankError(pmf: false))
        }
    }

    @Test func mergeTakesMinKOnlyFromSketchesInEstimationMode() throws {
        var big = KLLDoublesSketch()
        var small = try KLLDoublesSketch(k: 50)
        small.update(contentsOf: (0..<50).map(Double.init))
        big.merge(small)
        #expect(big.minK == 200)  // `small` was still exact
        small.update(contentsOf: (50..<500).map(Double.init))
        big.merge(small)
        #expect(big.minK == 50)
        #expect(big.normalizedRankError(pmf: false) == KLLDoublesSketch.normalizedRankError(k: 50, pmf: false))
    }

    // MARK: - arguments

    @Test func splitPointsMustBeIncreasingAndNotNaN() throws {
        var sketch = KLLDoublesSketch()
        sketch.update(contentsOf: [1, 2, 3, 4])
        #expect(try sketch.cdf(splitPoints: []) == [1])
        #expect(try sketch.pmf(splitPoints: [2.5]) == [0.5, 0.5])
        #expect(try sketch.cdf(splitPoints: [2, 3], inclusive: true) == [0.5, 0.75, 1])
        for bad: [Double] in [[.nan], [1, .nan], [2, 2], [3, 1]] {
            do {
                _ = try sketch.cdf(splitPoints: bad)
                Issue.record("\(bad) accepted")
            } catch {
                #expect(!error.isDecodingError && error.description.contains("KLL split point"))
            }
            #expect(throws: SketchError.self) { try sketch.pmf(splitPoints: bad) }
            #expect(throws: SketchError.self) { try KLLDoublesSketch().pmf(splitPoints: bad) }
        }
    }

    @Test func rankOfNaNFollowsTheLibrary() {
        var sketch = KLLDoublesSketch()
        sketch.update(contentsOf: [1, 2, 3])
        #expect(sketch.rank(of: .nan) == 0 && sketch.rank(of: .nan, inclusive: true) == 1)
    }

    /// The error formula's power is evaluated correctly rounded without libm; glibc's
    /// `pow`, which the library calls, misrounds a few inputs (e.g. 155^0.9433 by just over
    /// half an ulp). So every valid k agrees with the platform formula to 2 ulps, almost
    /// all exactly, and all the k values people use exactly.
    @Test func normalizedRankErrorMatchesPlatformPowWithinTwoUlps() {
        var mismatches = 0
        for k in 8...65535 {
            for (pmf, c, e) in [(false, 2.296, 0.9723), (true, 2.446, 0.9433)] {
                let platform = c / Foundation.pow(Double(k), e)
                let ours = KLLDoublesSketch.normalizedRankError(k: k, pmf: pmf)
                if ours != platform {
                    mismatches += 1
                    // 1 ulp in the power becomes at most 2 ulps in the quotient
                    #expect(abs(ours - platform) <= 2 * platform.ulp, "k=\(k) pmf=\(pmf)")
                }
            }
        }
        #expect(mismatches < 200)  // 105 of 131,056 with glibc 2.36
        let common = [
            8, 16, 20, 32, 50, 64, 100, 128, 150, 200, 256, 300, 400, 500, 512, 1000, 1024, 2048, 4096, 65535,
        ]
        for k in common {
            #expect(KLLDoublesSketch.normalizedRankError(k: k, pmf: false) == 2.296 / Foundation.pow(Double(k), 0.9723))
            #expect(KLLDoublesSketch.normalizedRankError(k: k, pmf: true) == 2.446 / Foundation.pow(Double(k), 0.9433))
        }
        #expect(KLLDoublesSketch.normalizedRankError(k: 200, pmf: false) == 0.013294757464848584)
    }
}
