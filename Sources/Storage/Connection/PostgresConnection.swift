internal import CLibPQ

/// One connection to a PostgreSQL server through libpq, with parameterised statements,
/// transactions, COPY and pipelined batches.
///
/// Every call blocks its thread until the server answers, and a connection must not be used
/// by two threads at once; it is therefore not `Sendable`. Servers use it through
/// ``ConnectionPool``, which runs each call on a thread of its own, off Swift concurrency's
/// cooperative pool and off any event loop.
///
/// Data always travels as parameters (`PQexecParams`), never spliced into SQL text; the only
/// statements sent as plain text are ``executeScript(_:)`` (trusted SQL such as migrations)
/// and the `COPY` command of ``copyIn(_:binaryRows:)``.
///
/// libpq reference: https://www.postgresql.org/docs/current/libpq.html
public final class PostgresConnection {
    /// The libpq handle; never nil while the object lives.
    let handle: OpaquePointer

    /// Opens a connection.
    ///
    /// - Parameters:
    ///   - conninfo: a URL (`postgresql://user@host:5432/db?sslmode=require`) or `key=value`
    ///     pairs (`host=/tmp port=5432 dbname=drift`). Empty means libpq's defaults: the `PG*`
    ///     environment variables (`PGHOST`, `PGPORT`, `PGDATABASE`, `PGUSER`, …), `~/.pgpass`
    ///     and the service file.
    ///   - overrides: keywords that replace what `conninfo` says (e.g. `["dbname": "other"]`).
    ///   - applicationName: shown in `pg_stat_activity` unless `conninfo` names one.
    /// - Throws: ``StorageError/Code/connection`` with libpq's message.
    public init(
        _ conninfo: String = "", overrides: [String: String] = [:], applicationName: String = "driftwatch"
    )
        throws
    {
        // With expand_dbname, the first `dbname` may be a whole connection string; keywords
        // after it override what it sets (libpq §34.1, PQconnectdbParams). `client_encoding`
        // is forced so that text always arrives as UTF-8.
        var pairs: [(String, String)] = [("dbname", conninfo), ("fallback_application_name", applicationName)]
        pairs += overrides.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        pairs.append(("client_encoding", "UTF8"))
        let connection = Self.withCStrings(pairs.map(\.0)) { keywords in
            Self.withCStrings(pairs.map(\.1)) { values in PQconnectdbParams(keywords, values, 1) }
        }
        guard let connection else { throw StorageError(.connection, "libpq could not allocate a connection") }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = Self.trimmed(PQerrorMessage(connection))
            PQfinish(connection)
            throw StorageError(.connection, message.isEmpty ? "could not connect" : message)
        }
        handle = connection
        // The default notice processor prints every NOTICE (e.g. "relation already exists,
        // skipping") on standard error; a library has no business writing there.
        PQsetNoticeProcessor(handle, { _, _ in }, nil)
    }

    deinit { PQfinish(handle) }

    // MARK: State

    /// Whether libpq considers the connection usable. After the server goes away this stays
    /// true until the next exchange fails; ``checkHealth(roundTrip:)`` finds out sooner.
    public var isConnected: Bool { PQstatus(handle) == CONNECTION_OK }

    /// The server's version as an integer, e.g. 150004 for 15.4.
    public var serverVersion: Int { Int(PQserverVersion(handle)) }

    /// Where the connection stands with respect to transactions.
    public enum TransactionState: Sendable {
        case idle, active, inTransaction, failed, unknown
    }

    public var transactionState: TransactionState {
        switch PQtransactionStatus(handle) {
        case PQTRANS_IDLE: .idle
        case PQTRANS_ACTIVE: .active
        case PQTRANS_INTRANS: .inTransaction
        case PQTRANS_INERROR: .failed
        default: .unknown
        }
    }

    /// Checks the connection without blocking on the server when `roundTrip` is false: reads
    /// whatever the server sent while the connection sat idle (a server shutting down sends a
    /// termination error and closes the socket), which libpq turns into a bad status. With
    /// `roundTrip`, also sends an empty query and waits for its answer.
    public func checkHealth(roundTrip: Bool = false) -> Bool {
        // Twice: a server that shut down sent an error message and then closed the socket; the
        // first read may return just the message, the second then sees the end of the stream.
        for _ in 0..<2 {
            guard PQstatus(handle) == CONNECTION_OK, PQconsumeInput(handle) == 1, PQstatus(handle) == CONNECTION_OK
            else { return false }
        }
        guard roundTrip else { return true }
        guard let result = PQexec(handle, "") else { return false }
        defer { PQclear(result) }
        return PQresultStatus(result) == PGRES_EMPTY_QUERY && PQstatus(handle) == CONNECTION_OK
    }

    /// Closes the socket and connects again with the same parameters.
    ///
    /// - Throws: ``StorageError/Code/connection`` when the server cannot be reached.
    public func reset() throws {
        PQreset(handle)
        guard PQstatus(handle) == CONNECTION_OK else {
            throw StorageError(.connection, Self.trimmed(PQerrorMessage(handle)))
        }
    }

    // MARK: Statements

    /// Runs one statement with parameters `$1`, `$2`, … and returns its rows.
    ///
    /// - Parameters:
    ///   - format: the format the server sends result columns in. Binary (the default) is
    ///     exact for floats, compact for bytea and independent of session settings.
    /// - Throws: ``StorageError`` with the server's SQLSTATE, or ``StorageError/Code/connection``
    ///   when the connection broke.
    @discardableResult
    public func query(
        _ sql: String, _ parameters: [PostgresValue] = [], format: PostgresFormat = .binary
    ) throws
        -> PostgresResult
    {
        let result = try Self.withParameters(parameters) { count, types, values, lengths, formats in
            PQexecParams(handle, sql, count, types, values, lengths, formats, format.rawValue)
        }
        return try check(result, sql: sql)
    }

    /// Runs one statement and returns the number of rows it affected.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [PostgresValue] = []) throws -> Int {
        try query(sql, parameters).affectedRows
    }

    /// Runs a script of several `;`-separated statements through the simple query protocol,
    /// without parameters. For trusted SQL only (migrations, fixed maintenance statements):
    /// never build the script from input. Without an explicit transaction in the script, the
    /// statements run as one implicit transaction.
    public func executeScript(_ sql: String) throws {
        try check(PQexec(handle, sql), sql: sql)
    }

    // MARK: Transactions

    public enum IsolationLevel: String, Sendable {
        case readCommitted = "READ COMMITTED"
        case repeatableRead = "REPEATABLE READ"
        case serializable = "SERIALIZABLE"
    }

    /// Runs `body` in a transaction: COMMIT when it returns, ROLLBACK when it throws (the
    /// error is rethrown). Nested calls use a savepoint, so an inner failure rolls back only
    /// the inner part.
    ///
    /// A body that catches a server error and carries on leaves the transaction aborted; the
    /// commit then throws instead of quietly rolling back (a COMMIT of an aborted transaction
    /// succeeds with the tag ROLLBACK).
    @discardableResult
    public func withTransaction<T>(
        isolation: IsolationLevel = .readCommitted, _ body: (PostgresConnection) throws -> T
    ) throws -> T {
        if transactionState == .inTransaction {
            savepointDepth += 1
            defer { savepointDepth -= 1 }
            let name = "drift_savepoint_\(savepointDepth)"
            try execute("SAVEPOINT \(name)")
            do {
                let value = try body(self)
                try execute("RELEASE SAVEPOINT \(name)")
                return value
            } catch {
                if isConnected { _ = try? execute("ROLLBACK TO SAVEPOINT \(name)") }
                throw error
            }
        }
        try execute(isolation == .readCommitted ? "BEGIN" : "BEGIN ISOLATION LEVEL \(isolation.rawValue)")
        let value: T
        do {
            value = try body(self)
        } catch {
            rollbackQuietly()
            throw error
        }
        guard transactionState == .inTransaction else {
            rollbackQuietly()
            throw StorageError(
                .misuse, "the transaction was aborted by an earlier error that the body caught; rolled back")
        }
        try execute("COMMIT")
        return value
    }

    private var savepointDepth = 0

    private func rollbackQuietly() {
        guard isConnected, transactionState != .idle else { return }
        _ = try? execute("ROLLBACK")
    }

    // MARK: Results and errors

    /// Turns a libpq result into a ``PostgresResult`` or the error it reports.
    @discardableResult
    func check(_ result: OpaquePointer?, sql: String) throws -> PostgresResult {
        guard let result else { throw connectionError() }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY, PGRES_SINGLE_TUPLE:
            return PostgresResult(taking: result)
        case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
            // A COPY sent as an ordinary statement: end it so that the connection stays usable.
            PQclear(result)
            _ = PQputCopyEnd(handle, "COPY must go through copyIn")
            var buffer: UnsafeMutablePointer<CChar>?
            while PQgetCopyData(handle, &buffer, 0) > 0 { PQfreemem(buffer) }
            while let leftover = PQgetResult(handle) { PQclear(leftover) }
            throw StorageError(.misuse, "COPY statements go through copyIn(_:binaryRows:) or copyIn(_:textRows:)")
        default:
            defer { PQclear(result) }
            throw error(from: result)
        }
    }

    /// The error a failed result describes, with its diagnostic fields (libpq §34.3.1,
    /// PQresultErrorField; the field codes are the protocol's ErrorResponse field types).
    func error(from result: OpaquePointer) -> StorageError {
        func field(_ code: Character) -> String? {
            guard let ascii = code.asciiValue, let text = PQresultErrorField(result, Int32(ascii)) else { return nil }
            return String(cString: text)
        }
        let message = field("M") ?? Self.trimmed(PQresultErrorMessage(result))
        let broken = PQstatus(handle) != CONNECTION_OK
        return StorageError(
            broken ? .connection : .server, message.isEmpty ? Self.trimmed(PQerrorMessage(handle)) : message,
            sqlState: field("C"), detail: field("D"), hint: field("H"), constraint: field("n"))
    }

    func connectionError() -> StorageError {
        let message = Self.trimmed(PQerrorMessage(handle))
        return StorageError(
            PQstatus(handle) == CONNECTION_OK ? .server : .connection,
            message.isEmpty ? "no result from the server" : message)
    }

    static func trimmed(_ text: UnsafePointer<CChar>?) -> String {
        guard let text else { return "" }
        var s = String(cString: text)
        while s.last?.isWhitespace == true { s.removeLast() }
        return s
    }

    // MARK: C interop

    /// Calls `body` with the parameter arrays `PQexecParams` takes: binary values laid out in
    /// one buffer, NULL as a null pointer.
    static func withParameters<R>(
        _ parameters: [PostgresValue],
        _ body: (
            Int32, UnsafePointer<UInt32>?, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?,
            UnsafePointer<Int32>?
        ) throws -> R
    ) throws -> R {
        guard !parameters.isEmpty else { return try body(0, nil, nil, nil, nil) }
        var buffer: [UInt8] = []
        var offsets: [Int] = []
        var lengths: [Int32] = []
        var types: [UInt32] = []
        offsets.reserveCapacity(parameters.count)
        for parameter in parameters {
            let start = buffer.count
            try parameter.writeBinary(into: &buffer)
            guard buffer.count - start <= Int(Int32.max) else {
                throw StorageError(
                    .misuse, "a parameter of \(buffer.count - start) bytes exceeds PostgreSQL's 1 GB limit")
            }
            if case .null = parameter { offsets.append(-1) } else { offsets.append(start) }
            lengths.append(Int32(buffer.count - start))
            types.append(parameter.type.oid)
        }
        // Zero-length values still need a non-null pointer: keep the buffer non-empty.
        buffer.append(0)
        let formats = [Int32](repeating: 1, count: parameters.count)
        return try buffer.withUnsafeBytes { raw in
            guard let start = raw.baseAddress else { preconditionFailure("the buffer holds at least one byte") }
            let base = start.assumingMemoryBound(to: CChar.self)
            let values: [UnsafePointer<CChar>?] = offsets.map { $0 < 0 ? nil : base + $0 }
            return try body(Int32(parameters.count), types, values, lengths, formats)
        }
    }

    /// Calls `body` with a C array of C strings.
    static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
        let storage: [[CChar]] = strings.map { Array($0.utf8CString) }
        var pointers: [UnsafePointer<CChar>?] = []
        pointers.reserveCapacity(strings.count + 1)
        func collect(_ index: Int) -> R {
            if index == storage.count {
                pointers.append(nil)
                return pointers.withUnsafeBufferPointer { buffer in
                    guard let start = buffer.baseAddress else { preconditionFailure("the array holds the terminator") }
                    return body(start)
                }
            }
            return storage[index].withUnsafeBufferPointer { chars in
                pointers.append(chars.baseAddress)
                return collect(index + 1)
            }
        }
        return collect(0)
    }
}
