import Profiles
import Storage
import Yams

extension ServerConfiguration {
    /// Applies a `drift.yaml` document (keys in docs/operations.md). Unknown keys and values of
    /// the wrong type are errors naming `path:line:column`, so a typo never silently keeps a
    /// default.
    public mutating func apply(yaml text: String, path: String) throws(ConfigurationError) {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw ConfigurationError("\(path): not valid YAML: \(error)")
        }
        guard let root else { return }
        var reader = YAMLReader(path: path)
        try reader.read(root, into: &self)
    }
}

/// Walks the YAML node tree of a configuration file.
private struct YAMLReader {
    let path: String

    func location(_ node: Node) -> String {
        guard let mark = node.mark else { return path }
        return "\(path):\(mark.line):\(mark.column)"
    }

    func error(_ node: Node, _ message: String) -> ConfigurationError {
        ConfigurationError("\(location(node)): \(message)")
    }

    func mapping(_ node: Node, _ what: String) throws(ConfigurationError) -> [(String, Node, Node)] {
        guard case .mapping(let mapping) = node else { throw error(node, "\(what) must be a mapping") }
        var seen: Set<String> = []
        var entries: [(String, Node, Node)] = []
        for (key, value) in mapping {
            guard let name = key.string else { throw error(key, "keys must be strings") }
            guard seen.insert(name).inserted else { throw error(key, "'\(name)' appears twice") }
            entries.append((name, key, value))
        }
        return entries
    }

    func string(_ node: Node, _ key: String) throws(ConfigurationError) -> String {
        guard case .scalar(let scalar) = node else { throw error(node, "\(key) must be a string") }
        return scalar.string
    }

    func int(_ node: Node, _ key: String, _ range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard case .scalar(let scalar) = node, let n = Int(scalar.string) else {
            throw error(node, "\(key) must be an integer")
        }
        guard range.contains(n) else { throw error(node, "\(key) must be \(range.lowerBound)–\(range.upperBound)") }
        return n
    }

    func bool(_ node: Node, _ key: String) throws(ConfigurationError) -> Bool {
        guard case .scalar(let scalar) = node, let b = Bool(scalar.string.lowercased()) else {
            throw error(node, "\(key) must be true or false")
        }
        return b
    }

    func duration(_ node: Node, _ key: String) throws(ConfigurationError) -> Int64 {
        guard case .scalar(let scalar) = node, let ms = Durations.milliseconds(scalar.string) else {
            throw error(node, "\(key) must be a duration such as 500ms, 30s, 5m, 1h or 7d")
        }
        return ms
    }

    func days(_ node: Node, _ key: String) throws(ConfigurationError) -> Int? {
        if case .scalar(let scalar) = node, ["forever", "null", "~"].contains(scalar.string) { return nil }
        return try int(node, key, 1...100_000)
    }

    mutating func read(_ root: Node, into c: inout ServerConfiguration) throws(ConfigurationError) {
        for (name, key, value) in try mapping(root, "the file") {
            switch name {
            case "listen":
                do { try c.setListen(try string(value, name)) } catch { throw self.error(value, error.description) }
            case "data_dir": c.dataDirectory = try string(value, name)
            case "database_url": c.databaseURL = try string(value, name)
            case "auth": c.authEnabled = try bool(value, name)
            case "max_body_bytes": c.maxBodyBytes = try int(value, name, 1024...(1 << 30))
            case "pool_size": c.poolSize = try int(value, name, 1...256)
            case "token_cache": c.tokenCacheMs = try duration(value, name)
            case "alerts":
                for (sub, subKey, subValue) in try mapping(value, name) {
                    switch sub {
                    case "rules": c.alertsPath = try string(subValue, "alerts.rules")
                    case "interval": c.alertIntervalMs = try duration(subValue, "alerts.interval")
                    case "delivery_timeout":
                        c.deliveryTimeoutMs = try duration(subValue, "alerts.delivery_timeout")
                        guard c.deliveryTimeoutMs >= 100 else {
                            throw error(subValue, "alerts.delivery_timeout must be at least 100ms")
                        }
                    case "external_url":
                        let url = try string(subValue, "alerts.external_url")
                        guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                            throw error(subValue, "alerts.external_url must start with http:// or https://")
                        }
                        c.externalURL = url
                    default:
                        throw error(
                            subKey, "unknown key 'alerts.\(sub)' (rules, interval, delivery_timeout, external_url)")
                    }
                }
            case "ingest":
                for (sub, subKey, subValue) in try mapping(value, name) {
                    switch sub {
                    case "batch_size": c.ingestBatchSize = try int(subValue, "ingest.batch_size", 1...1000)
                    case "concurrency": c.ingestConcurrency = try int(subValue, "ingest.concurrency", 1...64)
                    default: throw error(subKey, "unknown key 'ingest.\(sub)' (batch_size, concurrency)")
                    }
                }
            case "rollup":
                for (sub, subKey, subValue) in try mapping(value, name) {
                    switch sub {
                    case "interval": c.rollupIntervalMs = try duration(subValue, "rollup.interval")
                    case "batch_size": c.rollupBatchSize = try int(subValue, "rollup.batch_size", 1...10_000)
                    case "duty_cycle":
                        guard case .scalar(let scalar) = subValue, let share = Double(scalar.string), share > 0,
                            share <= 1
                        else { throw error(subValue, "rollup.duty_cycle must be a number in (0, 1]") }
                        c.rollupDutyCycle = share
                    default: throw error(subKey, "unknown key 'rollup.\(sub)' (interval, batch_size, duty_cycle)")
                    }
                }
            case "metrics":
                for (sub, subKey, subValue) in try mapping(value, name) {
                    switch sub {
                    case "interval": c.metricsIntervalMs = try duration(subValue, "metrics.interval")
                    case "grace": c.metricsGraceMs = try duration(subValue, "metrics.grace")
                    case "settle": c.metricsSettleMs = try duration(subValue, "metrics.settle")
                    case "granularities":
                        guard case .sequence(let items) = subValue else {
                            throw error(subValue, "metrics.granularities must be a list (hour, day)")
                        }
                        var granularities: [Granularity] = []
                        for item in items {
                            guard let g = Granularity(rawValue: try string(item, "metrics.granularities")) else {
                                throw error(item, "unknown granularity (hour, day)")
                            }
                            granularities.append(g)
                        }
                        c.metricGranularities = granularities
                    default:
                        throw error(subKey, "unknown key 'metrics.\(sub)' (interval, grace, settle, granularities)")
                    }
                }
            case "retention":
                for (sub, subKey, subValue) in try mapping(value, name) {
                    switch sub {
                    case "raw_days": c.retention.rawDays = try days(subValue, "retention.raw_days")
                    case "hour_days": c.retention.hourDays = try days(subValue, "retention.hour_days")
                    case "day_days": c.retention.dayDays = try days(subValue, "retention.day_days")
                    default: throw error(subKey, "unknown key 'retention.\(sub)' (raw_days, hour_days, day_days)")
                    }
                }
            case "log":
                for (sub, subKey, subValue) in try mapping(value, name) {
                    switch sub {
                    case "level": c.logLevel = try string(subValue, "log.level")
                    case "format": c.logFormat = try string(subValue, "log.format")
                    default: throw error(subKey, "unknown key 'log.\(sub)' (level, format)")
                    }
                }
            default:
                throw error(
                    key,
                    "unknown key '\(name)' (listen, data_dir, database_url, auth, max_body_bytes, pool_size, "
                        + "token_cache, ingest, rollup, metrics, retention, log, alerts)")
            }
        }
    }
}
