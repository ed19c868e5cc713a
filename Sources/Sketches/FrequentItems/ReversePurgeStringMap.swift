/// The reverse-purge hash map behind ``FrequentStringsSketch``: an open-addressing table of
/// (UTF-8 key, counter) pairs with linear probing, which grows by doubling up to
/// 2^`lgMaxSize` slots and from then on makes room by *purging*: subtracting an approximate
/// median counter from every counter and dropping the ones that reach zero.
///
/// Every step that decides where a key lands follows the DataSketches C++ map
/// (`fi/include/reverse_purge_hash_map_impl.hpp`, summarised in FORMATS.md section c), because
/// slot positions decide the iteration order and therefore the serialized bytes:
/// - home slot `fmix64(std::hash<std::string>(key)) & (size - 1)`, probe +1, each slot records
///   its probe distance ("drift", 1 = home, 0 = empty);
/// - capacity `0.75 · size`; an insert that makes `numActive > capacity` doubles the table
///   (re-inserting old slots in index order) or, at the maximum size, purges;
/// - purge: median of the counters of the first `min(1024, numActive)` active slots in index
///   order; deletions back-shift later members of the cluster, scanning each cluster from its
///   high end down, the cluster that wraps around the end of the table last.
///
/// Storage is ours: one 32-byte slot per table entry holding the counter, the low 32 bits of
/// the key's hash (growing never re-hashes), the drift, and the key itself — inline when it
/// has at most 15 UTF-8 bytes (compared as two words, like a small-string optimisation), else
/// as an offset into a byte arena holding long keys back to back. Arena bytes of deleted keys
/// are reclaimed by compaction once they outweigh the live ones.
///
/// Weights are added modulo 2^64, as the C++ library's `uint64_t` counters are.
struct ReversePurgeStringMap: Sendable {
    /// Keys of up to this many UTF-8 bytes are stored inside their slot.
    static let maxInlineCount = 15
    /// Top byte of `word1` marking a key stored in the arena (inline keys keep their length,
    /// 0...15, there).
    static let arenaTag: UInt64 = 0xFF << 56

    struct Slot: Sendable {
        var value: UInt64 = 0
        var hash: UInt32 = 0
        /// Probe distance from the home slot plus one; 0 marks an empty slot. Kept 32-bit so
        /// that even an adversarial cluster cannot overflow it (the C++ map uses 16 bits and
        /// throws at 1024, a limit it documents as "only used for theoretical analysis").
        var drift: UInt32 = 0
        /// Inline key: its bytes 0..<8, little-endian, zero-padded. Arena key: its offset.
        var word0: UInt64 = 0
        /// Inline key: its bytes 8..<15, little-endian, zero-padded, and its length in the top
        /// byte. Arena key: its length | ``arenaTag``.
        var word1: UInt64 = 0

        var isInline: Bool { word1 & ReversePurgeStringMap.arenaTag != ReversePurgeStringMap.arenaTag }
        var keyCount: Int { isInline ? Int(word1 >> 56) : Int(word1 & ~ReversePurgeStringMap.arenaTag) }
    }

    /// A key prepared for lookup: its slot hash and slot encoding; `bytes` (its UTF-8) is only
    /// read for keys too long to be inline.
    struct Key {
        let hash: UInt32
        let word0: UInt64
        let word1: UInt64
        let bytes: UnsafeRawBufferPointer

        @inline(__always)
        init(utf8 bytes: UnsafeRawBufferPointer) {
            self.bytes = bytes
            hash = FrequentItemsHash.slotHash(bytes)
            let count = bytes.count
            if count <= ReversePurgeStringMap.maxInlineCount {
                if count >= 8 {
                    word0 = FrequentItemsHash.loadLittleEndian(bytes, at: 0, count: 8)
                    word1 = FrequentItemsHash.loadLittleEndian(bytes, at: 8, count: count - 8) | UInt64(count) << 56
                } else {
                    word0 = FrequentItemsHash.loadLittleEndian(bytes, at: 0, count: count)
                    word1 = UInt64(count) << 56
                }
            } else {
                word0 = 0
                word1 = UInt64(count) | ReversePurgeStringMap.arenaTag
            }
        }

        /// The key of an existing slot (inline keys need no bytes).
        @inline(__always)
        init(slot: Slot, bytes: UnsafeRawBufferPointer) {
            hash = slot.hash
            word0 = slot.word0
            word1 = slot.word1
            self.bytes = bytes
        }

        var isInline: Bool { word1 & ReversePurgeStringMap.arenaTag != ReversePurgeStringMap.arenaTag }
    }

    /// Number of counters sampled to estimate the median in a purge (C++ `MAX_SAMPLE_SIZE`).
    static let maxSampleSize = 1024
    /// (√5 − 1) / 2: the iteration stride is `Int(size · this) | 1` (C++ map iterator).
    static let goldenRatioReciprocal = 0.6180339887498949

    private(set) var lgCurSize: Int
    let lgMaxSize: Int
    private(set) var numActive = 0
    /// 2^lgCurSize slots, or none until the first insert: a map decoded from an 8-byte empty
    /// image may claim a large current size, and should cost nothing until it is used.
    private(set) var slots: [Slot] = []
    /// Bytes of the keys longer than ``maxInlineCount``.
    private(set) var arena: [UInt8] = []
    /// Bytes of `arena` that belong to deleted keys.
    private var garbageBytes = 0

    init(lgCurSize: Int, lgMaxSize: Int) {
        precondition(3 <= lgCurSize && lgCurSize <= lgMaxSize && lgMaxSize <= 30, "map sizes out of range")
        self.lgCurSize = lgCurSize
        self.lgMaxSize = lgMaxSize
    }

    /// `floor(0.75 · 2^lgCurSize)`, the C++ `get_capacity()`; exact in integers for lg ≥ 2.
    var capacity: Int { Self.capacity(lgSize: lgCurSize) }

    static func capacity(lgSize: Int) -> Int { (3 << lgSize) >> 2 }

    // MARK: - Update

    /// Adds `weight` to the counter of `key`, inserting the key if it is absent, then grows or
    /// purges if the insert overfilled the table.
    ///
    /// - Returns: the amount a purge subtracted from every counter, 0 if none ran (the C++
    ///   `adjust_or_insert` result, which the sketch adds to its offset).
    /// - Complexity: O(1) expected; a purge costs O(2^lgMaxSize) and runs at most once per
    ///   `capacity − numActive` inserts.
    @inline(__always)
    mutating func adjustOrInsert(_ key: Key, weight: UInt64) -> UInt64 {
        if slots.isEmpty { allocateSlots() }
        let mask = (1 << lgCurSize) &- 1
        let (index, drift, found) = slots.withUnsafeMutableBufferPointer { s in
            let (index, drift, found) = Self.locate(key, in: UnsafeBufferPointer(s), arena: arena, mask: mask)
            if found { s[index].value &+= weight }
            return (index, drift, found)
        }
        if found { return 0 }
        insert(key, weight: weight, at: index, drift: drift)
        return numActive > capacity ? resizeOrPurge() : 0
    }

    /// Inserts a key known to be absent (the decoder's path), or reports that it is present.
    ///
    /// - Returns: false, leaving the map unchanged, if `key` is already present.
    mutating func insertNew(_ key: Key, weight: UInt64) -> Bool {
        if slots.isEmpty { allocateSlots() }
        let (index, drift, found) = slots.withUnsafeBufferPointer { s in
            Self.locate(key, in: s, arena: arena, mask: (1 << lgCurSize) - 1)
        }
        if found { return false }
        insert(key, weight: weight, at: index, drift: drift)
        if numActive > capacity { _ = resizeOrPurge() }
        return true
    }

    /// The counter of `key`, 0 if it is not tracked.
    func get(_ key: Key) -> UInt64 {
        guard numActive > 0 else { return 0 }
        return slots.withUnsafeBufferPointer { s in
            let (index, _, found) = Self.locate(key, in: s, arena: arena, mask: (1 << lgCurSize) - 1)
            return found ? s[index].value : 0
        }
    }

    private mutating func allocateSlots() {
        slots = [Slot](repeating: Slot(), count: 1 << lgCurSize)
    }

    /// Probes from the home slot of `key`: the slot holding it (found), or the first empty
    /// slot and the drift an insert there would record.
    @inline(__always)
    private static func locate(
        _ key: Key, in s: UnsafeBufferPointer<Slot>, arena: [UInt8], mask: Int
    ) -> (index: Int, drift: UInt32, found: Bool) {
        var index = Int(key.hash) & mask
        var drift: UInt32 = 1
        while s[index].drift != 0 {
            if s[index].hash == key.hash && s[index].word1 == key.word1 {
                if key.isInline {
                    if s[index].word0 == key.word0 { return (index, drift, true) }
                } else if arenaBytesEqual(arena, at: Int(s[index].word0), key.bytes) {
                    return (index, drift, true)
                }
            }
            index = (index &+ 1) & mask
            drift &+= 1
        }
        return (index, drift, false)
    }

    /// Whether the `key.count` arena bytes at `start` equal `key`, compared a word at a time.
    private static func arenaBytesEqual(_ arena: [UInt8], at start: Int, _ key: UnsafeRawBufferPointer) -> Bool {
        arena.withUnsafeBytes { arenaBytes in
            let count = key.count
            guard count > 0, let arenaBase = arenaBytes.baseAddress, let keyBase = key.baseAddress else {
                return count == 0
            }
            let stored = arenaBase + start
            var i = 0
            while i &+ 8 <= count {
                if stored.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                    != keyBase.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                {
                    return false
                }
                i &+= 8
            }
            while i < count {
                if stored.load(fromByteOffset: i, as: UInt8.self) != keyBase.load(fromByteOffset: i, as: UInt8.self) {
                    return false
                }
                i &+= 1
            }
            return true
        }
    }

    @inline(__always)
    private mutating func insert(_ key: Key, weight: UInt64, at index: Int, drift: UInt32) {
        var word0 = key.word0
        if !key.isInline {
            word0 = UInt64(arena.count)
            if let base = key.bytes.baseAddress {
                arena.append(
                    contentsOf: UnsafeBufferPointer(
                        start: base.assumingMemoryBound(to: UInt8.self), count: key.bytes.count))
            }
        }
        slots.withUnsafeMutableBufferPointer {
            $0[index] = Slot(value: weight, hash: key.hash, drift: drift, word0: word0, word1: key.word1)
        }
        numActive += 1
    }

    // MARK: - Growth and purge

    private mutating func resizeOrPurge() -> UInt64 {
        if lgCurSize < lgMaxSize {
            resize(lgNewSize: lgCurSize + 1)
            return 0
        }
        let median = purge()
        precondition(numActive <= capacity, "purge did not reduce the number of active items")
        return median
    }

    /// Doubles the table, re-inserting the old slots in index order (as C++ `resize` does).
    /// Keys are distinct, so each one simply takes the first empty slot from its new home.
    private mutating func resize(lgNewSize: Int) {
        let mask = (1 << lgNewSize) - 1
        var newSlots = [Slot](repeating: Slot(), count: 1 << lgNewSize)
        newSlots.withUnsafeMutableBufferPointer { fresh in
            for var slot in slots where slot.drift != 0 {
                var index = Int(slot.hash) & mask
                var drift: UInt32 = 1
                while fresh[index].drift != 0 {
                    index = (index + 1) & mask
                    drift += 1
                }
                slot.drift = drift
                fresh[index] = slot
            }
        }
        slots = newSlots
        lgCurSize = lgNewSize
    }

    /// Subtracts the approximate median counter from every counter, deleting those that reach
    /// zero, and returns that median.
    private mutating func purge() -> UInt64 {
        let sampleCount = min(Self.maxSampleSize, numActive)
        let median = withUnsafeTemporaryAllocation(of: UInt64.self, capacity: sampleCount) { sample in
            slots.withUnsafeBufferPointer { s in
                var taken = 0
                var index = 0
                while taken < sampleCount {
                    if s[index].drift != 0 {
                        sample.initializeElement(at: taken, to: s[index].value)
                        taken += 1
                    }
                    index += 1
                }
            }
            // The C++ map takes `std::nth_element(..., n / 2, ...)`: the element that would sit
            // at position n/2 if the sample were sorted — a value, so any selection agrees.
            return Self.select(sample, rank: sampleCount / 2)
        }
        subtractAndKeepPositiveOnly(median)
        compactArenaIfWasteful()
        return median
    }

    /// The element of rank `rank` (0-based) of `values` in ascending order; reorders `values`.
    /// Hoare-style quickselect with a median-of-three pivot.
    static func select(_ values: UnsafeMutableBufferPointer<UInt64>, rank: Int) -> UInt64 {
        precondition(rank >= 0 && rank < values.count, "rank out of range")
        var low = 0
        var high = values.count - 1
        while low < high {
            let mid = low + (high - low) / 2
            let a = values[low]
            let b = values[mid]
            let c = values[high]
            let pivot = max(min(a, b), min(max(a, b), c))
            var i = low
            var j = high
            while i <= j {
                while values[i] < pivot { i += 1 }
                while values[j] > pivot { j -= 1 }
                if i <= j {
                    values.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            // Now values[low...j] <= pivot, values[i...high] >= pivot, and anything strictly
            // between j and i equals the pivot.
            if rank <= j {
                high = j
            } else if rank >= i {
                low = i
            } else {
                return values[rank]
            }
        }
        return values[rank]
    }

    /// The C++ `subtract_and_keep_positive_only`: start just below the highest empty slot so
    /// that every cluster is visited from its high end down (a deletion only pulls back
    /// members from above, which were already visited), and do the cluster that wraps past
    /// the end of the table last.
    private mutating func subtractAndKeepPositiveOnly(_ amount: UInt64) {
        let size = 1 << lgCurSize
        let mask = size - 1
        var deleted = 0
        var freedBytes = 0
        slots.withUnsafeMutableBufferPointer { s in
            func visit(_ probe: Int) {
                guard s[probe].drift != 0 else { return }
                if s[probe].value <= amount {
                    if !s[probe].isInline { freedBytes += s[probe].keyCount }
                    Self.hashDelete(s, at: probe, mask: mask)
                    deleted += 1
                } else {
                    s[probe].value -= amount
                }
            }
            var firstEmpty = size - 1
            while s[firstEmpty].drift != 0 { firstEmpty -= 1 }
            var probe = firstEmpty
            while probe > 0 {
                probe -= 1
                visit(probe)
            }
            probe = size
            while probe > firstEmpty {
                probe -= 1
                visit(probe)
            }
        }
        numActive -= deleted
        garbageBytes += freedBytes
    }

    /// Empties slot `index` and back-shifts the later members of its cluster that may move
    /// closer to home (C++ `hash_delete`).
    private static func hashDelete(_ s: UnsafeMutableBufferPointer<Slot>, at index: Int, mask: Int) {
        var hole = index
        s[hole].drift = 0
        var drift: UInt32 = 1
        var probe = (hole + 1) & mask
        while s[probe].drift != 0 {
            if s[probe].drift > drift {
                s[hole] = s[probe]
                s[hole].drift = s[probe].drift - drift
                s[probe].drift = 0
                drift = 0
                hole = probe
            }
            probe = (probe + 1) & mask
            drift += 1
        }
    }

    /// Rewrites the arena without the bytes of deleted keys once they exceed the live bytes
    /// (and a small floor), so the arena stays within twice the live long-key bytes.
    private mutating func compactArenaIfWasteful() {
        guard garbageBytes > 4096, garbageBytes * 2 > arena.count else { return }
        var compacted = [UInt8]()
        compacted.reserveCapacity(arena.count - garbageBytes)
        arena.withUnsafeBufferPointer { old in
            slots.withUnsafeMutableBufferPointer { s in
                for i in s.indices where s[i].drift != 0 && !s[i].isInline {
                    let start = Int(s[i].word0)
                    s[i].word0 = UInt64(compacted.count)
                    compacted.append(contentsOf: UnsafeBufferPointer(rebasing: old[start..<(start + s[i].keyCount)]))
                }
            }
        }
        arena = compacted
        garbageBytes = 0
    }

    // MARK: - Iteration and key access

    /// Slot indices of the active keys in the C++ iterator's order: the lowest active slot,
    /// then steps of `Int(size · 0.618…) | 1` modulo the size, skipping empty slots. This
    /// order is used to serialize, to merge and to list items.
    /// - Complexity: O(2^lgCurSize).
    func iterationOrder() -> [Int] {
        guard numActive > 0 else { return [] }
        let size = 1 << lgCurSize
        let mask = size - 1
        let stride = Int(Double(size) * Self.goldenRatioReciprocal) | 1
        var order = [Int]()
        order.reserveCapacity(numActive)
        slots.withUnsafeBufferPointer { s in
            var index = 0
            while s[index].drift == 0 { index += 1 }
            order.append(index)
            while order.count < numActive {
                repeat { index = (index + stride) & mask } while s[index].drift == 0
                order.append(index)
            }
        }
        return order
    }

    /// Calls `body` with the UTF-8 bytes of the key of `slot` (valid only during the call).
    @inline(__always)
    func withKeyBytes<R>(of slot: Slot, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        let count = slot.keyCount
        if slot.isInline {
            let words = (slot.word0.littleEndian, slot.word1.littleEndian)
            return withUnsafeBytes(of: words) { body(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        }
        let start = Int(slot.word0)
        return arena.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[start..<(start + count)])) }
    }

    /// Calls `body` with each active key and its counter, in iteration order (see
    /// ``iterationOrder()``). The key's bytes are valid only during the call.
    func forEachInIterationOrder(_ body: (_ key: Key, _ value: UInt64) -> Void) {
        for index in iterationOrder() {
            let slot = slots[index]
            if slot.isInline {
                body(Key(slot: slot, bytes: UnsafeRawBufferPointer(start: nil, count: 0)), slot.value)
            } else {
                withKeyBytes(of: slot) { body(Key(slot: slot, bytes: $0), slot.value) }
            }
        }
    }

    /// The key in slot `index` as a String (keys are valid UTF-8: they come from Strings or
    /// from validated images).
    func key(at index: Int) -> String {
        withKeyBytes(of: slots[index]) { String(decoding: $0, as: UTF8.self) }
    }
}
