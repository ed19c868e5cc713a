import Foundation
import Testing

@testable import Sketches

/// Helpers shared by the frequent-items suites: the reference stream, sidecar parsing and a
/// canonical order for result rows (the library leaves the order of equal estimates open).
enum FrequentItemsFixtures {
    static let family = "fi"
    static let zipfStreamFile = "fi_stream_zipf_seed7_n100000.txt"

    /// The Zipf reference stream, one item per line (the file ends with a newline).
    static func zipfStream() throws -> [String] {
        let text = try String(contentsOf: Fixtures.url(family, zipfStreamFile), encoding: .utf8)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    static func uint64(_ value: Any?) -> UInt64? {
        guard let number = value as? NSNumber else { return nil }
        return number.uint64Value
    }

    /// Sidecar rows `[item, estimate, lower, upper]` as ``FrequentItemsRow``s.
    static func rows(_ value: Any?) throws -> [FrequentItemsRow] {
        guard let array = value as? [[Any]] else { throw FixtureError("rows: not an array of arrays") }
        return try array.map { row in
            guard row.count == 4, let item = row[0] as? String, let estimate = uint64(row[1]),
                let lower = uint64(row[2]), let upper = uint64(row[3])
            else { throw FixtureError("bad row \(row)") }
            return FrequentItemsRow(item: item, estimate: estimate, lowerBound: lower, upperBound: upper)
        }
    }

    /// Rows by estimate descending, ties by the items' UTF-8 bytes, so that two valid answers
    /// that differ only in tie order compare equal.
    static func canonical(_ rows: [FrequentItemsRow]) -> [FrequentItemsRow] {
        rows.sorted { a, b in
            a.estimate != b.estimate
                ? a.estimate > b.estimate : Array(a.item.utf8).lexicographicallyPrecedes(b.item.utf8)
        }
    }

    /// True if the estimates never increase along `rows`.
    static func isSortedByEstimate(_ rows: [FrequentItemsRow]) -> Bool {
        zip(rows, rows.dropFirst()).allSatisfy { $0.estimate >= $1.estimate }
    }
}
