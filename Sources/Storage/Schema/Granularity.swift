/// The time buckets rollups and metrics are kept at: UTC hours and UTC days.
///
/// A raw profile belongs to the bucket that contains its window's start; a profile whose
/// window is longer than the bucket is attributed to that bucket as a whole.
public enum Granularity: String, CaseIterable, Sendable, Comparable {
    case hour
    case day

    /// The bucket length in milliseconds.
    public var milliseconds: Int64 {
        switch self {
        case .hour: 3_600_000
        case .day: 86_400_000
        }
    }

    /// The start of the bucket containing `milliseconds` (floored, also before 1970).
    public func bucketStart(containing milliseconds: Int64) -> Int64 {
        RFC3339.floorDivide(milliseconds, self.milliseconds).quotient * self.milliseconds
    }

    public static func < (a: Granularity, b: Granularity) -> Bool { a.milliseconds < b.milliseconds }
}
