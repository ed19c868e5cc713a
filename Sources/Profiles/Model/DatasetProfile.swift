/// A segment: the key/value tags that select a slice of the traffic (e.g. `region=eu`). The
/// empty segment is the whole traffic. Tags are kept sorted by key.
public struct Segment: Sendable, Hashable, CustomStringConvertible, Comparable {
    public private(set) var tags: [(key: String, value: String)]

    public init(_ tags: [String: String] = [:]) {
        self.tags = tags.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) }
    }

    public static let all = Segment()

    public var isAll: Bool { tags.isEmpty }

    public subscript(key: String) -> String? {
        tags.first { $0.key == key }?.value
    }

    /// `key=value,key=value` (sorted), or `*` for the whole traffic.
    public var description: String {
        tags.isEmpty ? "*" : tags.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    /// The tags both segments share with the same value: the segment a merge of their
    /// profiles describes.
    public func intersection(_ other: Segment) -> Segment {
        var shared: [String: String] = [:]
        for (key, value) in tags where other[key] == value { shared[key] = value }
        return Segment(shared)
    }

    public static func == (a: Segment, b: Segment) -> Bool {
        a.tags.count == b.tags.count && zip(a.tags, b.tags).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(tags.count)
        for tag in tags {
            hasher.combine(tag.key)
            hasher.combine(tag.value)
        }
    }

    public static func < (a: Segment, b: Segment) -> Bool {
        a.description < b.description
    }
}

/// A 128-bit random identifier of one profile upload: the server ingests each id once, so a
/// retried upload is not counted twice. Printed as a lowercase UUID (version 4 layout).
public struct UploadID: Sendable, Hashable, CustomStringConvertible {
    public let high: UInt64
    public let low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// A new random (version 4) id from the system's cryptographic generator.
    public static func random() -> UploadID {
        var generator = SystemRandomNumberGenerator()
        return random(using: &generator)
    }

    public static func random(using generator: inout some RandomNumberGenerator) -> UploadID {
        let high = (generator.next() & ~0xF000) | 0x4000  // version 4
        let low = (generator.next() & ~(0b11 << 62)) | (0b10 << 62)  // RFC 4122 variant
        return UploadID(high: high, low: low)
    }

    /// Parses `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (either case).
    public init?(_ text: String) {
        let hex = text.utf8.filter { $0 != UInt8(ascii: "-") }
        guard text.utf8.count == 36, hex.count == 32 else { return nil }
        let dashes = [8, 13, 18, 23]
        for (i, byte) in text.utf8.enumerated() where (byte == UInt8(ascii: "-")) != dashes.contains(i) {
            return nil
        }
        guard let high = UInt64(String(decoding: hex[0..<16], as: UTF8.self), radix: 16),
            let low = UInt64(String(decoding: hex[16..<32], as: UTF8.self), radix: 16)
        else { return nil }
        self.init(high: high, low: low)
    }

    public var description: String {
        func hex(_ v: UInt64, _ digits: Int) -> String {
            let s = String(v, radix: 16)
            return String(repeating: "0", count: digits - s.count) + s
        }
        let h = hex(high, 16)
        let l = hex(low, 16)
        return "\(h.prefix(8))-\(h.dropFirst(8).prefix(4))-\(h.suffix(4))-\(l.prefix(4))-\(l.suffix(12))"
    }
}

/// A profile of one model's traffic over one time window and segment: the unit the Profiler
/// produces, the server stores and everything downstream merges.
///
/// Times are milliseconds since the Unix epoch (event time). A window is
/// `[windowStart, windowStart + windowLength)`; a profile of a file without timestamps has
/// `windowLength == 0`.
public struct DatasetProfile: Sendable {
    public var model: String
    public var modelVersion: String?
    public var segment: Segment
    public var windowStart: Int64
    public var windowLength: Int64
    public var uploadID: UploadID
    /// When the profile was created (processing time, ms since the epoch).
    public var createdAt: Int64
    public var config: ProfileConfig
    public var columns: [String: ColumnProfile]
    public var performance: PerformanceProfile?
    public var latency: LatencyProfile?
    /// Free-form string metadata carried through (e.g. whylogs' metadata, the producer name).
    public var metadata: [String: String]

    public init(
        model: String, modelVersion: String? = nil, segment: Segment = .all, windowStart: Int64 = 0,
        windowLength: Int64 = 0, uploadID: UploadID = .random(), createdAt: Int64 = Clock.nowMilliseconds(),
        config: ProfileConfig = .default, columns: [String: ColumnProfile] = [:],
        performance: PerformanceProfile? = nil, latency: LatencyProfile? = nil, metadata: [String: String] = [:]
    ) {
        self.model = model
        self.modelVersion = modelVersion
        self.segment = segment
        self.windowStart = windowStart
        self.windowLength = windowLength
        self.uploadID = uploadID
        self.createdAt = createdAt
        self.config = config
        self.columns = columns
        self.performance = performance
        self.latency = latency
        self.metadata = metadata
    }

    public var windowEnd: Int64 { windowStart + windowLength }

    /// Rows in the profile: the largest column count (every logged row counts once in each of
    /// its columns; a column missing from some rows has a smaller count).
    public var rowCount: Int64 { columns.values.reduce(0) { Swift.max($0, $1.count) } }

    /// The column names in sorted order.
    public var columnNames: [String] { columns.keys.sorted() }

    /// Merges another profile of the same model into this one.
    ///
    /// - The window becomes the smallest window covering both (a rollup of minutes into an
    ///   hour covers the hour); profiles without a window (length 0) do not widen it.
    /// - The segment becomes the tags both share (merging `region=eu` and `region=us` gives the
    ///   whole traffic).
    /// - The model version is kept when equal, otherwise dropped.
    /// - Columns merge by name; a column present in one profile only is kept as is.
    /// - A new upload id is *not* drawn: the merged profile keeps this one's id. Callers that
    ///   upload a merge give it a new id.
    /// - Throws: ``ProfileError/incompatible(_:)`` for different models or performance tasks.
    public mutating func merge(_ other: DatasetProfile) throws(ProfileError) {
        guard model == other.model else {
            throw .incompatible("model '\(other.model)' differs from '\(model)'")
        }
        if let theirs = other.performance {
            if performance == nil {
                performance = theirs
            } else {
                try performance!.merge(theirs)
            }
        }
        if modelVersion != other.modelVersion { modelVersion = nil }
        segment = segment.intersection(other.segment)
        switch (windowLength > 0, other.windowLength > 0) {
        case (true, true):
            let end = Swift.max(windowEnd, other.windowEnd)
            windowStart = Swift.min(windowStart, other.windowStart)
            windowLength = end - windowStart
        case (false, true):
            windowStart = other.windowStart
            windowLength = other.windowLength
        default: break
        }
        createdAt = Swift.max(createdAt, other.createdAt)
        for (name, column) in other.columns {
            if columns[name] == nil {
                columns[name] = column
            } else {
                columns[name]!.merge(column)
            }
        }
        if let theirs = other.latency {
            if latency == nil {
                latency = theirs
            } else {
                latency!.merge(theirs)
            }
        }
        for (key, value) in other.metadata where metadata[key] == nil { metadata[key] = value }
    }

    /// The merge of two profiles (see ``merge(_:)``).
    public func merging(_ other: DatasetProfile) throws(ProfileError) -> DatasetProfile {
        var copy = self
        try copy.merge(other)
        return copy
    }
}
