import Profiles
import Testing

@testable import Drift

@Suite("Data quality")
struct QualityTests {
    @Test func ratiosAndTheirChange() {
        // reference: 8 numbers, 1 null, 1 NaN; target: 5 numbers, 3 nulls, 1 +∞, 1 −∞
        let reference = column((0..<8).map { Value.double(Double($0)) } + [.null, .double(.nan)])
        let target = column(
            (0..<5).map { Value.double(Double($0)) } + [.null, .null, .null, .double(.infinity), .double(-.infinity)])
        let quality = ColumnQuality(reference: ColumnSummary(reference), target: ColumnSummary(target))
        #expect(quality.reference?.nullRatio == 0.2 && quality.reference?.nanRatio == 0.1)
        #expect(quality.target?.nullRatio == 0.3 && quality.target?.infRatio == 0.2)
        #expect(close(quality.nullRatioChange!, 0.1) && close(quality.nanRatioChange!, -0.1))
        #expect(close(quality.infRatioChange!, 0.2))
        #expect(quality.typeMixChange == 0 && quality.newTypes.isEmpty)
    }

    @Test func stringsAppearingInANumericColumn() {
        let reference = column((0..<10).map { Value.int(Int64($0)) })
        let target = column((0..<6).map { Value.int(Int64($0)) } + ["n/a", "n/a", "unknown", "?"])
        let quality = ColumnQuality(reference: ColumnSummary(reference), target: ColumnSummary(target))
        // type mixes: 100% integral → 60% integral, 40% string
        #expect(close(quality.typeMixChange!, 0.4))
        #expect(quality.newTypes == [.string])
        #expect(quality.reference?.inferredType == .integral && quality.target?.inferredType == .integral)
    }

    @Test(arguments: [
        // (integral, fractional, boolean, string, other, inferred)
        (0, 0, 0, 0, 0, InferredType.null),
        (5, 0, 0, 0, 0, .integral),
        (5, 1, 0, 0, 0, .fractional),
        (2, 1, 0, 4, 0, .string),
        (0, 0, 3, 2, 0, .boolean),
        (1, 1, 1, 1, 0, .fractional),  // numbers (as one group) outnumber each other type
        (1, 0, 1, 2, 0, .string),  // a tie between numbers and strings goes to strings
        (2, 0, 1, 1, 0, .integral),  // numbers the largest group though not a majority
    ])
    func inferredTypeRule(
        integral: Int64, fractional: Int64, boolean: Int64, string: Int64, other: Int64, expected: InferredType
    ) {
        let counts = TypeCounts(
            integral: integral, fractional: fractional, boolean: boolean, string: string, other: other)
        #expect(InferredType(counts) == expected)
    }

    @Test func outOfRangeShareFromTargetRanks() {
        let reference = SketchDistribution(sketch((0..<100).map(Double.init)))
        // 3 below 0, 2 above 99, 15 inside
        let values = [-3.0, -2, -0.5] + (0..<15).map { Double($0 * 6) } + [99.5, 250]
        let target = SketchDistribution(sketch(values))
        let share = ColumnQuality.outOfRangeShare(
            target: target, minimum: reference.minimum, maximum: reference.maximum)!
        #expect(close(share.value, 5.0 / 20) && share.bound == 0)
        let inside = SketchDistribution(sketch([1, 2, 3]))
        let none = ColumnQuality.outOfRangeShare(target: inside, minimum: 0, maximum: 99)!
        #expect(none.value == 0 && none.bound == 0)
    }

    @Test func outOfRangeWithinBoundForCompactedSketch() {
        let seed: UInt64 = 77
        var rng = TestRandom(seed: seed)
        let values = (0..<40_000).map { _ in rng.normal() }
        let target = SketchDistribution(sketch(values))
        let share = ColumnQuality.outOfRangeShare(target: target, minimum: -1, maximum: 1.5)!
        let exact = Double(values.filter { $0 < -1 || $0 > 1.5 }.count) / Double(values.count)
        #expect(share.bound! > 0 && abs(share.value - exact) <= share.bound!, "seed \(seed)")
    }

    @Test func schemaChanges() {
        let reference = dataset(["a": column(doubles: [1]), "b": column(strings: ["x"]), "c": column([1, 2])])
        let target = dataset(["a": column(strings: ["1.0"]), "c": column([3]), "d": column(doubles: [2])])
        let schema = SchemaChange(reference: reference, target: target)
        #expect(schema.addedColumns == ["d"] && schema.missingColumns == ["b"])
        #expect(schema.typeChanges == [SchemaChange.TypeChange(column: "a", reference: .fractional, target: .string)])
        #expect(SchemaChange(reference: reference, target: reference).isEmpty)
    }

    @Test func allNullColumnHasNoType() {
        let summary = ColumnSummary(column([.null, .null, .double(.nan)]))
        #expect(summary.inferredType == .null && summary.nullRatio == 1 && summary.typeShares == nil)
        #expect(summary.cardinality?.estimate == 0 && summary.minimum == nil)
    }
}
