public import Profiles

/// What a baseline compares against.
public enum BaselineKind: Sendable, Equatable {
    /// A stored profile, kept as uploaded (native or whylogs bytes).
    case profile([UInt8])
    /// The model's rollups over a fixed range `[from, to)` (ms since the epoch).
    case range(from: Int64, to: Int64)
    /// The model's rollups over the `milliseconds` before the window being evaluated.
    case trailing(milliseconds: Int64)

    var name: String {
        switch self {
        case .profile: "profile"
        case .range: "range"
        case .trailing: "trailing"
        }
    }
}

/// A row of `baselines`.
public struct Baseline: Sendable, Equatable {
    public var id: Int64
    public var project: String
    public var model: String
    public var name: String
    public var kind: BaselineKind
    /// The segment the baseline describes (`*` for the whole traffic).
    public var segment: String
    public var isDefault: Bool
    public var updatedAt: PostgresTimestamp
}

/// Baselines per model: create or replace, read, list, delete, choose the default.
public final class BaselineStore: Sendable {
    let pool: ConnectionPool

    public init(pool: ConnectionPool) { self.pool = pool }

    /// Creates the baseline `name` of a model or replaces it (same name, new definition).
    /// With `isDefault`, it becomes the model's only default in the same transaction.
    ///
    /// - Throws: ``StorageError/Code/misuse`` for an empty name, an empty or inverted range, a
    ///   range outside the years 1–9999, or a non-positive trailing span.
    @discardableResult
    public func put(
        project: String, model: String, name: String, kind: BaselineKind, segment: Segment = .all,
        isDefault: Bool = false
    ) async throws -> Baseline {
        guard !name.isEmpty else { throw StorageError(.misuse, "a baseline needs a name") }
        switch kind {
        case .range(let from, let to) where from >= to:
            throw StorageError(.misuse, "baseline '\(name)': range start must be before its end")
        case .range(let from, let to)
        where from < ProfileStore.earliestWindowStart || to > ProfileStore.latestWindowEnd:
            throw StorageError(.misuse, "baseline '\(name)': range outside the years 1 to 9999")
        case .trailing(let ms) where ms <= 0:
            throw StorageError(.misuse, "baseline '\(name)': trailing span must be positive")
        default: break
        }
        var profile: PostgresValue = .null
        var rangeStart: PostgresValue = .null
        var rangeEnd: PostgresValue = .null
        var trailing: PostgresValue = .null
        switch kind {
        case .profile(let bytes): profile = .bytea(bytes)
        case .range(let from, let to):
            rangeStart = .timestamp(milliseconds: from)
            rangeEnd = .timestamp(milliseconds: to)
        case .trailing(let ms): trailing = .int64(ms)
        }
        let parameters: [PostgresValue] = [
            .text(project), .text(model), .text(name), .text(kind.name), .text(segment.description), profile,
            rangeStart, rangeEnd, trailing, .bool(isDefault),
        ]
        return try await pool.withTransaction { connection in
            if isDefault {
                try connection.execute(
                    """
                    UPDATE baselines SET is_default = false
                    WHERE project = $1 AND model = $2 AND is_default AND name <> $3
                    """, [.text(project), .text(model), .text(name)])
            }
            let row = try connection.query(
                """
                INSERT INTO baselines
                    (project, model, name, kind, segment, profile, range_start, range_end, trailing_ms, is_default)
                VALUES ($1, $2, $3, $4, $5, $6::bytea, $7::timestamptz, $8::timestamptz, $9::int8, $10)
                ON CONFLICT ON CONSTRAINT baselines_key DO UPDATE SET
                    kind = EXCLUDED.kind, segment = EXCLUDED.segment, profile = EXCLUDED.profile,
                    range_start = EXCLUDED.range_start, range_end = EXCLUDED.range_end,
                    trailing_ms = EXCLUDED.trailing_ms, is_default = EXCLUDED.is_default, updated_at = now()
                RETURNING \(Self.columns)
                """, parameters)
            return try Self.baseline(row[0])
        }
    }

    /// The baseline `name` of a model, or nil.
    public func get(project: String, model: String, name: String) async throws -> Baseline? {
        try await pool.withConnection { connection in
            try connection.query(
                "SELECT \(Self.columns) FROM baselines WHERE project = $1 AND model = $2 AND name = $3",
                [.text(project), .text(model), .text(name)]
            ).first.map(Self.baseline)
        }
    }

    /// The model's default baseline, or nil.
    public func defaultBaseline(project: String, model: String) async throws -> Baseline? {
        try await pool.withConnection { connection in
            try connection.query(
                "SELECT \(Self.columns) FROM baselines WHERE project = $1 AND model = $2 AND is_default",
                [.text(project), .text(model)]
            ).first.map(Self.baseline)
        }
    }

    /// The baselines of a model (or of every model of the project), by model and name.
    public func list(project: String, model: String? = nil) async throws -> [Baseline] {
        try await pool.withConnection { connection in
            try connection.query(
                """
                SELECT \(Self.columns) FROM baselines
                WHERE project = $1 AND ($2::text IS NULL OR model = $2) ORDER BY model, name
                """, [.text(project), .text(model)]
            ).map(Self.baseline)
        }
    }

    /// Makes `name` the model's default (clearing any other); false when there is no such
    /// baseline.
    @discardableResult
    public func setDefault(project: String, model: String, name: String) async throws -> Bool {
        try await pool.withTransaction { connection in
            try connection.execute(
                "UPDATE baselines SET is_default = false WHERE project = $1 AND model = $2 AND is_default",
                [.text(project), .text(model)])
            return try connection.execute(
                """
                UPDATE baselines SET is_default = true, updated_at = now()
                WHERE project = $1 AND model = $2 AND name = $3
                """, [.text(project), .text(model), .text(name)]) == 1
        }
    }

    /// Deletes a baseline; false when there was none.
    @discardableResult
    public func delete(project: String, model: String, name: String) async throws -> Bool {
        try await pool.withConnection { connection in
            try connection.execute(
                "DELETE FROM baselines WHERE project = $1 AND model = $2 AND name = $3",
                [.text(project), .text(model), .text(name)]) == 1
        }
    }

    static let columns = """
        id, project, model, name, kind, segment, profile, range_start, range_end, trailing_ms, is_default, updated_at
        """

    static func baseline(_ row: PostgresRow) throws -> Baseline {
        let kind: BaselineKind
        switch try row.decode(String.self, at: 4) {
        case "profile": kind = .profile(try row.decode([UInt8].self, at: 6))
        case "range":
            kind = .range(
                from: try row.decode(PostgresTimestamp.self, at: 7).milliseconds,
                to: try row.decode(PostgresTimestamp.self, at: 8).milliseconds)
        case "trailing": kind = .trailing(milliseconds: try row.decode(Int64.self, at: 9))
        case let other: throw StorageError(.decoding, "unknown baseline kind '\(other)'")
        }
        return Baseline(
            id: try row.decode(Int64.self, at: 0), project: try row.decode(String.self, at: 1),
            model: try row.decode(String.self, at: 2), name: try row.decode(String.self, at: 3), kind: kind,
            segment: try row.decode(String.self, at: 5), isDefault: try row.decode(Bool.self, at: 10),
            updatedAt: try row.decode(PostgresTimestamp.self, at: 11))
    }
}
