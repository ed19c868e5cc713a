import DriftTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Profiles
import Server
import Storage
import Synchronization
import Testing

/// `POST /v1/profiles` against a real PostgreSQL: acknowledgement after commit, idempotency,
/// concurrency, late data, restarts, whylogs uploads, size and validation errors.
@Suite(.serialized) struct IngestTests {
    static let hour = TestProfiles.hour
    /// 2024-03-01T00:00:00Z.
    static let base: Int64 = 1_709_251_200_000

    @Test func ingestThenQuery() async throws {
        let server = try await ServerHarness.make("ingestquery")
        let token = try await server.token(project: "acme")
        try await server.run { client in
            var random = SeededRandom(seed: 7)
            var rows: Int64 = 0
            for i in 0..<3 {
                let profile = TestProfiles.columns(
                    model: "churn", columns: 3, rows: 100 + i, windowStart: Self.base + Int64(i) * 60_000,
                    random: &random)
                rows += profile.rowCount
                let response = try await client.upload(TestProfiles.bytes(profile), token: token)
                #expect(response.status == .accepted, "\(response.text)")
                #expect(response.json["id"] as? String == profile.uploadID.description)
                #expect(response.json["duplicate"] as? Bool == false)
            }
            // Acknowledged means committed: visible at once.
            #expect(try await server.scalar(Int.self, "SELECT count(*) FROM raw_profiles") == 3)
            try await server.waitForRollups()
            let models = try await client.get("/v1/models", token: token)
            #expect(models.status == .ok)
            let names = (models.json["models"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
            #expect(names == ["churn"])
            let profile = try await client.get(
                "/v1/models/churn/profile?from=2024-03-01T00:00:00Z&to=2024-03-01T01:00:00Z", token: token)
            #expect(profile.status == .ok, "\(profile.text)")
            #expect((profile.json["row_count"] as? NSNumber)?.int64Value == rows, "\(profile.text.prefix(400))")
            let columns = profile.json["columns"] as? [String: Any]
            #expect(columns?.keys.sorted() == ["feature_0", "feature_1", "feature_2"])
            let empty = try await client.get(
                "/v1/models/churn/profile?from=2024-04-01T00:00:00Z&to=2024-04-02T00:00:00Z", token: token)
            #expect(empty.status == .notFound)
            #expect(empty.errorCode == "not_found")
        }
    }

    @Test func idempotentRetries() async throws {
        let server = try await ServerHarness.make("idempotent")
        let token = try await server.token(project: "acme")
        try await server.run { client in
            var random = SeededRandom(seed: 8)
            let profile = TestProfiles.latency(
                model: "fraud", windowStart: Self.base, requests: 50, random: &random)
            let bytes = TestProfiles.bytes(profile)
            let first = try await client.upload(bytes, token: token)
            let second = try await client.upload(bytes, token: token)
            #expect(first.status == .accepted && second.status == .accepted)
            #expect(first.json["id"] as? String == second.json["id"] as? String)
            #expect(first.json["duplicate"] as? Bool == false)
            #expect(second.json["duplicate"] as? Bool == true)
            // A client that re-profiles (new upload id) but sends the same Idempotency-Key.
            var again = profile
            again.uploadID = UploadID.random(using: &random)
            let keyed1 = try await client.upload(bytes, token: token, headers: [.init("Idempotency-Key")!: "k-1"])
            let keyed2 = try await client.upload(
                TestProfiles.bytes(again), token: token, headers: [.init("Idempotency-Key")!: "k-1"])
            #expect(keyed1.json["duplicate"] as? Bool == true)  // same upload id as the first
            // keyed1 stored nothing, so its key was not taken: keyed2 is new.
            #expect(keyed2.json["duplicate"] as? Bool == false)
            // Re-profiled once more (another upload id), same key: a duplicate by the key alone.
            var third = again
            third.uploadID = UploadID.random(using: &random)
            let keyed3 = try await client.upload(
                TestProfiles.bytes(third), token: token, headers: [.init("Idempotency-Key")!: "k-1"])
            #expect(keyed3.json["duplicate"] as? Bool == true)
            #expect(keyed3.json["id"] as? String == keyed2.json["id"] as? String)
            try await server.waitForRollups()
            // Two distinct uploads were stored (the original and the re-profiled one), each once.
            #expect(try await server.scalar(Int.self, "SELECT count(*) FROM raw_profiles") == 2)
            let merged = try await client.get(
                "/v1/models/fraud/profile?from=2024-03-01T00:00:00Z&to=2024-03-01T01:00:00Z", token: token)
            #expect((merged.json["latency"] as? [String: Any])?["count"] as? Int == 100, "\(merged.text.prefix(300))")
        }
    }

    @Test func concurrentClientsOverlappingWindows() async throws {
        let server = try await ServerHarness.make("concurrent") { $0.ingestBatchSize = 16 }
        let token = try await server.token(project: "acme")
        let expected = Totals()
        try await server.run { client in
            guard let port = client.port else {
                Issue.record("no port")
                return
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for c in 0..<8 {
                    group.addTask {
                        let own = TestClient(host: "127.0.0.1", port: port, configuration: .init(timeout: .seconds(30)))
                        own.connect()
                        var random = SeededRandom(seed: UInt64(100 + c))
                        for u in 0..<25 {
                            // 10-minute windows spread over three hours: every hour gets uploads
                            // from every client.
                            let start = Self.base + Int64((u * 7 + c) % 18) * 600_000
                            let profile = TestProfiles.columns(
                                model: "fraud", columns: 1, rows: 10 + (u % 5), windowStart: start,
                                windowLength: 600_000, random: &random)
                            var headers: HTTPFields = [.authorization: "Bearer \(token)"]
                            headers[.connection] = "keep-alive"
                            let response = try await own.execute(
                                .init(
                                    "/v1/profiles", method: .post, authority: "localhost", headers: headers,
                                    body: ByteBuffer(bytes: TestProfiles.bytes(profile))))
                            #expect(response.status == .accepted)
                            let hour = start - start % Self.hour
                            expected.add(hour, profile.rowCount)
                        }
                        try await own.shutdown()
                    }
                }
                try await group.waitForAll()
            }
            try await server.waitForRollups()
        }
        let want = expected.values
        #expect(want.count == 3)
        let rows = try await server.components.pool.withConnection { c in
            try c.query(
                "SELECT window_start, row_count, raw_count FROM rollups WHERE granularity = 'hour' ORDER BY 1"
            ).map { (try $0.decode(PostgresTimestamp.self, at: 0).milliseconds, try $0.decode(Int64.self, at: 1)) }
        }
        #expect(Dictionary(uniqueKeysWithValues: rows) == want)
        let day = try await server.scalar(Int64.self, "SELECT row_count FROM rollups WHERE granularity = 'day'")
        #expect(day == want.values.reduce(0, +))
        #expect(
            try await server.scalar(Int.self, "SELECT sum(raw_count)::int FROM rollups WHERE granularity = 'day'")
                == 200)
    }

    @Test func lateDataUpdatesWindowAndMetrics() async throws {
        let server = try await ServerHarness.make("late")
        let token = try await server.token(project: "acme")
        try await server.run { client in
            var random = SeededRandom(seed: 9)
            let first = TestProfiles.latency(model: "fraud", windowStart: Self.base, requests: 40, random: &random)
            #expect(try await client.upload(TestProfiles.bytes(first), token: token).status == .accepted)
            try await server.waitForRollups()
            try await server.waitForMetrics()
            let uri =
                "/v1/models/fraud/metrics?metric=latency_count&from=2024-03-01T00:00:00Z&to=2024-03-01T01:00:00Z&granularity=hour"
            let before = try await client.get(uri, token: token)
            let valuesBefore = (before.json["points"] as? [[String: Any]])?.compactMap { $0["value"] as? Double }
            #expect(valuesBefore == [40])
            // Ground truth and stragglers arrive hours later for the same window.
            let late = TestProfiles.latency(
                model: "fraud", windowStart: Self.base + 600_000, requests: 15, random: &random)
            #expect(try await client.upload(TestProfiles.bytes(late), token: token).status == .accepted)
            try await server.waitForRollups()
            try await server.waitForMetrics()
            let after = try await client.get(uri, token: token)
            let valuesAfter = (after.json["points"] as? [[String: Any]])?.compactMap { $0["value"] as? Double }
            #expect(valuesAfter == [55])
        }
    }

    @Test func serverRestartKeepsEverything() async throws {
        let database = try TestDatabase.create("restart", migrated: false)
        var random = SeededRandom(seed: 10)
        let profiles = (0..<5).map { i in
            TestProfiles.latency(
                model: "fraud", windowStart: Self.base + Int64(i) * 600_000, requests: 20, random: &random)
        }
        let first = try await ServerHarness.make("restart", database: database)
        let token = try await first.token(project: "acme")
        try await first.run { client in
            for p in profiles {
                let response = try await client.upload(TestProfiles.bytes(p), token: token)
                #expect(response.status == .accepted)
            }
        }
        first.components.pool.close()
        // A new daemon on the same database: same data, duplicates still recognised, rollups
        // finished by the new process.
        let second = try await ServerHarness.make("restart", database: database)
        try await second.run { client in
            let again = try await client.upload(TestProfiles.bytes(profiles[0]), token: token)
            #expect(again.json["duplicate"] as? Bool == true)
            try await second.waitForRollups()
            let profile = try await client.get(
                "/v1/models/fraud/profile?from=2024-03-01T00:00:00Z&to=2024-03-01T01:00:00Z", token: token)
            #expect((profile.json["latency"] as? [String: Any])?["count"] as? Int == 100, "\(profile.text.prefix(300))")
        }
        #expect(try await second.scalar(Int.self, "SELECT count(*) FROM raw_profiles") == 5)
    }

    @Test func whylogsUploadsMergeWithNative() async throws {
        let server = try await ServerHarness.make("whylogs")
        let token = try await server.token(project: "acme")
        let fixture = try WhylogsSample.bytes()
        let whylogs = try ProfileCodec.decode(fixture).profile
        try await server.run { client in
            // whylogs profiles carry no window (and at most a dataset name): ?model= and
            // ?window= supply them.
            let accepted = try await client.upload(fixture, token: token, query: "?model=pricing&window=1d")
            #expect(accepted.status == .accepted, "\(accepted.text)")
            // A native profile of the same model and day.
            let day = whylogs.windowStart - ((whylogs.windowStart % 86_400_000) + 86_400_000) % 86_400_000
            var native = whylogs
            native.model = "pricing"
            native.uploadID = UploadID.random()
            native.windowStart = day
            native.windowLength = 3_600_000
            let second = try await client.upload(NativeCodec.encode(native), token: token)
            #expect(second.status == .accepted, "\(second.text)")
            try await server.waitForRollups()
            let rows = try await server.scalar(Int64.self, "SELECT row_count FROM rollups WHERE granularity = 'day'")
            #expect(rows == 2 * whylogs.rowCount)
            #expect(
                try await server.scalar(Int.self, "SELECT count(*) FROM raw_profiles WHERE rollup_error IS NOT NULL")
                    == 0)
        }
    }

    @Test func sizeAndValidationErrors() async throws {
        let server = try await ServerHarness.make("validation") { $0.maxBodyBytes = 64 * 1024 }
        let token = try await server.token(project: "acme")
        try await server.run { client in
            let tooLarge = try await client.upload([UInt8](repeating: 7, count: 100_000), token: token)
            #expect(tooLarge.status == .contentTooLarge)
            #expect(tooLarge.errorCode == "too_large")
            let garbage = try await client.upload(Array("hello, world".utf8), token: token)
            #expect(garbage.status == .badRequest)
            #expect(garbage.errorCode == "invalid_profile")
            #expect(garbage.errorMessage.contains("not a valid profile"))
            let empty = try await client.upload([], token: token)
            #expect(empty.status == .badRequest && empty.errorMessage.contains("empty"))
            var random = SeededRandom(seed: 11)
            let bytes = TestProfiles.bytes(
                TestProfiles.latency(model: "fraud", windowStart: Self.base, requests: 5, random: &random))
            let truncated = try await client.upload(Array(bytes.dropLast(3)), token: token)
            #expect(truncated.status == .badRequest)
            var flipped = bytes
            flipped[flipped.count / 2] ^= 0x40
            #expect(try await client.upload(flipped, token: token).status == .badRequest)
            let windowless = DatasetProfile(model: "fraud", uploadID: UploadID.random())
            let noWindow = try await client.upload(NativeCodec.encode(windowless), token: token)
            #expect(noWindow.status == .badRequest && noWindow.errorMessage.contains("window"))
            let unknown = try await client.get("/v1/nothing", token: token)
            #expect(unknown.status == .notFound && unknown.errorCode == "not_found")
            let badTime = try await client.get("/v1/models/fraud/profile?from=yesterday", token: token)
            #expect(badTime.status == .badRequest && badTime.errorMessage.contains("from"))
            #expect(try await server.scalar(Int.self, "SELECT count(*) FROM raw_profiles") == 0)
        }
    }
}

/// Sums per key that concurrent tasks add to.
final class Totals: Sendable {
    private let sums = Mutex<[Int64: Int64]>([:])
    func add(_ key: Int64, _ amount: Int64) { sums.withLock { $0[key, default: 0] += amount } }
    var values: [Int64: Int64] { sums.withLock { $0 } }
}

/// A whylogs v1 profile written by whylogs 1.6.4 (Tests/Fixtures/whylogs).
enum WhylogsSample {
    static func bytes() throws -> [UInt8] {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Fixtures/whylogs").standardized
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".bin") }
            .sorted()
        for file in files {
            let data = try [UInt8](Data(contentsOf: directory.appendingPathComponent(file)))
            if let decoded = try? ProfileCodec.decode(data), decoded.format == .whylogs,
                decoded.profile.rowCount > 0, decoded.profile.windowLength == 0
            {
                return data
            }
        }
        throw CocoaError(.fileNoSuchFile)
    }
}
