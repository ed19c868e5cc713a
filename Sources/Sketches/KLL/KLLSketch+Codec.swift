// KLL image layouts (Apache DataSketches C++ 5.2.0 `kll_sketch_impl.hpp`; FORMATS.md
// section a). Little-endian; S = item size (8 doubles, 4 floats).
//
//  byte   0         1          2        3       4-5   6   7
//       +---------+----------+--------+-------+-----+---+--------+
//       | preInts | serVer   | family | flags |  k  | m | unused |   flags: bit0 empty,
//       +---------+----------+--------+-------+-----+---+--------+   bit1 level 0 sorted,
//                                                                      bit2 single item
//  empty   (n = 0):  preInts 2, serVer 1, flags bit0; nothing follows.
//  single  (n = 1):  preInts 2, serVer 2, flags bit2; bytes 8..<8+S: the item.
//  full    (n ≥ 2):  preInts 5, serVer 1:
//       8-15  n (u64)        16-17  min_k (u16)      18  num_levels (u8)     19  unused
//       20..  num_levels × u32 absolute level offsets (the implied last one = total
//             capacity for (k, m, num_levels) is not written)
//       then  min item, max item, then the buffer from levels[0] to the end (level 0
//             first, unsorted unless flag bit1, levels ≥ 1 ascending).
//       Size = 20 + 4·num_levels + (num_retained + 2)·S, no padding.
//  legacy doubles (datasketches-java 3.x, whylogs-sketching 3.4): preInts 6, bytes 19-23
//       unused, level offsets from byte 24; otherwise the full layout.

extension KLLSketch {
    /// Decodes an image written by DataSketches (C++/Python/Java) or by ``serialized()``:
    /// the empty, single-item and full layouts (preamble ints 2 or 5) and, for doubles,
    /// the legacy preamble-6 layout written by whylogs.
    ///
    /// Every header field and length is checked against the bytes present before anything
    /// is allocated; the item buffer is bounded by the level capacities (at most about
    /// 3k + 8·61 items). The decoded sketch keeps the image's level-0-sorted flag, so
    /// re-serializing gives the same bytes.
    ///
    /// - Throws: ``SketchError`` naming the field and byte offset of the first problem:
    ///   wrong family, serial version or `m`, `k` out of 8...65535, unknown or inconsistent
    ///   flags, truncation, trailing bytes, `num_levels` out of 1...61, `min_k` out of
    ///   8...k, level offsets out of order or beyond the capacity, an `n` that differs from
    ///   the total weight of the levels, NaN items, unsorted levels, items outside
    ///   [min, max].
    /// - Complexity: O(image size).
    @inlinable  // so that a caller's concrete collection reaches `init(decoding:)` without generic metadata
    public init(serialized image: some Collection<UInt8>) throws(SketchError) {
        try self.init(decoding: Array(image))
    }

    // Specialized for the two item types so that callers in other modules (which cannot
    // specialize this non-inlinable code themselves) do not decode through witness tables.
    @_specialize(where Item == Double)
    @_specialize(where Item == Float)
    @usableFromInline
    init(decoding image: [UInt8]) throws(SketchError) {
        var reader = ByteReader(image, family: "KLL")
        let header = try KLLImageHeader(reading: &reader)
        let k = header.k
        switch header.layout {
        case .empty:
            try Self.checkNoTrailingBytes(reader)
            self.init(validK: k, seed: Self.defaultRandomSeed)
            isLevelZeroSorted = header.isLevelZeroSorted
        case .single:
            let at = reader.offset
            let item = try reader.kllItem(Item.self, "single item")
            guard !item.isNaN else { throw reader.error("the single item is NaN", at: at) }
            try Self.checkNoTrailingBytes(reader)
            self.init(validK: k, seed: Self.defaultRandomSeed)
            levels[0] = k - 1
            items[k - 1] = item
            _n = 1
            minItem = item
            maxItem = item
            isLevelZeroSorted = header.isLevelZeroSorted
        case .full(let legacy):
            if legacy && Item.kllItemType != .double {
                throw reader.error("preamble ints 6 (legacy doubles layout) in a floats image", at: 0)
            }
            try self.init(decodingFullLayoutOf: &reader, header: header, legacy: legacy)
        }
    }

    @_specialize(where Item == Double)
    @_specialize(where Item == Float)
    private init(
        decodingFullLayoutOf reader: inout ByteReader, header: KLLImageHeader, legacy: Bool
    )
        throws(SketchError)
    {
        let k = header.k
        let n = try reader.u64("n")
        guard n > 0 else {
            throw reader.error("n=0 in an image that is neither empty nor single-item", at: 8)
        }
        let minK = Int(try reader.u16("min_k"))
        guard (8...k).contains(minK) else {
            throw reader.error("min_k=\(minK) out of range 8...\(k) (k=\(k))", at: 16)
        }
        let numLevels = Int(try reader.u8("num_levels"))
        guard (1...KLLCapacity.maxLevels).contains(numLevels) else {
            throw reader.error("num_levels=\(numLevels) out of range 1...\(KLLCapacity.maxLevels)", at: 18)
        }
        try reader.skip(legacy ? 5 : 1, "unused header bytes")
        // The level capacities (kept for the first update, which would compute them again).
        let capacities = (0..<numLevels).map { KLLCapacity.level(k: k, numLevels: numLevels, height: $0) }
        let capacity = capacities.reduce(0, +)
        try reader.require(4 * numLevels, "\(numLevels) level offsets")
        var levels = [Int]()
        levels.reserveCapacity(numLevels + 1)
        for level in 0..<numLevels {
            let at = reader.offset
            let offset = Int(try reader.u32("level offset"))
            guard offset <= capacity else {
                throw reader.error(
                    "level \(level) offset \(offset) beyond the capacity \(capacity) of k=\(k) with \(numLevels) levels",
                    at: at)
            }
            if let previous = levels.last, offset < previous {
                throw reader.error(
                    "level offsets not monotonic: level \(level) starts at \(offset), before level \(level - 1) at \(previous)",
                    at: at)
            }
            levels.append(offset)
        }
        levels.append(capacity)

        // n must be the total weight Σ size(h)·2^h; this also bounds what follows.
        var weight: UInt64 = 0
        var weightOverflows = false
        for level in 0..<numLevels {
            let size = UInt64(levels[level + 1] - levels[level])
            let (shifted, o1) = size.multipliedReportingOverflow(by: UInt64(1) << UInt64(level))
            let (sum, o2) = weight.addingReportingOverflow(shifted)
            weightOverflows = weightOverflows || o1 || o2
            weight = sum
        }
        guard !weightOverflows && weight == n else {
            throw reader.error(
                "n=\(n) does not match the total weight \(weightOverflows ? "(overflowing)" : "\(weight)") of the levels",
                at: 8)
        }

        let retained = capacity - levels[0]
        let itemSize = Item.kllItemType.byteSize
        try reader.require((retained + 2) * itemSize, "min, max and \(retained) items")
        let itemsStart = reader.offset
        if reader.remaining > (retained + 2) * itemSize {
            throw reader.error(
                "\(reader.remaining - (retained + 2) * itemSize) trailing bytes after the last item",
                at: itemsStart + (retained + 2) * itemSize)
        }
        let minItem = try reader.kllItem(Item.self, "min item")
        let maxItem = try reader.kllItem(Item.self, "max item")
        guard !minItem.isNaN, !maxItem.isNaN, minItem <= maxItem else {
            throw reader.error("min \(minItem) and max \(maxItem) are not an interval", at: itemsStart)
        }
        // The items are copied in one block (the image is little-endian, like every host Swift
        // supports here), then checked in place; an error names the item's byte offset.
        let firstItem = levels[0]
        func offset(of index: Int) -> Int { itemsStart + (index - firstItem + 2) * itemSize }
        var buffer: [Item]
        if Self.itemsAreImageBytes {
            // One block copy into the retained part; only the free space below is zeroed.
            try reader.require(retained * itemSize, "\(retained) items")
            buffer = [Item](unsafeUninitializedCapacity: capacity) { storage, initialized in
                let base = storage.baseAddress!
                base.initialize(repeating: 0, count: firstItem)
                reader.copyBytes(
                    into: UnsafeMutableRawBufferPointer(start: base + firstItem, count: retained * itemSize))
                initialized = capacity
            }
        } else {
            buffer = [Item](repeating: 0, count: capacity)
            for index in firstItem..<capacity { buffer[index] = try reader.kllItem(Item.self, "item") }
        }
        // A cheap branch-free pass (it vectorizes) decides whether anything is wrong: a sorted
        // level needs only its ends against [min, max] once every item is ≥ its predecessor
        // (a NaN fails that test); an unsorted level 0 checks every item. Only a bad image pays
        // for the search of its first offending item — range errors first, in item order, then
        // order errors, as the checks were written.
        let firstSortedLevel = header.isLevelZeroSorted ? 0 : 1
        let suspicious = buffer.withUnsafeBufferPointer { items in
            var count = 0
            for level in 0..<numLevels where levels[level] < levels[level + 1] {
                let slice = UnsafeBufferPointer(rebasing: items[levels[level]..<levels[level + 1]])
                if level >= firstSortedLevel {
                    count &+= Self.countNonAscents(slice)
                    count &+= minItem <= slice[0] && slice[slice.count - 1] <= maxItem ? 0 : 1
                } else {
                    count &+= Self.countOutside(slice, minItem, maxItem)
                }
            }
            return count
        }
        if suspicious > 0 {
            if let index = (firstItem..<capacity).first(where: { !(minItem <= buffer[$0] && buffer[$0] <= maxItem) }) {
                throw reader.error(
                    "item \(buffer[index]) is NaN or outside [min \(minItem), max \(maxItem)]", at: offset(of: index))
            }
            for level in firstSortedLevel..<numLevels where levels[level] < levels[level + 1] {
                let range = (levels[level] + 1)..<levels[level + 1]
                if let index = range.first(where: { buffer[$0] < buffer[$0 - 1] }) {
                    throw reader.error(
                        "level \(level) is not sorted (item \(index - levels[level]))", at: offset(of: index))
                }
            }
        }

        // Every field directly: `init(validK:)` would allocate a k-item buffer to discard.
        _k = UInt16(k)
        _minK = UInt16(minK)
        _n = n
        self.levels = levels
        items = buffer
        self.minItem = minItem
        self.maxItem = maxItem
        isLevelZeroSorted = header.isLevelZeroSorted
        coin = KLLCoin(seed: Self.defaultRandomSeed)
        self.capacities = capacities
    }

    /// How many of `items` lie outside `[low, high]` (a NaN counts); branch-free.
    @inline(__always)
    static func countOutside(_ items: UnsafeBufferPointer<Item>, _ low: Item, _ high: Item) -> Int {
        var count = 0
        for x in items { count &+= (low <= x ? 0 : 1) &+ (x <= high ? 0 : 1) }
        return count
    }

    /// How many of `items` are not ≥ their predecessor (smaller, or either is NaN); branch-free.
    @inline(__always)
    static func countNonAscents(_ items: UnsafeBufferPointer<Item>) -> Int {
        var count = 0
        var index = 1
        while index < items.count {
            count &+= items[index] >= items[index &- 1] ? 0 : 1
            index &+= 1
        }
        return count
    }

    /// True when an item's memory is its image bytes: a little-endian host and an item type
    /// stored as exactly its IEEE-754 bytes (`Double`, `Float`), so blocks of items are copied
    /// whole. A constant once specialized.
    static var itemsAreImageBytes: Bool {
        #if _endian(little)
            return MemoryLayout<Item>.size == Item.kllItemType.byteSize
                && MemoryLayout<Item>.stride == Item.kllItemType.byteSize
        #else
            return false
        #endif
    }

    private static func checkNoTrailingBytes(_ reader: ByteReader) throws(SketchError) {
        if reader.remaining > 0 {
            throw reader.error("\(reader.remaining) trailing bytes after the sketch")
        }
    }

    /// The DataSketches image of this sketch: the empty layout when `count == 0`, the
    /// single-item layout when `count == 1`, otherwise the full layout (preamble ints 5),
    /// level offsets written as they are. Never writes the legacy preamble-6 layout.
    ///
    /// - Complexity: O(retained items).
    @_specialize(where Item == Double)
    @_specialize(where Item == Float)
    public func serialized() -> [UInt8] {
        let itemSize = Item.kllItemType.byteSize
        let sortedFlag: UInt8 = isLevelZeroSorted ? 0b10 : 0
        let numLevels = levels.count - 1
        let isFull = _n >= 2
        var writer = ByteWriter(capacity: isFull ? 20 + 4 * numLevels + (numRetained + 2) * itemSize : 8 + itemSize)
        switch _n {
        case 0:
            writer.u8(2)
            writer.u8(1)
            writer.u8(KLLImageHeader.familyID)
            writer.u8(0b001 | sortedFlag)
        case 1:
            writer.u8(2)
            writer.u8(2)
            writer.u8(KLLImageHeader.familyID)
            writer.u8(0b100 | sortedFlag)
        default:
            writer.u8(5)
            writer.u8(1)
            writer.u8(KLLImageHeader.familyID)
            writer.u8(sortedFlag)
        }
        writer.u16(_k)
        writer.u8(UInt8(Self.m))
        writer.u8(0)
        switch _n {
        case 0:
            break
        case 1:
            writer.kllItem(items[levels[0]])
        default:
            writer.u64(_n)
            writer.u16(_minK)
            writer.u8(UInt8(numLevels))
            writer.u8(0)
            for level in 0..<numLevels { writer.u32(UInt32(levels[level])) }
            writer.kllItem(minItem)
            writer.kllItem(maxItem)
            if Self.itemsAreImageBytes {
                items.withUnsafeBytes { raw in
                    writer.append(
                        raw: UnsafeRawBufferPointer(
                            rebasing: raw[(levels[0] * itemSize)..<(levels[numLevels] * itemSize)]))
                }
            } else {
                for index in levels[0]..<levels[numLevels] { writer.kllItem(items[index]) }
            }
        }
        return writer.bytes
    }
}

/// Tells `Double` from `Float` KLL images, which the header does not distinguish.
public enum KLLImage {
    /// The item type of a KLL image: `nil` for an empty image (either type reads it);
    /// `.double` for the legacy preamble-6 layout; by total size for a single item (12
    /// bytes float, 16 double); for the full layout, the item size that makes the length
    /// equal `20 + 4·num_levels + (num_retained + 2)·size`.
    ///
    /// Only the header and first level offset are validated; decode with
    /// `KLLSketch<Double or Float>(serialized:)` for a full check.
    ///
    /// - Throws: ``SketchError`` when the header is invalid or the length fits neither type.
    public static func itemType(of image: some Collection<UInt8>) throws(SketchError) -> KLLItemType? {
        var reader = ByteReader(image, family: "KLL")
        let header = try KLLImageHeader(reading: &reader)
        switch header.layout {
        case .empty:
            return nil
        case .single:
            switch reader.remaining {
            case 4: return .float
            case 8: return .double
            default:
                throw reader.error(
                    "a single-item image has 4 (float) or 8 (double) item bytes, found \(reader.remaining)")
            }
        case .full(legacy: true):
            return .double
        case .full(legacy: false):
            try reader.skip(10, "n and min_k")
            let numLevels = Int(try reader.u8("num_levels"))
            guard (1...KLLCapacity.maxLevels).contains(numLevels) else {
                throw reader.error("num_levels=\(numLevels) out of range 1...\(KLLCapacity.maxLevels)", at: 18)
            }
            try reader.skip(1, "unused header byte")
            let capacity = KLLCapacity.total(k: header.k, numLevels: numLevels)
            let levelZero = Int(try reader.u32("level 0 offset"))
            guard levelZero <= capacity else {
                throw reader.error("level 0 offset \(levelZero) beyond the capacity \(capacity)", at: 20)
            }
            let itemBytes = reader.count - 20 - 4 * numLevels
            let itemCount = capacity - levelZero + 2
            if itemBytes == itemCount * 4 { return .float }
            if itemBytes == itemCount * 8 { return .double }
            throw reader.error(
                "\(itemBytes) item bytes fit neither \(itemCount) floats nor \(itemCount) doubles",
                at: 20 + 4 * numLevels)
        }
    }
}

/// The 8-byte preamble shared by all KLL layouts, validated.
struct KLLImageHeader {
    /// DataSketches family id of KLL (`Family` enum: KLL = 15).
    static let familyID: UInt8 = 15

    enum Layout: Equatable {
        case empty
        case single
        /// `legacy`: preamble ints 6, level offsets from byte 24.
        case full(legacy: Bool)
    }

    let k: Int
    let isLevelZeroSorted: Bool
    let layout: Layout

    init(reading reader: inout ByteReader) throws(SketchError) {
        let preambleInts = try reader.u8("preamble ints")
        let serialVersion = try reader.u8("serial version")
        let family = try reader.u8("family id")
        let flags = try reader.u8("flags")
        let k = Int(try reader.u16("k"))
        let m = try reader.u8("m")
        _ = try reader.u8("unused header byte")
        guard family == Self.familyID else {
            throw reader.error("family id \(family) is not KLL (\(Self.familyID))", at: 2)
        }
        guard serialVersion == 1 || serialVersion == 2 else {
            throw reader.error(
                "serial version \(serialVersion) not supported (1 or 2; 3 is Java's updatable layout)", at: 1)
        }
        guard m == 8 else {
            throw reader.error("m=\(m) not supported (DataSketches writes and reads only 8)", at: 6)
        }
        guard k >= 8 else {
            throw reader.error("k=\(k) out of range 8...65535", at: 4)
        }
        // bit 3 ("doubles") is written by some Java versions and says nothing we need;
        // bit 4 ("updatable") marks Java's in-memory layout, which is not this one.
        guard flags & 0b1111_0000 == 0 else {
            throw reader.error("flags 0x\(String(flags, radix: 16)) have unknown or unsupported bits set", at: 3)
        }
        let isEmpty = flags & 0b001 != 0
        let isSingle = flags & 0b100 != 0
        guard !(isEmpty && isSingle) else {
            throw reader.error("flags 0x\(String(flags, radix: 16)) say both empty and single-item", at: 3)
        }
        if isEmpty || isSingle {
            guard preambleInts == 2 else {
                throw reader.error(
                    "preamble ints \(preambleInts) must be 2 for an \(isEmpty ? "empty" : "single-item") image", at: 0)
            }
            layout = isEmpty ? .empty : .single
        } else {
            guard preambleInts == 5 || preambleInts == 6 else {
                throw reader.error(
                    "preamble ints \(preambleInts) must be 5 (or 6, legacy doubles) for a full image", at: 0)
            }
            layout = .full(legacy: preambleInts == 6)
        }
        self.k = k
        self.isLevelZeroSorted = flags & 0b010 != 0
    }
}
