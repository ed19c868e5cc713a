internal import Synchronization

#if canImport(Glibc)
    internal import Glibc
#elseif canImport(Darwin)
    internal import Darwin
#endif

/// The in-process profiler an inference service embeds: thread-safe, about a microsecond per
/// row, allocation-free in steady state for numeric values.
///
/// Rows are assigned to windows by event time (default: now) aligned to
/// ``ProfilerOptions/windowLength``, and to a segment by the values of
/// ``ProfilerOptions/segmentKeys``. A window closes once its end plus the allowed lateness has
/// passed (checked as rows arrive, and by ``closeDueWindows(now:)``); ``flush()`` closes all.
/// Closed windows become ``DatasetProfile``s handed to the `onProfile` handler if one is set,
/// otherwise queued for ``takeClosedProfiles()``.
///
/// Concurrency: state is split into ``ProfilerOptions/shards`` shards with a lock each; a
/// thread logs into the shard its thread id maps to, or the first free one, so threads rarely
/// wait on each other. Shards of the same window merge when it closes.
public final class Profiler: Sendable {
    public let options: ProfilerOptions
    private let shards: [Shard]
    private let registry: Mutex<Registry>
    /// The earliest deadline of an open window, read without a lock on every call.
    private let nextDeadline: Atomic<Int64>
    private let onProfile: (@Sendable (DatasetProfile) -> Void)?
    private let clock: @Sendable () -> Int64

    /// - Parameters:
    ///   - onProfile: called (outside any lock, on the thread that closed the window) with
    ///     each closed window's profile. Without it, profiles queue for
    ///     ``takeClosedProfiles()``.
    ///   - clock: milliseconds since the epoch; injectable for tests.
    public init(
        options: ProfilerOptions, clock: @escaping @Sendable () -> Int64 = { Clock.nowMilliseconds() },
        onProfile: (@Sendable (DatasetProfile) -> Void)? = nil
    ) throws(ProfileError) {
        self.options = try options.validated()
        self.shards = (0..<options.shards).map { _ in Shard() }
        self.registry = Mutex(Registry())
        self.nextDeadline = Atomic(Int64.max)
        self.onProfile = onProfile
        self.clock = clock
    }

    // MARK: Columns

    /// Registers (or finds) a column for the fast logging path.
    public func column(_ name: String) -> ColumnID {
        registry.withLock { ColumnID(name: name, index: $0.index(of: name)) }
    }

    // MARK: Logging

    /// Logs one row in the window of `eventTime` (ms since the epoch; default now) and the
    /// segment of `segment`. The body sets the row's values; see ``ProfilerRow``.
    ///
    /// This is the fastest path: no name lookups, nothing allocated for numeric values.
    public func log(at eventTime: Int64? = nil, segment: Segment = .all, _ body: (inout ProfilerRow) -> Void) {
        let now = clock()
        let time = eventTime ?? now
        closeIfDue(now)
        guard let key = windowKey(time, segment: segment, now: now, lateness: options.allowedLateness) else {
            countLate(rows: 1)
            return
        }
        withWindow(key, deadline: key.start + options.windowLength + options.allowedLateness) { row, local in
            row.rows += 1
            local.statistics.rows += 1
            body(&row)
        }
    }

    /// Logs one row given as column name → value. Segment keys are read from the row (a
    /// missing key gives the segment value `null`).
    public func log(_ row: [String: Value], at eventTime: Int64? = nil) {
        let now = clock()
        let time = eventTime ?? now
        closeIfDue(now)
        let segment = options.segmentKeys.isEmpty ? Segment.all : segment(of: row)
        guard let key = windowKey(time, segment: segment, now: now, lateness: options.allowedLateness) else {
            countLate(rows: 1)
            return
        }
        withWindow(key, deadline: key.start + options.windowLength + options.allowedLateness) { window, state in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: row.count) { indices in
                var i = 0
                for name in row.keys {
                    indices[i] = state.index(of: name, registry: self)
                    i += 1
                }
                window.rows += 1
                state.statistics.rows += 1
                i = 0
                for value in row.values {
                    let index = indices[i]
                    window.withColumn(index) { $0.update(value) }
                    i += 1
                }
            }
        }
    }

    /// Logs a columnar batch: every array must have the same length; row i has event time
    /// `eventTimes[i]` (or `eventTime` for all, default now).
    ///
    /// - Throws: ``ProfileError/invalidConfiguration(_:)`` when the columns' lengths differ.
    public func log(
        columns: [String: [Value]], eventTimes: [Int64]? = nil, at eventTime: Int64? = nil
    )
        throws(ProfileError)
    {
        let lengths = Set(columns.values.map(\.count))
        guard lengths.count <= 1 else {
            throw .invalidConfiguration("columnar batch has columns of different lengths \(lengths.sorted())")
        }
        let count = lengths.first ?? 0
        if let eventTimes, eventTimes.count != count {
            throw .invalidConfiguration("\(eventTimes.count) event times for \(count) rows")
        }
        guard count > 0 else { return }
        if eventTimes == nil && options.segmentKeys.isEmpty {
            // One window for the whole batch: update column by column.
            let now = clock()
            closeIfDue(now)
            guard let key = windowKey(eventTime ?? now, segment: .all, now: now, lateness: options.allowedLateness)
            else {
                countLate(rows: Int64(count))
                return
            }
            withWindow(key, deadline: key.start + options.windowLength + options.allowedLateness) { window, state in
                window.rows += Int64(count)
                state.statistics.rows += Int64(count)
                for (name, values) in columns {
                    let index = state.index(of: name, registry: self)
                    window.withColumn(index) { column in
                        for value in values { column.update(value) }
                    }
                }
            }
            return
        }
        var row: [String: Value] = [:]
        row.reserveCapacity(columns.count)
        for i in 0..<count {
            for (name, values) in columns { row[name] = values[i] }
            log(row, at: eventTimes?[i] ?? eventTime)
        }
    }

    /// Logs a classification outcome for the prediction made at `eventTime` (the prediction's
    /// event time, so that delayed ground truth lands in the prediction's window).
    ///
    /// - Parameters:
    ///   - score: the model's score for the row (e.g. positive-class probability), sketched per
    ///     true class for ROC AUC.
    ///   - probabilityOfActual: the probability given to the true class, for log loss.
    public func logClassification(
        predicted: String, actual: String, score: Double? = nil, probabilityOfActual: Double? = nil,
        at eventTime: Int64? = nil, segment: Segment = .all
    ) {
        logOutcome(at: eventTime, segment: segment) { row, config in
            if case .classification(var c) = row.performance {
                row.performance = nil
                c.update(predicted: predicted, actual: actual, score: score, probabilityOfActual: probabilityOfActual)
                row.performance = .classification(c)
            } else if row.performance == nil {
                var c = ClassificationProfile(maxLabels: config.maxLabels, kllK: config.kllK)
                c.update(predicted: predicted, actual: actual, score: score, probabilityOfActual: probabilityOfActual)
                row.performance = .classification(c)
            } else {
                return false
            }
            return true
        }
    }

    /// Logs a regression outcome (see ``logClassification(predicted:actual:score:probabilityOfActual:at:segment:)``
    /// for `eventTime`). Non-finite pairs are not counted.
    public func logRegression(predicted: Double, actual: Double, at eventTime: Int64? = nil, segment: Segment = .all) {
        logOutcome(at: eventTime, segment: segment) { row, config in
            if case .regression(var r) = row.performance {
                row.performance = nil
                r.update(predicted: predicted, actual: actual)
                row.performance = .regression(r)
            } else if row.performance == nil {
                var r = RegressionProfile(kllK: config.kllK)
                r.update(predicted: predicted, actual: actual)
                row.performance = .regression(r)
            } else {
                return false
            }
            return true
        }
    }

    /// Logs one request's latency (and whether it failed) in the window of `eventTime`.
    public func logLatency(
        milliseconds: Double, failed: Bool = false, at eventTime: Int64? = nil, segment: Segment = .all
    ) {
        let now = clock()
        closeIfDue(now)
        guard let key = windowKey(eventTime ?? now, segment: segment, now: now, lateness: options.allowedLateness)
        else {
            countLate(rows: 1)
            return
        }
        withWindow(key, deadline: key.start + options.windowLength + options.allowedLateness) { row, state in
            if row.latency == nil { row.latency = LatencyProfile(kllK: row.config.kllK) }
            row.latency!.update(milliseconds: milliseconds, failed: failed)
            state.statistics.latencies += 1
        }
    }

    private func logOutcome(at eventTime: Int64?, segment: Segment, _ body: (inout ProfilerRow, ProfileConfig) -> Bool)
    {
        let now = clock()
        closeIfDue(now)
        let time = eventTime ?? now
        guard now - time <= options.maxOutcomeDelay,
            let key = windowKey(time, segment: segment, now: now, lateness: .max / 4)
        else {
            registry.withLock { $0.statistics.lateOutcomes += 1 }
            return
        }
        // A window whose normal deadline has passed reopens for one window length.
        let deadline = Swift.max(key.start + options.windowLength + options.allowedLateness, now + options.windowLength)
        let config = options.config
        var mismatch = false
        withWindow(key, deadline: deadline) { row, state in
            if body(&row, config) {
                state.statistics.outcomes += 1
            } else {
                mismatch = true
            }
        }
        if mismatch { registry.withLock { $0.statistics.lateOutcomes += 1 } }
    }

    // MARK: Closing

    /// Closes every window whose deadline has passed at `now` (default: the clock) and hands
    /// out their profiles. Called automatically as rows arrive; call it from a timer when
    /// traffic can stop.
    @discardableResult
    public func closeDueWindows(now: Int64? = nil) -> Int {
        let now = now ?? clock()
        let due = registry.withLock { registry in
            let keys = registry.open.filter { $0.value <= now }.map(\.key)
            for key in keys { registry.open[key] = nil }
            return keys
        }
        refreshDeadline()
        return close(Set(due), early: false)
    }

    /// Closes every open window now and hands out their profiles (also at shutdown).
    @discardableResult
    public func flush() -> [DatasetProfile] {
        let keys = registry.withLock { registry in
            let keys = Array(registry.open.keys)
            registry.open.removeAll()
            return keys
        }
        refreshDeadline()
        var flushed: [DatasetProfile] = []
        close(Set(keys), early: false) { flushed.append($0) }
        if onProfile == nil {
            flushed.append(contentsOf: takeClosedProfiles())
        }
        return flushed
    }

    /// The profiles of windows closed so far (when no `onProfile` handler is set), oldest first.
    public func takeClosedProfiles() -> [DatasetProfile] {
        registry.withLock { registry in
            let out = registry.closed
            registry.closed.removeAll()
            return out
        }
    }

    /// Counters since start.
    public var statistics: ProfilerStatistics {
        var total = registry.withLock { $0.statistics }
        for shard in shards {
            let s = shard.mutex.withLock { $0.local.statistics }
            total.rows += s.rows
            total.outcomes += s.outcomes
            total.latencies += s.latencies
        }
        return total
    }

    /// Number of open windows (window × segment).
    public var openWindowCount: Int { registry.withLock { $0.open.count } }

    // MARK: Internals

    private func closeIfDue(_ now: Int64) {
        if nextDeadline.load(ordering: .relaxed) <= now { closeDueWindows(now: now) }
    }

    private func refreshDeadline() {
        registry.withLock { registry in
            nextDeadline.store(registry.open.values.min() ?? .max, ordering: .relaxed)
        }
    }

    private func countLate(rows: Int64) {
        registry.withLock { $0.statistics.lateRows += rows }
    }

    /// The window of `time`, or nil when that window has already closed for good.
    private func windowKey(_ time: Int64, segment: Segment, now: Int64, lateness: Int64) -> WindowKey? {
        let length = options.windowLength
        let start = time >= 0 ? time / length * length : ((time + 1) / length - 1) * length
        let (end, overflow) = start.addingReportingOverflow(length)
        guard !overflow else { return nil }
        if lateness < .max / 4, now >= end &+ lateness { return nil }
        return WindowKey(start: start, segment: segment)
    }

    private func segment(of row: [String: Value]) -> Segment {
        var tags: [String: String] = [:]
        for key in options.segmentKeys {
            switch row[key] ?? .null {
            case .null: tags[key] = "null"
            case .int(let v): tags[key] = String(v)
            case .double(let v): tags[key] = String(v)
            case .bool(let v): tags[key] = v ? "true" : "false"
            case .string(let v): tags[key] = v
            }
        }
        return Segment(tags)
    }

    /// Runs `body` on the accumulator of `key` in this thread's shard, opening the window
    /// (and registering its deadline) when needed.
    private func withWindow(
        _ key: WindowKey, deadline: Int64, _ body: (inout ProfilerRow, inout ShardLocal) -> Void
    ) {
        var evicted: [WindowKey] = []
        func run(_ state: inout ShardState) {
            // Consecutive rows almost always hit the same window: compare with the last key
            // before hashing.
            if let last = state.lastKey, last == key {
                body(&state.slots[state.lastSlot]!, &state.local)
                return
            }
            let slot: Int
            if let existing = state.windows[key] {
                slot = existing
            } else {
                evicted = self.registry.withLock { registry in
                    // nextDeadline is only written under the registry lock.
                    if deadline < self.nextDeadline.load(ordering: .relaxed) {
                        self.nextDeadline.store(deadline, ordering: .relaxed)
                    }
                    return registry.open(key, deadline: deadline, limit: self.options.maxOpenWindows)
                }
                slot = state.insert(key, ProfilerRow(config: self.options.config))
            }
            state.lastKey = key
            state.lastSlot = slot
            body(&state.slots[slot]!, &state.local)
        }
        let preferred = Self.shardIndex(count: shards.count)
        var done = false
        for offset in 0..<shards.count where !done {
            let shard = shards[(preferred + offset) % shards.count]
            done = shard.mutex.withLockIfAvailable { run(&$0) } != nil
        }
        if !done { shards[preferred].mutex.withLock { run(&$0) } }
        if !evicted.isEmpty {
            refreshDeadline()
            close(Set(evicted), early: true)
        }
    }

    /// The shard this thread prefers: a hash of its pthread id.
    private static func shardIndex(count: Int) -> Int {
        guard count > 1 else { return 0 }
        #if canImport(Glibc)
            let id = UInt64(UInt(bitPattern: Int(bitPattern: UInt(pthread_self()))))
        #else
            let id = UInt64(UInt(bitPattern: pthread_self()))
        #endif
        return Int(truncatingIfNeeded: (id &* 0x9E37_79B9_7F4A_7C15) >> 40) % count
    }

    /// Collects `keys` from every shard, merges each window's shards into a profile and hands
    /// the profiles out. Returns how many profiles were produced.
    @discardableResult
    private func close(_ keys: Set<WindowKey>, early: Bool, into sink: ((DatasetProfile) -> Void)? = nil) -> Int {
        guard !keys.isEmpty else { return 0 }
        var parts: [WindowKey: [ProfilerRow]] = [:]
        for shard in shards {
            shard.mutex.withLock { state in
                for key in keys {
                    if let row = state.remove(key) { parts[key, default: []].append(row) }
                }
            }
        }
        let names = registry.withLock { $0.columnNames }
        let now = clock()
        var profiles: [DatasetProfile] = []
        for key in parts.keys.sorted(by: { ($0.start, $0.segment) < ($1.start, $1.segment) }) {
            var merged: DatasetProfile?
            for row in parts[key]! {
                let profile = makeProfile(key, row, names: names, now: now)
                if merged == nil {
                    merged = profile
                } else {
                    // Same model by construction; performance tasks are kept consistent per window.
                    try? merged!.merge(profile)
                }
            }
            if let merged { profiles.append(merged) }
        }
        registry.withLock { registry in
            registry.statistics.profilesClosed += Int64(profiles.count)
            if early { registry.statistics.windowsClosedEarly += Int64(profiles.count) }
            if sink == nil && onProfile == nil { registry.closed.append(contentsOf: profiles) }
        }
        for profile in profiles {
            if let sink {
                sink(profile)
            } else if let onProfile {
                onProfile(profile)
            }
        }
        return profiles.count
    }

    private func makeProfile(_ key: WindowKey, _ row: ProfilerRow, names: [String], now: Int64) -> DatasetProfile {
        var columns: [String: ColumnProfile] = [:]
        for (index, column) in row.columns.enumerated() where column.count > 0 {
            columns[names[index]] = column
        }
        return DatasetProfile(
            model: options.model, modelVersion: options.modelVersion, segment: key.segment, windowStart: key.start,
            windowLength: options.windowLength, createdAt: now, config: options.config, columns: columns,
            performance: row.performance, latency: row.latency)
    }
}

struct WindowKey: Hashable, Sendable {
    var start: Int64
    var segment: Segment
}

final class Shard: Sendable {
    let mutex = Mutex(ShardState())
}

struct ShardState: Sendable {
    /// Open windows: key → index into `slots` (the accumulators stay put, so the hot path
    /// reaches the last-used one without hashing).
    var windows: [WindowKey: Int] = [:]
    var slots: [ProfilerRow?] = []
    var freeSlots: [Int] = []
    var lastKey: WindowKey?
    var lastSlot = 0
    var local = ShardLocal()

    mutating func insert(_ key: WindowKey, _ row: ProfilerRow) -> Int {
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
            slots[slot] = row
        } else {
            slot = slots.count
            slots.append(row)
        }
        windows[key] = slot
        return slot
    }

    mutating func remove(_ key: WindowKey) -> ProfilerRow? {
        guard let slot = windows.removeValue(forKey: key) else { return nil }
        let row = slots[slot]
        slots[slot] = nil
        freeSlots.append(slot)
        if lastKey == key { lastKey = nil }
        return row
    }
}

/// A shard's state besides its windows (kept apart so both can be borrowed at once).
struct ShardLocal: Sendable {
    /// This shard's cache of the registry's column indices.
    var columnIndex: [String: Int] = [:]
    var statistics = ProfilerStatistics()

    mutating func index(of name: String, registry profiler: Profiler) -> Int {
        if let index = columnIndex[name] { return index }
        let index = profiler.column(name).index
        columnIndex[name] = index
        return index
    }
}

struct Registry: Sendable {
    var open: [WindowKey: Int64] = [:]
    var columnNames: [String] = []
    var columnIndex: [String: Int] = [:]
    var closed: [DatasetProfile] = []
    var statistics = ProfilerStatistics()

    mutating func index(of name: String) -> Int {
        if let index = columnIndex[name] { return index }
        let index = columnNames.count
        columnNames.append(name)
        columnIndex[name] = index
        return index
    }

    /// Registers an open window; returns the windows to close early to respect `limit`.
    mutating func open(_ key: WindowKey, deadline: Int64, limit: Int) -> [WindowKey] {
        if let existing = open[key] {
            open[key] = Swift.max(existing, deadline)
            return []
        }
        var evicted: [WindowKey] = []
        while open.count >= limit, let soonest = open.min(by: { $0.value < $1.value })?.key {
            open[soonest] = nil
            evicted.append(soonest)
        }
        open[key] = deadline
        return evicted
    }
}
