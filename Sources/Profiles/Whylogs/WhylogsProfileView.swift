/// A whylogs profile as stored in a file, before any mapping to Driftwatch's model: dataset
/// properties plus, per column, the metric components keyed by their metric path
/// (`counts/n`, `distribution/kll`, ...), with sketches kept as the raw DataSketches images.
///
/// It mirrors whylogs' own `DatasetProfileView` after reading (FORMATS.md section d): the
/// column chunks' indexed components are resolved to their paths. A v0 message is converted
/// to the same paths the way whylogs' `migration/converters.py` does (see ``WhylogsCodec``).
public struct WhylogsProfileView: Sendable, Hashable {
    /// Which whylogs message format the bytes used.
    public enum Encoding: String, Sendable, Hashable {
        /// The `WHY1` container of whylogs 1.x.
        case v1
        /// A single delimited `DatasetProfileMessage` of whylogs 0.x (whylogs 1.6.4 still writes
        /// it for profiles that carry model-performance metrics).
        case v0
    }

    public var encoding: Encoding = .v1
    public var schemaMajorVersion: UInt32 = 0
    public var schemaMinorVersion: UInt32 = 0
    /// Milliseconds since the Unix epoch; nil when the file holds 0 (whylogs' "not set").
    public var creationTimestamp: Int64?
    /// Milliseconds since the Unix epoch; nil when the file holds 0 (whylogs' "not set").
    public var datasetTimestamp: Int64?
    /// `DatasetProperties.tags`: whylogs puts the keys that start with `whylogs.tag.` here
    /// (segment values and user tags).
    public var tags: [String: String] = [:]
    /// `DatasetProperties.metadata`: everything else (`whylogs.version`, `whylabs.traceId`,
    /// the segment partition's `segp_*` keys, ...).
    public var metadata: [String: String] = [:]
    /// The segments of the segment header (a whylogs file holds at most one).
    public var segments: [Segment] = []
    /// Column name → metric path → component.
    public var columns: [String: [String: Component]] = [:]
    /// The model-performance block of a v0 message.
    public var modelPerformance: ModelPerformance?
    /// Where each column's data starts in the file (its first chunk in v1; 0 for v0), so that
    /// errors found while interpreting a column can name a byte offset. Not written.
    public var columnOffsets: [String: Int] = [:]

    public init() {}

    /// One segment: the key/value tags that select its rows.
    public struct Segment: Sendable, Hashable {
        public var tags: [Tag]
        public var partitionID: String

        public init(tags: [Tag], partitionID: String = "") {
            self.tags = tags
            self.partitionID = partitionID
        }
    }

    /// A segment tag; whylogs writes `key` as `whylogs.tag.` + column name.
    public struct Tag: Sendable, Hashable {
        public var key: String
        public var value: String

        public init(key: String, value: String) {
            self.key = key
            self.value = value
        }
    }

    /// A metric component: whylogs' `MetricComponentMessage`.
    public struct Component: Sendable, Hashable {
        /// The aggregation type: 0 plain, 1 min, 2 max (FORMATS.md section d).
        public var typeID: UInt32
        public var value: Value

        public init(typeID: UInt32 = 0, _ value: Value) {
            self.typeID = typeID
            self.value = value
        }
    }

    /// The `value` oneof of a metric component. Sketch cases hold the raw DataSketches image.
    public enum Value: Sendable, Hashable {
        case unset
        case integer(Int64)
        case double(Double)
        case frequentItems([UInt8])
        case hll([UInt8])
        case kll([UInt8])
        case cpc([UInt8])
        case serializedBytes([UInt8])
        /// A `google.protobuf.Struct` (whylogs' dataclass parameters); kept only as a marker.
        case dataclassParameters
        /// A `google.protobuf.Any`, identified by its type URL.
        case message(typeURL: String)
    }

    /// The model-performance metrics of a v0 message (`ModelProfileMessage`).
    public struct ModelPerformance: Sendable, Hashable {
        public var outputFields: [String] = []
        /// `ModelType`: 0 unknown, 1 classification, 2 regression, 3 embeddings, 4 NLP.
        public var modelType: Int = 0
        public var classification: Classification?
        public var regression: Regression?

        public init() {}
    }

    /// whylogs' confusion matrix: for every (prediction, target) label pair, a summary of the
    /// scores of the rows that fell into that cell.
    public struct Classification: Sendable, Hashable {
        public var labels: [String]
        public var predictionField: String
        public var targetField: String
        public var scoreField: String
        /// `labels.count²` cells, row-major: index = prediction · labels.count + target.
        public var cells: [ScoreCell]

        public init(
            labels: [String], predictionField: String = "", targetField: String = "", scoreField: String = "",
            cells: [ScoreCell]
        ) {
            self.labels = labels
            self.predictionField = predictionField
            self.targetField = targetField
            self.scoreField = scoreField
            self.cells = cells
        }

        public func cell(prediction: Int, target: Int) -> ScoreCell {
            cells[prediction * labels.count + target]
        }
    }

    /// The scores of one confusion-matrix cell: row count, mean, sum of squared deviations and
    /// a KLL doubles image of the scores (empty bytes when the cell is empty).
    public struct ScoreCell: Sendable, Hashable {
        public var count: Int64
        public var mean: Double
        public var m2: Double
        public var kll: [UInt8]

        public init(count: Int64, mean: Double, m2: Double, kll: [UInt8]) {
            self.count = count
            self.mean = mean
            self.m2 = m2
            self.kll = kll
        }
    }

    /// whylogs' regression metrics: sums over the rows of d = prediction − target.
    public struct Regression: Sendable, Hashable {
        public var predictionField: String
        public var targetField: String
        public var count: UInt64
        public var sumAbsoluteDifference: Double
        public var sumDifference: Double
        public var sumSquaredDifference: Double

        public init(
            predictionField: String = "", targetField: String = "", count: UInt64, sumAbsoluteDifference: Double,
            sumDifference: Double, sumSquaredDifference: Double
        ) {
            self.predictionField = predictionField
            self.targetField = targetField
            self.count = count
            self.sumAbsoluteDifference = sumAbsoluteDifference
            self.sumDifference = sumDifference
            self.sumSquaredDifference = sumSquaredDifference
        }
    }
}

extension WhylogsProfileView {
    /// The prefix whylogs gives segment and user tag keys (`_TAG_PREFIX` in whylogs'
    /// `core/view/dataset_profile_view.py`).
    public static let tagPrefix = "whylogs.tag."
}
