// Frequent strings sketch image, serial version 1 (DataSketches family id 10). All integers
// little-endian. Sources: FORMATS.md section c; datasketches-cpp
// `fi/include/frequent_items_sketch_impl.hpp` (serialize/deserialize) and `common/include/serde.hpp`
// (string serde); datasketches-java `frequencies/PreambleUtil.java` (field names).
//
//   byte   0        1        2        3             4             5       6..7
//        +--------+--------+--------+-------------+-------------+-------+----------+
//     0  | preLongs serVer=1 family=10 lgMaxMapSize lgCurMapSize  flags   unused=0 |
//        +--------+--------+--------+-------------+-------------+-------+----------+
//   Empty sketch: preLongs = 1, flags = 0x05 (C++ sets bits 0 and 2; Java checks bit 2),
//   and the image ends here (8 bytes).
//
//   Non-empty: preLongs = 4, flags = 0
//        +-----------------------------------+-----------------------------------+
//     8  | numActive (u32)                   | unused (u32)                      |
//        +-----------------------------------+-----------------------------------+
//    16  | totalWeight (u64): the stream weight                                  |
//        +-----------------------------------------------------------------------+
//    24  | offset (u64): total subtracted by purges = maximum error              |
//        +-----------------------------------------------------------------------+
//    32  | numActive counters (u64 each), in the map's iteration order           |
//        +-----------------------------------------------------------------------+
//        | numActive items, same order: byte length (u32) + UTF-8 bytes          |
//        +-----------------------------------------------------------------------+
//
// Decoding rebuilds the map like the library (a map of lgCurMapSize slots, each stored item
// inserted in stored order) and then restores totalWeight and offset. Because re-insertion
// order differs from the original insertion order, re-serializing a decoded image can list the
// same items in another order.

extension FrequentStringsSketch {
    static let serialVersion: UInt8 = 1
    /// DataSketches `Family.FREQUENCY` id.
    static let familyID: UInt8 = 10
    static let preambleLongsEmpty: UInt8 = 1
    static let preambleLongsNonEmpty: UInt8 = 4
    /// C++ writes both bits (`IS_EMPTY_1 = 0`, `IS_EMPTY_2 = 2`) and accepts either.
    static let emptyFlagBits: UInt8 = 0b101
    static let codecFamilyName = "frequent items"

    /// The DataSketches image of this sketch (see the layout at the top of this file).
    /// - Complexity: O(2^lgCurMapSize + total key bytes).
    public func serialized() -> [UInt8] {
        if isEmpty {
            var writer = ByteWriter(capacity: 8)
            writeHeader(&writer, empty: true)
            return writer.bytes
        }
        let order = map.iterationOrder()
        var size = 32 + 12 * order.count
        for index in order { size += map.slots[index].keyCount }
        var writer = ByteWriter(capacity: size)
        writeHeader(&writer, empty: false)
        writer.u32(UInt32(numActive))
        writer.u32(0)
        writer.u64(totalWeight)
        writer.u64(offset)
        // All counters in one block (u64 little-endian each).
        let counters = order.map { map.slots[$0].value.littleEndian }
        counters.withUnsafeBytes { writer.append(contentsOf: $0) }
        for index in order {
            let slot = map.slots[index]
            // Keys come from Strings or u32-length image fields; a single UTF-8 key of
            // 4 GiB or more cannot be written in this format.
            precondition(slot.keyCount <= Int(UInt32.max), "item of \(slot.keyCount) bytes is too long to serialize")
            writer.u32(UInt32(slot.keyCount))
            map.withKeyBytes(of: slot) { writer.append(contentsOf: $0) }
        }
        return writer.bytes
    }

    private func writeHeader(_ writer: inout ByteWriter, empty: Bool) {
        writer.u8(empty ? Self.preambleLongsEmpty : Self.preambleLongsNonEmpty)
        writer.u8(Self.serialVersion)
        writer.u8(Self.familyID)
        writer.u8(UInt8(lgMaxMapSize))
        writer.u8(UInt8(lgCurMapSize))
        writer.u8(empty ? Self.emptyFlagBits : 0)
        writer.u16(0)
    }

    /// Decodes a DataSketches frequent-strings image (C++, Python or Java writer).
    ///
    /// Every header field is checked, and every count and length against the bytes present
    /// before anything is allocated. Rejected, with the byte offset in the message: wrong
    /// serial version, family or preamble size; unknown flag bits; lgMaxMapSize outside
    /// 3...26 or lgCurMapSize outside 3...lgMaxMapSize; a non-empty image with no items or with
    /// more items than the map can hold (0.75 · 2^lgCurMapSize); a zero counter; counters plus
    /// offset exceeding the total weight (they can only fall short of it); truncated or
    /// trailing bytes; item lengths past the end; items that are not valid UTF-8; duplicate
    /// items. The unused bytes 6–7 and 12–15 are ignored, as the library does.
    ///
    /// A valid image may still ask for a map of 2^lgCurMapSize slots (32 bytes each, allocated
    /// once the first item is inserted): up to 2 GiB for lgCurMapSize 26, as in the library.
    /// Callers decoding untrusted images with less memory to spare pass a smaller
    /// `lgMaxMapSizeLimit` to ``init(serialized:lgMaxMapSizeLimit:)``.
    ///
    /// - Complexity: O(image size + 2^lgCurMapSize).
    public init(serialized bytes: some Collection<UInt8>) throws(SketchError) {
        try self.init(serialized: bytes, lgMaxMapSizeLimit: Self.maxLgMaxMapSize)
    }

    /// Decodes like ``init(serialized:)`` but also rejects images whose lgMaxMapSize exceeds
    /// `lgMaxMapSizeLimit`, bounding the memory the decoded sketch can ever use (its map never
    /// grows beyond 2^lgMaxMapSize slots).
    ///
    /// - Throws: ``SketchError/invalidArgument(_:)`` if the limit is outside 3...26; a decoding
    ///   ``SketchError`` for a bad image.
    public init(serialized bytes: some Collection<UInt8>, lgMaxMapSizeLimit: Int) throws(SketchError) {
        guard (Self.minLgMaxMapSize...Self.maxLgMaxMapSize).contains(lgMaxMapSizeLimit) else {
            throw .invalidArgument(
                "frequent items lgMaxMapSizeLimit=\(lgMaxMapSizeLimit) out of range \(Self.minLgMaxMapSize)...\(Self.maxLgMaxMapSize)"
            )
        }
        var reader = ByteReader(bytes, family: Self.codecFamilyName)
        let preambleLongs = try reader.u8("preamble longs")
        let serialVersion = try reader.u8("serial version")
        let family = try reader.u8("family id")
        let lgMax = try reader.u8("lg max map size")
        let lgCur = try reader.u8("lg cur map size")
        let flags = try reader.u8("flags")
        try reader.skip(2, "unused header bytes")

        guard serialVersion == Self.serialVersion else {
            throw reader.error("serial version \(serialVersion), expected \(Self.serialVersion)", at: 1)
        }
        guard family == Self.familyID else {
            throw reader.error("family id \(family), expected \(Self.familyID) (frequent items)", at: 2)
        }
        guard flags & ~Self.emptyFlagBits == 0 else {
            throw reader.error(
                "unknown flag bits in 0x\(String(flags, radix: 16)) (only 0x01 and 0x04, empty, are defined)", at: 5)
        }
        let empty = flags & Self.emptyFlagBits != 0
        let expectedPreamble = empty ? Self.preambleLongsEmpty : Self.preambleLongsNonEmpty
        guard preambleLongs == expectedPreamble else {
            throw reader.error(
                "preamble longs \(preambleLongs), expected \(expectedPreamble) for \(empty ? "an empty" : "a non-empty") sketch",
                at: 0)
        }
        let limits = Self.minLgMaxMapSize...lgMaxMapSizeLimit
        guard limits.contains(Int(lgMax)) else {
            throw reader.error("lg max map size \(lgMax) out of range \(limits)", at: 3)
        }
        guard (Self.minLgMaxMapSize...Int(lgMax)).contains(Int(lgCur)) else {
            throw reader.error(
                "lg cur map size \(lgCur) out of range \(Self.minLgMaxMapSize)...\(lgMax) (lg max)", at: 4)
        }

        if empty {
            try Self.rejectTrailingBytes(reader)
            self.init(lgMaxMapSize: Int(lgMax), lgCurMapSize: Int(lgCur))
            return
        }

        let numActiveOffset = reader.offset
        let numActive = Int(try reader.u32("number of active items"))
        try reader.skip(4, "unused header bytes")
        let totalWeightOffset = reader.offset
        let totalWeight = try reader.u64("total weight")
        let offset = try reader.u64("offset (maximum error)")
        let capacity = ReversePurgeStringMap.capacity(lgSize: Int(lgCur))
        guard numActive > 0 else {
            throw reader.error("non-empty image with 0 active items", at: numActiveOffset)
        }
        guard numActive <= capacity else {
            throw reader.error(
                "\(numActive) active items exceed the capacity \(capacity) of a map with lg cur map size \(lgCur)",
                at: numActiveOffset)
        }
        // Each item needs a counter (8 bytes) and a length (4 bytes) at least.
        try reader.require(12 * numActive, "\(numActive) counters and item lengths")

        // Counters: all positive, and with the offset at most the total weight (every purge
        // removes at least the amount it adds to the offset). Read as one checked block.
        let countersOffset = reader.offset
        let counters: [UInt64] = try reader.bytes(8 * numActive, "counters").withUnsafeBytes { raw in
            (0..<numActive).map { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self)) }
        }
        var counterSum = offset
        for (i, counter) in counters.enumerated() {
            guard counter > 0 else {
                throw reader.error("counter 0 (counters are positive)", at: countersOffset + 8 * i)
            }
            let (sum, overflow) = counterSum.addingReportingOverflow(counter)
            guard !overflow, sum <= totalWeight else {
                throw reader.error(
                    "total weight \(totalWeight) is less than the counters plus the offset \(offset)",
                    at: totalWeightOffset)
            }
            counterSum = sum
        }

        var sketch = FrequentStringsSketch(lgMaxMapSize: Int(lgMax), lgCurMapSize: Int(lgCur))
        for counter in counters {
            let itemOffset = reader.offset
            let length = Int(try reader.u32("item length"))
            let utf8 = try reader.bytes(length, "item")  // a literal: this runs per item
            let failure: SketchError? = utf8.withUnsafeBytes { raw in
                if let bad = FrequentItemsUTF8.firstInvalidByte(in: raw) {
                    return reader.error("item is not valid UTF-8", at: itemOffset + 4 + bad)
                }
                guard sketch.map.insertNew(ReversePurgeStringMap.Key(utf8: raw), weight: counter) else {
                    return reader.error("duplicate item", at: itemOffset)
                }
                return nil
            }
            if let failure { throw failure }
        }
        try Self.rejectTrailingBytes(reader)
        sketch.totalWeight = totalWeight
        sketch.offset = offset
        self = sketch
    }

    private static func rejectTrailingBytes(_ reader: ByteReader) throws(SketchError) {
        guard reader.remaining == 0 else {
            throw reader.error("\(reader.remaining) trailing bytes after the sketch")
        }
    }
}

/// UTF-8 well-formedness (The Unicode Standard, ch. 3, table 3-7 "Well-Formed UTF-8 Byte
/// Sequences": no overlongs, no surrogates, nothing above U+10FFFF).
enum FrequentItemsUTF8 {
    /// The offset of the first byte that starts an ill-formed sequence, or nil if `bytes` is
    /// valid UTF-8.
    static func firstInvalidByte(in bytes: UnsafeRawBufferPointer) -> Int? {
        let count = bytes.count
        var i = 0
        while i < count {
            // Fast path: eight ASCII bytes at a time.
            if i + 8 <= count, bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                i += 8
                continue
            }
            let lead = bytes.load(fromByteOffset: i, as: UInt8.self)
            if lead < 0x80 {
                i += 1
                continue
            }
            let length: Int
            var secondRange: ClosedRange<UInt8> = 0x80...0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; secondRange = 0xA0...0xBF
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; secondRange = 0x80...0x9F
            case 0xF0: length = 4; secondRange = 0x90...0xBF
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; secondRange = 0x80...0x8F
            default: return i
            }
            guard i + length <= count, secondRange.contains(bytes.load(fromByteOffset: i + 1, as: UInt8.self)) else {
                return i
            }
            for k in 2..<length where !(0x80...0xBF).contains(bytes.load(fromByteOffset: i + k, as: UInt8.self)) {
                return i
            }
            i += length
        }
        return nil
    }
}
