/// One observed value of a feature, a prediction or a target, as the ``Profiler`` and
/// ``ColumnProfile`` take it.
///
/// Type inference from text (CSV cells, JSON) happens before a value reaches a profile — see
/// ``Value/inferred(from:)``. Counting follows whylogs' type categories so that profiles
/// translate both ways: integers are *integral*, floating-point numbers *fractional*
/// (including NaN and ±∞), booleans *boolean*, text *string*; ``null`` is counted as null and
/// carries no type.
public enum Value: Sendable, Hashable {
    case null
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case string(String)

    /// The value a text cell stands for, with whylogs-like inference: empty → null;
    /// `true`/`false` (any case) → bool; an optionally signed decimal integer that fits in
    /// 64 bits → int; a decimal or exponent float, `nan`, `inf`, `-inf`, `infinity` → double;
    /// anything else → string.
    public static func inferred(from text: Substring) -> Value {
        if text.isEmpty { return .null }
        if let integer = Int64(text) { return .int(integer) }
        switch text.utf8.count {
        case 4 where text.lowercased() == "true": return .bool(true)
        case 5 where text.lowercased() == "false": return .bool(false)
        default: break
        }
        if Value.looksDecimal(text), let number = Double(text) {
            return .double(number)
        }
        return .string(String(text))
    }

    /// The value a text cell stands for; see ``inferred(from:)-(Substring)``.
    public static func inferred(from text: String) -> Value {
        inferred(from: text[...])
    }

    /// `Double(_:)` also accepts hexadecimal floats (`0x1p3`) and `nan(…)` payloads; a data file
    /// means a number only by decimal digits, sign, point and exponent, or the words nan, inf
    /// and infinity (any case, optionally signed).
    private static func looksDecimal(_ text: Substring) -> Bool {
        var sawDigit = false
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): sawDigit = true
            case UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"): break
            default:
                var word = text.lowercased()[...]
                if word.first == "-" || word.first == "+" { word = word.dropFirst() }
                return word == "nan" || word == "inf" || word == "infinity"
            }
        }
        return sawDigit
    }
}

extension Value: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByStringLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByNilLiteral
{
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(nilLiteral: ()) { self = .null }
}
