internal import Sketches

/// Mapping between whylogs profiles and ``DatasetProfile`` (docs/formats.md, "whylogs mapping").
///
/// Reading: the standard metric paths of each column become the column's counts, types,
/// numeric summary (KLL, min/max from the sketch, integer min/max, mean and M2), HLL and
/// frequent strings. whylogs has no model name, window length or upload id; Driftwatch writes
/// them into the metadata (`driftwatch.*` keys) and reads them back, and otherwise uses the
/// model name `whylogs`, the dataset timestamp as the window start with length 0, and an
/// upload id derived from the file's bytes (so uploading the same file twice is idempotent).
extension WhylogsCodec {
    /// Metadata keys Driftwatch writes into whylogs files for what whylogs cannot carry.
    public enum MetadataKey {
        public static let model = "driftwatch.model"
        public static let modelVersion = "driftwatch.model_version"
        public static let uploadID = "driftwatch.upload_id"
        public static let windowLength = "driftwatch.window_ms"
        static let all: Set<String> = [model, modelVersion, uploadID, windowLength]
    }

    /// The model name given to whylogs profiles that do not name one.
    public static let defaultModelName = "whylogs"

    /// Reads a whylogs v1 (or v0) file into a ``DatasetProfile``.
    ///
    /// - Throws: ``ProfileError`` naming the column, metric path and byte offset of a problem.
    public static func decodeProfile(_ bytes: [UInt8]) throws(ProfileError) -> DatasetProfile {
        let view: WhylogsProfileView
        do {
            view = try readView(bytes)
        } catch {
            throw .malformed(format: "whylogs", at: error.offset ?? 0, error.reason)
        }
        var metrics: [(String, WhylogsColumnMetrics)] = []
        for name in view.columns.keys.sorted() {
            do {
                metrics.append(
                    (
                        name,
                        try WhylogsColumnMetrics(
                            column: name, components: view.columns[name]!, offset: view.columnOffsets[name] ?? 0)
                    ))
            } catch {
                throw .malformed(format: "whylogs", at: error.offset ?? 0, error.reason)
            }
        }
        let config = try config(of: metrics)
        var columns: [String: ColumnProfile] = [:]
        for (name, m) in metrics {
            columns[name] = try column(name, m, config: config, offset: view.columnOffsets[name] ?? 0)
        }

        var tags: [String: String] = [:]
        for (key, value) in view.tags where key.hasPrefix(WhylogsProfileView.tagPrefix) {
            tags[String(key.dropFirst(WhylogsProfileView.tagPrefix.count))] = value
        }
        for segment in view.segments {
            for tag in segment.tags {
                let key =
                    tag.key.hasPrefix(WhylogsProfileView.tagPrefix)
                    ? String(tag.key.dropFirst(WhylogsProfileView.tagPrefix.count)) : tag.key
                tags[key] = tag.value
            }
        }
        let metadata = view.metadata
        let windowLength = metadata[MetadataKey.windowLength].flatMap { Int64($0) }.map { max(0, $0) } ?? 0
        let uploadID = metadata[MetadataKey.uploadID].flatMap { UploadID($0) } ?? derivedUploadID(bytes)
        return DatasetProfile(
            model: metadata[MetadataKey.model].flatMap { $0.isEmpty ? nil : $0 } ?? defaultModelName,
            modelVersion: metadata[MetadataKey.modelVersion], segment: Segment(tags),
            windowStart: view.datasetTimestamp ?? 0, windowLength: windowLength, uploadID: uploadID,
            createdAt: view.creationTimestamp ?? 0, config: config, columns: columns,
            performance: try performance(view.modelPerformance, config: config), latency: nil,
            metadata: metadata.filter { !MetadataKey.all.contains($0.key) })
    }

    /// Writes a profile as a whylogs v1 file readable by `whylogs.read()`. The performance and
    /// latency blocks have no whylogs v1 equivalent and are not written; string-length
    /// summaries neither.
    public static func encodeProfile(_ profile: DatasetProfile) -> [UInt8] {
        var view = WhylogsProfileView()
        view.creationTimestamp = profile.createdAt > 0 ? profile.createdAt : nil
        view.datasetTimestamp = profile.windowStart != 0 ? profile.windowStart : nil
        for tag in profile.segment.tags {
            view.tags[WhylogsProfileView.tagPrefix + tag.key] = tag.value
        }
        view.metadata = profile.metadata
        view.metadata[MetadataKey.model] = profile.model
        if let version = profile.modelVersion { view.metadata[MetadataKey.modelVersion] = version }
        view.metadata[MetadataKey.uploadID] = profile.uploadID.description
        if profile.windowLength > 0 { view.metadata[MetadataKey.windowLength] = String(profile.windowLength) }
        for (name, column) in profile.columns {
            var m = WhylogsColumnMetrics()
            m.count = column.count
            m.nullCount = column.nullCount
            m.nanCount = column.nanCount
            m.infCount = column.infCount
            m.trueCount = column.trueCount
            m.integral = column.types.integral
            m.fractional = column.types.fractional
            m.boolean = column.types.boolean
            m.string = column.types.string
            m.object = column.types.other
            if let numeric = column.numeric {
                m.kll = numeric.kll
                m.mean = numeric.moments.mean
                m.m2 = numeric.moments.m2
                m.intMin = numeric.integerMin
                m.intMax = numeric.integerMax
            }
            m.hllImage = column.cardinality.serialized(compact: true)
            m.frequentStrings = column.frequentItems
            view.columns[name] = m.components()
        }
        return writeView(view)
    }

    // MARK: Pieces

    /// Sketch parameters as found in the file (whylogs 1.6.4 writes KLL k = 256, HLL lgK 12,
    /// frequent items lgMaxMapSize 7 by default); defaults where no column has the sketch.
    private static func config(of metrics: [(String, WhylogsColumnMetrics)]) throws(ProfileError) -> ProfileConfig {
        var kllK = ProfileConfig.defaultKLLK
        var lgK = ProfileConfig.defaultHLLLgK
        var hllType = HLLTargetType.hll4
        var lgMapSize = ProfileConfig.defaultFrequentItemsLgMaxMapSize
        if let kll = metrics.lazy.compactMap(\.1.kll).first { kllK = kll.k }
        if let image = metrics.lazy.compactMap(\.1.hllImage).first, let hll = try? HLLSketch(serialized: image) {
            lgK = hll.lgK
            hllType = hll.type
        }
        if let fi = metrics.lazy.compactMap(\.1.frequentStrings).first { lgMapSize = fi.lgMaxMapSize }
        do {
            return try ProfileConfig(kllK: kllK, hllLgK: lgK, hllType: hllType, frequentItemsLgMaxMapSize: lgMapSize)
        } catch {
            throw .malformed(format: "whylogs", at: 0, "sketch parameters: \(error)")
        }
    }

    private static func column(
        _ name: String, _ m: WhylogsColumnMetrics, config: ProfileConfig, offset: Int
    )
        throws(ProfileError) -> ColumnProfile
    {
        var column = ColumnProfile(config: config)
        column.count = m.count
        // whylogs counts NaN among the nulls (pandas isnull); keep the invariant nan ≤ null.
        column.nullCount = max(m.nullCount, m.nanCount)
        column.nanCount = m.nanCount
        // whylogs does not keep the sign of infinities.
        column.positiveInfCount = m.infCount
        column.trueCount = m.trueCount
        column.types = TypeCounts(
            integral: m.integral, fractional: m.fractional, boolean: m.boolean, string: m.string,
            other: m.object + m.tensor)
        if let kll = m.kll, let low = kll.min, let high = kll.max {
            column.numeric = NumericSummary(
                kll: kll, min: low, max: high, integerMin: m.intMin, integerMax: m.intMax,
                moments: Moments(count: Int64(kll.count), mean: m.mean ?? 0, m2: m.m2 ?? 0))
        }
        if let image = m.hllImage {
            do {
                column.cardinality = try HLLSketch(serialized: image)
            } catch {
                throw .sketch(column: name, field: "cardinality/hll (chunk at byte \(offset))", error)
            }
        }
        column.frequentItems = m.frequentStrings
        return column
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
