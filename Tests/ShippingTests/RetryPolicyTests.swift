import Shipping
import Testing

@Suite struct RetryPolicyTests {
    @Test func statusesMapToDispositions() {
        let policy = RetryPolicy()
        var random = SeededRandom(seed: 1)
        let cases: [(status: Int, expected: String)] = [
            (200, "delivered"), (202, "delivered"), (204, "delivered"),
            (408, "retry"),  // request timeout: the server asks to try again
            (429, "retry"),  // rate limited
            (500, "retry"), (502, "retry"), (503, "retry"), (504, "retry"),
            (400, "reject"),  // malformed profile: resending the same bytes cannot help
            (401, "reject"), (403, "reject"), (404, "reject"), (413, "reject"), (422, "reject"),
            (302, "reject"),  // a redirect is not followed: the configured URL is wrong
        ]
        for (status, expected) in cases {
            let got = policy.disposition(
                of: HTTPResponse(status: status), failures: 1, nowMilliseconds: 0, using: &random)
            let name: String
            switch got {
            case .delivered: name = "delivered"
            case .retry: name = "retry"
            case .reject: name = "reject"
            }
            #expect(name == expected, "status \(status)")
        }
    }

    @Test func rejectionCarriesTheServersMessage() {
        var random = SeededRandom(seed: 2)
        let body = Array(#"{"error":{"code":"bad_profile","message":"column 'x': KLL k=0 out of range"}}"#.utf8)
        let got = RetryPolicy().disposition(
            of: HTTPResponse(status: 400, body: body), failures: 1, nowMilliseconds: 0, using: &random)
        #expect(got == .reject(message: "HTTP 400 bad_profile: column 'x': KLL k=0 out of range"))
        let plain = RetryPolicy().disposition(
            of: HTTPResponse(status: 404, body: Array("no such\nroute".utf8)), failures: 1, nowMilliseconds: 0,
            using: &random)
        #expect(plain == .reject(message: "HTTP 404: no such route"))
    }

    @Test func parsesRetryAfterSecondsAndDates() {
        // 1994-11-06T08:49:37Z = 784111777 s, the example of RFC 9110 §5.6.7.
        let now: Int64 = 784_111_777_000 - 30_000
        let cases: [(String, Duration?)] = [
            ("120", .seconds(120)),
            (" 0 ", .seconds(0)),
            ("Sun, 06 Nov 1994 08:49:37 GMT", .seconds(30)),  // IMF-fixdate
            ("Sunday, 06-Nov-94 08:49:37 GMT", .seconds(30)),  // RFC 850
            ("Sun Nov  6 08:49:37 1994", .seconds(30)),  // asctime
            ("Sat, 05 Nov 1994 08:49:37 GMT", .seconds(0)),  // in the past: retry now
            ("soon", nil), ("-5", nil), ("1.5", nil), ("", nil),
            ("Sun, 32 Nov 1994 08:49:37 GMT", nil),  // no such day
        ]
        for (text, expected) in cases {
            #expect(RetryPolicy.parseRetryAfter(text, nowMilliseconds: now) == expected, "'\(text)'")
        }
    }

    @Test func backoffIsJitteredUnderAnExponentialCeiling() {
        let policy = RetryPolicy(initialDelay: .milliseconds(100), maxDelay: .seconds(2))
        var random = SeededRandom(seed: 42)
        for failures in 1...12 {
            let ceiling = min(Duration.seconds(2), .milliseconds(100) * (1 << (failures - 1)))
            var seen: [Duration] = []
            for _ in 0..<200 {
                let delay = policy.delay(afterFailures: failures, using: &random)
                #expect(delay >= .zero && delay <= ceiling, "failures \(failures): \(delay) (seed 42)")
                seen.append(delay)
            }
            // Full jitter spreads over the whole range, not just near the ceiling.
            #expect(seen.min()! < ceiling / 4 && seen.max()! > ceiling * 3 / 4, "failures \(failures) (seed 42)")
        }
    }

    @Test func retryAfterIsAFloorCappedByMaxRetryAfter() {
        let policy = RetryPolicy(
            initialDelay: .milliseconds(10), maxDelay: .milliseconds(50), maxRetryAfter: .seconds(60))
        var random = SeededRandom(seed: 7)
        for _ in 0..<100 {
            #expect(policy.delay(afterFailures: 1, retryAfter: .seconds(3), using: &random) == .seconds(3))
            #expect(policy.delay(afterFailures: 1, retryAfter: .seconds(86_400), using: &random) == .seconds(60))
        }
        let response = HTTPResponse(status: 429, headers: ["retry-after": "7"])
        #expect(
            policy.disposition(of: response, failures: 1, nowMilliseconds: 0, using: &random)
                == .retry(after: .seconds(7)))
    }
}
