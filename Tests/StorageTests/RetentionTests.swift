import DriftTestSupport
import Profiles
import Testing

@testable import Storage

@Suite("Partitions and retention")
struct RetentionTests {
    static let january: Int64 = 1_736_942_400_000  // 2025-01-15T12:00:00Z
    static let february: Int64 = 1_739_620_800_000  // 2025-02-15T12:00:00Z
    static let june: Int64 = 1_749_988_800_000  // 2025-06-15T12:00:00Z

    @Test func partitionNamesParseToUTCMonths() {
        let p = PartitionManager.parse("raw_profiles_p2024_12", parent: "raw_profiles")
        #expect(p?.lowerBound == RFC3339.parse("2024-12-01T00:00:00Z"))
        #expect(p?.upperBound == RFC3339.parse("2025-01-01T00:00:00Z"))
        #expect(PartitionManager.parse("raw_profiles_p2024_13", parent: "raw_profiles") == nil)
        #expect(PartitionManager.parse("raw_profiles_old", parent: "raw_profiles") == nil)
        #expect(PartitionManager.parse("rollups_hour_p2025_02", parent: "rollups_day") == nil)
        #expect(RFC3339.monthStart(containing: Self.june) == RFC3339.parse("2025-06-01T00:00:00Z"))
    }

    /// Old months go, per kind of data; a month whose raw profiles are not all rolled up
    /// stays; late data for a dropped month brings its partitions back, also for a process
    /// that still believed they existed.
    @Test func retentionDropsWholeMonthsPerGranularity() async throws {
        let database = try TestDatabase.create("retention")
        let pool = database.pool()
        defer { pool.close() }
        let store = ProfileStore(pool: pool)
        let otherProcess = ProfileStore(pool: pool)
        let rollups = RollupStore(pool: pool)
        let metrics = MetricStore(pool: pool)
        var rng = SeededRandom(seed: 61)
        for t in [Self.january, Self.june] {
            let profile = TestProfiles.latency(windowStart: t, requests: 10, random: &rng)
            _ = try await store.ingest(project: "r", bytes: TestProfiles.bytes(profile), profile: profile)
        }
        let early = TestProfiles.latency(windowStart: Self.january + TestProfiles.minute, requests: 1, random: &rng)
        _ = try await otherProcess.ingest(project: "r", bytes: TestProfiles.bytes(early), profile: early)
        #expect(try await rollups.rollUpPending().rawProfiles == 3)
        let pending = TestProfiles.latency(windowStart: Self.february, requests: 10, random: &rng)
        _ = try await store.ingest(project: "r", bytes: TestProfiles.bytes(pending), profile: pending)
        let stream = try await store.streams.resolve(StreamKey(project: "r", model: "fraud"))
        try await metrics.upsert([
            MetricRecord(
                window: RollupWindow(streamID: stream, granularity: .hour, windowStart: Self.january), metric: "count",
                value: 11)
        ])

        let dropped = try await store.partitions.applyRetention(
            RetentionPolicy(rawDays: 30, hourDays: 60, dayDays: 365), now: Self.june)
        // Raw data of January goes (February still has a profile to roll up); hourly data of
        // January and February goes; daily data stays.
        #expect(
            Set(dropped) == [
                "raw_profiles_p2025_01", "rollup_ledger_p2025_01", "rollups_hour_p2025_01", "rollups_hour_p2025_02",
                "metrics_hour_p2025_01", "metrics_hour_p2025_02",
            ])
        #expect(
            try await store.partitions.partitions(of: "raw_profiles").map(\.name) == [
                "raw_profiles_p2025_02", "raw_profiles_p2025_06",
            ])
        #expect(try await store.pendingCount() == 1)
        let january = try await rollups.rollups(
            project: "r", model: "fraud", granularity: .day, from: Self.january - TestProfiles.day,
            to: Self.june + TestProfiles.day)
        #expect(january.map(\.rawCount) == [2, 1])
        let hourly = try await rollups.rollups(
            project: "r", model: "fraud", granularity: .hour, from: Self.january - TestProfiles.day,
            to: Self.june + TestProfiles.day)
        #expect(hourly.map(\.window.windowStart) == [Self.june])
        #expect(try await retentionIsIdempotent(store))

        // Late data for January, through a store that ensured January before the drop: the
        // insert finds no partition, the store recreates it and retries. Rolling up the
        // February profile recreates February's dropped hourly partition the same way.
        let straggler = TestProfiles.latency(
            windowStart: Self.january + 2 * TestProfiles.minute, requests: 1, random: &rng)
        let result = try await otherProcess.ingest(
            project: "r", bytes: TestProfiles.bytes(straggler), profile: straggler)
        #expect(!result.duplicate)
        #expect(try await rollups.rollUpPending().rawProfiles == 2)
        let day = try await rollups.rollups(
            project: "r", model: "fraud", granularity: .day, from: Self.january - TestProfiles.day,
            to: Self.january + TestProfiles.day)
        #expect(day.first?.rawCount == 3)
    }

    private func retentionIsIdempotent(_ store: ProfileStore) async throws -> Bool {
        try await store.partitions.applyRetention(
            RetentionPolicy(rawDays: 30, hourDays: 60, dayDays: 365), now: Self.june
        ).isEmpty
    }

    @Test func foreverKeepsEverything() async throws {
        let database = try TestDatabase.create("retentionforever")
        let pool = database.pool()
        defer { pool.close() }
        let partitions = PartitionManager(pool: pool)
        try await partitions.ensureAhead(now: Self.january)
        #expect(
            try await partitions.partitions(of: "metrics_day").map(\.name) == [
                "metrics_day_p2025_01", "metrics_day_p2025_02",
            ])
        #expect(try await partitions.applyRetention(.forever, now: Self.june + 3650 * TestProfiles.day).isEmpty)
    }
}
