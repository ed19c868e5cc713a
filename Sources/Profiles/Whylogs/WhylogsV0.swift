internal import Foundation
internal import SwiftProtobuf

// whylogs v0 profile message, as whylogs 1.6.4 writes it for profiles that carry
// model-performance metrics (`DatasetProfileView._write_it`): the whole file is one delimited
// `DatasetProfileMessageV0`, no magic.
//
//   byte 0  +-------------+-------------------------------------------------------------+
//           | varint n    | DatasetProfileMessageV0 (n bytes, n = rest of the file):    |
//           |             |   properties [1], columns map<string, ColumnMessageV0> [2], |
//           |             |   modeProfile ModelProfileMessage [10]                      |
//           +-------------+-------------------------------------------------------------+
//
// Sources: whylabs/whylogs `proto/v0/v0_messages.proto` and `python/whylogs/migration/converters.py`
// (`v0_to_v1_view`, `v1_to_dataset_profile_message_v0`), commit c9b9b8b.
//
// Each column is converted to the v1 metric paths the way whylogs' `v0_to_v1_view` does, with
// two deliberate differences (both recover information whylogs' own converter drops):
// * `counts/null` comes from the schema's NULL type count (what 1.6.4 writes, and what whylogs
//   0.x counted nulls in); whylogs reads the deprecated, never-written `counters.null_count`.
// * `ints/min` and `ints/max` are only produced when the message has a `longs` block; whylogs
//   fabricates 0/0 when it is absent (1.6.4 never writes it).
// v0 does not track NaN or ±inf separately: `counts/nan` and `counts/inf` are 0, as in whylogs.
enum WhylogsV0 {
    /// The values of `InferredType.Type` (v0_messages.proto).
    private enum InferredType: Int32 {
        case unknown = 0, null = 1, fractional = 2, integral = 3, boolean = 4, string = 5
    }

    /// True when `bytes` are framed like a v0 file: a varint length equal to the rest of the
    /// file, followed by nothing or by a `DatasetProfileMessageV0` field tag (fields 1, 2 and 10
    /// are length-delimited: tag bytes 0x0A, 0x12, 0x52). Cheap; does not parse the message.
    static func looksLikeV0(_ bytes: [UInt8]) -> Bool {
        var reader = WhylogsWireReader(bytes)
        guard let length = try? reader.varint("length"), length == UInt64(reader.remaining) else { return false }
        guard reader.remaining > 0 else { return true }
        return [0x0A, 0x12, 0x52].contains(bytes[reader.offset])
    }

    static func read(_ bytes: [UInt8]) throws(WhylogsError) -> WhylogsProfileView {
        var reader = WhylogsWireReader(bytes)
        let message = try reader.delimited(Whylogs_V0_DatasetProfileMessageV0.self, "v0 DatasetProfileMessage")
        guard reader.remaining == 0 else {
            throw .malformed(at: reader.offset, "\(reader.remaining) unexpected bytes after the v0 message")
        }

        var view = WhylogsProfileView()
        view.encoding = .v0
        let properties = message.properties
        view.schemaMajorVersion = properties.schemaMajorVersion
        view.schemaMinorVersion = properties.schemaMinorVersion
        view.creationTimestamp = properties.sessionTimestamp > 0 ? properties.sessionTimestamp : nil
        view.datasetTimestamp = properties.dataTimestamp > 0 ? properties.dataTimestamp : nil
        view.tags = properties.tags
        view.metadata = properties.metadata
        if !properties.sessionID.isEmpty, view.metadata["whylogs.sessionId"] == nil {
            view.metadata["whylogs.sessionId"] = properties.sessionID
        }
        for (name, column) in message.columns {
            view.columns[name] = components(column)
        }
        if message.hasModeProfile {
            view.modelPerformance = try performance(message.modeProfile)
        }
        return view
    }

    private static func components(_ column: Whylogs_V0_ColumnMessageV0) -> [String: WhylogsProfileView.Component] {
        var out: [String: WhylogsProfileView.Component] = [:]
        func put(_ path: String, _ value: WhylogsProfileView.Value, typeID: UInt32 = 0) {
            out[path] = WhylogsProfileView.Component(typeID: typeID, value)
        }
        let typeCounts = column.schema.typeCounts
        func typeCount(_ type: InferredType) -> Int64 { typeCounts[type.rawValue] ?? 0 }

        put("counts/n", .integer(column.counters.count))
        let nulls = typeCounts[InferredType.null.rawValue] ?? column.counters.nullCount.value
        put("counts/null", .integer(nulls))
        put("counts/nan", .integer(0))
        put("counts/inf", .integer(0))
        if column.counters.hasTrueCount { put("counts/true", .integer(column.counters.trueCount.value)) }

        put("types/integral", .integer(typeCount(.integral)))
        put("types/fractional", .integer(typeCount(.fractional)))
        put("types/boolean", .integer(typeCount(.boolean)))
        put("types/string", .integer(typeCount(.string)))
        put("types/object", .integer(typeCount(.unknown)))
        put("types/tensor", .integer(0))

        if column.hasNumbers {
            let numbers = column.numbers
            if !numbers.histogram.isEmpty {
                put("distribution/kll", .kll(Array(numbers.histogram)))
            }
            put("distribution/mean", .double(numbers.variance.mean))
            put("distribution/m2", .double(numbers.variance.sum))
            if case .longs(let longs)? = numbers.numbers {
                // typeID 1 / 2: whylogs' min / max aggregators (FORMATS.md section d).
                put("ints/min", .integer(longs.min), typeID: 1)
                put("ints/max", .integer(longs.max), typeID: 2)
            }
        }
        if column.hasCardinalityTracker, !column.cardinalityTracker.sketch.isEmpty {
            put("cardinality/hll", .hll(Array(column.cardinalityTracker.sketch)))
        }
        if column.hasFrequentItems, !column.frequentItems.sketch.isEmpty {
            put("frequent_items/frequent_strings", .frequentItems(Array(column.frequentItems.sketch)))
        }
        return out
    }

    private static func performance(
        _ message: Whylogs_V0_ModelProfileMessage
    ) throws(WhylogsError) -> WhylogsProfileView.ModelPerformance {
        var out = WhylogsProfileView.ModelPerformance()
        out.outputFields = message.outputFields
        let metrics = message.metrics
        out.modelType = metrics.modelType.rawValue
        if metrics.hasScoreMatrix {
            let matrix = metrics.scoreMatrix
            let n = matrix.labels.count
            // A whylogs confusion matrix with no labels serialises as an empty message.
            if n > 0 || !matrix.scores.isEmpty {
                let (cells, overflow) = n.multipliedReportingOverflow(by: n)
                guard !overflow, cells == matrix.scores.count else {
                    throw .malformed(
                        at: 0,
                        "v0 score matrix: \(n) labels need \(n)×\(n) cells, the message has \(matrix.scores.count)")
                }
                out.classification = WhylogsProfileView.Classification(
                    labels: matrix.labels, predictionField: matrix.predictionField, targetField: matrix.targetField,
                    scoreField: matrix.scoreField,
                    cells: matrix.scores.map { numbers in
                        WhylogsProfileView.ScoreCell(
                            count: numbers.variance.count, mean: numbers.variance.mean, m2: numbers.variance.sum,
                            kll: Array(numbers.histogram))
                    })
            }
        }
        if metrics.hasRegressionMetrics {
            let r = metrics.regressionMetrics
            out.regression = WhylogsProfileView.Regression(
                predictionField: r.predictionField, targetField: r.targetField, count: r.count,
                sumAbsoluteDifference: r.sumAbsDiff, sumDifference: r.sumDiff, sumSquaredDifference: r.sum2Diff)
        }
        return out
    }
}
