import Crypto
import Foundation
import Logging
import Profiles
import ServiceLifecycle
import Shipping
import Storage

/// Where a named receiver's notifications go, resolved at send time (so that secrets read
/// from the environment or files are never stored in the outbox).
public struct ReceiverEndpoint: Sendable, Equatable {
    public var url: String
    public var headers: [String: String]
    /// HMAC-SHA256 key: when set, requests carry `X-Drift-Signature`.
    public var signingSecret: [UInt8]?

    public init(url: String, headers: [String: String] = [:], signingSecret: [UInt8]? = nil) {
        self.url = url
        self.headers = headers
        self.signingSecret = signingSecret
    }
}

/// Delivers the notification outbox over libcurl.
///
/// Each pass leases due rows (`OutboxStore.lease`: a short UPDATE … FOR UPDATE SKIP LOCKED, so
/// replicas never hold the same row), sends them and records the outcome, classified by
/// Shipping's `RetryPolicy` as uploads are: 2xx is done; other 4xx except 408/429 fail
/// permanently with the response recorded; network errors, 408, 429 and 5xx are retried with
/// exponential backoff (honouring `Retry-After`) until the notification is older than the
/// maximum age. Every request carries `X-Drift-Dedup-Key` (stable
/// across retries) so that a receiver can drop the repeat a crash between sending and
/// recording may cause; with a secret, `X-Drift-Timestamp` and
/// `X-Drift-Signature: sha256=HEX(HMAC-SHA256(secret, timestamp + "." + body))`.
///
/// Notifications of different groups are sent concurrently (over `uploaders`, one libcurl
/// thread each), so a slow receiver holds up at most one of them; a group's own notices go one
/// at a time, oldest first (`OutboxStore.lease`).
struct DeliveryService: Service {
    let pool: ConnectionPool
    let receivers: @Sendable (_ project: String, _ name: String) -> ReceiverEndpoint?
    let uploaders: [HTTPUploader]
    let metrics: ServerMetrics
    let logger: Logger
    /// `alerts.delivery_timeout`: the longest a receiver may take to answer.
    var timeoutMilliseconds: Int64 = 10_000
    var intervalMilliseconds: Int64 = 500
    var maxAgeMilliseconds: Int64 = 24 * 3_600_000
    /// Shipping's policy: exponential backoff with full jitter, `Retry-After` (seconds or an
    /// HTTP-date) as a floor up to an hour, and which statuses are worth another attempt.
    var retry = RetryPolicy(initialDelay: .seconds(1), maxDelay: .seconds(300))

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                if try await pass() == 0 { await pause(milliseconds: intervalMilliseconds) }
            } catch {
                logger.error("delivery pass failed; retrying", metadata: ["error": "\(error)"])
                await pause(milliseconds: 2000)
            }
        }
    }

    init(
        pool: ConnectionPool, receivers: @escaping @Sendable (_ project: String, _ name: String) -> ReceiverEndpoint?,
        concurrency: Int = 4, metrics: ServerMetrics, logger: Logger
    ) {
        self.pool = pool
        self.receivers = receivers
        self.uploaders = (0..<max(1, concurrency)).map { _ in HTTPUploader() }
        self.metrics = metrics
        self.logger = logger
    }

    /// Sends what is due; returns the number of notifications attempted.
    func pass() async throws -> Int {
        // The lease outlasts a pass: every notification of it is sent within one timeout per
        // notification an uploader carries.
        let batch = uploaders.count * 4
        let lease = timeoutMilliseconds * 4 + 30_000
        let leased = try await pool.withConnection {
            try OutboxStore.lease(limit: batch, leaseMilliseconds: lease, $0)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, uploader) in uploaders.enumerated() {
                let share = leased.enumerated().filter { $0.offset % uploaders.count == index }.map(\.element)
                guard !share.isEmpty else { continue }
                group.addTask { for n in share { try await deliver(n, over: uploader) } }
            }
            try await group.waitForAll()
        }
        return leased.count
    }

    func deliver(_ n: OutboxNotification, over uploader: HTTPUploader) async throws {
        guard let endpoint = receivers(n.project, n.receiver) else {
            try await record(n, .failed(status: nil, error: "receiver '\(n.receiver)' is not configured"))
            return
        }
        var headers: [(String, String)] = [
            ("Content-Type", "application/json"), ("X-Drift-Dedup-Key", n.dedupKey),
            ("User-Agent", "driftwatch-notifier/1"),
        ]
        for (name, value) in endpoint.headers.sorted(by: { $0.key < $1.key }) { headers.append((name, value)) }
        if let secret = endpoint.signingSecret {
            let timestamp = String(Clock.nowMilliseconds() / 1000)
            headers.append(("X-Drift-Timestamp", timestamp))
            headers.append(
                ("X-Drift-Signature", "sha256=" + Self.signature(secret: secret, timestamp: timestamp, body: n.payload))
            )
        }
        let outcome: Outcome
        do {
            let response = try await uploader.send(
                endpoint.url, body: n.payload, headers: headers, timeout: .milliseconds(timeoutMilliseconds))
            outcome = classify(n, response)
        } catch {
            outcome = retryOrExpire(n, status: nil, error: "\(error)")
        }
        try await record(n, outcome)
    }

    enum Outcome: Equatable {
        case sent(status: Int)
        case retry(delayMilliseconds: Int64, status: Int?, error: String)
        case failed(status: Int?, error: String)
    }

    func classify(_ n: OutboxNotification, _ response: HTTPResponse) -> Outcome {
        let status = response.status
        let body = String(decoding: response.body.prefix(500), as: UTF8.self)
        var random = SystemRandomNumberGenerator()
        switch retry.disposition(
            of: response, failures: n.attempts, nowMilliseconds: Clock.nowMilliseconds(), using: &random)
        {
        case .delivered: return .sent(status: status)
        case .retry(let delay): return retryOrExpire(n, status: status, error: body, delay: delay)
        case .reject: return .failed(status: status, error: body)
        }
    }

    /// Another attempt after `delay` (by default the policy's backoff for the attempts so far),
    /// unless the notification is older than the maximum age.
    func retryOrExpire(_ n: OutboxNotification, status: Int?, error: String, delay: Duration? = nil) -> Outcome {
        let age = Clock.nowMilliseconds() - n.createdAt.milliseconds
        guard age < maxAgeMilliseconds else {
            return .failed(status: status, error: "gave up after \(n.attempts) attempts over \(age / 1000) s: \(error)")
        }
        var random = SystemRandomNumberGenerator()
        let wait = delay ?? retry.delay(afterFailures: n.attempts, using: &random)
        let (seconds, attoseconds) = wait.components
        return .retry(
            delayMilliseconds: seconds * 1000 + attoseconds / 1_000_000_000_000_000, status: status, error: error)
    }

    func record(_ n: OutboxNotification, _ outcome: Outcome) async throws {
        try await pool.withConnection { connection in
            switch outcome {
            case .sent(let status): try OutboxStore.markSent(id: n.id, status: status, connection)
            case .retry(let delay, let status, let error):
                try OutboxStore.markRetry(id: n.id, delayMilliseconds: delay, status: status, error: error, connection)
            case .failed(let status, let error):
                try OutboxStore.markFailed(id: n.id, status: status, error: error, connection)
            }
        }
        switch outcome {
        case .sent:
            metrics.notificationsSent.increment()
        case .retry(let delay, let status, let error):
            metrics.notificationsRetried.increment()
            logger.warning(
                "notification not delivered; will retry",
                metadata: [
                    "receiver": "\(n.receiver)", "dedup_key": "\(n.dedupKey)",
                    "status": "\(status.map(String.init) ?? "-")",
                    "retry_ms": "\(delay)", "error": "\(error.prefix(200))",
                ])
        case .failed(let status, let error):
            metrics.notificationsFailed.increment()
            logger.error(
                "notification failed permanently",
                metadata: [
                    "receiver": "\(n.receiver)", "dedup_key": "\(n.dedupKey)",
                    "status": "\(status.map(String.init) ?? "-")",
                    "error": "\(error.prefix(200))",
                ])
        }
    }

    /// Lowercase hex HMAC-SHA256 of `timestamp + "." + body`.
    static func signature(secret: [UInt8], timestamp: String, body: [UInt8]) -> String {
        var message = Array(timestamp.utf8)
        message.append(UInt8(ascii: "."))
        message.append(contentsOf: body)
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: secret))
        return mac.map { String(format: "%02x", $0) }.joined()
    }
}
