import Testing

@testable import Sketches

/// Unions whose gadget is folded down or merged: every input counts, whatever the order,
/// modes, register widths and lgK of the inputs. (The library's answers and images for the
/// same shapes are checked in `HLLExtraFixtureTests`.)
@Suite struct HLLUnionTests {
    static func sketch(lgK: Int, type: HLLTargetType = .hll4, _ range: Range<Int>) throws -> HLLSketch {
        var sketch = try HLLSketch(lgK: lgK, type: type)
        for i in range { sketch.update(i) }
        return sketch
    }

    static func expectWithinBounds(_ union: HLLUnion, _ truth: Int, _ label: String) {
        let n = Double(truth)
        #expect(
            union.lowerBound(standardDeviations: 3) <= n && n <= union.upperBound(standardDeviations: 3),
            "\(label): estimate \(union.estimate), truth \(truth)")
    }

    /// The reported case: two disjoint 100k-item lgK-12 sketches into lgMaxK 10 gave ~100k.
    @Test(arguments: HLLTargetType.allCases)
    func foldedDownGadgetKeepsEarlierInputs(type: HLLTargetType) throws {
        var union = try HLLUnion(lgMaxK: 10)
        union.update(try Self.sketch(lgK: 12, type: type, 0..<100_000))
        #expect(!union.isEmpty)
        union.update(try Self.sketch(lgK: 12, type: type, 100_000..<200_000))
        #expect(union.lgK == 10)
        Self.expectWithinBounds(union, 200_000, type.name)
    }

    /// The reported case: four 22.5k-item lgK-12 sketches into lgMaxK 10 gave 3.
    @Test func fourFoldedInputsAllCount() throws {
        var union = try HLLUnion(lgMaxK: 10)
        for j in 0..<4 { union.update(try Self.sketch(lgK: 12, (j * 22_500)..<((j + 1) * 22_500))) }
        Self.expectWithinBounds(union, 90_000, "four inputs")
    }

    /// A smaller HLL input folds the gadget down; a LIST input of the new lgK must not then
    /// replace it (the folded gadget's zero count still said "all registers zero").
    @Test func listAfterTheGadgetWasFoldedDownIsAdded() throws {
        var union = try HLLUnion(lgMaxK: 12)
        union.update(try Self.sketch(lgK: 12, type: .hll8, 0..<30_000))
        union.update(try Self.sketch(lgK: 10, 30_000..<60_000))
        union.update(try Self.sketch(lgK: 10, type: .hll6, 60_000..<60_005))
        #expect(union.lgK == 10)
        Self.expectWithinBounds(union, 60_005, "fold then list")
        union.update(try Self.sketch(lgK: 12, 70_000..<100_000))
        Self.expectWithinBounds(union, 90_005, "fold, list, HLL")
    }

    /// lgMaxK below, equal to and above the inputs' lgK, every register width, in HLL mode:
    /// disjoint inputs add up.
    @Test(arguments: [8, 11, 12, 14])
    func disjointLargeInputsAddUp(lgMaxK: Int) throws {
        for type in HLLTargetType.allCases {
            var union = try HLLUnion(lgMaxK: lgMaxK)
            var truth = 0
            for (j, lgK) in [12, 11, 13].enumerated() {
                let count = 40_000 + 10_000 * j
                union.update(try Self.sketch(lgK: lgK, type: type, (j * 1_000_000)..<(j * 1_000_000 + count)))
                truth += count
                Self.expectWithinBounds(union, truth, "lgMaxK \(lgMaxK) \(type.name) after \(j + 1)")
            }
            #expect(union.lgK == min(lgMaxK, 11))
        }
    }

    /// Many inputs in every mode (LIST, SET, HLL), width and lgK, in a seeded random order:
    /// after each one the union is within its bounds of the truth, and the final registers do
    /// not depend on the order.
    @Test(arguments: [9, 12])
    func manyInputsInAnyOrderAddUp(lgMaxK: Int) throws {
        let seed: UInt64 = 0x5eed_0000 + UInt64(lgMaxK)
        var rng = SplitMix64(seed: seed)
        var inputs: [(sketch: HLLSketch, count: Int)] = []
        for j in 0..<24 {
            let count = [1, 6, 7, 8, 150, 400, 5_000, 30_000][j % 8]
            let lgK = [10, 11, 12, 13][Int(rng.next() % 4)]
            let type = HLLTargetType.allCases[Int(rng.next() % 3)]
            inputs.append((try Self.sketch(lgK: lgK, type: type, (j * 100_000)..<(j * 100_000 + count)), count))
        }
        var images: Set<[UInt8]> = []
        for _ in 0..<3 {
            inputs.shuffle(using: &rng)
            var union = try HLLUnion(lgMaxK: lgMaxK)
            var truth = 0
            for (index, input) in inputs.enumerated() {
                union.update(input.sketch)
                truth += input.count
                Self.expectWithinBounds(union, truth, "seed \(seed) input \(index)")
            }
            #expect(union.lgK == min(lgMaxK, 10))
            // Out of order, so HIP plays no part: the registers alone decide the image.
            #expect(union.result(type: .hll4).isOutOfOrder)
            images.insert(union.result(type: .hll4).serialized())
        }
        #expect(images.count == 1, "seed \(seed): the result depends on the input order")
    }

    /// LIST and SET inputs only (no register merge): small unions stay nearly exact.
    @Test func smallInputsStayNearlyExact() throws {
        var union = try HLLUnion(lgMaxK: 12)
        for j in 0..<10 { union.update(try Self.sketch(lgK: 12 - j % 3, (j * 1_000)..<(j * 1_000 + 30))) }
        #expect(abs(union.estimate - 300) <= 3, "\(union.estimate)")
    }

    /// An array whose statistics await a rebuild reports emptiness from its registers, and
    /// the union's queries and results leave the union as it was.
    @Test func pendingStatisticsDoNotDecideEmptiness() throws {
        let source = try Self.sketch(lgK: 12, type: .hll8, 0..<50_000)
        let folded = HLLUnion.copyOrDownsample(source.array!, toLgK: 10)
        #expect(folded.rebuildPending && !folded.isEmpty)
        #expect(HLLArray(lgK: 10, type: .hll8).isEmpty)

        var union = try HLLUnion(lgMaxK: 10)
        union.update(source)
        let before = union.gadget.array!
        _ = union.estimate
        _ = union.upperBound(standardDeviations: 2)
        _ = union.result(type: .hll6)
        #expect(union.gadget.array! == before)
    }
}
