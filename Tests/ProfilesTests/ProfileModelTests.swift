import Sketches
import Testing

@testable import Profiles

@Suite("Profile model")
struct ProfileModelTests {
    @Test func valueInferenceFollowsWhylogsCategories() {
        #expect(Value.inferred(from: "") == .null)
        #expect(Value.inferred(from: "42") == .int(42))
        #expect(Value.inferred(from: "-7") == .int(-7))
        #expect(Value.inferred(from: "3.5") == .double(3.5))
        #expect(Value.inferred(from: "1e3") == .double(1000))
        #expect(Value.inferred(from: "TRUE") == .bool(true))
        #expect(Value.inferred(from: "false") == .bool(false))
        #expect(Value.inferred(from: "nan").isNaNDouble)
        #expect(Value.inferred(from: "-inf") == .double(-.infinity))
        #expect(Value.inferred(from: "0x10") == .string("0x10"))
        #expect(Value.inferred(from: "abc") == .string("abc"))
        #expect(Value.inferred(from: "99999999999999999999") == .double(1e20))
    }

    @Test func columnCountsFollowTheDocumentedRules() throws {
        var column = ColumnProfile()
        let values: [Value] = [
            .null, .double(.nan), .double(.infinity), .double(-.infinity), 1, 2.5, true, false, "hello", "héllo",
        ]
        for v in values { column.update(v) }
        #expect(column.count == 10)
        #expect(column.nullCount == 2)
        #expect(column.nanCount == 1)
        #expect(column.infCount == 2)
        #expect(column.types == TypeCounts(integral: 1, fractional: 3, boolean: 2, string: 2, other: 0))
        #expect(column.types.total + column.nullCount == column.count)
        #expect(column.trueCount == 1)
        let numeric = try #require(column.numeric)
        // 1, 2.5 and the booleans as 1 and 0.
        #expect(numeric.kll.count == 4)
        #expect(numeric.min == 0 && numeric.max == 2.5)
        #expect(numeric.integerMin == 1 && numeric.integerMax == 1)
        #expect(numeric.moments.mean == 1.125)
        let items = try #require(column.frequentItems)
        #expect(items.totalWeight == 5)  // "1", "true", "false", "hello", "héllo"
        #expect(items.estimate("1") == 1)
        let lengths = try #require(column.stringLengths)
        #expect(lengths.min == 5 && lengths.max == 5)
        #expect(!column.cardinality.isEmpty)
    }

    @Test func longStringsAreTruncatedOnACharacterBoundary() throws {
        let config = try ProfileConfig(maxStringLength: 5)
        var column = ColumnProfile(config: config)
        column.update(string: "abcdé")  // 6 UTF-8 bytes: é is 2
        column.update(string: "abcdef")
        let items = try #require(column.frequentItems)
        #expect(items.estimate("abcd") == 1)
        #expect(items.estimate("abcde") == 1)
        #expect(column.stringLengths?.max == 6)
        #expect(ColumnProfile.truncate("👍👍", toUTF8Count: 5) == "👍")
    }

    @Test func momentsMatchTwoPassValues() {
        var rng = TestRandom(seed: 11)
        let xs = (0..<10_000).map { _ in rng.normal() * 1e3 + 1e6 }
        var m = Moments()
        for x in xs { m.update(x) }
        let exact = ColumnTestMath.exactMoments(xs)
        #expect(ColumnTestMath.relative(m.mean, exact.mean) < 1e-14)
        #expect(ColumnTestMath.relative(m.m2, exact.m2) < 1e-9)
    }

    @Test(arguments: [1, 2, 17, 500, 5000])
    func momentsOfPartsMergeToTheWhole(split: Int) {
        var rng = TestRandom(seed: UInt64(split))
        let xs = (0..<5001).map { _ in rng.normal() * 3 - 1 }
        var a = Moments()
        var b = Moments()
        var whole = Moments()
        for (i, x) in xs.enumerated() {
            if i < split { a.update(x) } else { b.update(x) }
            whole.update(x)
        }
        a.merge(b)
        #expect(a.count == whole.count)
        #expect(ColumnTestMath.relative(a.mean, whole.mean) < 1e-12)
        #expect(ColumnTestMath.relative(a.m2, whole.m2) < 1e-12)
        var empty = Moments()
        empty.merge(whole)
        #expect(empty == whole)
    }

    /// profile(A) ⊕ profile(B) against profile(A ∪ B), over seeded random splits.
    @Test(arguments: [UInt64(1), 2, 3, 4, 5])
    func mergedProfilesEqualTheProfileOfTheUnion(seed: UInt64) throws {
        var rng = TestRandom(seed: seed &* 977)
        let rows = randomRows(4000 + Int(rng.next() % 4000), seed: seed)
        var left: [[String: Value]] = []
        var right: [[String: Value]] = []
        for row in rows {
            if rng.next() % 3 == 0 { left.append(row) } else { right.append(row) }
        }
        var merged = profile(left)
        try merged.merge(profile(right))
        let whole = profile(rows)
        #expect(merged.columnNames == whole.columnNames)
        for name in whole.columnNames {
            let m = try #require(merged.columns[name])
            let w = try #require(whole.columns[name])
            #expect(m.count == w.count && m.nullCount == w.nullCount && m.nanCount == w.nanCount, "\(name)")
            #expect(m.positiveInfCount == w.positiveInfCount && m.negativeInfCount == w.negativeInfCount)
            #expect(m.types == w.types && m.trueCount == w.trueCount, "\(name)")
            if let wn = w.numeric {
                let mn = try #require(m.numeric)
                #expect(mn.min == wn.min && mn.max == wn.max && mn.integerMin == wn.integerMin)
                #expect(mn.moments.count == wn.moments.count)
                #expect(ColumnTestMath.relative(mn.moments.mean, wn.moments.mean) < 1e-12, "\(name) mean")
                #expect(ColumnTestMath.relative(mn.moments.m2, wn.moments.m2) < 1e-12, "\(name) m2")
                // Quantiles of the merged sketch are within the KLL rank error of the truth.
                let sorted = exactValues(rows, name).sorted()
                let epsilon = mn.kll.normalizedRankError(pmf: false)
                for rank in [0.05, 0.25, 0.5, 0.75, 0.95] {
                    let q = mn.kll.quantile(rank: rank)!
                    // With ties (0/1 booleans) q's true rank is an interval [below, atOrBelow].
                    let below = Double(sorted.filter { $0 < q }.count) / Double(sorted.count)
                    let atOrBelow = Double(sorted.filter { $0 <= q }.count) / Double(sorted.count)
                    let slack = epsilon + 1.0 / Double(sorted.count)
                    #expect(below - slack <= rank && rank <= atOrBelow + slack, "\(name) q\(rank)")
                }
            }
            if let wi = w.frequentItems {
                let mi = try #require(m.frequentItems)
                #expect(mi.totalWeight == wi.totalWeight)
                for (item, truth) in exactItemCounts(rows, name) {
                    #expect(mi.lowerBound(item) <= truth && truth <= mi.upperBound(item), "\(name) \(item)")
                }
            }
            let distinct = Double(exactDistinct(rows, name))
            #expect(m.cardinality.lowerBound(standardDeviations: 3) <= distinct, "\(name) distinct")
            #expect(distinct <= m.cardinality.upperBound(standardDeviations: 3), "\(name) distinct")
            #expect(
                m.stringLengths == w.stringLengths
                    || ColumnTestMath.relative(
                        m.stringLengths!.moments.m2, w.stringLengths!.moments.m2) < 1e-12
            )
        }
    }

    @Test func datasetMergeWidensTheWindowAndIntersectsSegments() throws {
        var a = DatasetProfile(
            model: "m", modelVersion: "1", segment: Segment(["region": "eu", "tier": "a"]),
            windowStart: 60_000, windowLength: 60_000)
        let b = DatasetProfile(
            model: "m", modelVersion: "2", segment: Segment(["region": "eu", "tier": "b"]),
            windowStart: 180_000, windowLength: 60_000)
        try a.merge(b)
        #expect(a.windowStart == 60_000 && a.windowLength == 180_000)
        #expect(a.segment == Segment(["region": "eu"]))
        #expect(a.modelVersion == nil)
        let other = DatasetProfile(model: "other")
        let error = try #require(throws: ProfileError.self) { try a.merge(other) }
        #expect(error.description.contains("model 'other'"))
    }

    @Test func performanceBlocksMergeAndRefuseMixedTasks() throws {
        var c1 = ClassificationProfile()
        c1.update(predicted: "cat", actual: "cat", score: 0.9, probabilityOfActual: 0.9)
        c1.update(predicted: "dog", actual: "cat", score: 0.4, probabilityOfActual: 0.4)
        var c2 = ClassificationProfile()
        c2.update(predicted: "dog", actual: "dog", score: 0.2, probabilityOfActual: 0.8)
        c2.update(predicted: "bird", actual: "cat", score: 0.1)
        var a = DatasetProfile(model: "m", performance: .classification(c1))
        try a.merge(DatasetProfile(model: "m", performance: .classification(c2)))
        guard case .classification(let merged)? = a.performance else {
            Issue.record("classification expected")
            return
        }
        #expect(merged.count == 4)
        #expect(merged.matrixTotal == 4)
        let i = { (label: String) in merged.labels.firstIndex(of: label)! }
        #expect(merged.matrix[i("cat")][i("cat")] == 1)
        #expect(merged.matrix[i("dog")][i("cat")] == 1)
        #expect(merged.matrix[i("dog")][i("dog")] == 1)
        #expect(merged.matrix[i("bird")][i("cat")] == 1)
        #expect(merged.scoresByTrueClass[i("cat")]?.count == 3)
        #expect(merged.logLossCount == 3)
        let expectedLoss = -(ColumnTestMath.ln(0.9) + ColumnTestMath.ln(0.4) + ColumnTestMath.ln(0.8))
        #expect(ColumnTestMath.relative(merged.logLossSum, expectedLoss) < 1e-15)

        var r = RegressionProfile()
        r.update(predicted: 1, actual: 2)
        #expect(throws: ProfileError.self) {
            try a.merge(DatasetProfile(model: "m", performance: .regression(r)))
        }
    }

    @Test func classificationLabelsAreBoundedAndOverflowCounted() throws {
        var c = ClassificationProfile(maxLabels: 3)
        for i in 0..<10 { c.update(predicted: "p\(i % 5)", actual: "p\(i % 5)") }
        #expect(c.labels.count == 3)
        #expect(c.count == 10)
        #expect(c.matrixTotal + c.overflowCount == 10)
        #expect(c.overflowCount == 4)
    }

    @Test func naturalLogIsAccurate() {
        // ln values from their definitions: ln 2, ln 10, ln 1e-15 = −15 ln 10.
        #expect(ColumnTestMath.relative(ClassificationProfile.naturalLog(2), 0.693_147_180_559_945_3) < 2e-16)
        #expect(ColumnTestMath.relative(ClassificationProfile.naturalLog(10), 2.302_585_092_994_046) < 4e-16)
        #expect(ColumnTestMath.relative(ClassificationProfile.naturalLog(1e-15), -15 * 2.302_585_092_994_046) < 1e-15)
        #expect(ClassificationProfile.naturalLog(1) == 0)
    }

    @Test func regressionSumsAndLatency() {
        var r = RegressionProfile()
        r.update(predicted: 3, actual: 1)
        r.update(predicted: 1, actual: 2)
        let accepted = r.update(predicted: .nan, actual: 1)
        #expect(!accepted)
        #expect(r.count == 2 && r.sumError == 1 && r.sumAbsoluteError == 3 && r.sumSquaredError == 5)
        #expect(r.residuals.count == 2 && r.target.mean == 1.5)
        var l = LatencyProfile()
        l.update(milliseconds: 12)
        l.update(milliseconds: .nan, failed: true)
        #expect(l.requestCount == 2 && l.errorCount == 1 && l.milliseconds.count == 1)
    }

    @Test func uploadIDsRoundTripTheirText() throws {
        var rng = TestRandom(seed: 3)
        for _ in 0..<100 {
            let id = UploadID.random(using: &rng)
            let text = id.description
            #expect(text.count == 36)
            #expect(Array(text)[14] == "4")
            #expect(UploadID(text) == id)
            #expect(UploadID(text.uppercased()) == id)
        }
        #expect(UploadID("not-a-uuid") == nil)
        #expect(UploadID("0123456789abcdef0123456789abcdef0123") == nil)
        #expect(UploadID.random() != UploadID.random())
    }

    @Test func configurationRangesAreChecked() {
        #expect(throws: ProfileError.self) { try ProfileConfig(kllK: 4) }
        #expect(throws: ProfileError.self) { try ProfileConfig(hllLgK: 22) }
        #expect(throws: ProfileError.self) { try ProfileConfig(frequentItemsLgMaxMapSize: 2) }
        #expect(throws: ProfileError.self) { try ProfileConfig(maxStringLength: 0) }
        #expect(throws: ProfileError.self) { try ProfileConfig(maxLabels: 1) }
    }
}

extension Value {
    var isNaNDouble: Bool {
        if case .double(let d) = self { return d.isNaN }
        return false
    }
}

func exactValues(_ rows: [[String: Value]], _ name: String) -> [Double] {
    rows.compactMap { row -> Double? in
        switch row[name] {
        case .int(let v)?: return Double(v)
        case .double(let v)? where v.isFinite: return v
        case .bool(let v)?: return v ? 1 : 0
        default: return nil
        }
    }
}

func exactItemCounts(_ rows: [[String: Value]], _ name: String) -> [String: UInt64] {
    var counts: [String: UInt64] = [:]
    for row in rows {
        switch row[name] {
        case .int(let v)?: counts[String(v), default: 0] += 1
        case .bool(let v)?: counts[v ? "true" : "false", default: 0] += 1
        case .string(let v)?: counts[v, default: 0] += 1
        default: break
        }
    }
    return counts
}

func exactDistinct(_ rows: [[String: Value]], _ name: String) -> Int {
    var seen = Set<Value>()
    for row in rows {
        guard let v = row[name] else { continue }
        switch v {
        case .null: continue
        case .double(let d) where d.isNaN: continue
        default: seen.insert(v)
        }
    }
    return seen.count
}
