import Profiles
import Yams

/// A problem in a rule file, at `path:line:column`.
public struct RuleDiagnostic: Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var line: Int
    public var column: Int
    public var message: String

    public var description: String { "\(path):\(line):\(column): \(message)" }
}

/// Reads rule files (YAML). Reports every problem it finds, not only the first, each with
/// its position, like promtool; the rule set is returned only when there are none.
public enum RuleParser {
    public static func parse(files: [(path: String, text: String)]) -> (RuleSet?, [RuleDiagnostic]) {
        var reader = Reader()
        for file in files { reader.read(file.path, file.text) }
        reader.finish()
        return (reader.diagnostics.isEmpty ? reader.set : nil, reader.diagnostics)
    }
}

private struct Reader {
    var set = RuleSet()
    var diagnostics: [RuleDiagnostic] = []
    var path = ""
    var routeSeen: (String, Int, Int)?
    /// Receivers named by routes, with where, to check once all files are read.
    var receiverUses: [(name: String, path: String, line: Int, column: Int)] = []
    var ruleNames: [String: String] = [:]

    mutating func error(_ node: Node?, _ message: String) {
        diagnostics.append(
            RuleDiagnostic(path: path, line: node?.mark?.line ?? 1, column: node?.mark?.column ?? 1, message: message))
    }

    mutating func read(_ path: String, _ text: String) {
        self.path = path
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            var line = 1
            var column = 1
            if case .parser(_, _, let mark, _) = error {
                line = mark.line
                column = mark.column
            } else if case .scanner(_, _, let mark, _) = error {
                line = mark.line
                column = mark.column
            }
            diagnostics.append(
                RuleDiagnostic(path: path, line: line, column: column, message: "not valid YAML: \(error)"))
            return
        } catch {
            diagnostics.append(RuleDiagnostic(path: path, line: 1, column: 1, message: "not valid YAML: \(error)"))
            return
        }
        guard let root else { return }
        guard let top = mapping(root, "the file") else { return }
        for (key, keyNode, value) in top {
            switch key {
            case "rules":
                guard case .sequence(let items) = value else {
                    error(value, "rules must be a list")
                    continue
                }
                for item in items { if let rule = rule(item) { set.rules.append(rule) } }
            case "receivers":
                guard case .sequence(let items) = value else {
                    error(value, "receivers must be a list")
                    continue
                }
                for item in items { if let receiver = receiver(item) { set.receivers.append(receiver) } }
            case "inhibit_rules":
                guard case .sequence(let items) = value else {
                    error(value, "inhibit_rules must be a list")
                    continue
                }
                for item in items { if let rule = inhibition(item) { set.inhibitions.append(rule) } }
            case "route":
                if let seen = routeSeen {
                    error(keyNode, "route is already defined at \(seen.0):\(seen.1):\(seen.2)")
                    continue
                }
                routeSeen = (path, keyNode.mark?.line ?? 1, keyNode.mark?.column ?? 1)
                route(value)
            default:
                error(keyNode, "unknown key '\(key)' (rules, receivers, route, inhibit_rules)")
            }
        }
    }

    mutating func finish() {
        let names = Set(set.receivers.map(\.name))
        for use in receiverUses where !names.contains(use.name) {
            diagnostics.append(
                RuleDiagnostic(
                    path: use.path, line: use.line, column: use.column,
                    message:
                        "unknown receiver '\(use.name)'\(names.isEmpty ? " (no receivers are defined)" : " (defined: \(names.sorted().joined(separator: ", ")))")"
                ))
        }
        if routeSeen == nil && !set.rules.isEmpty {
            if set.receivers.count == 1 {
                set.route.receiver = set.receivers[0].name
            } else {
                diagnostics.append(
                    RuleDiagnostic(
                        path: path, line: 1, column: 1,
                        message: "rules need a route (route: {receiver: NAME}) unless exactly one receiver is defined"))
            }
        }
    }

    // MARK: Helpers

    mutating func mapping(_ node: Node, _ what: String) -> [(String, Node, Node)]? {
        guard case .mapping(let mapping) = node else {
            error(node, "\(what) must be a mapping")
            return nil
        }
        var seen: Set<String> = []
        var entries: [(String, Node, Node)] = []
        for (key, value) in mapping {
            guard let name = key.string else {
                error(key, "keys must be strings")
                continue
            }
            guard seen.insert(name).inserted else {
                error(key, "'\(name)' appears twice")
                continue
            }
            entries.append((name, key, value))
        }
        return entries
    }

    mutating func string(_ node: Node, _ what: String) -> String? {
        guard case .scalar(let scalar) = node else {
            error(node, "\(what) must be a string")
            return nil
        }
        return scalar.string
    }

    mutating func strings(_ node: Node, _ what: String) -> [String]? {
        if case .scalar(let scalar) = node { return [scalar.string] }
        guard case .sequence(let items) = node else {
            error(node, "\(what) must be a string or a list of strings")
            return nil
        }
        var out: [String] = []
        for item in items { if let s = string(item, what) { out.append(s) } }
        return out
    }

    mutating func stringMap(_ node: Node, _ what: String) -> [String: String]? {
        guard let entries = mapping(node, what) else { return nil }
        var out: [String: String] = [:]
        for (key, _, value) in entries { if let s = string(value, "\(what).\(key)") { out[key] = s } }
        return out
    }

    /// A list of matchers in Alertmanager's notation (`name="value"`, `!=`, `=~`, `!~`).
    mutating func matchers(_ node: Node, _ what: String) -> [LabelMatcher]? {
        guard case .sequence(let items) = node else {
            error(node, "\(what) must be a list of matchers such as 'model=\"fraud\"' or 'column=~\"age|income\"'")
            return nil
        }
        var out: [LabelMatcher] = []
        var valid = true
        for item in items {
            guard let text = string(item, what) else {
                valid = false
                continue
            }
            do {
                out.append(try LabelMatcher.parse(text))
            } catch {
                self.error(item, "\(what): \(error.message)")
                valid = false
            }
        }
        return valid ? out : nil
    }

    /// `match:`/`match_re:` maps (Alertmanager's older form) as matchers.
    mutating func matcherMap(_ node: Node, _ what: String, _ operation: LabelMatcher.Operation) -> [LabelMatcher] {
        guard let entries = mapping(node, what) else { return [] }
        var out: [LabelMatcher] = []
        for (key, keyNode, value) in entries {
            guard let text = string(value, "\(what).\(key)") else { continue }
            do {
                out.append(try LabelMatcher(name: key, operation, text))
            } catch {
                self.error(operation == .equal ? keyNode : value, "\(what).\(key): \(error.message)")
            }
        }
        return out
    }

    mutating func bool(_ node: Node, _ what: String) -> Bool? {
        guard case .scalar(let s) = node, let b = Bool(s.string.lowercased()) else {
            error(node, "\(what) must be true or false")
            return nil
        }
        return b
    }

    mutating func duration(_ node: Node, _ what: String) -> Int64? {
        guard case .scalar(let scalar) = node, let ms = Durations.milliseconds(scalar.string) else {
            error(node, "\(what): '\(node.string ?? "")' is not a duration such as 0s, 30s, 5m, 1h or 7d")
            return nil
        }
        return ms
    }

    // MARK: Sections

    mutating func rule(_ node: Node) -> AlertRule? {
        guard let entries = mapping(node, "a rule") else { return nil }
        let keys = Dictionary(entries.map { ($0.0, ($0.1, $0.2)) }, uniquingKeysWith: { a, _ in a })
        guard let nameNode = keys["name"]?.1, let name = string(nameNode, "name"), !name.isEmpty else {
            error(node, "a rule needs a name")
            return nil
        }
        if let first = ruleNames[name] {
            error(nameNode, "rule '\(name)' is already defined at \(first)")
        } else {
            ruleNames[name] = "\(path):\(nameNode.mark?.line ?? 1):\(nameNode.mark?.column ?? 1)"
        }
        var valid = true
        var metric = ""
        if let absentNode = keys["absent"]?.1 {
            // A "no data" rule: no metric, op or threshold of its own.
            for other in ["metric", "op", "threshold", "baseline", "columns"] {
                if let node = keys[other]?.0 {
                    error(node, "rule '\(name)' is a no-data rule (absent): it takes no \(other)")
                    valid = false
                }
            }
            guard let span = duration(absentNode, "absent"), span > 0 else {
                if Durations.milliseconds(absentNode.string ?? "") == 0 {
                    error(absentNode, "absent must be longer than 0s")
                }
                return nil
            }
            var rule = AlertRule(
                name: name, metric: MetricNames.noData, comparison: .greater, threshold: Double(span) / 3_600_000)
            rule.absentMilliseconds = span
            rule.granularity = "hour"
            for (key, keyNode, value) in entries {
                switch key {
                case "name", "absent", "metric", "op", "threshold", "baseline", "columns": break
                default: common(&rule, key, keyNode, value)
                }
            }
            return valid ? rule : nil
        }
        if let node = keys["metric"]?.1, let m = string(node, "metric") {
            metric = m
            if !MetricNames.isKnown(m) {
                error(node, "unknown metric '\(m)' (see docs/operations.md, \"Metric rows\")")
                valid = false
            }
        } else {
            error(node, "rule '\(name)' needs a metric")
            valid = false
        }
        var comparison = Comparison.greaterOrEqual
        if let node = keys["op"]?.1, let text = string(node, "op") {
            if let c = Comparison(rawValue: text) {
                comparison = c
            } else {
                error(node, "op '\(text)' must be one of \(Comparison.allCases.map(\.rawValue).joined(separator: " "))")
                valid = false
            }
        }
        var threshold = 0.0
        if let node = keys["threshold"]?.1 {
            if case .scalar(let s) = node, let t = Double(s.string), t.isFinite {
                threshold = t
            } else {
                error(node, "threshold '\(node.string ?? "")' is not a finite number")
                valid = false
            }
        } else {
            error(node, "rule '\(name)' needs a threshold")
            valid = false
        }
        var rule = AlertRule(name: name, metric: metric, comparison: comparison, threshold: threshold)
        for (key, keyNode, value) in entries {
            switch key {
            case "name", "metric", "op", "threshold": break
            case "baseline": rule.baseline = string(value, "baseline")
            case "columns":
                guard let sub = mapping(value, "columns") else { continue }
                for (k, kNode, v) in sub {
                    switch k {
                    case "include": rule.include = strings(v, "columns.include") ?? []
                    case "exclude": rule.exclude = strings(v, "columns.exclude") ?? []
                    default: error(kNode, "unknown key 'columns.\(k)' (include, exclude)")
                    }
                }
            default: common(&rule, key, keyNode, value)
            }
        }
        if valid {
            let perColumn = MetricNames.column.contains(metric)
            if perColumn && rule.include.isEmpty { rule.include = ["*"] }
            if !perColumn && !rule.include.isEmpty {
                error(keys["columns"]?.1 ?? node, "metric '\(metric)' is dataset-level: it has no columns")
            }
        }
        return valid ? rule : nil
    }

    /// The keys threshold and no-data rules share.
    mutating func common(_ rule: inout AlertRule, _ key: String, _ keyNode: Node, _ value: Node) {
        let name = rule.name
        switch key {
        case "model": rule.models = strings(value, "model") ?? []
        case "segment": rule.segment = string(value, "segment") ?? "*"
        case "granularity":
            if let g = string(value, "granularity") {
                if g == "hour" || g == "day" {
                    rule.granularity = g
                } else {
                    error(value, "granularity must be hour or day")
                }
            }
        case "for": rule.forMilliseconds = duration(value, "for") ?? 0
        case "severity":
            if let s = string(value, "severity") {
                if ["info", "warning", "critical"].contains(s) {
                    rule.severity = s
                } else {
                    error(value, "severity must be info, warning or critical")
                }
            }
        case "labels": rule.labels = stringMap(value, "labels") ?? [:]
        case "annotations":
            guard let sub = mapping(value, "annotations") else { return }
            for (k, _, v) in sub {
                guard case .scalar(let scalar) = v else {
                    error(v, "annotations.\(k) must be a string")
                    continue
                }
                do {
                    rule.annotations[k] = try Template(parsing: scalar.string)
                } catch {
                    // The scalar's mark is where its text starts (plain or after a quote).
                    let quoted = scalar.style == .singleQuoted || scalar.style == .doubleQuoted ? 1 : 0
                    diagnostics.append(
                        RuleDiagnostic(
                            path: path, line: v.mark?.line ?? 1,
                            column: (v.mark?.column ?? 1) + quoted + error.offset,
                            message: "annotations.\(k): \(error.message)"))
                }
            }
        default:
            error(
                keyNode,
                "unknown key '\(key)' in rule '\(name)' (name, model, segment, baseline, metric, columns, "
                    + "granularity, op, threshold, absent, for, severity, labels, annotations)")
        }
    }

    mutating func source(_ entries: [(String, Node, Node)], _ prefix: String, _ what: String) -> Receiver.Source? {
        var found: [Receiver.Source] = []
        for (key, _, value) in entries where [prefix, prefix + "_from_env", prefix + "_file"].contains(key) {
            guard let text = string(value, key) else { continue }
            if key == prefix { found.append(.literal(text)) }
            if key == prefix + "_from_env" { found.append(.environment(text)) }
            if key == prefix + "_file" { found.append(.file(text)) }
        }
        return found.count == 1 ? found[0] : nil
    }

    mutating func receiver(_ node: Node) -> Receiver? {
        guard let entries = mapping(node, "a receiver") else { return nil }
        var name: String?
        var result: Receiver?
        for (key, keyNode, value) in entries {
            switch key {
            case "name": name = string(value, "name")
            case "webhook", "slack":
                guard let sub = mapping(value, key) else { continue }
                let allowed =
                    key == "webhook"
                    ? [
                        "url", "url_from_env", "url_file", "headers", "secret", "secret_from_env", "secret_file",
                        "format",
                    ]
                    : ["url", "url_from_env", "url_file"]
                for (k, kNode, _) in sub where !allowed.contains(k) {
                    error(kNode, "unknown key '\(key).\(k)' (\(allowed.joined(separator: ", ")))")
                }
                guard let url = source(sub, "url", key) else {
                    error(value, "\(key) needs exactly one of url, url_from_env, url_file")
                    continue
                }
                var receiver = Receiver(name: "", kind: key == "slack" ? .slack : .webhook, url: url)
                if let headers = sub.first(where: { $0.0 == "headers" }) {
                    receiver.headers = stringMap(headers.2, "headers") ?? [:]
                }
                receiver.secret = source(sub, "secret", key)
                if let (_, _, formatNode) = sub.first(where: { $0.0 == "format" }),
                    let text = string(formatNode, "format")
                {
                    if let format = Receiver.Format(rawValue: text) {
                        receiver.format = format
                    } else {
                        error(formatNode, "webhook.format must be driftwatch or alertmanager")
                    }
                }
                result = receiver
            default: error(keyNode, "unknown key '\(key)' in a receiver (name, webhook, slack)")
            }
        }
        guard let name, !name.isEmpty else {
            error(node, "a receiver needs a name")
            return nil
        }
        guard var receiver = result else {
            error(node, "receiver '\(name)' needs a webhook or slack section")
            return nil
        }
        if set.receivers.contains(where: { $0.name == name }) { error(node, "receiver '\(name)' is defined twice") }
        receiver.name = name
        return receiver
    }

    mutating func route(_ node: Node) {
        var top = Route()
        top.groupBy = set.route.groupBy
        if let parsed = routeNode(node, inheriting: top, path: "") { set.route = parsed }
    }

    /// One route of the tree, with what it does not set taken from `parent`.
    mutating func routeNode(_ node: Node, inheriting parent: Route, path: String) -> Route? {
        let isTop = path.isEmpty
        guard let entries = mapping(node, isTop ? "route" : "a route") else { return nil }
        var route = parent
        route.routes = []
        route.matchers = []
        route.continueMatching = false
        route.path = path
        var children: [Node] = []
        for (key, keyNode, value) in entries {
            switch key {
            case "receiver":
                if let r = string(value, "receiver") {
                    route.receiver = r
                    receiverUses.append((r, self.path, value.mark?.line ?? 1, value.mark?.column ?? 1))
                }
            case "group_by": route.groupBy = strings(value, "group_by") ?? route.groupBy
            case "group_wait":
                route.groupWaitMilliseconds = duration(value, "group_wait") ?? route.groupWaitMilliseconds
            case "group_interval":
                route.groupIntervalMilliseconds = duration(value, "group_interval") ?? route.groupIntervalMilliseconds
            case "repeat_interval":
                route.repeatIntervalMilliseconds =
                    duration(value, "repeat_interval") ?? route.repeatIntervalMilliseconds
            case "send_resolved": route.sendResolved = bool(value, "send_resolved") ?? route.sendResolved
            case "routes":
                guard case .sequence(let items) = value else {
                    error(value, "routes must be a list")
                    continue
                }
                children = Array(items)
            case "match" where !isTop: route.matchers += matcherMap(value, "match", .equal)
            case "match_re" where !isTop: route.matchers += matcherMap(value, "match_re", .matchesRegex)
            case "matchers" where !isTop: route.matchers += matchers(value, "matchers") ?? []
            case "continue" where !isTop: route.continueMatching = bool(value, "continue") ?? false
            default:
                error(
                    keyNode,
                    isTop
                        ? "unknown key 'route.\(key)' (receiver, group_by, group_wait, group_interval, "
                            + "repeat_interval, send_resolved, routes)"
                        : "unknown key '\(key)' in a route (matchers, match, match_re, receiver, continue, group_by, "
                            + "group_wait, group_interval, repeat_interval, send_resolved, routes)")
            }
        }
        if isTop && route.receiver.isEmpty {
            error(node, "route needs a receiver")
            return nil
        }
        for (index, child) in children.enumerated() {
            if let sub = routeNode(child, inheriting: route, path: isTop ? "\(index)" : "\(path).\(index)") {
                route.routes.append(sub)
            }
        }
        return route
    }

    mutating func inhibition(_ node: Node) -> InhibitionRule? {
        guard let entries = mapping(node, "an inhibit rule") else { return nil }
        var rule = InhibitionRule(sourceMatchers: [], targetMatchers: [])
        var valid = true
        for (key, keyNode, value) in entries {
            switch key {
            case "source_matchers":
                if let m = matchers(value, "source_matchers") { rule.sourceMatchers = m } else { valid = false }
            case "target_matchers":
                if let m = matchers(value, "target_matchers") { rule.targetMatchers = m } else { valid = false }
            case "equal":
                rule.equal = strings(value, "equal") ?? []
                for name in rule.equal where !LabelMatcher.isLabelName(name) {
                    error(value, "equal: '\(name)' is not a label name")
                    valid = false
                }
            default:
                error(keyNode, "unknown key '\(key)' in an inhibit rule (source_matchers, target_matchers, equal)")
                valid = false
            }
        }
        // Empty matcher lists would make every alert inhibit every other one.
        if valid && (rule.sourceMatchers.isEmpty || rule.targetMatchers.isEmpty) {
            error(node, "an inhibit rule needs source_matchers and target_matchers")
            valid = false
        }
        return valid ? rule : nil
    }
}
