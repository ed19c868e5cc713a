/// Which mistakes ``FrequentStringsSketch/frequentItems(errorType:threshold:)`` may make
/// (DataSketches `frequent_items_error_type`).
public enum FrequentItemsErrorType: String, Sendable, CaseIterable {
    /// Report only items whose lower bound exceeds the threshold: every reported item is truly
    /// above it, some true ones may be missed.
    case noFalsePositives = "no-false-positives"
    /// Report every item whose upper bound exceeds the threshold: no truly frequent item is
    /// missed, some reported ones may not be.
    case noFalseNegatives = "no-false-negatives"
}

/// One tracked item with its estimate and bounds; `lowerBound ≤ true weight ≤ upperBound`.
public struct FrequentItemsRow: Sendable, Equatable {
    public let item: String
    /// `lowerBound + maximumError` (the library's estimate for a tracked item).
    public let estimate: UInt64
    public let lowerBound: UInt64
    public let upperBound: UInt64

    public init(item: String, estimate: UInt64, lowerBound: UInt64, upperBound: UInt64) {
        self.item = item
        self.estimate = estimate
        self.lowerBound = lowerBound
        self.upperBound = upperBound
    }
}

extension FrequentStringsSketch {
    /// The a-priori relative error of a sketch of this size: `3.5 / 2^lgMaxMapSize`
    /// (C++ `EPSILON_FACTOR` / map size, from the IMC 2017 analysis).
    public var epsilon: Double { Self.epsilon(lgMaxMapSize: lgMaxMapSize) }

    /// `3.5 / 2^lgMaxMapSize`, for planning (defined for any integer).
    public static func epsilon(lgMaxMapSize: Int) -> Double {
        3.5 * Double(sign: .plus, exponent: -lgMaxMapSize, significand: 1)
    }

    /// The expected upper limit of ``maximumError`` for a stream of the given total weight:
    /// `epsilon(lgMaxMapSize) · totalWeight` (C++ `get_apriori_error`).
    public static func aprioriError(lgMaxMapSize: Int, totalWeight: UInt64) -> Double {
        epsilon(lgMaxMapSize: lgMaxMapSize) * Double(totalWeight)
    }

    /// The largest possible undercount of any item: the total subtracted by purges.
    public var maximumError: UInt64 { offset }

    /// The estimated weight of `item`: its counter plus ``maximumError`` if tracked, else 0.
    /// - Complexity: O(length of `item`) expected.
    public func estimate(_ item: String) -> UInt64 {
        let counter = counter(of: item)
        return counter > 0 ? counter &+ offset : 0
    }

    /// A guaranteed lower bound of `item`'s weight: its counter, 0 if untracked.
    public func lowerBound(_ item: String) -> UInt64 { counter(of: item) }

    /// A guaranteed upper bound of `item`'s weight: its counter (0 if untracked) plus
    /// ``maximumError``.
    public func upperBound(_ item: String) -> UInt64 { counter(of: item) &+ offset }

    private func counter(of item: String) -> UInt64 {
        func lookup(_ utf8: UnsafeBufferPointer<UInt8>) -> UInt64 {
            map.get(ReversePurgeStringMap.Key(utf8: UnsafeRawBufferPointer(utf8)))
        }
        if let counter = item.utf8.withContiguousStorageIfAvailable(lookup) { return counter }
        var copy = item
        return copy.withUTF8(lookup)
    }

    /// The tracked items whose lower bound (`.noFalsePositives`) or upper bound
    /// (`.noFalseNegatives`) exceeds `threshold` — by default ``maximumError`` — sorted by
    /// estimate, largest first; ties keep the map's iteration order (the library leaves tie
    /// order unspecified).
    /// - Complexity: O(2^lgCurMapSize + k log k) for k reported items.
    public func frequentItems(errorType: FrequentItemsErrorType, threshold: UInt64? = nil) -> [FrequentItemsRow] {
        let threshold = threshold ?? offset
        let rows = items.filter { row in
            switch errorType {
            case .noFalsePositives: return row.lowerBound > threshold
            case .noFalseNegatives: return row.upperBound > threshold
            }
        }
        return rows.enumerated()
            .sorted { a, b in
                a.element.estimate != b.element.estimate ? a.element.estimate > b.element.estimate : a.offset < b.offset
            }
            .map(\.element)
    }

    /// Every tracked item with its estimate and bounds, in the map's iteration order (the
    /// order in which ``serialized()`` writes them).
    /// - Complexity: O(2^lgCurMapSize + total key bytes).
    public var items: [FrequentItemsRow] {
        map.iterationOrder().map { index in
            let counter = map.slots[index].value
            return FrequentItemsRow(
                item: map.key(at: index), estimate: counter &+ offset, lowerBound: counter,
                upperBound: counter &+ offset)
        }
    }
}
