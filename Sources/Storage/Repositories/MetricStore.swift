public import Profiles

/// One materialised metric value: a drift, quality, performance or latency statistic of one
/// stream's window, for one column (or the dataset) and one baseline (or none).
public struct MetricRecord: Sendable, Equatable {
    public var window: RollupWindow
    /// The column, or '' for dataset-level metrics (performance, latency).
    public var column: String
    /// The metric's name, e.g. `psi`, `ks`, `null_fraction`, `accuracy`, `latency_p99`.
    public var metric: String
    /// The baseline's name, or '' for metrics that compare with none.
    public var baseline: String
    public var value: Double
    /// The metric's error bound from the sketches, when it has one.
    public var bound: Double?
    public var pValue: Double?

    public init(
        window: RollupWindow, column: String = "", metric: String, baseline: String = "", value: Double,
        bound: Double? = nil, pValue: Double? = nil
    ) {
        self.window = window
        self.column = column
        self.metric = metric
        self.baseline = baseline
        self.value = value
        self.bound = bound
        self.pValue = pValue
    }
}

/// One point of a metric time series.
public struct MetricPoint: Sendable, Equatable {
    public var windowStart: Int64
    public var streamID: Int64
    /// The stream's segment description.
    public var segment: String
    public var modelVersion: String
    public var baseline: String
    public var value: Double
    public var bound: Double?
    public var pValue: Double?
    public var computedAt: PostgresTimestamp
}

/// Metric rows: written (and rewritten after late data) by the evaluator, read by the API and
/// by dashboards.
public final class MetricStore: Sendable {
    let pool: ConnectionPool
    let partitions: PartitionManager

    public init(pool: ConnectionPool, partitions: PartitionManager? = nil) {
        self.pool = pool
        self.partitions = partitions ?? PartitionManager(pool: pool)
    }

    /// Inserts or replaces metric rows (keyed by stream, granularity, window, column, metric
    /// and baseline) in one statement. When the same key appears twice, the later record wins.
    /// Returns the number of rows written.
    @discardableResult
    public func upsert(_ records: [MetricRecord]) async throws -> Int {
        let rows = Self.latest(records)
        guard !rows.isEmpty else { return 0 }
        for month in Set(rows.map { RFC3339.monthStart(containing: $0.window.windowStart) }).sorted() {
            try await partitions.ensure(containing: month)
        }
        let parameters = Self.parameters(rows)
        return try await pool.withConnection { connection in
            try connection.execute(Self.upsertSQL, parameters)
        }
    }

    /// `records` with one record per key (stream, granularity, window, column, metric,
    /// baseline): the later of two wins.
    static func latest(_ records: [MetricRecord]) -> [MetricRecord] {
        struct Key: Hashable {
            var window: RollupWindow
            var column: String, metric: String, baseline: String
        }
        var latest: [Key: Int] = [:]
        for (i, r) in records.enumerated() {
            latest[Key(window: r.window, column: r.column, metric: r.metric, baseline: r.baseline)] = i
        }
        return latest.values.sorted().map { records[$0] }
    }

    static func parameters(_ rows: [MetricRecord]) -> [PostgresValue] {
        [
            .int64Array(rows.map(\.window.streamID)), .textArray(rows.map(\.window.granularity.rawValue)),
            .timestampArray(milliseconds: rows.map(\.window.windowStart)), .textArray(rows.map(\.column)),
            .textArray(rows.map(\.metric)), .textArray(rows.map(\.baseline)), .doubleArray(rows.map(\.value)),
            .doubleArray(rows.map(\.bound)), .doubleArray(rows.map(\.pValue)),
        ]
    }

    static let upsertSQL = """
        INSERT INTO metrics
            (stream_id, granularity, window_start, column_name, metric, baseline, value, bound, p_value)
        SELECT * FROM unnest($1::int8[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[],
                             $7::float8[], $8::float8[], $9::float8[])
        ON CONFLICT (stream_id, granularity, column_name, metric, baseline, window_start) DO UPDATE SET
            value = EXCLUDED.value, bound = EXCLUDED.bound, p_value = EXCLUDED.p_value, computed_at = now()
        """

    /// A metric's time series for a model: windows starting in `[from, to)` at one
    /// granularity, ordered by window then stream; optionally one segment and one baseline
    /// (nil: every baseline).
    public func series(
        project: String, model: String, column: String, metric: String, granularity: Granularity, from: Int64,
        to: Int64, segment: Segment? = nil, baseline: String? = nil
    ) async throws -> [MetricPoint] {
        try await pool.withConnection { connection in
            try connection.query(
                """
                SELECT m.window_start, m.stream_id, s.segment, s.model_version, m.baseline, m.value, m.bound,
                       m.p_value, m.computed_at
                FROM streams s JOIN metrics m ON m.stream_id = s.id
                WHERE s.project = $1 AND s.model = $2 AND ($3::text IS NULL OR s.segment = $3)
                  AND m.granularity = $4 AND m.column_name = $5 AND m.metric = $6
                  AND ($7::text IS NULL OR m.baseline = $7)
                  AND m.window_start >= $8 AND m.window_start < $9
                ORDER BY m.window_start, m.stream_id, m.baseline
                """,
                [
                    .text(project), .text(model), .text(segment?.description), .text(granularity.rawValue),
                    .text(column), .text(metric), .text(baseline), .timestamp(milliseconds: from),
                    .timestamp(milliseconds: to),
                ]
            ).map { row in
                MetricPoint(
                    windowStart: try row.decode(PostgresTimestamp.self, at: 0).milliseconds,
                    streamID: try row.decode(Int64.self, at: 1), segment: try row.decode(String.self, at: 2),
                    modelVersion: try row.decode(String.self, at: 3), baseline: try row.decode(String.self, at: 4),
                    value: try row.decode(Double.self, at: 5), bound: try row.decode(Double?.self, at: 6),
                    pValue: try row.decode(Double?.self, at: 7),
                    computedAt: try row.decode(PostgresTimestamp.self, at: 8))
            }
        }
    }

    /// Every metric of one window (for reports and for re-evaluation after late data).
    public func metrics(of window: RollupWindow) async throws -> [MetricRecord] {
        try await pool.withConnection { connection in
            try connection.query(
                """
                SELECT column_name, metric, baseline, value, bound, p_value FROM metrics
                WHERE stream_id = $1 AND granularity = $2 AND window_start = $3
                ORDER BY column_name, metric, baseline
                """,
                [
                    .int64(window.streamID), .text(window.granularity.rawValue),
                    .timestamp(milliseconds: window.windowStart),
                ]
            ).map { row in
                MetricRecord(
                    window: window, column: try row.decode(String.self, at: 0),
                    metric: try row.decode(String.self, at: 1),
                    baseline: try row.decode(String.self, at: 2), value: try row.decode(Double.self, at: 3),
                    bound: try row.decode(Double?.self, at: 4), pValue: try row.decode(Double?.self, at: 5))
            }
        }
    }
}
