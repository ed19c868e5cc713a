/// A row of `silences`. The matchers are kept as the JSON the API received (an array of
/// Alertmanager matcher objects); the alerting module reads them.
public struct StoredSilence: Sendable, Equatable {
    public var id: Int64
    public var project: String
    public var matchersJSON: String
    public var startsAt: Int64
    public var endsAt: Int64
    public var createdBy: String
    public var comment: String
    public var createdAt: Int64
}

/// Silences: created and expired through the API, read by the evaluator in its transaction.
public final class SilenceStore: Sendable {
    let pool: ConnectionPool

    public init(pool: ConnectionPool) { self.pool = pool }

    static let columns = "id, project, matchers::text, starts_at, ends_at, created_by, comment, created_at"

    static func silence(_ row: PostgresRow) throws -> StoredSilence {
        StoredSilence(
            id: try row.decode(Int64.self, at: 0), project: try row.decode(String.self, at: 1),
            matchersJSON: try row.decode(String.self, at: 2),
            startsAt: try row.decode(PostgresTimestamp.self, at: 3).milliseconds,
            endsAt: try row.decode(PostgresTimestamp.self, at: 4).milliseconds,
            createdBy: try row.decode(String.self, at: 5), comment: try row.decode(String.self, at: 6),
            createdAt: try row.decode(PostgresTimestamp.self, at: 7).milliseconds)
    }

    /// Stores a silence; `matchersJSON` must be a JSON array.
    ///
    /// - Throws: ``StorageError/Code/misuse`` when it does not end after it starts.
    public func create(
        project: String, matchersJSON: String, startsAt: Int64, endsAt: Int64, createdBy: String, comment: String
    ) async throws -> StoredSilence {
        guard startsAt < endsAt else { throw StorageError(.misuse, "a silence must end after it starts") }
        return try await pool.withConnection { connection in
            guard
                let row = try connection.query(
                    """
                    INSERT INTO silences (project, matchers, starts_at, ends_at, created_by, comment)
                    VALUES ($1, $2::jsonb, $3, $4, $5, $6) RETURNING \(Self.columns)
                    """,
                    [
                        .text(project), .text(matchersJSON), .timestamp(milliseconds: startsAt),
                        .timestamp(milliseconds: endsAt), .text(createdBy), .text(comment),
                    ]
                ).first
            else { throw StorageError(.decoding, "INSERT … RETURNING gave no row") }
            return try Self.silence(row)
        }
    }

    /// A project's silences, newest first: those not yet ended at `now`, or all of them (with
    /// the expired ones of the last `expiredWithinMilliseconds`).
    public func list(
        project: String, now: Int64, includeExpired: Bool, expiredWithinMilliseconds: Int64 = 7 * 86_400_000
    ) async throws -> [StoredSilence] {
        try await pool.withConnection { connection in
            try connection.query(
                """
                SELECT \(Self.columns) FROM silences
                WHERE project = $1 AND ends_at > $2
                ORDER BY starts_at DESC, id DESC
                """,
                [
                    .text(project),
                    .timestamp(milliseconds: includeExpired ? now - expiredWithinMilliseconds : now),
                ]
            ).map(Self.silence)
        }
    }

    public func get(project: String, id: Int64) async throws -> StoredSilence? {
        try await pool.withConnection { connection in
            try connection.query(
                "SELECT \(Self.columns) FROM silences WHERE project = $1 AND id = $2", [.text(project), .int64(id)]
            ).first.map(Self.silence)
        }
    }

    /// Ends a silence at `now` (a pending one is ended before it starts). Returns the silence
    /// as it now is, or nil when the project has no such silence.
    public func expire(project: String, id: Int64, now: Int64) async throws -> StoredSilence? {
        try await pool.withConnection { connection in
            try connection.query(
                """
                UPDATE silences
                SET ends_at = CASE WHEN ends_at > $3 THEN $3 ELSE ends_at END,
                    starts_at = CASE WHEN starts_at >= $3 AND ends_at > $3 THEN $3 - interval '1 millisecond'
                                     ELSE starts_at END
                WHERE project = $1 AND id = $2
                RETURNING \(Self.columns)
                """, [.text(project), .int64(id), .timestamp(milliseconds: now)]
            ).first.map(Self.silence)
        }
    }

    /// The silences of every project that are active at `now` (for the evaluator, on its
    /// connection).
    public static func active(at now: Int64, _ connection: PostgresConnection) throws -> [StoredSilence] {
        try connection.query(
            "SELECT \(columns) FROM silences WHERE starts_at <= $1 AND ends_at > $1 ORDER BY id",
            [.timestamp(milliseconds: now)]
        ).map(silence)
    }

    /// Deletes silences that ended more than `olderThanMilliseconds` before `now`.
    @discardableResult
    public static func prune(now: Int64, olderThanMilliseconds: Int64, _ connection: PostgresConnection) throws -> Int {
        try connection.execute(
            "DELETE FROM silences WHERE ends_at < $1", [.timestamp(milliseconds: now - olderThanMilliseconds)])
    }
}
