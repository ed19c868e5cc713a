import DriftTestSupport
import Foundation
import HummingbirdTesting
import Profiles
import Server
import Storage
import Testing

/// `GET /v1/models/{model}/drift` on the bundled car-price data (reference uploaded as the
/// baseline, analysis uploaded in daily windows) against `drift diff` on the same data.
@Suite(.serialized) struct DriftEndpointTests {
    static let demoData = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("demo/data")

    static func gunzip(_ name: String, into directory: URL) throws -> String {
        let out = directory.appendingPathComponent(name.replacingOccurrences(of: ".gz", with: "")).path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "gzip -dc '\(demoData.appendingPathComponent(name).path)' > '\(out)'"]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CLITestError("gunzip \(name) failed") }
        return out
    }

    static func drift(_ arguments: [String]) throws {
        let result = try DriftProcess.run(arguments)
        guard result.status == 0 else {
            throw CLITestError("drift \(arguments.joined(separator: " ")): \(result.stderr)")
        }
    }

    @Test func driftEndpointEqualsDriftDiff() async throws {
        let work = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: work) }
        let reference = try Self.gunzip("car_price_reference.csv.gz", into: work)
        let analysis = try Self.gunzip("car_price_analysis.csv.gz", into: work)
        let performance = ["--prediction-column", "y_pred", "--target-column", "y_true", "--task", "regression"]
        let referenceProfile = work.appendingPathComponent("reference.dwp").path
        let days = work.appendingPathComponent("days").path
        try Self.drift(["profile", reference, "--model", "car", "--out", referenceProfile, "--quiet"] + performance)
        try Self.drift(
            [
                "profile", analysis, "--model", "car", "--timestamp-column", "timestamp", "--window", "1d", "--out",
                days,
                "--quiet",
            ] + performance)
        let dayFiles = try FileManager.default.contentsOfDirectory(atPath: days).sorted().map { days + "/" + $0 }
        #expect(dayFiles.count > 10)
        let merged = work.appendingPathComponent("merged.dwp").path
        try Self.drift(["profile", "merge"] + dayFiles + ["--out", merged])
        let expected = try DriftProcess.json(["diff", referenceProfile, merged, "--json"])

        let dayProfiles = try dayFiles.map { try [UInt8](Data(contentsOf: URL(fileURLWithPath: $0))) }
        let first = try ProfileCodec.decode(dayProfiles[0]).profile.windowStart
        let lastProfile = try ProfileCodec.decode(dayProfiles[dayProfiles.count - 1]).profile
        let to = lastProfile.windowStart + lastProfile.windowLength
        let server = try await ServerHarness.make("driftendpoint")
        let token = try await server.token(project: "cars")
        let referenceBytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: referenceProfile)))
        let actualText = try await server.run { client -> String in
            let put = try await client.put(
                "/v1/models/car/baselines/reference?default=true", token: token, body: referenceBytes)
            #expect(put.status == .ok, "\(put.text)")
            for bytes in dayProfiles {
                let response = try await client.upload(bytes, token: token)
                #expect(response.status == .accepted, "\(response.text)")
            }
            try await server.waitForRollups()
            let uri =
                "/v1/models/car/drift?from=\(RFC3339.format(milliseconds: first))&to=\(RFC3339.format(milliseconds: to))"
            let response = try await client.get(uri, token: token)
            #expect(response.status == .ok, "\(response.text.prefix(500))")
            // Named baseline and a missing one.
            #expect(try await client.get(uri + "&baseline=reference", token: token).status == .ok)
            let missing = try await client.get(uri + "&baseline=nope", token: token)
            #expect(missing.status == .notFound && missing.errorMessage.contains("nope"))
            return response.text
        }
        let actual = try #require(
            try JSONSerialization.jsonObject(with: Data(actualText.utf8)) as? [String: Any])
        // Every drift statistic, verdict, quality ratio and performance figure is the same
        // number; HLL cardinality estimates may differ within the sketch's error (the merged
        // rollups are re-encoded sketches; see docs/operations.md).
        let differences = JSONDifferences.compare(expected, actual, tolerateCardinality: 0.001)
        #expect(differences.isEmpty, "\(differences.prefix(10))")
        let columns = try #require(actual["columns"] as? [String: Any])
        #expect(columns.count >= 8)
        #expect(actual["performance"] != nil)
    }
}

/// Paths where two JSON documents differ.
enum JSONDifferences {
    static func compare(_ a: Any, _ b: Any, tolerateCardinality: Double, path: String = "") -> [String] {
        switch (a, b) {
        case (let x as [String: Any], let y as [String: Any]):
            var out: [String] = []
            for key in Set(x.keys).union(y.keys).sorted() {
                guard let u = x[key], let v = y[key] else {
                    out.append("\(path)/\(key) missing on one side")
                    continue
                }
                out += compare(u, v, tolerateCardinality: tolerateCardinality, path: path + "/" + key)
            }
            return out
        case (let x as [Any], let y as [Any]):
            guard x.count == y.count else { return ["\(path): \(x.count) vs \(y.count) items"] }
            return zip(x, y).enumerated().flatMap {
                compare(
                    $0.element.0, $0.element.1, tolerateCardinality: tolerateCardinality, path: "\(path)/\($0.offset)")
            }
        case (let x as NSNumber, let y as NSNumber):
            if x == y { return [] }
            if path.contains("/cardinality/"),
                abs(x.doubleValue - y.doubleValue) <= tolerateCardinality * max(abs(x.doubleValue), 1e-9)
            {
                return []
            }
            return ["\(path): \(x) vs \(y)"]
        case (let x as String, let y as String):
            return x == y ? [] : ["\(path): \(x) vs \(y)"]
        case (is NSNull, is NSNull):
            return []
        default:
            return ["\(path): \(a) vs \(b)"]
        }
    }
}
