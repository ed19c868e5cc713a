import Profiles

/// A rollup window whose metrics are due, with what computing them needs.
public struct DueWindow: Sendable {
    public var window: RollupWindow
    public var project: String
    public var model: String
    public var modelVersion: String
    public var segment: String
    /// The rollup's `updated_at`: recorded as `metrics_at` once the metrics are written.
    public var updatedAt: PostgresTimestamp
    /// The rollup's profile (native bytes).
    public var bytes: [UInt8]
}

/// The metric materialiser's queries. Everything runs on the caller's connection so that
/// claiming windows, reading baselines, writing metric rows and marking the windows computed
/// are one transaction.
public enum EvaluationStore {
    /// Claims up to `limit` rollup windows at `granularities` that ended at or before
    /// `endedBy` (ms), have not changed for `settleMilliseconds` (a window being filled by a
    /// backfill is computed once it is quiet, not after every merge) and have no metrics for
    /// their current contents, oldest change first,
    /// locking them (`FOR UPDATE SKIP LOCKED`) until the transaction ends.
    ///
    /// - Precondition: `connection` is inside a transaction.
    public static func claimDue(
        limit: Int, endedBy: Int64, settleMilliseconds: Int64 = 0, granularities: [Granularity],
        _ connection: PostgresConnection
    ) throws -> [DueWindow] {
        precondition(connection.transactionState == .inTransaction, "claimDue needs a transaction")
        // A metric pass locks rollup rows and then writes metrics: without this it deadlocks
        // with a backfill creating new months' partitions.
        try PartitionManager.holdCreationLock(connection)
        return try connection.query(
            """
            SELECT r.stream_id, r.granularity, r.window_start, r.updated_at, r.profile,
                   s.project, s.model, s.model_version, s.segment
            FROM rollups r JOIN streams s ON s.id = r.stream_id
            WHERE (r.metrics_at IS NULL OR r.metrics_at < r.updated_at)
              AND r.granularity = ANY($1::text[])
              AND r.window_start + CASE r.granularity WHEN 'hour' THEN interval '1 hour' ELSE interval '1 day' END
                  <= $2
              AND r.updated_at <= now() - make_interval(secs => $4::float8 / 1000)
            ORDER BY r.updated_at
            LIMIT $3
            FOR UPDATE OF r SKIP LOCKED
            """,
            [
                .textArray(granularities.map(\.rawValue)), .timestamp(milliseconds: endedBy),
                .int64(Int64(limit)), .int64(settleMilliseconds),
            ]
        ).map { row in
            guard let granularity = Granularity(rawValue: try row.decode(String.self, at: 1)) else {
                throw StorageError(.decoding, "unknown granularity in rollups")
            }
            return DueWindow(
                window: RollupWindow(
                    streamID: try row.decode(Int64.self, at: 0), granularity: granularity,
                    windowStart: try row.decode(PostgresTimestamp.self, at: 2).milliseconds),
                project: try row.decode(String.self, at: 5), model: try row.decode(String.self, at: 6),
                modelVersion: try row.decode(String.self, at: 7), segment: try row.decode(String.self, at: 8),
                updatedAt: try row.decode(PostgresTimestamp.self, at: 3), bytes: try row.decode([UInt8].self, at: 4))
        }
    }

    /// Records that `window`'s metrics reflect its rollup as of `updatedAt`.
    public static func markComputed(_ window: DueWindow, _ connection: PostgresConnection) throws {
        try connection.execute(
            """
            UPDATE rollups SET metrics_at = $4
            WHERE stream_id = $1 AND granularity = $2 AND window_start = $3
            """,
            [
                .int64(window.window.streamID), .text(window.window.granularity.rawValue),
                .timestamp(milliseconds: window.window.windowStart), .timestamp(window.updatedAt),
            ])
    }

    /// Makes every window of a model due again (after its baselines changed).
    ///
    /// - Precondition: `connection` is inside a transaction.
    @discardableResult
    public static func invalidate(project: String, model: String, _ connection: PostgresConnection) throws -> Int {
        try PartitionManager.holdCreationLock(connection)
        return try connection.execute(
            """
            UPDATE rollups r SET metrics_at = NULL
            FROM streams s
            WHERE s.id = r.stream_id AND s.project = $1 AND s.model = $2 AND r.metrics_at IS NOT NULL
            """, [.text(project), .text(model)])
    }

    /// The baselines of a model.
    public static func baselines(
        project: String, model: String, _ connection: PostgresConnection
    ) throws
        -> [Baseline]
    {
        try connection.query(
            "SELECT \(BaselineStore.columns) FROM baselines WHERE project = $1 AND model = $2 ORDER BY name",
            [.text(project), .text(model)]
        ).map(BaselineStore.baseline)
    }

    /// The rollup profiles of a model at one granularity with windows starting in `[from, to)`,
    /// in window then stream order: of one stream, or of the streams of one segment, or all.
    public static func rollupProfiles(
        project: String, model: String, granularity: Granularity, from: Int64, to: Int64, streamID: Int64? = nil,
        segment: String? = nil, _ connection: PostgresConnection
    ) throws -> [[UInt8]] {
        try connection.query(
            """
            SELECT r.profile FROM rollups r JOIN streams s ON s.id = r.stream_id
            WHERE s.project = $1 AND s.model = $2 AND r.granularity = $3
              AND r.window_start >= $4 AND r.window_start < $5
              AND ($6::int8 IS NULL OR r.stream_id = $6) AND ($7::text IS NULL OR s.segment = $7)
            ORDER BY r.window_start, r.stream_id
            """,
            [
                .text(project), .text(model), .text(granularity.rawValue), .timestamp(milliseconds: from),
                .timestamp(milliseconds: to), streamID.map { .int64($0) } ?? .null, .text(segment),
            ]
        ).map { try $0.decode([UInt8].self, at: 0) }
    }

    /// Writes metric rows on the caller's connection (see ``MetricStore/upsert(_:)``); the
    /// windows' partitions exist because their rollups do.
    @discardableResult
    public static func upsert(_ records: [MetricRecord], _ connection: PostgresConnection) throws -> Int {
        guard !records.isEmpty else { return 0 }
        return try connection.execute(MetricStore.upsertSQL, MetricStore.parameters(MetricStore.latest(records)))
    }
}
