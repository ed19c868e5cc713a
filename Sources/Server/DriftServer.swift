import Foundation
public import Hummingbird
public import Logging
public import Profiles
import ServiceLifecycle
import Shipping
public import Storage

/// `drift serve`: the database, the HTTP application and the background services.
public enum DriftServer {
    /// Everything a running daemon holds, for the application builder and for tests.
    public struct Components: Sendable {
        public let pool: ConnectionPool
        public let configuration: ServerConfiguration
        public let tokens: TokenStore
        public let profiles: ProfileStore
        public let rollups: RollupStore
        let metrics: ServerMetrics
        /// The bundled migrations (for `/readyz`).
        let migrator: Migrator
    }

    /// The database the configuration points at: a connection string, and the embedded
    /// cluster when the daemon started one (the caller stops it).
    public static func database(
        _ configuration: ServerConfiguration, environment: [String: String], logger: Logger
    ) throws -> (conninfo: String, embedded: EmbeddedPostgres?) {
        switch DatabaseSource.resolve(
            flag: configuration.databaseURL, environment: environment, dataDirectory: configuration.dataDirectory)
        {
        case .conninfo(let conninfo):
            return (conninfo, nil)
        case .embedded(let directory):
            try prepareDataDirectory(configuration.dataDirectory)
            let embedded = EmbeddedPostgres(configuration: .init(directory: directory))
            logger.notice(
                "no database configured: starting an embedded PostgreSQL cluster",
                metadata: ["directory": "\(directory)"])
            _ = try embedded.start()
            let conninfo = try embedded.ensureDatabase("driftwatch")
            logger.notice(
                "embedded PostgreSQL is running; set --database-url or DRIFT_DATABASE_URL to use your own",
                metadata: ["directory": "\(directory)", "log": "\(embedded.logPath)"])
            return (conninfo, embedded)
        }
    }

    /// Creates the data directory when missing, traversable by others (mode 0711) but not
    /// listable: as root the embedded cluster runs as the `postgres` user, who must be able to
    /// reach its own directory inside.
    public static func prepareDataDirectory(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw ConfigurationError("data directory \(path) exists and is not a directory")
            }
            return
        }
        do {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
        } catch {
            throw ConfigurationError("cannot create the data directory \(path): \(error.localizedDescription)")
        }
    }

    /// Connects, applies pending migrations, and returns the components.
    public static func prepare(
        configuration: ServerConfiguration, conninfo: String, overrides: [String: String] = [:], logger: Logger
    ) async throws -> Components {
        let pool = ConnectionPool(
            configuration: .init(
                conninfo: conninfo, overrides: overrides, maxConnections: configuration.poolSize,
                applicationName: "drift-serve"))
        let migrator = try Migrator.bundled()
        let applied = try await migrator.migrate(pool)
        for migration in applied {
            logger.notice(
                "applied migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
        }
        let partitions = PartitionManager(pool: pool)
        let streams = StreamStore(pool: pool)
        return Components(
            pool: pool, configuration: configuration, tokens: TokenStore(pool: pool),
            profiles: ProfileStore(pool: pool, streams: streams, partitions: partitions),
            rollups: RollupStore(pool: pool), metrics: ServerMetrics(), migrator: migrator)
    }

    /// The Hummingbird application with its routes and background services.
    public static func application(
        _ components: Components, logger: Logger, now: @escaping @Sendable () -> Int64 = { Clock.nowMilliseconds() }
    ) -> some ApplicationProtocol {
        let configuration = components.configuration
        let pool = components.pool
        let streams = components.profiles.streams
        let api = DriftAPI(
            configuration: configuration, pool: pool, profiles: components.profiles, streams: streams,
            baselines: BaselineStore(pool: pool), silences: SilenceStore(pool: pool),
            metricStore: MetricStore(pool: pool, partitions: components.profiles.partitions),
            ingest: IngestQueue(
                store: components.profiles, batchSize: configuration.ingestBatchSize,
                concurrency: configuration.ingestConcurrency),
            metrics: components.metrics, migrator: components.migrator, now: now)
        let router = Router(context: DriftRequestContext.self)
        let authenticator =
            configuration.authEnabled
            ? Authenticator(store: components.tokens, cacheMilliseconds: configuration.tokenCacheMs) : nil
        api.register(on: router, authenticator: authenticator)
        var services: [any Service] = [
            RollupService(
                store: components.rollups, profiles: components.profiles, configuration: configuration,
                metrics: components.metrics, logger: logger),
            MetricsService(
                pool: pool, configuration: configuration, metrics: components.metrics, logger: logger, now: now),
        ]
        if let path = configuration.alertsPath {
            let library = RuleLibrary(directory: path, logger: logger)
            services.append(
                AlertService(
                    pool: pool, library: library, intervalMilliseconds: configuration.alertIntervalMs, logger: logger,
                    externalURL: configuration.externalURL, metrics: components.metrics, now: now))
            var delivery = DeliveryService(
                pool: pool, receivers: { _, name in library.endpoint(named: name) }, metrics: components.metrics,
                logger: logger)
            delivery.timeoutMilliseconds = configuration.deliveryTimeoutMs
            services.append(delivery)
        }
        services.append(
            MaintenanceService(
                partitions: components.profiles.partitions, retention: configuration.retention, logger: logger))
        return Application(
            router: router,
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: "driftwatch"),
            services: services, logger: logger)
    }

    /// Runs the daemon until SIGTERM or SIGINT, then finishes in-flight requests, stops the
    /// background services, closes the pool and stops the embedded cluster.
    public static func run(
        configuration: ServerConfiguration, environment: [String: String], logger: Logger
    ) async throws {
        try configuration.validate()
        if !configuration.authEnabled {
            logger.warning(
                "AUTHENTICATION IS OFF (--no-auth): every request is an admin; development use on loopback only")
        }
        let (conninfo, embedded) = try database(configuration, environment: environment, logger: logger)
        defer {
            if let embedded {
                do {
                    try embedded.stop()
                    logger.notice("embedded PostgreSQL stopped")
                } catch {
                    logger.error("could not stop the embedded PostgreSQL", metadata: ["error": "\(error)"])
                }
            }
        }
        let components = try await prepare(configuration: configuration, conninfo: conninfo, logger: logger)
        defer { components.pool.close() }
        let app = application(components, logger: logger)
        logger.notice(
            "drift serve listening",
            metadata: [
                "address": "\(configuration.host):\(configuration.port)", "auth": "\(configuration.authEnabled)",
            ])
        try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
        logger.notice("drift serve stopped")
    }
}
