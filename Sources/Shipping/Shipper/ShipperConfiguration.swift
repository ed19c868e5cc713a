/// Where and how a ``Shipper`` uploads. Plain data.
public struct ShipperConfiguration: Sendable {
    /// The Driftwatch server, e.g. `https://drift.example.com` (profiles go to
    /// `SERVER/v1/profiles`).
    public var serverURL: String
    /// Sent as `Authorization: Bearer TOKEN`; nil sends no Authorization header.
    public var token: String?
    /// The spool directory (created when missing). One shipper per directory.
    public var spoolDirectory: String
    public var spoolLimits: SpoolLimits
    public var retry: RetryPolicy
    public var http: HTTPUploaderConfiguration
    /// How often the shipper's thread wakes when idle (to close due windows of the monitor's
    /// profiler and to check the spool). Default 1 s.
    public var tickInterval: Duration
    /// Dimensions added to every metric (the ``DriftMonitor`` adds `model`).
    public var metricDimensions: [(String, String)]

    public init(
        serverURL: String, token: String? = nil, spoolDirectory: String, spoolLimits: SpoolLimits = .init(),
        retry: RetryPolicy = .init(), http: HTTPUploaderConfiguration = .init(), tickInterval: Duration = .seconds(1),
        metricDimensions: [(String, String)] = []
    ) {
        self.serverURL = serverURL
        self.token = token
        self.spoolDirectory = spoolDirectory
        self.spoolLimits = spoolLimits
        self.retry = retry
        self.http = http
        self.tickInterval = tickInterval
        self.metricDimensions = metricDimensions
    }

    /// `SERVER/v1/profiles`.
    public var endpoint: String {
        var base = serverURL
        while base.hasSuffix("/") { base.removeLast() }
        return base + "/v1/profiles"
    }

    /// Checks every field; the error names the offending one.
    public func validated() throws(ShippingError) -> ShipperConfiguration {
        guard serverURL.hasPrefix("http://") || serverURL.hasPrefix("https://") else {
            throw ShippingError("server URL '\(serverURL)' must start with http:// or https://")
        }
        if let token, token.isEmpty || token.contains(where: { $0.isNewline || $0 == " " }) {
            throw ShippingError("token must be non-empty and contain no spaces or line breaks")
        }
        guard !spoolDirectory.isEmpty else { throw ShippingError("spool directory is empty") }
        guard tickInterval > .zero else { throw ShippingError("tick interval must be positive") }
        guard retry.initialDelay > .zero, retry.maxDelay >= retry.initialDelay else {
            throw ShippingError("retry delays must be positive with maxDelay ≥ initialDelay")
        }
        return self
    }

    /// The headers of one upload.
    public func headers(idempotencyKey: String) -> [(String, String)] {
        var headers = [("Content-Type", "application/octet-stream"), ("Idempotency-Key", idempotencyKey)]
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        return headers
    }
}

/// Counters and gauges of a ``Shipper`` since it started (the same values go to swift-metrics).
public struct ShippingStatistics: Sendable, Equatable {
    /// Profiles the server acknowledged (2xx).
    public var shipped: Int64 = 0
    /// Failed attempts that will be retried (network errors, 5xx, 408, 429).
    public var retried: Int64 = 0
    /// Profiles moved to `rejected/`.
    public var rejected: Int64 = 0
    /// Profiles dropped because the spool was full.
    public var dropped: Int64 = 0
    /// Profiles folded into merged profiles to make room.
    public var merged: Int64 = 0
    /// Spool files moved to `corrupt/`.
    public var quarantined: Int64 = 0
    /// Acknowledgements that said `duplicate: true` (a retry after a lost response).
    public var duplicates: Int64 = 0
    public var spoolFiles = 0
    public var spoolBytes = 0
    /// When the last upload succeeded (ms since the epoch).
    public var lastSuccessMilliseconds: Int64?

    public init() {}
}

/// What ``Shipper/shutdown(deadline:)`` achieved.
public struct ShutdownReport: Sendable, Equatable {
    /// Profiles acknowledged during the final round.
    public var shipped: Int
    /// Profiles still in the spool (sent at the next start).
    public var remaining: Int
    /// True when the deadline passed before the round finished.
    public var deadlineReached: Bool
    /// From the shutdown request to this report (at most the deadline plus a few milliseconds).
    public var duration: Duration
}
