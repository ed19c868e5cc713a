public import Profiles

/// A value type, in whylogs' categories (see `Profiles.TypeCounts`).
public enum ValueType: String, Sendable, Hashable, CaseIterable {
    case integral, fractional, boolean, string, other
}

/// The type a column holds, inferred from its type counts: the most frequent of numbers
/// (integral and fractional counted together), `string`, `boolean` and `other`, ties going to
/// the earlier of `string`, `boolean`, `other`, numbers; numbers are `fractional` if any value
/// is fractional, else `integral`. `null` when there are no typed values.
public enum InferredType: String, Sendable, Hashable, CaseIterable {
    case integral, fractional, boolean, string, other, null

    public init(_ types: TypeCounts) {
        guard types.total > 0 else {
            self = .null
            return
        }
        let numbers = types.integral + types.fractional
        var best: (InferredType, Int64) = (.string, types.string)
        if types.boolean > best.1 { best = (.boolean, types.boolean) }
        if types.other > best.1 { best = (.other, types.other) }
        if numbers > best.1 { best = (types.fractional > 0 ? .fractional : .integral, numbers) }
        self = best.0
    }

    /// How drift compares a column of this type; nil for `null`.
    public var kind: ColumnKind? {
        switch self {
        case .integral, .fractional: return .numeric
        case .boolean, .string, .other: return .categorical
        case .null: return nil
        }
    }
}

/// The share of each type among a column's typed (non-null) values; they add up to 1.
public struct TypeShares: Sendable, Hashable {
    public var integral: Double
    public var fractional: Double
    public var boolean: Double
    public var string: Double
    public var other: Double

    /// nil when there are no typed values.
    public init?(_ types: TypeCounts) {
        guard types.total > 0 else { return nil }
        let total = Double(types.total)
        integral = Double(types.integral) / total
        fractional = Double(types.fractional) / total
        boolean = Double(types.boolean) / total
        string = Double(types.string) / total
        other = Double(types.other) / total
    }

    public subscript(type: ValueType) -> Double {
        switch type {
        case .integral: return integral
        case .fractional: return fractional
        case .boolean: return boolean
        case .string: return string
        case .other: return other
        }
    }
}

/// An HLL distinct-count estimate with its bounds.
public struct CardinalityEstimate: Sendable, Hashable {
    public var estimate: Double
    public var lowerBound: Double
    public var upperBound: Double

    public init(estimate: Double, lowerBound: Double, upperBound: Double) {
        self.estimate = estimate
        self.lowerBound = lowerBound
        self.upperBound = upperBound
    }
}

/// Data-quality facts of one column in one profile.
public struct ColumnSummary: Sendable, Hashable {
    /// Values, nulls included.
    public var count: Int64
    /// Missing values (null and NaN) over `count`; nil when `count` is 0. Likewise below.
    public var nullRatio: Double?
    /// NaN over `count` (NaN counts as missing, so it is part of `nullRatio` too).
    public var nanRatio: Double?
    /// ±∞ over `count`.
    public var infRatio: Double?
    /// Share of each type among the typed (non-null) values; nil when there are none.
    public var typeShares: TypeShares?
    public var inferredType: InferredType
    public var cardinality: CardinalityEstimate?
    /// Exact extremes of the finite numbers, when there are any.
    public var minimum: Double?
    public var maximum: Double?
    /// Mean and population standard deviation of the finite numbers.
    public var mean: Double?
    public var standardDeviation: Double?

    public init(_ column: ColumnProfile, cardinalityStandardDeviations: Int = 2) {
        count = column.count
        let n = Double(column.count)
        nullRatio = column.count > 0 ? Double(column.nullCount) / n : nil
        nanRatio = column.count > 0 ? Double(column.nanCount) / n : nil
        infRatio = column.count > 0 ? Double(column.infCount) / n : nil
        let types = column.types
        typeShares = TypeShares(types)
        inferredType = InferredType(types)
        if !column.cardinality.isEmpty {
            let hll = column.cardinality
            cardinality = CardinalityEstimate(
                estimate: hll.estimate, lowerBound: hll.lowerBound(standardDeviations: cardinalityStandardDeviations),
                upperBound: hll.upperBound(standardDeviations: cardinalityStandardDeviations))
        } else if column.nonNullCount == 0 {
            cardinality = CardinalityEstimate(estimate: 0, lowerBound: 0, upperBound: 0)
        }
        if let numeric = column.numeric, numeric.moments.count > 0 {
            minimum = numeric.min
            maximum = numeric.max
            mean = numeric.moments.mean
            standardDeviation = numeric.moments.populationVariance.map { Swift.max(0, $0).squareRoot() }
        }
    }
}

/// Data-quality changes of one column between the reference and the target.
public struct ColumnQuality: Sendable, Hashable {
    /// Absent when the column is missing from that profile.
    public var reference: ColumnSummary?
    public var target: ColumnSummary?
    /// Target minus reference ratio, when both are known.
    public var nullRatioChange: Double?
    public var nanRatioChange: Double?
    public var infRatioChange: Double?
    /// Total variation distance between the two type mixes, ½ Σ |share_target − share_ref|, in
    /// [0, 1]; nil unless both sides have typed values.
    public var typeMixChange: Double?
    /// Types the target has and the reference never had (e.g. strings in a numeric column).
    public var newTypes: [ValueType] = []
    /// Share of the target's finite numbers outside the reference's exact [min, max], from the
    /// target sketch's ranks; the bound is the sketch's bucket-mass error (0 when exact or when
    /// the target's exact range lies inside the reference's).
    public var outOfRange: MetricValue?
    /// Categories new in the target / missing from it (certain ones only; see
    /// ``CategoricalTable``).
    public var newCategories: [String] = []
    public var missingCategories: [String] = []
    /// Target distinct-count estimate over the reference's; nil when the reference has none.
    public var cardinalityRatio: Double?

    public init(reference: ColumnSummary?, target: ColumnSummary?) {
        self.reference = reference
        self.target = target
        guard let reference, let target else { return }
        nullRatioChange = Self.difference(target.nullRatio, reference.nullRatio)
        nanRatioChange = Self.difference(target.nanRatio, reference.nanRatio)
        infRatioChange = Self.difference(target.infRatio, reference.infRatio)
        if let before = reference.typeShares, let after = target.typeShares {
            var distance = 0.0
            for type in ValueType.allCases { distance += abs(after[type] - before[type]) }
            typeMixChange = distance / 2
            newTypes = ValueType.allCases.filter { before[$0] == 0 && after[$0] > 0 }
        }
        if let referenceCardinality = reference.cardinality, referenceCardinality.estimate > 0,
            let targetCardinality = target.cardinality
        {
            cardinalityRatio = targetCardinality.estimate / referenceCardinality.estimate
        }
    }

    /// The share of `target` outside [minimum, maximum].
    static func outOfRangeShare(target: SketchDistribution, minimum: Double, maximum: Double) -> MetricValue? {
        guard !target.isEmpty else { return nil }
        if target.minimum >= minimum && target.maximum <= maximum { return MetricValue(value: 0, bound: 0) }
        let below = target.weight(below: minimum)
        let above = target.count - target.weight(atOrBelow: maximum)
        return MetricValue(value: Double(below + above) / Double(target.count), bound: target.massError)
    }

    private static func difference(_ a: Double?, _ b: Double?) -> Double? {
        guard let a, let b else { return nil }
        return a - b
    }
}

/// Columns added, missing or retyped between the reference and the target.
public struct SchemaChange: Sendable, Hashable {
    /// In the target only, sorted.
    public var addedColumns: [String]
    /// In the reference only, sorted.
    public var missingColumns: [String]
    /// Columns whose inferred type differs (neither side `null`), sorted by name.
    public var typeChanges: [TypeChange]

    public struct TypeChange: Sendable, Hashable {
        public var column: String
        public var reference: InferredType
        public var target: InferredType
    }

    public var isEmpty: Bool { addedColumns.isEmpty && missingColumns.isEmpty && typeChanges.isEmpty }

    public init(reference: DatasetProfile, target: DatasetProfile) {
        addedColumns = target.columns.keys.filter { reference.columns[$0] == nil }.sorted()
        missingColumns = reference.columns.keys.filter { target.columns[$0] == nil }.sorted()
        var changes: [TypeChange] = []
        for (name, column) in reference.columns {
            guard let other = target.columns[name] else { continue }
            let before = InferredType(column.types)
            let after = InferredType(other.types)
            if before != after && before != .null && after != .null {
                changes.append(TypeChange(column: name, reference: before, target: after))
            }
        }
        typeChanges = changes.sorted { $0.column < $1.column }
    }
}
