public import CoreMetrics
public import Logging
public import Profiles
internal import Synchronization

/// What a ``DriftMonitor`` profiles and where it ships. Plain data.
public struct DriftMonitorConfiguration: Sendable {
    /// Windows, segments and sketch parameters (model name, version, segment keys, window
    /// length, lateness).
    public var profiler: ProfilerOptions
    /// Server, token, spool, retry and timeouts.
    public var shipping: ShipperConfiguration

    public init(profiler: ProfilerOptions, shipping: ShipperConfiguration) {
        self.profiler = profiler
        self.shipping = shipping
    }

    /// The common case in one call.
    ///
    /// - Parameters:
    ///   - windowLength: profile window (default 5 minutes; at least 1 s).
    ///   - serverURL: e.g. `https://drift.example.com`.
    ///   - token: the ingest token (`Authorization: Bearer`), or nil for a server without auth.
    ///   - spoolDirectory: where profiles wait for upload; must survive restarts.
    public init(
        model: String, modelVersion: String? = nil, segmentKeys: [String] = [], windowLength: Duration = .seconds(300),
        serverURL: String, token: String? = nil, spoolDirectory: String
    ) {
        let (seconds, attoseconds) = windowLength.components
        self.profiler = ProfilerOptions(
            model: model, modelVersion: modelVersion,
            windowLength: seconds * 1000 + attoseconds / 1_000_000_000_000_000, segmentKeys: segmentKeys)
        self.shipping = ShipperConfiguration(serverURL: serverURL, token: token, spoolDirectory: spoolDirectory)
    }
}

/// The few lines an inference service adds to be monitored: a ``Profiler`` whose finished
/// windows are spooled to disk and shipped to a Driftwatch server in the background.
///
/// Logging calls go straight to the profiler (about a microsecond, no I/O); a closed window is
/// handed to the ``Shipper``'s queue and written and uploaded on the shipper's own thread, so
/// logging never waits on the disk or the network, and a server outage costs only spool space.
///
/// ```swift
/// let monitor = try DriftMonitor(DriftMonitorConfiguration(
///     model: "fraud", segmentKeys: ["region"], serverURL: "https://drift.example.com",
///     token: token, spoolDirectory: "/var/lib/fraud/drift-spool"))
/// monitor.log(["amount": .double(12.5), "region": .string("eu")])
/// monitor.logOutcome(predicted: "fraud", actual: "ok", at: predictionTime)
/// monitor.logLatency(milliseconds: 8.2)
/// // at exit:
/// _ = await monitor.shutdown(deadline: .seconds(5))
/// ```
public final class DriftMonitor: Sendable {
    public let profiler: Profiler
    public let shipper: Shipper
    private let profilerBox: ProfilerBox

    /// - Parameters:
    ///   - clock: the profiler's clock (ms since the epoch); injectable for tests.
    ///   - metricsFactory: nil uses the bootstrapped `MetricsSystem`.
    /// - Throws: ``ShippingError`` for a bad configuration (profiler options included) or an
    ///   unusable spool directory.
    public init(
        _ configuration: DriftMonitorConfiguration, logger: Logger = Logger(label: "driftwatch.shipping"),
        metricsFactory: (any MetricsFactory)? = nil,
        clock: @escaping @Sendable () -> Int64 = { Clock.nowMilliseconds() }
    ) throws(ShippingError) {
        var shipping = configuration.shipping
        if !shipping.metricDimensions.contains(where: { $0.0 == "model" }) {
            shipping.metricDimensions.append(("model", configuration.profiler.model))
        }
        // The profiler and the shipper refer to each other: the shipper's tick closes the
        // profiler's due windows, the profiler hands closed windows to the shipper.
        let profilerBox = ProfilerBox()
        let shipper = try Shipper(
            configuration: shipping, logger: logger, metricsFactory: metricsFactory,
            tick: { profilerBox.profiler?.closeDueWindows() })
        do {
            let profiler = try Profiler(options: configuration.profiler, clock: clock) { shipper.enqueue($0) }
            profilerBox.set(profiler)
            self.profiler = profiler
        } catch {
            Task { await shipper.shutdown(deadline: .zero) }
            throw ShippingError(error.description)
        }
        self.shipper = shipper
        self.profilerBox = profilerBox
    }

    // MARK: Logging (forwarded to the profiler)

    /// Registers a column for the fast path ``log(at:segment:_:)``.
    public func column(_ name: String) -> ColumnID { profiler.column(name) }

    /// Logs one row given as column name → value; segment keys are read from the row.
    public func log(_ row: [String: Value], at eventTime: Int64? = nil) {
        profiler.log(row, at: eventTime)
    }

    /// Logs one row through registered columns (the fastest path; see ``Profiler``).
    public func log(at eventTime: Int64? = nil, segment: Segment = .all, _ body: (inout ProfilerRow) -> Void) {
        profiler.log(at: eventTime, segment: segment, body)
    }

    /// Logs a classification outcome for the prediction made at `eventTime`.
    public func logOutcome(
        predicted: String, actual: String, score: Double? = nil, probabilityOfActual: Double? = nil,
        at eventTime: Int64? = nil, segment: Segment = .all
    ) {
        profiler.logClassification(
            predicted: predicted, actual: actual, score: score, probabilityOfActual: probabilityOfActual,
            at: eventTime, segment: segment)
    }

    /// Logs a regression outcome for the prediction made at `eventTime`.
    public func logOutcome(predicted: Double, actual: Double, at eventTime: Int64? = nil, segment: Segment = .all) {
        profiler.logRegression(predicted: predicted, actual: actual, at: eventTime, segment: segment)
    }

    /// Logs one request's latency.
    public func logLatency(
        milliseconds: Double, failed: Bool = false, at eventTime: Int64? = nil, segment: Segment = .all
    ) {
        profiler.logLatency(milliseconds: milliseconds, failed: failed, at: eventTime, segment: segment)
    }

    /// Shipping counters (shipped, retried, rejected, dropped, spool size, last success).
    public var statistics: ShippingStatistics { shipper.statistics }

    /// Closes every open window, spools it, and makes one upload round that ends by `deadline`.
    /// What is not acknowledged by then stays in the spool for the next start.
    public func shutdown(deadline: Duration) async -> ShutdownReport {
        // `flush()` returns the open windows' profiles instead of calling `onProfile`.
        for profile in profiler.flush() { shipper.enqueue(profile) }
        let report = await shipper.shutdown(deadline: deadline)
        profilerBox.clear()  // breaks the shipper → profiler → shipper cycle
        return report
    }
}

/// Lets the shipper's tick reach the profiler, which is created after the shipper.
private final class ProfilerBox: Sendable {
    private let storage = Mutex<Profiler?>(nil)
    var profiler: Profiler? { storage.withLock { $0 } }
    func set(_ profiler: Profiler) { storage.withLock { $0 = profiler } }
    func clear() { storage.withLock { $0 = nil } }
}
