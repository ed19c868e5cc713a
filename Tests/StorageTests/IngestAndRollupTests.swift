import DriftTestSupport
import Profiles
import Testing

@testable import Storage

@Suite("Ingest and rollups")
struct IngestAndRollupTests {
    /// 2025-03-10T22:00:00Z: windows from here cross midnight, so rollups span two days.
    static let base: Int64 = 1_741_644_000_000

    @Test func aRepeatedUploadIsStoredOnce() async throws {
        let database = try TestDatabase.shared("ingest")
        let pool = database.pool()
        defer { pool.close() }
        let store = ProfileStore(pool: pool)
        var rng = SeededRandom(seed: 21)
        let profile = TestProfiles.latency(windowStart: Self.base, requests: 10, random: &rng)
        let bytes = TestProfiles.bytes(profile)
        let first = try await store.ingest(project: "idem", bytes: bytes, profile: profile)
        let again = try await store.ingest(project: "idem", bytes: bytes, profile: profile)
        #expect(!first.duplicate && again.duplicate)
        #expect(again.id == first.id && again.uploadID == profile.uploadID)
        #expect(try await store.count(project: "idem", uploadID: profile.uploadID) == 1)
        // Upload ids are unique per project, not globally.
        let elsewhere = try await store.ingest(project: "idem-other", bytes: bytes, profile: profile)
        #expect(!elsewhere.duplicate && elsewhere.id != first.id)

        // An Idempotency-Key makes a re-generated profile (new upload id) a duplicate too.
        let keyed = TestProfiles.latency(windowStart: Self.base, requests: 3, random: &rng)
        let regenerated = TestProfiles.latency(windowStart: Self.base, requests: 3, random: &rng)
        let k1 = try await store.ingest(
            project: "idem", bytes: TestProfiles.bytes(keyed), profile: keyed, idempotencyKey: "request-1")
        let k2 = try await store.ingest(
            project: "idem", bytes: TestProfiles.bytes(regenerated), profile: regenerated, idempotencyKey: "request-1")
        #expect(!k1.duplicate && k2.duplicate && k2.id == k1.id && k2.uploadID == keyed.uploadID)
        #expect(try await store.count(project: "idem", uploadID: regenerated.uploadID) == 0)
    }

    @Test func concurrentRetriesOfOneUploadCountOnce() async throws {
        let database = try TestDatabase.shared("ingest")
        let pool = database.pool(maxConnections: 8)
        defer { pool.close() }
        let store = ProfileStore(pool: pool)
        var rng = SeededRandom(seed: 22)
        let profile = TestProfiles.latency(windowStart: Self.base, requests: 5, random: &rng)
        let bytes = TestProfiles.bytes(profile)
        let results = try await withThrowingTaskGroup(of: IngestResult.self) { group in
            for _ in 0..<8 { group.addTask { try await store.ingest(project: "race", bytes: bytes, profile: profile) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.filter { !$0.duplicate }.count == 1)
        #expect(Set(results.map(\.id)).count == 1)
    }

    @Test func aBatchReportsDuplicatesInOrder() async throws {
        let database = try TestDatabase.shared("ingest")
        let pool = database.pool()
        defer { pool.close() }
        let store = ProfileStore(pool: pool)
        var rng = SeededRandom(seed: 23)
        let stored = TestProfiles.latency(windowStart: Self.base, requests: 1, random: &rng)
        let a = TestProfiles.latency(windowStart: Self.base + TestProfiles.hour, requests: 2, random: &rng)
        let b = TestProfiles.latency(windowStart: Self.base + 40 * TestProfiles.day, requests: 3, random: &rng)
        let earlier = try await store.ingest(project: "batch", bytes: TestProfiles.bytes(stored), profile: stored)
        let results = try await store.ingest(
            [a, b, a, stored].map {
                ProfileStore.IngestRequest(project: "batch", bytes: TestProfiles.bytes($0), profile: $0)
            })
        #expect(results.map(\.duplicate) == [false, false, true, true])
        #expect(results[2].id == results[0].id && results[3].id == earlier.id)
        #expect(results[1].uploadID == b.uploadID)
    }

    @Test func unwindowedProfilesAndForeignBytesAreRefused() async throws {
        let database = try TestDatabase.shared("ingest")
        let pool = database.pool()
        defer { pool.close() }
        let store = ProfileStore(pool: pool)
        let reference = DatasetProfile(model: "fraud")
        let noWindow = await #expect(throws: StorageError.self) {
            try await store.ingest(project: "bad", bytes: TestProfiles.bytes(reference), profile: reference)
        }
        #expect(noWindow?.code == .misuse && noWindow?.message.contains("no time window") == true)
        var rng = SeededRandom(seed: 24)
        let profile = TestProfiles.latency(windowStart: Self.base, requests: 1, random: &rng)
        let foreign = await #expect(throws: StorageError.self) {
            try await store.ingest(project: "bad", bytes: Array("not a profile".utf8), profile: profile)
        }
        #expect(foreign?.code == .misuse)
        // Windows that would overflow window arithmetic or leave timestamptz's range.
        for (start, length) in [(Int64.max - 10, Int64(10)), (Int64.min, Int64(60_000)), (0, Int64.max)] {
            var odd = profile
            odd.windowStart = start
            odd.windowLength = length
            let error = await #expect(throws: StorageError.self) {
                try await store.ingest(project: "bad", bytes: TestProfiles.bytes(profile), profile: odd)
            }
            #expect(error?.code == .misuse, "\(start) + \(length)")
        }
    }

    /// Eight workers roll up 240 raw profiles from three segments whose 10-minute windows
    /// overlap in every hour (four uploads per window) and cross midnight: every rollup's raw
    /// count and request count must equal the sums of its raw profiles, and the ledger must
    /// hold each raw profile once per granularity. Then a late profile for an old hour is
    /// merged into that hour and its day.
    @Test func concurrentWorkersMergeEveryProfileExactlyOnce() async throws {
        let database = try TestDatabase.create("rollup")
        let pool = database.pool(maxConnections: 8)
        defer { pool.close() }
        let store = ProfileStore(pool: pool)
        let rollups = RollupStore(pool: pool)
        var rng = SeededRandom(seed: 31)
        let segments = [
            Segment(["region": "eu"]), Segment(["region": "us"]), Segment(["region": "ap", "tier": "gold"]),
        ]
        var profiles: [DatasetProfile] = []
        for segment in segments {
            for upload in 0..<80 {
                let window = Self.base + Int64(upload % 20) * 10 * TestProfiles.minute
                profiles.append(
                    TestProfiles.latency(
                        segment: segment, windowStart: window, requests: Int(rng.next() % 50) + 1, random: &rng))
            }
        }
        profiles.shuffle(using: &rng)
        let toIngest = profiles
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    for profile in toIngest[worker...].enumerated().filter({ $0.offset % 8 == 0 }).map(\.element) {
                        _ = try await store.ingest(project: "p", bytes: TestProfiles.bytes(profile), profile: profile)
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await store.pendingCount() == 240)

        let touched = Collector<RollupWindow>()
        let passes = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var done = 0
                    while true {
                        let pass = try await rollups.rollUpPending(limit: 7)
                        if pass.rawProfiles == 0 { return done }
                        #expect(pass.setAside.isEmpty)
                        touched.add(pass.windows)
                        done += pass.rawProfiles
                    }
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(passes.reduce(0, +) == 240)
        #expect(try await store.pendingCount() == 0)
        // Several workers shared the work.
        #expect(passes.filter { $0 > 0 }.count > 1)

        for granularity in Granularity.allCases {
            for segment in segments {
                var expected: [Int64: (raws: Int, requests: Int64)] = [:]
                for p in profiles where p.segment == segment {
                    let bucket = granularity.bucketStart(containing: p.windowStart)
                    expected[bucket, default: (0, 0)].raws += 1
                    expected[bucket, default: (0, 0)].requests += p.latency?.requestCount ?? 0
                }
                let stored = try await rollups.rollups(
                    project: "p", model: "fraud", granularity: granularity, from: Self.base - TestProfiles.day,
                    to: Self.base + 2 * TestProfiles.day, segment: segment)
                #expect(stored.count == expected.count, "\(granularity) \(segment)")
                for record in stored {
                    let want = expected[record.window.windowStart]
                    let profile = try record.profile()
                    #expect(record.rawCount == want?.raws, "\(record.window)")
                    #expect(profile.latency?.requestCount == want?.requests, "\(record.window)")
                    #expect(profile.windowStart == record.window.windowStart)
                    #expect(profile.windowLength == granularity.milliseconds && profile.segment == segment)
                }
            }
        }
        // 3 segments × (4 hours + 2 days) windows were written, and reported.
        #expect(touched.values.count == 18)
        let connection = try database.connect()
        #expect(try connection.query("SELECT count(*) FROM rollup_ledger").scalar(Int.self) == 480)
        #expect(
            try connection.query("SELECT count(DISTINCT (raw_id, granularity)) FROM rollup_ledger").scalar(Int.self)
                == 480)

        // Late data: a profile for the first hour arrives after everything was rolled up.
        let late = TestProfiles.latency(
            segment: segments[0], windowStart: Self.base + 5 * TestProfiles.minute, requests: 1000, random: &rng)
        _ = try await store.ingest(project: "p", bytes: TestProfiles.bytes(late), profile: late)
        let pass = try await rollups.rollUpPending()
        #expect(pass.rawProfiles == 1 && pass.windows.count == 2)
        #expect(pass.windows.map(\.windowStart).sorted() == [Self.base - 22 * TestProfiles.hour, Self.base])
        let hour = try await rollups.rollups(
            project: "p", model: "fraud", granularity: .hour, from: Self.base, to: Self.base + 1, segment: segments[0])
        let before = profiles.filter { $0.segment == segments[0] && $0.windowStart < Self.base + TestProfiles.hour }
        #expect(hour.first?.rawCount == before.count + 1)
        #expect(
            try hour.first?.profile().latency?.requestCount
                == before.reduce(1000) { $0 + ($1.latency?.requestCount ?? 0) })
        // Re-sending an upload that is already rolled up changes nothing.
        #expect(try await store.ingest(project: "p", bytes: TestProfiles.bytes(late), profile: late).duplicate)
        #expect(try await rollups.rollUpPending().rawProfiles == 0)

        // The merged view over every segment and both days.
        let all = try await rollups.mergedProfile(
            project: "p", model: "fraud", granularity: .day, from: Self.base - TestProfiles.day,
            to: Self.base + TestProfiles.day)
        #expect(all?.latency?.requestCount == profiles.reduce(1000) { $0 + ($1.latency?.requestCount ?? 0) })
        #expect(all?.segment == .all)
        let updated = try await rollups.windowsUpdated(after: PostgresTimestamp(microsecondsSinceEpoch: 0))
        #expect(updated.count == 18)
    }

    /// The ledger is the last line of defence: merging the same raw profile into the same
    /// granularity twice fails the second transaction, and the rollup keeps its count.
    @Test func theLedgerRefusesASecondMergeOfTheSameProfile() async throws {
        let database = try TestDatabase.create("ledger")
        let pool = database.pool()
        defer { pool.close() }
        let store = ProfileStore(pool: pool)
        var rng = SeededRandom(seed: 32)
        let profile = TestProfiles.latency(windowStart: Self.base, requests: 7, random: &rng)
        let stored = try await store.ingest(project: "l", bytes: TestProfiles.bytes(profile), profile: profile)
        let stream = try await store.streams.resolve(StreamKey(project: "l", profile: profile))
        let window = RollupWindow(streamID: stream, granularity: .hour, windowStart: Self.base)
        let contribution = RollupStore.RawContribution(
            rawID: stored.id, rawWindowStart: profile.windowStart, profile: profile)
        let first = try await pool.withTransaction { try RollupStore.merge([contribution], into: window, $0) }
        #expect(first == [nil])
        let again = await #expect(throws: StorageError.self) {
            try await pool.withTransaction { try RollupStore.merge([contribution], into: window, $0) }
        }
        #expect(again?.isUniqueViolation == true && again?.constraint?.hasPrefix("rollup_ledger") == true)
        let rollups = try await RollupStore(pool: pool).rollups(
            project: "l", model: "fraud", granularity: .hour, from: Self.base, to: Self.base + 1)
        #expect(rollups.map(\.rawCount) == [1])
        #expect(try rollups.first?.profile().latency?.requestCount == 7)
    }

    @Test(.enabled(if: TestProfiles.columnsRoundTrip, "column profiles need the real HLL sketch to decode"))
    func rollupsMergeColumnProfiles() async throws {
        let database = try TestDatabase.create("rollupcolumns")
        let pool = database.pool()
        defer { pool.close() }
        let store = ProfileStore(pool: pool)
        let rollups = RollupStore(pool: pool, granularities: [.hour])
        var rng = SeededRandom(seed: 41)
        for minute in 0..<12 {
            let profile = TestProfiles.columns(
                columns: 3, rows: 100, windowStart: Self.base + Int64(minute) * TestProfiles.minute, random: &rng)
            _ = try await store.ingest(project: "c", bytes: TestProfiles.bytes(profile), profile: profile)
        }
        #expect(try await rollups.rollUpPending().rawProfiles == 12)
        let merged = try await rollups.mergedProfile(
            project: "c", model: "fraud", granularity: .hour, from: Self.base, to: Self.base + TestProfiles.hour)
        #expect(merged?.columnNames == ["feature_0", "feature_1", "feature_2"])
        #expect(merged?.columns["feature_1"]?.count == 1200 && merged?.rowCount == 1200)
    }

    @Test func anUnmergeableProfileIsSetAsideWithItsReason() async throws {
        let database = try TestDatabase.create("rollupbad")
        let pool = database.pool()
        defer { pool.close() }
        let store = ProfileStore(pool: pool)
        let rollups = RollupStore(pool: pool)
        var rng = SeededRandom(seed: 51)
        var classification = ClassificationProfile()
        classification.update(predicted: "a", actual: "a", score: 0.9, probabilityOfActual: 0.9)
        var regression = RegressionProfile()
        regression.update(predicted: 1, actual: 2)
        var first = TestProfiles.latency(windowStart: Self.base, requests: 1, random: &rng)
        first.performance = .classification(classification)
        var second = TestProfiles.latency(windowStart: Self.base + TestProfiles.minute, requests: 1, random: &rng)
        second.performance = .regression(regression)
        _ = try await store.ingest(project: "x", bytes: TestProfiles.bytes(first), profile: first)
        _ = try await store.ingest(project: "x", bytes: TestProfiles.bytes(second), profile: second)
        let pass = try await rollups.rollUpPending()
        #expect(pass.rawProfiles == 2 && pass.setAside.count == 1)
        #expect(pass.setAside.first?.reason.contains("cannot merge") == true)
        #expect(try await store.pendingCount() == 0)
        let reason = try database.connect().query(
            "SELECT rollup_error FROM raw_profiles WHERE rollup_error IS NOT NULL"
        ).scalar(String.self)
        #expect(reason.contains("cannot merge"))
    }
}
