public import Storage

/// Everything `drift serve` can be told: defaults, then `drift.yaml`, then `DRIFT_*`
/// environment variables, then command-line flags (each overrides the one before).
/// docs/operations.md lists every key.
public struct ServerConfiguration: Sendable, Equatable {
    /// Address to listen on.
    public var host = "127.0.0.1"
    public var port = 8080
    /// The daemon's data directory (the embedded PostgreSQL cluster lives under it).
    public var dataDirectory = "drift-data"
    /// A libpq URL or `key=value` string; nil: `PG*` variables, else the embedded cluster.
    public var databaseURL: String?
    /// Tokens required (false only on loopback, for development).
    public var authEnabled = true
    /// Largest accepted request body.
    public var maxBodyBytes = 16 * 1024 * 1024
    /// Database connections.
    public var poolSize = 8
    /// Uploads committed together at most (group commit).
    public var ingestBatchSize = 64
    /// Transactions committing uploads at once.
    public var ingestConcurrency = 4
    /// Pause between rollup passes when nothing was pending, ms.
    public var rollupIntervalMs: Int64 = 1000
    /// Raw profiles per rollup transaction.
    public var rollupBatchSize = 50
    /// The share of one core rollups may take while a backlog is worked off (0–1]: after a
    /// pass of t, they pause t·(1−share)/share.
    public var rollupDutyCycle = 0.25
    /// Pause between metric passes when nothing was due, ms.
    public var metricsIntervalMs: Int64 = 2000
    /// A window's metrics are computed once it ended this long ago (late data recomputes).
    public var metricsGraceMs: Int64 = 5 * 60_000
    /// A window's metrics wait until it has not changed for this long (ms), so that a window
    /// being filled is computed once.
    public var metricsSettleMs: Int64 = 10_000
    /// Granularities whose windows get metric rows.
    public var metricGranularities: [Granularity] = [.hour, .day]
    /// Retention per table family, days (nil: keep forever).
    public var retention = RetentionPolicy()
    /// How long a token lookup is cached, ms (a revoked token stops working within this).
    public var tokenCacheMs: Int64 = 10_000
    /// `trace`, `debug`, `info`, `notice`, `warning`, `error`, `critical`.
    public var logLevel = "info"
    /// `logfmt` or `json`.
    public var logFormat = "logfmt"
    /// Alert rule files (a directory of YAML files, or one file); nil: no alerting.
    public var alertsPath: String?
    /// Pause between alert evaluations, ms.
    public var alertIntervalMs: Int64 = 10_000
    /// How long a notification receiver may take to answer, ms.
    public var deliveryTimeoutMs: Int64 = 10_000
    /// The server's address as people reach it (e.g. `https://drift.example.com`): the link in
    /// Slack messages and Alertmanager bodies' `externalURL`. Empty: no link.
    public var externalURL = ""

    public init() {}

    /// Whether ``host`` is a loopback address (where `--no-auth` is allowed).
    public var listensOnLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// Checks values that parsing alone does not.
    public func validate() throws(ConfigurationError) {
        guard (0...65_535).contains(port) else { throw ConfigurationError("listen port \(port) is not 0–65535") }
        guard maxBodyBytes >= 1024 else { throw ConfigurationError("max_body_bytes must be at least 1024") }
        guard (1...256).contains(poolSize) else { throw ConfigurationError("pool_size must be 1–256") }
        guard (1...1000).contains(ingestBatchSize) else {
            throw ConfigurationError("ingest.batch_size must be 1–1000")
        }
        guard ingestConcurrency >= 1, ingestConcurrency < poolSize || poolSize == 1 else {
            throw ConfigurationError(
                "ingest.concurrency must be at least 1 and below pool_size (\(poolSize)), which the API and "
                    + "background work share")
        }
        guard rollupIntervalMs > 0, metricsIntervalMs > 0 else {
            throw ConfigurationError("intervals must be positive")
        }
        guard (1...10_000).contains(rollupBatchSize) else {
            throw ConfigurationError("rollup.batch_size must be 1–10000")
        }
        guard metricsGraceMs >= 0 else { throw ConfigurationError("metrics.grace must not be negative") }
        guard rollupDutyCycle > 0, rollupDutyCycle <= 1 else {
            throw ConfigurationError("rollup.duty_cycle must be in (0, 1]")
        }
        guard !dataDirectory.isEmpty else { throw ConfigurationError("data_dir must not be empty") }
        if !authEnabled && !listensOnLoopback {
            throw ConfigurationError(
                "auth can be turned off only on a loopback address (listen is \(host):\(port)); "
                    + "create a token with `drift tokens create` instead")
        }
        guard ["logfmt", "json"].contains(logFormat) else {
            throw ConfigurationError("log.format must be logfmt or json, not '\(logFormat)'")
        }
        guard Self.logLevels.contains(logLevel) else {
            throw ConfigurationError("log.level must be one of \(Self.logLevels.joined(separator: ", "))")
        }
    }

    static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    /// Sets ``host`` and ``port`` from `HOST:PORT`, `:PORT` or `[IPv6]:PORT`.
    public mutating func setListen(_ text: String) throws(ConfigurationError) {
        let (host, portText): (Substring, Substring)
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw ConfigurationError("listen '\(text)' needs [HOST]:PORT") }
            portText = rest.dropFirst()
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        } else {
            throw ConfigurationError("listen '\(text)' needs HOST:PORT")
        }
        guard let port = Int(portText), (0...65_535).contains(port) else {
            throw ConfigurationError("listen '\(text)': '\(portText)' is not a port number")
        }
        self.host = host.isEmpty ? "0.0.0.0" : String(host)
        self.port = port
    }

    /// Applies `DRIFT_*` variables (see docs/operations.md).
    public mutating func apply(environment: [String: String]) throws(ConfigurationError) {
        func value(_ name: String) -> String? {
            guard let v = environment[name], !v.isEmpty else { return nil }
            return v
        }
        if let v = value("DRIFT_LISTEN") { try setListen(v) }
        if let v = value("DRIFT_DATA_DIR") { dataDirectory = v }
        if let v = value("DRIFT_DATABASE_URL") { databaseURL = v }
        if let v = value("DRIFT_MAX_BODY_BYTES") {
            guard let n = Int(v) else { throw ConfigurationError("DRIFT_MAX_BODY_BYTES '\(v)' is not an integer") }
            maxBodyBytes = n
        }
        if let v = value("DRIFT_LOG_LEVEL") { logLevel = v }
        if let v = value("DRIFT_LOG_FORMAT") { logFormat = v }
        if let v = value("DRIFT_EXTERNAL_URL") { externalURL = v }
    }
}

/// A configuration problem, naming the key (and, for files, the line and column).
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
