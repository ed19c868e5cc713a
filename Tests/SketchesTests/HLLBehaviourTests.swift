import Foundation
import Testing

@testable import Sketches

/// Accuracy against the published error, type conversion, unions of many shapes, and decoder
/// hardening.
@Suite struct HLLBehaviourTests {
    static let types = HLLTargetType.allCases

    /// Seeded trials at lgK 10–14: the relative error's RMS is near the published RSE and the
    /// bounds cover the truth about as often as they claim.
    @Test(arguments: [10, 12, 14])
    func estimatesAreWithinThePublishedError(lgK: Int) throws {
        var rng = SplitMix64(seed: UInt64(lgK) &* 7919)
        let trials = 24
        for type in Self.types {
            for n in [3 * (1 << lgK), 40_000] {
                var squaredError = 0.0
                var inside1 = 0
                var inside3 = 0
                for _ in 0..<trials {
                    var sketch = try HLLSketch(lgK: lgK, type: type)
                    for _ in 0..<n { sketch.update(Int64(bitPattern: rng.next())) }
                    let e = sketch.estimate / Double(n) - 1
                    squaredError += e * e
                    let truth = Double(n)
                    if sketch.lowerBound(standardDeviations: 1) <= truth
                        && truth <= sketch.upperBound(standardDeviations: 1)
                    {
                        inside1 += 1
                    }
                    if sketch.lowerBound(standardDeviations: 3) <= truth
                        && truth <= sketch.upperBound(standardDeviations: 3)
                    {
                        inside3 += 1
                    }
                }
                let rse = 0.8326 / Double(1 << lgK).squareRoot()
                let rms = (squaredError / Double(trials)).squareRoot()
                // With 24 trials the sample RMS of a normal error lies within ±45 % of σ with
                // overwhelming probability.
                #expect(rms < 1.45 * rse, "lgK \(lgK) \(type.name) n \(n): RMS \(rms) vs RSE \(rse)")
                #expect(inside3 >= trials - 1, "lgK \(lgK) \(type.name) n \(n): 3σ bounds held \(inside3)/\(trials)")
                #expect(inside1 >= trials / 3, "lgK \(lgK) \(type.name) n \(n): 1σ bounds held \(inside1)/\(trials)")
            }
        }
    }

    @Test func smallCountsAreExactInListAndSetMode() throws {
        var sketch = try HLLSketch(lgK: 12, type: .hll4)
        for i in 0..<7 { sketch.update(Int64(i)) }
        #expect(sketch.mode == .list)
        #expect(sketch.estimate.rounded() == 7)
        for i in 7..<300 { sketch.update(Int64(i)) }
        #expect(sketch.mode == .set)
        #expect(abs(sketch.estimate - 300) < 3)
        sketch.update(Int64(5))  // a duplicate changes nothing
        #expect(abs(sketch.estimate - 300) < 3)
        for i in 300..<1000 { sketch.update(Int64(i)) }
        #expect(sketch.mode == .hll)
    }

    @Test func conversionKeepsTheEstimateAndRoundTrips() throws {
        for n in [5, 500, 20_000] {
            var source = try HLLSketch(lgK: 11, type: .hll8)
            for i in 0..<n { source.update("item-\(i)") }
            for type in Self.types {
                let converted = source.converted(to: type)
                #expect(converted.type == type)
                #expect(abs(converted.estimate - source.estimate) <= 1e-9 * source.estimate, "\(n) \(type.name)")
                let back = try HLLSketch(serialized: converted.serialized())
                #expect(back.converted(to: .hll8).serialized() == source.serialized(), "\(n) \(type.name)")
            }
        }
    }

    /// Unions of sketches in every mode, type and lgK: the estimate stays within the
    /// union's 3σ bounds of the true distinct count, and the result takes the smallest lgK.
    @Test func unionsOfMixedShapesStayWithinBounds() throws {
        var rng = SplitMix64(seed: 42)
        let shapes: [(lgK: Int, type: HLLTargetType, count: Int)] = [
            (12, .hll4, 5), (12, .hll6, 400), (14, .hll8, 30_000), (10, .hll4, 9_000), (12, .hll8, 0), (13, .hll6, 2),
        ]
        var union = try HLLUnion(lgMaxK: 13)
        var truth = Set<UInt64>()
        for shape in shapes {
            var sketch = try HLLSketch(lgK: shape.lgK, type: shape.type)
            for _ in 0..<shape.count {
                let v = rng.next() % 60_000
                truth.insert(v)
                sketch.update(Int64(v))
            }
            union.update(sketch)
            let n = Double(truth.count)
            #expect(union.lowerBound(standardDeviations: 3) <= n && n <= union.upperBound(standardDeviations: 3))
        }
        #expect(union.lgK == 10)
        for type in Self.types {
            let result = union.result(type: type)
            #expect(result.lgK == 10 && result.isOutOfOrder)
            #expect(abs(result.estimate - union.estimate) <= 1e-9 * union.estimate)
        }
    }

    /// The libm-free √K of the bounds is the correctly rounded square root at every lgK.
    @Test func squareRootOfKIsCorrectlyRounded() {
        for lgK in 0...30 {
            #expect(HLLConstants.squareRootOfK(lgK: lgK) == Double(1 << lgK).squareRoot(), "lgK \(lgK)")
        }
    }

    @Test func rejectsBadParameters() {
        #expect(throws: SketchError.self) { try HLLSketch(lgK: 3) }
        #expect(throws: SketchError.self) { try HLLSketch(lgK: 22) }
        #expect(throws: SketchError.self) { try HLLUnion(lgMaxK: 30) }
        #expect(HLLTargetType(name: "HLL_5") == nil)
        #expect(HLLTargetType(name: "hll_6") == .hll6)
    }

    // MARK: Hardening

    /// Images of every mode and type, compact and updatable.
    static func sampleImages() throws -> [(String, [UInt8])] {
        var out: [(String, [UInt8])] = []
        for type in types {
            for (n, lgK) in [(0, 12), (5, 12), (300, 12), (5000, 10), (100_000, 8)] {
                var sketch = try HLLSketch(lgK: lgK, type: type)
                for i in 0..<n { sketch.update(Int64(i)) }
                out.append(("\(type.name) n\(n) compact", sketch.serialized(compact: true)))
                out.append(("\(type.name) n\(n) updatable", sketch.serialized(compact: false)))
            }
        }
        var union = try HLLUnion(lgMaxK: 8)
        var a = try HLLSketch(lgK: 8, type: .hll4)
        for i in 0..<3000 { a.update(Int64(i)) }
        union.update(a)
        union.update(a)
        out.append(("union HLL_4", union.result(type: .hll4).serialized(compact: false)))
        return out
    }

    @Test func rejectsEveryTruncation() throws {
        for (name, image) in try Self.sampleImages() {
            for n in 0..<image.count {
                let prefix = Array(image.prefix(n))
                do {
                    let sketch = try HLLSketch(serialized: prefix)
                    // A compact HLL_4 image without exceptions ends with its registers, so
                    // cutting the empty aux table of an updatable image is the only prefix
                    // that may decode: it must then be the same sketch.
                    #expect(
                        sketch.serialized(compact: true)
                            == (try HLLSketch(serialized: image)).serialized(compact: true),
                        "\(name): \(n)-byte prefix decoded to another sketch")
                } catch {
                    #expect((error.offset ?? .max) <= max(n, 40), "\(name) prefix \(n): \(error)")
                }
            }
        }
    }

    @Test func rejectsCorruptHeaderFields() throws {
        var sketch = try HLLSketch(lgK: 12, type: .hll4)
        for i in 0..<50_000 { sketch.update(Int64(i)) }
        let image = sketch.serialized(compact: false)
        let cases: [(String, Int, UInt8, String)] = [
            ("preamble", 0, 3, "preamble ints"),
            ("serial version", 1, 2, "serial version"),
            ("family", 2, 15, "family id"),
            ("lgK too small", 3, 3, "lg_k"),
            ("lgK too big", 3, 22, "lg_k"),
            ("mode bits 3", 7, 0x03, "mode byte"),
            ("type bits 3", 7, 0x0E, "mode byte"),
            ("cur_min absurd", 6, 200, "cur_min"),
            ("num_at_cur_min", 32, 0xFF, "num_at_cur_min"),
            ("aux_count huge", 39, 0x7F, "aux_count"),
        ]
        for (name, offset, value, message) in cases {
            var corrupt = image
            corrupt[offset] = value
            let error = try #require(throws: SketchError.self, "\(name)") { try HLLSketch(serialized: corrupt) }
            #expect(error.description.contains(message), "\(name): \(error)")
        }
        // A LIST claiming 8 coupons, a SET too large for its lgK, an aux entry for a normal nibble.
        var list = try HLLSketch(lgK: 12).serialized(compact: false)
        list[6] = 8
        #expect(throws: SketchError.self) { try HLLSketch(serialized: list) }
        var set = try HLLSketch(lgK: 12)
        for i in 0..<100 { set.update(Int64(i)) }
        var setImage = set.serialized(compact: true)
        setImage[8] = 0xFF
        setImage[9] = 0xFF
        let setError = try #require(throws: SketchError.self) { try HLLSketch(serialized: setImage) }
        #expect(setError.description.contains("SET count"))
    }

    /// Thousands of seeded random corruptions: each either throws or decodes to a sketch that
    /// can be queried, updated, serialized and unioned without trapping.
    @Test func randomCorruptionNeverTraps() throws {
        var rng = SplitMix64(seed: 2026)
        let images = try Self.sampleImages()
        for round in 0..<4000 {
            let (_, image) = images[Int(rng.next() % UInt64(images.count))]
            guard !image.isEmpty else { continue }
            var corrupt = image
            for _ in 0..<(1 + Int(rng.next() % 3)) {
                corrupt[Int(rng.next() % UInt64(corrupt.count))] ^= UInt8(1 + rng.next() % 255)
            }
            guard var sketch = try? HLLSketch(serialized: corrupt) else { continue }
            _ = sketch.estimate
            _ = sketch.lowerBound(standardDeviations: 2)
            for i in 0..<200 { sketch.update(Int64(round * 1000 + i)) }
            var union = try HLLUnion(lgMaxK: 12)
            union.update(sketch)
            _ = union.result(type: .hll4).serialized()
            _ = try HLLSketch(serialized: sketch.serialized(compact: false))
        }
    }
}
