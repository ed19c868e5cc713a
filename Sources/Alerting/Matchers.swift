import Foundation

/// A label matcher in Alertmanager's notation: `name="value"`, `name!="value"`,
/// `name=~"regex"`, `name!~"regex"` (quotes optional). Regular expressions are anchored at
/// both ends, as in Prometheus and Alertmanager; a label an alert lacks matches as `""`.
///
/// Used by routes (`matchers:`), inhibition rules and silences. Coded as Alertmanager's API
/// object `{"name", "value", "isRegex", "isEqual"}`, which is also how silences are stored.
public struct LabelMatcher: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Operation: String, Sendable, CaseIterable {
        case equal = "="
        case notEqual = "!="
        case matchesRegex = "=~"
        case notMatchesRegex = "!~"
    }

    public let name: String
    public let operation: Operation
    public let value: String
    private let expression: CompiledExpression?

    /// - Throws: ``MatcherError`` for a name that is not a label name or an invalid regular
    ///   expression (ICU syntax, as `NSRegularExpression` reads it).
    public init(name: String, _ operation: Operation, _ value: String) throws(MatcherError) {
        guard Self.isLabelName(name) else {
            throw MatcherError("'\(name)' is not a label name (letters, digits and _, not starting with a digit)")
        }
        self.name = name
        self.operation = operation
        self.value = value
        switch operation {
        case .equal, .notEqual: expression = nil
        case .matchesRegex, .notMatchesRegex:
            guard let compiled = try? NSRegularExpression(pattern: "^(?:" + value + ")$") else {
                throw MatcherError("'\(value)' is not a valid regular expression")
            }
            expression = CompiledExpression(compiled)
        }
    }

    /// Alertmanager's API form (`{"name", "value", "isRegex", "isEqual"}`).
    public init(name: String, value: String, isRegex: Bool, isEqual: Bool) throws(MatcherError) {
        let operation: Operation =
            isRegex ? (isEqual ? .matchesRegex : .notMatchesRegex) : (isEqual ? .equal : .notEqual)
        try self.init(name: name, operation, value)
    }

    /// Reads `name<op>value`; a double-quoted value may escape `"` and `\` with a backslash.
    public static func parse(_ text: String) throws(MatcherError) -> LabelMatcher {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let opStart = trimmed.firstIndex(where: { $0 == "=" || $0 == "!" }) else {
            throw MatcherError("'\(text)' needs an operator: name=\"value\", !=, =~ or !~")
        }
        let name = trimmed[..<opStart].trimmingCharacters(in: .whitespaces)
        let rest = trimmed[opStart...]
        guard
            let operation = [Operation.matchesRegex, .notMatchesRegex, .notEqual, .equal].first(where: {
                rest.hasPrefix($0.rawValue)
            })
        else {
            throw MatcherError("'\(text)' needs an operator: name=\"value\", !=, =~ or !~")
        }
        var value = rest.dropFirst(operation.rawValue.count).trimmingCharacters(in: .whitespaces)
        if value.hasPrefix("\"") {
            var unquoted = ""
            var escaped = false
            var closed = false
            for c in value.dropFirst() {
                if closed { throw MatcherError("'\(text)': text after the closing quote") }
                if escaped {
                    unquoted.append(c == "n" ? "\n" : c)
                    escaped = false
                } else if c == "\\" {
                    escaped = true
                } else if c == "\"" {
                    closed = true
                } else {
                    unquoted.append(c)
                }
            }
            guard closed else { throw MatcherError("'\(text)': the quoted value is not closed") }
            value = unquoted
        }
        return try LabelMatcher(name: name, operation, value)
    }

    public func matches(_ labels: [String: String]) -> Bool {
        let actual = labels[name] ?? ""
        switch operation {
        case .equal: return actual == value
        case .notEqual: return actual != value
        case .matchesRegex: return expression?.matches(actual) ?? false
        case .notMatchesRegex: return !(expression?.matches(actual) ?? false)
        }
    }

    /// `name="value"` with the value quoted (and `"`/`\` escaped).
    public var description: String {
        var quoted = ""
        for c in value {
            if c == "\"" || c == "\\" { quoted.append("\\") }
            quoted.append(c == "\n" ? "n" : c)
        }
        return "\(name)\(operation.rawValue)\"\(quoted)\""
    }

    /// Prometheus' label-name syntax: `[a-zA-Z_][a-zA-Z0-9_]*`.
    public static func isLabelName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || first.isASCIILetter else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || $0.isASCIILetter || ("0"..."9").contains($0) }
    }

    public static func == (a: LabelMatcher, b: LabelMatcher) -> Bool {
        a.name == b.name && a.operation == b.operation && a.value == b.value
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(operation)
        hasher.combine(value)
    }

    enum CodingKeys: String, CodingKey { case name, value, isRegex, isEqual }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        do {
            try self.init(
                name: try container.decode(String.self, forKey: .name),
                value: try container.decode(String.self, forKey: .value),
                isRegex: try container.decodeIfPresent(Bool.self, forKey: .isRegex) ?? false,
                isEqual: try container.decodeIfPresent(Bool.self, forKey: .isEqual) ?? true)
        } catch let error as MatcherError {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.message))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(value, forKey: .value)
        try container.encode(operation == .matchesRegex || operation == .notMatchesRegex, forKey: .isRegex)
        try container.encode(operation == .equal || operation == .matchesRegex, forKey: .isEqual)
    }
}

extension Array where Element == LabelMatcher {
    /// True when every matcher matches (an empty list matches everything).
    public func matches(_ labels: [String: String]) -> Bool { allSatisfy { $0.matches(labels) } }
}

public struct MatcherError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// `NSRegularExpression` is immutable once made and documented as safe to share between
/// threads, hence `@unchecked Sendable`.
private final class CompiledExpression: @unchecked Sendable {
    let expression: NSRegularExpression
    init(_ expression: NSRegularExpression) { self.expression = expression }

    func matches(_ text: String) -> Bool {
        expression.firstMatch(in: text, range: NSRange(text.startIndex..<text.endIndex, in: text)) != nil
    }
}

extension Unicode.Scalar {
    fileprivate var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
}
