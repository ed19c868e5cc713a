import DriftTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import Profiles
import Server
import Storage
import Testing

@Suite(.serialized) struct AuthAndOperationsTests {
    @Test func tokensScopesAndProjectIsolation() async throws {
        let server = try await ServerHarness.make("auth")
        let a = try await server.token(project: "project-a")
        let b = try await server.token(project: "project-b")
        let readOnly = try await server.token(project: "project-a", scopes: [.read])
        let ingestOnly = try await server.token(project: "project-a", scopes: [.ingest], name: "ingest-only")
        try await server.run { client in
            var random = SeededRandom(seed: 20)
            let bytes = TestProfiles.bytes(
                TestProfiles.latency(model: "secret-model", windowStart: IngestTests.base, requests: 5, random: &random)
            )
            let none = try await client.upload(bytes, token: nil)
            #expect(none.status == .unauthorized && none.errorCode == "unauthorized")
            #expect(none.headers[.wwwAuthenticate] != nil)
            #expect(try await client.upload(bytes, token: "dw_not-a-real-token").status == .unauthorized)
            let wrongScheme = try await client.execute(
                uri: "/v1/models", method: .get, headers: [.authorization: "Basic dXNlcjpwYXNz"])
            #expect(wrongScheme.status == .unauthorized)
            // Token of A naming project B: forbidden, for writes and reads.
            let cross = try await client.upload(bytes, token: a, headers: [.init("X-Drift-Project")!: "project-b"])
            #expect(cross.status == .forbidden && cross.errorCode == "forbidden")
            #expect(try await client.get("/v1/models?project=project-b", token: a).status == .forbidden)
            // Scopes.
            let readUpload = try await client.upload(bytes, token: readOnly)
            #expect(readUpload.status == .forbidden && readUpload.errorMessage.contains("ingest"))
            #expect(try await client.upload(bytes, token: ingestOnly).status == .accepted)
            #expect(try await client.get("/v1/models", token: ingestOnly).status == .forbidden)
            let put = try await client.put("/v1/models/secret-model/baselines/ref", token: readOnly, body: bytes)
            #expect(put.status == .forbidden)
            // A's data is invisible to B: B's model list is empty and B's query finds nothing.
            try await server.waitForRollups()
            let listA = try await client.get("/v1/models", token: a)
            #expect((listA.json["models"] as? [[String: Any]])?.count == 1)
            let listB = try await client.get("/v1/models", token: b)
            #expect((listB.json["models"] as? [[String: Any]])?.isEmpty == true)
            let queryB = try await client.get(
                "/v1/models/secret-model/profile?from=2024-03-01T00:00:00Z&to=2024-03-02T00:00:00Z", token: b)
            #expect(queryB.status == .notFound)
            // B uploading the same bytes stores its own copy, not a duplicate of A's.
            let bUpload = try await client.upload(bytes, token: b)
            #expect(bUpload.json["duplicate"] as? Bool == false)
            // Revoked tokens stop working (no cache in tests).
            #expect(try await server.components.tokens.revoke(project: "project-a", name: "ingest-only"))
            #expect(try await client.upload(bytes, token: ingestOnly).status == .unauthorized)
        }
    }

    @Test func operationalEndpoints() async throws {
        let server = try await ServerHarness.make("operations")
        let token = try await server.token(project: "acme")
        try await server.run { client in
            let health = try await client.get("/healthz", token: nil)
            #expect(health.status == .ok)
            let ready = try await client.get("/readyz", token: nil)
            #expect(ready.status == .ok && ready.json["status"] as? String == "ready", "\(ready.text)")
            var random = SeededRandom(seed: 21)
            let bytes = TestProfiles.bytes(
                TestProfiles.latency(model: "fraud", windowStart: IngestTests.base, requests: 5, random: &random))
            #expect(try await client.upload(bytes, token: token).status == .accepted)
            #expect(try await client.upload(bytes, token: token).status == .accepted)
            #expect(try await client.upload([1, 2, 3], token: token).status == .badRequest)
            try await server.waitForRollups()
            let metrics = try await client.get("/metrics", token: nil)
            #expect(metrics.status == .ok)
            let text = metrics.text
            #expect(text.contains("drift_ingest_uploads_total{outcome=\"accepted\"} 1"))
            #expect(text.contains("drift_ingest_uploads_total{outcome=\"duplicate\"} 1"))
            #expect(text.contains("drift_ingest_uploads_total{outcome=\"rejected\"} 1"))
            #expect(text.contains("drift_ingest_duration_seconds_count 2"))
            #expect(text.contains("drift_rollup_profiles_total 1"))
            #expect(text.contains("drift_db_pool_connections_open"))
            let openapi = try await client.get("/openapi.yaml", token: nil)
            #expect(openapi.status == .ok)
            #expect(openapi.text.contains("/v1/profiles"))
        }
    }

    @Test func configurationFileErrorsNameTheLine() throws {
        var c = ServerConfiguration()
        try c.apply(
            yaml: """
                listen: 0.0.0.0:9090
                pool_size: 12
                rollup:
                  interval: 250ms
                retention:
                  raw_days: forever
                  day_days: 400
                """, path: "drift.yaml")
        #expect(c.host == "0.0.0.0" && c.port == 9090 && c.poolSize == 12)
        #expect(c.rollupIntervalMs == 250)
        #expect(c.retention.rawDays == nil && c.retention.dayDays == 400)
        func failure(_ yaml: String) -> String {
            var c = ServerConfiguration()
            do {
                try c.apply(yaml: yaml, path: "drift.yaml")
                return "no error"
            } catch {
                return error.description
            }
        }
        #expect(failure("listen: 1.2.3.4:80\npool_sise: 3\n").hasPrefix("drift.yaml:2:1: unknown key 'pool_sise'"))
        #expect(failure("rollup:\n  interval: soon\n").hasPrefix("drift.yaml:2:13: rollup.interval must be a duration"))
        #expect(failure("pool_size: many\n").contains("drift.yaml:1:12: pool_size must be an integer"))
        #expect(failure("listen: nowhere\n").contains("needs HOST:PORT"))
        #expect(failure("a: [unclosed\n").contains("not valid YAML"))
        var open = ServerConfiguration()
        open.host = "0.0.0.0"
        open.authEnabled = false
        #expect(throws: ConfigurationError.self) { try open.validate() }
        var env = ServerConfiguration()
        try env.apply(environment: ["DRIFT_LISTEN": ":7000", "DRIFT_DATABASE_URL": "postgres://x/y"])
        #expect(env.port == 7000 && env.host == "0.0.0.0" && env.databaseURL == "postgres://x/y")
        #expect(Durations.milliseconds("5ms") == 5 && Durations.milliseconds("2h") == 7_200_000)
        #expect(Durations.milliseconds("h") == nil && Durations.milliseconds("-3s") == nil)
    }

    @Test func tokensAreRandomAndHashed() {
        let a = Tokens.generate()
        let b = Tokens.generate()
        #expect(a != b)
        #expect(a.hasPrefix("dw_") && a.count == 46)
        #expect(a.dropFirst(3).allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        #expect(Tokens.hash(a).count == 32 && Tokens.hash(a) == Tokens.hash(a) && Tokens.hash(a) != Tokens.hash(b))
    }
}
