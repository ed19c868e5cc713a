public import Profiles

/// A rollup row's key: one stream's bucket at one granularity.
public struct RollupWindow: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var streamID: Int64
    public var granularity: Granularity
    /// The bucket start, ms since the epoch.
    public var windowStart: Int64

    public init(streamID: Int64, granularity: Granularity, windowStart: Int64) {
        self.streamID = streamID
        self.granularity = granularity
        self.windowStart = windowStart
    }

    /// Lock order: every worker locks rollup rows in this order, so two workers merging into
    /// overlapping windows wait for each other instead of deadlocking.
    public static func < (a: RollupWindow, b: RollupWindow) -> Bool {
        (a.streamID, a.granularity.milliseconds, a.windowStart) < (
            b.streamID, b.granularity.milliseconds, b.windowStart
        )
    }

    public var description: String {
        "stream \(streamID) \(granularity.rawValue) \(RFC3339.format(milliseconds: windowStart))"
    }
}

/// One stored rollup.
public struct RollupRecord: Sendable {
    public var window: RollupWindow
    /// Raw profiles merged in.
    public var rawCount: Int
    /// Rows in the merged profile.
    public var rowCount: Int64
    public var updatedAt: PostgresTimestamp
    /// The merged profile, native format.
    public var bytes: [UInt8]

    /// Decodes ``bytes``.
    public func profile() throws -> DatasetProfile { try NativeCodec.decode(bytes) }
}

/// What one ``RollupStore/rollUpPending(limit:)`` pass did.
public struct RollupPass: Sendable {
    /// Raw profiles claimed and marked rolled up (including those set aside).
    public var rawProfiles: Int
    /// Rollup rows written, in lock order: the windows whose metrics are now stale (this is how
    /// late data reaches the evaluator).
    public var windows: [RollupWindow]
    /// Raw profiles that could not be merged (undecodable, or incompatible with their
    /// window's rollup), with the reason; they are marked rolled up with `rollup_error` set.
    public var setAside: [(id: Int64, reason: String)]
}

/// Rollups: raw profiles merged into hourly and daily windows, each raw profile exactly once.
///
/// A pass (``rollUpPending(limit:)``) is one transaction: it claims pending raw profiles with
/// `FOR UPDATE SKIP LOCKED` (so concurrent workers, in this process or other replicas, take
/// disjoint sets), locks each affected rollup row with `SELECT … FOR UPDATE` in a fixed order,
/// merges with ``DatasetProfile/merge(_:)``, writes the rollup back and records every
/// (raw profile, granularity) in `rollup_ledger` — whose primary key rejects a second merge —
/// (``merge(_:into:_:)``), and marks the raw profiles rolled up. A crash anywhere rolls all of
/// it back.
public final class RollupStore: Sendable {
    let pool: ConnectionPool
    public let granularities: [Granularity]

    public init(pool: ConnectionPool, granularities: [Granularity] = Granularity.allCases) {
        precondition(!granularities.isEmpty, "at least one granularity")
        self.pool = pool
        self.granularities = granularities.sorted()
    }

    /// Merges up to `limit` pending raw profiles into their rollups; returns what it did
    /// (``RollupPass/rawProfiles`` is 0 when nothing was pending).
    public func rollUpPending(limit: Int = 100) async throws -> RollupPass {
        precondition(limit > 0, "limit must be positive")
        let granularities = self.granularities
        return try await pool.withConnection { connection in
            // The months of the claimed raw profiles, in case a rollup partition is missing.
            var months: Set<Int64> = []
            return try PartitionManager.retryingMissingPartition(connection, months: { months }) {
                months = []
                return try connection.withTransaction { connection in
                    try Self.rollUp(limit: limit, granularities: granularities, months: &months, connection)
                }
            }
        }
    }

    private static func rollUp(
        limit: Int, granularities: [Granularity], months: inout Set<Int64>, _ connection: PostgresConnection
    ) throws -> RollupPass {
        try PartitionManager.holdCreationLock(connection)
        let claimed = try ProfileStore.claimPending(limit: limit, connection)
        guard !claimed.isEmpty else { return RollupPass(rawProfiles: 0, windows: [], setAside: []) }
        var setAside: [(id: Int64, reason: String)] = []
        var decoded: [(PendingRawProfile, DatasetProfile)] = []
        for raw in claimed {
            months.insert(RFC3339.monthStart(containing: raw.windowStart))
            do {
                var profile = try ProfileCodec.decode(raw.bytes).profile
                profile.model = raw.model
                decoded.append((raw, profile))
            } catch {
                setAside.append((raw.id, "undecodable: \(error)"))
            }
        }
        var groups: [RollupWindow: [RawContribution]] = [:]
        for (raw, profile) in decoded {
            for granularity in granularities {
                let window = RollupWindow(
                    streamID: raw.streamID, granularity: granularity,
                    windowStart: granularity.bucketStart(containing: raw.windowStart))
                groups[window, default: []].append(
                    RawContribution(rawID: raw.id, rawWindowStart: raw.windowStart, profile: profile))
            }
        }
        var written: [RollupWindow] = []
        var rejected: [Int64: String] = [:]
        for window in groups.keys.sorted() {
            let contributions = groups[window, default: []].filter { rejected[$0.rawID] == nil }
            let outcomes = try merge(contributions, into: window, connection)
            for (contribution, failure) in zip(contributions, outcomes) {
                if let failure { rejected[contribution.rawID] = "cannot merge into \(window): \(failure)" }
            }
            if outcomes.contains(where: { $0 == nil }) { written.append(window) }
        }
        // Windows are merged in lock order, hours before days: a profile rejected by its hour
        // is not offered to its day. One rejected by its day stays in its hour (the ledger says
        // so), and is set aside for an operator to look at either way.
        setAside += rejected.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        let reasons = Dictionary(setAside.map { ($0.id, $0.reason) }, uniquingKeysWith: { a, _ in a })
        try connection.execute(
            """
            UPDATE raw_profiles r SET rolled_up_at = now(), rollup_error = u.reason
            FROM unnest($1::int8[], $2::timestamptz[], $3::text[]) AS u(id, window_start, reason)
            WHERE r.id = u.id AND r.window_start = u.window_start
            """,
            [
                .int64Array(claimed.map(\.id)), .timestampArray(milliseconds: claimed.map(\.windowStart)),
                .array(element: .text, claimed.map { .text(reasons[$0.id]) }),
            ])
        return RollupPass(rawProfiles: claimed.count, windows: written, setAside: setAside)
    }

    /// One raw profile on its way into a rollup.
    public struct RawContribution: Sendable {
        public var rawID: Int64
        /// The raw profile's window start (ms): its partition key, recorded in the ledger.
        public var rawWindowStart: Int64
        public var profile: DatasetProfile

        public init(rawID: Int64, rawWindowStart: Int64, profile: DatasetProfile) {
            self.rawID = rawID
            self.rawWindowStart = rawWindowStart
            self.profile = profile
        }
    }

    /// Merges raw profiles into the rollup at `window` inside the caller's transaction: locks
    /// the row (`SELECT … FOR UPDATE`) or creates it, merges with ``DatasetProfile/merge(_:)``,
    /// writes it back with the raw count increased by the profiles merged, and records each
    /// merged profile in `rollup_ledger`, whose primary key (raw profile, granularity) makes a
    /// second merge of the same profile fail the transaction instead of counting twice.
    ///
    /// Returns, per contribution, nil when merged or the merge error (that profile is left out,
    /// the others are merged). Marking the raw profiles rolled up is the caller's part
    /// (``rollUpPending(limit:)`` does it in the same transaction).
    ///
    /// - Precondition: `connection` is inside a transaction; all profiles are of one model.
    public static func merge(
        _ contributions: [RawContribution], into window: RollupWindow, _ connection: PostgresConnection
    ) throws -> [ProfileError?] {
        precondition(connection.transactionState == .inTransaction, "merge needs a transaction")
        guard !contributions.isEmpty else { return [] }
        let key: [PostgresValue] = [
            .int64(window.streamID), .text(window.granularity.rawValue), .timestamp(milliseconds: window.windowStart),
        ]
        while true {
            let existing = try connection.query(
                """
                SELECT profile FROM rollups
                WHERE stream_id = $1 AND granularity = $2 AND window_start = $3
                FOR UPDATE
                """, key
            ).first
            var outcomes: [ProfileError?] = []
            var merged: DatasetProfile?
            if let existing {
                do {
                    merged = try NativeCodec.decode(try existing.decode([UInt8].self, at: 0))
                } catch {
                    throw StorageError(.decoding, "the rollup at \(window) does not decode: \(error)")
                }
            }
            for contribution in contributions {
                guard var current = merged else {
                    merged = contribution.profile
                    outcomes.append(nil)
                    continue
                }
                do {
                    try current.merge(contribution.profile)
                    merged = current
                    outcomes.append(nil)
                } catch {
                    outcomes.append(error)
                }
            }
            let accepted = zip(contributions, outcomes).filter { $0.1 == nil }.map(\.0)
            guard var result = merged, !accepted.isEmpty else { return outcomes }
            result.windowStart = window.windowStart
            result.windowLength = window.granularity.milliseconds
            let row =
                key + [.bytea(NativeCodec.encode(result)), .int32(Int32(accepted.count)), .int64(result.rowCount)]
            if existing != nil {
                try connection.execute(
                    """
                    UPDATE rollups SET profile = $4, raw_count = raw_count + $5, row_count = $6, updated_at = now()
                    WHERE stream_id = $1 AND granularity = $2 AND window_start = $3
                    """, row)
            } else {
                let inserted = try connection.execute(
                    """
                    INSERT INTO rollups (stream_id, granularity, window_start, profile, raw_count, row_count)
                    VALUES ($1, $2, $3, $4, $5, $6)
                    ON CONFLICT DO NOTHING
                    """, row)
                // Another worker created the row after our look (the insert waited for it to
                // commit): lock that row and merge into it.
                if inserted == 0 { continue }
            }
            try connection.execute(
                """
                INSERT INTO rollup_ledger (raw_id, raw_window_start, granularity, stream_id, rollup_window_start)
                SELECT u.raw_id, u.raw_window_start, $3, $1, $2
                FROM unnest($4::int8[], $5::timestamptz[]) AS u(raw_id, raw_window_start)
                """,
                [
                    .int64(window.streamID), .timestamp(milliseconds: window.windowStart),
                    .text(window.granularity.rawValue), .int64Array(accepted.map(\.rawID)),
                    .timestampArray(milliseconds: accepted.map(\.rawWindowStart)),
                ])
            return outcomes
        }
    }

    // MARK: Reading

    /// The rollups of a model at one granularity with windows starting in `[from, to)`,
    /// optionally of one segment and one model version, by window then stream.
    public func rollups(
        project: String, model: String, granularity: Granularity, from: Int64, to: Int64, segment: Segment? = nil,
        modelVersion: String? = nil
    ) async throws -> [RollupRecord] {
        try await pool.withConnection { connection in
            try connection.query(
                """
                SELECT r.stream_id, r.window_start, r.raw_count, r.row_count, r.updated_at, r.profile
                FROM rollups r JOIN streams s ON s.id = r.stream_id
                WHERE s.project = $1 AND s.model = $2 AND r.granularity = $3
                  AND r.window_start >= $4 AND r.window_start < $5
                  AND ($6::text IS NULL OR s.segment = $6) AND ($7::text IS NULL OR s.model_version = $7)
                ORDER BY r.window_start, r.stream_id
                """,
                [
                    .text(project), .text(model), .text(granularity.rawValue), .timestamp(milliseconds: from),
                    .timestamp(milliseconds: to), .text(segment?.description), .text(modelVersion),
                ]
            ).map { row in
                RollupRecord(
                    window: RollupWindow(
                        streamID: try row.decode(Int64.self, at: 0), granularity: granularity,
                        windowStart: try row.decode(PostgresTimestamp.self, at: 1).milliseconds),
                    rawCount: try row.decode(Int.self, at: 2), rowCount: try row.decode(Int64.self, at: 3),
                    updatedAt: try row.decode(PostgresTimestamp.self, at: 4), bytes: try row.decode([UInt8].self, at: 5)
                )
            }
        }
    }

    /// The merge of ``rollups(project:model:granularity:from:to:segment:modelVersion:)``, or nil
    /// when there is none. Merging across segments yields the tags they share (see
    /// ``DatasetProfile/merge(_:)``).
    public func mergedProfile(
        project: String, model: String, granularity: Granularity, from: Int64, to: Int64, segment: Segment? = nil,
        modelVersion: String? = nil
    ) async throws -> DatasetProfile? {
        var merged: DatasetProfile?
        for record in try await rollups(
            project: project, model: model, granularity: granularity, from: from, to: to, segment: segment,
            modelVersion: modelVersion)
        {
            let profile = try record.profile()
            if merged == nil { merged = profile } else { try merged?.merge(profile) }
        }
        return merged
    }

    /// Rollup windows updated after `since` (exclusive), oldest update first: the evaluator's
    /// work list, including windows that late data changed.
    public func windowsUpdated(
        after since: PostgresTimestamp, limit: Int = 1000
    ) async throws
        -> [(window: RollupWindow, updatedAt: PostgresTimestamp)]
    {
        try await pool.withConnection { connection in
            try connection.query(
                """
                SELECT stream_id, granularity, window_start, updated_at FROM rollups
                WHERE updated_at > $1 ORDER BY updated_at, stream_id, granularity, window_start LIMIT $2
                """, [.timestamp(since), .int64(Int64(limit))]
            ).map { row in
                guard let granularity = Granularity(rawValue: try row.decode(String.self, at: 1)) else {
                    throw StorageError(.decoding, "unknown granularity in rollups")
                }
                return (
                    RollupWindow(
                        streamID: try row.decode(Int64.self, at: 0), granularity: granularity,
                        windowStart: try row.decode(PostgresTimestamp.self, at: 2).milliseconds),
                    try row.decode(PostgresTimestamp.self, at: 3)
                )
            }
        }
    }
}
