/// What an API token may do.
public enum TokenScope: String, CaseIterable, Sendable, Comparable {
    /// Upload profiles.
    case ingest
    /// Query profiles, drift and metrics.
    case read
    /// Manage baselines and tokens.
    case admin

    public static func < (a: TokenScope, b: TokenScope) -> Bool { a.rawValue < b.rawValue }
}

/// A row of `tokens` (without its hash).
public struct TokenRecord: Sendable, Equatable {
    public var id: Int64
    public var project: String
    public var name: String
    /// Sorted.
    public var scopes: [TokenScope]
    public var createdAt: PostgresTimestamp
    public var revokedAt: PostgresTimestamp?

    public var isRevoked: Bool { revokedAt != nil }
}

/// API tokens. Only a hash of each secret is stored; hashing the presented secret and
/// choosing the algorithm (e.g. SHA-256 of 32 random bytes) is the server's part. Lookups
/// find the row through the hash's unique index and then compare the whole hash in constant
/// time, so timing reveals nothing about how much of a guess matched.
public final class TokenStore: Sendable {
    let pool: ConnectionPool

    public init(pool: ConnectionPool) { self.pool = pool }

    /// Stores a new token.
    ///
    /// - Throws: ``StorageError/Code/misuse`` for no scopes, an empty name or a hash shorter
    ///   than 16 bytes; a unique violation (``StorageError/isUniqueViolation``) when the
    ///   project already has an active token of that name or the hash exists.
    @discardableResult
    public func create(
        project: String, name: String, scopes: Set<TokenScope>, hash: [UInt8]
    ) async throws
        -> TokenRecord
    {
        guard !scopes.isEmpty else { throw StorageError(.misuse, "token '\(name)' needs at least one scope") }
        guard !name.isEmpty else { throw StorageError(.misuse, "a token needs a name") }
        guard hash.count >= 16 else { throw StorageError(.misuse, "token hashes must be at least 16 bytes") }
        return try await pool.withConnection { connection in
            try Self.record(
                connection.query(
                    """
                    INSERT INTO tokens (project, name, scopes, hash) VALUES ($1, $2, $3, $4)
                    RETURNING \(Self.columns)
                    """,
                    [.text(project), .text(name), .textArray(scopes.sorted().map(\.rawValue)), .bytea(hash)])[0])
        }
    }

    /// The tokens of a project (or of all projects), oldest first; revoked ones only when
    /// asked.
    public func list(project: String? = nil, includeRevoked: Bool = false) async throws -> [TokenRecord] {
        try await pool.withConnection { connection in
            try connection.query(
                """
                SELECT \(Self.columns) FROM tokens
                WHERE ($1::text IS NULL OR project = $1) AND ($2 OR revoked_at IS NULL)
                ORDER BY id
                """, [.text(project), .bool(includeRevoked)]
            ).map(Self.record)
        }
    }

    /// Revokes an active token by id; false when there is none.
    @discardableResult
    public func revoke(id: Int64) async throws -> Bool {
        try await pool.withConnection { connection in
            try connection.execute(
                "UPDATE tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL", [.int64(id)]) == 1
        }
    }

    /// Revokes the active token `name` of a project; false when there is none.
    @discardableResult
    public func revoke(project: String, name: String) async throws -> Bool {
        try await pool.withConnection { connection in
            try connection.execute(
                "UPDATE tokens SET revoked_at = now() WHERE project = $1 AND name = $2 AND revoked_at IS NULL",
                [.text(project), .text(name)]) == 1
        }
    }

    /// The active token whose hash is `hash`, or nil (unknown or revoked).
    public func lookup(hash: [UInt8]) async throws -> TokenRecord? {
        try await pool.withConnection { connection in
            guard
                let row = try connection.query(
                    "SELECT \(Self.columns), hash FROM tokens WHERE hash = $1 AND revoked_at IS NULL", [.bytea(hash)]
                ).first
            else { return nil }
            guard Self.constantTimeEqual(try row.decode([UInt8].self, at: 6), hash) else { return nil }
            return try Self.record(row)
        }
    }

    /// Compares two byte strings in time that depends only on their lengths.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }

    static let columns = "id, project, name, scopes, created_at, revoked_at"

    static func record(_ row: PostgresRow) throws -> TokenRecord {
        let scopes = try row.decodeArray(String.self, at: 3).map { name in
            guard let scope = TokenScope(rawValue: name) else {
                throw StorageError(.decoding, "unknown token scope '\(name)'")
            }
            return scope
        }
        return TokenRecord(
            id: try row.decode(Int64.self, at: 0), project: try row.decode(String.self, at: 1),
            name: try row.decode(String.self, at: 2), scopes: scopes.sorted(),
            createdAt: try row.decode(PostgresTimestamp.self, at: 4),
            revokedAt: try row.decode(PostgresTimestamp?.self, at: 5))
    }
}
