import Foundation

@testable import Sketches

/// Rebuilding KLL reference cases from their sidecar recipes, and exact ranks to compare
/// sketch answers with.
enum KLLTestSupport {
    static let family = "kll"

    /// A sidecar with every JSON number kept as its text (so `Fixtures.double` converts
    /// it with the correctly rounded `Double(String)`): swift-corelibs-foundation's
    /// `JSONSerialization` parses some doubles one ulp off (0.013294757464848584 reads as
    /// 0.01329475746484858), which would defeat exact comparisons.
    static func sidecar(_ name: String) throws -> [String: Any] {
        let text = try String(contentsOf: Fixtures.url(family, name + ".json"), encoding: .utf8)
        var quoted = ""
        quoted.reserveCapacity(text.utf8.count + text.utf8.count / 4)
        var inString = false
        var escaped = false
        var number = ""
        for character in text {
            if inString {
                quoted.append(character)
                if escaped {
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == "\"" {
                    inString = false
                }
                continue
            }
            let startsNumber = character.isASCII && (character.isNumber || character == "-")
            let continuesNumber = character.isASCII && (character.isNumber || "+-.eE".contains(character))
            if number.isEmpty ? startsNumber : continuesNumber {
                number.append(character)
                continue
            }
            if !number.isEmpty {
                quoted += "\"\(number)\""
                number = ""
            }
            if character == "\"" { inString = true }
            quoted.append(character)
        }
        guard let object = try JSONSerialization.jsonObject(with: Data(quoted.utf8)) as? [String: Any] else {
            throw FixtureError("\(name).json: top level is not an object")
        }
        return object
    }

    static func int(_ value: Any?) -> Int? { (value as? String).flatMap { Int($0) } }
    static func uint64(_ value: Any?) -> UInt64? { (value as? String).flatMap { UInt64($0) } }

    /// The stream of a recipe (`seq`, `splitmix64`, `list`), as doubles; float sketches
    /// round each to the nearest `Float` (index.json conventions).
    static func values(of input: [String: Any]) throws -> [Double] {
        let kind = input["kind"] as? String
        let n = int(input["n"]) ?? 0
        switch kind {
        case "empty":
            return []
        case "seq":
            return (0..<n).map { Double($0 + 1) }
        case "splitmix64":
            guard let seed = uint64(input["seed"]) else {
                throw FixtureError("splitmix64 recipe without a seed")
            }
            var generator = SplitMix64(seed: seed)
            return (0..<n).map { _ in generator.nextUnitDouble() }
        case "list":
            guard let list = input["values"] as? [Any] else { throw FixtureError("list recipe without values") }
            return try list.map { value in
                guard let double = Fixtures.double(value) else { throw FixtureError("bad list value \(value)") }
                return double
            }
        default:
            throw FixtureError("unknown recipe kind \(kind ?? "nil")")
        }
    }

    /// The recipe's stream converted to the sketch's item type.
    static func items<Item: KLLItem>(of input: [String: Any], as type: Item.Type) throws -> [Item] {
        try values(of: input).map { Item($0) }
    }

    /// Checks the recipe's `first_values` against the regenerated stream.
    static func firstValuesMatch<Item: KLLItem>(_ items: [Item], _ input: [String: Any]) -> Bool {
        guard let first = input["first_values"] as? [Any] else { return true }
        return zip(first, items).allSatisfy { Fixtures.double($0.0) == Double($0.1) }
    }

    /// Items of the stream strictly below and at most `x`, by a linear scan (no sort, so
    /// that debug builds stay fast on 10^6 items).
    static func exactCounts<Item: KLLItem>(_ stream: [Item], _ x: Item) -> (below: Int, atMost: Int) {
        var below = 0
        var atMost = 0
        for item in stream {
            if item < x { below += 1 }
            if item <= x { atMost += 1 }
        }
        return (below, atMost)
    }

    /// How far normalized rank `rank` is from the interval of true ranks of `quantile`
    /// in `stream` ([fraction < q, fraction ≤ q]).
    static func quantileRankError<Item: KLLItem>(_ stream: [Item], quantile: Item, rank: Double) -> Double {
        let counts = exactCounts(stream, quantile)
        let low = Double(counts.below) / Double(stream.count)
        let high = Double(counts.atMost) / Double(stream.count)
        if rank < low { return low - rank }
        if rank > high { return rank - high }
        return 0
    }

    /// The largest |sketch rank − true rank| over the sketch's retained items and 101 evenly
    /// spaced true quantiles, against an ascending copy of the stream.
    static func maxRankError<Item: KLLItem>(_ sketch: KLLSketch<Item>, sortedStream: [Item]) -> Double {
        let view = sketch.sortedView()
        let n = Double(sortedStream.count)
        var probes = view.items
        for step in 0...100 {
            probes.append(sortedStream[Swift.min(sortedStream.count - 1, step * sortedStream.count / 100)])
        }
        var worst = 0.0
        for probe in probes {
            let trueRank = Double(lowerBound(sortedStream, probe)) / n
            worst = Swift.max(worst, abs(view.rank(of: probe, inclusive: false) - trueRank))
        }
        return worst
    }

    /// Index of the first element not less than `x`.
    static func lowerBound<Item: KLLItem>(_ sorted: [Item], _ x: Item) -> Int {
        var low = 0
        var high = sorted.count
        while low < high {
            let middle = (low + high) / 2
            if sorted[middle] < x { low = middle + 1 } else { high = middle }
        }
        return low
    }

    static func doubles(_ value: Any?) -> [Double]? {
        guard let array = value as? [Any] else { return nil }
        var result: [Double] = []
        for element in array {
            guard let double = Fixtures.double(element) else { return nil }
            result.append(double)
        }
        return result
    }
}
