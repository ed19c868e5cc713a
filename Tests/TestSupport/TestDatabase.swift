import Foundation
public import Sketches
public import Storage
import Synchronization

/// The PostgreSQL server the storage tests run against, and a database of its own per suite.
///
/// `scripts/test` starts a server and exports `DRIFT_TEST_DATABASE_URL`; without it (a
/// developer's plain `swift test`), the first suite starts a throwaway cluster through
/// ``EmbeddedPostgres`` in a temporary directory. Each suite gets a fresh database with a
/// random name (migrated unless asked otherwise); all of them are dropped, and the throwaway
/// cluster stopped and removed, when the test process exits.
public struct TestDatabase: Sendable {
    public let name: String
    /// The server's connection string; ``overrides`` selects this database.
    public let conninfo: String
    public var overrides: [String: String] { ["dbname": name] }

    /// A placeholder for tests that bring their own server (nothing is created or dropped).
    public static let unmanaged = TestDatabase(name: "", conninfo: "")

    /// A pool on this database.
    public func pool(maxConnections: Int = 4, healthCheckInterval: Duration = .seconds(30)) -> ConnectionPool {
        ConnectionPool(
            configuration: ConnectionPool.Configuration(
                conninfo: conninfo, overrides: overrides, maxConnections: maxConnections,
                healthCheckInterval: healthCheckInterval, applicationName: "driftwatch-tests"))
    }

    /// A connection on this database.
    public func connect() throws -> PostgresConnection { try PostgresConnection(conninfo, overrides: overrides) }

    /// A new database on the test server, dropped at exit.
    public static func create(_ label: String, migrated: Bool = true) throws -> TestDatabase {
        let server = try Server.shared.get()
        var random = SystemRandomNumberGenerator()
        let name =
            "drift_test_\(label.lowercased().filter { $0.isLetter || $0.isNumber })_"
            + String(random.next() & 0xFFFF_FFFF, radix: 16)
        let admin = try PostgresConnection(server.conninfo)
        try admin.execute("CREATE DATABASE \"\(name)\"")
        Server.created.withLock { $0.append(name) }
        let database = TestDatabase(name: name, conninfo: server.conninfo)
        if migrated { try Migrator.bundled().migrate(try database.connect()) }
        return database
    }

    /// The suite-wide database for `label`, created on first use.
    public static func shared(_ label: String) throws -> TestDatabase {
        try Server.suites.withLock { suites in
            if let existing = suites[label] { return existing }
            let database = try create(label)
            suites[label] = database
            return database
        }
    }

    /// The server, started once per process.
    enum Server {
        struct Info: Sendable {
            let conninfo: String
            let embedded: EmbeddedPostgres?
            let directory: String?
        }

        static let shared: Result<Info, any Error> = Result {
            let info: Info
            if let url = ProcessInfo.processInfo.environment["DRIFT_TEST_DATABASE_URL"], !url.isEmpty {
                info = Info(conninfo: url, embedded: nil, directory: nil)
            } else {
                let directory = NSTemporaryDirectory() + "driftwatch-storage-tests-\(getpid())"
                let embedded = EmbeddedPostgres(configuration: .init(directory: directory))
                info = Info(conninfo: try embedded.start(), embedded: embedded, directory: directory)
            }
            atexit { TestDatabase.Server.cleanUp() }
            return info
        }

        static let created = Mutex<[String]>([])
        static let suites = Mutex<[String: TestDatabase]>([:])

        static func cleanUp() {
            guard case .success(let info) = shared else { return }
            if let admin = try? PostgresConnection(info.conninfo) {
                for name in created.withLock({ $0 }) {
                    _ = try? admin.execute("DROP DATABASE IF EXISTS \"\(name)\" WITH (FORCE)")
                }
            }
            if let embedded = info.embedded {
                do { try embedded.stop() } catch { print("could not stop the test cluster: \(error)") }
                if let directory = info.directory { try? FileManager.default.removeItem(atPath: directory) }
            }
        }
    }
}

/// Reproducible test data.
public typealias SeededRandom = SplitMix64

/// A set that concurrent tasks add to.
public final class Collector<Element: Hashable & Sendable>: Sendable {
    private let elements = Mutex<Set<Element>>([])
    public init() {}
    public func add(_ more: some Sequence<Element>) { elements.withLock { $0.formUnion(more) } }
    public var values: Set<Element> { elements.withLock { $0 } }
}
