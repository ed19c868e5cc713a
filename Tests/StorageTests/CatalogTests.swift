import DriftTestSupport
import Profiles
import Testing

@testable import Storage

/// Streams, baselines, metrics and tokens.
@Suite("Streams, baselines, metrics, tokens")
struct CatalogTests {
    let database: TestDatabase

    init() throws { database = try TestDatabase.shared("catalog") }

    @Test func streamsAreCreatedOnceAndListedPerModel() async throws {
        let pool = database.pool(maxConnections: 8)
        defer { pool.close() }
        let streams = StreamStore(pool: pool)
        let key = StreamKey(
            project: "s", model: "churn", modelVersion: "3", segment: Segment(["tier": "gold", "region": "eu"]))
        let ids = try await withThrowingTaskGroup(of: Int64.self) { group in
            // Separate stores: no shared cache, so the database decides.
            for _ in 0..<8 { group.addTask { try await StreamStore(pool: pool).resolve(key) } }
            return try await group.reduce(into: Set<Int64>()) { $0.insert($1) }
        }
        #expect(ids.count == 1)
        _ = try await streams.resolve(StreamKey(project: "s", model: "churn"))
        _ = try await streams.resolve(StreamKey(project: "s", model: "fraud", segment: Segment(["region": "us"])))
        _ = try await streams.resolve(StreamKey(project: "other", model: "secret"))
        let models = try await streams.models(project: "s")
        #expect(models.map(\.model) == ["churn", "fraud"])
        #expect(models[0].versions == ["", "3"] && models[0].segments == ["*", "region=eu,tier=gold"])
        #expect(models[0].streamCount == 2)
        let gold = try await streams.streams(project: "s", model: "churn", segment: key.segment)
        #expect(gold.map(\.id) == Array(ids) && gold.first?.modelVersion == "3")
        let tags = try database.connect().query(
            "SELECT tags->>'region' FROM streams WHERE id = $1", [.int64(gold[0].id)]
        ).scalar(String.self)
        #expect(tags == "eu")
    }

    @Test func baselinesAreReplacedListedAndHaveOneDefault() async throws {
        let pool = database.pool()
        defer { pool.close() }
        let baselines = BaselineStore(pool: pool)
        var rng = SeededRandom(seed: 71)
        let reference = TestProfiles.bytes(TestProfiles.latency(windowStart: 0, requests: 5, random: &rng))
        let training = try await baselines.put(
            project: "b", model: "fraud", name: "training", kind: .profile(reference), isDefault: true)
        #expect(training.kind == .profile(reference) && training.isDefault)
        try await baselines.put(
            project: "b", model: "fraud", name: "last-week", kind: .trailing(milliseconds: 7 * TestProfiles.day))
        let q1 = try await baselines.put(
            project: "b", model: "fraud", name: "q1", kind: .range(from: 1_735_689_600_000, to: 1_743_465_600_000),
            segment: Segment(["region": "eu"]), isDefault: true)
        #expect(q1.segment == "region=eu")
        // Making q1 the default cleared training's flag.
        #expect(try await baselines.defaultBaseline(project: "b", model: "fraud")?.name == "q1")
        #expect(try await baselines.get(project: "b", model: "fraud", name: "training")?.isDefault == false)
        #expect(try await baselines.list(project: "b", model: "fraud").map(\.name) == ["last-week", "q1", "training"])
        // Replacing keeps the id and changes the definition.
        let replaced = try await baselines.put(
            project: "b", model: "fraud", name: "last-week", kind: .trailing(milliseconds: TestProfiles.day))
        #expect(replaced.kind == .trailing(milliseconds: TestProfiles.day))
        #expect(try await baselines.setDefault(project: "b", model: "fraud", name: "last-week"))
        #expect(try await baselines.defaultBaseline(project: "b", model: "fraud")?.id == replaced.id)
        #expect(try await baselines.setDefault(project: "b", model: "fraud", name: "missing") == false)
        #expect(try await baselines.delete(project: "b", model: "fraud", name: "q1"))
        #expect(try await baselines.get(project: "b", model: "fraud", name: "q1") == nil)
        #expect(try await baselines.list(project: "other").isEmpty)
        let inverted = await #expect(throws: StorageError.self) {
            try await baselines.put(project: "b", model: "fraud", name: "bad", kind: .range(from: 10, to: 10))
        }
        #expect(inverted?.code == .misuse)
    }

    @Test func metricsUpsertAndFormTimeSeries() async throws {
        let pool = database.pool()
        defer { pool.close() }
        let streams = StreamStore(pool: pool)
        let metrics = MetricStore(pool: pool)
        let eu = try await streams.resolve(StreamKey(project: "m", model: "fraud", segment: Segment(["region": "eu"])))
        let us = try await streams.resolve(StreamKey(project: "m", model: "fraud", segment: Segment(["region": "us"])))
        let start: Int64 = 1_741_644_000_000
        var records: [MetricRecord] = []
        for h in 0..<6 {
            for (stream, offset) in [(eu, 0.0), (us, 0.5)] {
                let window = RollupWindow(
                    streamID: stream, granularity: .hour, windowStart: start + Int64(h) * TestProfiles.hour)
                records.append(
                    MetricRecord(
                        window: window, column: "amount", metric: "psi", baseline: "training",
                        value: Double(h) + offset,
                        bound: 0.01, pValue: nil))
                records.append(MetricRecord(window: window, column: "amount", metric: "null_fraction", value: 0))
            }
        }
        #expect(try await metrics.upsert(records) == 24)
        // Re-computation after late data replaces values; NaN is a value like any other.
        let window = RollupWindow(streamID: eu, granularity: .hour, windowStart: start + 2 * TestProfiles.hour)
        #expect(
            try await metrics.upsert([
                MetricRecord(
                    window: window, column: "amount", metric: "psi", baseline: "training", value: 42, pValue: 0.5),
                MetricRecord(window: window, column: "amount", metric: "psi", baseline: "training", value: .nan),
            ]) == 1)
        let series = try await metrics.series(
            project: "m", model: "fraud", column: "amount", metric: "psi", granularity: .hour, from: start,
            to: start + 6 * TestProfiles.hour, segment: Segment(["region": "eu"]), baseline: "training")
        #expect(series.count == 6)
        #expect(series.map(\.windowStart) == (0..<6).map { start + Int64($0) * TestProfiles.hour })
        #expect(series[2].value.isNaN && series[2].bound == nil && series[2].pValue == nil)
        #expect(series[3].value == 3 && series[3].bound == 0.01 && series[3].segment == "region=eu")
        let both = try await metrics.series(
            project: "m", model: "fraud", column: "amount", metric: "psi", granularity: .hour,
            from: start + TestProfiles.hour,
            to: start + 2 * TestProfiles.hour)
        #expect(both.map(\.value) == [1, 1.5])
        let ofWindow = try await metrics.metrics(of: window)
        #expect(ofWindow.map(\.metric) == ["null_fraction", "psi"])
        #expect(
            try await metrics.series(
                project: "m", model: "fraud", column: "amount", metric: "psi", granularity: .day, from: start,
                to: start + TestProfiles.day
            ).isEmpty)
    }

    @Test func tokensAreFoundByHashUntilRevoked() async throws {
        let pool = database.pool()
        defer { pool.close() }
        let tokens = TokenStore(pool: pool)
        let hash = (0..<32).map { UInt8($0 * 7 % 256) }
        let created = try await tokens.create(project: "t", name: "ci", scopes: [.read, .ingest], hash: hash)
        #expect(created.scopes == [.ingest, .read] && !created.isRevoked)
        #expect(try await tokens.lookup(hash: hash) == created)
        var near = hash
        near[31] ^= 1
        #expect(try await tokens.lookup(hash: near) == nil)
        let duplicate = await #expect(throws: StorageError.self) {
            try await tokens.create(project: "t", name: "ci", scopes: [.admin], hash: near)
        }
        #expect(duplicate?.isUniqueViolation == true)
        #expect(try await tokens.list(project: "t").map(\.name) == ["ci"])
        #expect(try await tokens.revoke(project: "t", name: "ci"))
        #expect(try await tokens.lookup(hash: hash) == nil)
        #expect(try await tokens.revoke(id: created.id) == false)
        // The name is free again; the revoked token stays listed for the record.
        let renewed = try await tokens.create(project: "t", name: "ci", scopes: [.admin], hash: near)
        #expect(try await tokens.lookup(hash: near)?.id == renewed.id)
        let all = try await tokens.list(project: "t", includeRevoked: true)
        #expect(all.map(\.id) == [created.id, renewed.id] && all[0].isRevoked)
        let tooShort = await #expect(throws: StorageError.self) {
            try await tokens.create(project: "t", name: "x", scopes: [.read], hash: [1, 2, 3])
        }
        #expect(tooShort?.code == .misuse)
        #expect(
            TokenStore.constantTimeEqual([1, 2, 3], [1, 2, 3]) && !TokenStore.constantTimeEqual([1, 2, 3], [1, 2]))
    }
}
