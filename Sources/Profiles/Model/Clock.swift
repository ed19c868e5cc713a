#if canImport(Glibc)
    internal import Glibc
#elseif canImport(Darwin)
    internal import Darwin
#endif

/// Wall-clock time in milliseconds since the Unix epoch.
public enum Clock {
    public static func nowMilliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}

/// Durations as people write them in flags, configuration and rule files: a whole number and a
/// unit, `500ms`, `30s`, `5m`, `1h`, `7d`, `2w`.
public enum Durations {
    /// Milliseconds, or nil when `text` is not such a duration (or overflows). `0s` is valid;
    /// callers that need a positive span check for it.
    public static func milliseconds(_ text: String) -> Int64? {
        let units: [(String, Int64)] = [
            ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000), ("w", 604_800_000),
        ]
        for (suffix, unit) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count)
            // "5ms" also ends in "s": only a plain number before the unit counts.
            guard !number.isEmpty, number.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int64(number) else {
                continue
            }
            let (product, overflow) = n.multipliedReportingOverflow(by: unit)
            return overflow ? nil : product
        }
        return nil
    }
}
