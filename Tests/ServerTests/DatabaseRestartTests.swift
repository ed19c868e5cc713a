import DriftTestSupport
import Foundation
import HummingbirdTesting
import Logging
import Profiles
import Server
import Storage
import Testing

/// The daemon keeps running while its PostgreSQL restarts: uploads during the outage are
/// refused with 503 (so clients retry), nothing acknowledged is lost, and work resumes
/// without restarting the daemon.
@Suite(.serialized) struct DatabaseRestartTests {
    @Test func survivesPostgresRestart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "drift-pg-restart-\(UUID().uuidString)")
        let cluster = EmbeddedPostgres(configuration: .init(directory: directory.path))
        let conninfo = try cluster.start()
        defer {
            try? cluster.stop()
            try? FileManager.default.removeItem(at: directory)
        }
        var logger = Logger(label: "drift.test")
        logger.logLevel = .critical
        let components = try await DriftServer.prepare(
            configuration: ServerHarness.configuration(), conninfo: try cluster.ensureDatabase("restart_test"),
            logger: logger)
        _ = conninfo
        let server = ServerHarness(database: TestDatabase.unmanaged, components: components)
        let token = try await server.token(project: "acme")
        var random = SeededRandom(seed: 30)
        let profiles = (0..<40).map { i in
            TestProfiles.columns(
                model: "fraud", columns: 1, rows: 10, windowStart: IngestTests.base + Int64(i % 6) * 600_000,
                windowLength: 600_000, random: &random)
        }
        try await server.run { client in
            for p in profiles[0..<20] {
                #expect(try await client.upload(TestProfiles.bytes(p), token: token).status == .accepted)
            }
            try cluster.restart()
            var refused = 0
            for p in profiles[20...] {
                // A client retries 503s (the Shipping module does); the daemon must recover by
                // itself, without a restart.
                var attempts = 0
                while true {
                    attempts += 1
                    let response = try await client.upload(TestProfiles.bytes(p), token: token)
                    if response.status == .accepted { break }
                    #expect(response.status == .serviceUnavailable, "\(response.text)")
                    refused += 1
                    guard attempts < 50 else {
                        Issue.record("upload still refused after 50 attempts")
                        return
                    }
                    try await Task.sleep(for: .milliseconds(200))
                }
            }
            try await server.waitForRollups()
            let ready = try await client.get("/readyz", token: nil)
            #expect(ready.status == .ok)
        }
        #expect(try await server.scalar(Int.self, "SELECT count(*) FROM raw_profiles") == 40)
        #expect(
            try await server.scalar(Int64.self, "SELECT sum(row_count)::int8 FROM rollups WHERE granularity = 'day'")
                == 400)
        components.pool.close()
    }
}
