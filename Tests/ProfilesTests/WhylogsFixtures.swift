import Foundation
import Sketches
import Testing

/// Access to the whylogs 1.6.4 profiles in `Tests/Fixtures/whylogs` (copied from the shared
/// test data): each NAME.bin has a NAME.json sidecar with the input, whylogs' own
/// `to_pandas()` summary (`profile_view_to_pandas`) and a decoded view of the container
/// (`container_decoded`).
enum WhylogsFixtures {
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/whylogs")

    static let names = ["whylogs_profile_small", "whylogs_profile_medium"]

    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: root.appendingPathComponent("\(name).bin")))
    }

    /// The sidecar as Foundation-style objects (`[String: Any]`, `[Any]`, `NSNumber`, `String`).
    /// Parsed with `JSONDecoder`, whose doubles round-trip exactly (Foundation's
    /// `JSONSerialization` on Linux is off by an ulp on some values).
    static func json(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: root.appendingPathComponent("\(name).json"))
        guard let object = try JSONDecoder().decode(JSONValue.self, from: data).object as? [String: Any] else {
            throw WhylogsFixtureError("\(name).json: top level is not an object")
        }
        return object
    }

    /// A JSON number or one of the strings "NaN", "Infinity", "-Infinity" as a Double.
    static func double(_ value: Any?) -> Double? {
        switch value {
        case let n as NSNumber: return n.doubleValue
        case let s as String:
            switch s {
            case "NaN": return .nan
            case "Infinity": return .infinity
            case "-Infinity": return -.infinity
            default: return Double(s)
            }
        default: return nil
        }
    }

    static func int64(_ value: Any?) -> Int64? {
        (value as? NSNumber)?.int64Value
    }
}

/// Any JSON value, decoded exactly: integers that fit stay `Int64`, other numbers `Double`.
enum JSONValue: Decodable {
    case null, bool(Bool), int(Int64), double(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        if let c = try? decoder.container(keyedBy: Key.self) {
            var out: [String: JSONValue] = [:]
            for key in c.allKeys { out[key.stringValue] = try c.decode(JSONValue.self, forKey: key) }
            self = .object(out)
        } else if var c = try? decoder.unkeyedContainer() {
            var out: [JSONValue] = []
            while !c.isAtEnd { out.append(try c.decode(JSONValue.self)) }
            self = .array(out)
        } else {
            let c = try decoder.singleValueContainer()
            if c.decodeNil() {
                self = .null
            } else if let b = try? c.decode(Bool.self) {
                self = .bool(b)
            } else if let i = try? c.decode(Int64.self) {
                self = .int(i)
            } else if let d = try? c.decode(Double.self) {
                self = .double(d)
            } else {
                self = .string(try c.decode(String.self))
            }
        }
    }

    var object: Any {
        switch self {
        case .null: return NSNull()
        case .bool(let b): return b
        case .int(let i): return NSNumber(value: i)
        case .double(let d): return NSNumber(value: d)
        case .string(let s): return s
        case .array(let a): return a.map(\.object)
        case .object(let o): return o.mapValues(\.object)
        }
    }

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

struct WhylogsFixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Reproducible test data.
typealias WhylogsSplitMix64 = SplitMix64
