import Testing

@testable import Sketches

/// Empty and one-item sketches, unusual items and weights, degenerate merges, parameter
/// validation, and the building blocks (hash, median selection) against independent answers.
@Suite struct FrequentItemsEdgeCaseTests {
    typealias F = FrequentItemsFixtures

    @Test func emptySketchHasDefaultsAndEightByteImage() throws {
        let sketch = FrequentStringsSketch()
        #expect(sketch.isEmpty && sketch.numActive == 0)
        #expect(sketch.totalWeight == 0 && sketch.maximumError == 0)
        #expect(sketch.lgMaxMapSize == 10 && sketch.lgCurMapSize == 3)
        #expect(sketch.epsilon == 3.5 / 1024)
        #expect(sketch.estimate("a") == 0 && sketch.lowerBound("a") == 0 && sketch.upperBound("a") == 0)
        #expect(sketch.items.isEmpty)
        #expect(sketch.frequentItems(errorType: .noFalseNegatives).isEmpty)
        #expect(sketch.frequentItems(errorType: .noFalsePositives, threshold: 0).isEmpty)
        #expect(sketch.serialized() == [1, 1, 10, 10, 3, 5, 0, 0])
        let decoded = try FrequentStringsSketch(serialized: sketch.serialized())
        #expect(decoded.isEmpty && decoded.lgMaxMapSize == 10 && decoded.serialized() == sketch.serialized())
        // Same bytes as the library's empty lg 5 sketch.
        #expect(
            try FrequentStringsSketch(lgMaxMapSize: 5).serialized()
                == Fixtures.bytes(F.family, "fi_strings_lg5_empty.bin"))
    }

    @Test func validatesLgMaxMapSize() throws {
        for bad in [Int.min, -1, 0, 2, 27, 64, Int.max] {
            do {
                _ = try FrequentStringsSketch(lgMaxMapSize: bad)
                Issue.record("lgMaxMapSize \(bad) accepted")
            } catch {
                #expect(!error.isDecodingError && error.description.contains("out of range 3...26"), "\(error)")
            }
        }
        #expect(try FrequentStringsSketch(lgMaxMapSize: 3).lgMaxMapSize == 3)
        #expect(try FrequentStringsSketch(lgMaxMapSize: 26).lgCurMapSize == 3)
        #expect(FrequentStringsSketch.epsilon(lgMaxMapSize: 3) == 0.4375)
        #expect(FrequentStringsSketch.epsilon(lgMaxMapSize: 26) == 3.5 / 67_108_864)
    }

    @Test func singleItemMatchesLibraryImage() throws {
        var sketch = try FrequentStringsSketch(lgMaxMapSize: 5)
        sketch.update("hello")
        #expect(sketch.serialized() == (try Fixtures.bytes(F.family, "fi_strings_lg5_single.bin")))
        #expect(sketch.items == [FrequentItemsRow(item: "hello", estimate: 1, lowerBound: 1, upperBound: 1)])
        #expect(sketch.frequentItems(errorType: .noFalseNegatives, threshold: 10).isEmpty)
    }

    @Test func emptyStringIsAnOrdinaryItem() throws {
        var sketch = FrequentStringsSketch()
        sketch.update("", weight: 3)
        sketch.update("x")
        #expect(!sketch.isEmpty && sketch.numActive == 2)
        #expect(sketch.estimate("") == 3 && sketch.lowerBound("") == 3)
        let image = sketch.serialized()
        #expect(image.count == 32 + 2 * 8 + 4 + 0 + 4 + 1)
        let decoded = try FrequentStringsSketch(serialized: image)
        #expect(decoded.estimate("") == 3 && decoded.estimate("x") == 1)
        #expect(decoded.frequentItems(errorType: .noFalsePositives, threshold: 0).first?.item == "")
    }

    @Test func itemsAreDistinguishedByTheirUTF8Bytes() throws {
        // Swift's == treats these two as equal (canonical equivalence); the library compares
        // bytes, so they are two items with different hashes.
        let precomposed = "\u{E9}"
        let decomposed = "e\u{301}"
        #expect(precomposed == decomposed)
        var sketch = FrequentStringsSketch()
        sketch.update(precomposed, weight: 2)
        sketch.update(decomposed, weight: 5)
        sketch.update("日本")
        sketch.update("ключ")
        sketch.update("🎉🎉", weight: 4)
        #expect(sketch.numActive == 5)
        #expect(sketch.lowerBound(precomposed) == 2 && sketch.lowerBound(decomposed) == 5)
        let decoded = try FrequentStringsSketch(serialized: sketch.serialized())
        #expect(decoded.lowerBound(precomposed) == 2 && decoded.lowerBound(decomposed) == 5)
        #expect(decoded.lowerBound("🎉🎉") == 4 && decoded.lowerBound("日本") == 1 && decoded.lowerBound("ключ") == 1)
        let listed = Set(decoded.items.map { Array($0.item.utf8) })
        #expect(listed.contains(Array(precomposed.utf8)) && listed.contains(Array(decomposed.utf8)))
    }

    @Test func zeroWeightIsIgnored() throws {
        var sketch = try FrequentStringsSketch(lgMaxMapSize: 5)
        sketch.update("a", weight: 0)
        #expect(sketch.isEmpty && sketch.totalWeight == 0)
        sketch.update("a", weight: 2)
        let before = sketch.serialized()
        sketch.update("a", weight: 0)
        sketch.update("b", weight: 0)
        #expect(sketch.serialized() == before && sketch.totalWeight == 2)
    }

    @Test func weightsWrapLikeTheLibraryInsteadOfTrapping() {
        var sketch = FrequentStringsSketch()
        sketch.update("a", weight: .max)
        sketch.update("a", weight: 2)
        #expect(sketch.totalWeight == 1 && sketch.lowerBound("a") == 1)
    }

    @Test func mergeWithEmptyChangesNothing() throws {
        var sketch = try FrequentStringsSketch(lgMaxMapSize: 5)
        for item in try F.zipfStream().prefix(5_000) { sketch.update(item) }
        let image = sketch.serialized()
        sketch.merge(try FrequentStringsSketch(lgMaxMapSize: 5))
        sketch.merge(FrequentStringsSketch())
        #expect(sketch.serialized() == image)

        var empty = try FrequentStringsSketch(lgMaxMapSize: 5)
        empty.merge(sketch)
        #expect(empty.totalWeight == sketch.totalWeight && empty.maximumError == sketch.maximumError)
        #expect(F.canonical(empty.items) == F.canonical(sketch.items))
    }

    @Test func mergingIntoItselfDoublesEveryWeight() throws {
        // Without purges every counter doubles exactly.
        var small = FrequentStringsSketch()
        for (item, weight) in [("a", UInt64(3)), ("b", 1), ("ключ", 5)] { small.update(item, weight: weight) }
        small.merge(small)
        #expect(small.totalWeight == 18 && small.maximumError == 0)
        #expect(small.lowerBound("a") == 6 && small.lowerBound("b") == 2 && small.lowerBound("ключ") == 10)

        // With purges the bounds still bracket the doubled true weights.
        let stream = try F.zipfStream().prefix(20_000)
        var truth = [String: UInt64]()
        var sketch = try FrequentStringsSketch(lgMaxMapSize: 6)
        for item in stream {
            sketch.update(item)
            truth[item, default: 0] += 2
        }
        let errorBefore = sketch.maximumError
        sketch.merge(sketch)
        #expect(sketch.totalWeight == 40_000 && sketch.maximumError >= 2 * errorBefore)
        for (item, weight) in truth {
            #expect(sketch.lowerBound(item) <= weight && weight <= sketch.upperBound(item), "\(item)")
        }
        #expect(sketch.map.invariantViolation() == nil)
    }

    @Test func distinctStreamCanPurgeSketchToEmpty() throws {
        // Library behaviour kept for byte compatibility: at lg 3 (capacity 6) the 7th distinct
        // item triggers a purge whose median counter is 1, which deletes every counter. The
        // sketch then tracks nothing: it reports empty, writes the empty image (dropping total
        // weight and offset) and is skipped by merge, though its own bounds stay correct.
        var sketch = try FrequentStringsSketch(lgMaxMapSize: 3)
        for i in 0..<7 { sketch.update("item\(i)") }
        #expect(sketch.isEmpty && sketch.totalWeight == 7 && sketch.maximumError == 1)
        #expect(sketch.upperBound("item0") == 1)
        #expect(sketch.serialized() == [1, 1, 10, 3, 3, 5, 0, 0])
        var other = FrequentStringsSketch()
        other.update("x")
        other.merge(sketch)
        #expect(other.totalWeight == 1 && other.maximumError == 0)
    }

    @Test func growsThroughEveryMapSizeBeforePurging() throws {
        var sketch = try FrequentStringsSketch(lgMaxMapSize: 8)
        var sizes = [sketch.lgCurMapSize]
        for i in 0..<192 {
            sketch.update("k\(i)")
            if sketch.lgCurMapSize != sizes.last { sizes.append(sketch.lgCurMapSize) }
        }
        // Capacity 0.75 · 2^lg: 6, 12, 24, 48, 96, 192 — the 7th, 13th, ... item doubles the map.
        #expect(sizes == [3, 4, 5, 6, 7, 8] && sketch.numActive == 192 && sketch.maximumError == 0)
        sketch.update("one-more")
        #expect(sketch.maximumError == 1 && sketch.lgCurMapSize == 8)
    }

    @Test func stdStringHashMatchesLibstdcxx() {
        // std::hash<std::string> values printed by a program built with GCC 12's libstdc++
        // on x86_64 (std::hash<std::string>{}(s), i.e. _Hash_bytes(s, len, 0xc70f6907)).
        let known: [(String, UInt64)] = [
            ("", 0x553e_9390_1e46_2a6e),
            ("a", 0x454d_dee4_88c1_ed6b),
            ("hello", 0x2655_3298_fdbe_39c8),
            ("1234567", 0x6d7a_4e79_e8a2_cbf6),
            ("12345678", 0x8c5b_90a3_3a04_dca5),
            ("123456789", 0xaaeb_28d3_d5f1_65c0),
            ("ключ5", 0x6492_9291_623b_eeb5),
            ("日本", 0x6d60_1c25_7d00_9c9d),
            ("w1", 0x99d1_d3d7_81b1_d179),
            ("a somewhat longer item of 33 bytes", 0x9df8_f0c0_f662_48c6),
        ]
        for (item, expected) in known {
            let hash = Array(item.utf8).withUnsafeBytes { FrequentItemsHash.libstdcxxHashBytes($0) }
            #expect(hash == expected, "\(item)")
        }
        // MurmurHash3 fmix64 reference points: fmix64(0) = 0 and a known nonzero value.
        #expect(MurmurHash3.fmix64(0) == 0)
        #expect(MurmurHash3.fmix64(1) == 0xb456_bcfc_34c2_cb2c)
    }

    @Test func medianSelectionMatchesSorting() {
        let seed: UInt64 = 0x5E1EC7
        var rng = SplitMix64(seed: seed)
        for trial in 0..<400 {
            let count = 1 + Int(rng.next() % 300)
            let spread = [2, 10, 1_000, 1 << 40][Int(rng.next() % 4)]
            let values = (0..<count).map { _ in 1 + rng.next() % UInt64(spread) }
            let rank = Int(rng.next() % UInt64(count))
            var scratch = values
            let selected = scratch.withUnsafeMutableBufferPointer { ReversePurgeStringMap.select($0, rank: rank) }
            #expect(selected == values.sorted()[rank], "seed \(seed) trial \(trial)")
        }
    }
}
