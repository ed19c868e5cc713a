/// A KLL quantiles sketch over `Double` or `Float` items, byte-compatible with Apache
/// DataSketches' `kll_doubles_sketch` / `kll_floats_sketch` (C++ core 5.2.0, FORMATS.md
/// section a).
///
/// The sketch keeps a small sample of the stream in *levels*; an item at level `h` stands
/// for `2^h` stream items. When the bottom level overflows, a level is *compacted*: sorted,
/// halved by keeping every other item from a random start, and the kept half promoted one
/// level up. Algorithm: Karnin, Lang & Liberty, "Optimal Quantile Approximation in
/// Streams" (FOCS 2016), in the variant of Ivkin, Liberty, Lang, Karnin & Braverman,
/// "Streaming Quantiles Algorithms with Small Space and Update Time" (2019), which is
/// the one DataSketches implements.
///
/// Error guarantee: with 99% confidence the rank of any returned quantile (and any
/// returned rank) is within ``normalizedRankError(pmf:)`` of the true one: 1.33% at the
/// default `k = 200`, 1.65% for PMF/CDF bucket masses (DataSketches' empirical fit
/// `2.296 / k^0.9723`, PMF `2.446 / k^0.9433`). With `n ≤ k` the sketch is exact.
///
/// Invariants: `levels` has `numLevels + 1` non-decreasing absolute offsets into `items`,
/// whose count is the total capacity for `(k, m = 8, numLevels)`; level `h` is
/// `items[levels[h] ..< levels[h+1]]`; every level above 0 is sorted ascending; the
/// weights `Σ size(h) · 2^h` add up to `count`; no item is NaN.
///
/// Coin flips: the C++ library draws the compaction bit from a clock-seeded `mt19937`, so
/// its images past the first compaction are not reproducible even by itself. This sketch
/// draws it from a SplitMix64 generator stored in the value (seed ``defaultRandomSeed``
/// unless given), so a given stream of updates and merges always gives the same bytes.
///
/// Value semantics: queries never change the sketch (the C++ library sorts level 0 as a
/// side effect of a query; here the sorted copy lives in the returned sorted view), so
/// an image decoded and re-serialized without updates round-trips byte for byte.
public struct KLLSketch<Item: KLLItem>: Sendable {
    /// The default `k`, 200: normalized rank error about 1.33% (DataSketches' default).
    public static var defaultK: Int { 200 }

    /// The seed of the compaction coin when none is given.
    public static var defaultRandomSeed: UInt64 { 0x4B4C_4C5F_4452_4654 }

    /// DataSketches' minimum level width `m`; images with any other value are rejected
    /// (the C++ reader accepts only 8, `kll_constants::DEFAULT_M`).
    @usableFromInline static var m: Int { 8 }

    @usableFromInline var _k: UInt16
    @usableFromInline var _minK: UInt16
    @usableFromInline var _n: UInt64
    /// Absolute level offsets into `items`, `numLevels + 1` entries, the last = capacity.
    @usableFromInline var levels: [Int]
    /// The whole buffer (free space at the bottom, then level 0, level 1, ...).
    @usableFromInline var items: [Item]
    /// `+infinity` while empty, so that updates need no emptiness branch.
    @usableFromInline var minItem: Item
    /// `-infinity` while empty.
    @usableFromInline var maxItem: Item
    @usableFromInline var isLevelZeroSorted: Bool
    @usableFromInline var coin: KLLCoin
    /// Level capacities for the current level count, recomputed when the count changes
    /// (they depend only on k and the number of levels).
    @usableFromInline var capacities: [Int]

    /// An empty sketch with `k = 200`.
    public init() {
        self.init(validK: Self.defaultK, seed: Self.defaultRandomSeed)
    }

    /// An empty sketch; `k` trades size for accuracy (8...65535, default 200).
    public init(k: Int) throws(SketchError) {
        try self.init(k: k, randomSeed: Self.defaultRandomSeed)
    }

    /// An empty sketch whose compaction coin starts from `randomSeed` (independent
    /// sketches of the same stream should use different seeds).
    public init(k: Int, randomSeed: UInt64) throws(SketchError) {
        guard (8...65535).contains(k) else {
            throw .invalidArgument("KLL k=\(k) out of range 8...65535")
        }
        self.init(validK: k, seed: randomSeed)
    }

    @inlinable
    init(validK k: Int, seed: UInt64) {
        _k = UInt16(k)
        _minK = UInt16(k)
        _n = 0
        levels = [k, k]
        items = [Item](repeating: 0, count: k)
        minItem = .infinity
        maxItem = -.infinity
        isLevelZeroSorted = false
        coin = KLLCoin(seed: seed)
        capacities = [k]
    }

    /// The accuracy parameter given at construction.
    @inlinable public var k: Int { Int(_k) }
    /// The smallest `k` among the sketches merged into this one; it sets the error bound.
    @inlinable public var minK: Int { Int(_minK) }
    /// The number of items seen (NaNs are not counted).
    @inlinable public var count: UInt64 { _n }
    @inlinable public var isEmpty: Bool { _n == 0 }
    /// The number of items kept.
    @inlinable public var numRetained: Int { levels[levels.count - 1] - levels[0] }
    /// True once a compaction has happened: answers are then approximate.
    @inlinable public var isEstimationMode: Bool { levels.count > 2 }
    @inlinable public var numLevels: Int { levels.count - 1 }
    /// The smallest item seen; nil when empty.
    @inlinable public var min: Item? { _n == 0 ? nil : minItem }
    /// The largest item seen; nil when empty.
    @inlinable public var max: Item? { _n == 0 ? nil : maxItem }

    /// Adds one item. NaN is ignored (not counted), like DataSketches; infinities are kept.
    ///
    /// - Complexity: amortized O(1); a compaction costs O(retained items) in the worst case.
    @inlinable
    public mutating func update(_ item: Item) {
        if item.isNaN { return }
        if item < minItem { minItem = item }
        if maxItem < item { maxItem = item }
        if levels[0] == 0 { compressWhileUpdating() }
        let slot = levels[0] &- 1
        levels[0] = slot
        items[slot] = item
        _n &+= 1
        isLevelZeroSorted = false
    }

    /// Adds every item of `newItems` in order; the result is identical to calling
    /// ``update(_:)`` for each. Contiguous collections take a fast path.
    ///
    /// - Complexity: amortized O(1) per item.
    @inlinable
    public mutating func update(contentsOf newItems: some Sequence<Item>) {
        let handled: Void? = newItems.withContiguousStorageIfAvailable { buffer in
            self.update(buffer: buffer)
        }
        if handled == nil {
            for item in newItems { update(item) }
        }
    }

    @inlinable
    mutating func update(buffer: UnsafeBufferPointer<Item>) {
        let count = buffer.count
        var next = 0
        var low = minItem
        var high = maxItem
        var added: UInt64 = 0
        while true {
            // A compaction happens only when a real item arrives at a full level 0, so
            // trailing NaNs must not trigger one.
            while next < count && buffer[next].isNaN { next += 1 }
            if next == count { break }
            if levels[0] == 0 { compressWhileUpdating() }
            var slot = levels[0]
            items.withUnsafeMutableBufferPointer { destination in
                while next < count && slot > 0 {
                    let item = buffer[next]
                    next += 1
                    if item.isNaN { continue }
                    if item < low { low = item }
                    if high < item { high = item }
                    slot -= 1
                    destination[slot] = item
                    added += 1
                }
            }
            levels[0] = slot
            isLevelZeroSorted = false
        }
        _n += added
        minItem = low
        maxItem = high
    }

    /// Appends already-validated items to level 0 in the given order, compacting as
    /// `update` would (used by merge; min, max and n are the caller's business).
    @inlinable
    mutating func appendToLevelZero(_ source: UnsafeBufferPointer<Item>) {
        var next = 0
        while next < source.count {
            if levels[0] == 0 { compressWhileUpdating() }
            let slot = levels[0]
            let take = Swift.min(slot, source.count - next)
            items.withUnsafeMutableBufferPointer { destination in
                for j in 0..<take { destination[slot - 1 - j] = source[next + j] }
            }
            next += take
            levels[0] = slot - take
            isLevelZeroSorted = false
        }
    }

    /// Makes room at the bottom of a full buffer: compacts the lowest level at or over
    /// its capacity, adding a top level first when that is the top one (FORMATS.md,
    /// "Compaction").
    @inlinable @inline(never)
    mutating func compressWhileUpdating() {
        let numLevels = levels.count - 1
        if capacities.count != numLevels {
            capacities = (0..<numLevels).map { KLLCapacity.level(k: Int(_k), numLevels: numLevels, height: $0) }
        }
        var level = 0
        while true {
            precondition(level < numLevels, "KLL invariant: a full buffer has a level at capacity")
            if levels[level + 1] - levels[level] >= capacities[level] { break }
            level += 1
        }
        if level == numLevels - 1 { addEmptyTopLevel() }
        let offset = coin.flip()
        let sortFirst = level == 0 && !isLevelZeroSorted
        Self.compact(level: level, items: &items, levels: &levels, sortFirst: sortFirst, offset: offset)
    }

    /// Grows a completely full buffer by the capacity of the new bottom level and adds an
    /// empty top level; existing data moves up by that amount.
    @inlinable
    mutating func addEmptyTopLevel() {
        let numLevels = levels.count - 1
        let oldCapacity = levels[numLevels]
        precondition(levels[0] == 0 && oldCapacity == items.count, "KLL invariant: grow only a full buffer")
        let delta = KLLCapacity.level(k: Int(_k), numLevels: numLevels + 1, height: 0)
        var grown = [Item]()
        grown.reserveCapacity(oldCapacity + delta)
        grown.append(contentsOf: repeatElement(0, count: delta))
        grown.append(contentsOf: items)
        items = grown
        for i in levels.indices { levels[i] += delta }
        levels.append(oldCapacity + delta)
    }

    /// Compacts `level` in place and shifts the levels below it up into the freed space.
    /// `levels[level + 2]` must exist (the caller adds a top level first if needed).
    @inlinable
    static func compact(level: Int, items: inout [Item], levels: inout [Int], sortFirst: Bool, offset: Int) {
        let rawBegin = levels[level]
        let rawLimit = levels[level + 1]
        let populationAbove = levels[level + 2] - rawLimit
        let rawPopulation = rawLimit - rawBegin
        let isOdd = rawPopulation & 1 == 1
        let adjustedBegin = isOdd ? rawBegin + 1 : rawBegin
        let adjustedPopulation = isOdd ? rawPopulation - 1 : rawPopulation
        let half = adjustedPopulation / 2
        let bottom = levels[0]
        items.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { preconditionFailure("KLL invariant: empty buffer") }
            if sortFirst { KLLBuffer.sort(base + adjustedBegin, count: adjustedPopulation) }
            if populationAbove == 0 {
                KLLBuffer.halveUp(base, start: adjustedBegin, length: adjustedPopulation, offset: offset)
            } else {
                KLLBuffer.halveDown(base, start: adjustedBegin, length: adjustedPopulation, offset: offset)
                KLLBuffer.mergeInPlace(
                    base, a: adjustedBegin, aCount: half, b: rawLimit, bCount: populationAbove,
                    destination: adjustedBegin + half)
            }
            if isOdd && half > 0 {
                // the leftover (first) item stays at this level, just below the level above
                base[rawBegin + half] = base[rawBegin]
            }
            if level > 0 {
                let amount = rawBegin - bottom
                (base + bottom + half).update(from: base + bottom, count: amount)
            }
        }
        levels[level + 1] -= half
        levels[level] = rawBegin + half
        if level > 0 {
            for lower in 0..<level { levels[lower] += half }
        }
    }
}

/// Aliases matching DataSketches' names.
public typealias KLLDoublesSketch = KLLSketch<Double>
public typealias KLLFloatsSketch = KLLSketch<Float>

/// The compaction coin: ``SplitMix64``, one output per flip, top bit used. Stored in the
/// sketch so that results are reproducible.
@usableFromInline
struct KLLCoin: Sendable {
    @usableFromInline var generator: SplitMix64

    @inlinable init(seed: UInt64) { generator = SplitMix64(seed: seed) }

    /// The generator's state (serialised nowhere; kept for equality and copies).
    @inlinable var state: UInt64 { generator.state }

    /// 0 or 1.
    @inlinable
    mutating func flip() -> Int { Int(truncatingIfNeeded: generator.next() >> 63) }
}

/// Level capacities of the KLL buffer (FORMATS.md "Levels / offsets"; DataSketches
/// `kll_helper::level_capacity`): level `h` of `numLevels` holds
/// `max(m, round(k · (2/3)^depth))` items, `depth = numLevels − h − 1`, computed in
/// integers as `((2k << depth) / 3^depth + 1) >> 1`, in two halves for depth > 30.
@usableFromInline
enum KLLCapacity {
    /// The largest level count the library can write or read (depth ≤ 60).
    @usableFromInline static var maxLevels: Int { 61 }

    @inlinable
    static func level(k: Int, numLevels: Int, height: Int) -> Int {
        let depth = numLevels - height - 1
        precondition(depth >= 0, "KLL invariant: level above the top")
        let width: Int
        if depth > 60 {
            // The library stops at depth 60 (it throws); k·(2/3)^depth < 1 there for every
            // k ≤ 65535, so the capacity is m for any deeper level.
            width = 0
        } else if depth <= 30 {
            width = roundedTwoThirdsPower(k, depth)
        } else {
            let half = depth / 2
            width = roundedTwoThirdsPower(roundedTwoThirdsPower(k, half), depth - half)
        }
        return Swift.max(8, width)
    }

    @inlinable
    static func roundedTwoThirdsPower(_ k: Int, _ depth: Int) -> Int {
        var powerOfThree: UInt64 = 1
        for _ in 0..<depth { powerOfThree &*= 3 }
        let scaled = (UInt64(2 * k) << UInt64(depth)) / powerOfThree
        return Int((scaled + 1) >> 1)
    }

    /// Σ capacities of all levels.
    @inlinable
    static func total(k: Int, numLevels: Int) -> Int {
        var sum = 0
        for height in 0..<numLevels { sum += level(k: k, numLevels: numLevels, height: height) }
        return sum
    }
}

/// Raw-buffer primitives of the compactor. Items are never NaN, so `<` is a total order.
@usableFromInline
enum KLLBuffer {
    /// Ascending sort. Level 0 usually holds 8 to 24 items in random order when it is
    /// compacted; a branchy sort mispredicts about once per comparison there, so runs of
    /// up to 32 items are sorted by rank instead: each item's final index is the number
    /// of items smaller than it (ties broken by position), counted without branches.
    ///
    /// - Complexity: O(count²) up to 32 items, O(count log count) above.
    @inlinable
    static func sort<Item: KLLItem>(_ start: UnsafeMutablePointer<Item>, count: Int) {
        if count < 2 { return }
        if count > 32 {
            // The standard library's sort is a merge sort that allocates a scratch buffer on
            // every call; level 0 can hold a few hundred items at a compaction, so that would
            // be one allocation per compaction on the logging hot path. Sort in place instead.
            introsort(start, 0, count - 1, depth: 2 * (Int.bitWidth - count.leadingZeroBitCount))
            return
        }
        withUnsafeTemporaryAllocation(of: Item.self, capacity: count) { scratch in
            guard let sorted = scratch.baseAddress else { return }
            for i in 0..<count {
                let item = start[i]
                var rank = 0
                for j in 0..<i { rank &+= Int(unsafeBitCast(start[j] <= item, to: UInt8.self)) }
                for j in (i + 1)..<count { rank &+= Int(unsafeBitCast(start[j] < item, to: UInt8.self)) }
                (sorted + rank).initialize(to: item)
            }
            start.update(from: sorted, count: count)
        }
    }

    @inlinable @inline(__always)
    static func swapItems<Item>(_ a: UnsafeMutablePointer<Item>, _ i: Int, _ j: Int) {
        let t = a[i]
        a[i] = a[j]
        a[j] = t
    }

    /// In-place introsort of `start[low...high]`: quicksort with a median-of-three pivot,
    /// insertion sort below 16 items, heapsort when the recursion gets too deep (Musser 1997).
    /// Allocates nothing.
    @inlinable
    static func introsort<Item: KLLItem>(_ a: UnsafeMutablePointer<Item>, _ low: Int, _ high: Int, depth: Int) {
        var low = low
        var high = high
        var depth = depth
        while high - low >= 16 {
            if depth == 0 {
                heapsort(a + low, count: high - low + 1)
                return
            }
            depth -= 1
            let middle = low + (high - low) / 2
            if a[middle] < a[low] { swapItems(a, low, middle) }
            if a[high] < a[low] { swapItems(a, low, high) }
            if a[high] < a[middle] { swapItems(a, middle, high) }
            let pivot = a[middle]
            var i = low
            var j = high
            while i <= j {
                while a[i] < pivot { i += 1 }
                while pivot < a[j] { j -= 1 }
                if i <= j {
                    swapItems(a, i, j)
                    i += 1
                    j -= 1
                }
            }
            // Recurse into the smaller side, loop on the larger: O(log n) stack.
            if j - low < high - i {
                introsort(a, low, j, depth: depth)
                low = i
            } else {
                introsort(a, i, high, depth: depth)
                high = j
            }
        }
        if high > low {
            for i in (low + 1)...high {
                let item = a[i]
                var j = i - 1
                while j >= low && item < a[j] {
                    a[j + 1] = a[j]
                    j -= 1
                }
                a[j + 1] = item
            }
        }
    }

    @inlinable
    static func heapsort<Item: KLLItem>(_ a: UnsafeMutablePointer<Item>, count: Int) {
        func siftDown(_ start: Int, _ end: Int) {
            var root = start
            while 2 * root + 1 < end {
                var child = 2 * root + 1
                if child + 1 < end && a[child] < a[child + 1] { child += 1 }
                guard a[root] < a[child] else { return }
                swapItems(a, root, child)
                root = child
            }
        }
        var start = count / 2
        while start > 0 {
            start -= 1
            siftDown(start, count)
        }
        var end = count
        while end > 1 {
            end -= 1
            swapItems(a, 0, end)
            siftDown(0, end)
        }
    }

    /// Keeps every other item of the sorted run `[start, start+length)` (from `offset`,
    /// 0 or 1) in its upper half.
    @inlinable
    static func halveUp<Item>(_ base: UnsafeMutablePointer<Item>, start: Int, length: Int, offset: Int) {
        let half = length / 2
        var source = start + length - 1 - offset
        var target = start + length - 1
        while target >= start + half {
            base[target] = base[source]
            target -= 1
            source -= 2
        }
    }

    /// Keeps every other item of the sorted run `[start, start+length)` (from `offset`,
    /// 0 or 1) in its lower half.
    @inlinable
    static func halveDown<Item>(_ base: UnsafeMutablePointer<Item>, start: Int, length: Int, offset: Int) {
        let half = length / 2
        var source = start + offset
        for target in start..<(start + half) {
            base[target] = base[source]
            source += 2
        }
    }

    /// Merges sorted runs `a` and `b` of one buffer into `destination`, which may overlap
    /// the front of `b` but must not overlap `a`; ties take the item of `b` first, as
    /// DataSketches does.
    @inlinable
    static func mergeInPlace<Item: KLLItem>(
        _ base: UnsafeMutablePointer<Item>, a: Int, aCount: Int, b: Int, bCount: Int, destination: Int
    ) {
        var i = a
        var j = b
        let aLimit = a + aCount
        let bLimit = b + bCount
        var target = destination
        while i < aLimit && j < bLimit {
            // branch-free: the comparison outcome is random, a branch would mispredict
            let x = base[i]
            let y = base[j]
            let takeA = x < y
            base[target] = takeA ? x : y
            let step = Int(unsafeBitCast(takeA, to: UInt8.self))
            i &+= step
            j &+= 1 &- step
            target &+= 1
        }
        while i < aLimit {
            base[target] = base[i]
            i += 1
            target += 1
        }
        // the rest of `b` is already in place when target == j
        if target != j {
            while j < bLimit {
                base[target] = base[j]
                j += 1
                target += 1
            }
        }
    }

    /// Stably merges the sorted runs `[start, middle)` and `[middle, end)` of `items` (with
    /// their `weights`) into the same positions of the target buffers; on ties the first
    /// run's item comes first. (Branchy on purpose: the runs of a sorted view differ much
    /// in length, so the branch predicts well; measured 2x faster than branch-free here.)
    @inlinable
    static func mergeWeighted<Item: KLLItem>(
        _ items: UnsafeBufferPointer<Item>, _ weights: UnsafeBufferPointer<UInt64>, _ start: Int, _ middle: Int,
        _ end: Int, into targetItems: UnsafeMutableBufferPointer<Item>,
        _ targetWeights: UnsafeMutableBufferPointer<UInt64>
    ) {
        var i = start
        var j = middle
        var target = start
        while i < middle && j < end {
            let x = items[i]
            let y = items[j]
            if y < x {
                targetItems[target] = y
                targetWeights[target] = weights[j]
                j &+= 1
            } else {
                targetItems[target] = x
                targetWeights[target] = weights[i]
                i &+= 1
            }
            target &+= 1
        }
        while i < middle {
            targetItems[target] = items[i]
            targetWeights[target] = weights[i]
            i += 1
            target += 1
        }
        while j < end {
            targetItems[target] = items[j]
            targetWeights[target] = weights[j]
            j += 1
            target += 1
        }
    }

    /// Merges two sorted runs from different buffers into `destination`; ties take `b`.
    @inlinable
    static func merge<Item: KLLItem>(
        _ a: UnsafePointer<Item>, _ aCount: Int, _ b: UnsafePointer<Item>, _ bCount: Int,
        into destination: UnsafeMutablePointer<Item>
    ) {
        var i = 0
        var j = 0
        var target = 0
        while i < aCount && j < bCount {
            if a[i] < b[j] {
                destination[target] = a[i]
                i += 1
            } else {
                destination[target] = b[j]
                j += 1
            }
            target += 1
        }
        while i < aCount {
            destination[target] = a[i]
            i += 1
            target += 1
        }
        while j < bCount {
            destination[target] = b[j]
            j += 1
            target += 1
        }
    }
}
