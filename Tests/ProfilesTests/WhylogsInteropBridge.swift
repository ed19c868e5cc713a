import Foundation
import Sketches
import Testing

@testable import Profiles

/// A bridge for scripts/crosscheck/whylogs_interop.py until `drift profile inspect` exists:
/// with `DRIFT_WHYLOGS_BRIDGE=IN.bin:OUT.json[:REWRITTEN.bin]` it decodes a whylogs file,
/// writes Driftwatch's inspect JSON of it (the keys of `drift profile inspect --json`) and,
/// when a third path is given, re-encodes the profile as a whylogs file. Without the variable
/// it runs the same path on the small fixture and checks the JSON shape.
@Suite("Whylogs interop bridge")
struct WhylogsInteropBridge {
    @Test func bridge() throws {
        if let spec = ProcessInfo.processInfo.environment["DRIFT_WHYLOGS_BRIDGE"] {
            let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            try #require(parts.count >= 2, "DRIFT_WHYLOGS_BRIDGE=IN.bin:OUT.json[:REWRITTEN.bin]")
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: parts[0])))
            let (json, rewritten) = try Self.run(bytes)
            try json.write(to: URL(fileURLWithPath: parts[1]))
            if parts.count > 2, !parts[2].isEmpty {
                try Data(rewritten).write(to: URL(fileURLWithPath: parts[2]))
            }
        } else {
            let (json, rewritten) = try Self.run(try WhylogsFixtures.bytes("whylogs_profile_small"))
            let object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
            let columns = try #require(object["columns"] as? [String: [String: Any]])
            #expect(Set(columns.keys) == ["b", "f", "i", "s"])
            #expect(columns["i"]?["count"] as? Int == 20)
            #expect(WhylogsCodec.isWhylogs(rewritten))
        }
    }

    static let ranks: [(String, Double)] = [
        ("0", 0), ("0.01", 0.01), ("0.05", 0.05), ("0.1", 0.1), ("0.25", 0.25), ("0.5", 0.5), ("0.75", 0.75),
        ("0.9", 0.9), ("0.95", 0.95), ("0.99", 0.99), ("1", 1),
    ]

    static func run(_ bytes: [UInt8]) throws -> (Data, [UInt8]) {
        let view = try WhylogsCodec.readView(bytes)
        var columns: [String: Any] = [:]
        var rewrittenView = view
        for (name, components) in view.columns {
            let m = try WhylogsColumnMetrics(column: name, components: components, offset: 0)
            rewrittenView.columns[name] = m.components()
            var entry: [String: Any] = [
                "count": m.count, "null_count": m.nullCount, "nan_count": m.nanCount, "inf_count": m.infCount,
                "types": [
                    "integral": m.integral, "fractional": m.fractional, "boolean": m.boolean, "string": m.string,
                    "object": m.object,
                ],
            ]
            if let kll = m.kll, let q = WhylogsCodec.whylogsQuantiles(of: kll, ranks: ranks.map(\.1)) {
                entry["min"] = number(kll.min)
                entry["max"] = number(kll.max)
                let n = Double(kll.count)
                entry["mean"] = number(m.mean)
                entry["stddev"] = number(n <= 1 ? 0 : ((m.m2 ?? 0) / (n - 1)).squareRoot())
                var quantiles: [String: Any] = [:]
                for ((key, rank), value) in zip(ranks, q) {
                    quantiles[key] = number(rank == 0 ? kll.min : rank == 1 ? kll.max : value)
                }
                entry["quantiles"] = quantiles
            }
            if let fi = m.frequentStrings {
                entry["frequent_items"] = fi.frequentItems(errorType: .noFalsePositives).map { row in
                    [
                        "item": row.item, "estimate": row.estimate, "lower_bound": row.lowerBound,
                        "upper_bound": row.upperBound,
                    ] as [String: Any]
                }
            }
            columns[name] = entry
        }
        let json = try JSONSerialization.data(
            withJSONObject: ["format": "whylogs", "columns": columns], options: [.sortedKeys])
        return (json, WhylogsCodec.writeView(rewrittenView))
    }

    /// Non-finite numbers as the strings "NaN", "Infinity", "-Infinity" (JSON has no literal).
    static func number(_ value: Double?) -> Any {
        guard let value else { return NSNull() }
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "Infinity" : "-Infinity" }
        return value
    }
}
