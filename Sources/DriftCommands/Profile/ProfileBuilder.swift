import Profiles

/// Accumulates the rows of a data file into profiles, one per (window, segment).
struct ProfileBuilder {
    let model: String
    let modelVersion: String?
    let config: ProfileConfig
    let windowLength: Int64?
    let timestampColumn: String?
    let segmentBy: [String]
    let predictionColumn: String?
    let targetColumn: String?
    let scoreColumn: String?
    var task: String?
    let latencyColumn: String?
    let include: Set<String>?
    let exclude: Set<String>

    private(set) var rows: Int64 = 0
    private(set) var badTimestamps = 0

    /// Profiled columns by slot; `slotOf` maps names to slots.
    private var slotNames: [String] = []
    private var slotOf: [String: Int] = [:]
    /// CSV: header position → slot (nil when not profiled), and the positions of role columns.
    private var csvSlots: [Int?] = []
    private var header: [String] = []
    private var seen: Set<String> = []

    private struct Key: Hashable {
        var start: Int64
        var segment: Segment
    }

    private struct Accumulator {
        var columns: [ColumnProfile] = []
        var performance: PerformanceProfile?
        var latency: LatencyProfile?
        var rows: Int64 = 0
    }

    private var accumulators: [Key: Accumulator] = [:]
    private var minTimestamp: Int64?

    init(
        model: String, modelVersion: String?, config: ProfileConfig, windowLength: Int64?, timestampColumn: String?,
        segmentBy: [String], predictionColumn: String?, targetColumn: String?, scoreColumn: String?, task: String?,
        latencyColumn: String?, include: Set<String>?, exclude: Set<String>
    ) {
        self.model = model
        self.modelVersion = modelVersion
        self.config = config
        self.windowLength = windowLength
        self.timestampColumn = timestampColumn
        self.segmentBy = segmentBy
        self.predictionColumn = predictionColumn
        self.targetColumn = targetColumn
        self.scoreColumn = scoreColumn
        self.task = task
        self.latencyColumn = latencyColumn
        self.include = include
        self.exclude = exclude
    }

    private var namedColumns: [(String, String)] {
        var out: [(String, String)] = []
        if let timestampColumn { out.append(("--timestamp-column", timestampColumn)) }
        for c in segmentBy { out.append(("--segment-by", c)) }
        if let predictionColumn { out.append(("--prediction-column", predictionColumn)) }
        if let targetColumn { out.append(("--target-column", targetColumn)) }
        if let scoreColumn { out.append(("--score-column", scoreColumn)) }
        if let latencyColumn { out.append(("--latency-column", latencyColumn)) }
        for c in (include ?? []).sorted() { out.append(("--columns", c)) }
        for c in exclude.sorted() { out.append(("--exclude", c)) }
        return out
    }

    private func isProfiled(_ name: String) -> Bool {
        !exclude.contains(name) && (include?.contains(name) ?? true)
    }

    private mutating func slot(for name: String) -> Int {
        if let slot = slotOf[name] { return slot }
        let slot = slotNames.count
        slotNames.append(name)
        slotOf[name] = slot
        return slot
    }

    // MARK: CSV

    mutating func setHeader(_ fields: [String], file: String) throws(CLIError) {
        header = fields
        var positions: [String: Int] = [:]
        for (i, name) in fields.enumerated() {
            if positions.updateValue(i, forKey: name) != nil {
                throw CLIError("\(file):1: column '\(name)' appears twice in the header")
            }
        }
        for (option, name) in namedColumns where positions[name] == nil {
            throw CLIError("\(option): no column '\(name)' in \(file) (columns: \(fields.joined(separator: ", ")))")
        }
        csvSlots = fields.map { isProfiled($0) ? slot(for: $0) : nil }
        seen = Set(fields)
    }

    mutating func add(csv record: [String], file: String, line: Int) throws(CLIError) {
        guard record.count == header.count else {
            throw CLIError("\(file):\(line): \(record.count) fields, the header has \(header.count)")
        }
        func cell(_ name: String?) -> String? {
            guard let name, let i = header.firstIndex(of: name) else { return nil }
            return record[i]
        }
        guard let key = try key(timestamp: cell(timestampColumn), segment: segmentBy.map { cell($0) ?? "" }, file, line)
        else { return }
        rows += 1
        let slots = csvSlots
        let config = self.config
        let roles = outcome(prediction: cell(predictionColumn), target: cell(targetColumn), score: cell(scoreColumn))
        let latency = latencyColumn.map { cell($0) ?? "" }
        let width = slotNames.count
        update(key) { acc in
            acc.rows += 1
            if acc.columns.count < width {
                acc.columns.append(
                    contentsOf: repeatElement(ColumnProfile(config: config), count: width - acc.columns.count))
            }
            for (i, text) in record.enumerated() {
                guard let slot = slots[i] else { continue }
                acc.columns[slot].update(Value.inferred(from: text))
            }
            Self.apply(roles, latency, to: &acc, config: config)
        }
    }

    // MARK: JSON Lines

    mutating func add(json record: [(String, JSONScalar)], file: String, line: Int) throws(CLIError) {
        var byName: [String: JSONScalar] = [:]
        for (name, value) in record { byName[name] = value }
        func text(_ name: String?) -> String? {
            guard let name, let value = byName[name] else { return nil }
            switch value {
            case .null, .other: return ""
            case .bool(let b): return b ? "true" : "false"
            case .int(let i): return String(i)
            case .double(let d): return String(d)
            case .string(let s): return s
            }
        }
        guard let key = try key(timestamp: text(timestampColumn), segment: segmentBy.map { text($0) ?? "" }, file, line)
        else { return }
        rows += 1
        var updates: [(Int, JSONScalar)] = []
        for (name, value) in record {
            seen.insert(name)
            guard isProfiled(name) else { continue }
            updates.append((slot(for: name), value))
        }
        let roles = outcome(prediction: text(predictionColumn), target: text(targetColumn), score: text(scoreColumn))
        let latency = latencyColumn.map { text($0) ?? "" }
        let config = self.config
        let width = slotNames.count
        update(key) { acc in
            acc.rows += 1
            if acc.columns.count < width {
                acc.columns.append(
                    contentsOf: repeatElement(ColumnProfile(config: config), count: width - acc.columns.count))
            }
            for (slot, value) in updates {
                switch value {
                case .null: acc.columns[slot].updateNull()
                case .bool(let b): acc.columns[slot].update(bool: b)
                case .int(let i): acc.columns[slot].update(int: i)
                case .double(let d): acc.columns[slot].update(double: d)
                case .string(let s): acc.columns[slot].update(string: s)
                case .other: acc.columns[slot].updateOther()
                }
            }
            Self.apply(roles, latency, to: &acc, config: config)
        }
    }

    mutating func checkNamedColumnsSeen(file: String) throws(CLIError) {
        guard rows > 0 else { return }
        for (option, name) in namedColumns where !seen.contains(name) {
            throw CLIError("\(option): no column '\(name)' in \(file)")
        }
    }

    // MARK: Shared

    private mutating func key(
        timestamp: String?, segment: [String], _ file: String, _ line: Int
    ) throws(CLIError)
        -> Key?
    {
        var start: Int64 = 0
        if let timestampColumn {
            guard let text = timestamp, let ms = Timestamps.milliseconds(text[...]) else {
                throw CLIError(
                    "\(file):\(line): column '\(timestampColumn)': '\(timestamp ?? "")' is not a timestamp "
                        + "(ISO 8601 or epoch seconds/milliseconds)")
            }
            minTimestamp = min(minTimestamp ?? ms, ms)
            if let windowLength {
                start = ms >= 0 ? ms / windowLength * windowLength : ((ms + 1) / windowLength - 1) * windowLength
            }
        }
        var tags: [String: String] = [:]
        for (name, value) in zip(segmentBy, segment) { tags[name] = value.isEmpty ? "null" : value }
        return Key(start: start, segment: Segment(tags))
    }

    private mutating func update(_ key: Key, _ body: (inout Accumulator) -> Void) {
        body(&accumulators[key, default: Accumulator()])
    }

    private enum Outcome {
        case none
        case classification(predicted: String, actual: String, score: Double?, probabilityOfActual: Double?)
        case regression(predicted: Double, actual: Double)
    }

    /// Decides the performance row of a record (and fixes the task on the first labelled row:
    /// regression when either value has a fractional part, classification otherwise).
    private mutating func outcome(prediction: String?, target: String?, score: String?) -> Outcome {
        guard let prediction, let target, !prediction.isEmpty, !target.isEmpty else { return .none }
        if task == nil {
            let fractional = { (s: String) in
                Double(s) != nil && Int64(s) == nil && !["true", "false"].contains(s.lowercased())
            }
            task = fractional(prediction) || fractional(target) ? "regression" : "classification"
        }
        if task == "regression" {
            guard let p = Double(prediction), let a = Double(target) else { return .none }
            return .regression(predicted: p, actual: a)
        }
        let s = score.flatMap { Double($0) }
        var probability: Double?
        if let s {
            switch target.lowercased() {
            case "1", "true": probability = s
            case "0", "false": probability = 1 - s
            default: probability = nil
            }
        }
        return .classification(predicted: prediction, actual: target, score: s, probabilityOfActual: probability)
    }

    private static func apply(_ outcome: Outcome, _ latency: String?, to acc: inout Accumulator, config: ProfileConfig)
    {
        switch outcome {
        case .none: break
        case .classification(let predicted, let actual, let score, let probability):
            var c: ClassificationProfile
            if case .classification(let existing)? = acc.performance {
                c = existing
            } else {
                c = ClassificationProfile(maxLabels: config.maxLabels, kllK: config.kllK)
            }
            acc.performance = nil
            c.update(predicted: predicted, actual: actual, score: score, probabilityOfActual: probability)
            acc.performance = .classification(c)
        case .regression(let predicted, let actual):
            var r: RegressionProfile
            if case .regression(let existing)? = acc.performance {
                r = existing
            } else {
                r = RegressionProfile(kllK: config.kllK)
            }
            acc.performance = nil
            r.update(predicted: predicted, actual: actual)
            acc.performance = .regression(r)
        }
        if let latency {
            if acc.latency == nil { acc.latency = LatencyProfile(kllK: config.kllK) }
            acc.latency!.update(milliseconds: Double(latency) ?? .nan)
        }
    }

    /// The profiles, ordered by window start then segment. A file without rows gives one empty
    /// profile that still lists the header's columns.
    func finish() -> [DatasetProfile] {
        var accumulators = self.accumulators
        if accumulators.isEmpty { accumulators[Key(start: 0, segment: .all)] = Accumulator() }
        return accumulators.keys.sorted { ($0.start, $0.segment) < ($1.start, $1.segment) }.map { key in
            let acc = accumulators[key]!
            var columns: [String: ColumnProfile] = [:]
            for (slot, name) in slotNames.enumerated() {
                columns[name] = slot < acc.columns.count ? acc.columns[slot] : ColumnProfile(config: config)
            }
            return DatasetProfile(
                model: model, modelVersion: modelVersion, segment: key.segment,
                windowStart: windowLength == nil ? (minTimestamp ?? 0) : key.start, windowLength: windowLength ?? 0,
                config: config, columns: columns, performance: acc.performance, latency: acc.latency,
                metadata: ["producer": "drift profile"])
        }
    }
}
