/// Annotation templates: text with `{{ .name }}` placeholders (`{{ .labels.team }}` for a
/// label). Parsed once, so that unknown names and unclosed braces are reported by
/// `drift rules check` with their position.
public struct Template: Sendable, Equatable {
    enum Part: Sendable, Equatable {
        case text(String)
        case variable(String)
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
            let name = afterOpen[..<close.lowerBound].trimmingSpaces()
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
            parts.append(.variable(variable))
            offset = start + 2 + afterOpen[..<close.upperBound].count
            rest = afterOpen[close.upperBound...]
        }
        if !rest.isEmpty { parts.append(.text(String(rest))) }
        self.parts = parts
    }

    public func render(_ values: [String: String], labels: [String: String]) -> String {
        parts.map { part in
            switch part {
            case .text(let t): t
            case .variable(let v): v.hasPrefix("labels.") ? labels[String(v.dropFirst(7))] ?? "" : values[v] ?? ""
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
