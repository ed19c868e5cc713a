// Drift statistics throughput harness: `DriftReport.compare` over 1,000 reference/target profile
// pairs of 50 columns each (30 numeric, 20 categorical), single-threaded.
//
// Usage: DriftBench [--repeat N] [--pairs P] [--rows R]
// Prints one JSON object per line, like the other harnesses: {"name", "ops", "seconds", ...}
// with the best time of N repetitions (default 3). The profiles are built first (not timed):
// 20 references and 20 targets of R rows (default 20,000, so every KLL sketch has compacted and
// the wide categorical columns have purged), paired round-robin into P pairs (default 1,000).

import Drift
import Profiles
import Sketches

extension SplitMix64 {
    /// Uniform in [0, 1), 53 bits.
    mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }
}

@inline(never)
func blackHole<T>(_ value: T) {
    withExtendedLifetime(value) {}
}

func option(_ name: String, default value: Int) -> Int {
    let arguments = CommandLine.arguments
    if let i = arguments.firstIndex(of: name), i + 1 < arguments.count, let n = Int(arguments[i + 1]) { return n }
    return value
}

let repeats = option("--repeat", default: 3)
let pairCount = option("--pairs", default: 1000)
let rows = option("--rows", default: 20_000)
let numericColumns = 30
let categoricalColumns = 20
let poolSize = 20

/// A profile whose numeric columns are sums of uniforms (roughly normal) shifted by `shift`, and
/// whose categorical column c has 4·(c + 1) categories with skewed weights (the last few columns
/// have more than the 96 a default frequent-items sketch tracks).
func makeProfile(seed: UInt64, shift: Double) -> DatasetProfile {
    var rng = SplitMix64(seed: seed)
    var profile = DatasetProfile(model: "bench", uploadID: UploadID(high: seed, low: 0), createdAt: 0)
    var columns = (0..<numericColumns).map { _ in ColumnProfile(config: profile.config) }
    var categorical = (0..<categoricalColumns).map { _ in ColumnProfile(config: profile.config) }
    let labels = (0..<categoricalColumns).map { c in (0..<(4 * (c + 1))).map { "cat-\(c)-\($0)" } }
    for _ in 0..<rows {
        for c in 0..<numericColumns {
            let x = rng.unit() + rng.unit() + rng.unit() - 1.5
            if rng.next() % 100 == 0 {
                columns[c].updateNull()
            } else {
                columns[c].update(double: (x + shift * Double(c % 3)) * Double(c + 1))
            }
        }
        for c in 0..<categoricalColumns {
            let u = rng.unit()
            let index = Int(u * u * Double(labels[c].count))
            categorical[c].update(string: labels[c][index])
        }
    }
    for c in 0..<numericColumns { profile.columns["n\(c)"] = columns[c] }
    for c in 0..<categoricalColumns { profile.columns["c\(c)"] = categorical[c] }
    return profile
}

let references = (0..<poolSize).map { makeProfile(seed: UInt64(1000 + $0), shift: 0) }
let targets = (0..<poolSize).map { makeProfile(seed: UInt64(2000 + $0), shift: Double($0 % 4) * 0.05) }

let clock = ContinuousClock()
var best = Duration.seconds(1_000_000)
var drifted = 0
for _ in 0..<repeats {
    var count = 0
    let elapsed = clock.measure {
        for i in 0..<pairCount {
            let report = DriftReport.compare(reference: references[i % poolSize], target: targets[(i * 7) % poolSize])
            count += report.datasetDrift.driftedColumns
            blackHole(report)
        }
    }
    drifted = count
    best = min(best, elapsed)
}
let seconds = Double(best.components.seconds) + Double(best.components.attoseconds) * 1e-18
let columnCount = numericColumns + categoricalColumns
print(
    #"{"name":"drift_compare","ops":\#(pairCount),"seconds":\#(seconds),"columns":\#(columnCount),"#
        + #""us_per_column":\#(seconds / Double(pairCount * columnCount) * 1e6),"drifted_columns":\#(drifted)}"#)
