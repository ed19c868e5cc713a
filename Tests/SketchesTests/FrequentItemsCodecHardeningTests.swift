import Testing

@testable import Sketches

/// The decoder distrusts its input: every truncation and every corrupted header field throws a
/// ``SketchError`` naming the offset, never traps, and absurd counts are rejected before
/// anything is allocated.
@Suite struct FrequentItemsCodecHardeningTests {
    typealias F = FrequentItemsFixtures

    static func image(_ name: String) throws -> [UInt8] { try Fixtures.bytes(F.family, name + ".bin") }

    static func le32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
    static func le64(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }

    /// Decodes `bytes`, expecting a decoding error at `offset` whose message contains `phrase`.
    static func expectRejected(
        _ bytes: [UInt8], offset: Int, _ phrase: String, _ comment: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        do {
            let sketch = try FrequentStringsSketch(serialized: bytes)
            Issue.record(
                "\(comment): decoded \(sketch.numActive) items, expected an error", sourceLocation: sourceLocation)
        } catch {
            #expect(error.isDecodingError, "\(comment)", sourceLocation: sourceLocation)
            #expect(error.offset == offset, "\(comment): \(error)", sourceLocation: sourceLocation)
            #expect(error.description.contains(phrase), "\(comment): \(error)", sourceLocation: sourceLocation)
            #expect(
                error.description.hasSuffix("at byte \(offset)"), "\(comment): \(error)", sourceLocation: sourceLocation
            )
        }
    }

    @Test(arguments: [
        "fi_strings_lg5_empty", "fi_strings_lg5_single", "fi_strings_lg5_small_weighted",
        "fi_strings_lg5_merge_halves", "fi_strings_lg7_zipf_n100000",
    ])
    func rejectsTruncationAtEveryByte(_ name: String) throws {
        let bytes = try Self.image(name)
        _ = try FrequentStringsSketch(serialized: bytes)
        for length in 0..<bytes.count {
            do {
                _ = try FrequentStringsSketch(serialized: bytes[..<length])
                Issue.record("\(name): prefix of \(length) bytes decoded")
            } catch {
                #expect(error.isDecodingError && (error.offset ?? .max) <= length, "\(name) prefix \(length): \(error)")
            }
        }
    }

    @Test func rejectsCorruptedHeaderFields() throws {
        let empty = try Self.image("fi_strings_lg5_empty")  // lg max 5, lg cur 3
        let single = try Self.image("fi_strings_lg5_single")  // 1 item "hello", weight 1
        func with(_ base: [UInt8], _ at: Int, _ replacement: [UInt8]) -> [UInt8] {
            var bytes = base
            bytes.replaceSubrange(at..<(at + replacement.count), with: replacement)
            return bytes
        }
        // (image, offset, phrase, what is wrong)
        let cases: [([UInt8], Int, String, String)] = [
            (with(single, 0, [1]), 0, "preamble longs 1", "non-empty image with the empty preamble"),
            (with(single, 0, [2]), 0, "preamble longs 2", "preamble size no writer uses"),
            (with(empty, 0, [4]), 0, "preamble longs 4", "empty image with the non-empty preamble"),
            (with(single, 1, [2]), 1, "serial version 2", "future serial version"),
            (with(single, 1, [0]), 1, "serial version 0", "zero serial version"),
            (with(single, 2, [15]), 2, "family id 15", "KLL family id"),
            (with(single, 3, [2]), 3, "lg max map size 2", "lg max below the minimum 3"),
            (with(single, 3, [27]), 3, "lg max map size 27", "lg max above the limit 26"),
            (with(single, 3, [255]), 3, "lg max map size 255", "absurd lg max"),
            (with(single, 4, [2]), 4, "lg cur map size 2", "lg cur below the minimum 3"),
            (with(single, 4, [6]), 4, "lg cur map size 6", "lg cur greater than lg max 5"),
            (with(empty, 4, [9]), 4, "lg cur map size 9", "empty image with lg cur greater than lg max"),
            (with(single, 5, [0x02]), 5, "unknown flag bits", "undefined flag bit 1"),
            (with(single, 5, [0x80]), 5, "unknown flag bits", "undefined flag bit 7"),
            (with(single, 8, Self.le32(0)), 8, "0 active items", "non-empty image without items"),
            (with(single, 8, Self.le32(7)), 8, "exceed the capacity 6", "more items than an 8-slot map holds"),
            (with(single, 8, Self.le32(.max)), 8, "4294967295 active items", "absurd item count"),
            (with(single, 8, Self.le32(6)), 32, "truncated: 6 counters", "item count within capacity, bytes missing"),
            (with(single, 16, Self.le64(0)), 16, "total weight 0", "total weight below the counters"),
            (with(single, 24, Self.le64(1)), 16, "offset 1", "counters plus offset above the total weight"),
            (with(single, 24, Self.le64(.max)), 16, "less than the counters", "offset that overflows the sum"),
            (with(single, 32, Self.le64(0)), 32, "counter 0", "zero counter"),
            (with(single, 40, Self.le32(.max)), 44, "item needs 4294967295 bytes", "absurd string length"),
            (with(single, 40, Self.le32(6)), 44, "item needs 6 bytes", "string length one past the end"),
            (with(single, 44, [0xFF]), 44, "not valid UTF-8", "0xFF in an item"),
            (with(single, 45, [0xC0, 0x80]), 45, "not valid UTF-8", "overlong NUL in an item"),
            (single + [0], 49, "1 trailing bytes", "trailing byte after the last item"),
            (empty + [0, 0, 0, 0], 8, "4 trailing bytes", "trailing bytes after an empty image"),
        ]
        for (bytes, offset, phrase, comment) in cases {
            Self.expectRejected(bytes, offset: offset, phrase, comment)
        }
    }

    @Test func rejectsCorruptedItemsOfWeightedImage() throws {
        // Items at 80: "c" (80), "日本" (85, bytes 89...94), "a" (95), "é" (100, bytes 104...105),
        // "b" (106, byte 110), "" (111); counters at 32...79; total weight 27 at 16.
        let base = try Self.image("fi_strings_lg5_small_weighted")
        func with(_ at: Int, _ replacement: [UInt8]) -> [UInt8] {
            var bytes = base
            bytes.replaceSubrange(at..<(at + replacement.count), with: replacement)
            return bytes
        }
        Self.expectRejected(with(105, [0x41]), offset: 104, "not valid UTF-8", "'é' with a broken continuation byte")
        Self.expectRejected(with(89, [0xED, 0xA0, 0x80]), offset: 89, "not valid UTF-8", "UTF-16 surrogate encoded")
        Self.expectRejected(with(110, [0x61]), offset: 106, "duplicate item", "\"b\" replaced by a second \"a\"")
        Self.expectRejected(
            with(16, Self.le64(26)), offset: 16, "total weight 26", "total weight one below the counters")
        Self.expectRejected(with(72, Self.le64(0)), offset: 72, "counter 0", "last counter zero")
        Self.expectRejected(with(80, Self.le32(0x7FFF_FFFF)), offset: 84, "truncated", "absurd first string length")
        Self.expectRejected(Array(base.dropLast()), offset: 111, "truncated", "last length field cut short")
    }

    @Test func rejectsLargeClaimsBeforeAllocating() throws {
        // A 40-byte image claiming the largest map and as many items as it could hold: rejected
        // by the byte count before any table or counter storage is allocated.
        var header: [UInt8] = [4, 1, 10, 26, 26, 0, 0, 0]
        header += Self.le32(UInt32(ReversePurgeStringMap.capacity(lgSize: 26))) + Self.le32(0)
        header += Self.le64(.max) + Self.le64(0)
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            Self.expectRejected(header, offset: 32, "truncated", "50 M items claimed in 40 bytes")
        }
        #expect(elapsed < .seconds(1))
        // An empty image may legitimately name a large current size; it costs nothing until used.
        let empty = try FrequentStringsSketch(serialized: [1, 1, 10, 26, 26, 5, 0, 0])
        #expect(empty.isEmpty && empty.lgCurMapSize == 26 && empty.map.slots.isEmpty)
        #expect(empty.serialized() == [1, 1, 10, 26, 26, 5, 0, 0])
    }

    @Test func honoursCallerMapSizeLimit() throws {
        let image = try Self.image("fi_strings_lg10_zipf_n100000")
        #expect(try FrequentStringsSketch(serialized: image, lgMaxMapSizeLimit: 10).numActive == 583)
        do {
            _ = try FrequentStringsSketch(serialized: image, lgMaxMapSizeLimit: 9)
            Issue.record("limit 9 accepted an lg 10 image")
        } catch {
            #expect(error.offset == 3 && error.description.contains("out of range 3...9"), "\(error)")
        }
        #expect(throws: SketchError.self) { try FrequentStringsSketch(serialized: image, lgMaxMapSizeLimit: 27) }
    }

    @Test func acceptsEitherEmptyFlagBit() throws {
        // C++ writes 0x05 and accepts bit 0 or bit 2; Java checks bit 2.
        for flags: UInt8 in [0x01, 0x04, 0x05] {
            let sketch = try FrequentStringsSketch(serialized: [1, 1, 10, 5, 3, flags, 0, 0])
            #expect(sketch.isEmpty && sketch.lgMaxMapSize == 5)
        }
    }

    @Test func utf8ValidatorAgreesWithStandardLibrary() {
        let seed: UInt64 = 0xF1
        var rng = SplitMix64(seed: seed)
        // Bytes drawn mostly from the interesting lead/continuation ranges.
        let alphabet: [UInt8] = [
            0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF,
            0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF,
        ]
        for trial in 0..<3_000 {
            let count = Int(rng.next() % 12)
            let bytes = (0..<count).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            let ours = bytes.withUnsafeBytes { FrequentItemsUTF8.firstInvalidByte(in: $0) }
            let stdlib = String(validating: bytes, as: UTF8.self)
            #expect(
                (ours == nil) == (stdlib != nil),
                "seed \(seed) trial \(trial): \(bytes) ours \(String(describing: ours))")
        }
        // Known cases: (bytes, first invalid offset).
        let known: [([UInt8], Int?)] = [
            (Array("plain ascii text!".utf8), nil),
            (Array("ключ日本🎉".utf8), nil),
            ([0x61, 0xE6, 0x97], 1),  // truncated 3-byte sequence
            ([0xED, 0xA0, 0x80], 0),  // surrogate U+D800
            ([0xF4, 0x90, 0x80, 0x80], 0),  // above U+10FFFF
            ([0xF0, 0x80, 0x80, 0x80], 0),  // overlong
            ([0xE0, 0x9F, 0xBF], 0),  // overlong
            ([0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0xC1, 0xBF], 8),  // overlong after a word
        ]
        for (bytes, expected) in known {
            #expect(bytes.withUnsafeBytes { FrequentItemsUTF8.firstInvalidByte(in: $0) } == expected, "\(bytes)")
        }
    }
}
