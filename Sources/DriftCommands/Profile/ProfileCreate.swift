import ArgumentParser
import Foundation
import Profiles
import Reports

/// `drift profile INPUT`: profile a CSV or JSON Lines file into one profile, or one per
/// window and segment.
struct ProfileCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Profile a CSV (with a header) or JSON Lines file.",
        discussion: """
            Values are typed per cell as whylogs does: integers, floats (also nan/inf), true/false,
            strings; empty cells and JSON null are nulls. With --timestamp-column and --window,
            rows are grouped into windows by event time (ISO 8601 date-times or epoch seconds/
            milliseconds) and one profile per window (and segment) is written into the --out
            directory. --prediction-column with --target-column adds a performance block
            (classification or regression, inferred from the values unless --task is given;
            --score-column adds per-class score sketches for ROC AUC), --latency-column a
            latency block (milliseconds).
            """
    )

    @Argument(help: "A .csv or .jsonl file ('-' for standard input, with --input-format).")
    var input: String

    @Option(help: "Output file, or directory with --window/--segment-by (default: next to the input's name).")
    var out: String?

    @Option(help: "native (default) or whylogs.")
    var format: String = "native"

    @Option(name: .customLong("input-format"), help: "csv or jsonl (default: from the file extension).")
    var inputFormat: String?

    @Option(help: "Model name (default: the input file's name without extension).")
    var model: String?

    @Option(name: .customLong("model-version"), help: "Model version recorded in the profile.")
    var modelVersion: String?

    @Option(name: .customLong("timestamp-column"), help: "Column holding each row's event time.")
    var timestampColumn: String?

    @Option(help: "Window length, e.g. 30s, 5m, 1h, 1d (needs --timestamp-column).")
    var window: String?

    @Option(name: .customLong("segment-by"), help: "Comma-separated columns whose values split profiles into segments.")
    var segmentBy: String?

    @Option(name: .customLong("prediction-column"), help: "Column with the model's prediction.")
    var predictionColumn: String?

    @Option(name: .customLong("target-column"), help: "Column with the ground truth.")
    var targetColumn: String?

    @Option(name: .customLong("score-column"), help: "Column with the model's score (positive-class probability).")
    var scoreColumn: String?

    @Option(help: "classification or regression (default: inferred from the first labelled row).")
    var task: String?

    @Option(name: .customLong("latency-column"), help: "Column with request latency in milliseconds.")
    var latencyColumn: String?

    @Option(help: "Comma-separated columns to profile (default: all).")
    var columns: String?

    @Option(help: "Comma-separated columns not to profile.")
    var exclude: String?

    @Option(name: .customLong("kll-k"), help: "KLL k for numeric columns (default 200).")
    var kllK: Int?

    @Option(name: .customLong("hll-lg-k"), help: "HLL lgK for cardinality (default 11).")
    var hllLgK: Int?

    @Option(name: .customLong("frequent-items-lg-max-map-size"), help: "Frequent items map size, log2 (default 7).")
    var frequentItemsLgMaxMapSize: Int?

    @Flag(help: "Do not print the summary line.")
    var quiet = false

    /// Profiles the input into one profile without writing it (used by `drift diff`).
    func profileInMemory() throws -> DatasetProfile {
        var quietSelf = self
        quietSelf.quiet = true
        quietSelf.window = nil
        quietSelf.segmentBy = nil
        return try quietSelf.build().profiles[0]
    }

    func build() throws -> (profiles: [DatasetProfile], builder: ProfileBuilder, elapsed: Double) {
        let kind = try inputKind()
        if window != nil && timestampColumn == nil {
            throw CLIError("--window needs --timestamp-column", exitCode: 64)
        }
        let windowLength: Int64? = try window.map { text throws(CLIError) in
            guard let ms = Durations.milliseconds(text), ms > 0 else {
                throw CLIError("--window: '\(text)' is not a duration like 30s, 5m, 1h or 1d", exitCode: 64)
            }
            return ms
        }
        if (predictionColumn == nil) != (targetColumn == nil) {
            throw CLIError("--prediction-column and --target-column go together", exitCode: 64)
        }
        if let task, task != "classification" && task != "regression" {
            throw CLIError("--task: '\(task)' is not classification or regression", exitCode: 64)
        }
        let config: ProfileConfig
        do {
            config = try ProfileConfig(
                kllK: kllK ?? ProfileConfig.defaultKLLK, hllLgK: hllLgK ?? ProfileConfig.defaultHLLLgK,
                frequentItemsLgMaxMapSize: frequentItemsLgMaxMapSize ?? ProfileConfig.defaultFrequentItemsLgMaxMapSize)
        } catch {
            throw CLIError("\(error)", exitCode: 64)
        }
        let stem = Self.stem(input)
        var builder = ProfileBuilder(
            model: model ?? (stem.isEmpty ? "model" : stem), modelVersion: modelVersion, config: config,
            windowLength: windowLength, timestampColumn: timestampColumn, segmentBy: Self.list(segmentBy),
            predictionColumn: predictionColumn, targetColumn: targetColumn, scoreColumn: scoreColumn, task: task,
            latencyColumn: latencyColumn, include: columns.map { Set(Self.list($0)) }, exclude: Set(Self.list(exclude)))
        let progress = Progress(enabled: !quiet)
        let start = Date()
        switch kind {
        case .csv:
            let reader = try CSVReader(path: input)
            guard let header = try reader.next() else { throw CLIError("\(reader.name): empty file (no header)") }
            try builder.setHeader(header, file: reader.name)
            while let record = try reader.next() {
                try builder.add(csv: record, file: reader.name, line: reader.recordLine)
                progress.tick(builder.rows, bytes: reader.bytesRead)
            }
        case .jsonl:
            let reader = try LineReader(path: input)
            while let line = try reader.next() {
                if line.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" }) { continue }
                let record: [(String, JSONScalar)]
                do { record = try JSONLinesParser.parseRecord(line) } catch {
                    throw CLIError("\(reader.name):\(reader.lineNumber): \(error)")
                }
                try builder.add(json: record, file: reader.name, line: reader.lineNumber)
                progress.tick(builder.rows, bytes: 0)
            }
        }
        try builder.checkNamedColumnsSeen(file: input)
        let profiles = builder.finish()
        progress.clear()
        let elapsed = Date().timeIntervalSince(start)
        return (profiles, builder, elapsed)
    }

    func run() throws {
        guard let outputFormat = ProfileFormat(rawValue: format) else {
            throw CLIError("--format: '\(format)' is not native or whylogs", exitCode: 64)
        }
        let (profiles, builder, elapsed) = try build()
        let stem = Self.stem(input)
        let windowLength = window.flatMap { Durations.milliseconds($0) }
        let ext = outputFormat == .native ? "dwp" : "bin"
        if windowLength != nil || !builder.segmentBy.isEmpty {
            let directory = out ?? "\(stem)-profiles"
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw CLIError("\(directory): cannot create the output directory (\(error.localizedDescription))")
            }
            for profile in profiles {
                let name = Self.fileName(profile, ext: ext)
                try FileIO.write(ProfileCodec.encode(profile, format: outputFormat), to: directory + "/" + name)
            }
            if !quiet {
                Self.report(
                    "\(profiles.count) profiles in \(directory)/", rows: builder.rows, elapsed: elapsed, builder)
            }
        } else {
            let path = out ?? "\(stem).\(ext)"
            try FileIO.write(ProfileCodec.encode(profiles[0], format: outputFormat), to: path)
            if !quiet { Self.report(path, rows: builder.rows, elapsed: elapsed, builder) }
        }
    }

    private enum InputKind { case csv, jsonl }

    private func inputKind() throws(CLIError) -> InputKind {
        switch inputFormat?.lowercased() {
        case "csv": return .csv
        case "jsonl", "ndjson", "json": return .jsonl
        case nil: break
        case let other?: throw CLIError("--input-format: '\(other)' is not csv or jsonl", exitCode: 64)
        }
        let lower = input.lowercased()
        if lower.hasSuffix(".csv") { return .csv }
        if lower.hasSuffix(".jsonl") || lower.hasSuffix(".ndjson") || lower.hasSuffix(".json") { return .jsonl }
        throw CLIError(
            "\(input): cannot tell the format from the extension; use --input-format csv|jsonl", exitCode: 64)
    }

    static func list(_ text: String?) -> [String] {
        guard let text else { return [] }
        return text.split(separator: ",").map { String($0.trimmingCharacters(in: " ")) }.filter { !$0.isEmpty }
    }

    static func stem(_ path: String) -> String {
        let base = path.split(separator: "/").last.map(String.init) ?? path
        if base == "-" { return "stdin" }
        guard let dot = base.lastIndex(of: "."), dot != base.startIndex else { return base }
        return String(base[..<dot])
    }

    static func fileName(_ profile: DatasetProfile, ext: String) -> String {
        var name = profile.model
        if profile.windowLength > 0 {
            name += "-" + Timestamps.iso(profile.windowStart).replacingOccurrences(of: ":", with: "")
        }
        if !profile.segment.isAll {
            name += "-" + profile.segment.description
        }
        let safe = name.map { c -> Character in
            c.isLetter || c.isNumber || "-_.=,".contains(c) ? c : "_"
        }
        return String(safe) + "." + ext
    }

    static func report(_ destination: String, rows: Int64, elapsed: Double, _ builder: ProfileBuilder) {
        let rate = elapsed > 0 ? Double(rows) / elapsed : 0
        var line =
            "profiled \(rows) rows in \(String(format: "%.2f", elapsed)) s (\(Int(rate)) rows/s) -> \(destination)"
        if builder.badTimestamps > 0 { line += "; \(builder.badTimestamps) rows without a valid timestamp skipped" }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

/// A progress line on standard error when it is a terminal, at most every half second.
final class Progress {
    private let enabled: Bool
    private var last = Date()
    private let start = Date()
    private var shown = false

    init(enabled: Bool) {
        self.enabled = enabled && isatty(2) == 1
    }

    func tick(_ rows: Int64, bytes: Int) {
        guard enabled, rows & 4095 == 0 else { return }
        let now = Date()
        guard now.timeIntervalSince(last) >= 0.5 else { return }
        last = now
        let rate = Double(rows) / max(now.timeIntervalSince(start), 1e-9)
        let size = bytes > 0 ? ", \(bytes >> 20) MiB read" : ""
        FileHandle.standardError.write(Data("\r  \(rows) rows (\(Int(rate)) rows/s\(size))   ".utf8))
        shown = true
    }

    func clear() {
        if shown { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
