/// Where `drift serve` and `drift migrate` get their database from.
///
/// The order (DESIGN.md, "External contracts"): the `--database-url` flag, then
/// `DRIFT_DATABASE_URL`, then libpq's own environment variables — any of `PGHOST`,
/// `PGHOSTADDR`, `PGPORT`, `PGDATABASE`, `PGUSER`, `PGSERVICE` set means the operator
/// configured libpq, so the connection string is left empty and libpq reads them (and
/// `~/.pgpass`). With none of these, a private cluster in the data directory.
public enum DatabaseSource: Sendable, Equatable {
    /// A URL or `key=value` string; empty means libpq's environment variables.
    case conninfo(String)
    /// A cluster managed by ``EmbeddedPostgres`` under this directory.
    case embedded(directory: String)

    /// The libpq variables whose presence counts as "a database is configured".
    public static let libpqVariables = ["PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE"]

    /// Decides where the database is. Pure: the caller passes the flag and the environment.
    ///
    /// - Parameters:
    ///   - flag: the `--database-url` value, if given.
    ///   - environment: the process environment.
    ///   - dataDirectory: the daemon's data directory; the embedded cluster lives in its
    ///     `postgres` subdirectory.
    public static func resolve(flag: String?, environment: [String: String], dataDirectory: String) -> DatabaseSource {
        if let flag, !flag.isEmpty { return .conninfo(flag) }
        if let url = environment["DRIFT_DATABASE_URL"], !url.isEmpty { return .conninfo(url) }
        if libpqVariables.contains(where: { environment[$0]?.isEmpty == false }) { return .conninfo("") }
        let trimmed = dataDirectory.hasSuffix("/") ? String(dataDirectory.dropLast()) : dataDirectory
        return .embedded(directory: trimmed + "/postgres")
    }
}

extension EmbeddedPostgres {
    /// Creates the database `name` in the running cluster when it does not exist yet and
    /// returns a connection string for it.
    ///
    /// - Throws: ``StorageError/Code/misuse`` for a name other than letters, digits and `_`
    ///   (it is spliced into `CREATE DATABASE`); ``StorageError/Code/embedded`` when the
    ///   cluster is not running; server errors otherwise.
    public func ensureDatabase(_ name: String) throws -> String {
        guard !name.isEmpty, name.utf8.count < 64,
            name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") })
        else {
            throw StorageError(.misuse, "database name '\(name)' must be 1 to 63 ASCII letters, digits or '_'")
        }
        guard let conninfo else { throw StorageError(.embedded, "the embedded cluster is not running") }
        let admin = try PostgresConnection(conninfo)
        let exists = try admin.query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", [.text(name)])
            .scalar(Bool.self)
        if !exists {
            do {
                try admin.execute("CREATE DATABASE \"\(name)\"")
            } catch let error as StorageError where error.sqlState == "42P04" {
                // Created concurrently by another starter: fine.
            }
        }
        return conninfo.replacingDatabase(with: name)
    }
}

extension String {
    /// This `key=value` connection string with `dbname` set to `name` (the last occurrence of
    /// a keyword wins in libpq's parser).
    fileprivate func replacingDatabase(with name: String) -> String { self + " dbname=\(name)" }
}
