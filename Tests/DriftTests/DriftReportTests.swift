import Profiles
import Testing

@testable import Drift

@Suite("Drift report and verdicts")
struct DriftReportTests {
    /// A profile with a numeric, an integer, a categorical and a boolean column, a performance
    /// block and latency.
    static func sample(seed: UInt64, rows: Int = 5000, shift: Double = 0) -> DatasetProfile {
        var rng = TestRandom(seed: seed)
        var columns: [String: ColumnProfile] = [:]
        var performance = ClassificationProfile()
        var latency = LatencyProfile()
        for _ in 0..<rows {
            let x = rng.normal() + shift
            columns["x", default: ColumnProfile()].update(double: x)
            columns["n", default: ColumnProfile()].update(int: Int64(rng.next() % 50))
            let u = rng.unit()
            columns["color", default: ColumnProfile()].update(
                string: u < 0.5 + shift / 4 ? "red" : u < 0.8 ? "green" : "blue")
            columns["flag", default: ColumnProfile()].update(bool: rng.next() % 4 == 0)
            let positive = rng.next() % 2 == 0
            let score = Swift.min(1, Swift.max(0, (positive ? 0.7 : 0.3) + rng.normal() * 0.2))
            performance.update(predicted: score > 0.5 ? "1" : "0", actual: positive ? "1" : "0", score: score)
            latency.update(milliseconds: 5 + rng.unit() * 10, failed: rng.next() % 100 == 0)
        }
        var profile = dataset(columns)
        profile.performance = .classification(performance)
        profile.latency = latency
        return profile
    }

    @Test func identicalProfilesHaveZeroDistancesAndNoDrift() {
        let profile = Self.sample(seed: 1)
        let report = DriftReport.compare(reference: profile, target: profile)
        #expect(!report.datasetDrift.drift && report.datasetDrift.driftedColumns == 0)
        #expect(report.datasetDrift.evaluatedColumns == 4)
        for column in report.columns {
            #expect(column.status == .ok, "\(column.name)")
            for (method, value) in column.metrics {
                if method.decidesByPValue {
                    #expect(value.pValue == 1, "\(column.name) \(method) p = \(value.pValue ?? -1)")
                }
                #expect(value.value == 0, "\(column.name) \(method) = \(value.value)")
            }
            #expect(column.quality.outOfRange.map { $0.value == 0 } ?? true)
            #expect(column.quality.nullRatioChange == 0 && column.quality.typeMixChange == 0)
        }
        #expect(report.schema.isEmpty)
        #expect(report.performance!.changes.allSatisfy { $0.change == nil || $0.change == 0 })
        #expect(report.latency!.changes.allSatisfy { $0.change == 0 })
    }

    @Test func shiftedTargetDriftsAndIsRankedFirst() {
        let reference = Self.sample(seed: 1)
        let target = Self.sample(seed: 2, shift: 0.8)
        let report = DriftReport.compare(reference: reference, target: target)
        let x = report[column: "x"]!
        #expect(x.kind == .numeric && x.method == .wassersteinNormed && x.status == .drift)
        // W₁ between N(0, 1) and N(0.8, 1) is 0.8; normalized by σ ≈ 1
        #expect(abs(x.metrics[.wassersteinNormed]!.value - 0.8) < 0.1)
        let color = report[column: "color"]!
        #expect(color.kind == .categorical && color.method == .js && color.status == .drift)
        // unchanged columns stay ok
        #expect(report[column: "flag"]!.status == .ok && report[column: "n"]!.status == .ok)
        #expect(
            report.datasetDrift.driftedColumns == 2 && report.datasetDrift.share == 0.5 && report.datasetDrift.drift)
        // x moved more (JS effect size) than color
        #expect(Array(report.ranking.prefix(2)) == ["x", "color"])
    }

    @Test func emptyTargetIsSkipped() {
        let reference = Self.sample(seed: 1)
        let report = DriftReport.compare(reference: reference, target: dataset([:]))
        #expect(report.columns.allSatisfy { $0.status == .skipped && $0.note == "only in the reference" })
        #expect(report.datasetDrift.evaluatedColumns == 0 && !report.datasetDrift.drift && report.ranking.isEmpty)
        #expect(report.schema.missingColumns == ["color", "flag", "n", "x"])
        #expect(report.target.rowCount == 0)
    }

    /// An empty target window that still names the columns (a window with no rows): every
    /// column is skipped, nothing drifts, nothing is ranked.
    @Test func emptyTargetWindowWithColumnsIsSkipped() {
        let reference = Self.sample(seed: 1)
        let empty = dataset(Dictionary(uniqueKeysWithValues: reference.columns.keys.map { ($0, column([])) }))
        let report = DriftReport.compare(reference: reference, target: empty)
        #expect(report.columns.count == 4)
        for c in report.columns {
            #expect(c.status == .skipped && !c.drift && c.metrics.isEmpty, "\(c.name): \(c.status)")
            #expect(c.note == "no numbers in the target" || c.note == "no categories in the target", "\(c.name)")
        }
        #expect(report.datasetDrift.evaluatedColumns == 0 && !report.datasetDrift.drift && report.ranking.isEmpty)
        #expect(report.schema.isEmpty && report.target.rowCount == 0)
    }

    struct IdenticalCase: Sendable, CustomTestStringConvertible {
        let name: String
        let values: [Value]
        var testDescription: String { name }
    }

    static let identicalCases: [IdenticalCase] = {
        var rng = TestRandom(seed: 9)
        return [
            // a compacted KLL sketch (continuous values, n ≫ k)
            IdenticalCase(name: "continuous", values: (0..<5000).map { _ in .double(rng.normal()) }),
            // a constant, compacted
            IdenticalCase(name: "constant", values: [Value](repeating: .double(5), count: 3000)),
            // integers tracked exactly by the frequent-items sketch
            IdenticalCase(name: "integers", values: (0..<3000).map { .int(Int64($0 % 7)) }),
            // one category only
            IdenticalCase(name: "single category", values: [Value](repeating: .string("a"), count: 50)),
            // more categories than the frequent-items sketch tracks: an "other" mass on both sides
            IdenticalCase(name: "purged categories", values: (0..<4000).map { .string("c\(($0 * 7919) % 500)") }),
            // a few values with nulls
            IdenticalCase(name: "with nulls", values: [.double(1), .null, .double(2), .null, .double(2)]),
        ]
    }()

    /// Identical profiles: every statistic exactly 0 (p-values 1), no drift, for every kind of
    /// column the statistics treat differently.
    @Test(arguments: identicalCases)
    func identicalColumnsGiveExactlyZero(c: IdenticalCase) {
        let profile = dataset(["v": column(c.values)])
        let report = DriftReport.compare(reference: profile, target: profile)
        let v = report[column: "v"]!
        #expect(v.status == .ok && !v.drift, "\(v.status) \(v.note ?? "")")
        #expect(!v.metrics.isEmpty)
        for (method, metric) in v.metrics {
            #expect(metric.value == 0, "\(method) = \(metric.value)")
            if let p = metric.pValue { #expect(p == 1, "\(method) p = \(p)") }
        }
        #expect(v.bins.map { $0.reference == $0.target } ?? true)
        #expect(!report.datasetDrift.drift && report.datasetDrift.driftedColumns == 0)
    }

    @Test func columnOnOneSideOnly() {
        let reference = dataset(["a": column(doubles: [1, 2, 3]), "old": column(doubles: [1])])
        let target = dataset(["a": column(doubles: [1, 2, 3]), "new": column(strings: ["z"])])
        let report = DriftReport.compare(reference: reference, target: target)
        #expect(report[column: "old"]!.status == .skipped && report[column: "old"]!.note == "only in the reference")
        #expect(report[column: "new"]!.status == .skipped && report[column: "new"]!.note == "only in the target")
        #expect(report[column: "new"]!.kind == .categorical)
        #expect(report.schema.addedColumns == ["new"] && report.schema.missingColumns == ["old"])
        #expect(report.datasetDrift.evaluatedColumns == 1)
    }

    @Test func allNullColumns() {
        let nulls = column([.null, .null, .null])
        let numbers = column(doubles: [1, 2, 3])
        let bothNull = DriftReport.compare(reference: dataset(["c": nulls]), target: dataset(["c": nulls]))
        #expect(bothNull[column: "c"]!.status == .skipped && bothNull[column: "c"]!.note == "no values on either side")
        let becameNull = DriftReport.compare(reference: dataset(["c": numbers]), target: dataset(["c": nulls]))
        let c = becameNull[column: "c"]!
        #expect(c.status == .skipped && c.note == "no numbers in the target")
        #expect(c.quality.nullRatioChange == 1)
    }

    @Test func constantColumn() {
        let five = column(doubles: [Double](repeating: 5, count: 2000))
        let same = DriftReport.compare(reference: dataset(["k": five]), target: dataset(["k": five]))
        #expect(same[column: "k"]!.status == .ok)
        // a constant that moves: normalized by the 0.001 floor, any move drifts
        let six = column(doubles: [Double](repeating: 5.01, count: 2000))
        let moved = DriftReport.compare(reference: dataset(["k": five]), target: dataset(["k": six]))
        let k = moved[column: "k"]!
        // one distinct value: low cardinality → Jensen–Shannon over the bins (−∞, 5], (5, ∞)
        #expect(k.method == .js && k.status == .drift && k.metrics[.js]!.value == 1)
        #expect(close(k.metrics[.wassersteinNormed]!.value, 10, 1e-9))
        #expect(k.quality.outOfRange!.value == 1)
    }

    @Test func smallSamplesDecideByTests() {
        var rng = TestRandom(seed: 3)
        let a = column(doubles: (0..<300).map { _ in rng.normal() })
        let b = column(doubles: (0..<300).map { _ in rng.normal() + 0.5 })
        let report = DriftReport.compare(reference: dataset(["v": a]), target: dataset(["v": b]))
        let v = report[column: "v"]!
        #expect(v.method == .ks && v.status == .drift && v.metrics[.ks]!.pValue! < 0.05)
        let colors = column(strings: (0..<200).map { $0 % 3 == 0 ? "r" : "g" })
        let shifted = column(strings: (0..<200).map { $0 % 2 == 0 ? "r" : "g" })
        let categorical = DriftReport.compare(reference: dataset(["c": colors]), target: dataset(["c": shifted]))
        #expect(categorical[column: "c"]!.method == .chi2)
    }

    @Test func methodOverridesAndThresholds() throws {
        let reference = Self.sample(seed: 1)
        let target = Self.sample(seed: 2, shift: 0.1)
        var options = DriftOptions()
        try options.setMethod("x=psi")
        try options.setMethod("color=ks")  // not for categorical: falls back with a note
        try options.setMethod("n=wasserstein")  // no threshold configured: falls back
        try options.setThreshold("psi=0.001")
        let report = DriftReport.compare(reference: reference, target: target, options: options)
        #expect(report[column: "x"]!.method == .psi && report[column: "x"]!.status == .drift)
        #expect(report[column: "color"]!.method == .js && report[column: "color"]!.note != nil)
        #expect(report[column: "n"]!.method == .wassersteinNormed && report[column: "n"]!.note != nil)
        try options.setThreshold("wasserstein=1000")
        let configured = DriftReport.compare(reference: reference, target: target, options: options)
        #expect(configured[column: "n"]!.method == .wasserstein && configured[column: "n"]!.status == .ok)
        // selected columns only
        options.columns = ["x"]
        #expect(
            DriftReport.compare(reference: reference, target: target, options: options).columns.map(\.name) == ["x"])
    }

    struct VerdictCase: Sendable, CustomTestStringConvertible {
        let method: DriftMethod
        let value: Double
        let pValue: Double?
        let expected: DriftStatus
        var testDescription: String { "\(method) \(value) p=\(pValue.map { "\($0)" } ?? "-") → \(expected)" }
    }

    static let verdicts: [VerdictCase] = [
        // PSI: warning at 0.1, drift at 0.2 (inclusive)
        VerdictCase(method: .psi, value: 0.099, pValue: nil, expected: .ok),
        VerdictCase(method: .psi, value: 0.1, pValue: nil, expected: .warning),
        VerdictCase(method: .psi, value: 0.2, pValue: nil, expected: .drift),
        // Jensen–Shannon: warning 0.05, drift 0.1
        VerdictCase(method: .js, value: 0.04, pValue: nil, expected: .ok),
        VerdictCase(method: .js, value: 0.07, pValue: nil, expected: .warning),
        VerdictCase(method: .js, value: 0.1, pValue: nil, expected: .drift),
        // normalized Wasserstein, Hellinger, L∞: drift at 0.1
        VerdictCase(method: .wassersteinNormed, value: 0.12, pValue: nil, expected: .drift),
        VerdictCase(method: .hellinger, value: 0.09, pValue: nil, expected: .warning),
        VerdictCase(method: .linf, value: 0.01, pValue: nil, expected: .ok),
        // tests decide by p < 0.05, whatever the statistic
        VerdictCase(method: .ks, value: 0.9, pValue: 0.05, expected: .ok),
        VerdictCase(method: .ks, value: 0.01, pValue: 0.049, expected: .drift),
        VerdictCase(method: .chi2, value: 100, pValue: 1e-30, expected: .drift),
        // plain Wasserstein has no default threshold
        VerdictCase(method: .wasserstein, value: 1e9, pValue: nil, expected: .ok),
    ]

    @Test(arguments: verdicts)
    func verdictThresholds(c: VerdictCase) {
        let value = MetricValue(value: c.value, pValue: c.pValue)
        #expect(DriftReport.status(of: value, method: c.method, options: DriftOptions()) == c.expected)
    }

    @Test func defaultMethodsByKindAndSize() {
        let options = DriftOptions()
        #expect(DriftReport.defaultMethod(kind: .numeric, referenceSize: 1000, distinct: 900, options: options) == .ks)
        #expect(
            DriftReport.defaultMethod(kind: .numeric, referenceSize: 1001, distinct: 900, options: options)
                == .wassersteinNormed)
        #expect(DriftReport.defaultMethod(kind: .numeric, referenceSize: 50_000, distinct: 5, options: options) == .js)
        #expect(
            DriftReport.defaultMethod(kind: .categorical, referenceSize: 999, distinct: 3, options: options) == .chi2)
        #expect(
            DriftReport.defaultMethod(kind: .categorical, referenceSize: 10_000, distinct: 3, options: options) == .js)
    }

    @Test func datasetShareThreshold() throws {
        let reference = Self.sample(seed: 1)
        let target = Self.sample(seed: 2, shift: 0.8)
        var options = DriftOptions()
        try options.setThreshold("dataset_share=0.75")
        let report = DriftReport.compare(reference: reference, target: target, options: options)
        #expect(report.datasetDrift.share == 0.5 && !report.datasetDrift.drift && report.datasetDrift.threshold == 0.75)
    }

    @Test func optionParsing() throws {
        var options = DriftOptions()
        try options.setThreshold("js.warning=0.02")
        try options.setThreshold("wasserstein_normed=0.3")
        try options.setMethod("a=b=chi2")  // the last '=' separates: column "a=b"
        #expect(options.warningThreshold(for: .js) == 0.02 && options.threshold(for: .wassersteinNormed) == 0.3)
        #expect(options.methods["a=b"] == .chi2)
        #expect(throws: DriftOptionsError.self) { try options.setMethod("age=bogus") }
        #expect(throws: DriftOptionsError.self) { try options.setMethod("nomethod") }
        #expect(throws: DriftOptionsError.self) { try options.setThreshold("psi=abc") }
        #expect(throws: DriftOptionsError.self) { try options.setThreshold("ks=2") }  // p-value > 1
        #expect(throws: DriftOptionsError.self) { try options.setThreshold("dataset_share=0") }
        #expect(throws: DriftOptionsError.self) { try options.setThreshold("bogus=1") }
        var bad = DriftOptions()
        bad.binCount = 0
        #expect(throws: DriftOptionsError.self) { try bad.validate() }
        do {
            try options.setMethod("age=bogus")
        } catch {
            #expect(error.description.contains("unknown drift method 'bogus'"))
        }
    }

    @Test func performanceAndLatencyAreCompared() {
        let report = DriftReport.compare(reference: Self.sample(seed: 1), target: Self.sample(seed: 2))
        let performance = report.performance!
        #expect(performance.task == "classification")
        let auc = performance.changes.first { $0.name == "roc_auc" }!
        // scores 0.7 ± 0.2 vs 0.3 ± 0.2: AUC = Φ(0.4/√0.08) ≈ 0.92 on both sides
        #expect(abs(auc.reference! - 0.92) < 0.02 && abs(auc.change!) < 0.02)
        #expect(report.latency!.reference!.requestCount == 5000)
    }
}
