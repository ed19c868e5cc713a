public import Profiles
import Synchronization

/// What identifies a stream: the profiles of one model version and segment in one project.
public struct StreamKey: Hashable, Sendable {
    public var project: String
    public var model: String
    /// Empty when the profiles carry no model version.
    public var modelVersion: String
    public var segment: Segment

    public init(project: String, model: String, modelVersion: String? = nil, segment: Segment = .all) {
        self.project = project
        self.model = model
        self.modelVersion = modelVersion ?? ""
        self.segment = segment
    }

    /// The stream a profile belongs to.
    public init(project: String, profile: DatasetProfile) {
        self.init(project: project, model: profile.model, modelVersion: profile.modelVersion, segment: profile.segment)
    }
}

/// A row of `streams`.
public struct StreamRecord: Sendable, Equatable {
    public var id: Int64
    public var project: String
    public var model: String
    public var modelVersion: String
    /// The segment's description (`k=v,k=v` or `*`).
    public var segment: String
}

/// A model of a project and what has been seen of it.
public struct ModelSummary: Sendable, Equatable {
    public var model: String
    /// Model versions seen, sorted ('' for profiles without one).
    public var versions: [String]
    /// Segment descriptions seen, sorted.
    public var segments: [String]
    public var streamCount: Int
}

/// Streams: created on first sight, never deleted, so their ids are cached for the life of
/// the process (every ingest needs one).
public final class StreamStore: Sendable {
    let pool: ConnectionPool
    private let cache = Mutex<[StreamKey: Int64]>([:])

    public init(pool: ConnectionPool) { self.pool = pool }

    /// The id of the stream for `key`, creating the stream when it is new. Safe under
    /// concurrency: two callers creating the same stream get the same id.
    public func resolve(_ key: StreamKey) async throws -> Int64 {
        if let id = cache.withLock({ $0[key] }) { return id }
        let id = try await pool.withConnection { try Self.resolve(key, $0) }
        cache.withLock { $0[key] = id }
        return id
    }

    /// ``resolve(_:)`` on a connection the caller holds (no cache).
    public static func resolve(_ key: StreamKey, _ connection: PostgresConnection) throws -> Int64 {
        let lookup = "SELECT id FROM streams WHERE project = $1 AND model = $2 AND model_version = $3 AND segment = $4"
        let keyParameters: [PostgresValue] = [
            .text(key.project), .text(key.model), .text(key.modelVersion), .text(key.segment.description),
        ]
        // Look first (the common case, and no dead tuples); insert when missing; look again when
        // a concurrent insert won (ON CONFLICT DO NOTHING waited for it to commit, and the next
        // statement's snapshot sees it).
        if let row = try connection.query(lookup, keyParameters).first { return try row.decode(Int64.self, at: 0) }
        let inserted = try connection.query(
            """
            INSERT INTO streams (project, model, model_version, segment, tags)
            VALUES ($1, $2, $3, $4, jsonb_object($5::text[], $6::text[]))
            ON CONFLICT ON CONSTRAINT streams_key DO NOTHING
            RETURNING id
            """,
            keyParameters + [
                .textArray(key.segment.tags.map(\.key)), .textArray(key.segment.tags.map(\.value)),
            ])
        if let row = inserted.first { return try row.decode(Int64.self, at: 0) }
        return try connection.query(lookup, keyParameters).scalar(Int64.self)
    }

    /// The models of `project` with the versions and segments seen, by model name.
    public func models(project: String) async throws -> [ModelSummary] {
        try await pool.withConnection { connection in
            try connection.query(
                """
                SELECT model, array_agg(DISTINCT model_version ORDER BY model_version),
                       array_agg(DISTINCT segment ORDER BY segment), count(*)
                FROM streams WHERE project = $1 GROUP BY model ORDER BY model
                """, [.text(project)]
            ).map { row in
                ModelSummary(
                    model: try row.decode(String.self, at: 0), versions: try row.decodeArray(String.self, at: 1),
                    segments: try row.decodeArray(String.self, at: 2), streamCount: try row.decode(Int.self, at: 3))
            }
        }
    }

    /// The streams of a model, optionally of one segment and one version.
    public func streams(
        project: String, model: String, segment: Segment? = nil, modelVersion: String? = nil
    )
        async throws -> [StreamRecord]
    {
        try await pool.withConnection { connection in
            try connection.query(
                """
                SELECT id, project, model, model_version, segment FROM streams
                WHERE project = $1 AND model = $2 AND ($3::text IS NULL OR segment = $3)
                  AND ($4::text IS NULL OR model_version = $4)
                ORDER BY id
                """, [.text(project), .text(model), .text(segment?.description), .text(modelVersion)]
            ).map { row in
                StreamRecord(
                    id: try row.decode(Int64.self, at: 0), project: try row.decode(String.self, at: 1),
                    model: try row.decode(String.self, at: 2), modelVersion: try row.decode(String.self, at: 3),
                    segment: try row.decode(String.self, at: 4))
            }
        }
    }
}
