public import Logging
import Profiles
import Reports
import Storage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Structured log lines on standard error: logfmt (`ts=… level=info msg="…" key=value`) or
/// one JSON object per line, chosen by ``ServerConfiguration/logFormat``.
public struct StructuredLogHandler: LogHandler {
    public enum Format: Sendable { case logfmt, json }

    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let label: String
    let format: Format

    public init(label: String, level: Logger.Level, format: Format) {
        self.label = label
        self.logLevel = level
        self.format = format
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [(String, String)] = [
            ("ts", RFC3339.format(milliseconds: Clock.nowMilliseconds())), ("level", event.level.rawValue),
            ("msg", event.message.description),
        ]
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        for key in merged.keys.sorted() { fields.append((key, "\(merged[key]!)")) }
        var line: String
        switch format {
        case .json:
            line = JSONValue.object(fields.map { ($0.0, JSONValue.string($0.1)) }).serialized()
        case .logfmt:
            line = fields.map { key, value in key + "=" + Self.logfmtValue(value) }.joined(separator: " ")
        }
        line += "\n"
        var bytes = Array(line.utf8)
        bytes.withUnsafeMutableBytes { buffer in _ = write(2, buffer.baseAddress, buffer.count) }
    }

    static func logfmtValue(_ value: String) -> String {
        let plain =
            !value.isEmpty
            && value.unicodeScalars.allSatisfy { $0.value > 32 && $0 != "\"" && $0 != "=" && $0.value < 127 }
        guard !plain else { return value }
        var out = "\""
        for c in value.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "\""
    }

    /// Bootstraps swift-log once for the process with this handler.
    public static func bootstrap(level: String, format: String) {
        let level = Logger.Level(rawValue: level) ?? .info
        let format: Format = format == "json" ? .json : .logfmt
        LoggingSystem.bootstrap { label in StructuredLogHandler(label: label, level: level, format: format) }
    }
}
