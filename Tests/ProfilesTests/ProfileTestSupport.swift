import Sketches

@testable import Profiles

/// Reproducible test data.
typealias TestRandom = SplitMix64

extension SplitMix64 {
    /// Uniform in [0, 1), 53 bits.
    mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }
    /// A standard normal deviate (Box–Muller without libm: polar method).
    mutating func normal() -> Double {
        while true {
            let u = 2 * unit() - 1
            let v = 2 * unit() - 1
            let s = u * u + v * v
            if s > 0 && s < 1 {
                return u * (-2 * ColumnTestMath.ln(s) / s).squareRoot()
            }
        }
    }
}

enum ColumnTestMath {
    static func ln(_ x: Double) -> Double { ClassificationProfile.naturalLog(x) }

    /// Relative difference, 0 when both are 0.
    static func relative(_ a: Double, _ b: Double) -> Double {
        a == b ? 0 : abs(a - b) / max(abs(a), abs(b))
    }

    /// Exact two-pass mean and M2.
    static func exactMoments(_ xs: [Double]) -> (mean: Double, m2: Double) {
        let mean = xs.reduce(0, +) / Double(xs.count)
        return (mean, xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) })
    }
}

/// A random mixed-type row stream: `num` (normal), `int` (0..<1000), `cat` (zipf-ish strings),
/// `flag` (bool), `sparse` (mostly null, sometimes NaN or ±inf).
func randomRows(_ n: Int, seed: UInt64) -> [[String: Value]] {
    var rng = TestRandom(seed: seed)
    return (0..<n).map { _ in
        var row: [String: Value] = [:]
        row["num"] = .double(rng.normal() * 10 + 50)
        row["int"] = .int(Int64(rng.next() % 1000))
        let rank = Int(1 / (rng.unit() + 0.01))
        row["cat"] = .string("c\(rank)")
        row["flag"] = .bool(rng.next() % 3 == 0)
        switch rng.next() % 10 {
        case 0: row["sparse"] = .double(.nan)
        case 1: row["sparse"] = .double(rng.next() % 2 == 0 ? .infinity : -.infinity)
        case 2, 3: row["sparse"] = .double(rng.unit())
        default: row["sparse"] = .null
        }
        return row
    }
}

func profile(_ rows: some Sequence<[String: Value]>, model: String = "m") -> DatasetProfile {
    var p = DatasetProfile(model: model)
    for row in rows {
        for (name, value) in row {
            p.columns[name, default: ColumnProfile(config: p.config)].update(value)
        }
    }
    return p
}
