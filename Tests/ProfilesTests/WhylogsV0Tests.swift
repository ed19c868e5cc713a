import Foundation
import Testing

@testable import Profiles

/// whylogs 1.6.4 writes profiles with model-performance metrics as a v0 message
/// (fixtures made by scripts/crosscheck/make_whylogs_v0_fixtures.py).
@Suite("Whylogs v0")
struct WhylogsV0Tests {
    static let names = ["whylogs_v0_classification", "whylogs_v0_regression"]

    @Test(arguments: names)
    func readsColumnCountsAndTypesAsWhylogsDoes(name: String) throws {
        let bytes = try WhylogsFixtures.bytes(name)
        let json = try WhylogsFixtures.json(name)
        #expect(WhylogsCodec.isWhylogsV0(bytes))
        #expect(!WhylogsCodec.isWhylogs(bytes))
        let view = try WhylogsCodec.readView(bytes)
        #expect(view.encoding == .v0)
        #expect(view.datasetTimestamp == WhylogsFixtures.int64(json["dataset_timestamp_ms"]))
        #expect(view.creationTimestamp != nil)
        #expect(view.metadata["whylogs.version"] == "1.6.4")

        let summary = try #require(json["read_v0_to_view_to_pandas"] as? [String: [String: Any]])
        #expect(Set(view.columns.keys) == Set(summary.keys))
        for (column, expected) in summary {
            let components = try #require(view.columns[column])
            for path in [
                "counts/n", "counts/null", "types/integral", "types/fractional", "types/boolean", "types/string",
                "types/object",
            ] {
                #expect(
                    components[path]?.value == .integer(WhylogsFixtures.int64(expected[path]) ?? -1),
                    "\(column) \(path)")
            }
            let mean = try #require(WhylogsFixtures.double(expected["distribution/mean"]))
            #expect(components["distribution/mean"]?.value == .double(mean), "\(column)")
            #expect(components["distribution/kll"] != nil, "\(column)")
            #expect(components["cardinality/hll"] != nil, "\(column)")
            // 1.6.4 writes no `longs` block; whylogs' reader invents ints 0/0, Driftwatch omits them.
            #expect(components["ints/min"] == nil && components["ints/max"] == nil, "\(column)")
        }
    }

    @Test func readsTheConfusionMatrix() throws {
        let view = try WhylogsCodec.readView(try WhylogsFixtures.bytes("whylogs_v0_classification"))
        let json = try WhylogsFixtures.json("whylogs_v0_classification")
        let expected = try #require((json["performance"] as? [String: Any])?["confusion_matrix"] as? [String: Any])
        let classification = try #require(view.modelPerformance?.classification)
        #expect(classification.labels == expected["labels"] as? [String])
        #expect(view.modelPerformance?.regression == nil)
        let cells = try #require(expected["cells"] as? [[String: Any]])
        #expect(cells.count == classification.cells.count)
        for want in cells {
            let prediction = try #require(want["prediction"] as? String)
            let target = try #require(want["target"] as? String)
            let i = try #require(classification.labels.firstIndex(of: prediction))
            let j = try #require(classification.labels.firstIndex(of: target))
            let cell = classification.cell(prediction: i, target: j)
            #expect(cell.count == WhylogsFixtures.int64(want["count"]))
            if cell.count > 0 {
                #expect(cell.mean == WhylogsFixtures.double(want["mean"]))
                #expect(cell.m2 == WhylogsFixtures.double(want["m2"]))
                #expect(!cell.kll.isEmpty)
            }
        }
    }

    @Test func readsRegressionSums() throws {
        let view = try WhylogsCodec.readView(try WhylogsFixtures.bytes("whylogs_v0_regression"))
        let json = try WhylogsFixtures.json("whylogs_v0_regression")
        let expected = try #require((json["performance"] as? [String: Any])?["regression"] as? [String: Any])
        let regression = try #require(view.modelPerformance?.regression)
        #expect(regression.count == UInt64(WhylogsFixtures.int64(expected["count"]) ?? -1))
        #expect(regression.sumAbsoluteDifference == WhylogsFixtures.double(expected["sum_abs_diff"]))
        #expect(regression.sumDifference == WhylogsFixtures.double(expected["sum_diff"]))
        #expect(regression.sumSquaredDifference == WhylogsFixtures.double(expected["sum2_diff"]))
        #expect(view.modelPerformance?.classification == nil)
    }

    @Test(arguments: names)
    func rejectsEveryTruncation(name: String) throws {
        let bytes = try WhylogsFixtures.bytes(name)
        for n in 0..<bytes.count {
            #expect(throws: WhylogsError.self, "prefix \(n)") { try WhylogsCodec.readView(Array(bytes.prefix(n))) }
        }
    }

    @Test func rejectsAScoreMatrixWithTheWrongCellCount() throws {
        var matrix = Whylogs_V0_ScoreMatrixMessage()
        matrix.labels = ["a", "b"]
        matrix.scores = [Whylogs_V0_NumbersMessageV0()]
        var message = Whylogs_V0_DatasetProfileMessageV0()
        message.modeProfile.metrics.scoreMatrix = matrix
        var writer = WhylogsWireWriter()
        writer.delimited(message)
        let error = try #require(throws: WhylogsError.self) { try WhylogsCodec.readView(writer.bytes) }
        #expect(error.description.contains("2×2 cells"))
    }
}
