import Foundation
import Storage

/// The latest value of one metric series (a stream's column, metric and baseline at one
/// granularity), as `drift serve` wrote it.
public struct MetricSample: Sendable, Equatable {
    public var model: String
    public var modelVersion: String
    public var segment: String
    public var column: String
    public var metric: String
    public var baseline: String
    public var granularity: String
    public var windowStart: Int64
    public var value: Double

    public init(
        model: String, modelVersion: String = "", segment: String = "*", column: String, metric: String,
        baseline: String, granularity: String, windowStart: Int64, value: Double
    ) {
        self.model = model
        self.modelVersion = modelVersion
        self.segment = segment
        self.column = column
        self.metric = metric
        self.baseline = baseline
        self.granularity = granularity
        self.windowStart = windowStart
        self.value = value
    }
}

/// One alert: a rule on one series.
public struct AlertState: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable { case pending, firing, resolved }

    /// Stable: the rule and the labels that tell its series apart.
    public var key: String
    public var rule: String
    public var labels: [String: String]
    public var annotations: [String: String]
    public var status: Status
    /// When the condition started to hold (ms).
    public var activeSince: Int64
    public var firedAt: Int64?
    public var resolvedAt: Int64?
    public var value: Double
    public var threshold: Double
    public var windowStart: Int64
    /// Ids of the active silences that mute it (nil when none).
    public var silencedBy: [Int64]?
    /// Keys of the firing alerts that inhibit it (nil when none).
    public var inhibitedBy: [String]?

    /// Muted alerts are kept and listed but not notified while firing.
    public var isMuted: Bool { silencedBy != nil || inhibitedBy != nil }

    public init(
        key: String, rule: String, labels: [String: String], annotations: [String: String], status: Status,
        activeSince: Int64, firedAt: Int64?, resolvedAt: Int64?, value: Double, threshold: Double, windowStart: Int64
    ) {
        self.key = key
        self.rule = rule
        self.labels = labels
        self.annotations = annotations
        self.status = status
        self.activeSince = activeSince
        self.firedAt = firedAt
        self.resolvedAt = resolvedAt
        self.value = value
        self.threshold = threshold
        self.windowStart = windowStart
    }
}

/// A notification group's timers and what it last told its receiver.
public struct GroupState: Codable, Sendable, Equatable {
    public var key: String
    public var receiver: String
    public var labels: [String: String]
    /// When the group first had a firing alert it has not notified.
    public var firstActiveAt: Int64
    public var lastSentAt: Int64?
    /// The firing and resolved alert keys of the last notification.
    public var lastSent: String?
    /// Notifications sent so far (the dedup key's suffix).
    public var sequence: Int
    /// The path of the route that made the group (its timers); nil for the top level.
    public var route: String?
}

/// What the evaluator asks to be delivered.
public struct AlertNotification: Sendable, Equatable {
    public var receiver: String
    public var groupKey: String
    /// Stable across retries and replicas: the group key and its sequence number.
    public var dedupKey: String
    public var status: String
    public var groupLabels: [String: String]
    public var alerts: [AlertState]

    public init(
        receiver: String, groupKey: String, dedupKey: String, status: String, groupLabels: [String: String],
        alerts: [AlertState]
    ) {
        self.receiver = receiver
        self.groupKey = groupKey
        self.dedupKey = dedupKey
        self.status = status
        self.groupLabels = groupLabels
        self.alerts = alerts
    }
}

/// The alert state machine (inactive → pending → firing → resolved) and notification grouping.
/// Pure: the caller passes the latest samples, the stored states and `now`, and stores what
/// comes back (in one transaction with the notifications).
public enum Evaluator {
    public struct Result: Sendable, Equatable {
        public var states: [AlertState]
        public var groups: [GroupState]
        public var notifications: [AlertNotification]
    }

    public static func evaluate(
        rules: RuleSet, samples: [MetricSample], states previous: [AlertState], groups previousGroups: [GroupState],
        silences: [Silence] = [], externalURL: String = "", now: Int64
    ) -> Result {
        var states = Dictionary(previous.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        let ruleNames = Set(rules.rules.map(\.name))
        // Alerts of rules that were removed end without a notice.
        states = states.filter { ruleNames.contains($0.value.rule) }
        for rule in rules.rules {
            for sample in samples where applies(rule, sample) {
                let labels = self.labels(rule, sample)
                let key =
                    rule.name + "|"
                    + labels.filter { $0.key != "rule" }.sorted { $0.key < $1.key }
                    .map { "\($0.key)=\($0.value)" }.joined(separator: ",")
                let holds = rule.comparison.holds(sample.value, rule.threshold)
                var state = states[key]
                if holds {
                    if state == nil || state?.status == .resolved {
                        state = AlertState(
                            key: key, rule: rule.name, labels: labels, annotations: [:], status: .pending,
                            activeSince: now, firedAt: nil, resolvedAt: nil, value: sample.value,
                            threshold: rule.threshold, windowStart: sample.windowStart)
                    }
                    guard var s = state else { continue }
                    s.value = sample.value
                    s.windowStart = sample.windowStart
                    if s.status == .pending && now - s.activeSince >= rule.forMilliseconds {
                        s.status = .firing
                        s.firedAt = now
                    }
                    s.annotations = annotations(rule, sample, labels, externalURL: externalURL)
                    states[key] = s
                } else if var s = state {
                    switch s.status {
                    case .pending: states[key] = nil
                    case .firing:
                        s.status = .resolved
                        s.resolvedAt = now
                        s.value = sample.value
                        s.windowStart = sample.windowStart
                        s.annotations = annotations(rule, sample, labels, externalURL: externalURL)
                        states[key] = s
                    case .resolved: break
                    }
                }
            }
        }
        mute(&states, silences: silences, inhibitions: rules.inhibitions, now: now)
        return group(rules.route, states: states, previous: previousGroups, now: now)
    }

    /// The sample of a "no data" rule for one model and segment: the hours between the end
    /// of its latest window at `granularity` (`lastWindowStart`, ms) and `now`.
    public static func noDataSample(
        model: String, segment: String, granularity: String, lastWindowStart: Int64, now: Int64
    ) -> MetricSample {
        let length: Int64 = granularity == "hour" ? 3_600_000 : 86_400_000
        return MetricSample(
            model: model, segment: segment, column: "", metric: MetricNames.noData, baseline: "",
            granularity: granularity, windowStart: lastWindowStart,
            value: Double(now - (lastWindowStart + length)) / 3_600_000)
    }

    /// Marks the alerts that active silences or firing alerts (through inhibition rules) mute.
    static func mute(
        _ states: inout [String: AlertState], silences: [Silence], inhibitions: [InhibitionRule], now: Int64
    ) {
        let active = silences.filter { $0.isActive(at: now) }
        let sources = states.values.filter { $0.status == .firing }
        for key in states.keys {
            guard var state = states[key] else { continue }
            let silencedBy = active.filter { $0.matchers.matches(state.labels) }.map(\.id)
            var inhibitedBy: [String] = []
            for rule in inhibitions where rule.targetMatchers.matches(state.labels) {
                for source in sources
                where source.key != state.key && rule.sourceMatchers.matches(source.labels)
                    && rule.equal.allSatisfy({ source.labels[$0] == state.labels[$0] })
                    && !inhibitedBy.contains(source.key)
                {
                    inhibitedBy.append(source.key)
                }
            }
            state.silencedBy = silencedBy.isEmpty ? nil : silencedBy
            state.inhibitedBy = inhibitedBy.isEmpty ? nil : inhibitedBy.sorted()
            states[key] = state
        }
    }

    static func applies(_ rule: AlertRule, _ sample: MetricSample) -> Bool {
        sample.metric == rule.metric && sample.granularity == rule.granularity
            && (rule.models.isEmpty || rule.models.contains { Glob.matches($0, sample.model) })
            && (rule.segment == "*" || Glob.matches(rule.segment, sample.segment))
            && (rule.baseline == nil || rule.baseline == sample.baseline) && rule.watches(column: sample.column)
    }

    static func labels(_ rule: AlertRule, _ sample: MetricSample) -> [String: String] {
        var labels = rule.labels
        labels["rule"] = rule.name
        labels["model"] = sample.model
        labels["segment"] = sample.segment
        labels["metric"] = sample.metric
        labels["severity"] = rule.severity
        if !sample.column.isEmpty { labels["column"] = sample.column }
        if !sample.baseline.isEmpty { labels["baseline"] = sample.baseline }
        if !sample.modelVersion.isEmpty { labels["version"] = sample.modelVersion }
        return labels
    }

    static func annotations(
        _ rule: AlertRule, _ sample: MetricSample, _ labels: [String: String], externalURL: String
    ) -> [String: String] {
        let values: [String: String] = [
            "link": link(sample, externalURL: externalURL),
            "rule": rule.name, "model": sample.model, "segment": sample.segment, "column": sample.column,
            "metric": sample.metric, "value": format(sample.value), "threshold": format(rule.threshold),
            "baseline": sample.baseline, "window": RFC3339.format(milliseconds: sample.windowStart),
            "severity": rule.severity,
            "comparison": rule.comparison.rawValue,
        ]
        let numbers = ["value": sample.value, "threshold": rule.threshold]
        return rule.annotations.mapValues { $0.render(values, numbers: numbers, labels: labels) }
    }

    /// `.link`: the window's drift against the sample's baseline on the server
    /// (`GET /v1/models/{model}/drift`), or "" without `alerts.external_url`.
    static func link(_ sample: MetricSample, externalURL: String) -> String {
        guard !externalURL.isEmpty else { return "" }
        // RFC 3986 unreserved characters (and ':'), ASCII only.
        let unreserved = CharacterSet(
            charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:")
        func encoded(_ text: String) -> String { text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text }
        let length: Int64 = sample.granularity == "hour" ? 3_600_000 : 86_400_000
        var query = [
            "from=" + encoded(RFC3339.format(milliseconds: sample.windowStart)),
            "to=" + encoded(RFC3339.format(milliseconds: sample.windowStart + length)),
        ]
        if !sample.baseline.isEmpty { query.append("baseline=" + encoded(sample.baseline)) }
        if sample.segment != "*" { query.append("segment=" + encoded(sample.segment)) }
        let base = externalURL.hasSuffix("/") ? String(externalURL.dropLast()) : externalURL
        return base + "/v1/models/" + encoded(sample.model) + "/drift?" + query.joined(separator: "&")
    }

    static func format(_ x: Double) -> String {
        let rounded = (x * 1000).rounded() / 1000
        return rounded == rounded.rounded() && abs(rounded) < 1e15 ? String(Int64(rounded)) : String(rounded)
    }

    static func group(
        _ route: Route, states: [String: AlertState], previous: [GroupState], now: Int64
    ) -> Result {
        var groups = Dictionary(previous.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        var members: [String: [AlertState]] = [:]
        // Groups whose firing alerts are all muted stay (quietly) so that a resolve notice can
        // still follow what they said before.
        var mutedFiring: [String: Int] = [:]
        // The route each group belongs to (its receiver, group_by, timers and send_resolved)
        // and its group labels.
        var routes: [String: Route] = [:]
        var groupLabels: [String: [String: String]] = [:]
        for state in states.values.sorted(by: { $0.key < $1.key }) where state.status != .pending {
            // Each route taking the alert is a different leaf with its own path: one group each.
            for leaf in route.matching(state.labels) {
                let labels = Dictionary(
                    uniqueKeysWithValues: leaf.groupBy.compactMap { name in state.labels[name].map { (name, $0) } })
                // Top-level groups keep the plain key; a sub-route's carry its path.
                let key =
                    (leaf.path.isEmpty ? "" : leaf.path + ":") + leaf.receiver + "|"
                    + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
                routes[key] = leaf
                groupLabels[key] = labels
                if state.status == .firing && state.isMuted {
                    mutedFiring[key, default: 0] += 1
                } else {
                    members[key, default: []].append(state)
                }
            }
        }
        var remaining = states
        // A resolved alert is forgotten once every group it belongs to (one per receiver) has
        // told it or had nothing to say.
        var groupsOf: [String: Int] = [:]
        for alerts in members.values {
            for a in alerts where a.status == .resolved { groupsOf[a.key, default: 0] += 1 }
        }
        func done(_ resolved: [AlertState]) {
            for r in resolved {
                groupsOf[r.key, default: 1] -= 1
                if groupsOf[r.key] == 0 { remaining[r.key] = nil }
            }
        }
        var notifications: [AlertNotification] = []
        for key in Set(members.keys).union(groups.keys).sorted() {
            let alerts = members[key] ?? []
            let firing = alerts.filter { $0.status == .firing }
            var resolved = alerts.filter { $0.status == .resolved }
            // A group whose route was removed by a reload finishes under the top level's timers.
            let settings = routes[key] ?? groups[key].flatMap { $0.route.flatMap(route.route(at:)) } ?? route
            if !settings.sendResolved {
                done(resolved)
                resolved = []
            }
            guard
                var group = groups[key]
                    ?? firing.first.map({ _ in
                        GroupState(
                            key: key, receiver: routes[key]?.receiver ?? "", labels: groupLabels[key] ?? [:],
                            firstActiveAt: now, lastSentAt: nil, lastSent: nil, sequence: 0,
                            route: routes[key].flatMap { $0.path.isEmpty ? nil : $0.path })
                    })
            else {
                // Resolved alerts of a group that never notified: nothing to say.
                done(resolved)
                continue
            }
            if group.lastSentAt == nil && firing.isEmpty {
                // Resolved before its group ever notified (within group_wait): nothing to say.
                done(resolved)
                groups[key] = nil
                continue
            }
            let told = firing + resolved
            let fingerprint =
                firing.map(\.key).joined(separator: ";") + "|" + resolved.map(\.key).joined(separator: ";")
            let due: Bool
            if let last = group.lastSentAt {
                if fingerprint != group.lastSent {
                    due = now - last >= settings.groupIntervalMilliseconds
                } else {
                    due = !firing.isEmpty && now - last >= settings.repeatIntervalMilliseconds
                }
            } else {
                due = !firing.isEmpty && now - group.firstActiveAt >= settings.groupWaitMilliseconds
            }
            if due && !told.isEmpty {
                group.sequence += 1
                group.lastSentAt = now
                group.lastSent = firing.map(\.key).joined(separator: ";") + "|"
                // The group's first-active time tells its episodes apart: a group that ends
                // and fires again later starts a new sequence under a new dedup key.
                notifications.append(
                    AlertNotification(
                        receiver: group.receiver, groupKey: key,
                        dedupKey: "\(key)@\(group.firstActiveAt)#\(group.sequence)",
                        status: firing.isEmpty ? "resolved" : "firing", groupLabels: group.labels, alerts: told))
                done(resolved)
            }
            if firing.isEmpty && mutedFiring[key, default: 0] == 0 && (resolved.isEmpty || due) {
                groups[key] = nil
            } else {
                groups[key] = group
            }
        }
        return Result(
            states: remaining.values.sorted { $0.key < $1.key }, groups: groups.values.sorted { $0.key < $1.key },
            notifications: notifications)
    }
}
