import DriftTestSupport
import Profiles
import Testing

@testable import Storage

/// Ingest rates of the storage primitives, next to a raw COPY of the same bytes into the same
/// database in the same run (the anchor the benchmark compares with). The figures are
/// printed, not asserted: they depend on the machine and on what else runs.
@Suite("Storage throughput")
struct ThroughputTests {
    static let profiles = 1000

    @Test func ingestRatesNextToRawCopy() async throws {
        let database = try TestDatabase.create("throughput")
        let pool = database.pool(maxConnections: 8)
        defer { pool.close() }
        let store = ProfileStore(pool: pool)
        var rng = SeededRandom(seed: 81)
        let base: Int64 = 1_741_644_000_000
        // 20-column, 1-minute-window profiles, as in the benchmark.
        let template = TestProfiles.columns(columns: 20, rows: 100, windowStart: base, random: &rng)
        let uploads: [(DatasetProfile, [UInt8])] = (0..<(2 * Self.profiles)).map { i in
            var profile = template
            profile.uploadID = UploadID.random(using: &rng)
            profile.windowStart = base + Int64(i % 600) * TestProfiles.minute
            return (profile, TestProfiles.bytes(profile))
        }
        let size = uploads[0].1.count
        try await store.partitions.ensureAhead(now: base)

        // One acknowledged transaction per profile, 16 concurrent clients.
        let single = Array(uploads[0..<Self.profiles])
        let clock = ContinuousClock()
        let singleTime = try await clock.measure {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for client in 0..<16 {
                    group.addTask {
                        for (profile, bytes) in single[client...].enumerated().filter({ $0.offset % 16 == 0 }).map(
                            \.element)
                        {
                            _ = try await store.ingest(project: "bench", bytes: bytes, profile: profile)
                        }
                    }
                }
                try await group.waitForAll()
            }
        }

        // Group commit: batches of 50 in one pipelined transaction, 4 concurrent.
        let batched = Array(uploads[Self.profiles...])
        let batchTime = try await clock.measure {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for client in 0..<4 {
                    group.addTask {
                        let mine = batched[(batched.startIndex + client)...].enumerated()
                            .filter { $0.offset % 4 == 0 }.map(\.element)
                        for start in stride(from: 0, to: mine.count, by: 50) {
                            let requests = mine[start..<min(start + 50, mine.count)].map {
                                ProfileStore.IngestRequest(project: "bench", bytes: $0.1, profile: $0.0)
                            }
                            _ = try await store.ingest(requests)
                        }
                    }
                }
                try await group.waitForAll()
            }
        }

        // The anchor: the same bytes by binary COPY into a plain table, one transaction.
        let rows: [[PostgresValue]] = uploads[0..<Self.profiles].map { [.uuid($0.0.uploadID), .bytea($0.1)] }
        let copyTime = try await clock.measure {
            try await pool.withConnection { connection in
                try connection.execute("CREATE TABLE copy_anchor (upload_id uuid, bytes bytea)")
                // Same compression as raw_profiles.bytes (lz4 where the migration could set it).
                if connection.serverVersion >= 140000 {
                    let method = try connection.query(
                        """
                        SELECT attcompression::text FROM pg_attribute
                        WHERE attrelid = 'raw_profiles'::regclass AND attname = 'bytes'
                        """
                    ).scalar(String.self)
                    if method == "l" {
                        try connection.execute("ALTER TABLE copy_anchor ALTER bytes SET COMPRESSION lz4")
                    }
                }
                _ = try connection.withTransaction {
                    try $0.copyIn("COPY copy_anchor (upload_id, bytes) FROM STDIN (FORMAT binary)", binaryRows: rows)
                }
            }
        }

        let stored = try await pool.withConnection {
            try $0.query("SELECT count(*) FROM raw_profiles WHERE project = 'bench'").scalar(Int.self)
        }
        #expect(stored == 2 * Self.profiles)
        func rate(_ duration: Duration) -> Int {
            let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
            return Int((Double(Self.profiles) / seconds).rounded())
        }
        print(
            "storage throughput (\(Self.profiles) profiles of \(size) bytes each): "
                + "ingest one per transaction, 16 clients \(rate(singleTime))/s; "
                + "batched 50 per transaction, 4 clients \(rate(batchTime))/s; "
                + "raw binary COPY \(rate(copyTime))/s")
    }
}
