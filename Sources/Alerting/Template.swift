import Foundation

/// Annotation templates: text with `{{ .name }}` placeholders (`{{ .labels.team }}` for a
/// label), optionally piped through functions: `{{ .value | humanizePercentage }}`,
/// `{{ .model | upper }}`, `{{ .value | fixed 2 }}`. Parsed once, so that unknown names,
/// unknown functions and unclosed braces are reported by `drift rules check` with their
/// position.
public struct Template: Sendable, Equatable {
    enum Part: Sendable, Equatable {
        case text(String)
        case variable(String, [Function])
    }

    /// Functions after `|`, applied left to right. Numeric ones read `.value` and `.threshold`
    /// at full precision (other text that is not a number passes through unchanged).
    enum Function: Sendable, Equatable {
        case upper, lower, title
        /// SI prefixes: 1234567 → 1.235M, 0.00042 → 420µ.
        case humanize
        /// 0.1234 → 12.34%.
        case humanizePercentage
        /// A fixed number of decimals.
        case fixed(Int)

        static let names = ["upper", "lower", "title", "humanize", "humanizePercentage", "fixed N"]

        init?(_ text: Substring) {
            let words = text.split(separator: " ")
            switch (words.first.map(String.init), words.count) {
            case ("upper", 1): self = .upper
            case ("lower", 1): self = .lower
            case ("title", 1): self = .title
            case ("humanize", 1): self = .humanize
            case ("humanizePercentage", 1): self = .humanizePercentage
            case ("fixed", 2):
                guard let n = Int(words[1]), (0...12).contains(n) else { return nil }
                self = .fixed(n)
            default: return nil
            }
        }

        func apply(_ text: String, _ number: Double?) -> (String, Double?) {
            switch self {
            case .upper: return (text.uppercased(), nil)
            case .lower: return (text.lowercased(), nil)
            case .title:
                return (
                    text.split(separator: " ", omittingEmptySubsequences: false).map {
                        $0.prefix(1).uppercased() + $0.dropFirst()
                    }.joined(separator: " "), nil
                )
            case .humanize:
                guard let x = number ?? Double(text), x.isFinite else { return (text, number) }
                return (Self.humanize(x), nil)
            case .humanizePercentage:
                guard let x = number ?? Double(text), x.isFinite else { return (text, number) }
                return (Self.trimmed(String(format: "%.2f", x * 100)) + "%", nil)
            case .fixed(let n):
                guard let x = number ?? Double(text), x.isFinite else { return (text, number) }
                return (String(format: "%.\(n)f", x), nil)
            }
        }

        static func humanize(_ x: Double) -> String {
            let magnitude = abs(x)
            guard magnitude != 0 else { return "0" }
            let large: [(Double, String)] = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")]
            let small: [(Double, String)] = [(1e-3, "m"), (1e-6, "µ"), (1e-9, "n")]
            for (scale, prefix) in large where magnitude >= scale {
                return trimmed(String(format: "%.4g", x / scale)) + prefix
            }
            if magnitude >= 1 { return trimmed(String(format: "%.4g", x)) }
            for (scale, prefix) in small where magnitude >= scale {
                return trimmed(String(format: "%.4g", x / scale)) + prefix
            }
            return String(format: "%.4g", x)
        }

        /// Drops trailing zeros of a decimal: "12.50" → "12.5", "3.00" → "3".
        static func trimmed(_ s: String) -> String {
            guard s.contains("."), !s.contains("e") else { return s }
            var t = Substring(s)
            while t.last == "0" { t = t.dropLast() }
            if t.last == "." { t = t.dropLast() }
            return String(t)
        }
    }

    let parts: [Part]
    public let source: String

    /// The variables a template may use.
    public static let variables: Set<String> = [
        "rule", "model", "segment", "column", "metric", "value", "threshold", "baseline", "window", "severity", "link",
        "comparison",
    ]

    /// A template error: the message and the offset (in characters) inside the template text.
    public struct ParseError: Error, Sendable, Equatable {
        public var message: String
        public var offset: Int
    }

    public init(parsing text: String) throws(ParseError) {
        source = text
        var parts: [Part] = []
        var rest = Substring(text)
        var offset = 0
        while let open = rest.range(of: "{{") {
            let literal = rest[..<open.lowerBound]
            if !literal.isEmpty { parts.append(.text(String(literal))) }
            let start = offset + literal.count
            let afterOpen = rest[open.upperBound...]
            guard let close = afterOpen.range(of: "}}") else {
                throw ParseError(message: "'{{' is not closed by '}}'", offset: start)
            }
            let pipeline = afterOpen[..<close.lowerBound].split(separator: "|", omittingEmptySubsequences: false)
            let name = pipeline[0].trimmingSpaces()
            var functions: [Function] = []
            for text in pipeline.dropFirst() {
                guard let function = Function(text.trimmingSpaces()) else {
                    throw ParseError(
                        message:
                            "unknown template function '\(text.trimmingSpaces())' (\(Function.names.joined(separator: ", ")))",
                        offset: start)
                }
                functions.append(function)
            }
            guard name.hasPrefix(".") else {
                throw ParseError(
                    message: "expected {{ .name }}, found '{{\(afterOpen[..<close.lowerBound])}}'", offset: start)
            }
            let variable = String(name.dropFirst())
            guard Self.variables.contains(variable) || (variable.hasPrefix("labels.") && variable.count > 7) else {
                throw ParseError(
                    message:
                        "unknown template variable '.\(variable)' (\(Self.variables.sorted().joined(separator: ", ")), labels.NAME)",
                    offset: start)
            }
            parts.append(.variable(variable, functions))
            offset = start + 2 + afterOpen[..<close.upperBound].count
            rest = afterOpen[close.upperBound...]
        }
        if !rest.isEmpty { parts.append(.text(String(rest))) }
        self.parts = parts
    }

    /// - Parameter numbers: full-precision values of numeric variables (for the functions).
    public func render(_ values: [String: String], numbers: [String: Double] = [:], labels: [String: String]) -> String
    {
        parts.map { part in
            switch part {
            case .text(let t): return t
            case .variable(let v, let functions):
                var text = v.hasPrefix("labels.") ? labels[String(v.dropFirst(7))] ?? "" : values[v] ?? ""
                var number = numbers[v]
                for function in functions { (text, number) = function.apply(text, number) }
                return text
            }
        }.joined()
    }

    public static func == (a: Template, b: Template) -> Bool { a.source == b.source }
}

extension Substring {
    func trimmingSpaces() -> Substring {
        var s = self
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return s
    }
}
