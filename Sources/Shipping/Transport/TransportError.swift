/// A request that got no HTTP response: the connection failed, timed out, or TLS did not verify.
/// (A response with an error status is an ``HTTPResponse``, not a `TransportError`.)
public struct TransportError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, as a small open set (new kinds can be added without breaking callers).
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Base: String, Hashable, Sendable {
            case couldNotConnect = "could not connect"
            case timedOut = "timed out"
            case connectionLost = "connection lost"
            case tls = "TLS failure"
            case responseTooLarge = "response too large"
            case invalidRequest = "invalid request"
            case other = "transfer failed"
        }
        fileprivate let base: Base

        /// Name resolution or TCP connection failed: the server cannot have seen the request.
        public static let couldNotConnect = Kind(base: .couldNotConnect)
        /// The connect or total timeout expired.
        public static let timedOut = Kind(base: .timedOut)
        /// The connection broke while sending or before a complete response.
        public static let connectionLost = Kind(base: .connectionLost)
        /// The TLS handshake or certificate verification failed.
        public static let tls = Kind(base: .tls)
        public static let responseTooLarge = Kind(base: .responseTooLarge)
        /// The request itself is unusable (bad URL, a header with a line break).
        public static let invalidRequest = Kind(base: .invalidRequest)
        public static let other = Kind(base: .other)

        public var description: String { base.rawValue }
    }

    public let kind: Kind
    /// libcurl's message (or ours), naming the host and cause where known.
    public let message: String

    init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// Whether the server may have received, and acted on, the request: true unless the
    /// connection was never made. An upload retried after such an error relies on its
    /// idempotency key not to be counted twice.
    public var mayHaveReachedServer: Bool {
        switch kind.base {
        case .couldNotConnect, .tls, .invalidRequest: return false
        default: return true
        }
    }

    public var description: String { "\(kind): \(message)" }
}
