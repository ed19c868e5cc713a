import Foundation
import Sketches
import Testing

/// Access to the reference vectors written by Apache DataSketches 5.2.0 (Python, C++ core),
/// copied from the shared test data into `Tests/Fixtures/datasketches`.
enum Fixtures {
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/datasketches")

    static func url(_ family: String, _ name: String) -> URL {
        root.appendingPathComponent(family).appendingPathComponent(name)
    }

    static func bytes(_ family: String, _ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: url(family, name)))
    }

    /// The sidecar JSON of a case, as Foundation objects.
    static func json(_ family: String, _ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: url(family, name))
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw FixtureError("\(name): top level is not an object")
        }
        return object
    }

    /// Names of the cases of a family (sidecar file names without `.json`), sorted.
    static func cases(_ family: String, prefix: String = "") throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(family).path)
            .filter { $0.hasSuffix(".json") && $0.hasPrefix(prefix) }
            .map { String($0.dropLast(5)) }
            .sorted()
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
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension SplitMix64 {
    /// Uniform in [0, 1), 53 bits.
    mutating func nextUnitDouble() -> Double { Double(next() >> 11) * 0x1p-53 }
}
