import Synchronization

/// How long each kind of time-indexed data is kept, in days; nil keeps it forever.
///
/// Whole monthly partitions are dropped, so data is kept at least this long and at most a
/// month longer: a partition goes once its last instant is older than the cutoff.
public struct RetentionPolicy: Sendable, Equatable {
    /// Raw profiles and their rollup ledger. Raw profiles that are not rolled up yet are
    /// never dropped.
    public var rawDays: Int?
    /// Hourly rollups and hourly metrics.
    public var hourDays: Int?
    /// Daily rollups and daily metrics.
    public var dayDays: Int?

    public init(rawDays: Int? = 35, hourDays: Int? = 95, dayDays: Int? = 800) {
        self.rawDays = rawDays
        self.hourDays = hourDays
        self.dayDays = dayDays
    }

    /// Keeps everything.
    public static let forever = RetentionPolicy(rawDays: nil, hourDays: nil, dayDays: nil)
}

/// One monthly partition of a time-partitioned table.
public struct PartitionInfo: Sendable, Equatable {
    /// The partition's table name, `<parent>_pYYYY_MM`.
    public var name: String
    public var parent: String
    /// The first instant it holds (ms since the epoch, a UTC month start).
    public var lowerBound: Int64
    /// The first instant it no longer holds.
    public var upperBound: Int64
}

/// Creates monthly partitions on demand and drops them for retention.
///
/// Months known to exist are remembered, so the common path costs nothing; a partition
/// dropped by another process is noticed when an insert fails with SQLSTATE 23514 ("no
/// partition of relation … found for row"), after which callers ``forget(month:)`` it and
/// ensure it again.
public final class PartitionManager: Sendable {
    /// The tables with monthly partitions, by what retention they follow.
    static let rawParents = ["raw_profiles", "rollup_ledger"]
    static func parents(for granularity: Granularity) -> [String] {
        ["rollups_\(granularity.rawValue)", "metrics_\(granularity.rawValue)"]
    }
    static var allParents: [String] { rawParents + Granularity.allCases.flatMap(parents(for:)) }

    let pool: ConnectionPool
    private let ensured = Mutex<Set<Int64>>([])

    public init(pool: ConnectionPool) { self.pool = pool }

    /// Makes sure every partitioned table has the partition for the UTC month containing
    /// `milliseconds`.
    public func ensure(containing milliseconds: Int64) async throws {
        let month = RFC3339.monthStart(containing: milliseconds)
        if ensured.withLock({ $0.contains(month) }) { return }
        try await pool.withConnection { try Self.ensure(month: month, $0) }
        ensured.withLock { _ = $0.insert(month) }
    }

    /// ``ensure(containing:)`` on a connection the caller holds, which must not be inside a
    /// transaction that wrote to a partitioned table (attaching a partition locks the parent).
    public static func ensure(month milliseconds: Int64, _ connection: PostgresConnection) throws {
        try connection.execute("SELECT drift_ensure_partitions($1)", [.timestamp(milliseconds: milliseconds)])
    }

    /// Creates this month's and next month's partitions ahead of need (call at start and
    /// daily), so that ingest rarely attaches partitions while it runs.
    public func ensureAhead(now: Int64) async throws {
        let month = RFC3339.monthStart(containing: now)
        try await ensure(containing: month)
        try await ensure(containing: month + 32 * 86_400_000)
    }

    /// Runs `body`; when it fails with SQLSTATE 23514 — which is what an insert into a month
    /// whose partition is missing raises (dropped by retention after this process ensured it)
    /// — creates the partitions of `months` and runs `body` once more. (23514 is also any
    /// CHECK violation; such a body fails the second time the same way, at the cost of a
    /// harmless ensure.)
    ///
    /// - Precondition: `connection` is not inside a transaction.
    /// Takes, for the rest of the caller's transaction, the partition-creation lock in shared
    /// mode. `drift_ensure_partitions` takes it exclusively before it attaches partitions
    /// (which locks the partitioned parents); a transaction that touches several partitioned
    /// tables (a rollup pass, a metric pass, re-queueing metrics) takes it first, so that it
    /// either waits for a creation to finish or makes the creation wait, instead of the two
    /// deadlocking. Transactions holding it do not wait for each other.
    ///
    /// - Precondition: `connection` is inside a transaction.
    public static func holdCreationLock(_ connection: PostgresConnection) throws {
        precondition(connection.transactionState == .inTransaction, "holdCreationLock needs a transaction")
        try connection.execute("SELECT pg_advisory_xact_lock_shared(hashtext('drift_ensure_partitions'))")
    }

    static func retryingMissingPartition<T>(
        _ connection: PostgresConnection, months: () -> Set<Int64>, _ body: () throws -> T
    ) throws -> T {
        do {
            return try body()
        } catch let error as StorageError where error.sqlState == "23514" {
            for month in months().sorted() { try ensure(month: month, connection) }
            return try body()
        }
    }

    /// Forgets that the month containing `milliseconds` exists (after an insert found it
    /// missing).
    public func forget(month milliseconds: Int64) {
        let month = RFC3339.monthStart(containing: milliseconds)
        ensured.withLock { _ = $0.remove(month) }
    }

    /// The partitions of `parent`, oldest first.
    public func partitions(of parent: String) async throws -> [PartitionInfo] {
        try await pool.withConnection { try Self.partitions(of: parent, $0) }
    }

    static func partitions(of parent: String, _ connection: PostgresConnection) throws -> [PartitionInfo] {
        try connection.query(
            """
            SELECT c.relname::text FROM pg_inherits i
            JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
            WHERE p.oid = to_regclass($1)
            """, [.text(parent)]
        ).compactMap { row in
            parse(try row.decode(String.self, at: 0), parent: parent)
        }.sorted { $0.lowerBound < $1.lowerBound }
    }

    /// Parses `<parent>_pYYYY_MM`; nil for any other name (such a table is left alone).
    static func parse(_ name: String, parent: String) -> PartitionInfo? {
        let prefix = parent + "_p"
        guard name.hasPrefix(prefix) else { return nil }
        let rest = name.dropFirst(prefix.count).split(separator: "_")
        guard rest.count == 2, rest[0].count == 4, rest[1].count == 2, let year = Int64(rest[0]),
            let month = Int64(rest[1]), (1...12).contains(month)
        else { return nil }
        let lower = RFC3339.days(fromCivil: year, month, 1) * 86_400_000
        let upper =
            month == 12
            ? RFC3339.days(fromCivil: year + 1, 1, 1) * 86_400_000
            : RFC3339.days(fromCivil: year, month + 1, 1) * 86_400_000
        return PartitionInfo(name: name, parent: parent, lowerBound: lower, upperBound: upper)
    }

    /// Drops the partitions whose data is older than the policy allows and returns their
    /// names. Raw-profile partitions that still hold profiles not rolled up are kept (their
    /// ledger partition too).
    ///
    /// - Parameter now: the current time in ms since the epoch (a parameter, for tests).
    @discardableResult
    public func applyRetention(_ policy: RetentionPolicy, now: Int64) async throws -> [String] {
        let dropped = try await pool.withConnection { connection -> [String] in
            var dropped: [String] = []
            func drop(_ parents: [String], days: Int?, keep: (PartitionInfo) throws -> Bool) throws {
                guard let days else { return }
                let cutoff = now - Int64(days) * 86_400_000
                for parent in parents {
                    for partition in try Self.partitions(of: parent, connection)
                    where partition.upperBound <= cutoff {
                        if try keep(partition) { continue }
                        // The name was generated by drift_ensure_partitions and parsed above.
                        try connection.execute("DROP TABLE IF EXISTS \"\(partition.name)\"")
                        dropped.append(partition.name)
                    }
                }
            }
            var pendingMonths: Set<Int64> = []
            try drop(["raw_profiles"], days: policy.rawDays) { partition in
                let pending = try connection.query(
                    "SELECT EXISTS (SELECT 1 FROM \"\(partition.name)\" WHERE rolled_up_at IS NULL)"
                ).scalar(Bool.self)
                if pending { pendingMonths.insert(partition.lowerBound) }
                return pending
            }
            try drop(["rollup_ledger"], days: policy.rawDays) { pendingMonths.contains($0.lowerBound) }
            for granularity in Granularity.allCases {
                let days = granularity == .hour ? policy.hourDays : policy.dayDays
                try drop(Self.parents(for: granularity), days: days) { _ in false }
            }
            return dropped
        }
        // Any of the dropped months may be needed again by late data: forget them all.
        ensured.withLock { $0.removeAll() }
        return dropped
    }
}
