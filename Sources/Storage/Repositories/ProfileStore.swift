public import Profiles

/// What ``ProfileStore/ingest(project:bytes:profile:idempotencyKey:)`` did.
public struct IngestResult: Sendable, Equatable {
    /// The raw profile's row id (the first upload's, for a duplicate).
    public var id: Int64
    /// The stored upload id (the first upload's, for a duplicate).
    public var uploadID: UploadID
    /// True when an upload with the same upload id or idempotency key was already stored;
    /// nothing was written.
    public var duplicate: Bool
}

/// A raw profile claimed for rolling up (see ``ProfileStore/claimPending(limit:_:)``).
public struct PendingRawProfile: Sendable {
    public var id: Int64
    public var streamID: Int64
    /// The stream's model (profiles are merged under this name).
    public var model: String
    public var windowStart: Int64
    public var bytes: [UInt8]
}

/// Raw profiles: one row per accepted upload, stored as received.
public final class ProfileStore: Sendable {
    let pool: ConnectionPool
    public let streams: StreamStore
    public let partitions: PartitionManager

    public init(pool: ConnectionPool, streams: StreamStore? = nil, partitions: PartitionManager? = nil) {
        self.pool = pool
        self.streams = streams ?? StreamStore(pool: pool)
        self.partitions = partitions ?? PartitionManager(pool: pool)
    }

    /// Stores an upload once.
    ///
    /// The profile must already be decoded and validated from `bytes` (the server does that
    /// before calling). The row is written by a single `INSERT … ON CONFLICT DO NOTHING`,
    /// which is its own transaction: when this returns, the profile is committed. A second
    /// upload with the same upload id, or the same `idempotencyKey`, in the same project and
    /// window writes nothing and returns the first upload's id with `duplicate: true`. The
    /// stream (created on first sight) and the month's partitions (created on demand) are
    /// idempotent preparations made before the insert.
    ///
    /// - Throws: ``StorageError/Code/misuse`` for a profile without a time window or bytes in
    ///   no known format; server and connection errors otherwise.
    public func ingest(
        project: String, bytes: [UInt8], profile: DatasetProfile, idempotencyKey: String? = nil
    )
        async throws -> IngestResult
    {
        try await ingest([
            IngestRequest(project: project, bytes: bytes, profile: profile, idempotencyKey: idempotencyKey)
        ])[0]
    }

    /// One upload for ``ingest(_:)``.
    public struct IngestRequest: Sendable {
        public var project: String
        public var bytes: [UInt8]
        public var profile: DatasetProfile
        public var idempotencyKey: String?

        public init(project: String, bytes: [UInt8], profile: DatasetProfile, idempotencyKey: String? = nil) {
            self.project = project
            self.bytes = bytes
            self.profile = profile
            self.idempotencyKey = idempotencyKey
        }
    }

    /// Stores several uploads in one transaction (group commit: one WAL flush for all), with
    /// the statements pipelined. Results are in request order; duplicates within the batch or
    /// with stored uploads are reported as such. If any upload fails, none is stored.
    public func ingest(_ requests: [IngestRequest]) async throws -> [IngestResult] {
        guard !requests.isEmpty else { return [] }
        var rows: [[PostgresValue]] = []
        rows.reserveCapacity(requests.count)
        var months: Set<Int64> = []
        for request in requests {
            let profile = request.profile
            guard profile.windowLength > 0 else {
                throw StorageError(
                    .misuse,
                    "profile of model '\(profile.model)' has no time window (window length 0); "
                        + "only windowed profiles are ingested")
            }
            guard let format = ProfileCodec.detect(request.bytes) else {
                throw StorageError(.misuse, "the profile bytes are neither a native nor a whylogs profile")
            }
            let streamID = try await streams.resolve(StreamKey(project: request.project, profile: profile))
            months.insert(RFC3339.monthStart(containing: profile.windowStart))
            rows.append([
                .text(request.project), .int64(streamID), .uuid(profile.uploadID), .text(request.idempotencyKey),
                .timestamp(milliseconds: profile.windowStart), .int64(profile.windowLength), .text(format.rawValue),
                .int64(profile.rowCount), .bytea(request.bytes),
            ])
        }
        for month in months.sorted() { try await partitions.ensure(containing: month) }
        let batch = rows
        let batchMonths = months
        let single = requests.count == 1
        return try await pool.withConnection { connection in
            for attempt in 0..<2 {
                do {
                    return single
                        ? [try Self.insert(batch[0], connection)]
                        : try connection.withTransaction { try Self.insert(batch: batch, $0) }
                } catch let error as StorageError where error.sqlState == "23514" && attempt == 0 {
                    // A partition was dropped since it was ensured (retention in another
                    // process): create it again and retry once.
                    for month in batchMonths { try PartitionManager.ensure(month: month, connection) }
                }
            }
            preconditionFailure("unreachable: the second attempt returns or throws")
        }
    }

    static let insertSQL = """
        INSERT INTO raw_profiles
            (project, stream_id, upload_id, idempotency_key, window_start, window_length_ms, format, row_count, bytes)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        ON CONFLICT DO NOTHING
        RETURNING id
        """

    /// The stored upload a conflicting insert collided with: same project and window, same
    /// upload id or idempotency key.
    static let duplicateSQL = """
        SELECT id, upload_id FROM raw_profiles
        WHERE project = $1 AND window_start = $2 AND (upload_id = $3 OR idempotency_key = $4)
        ORDER BY id LIMIT 1
        """

    private static func insert(_ row: [PostgresValue], _ connection: PostgresConnection) throws -> IngestResult {
        if let inserted = try connection.query(insertSQL, row).first {
            guard case .uuid(let uploadID) = row[2] else { preconditionFailure("row[2] is the upload id") }
            return IngestResult(id: try inserted.decode(Int64.self, at: 0), uploadID: uploadID, duplicate: false)
        }
        return try duplicate(of: row, connection)
    }

    private static func insert(batch: [[PostgresValue]], _ connection: PostgresConnection) throws -> [IngestResult] {
        let inserted = try connection.queryBatch(insertSQL, batch)
        return try zip(batch, inserted).map { row, result in
            if let first = result.first {
                guard case .uuid(let uploadID) = row[2] else { preconditionFailure("row[2] is the upload id") }
                return IngestResult(id: try first.decode(Int64.self, at: 0), uploadID: uploadID, duplicate: false)
            }
            return try duplicate(of: row, connection)
        }
    }

    private static func duplicate(of row: [PostgresValue], _ connection: PostgresConnection) throws -> IngestResult {
        let parameters = [row[0], row[4], row[2], row[3]]
        guard let existing = try connection.query(duplicateSQL, parameters).first else {
            // ON CONFLICT waited for the conflicting row to commit, so it is visible now unless
            // it was deleted in between (retention); the caller may simply retry.
            throw StorageError(.server, "upload conflicted with a stored one that is gone; retry", sqlState: "40001")
        }
        return IngestResult(
            id: try existing.decode(Int64.self, at: 0), uploadID: try existing.decode(UploadID.self, at: 1),
            duplicate: true)
    }

    /// Claims up to `limit` raw profiles that are not rolled up yet, oldest first, locking
    /// them until the caller's transaction ends. Rows another transaction has claimed are
    /// skipped (`FOR UPDATE SKIP LOCKED`), so concurrent workers never get the same row.
    ///
    /// - Precondition: `connection` is inside a transaction.
    public static func claimPending(limit: Int, _ connection: PostgresConnection) throws -> [PendingRawProfile] {
        precondition(connection.transactionState == .inTransaction, "claimPending needs a transaction")
        return try connection.query(
            """
            SELECT r.id, r.stream_id, s.model, r.window_start, r.bytes
            FROM raw_profiles r JOIN streams s ON s.id = r.stream_id
            WHERE r.rolled_up_at IS NULL
            ORDER BY r.id
            LIMIT $1
            FOR UPDATE OF r SKIP LOCKED
            """, [.int64(Int64(limit))]
        ).map { row in
            PendingRawProfile(
                id: try row.decode(Int64.self, at: 0), streamID: try row.decode(Int64.self, at: 1),
                model: try row.decode(String.self, at: 2),
                windowStart: try row.decode(PostgresTimestamp.self, at: 3).milliseconds,
                bytes: try row.decode([UInt8].self, at: 4))
        }
    }

    /// The number of raw profiles not rolled up yet (rollup lag, for `/metrics`).
    public func pendingCount() async throws -> Int {
        try await pool.withConnection {
            try $0.query("SELECT count(*) FROM raw_profiles WHERE rolled_up_at IS NULL").scalar(Int.self)
        }
    }

    /// Raw profiles of a project stored under an upload id (any window): for support and tests.
    public func count(project: String, uploadID: UploadID) async throws -> Int {
        try await pool.withConnection {
            try $0.query(
                "SELECT count(*) FROM raw_profiles WHERE project = $1 AND upload_id = $2",
                [.text(project), .uuid(uploadID)]
            ).scalar(Int.self)
        }
    }
}
