import Foundation
import Sketches
import Testing

@testable import Profiles

/// The decoded sketches of whylogs' own files answer exactly as whylogs' `to_pandas()` does.
@Suite("Whylogs metrics")
struct WhylogsMetricsTests {
    static let ranks = [0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99]
    static let rankKeys = ["q_01", "q_05", "q_10", "q_25", "median", "q_75", "q_90", "q_95", "q_99"]

    @Test(arguments: WhylogsFixtures.names)
    func sketchesAnswerLikeWhylogsSummary(name: String) throws {
        let view = try WhylogsCodec.readView(try WhylogsFixtures.bytes(name))
        let summary = try #require(try WhylogsFixtures.json(name)["profile_view_to_pandas"] as? [String: [String: Any]])
        for (column, want) in summary {
            let metrics = try WhylogsColumnMetrics(
                column: column, components: try #require(view.columns[column]), offset: 0)
            #expect(metrics.count == WhylogsFixtures.int64(want["counts/n"]), "\(column)")
            let kll = try #require(metrics.kll, "\(column)")
            #expect(Int64(kll.count) == WhylogsFixtures.int64(want["distribution/n"]), "\(column)")
            if kll.isEmpty { continue }
            #expect(kll.min == WhylogsFixtures.double(want["distribution/min"]), "\(column)")
            #expect(kll.max == WhylogsFixtures.double(want["distribution/max"]), "\(column)")
            let quantiles = try #require(WhylogsCodec.whylogsQuantiles(of: kll, ranks: Self.ranks))
            for (q, key) in zip(quantiles, Self.rankKeys) {
                #expect(q == WhylogsFixtures.double(want["distribution/\(key)"]), "\(column) \(key)")
            }
            if let fi = metrics.frequentStrings {
                let rows = fi.frequentItems(errorType: .noFalsePositives)
                let expected = try #require(want["frequent_items/frequent_strings"] as? [[String: Any]])
                #expect(rows.count == expected.count, "\(column)")
                for row in expected {
                    let item = try #require(row["value"] as? String)
                    let got = try #require(rows.first { $0.item == item }, "\(column) \(item)")
                    #expect(Int64(got.estimate) == WhylogsFixtures.int64(row["est"]), "\(column) \(item)")
                    #expect(Int64(got.lowerBound) == WhylogsFixtures.int64(row["lower"]), "\(column) \(item)")
                    #expect(Int64(got.upperBound) == WhylogsFixtures.int64(row["upper"]), "\(column) \(item)")
                }
            }
        }
    }

    /// The same images answer DataSketches 5.2's exclusive queries exactly as the library does
    /// after the legacy → standard conversion (sidecar `datasketches_5_2_cross_check`); whylogs'
    /// own semantics differ from these once a sketch has compacted (see
    /// `WhylogsCodec.whylogsQuantiles`).
    @Test(arguments: WhylogsFixtures.names)
    func sketchesAnswerLikeDataSketches(name: String) throws {
        let view = try WhylogsCodec.readView(try WhylogsFixtures.bytes(name))
        let checks = try #require(try WhylogsFixtures.json(name)["datasketches_5_2_cross_check"] as? [String: Any])
        var compared = 0
        for (key, value) in checks where key.hasSuffix(":distribution/kll") {
            let column = String(key.prefix { $0 != ":" })
            guard
                let converted = (value as? [String: Any])?["after_dropping_bytes_20_23_and_setting_preamble_5"]
                    as? [String: Any],
                let want = converted["quantiles_exclusive_0.01_0.05_0.1_0.25_0.5_0.75_0.9_0.95_0.99"] as? [Any]
            else { continue }
            let metrics = try WhylogsColumnMetrics(
                column: column, components: try #require(view.columns[column]), offset: 0)
            let kll = try #require(metrics.kll)
            let got = try #require(kll.quantiles(ranks: Self.ranks, inclusive: false))
            #expect(got == want.compactMap { WhylogsFixtures.double($0) }, "\(column)")
            compared += 1
        }
        #expect(compared == 3)
    }

    /// A corrupt sketch inside a valid container names the column, the metric path, the
    /// sketch decoder's reason and the chunk's file offset.
    @Test func corruptSketchErrorsNameColumnAndPath() throws {
        let view = try WhylogsCodec.readView(try WhylogsFixtures.bytes("whylogs_profile_small"))
        var components = try #require(view.columns["i"])
        guard case .kll(let image)? = components["distribution/kll"]?.value else {
            Issue.record("no KLL in column i")
            return
        }
        components["distribution/kll"]?.value = .kll(Array(image.prefix(30)))
        let error = try #require(throws: WhylogsError.self) {
            try WhylogsColumnMetrics(column: "i", components: components, offset: 876)
        }
        #expect(error.description.contains("column 'i' distribution/kll: KLL image: truncated"))
        #expect(error.offset == 876)

        components = try #require(view.columns["s"])
        components["counts/n"]?.value = .double(1)
        let typeError = try #require(throws: WhylogsError.self) {
            try WhylogsColumnMetrics(column: "s", components: components, offset: 0)
        }
        #expect(typeError.description.contains("column 's' counts/n: expected an integer"))
    }
}
