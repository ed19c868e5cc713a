/// An error from the storage layer: a failed connection, an error the PostgreSQL server
/// reported, a value that does not decode as the requested type, a refused migration, or an
/// embedded cluster that would not start.
///
/// Server errors carry the five-character SQLSTATE (``sqlState``, e.g. `23505` for a unique
/// violation) and the server's primary message, detail, hint and constraint name, so that
/// callers can react to a specific condition without parsing text. The description is one
/// line that names what failed.
///
/// See the list of SQLSTATE codes: https://www.postgresql.org/docs/current/errcodes-appendix.html
public struct StorageError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is. New kinds may be added; switch with a default.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Base: String, Sendable {
            case connection, server, decoding, misuse, migration, embedded, poolClosed = "pool closed"
        }
        fileprivate let base: Base

        /// Could not connect, or the connection broke (the server went away mid-statement).
        public static let connection = Code(base: .connection)
        /// The server rejected a statement; ``StorageError/sqlState`` says why.
        public static let server = Code(base: .server)
        /// A result value did not convert to the requested Swift type (or a column is missing).
        public static let decoding = Code(base: .decoding)
        /// The caller asked for something the API does not allow (an invalid argument).
        public static let misuse = Code(base: .misuse)
        /// A migration was refused: an applied file changed, or the database is newer.
        public static let migration = Code(base: .migration)
        /// The embedded PostgreSQL cluster could not be found, initialised, started or stopped.
        public static let embedded = Code(base: .embedded)
        /// The connection pool was closed.
        public static let poolClosed = Code(base: .poolClosed)

        public var description: String { base.rawValue }
    }

    public let code: Code
    /// The server's SQLSTATE, when the server reported the error.
    public let sqlState: String?
    /// The primary message (the server's, or ours).
    public let message: String
    /// The server's optional detail line (e.g. which key was duplicated).
    public let detail: String?
    /// The server's optional hint.
    public let hint: String?
    /// The constraint the error is about, when the server names one.
    public let constraint: String?

    init(
        _ code: Code, _ message: String, sqlState: String? = nil, detail: String? = nil, hint: String? = nil,
        constraint: String? = nil
    ) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.hint = hint
        self.constraint = constraint
    }

    /// SQLSTATE `23505`: a unique constraint or index rejected a row.
    public var isUniqueViolation: Bool { sqlState == "23505" }

    /// Whether retrying the same work may succeed: the connection broke or could not be made,
    /// the server is shutting down or starting (class 08, 57P01–57P03), or the transaction lost
    /// a serialization conflict or a deadlock (40001, 40P01).
    public var isTransient: Bool {
        if code == .connection { return true }
        guard let state = sqlState else { return false }
        return state.hasPrefix("08") || ["57P01", "57P02", "57P03", "40001", "40P01"].contains(state)
    }
    /// SQLSTATE `40001` or `40P01`: a serialization failure or deadlock; the transaction may be
    /// retried as a whole.
    public var isRetryable: Bool { sqlState == "40001" || sqlState == "40P01" }
    /// The connection is gone (SQLSTATE class 08, an administrator shutdown `57P01`…`57P03`, or
    /// a broken socket); a new connection may succeed.
    public var isConnectionFailure: Bool {
        code == .connection || sqlState?.hasPrefix("08") == true || sqlState?.hasPrefix("57P0") == true
    }

    public var description: String {
        var text = "storage \(code): "
        if let sqlState { text += "[\(sqlState)] " }
        text += message
        if let detail { text += " (\(detail))" }
        if let hint { text += " hint: \(hint)" }
        return text
    }
}
