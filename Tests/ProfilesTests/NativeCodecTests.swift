import Sketches
import Testing

@testable import Profiles

@Suite("Native profile codec")
struct NativeCodecTests {
    static func sample() throws -> DatasetProfile {
        var p = profile(randomRows(3000, seed: 42), model: "fraud")
        p.modelVersion = "2.1"
        p.segment = Segment(["region": "eu", "tier": "gold"])
        p.windowStart = 1_764_000_000_000
        p.windowLength = 300_000
        p.metadata = ["producer": "test"]
        var c = ClassificationProfile()
        c.update(predicted: "yes", actual: "no", score: 0.7, probabilityOfActual: 0.3)
        c.update(predicted: "no", actual: "no", score: 0.1, probabilityOfActual: 0.9)
        p.performance = .classification(c)
        var l = LatencyProfile()
        for i in 0..<500 { l.update(milliseconds: Double(i % 37), failed: i % 50 == 0) }
        p.latency = l
        return p
    }

    @Test func roundTripKeepsEverything() throws {
        let p = try Self.sample()
        let bytes = NativeCodec.encode(p)
        #expect(ProfileCodec.detect(bytes) == .native)
        let (q, format) = try ProfileCodec.decode(bytes)
        #expect(format == .native)
        #expect(q.model == "fraud" && q.modelVersion == "2.1" && q.segment == p.segment)
        #expect(q.windowStart == p.windowStart && q.windowLength == p.windowLength)
        #expect(q.uploadID == p.uploadID && q.createdAt == p.createdAt && q.metadata == p.metadata)
        #expect(q.config == p.config)
        #expect(q.columnNames == p.columnNames)
        for name in p.columnNames {
            let a = p.columns[name]!
            let b = q.columns[name]!
            #expect(a.count == b.count && a.nullCount == b.nullCount && a.types == b.types)
            #expect(a.numeric?.moments == b.numeric?.moments)
            #expect(a.numeric?.kll.serialized() == b.numeric?.kll.serialized(), "\(name) kll")
            // A frequent-items image is read back by re-inserting its items, so the map's slot
            // order (and so the bytes) may change; the items and counts may not.
            let itemsA = a.frequentItems?.frequentItems(errorType: .noFalseNegatives, threshold: 0)
            let itemsB = b.frequentItems?.frequentItems(errorType: .noFalseNegatives, threshold: 0)
            let mapA = itemsA.map { Dictionary(uniqueKeysWithValues: $0.map { ($0.item, $0.estimate) }) }
            let mapB = itemsB.map { Dictionary(uniqueKeysWithValues: $0.map { ($0.item, $0.estimate) }) }
            #expect(mapA == mapB, "\(name) items")
            #expect(a.frequentItems?.totalWeight == b.frequentItems?.totalWeight)
            #expect(a.stringLengths == b.stringLengths)
            #expect(a.cardinality.estimate == b.cardinality.estimate)
        }
        guard case .classification(let c)? = q.performance else {
            Issue.record("classification block lost")
            return
        }
        #expect(c.labels == ["yes", "no"] && c.count == 2 && c.matrix == [[0, 1], [0, 1]])
        #expect(q.latency?.requestCount == 500 && q.latency?.errorCount == 10)
    }

    @Test func regressionBlockRoundTrips() throws {
        var r = RegressionProfile()
        for i in 0..<100 { r.update(predicted: Double(i) * 1.1, actual: Double(i)) }
        let p = DatasetProfile(model: "price", performance: .regression(r))
        let q = try NativeCodec.decode(NativeCodec.encode(p))
        guard case .regression(let s)? = q.performance else {
            Issue.record("regression block lost")
            return
        }
        #expect(s.count == 100 && s.sumError == r.sumError && s.sumSquaredError == r.sumSquaredError)
        #expect(s.target == r.target && s.prediction == r.prediction && s.residuals.count == 100)
    }

    /// Sketches that saw no values serialize as the 8-byte empty KLL image, which names no item
    /// type: a latency block whose requests all failed before timing, a regression block without
    /// pairs, a numeric summary with no values.
    @Test func emptyDoubleSketchesRoundTrip() throws {
        var p = profile([["x": .double(1.5)]], model: "quiet")
        p.latency = LatencyProfile(milliseconds: p.config.makeKLL(), requestCount: 3, errorCount: 3)
        p.performance = .regression(RegressionProfile())
        var column = ColumnProfile(config: p.config)
        column.count = 2
        column.types.fractional = 2
        column.positiveInfCount = 1
        column.negativeInfCount = 1
        column.numeric = NumericSummary(kll: p.config.makeKLL())
        p.columns["only-infinities"] = column
        #expect(p.latency!.milliseconds.serialized().count == 8)

        let q = try NativeCodec.decode(NativeCodec.encode(p))
        #expect(q.latency?.requestCount == 3 && q.latency?.errorCount == 3 && q.latency?.milliseconds.isEmpty == true)
        guard case .regression(let r)? = q.performance else {
            Issue.record("regression block lost")
            return
        }
        #expect(r.count == 0 && r.residuals.isEmpty)
        let back = try #require(q.columns["only-infinities"])
        #expect(back.numeric?.kll.isEmpty == true && back.numeric?.moments.count == 0)
        #expect(back.positiveInfCount == 1 && back.negativeInfCount == 1)
    }

    /// A column profiled with ±∞ among finite values keeps its infinity counts and finite
    /// summary; one read from whylogs (infinities inside its moments and extremes: mean and M2
    /// NaN or ±∞) round-trips with those numbers intact.
    @Test func infiniteValuedColumnsRoundTrip() throws {
        var p = profile(
            [1.0, .infinity, 2.5, -.infinity, .infinity, 4.0].map { ["x": Value.double($0)] }, model: "inf")
        var kll = p.config.makeKLL()
        for x in [-Double.infinity, 0.5, 3.0, Double.infinity] { kll.update(x) }
        var whylogsLike = ColumnProfile(config: p.config)
        whylogsLike.count = 4
        whylogsLike.types.fractional = 4
        whylogsLike.numeric = NumericSummary(
            kll: kll, min: -.infinity, max: .infinity, integerMin: nil, integerMax: nil,
            moments: Moments(count: 4, mean: .nan, m2: .nan))
        p.columns["y"] = whylogsLike
        var oneSided = whylogsLike
        oneSided.numeric!.min = 0.5
        oneSided.numeric!.moments = Moments(count: 4, mean: .infinity, m2: .nan)
        p.columns["z"] = oneSided

        let q = try NativeCodec.decode(NativeCodec.encode(p))
        let x = try #require(q.columns["x"])
        #expect(x.positiveInfCount == 2 && x.negativeInfCount == 1)
        #expect(x.numeric?.min == 1 && x.numeric?.max == 4 && x.numeric?.moments == p.columns["x"]!.numeric?.moments)
        let y = try #require(q.columns["y"]?.numeric)
        #expect(y.min == -.infinity && y.max == .infinity && y.moments.count == 4)
        #expect(y.moments.mean.isNaN && y.moments.m2.isNaN)
        #expect(y.kll.serialized() == kll.serialized())
        let z = try #require(q.columns["z"]?.numeric)
        #expect(z.min == 0.5 && z.max == .infinity && z.moments.mean == .infinity && z.moments.m2.isNaN)
    }

    @Test func rejectsEveryTruncation() throws {
        let bytes = NativeCodec.encode(try Self.sample())
        for n in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 3000)) {
            #expect(throws: ProfileError.self, "prefix \(n)") { try NativeCodec.decode(Array(bytes.prefix(n))) }
        }
    }

    @Test func rejectsCorruptedBytes() throws {
        let bytes = NativeCodec.encode(try Self.sample())
        var rng = TestRandom(seed: 9)
        for _ in 0..<2000 {
            var corrupt = bytes
            let i = Int(rng.next() % UInt64(corrupt.count))
            corrupt[i] ^= UInt8(1 + rng.next() % 255)
            // The checksum catches every single-byte change of the body; header changes are
            // caught by the magic, length and checksum checks.
            #expect(throws: ProfileError.self, "byte \(i)") { try NativeCodec.decode(corrupt) }
        }
    }

    /// A checksum only proves the bytes are what the writer wrote; a writer (or attacker) can
    /// produce a well-framed body with inconsistent content. Each case corrupts one field and
    /// re-frames the body with a valid length and checksum.
    @Test func rejectsInconsistentContentWithAValidFrame() throws {
        let base = try Self.sample()
        var cases: [(String, DatasetProfile, String)] = []
        var p = base
        p.model = ""
        cases.append(("empty model", p, "model name is empty"))
        p = base
        p.columns["num"]!.nullCount = p.columns["num"]!.count + 1
        cases.append(("null > count", p, "counts are inconsistent"))
        p = base
        p.columns["num"]!.nanCount = p.columns["num"]!.nullCount + 1
        cases.append(("nan > null", p, "counts are inconsistent"))
        p = base
        p.columns["int"]!.types.integral = -1
        cases.append(("negative type count", p, "negative"))
        p = base
        p.columns["num"]!.numeric!.moments = Moments(count: 5, mean: 1, m2: 0)
        cases.append(("moments count vs kll", p, "numeric sketch holds"))
        p = base
        p.windowLength = -5
        cases.append(("negative window", p, "negative"))
        p = base
        p.latency = LatencyProfile(milliseconds: p.latency!.milliseconds, requestCount: 3, errorCount: 4)
        cases.append(("latency errors > requests", p, "latency counts"))
        for (name, profile, message) in cases {
            let error = try #require(throws: ProfileError.self, "\(name)") {
                try NativeCodec.decode(NativeCodec.encode(profile))
            }
            #expect(error.description.contains(message), "\(name): \(error)")
        }
    }

    @Test func rejectsBadSketchImagesInsideAValidFrame() throws {
        // Hand-build a frame around a body whose KLL image is garbage.
        var p = try Self.sample()
        p.columns = ["x": p.columns["num"]!]
        var bytes = NativeCodec.encode(p)
        // Find the KLL image (preamble 5, serial 2, family 15) in the body and break its family byte.
        let kll = try #require(p.columns["x"]!.numeric?.kll.serialized())
        let at = try #require(bytes.firstRange(of: kll)?.lowerBound)
        bytes[at + 2] = 99
        bytes = reframe(bytes)
        let error = try #require(throws: ProfileError.self) { try NativeCodec.decode(bytes) }
        #expect(error.description.contains("column 'x' numeric.kll"), "\(error)")
    }

    @Test func rejectsOtherFormatsWithAClearMessage() {
        let error = try? #require(throws: ProfileError.self) { try ProfileCodec.decode(Array("hello".utf8)) }
        #expect(error?.description.contains("neither a Driftwatch profile") == true)
        #expect(throws: ProfileError.self) { try ProfileCodec.decode([]) }
        #expect(throws: ProfileError.self) { try NativeCodec.decode(Array("DWP1".utf8)) }
    }

    @Test func crcMatchesTheStandardCheckValue() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([]) == 0)
    }

    func reframe(_ bytes: [UInt8]) -> [UInt8] {
        let body = Array(bytes[NativeCodec.headerSize...])
        var out = NativeCodec.magic
        for value in [UInt32(body.count), CRC32.checksum(body)] {
            for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: value >> shift)) }
        }
        return out + body
    }
}
