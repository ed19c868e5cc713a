internal import Foundation

/// One schema change: an SQL script applied once, in a transaction.
public struct Migration: Sendable, Equatable {
    /// The order of application: the file name's numeric prefix (`0001_initial.sql` → 1).
    public let version: Int
    /// The file name without prefix and extension (`initial`).
    public let name: String
    public let sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}

/// Applies the schema migrations that a database lacks, in order, each once.
///
/// Each migration runs in its own transaction together with the row that records it in
/// `schema_migrations` (version, name, SHA-256 of the script, time), so a failed migration
/// leaves no trace. Concurrent starters (several `drift serve` replicas) are serialised with a
/// session advisory lock: the second waits, then finds nothing left to do.
///
/// Refusals (``StorageError/Code/migration``): an applied migration whose script changed
/// since (its checksum differs — edit schemas with a new migration, never by changing an old
/// one), and a database with migrations this build does not know (it was migrated by a newer
/// Driftwatch).
public struct Migrator: Sendable {
    public let migrations: [Migration]

    /// The advisory lock key that serialises migrations: "Driftwat" in ASCII.
    static let lockKey: Int64 = 0x4472_6966_7477_6174

    /// - Precondition: versions are positive and distinct.
    public init(migrations: [Migration]) {
        let sorted = migrations.sorted { $0.version < $1.version }
        precondition(Set(sorted.map(\.version)).count == sorted.count, "migration versions must be distinct")
        precondition(sorted.allSatisfy { $0.version > 0 }, "migration versions must be positive")
        self.migrations = sorted
    }

    /// The name of the resource bundle SwiftPM builds for this target (package name, target).
    static let bundleName = "Driftwatch_Storage.resources"

    /// The migrations shipped with Driftwatch (`Sources/Storage/Migrations/NNNN_name.sql`),
    /// from the `Driftwatch_Storage.resources` directory SwiftPM places next to the executable
    /// (ship it alongside `drift`).
    ///
    /// The bundle is looked up here rather than through SwiftPM's generated `Bundle.module`,
    /// which stops the process when the bundle is missing; this throws instead.
    ///
    /// - Throws: ``StorageError/Code/migration`` when the bundle is missing or a file name has
    ///   no numeric prefix.
    public static func bundled() throws -> Migrator {
        var candidates = [Bundle.main.bundleURL]
        if let executable = Bundle.main.executableURL {
            candidates.append(executable.resolvingSymlinksInPath().deletingLastPathComponent())
        }
        for directory in candidates {
            if let bundle = Bundle(url: directory.appendingPathComponent(bundleName)),
                let migrations = bundle.url(forResource: "Migrations", withExtension: nil)
            {
                return try load(directory: migrations.path)
            }
        }
        throw StorageError(
            .migration,
            "the schema migrations (\(bundleName)/Migrations) are not next to the executable; "
                + "install that directory alongside it: looked in "
                + candidates.map(\.path).joined(separator: ", "))
    }

    /// The migrations in `directory` (files named `NNNN_name.sql`).
    ///
    /// - Throws: ``StorageError/Code/migration`` when the directory cannot be read or a file
    ///   name has no numeric prefix.
    public static func load(directory: String) throws -> Migrator {
        let files: [URL]
        do {
            files = try FileManager.default.contentsOfDirectory(
                at: URL(fileURLWithPath: directory), includingPropertiesForKeys: nil
            ).filter { $0.pathExtension == "sql" }
        } catch {
            throw StorageError(.migration, "cannot list \(directory): \(error)")
        }
        return Migrator(
            migrations: try files.map { file in
                let base = file.deletingPathExtension().lastPathComponent
                let digits = base.prefix { $0.isASCII && $0.isNumber }
                guard let version = Int(digits), base.dropFirst(digits.count).first == "_" else {
                    throw StorageError(
                        .migration, "migration file \(file.lastPathComponent) is not named NNNN_name.sql")
                }
                let sql: String
                do {
                    sql = try String(contentsOf: file, encoding: .utf8)
                } catch {
                    throw StorageError(.migration, "cannot read \(file.lastPathComponent): \(error)")
                }
                return Migration(version: version, name: String(base.dropFirst(digits.count + 1)), sql: sql)
            })
    }

    /// What the database has and lacks.
    public struct Status: Sendable, Equatable {
        /// Versions recorded in `schema_migrations`, ascending.
        public var applied: [Int]
        /// Known migrations not applied yet, in order.
        public var pending: [Migration]

        public var isCurrent: Bool { pending.isEmpty }
    }

    /// Reads `schema_migrations` without changing anything (for `/readyz`) and checks the
    /// recorded checksums.
    ///
    /// - Throws: the refusals described on ``Migrator``.
    public func status(_ connection: PostgresConnection) throws -> Status {
        let exists = try connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL").scalar(Bool.self)
        guard exists else { return Status(applied: [], pending: migrations) }
        let applied = try recorded(connection)
        try verify(applied, connection)
        return Status(applied: applied.keys.sorted(), pending: migrations.filter { applied[$0.version] == nil })
    }

    /// Applies every pending migration and returns those it applied (empty when the schema was
    /// current).
    @discardableResult
    public func migrate(_ connection: PostgresConnection) throws -> [Migration] {
        try connection.execute("SELECT pg_advisory_lock($1)", [.int64(Self.lockKey)])
        defer { _ = try? connection.execute("SELECT pg_advisory_unlock($1)", [.int64(Self.lockKey)]) }
        try connection.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    integer PRIMARY KEY,
                name       text NOT NULL,
                checksum   text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)
        let applied = try recorded(connection)
        try verify(applied, connection)
        var done: [Migration] = []
        for migration in migrations where applied[migration.version] == nil {
            do {
                try connection.withTransaction { connection in
                    try connection.executeScript(migration.sql)
                    try connection.execute(
                        """
                        INSERT INTO schema_migrations (version, name, checksum)
                        VALUES ($1, $2, encode(sha256(convert_to($3, 'UTF8')), 'hex'))
                        """,
                        [.int32(Int32(migration.version)), .text(migration.name), .text(migration.sql)])
                }
            } catch let error as StorageError {
                throw StorageError(
                    error.code, "migration \(migration.version) (\(migration.name)) failed: \(error.message)",
                    sqlState: error.sqlState, detail: error.detail, hint: error.hint, constraint: error.constraint)
            }
            done.append(migration)
        }
        return done
    }

    /// ``migrate(_:)`` on a pooled connection.
    @discardableResult
    public func migrate(_ pool: ConnectionPool) async throws -> [Migration] {
        try await pool.withConnection { try migrate($0) }
    }

    private func recorded(_ connection: PostgresConnection) throws -> [Int: (name: String, checksum: String)] {
        var applied: [Int: (name: String, checksum: String)] = [:]
        for row in try connection.query("SELECT version, name, checksum FROM schema_migrations") {
            applied[try row.decode(Int.self, at: 0)] = (
                try row.decode(String.self, at: 1), try row.decode(String.self, at: 2)
            )
        }
        return applied
    }

    private func verify(_ applied: [Int: (name: String, checksum: String)], _ connection: PostgresConnection) throws {
        let known = Dictionary(uniqueKeysWithValues: migrations.map { ($0.version, $0) })
        if let unknown = applied.keys.sorted().first(where: { known[$0] == nil }), let row = applied[unknown] {
            throw StorageError(
                .migration,
                "the database has migration \(unknown) (\(row.name)), which this build of Driftwatch does not know; "
                    + "it was migrated by a newer version")
        }
        for (version, row) in applied.sorted(by: { $0.key < $1.key }) {
            guard let migration = known[version] else { continue }
            let checksum = try connection.query(
                "SELECT encode(sha256(convert_to($1, 'UTF8')), 'hex')", [.text(migration.sql)]
            ).scalar(String.self)
            guard checksum == row.checksum else {
                throw StorageError(
                    .migration,
                    "migration \(version) (\(migration.name)) was changed after it was applied "
                        + "(checksum \(checksum.prefix(12))… differs from the recorded "
                        + "\(row.checksum.prefix(12))…); add a new migration instead of editing an applied one")
            }
        }
    }
}
