import Crypto
import HTTPTypes
public import Hummingbird
public import Storage
import Synchronization

/// Who is making a request: a token's project and scopes, or the development principal of
/// `--no-auth`.
public struct Principal: Sendable, Equatable {
    public var project: String
    public var scopes: Set<TokenScope>
    /// The token's name, for logs (`-` without auth).
    public var tokenName: String

    /// `admin` may do everything; `read` and `ingest` only their own part.
    public func allows(_ scope: TokenScope) -> Bool { scopes.contains(scope) || scopes.contains(.admin) }
}

/// The request context of every route: Hummingbird's core storage plus the authenticated
/// principal.
public struct DriftRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var principal: Principal?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        principal = nil
    }

    /// Bodies are read with an explicit limit (``ServerConfiguration/maxBodyBytes``).
    public var maxUploadSize: Int { 1 << 30 }
}

/// API tokens: generation, hashing and verification.
///
/// A token is `dw_` followed by 43 base64url characters (32 random bytes); only its SHA-256 is
/// stored (``TokenStore``), so a database leak does not leak usable tokens, and 256 random bits
/// make a fast hash safe (no password stretching is needed for secrets that are not chosen by
/// people).
public enum Tokens {
    public static let prefix = "dw_"

    /// A new random token.
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        for _ in 0..<4 { withUnsafeBytes(of: generator.next() as UInt64) { bytes.append(contentsOf: $0) } }
        return prefix + base64url(bytes)
    }

    /// The stored form of a token.
    public static func hash(_ token: String) -> [UInt8] { Array(SHA256.hash(data: Array(token.utf8))) }

    static func base64url(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let b0 = UInt32(bytes[i])
            let b1 = i + 1 < bytes.count ? UInt32(bytes[i + 1]) : 0
            let b2 = i + 2 < bytes.count ? UInt32(bytes[i + 2]) : 0
            let n = b0 << 16 | b1 << 8 | b2
            let chars = min(4, (bytes.count - i) * 4 / 3 + ((bytes.count - i) < 3 ? 1 : 0))
            for k in 0..<chars { out.append(alphabet[Int((n >> (18 - 6 * UInt32(k))) & 63)]) }
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Resolves bearer tokens to principals through ``TokenStore``, caching hits for a short time
/// (a revoked token stops working within ``ServerConfiguration/tokenCacheMs``).
final class Authenticator: Sendable {
    let store: TokenStore
    let cacheMilliseconds: Int64
    private let cache = Mutex<[[UInt8]: (principal: Principal, expires: ContinuousClock.Instant)]>([:])

    init(store: TokenStore, cacheMilliseconds: Int64) {
        self.store = store
        self.cacheMilliseconds = cacheMilliseconds
    }

    func principal(token: String) async throws -> Principal? {
        let hash = Tokens.hash(token)
        let now = ContinuousClock.now
        if let hit = cache.withLock({ $0[hash] }), hit.expires > now { return hit.principal }
        guard let record = try await store.lookup(hash: hash) else {
            cache.withLock { _ = $0.removeValue(forKey: hash) }
            return nil
        }
        let principal = Principal(project: record.project, scopes: Set(record.scopes), tokenName: record.name)
        cache.withLock { cache in
            if cache.count > 10_000 { cache.removeAll() }
            cache[hash] = (principal, now.advanced(by: .milliseconds(cacheMilliseconds)))
        }
        return principal
    }
}

/// Authenticates `Authorization: Bearer` on every `/v1` route. Without auth (`--no-auth`)
/// every request acts as an admin of the project it names (or `default`).
struct AuthMiddleware: RouterMiddleware {
    typealias Context = DriftRequestContext
    let authenticator: Authenticator?

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        guard let authenticator else {
            let project = request.headers[.driftProject] ?? request.uri.queryParameters.get("project") ?? "default"
            context.principal = Principal(project: project, scopes: [.admin], tokenName: "-")
            return try await next(request, context)
        }
        guard let header = request.headers[.authorization] else {
            throw APIError(.unauthorized, "unauthorized", "missing Authorization: Bearer token")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer", !parts[1].isEmpty else {
            throw APIError(.unauthorized, "unauthorized", "Authorization must be 'Bearer TOKEN'")
        }
        guard let principal = try await authenticator.principal(token: String(parts[1])) else {
            throw APIError(.unauthorized, "unauthorized", "unknown or revoked token")
        }
        // A request may name its project (header or query); it must be the token's.
        if let named = request.headers[.driftProject] ?? request.uri.queryParameters.get("project"),
            named != principal.project
        {
            throw APIError(
                .forbidden, "forbidden", "token '\(principal.tokenName)' belongs to another project than '\(named)'")
        }
        context.principal = principal
        context.logger[metadataKey: "project"] = "\(principal.project)"
        return try await next(request, context)
    }
}

extension DriftRequestContext {
    /// The principal, checked for `scope`.
    func require(_ scope: TokenScope) throws -> Principal {
        guard let principal else { throw APIError(.unauthorized, "unauthorized", "not authenticated") }
        guard principal.allows(scope) else {
            throw APIError(
                .forbidden, "forbidden", "token '\(principal.tokenName)' lacks the '\(scope.rawValue)' scope")
        }
        return principal
    }
}

extension HTTPField.Name {
    /// `X-Drift-Project`: the project a request is meant for.
    static let driftProject = HTTPField.Name("X-Drift-Project")!
    /// `Idempotency-Key`: the client's key for a retried upload.
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
}
