import Crypto
import DriftTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Shipping
import Storage
import Synchronization
import Testing

@testable import Server

/// A webhook receiver on 127.0.0.1 (a Hummingbird app) that answers from a script and keeps
/// what it received.
final class Receiver: Sendable {
    struct Delivery: Sendable {
        var dedupKey: String
        var body: [UInt8]
        var timestamp: String?
        var signature: String?
    }

    /// Statuses to answer, in order; 200 once the script is used up.
    private let script: Mutex<[Int]>
    /// How long to wait before answering, per request in order (none once used up).
    private let delays: Mutex<[Duration]>
    private let received = Mutex<[Delivery]>([])

    init(script: [Int], delays: [Duration] = []) {
        self.script = Mutex(script)
        self.delays = Mutex(delays)
    }

    var deliveries: [Delivery] { received.withLock { $0 } }

    func application() -> some ApplicationProtocol {
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let status = self.script.withLock { $0.isEmpty ? 200 : $0.removeFirst() }
            if status == 200 {
                self.received.withLock {
                    $0.append(
                        Delivery(
                            dedupKey: request.headers[HTTPField.Name("X-Drift-Dedup-Key")!] ?? "",
                            body: Array(body.readableBytesView),
                            timestamp: request.headers[HTTPField.Name("X-Drift-Timestamp")!],
                            signature: request.headers[HTTPField.Name("X-Drift-Signature")!]))
                }
            }
            // Recorded on arrival; a slow answer comes after the delay.
            if let delay = self.delays.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) {
                try await Task.sleep(for: delay)
            }
            return Response(
                status: .init(code: status),
                body: .init(byteBuffer: ByteBuffer(string: status == 400 ? "{\"error\": \"bad payload\"}" : "ok")))
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }
}

/// The notification outbox and its delivery worker against real receivers and PostgreSQL.
@Suite(.serialized) struct DeliveryTests {
    static func service(
        _ pool: ConnectionPool, _ endpoints: @escaping @Sendable (String) -> ReceiverEndpoint?
    ) -> DeliveryService {
        var logger = Logger(label: "drift.test")
        logger.logLevel = .critical
        var service = DeliveryService(
            pool: pool, receivers: { _, name in endpoints(name) }, metrics: ServerMetrics(), logger: logger)
        service.retry = RetryPolicy(initialDelay: .milliseconds(1), maxDelay: .milliseconds(1))
        return service
    }

    static func enqueue(_ pool: ConnectionPool, _ notifications: [NewNotification]) async throws -> Int {
        try await pool.withTransaction { try OutboxStore.enqueue(notifications, $0) }
    }

    static func rows(_ pool: ConnectionPool) async throws -> [(String, String, Int, Int?)] {
        try await pool.withConnection { c in
            try c.query("SELECT dedup_key, status, attempts, last_status FROM notifications ORDER BY id").map {
                (
                    try $0.decode(String.self, at: 0), try $0.decode(String.self, at: 1),
                    try $0.decode(Int.self, at: 2),
                    try $0.decode(Int?.self, at: 3)
                )
            }
        }
    }

    @Test func downThenErrorsThenDeliveredOnceAndSigned() async throws {
        let database = try TestDatabase.create("delivery")
        let pool = database.pool()
        defer { pool.close() }
        let secret = Array("s3cret".utf8)
        #expect(
            try await Self.enqueue(
                pool,
                [
                    NewNotification(
                        project: "acme", dedupKey: "g1/1", receiver: "ops", payload: Array("{\"n\":1}".utf8)),
                    NewNotification(
                        project: "acme", dedupKey: "g1/1", receiver: "ops", payload: Array("{\"dup\":1}".utf8)),
                ]) == 1)
        // 1. The receiver is down: connection refused, retried.
        let closed = try ServeProcessTests.freePort()
        let down = Self.service(pool) { _ in
            ReceiverEndpoint(url: "http://127.0.0.1:\(closed)/hook", signingSecret: secret)
        }
        #expect(try await down.pass() == 1)
        var rows = try await Self.rows(pool)
        #expect(rows.count == 1 && rows[0].1 == "pending" && rows[0].2 == 1 && rows[0].3 == nil)
        // 2. It comes back answering 500 twice, then 200: delivered exactly once, signed.
        let receiver = Receiver(script: [500, 503])
        try await receiver.application().test(.live) { client in
            let url = "http://127.0.0.1:\(client.port ?? 0)/hook"
            let up = Self.service(pool) { _ in
                ReceiverEndpoint(url: url, headers: ["X-Team": "ml"], signingSecret: secret)
            }
            for _ in 0..<6 {
                _ = try await up.pass()
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        rows = try await Self.rows(pool)
        #expect(rows.count == 1 && rows[0].1 == "sent" && rows[0].2 == 4 && rows[0].3 == 200, "\(rows)")
        let deliveries = receiver.deliveries
        #expect(deliveries.count == 1)
        let d = try #require(deliveries.first)
        #expect(d.dedupKey == "g1/1")
        #expect(d.body == Array("{\"n\":1}".utf8))
        let timestamp = try #require(d.timestamp)
        let expected = HMAC<SHA256>.authenticationCode(
            for: Array((timestamp + ".").utf8) + d.body, using: SymmetricKey(data: secret))
        #expect(d.signature == "sha256=" + expected.map { String(format: "%02x", $0) }.joined())
    }

    @Test func permanentFailuresAndUnknownReceivers() async throws {
        let database = try TestDatabase.create("deliveryfail")
        let pool = database.pool()
        defer { pool.close() }
        _ = try await Self.enqueue(
            pool,
            [
                NewNotification(project: "acme", dedupKey: "a", receiver: "hook", payload: Array("{}".utf8)),
                NewNotification(project: "acme", dedupKey: "b", receiver: "nobody", payload: Array("{}".utf8)),
            ])
        let receiver = Receiver(script: [400])
        try await receiver.application().test(.live) { client in
            let url = "http://127.0.0.1:\(client.port ?? 0)/hook"
            let service = Self.service(pool) { name in name == "hook" ? ReceiverEndpoint(url: url) : nil }
            let first = try await service.pass()
            let second = try await service.pass()  // nothing is retried
            #expect(first == 2 && second == 0)
        }
        let rows = try await Self.rows(pool)
        #expect(rows.map(\.1) == ["failed", "failed"])
        #expect(rows[0].3 == 400)
        let errors = try await pool.withConnection { c in
            try c.query("SELECT last_error FROM notifications ORDER BY id").map { try $0.decode(String.self, at: 0) }
        }
        #expect(errors[0].contains("bad payload"))
        #expect(errors[1].contains("receiver 'nobody' is not configured"))
        #expect(receiver.deliveries.isEmpty)
    }

    /// A receiver slower than the delivery timeout: the attempt is retried (the receiver sees
    /// the dedup key twice and can drop the repeat); a group's resolve notice never overtakes
    /// its firing notice; another group is delivered in the same pass (that the slow one does
    /// not delay it is not timed here).
    @Test func slowReceiversAndOrderWithinAGroup() async throws {
        let database = try TestDatabase.create("deliveryslow")
        let pool = database.pool()
        defer { pool.close() }
        _ = try await Self.enqueue(
            pool,
            [
                NewNotification(
                    project: "acme", dedupKey: "g@1#1", receiver: "slow", payload: Array("{\"s\":\"firing\"}".utf8),
                    groupKey: "g"),
                NewNotification(
                    project: "acme", dedupKey: "g@1#2", receiver: "slow",
                    payload: Array("{\"s\":\"resolved\"}".utf8), groupKey: "g"),
                NewNotification(
                    project: "acme", dedupKey: "h@1#1", receiver: "fast", payload: Array("{}".utf8), groupKey: "h"),
            ])
        let slow = Receiver(script: [], delays: [.milliseconds(1500)])
        let fast = Receiver(script: [])
        try await slow.application().test(.live) { slowClient in
            try await fast.application().test(.live) { fastClient in
                var service = Self.service(pool) { name in
                    ReceiverEndpoint(
                        url: "http://127.0.0.1:\((name == "slow" ? slowClient : fastClient).port ?? 0)/hook")
                }
                service.timeoutMilliseconds = 300
                // First pass: the firing notice times out; the resolve notice waits; h goes.
                #expect(try await service.pass() == 2)
                #expect(fast.deliveries.map(\.dedupKey) == ["h@1#1"])
                #expect(try await Self.rows(pool).map(\.1) == ["pending", "pending", "sent"])
                for _ in 0..<10 where try await Self.rows(pool).contains(where: { $0.1 == "pending" }) {
                    _ = try await service.pass()
                    try await Task.sleep(for: .milliseconds(20))
                }
                try await Task.sleep(for: .milliseconds(1500))  // the slow first answer lands
            }
        }
        #expect(try await Self.rows(pool).map(\.1) == ["sent", "sent", "sent"])
        let keys = slow.deliveries.map(\.dedupKey)
        // The timed-out attempt reached the receiver too (in arrival order); its repeat carries
        // the same key, and the resolve notice came after both.
        #expect(keys == ["g@1#1", "g@1#1", "g@1#2"], "\(keys)")
    }

    @Test func twoReplicasDeliverEachNotificationOnce() async throws {
        let database = try TestDatabase.create("deliveryreplicas")
        let pool = database.pool(maxConnections: 8)
        defer { pool.close() }
        let notifications = (0..<60).map {
            NewNotification(
                project: "acme", dedupKey: "g/\($0)", receiver: "hook", payload: Array("{\"i\":\($0)}".utf8))
        }
        _ = try await Self.enqueue(pool, notifications)
        let receiver = Receiver(script: [])
        try await receiver.application().test(.live) { client in
            let url = "http://127.0.0.1:\(client.port ?? 0)/hook"
            // Two workers with pools of their own, as two daemons on one database would have.
            let other = database.pool(maxConnections: 4)
            defer { other.close() }
            let a = Self.service(pool) { _ in ReceiverEndpoint(url: url) }
            let b = Self.service(other) { _ in ReceiverEndpoint(url: url) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in [a, b] {
                    group.addTask { while try await worker.pass() > 0 {} }
                }
                try await group.waitForAll()
            }
        }
        let keys = receiver.deliveries.map(\.dedupKey)
        #expect(keys.count == 60)
        #expect(Set(keys).count == 60)
        #expect(try await Self.rows(pool).allSatisfy { $0.1 == "sent" && $0.2 == 1 })
    }
}
