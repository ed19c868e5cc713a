import Foundation
import MetricsTestKit
import Profiles
import Shipping
import Synchronization
import Testing

/// The shipper against a real HTTP listener on 127.0.0.1 that fails in scripted ways.
@Suite struct ShipperTests {
    /// Short backoffs so that outages of a second are retried many times.
    static func configuration(_ url: String, _ dir: String, limits: SpoolLimits = .init()) -> ShipperConfiguration {
        ShipperConfiguration(
            serverURL: url, token: "t0ken", spoolDirectory: dir, spoolLimits: limits,
            retry: RetryPolicy(initialDelay: .milliseconds(20), maxDelay: .milliseconds(200)),
            http: HTTPUploaderConfiguration(connectTimeout: .seconds(2), totalTimeout: .seconds(5)),
            tickInterval: .milliseconds(50))
    }

    @Test func aServerDownForAWhileGetsEveryProfileExactlyOnce() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try TestHTTPServer()
        let port = server.port
        server.stop()
        let shipper = try Shipper(configuration: Self.configuration(server.url, dir), logger: quietLogger)
        let profiles = (0..<6).map { sampleProfile(window: $0) }
        for profile in profiles { shipper.enqueue(profile) }
        #expect(await eventually { shipper.statistics.retried >= 3 && shipper.statistics.spoolFiles == 6 })
        try server.start(port: port)
        #expect(await eventually { shipper.statistics.shipped == 6 })
        let report = await shipper.shutdown(deadline: .seconds(2))
        #expect(report.remaining == 0)
        #expect(Set(server.committed.keys) == Set(profiles.map(\.uploadID.description)))
        #expect(try totalRows(server.committed.values) == 60)
        // Spooled files were sent in order.
        #expect(server.requests.compactMap { $0.headers["idempotency-key"] } == profiles.map(\.uploadID.description))
        #expect(server.requests.allSatisfy { $0.headers["authorization"] == "Bearer t0ken" })
        #expect(files(in: dir).filter { $0.hasSuffix(".dwp") }.isEmpty)
    }

    @Test func fiveHundredsAreRetriedUntilAccepted() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try TestHTTPServer()
        defer { server.stop() }
        server.behave { _, index in index < 3 ? .error(status: 500, code: "internal", message: "db down") : .accept }
        let shipper = try Shipper(configuration: Self.configuration(server.url, dir), logger: quietLogger)
        shipper.enqueue(sampleProfile(window: 0))
        shipper.enqueue(sampleProfile(window: 1))
        #expect(await eventually { shipper.statistics.shipped == 2 })
        #expect(shipper.statistics.retried == 3)
        #expect(server.committed.count == 2)
        _ = await shipper.shutdown(deadline: .seconds(1))
    }

    @Test func tooManyRequestsWaitsForRetryAfter() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try TestHTTPServer()
        defer { server.stop() }
        server.behave { _, index in
            index == 0
                ? .error(status: 429, code: "rate_limited", message: "later", headers: [("Retry-After", "1")]) : .accept
        }
        let shipper = try Shipper(configuration: Self.configuration(server.url, dir), logger: quietLogger)
        shipper.enqueue(sampleProfile(window: 0))
        #expect(await eventually { shipper.statistics.shipped == 1 })
        let times = server.requests.map(\.receivedAt)
        #expect(times.count == 2)
        // Without Retry-After the backoff would be at most 20 ms.
        #expect(times[1] - times[0] >= .milliseconds(990), "\(times[1] - times[0])")
        _ = await shipper.shutdown(deadline: .seconds(1))
    }

    @Test func aLostResponseIsNotCountedTwice() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try TestHTTPServer()
        defer { server.stop() }
        // The server commits the first upload, then the connection drops before the answer.
        server.behave { _, index in index == 0 ? .commitAndDrop : .accept }
        let shipper = try Shipper(configuration: Self.configuration(server.url, dir), logger: quietLogger)
        let profile = sampleProfile(window: 0)
        shipper.enqueue(profile)
        #expect(await eventually { shipper.statistics.shipped == 1 })
        #expect(server.requests.count == 2)
        #expect(server.requests.allSatisfy { $0.headers["idempotency-key"] == profile.uploadID.description })
        #expect(server.committed.count == 1)
        #expect(shipper.statistics.duplicates == 1)  // the second answer said duplicate: true
        _ = await shipper.shutdown(deadline: .seconds(1))
    }

    @Test func aBadRequestGoesToRejectedWithTheMessage() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try TestHTTPServer()
        defer { server.stop() }
        server.behave { _, index in
            index == 0 ? .error(status: 400, code: "bad_profile", message: "profile has no model") : .accept
        }
        let shipper = try Shipper(configuration: Self.configuration(server.url, dir), logger: quietLogger)
        shipper.enqueue(sampleProfile(window: 0))
        shipper.enqueue(sampleProfile(window: 1))
        #expect(await eventually { shipper.statistics.shipped == 1 && shipper.statistics.rejected == 1 })
        let rejected = files(in: dir + "/rejected")
        #expect(rejected.count == 2)
        let reason = try String(
            contentsOfFile: dir + "/rejected/" + rejected.first { $0.hasSuffix(".json") }!, encoding: .utf8)
        #expect(reason.contains("HTTP 400 bad_profile: profile has no model"))
        #expect(server.requests.count == 2)  // the rejected one is not retried
        _ = await shipper.shutdown(deadline: .seconds(1))
    }

    @Test func aRestartSendsWhatTheSpoolHolds() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A previous process spooled three profiles and died before uploading them.
        let profiles = (0..<3).map { sampleProfile(window: $0) }
        do {
            let spool = try Spool(directory: dir)
            for profile in profiles { try spool.add(profile) }
        }
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: dir + "/000000000099_0_300000_00000000000000aa.dwp"))
        let server = try TestHTTPServer()
        defer { server.stop() }
        let shipper = try Shipper(configuration: Self.configuration(server.url, dir), logger: quietLogger)
        #expect(await eventually { shipper.statistics.shipped == 3 })
        #expect(Set(server.committed.keys) == Set(profiles.map(\.uploadID.description)))
        #expect(shipper.statistics.quarantined == 1)
        #expect(files(in: dir + "/corrupt").count == 1)
        _ = await shipper.shutdown(deadline: .seconds(1))
    }

    @Test func anUploadCutShortByShutdownIsResentOnceAfterRestart() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try TestHTTPServer()
        defer { server.stop() }
        // The server commits, but answers only after the process is gone.
        let hanging = Atomic<Bool>(true)
        server.behave { _, _ in hanging.load(ordering: .relaxed) ? .slow(seconds: 20, then: .accept) : .accept }
        let first = try Shipper(configuration: Self.configuration(server.url, dir), logger: quietLogger)
        let profile = sampleProfile(window: 0)
        first.enqueue(profile)
        #expect(await eventually { server.requests.count >= 1 })
        let report = await first.shutdown(deadline: .milliseconds(200))
        #expect(report.deadlineReached && report.shipped == 0)
        #expect(files(in: dir).filter { $0.hasSuffix(".dwp") }.count == 1)  // still spooled
        hanging.store(false, ordering: .relaxed)

        let second = try Shipper(configuration: Self.configuration(server.url, dir), logger: quietLogger)
        #expect(await eventually { second.statistics.shipped == 1 })
        #expect(server.committed.count == 1)
        #expect(server.requests.allSatisfy { $0.headers["idempotency-key"] == profile.uploadID.description })
        _ = await second.shutdown(deadline: .seconds(1))
        server.stop()  // ends the hanging handler's connection
    }

    @Test func theSpoolBoundHoldsUnderALongOutageMergingFirst() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try TestHTTPServer()
        let port = server.port
        server.stop()
        let metrics = TestMetrics()
        let shipper = try Shipper(
            configuration: Self.configuration(server.url, dir, limits: SpoolLimits(maxBytes: 1 << 30, maxFiles: 8)),
            logger: quietLogger, metricsFactory: metrics)
        // 36 five-minute windows: three hours of traffic while the server is away.
        for i in 0..<36 { shipper.enqueue(sampleProfile(window: i)) }
        #expect(await eventually { shipper.statistics.merged > 0 && shipper.statistics.spoolFiles <= 8 })
        #expect(await eventually { shipper.statistics.retried >= 1 })
        #expect(files(in: dir).filter { $0.hasSuffix(".dwp") }.count <= 8)
        #expect(shipper.statistics.dropped == 0)
        try server.start(port: port)
        #expect(await eventually { shipper.statistics.spoolFiles == 0 })
        // Every row arrived, in fewer, coarser profiles.
        #expect(try totalRows(server.committed.values) == 360)
        #expect(server.committed.count < 36)
        let stats = shipper.statistics
        #expect(metrics.counterTotal(label: "driftwatch_shipping_profiles_merged_total") == stats.merged)
        #expect(metrics.counterTotal(label: "driftwatch_shipping_profiles_shipped_total") == stats.shipped)
        #expect(metrics.counterTotal(label: "driftwatch_shipping_profiles_retried_total") == stats.retried)
        #expect(try metrics.expectGauge("driftwatch_shipping_spool_files").lastValue == 0)
        #expect(try metrics.expectGauge("driftwatch_shipping_last_success_timestamp_seconds").lastValue ?? 0 > 1.7e9)
        _ = await shipper.shutdown(deadline: .seconds(1))
    }

    /// The monitor's tick runs on the shipper's thread and may be closing a window just as
    /// `shutdown` begins; that window's profile must still reach the server (it once was
    /// refused as "arrived after shutdown" and lost).
    @Test func aProfileQueuedByTheTickDuringShutdownIsShipped() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try TestHTTPServer()
        defer { server.stop() }
        let box = Mutex<Shipper?>(nil)
        let inTick = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let armed = Atomic<Bool>(true)
        let late = sampleProfile(window: 7)
        let shipper = try Shipper(
            configuration: Self.configuration(server.url, dir), logger: quietLogger,
            tick: {
                guard armed.exchange(false, ordering: .relaxed) else { return }
                inTick.signal()
                release.wait()  // shutdown is requested meanwhile
                box.withLock { $0 }?.enqueue(late)
            })
        box.withLock { $0 = shipper }
        inTick.wait()
        let shutdown = Task { await shipper.shutdown(deadline: .seconds(5)) }
        try await Task.sleep(for: .milliseconds(100))
        release.signal()
        let report = await shutdown.value
        #expect(report.shipped == 1 && report.remaining == 0, "\(report)")
        #expect(Set(server.committed.keys) == [late.uploadID.description])
        box.withLock { $0 = nil }
    }

    /// `shutdown` right after a burst of windows (what `DriftMonitor.shutdown` does): profiles
    /// queued while the first ones were being written must all be sent, not left in memory.
    @Test func shutdownRightAfterABurstShipsEveryQueuedProfile() async throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        for round in 0..<16 {
            let dir = try temporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let shipper = try Shipper(configuration: Self.configuration(server.url, dir), logger: quietLogger)
            let profiles = (0..<12).map { sampleProfile(window: round * 100 + $0) }
            // The first wakes the shipper's thread, which starts writing it to disk while the
            // rest arrive and shutdown is requested.
            shipper.enqueue(profiles[0])
            usleep(UInt32(500 * (round % 4)))
            for profile in profiles.dropFirst() { shipper.enqueue(profile) }
            let report = await shipper.shutdown(deadline: .seconds(10))
            // The report counts the final round; the first may have gone before it.
            #expect(report.remaining == 0 && shipper.statistics.shipped == 12, "round \(round): \(report)")
            #expect(Set(profiles.map(\.uploadID.description)).isSubset(of: Set(server.committed.keys)))
        }
    }

    @Test func aBadConfigurationIsRefusedWithItsName() {
        #expect(throws: ShippingError.self) {
            try Shipper(configuration: ShipperConfiguration(serverURL: "drift.example.com", spoolDirectory: "/tmp/x"))
        }
        #expect(throws: ShippingError.self) {
            try Shipper(
                configuration: ShipperConfiguration(serverURL: "http://x", token: "a b", spoolDirectory: "/tmp/x"))
        }
    }
}
