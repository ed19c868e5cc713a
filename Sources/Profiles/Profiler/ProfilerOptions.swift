/// How a ``Profiler`` windows, segments and sketches what it is given.
public struct ProfilerOptions: Sendable {
    /// The model the profiles describe (required, non-empty).
    public var model: String
    public var modelVersion: String?
    public var config: ProfileConfig
    /// Window length in milliseconds; rows are assigned to `[k·L, (k+1)·L)` by event time.
    /// Default 5 minutes: the server rolls these up into hours and days.
    public var windowLength: Int64
    /// How long after its end a window stays open for late rows (milliseconds, processing
    /// time). Default: one window length. Rows for a window that has already closed are
    /// counted in ``ProfilerStatistics/lateRows`` and not profiled.
    public var allowedLateness: Int64
    /// Outcomes (ground truth) may arrive up to this long after their prediction's event time
    /// (default 7 days); they reopen the prediction's window as a performance-only profile, which
    /// merges into the same window downstream. Older outcomes are counted as late.
    public var maxOutcomeDelay: Int64
    /// Columns whose values choose the segment of a row (e.g. `["region"]`). Rows always also
    /// feed their segment's profile only; the server derives the whole-traffic rollup by merging.
    public var segmentKeys: [String]
    /// Most windows (window × segment) open at once. When a new one would exceed it, the
    /// window closing soonest is handed out early (counted in
    /// ``ProfilerStatistics/windowsClosedEarly``); nothing is dropped.
    public var maxOpenWindows: Int
    /// Independent shards that threads log into (each with its own lock); merged when a
    /// window closes. Default: 4.
    public var shards: Int

    public init(
        model: String, modelVersion: String? = nil, config: ProfileConfig = .default,
        windowLength: Int64 = 5 * 60_000, allowedLateness: Int64? = nil, maxOutcomeDelay: Int64 = 7 * 86_400_000,
        segmentKeys: [String] = [], maxOpenWindows: Int = 256, shards: Int = 4
    ) {
        self.model = model
        self.modelVersion = modelVersion
        self.config = config
        self.windowLength = windowLength
        self.allowedLateness = allowedLateness ?? windowLength
        self.maxOutcomeDelay = maxOutcomeDelay
        self.segmentKeys = segmentKeys
        self.maxOpenWindows = maxOpenWindows
        self.shards = shards
    }

    func validated() throws(ProfileError) -> ProfilerOptions {
        guard !model.isEmpty else { throw .invalidConfiguration("model name is empty") }
        guard windowLength >= 1000, windowLength <= 31 * 86_400_000 else {
            throw .invalidConfiguration("window length \(windowLength) ms out of range 1 s...31 days")
        }
        guard allowedLateness >= 0 else {
            throw .invalidConfiguration("allowed lateness \(allowedLateness) ms is negative")
        }
        guard maxOutcomeDelay >= 0 else {
            throw .invalidConfiguration("max outcome delay \(maxOutcomeDelay) ms is negative")
        }
        guard (1...100_000).contains(maxOpenWindows) else {
            throw .invalidConfiguration("maxOpenWindows \(maxOpenWindows) out of range 1...100000")
        }
        guard (1...64).contains(shards) else { throw .invalidConfiguration("shards \(shards) out of range 1...64") }
        guard Set(segmentKeys).count == segmentKeys.count else {
            throw .invalidConfiguration("segment keys \(segmentKeys) repeat a key")
        }
        return self
    }
}

/// Counters describing what a ``Profiler`` has done since it started.
public struct ProfilerStatistics: Sendable, Hashable {
    /// Rows, outcomes and latencies accepted into a window.
    public var rows: Int64 = 0
    public var outcomes: Int64 = 0
    public var latencies: Int64 = 0
    /// Rows (and latencies) whose window had closed, and outcomes older than the max outcome
    /// delay: counted, not profiled.
    public var lateRows: Int64 = 0
    public var lateOutcomes: Int64 = 0
    /// Profiles handed out.
    public var profilesClosed: Int64 = 0
    /// Windows handed out before their deadline because too many were open.
    public var windowsClosedEarly: Int64 = 0

    public init() {}
}
