/// A frequent-items ("heavy hitters") sketch over strings, reading and writing the Apache
/// DataSketches `frequent_strings_sketch` format byte for byte as the C++ library (and the
/// `datasketches` Python package) does.
///
/// The sketch tracks at most `0.75 · 2^lgMaxMapSize` items in a reverse-purge hash map
/// (Anderson, Bevan, Lang, Liberty, Rhodes, Thaler, "A High-Performance Algorithm for
/// Identifying Frequent Items in Data Streams", IMC 2017; the Misra–Gries family). When the map
/// is full it subtracts an approximate median counter from every counter and drops the counters
/// that reach zero; the total subtracted so far is the sketch's ``maximumError``.
///
/// **Guarantee.** For every string `x` with true total weight `f(x)` in the stream:
/// `lowerBound(x) ≤ f(x) ≤ upperBound(x)`, and `upperBound(x) − lowerBound(x) = maximumError`.
/// In practice `maximumError ≤ epsilon · totalWeight` with `epsilon = 3.5 / 2^lgMaxMapSize`
/// (the library's a-priori error; 0.0034 · N at the default `lgMaxMapSize` 10). Items of weight
/// above `maximumError` are never missed by `frequentItems(errorType: .noFalseNegatives)`.
///
/// **Compatibility.** Items hash with libstdc++'s `std::hash<std::string>` followed by
/// MurmurHash3's `fmix64`, so the map layout — and with it the order of items in
/// ``serialized()`` — matches the C++ library's (Java's images order items differently but
/// decode to the same content). Items are compared by their UTF-8 bytes, not by Unicode
/// canonical equivalence: "é" (U+00E9) and "e\u{301}" are different items, as in C++.
///
/// **Quirk kept from the library.** ``isEmpty`` means "no tracked item": a purge can drop every
/// counter (e.g. a stream of distinct strings), after which the sketch reports empty, serializes
/// as an empty image (losing total weight and offset) and is skipped when merged.
///
/// Weights and totals are added modulo 2^64 like the library's `uint64_t` fields; keep stream
/// weights below 2^64.
public struct FrequentStringsSketch: Sendable {
    /// The default `lgMaxMapSize`: 1024 slots, up to 768 tracked items, epsilon ≈ 0.0034.
    public static let defaultLgMaxMapSize = 10
    /// Smallest map the library allows (C++ `LG_MIN_MAP_SIZE`).
    public static let minLgMaxMapSize = 3
    /// Largest `lgMaxMapSize` accepted: 2^26 slots track up to 50 M items with
    /// epsilon ≈ 5·10⁻⁸ and take 2 GiB of slots (32 bytes each) plus key bytes. Beyond that the
    /// sketch stops being a sketch, and the C++ map's `1 << lg` arithmetic in 32-bit `int` and
    /// 16-bit probe counters would be pushed to their limits. Images claiming more are rejected.
    public static let maxLgMaxMapSize = 26

    var map: ReversePurgeStringMap
    /// Sum of all weights fed in (including merged sketches' totals).
    public internal(set) var totalWeight: UInt64 = 0
    /// Total subtracted from counters by purges, here and in merged sketches.
    var offset: UInt64 = 0

    /// A sketch with the default `lgMaxMapSize` (10).
    public init() {
        map = ReversePurgeStringMap(lgCurSize: Self.minLgMaxMapSize, lgMaxSize: Self.defaultLgMaxMapSize)
    }

    /// A sketch whose map grows up to 2^`lgMaxMapSize` slots (tracking up to 0.75 · 2^lg items).
    ///
    /// - Throws: ``SketchError/invalidArgument(_:)`` unless `lgMaxMapSize` is in
    ///   3...26 (see ``maxLgMaxMapSize``).
    public init(lgMaxMapSize: Int) throws(SketchError) {
        guard (Self.minLgMaxMapSize...Self.maxLgMaxMapSize).contains(lgMaxMapSize) else {
            throw .invalidArgument(
                "frequent items lgMaxMapSize=\(lgMaxMapSize) out of range \(Self.minLgMaxMapSize)...\(Self.maxLgMaxMapSize)"
            )
        }
        map = ReversePurgeStringMap(lgCurSize: Self.minLgMaxMapSize, lgMaxSize: lgMaxMapSize)
    }

    /// Internal: a sketch with an explicit current map size, for the decoder.
    init(lgMaxMapSize: Int, lgCurMapSize: Int) {
        map = ReversePurgeStringMap(lgCurSize: lgCurMapSize, lgMaxSize: lgMaxMapSize)
    }

    /// Adds `weight` occurrences of `item`. A weight of 0 is ignored (as in the library).
    ///
    /// - Complexity: O(length of `item`) expected. No per-update allocation: the string's UTF-8
    ///   is hashed in place, keys of up to 15 bytes are stored inside the map's slots and longer
    ///   ones appended to a shared byte arena (amortised growth). A purge (O(2^lgMaxMapSize))
    ///   runs at most once per ~0.375 · 2^lgMaxMapSize inserts.
    public mutating func update(_ item: String, weight: UInt64 = 1) {
        guard weight != 0 else { return }
        // Native and small strings expose their UTF-8 in place (no copy, no retain); only a
        // bridged string would need the mutating `withUTF8` on a copy.
        let done: Void? = item.utf8.withContiguousStorageIfAvailable { utf8 in
            update(utf8: UnsafeRawBufferPointer(utf8), weight: weight)
        }
        if done == nil {
            var copy = item
            copy.withUTF8 { update(utf8: UnsafeRawBufferPointer($0), weight: weight) }
        }
    }

    /// Adds `weight` occurrences of the item whose UTF-8 encoding is `utf8`. The bytes must be
    /// valid UTF-8 (they are returned as Strings by the queries and written to images).
    mutating func update(utf8: UnsafeRawBufferPointer, weight: UInt64) {
        guard weight != 0 else { return }
        totalWeight &+= weight
        offset &+= map.adjustOrInsert(ReversePurgeStringMap.Key(utf8: utf8), weight: weight)
    }

    /// Adds the items of `other` into this sketch (the C++ `merge`): each of `other`'s items is
    /// added with its counter, in `other`'s iteration order, then the offsets and total weights
    /// are summed. The guarantee then holds for the concatenated streams. Merging sketches of
    /// different `lgMaxMapSize` is allowed; this sketch keeps its own size. `s.merge(s)` merges a
    /// copy of `s`, as if its stream had been seen twice.
    ///
    /// Like the library, an `other` that tracks no item is skipped entirely, even when purges
    /// emptied it after it saw weight (see the quirk above).
    ///
    /// - Complexity: O(other's map size + other's items × their length).
    public mutating func merge(_ other: FrequentStringsSketch) {
        if other.isEmpty { return }
        let mergedTotal = totalWeight &+ other.totalWeight
        other.map.forEachInIterationOrder { key, value in
            totalWeight &+= value
            offset &+= map.adjustOrInsert(key, weight: value)
        }
        offset &+= other.offset
        totalWeight = mergedTotal
    }

    /// True when no item is tracked (see the quirk in the type's documentation).
    public var isEmpty: Bool { map.numActive == 0 }
    /// Number of items currently tracked.
    public var numActive: Int { map.numActive }
    /// log2 of the largest map size.
    public var lgMaxMapSize: Int { map.lgMaxSize }
    /// log2 of the current map size (starts at 3 and doubles up to ``lgMaxMapSize``).
    public var lgCurMapSize: Int { map.lgCurSize }
}
