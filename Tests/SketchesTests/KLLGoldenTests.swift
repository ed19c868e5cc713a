import Foundation
import Testing

@testable import Sketches

/// Reference vectors written by Apache DataSketches 5.2.0 (Python, C++ core): every image
/// decodes, re-encodes to the same bytes, and reproduces every answer of its sidecar
/// exactly; rebuilding from the recipe gives the same bytes while no compaction has
/// happened and answers within the rank-error bound afterwards.
@Suite struct KLLGoldenTests {
    static let cases: [String] = (try? Fixtures.cases(KLLTestSupport.family)) ?? []

    @Test func fixturesArePresent() {
        #expect(Self.cases.count == 28)
    }

    @Test(arguments: cases)
    func decodedImageReproducesLibraryAnswersAndBytes(name: String) throws {
        let sidecar = try KLLTestSupport.sidecar(name)
        switch sidecar["item_type"] as? String {
        case "float64": try checkDecoded(name, sidecar, Double.self)
        case "float32": try checkDecoded(name, sidecar, Float.self)
        default: Issue.record("\(name): unknown item_type")
        }
    }

    @Test(arguments: cases)
    func rebuiltSketchMatchesLibrary(name: String) throws {
        let sidecar = try KLLTestSupport.sidecar(name)
        switch sidecar["item_type"] as? String {
        case "float64": try checkRebuilt(name, sidecar, Double.self)
        case "float32": try checkRebuilt(name, sidecar, Float.self)
        default: Issue.record("\(name): unknown item_type")
        }
    }

    @Test(arguments: ["kll_doubles_k200_seq_n100", "kll_floats_k200_seq_n100"])
    func afterQueryImageRoundTripsWithSortedFlag(name: String) throws {
        let image = try Fixtures.bytes(KLLTestSupport.family, name + ".after_query.bin")
        #expect(image[3] & 0b10 != 0)
        if name.contains("floats") {
            let sketch = try KLLFloatsSketch(serialized: image)
            #expect(sketch.isLevelZeroSorted)
            #expect(sketch.serialized() == image)
            _ = sketch.quantile(rank: 0.5)
            #expect(sketch.serialized() == image)
        } else {
            let sketch = try KLLDoublesSketch(serialized: image)
            #expect(sketch.isLevelZeroSorted)
            #expect(sketch.serialized() == image)
            let original = try KLLDoublesSketch(serialized: Fixtures.bytes(KLLTestSupport.family, name + ".bin"))
            #expect(original.quantiles(ranks: [0.1, 0.5, 0.9]) == sketch.quantiles(ranks: [0.1, 0.5, 0.9]))
        }
    }

    @Test(arguments: cases)
    func itemTypeIsDetectedFromImage(name: String) throws {
        let sidecar = try KLLTestSupport.sidecar(name)
        let image = try Fixtures.bytes(KLLTestSupport.family, name + ".bin")
        let expected: KLLItemType? =
            KLLTestSupport.int((sidecar["answers"] as? [String: Any])?["n"]) == 0
            ? nil : (sidecar["item_type"] as? String == "float32" ? .float : .double)
        #expect(try KLLImage.itemType(of: image) == expected)
    }

    // MARK: - checks

    private func checkDecoded<Item: KLLItem>(_ name: String, _ sidecar: [String: Any], _ type: Item.Type) throws {
        let image = try Fixtures.bytes(KLLTestSupport.family, name + ".bin")
        let sketch = try KLLSketch<Item>(serialized: image)
        #expect(sketch.invariantViolations() == [], "\(name)")
        #expect(sketch.serialized() == image, "\(name): re-serialized bytes differ")
        try checkAnswers(name, sketch, sidecar)
        try checkDecodedFields(name, sketch, sidecar)
        #expect(sketch.serialized() == image, "\(name): querying changed the bytes")

        for side in ["left", "right"] {
            let url = Fixtures.url(KLLTestSupport.family, "\(name).\(side).bin")
            guard FileManager.default.fileExists(atPath: url.path) else { continue }
            let sideImage = try Fixtures.bytes(KLLTestSupport.family, "\(name).\(side).bin")
            let sideSketch = try KLLSketch<Item>(serialized: sideImage)
            #expect(sideSketch.serialized() == sideImage, "\(name).\(side)")
        }
    }

    private func checkAnswers<Item: KLLItem>(
        _ name: String, _ sketch: KLLSketch<Item>, _ sidecar: [String: Any]
    )
        throws
    {
        let answers = try #require(sidecar["answers"] as? [String: Any])
        #expect(sketch.count == KLLTestSupport.uint64(answers["n"]), "\(name) n")
        #expect(sketch.k == KLLTestSupport.int(answers["k"]), "\(name) k")
        #expect(sketch.numRetained == KLLTestSupport.int(answers["num_retained"]), "\(name) num_retained")
        #expect(sketch.isEmpty == (answers["is_empty"] as? Bool), "\(name) is_empty")
        #expect(sketch.isEstimationMode == (answers["is_estimation_mode"] as? Bool), "\(name) estimation")
        #expect(sketch.normalizedRankError(pmf: false) == Fixtures.double(answers["normalized_rank_error"]))
        #expect(sketch.normalizedRankError(pmf: true) == Fixtures.double(answers["normalized_rank_error_pmf"]))

        if sketch.isEmpty {
            // the library raises on min/max/quantile/rank/PMF/CDF and returns [] for
            // get_quantiles; here: nil
            #expect(sketch.min == nil && sketch.max == nil)
            #expect(sketch.quantile(rank: 0.5) == nil)
            #expect(sketch.quantiles(ranks: [0.5]) == nil)
            #expect(sketch.rank(of: 0.5) == nil)
            #expect(try sketch.pmf(splitPoints: [0.5]) == nil)
            #expect(try sketch.cdf(splitPoints: [0.5]) == nil)
            #expect((answers["quantiles_of_[0.5]"] as? [Any])?.isEmpty == true)
            return
        }
        #expect(sketch.min.map(Double.init) == Fixtures.double(answers["min"]), "\(name) min")
        #expect(sketch.max.map(Double.init) == Fixtures.double(answers["max"]), "\(name) max")

        let quantiles = try #require(answers["quantiles"] as? [String: Any])
        let ranks = try #require(KLLTestSupport.doubles(quantiles["ranks"]))
        for (key, inclusive) in [("exclusive", false), ("inclusive", true)] {
            let expected = try #require(KLLTestSupport.doubles(quantiles[key]))
            let batch = try #require(sketch.quantiles(ranks: ranks, inclusive: inclusive)).map(Double.init)
            #expect(batch == expected, "\(name) quantiles \(key)")
            for (rank, value) in zip(ranks, expected) {
                #expect(sketch.quantile(rank: rank, inclusive: inclusive).map(Double.init) == value)
            }
        }

        let rankAnswers = try #require(answers["ranks"] as? [String: Any])
        let values = try #require(KLLTestSupport.doubles(rankAnswers["values"])).map { Item($0) }
        for (key, inclusive) in [("exclusive", false), ("inclusive", true)] {
            let expected = try #require(KLLTestSupport.doubles(rankAnswers[key]))
            let got = values.map { sketch.rank(of: $0, inclusive: inclusive) ?? .nan }
            #expect(got == expected, "\(name) ranks \(key)")
        }

        let distribution = try #require(answers["pmf_cdf"] as? [String: Any])
        let splitPoints = try #require(KLLTestSupport.doubles(distribution["split_points"])).map { Item($0) }
        for (suffix, inclusive) in [("exclusive", false), ("inclusive", true)] {
            let pmf = try #require(KLLTestSupport.doubles(distribution["pmf_" + suffix]))
            let cdf = try #require(KLLTestSupport.doubles(distribution["cdf_" + suffix]))
            #expect(try sketch.pmf(splitPoints: splitPoints, inclusive: inclusive) == pmf, "\(name) pmf \(suffix)")
            #expect(try sketch.cdf(splitPoints: splitPoints, inclusive: inclusive) == cdf, "\(name) cdf \(suffix)")
        }
    }

    private func checkDecodedFields<Item: KLLItem>(
        _ name: String, _ sketch: KLLSketch<Item>, _ sidecar: [String: Any]
    ) throws {
        let decoded = try #require(sidecar["decoded"] as? [String: Any])
        if sketch.count < 2 { return }  // the sidecar describes only the full layout
        #expect(sketch.minK == KLLTestSupport.int(decoded["min_k"]), "\(name) min_k")
        #expect(sketch.numLevels == KLLTestSupport.int(decoded["num_levels"]), "\(name) num_levels")
        let levels = (decoded["levels_with_capacity"] as? [Any])?.compactMap(KLLTestSupport.int)
        #expect(sketch.levels == levels, "\(name) levels")
        if let sorted = decoded["is_level_zero_sorted"] as? Bool { #expect(sketch.isLevelZeroSorted == sorted) }
    }

    private func checkRebuilt<Item: KLLItem>(_ name: String, _ sidecar: [String: Any], _ type: Item.Type) throws {
        let input = try #require(sidecar["input"] as? [String: Any])
        let k = try #require(KLLTestSupport.int(sidecar["k"]))
        let image = try Fixtures.bytes(KLLTestSupport.family, name + ".bin")
        let rebuilt: KLLSketch<Item>
        let stream: [Item]
        if input["kind"] as? String == "merge" {
            let leftInput = try #require(input["left"] as? [String: Any])
            let rightInput = try #require(input["right"] as? [String: Any])
            let left = try KLLTestSupport.items(of: leftInput, as: Item.self)
            let right = try KLLTestSupport.items(of: rightInput, as: Item.self)
            #expect(
                KLLTestSupport.firstValuesMatch(left, leftInput) && KLLTestSupport.firstValuesMatch(right, rightInput))
            var a = try KLLSketch<Item>(k: k)
            a.update(contentsOf: left)
            var b = try KLLSketch<Item>(k: k)
            b.update(contentsOf: right)
            if left.count <= k && right.count <= k {
                #expect(a.serialized() == (try Fixtures.bytes(KLLTestSupport.family, name + ".left.bin")))
                #expect(b.serialized() == (try Fixtures.bytes(KLLTestSupport.family, name + ".right.bin")))
            }
            a.merge(b)
            rebuilt = a
            stream = left + right
            // the library's own inputs, merged here, must also stay within the bound
            var libraryLeft = try KLLSketch<Item>(
                serialized: Fixtures.bytes(KLLTestSupport.family, name + ".left.bin"))
            libraryLeft.merge(
                try KLLSketch<Item>(serialized: Fixtures.bytes(KLLTestSupport.family, name + ".right.bin")))
            #expect(libraryLeft.invariantViolations() == [])
            try checkWithinBound(name + " (library halves merged)", libraryLeft, stream, sidecar)
        } else {
            stream = try KLLTestSupport.items(of: input, as: Item.self)
            #expect(KLLTestSupport.firstValuesMatch(stream, input), "\(name): regenerated stream differs")
            var sketch = try KLLSketch<Item>(k: k)
            sketch.update(contentsOf: stream)
            rebuilt = sketch
        }
        #expect(rebuilt.invariantViolations() == [], "\(name)")
        #expect(rebuilt.count == UInt64(stream.count))
        if stream.count <= k {
            #expect(rebuilt.serialized() == image, "\(name): rebuilt bytes differ from the library's")
        } else {
            try checkWithinBound(name, rebuilt, stream, sidecar)
        }
    }

    /// Every quantile and rank the sidecar asks for is within the normalized rank error of
    /// the exact answer on the stream.
    private func checkWithinBound<Item: KLLItem>(
        _ name: String, _ sketch: KLLSketch<Item>, _ stream: [Item], _ sidecar: [String: Any]
    ) throws {
        let answers = try #require(sidecar["answers"] as? [String: Any])
        let epsilon = sketch.normalizedRankError(pmf: false)
        let quantiles = try #require(answers["quantiles"] as? [String: Any])
        let ranks = try #require(KLLTestSupport.doubles(quantiles["ranks"]))
        let got = try #require(sketch.quantiles(ranks: ranks))
        for (rank, quantile) in zip(ranks, got) {
            let error = KLLTestSupport.quantileRankError(stream, quantile: quantile, rank: rank)
            #expect(error <= epsilon, "\(name): quantile(\(rank)) = \(quantile) is \(error) off (bound \(epsilon))")
        }
        let rankAnswers = try #require(answers["ranks"] as? [String: Any])
        let values = try #require(KLLTestSupport.doubles(rankAnswers["values"])).map { Item($0) }
        for value in values {
            let exact = Double(KLLTestSupport.exactCounts(stream, value).below) / Double(stream.count)
            let estimate = try #require(sketch.rank(of: value))
            #expect(abs(estimate - exact) <= epsilon, "\(name): rank(\(value)) = \(estimate), exact \(exact)")
        }
        #expect(sketch.min == stream.min() && sketch.max == stream.max())
    }
}
