import DriftTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Profiles
import Storage
import Testing

/// The real `drift serve` process: configuration from a file, tokens from `drift tokens`,
/// graceful shutdown on SIGTERM with every acknowledged upload stored.
@Suite(.serialized) struct ServeProcessTests {
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else { throw CLITestError("bind failed") }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    @Test func gracefulShutdownKeepsEveryAcknowledgedUpload() async throws {
        let database = try TestDatabase.create("serveprocess", migrated: false)
        let work = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: work) }
        let port = try Self.freePort()
        let config = work.appendingPathComponent("drift.yaml").path
        try """
        listen: 127.0.0.1:\(port)
        retention: {raw_days: forever, hour_days: forever, day_days: forever}
        log: {level: info, format: json}
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let url = "\(database.conninfo) dbname=\(database.name)"
        guard let executable = DriftProcess.executable else { throw CLITestError("no drift executable") }
        let serve = Process()
        serve.executableURL = executable
        serve.arguments = ["serve", "--config", config, "--database-url", url]
        let log = Pipe()
        serve.standardError = log
        serve.standardOutput = FileHandle.nullDevice
        try serve.run()
        defer { if serve.isRunning { serve.terminate() } }

        let client = TestClient(host: "127.0.0.1", port: port, configuration: .init(timeout: .seconds(30)))
        var ready = false
        for _ in 0..<200 {
            try await Task.sleep(for: .milliseconds(100))
            let probe = TestClient(host: "127.0.0.1", port: port, configuration: .init(timeout: .seconds(2)))
            probe.connect()
            if let response = try? await probe.execute(.init("/readyz", method: .get, authority: "localhost")),
                response.status == .ok
            {
                ready = true
            }
            try? await probe.shutdown()
            if ready { break }
        }
        try #require(ready, "drift serve did not become ready")
        let created = try DriftProcess.run([
            "tokens", "create", "--database-url", url, "--project", "acme", "--name", "svc", "--scopes", "ingest",
        ])
        #expect(created.status == 0, "\(created.stderr)")
        let token = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.hasPrefix("dw_"))

        client.connect()
        var random = SeededRandom(seed: 40)
        var acknowledged: [String] = []
        for i in 0..<30 {
            let profile = TestProfiles.columns(
                model: "fraud", columns: 2, rows: 20, windowStart: IngestTests.base + Int64(i) * 60_000,
                random: &random)
            let response: TestClient.Response
            do {
                response = try await client.execute(
                    .init(
                        "/v1/profiles", method: .post, authority: "localhost",
                        headers: [.authorization: "Bearer \(token)", .connection: "keep-alive"],
                        body: ByteBuffer(bytes: NativeCodec.encode(profile))))
            } catch {
                // After the signal the server closes idle keep-alive connections: later
                // requests fail, which is what a client sees of a stopping server.
                #expect(i > 20, "request \(i) failed before the signal: \(error)")
                break
            }
            if response.status == .accepted { acknowledged.append(profile.uploadID.description) }
            if i == 20 { serve.interrupt() }  // SIGINT mid-stream: in-flight work finishes
        }
        try? await client.shutdown()
        serve.terminate()
        serve.waitUntilExit()
        let output = String(decoding: log.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(serve.terminationStatus == 0 || serve.terminationReason == .uncaughtSignal, "\(output.suffix(800))")
        #expect(output.contains("\"msg\":\"drift serve stopped\""), "\(output.suffix(800))")
        #expect(acknowledged.count >= 21)
        let stored = try database.connect().query("SELECT upload_id::text FROM raw_profiles").map {
            try $0.decode(String.self, at: 0)
        }
        #expect(Set(acknowledged).isSubset(of: Set(stored)))
    }

    @Test func noAuthOnlyOnLoopback() throws {
        let result = try DriftProcess.run([
            "serve", "--no-auth", "--listen", "0.0.0.0:0", "--database-url", "host=/nonexistent",
        ])
        #expect(result.status == 64)
        #expect(result.stderr.contains("loopback"))
        let badConfig = try temporaryDirectory().appendingPathComponent("bad.yaml").path
        try "listen: 127.0.0.1:1\nretension: {}\n".write(toFile: badConfig, atomically: true, encoding: .utf8)
        let bad = try DriftProcess.run(["serve", "--config", badConfig])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("bad.yaml:2:1: unknown key 'retension'"), "\(bad.stderr)")
    }
}
