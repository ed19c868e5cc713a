public import Profiles

/// Test profiles whose counts are easy to check after merging: a latency block with a known
/// request count (and optionally numeric columns).
public enum TestProfiles {
    public static let minute: Int64 = 60_000
    public static let hour: Int64 = 3_600_000
    public static let day: Int64 = 86_400_000

    /// A profile of `requests` requests in `[windowStart, windowStart + windowLength)`.
    public static func latency(
        model: String = "fraud", segment: Segment = .all, windowStart: Int64, windowLength: Int64 = 10 * minute,
        requests: Int, random: inout SeededRandom
    ) -> DatasetProfile {
        var latency = LatencyProfile()
        for _ in 0..<requests {
            latency.update(milliseconds: Double(random.next() % 200), failed: random.next() % 10 == 0)
        }
        return DatasetProfile(
            model: model, segment: segment, windowStart: windowStart, windowLength: windowLength,
            uploadID: UploadID.random(using: &random), createdAt: windowStart + windowLength, latency: latency)
    }

    /// A profile with `columns` numeric columns of `rows` rows each.
    public static func columns(
        model: String = "fraud", columns: Int, rows: Int, windowStart: Int64, windowLength: Int64 = minute,
        random: inout SeededRandom
    ) -> DatasetProfile {
        var profile = DatasetProfile(
            model: model, windowStart: windowStart, windowLength: windowLength,
            uploadID: UploadID.random(using: &random))
        for c in 0..<columns {
            var column = ColumnProfile()
            for _ in 0..<rows { column.update(double: Double(random.next() % 10_000) / 7) }
            profile.columns["feature_\(c)"] = column
        }
        return profile
    }

    public static func bytes(_ profile: DatasetProfile) -> [UInt8] { NativeCodec.encode(profile) }

    /// Whether profiles with columns survive an encode/decode round trip. They do not while
    /// the HLL sketch is the local stand-in, whose images do not decode.
    public static let columnsRoundTrip: Bool = {
        var rng = SeededRandom(seed: 1)
        let profile = columns(columns: 1, rows: 10, windowStart: 0, random: &rng)
        return (try? NativeCodec.decode(NativeCodec.encode(profile))) != nil
    }()
}
