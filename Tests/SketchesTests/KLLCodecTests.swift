import Foundation
import Testing

@testable import Sketches

/// The decoder's treatment of the legacy layout and of hostile bytes.
@Suite struct KLLCodecTests {
    static let family = KLLTestSupport.family

    /// The legacy preamble-6 doubles layout (datasketches-java 3.x, whylogs-sketching) of a
    /// standard image: byte 0 = 6 and 4 padding bytes inserted at byte 20 (FORMATS.md).
    static func legacyImage(of standard: [UInt8]) -> [UInt8] {
        guard standard[0] == 5 else { return standard }
        var legacy = standard
        legacy[0] = 6
        legacy.insert(contentsOf: [0, 0, 0, 0], at: 20)
        return legacy
    }

    @Test(arguments: [
        "kll_doubles_k200_seq_n1000", "kll_doubles_k200_splitmix64_n100000", "kll_doubles_k20_splitmix64_n21",
        "kll_doubles_k200_merge_large",
    ])
    func legacyPreambleSixImageAnswersLikeStandardImage(name: String) throws {
        let standard = try Fixtures.bytes(Self.family, name + ".bin")
        let legacy = Self.legacyImage(of: standard)
        #expect(legacy.count == standard.count + 4 && legacy[0] == 6)
        #expect(try KLLImage.itemType(of: legacy) == .double)
        let a = try KLLDoublesSketch(serialized: standard)
        let b = try KLLDoublesSketch(serialized: legacy)
        #expect(b.invariantViolations() == [])
        #expect(a.count == b.count && a.minK == b.minK && a.levels == b.levels && a.min == b.min && a.max == b.max)
        let ranks = (0...100).map { Double($0) / 100 }
        for inclusive in [false, true] {
            #expect(a.quantiles(ranks: ranks, inclusive: inclusive) == b.quantiles(ranks: ranks, inclusive: inclusive))
            let points = try #require(a.quantiles(ranks: [0.1, 0.3, 0.5, 0.7, 0.9]))
            #expect(
                try a.cdf(splitPoints: points, inclusive: inclusive) == b.cdf(splitPoints: points, inclusive: inclusive)
            )
        }
        // written back in the standard layout, which is the library's own image
        #expect(b.serialized() == standard)
        // the floats reader has no legacy layout
        #expect(throws: SketchError.self) { try KLLFloatsSketch(serialized: legacy) }
    }

    @Test func standardLayoutSurvivesRoundTripThroughLegacyForUpdatedSketch() throws {
        var sketch = KLLDoublesSketch()
        var generator = SplitMix64(seed: 77)
        for _ in 0..<5000 { sketch.update(generator.nextUnitDouble()) }
        let decoded = try KLLDoublesSketch(serialized: Self.legacyImage(of: sketch.serialized()))
        #expect(decoded.serialized() == sketch.serialized())
    }

    // MARK: - truncation

    static let truncationCases: [(name: String, legacy: Bool)] = [
        ("kll_doubles_k200_seq_n0", false), ("kll_floats_k200_seq_n0", false),
        ("kll_doubles_k200_seq_n1", false), ("kll_floats_k200_seq_n1", false),
        ("kll_doubles_k200_splitmix64_n100000", false), ("kll_floats_k200_splitmix64_n100000", false),
        ("kll_floats_k20_splitmix64_n21", false), ("kll_doubles_k200_seq_n1000", true),
    ]

    @Test(arguments: truncationCases.indices)
    func rejectsImageTruncatedAtEveryByte(index: Int) throws {
        let (name, legacy) = Self.truncationCases[index]
        var image = try Fixtures.bytes(Self.family, name + ".bin")
        if legacy { image = Self.legacyImage(of: image) }
        let isFloat = name.contains("floats")
        for length in 0..<image.count {
            let prefix = image[0..<length]
            do {
                if isFloat {
                    _ = try KLLFloatsSketch(serialized: prefix)
                } else {
                    _ = try KLLDoublesSketch(serialized: prefix)
                }
                Issue.record("\(name): a \(length)-byte prefix decoded")
            } catch {
                #expect(
                    error.isDecodingError && error.offset.map { $0 <= length } == true, "\(name) \(length): \(error)")
            }
            _ = try? KLLImage.itemType(of: prefix)  // must not trap either
        }
        // one byte too many is rejected too
        #expect(throws: SketchError.self) {
            if isFloat {
                _ = try KLLFloatsSketch(serialized: image + [0])
            } else {
                _ = try KLLDoublesSketch(serialized: image + [0])
            }
        }
    }

    @Test func truncationErrorNamesFieldAndOffset() throws {
        let image = try Fixtures.bytes(Self.family, "kll_doubles_k200_seq_n1000.bin")
        do {
            _ = try KLLDoublesSketch(serialized: image[0..<12])
            Issue.record("expected an error")
        } catch {
            #expect(error.offset == 8)
            #expect(error.description.hasPrefix("KLL image: truncated: n needs 8 bytes"))
        }
    }

    // MARK: - corrupted header fields

    /// One corruption of a valid full image (doubles, k = 200, n = 1000, 3 levels).
    struct Corruption: CustomStringConvertible, Sendable {
        let description: String
        let offset: Int
        let mutate: @Sendable (inout [UInt8]) -> Void
    }

    static func put32(_ value: UInt32, at offset: Int, in image: inout [UInt8]) {
        for i in 0..<4 { image[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
    }

    static let corruptions: [Corruption] = [
        // preamble ints other than 5/6 for a full image
        Corruption(description: "preamble 3", offset: 0) { $0[0] = 3 },
        // the short preamble with no empty/single flag
        Corruption(description: "preamble 2 without flags", offset: 0) { $0[0] = 2 },
        // serial version 3 is Java's updatable layout
        Corruption(description: "serial version 3", offset: 1) { $0[1] = 3 },
        Corruption(description: "serial version 0", offset: 1) { $0[1] = 0 },
        // HLL's family id
        Corruption(description: "family 7", offset: 2) { $0[2] = 7 },
        // m must be 8
        Corruption(description: "m = 4", offset: 6) { $0[6] = 4 },
        // k below the minimum
        Corruption(description: "k = 0", offset: 4) {
            $0[4] = 0; $0[5] = 0
        },
        Corruption(description: "k = 7", offset: 4) {
            $0[4] = 7; $0[5] = 0
        },
        // flags: unknown bit, updatable bit, both empty and single
        Corruption(description: "flag bit 5", offset: 3) { $0[3] |= 0x20 },
        Corruption(description: "updatable flag", offset: 3) { $0[3] |= 0x10 },
        Corruption(description: "empty and single flags", offset: 3) { $0[3] = 0x05 },
        // a full image flagged empty needs preamble 2
        Corruption(description: "empty flag on full image", offset: 0) { $0[3] = 0x01 },
        // n = 0 with items
        Corruption(description: "n = 0", offset: 8) { for i in 8..<16 { $0[i] = 0 } },
        // n inconsistent with the level sizes (capacity)
        Corruption(description: "n + 1", offset: 8) { $0[8] &+= 1 },
        Corruption(description: "n = UInt64.max", offset: 8) { for i in 8..<16 { $0[i] = 0xFF } },
        // min_k out of 8...k
        Corruption(description: "min_k = 0", offset: 16) {
            $0[16] = 0; $0[17] = 0
        },
        Corruption(description: "min_k > k", offset: 16) {
            $0[16] = 201; $0[17] = 0
        },
        // absurd level counts
        Corruption(description: "num_levels = 0", offset: 18) { $0[18] = 0 },
        Corruption(description: "num_levels = 200", offset: 18) { $0[18] = 200 },
        // a level offset beyond the capacity (422 for 3 levels)
        Corruption(description: "level 1 offset 5000", offset: 24) { put32(5000, at: 24, in: &$0) },
        Corruption(description: "level 0 offset 0xFFFFFFFF", offset: 20) { put32(.max, at: 20, in: &$0) },
        // offsets not monotonic
        Corruption(description: "level 2 before level 1", offset: 28) { put32(0, at: 28, in: &$0) },
        // NaN min item
        Corruption(description: "NaN min", offset: 32) { $0.replaceSubrange(32..<40, with: Self.bytes(Double.nan)) },
        // an item outside [min, max]
        Corruption(description: "item above max", offset: 48) { $0.replaceSubrange(48..<56, with: Self.bytes(1e9)) },
    ]

    static func bytes(_ value: Double) -> [UInt8] {
        withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) }
    }

    @Test(arguments: corruptions)
    func rejectsCorruptedHeaderField(corruption: Corruption) throws {
        var image = try Fixtures.bytes(Self.family, "kll_doubles_k200_seq_n1000.bin")
        #expect(image[18] == 3)  // the offsets above assume 3 levels
        corruption.mutate(&image)
        do {
            _ = try KLLDoublesSketch(serialized: image)
            Issue.record("\(corruption) was accepted")
        } catch {
            #expect(error.isDecodingError)
            #expect(error.offset == corruption.offset, "\(corruption): \(error)")
            #expect(!error.reason.isEmpty)
        }
    }

    /// Float images go through the same block copy: an item outside [min, max] or a NaN item
    /// is named at its byte offset, and a valid image re-serializes to the same bytes.
    @Test func floatImagesAreCheckedItemByItem() throws {
        var sketch = KLLFloatsSketch()
        for i in 0..<5000 { sketch.update(Float(i % 977) * 0.5) }
        let image = sketch.serialized()
        #expect(try KLLFloatsSketch(serialized: image).serialized() == image)
        let itemsStart = 20 + 4 * (sketch.levels.count - 1)
        for (index, bad) in [(3, Float(1e9)), (40, Float.nan)] {
            var corrupt = image
            let at = itemsStart + (index + 2) * 4
            corrupt.replaceSubrange(at..<(at + 4), with: withUnsafeBytes(of: bad.bitPattern.littleEndian) { Array($0) })
            let error = try #require(throws: SketchError.self) { try KLLFloatsSketch(serialized: corrupt) }
            #expect(error.offset == at, "\(bad): \(error)")
        }
    }

    @Test func rejectsUnsortedLevel() throws {
        var image = try Fixtures.bytes(Self.family, "kll_doubles_k200_seq_n1000.bin")
        let sketch = try KLLDoublesSketch(serialized: image)
        // swap the first two items of level 1
        let first = 20 + 4 * 3 + 16 + (sketch.levels[1] - sketch.levels[0]) * 8
        let a = Array(image[first..<(first + 8)])
        image.replaceSubrange(first..<(first + 8), with: image[(first + 8)..<(first + 16)])
        image.replaceSubrange((first + 8)..<(first + 16), with: a)
        #expect(throws: SketchError.self) { try KLLDoublesSketch(serialized: image) }
        // two distinct items inside one level (level 2 of this image holds many): the error
        // names the second, now smaller than its predecessor
        var swapped = try Fixtures.bytes(Self.family, "kll_doubles_k200_seq_n1000.bin")
        #expect(sketch.levels[3] - sketch.levels[2] > 2)
        let inLevel2 = 20 + 4 * 3 + 16 + (sketch.levels[2] - sketch.levels[0]) * 8
        let head = Array(swapped[inLevel2..<(inLevel2 + 8)])
        swapped.replaceSubrange(inLevel2..<(inLevel2 + 8), with: swapped[(inLevel2 + 8)..<(inLevel2 + 16)])
        swapped.replaceSubrange((inLevel2 + 8)..<(inLevel2 + 16), with: head)
        let error = try #require(throws: SketchError.self) { try KLLDoublesSketch(serialized: swapped) }
        #expect(error.offset == inLevel2 + 8, "\(error)")
        // and a level 0 flagged sorted that is not (the image's level 0 is in arrival order)
        var flagged = try Fixtures.bytes(Self.family, "kll_doubles_k200_seq_n100.bin")
        flagged[3] |= 0b10
        #expect(throws: SketchError.self) { try KLLDoublesSketch(serialized: flagged) }
    }

    @Test func rejectsNaNSingleItemAndWrongSingleItemSize() throws {
        var single = try Fixtures.bytes(Self.family, "kll_doubles_k200_seq_n1.bin")
        single.replaceSubrange(8..<16, with: Self.bytes(.nan))
        #expect(throws: SketchError.self) { try KLLDoublesSketch(serialized: single) }
        let floatSingle = try Fixtures.bytes(Self.family, "kll_floats_k200_seq_n1.bin")
        #expect(throws: SketchError.self) { try KLLDoublesSketch(serialized: floatSingle) }
        #expect(throws: SketchError.self) { try KLLImage.itemType(of: floatSingle + [0, 0]) }
    }

    @Test func absurdClaimsAreRejectedBeforeAllocating() throws {
        // k = 65535, 61 levels, n = UInt64.max, and nothing else: the level offsets are
        // checked against the bytes present before any buffer exists
        var image: [UInt8] = [5, 1, 15, 0, 0xFF, 0xFF, 8, 0]
        image += [UInt8](repeating: 0xFF, count: 8) + [0xFF, 0xFF, 61, 0]
        do {
            _ = try KLLDoublesSketch(serialized: image)
            Issue.record("accepted")
        } catch {
            #expect(error.description.contains("level offsets") || error.description.contains("min_k"), "\(error)")
        }
        image[16] = 8
        image[17] = 0
        #expect(throws: SketchError.self) { try KLLDoublesSketch(serialized: image) }
        #expect(throws: SketchError.self) { try KLLImage.itemType(of: image) }
    }

    @Test func itemTypeOfEmptyImageIsAmbiguous() throws {
        #expect(try KLLImage.itemType(of: KLLDoublesSketch().serialized()) == nil)
        #expect(throws: SketchError.self) { try KLLImage.itemType(of: [5, 1, 15, 0, 200, 0, 8, 0]) }
        #expect(throws: SketchError.self) { try KLLImage.itemType(of: [2, 1, 7, 1, 200, 0, 8, 0]) }
    }

    /// Random byte flips of valid images: decoding either throws or yields a sketch whose
    /// invariants hold and whose every operation works.
    @Test func randomCorruptionsNeverBreakInvariants() throws {
        let seed: UInt64 = 0x5EED_0001
        var generator = SplitMix64(seed: seed)
        let images = try [
            "kll_doubles_k200_seq_n1000", "kll_doubles_k20_splitmix64_n100000", "kll_doubles_k200_seq_n1",
            "kll_doubles_k200_seq_n100",
        ].map { try Fixtures.bytes(Self.family, $0 + ".bin") }
        var accepted = 0
        for trial in 0..<3000 {
            var image = images[trial % images.count]
            let flips = 1 + Int(generator.next() % 3)
            for _ in 0..<flips {
                let position = Int(generator.next() % UInt64(image.count))
                image[position] ^= UInt8(truncatingIfNeeded: 1 << (generator.next() % 8))
            }
            guard let sketch = try? KLLDoublesSketch(serialized: image) else { continue }
            accepted += 1
            #expect(sketch.invariantViolations() == [], "seed \(seed) trial \(trial)")
            _ = sketch.quantiles(ranks: [0, 0.5, 1])
            _ = sketch.rank(of: 0.5)
            var merged = KLLDoublesSketch()
            merged.merge(sketch)
            merged.merge(sketch)
            merged.update(0.25)
            #expect(merged.invariantViolations() == [], "seed \(seed) trial \(trial)")
            #expect(try KLLDoublesSketch(serialized: sketch.serialized()).count == sketch.count)
        }
        #expect(accepted > 0)
    }
}
