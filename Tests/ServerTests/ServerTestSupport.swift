import DriftTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Profiles
import Reports
import Server
import Storage
import Testing

/// A daemon on a test database: the application under HummingbirdTesting's live framework
/// (a real listener on 127.0.0.1), with tokens made directly in the database.
struct ServerHarness {
    let database: TestDatabase
    let components: DriftServer.Components

    /// Test settings: auth on, no retention, fast background loops, no token cache, windows'
    /// metrics due as soon as they ended.
    static func configuration(_ configure: (inout ServerConfiguration) -> Void = { _ in }) -> ServerConfiguration {
        var c = ServerConfiguration()
        c.retention = .forever
        c.rollupIntervalMs = 20
        c.metricsIntervalMs = 50
        c.metricsGraceMs = 0
        c.metricsSettleMs = 0
        c.rollupDutyCycle = 1
        c.tokenCacheMs = 0
        c.poolSize = 8
        configure(&c)
        return c
    }

    static func make(
        _ label: String, database: TestDatabase? = nil, _ configure: (inout ServerConfiguration) -> Void = { _ in }
    ) async throws -> ServerHarness {
        let database = try database ?? TestDatabase.create(label, migrated: false)
        var logger = Logger(label: "drift.test")
        logger.logLevel = .warning
        let components = try await DriftServer.prepare(
            configuration: configuration(configure), conninfo: database.conninfo, overrides: database.overrides,
            logger: logger)
        return ServerHarness(database: database, components: components)
    }

    /// Runs `body` against the live application; the pool stays open for another run.
    func run<T: Sendable>(
        now: @escaping @Sendable () -> Int64 = { Clock.nowMilliseconds() },
        _ body: @Sendable (any TestClientProtocol) async throws -> T
    ) async throws -> T {
        var logger = Logger(label: "drift.test")
        logger.logLevel = .warning
        let app = DriftServer.application(components, logger: logger, now: now)
        return try await app.test(.live) { client in try await body(client) }
    }

    /// A new token of `project` with `scopes`.
    func token(
        project: String, scopes: Set<TokenScope> = [.ingest, .read, .admin], name: String? = nil
    )
        async throws -> String
    {
        let token = Tokens.generate()
        try await components.tokens.create(
            project: project, name: name ?? "t-\(UUID().uuidString.prefix(8))", scopes: scopes,
            hash: Tokens.hash(token))
        return token
    }

    /// Waits until no raw profile is pending a rollup (or fails after 30 s).
    func waitForRollups() async throws {
        for _ in 0..<600 {
            if try await components.profiles.pendingCount() == 0 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("rollups did not catch up in 30 s")
    }

    /// Waits until every rollup window has current metrics.
    func waitForMetrics() async throws {
        for _ in 0..<600 {
            let due = try await components.pool.withConnection { c in
                try c.query("SELECT count(*) FROM rollups WHERE metrics_at IS NULL OR metrics_at < updated_at")
                    .scalar(Int.self)
            }
            if due == 0 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("metrics did not catch up in 30 s")
    }

    func scalar<T: PostgresDecodable & Sendable>(
        _ type: T.Type, _ sql: String, _ parameters: [PostgresValue] = []
    )
        async throws -> T
    {
        try await components.pool.withConnection { try $0.query(sql, parameters).scalar(T.self) }
    }
}

/// Request helpers.
extension TestClientProtocol {
    func upload(
        _ bytes: [UInt8], token: String?, query: String = "", headers extra: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers = extra
        if let token { headers[.authorization] = "Bearer \(token)" }
        headers[.contentType] = "application/octet-stream"
        return try await execute(
            uri: "/v1/profiles\(query)", method: .post, headers: headers, body: ByteBuffer(bytes: bytes))
    }

    /// One request with a bearer token (if any) and, when given, a body of `contentType`.
    func send(
        _ method: HTTPRequest.Method, _ uri: String, token: String?, body: [UInt8]? = nil,
        contentType: String = "application/octet-stream"
    ) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        guard let body else { return try await execute(uri: uri, method: method, headers: headers) }
        headers[.contentType] = contentType
        return try await execute(uri: uri, method: method, headers: headers, body: ByteBuffer(bytes: body))
    }

    func send(_ method: HTTPRequest.Method, _ uri: String, token: String?, json: String) async throws -> TestResponse {
        try await send(method, uri, token: token, body: Array(json.utf8), contentType: "application/json")
    }

    func get(_ uri: String, token: String?) async throws -> TestResponse { try await send(.get, uri, token: token) }

    func put(_ uri: String, token: String?, body: [UInt8]) async throws -> TestResponse {
        try await send(.put, uri, token: token, body: body)
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }

    /// The body as a JSON object (fails the test otherwise).
    var json: [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            Issue.record("not a JSON object: \(text)")
            return [:]
        }
        return object
    }

    /// `error.code` of an error body.
    var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
    var errorMessage: String { ((json["error"] as? [String: Any])?["message"] as? String) ?? "" }
}
