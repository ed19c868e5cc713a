internal import Foundation
public import Sketches
internal import SwiftProtobuf

/// Reads and writes Driftwatch's native profile format (proto/driftwatch/profile.proto,
/// docs/formats.md "Native profile"):
///
/// | bytes | content |
/// |---|---|
/// | 0..<4 | magic `DWP1` |
/// | 4..<8 | body length, UInt32 little-endian |
/// | 8..<12 | CRC-32 (IEEE 802.3) of the body, UInt32 little-endian |
/// | 12... | body: one `driftwatch.v1.Profile` protobuf message |
///
/// The length and checksum exist because a protobuf message cut at a field boundary is still a
/// valid, smaller message: without them a truncated upload would be accepted as a profile of
/// fewer columns.
///
/// Reading distrusts its input: the frame is checked first, protobuf framing by SwiftProtobuf
/// (every length against the bytes present), then every count, sketch image and matrix shape
/// is validated; anything inconsistent throws a ``ProfileError`` naming the field, never a
/// trap.
public enum NativeCodec {
    public static let magic: [UInt8] = Array("DWP1".utf8)
    public static let formatVersion: UInt32 = 1
    /// Magic, body length and checksum.
    public static let headerSize = 12
    /// Largest input accepted (a profile of thousands of columns is a few tens of MB).
    public static let maxBytes = 256 << 20

    public static func isNative(_ bytes: some Collection<UInt8>) -> Bool {
        bytes.starts(with: magic)
    }

    // MARK: Writing

    public static func encode(_ profile: DatasetProfile) -> [UInt8] {
        var message = Driftwatch_V1_Profile()
        message.formatVersion = formatVersion
        message.model = profile.model
        if let version = profile.modelVersion { message.modelVersion = version }
        message.segment = profile.segment.tags.map { tag in
            var t = Driftwatch_V1_Tag()
            t.key = tag.key
            t.value = tag.value
            return t
        }
        message.windowStartMs = profile.windowStart
        message.windowLengthMs = profile.windowLength
        var id = [UInt8]()
        id.reserveCapacity(16)
        for shift in stride(from: 56, through: 0, by: -8) {
            id.append(UInt8(truncatingIfNeeded: profile.uploadID.high >> shift))
        }
        for shift in stride(from: 56, through: 0, by: -8) {
            id.append(UInt8(truncatingIfNeeded: profile.uploadID.low >> shift))
        }
        message.uploadID = Data(id)
        message.createdAtMs = profile.createdAt
        message.config = encode(profile.config)
        message.columns = profile.columns.sorted { $0.key < $1.key }.map { encode(name: $0.key, $0.value) }
        if let performance = profile.performance {
            var p = Driftwatch_V1_Performance()
            switch performance {
            case .classification(let c): p.classification = encode(c)
            case .regression(let r): p.regression = encode(r)
            }
            message.performance = p
        }
        if let latency = profile.latency {
            var l = Driftwatch_V1_Latency()
            l.milliseconds = Data(latency.milliseconds.serialized())
            l.requestCount = latency.requestCount
            l.errorCount = latency.errorCount
            message.latency = l
        }
        message.metadata = profile.metadata
        // Serializing a fully initialised proto3 message cannot fail.
        let body: [UInt8] = try! message.serializedBytes()
        var out = magic
        out.reserveCapacity(headerSize + body.count)
        for value in [UInt32(body.count), CRC32.checksum(body)] {
            for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: value >> shift)) }
        }
        out.append(contentsOf: body)
        return out
    }

    private static func encode(_ config: ProfileConfig) -> Driftwatch_V1_Config {
        var c = Driftwatch_V1_Config()
        c.kllK = UInt32(config.kllK)
        c.hllLgK = UInt32(config.hllLgK)
        c.hllType = config.hllType.bitsPerBucket
        c.frequentItemsLgMaxMapSize = UInt32(config.frequentItemsLgMaxMapSize)
        c.maxStringLength = UInt32(config.maxStringLength)
        c.maxLabels = UInt32(config.maxLabels)
        return c
    }

    private static func encode(_ moments: Moments) -> Driftwatch_V1_Moments {
        var m = Driftwatch_V1_Moments()
        m.count = moments.count
        m.mean = moments.mean
        m.m2 = moments.m2
        return m
    }

    private static func encode(name: String, _ column: ColumnProfile) -> Driftwatch_V1_Column {
        var c = Driftwatch_V1_Column()
        c.name = name
        c.count = column.count
        c.nullCount = column.nullCount
        c.nanCount = column.nanCount
        c.positiveInfCount = column.positiveInfCount
        c.negativeInfCount = column.negativeInfCount
        c.trueCount = column.trueCount
        var types = Driftwatch_V1_TypeCounts()
        types.integral = column.types.integral
        types.fractional = column.types.fractional
        types.boolean = column.types.boolean
        types.string = column.types.string
        types.other = column.types.other
        c.types = types
        if let numeric = column.numeric {
            var n = Driftwatch_V1_Numeric()
            n.kll = Data(numeric.kll.serialized())
            n.min = numeric.min
            n.max = numeric.max
            if let v = numeric.integerMin { n.integerMin = v }
            if let v = numeric.integerMax { n.integerMax = v }
            n.moments = encode(numeric.moments)
            c.numeric = n
        }
        c.hll = Data(column.cardinality.serialized(compact: true))
        if let items = column.frequentItems { c.frequentItems = Data(items.serialized()) }
        if let lengths = column.stringLengths {
            var s = Driftwatch_V1_StringLengths()
            s.count = lengths.count
            s.min = lengths.min
            s.max = lengths.max
            s.sum = lengths.sum
            s.sumOfSquares = lengths.sumOfSquares
            c.stringLengths = s
        }
        return c
    }

    private static func encode(_ c: ClassificationProfile) -> Driftwatch_V1_Classification {
        var m = Driftwatch_V1_Classification()
        m.maxLabels = UInt32(c.maxLabels)
        m.kllK = UInt32(c.kllK)
        m.labels = c.labels
        m.matrix = c.matrix.flatMap { $0 }
        m.scoresByTrueClass = c.scoresByTrueClass.map { $0.map { Data($0.serialized()) } ?? Data() }
        m.count = c.count
        m.overflowCount = c.overflowCount
        m.logLossSum = c.logLossSum
        m.logLossCount = c.logLossCount
        return m
    }

    private static func encode(_ r: RegressionProfile) -> Driftwatch_V1_Regression {
        var m = Driftwatch_V1_Regression()
        m.count = r.count
        m.sumError = r.sumError
        m.sumAbsoluteError = r.sumAbsoluteError
        m.sumSquaredError = r.sumSquaredError
        m.residuals = Data(r.residuals.serialized())
        m.target = encode(r.target)
        m.prediction = encode(r.prediction)
        return m
    }

    // MARK: Reading

    public static func decode(_ bytes: [UInt8]) throws(ProfileError) -> DatasetProfile {
        guard bytes.count <= maxBytes else {
            throw .malformed(format: "native", at: 0, "\(bytes.count) bytes exceed the \(maxBytes)-byte limit")
        }
        guard isNative(bytes) else {
            throw .malformed(format: "native", at: 0, "missing the DWP1 magic")
        }
        guard bytes.count >= headerSize else {
            throw .malformed(
                format: "native", at: bytes.count, "truncated header (\(bytes.count) of \(headerSize) bytes)")
        }
        func word(_ at: Int) -> UInt32 {
            (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[at + $1]) << (8 * $1) }
        }
        let length = Int(word(4))
        guard length == bytes.count - headerSize else {
            throw .malformed(
                format: "native", at: 4,
                "body length \(length) does not match the \(bytes.count - headerSize) bytes present (truncated or padded)"
            )
        }
        let body = Array(bytes[headerSize...])
        let expected = word(8)
        let actual = CRC32.checksum(body)
        guard expected == actual else {
            throw .malformed(
                format: "native", at: 8,
                "checksum mismatch (header says \(String(expected, radix: 16)), body has \(String(actual, radix: 16)))")
        }
        let message: Driftwatch_V1_Profile
        do {
            var options = BinaryDecodingOptions()
            options.messageDepthLimit = 16
            message = try Driftwatch_V1_Profile(serializedBytes: body, options: options)
        } catch {
            throw .malformed(format: "native", at: headerSize, "the protobuf body does not decode (\(error))")
        }
        return try decode(message)
    }

    private static func decode(_ m: Driftwatch_V1_Profile) throws(ProfileError) -> DatasetProfile {
        func bad(_ reason: String) -> ProfileError { .malformed(format: "native", at: headerSize, reason) }
        guard m.formatVersion == formatVersion else {
            throw bad("format_version \(m.formatVersion) is not supported (this build reads \(formatVersion))")
        }
        guard !m.model.isEmpty else { throw bad("model name is empty") }
        guard m.uploadID.count == 16 else { throw bad("upload_id has \(m.uploadID.count) bytes, expected 16") }
        guard m.windowLengthMs >= 0 else { throw bad("window_length_ms \(m.windowLengthMs) is negative") }
        var tags: [String: String] = [:]
        for tag in m.segment {
            guard !tag.key.isEmpty, tags.updateValue(tag.value, forKey: tag.key) == nil else {
                throw bad("segment tag key '\(tag.key)' is empty or repeated")
            }
        }
        let config: ProfileConfig
        do {
            let c = m.config
            guard let type = HLLTargetType(bitsPerBucket: c.hllType) else {
                throw ProfileError.invalidConfiguration("hll_type \(c.hllType) is not 4, 6 or 8")
            }
            config = try ProfileConfig(
                kllK: Int(c.kllK), hllLgK: Int(c.hllLgK), hllType: type,
                frequentItemsLgMaxMapSize: Int(c.frequentItemsLgMaxMapSize),
                maxStringLength: Int(c.maxStringLength), maxLabels: Int(c.maxLabels))
        } catch {
            throw bad("config: \(error)")
        }
        let idBytes = Array(m.uploadID)
        let high = idBytes[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let low = idBytes[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }

        var columns: [String: ColumnProfile] = [:]
        columns.reserveCapacity(m.columns.count)
        for c in m.columns {
            guard columns[c.name] == nil else { throw bad("column '\(c.name)' appears twice") }
            columns[c.name] = try decode(column: c, config: config)
        }
        var performance: PerformanceProfile?
        if m.hasPerformance {
            switch m.performance.task {
            case .classification(let c): performance = .classification(try decode(c))
            case .regression(let r): performance = .regression(try decode(r))
            case nil: throw bad("performance block has neither classification nor regression")
            }
        }
        var latency: LatencyProfile?
        if m.hasLatency {
            let l = m.latency
            guard l.requestCount >= 0, l.errorCount >= 0, l.errorCount <= l.requestCount else {
                throw bad("latency counts are inconsistent (requests \(l.requestCount), errors \(l.errorCount))")
            }
            let kll = try sketch(l.milliseconds, column: "(latency)", field: "milliseconds")
            guard kll.count <= UInt64(l.requestCount) else {
                throw bad("latency sketch holds \(kll.count) values for \(l.requestCount) requests")
            }
            latency = LatencyProfile(milliseconds: kll, requestCount: l.requestCount, errorCount: l.errorCount)
        }
        return DatasetProfile(
            model: m.model, modelVersion: m.hasModelVersion ? m.modelVersion : nil, segment: Segment(tags),
            windowStart: m.windowStartMs, windowLength: m.windowLengthMs, uploadID: UploadID(high: high, low: low),
            createdAt: m.createdAtMs, config: config, columns: columns, performance: performance, latency: latency,
            metadata: m.metadata)
    }

    private static func sketch(_ data: Data, column: String, field: String) throws(ProfileError) -> KLLSketch<Double> {
        do throws(SketchError) {
            let bytes = Array(data)
            // The empty image (8 bytes) names no item type: it is what a double sketch that saw
            // no values writes (a latency block of failed requests, a regression without pairs).
            guard try KLLImage.itemType(of: bytes) != .float else {
                throw SketchError.malformed("KLL", at: 0, "expected a KLL doubles image, found floats")
            }
            return try KLLSketch<Double>(serialized: bytes)
        } catch {
            throw .sketch(column: column, field: field, error)
        }
    }

    private static func moments(_ m: Driftwatch_V1_Moments, _ what: String) throws(ProfileError) -> Moments {
        // Non-finite moments are kept (whylogs profiles with infinities in their distribution
        // carry them); only a negative M2 is impossible.
        guard m.count >= 0, !(m.m2 < 0) else {
            throw .malformed(
                format: "native", at: headerSize, "\(what): count \(m.count), mean \(m.mean), m2 \(m.m2) are not valid")
        }
        return Moments(count: m.count, mean: m.mean, m2: m.m2)
    }

    private static func decode(
        column c: Driftwatch_V1_Column, config: ProfileConfig
    ) throws(ProfileError)
        -> ColumnProfile
    {
        func bad(_ reason: String) -> ProfileError {
            .malformed(format: "native", at: headerSize, "column '\(c.name)': \(reason)")
        }
        // Every count is bounded so that the sums below cannot overflow.
        let limit = Int64(1) << 56
        let counts = [c.count, c.nullCount, c.nanCount, c.positiveInfCount, c.negativeInfCount, c.trueCount]
        guard counts.allSatisfy({ (0...limit).contains($0) }) else { throw bad("a count is negative or above 2^56") }
        let types = TypeCounts(
            integral: c.types.integral, fractional: c.types.fractional, boolean: c.types.boolean,
            string: c.types.string, other: c.types.other)
        guard
            [types.integral, types.fractional, types.boolean, types.string, types.other].allSatisfy({
                (0...limit).contains($0)
            })
        else { throw bad("a type count is negative or above 2^56") }
        guard c.nanCount <= c.nullCount, types.total + c.nullCount <= c.count,
            c.trueCount <= types.boolean, c.positiveInfCount + c.negativeInfCount <= types.fractional
        else {
            throw bad(
                "counts are inconsistent (count \(c.count), null \(c.nullCount), nan \(c.nanCount), typed \(types.total))"
            )
        }
        var column = ColumnProfile(config: config)
        column.count = c.count
        column.nullCount = c.nullCount
        column.nanCount = c.nanCount
        column.positiveInfCount = c.positiveInfCount
        column.negativeInfCount = c.negativeInfCount
        column.trueCount = c.trueCount
        column.types = types
        if c.hasNumeric {
            let n = c.numeric
            let kll = try sketch(n.kll, column: c.name, field: "numeric.kll")
            let m = try moments(n.moments, "column '\(c.name)' numeric.moments")
            guard kll.count == UInt64(m.count), m.count <= c.count else {
                throw bad("numeric sketch holds \(kll.count) values but the moments count \(m.count)")
            }
            guard n.min <= n.max || m.count == 0 else { throw bad("numeric min \(n.min) > max \(n.max)") }
            column.numeric = NumericSummary(
                kll: kll, min: n.min, max: n.max, integerMin: n.hasIntegerMin ? n.integerMin : nil,
                integerMax: n.hasIntegerMax ? n.integerMax : nil, moments: m)
        }
        do {
            if !c.hll.isEmpty {
                column.cardinality = try HLLSketch(serialized: Array(c.hll))
            }
        } catch {
            throw .sketch(column: c.name, field: "hll", error)
        }
        if !c.frequentItems.isEmpty {
            do {
                column.frequentItems = try FrequentStringsSketch(
                    serialized: Array(c.frequentItems), lgMaxMapSizeLimit: FrequentStringsSketch.maxLgMaxMapSize)
            } catch {
                throw .sketch(column: c.name, field: "frequent_items", error)
            }
        }
        if c.hasStringLengths {
            let s = c.stringLengths
            guard s.count <= types.string,
                let lengths = StringLengthSummary(
                    count: s.count, min: s.min, max: s.max, sum: s.sum, sumOfSquares: s.sumOfSquares)
            else {
                throw bad(
                    "string_lengths are inconsistent (count \(s.count), min \(s.min), max \(s.max), sum \(s.sum))")
            }
            column.stringLengths = lengths
        }
        return column
    }

    private static func decode(_ m: Driftwatch_V1_Classification) throws(ProfileError) -> ClassificationProfile {
        func bad(_ reason: String) -> ProfileError {
            .malformed(format: "native", at: headerSize, "performance.classification: \(reason)")
        }
        let n = m.labels.count
        guard (2...4096).contains(Int(m.maxLabels)), n <= Int(m.maxLabels) else {
            throw bad("\(n) labels with max_labels \(m.maxLabels)")
        }
        guard (8...65535).contains(Int(m.kllK)) else { throw bad("kll_k \(m.kllK) out of range 8...65535") }
        guard m.matrix.count == n * n else { throw bad("matrix has \(m.matrix.count) cells for \(n) labels") }
        guard m.scoresByTrueClass.count == n else {
            throw bad("\(m.scoresByTrueClass.count) score sketches for \(n) labels")
        }
        guard m.matrix.allSatisfy({ $0 >= 0 }), m.count >= 0, m.overflowCount >= 0, m.logLossCount >= 0 else {
            throw bad("a count is negative")
        }
        let matrix = (0..<n).map { row in Array(m.matrix[(row * n)..<(row * n + n)]) }
        var scores: [KLLSketch<Double>?] = []
        for (i, data) in m.scoresByTrueClass.enumerated() {
            if data.isEmpty {
                scores.append(nil)
            } else {
                scores.append(try sketch(data, column: "(performance)", field: "scores[\(m.labels[i])]"))
            }
        }
        do {
            return try ClassificationProfile(
                maxLabels: Int(m.maxLabels), kllK: Int(m.kllK), labels: m.labels, matrix: matrix,
                scoresByTrueClass: scores, count: m.count, overflowCount: m.overflowCount, logLossSum: m.logLossSum,
                logLossCount: m.logLossCount)
        } catch {
            throw bad("\(error)")
        }
    }

    private static func decode(_ m: Driftwatch_V1_Regression) throws(ProfileError) -> RegressionProfile {
        guard m.count >= 0 else {
            throw .malformed(format: "native", at: headerSize, "performance.regression: count \(m.count) is negative")
        }
        let residuals = try sketch(m.residuals, column: "(performance)", field: "regression.residuals")
        return RegressionProfile(
            count: m.count, sumError: m.sumError, sumAbsoluteError: m.sumAbsoluteError,
            sumSquaredError: m.sumSquaredError, residuals: residuals,
            target: try moments(m.target, "performance.regression.target"),
            prediction: try moments(m.prediction, "performance.regression.prediction"))
    }
}

extension HLLTargetType {
    /// 4, 6 or 8.
    public var bitsPerBucket: UInt32 {
        switch self {
        case .hll4: return 4
        case .hll6: return 6
        case .hll8: return 8
        }
    }

    public init?(bitsPerBucket: UInt32) {
        switch bitsPerBucket {
        case 4: self = .hll4
        case 6: self = .hll6
        case 8: self = .hll8
        default: return nil
        }
    }
}
