import DriftTestSupport
import Foundation
import HummingbirdTesting
import Logging
import Profiles
import Shipping
import Storage
import Synchronization
import Testing

/// `DriftMonitor` (the embedded profiler, spool and libcurl shipper) against the real daemon:
/// every logged row arrives in the rollups, and a retried upload is not counted twice.
@Suite(.serialized) struct ShippingEndToEndTests {
    final class TestClock: Sendable {
        let now = Atomic<Int64>(IngestTests.base)
        func read() -> Int64 { now.load(ordering: .relaxed) }
    }

    @Test func monitorShipsEveryRowToDriftServe() async throws {
        let server = try await ServerHarness.make("shipping")
        let token = try await server.token(project: "acme", scopes: [.ingest])
        let spool = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: spool) }
        let clock = TestClock()
        try await server.run { client in
            var logger = Logger(label: "drift.test.shipping")
            logger.logLevel = .critical
            let monitor = try DriftMonitor(
                DriftMonitorConfiguration(
                    model: "fraud", segmentKeys: ["region"], windowLength: .seconds(60),
                    serverURL: "http://127.0.0.1:\(client.port ?? 0)", token: token, spoolDirectory: spool.path),
                logger: logger, clock: { clock.read() })
            // Three minutes of traffic in two regions, with latencies.
            for i in 0..<600 {
                let at = IngestTests.base + Int64(i) * 300
                monitor.log(
                    [
                        "amount": .double(Double(i % 97)), "country": .string(i % 3 == 0 ? "DE" : "FR"),
                        "region": .string(i % 2 == 0 ? "eu" : "us"),
                    ], at: at)
                monitor.logLatency(milliseconds: Double(i % 50), at: at)
            }
            clock.now.store(IngestTests.base + 3_600_000, ordering: .relaxed)
            let report = await monitor.shutdown(deadline: .seconds(20))
            #expect(report.remaining == 0 && !report.deadlineReached, "\(report) \(monitor.statistics)")
            // Nothing may have been set aside as rejected by the server; show why if it was.
            let rejected = spool.appendingPathComponent("rejected")
            let reasons = ((try? FileManager.default.contentsOfDirectory(atPath: rejected.path)) ?? [])
                .filter { $0.hasSuffix(".reason.json") }
                .map { (try? String(contentsOf: rejected.appendingPathComponent($0), encoding: .utf8)) ?? $0 }
            #expect(reasons.isEmpty, "\(reasons)")
            try await server.waitForRollups()
        }
        let rows = try await server.scalar(
            Int64.self, "SELECT sum(row_count)::int8 FROM rollups WHERE granularity = 'hour'")
        #expect(rows == 600)
        let segments = try await server.scalar(Int.self, "SELECT count(DISTINCT segment)::int FROM streams")
        #expect(segments == 3)  // region=eu, region=us, and the latency block (whole traffic)
        #expect(
            try await server.scalar(Int.self, "SELECT count(*) FROM raw_profiles WHERE rollup_error IS NOT NULL") == 0)
    }
}
