import Foundation
import Sketches
import Testing

@testable import Profiles

/// whylogs profiles ↔ `DatasetProfile`: whylogs' own files decode to the numbers whylogs
/// reports, Driftwatch profiles survive a trip through a whylogs file with everything whylogs
/// can carry, and no input traps.
@Suite("Whylogs mapping")
struct WhylogsMappingTests {
    static let ranks = [0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99]
    static let rankKeys = ["q_01", "q_05", "q_10", "q_25", "median", "q_75", "q_90", "q_95", "q_99"]
    static let allFixtures = WhylogsFixtures.names + ["whylogs_v0_classification", "whylogs_v0_regression"]

    /// whylogs' `to_pandas()` summary of a fixture, per column.
    static func summary(_ name: String) throws -> [String: [String: Any]] {
        let json = try WhylogsFixtures.json(name)
        let key = name.contains("_v0_") ? "read_v0_to_view_to_pandas" : "profile_view_to_pandas"
        return try #require(json[key] as? [String: [String: Any]])
    }

    // MARK: Reading whylogs' files

    /// Everything but the cardinality, from a decoded profile, against whylogs' summary.
    static func expectColumnsMatch(
        _ profile: DatasetProfile, _ summary: [String: [String: Any]], v0: Bool, _ name: String
    ) throws {
        #expect(Set(profile.columns.keys) == Set(summary.keys), "\(name)")
        for (columnName, want) in summary {
            let where_ = "\(name) column \(columnName)"
            let column = try #require(profile.columns[columnName], "\(where_)")
            #expect(column.count == WhylogsFixtures.int64(want["counts/n"]), "\(where_)")
            #expect(column.nullCount == WhylogsFixtures.int64(want["counts/null"]), "\(where_)")
            #expect(column.nanCount == WhylogsFixtures.int64(want["counts/nan"]), "\(where_)")
            #expect(column.infCount == WhylogsFixtures.int64(want["counts/inf"]), "\(where_)")
            #expect(column.trueCount == WhylogsFixtures.int64(want["counts/true"]), "\(where_)")
            #expect(column.types.integral == WhylogsFixtures.int64(want["types/integral"]), "\(where_)")
            #expect(column.types.fractional == WhylogsFixtures.int64(want["types/fractional"]), "\(where_)")
            #expect(column.types.boolean == WhylogsFixtures.int64(want["types/boolean"]), "\(where_)")
            #expect(column.types.string == WhylogsFixtures.int64(want["types/string"]), "\(where_)")
            let other =
                (WhylogsFixtures.int64(want["types/object"]) ?? -1)
                + (WhylogsFixtures.int64(want["types/tensor"]) ?? -1)
            #expect(column.types.other == other, "\(where_)")
            #expect(column.stringLengths == nil, "\(where_)")

            let n = try #require(WhylogsFixtures.int64(want["distribution/n"]), "\(where_)")
            guard n > 0 else {
                #expect(column.numeric == nil, "\(where_)")
                continue
            }
            let numeric = try #require(column.numeric, "\(where_)")
            #expect(numeric.moments.count == n && Int64(numeric.kll.count) == n, "\(where_)")
            #expect(same(numeric.min, WhylogsFixtures.double(want["distribution/min"])), "\(where_) min")
            #expect(same(numeric.max, WhylogsFixtures.double(want["distribution/max"])), "\(where_) max")
            #expect(same(numeric.moments.mean, WhylogsFixtures.double(want["distribution/mean"])), "\(where_) mean")
            #expect(
                same(
                    numeric.moments.standardDeviation, WhylogsFixtures.double(want["distribution/stddev"]), rel: 1e-12),
                "\(where_) stddev")
            let quantiles = try #require(WhylogsCodec.whylogsQuantiles(of: numeric.kll, ranks: Self.ranks))
            for (q, key) in zip(quantiles, Self.rankKeys) {
                #expect(same(q, WhylogsFixtures.double(want["distribution/\(key)"])), "\(where_) \(key)")
            }
            if v0 {
                // whylogs' v0 reader invents ints 0/0; Driftwatch derives them from the exact
                // extremes of an all-integer column.
                if column.types.integral == n {
                    #expect(numeric.integerMin.map(Double.init) == numeric.min, "\(where_)")
                    #expect(numeric.integerMax.map(Double.init) == numeric.max, "\(where_)")
                } else {
                    #expect(numeric.integerMin == nil && numeric.integerMax == nil, "\(where_)")
                }
            } else {
                // Missing ints (NaN in the summary) and whylogs' empty-aggregator sentinels (bool
                // columns: +/-sys.maxsize, min > max) both mean "no integers".
                let low = WhylogsFixtures.double(want["ints/min"]) ?? .nan
                let high = WhylogsFixtures.double(want["ints/max"]) ?? .nan
                if low <= high {
                    #expect(numeric.integerMin.map(Double.init) == low, "\(where_)")
                    #expect(numeric.integerMax.map(Double.init) == high, "\(where_)")
                } else {
                    #expect(numeric.integerMin == nil && numeric.integerMax == nil, "\(where_)")
                }
            }

            if let expected = want["frequent_items/frequent_strings"] as? [[String: Any]] {
                let items = try #require(column.frequentItems, "\(where_)")
                let rows = items.frequentItems(errorType: .noFalsePositives)
                #expect(rows.count == expected.count, "\(where_)")
                for row in expected {
                    let item = try #require(row["value"] as? String)
                    let got = try #require(rows.first { $0.item == item }, "\(where_) \(item)")
                    #expect(Int64(got.estimate) == WhylogsFixtures.int64(row["est"]), "\(where_) \(item)")
                    #expect(Int64(got.lowerBound) == WhylogsFixtures.int64(row["lower"]), "\(where_) \(item)")
                    #expect(Int64(got.upperBound) == WhylogsFixtures.int64(row["upper"]), "\(where_) \(item)")
                }
            }
        }
    }

    /// Every fixture decodes to the counts, types, moments, extremes, quantiles and frequent items
    /// of whylogs' own summary.
    @Test(arguments: allFixtures)
    func fixturesDecodeToWhylogsSummary(name: String) throws {
        let profile = try WhylogsCodec.decodeProfile(try WhylogsFixtures.bytes(name))
        try Self.expectColumnsMatch(profile, try Self.summary(name), v0: name.contains("_v0_"), name)
    }

    /// The cardinality sketches answer as whylogs reports (estimate and 1-sigma bounds).
    @Test(arguments: allFixtures)
    func fixtureCardinalitiesMatchWhylogsSummary(name: String) throws {
        let profile = try WhylogsCodec.decodeProfile(try WhylogsFixtures.bytes(name))
        for (columnName, want) in try Self.summary(name) {
            let hll = try #require(profile.columns[columnName]?.cardinality)
            #expect(hll.lgK == 12 && hll.type == .hll4, "\(name) \(columnName)")
            #expect(same(hll.estimate, WhylogsFixtures.double(want["cardinality/est"]), rel: 1e-12), "\(columnName)")
            #expect(
                same(
                    hll.lowerBound(standardDeviations: 1), WhylogsFixtures.double(want["cardinality/lower_1"]),
                    rel: 1e-12),
                "\(name) \(columnName)")
            #expect(
                same(
                    hll.upperBound(standardDeviations: 1), WhylogsFixtures.double(want["cardinality/upper_1"]),
                    rel: 1e-12),
                "\(name) \(columnName)")
        }
        #expect(profile.config.hllLgK == 12 && profile.config.hllType == .hll4)
    }

    /// Without `cardinality/hll` components the columns map the same and the cardinality is an
    /// empty sketch of the configuration (which then falls back to whylogs' lgK 12).
    @Test(arguments: allFixtures)
    func fixturesWithoutCardinalityDecodeToWhylogsSummary(name: String) throws {
        let bytes = try WhylogsFixtures.bytes(name)
        var view = try WhylogsCodec.readView(bytes)
        for column in view.columns.keys { view.columns[column]?["cardinality/hll"] = nil }
        let profile = try WhylogsCodec.decodeProfile(WhylogsCodec.writeView(view))
        try Self.expectColumnsMatch(profile, try Self.summary(name), v0: name.contains("_v0_"), name)
        for column in profile.columns.values {
            #expect(column.cardinality.isEmpty && column.cardinality.lgK == 12)
        }
        // The sketch parameters whylogs 1.6.4 used (FORMATS.md section d), carried into the config.
        #expect(profile.config.kllK == 1024, "\(name)")
        #expect(profile.config.frequentItemsLgMaxMapSize == 10, "\(name)")
        #expect(profile.config.hllLgK == 12 && profile.config.hllType == .hll4, "\(name)")
    }

    /// Dataset properties: timestamps, the default model name, the whylogs metadata, and an
    /// upload id derived from the bytes (the same file always gives the same id).
    @Test func decodesTheDatasetProperties() throws {
        let name = "whylogs_profile_small"
        let bytes = try WhylogsFixtures.bytes(name)
        let header = try #require(
            (try WhylogsFixtures.json(name)["container_decoded"] as? [String: Any])?["profile_header"]
                as? [String: Any])
        let profile = try WhylogsCodec.decodeProfile(bytes)
        #expect(profile.model == "whylogs")
        #expect(profile.modelVersion == nil)
        #expect(profile.segment.isAll)
        #expect(profile.windowStart == WhylogsFixtures.int64(header["dataset_timestamp"]))
        #expect(profile.windowLength == 0)
        #expect(profile.createdAt == WhylogsFixtures.int64(header["creation_timestamp"]))
        #expect(profile.metadata == header["metadata"] as? [String: String])
        #expect(profile.performance == nil && profile.latency == nil)

        let id = profile.uploadID
        #expect(id == WhylogsCodec.derivedUploadID(bytes))
        #expect(try WhylogsCodec.decodeProfile(bytes).uploadID == id)
        #expect((id.high >> 12) & 0xF == 4, "version 4 shape, \(id)")
        #expect(id.low >> 62 == 0b10, "RFC 9562 variant, \(id)")
        #expect(UploadID(id.description) == id)
    }

    /// The derived id depends on every byte and on the length.
    @Test func derivedUploadIDsDiffer() throws {
        let bytes = try WhylogsFixtures.bytes("whylogs_profile_medium")
        var seen: Set<UploadID> = [WhylogsCodec.derivedUploadID(bytes)]
        for i in stride(from: 0, to: bytes.count, by: 997) {
            var changed = bytes
            changed[i] ^= 0x01
            seen.insert(WhylogsCodec.derivedUploadID(changed))
        }
        seen.insert(WhylogsCodec.derivedUploadID(bytes + [0]))
        seen.insert(WhylogsCodec.derivedUploadID(Array(bytes.dropLast())))
        seen.insert(WhylogsCodec.derivedUploadID([]))
        #expect(seen.count == 1 + (bytes.count + 996) / 997 + 3)
    }

    /// v0 classification: whylogs' labels, the cells' row counts as matrix[predicted][actual],
    /// and per true class the merge of that target's score sketches.
    @Test func decodesTheV0ConfusionMatrix() throws {
        let name = "whylogs_v0_classification"
        let profile = try WhylogsCodec.decodeProfile(try WhylogsFixtures.bytes(name))
        let expected = try #require(
            (try WhylogsFixtures.json(name)["performance"] as? [String: Any])?["confusion_matrix"] as? [String: Any])
        guard case .classification(let c)? = profile.performance else {
            Issue.record("no classification block: \(String(describing: profile.performance))")
            return
        }
        let labels = try #require(expected["labels"] as? [String])
        #expect(c.labels == labels)
        #expect(c.count == 60 && c.matrixTotal == 60 && c.overflowCount == 0 && c.logLossCount == 0)
        var perTarget: [String: (count: Int64, min: Double, max: Double)] = [:]
        for cell in try #require(expected["cells"] as? [[String: Any]]) {
            let prediction = try #require(cell["prediction"] as? String)
            let target = try #require(cell["target"] as? String)
            let p = try #require(labels.firstIndex(of: prediction))
            let t = try #require(labels.firstIndex(of: target))
            let count = try #require(WhylogsFixtures.int64(cell["count"]))
            #expect(c.matrix[p][t] == count, "\(labels[p]) → \(labels[t])")
            guard count > 0 else { continue }
            let low = try #require(WhylogsFixtures.double(cell["kll_min"]))
            let high = try #require(WhylogsFixtures.double(cell["kll_max"]))
            let old = perTarget[labels[t]] ?? (0, .infinity, -.infinity)
            perTarget[labels[t]] = (old.count + count, min(old.min, low), max(old.max, high))
        }
        for (t, label) in labels.enumerated() {
            let want = try #require(perTarget[label])
            let scores = try #require(c.scoresByTrueClass[t], "\(label)")
            #expect(Int64(scores.count) == want.count, "\(label)")
            #expect(scores.min == want.min && scores.max == want.max, "\(label)")
        }
    }

    /// v0 regression: count and sums; target and prediction moments from their columns (every
    /// row counted in both); no residual sketch.
    @Test func decodesTheV0RegressionSums() throws {
        let name = "whylogs_v0_regression"
        let profile = try WhylogsCodec.decodeProfile(try WhylogsFixtures.bytes(name))
        let expected = try #require(
            (try WhylogsFixtures.json(name)["performance"] as? [String: Any])?["regression"] as? [String: Any])
        guard case .regression(let r)? = profile.performance else {
            Issue.record("no regression block: \(String(describing: profile.performance))")
            return
        }
        #expect(r.count == WhylogsFixtures.int64(expected["count"]))
        #expect(r.sumError == WhylogsFixtures.double(expected["sum_diff"]))
        #expect(r.sumAbsoluteError == WhylogsFixtures.double(expected["sum_abs_diff"]))
        #expect(r.sumSquaredError == WhylogsFixtures.double(expected["sum2_diff"]))
        #expect(r.residuals.isEmpty)
        // whylogs 1.6.4 does not name the prediction and target columns in the block (it writes
        // "0"), so their moments are not known.
        #expect(r.target.count == 0 && r.prediction.count == 0)
        // The block survives the native format (its residual sketch is empty).
        guard case .regression(let native)? = try NativeCodec.decode(NativeCodec.encode(profile)).performance else {
            Issue.record("the native round trip lost the regression block")
            return
        }
        #expect(native.count == r.count && native.sumSquaredError == r.sumSquaredError && native.residuals.isEmpty)
    }

    // MARK: Writing

    /// A profile with every kind of value, a segment, metadata, performance and latency.
    static func sampleProfile(seed: UInt64, rows: Int = 3000) throws -> DatasetProfile {
        var rng = WhylogsSplitMix64(seed: seed)
        let config = try ProfileConfig(
            kllK: 64, hllLgK: 10, hllType: .hll6, frequentItemsLgMaxMapSize: 6, maxStringLength: 16, maxLabels: 8)
        var age = ColumnProfile(config: config)
        var score = ColumnProfile(config: config)
        var city = ColumnProfile(config: config)
        var active = ColumnProfile(config: config)
        var mixed = ColumnProfile(config: config)
        var empty = ColumnProfile(config: config)
        let cities = ["Paris", "Lyon", "Nantes", "Saint-Rémy-de-Provence-sur-Mer", "東京", ""]
        for _ in 0..<rows {
            let roll = Int.random(in: 0..<100, using: &rng)
            age.update(roll < 5 ? .null : .int(Int64.random(in: -20...(1 << 40), using: &rng)))
            switch roll {
            case 0: score.update(double: .nan)
            case 1: score.update(double: .infinity)
            case 2: score.updateNull()
            default: score.update(double: Double.random(in: -1e6...1e6, using: &rng))
            }
            city.update(roll < 3 ? .null : .string(cities[Int.random(in: 0..<cities.count, using: &rng)]))
            active.update(bool: roll < 30)
            if roll < 40 {
                mixed.update(int: Int64(roll))
            } else if roll < 70 {
                mixed.update(double: Double(roll) / 7)
            } else {
                mixed.update(string: "m\(roll % 9)")
            }
            empty.updateNull()
        }
        let columns = ["age": age, "score": score, "city": city, "active": active, "mixed": mixed, "empty": empty]
        var classification = ClassificationProfile(maxLabels: 8, kllK: 64)
        classification.update(predicted: "a", actual: "b", score: 0.4)
        var latency = LatencyProfile(kllK: 64)
        latency.update(milliseconds: 12)
        return DatasetProfile(
            model: "fraud", modelVersion: "v3", segment: Segment(["region": "eu", "tier": "gold"]),
            windowStart: 1_704_067_200_000, windowLength: 3_600_000,
            uploadID: UploadID.random(using: &rng), createdAt: 1_704_070_800_123, config: config, columns: columns,
            performance: .classification(classification), latency: latency,
            metadata: ["team": "risk", "whylogs.tag.extra": "kept-in-metadata"])
    }

    /// Dataset-level identity survives encode → decode; performance, latency and string lengths
    /// (which whylogs v1 cannot carry) are dropped.
    @Test func roundTripKeepsTheProfileIdentity() throws {
        let original = try Self.sampleProfile(seed: 0x5EED_0101)
        let decoded = try WhylogsCodec.decodeProfile(WhylogsCodec.encodeProfile(original))
        #expect(decoded.model == original.model)
        #expect(decoded.modelVersion == original.modelVersion)
        #expect(decoded.segment == original.segment)
        #expect(decoded.windowStart == original.windowStart)
        #expect(decoded.windowLength == original.windowLength)
        #expect(decoded.uploadID == original.uploadID)
        #expect(decoded.createdAt == original.createdAt)
        #expect(decoded.config == original.config)
        #expect(decoded.metadata == original.metadata)
        #expect(decoded.performance == nil && decoded.latency == nil)
        #expect(decoded.columns.values.allSatisfy { $0.stringLengths == nil })
        #expect(Set(decoded.columns.keys) == Set(original.columns.keys))
    }

    /// Columns built from values come back with the same counts, moments and sketch answers
    /// (infinities all count as positive: whylogs keeps one count).
    @Test(arguments: [UInt64(0x5EED_0102), 0x5EED_0103])
    func columnsSurviveEncoding(seed: UInt64) throws {
        let original = try Self.sampleProfile(seed: seed)
        let decoded = try WhylogsCodec.decodeProfile(WhylogsCodec.encodeProfile(original))
        for (name, want) in original.columns {
            let got = try #require(decoded.columns[name], "seed \(seed) \(name)")
            #expect(got.config == want.config, "\(name)")
            #expect(
                got.count == want.count && got.nullCount == want.nullCount && got.nanCount == want.nanCount, "\(name)")
            #expect(got.infCount == want.infCount && got.negativeInfCount == 0, "\(name)")
            #expect(got.trueCount == want.trueCount && got.types == want.types, "\(name)")
            #expect((got.numeric == nil) == (want.numeric == nil), "\(name)")
            if let g = got.numeric, let w = want.numeric {
                #expect(g.kll.serialized() == w.kll.serialized(), "\(name)")
                #expect(g.min == w.min && g.max == w.max, "\(name)")
                #expect(g.integerMin == w.integerMin && g.integerMax == w.integerMax, "\(name)")
                #expect(g.moments == w.moments, "\(name)")
                #expect(g.kll.quantiles(ranks: Self.ranks) == w.kll.quantiles(ranks: Self.ranks), "\(name)")
            }
            // Entry order in a frequent-items image depends on re-insertion order: compare content.
            #expect(
                got.frequentItems?.items.sorted { $0.item < $1.item }
                    == want.frequentItems?.items.sorted { $0.item < $1.item }, "\(name)")
            #expect(got.frequentItems?.totalWeight == want.frequentItems?.totalWeight, "\(name)")
            #expect(got.frequentItems?.maximumError == want.frequentItems?.maximumError, "\(name)")
            #expect(
                got.frequentItems?.frequentItems(errorType: .noFalsePositives)
                    == want.frequentItems?.frequentItems(errorType: .noFalsePositives), "\(name)")
            // A compact SET image lists its coupons in table order, which decoding (re-insertion)
            // may change: compare the answers.
            #expect(got.cardinality.estimate == want.cardinality.estimate, "seed \(seed) \(name)")
            #expect(
                got.cardinality.upperBound(standardDeviations: 2) == want.cardinality.upperBound(standardDeviations: 2),
                "seed \(seed) \(name)")
            #expect(got.cardinality.mode == want.cardinality.mode, "seed \(seed) \(name)")
            #expect(got.cardinality.lgK == want.cardinality.lgK && got.cardinality.type == want.cardinality.type)
        }
    }

    /// The written file is laid out as whylogs writes a segmented profile: the standard metric
    /// paths (every column with a distribution), legacy KLL images, the segment in the header and
    /// the tags, `segp_cols`, and the Driftwatch identity in the metadata.
    @Test func encodedProfileIsLaidOutLikeWhylogs() throws {
        let profile = try Self.sampleProfile(seed: 0x5EED_0104)
        let view = try WhylogsCodec.readView(WhylogsCodec.encodeProfile(profile))
        #expect(view.encoding == .v1)
        #expect(view.datasetTimestamp == profile.windowStart && view.creationTimestamp == profile.createdAt)
        #expect(
            view.segments == [
                WhylogsProfileView.Segment(tags: [
                    .init(key: "whylogs.tag.region", value: "eu"), .init(key: "whylogs.tag.tier", value: "gold"),
                ])
            ])
        #expect(view.tags == ["whylogs.tag.region": "eu", "whylogs.tag.tier": "gold"])
        #expect(view.metadata["segp_cols"] == "(region)(tier)")
        #expect(view.metadata["driftwatch.model"] == "fraud")
        #expect(view.metadata["driftwatch.model_version"] == "v3")
        #expect(view.metadata["driftwatch.upload_id"] == profile.uploadID.description)
        #expect(view.metadata["driftwatch.window_ms"] == "3600000")
        #expect(
            view.metadata["driftwatch.config"]
                == "kll_k=64;hll_lg_k=10;hll_type=6;fi_lg_max_map_size=6;max_string_length=16;max_labels=8")
        #expect(view.metadata["whylogs.tag.extra"] == "kept-in-metadata" && view.metadata["team"] == "risk")

        let always = [
            "counts/n", "counts/null", "counts/nan", "counts/inf", "counts/true", "types/integral", "types/fractional",
            "types/boolean", "types/string", "types/object", "types/tensor", "distribution/kll", "distribution/mean",
            "distribution/m2", "cardinality/hll",
        ]
        for (name, components) in view.columns {
            #expect(Set(always).isSubset(of: components.keys), "\(name)")
            guard case .kll(let image)? = components["distribution/kll"]?.value else {
                Issue.record("\(name): no KLL")
                continue
            }
            let n = profile.columns[name]?.numeric?.kll.count ?? 0
            #expect(image[0] == (n >= 2 ? 6 : 2), "\(name): preamble ints")
        }
        #expect(view.columns["age"]?["ints/min"]?.typeID == 1 && view.columns["age"]?["ints/max"]?.typeID == 2)
        #expect(view.columns["score"]?["ints/min"] == nil)
        #expect(view.columns["city"]?["frequent_items/frequent_strings"] != nil)
        #expect(view.columns["score"]?["counts/inf"]?.value == .integer(profile.columns["score"]?.infCount ?? -1))
    }

    /// Without a segment there is no segment header (an unsegmented whylogs file: one 0x00 byte
    /// after the magic) and no segment metadata.
    @Test func unsegmentedProfileWritesAnEmptySegmentHeader() throws {
        let profile = DatasetProfile(model: "m", uploadID: UploadID(high: 1, low: 2), createdAt: 0)
        let bytes = WhylogsCodec.encodeProfile(profile)
        #expect(Array(bytes.prefix(5)) == Array("WHY1".utf8) + [0])
        let view = try WhylogsCodec.readView(bytes)
        #expect(view.segments.isEmpty && view.tags.isEmpty && view.metadata["segp_col"] == nil)
        #expect(view.datasetTimestamp == nil && view.creationTimestamp == nil)
        let decoded = try WhylogsCodec.decodeProfile(bytes)
        #expect(decoded.model == "m" && decoded.uploadID == profile.uploadID && decoded.columns.isEmpty)
        #expect(decoded.config == profile.config)
    }

    /// Decoding whylogs' files and writing them back keeps every standard component.
    @Test(arguments: WhylogsFixtures.names)
    func reencodedFixturesKeepWhylogsComponents(name: String) throws {
        let original = try WhylogsCodec.readView(try WhylogsFixtures.bytes(name))
        let rewritten = try WhylogsCodec.readView(
            WhylogsCodec.encodeProfile(try WhylogsCodec.decodeProfile(try WhylogsFixtures.bytes(name))))
        #expect(rewritten.datasetTimestamp == original.datasetTimestamp)
        #expect(rewritten.creationTimestamp == original.creationTimestamp)
        for (key, value) in original.metadata { #expect(rewritten.metadata[key] == value, "\(key)") }
        for (column, components) in original.columns {
            let got = try #require(rewritten.columns[column])
            for (path, component) in components {
                // ints/* sentinels of bool columns mean "no integers" and are not written back.
                if path.hasPrefix("ints/"), got[path] == nil, case .integer(let v) = component.value,
                    v == Int64.max || v == -Int64.max
                {
                    continue
                }
                switch (got[path]?.value, component.value) {
                case (.hll(let mine)?, .hll(let theirs)):
                    // Compact SET images list their coupons in hash-table order, which re-insertion
                    // may change (FORMATS.md "How these notes were checked"): compare answers.
                    let a = try HLLSketch(serialized: mine)
                    let b = try HLLSketch(serialized: theirs)
                    #expect(a.estimate == b.estimate && a.lgK == b.lgK && a.type == b.type, "\(name) \(column)")
                case (.frequentItems(let mine)?, .frequentItems(let theirs)):
                    // Entry order may differ likewise: compare the content.
                    let a = try FrequentStringsSketch(serialized: mine)
                    let b = try FrequentStringsSketch(serialized: theirs)
                    #expect(a.items.sorted { $0.item < $1.item } == b.items.sorted { $0.item < $1.item }, "\(column)")
                    #expect(a.totalWeight == b.totalWeight && a.maximumError == b.maximumError, "\(name) \(column)")
                case (.double(let mine)?, .double(let theirs)):
                    #expect(mine.bitPattern == theirs.bitPattern, "\(name) \(column) \(path): \(mine) \(theirs)")
                default:
                    #expect(got[path] == component, "\(name) \(column) \(path)")
                }
            }
        }
    }

    /// Two decoded whylogs profiles merge: counts add, sketches and moments merge.
    @Test func mergesDecodedWhylogsProfiles() throws {
        let small = try WhylogsCodec.decodeProfile(try WhylogsFixtures.bytes("whylogs_profile_small"))
        let medium = try WhylogsCodec.decodeProfile(try WhylogsFixtures.bytes("whylogs_profile_medium"))
        let merged = try small.merging(medium)
        for name in ["b", "f", "i", "s"] {
            let a = try #require(small.columns[name])
            let b = try #require(medium.columns[name])
            let m = try #require(merged.columns[name])
            #expect(m.count == a.count + b.count && m.nullCount == a.nullCount + b.nullCount, "\(name)")
            #expect(m.types.total == a.types.total + b.types.total, "\(name)")
            #expect(
                (m.numeric?.kll.count ?? 0) == (a.numeric?.kll.count ?? 0) + (b.numeric?.kll.count ?? 0), "\(name)")
            #expect(
                (m.numeric?.moments.count ?? 0) == (a.numeric?.moments.count ?? 0) + (b.numeric?.moments.count ?? 0),
                "\(name)")
            #expect(
                (m.frequentItems?.totalWeight ?? 0)
                    == (a.frequentItems?.totalWeight ?? 0) + (b.frequentItems?.totalWeight ?? 0), "\(name)")
            // Distinct values of the union: at least those of the larger part, at most the sum
            // (within the sketches' error).
            let estimate = m.cardinality.estimate
            #expect(estimate >= 0.95 * max(a.cardinality.estimate, b.cardinality.estimate), "\(name)")
            #expect(estimate <= 1.05 * (a.cardinality.estimate + b.cardinality.estimate), "\(name)")
        }
        let i = try #require(merged.columns["i"]?.numeric)
        #expect(i.integerMin == -5 && i.integerMax == 2999)
        let mean = (59.95 * 20 + 1492.3938 * 5000) / 5020
        #expect(abs(i.moments.mean - mean) < 1e-9 * mean)
        // A decoded profile also survives the native format, whylogs' ±∞ moments included.
        let native = try NativeCodec.decode(NativeCodec.encode(merged))
        #expect(native.columns["f"]?.numeric?.max == .infinity)
        #expect(native.columns["f"]?.positiveInfCount == 1)
    }

    /// The model name comes from `driftwatch.model`, else whylogs' `name` (why.log(name=)); the
    /// segment from the header or else the prefixed tags; other tags go to the metadata.
    @Test func readsModelNameAndSegmentFromWhylogsProperties() throws {
        // Table: (properties, expected model, expected segment, expected metadata); one comment each.
        let cases: [(String, WhylogsProfileView, String, Segment, [String: String])] = [
            // whylogs' why.log(df, name="churn"): the name is the model, and stays in the metadata.
            ("whylogs name", view(metadata: ["name": "churn"]), "churn", .all, ["name": "churn"]),
            // Driftwatch's own key wins over whylogs' name.
            (
                "driftwatch key", view(metadata: ["name": "churn", "driftwatch.model": "fraud"]), "fraud", .all,
                ["name": "churn"]
            ),
            // An unsegmented file with prefixed tags: the tags are the segment; other tags (whylogs
            // 0.x style) become metadata.
            (
                "tags", view(tags: ["whylogs.tag.region": "eu", "env": "prod"]), "whylogs", Segment(["region": "eu"]),
                ["env": "prod"]
            ),
            // A segmented file: the header's segment; a prefixed tag outside it is metadata;
            // whylogs' segp_col is dropped (derived again on write).
            (
                "segment header",
                view(
                    tags: ["whylogs.tag.region": "eu", "whylogs.tag.user": "x"],
                    metadata: ["segp_col": "region", "segp_id": "p1"],
                    segment: [.init(key: "whylogs.tag.region", value: "eu")]),
                "whylogs", Segment(["region": "eu"]), ["whylogs.tag.user": "x", "segp_id": "p1"]
            ),
        ]
        for (label, view, model, segment, metadata) in cases {
            let profile = try WhylogsCodec.decodeProfile(WhylogsCodec.writeView(view))
            #expect(profile.model == model, "\(label)")
            #expect(profile.segment == segment, "\(label)")
            #expect(profile.metadata == metadata, "\(label)")
        }
    }

    // MARK: Hardening

    /// A one-column view with consistent metrics and no HLL (so that it decodes with any HLL
    /// implementation): 5 rows, 1 null, integers 1...4.
    static func validColumn() throws -> [String: WhylogsProfileView.Component] {
        var kll = try KLLSketch<Double>(k: 200)
        for x in [1.0, 2, 3, 4] { kll.update(x) }
        var items = try FrequentStringsSketch(lgMaxMapSize: 6)
        for x in ["1", "2", "3", "4"] { items.update(x) }
        var m = WhylogsColumnMetrics()
        m.count = 5
        m.nullCount = 1
        m.integral = 4
        m.kll = kll
        m.mean = 2.5
        m.m2 = 5
        m.intMin = 1
        m.intMax = 4
        m.frequentStrings = items
        return m.components()
    }

    /// Every inconsistent or corrupt metric throws a ProfileError naming the column and path at
    /// the column's byte offset (or the sketch decoder's error); one comment per case.
    @Test func rejectsInconsistentMetrics() throws {
        typealias C = WhylogsProfileView.Component
        let valid = try Self.validColumn()
        func with(_ changes: [String: C?]) -> [String: C] {
            var out = valid
            for (path, component) in changes { out[path] = component }
            return out
        }
        var infinite = try KLLSketch<Double>(k: 200)
        for x in [1.0, .infinity, 3, 4] { infinite.update(x) }
        let cases: [(String, [String: C], String)] = [
            // A counter holding a double instead of an integer (the wrong oneof kind).
            ("wrong kind", with(["counts/n": C(.double(5))]), "counts/n: expected an integer"),
            // A sketch path holding an integer.
            ("kll kind", with(["distribution/kll": C(.integer(3))]), "expected a kll sketch"),
            // A negative count.
            ("negative", with(["counts/null": C(.integer(-1))]), "negative count"),
            // More NaNs than nulls.
            ("nan > null", with(["counts/nan": C(.integer(2))]), "counts/nan 2 exceeds counts/null 1"),
            // More typed values and nulls than rows.
            ("typed > n", with(["types/string": C(.integer(1))]), "exceed counts/n 5"),
            // More trues than booleans.
            ("true > boolean", with(["counts/true": C(.integer(1))]), "counts/true 1 exceeds types/boolean 0"),
            // Infinities in a column without fractional values.
            ("inf > fractional", with(["counts/inf": C(.integer(1))]), "counts/inf 1 exceeds types/fractional 0"),
            // A count beyond 2^56.
            ("huge", with(["counts/n": C(.integer(1 << 60))]), "above 2^56"),
            // The KLL holds more values than the column's non-null rows.
            ("kll n", with(["counts/null": C(.integer(2)), "types/integral": C(.integer(3))]), "holds 4 values"),
            // A KLL without its moments.
            ("no mean", with(["distribution/mean": nil]), "is missing"),
            // A negative M2.
            ("m2 < 0", with(["distribution/m2": C(.double(-1))]), "are not the moments"),
            // A NaN mean over finite values.
            ("nan mean", with(["distribution/mean": C(.double(.nan))]), "are not the moments"),
            // Infinities in the KLL, none counted.
            (
                "uncounted inf",
                with([
                    "distribution/kll": C(.kll(WhylogsKLLLayout.legacy(fromStandard: infinite.serialized()))),
                    "types/integral": C(.integer(0)), "types/fractional": C(.integer(4)), "ints/min": nil,
                    "ints/max": nil,
                ]),
                "holds infinities"
            ),
            // Integer extremes outside the distribution's.
            ("ints outside", with(["ints/max": C(typeID: 2, .integer(9))]), "lie outside"),
        ]
        for (label, components, expected) in cases {
            var view = WhylogsProfileView()
            view.columns = ["x": components]
            let bytes = WhylogsCodec.writeView(view)
            let offset = try #require(try WhylogsCodec.readView(bytes).columnOffsets["x"])
            do {
                let profile = try WhylogsCodec.decodeProfile(bytes)
                Issue.record("\(label): decoded \(profile.columns["x"].map { "\($0.count)" } ?? "-")")
            } catch {
                guard case .malformed("whylogs", let at, let reason) = error else {
                    Issue.record("\(label): \(error)")
                    continue
                }
                #expect(reason.contains(expected), "\(label): \(reason)")
                #expect(reason.contains("column 'x'"), "\(label): \(reason)")
                #expect(at == offset, "\(label): offset \(at), column data at \(offset)")
            }
        }
        // The unmodified column decodes, so each case fails for its own defect.
        var view = WhylogsProfileView()
        view.columns = ["x": valid]
        let column = try #require(try WhylogsCodec.decodeProfile(WhylogsCodec.writeView(view)).columns["x"])
        #expect(column.count == 5 && column.numeric?.integerMax == 4 && column.frequentItems?.totalWeight == 4)
    }

    /// A frequent-items sketch counting more values than the column's non-null rows.
    @Test func rejectsFrequentItemsHeavierThanTheColumn() throws {
        var components = try Self.validColumn()
        var items = try FrequentStringsSketch(lgMaxMapSize: 6)
        items.update("a", weight: 9)
        components["frequent_items/frequent_strings"] = .init(.frequentItems(items.serialized()))
        var view = WhylogsProfileView()
        view.columns = ["x": components]
        let error = try #require(throws: ProfileError.self) {
            try WhylogsCodec.decodeProfile(WhylogsCodec.writeView(view))
        }
        #expect(error.description.contains("frequent_items/frequent_strings counts 9 values"), "\(error)")
    }

    /// Sketch images that do not decode give `ProfileError.sketch` with the column and the path.
    @Test func badSketchBytesNameTheColumnAndPath() throws {
        for path in ["distribution/kll", "frequent_items/frequent_strings", "cardinality/hll"] {
            var components = try Self.validColumn()
            let garbage: [UInt8] = [5, 1, 15, 0, 200, 0, 8, 0, 1, 2, 3]
            switch path {
            case "distribution/kll": components[path] = .init(.kll(garbage))
            case "cardinality/hll": components[path] = .init(.hll(garbage))
            default: components[path] = .init(.frequentItems(garbage))
            }
            var view = WhylogsProfileView()
            view.columns = ["x": components]
            let error = try #require(throws: ProfileError.self) {
                try WhylogsCodec.decodeProfile(WhylogsCodec.writeView(view))
            }
            // The HLL is decoded by the mapping (a sketch error naming the column and path, with
            // the chunk's offset); the KLL and frequent items by the column metrics (malformed,
            // naming both in the reason).
            switch error {
            case .sketch(let column, let field, _):
                #expect(column == "x" && field.hasPrefix(path), "\(error)")
            case .malformed("whylogs", _, let reason):
                #expect(reason.contains("'x'") && reason.contains(path), "\(error)")
            default:
                Issue.record("\(path): \(error)")
            }
        }
    }

    /// Inconsistent dataset properties: one comment per case.
    @Test func rejectsBadDatasetProperties() throws {
        let cases: [(String, WhylogsProfileView, String)] = [
            // An upload id that is not a UUID.
            ("upload id", view(metadata: ["driftwatch.upload_id": "nope"]), "is not a UUID"),
            // A negative window length.
            ("window", view(metadata: ["driftwatch.window_ms": "-5"]), "is not a window length"),
            // A config with an out-of-range value.
            ("config", view(metadata: ["driftwatch.config": "kll_k=2"]), "driftwatch.config"),
            // An empty model name.
            ("model", view(metadata: ["driftwatch.model": ""]), "is empty"),
            // A properties tag that contradicts the segment header.
            (
                "segment",
                view(tags: ["whylogs.tag.region": "us"], segment: [.init(key: "whylogs.tag.region", value: "eu")]),
                "contradicts"
            ),
            // A segment tag with an empty name.
            ("empty tag", view(tags: ["whylogs.tag.": "x"]), "empty name"),
        ]
        for (label, view, expected) in cases {
            let bytes = WhylogsCodec.writeView(view)
            do {
                _ = try WhylogsCodec.decodeProfile(bytes)
                Issue.record("\(label): decoded")
            } catch {
                guard case .malformed("whylogs", let at, let reason) = error else {
                    Issue.record("\(label): \(error)")
                    continue
                }
                #expect(reason.contains(expected), "\(label): \(reason)")
                // The profile header follows the magic and the segment header.
                #expect(at == 4 + 1 + Int(bytes[4]), "\(label): at \(at)")
            }
        }
    }

    /// Container errors keep the reader's byte offset.
    @Test func containerErrorsKeepTheirOffset() throws {
        let bytes = try WhylogsFixtures.bytes("whylogs_profile_small")
        let error = try #require(throws: ProfileError.self) { try WhylogsCodec.decodeProfile(Array(bytes.prefix(600))) }
        guard case .malformed("whylogs", let at, _) = error else {
            Issue.record("\(error)")
            return
        }
        #expect(at > 0 && at <= 600)
        #expect(throws: ProfileError.self) { try WhylogsCodec.decodeProfile([]) }
        #expect(throws: ProfileError.self) { try WhylogsCodec.decodeProfile(Array("DWP1".utf8)) }
    }

    /// Random corruption of whylogs' files and of Driftwatch-written ones, and every truncation of
    /// a v0 file: a profile or a ProfileError, never a trap.
    @Test func survivesRandomCorruption() throws {
        let seed: UInt64 = 0x5EED_0105
        var rng = WhylogsSplitMix64(seed: seed)
        var inputs = try Self.allFixtures.map { try WhylogsFixtures.bytes($0) }
        inputs.append(WhylogsCodec.encodeProfile(try Self.sampleProfile(seed: seed, rows: 300)))
        for original in inputs {
            for _ in 0..<300 {
                var bytes = original
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
                if let profile = try? WhylogsCodec.decodeProfile(bytes) {
                    // Whatever decodes meets the model's invariants: it survives the native codec.
                    #expect(throws: Never.self, "seed \(seed)") { try NativeCodec.decode(NativeCodec.encode(profile)) }
                }
            }
        }
        let v0 = try WhylogsFixtures.bytes("whylogs_v0_classification")
        for n in 0..<v0.count {
            #expect(throws: ProfileError.self, "prefix \(n)") { try WhylogsCodec.decodeProfile(Array(v0.prefix(n))) }
        }
    }
}

/// A view with the given dataset properties and no columns.
private func view(
    tags: [String: String] = [:], metadata: [String: String] = [:], segment: [WhylogsProfileView.Tag]? = nil
) -> WhylogsProfileView {
    var view = WhylogsProfileView()
    view.tags = tags
    view.metadata = metadata
    if let segment { view.segments = [.init(tags: segment)] }
    return view
}

/// Equal numbers: both NaN, or equal, or within `rel` relative difference; nil only equals nil.
private func same(_ a: Double?, _ b: Double?, rel: Double = 0) -> Bool {
    guard let a, let b else { return a == nil && b == nil }
    if a.isNaN || b.isNaN { return a.isNaN && b.isNaN }
    if a == b { return true }
    return abs(a - b) <= rel * max(abs(a), abs(b))
}
