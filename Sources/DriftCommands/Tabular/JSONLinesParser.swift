/// A scalar field of a JSON Lines record. Nested arrays and objects are kept as `.other`
/// (counted under the "other" type), since profiles describe flat columns.
enum JSONScalar: Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case other
}

/// Parses one JSON Lines record: a JSON object (RFC 8259) whose members become columns.
///
/// Integers without a fraction or exponent that fit in Int64 stay integers (so profiles see
/// the same integral/fractional split as a CSV of the same data); nesting is bounded.
struct JSONLinesParser {
    static let maximumDepth = 64

    private let bytes: [UInt8]
    private var i = 0

    /// Parses `line`; errors name the column (1-based byte position) of the problem.
    static func parseRecord(_ line: String) throws(JSONLinesError) -> [(String, JSONScalar)] {
        var parser = JSONLinesParser(bytes: Array(line.utf8))
        return try parser.record()
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private mutating func record() throws(JSONLinesError) -> [(String, JSONScalar)] {
        skipSpace()
        guard peek() == UInt8(ascii: "{") else { throw fail("a record must be a JSON object") }
        i += 1
        var members: [(String, JSONScalar)] = []
        skipSpace()
        if peek() == UInt8(ascii: "}") {
            i += 1
        } else {
            while true {
                skipSpace()
                guard peek() == UInt8(ascii: "\"") else { throw fail("expected a member name in quotes") }
                let key = try string()
                skipSpace()
                guard peek() == UInt8(ascii: ":") else { throw fail("expected ':' after member name") }
                i += 1
                skipSpace()
                members.append((key, try value(depth: 1)))
                skipSpace()
                if peek() == UInt8(ascii: ",") {
                    i += 1
                    continue
                }
                guard peek() == UInt8(ascii: "}") else { throw fail("expected ',' or '}'") }
                i += 1
                break
            }
        }
        skipSpace()
        guard i == bytes.count else { throw fail("unexpected text after the record") }
        return members
    }

    private mutating func value(depth: Int) throws(JSONLinesError) -> JSONScalar {
        guard depth <= Self.maximumDepth else { throw fail("nesting deeper than \(Self.maximumDepth)") }
        guard let c = peek() else { throw fail("unexpected end of line") }
        switch c {
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "["), UInt8(ascii: "{"):
            try skipContainer(depth: depth)
            return .other
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw fail("unexpected character '\(Character(Unicode.Scalar(c)))'")
        }
    }

    private mutating func skipContainer(depth: Int) throws(JSONLinesError) {
        let open = bytes[i]
        let close = open == UInt8(ascii: "[") ? UInt8(ascii: "]") : UInt8(ascii: "}")
        i += 1
        skipSpace()
        if peek() == close {
            i += 1
            return
        }
        while true {
            skipSpace()
            if open == UInt8(ascii: "{") {
                guard peek() == UInt8(ascii: "\"") else { throw fail("expected a member name in quotes") }
                _ = try string()
                skipSpace()
                guard peek() == UInt8(ascii: ":") else { throw fail("expected ':' after member name") }
                i += 1
                skipSpace()
            }
            _ = try value(depth: depth + 1)
            skipSpace()
            if peek() == UInt8(ascii: ",") {
                i += 1
                continue
            }
            guard peek() == close else { throw fail("expected ',' or '\(Character(Unicode.Scalar(close)))'") }
            i += 1
            return
        }
    }

    private mutating func literal(_ word: String) throws(JSONLinesError) {
        for expected in word.utf8 {
            guard peek() == expected else { throw fail("invalid literal, expected \(word)") }
            i += 1
        }
    }

    private mutating func number() throws(JSONLinesError) -> JSONScalar {
        let start = i
        var integral = true
        if peek() == UInt8(ascii: "-") { i += 1 }
        guard let first = peek(), first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") else {
            throw fail("invalid number")
        }
        while let c = peek(), c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") { i += 1 }
        if peek() == UInt8(ascii: ".") {
            integral = false
            i += 1
            guard let c = peek(), c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") else { throw fail("invalid number") }
            while let c = peek(), c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") { i += 1 }
        }
        if let c = peek(), c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
            integral = false
            i += 1
            if let s = peek(), s == UInt8(ascii: "+") || s == UInt8(ascii: "-") { i += 1 }
            guard let c = peek(), c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") else { throw fail("invalid number") }
            while let c = peek(), c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") { i += 1 }
        }
        let text = String(decoding: bytes[start..<i], as: UTF8.self)
        if integral, let value = Int64(text) { return .int(value) }
        guard let value = Double(text) else { throw fail("invalid number", at: start) }
        return .double(value)
    }

    private mutating func string() throws(JSONLinesError) -> String {
        i += 1  // opening quote
        var out: [UInt8] = []
        while true {
            guard let c = peek() else { throw fail("string not closed") }
            i += 1
            switch c {
            case UInt8(ascii: "\""):
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard let e = peek() else { throw fail("string not closed") }
                i += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar), peek() == UInt8(ascii: "\\"),
                        i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "u")
                    {
                        i += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw fail("invalid surrogate pair") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    let character = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                    out.append(contentsOf: Array(String(Character(character)).utf8))
                default: throw fail("invalid escape '\\\(Character(Unicode.Scalar(e)))'")
                }
            default:
                guard c >= 0x20 else { throw fail("control character in a string") }
                out.append(c)
            }
        }
    }

    private mutating func hex4() throws(JSONLinesError) -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<4 {
            guard let c = peek(), let d = hexDigit(c) else { throw fail("invalid \\u escape") }
            v = v << 4 | d
            i += 1
        }
        return v
    }

    private func hexDigit(_ c: UInt8) -> UInt32? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(c - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(c - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(c - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    private func peek() -> UInt8? { i < bytes.count ? bytes[i] : nil }

    private mutating func skipSpace() {
        while let c = peek(), c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { i += 1 }
    }

    private func fail(_ reason: String, at position: Int? = nil) -> JSONLinesError {
        JSONLinesError(column: (position ?? i) + 1, reason: reason)
    }
}

struct JSONLinesError: Error, CustomStringConvertible {
    let column: Int
    let reason: String
    var description: String { "column \(column): \(reason)" }
}
