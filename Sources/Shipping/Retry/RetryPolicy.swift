#if canImport(Glibc)
    internal import Glibc
#elseif canImport(Darwin)
    internal import Darwin
#endif

/// What to do with an upload after one attempt.
public enum UploadDisposition: Sendable, Equatable {
    /// 2xx: the server has the profile; delete it from the spool.
    case delivered
    /// Network error, 5xx, 408 or 429: try again after `after`.
    case retry(after: Duration)
    /// Any other status (4xx, and 1xx/3xx which an upload never expects): the server will not
    /// accept these bytes; move them to `rejected/` with `message`.
    case reject(message: String)
}

/// Exponential backoff with full jitter, and the status classification of uploads.
///
/// The n-th consecutive failure waits a uniformly random time in
/// `[0, min(maxDelay, initialDelay · 2^(n-1))]` ("full jitter", from Marc Brooker, *Exponential
/// Backoff And Jitter*, AWS Architecture Blog, 2015), so that many edges recovering from the
/// same outage do not retry in step. A `Retry-After` from the server is a floor: the wait is
/// never shorter than what the server asked (capped at ``maxRetryAfter``).
///
/// Pure: time and randomness are arguments.
public struct RetryPolicy: Sendable, Equatable {
    /// Upper bound of the first wait. Default 1 s.
    public var initialDelay: Duration
    /// Largest wait between attempts, jitter included. Default 5 minutes.
    public var maxDelay: Duration
    /// The longest `Retry-After` obeyed; longer requests are cut to this. Default 1 hour.
    public var maxRetryAfter: Duration

    public init(
        initialDelay: Duration = .seconds(1), maxDelay: Duration = .seconds(300),
        maxRetryAfter: Duration = .seconds(3600)
    ) {
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
        self.maxRetryAfter = maxRetryAfter
    }

    /// The wait after the `failures`-th consecutive failure (1 for the first).
    public func delay(
        afterFailures failures: Int, retryAfter: Duration? = nil, using generator: inout some RandomNumberGenerator
    ) -> Duration {
        let exponent = Swift.min(Swift.max(failures, 1) - 1, 40)
        let ceiling = Swift.min(maxDelay, initialDelay * Double(UInt64(1) << UInt64(exponent)))
        let ceilingSeconds = ceiling.seconds
        let jittered = Duration.seconds(
            ceilingSeconds > 0 ? Double.random(in: 0...ceilingSeconds, using: &generator) : 0)
        guard let retryAfter else { return jittered }
        return Swift.max(Swift.min(retryAfter, maxRetryAfter), jittered)
    }

    /// The disposition of a response (`nowMilliseconds` is for `Retry-After` given as a date).
    public func disposition(
        of response: HTTPResponse, failures: Int, nowMilliseconds: Int64,
        using generator: inout some RandomNumberGenerator
    ) -> UploadDisposition {
        switch response.status {
        case 200..<300:
            return .delivered
        case 408, 429, 500..<600:
            let retryAfter = response.header("retry-after").flatMap {
                Self.parseRetryAfter($0, nowMilliseconds: nowMilliseconds)
            }
            return .retry(after: delay(afterFailures: failures, retryAfter: retryAfter, using: &generator))
        default:
            return .reject(message: ServerError.message(of: response))
        }
    }

    /// Parses a `Retry-After` value: delta-seconds, or an HTTP-date (IMF-fixdate, RFC 850 or
    /// asctime form; RFC 9110 §10.2.3 and §5.6.7). A date in the past gives zero. Returns nil
    /// for anything else.
    public static func parseRetryAfter(_ value: String, nowMilliseconds: Int64) -> Duration? {
        let text = value.trimmingWhitespace()
        if !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            guard let seconds = Int64(text) else { return .seconds(Int64.max / 1_000_000_000) }  // absurdly large
            return .seconds(seconds)
        }
        guard let epochSeconds = parseHTTPDate(text) else { return nil }
        return .milliseconds(Swift.max(0, epochSeconds * 1000 - nowMilliseconds))
    }

    /// Seconds since the epoch of an HTTP-date, or nil.
    static func parseHTTPDate(_ text: String) -> Int64? {
        let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        // Splitting on space, comma, dash and colon turns each form into a fixed list of words:
        //   IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT"   -> sun 06 nov 1994 08 49 37 gmt
        //   RFC 850     "Sunday, 06-Nov-94 08:49:37 GMT"  -> sunday 06 nov 94 08 49 37 gmt
        //   asctime     "Sun Nov  6 08:49:37 1994"        -> sun nov 6 08 49 37 1994
        let t = text.lowercased().split { $0 == " " || $0 == "," || $0 == "-" || $0 == ":" }.map(String.init)
        let dayText: String
        let monthText: String
        let yearText: String
        let clockText: ArraySlice<String>
        if t.count == 8, t[7] == "gmt" {
            (dayText, monthText, yearText, clockText) = (t[1], t[2], t[3], t[4...6])
        } else if t.count == 7 {
            (monthText, dayText, clockText, yearText) = (t[1], t[2], t[3...5], t[6])
        } else {
            return nil
        }
        guard let month = months.firstIndex(of: monthText), let day = Int(dayText), (1...31).contains(day),
            var year = Int(yearText), yearText.count == 4 || yearText.count == 2
        else { return nil }
        if yearText.count == 2 { year += year < 70 ? 2000 : 1900 }  // RFC 850's two-digit year (RFC 9110 §5.6.7)
        let clock = clockText.compactMap { $0.count == 2 ? Int($0) : nil }
        guard clock.count == 3, clock[0] < 24, clock[1] < 60, clock[2] <= 60 else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(clock[0])
        parts.tm_min = Int32(clock[1])
        parts.tm_sec = Int32(clock[2])
        return Int64(timegm(&parts))
    }
}

extension Duration {
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
