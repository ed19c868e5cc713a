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
    /// - Throws: ``StorageError/Code/misuse`` for a profile without a time window, a window
    ///   longer than 366 days or outside the years 1–9999, or bytes in no known format; server
    ///   and connection errors otherwise.
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
    ///
    /// - Throws: as ``ingest(project:bytes:profile:idempotencyKey:)``, for the first request
    ///   that is refused.
    public func ingest(_ requests: [IngestRequest]) async throws -> [IngestResult] {
        guard !requests.isEmpty else { return [] }
        var uploads: [Upload] = []
        uploads.reserveCapacity(requests.count)
        for request in requests {
            let profile = request.profile
            try Self.validateWindow(profile)
            guard let format = ProfileCodec.detect(request.bytes) else {
                throw StorageError(.misuse, "the profile bytes are neither a native nor a whylogs profile")
            }
            let streamID = try await streams.resolve(StreamKey(project: request.project, profile: profile))
            uploads.append(Upload(request: request, streamID: streamID, format: format))
        }
        let months = Set(uploads.map { RFC3339.monthStart(containing: $0.request.profile.windowStart) })
        for month in months.sorted() { try await partitions.ensure(containing: month) }
        let batch = uploads
        return try await pool.withConnection { connection in
            try PartitionManager.retryingMissingPartition(connection, months: { months }) {
                batch.count == 1
                    ? [try Self.insert(batch[0], connection)]
                    : try connection.withTransaction { try Self.insert(batch: batch, $0) }
            }
        }
    }

    /// The earliest window start accepted: 0001-01-01T00:00:00Z. Together with
    /// ``latestWindowEnd`` this keeps every instant inside PostgreSQL's `timestamptz` range and
    /// the four-digit years partition names use, and keeps window arithmetic from overflowing.
    public static let earliestWindowStart: Int64 = -62_135_596_800_000
    /// The latest window end accepted: 10000-01-01T00:00:00Z.
    public static let latestWindowEnd: Int64 = 253_402_300_800_000
    /// The longest window accepted: 366 days.
    public static let longestWindow: Int64 = 366 * 86_400_000

    static func validateWindow(_ profile: DatasetProfile) throws {
        guard profile.windowLength > 0 else {
            throw StorageError(
                .misuse,
                "profile of model '\(profile.model)' has no time window (window length 0); "
                    + "only windowed profiles are ingested")
        }
        guard profile.windowLength <= longestWindow else {
            throw StorageError(
                .misuse, "profile window of \(profile.windowLength) ms is longer than 366 days")
        }
        guard profile.windowStart >= earliestWindowStart, profile.windowStart <= latestWindowEnd - profile.windowLength
        else {
            throw StorageError(
                .misuse, "profile window start \(profile.windowStart) ms is outside the years 1 to 9999")
        }
    }

    /// A validated upload with its stream.
    struct Upload: Sendable {
        var request: IngestRequest
        var streamID: Int64
        var format: ProfileFormat

        var parameters: [PostgresValue] {
            [
                .text(request.project), .int64(streamID), .uuid(request.profile.uploadID),
                .text(request.idempotencyKey), .timestamp(milliseconds: request.profile.windowStart),
                .int64(request.profile.windowLength), .text(format.rawValue), .int64(request.profile.rowCount),
                .bytea(request.bytes),
            ]
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

    private static func insert(_ upload: Upload, _ connection: PostgresConnection) throws -> IngestResult {
        guard let inserted = try connection.query(insertSQL, upload.parameters).first else {
            return try duplicate(of: upload, connection)
        }
        return IngestResult(
            id: try inserted.decode(Int64.self, at: 0), uploadID: upload.request.profile.uploadID, duplicate: false)
    }

    private static func insert(batch: [Upload], _ connection: PostgresConnection) throws -> [IngestResult] {
        let inserted = try connection.queryBatch(insertSQL, batch.map(\.parameters))
        return try zip(batch, inserted).map { upload, result in
            guard let first = result.first else { return try duplicate(of: upload, connection) }
            return IngestResult(
                id: try first.decode(Int64.self, at: 0), uploadID: upload.request.profile.uploadID, duplicate: false)
        }
    }

    private static func duplicate(of upload: Upload, _ connection: PostgresConnection) throws -> IngestResult {
        let request = upload.request
        let parameters: [PostgresValue] = [
            .text(request.project), .timestamp(milliseconds: request.profile.windowStart),
            .uuid(request.profile.uploadID), .text(request.idempotencyKey),
        ]
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
