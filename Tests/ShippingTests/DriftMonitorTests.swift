import Foundation
import MetricsTestKit
import Profiles
import Shipping
import Synchronization
import Testing

@Suite struct DriftMonitorTests {
    @Test func closedWindowsAreShippedAndShutdownShipsTheRest() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try TestHTTPServer()
        defer { server.stop() }
        let now = Atomic<Int64>(baseTime)
        var configuration = DriftMonitorConfiguration(
            model: "fraud", modelVersion: "7", segmentKeys: ["region"], windowLength: .seconds(60),
            serverURL: server.url + "/", token: "t", spoolDirectory: dir)
        configuration.shipping.tickInterval = .milliseconds(50)
        configuration.profiler.allowedLateness = 0
        let metrics = TestMetrics()
        let monitor = try DriftMonitor(configuration, logger: quietLogger, metricsFactory: metrics) {
            now.load(ordering: .relaxed)
        }

        // Minute 0: 30 rows in two regions; minute 1: 20 rows, an outcome and latencies.
        for i in 0..<30 { monitor.log(["amount": .double(Double(i)), "region": .string(i % 2 == 0 ? "eu" : "us")]) }
        now.store(baseTime + 60_000, ordering: .relaxed)
        for i in 0..<20 { monitor.log(["amount": .double(Double(i)), "region": .string("eu")]) }
        monitor.logOutcome(predicted: "fraud", actual: "ok", at: baseTime + 60_000, segment: Segment(["region": "eu"]))
        monitor.logLatency(milliseconds: 12, segment: Segment(["region": "eu"]))
        // The shipper's tick closes minute 0 (two segments) without more traffic.
        #expect(await eventually { server.committed.count == 2 })

        let report = await monitor.shutdown(deadline: .seconds(5))
        #expect(report.duration < .seconds(5))
        #expect(report.remaining == 0 && !report.deadlineReached)
        let profiles = try server.committed.values.map { try NativeCodec.decode($0) }
        #expect(profiles.count == 3)
        #expect(profiles.reduce(0) { $0 + ($1.columns["amount"]?.count ?? 0) } == 50)
        #expect(Set(profiles.map(\.segment.description)) == ["region=eu", "region=us"])
        #expect(profiles.allSatisfy { $0.model == "fraud" && $0.modelVersion == "7" })
        #expect(profiles.contains { $0.performance != nil && $0.latency?.requestCount == 1 })
        #expect(server.requests.allSatisfy { $0.path == "/v1/profiles" })
        #expect(
            metrics.counterTotal(label: "driftwatch_shipping_profiles_shipped_total", dimensions: [("model", "fraud")])
                == 3)
        // Logging after shutdown is harmless.
        monitor.log(["amount": .double(1)])
    }

    @Test func shutdownKeepsItsDeadlineWhenTheServerHangs() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try TestHTTPServer()
        defer { server.stop() }
        server.behave { _, _ in .slow(seconds: 5, then: .accept) }
        let monitor = try DriftMonitor(
            DriftMonitorConfiguration(model: "m", serverURL: server.url, spoolDirectory: dir), logger: quietLogger)
        monitor.log(["x": .int(1)])
        let report = await monitor.shutdown(deadline: .milliseconds(500))
        // Measured by the shipper: the test task itself may wait for a cooperative thread.
        #expect(report.duration < .milliseconds(700), "\(report.duration)")
        #expect(report.deadlineReached)
        #expect(report.remaining == 1)
        // The profile waits in the spool for the next start.
        #expect(try Spool(directory: dir).entries.count == 1)
    }
}
