import Profiles
import Synchronization

/// A bounded pool of PostgreSQL connections for async code.
///
/// ``withConnection(_:)`` borrows a connection and runs the (blocking) closure on the
/// connection's own thread — never on Swift concurrency's cooperative pool or an event loop —
/// and suspends the calling task meanwhile. When all ``Configuration/maxConnections`` are
/// busy, callers wait in FIFO order; a waiting task that is cancelled stops waiting and throws
/// `CancellationError`.
///
/// Connections are opened lazily and checked before each use: a cheap non-blocking read
/// notices a server that closed the connection (a restart or an administrator's
/// `pg_terminate_backend`), and a connection idle for longer than
/// ``Configuration/healthCheckInterval`` also answers an empty query first. A dead connection
/// is replaced by a new one, so the pool outlives server restarts; while the server is down,
/// ``withConnection(_:)`` throws ``StorageError/Code/connection`` at once instead of waiting.
/// A statement that fails because the connection broke is not retried: the caller decides
/// whether its work is safe to repeat.
public final class ConnectionPool: Sendable {
    /// Plain settings; the defaults suit a daemon on a small machine.
    public struct Configuration: Sendable {
        /// A URL or `key=value` string; empty means libpq's `PG*` environment variables and
        /// `~/.pgpass` (see ``PostgresConnection/init(_:overrides:applicationName:)``).
        public var conninfo: String
        /// Keywords that replace what ``conninfo`` sets, e.g. `["dbname": "drift"]`.
        public var overrides: [String: String]
        /// The most connections open at once (at least 1).
        public var maxConnections: Int
        /// A connection idle for at least this long answers an empty query before it is handed
        /// out. `.zero` checks every borrow with a round trip.
        public var healthCheckInterval: Duration
        /// Shown in `pg_stat_activity` unless ``conninfo`` names one.
        public var applicationName: String

        public init(
            conninfo: String = "", overrides: [String: String] = [:], maxConnections: Int = 8,
            healthCheckInterval: Duration = .seconds(30), applicationName: String = "driftwatch"
        ) {
            self.conninfo = conninfo
            self.overrides = overrides
            self.maxConnections = maxConnections
            self.healthCheckInterval = healthCheckInterval
            self.applicationName = applicationName
        }
    }

    /// A snapshot of the pool's use, for `/metrics`.
    public struct Metrics: Sendable, Equatable {
        public var maxConnections: Int
        /// Slots opened (each holds a thread and at most one connection).
        public var open: Int
        public var inUse: Int
        public var idle: Int
        /// Tasks waiting for a connection right now.
        public var waiting: Int
        /// Borrows since the pool was created.
        public var acquisitions: Int
        /// Borrows that had to wait because every connection was busy.
        public var waits: Int
        /// Dead connections replaced by new ones.
        public var reconnects: Int
        /// Connection attempts that failed.
        public var connectFailures: Int
    }

    public let configuration: Configuration
    private let state: Mutex<State>

    /// - Precondition: `configuration.maxConnections >= 1`.
    public init(configuration: Configuration) {
        precondition(configuration.maxConnections >= 1, "maxConnections must be at least 1")
        self.configuration = configuration
        state = Mutex(State())
    }

    /// A pool for `conninfo` with up to `maxConnections` connections.
    public convenience init(conninfo: String, maxConnections: Int = 8) {
        self.init(configuration: Configuration(conninfo: conninfo, maxConnections: maxConnections))
    }

    deinit {
        let slots = state.withLock { state in
            state.closed = true
            return state.idle
        }
        for slot in slots { slot.shutDown() }
    }

    // MARK: Borrowing

    /// Borrows a connection, runs `body` with it on the connection's thread and returns what
    /// `body` returns. A transaction `body` leaves open is rolled back.
    ///
    /// - Throws: what `body` throws; ``StorageError/Code/connection`` when no connection can be
    ///   opened; ``StorageError/Code/poolClosed`` after ``close()``; `CancellationError` when
    ///   the task is cancelled while waiting for a connection.
    @discardableResult
    public func withConnection<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) throws -> T
    )
        async throws -> T
    {
        // `body` is escaping because the worker thread may still hold its job for a moment
        // after resuming the continuation (withoutActuallyEscaping traps on exactly that).
        let slot = try await acquire()
        defer { release(slot) }
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let accepted = slot.worker.submit {
                continuation.resume(with: Result { try self.run(body, on: slot) })
            }
            if !accepted { continuation.resume(throwing: StorageError(.poolClosed, "the pool is closed")) }
        }
    }

    /// ``withConnection(_:)`` with `body` in a transaction (see
    /// ``PostgresConnection/withTransaction(isolation:_:)``).
    @discardableResult
    public func withTransaction<T: Sendable>(
        isolation: PostgresConnection.IsolationLevel = .readCommitted,
        _ body: @escaping @Sendable (PostgresConnection) throws -> T
    ) async throws -> T {
        try await withConnection { connection in try connection.withTransaction(isolation: isolation, body) }
    }

    /// Whether the server answers a query now (for `/readyz`).
    public func ping() async -> Bool {
        (try? await withConnection { $0.checkHealth(roundTrip: true) }) ?? false
    }

    public var metrics: Metrics {
        state.withLock { s in
            Metrics(
                maxConnections: configuration.maxConnections, open: s.open, inUse: s.inUse, idle: s.idle.count,
                waiting: s.waiters.count, acquisitions: s.acquisitions, waits: s.waits, reconnects: s.reconnects,
                connectFailures: s.connectFailures)
        }
    }

    /// Closes idle connections, fails waiting tasks, and closes busy connections when they are
    /// returned. Borrowing afterwards throws ``StorageError/Code/poolClosed``.
    public func close() {
        let (slots, waiters) = state.withLock { s in
            s.closed = true
            defer {
                s.open -= s.idle.count
                s.idle = []
                s.waiters = []
            }
            return (s.idle, s.waiters)
        }
        for waiter in waiters { waiter.continuation.resume(throwing: StorageError(.poolClosed, "the pool is closed")) }
        for slot in slots { slot.shutDown() }
    }

    // MARK: Slots

    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Slot, any Error>
    }

    private struct State {
        var idle: [Slot] = []
        var open = 0
        var inUse = 0
        var nextSlotID = 0
        var waiters: [Waiter] = []
        /// Waiters that have an id but have not queued their continuation yet.
        var arriving: Set<UInt64> = []
        /// Arriving waiters whose task was cancelled before they queued.
        var cancelled: Set<UInt64> = []
        var nextWaiterID: UInt64 = 0
        var closed = false
        var acquisitions = 0
        var waits = 0
        var reconnects = 0
        var connectFailures = 0
    }

    private enum Acquisition {
        case slot(Slot)
        case newSlot(Int)
        case wait(UInt64)
        case closed
    }

    private func acquire() async throws -> Slot {
        let first: Acquisition = state.withLock { s in
            if s.closed { return .closed }
            s.acquisitions += 1
            if let slot = s.idle.popLast() {
                s.inUse += 1
                return .slot(slot)
            }
            if s.open < configuration.maxConnections {
                s.open += 1
                s.inUse += 1
                s.nextSlotID += 1
                return .newSlot(s.nextSlotID)
            }
            s.waits += 1
            s.nextWaiterID += 1
            s.arriving.insert(s.nextWaiterID)
            return .wait(s.nextWaiterID)
        }
        switch first {
        case .slot(let slot): return slot
        case .newSlot(let id): return Slot(id: id)
        case .closed: throw StorageError(.poolClosed, "the pool is closed")
        case .wait(let id): return try await wait(id)
        }
    }

    private func wait(_ id: UInt64) async throws -> Slot {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Slot, any Error>) in
                enum Next { case queued, cancelled, closed, slot(Slot) }
                let next: Next = state.withLock { s in
                    s.arriving.remove(id)
                    if s.cancelled.remove(id) != nil { return .cancelled }
                    if s.closed { return .closed }
                    // A slot may have come back between the first look and now.
                    if let slot = s.idle.popLast() {
                        s.inUse += 1
                        return .slot(slot)
                    }
                    s.waiters.append(Waiter(id: id, continuation: continuation))
                    return .queued
                }
                switch next {
                case .queued: break
                case .slot(let slot): continuation.resume(returning: slot)
                case .cancelled: continuation.resume(throwing: CancellationError())
                case .closed: continuation.resume(throwing: StorageError(.poolClosed, "the pool is closed"))
                }
            }
        } onCancel: {
            let waiter: Waiter? = state.withLock { s in
                if let index = s.waiters.firstIndex(where: { $0.id == id }) { return s.waiters.remove(at: index) }
                if s.arriving.contains(id) { s.cancelled.insert(id) }
                return nil
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    private func release(_ slot: Slot) {
        enum Next { case none, handOff(Waiter), shutDown }
        let next: Next = state.withLock { s in
            if s.closed {
                s.inUse -= 1
                s.open -= 1
                return .shutDown
            }
            if !s.waiters.isEmpty { return .handOff(s.waiters.removeFirst()) }
            s.inUse -= 1
            s.idle.append(slot)
            return .none
        }
        switch next {
        case .none: break
        case .handOff(let waiter): waiter.continuation.resume(returning: slot)
        case .shutDown: slot.shutDown()
        }
    }

    /// Runs on the slot's thread: makes sure the connection is alive, runs `body`, and leaves
    /// the connection clean for the next borrower.
    private func run<T>(_ body: (PostgresConnection) throws -> T, on slot: Slot) throws -> T {
        let connection = try connect(slot)
        defer {
            slot.lastUsed = .now
            if !connection.isConnected {
                slot.connection = nil
            } else if connection.transactionState != .idle {
                // The body left a transaction open (or failed inside one): end it, or drop the
                // connection when even that fails.
                if (try? connection.execute("ROLLBACK")) == nil || connection.transactionState != .idle {
                    slot.connection = nil
                }
            }
        }
        return try body(connection)
    }

    private func connect(_ slot: Slot) throws -> PostgresConnection {
        if let connection = slot.connection {
            let roundTrip = ContinuousClock.now - slot.lastUsed >= configuration.healthCheckInterval
            if connection.checkHealth(roundTrip: roundTrip) { return connection }
            slot.connection = nil
            state.withLock { $0.reconnects += 1 }
        }
        do {
            let connection = try PostgresConnection(
                configuration.conninfo, overrides: configuration.overrides,
                applicationName: configuration.applicationName)
            slot.connection = connection
            return connection
        } catch {
            state.withLock { $0.connectFailures += 1 }
            throw error
        }
    }
}

/// One pooled connection and the thread it runs on.
final class Slot: @unchecked Sendable {
    // @unchecked: `connection` and `lastUsed` are read and written only by jobs on `worker`,
    // which run one at a time, and the pool lends a slot to one borrower at a time.
    let id: Int
    let worker: BlockingWorker
    var connection: PostgresConnection?
    var lastUsed: ContinuousClock.Instant = .now

    init(id: Int) {
        self.id = id
        worker = BlockingWorker(name: "drift-pg-\(id)")
    }

    /// Closes the connection on its thread and ends the thread.
    func shutDown() {
        worker.submit { self.connection = nil }
        worker.stop()
    }
}
