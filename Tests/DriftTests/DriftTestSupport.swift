import Profiles
import Sketches

@testable import Drift

/// A seedable generator for randomised drift tests (SplitMix64: Steele, Lea, Flood 2014).
struct TestRandom: RandomNumberGenerator {
    let seed: UInt64
    var generator: SplitMix64

    init(seed: UInt64) {
        self.seed = seed
        generator = SplitMix64(seed: seed)
    }

    mutating func next() -> UInt64 { generator.next() }

    mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// A standard normal deviate (polar method).
    mutating func normal() -> Double {
        while true {
            let u = 2 * unit() - 1
            let v = 2 * unit() - 1
            let s = u * u + v * v
            if s > 0 && s < 1 {
                return u * (-2 * Elementary.naturalLog(s) / s).squareRoot()
            }
        }
    }
}

/// A column profile of `values` with the default configuration.
func column(_ values: [Value], config: ProfileConfig = .default) -> ColumnProfile {
    var column = ColumnProfile(config: config)
    for value in values { column.update(value) }
    return column
}

func column(doubles values: [Double], config: ProfileConfig = .default) -> ColumnProfile {
    column(values.map { Value.double($0) }, config: config)
}

func column(strings values: [String], config: ProfileConfig = .default) -> ColumnProfile {
    column(values.map { Value.string($0) }, config: config)
}

func dataset(_ columns: [String: ColumnProfile], model: String = "m") -> DatasetProfile {
    DatasetProfile(model: model, uploadID: UploadID(high: 1, low: 2), createdAt: 0, columns: columns)
}

/// A KLL sketch (k = 200) of `values`.
func sketch(_ values: [Double]) -> KLLSketch<Double> {
    var sketch = KLLSketch<Double>()
    sketch.update(contentsOf: values)
    return sketch
}

/// Exact statistics on raw data, computed the plain way for comparison.
enum Exact {
    /// Right-continuous empirical CDF of sorted data at x.
    static func cdf(_ sorted: [Double], _ x: Double) -> Double {
        Double(sorted.filter { $0 <= x }.count) / Double(sorted.count)
    }

    /// sup |F_a − F_b| over all data points.
    static func ks(_ a: [Double], _ b: [Double]) -> Double {
        let sa = a.sorted()
        let sb = b.sorted()
        return (a + b).map { abs(cdf(sa, $0) - cdf(sb, $0)) }.max() ?? 0
    }

    /// ∫ |F_a − F_b| dx by summing over the sorted union.
    static func wasserstein(_ a: [Double], _ b: [Double]) -> Double {
        let sa = a.sorted()
        let sb = b.sorted()
        let points = Array(Set(a + b)).sorted()
        var sum = 0.0
        for i in 0..<(points.count - 1) {
            sum += abs(cdf(sa, points[i]) - cdf(sb, points[i])) * (points[i + 1] - points[i])
        }
        return sum
    }

    /// Decile cut points (inverted CDF: sorted[⌈j·n/10⌉ − 1]), deduplicated.
    static func cuts(_ a: [Double], bins: Int = 10) -> [Double] {
        let s = a.sorted()
        var cuts: [Double] = []
        for j in 1..<bins {
            let w = (j * s.count + bins - 1) / bins
            let c = s[w - 1]
            if cuts.last.map({ $0 < c }) ?? true { cuts.append(c) }
        }
        return cuts
    }

    /// Masses of (−∞, c₁], (c₁, c₂], …, (c_K, ∞).
    static func masses(_ a: [Double], cuts: [Double]) -> [Double] {
        var counts = [Double](repeating: 0, count: cuts.count + 1)
        for x in a {
            var i = 0
            while i < cuts.count && x > cuts[i] { i += 1 }
            counts[i] += 1
        }
        return counts.map { $0 / Double(a.count) }
    }

    static func psi(_ p: [Double], _ q: [Double], epsilon: Double = 1e-4) -> Double {
        zip(p, q).reduce(0) { sum, pair in
            let a = max(pair.0, epsilon)
            let b = max(pair.1, epsilon)
            return sum + (b - a) * Elementary.naturalLog(b / a)
        }
    }
}

/// |a − b| ≤ tolerance, for #expect messages.
func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-12) -> Bool {
    abs(a - b) <= tolerance || (a.isNaN && b.isNaN)
}
