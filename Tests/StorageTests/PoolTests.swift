import DriftTestSupport
import Foundation
import Synchronization
import Testing

@testable import Storage

@Suite("Connection pool")
struct PoolTests {
    let database: TestDatabase

    init() throws { database = try TestDatabase.shared("pool") }

    @Test func manyTasksShareFewConnectionsOnDedicatedThreads() async throws {
        let pool = database.pool(maxConnections: 4)
        defer { pool.close() }
        let threads = ThreadNames()
        let results = try await withThrowingTaskGroup(of: (Int, Int64, Int32).self) { group in
            for i in 0..<32 {
                group.addTask {
                    try await pool.withConnection { connection in
                        threads.record()
                        let row = try connection.query(
                            "SELECT $1::int8 * 2, pg_backend_pid(), pg_sleep(0.02)::text", [.int64(Int64(i))])[0]
                        return (i, try row.decode(Int64.self, at: 0), try row.decode(Int32.self, at: 1))
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 32)
        #expect(results.allSatisfy { $0.1 == Int64($0.0) * 2 })
        // At most four server backends, and every call ran on a pool thread, never on a
        // cooperative one.
        #expect(Set(results.map(\.2)).count <= 4)
        #expect(threads.names.allSatisfy { $0.hasPrefix("drift-pg-") }, "\(threads.names)")
        let metrics = pool.metrics
        #expect(metrics.open <= 4 && metrics.inUse == 0 && metrics.idle == metrics.open && metrics.waiting == 0)
        #expect(metrics.acquisitions == 32 && metrics.waits > 0)
    }

    @Test func aWaitingTaskCanBeCancelled() async throws {
        let pool = database.pool(maxConnections: 1)
        defer { pool.close() }
        let holder = Task { try await pool.withConnection { try $0.execute("SELECT pg_sleep(0.5)") } }
        // Wait until the holder has the only connection.
        while pool.metrics.inUse == 0 { try await Task.sleep(for: .milliseconds(5)) }
        let waiter = Task { try await pool.withConnection { try $0.query("SELECT 1::int8").scalar(Int64.self) } }
        while pool.metrics.waiting == 0 { try await Task.sleep(for: .milliseconds(5)) }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(pool.metrics.waiting == 0)
        _ = try await holder.value
        #expect(try await pool.withConnection { try $0.query("SELECT 7::int8").scalar(Int64.self) } == 7)
    }

    @Test func anOpenTransactionIsRolledBackWhenTheConnectionReturns() async throws {
        let pool = database.pool(maxConnections: 1)
        defer { pool.close() }
        try await pool.withConnection { try $0.execute("CREATE TABLE IF NOT EXISTS leftover (v int8)") }
        try await pool.withConnection { connection in
            try connection.execute("BEGIN")
            try connection.execute("INSERT INTO leftover VALUES (1)")
        }
        let state = try await pool.withConnection { connection in
            (
                connection.transactionState == .idle,
                try connection.query("SELECT count(*) FROM leftover").scalar(Int.self)
            )
        }
        #expect(state.0 && state.1 == 0)
    }

    @Test func aClosedPoolRefusesWork() async throws {
        let pool = database.pool(maxConnections: 2)
        #expect(await pool.ping())
        pool.close()
        let error = await #expect(throws: StorageError.self) { try await pool.withConnection { _ in 1 } }
        #expect(error?.code == .poolClosed)
    }

    /// The pool survives a server restart: the idle connections die with the server and are
    /// replaced on their next use, without recreating the pool. While the server is down,
    /// borrowing fails fast with a connection error.
    @Test func reconnectsAfterTheServerRestarts() async throws {
        let directory = NSTemporaryDirectory() + "driftwatch-restart-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let server = EmbeddedPostgres(configuration: .init(directory: directory))
        defer {
            try? server.stop()
            try? FileManager.default.removeItem(atPath: directory)
        }
        try server.start()
        // What `drift serve` does in embedded mode: a database of its own, created once.
        let conninfo = try server.ensureDatabase("driftwatch")
        #expect(try server.ensureDatabase("driftwatch") == conninfo)
        #expect(throws: StorageError.self) { try server.ensureDatabase("bad\"name") }
        let pool = ConnectionPool(configuration: .init(conninfo: conninfo, maxConnections: 3))
        defer { pool.close() }
        try await pool.withConnection { try $0.execute("CREATE TABLE kept (v text)") }
        let before = try await withThrowingTaskGroup(of: Int32.self) { group in
            for _ in 0..<3 {
                group.addTask {
                    try await pool.withConnection { connection in
                        try connection.execute("INSERT INTO kept VALUES ('before'); ")
                        return try connection.query("SELECT pg_backend_pid(), pg_sleep(0.05)::text").scalar(Int32.self)
                    }
                }
            }
            return try await group.reduce(into: Set<Int32>()) { $0.insert($1) }
        }
        #expect(pool.metrics.open == 3)

        try server.stop()
        let down = await #expect(throws: StorageError.self) {
            try await pool.withConnection { try $0.execute("SELECT 1") }
        }
        #expect(down?.isConnectionFailure == true)
        try server.start()

        let after = try await pool.withConnection { connection in
            try connection.execute("INSERT INTO kept VALUES ('after')")
            return try connection.query("SELECT pg_backend_pid()").scalar(Int32.self)
        }
        #expect(!before.contains(after))
        #expect(try await pool.withConnection { try $0.query("SELECT count(*) FROM kept").scalar(Int.self) } == 4)
        // A restart while connections sit idle (pg_ctl restart) is noticed the same way.
        try server.restart()
        for _ in 0..<6 {
            #expect(try await pool.withConnection { try $0.query("SELECT 1::int8").scalar(Int64.self) } == 1)
        }
        let metrics = pool.metrics
        #expect(metrics.reconnects >= 2 && metrics.connectFailures >= 1)
        #expect(
            try await pool.withConnection { try $0.query("SELECT current_database()").scalar(String.self) }
                == "driftwatch")
    }
}

/// The names of the threads that ran pool work.
final class ThreadNames: Sendable {
    private let seen = Mutex<Set<String>>([])
    /// Records the calling thread's kernel name (what `top -H` and debuggers show).
    func record() {
        let comm = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? "unknown"
        seen.withLock { _ = $0.insert(comm.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }
    var names: Set<String> { seen.withLock { $0 } }
}
