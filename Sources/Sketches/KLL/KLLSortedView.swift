/// The retained items of a KLL sketch in ascending order, each with the cumulative weight
/// of itself and every item before it (an item at level `h` weighs `2^h`); the last
/// cumulative weight is the sketch's `count`. This is the "sorted view" that DataSketches
/// answers every query from (`quantiles_sorted_view`, FORMATS.md "Queries"), so the
/// queries here give the library's answers bit for bit.
///
/// Drift statistics use it directly: KS over retained items, PSI bins, Wasserstein
/// distances from the quantile function.
public struct KLLSortedView<Item: KLLItem>: Sendable {
    /// Retained items, ascending; equal items keep the library's order (lower level first).
    public let items: [Item]
    /// `cumulativeWeights[i]` = total weight of `items[0...i]`.
    public let cumulativeWeights: [UInt64]

    /// The total weight, equal to the number of items the sketch has seen; 0 when empty.
    @inlinable public var totalWeight: UInt64 { cumulativeWeights.last ?? 0 }
    @inlinable public var isEmpty: Bool { items.isEmpty }

    @inlinable
    init(items: [Item], cumulativeWeights: [UInt64]) {
        self.items = items
        self.cumulativeWeights = cumulativeWeights
    }

    /// The normalized rank of `item`: the weight of retained items `< item` (or `≤ item`
    /// when `inclusive`) divided by the total weight. A NaN `item` compares false with
    /// everything, giving 0 (exclusive) or 1 (inclusive), as in the library.
    ///
    /// - Precondition: the view is not empty.
    /// - Complexity: O(log n) in the number of retained items.
    @inlinable
    public func rank(of item: Item, inclusive: Bool) -> Double {
        precondition(!items.isEmpty, "KLL sorted view: rank of an empty view")
        // the number of items before the first one that is >= item (> item when inclusive)
        var low = 0
        var high = items.count
        while low < high {
            let middle = (low + high) / 2
            let before = inclusive ? !(item < items[middle]) : items[middle] < item
            if before { low = middle + 1 } else { high = middle }
        }
        if low == 0 { return 0 }
        return Double(cumulativeWeights[low - 1]) / Double(totalWeight)
    }

    /// The item at normalized rank `rank`: the first retained item whose cumulative weight
    /// is `> floor(rank·n)` (exclusive) or `≥ ceil(rank·n)` (inclusive), or the largest
    /// item when there is none.
    ///
    /// - Precondition: the view is not empty and `0 ≤ rank ≤ 1`.
    /// - Complexity: O(log n) in the number of retained items.
    @inlinable
    public func quantile(rank: Double, inclusive: Bool) -> Item {
        precondition(!items.isEmpty, "KLL sorted view: quantile of an empty view")
        precondition(rank >= 0 && rank <= 1, "KLL: normalized rank \(rank) outside 0...1")
        let weight = Self.weight(atRank: rank, total: totalWeight, roundingUp: inclusive)
        var low = 0
        var high = cumulativeWeights.count
        while low < high {
            let middle = (low + high) / 2
            let before = inclusive ? cumulativeWeights[middle] < weight : cumulativeWeights[middle] <= weight
            if before { low = middle + 1 } else { high = middle }
        }
        return low == items.count ? items[items.count - 1] : items[low]
    }

    /// `floor(rank · total)` or `ceil(rank · total)` as the library computes it (a double
    /// product, then truncation), without libm's `ceil`.
    @inlinable
    static func weight(atRank rank: Double, total: UInt64, roundingUp: Bool) -> UInt64 {
        let scaled = rank * Double(total)
        // Double(total) may round up to 2^64 for totals near UInt64.max
        if scaled >= 18_446_744_073_709_551_616.0 { return .max }
        let truncated = UInt64(scaled)
        return roundingUp && Double(truncated) < scaled ? truncated + 1 : truncated
    }
}

extension KLLSketch {
    /// The sorted view of the retained items. The sketch is not changed (level 0 is
    /// sorted in the copy).
    ///
    /// The levels (each sorted) are merged pairwise in rounds, a stable merge that puts
    /// the lower level first among equal items; that is the order the library's one level
    /// at a time merge gives, so cumulative weights agree at ties too.
    ///
    /// - Complexity: O(r log L) for r retained items in L levels, plus sorting level 0.
    @inlinable
    public func sortedView() -> KLLSortedView<Item> {
        let numLevels = levels.count - 1
        let base = levels[0]
        let retained = levels[numLevels] - base
        var merged = Array(items[base..<levels[numLevels]])
        var weights = [UInt64](repeating: 1, count: retained)
        if !isLevelZeroSorted { merged[0..<(levels[1] - base)].sort() }
        var runStarts = [0]
        for level in 0..<numLevels where levels[level] < levels[level + 1] {
            if level > 0 {
                let weight = UInt64(1) << UInt64(level)
                for index in (levels[level] - base)..<(levels[level + 1] - base) { weights[index] = weight }
            }
            runStarts.append(levels[level + 1] - base)
        }
        if runStarts.count > 2 {
            var scratchItems = merged
            var scratchWeights = weights
            while runStarts.count > 2 {
                var nextStarts = [0]
                nextStarts.reserveCapacity(runStarts.count / 2 + 2)
                merged.withUnsafeBufferPointer { sourceItems in
                    weights.withUnsafeBufferPointer { sourceWeights in
                        scratchItems.withUnsafeMutableBufferPointer { targetItems in
                            scratchWeights.withUnsafeMutableBufferPointer { targetWeights in
                                var run = 0
                                while run + 1 < runStarts.count {
                                    // an odd run out is copied (merged with an empty run)
                                    let middle = runStarts[run + 1]
                                    let end = run + 2 < runStarts.count ? runStarts[run + 2] : middle
                                    KLLBuffer.mergeWeighted(
                                        sourceItems, sourceWeights, runStarts[run], middle, end,
                                        into: targetItems, targetWeights)
                                    nextStarts.append(end)
                                    run += 2
                                }
                            }
                        }
                    }
                }
                swap(&merged, &scratchItems)
                swap(&weights, &scratchWeights)
                runStarts = nextStarts
            }
        }
        var total: UInt64 = 0
        for index in weights.indices {
            total &+= weights[index]
            weights[index] = total
        }
        return KLLSortedView(items: merged, cumulativeWeights: weights)
    }

    /// The item at normalized rank `rank` (see ``KLLSortedView/quantile(rank:inclusive:)``);
    /// nil when the sketch is empty. With 99% confidence its true rank is within
    /// ``normalizedRankError(pmf:)`` of `rank`.
    ///
    /// - Precondition: `0 ≤ rank ≤ 1`.
    /// - Complexity: O(r log r) for r retained items (builds the sorted view).
    @inlinable
    public func quantile(rank: Double, inclusive: Bool = false) -> Item? {
        precondition(rank >= 0 && rank <= 1, "KLL: normalized rank \(rank) outside 0...1")
        if _n == 0 { return nil }
        return sortedView().quantile(rank: rank, inclusive: inclusive)
    }

    /// ``quantile(rank:inclusive:)`` for several ranks, building the sorted view once;
    /// nil when the sketch is empty.
    ///
    /// - Precondition: every rank is in `0...1`.
    @inlinable
    public func quantiles(ranks: [Double], inclusive: Bool = false) -> [Item]? {
        for rank in ranks {
            precondition(rank >= 0 && rank <= 1, "KLL: normalized rank \(rank) outside 0...1")
        }
        if _n == 0 { return nil }
        let view = sortedView()
        return ranks.map { view.quantile(rank: $0, inclusive: inclusive) }
    }

    /// The normalized rank of `item` (see ``KLLSortedView/rank(of:inclusive:)``); nil when
    /// the sketch is empty.
    @inlinable
    public func rank(of item: Item, inclusive: Bool = false) -> Double? {
        if _n == 0 { return nil }
        return sortedView().rank(of: item, inclusive: inclusive)
    }

    /// The cumulative distribution at `splitPoints`: the ranks of the split points
    /// followed by 1.0 (`splitPoints.count + 1` values); nil when the sketch is empty.
    ///
    /// - Throws: ``SketchError`` (invalid argument) when a split point is NaN or the split
    ///   points are not strictly increasing.
    @_specialize(where Item == Double)
    @_specialize(where Item == Float)
    public func cdf(splitPoints: [Item], inclusive: Bool = false) throws(SketchError) -> [Double]? {
        try Self.checkSplitPoints(splitPoints)
        if _n == 0 { return nil }
        let view = sortedView()
        var result = splitPoints.map { view.rank(of: $0, inclusive: inclusive) }
        result.append(1)
        return result
    }

    /// The probability mass between consecutive split points (`splitPoints.count + 1`
    /// buckets, the first below the first point, the last above the last point); nil when
    /// the sketch is empty. Each mass is within ``normalizedRankError(pmf:)`` (with
    /// `pmf: true`) of the truth with 99% confidence.
    ///
    /// - Throws: ``SketchError`` (invalid argument) when a split point is NaN or the split
    ///   points are not strictly increasing.
    @_specialize(where Item == Double)
    @_specialize(where Item == Float)
    public func pmf(splitPoints: [Item], inclusive: Bool = false) throws(SketchError) -> [Double]? {
        guard var buckets = try cdf(splitPoints: splitPoints, inclusive: inclusive) else { return nil }
        var index = buckets.count - 1
        while index > 0 {
            buckets[index] -= buckets[index - 1]
            index -= 1
        }
        return buckets
    }

    static func checkSplitPoints(_ splitPoints: [Item]) throws(SketchError) {
        for (index, point) in splitPoints.enumerated() where point.isNaN {
            throw .invalidArgument("KLL split point \(index) is NaN")
        }
        for (index, point) in splitPoints.enumerated() {
            if index + 1 < splitPoints.count && !(point < splitPoints[index + 1]) {
                throw .invalidArgument(
                    "KLL split points must be strictly increasing: \(splitPoints[index + 1]) at index \(index + 1) "
                        + "follows \(point)")
            }
        }
    }
}
