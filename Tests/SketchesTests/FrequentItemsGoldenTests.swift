import Foundation
import Testing

@testable import Sketches

/// Reference vectors written by DataSketches 5.2.0 (`frequent_strings_sketch`, C++ core via
/// Python): every image decodes to the library's answers, and rebuilding each case from its
/// input recipe reproduces the library's bytes exactly.
@Suite struct FrequentItemsGoldenTests {
    typealias F = FrequentItemsFixtures

    static let caseNames: [String] = (try? Fixtures.cases("fi", prefix: "fi_strings_")) ?? []

    @Test func fixturesArePresent() {
        #expect(Self.caseNames.count == 8)
    }

    @Test(arguments: caseNames)
    func decodedImageReproducesLibraryAnswers(_ name: String) throws {
        let json = try Fixtures.json(F.family, name + ".json")
        let answers = try #require(json["answers"] as? [String: Any])
        let decoded = try #require(json["decoded"] as? [String: Any])
        let sketch = try FrequentStringsSketch(serialized: Fixtures.bytes(F.family, name + ".bin"))

        #expect(sketch.isEmpty == (answers["is_empty"] as? Bool))
        #expect(UInt64(sketch.numActive) == F.uint64(answers["num_active_items"]))
        #expect(sketch.totalWeight == F.uint64(answers["total_weight"]))
        #expect(sketch.maximumError == F.uint64(answers["maximum_error"]))
        #expect(sketch.epsilon == Fixtures.double(answers["epsilon"]))
        #expect(UInt64(sketch.lgMaxMapSize) == F.uint64(decoded["lg_max_map_size"]))
        #expect(UInt64(sketch.lgCurMapSize) == F.uint64(decoded["lg_cur_map_size"]))
        if let apriori = Fixtures.double(answers["apriori_error_for_total_weight"]) {
            #expect(
                FrequentStringsSketch.aprioriError(lgMaxMapSize: sketch.lgMaxMapSize, totalWeight: sketch.totalWeight)
                    == apriori)
        }

        let queries: [(key: String, errorType: FrequentItemsErrorType, threshold: UInt64?)] = [
            ("frequent_items_NO_FALSE_POSITIVES", .noFalsePositives, nil),
            ("frequent_items_NO_FALSE_NEGATIVES", .noFalseNegatives, nil),
            ("frequent_items_NO_FALSE_NEGATIVES_threshold_10", .noFalseNegatives, 10),
        ]
        for query in queries {
            let expected = try F.rows(answers[query.key])
            let actual = sketch.frequentItems(errorType: query.errorType, threshold: query.threshold)
            #expect(F.isSortedByEstimate(actual), "\(name) \(query.key): not sorted by estimate")
            #expect(F.canonical(actual) == F.canonical(expected), "\(name) \(query.key)")
        }

        let points = try #require(answers["point_queries"] as? [String: [String: Any]])
        for (item, bounds) in points {
            #expect(sketch.estimate(item) == F.uint64(bounds["estimate"]), "\(name) estimate(\(item))")
            #expect(sketch.lowerBound(item) == F.uint64(bounds["lower_bound"]), "\(name) lowerBound(\(item))")
            #expect(sketch.upperBound(item) == F.uint64(bounds["upper_bound"]), "\(name) upperBound(\(item))")
        }
    }

    @Test(arguments: ["fi_strings_lg5_merge_halves", "fi_strings_lg7_merge_halves"])
    func mergeInputImagesDecode(_ name: String) throws {
        let json = try Fixtures.json(F.family, name + ".json")
        let files = try #require(json["files"] as? [String: [String: Any]])
        for side in ["left", "right"] {
            let file = try #require(files[side]?["file"] as? String)
            let sketch = try FrequentStringsSketch(serialized: Fixtures.bytes(F.family, file))
            #expect(sketch.totalWeight == 50_000, "\(file)")
            #expect(!sketch.isEmpty, "\(file)")
        }
    }

    /// Rebuilds a case from its sidecar's input recipe; returns the sketch and, for merge
    /// cases, the two halves before merging.
    static func rebuild(_ name: String) throws -> (sketch: FrequentStringsSketch, halves: [FrequentStringsSketch]) {
        let json = try Fixtures.json(F.family, name + ".json")
        let lgMax = try #require(F.uint64(json["lg_max_map_size"]))
        let input = try #require(json["input"] as? [String: Any])
        var sketch = try FrequentStringsSketch(lgMaxMapSize: Int(lgMax))
        switch input["kind"] as? String {
        case "empty":
            return (sketch, [])
        case "list":
            let values = try #require(input["values"] as? [String])
            let weights =
                (input["weights"] as? [NSNumber])?.map(\.uint64Value) ?? Array(repeating: 1, count: values.count)
            for (value, weight) in zip(values, weights) { sketch.update(value, weight: weight) }
            return (sketch, [])
        case "file":
            #expect(input["file"] as? String == F.zipfStreamFile)
            for item in try F.zipfStream() { sketch.update(item) }
            return (sketch, [])
        case "merge":
            // "A fed lines 1..50000, B fed lines 50001..100000 (weight 1); A.merge(B)."
            let stream = try F.zipfStream()
            var right = try FrequentStringsSketch(lgMaxMapSize: Int(lgMax))
            for item in stream[..<50_000] { sketch.update(item) }
            for item in stream[50_000...] { right.update(item) }
            let left = sketch
            sketch.merge(right)
            return (sketch, [left, right])
        case let kind:
            throw FixtureError("\(name): unknown input kind \(kind ?? "nil")")
        }
    }

    @Test(arguments: caseNames)
    func rebuildingFromRecipeGivesIdenticalBytes(_ name: String) throws {
        let json = try Fixtures.json(F.family, name + ".json")
        let files = try #require(json["files"] as? [String: [String: Any]])
        let (sketch, halves) = try Self.rebuild(name)
        #expect(sketch.serialized() == (try Fixtures.bytes(F.family, name + ".bin")), "\(name)")
        if halves.count == 2 {
            for (side, half) in zip(["left", "right"], halves) {
                let file = try #require(files[side]?["file"] as? String)
                #expect(half.serialized() == (try Fixtures.bytes(F.family, file)), "\(file)")
            }
        }
        // The sidecar's view of the image's first entries (not given for merge cases), as our
        // iteration order lists them.
        let decoded = try #require(json["decoded"] as? [String: Any])
        if let first = decoded["first_items_in_serialized_order"] as? [[Any]] {
            let ours = Array(sketch.items.prefix(first.count))
            #expect(ours.map(\.item) == first.map { $0[0] as? String }, "\(name)")
            #expect(ours.map(\.lowerBound) == first.map { F.uint64($0[1]) }, "\(name)")
        }
    }

    @Test(arguments: caseNames)
    func reencodingDecodedImageKeepsContent(_ name: String) throws {
        let image = try Fixtures.bytes(F.family, name + ".bin")
        let decoded = try FrequentStringsSketch(serialized: image)
        let again = try FrequentStringsSketch(serialized: decoded.serialized())
        // Items may be listed in another order (re-insertion order differs), content may not.
        #expect(again.serialized().count == image.count)
        #expect(F.canonical(again.items) == F.canonical(decoded.items))
        #expect(again.totalWeight == decoded.totalWeight)
        #expect(again.maximumError == decoded.maximumError)
        #expect(again.lgCurMapSize == decoded.lgCurMapSize)
    }
}
