import Foundation
import Profiles
import Testing

/// Runs the real `drift` executable built next to the test bundle.
enum DriftBinary {
    static let executable: String? = {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent(".build/debug"),
        ]
        return candidates.map { $0.appendingPathComponent("drift").path }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    static func run(
        _ arguments: [String], environment: [String: String] = [:]
    ) throws -> (
        status: Int32, stdout: String, stderr: String
    ) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(executable, "drift executable not found"))
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["DRIFT_TOKEN"] = nil
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (
            process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self)
        )
    }
}

@Suite struct PushCLITests {
    @Test func pushesNativeAndWhylogsFilesOncePerUploadID() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try TestHTTPServer()
        defer { server.stop() }
        let native = sampleProfile(window: 0)
        let whylogs = sampleProfile(window: 1, rows: 4)
        try Data(NativeCodec.encode(native)).write(to: URL(fileURLWithPath: dir + "/a.dwp"))
        try Data(WhylogsCodec.encodeProfile(whylogs)).write(to: URL(fileURLWithPath: dir + "/b.bin"))

        let first = try DriftBinary.run(
            ["push", dir + "/a.dwp", dir + "/b.bin", "--server", server.url], environment: ["DRIFT_TOKEN": "envtoken"])
        #expect(first.status == 0, "\(first.stderr)")
        let lines = first.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0] == "\(dir)/a.dwp: id=\(native.uploadID) duplicate=false")
        #expect(lines[1] == "\(dir)/b.bin: id=\(whylogs.uploadID) duplicate=false")
        #expect(server.requests.allSatisfy { $0.headers["authorization"] == "Bearer envtoken" })
        // The server got the file's own bytes, under the profile's upload id.
        #expect(server.committed[native.uploadID.description] == NativeCodec.encode(native))
        #expect(server.committed.count == 2)

        // Again, with the token as an option: the server recognises both uploads.
        let again = try DriftBinary.run([
            "push", dir + "/a.dwp", dir + "/b.bin", "--server", server.url, "--token", "opt", "--json",
        ])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.split(separator: "\n").allSatisfy { $0.contains("\"duplicate\":true") })
        #expect(server.requests.suffix(2).allSatisfy { $0.headers["authorization"] == "Bearer opt" })
        #expect(server.committed.count == 2)
    }

    @Test func reportsEachFailureAndExitsNonZero() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try TestHTTPServer()
        defer { server.stop() }
        let good = sampleProfile(window: 0)
        let refused = sampleProfile(window: 1, model: "other")
        try Data(NativeCodec.encode(good)).write(to: URL(fileURLWithPath: dir + "/good.dwp"))
        try Data(NativeCodec.encode(refused)).write(to: URL(fileURLWithPath: dir + "/refused.dwp"))
        try Data("model,amount\n".utf8).write(to: URL(fileURLWithPath: dir + "/rows.csv"))
        let refusedKey = refused.uploadID.description
        server.behave { request, _ in
            request.headers["idempotency-key"] == refusedKey
                ? .error(status: 403, code: "forbidden", message: "token may not write model 'other'") : .accept
        }
        let result = try DriftBinary.run([
            "push", dir + "/good.dwp", dir + "/refused.dwp", dir + "/rows.csv", "--server", server.url, "--token", "t",
        ])
        #expect(result.status == 1)
        #expect(result.stdout == "\(dir)/good.dwp: id=\(good.uploadID) duplicate=false\n")
        #expect(
            result.stderr.contains(
                "drift: error: \(dir)/refused.dwp: HTTP 403 forbidden: token may not write model 'other'"))
        #expect(result.stderr.contains("drift: error: \(dir)/rows.csv: not sent:"))
        #expect(result.stderr.contains("2 of 3 uploads failed: \(dir)/refused.dwp, \(dir)/rows.csv"))
        #expect(server.requests.count == 2)  // the CSV never left the machine
    }

    @Test func retriesAServerErrorAndGivesUpWithTheReason() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try TestHTTPServer()
        let url = server.url
        try Data(NativeCodec.encode(sampleProfile(window: 0))).write(to: URL(fileURLWithPath: dir + "/a.dwp"))
        server.behave { _, index in index == 0 ? .error(status: 503, code: "unavailable", message: "starting") : .accept
        }
        let retried = try DriftBinary.run(["push", dir + "/a.dwp", "--server", url])
        #expect(retried.status == 0, "\(retried.stderr)")
        #expect(server.requests.count == 2)
        server.stop()
        let down = try DriftBinary.run(["push", dir + "/a.dwp", "--server", url, "--retries", "1"])
        #expect(down.status == 1)
        #expect(down.stderr.contains("could not connect"), "\(down.stderr)")
        #expect(down.stderr.contains("gave up after 2 attempts"))
        let usage = try DriftBinary.run(["push", dir + "/a.dwp", "--server", "drift.example.com"])
        #expect(usage.status == 64)
    }
}
