import ArgumentParser
import Foundation
import Logging
import Server
import Storage

/// Options shared by the commands that talk to the database directly (`serve`, `migrate`,
/// `tokens`): the configuration file and the database.
struct DatabaseOptions: ParsableArguments {
    @Option(help: "Configuration file (drift.yaml); default: $DRIFT_CONFIG, else none.")
    var config: String?

    @Option(
        name: .customLong("database-url"),
        help:
            "PostgreSQL URL or key=value string (else $DRIFT_DATABASE_URL, libpq's PG* variables, or the embedded cluster)."
    )
    var databaseURL: String?

    @Option(
        name: .customLong("data-dir"), help: "Data directory (embedded PostgreSQL lives under it; default drift-data).")
    var dataDirectory: String?

    /// Defaults, then the file, then `DRIFT_*` variables, then these flags.
    func configuration(environment: [String: String]) throws -> ServerConfiguration {
        var configuration = ServerConfiguration()
        do {
            if let path = config ?? environment["DRIFT_CONFIG"].flatMap({ $0.isEmpty ? nil : $0 }) {
                let text = try String(decoding: FileIO.read(path, what: "configuration file"), as: UTF8.self)
                try configuration.apply(yaml: text, path: path)
            }
            try configuration.apply(environment: environment)
        } catch let error as ConfigurationError {
            throw CLIError(error.description, exitCode: 64)
        }
        if let databaseURL { configuration.databaseURL = databaseURL }
        if let dataDirectory { configuration.dataDirectory = dataDirectory }
        return configuration
    }

    /// Runs `body` with a connection to the configured database. An embedded cluster that was
    /// not running is started for the command and stopped after it.
    func withDatabase<T>(
        _ configuration: ServerConfiguration, _ body: (ConnectionPool) async throws -> T
    ) async throws -> T {
        let environment = ProcessInfo.processInfo.environment
        let source = DatabaseSource.resolve(
            flag: configuration.databaseURL, environment: environment, dataDirectory: configuration.dataDirectory)
        var embedded: EmbeddedPostgres?
        let conninfo: String
        switch source {
        case .conninfo(let c):
            conninfo = c
        case .embedded(let directory):
            let cluster = EmbeddedPostgres(configuration: .init(directory: directory))
            let wasRunning = FileManager.default.fileExists(atPath: cluster.dataDirectory + "/postmaster.pid")
            guard FileManager.default.fileExists(atPath: cluster.dataDirectory + "/PG_VERSION") else {
                throw CLIError(
                    "no database configured and no embedded cluster under \(directory): run `drift serve` once, "
                        + "or pass --database-url")
            }
            _ = try cluster.start()
            if !wasRunning { embedded = cluster }
            conninfo = try cluster.ensureDatabase("driftwatch")
        }
        let pool = ConnectionPool(conninfo: conninfo, maxConnections: 2)
        defer {
            pool.close()
            try? embedded?.stop()
        }
        return try await body(pool)
    }
}

/// `drift serve`: the daemon.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the Driftwatch daemon: ingest, rollups, metrics, query API.",
        discussion: """
            With no database configured, starts a private PostgreSQL cluster under the data
            directory and stops it on exit. Stops gracefully on SIGTERM or SIGINT. Settings,
            environment variables and endpoints: docs/operations.md.
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Address to listen on, HOST:PORT (default 127.0.0.1:8080).")
    var listen: String?

    @Flag(name: .customLong("no-auth"), help: "Development only, loopback only: accept requests without tokens.")
    var noAuth = false

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String?

    @Option(name: .customLong("log-format"), help: "logfmt or json.")
    var logFormat: String?

    func run() async throws {
        var configuration = try database.configuration(environment: ProcessInfo.processInfo.environment)
        do {
            if let listen { try configuration.setListen(listen) }
            if noAuth { configuration.authEnabled = false }
            if let logLevel { configuration.logLevel = logLevel }
            if let logFormat { configuration.logFormat = logFormat }
            try configuration.validate()
        } catch {
            throw CLIError(error.description, exitCode: 64)
        }
        StructuredLogHandler.bootstrap(level: configuration.logLevel, format: configuration.logFormat)
        let logger = Logger(label: "drift.serve")
        do {
            try await DriftServer.run(
                configuration: configuration, environment: ProcessInfo.processInfo.environment, logger: logger)
        } catch let error as StorageError {
            throw CLIError("\(error)")
        }
    }
}

/// `drift migrate`: applies pending schema migrations (what `drift serve` does at start).
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Apply pending database migrations, or show their status.")

    @OptionGroup var database: DatabaseOptions

    @Flag(help: "Only show applied and pending migrations.")
    var status = false

    func run() async throws {
        let configuration = try database.configuration(environment: ProcessInfo.processInfo.environment)
        let showStatus = status
        try await database.withDatabase(configuration) { pool in
            let migrator = try Migrator.bundled()
            if showStatus {
                let s = try await pool.withConnection { try migrator.status($0) }
                print("applied: \(s.applied.map(String.init).joined(separator: ", "))")
                print(
                    "pending: \(s.pending.isEmpty ? "none" : s.pending.map { "\($0.version) \($0.name)" }.joined(separator: ", "))"
                )
                return
            }
            let applied = try await migrator.migrate(pool)
            if applied.isEmpty {
                print("database is up to date")
            } else {
                for m in applied { print("applied \(m.version) \(m.name)") }
            }
        }
    }
}
