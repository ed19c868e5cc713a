/// A notification waiting in, or done with, the outbox.
public struct OutboxNotification: Sendable, Equatable {
    public var id: Int64
    public var project: String
    public var dedupKey: String
    public var receiver: String
    public var payload: [UInt8]
    /// Attempts so far, including the one this lease is for.
    public var attempts: Int
    public var createdAt: PostgresTimestamp
}

/// A notification to enqueue.
public struct NewNotification: Sendable, Equatable {
    public var project: String
    public var dedupKey: String
    public var receiver: String
    public var payload: [UInt8]
    /// Notifications of one group (and receiver) are delivered oldest first; '' for none.
    public var groupKey: String

    public init(project: String, dedupKey: String, receiver: String, payload: [UInt8], groupKey: String = "") {
        self.project = project
        self.dedupKey = dedupKey
        self.receiver = receiver
        self.payload = payload
        self.groupKey = groupKey
    }
}

/// The notification outbox: written in the evaluator's transaction, drained by delivery
/// workers that lease rows so that no two workers (in any replica) send a row at once.
public enum OutboxStore {
    /// Enqueues notifications on the caller's connection (normally inside the transaction that
    /// records the state change). A dedup key already in the outbox is skipped: returns the
    /// number enqueued.
    @discardableResult
    public static func enqueue(_ notifications: [NewNotification], _ connection: PostgresConnection) throws -> Int {
        guard !notifications.isEmpty else { return 0 }
        return try connection.execute(
            """
            INSERT INTO notifications (project, dedup_key, receiver, payload, group_key)
            SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[], $5::text[])
            ON CONFLICT ON CONSTRAINT notifications_dedup DO NOTHING
            """,
            [
                .textArray(notifications.map(\.project)), .textArray(notifications.map(\.dedupKey)),
                .textArray(notifications.map(\.receiver)),
                .array(element: .bytea, notifications.map { .bytea($0.payload) }),
                .textArray(notifications.map(\.groupKey)),
            ])
    }

    /// Leases up to `limit` due notifications for `leaseMilliseconds` (one attempt each), oldest
    /// first, and of each group only the oldest pending one. A worker that dies mid-send leaves its lease to expire; the row is then due again.
    public static func lease(
        limit: Int, leaseMilliseconds: Int64, _ connection: PostgresConnection
    ) throws
        -> [OutboxNotification]
    {
        try connection.query(
            """
            UPDATE notifications n
            SET lease_until = now() + make_interval(secs => $2::float8 / 1000), attempts = n.attempts + 1
            WHERE n.id IN (
                SELECT id FROM notifications p
                WHERE status = 'pending' AND next_attempt_at <= now()
                  AND (lease_until IS NULL OR lease_until < now())
                  -- one group's notices in order: not while an older one is still pending
                  AND (group_key = '' OR NOT EXISTS (
                      SELECT 1 FROM notifications o
                      WHERE o.status = 'pending' AND o.project = p.project AND o.receiver = p.receiver
                        AND o.group_key = p.group_key AND o.id < p.id))
                ORDER BY id LIMIT $1
                FOR UPDATE SKIP LOCKED)
            RETURNING n.id, n.project, n.dedup_key, n.receiver, n.payload, n.attempts, n.created_at
            """, [.int64(Int64(limit)), .int64(leaseMilliseconds)]
        ).map { row in
            OutboxNotification(
                id: try row.decode(Int64.self, at: 0), project: try row.decode(String.self, at: 1),
                dedupKey: try row.decode(String.self, at: 2), receiver: try row.decode(String.self, at: 3),
                payload: try row.decode([UInt8].self, at: 4), attempts: try row.decode(Int.self, at: 5),
                createdAt: try row.decode(PostgresTimestamp.self, at: 6))
        }.sorted { $0.id < $1.id }
    }

    /// Records a delivery (2xx).
    public static func markSent(id: Int64, status: Int, _ connection: PostgresConnection) throws {
        try connection.execute(
            """
            UPDATE notifications SET status = 'sent', sent_at = now(), lease_until = NULL, last_status = $2,
                last_error = NULL
            WHERE id = $1
            """, [.int64(id), .int64(Int64(status))])
    }

    /// Schedules another attempt after `delayMilliseconds`.
    public static func markRetry(
        id: Int64, delayMilliseconds: Int64, status: Int?, error: String, _ connection: PostgresConnection
    ) throws {
        try connection.execute(
            """
            UPDATE notifications SET lease_until = NULL, last_status = $2, last_error = $3,
                next_attempt_at = now() + make_interval(secs => $4::float8 / 1000)
            WHERE id = $1
            """, [.int64(id), status.map { .int64(Int64($0)) } ?? .null, .text(error), .int64(delayMilliseconds)])
    }

    /// Gives up on a notification (a permanent 4xx, or older than the maximum age).
    public static func markFailed(id: Int64, status: Int?, error: String, _ connection: PostgresConnection) throws {
        try connection.execute(
            """
            UPDATE notifications SET status = 'failed', lease_until = NULL, last_status = $2, last_error = $3
            WHERE id = $1
            """, [.int64(id), status.map { .int64(Int64($0)) } ?? .null, .text(error)])
    }

    /// Counts by status, for `/metrics` and tests.
    public static func counts(_ connection: PostgresConnection) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for row in try connection.query("SELECT status, count(*)::int8 FROM notifications GROUP BY status") {
            counts[try row.decode(String.self, at: 0)] = try row.decode(Int.self, at: 1)
        }
        return counts
    }
}
