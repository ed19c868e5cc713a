import Foundation
import Testing

@testable import Sketches

/// Randomised streams (seeded SplitMix64; the seed is in every failure message): the
/// deterministic guarantee `lowerBound ≤ true weight ≤ upperBound` for every item, also after
/// merges and serialization round trips, and the typical a-priori error bound.
@Suite struct FrequentItemsPropertyTests {
    typealias Stream = [(item: String, weight: UInt64)]

    enum Shape: String, CaseIterable, CustomTestStringConvertible {
        case zipf, uniform, zipfWeighted, uniformWeighted
        var testDescription: String { rawValue }
    }

    /// A stream of `count` updates. Zipf-like: rank r in 1...3000 with probability ∝ r^-1.1;
    /// uniform: 4000 equally likely items. Every fifth rank is spelled in Cyrillic to exercise
    /// multi-byte keys. Weighted streams draw weights in 1...1000.
    static func stream(_ shape: Shape, seed: UInt64, count: Int) -> Stream {
        var rng = SplitMix64(seed: seed)
        let ranks = 3000
        var cumulative = [Double]()
        var sum = 0.0
        for r in 1...ranks {
            sum += pow(Double(r), -1.1)
            cumulative.append(sum)
        }
        func name(_ r: Int) -> String { r % 5 == 0 ? "ключ\(r)" : "w\(r)" }
        var result = Stream()
        result.reserveCapacity(count)
        for _ in 0..<count {
            let rank: Int
            switch shape {
            case .zipf, .zipfWeighted:
                let u = rng.nextUnitDouble() * sum
                var low = 0
                var high = ranks - 1
                while low < high {
                    let mid = (low + high) / 2
                    if cumulative[mid] <= u { low = mid + 1 } else { high = mid }
                }
                rank = low + 1
            case .uniform, .uniformWeighted:
                rank = Int(rng.next() % 4000) + 1
            }
            let weight: UInt64
            switch shape {
            case .zipf, .uniform: weight = 1
            case .zipfWeighted, .uniformWeighted: weight = 1 + rng.next() % 1000
            }
            result.append((name(rank), weight))
        }
        return result
    }

    static func truth(_ stream: some Sequence<(item: String, weight: UInt64)>) -> [String: UInt64] {
        var counts = [String: UInt64]()
        for (item, weight) in stream { counts[item, default: 0] += weight }
        return counts
    }

    /// Checks the bounds of every item of `truth` (and of one absent item) in `sketch`.
    static func expectBounds(_ sketch: FrequentStringsSketch, _ truth: [String: UInt64], _ context: String) {
        #expect(sketch.map.invariantViolation() == nil, "\(context): \(sketch.map.invariantViolation() ?? "")")
        #expect(sketch.totalWeight == truth.values.reduce(0, +), "\(context): total weight")
        var violations = 0
        for (item, weight) in truth {
            let lower = sketch.lowerBound(item)
            let upper = sketch.upperBound(item)
            if !(lower <= weight && weight <= upper) {
                violations += 1
                if violations <= 3 { Issue.record("\(context): \(item) true \(weight) not in [\(lower), \(upper)]") }
            }
            let estimate = sketch.estimate(item)
            #expect(estimate == 0 || estimate == upper, "\(context): estimate(\(item))")
        }
        #expect(violations == 0, "\(context): \(violations) items outside their bounds")
        #expect(sketch.lowerBound("never-seen") == 0 && sketch.upperBound("never-seen") == sketch.maximumError)

        // No false negatives above the maximum error; no false positives in the other mode.
        let threshold = sketch.maximumError
        let reported = Set(sketch.frequentItems(errorType: .noFalseNegatives).map(\.item))
        let missed = truth.filter { $0.value > threshold && !reported.contains($0.key) }
        #expect(missed.isEmpty, "\(context): .noFalseNegatives missed \(missed.count) items")
        let falsePositives = sketch.frequentItems(errorType: .noFalsePositives).filter {
            truth[$0.item, default: 0] <= threshold
        }
        #expect(falsePositives.isEmpty, "\(context): .noFalsePositives reported \(falsePositives.count) light items")
    }

    @Test(arguments: Shape.allCases, [UInt64(1), 2])
    func boundsHoldForEveryItem(_ shape: Shape, _ seed: UInt64) throws {
        let stream = Self.stream(shape, seed: seed, count: 20_000)
        let truth = Self.truth(stream)
        for lg in [4, 6, 8] {
            var sketch = try FrequentStringsSketch(lgMaxMapSize: lg)
            for (item, weight) in stream { sketch.update(item, weight: weight) }
            let context = "\(shape) seed \(seed) lg \(lg)"
            #expect(sketch.maximumError > 0, "\(context): expected purges")
            Self.expectBounds(sketch, truth, context)
            // The a-priori error 3.5/2^lg · N holds comfortably on these streams.
            let apriori = FrequentStringsSketch.aprioriError(lgMaxMapSize: lg, totalWeight: sketch.totalWeight)
            #expect(
                Double(sketch.maximumError) <= apriori, "\(context): error \(sketch.maximumError) > a-priori \(apriori)"
            )
            // A decoded copy answers the same.
            let decoded = try FrequentStringsSketch(serialized: sketch.serialized())
            Self.expectBounds(decoded, truth, context + " decoded")
        }
    }

    @Test(arguments: Shape.allCases, [UInt64(3), 4])
    func boundsHoldAfterMerges(_ shape: Shape, _ seed: UInt64) throws {
        let stream = Self.stream(shape, seed: seed, count: 24_000)
        let truth = Self.truth(stream)
        // Four parts of unequal length, sketched at different sizes, merged in two ways. (Part 0
        // has 3001 updates: with 3000, a uniform stream at lg 5 purges itself to no items
        // exactly at the end — every purge of all-1 counters empties the map — and the library
        // skips such a sketch when merging; see `distinctStreamCanPurgeSketchToEmpty`.)
        let cuts = [0, 3_001, 11_000, 16_000, stream.count]
        var parts = [FrequentStringsSketch]()
        for (i, lg) in [5, 7, 6, 8].enumerated() {
            var part = try FrequentStringsSketch(lgMaxMapSize: lg)
            for (item, weight) in stream[cuts[i]..<cuts[i + 1]] { part.update(item, weight: weight) }
            Self.expectBounds(part, Self.truth(stream[cuts[i]..<cuts[i + 1]]), "\(shape) seed \(seed) part \(i)")
            try #require(!part.isEmpty, "\(shape) seed \(seed) part \(i) purged to empty")
            parts.append(part)
        }
        var inMemory = try FrequentStringsSketch(lgMaxMapSize: 6)
        for part in parts { inMemory.merge(part) }
        Self.expectBounds(inMemory, truth, "\(shape) seed \(seed) merged")
        let apriori = FrequentStringsSketch.aprioriError(lgMaxMapSize: 6, totalWeight: inMemory.totalWeight)
        #expect(Double(inMemory.maximumError) <= apriori, "\(shape) seed \(seed): merged error above a-priori")

        // Tree merge of decoded images: (p0 + p1) + (p2 + p3).
        var left = try FrequentStringsSketch(serialized: parts[0].serialized())
        left.merge(try FrequentStringsSketch(serialized: parts[1].serialized()))
        var right = try FrequentStringsSketch(serialized: parts[2].serialized())
        right.merge(try FrequentStringsSketch(serialized: parts[3].serialized()))
        left.merge(right)
        Self.expectBounds(left, truth, "\(shape) seed \(seed) tree-merged")
    }

    @Test(arguments: [UInt64(5), 6, 7])
    func mapInvariantsHoldThroughGrowthAndPurges(_ seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        var sketch = try FrequentStringsSketch(lgMaxMapSize: 5)
        for step in 0..<4_000 {
            // Short keys, keys of 7, 8, 15 and 16 bytes (the word and inline-storage
            // boundaries) and long keys kept in the arena.
            let n = rng.next() % 90
            let key: String
            switch rng.next() % 6 {
            case 0: key = "long-key-\(n)-padding"
            case 1: key = String(repeating: "x", count: 7 + Int(n % 2)) + "\(n % 10)"  // 8 or 9 bytes
            case 2: key = "fourteen-byte\(n % 10)"  // 14 bytes
            case 3: key = "fifteen-bytes-\(n % 10)"  // 15 bytes
            case 4: key = "sixteen-bytes-\(n % 100)"  // 15 or 16 bytes
            default: key = "k\(n)"
            }
            sketch.update(key, weight: 1 + rng.next() % 5)
            if step % 97 == 0 {
                #expect(
                    sketch.map.invariantViolation() == nil,
                    "seed \(seed) step \(step): \(sketch.map.invariantViolation() ?? "")")
            }
        }
        #expect(sketch.map.invariantViolation() == nil, "seed \(seed)")
        let decoded = try FrequentStringsSketch(serialized: sketch.serialized())
        #expect(decoded.map.invariantViolation() == nil, "seed \(seed) decoded")
        #expect(FrequentItemsFixtures.canonical(decoded.items) == FrequentItemsFixtures.canonical(sketch.items))
    }
}
