internal import Sketches

/// Mapping between whylogs profiles and ``DatasetProfile`` (docs/formats.md, "whylogs mapping").
///
/// Reading: the standard metric paths of each column become the column's counts, types,
/// numeric summary (KLL, min/max from the sketch, integer min/max, mean and M2), HLL and
/// frequent strings; contradictory counts are refused, so a decoded profile always meets the
/// model's invariants (and re-encodes in the native format). whylogs has no model name, window
/// length, upload id or full sketch configuration; Driftwatch writes them into the metadata
/// (`driftwatch.*` keys) and reads them back. Without them: the model is whylogs' own `name`
/// entry (`why.log(..., name=)`) or `whylogs`, the window starts at the dataset timestamp with
/// length 0, the upload id is derived from the file's bytes (so uploading the same file twice is
/// idempotent), and the configuration comes from the sketches found.
///
/// Segments: a segmented whylogs file names its segment in the segment header, as
/// `whylogs.tag.`-prefixed tags; an unsegmented one may carry such tags in its properties.
/// Those become the ``Segment``; every other tag joins the metadata under its own key.
extension WhylogsCodec {
    /// Metadata keys Driftwatch writes into whylogs files for what whylogs cannot carry.
    public enum MetadataKey {
        public static let model = "driftwatch.model"
        public static let modelVersion = "driftwatch.model_version"
        public static let uploadID = "driftwatch.upload_id"
        public static let windowLength = "driftwatch.window_ms"
        /// The ``ProfileConfig``, as `kll_k=…;hll_lg_k=…;hll_type=…;fi_lg_max_map_size=…;`
        /// `max_string_length=…;max_labels=…`.
        public static let config = "driftwatch.config"
        static let all: Set<String> = [model, modelVersion, uploadID, windowLength, config]
        /// Where `why.log(..., name=...)` puts the name (whylogs `api/logger/logger.py`).
        static let whylogsName = "name"
        /// The entries whylogs' segmented writer derives from the segment's columns
        /// (`SEGMENT_ON_COLUMN` / `SEGMENT_ON_COLUMNS`, whylogs `migration/converters.py`):
        /// dropped on reading, written again from the segment.
        static let segmentColumn = "segp_col"
        static let segmentColumns = "segp_cols"
    }

    /// The model name given to whylogs profiles that do not name one.
    public static let defaultModelName = "whylogs"

    /// Reads a whylogs v1 (or v0) file into a ``DatasetProfile``.
    ///
    /// - Throws: ``ProfileError`` naming the column, metric path and byte offset of a problem:
    ///   bytes that are not a whylogs profile, a sketch that does not decode, counts that
    ///   contradict each other or the sketches, or a `driftwatch.*` entry that does not parse.
    public static func decodeProfile(_ bytes: [UInt8]) throws(ProfileError) -> DatasetProfile {
        let view: WhylogsProfileView
        do {
            view = try readView(bytes)
        } catch {
            throw .malformed(format: "whylogs", at: error.offset ?? 0, error.reason)
        }
        let propertiesOffset = propertiesOffset(in: bytes, view.encoding)
        func bad(_ reason: String) -> ProfileError {
            .malformed(format: "whylogs", at: propertiesOffset, reason)
        }

        var metadata = view.metadata
        let segment = try segment(of: view, metadata: &metadata, bad)
        let model: String
        if let name = metadata.removeValue(forKey: MetadataKey.model) {
            guard !name.isEmpty else { throw bad("metadata \(MetadataKey.model) is empty") }
            model = name
        } else if let name = metadata[MetadataKey.whylogsName], !name.isEmpty {
            model = name
        } else {
            model = defaultModelName
        }
        let modelVersion = metadata.removeValue(forKey: MetadataKey.modelVersion)
        let uploadID: UploadID
        if let text = metadata.removeValue(forKey: MetadataKey.uploadID) {
            guard let id = UploadID(text) else { throw bad("metadata \(MetadataKey.uploadID) '\(text)' is not a UUID") }
            uploadID = id
        } else {
            uploadID = derivedUploadID(bytes)
        }
        let windowStart = view.datasetTimestamp ?? 0
        var windowLength: Int64 = 0
        if let text = metadata.removeValue(forKey: MetadataKey.windowLength) {
            guard let length = Int64(text), length >= 0, !windowStart.addingReportingOverflow(length).overflow else {
                throw bad("metadata \(MetadataKey.windowLength) '\(text)' is not a window length in ms")
            }
            windowLength = length
        }
        var storedConfig: ProfileConfig?
        if let text = metadata.removeValue(forKey: MetadataKey.config) {
            do {
                storedConfig = try ProfileConfig(metadataText: text)
            } catch {
                throw bad("metadata \(MetadataKey.config) '\(text)': \(error)")
            }
        }

        var metrics: [(name: String, metrics: WhylogsColumnMetrics, hll: HLLSketch?, offset: Int)] = []
        for name in view.columns.keys.sorted() {
            let offset = view.columnOffsets[name] ?? 0
            let m: WhylogsColumnMetrics
            do {
                m = try WhylogsColumnMetrics(column: name, components: view.columns[name] ?? [:], offset: offset)
            } catch {
                throw .malformed(format: "whylogs", at: error.offset ?? 0, error.reason)
            }
            var hll: HLLSketch?
            if let image = m.hllImage {
                do {
                    hll = try HLLSketch(serialized: image)
                } catch {
                    throw .sketch(column: name, field: "\(WhylogsPath.hll) (chunk at byte \(offset))", error)
                }
            }
            metrics.append((name, m, hll, offset))
        }
        let config: ProfileConfig
        if let storedConfig {
            config = storedConfig
        } else {
            config = try derivedConfig(
                kll: metrics.lazy.compactMap(\.metrics.kll).first, hll: metrics.lazy.compactMap(\.hll).first,
                frequentItems: metrics.lazy.compactMap(\.metrics.frequentStrings).first,
                labelCount: view.modelPerformance?.classification?.labels.count ?? 0, bad)
        }
        var columns: [String: ColumnProfile] = [:]
        for entry in metrics {
            columns[entry.name] = try column(
                entry.name, entry.metrics, cardinality: entry.hll, config: config, offset: entry.offset)
        }
        return DatasetProfile(
            model: model, modelVersion: modelVersion, segment: segment, windowStart: windowStart,
            windowLength: windowLength, uploadID: uploadID, createdAt: view.creationTimestamp ?? 0, config: config,
            columns: columns, performance: try performance(view.modelPerformance, config: config), latency: nil,
            metadata: metadata)
    }

    /// Writes a profile as a whylogs v1 file readable by `whylogs.read()`, laid out as whylogs
    /// writes one: every column with the standard counters and a `distribution/*` metric (an
    /// empty KLL for a column without numbers), a segmented profile with its segment in the
    /// segment header, the prefixed tags and `segp_col(s)`. The model, model version, upload
    /// id, window length and configuration go into `driftwatch.*` metadata entries. The
    /// performance and latency blocks have no whylogs v1 equivalent and are not written;
    /// string-length summaries and the sign of infinities (`counts/inf` is one count) neither.
    public static func encodeProfile(_ profile: DatasetProfile) -> [UInt8] {
        var view = WhylogsProfileView()
        view.creationTimestamp = profile.createdAt > 0 ? profile.createdAt : nil
        view.datasetTimestamp = profile.windowStart > 0 ? profile.windowStart : nil
        var metadata = profile.metadata
        metadata[MetadataKey.model] = profile.model
        metadata[MetadataKey.modelVersion] = profile.modelVersion
        metadata[MetadataKey.uploadID] = profile.uploadID.description
        metadata[MetadataKey.windowLength] = profile.windowLength > 0 ? String(profile.windowLength) : nil
        metadata[MetadataKey.config] = profile.config.metadataText
        metadata[MetadataKey.segmentColumn] = nil
        metadata[MetadataKey.segmentColumns] = nil
        if !profile.segment.tags.isEmpty {
            // As whylogs' segmented writer: the prefixed tags in the segment header and in the
            // properties, and the segment's columns in the metadata.
            let tags = profile.segment.tags.map {
                WhylogsProfileView.Tag(key: WhylogsProfileView.tagPrefix + $0.key, value: $0.value)
            }
            view.segments = [WhylogsProfileView.Segment(tags: tags)]
            for tag in tags { view.tags[tag.key] = tag.value }
            if tags.count == 1 {
                metadata[MetadataKey.segmentColumn] = profile.segment.tags[0].key
            } else {
                metadata[MetadataKey.segmentColumns] = profile.segment.tags.map { "(\($0.key))" }.joined()
            }
        }
        view.metadata = metadata
        for (name, column) in profile.columns {
            view.columns[name] = metrics(of: column).components()
        }
        return writeView(view)
    }

    // MARK: Pieces

    /// Where the dataset properties (timestamps, tags, metadata) start, for errors about them:
    /// after the magic and the segment header in v1, the start of the message in v0.
    static func propertiesOffset(in bytes: [UInt8], _ encoding: WhylogsProfileView.Encoding) -> Int {
        guard encoding == .v1 else { return 0 }
        var reader = WhylogsWireReader(bytes, offset: WhylogsContainer.magic.count)
        guard (try? reader.lengthPrefixedRange("segment header")) != nil else { return WhylogsContainer.magic.count }
        return reader.offset
    }

    /// The segment: the segment header's tags when there is one, else the properties' tags
    /// with the `whylogs.tag.` prefix; the prefix is stripped. Other tags join `metadata` under
    /// their full key (an existing metadata entry wins); `segp_col(s)` are dropped.
    private static func segment(
        of view: WhylogsProfileView, metadata: inout [String: String], _ bad: (String) -> ProfileError
    ) throws(ProfileError) -> Segment {
        let prefix = WhylogsProfileView.tagPrefix
        func name(_ key: String) throws(ProfileError) -> String {
            let stripped = key.hasPrefix(prefix) ? String(key.dropFirst(prefix.count)) : key
            guard !stripped.isEmpty else { throw bad("segment tag '\(key)' has an empty name") }
            return stripped
        }
        var tags: [String: String] = [:]
        if let header = view.segments.first {
            for tag in header.tags {
                guard tags.updateValue(tag.value, forKey: try name(tag.key)) == nil else {
                    throw bad("segment header: tag '\(tag.key)' appears twice")
                }
            }
            for (key, value) in view.tags {
                if key.hasPrefix(prefix), let inSegment = tags[try name(key)] {
                    guard inSegment == value else {
                        throw bad("tag '\(key)' = '\(value)' contradicts the segment header's '\(inSegment)'")
                    }
                } else if metadata[key] == nil {
                    metadata[key] = value
                }
            }
        } else {
            for (key, value) in view.tags {
                if key.hasPrefix(prefix) {
                    tags[try name(key)] = value
                } else if metadata[key] == nil {
                    metadata[key] = value
                }
            }
        }
        metadata[MetadataKey.segmentColumn] = nil
        metadata[MetadataKey.segmentColumns] = nil
        return Segment(tags)
    }

    /// The configuration of a file without `driftwatch.config`: the parameters of the first
    /// column (by name) holding each sketch; for a sketch no column holds, whylogs 1.6.4's
    /// default (KLL k = 1024, HLL lgK 12 HLL_4, frequent items lgMaxMapSize 10; FORMATS.md
    /// section d); Driftwatch's defaults for the rest, with room for the confusion matrix.
    private static func derivedConfig(
        kll: KLLSketch<Double>?, hll: HLLSketch?, frequentItems: FrequentStringsSketch?, labelCount: Int,
        _ bad: (String) -> ProfileError
    ) throws(ProfileError) -> ProfileConfig {
        do {
            return try ProfileConfig(
                kllK: kll?.k ?? 1024, hllLgK: hll?.lgK ?? 12, hllType: hll?.type ?? .hll4,
                frequentItemsLgMaxMapSize: frequentItems?.lgMaxMapSize ?? 10,
                maxLabels: max(ProfileConfig.defaultMaxLabels, labelCount))
        } catch {
            throw bad("the sketch parameters do not make a profile configuration: \(error)")
        }
    }

    /// The model-performance block of a v0 message as a performance profile.
    private static func performance(
        _ model: WhylogsProfileView.ModelPerformance?, config: ProfileConfig
    )
        throws(ProfileError) -> PerformanceProfile?
    {
        guard let model else { return nil }
        if let c = model.classification {
            let n = c.labels.count
            guard c.cells.count == n * n else {
                throw .malformed(
                    format: "whylogs", at: 0, "confusion matrix has \(c.cells.count) cells for \(n) labels")
            }
            var matrix = [[Int64]](repeating: [Int64](repeating: 0, count: n), count: n)
            var scores = [KLLSketch<Double>?](repeating: nil, count: n)
            var count: Int64 = 0
            for p in 0..<n {
                for a in 0..<n {
                    let cell = c.cell(prediction: p, target: a)
                    matrix[p][a] = cell.count
                    count += cell.count
                    guard !cell.kll.isEmpty else { continue }
                    do {
                        let sketch = try KLLSketch<Double>(serialized: cell.kll)
                        if scores[a] == nil { scores[a] = sketch } else { scores[a]!.merge(sketch) }
                    } catch {
                        throw .sketch(column: "(model performance)", field: "confusion cell \(p),\(a) scores", error)
                    }
                }
            }
            do {
                return .classification(
                    try ClassificationProfile(
                        maxLabels: max(ProfileConfig.defaultMaxLabels, n), kllK: config.kllK, labels: c.labels,
                        matrix: matrix, scoresByTrueClass: scores, count: count, overflowCount: 0, logLossSum: 0,
                        logLossCount: 0))
            } catch {
                throw .malformed(format: "whylogs", at: 0, "model performance: \(error)")
            }
        }
        if let r = model.regression {
            guard r.count <= UInt64(Int64.max) else {
                throw .malformed(format: "whylogs", at: 0, "regression count \(r.count) is too large")
            }
            // whylogs keeps no residual sketch and no target moments: they stay empty.
            return .regression(
                RegressionProfile(
                    count: Int64(r.count), sumError: r.sumDifference, sumAbsoluteError: r.sumAbsoluteDifference,
                    sumSquaredError: r.sumSquaredDifference, residuals: try! KLLSketch<Double>(k: config.kllK),
                    target: Moments(), prediction: Moments()))
        }
        return nil
    }

    /// A version-4-shaped id from the MurmurHash3 of the file, so that the same file always maps
    /// to the same upload id.
    static func derivedUploadID(_ bytes: [UInt8]) -> UploadID {
        let (h1, h2) = bytes.withUnsafeBytes { MurmurHash3.hash128($0, seed: 0x6472_6966_7477_6174) }
        return UploadID(high: (h1 & ~0xF000) | 0x4000, low: (h2 & ~(0b11 << 62)) | (0b10 << 62))
    }
}

extension ProfileConfig {
    /// The configuration as one metadata value:
    /// `kll_k=200;hll_lg_k=11;hll_type=4;fi_lg_max_map_size=7;max_string_length=128;max_labels=64`.
    var metadataText: String {
        "kll_k=\(kllK);hll_lg_k=\(hllLgK);hll_type=\(hllType.bitsPerBucket);"
            + "fi_lg_max_map_size=\(frequentItemsLgMaxMapSize);max_string_length=\(maxStringLength);"
            + "max_labels=\(maxLabels)"
    }

    /// Reads ``metadataText``: every key once, in any order; a key not given keeps its default.
    ///
    /// - Throws: ``ProfileError/invalidConfiguration(_:)`` for an unknown or repeated key, a
    ///   value that is not a number, or a parameter out of range.
    init(metadataText text: String) throws(ProfileError) {
        var values: [String: Int] = [:]
        for entry in text.split(separator: ";", omittingEmptySubsequences: true) {
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, let value = Int(parts[1]) else {
                throw .invalidConfiguration("'\(entry)' is not key=integer")
            }
            let key = String(parts[0])
            guard
                [
                    "kll_k", "hll_lg_k", "hll_type", "fi_lg_max_map_size", "max_string_length", "max_labels",
                ].contains(key)
            else { throw .invalidConfiguration("unknown key '\(key)'") }
            guard values.updateValue(value, forKey: key) == nil else {
                throw .invalidConfiguration("key '\(key)' appears twice")
            }
        }
        var type = HLLTargetType.hll4
        if let bits = values["hll_type"] {
            guard let parsed = UInt32(exactly: bits).flatMap(HLLTargetType.init(bitsPerBucket:)) else {
                throw .invalidConfiguration("hll_type \(bits) is not 4, 6 or 8")
            }
            type = parsed
        }
        try self.init(
            kllK: values["kll_k"] ?? Self.defaultKLLK, hllLgK: values["hll_lg_k"] ?? Self.defaultHLLLgK,
            hllType: type,
            frequentItemsLgMaxMapSize: values["fi_lg_max_map_size"] ?? Self.defaultFrequentItemsLgMaxMapSize,
            maxStringLength: values["max_string_length"] ?? Self.defaultMaxStringLength,
            maxLabels: values["max_labels"] ?? Self.defaultMaxLabels)
    }
}
