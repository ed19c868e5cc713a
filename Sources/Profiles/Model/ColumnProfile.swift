public import Sketches

/// Counts of values by type, with whylogs' categories (see ``Value``).
public struct TypeCounts: Sendable, Hashable {
    public var integral: Int64 = 0
    public var fractional: Int64 = 0
    public var boolean: Int64 = 0
    public var string: Int64 = 0
    /// Values of no other category (whylogs' `object` and `tensor` when read from whylogs).
    public var other: Int64 = 0

    public init() {}

    public init(integral: Int64, fractional: Int64, boolean: Int64, string: Int64, other: Int64) {
        self.integral = integral
        self.fractional = fractional
        self.boolean = boolean
        self.string = string
        self.other = other
    }

    public var total: Int64 { integral + fractional + boolean + string + other }

    mutating func merge(_ other: TypeCounts) {
        integral += other.integral
        fractional += other.fractional
        boolean += other.boolean
        string += other.string
        self.other += other.other
    }
}

/// The summary of numeric values (integers and finite floating-point numbers) of a column.
public struct NumericSummary: Sendable {
    /// Quantiles of the values.
    public var kll: KLLSketch<Double>
    /// Exact extremes of the values.
    public var min: Double
    public var max: Double
    /// Exact extremes of the integer values, when there were any (kept exactly beyond 2⁵³).
    public var integerMin: Int64?
    public var integerMax: Int64?
    /// Count, mean and M2 of the values, merged exactly (Chan et al.).
    public var moments: Moments

    public init(kll: KLLSketch<Double>) {
        self.kll = kll
        self.min = .infinity
        self.max = -.infinity
        self.moments = Moments()
    }

    public init(
        kll: KLLSketch<Double>, min: Double, max: Double, integerMin: Int64?, integerMax: Int64?, moments: Moments
    ) {
        self.kll = kll
        self.min = min
        self.max = max
        self.integerMin = integerMin
        self.integerMax = integerMax
        self.moments = moments
    }

    @inline(__always)
    mutating func update(_ x: Double) {
        kll.update(x)
        if x < min { min = x }
        if x > max { max = x }
        moments.update(x)
    }

    mutating func merge(_ other: NumericSummary) {
        kll.merge(other.kll)
        min = Swift.min(min, other.min)
        max = Swift.max(max, other.max)
        integerMin = Self.combine(integerMin, other.integerMin, Swift.min)
        integerMax = Self.combine(integerMax, other.integerMax, Swift.max)
        moments.merge(other.moments)
    }

    private static func combine(_ a: Int64?, _ b: Int64?, _ pick: (Int64, Int64) -> Int64) -> Int64? {
        switch (a, b) {
        case (let a?, let b?): return pick(a, b)
        case (let a?, nil): return a
        case (nil, let b): return b
        }
    }
}

/// The lengths of the string values of a column, in Unicode scalars (before truncation).
///
/// Lengths are integers, so the sums are kept exactly (`count`, Σ length, Σ length²) and merge
/// without rounding; ``moments`` derives mean and M2 from them.
public struct StringLengthSummary: Sendable, Hashable {
    public private(set) var count: Int64 = 0
    public private(set) var min: Int64 = .max
    public private(set) var max: Int64 = .min
    public private(set) var sum: Int64 = 0
    /// Σ length², as a double: exact up to 2⁵³, then rounded (a billion strings of 3 000
    /// scalars).
    public private(set) var sumOfSquares: Double = 0

    public init() {}

    /// A decoded summary; nil when the fields are inconsistent.
    public init?(count: Int64, min: Int64, max: Int64, sum: Int64, sumOfSquares: Double) {
        guard count >= 0, sum >= 0, sumOfSquares >= 0 else { return nil }
        if count > 0 {
            guard 0 <= min, min <= max, max <= sum else { return nil }
        }
        self.count = count
        self.min = count > 0 ? min : .max
        self.max = count > 0 ? max : .min
        self.sum = sum
        self.sumOfSquares = sumOfSquares
    }

    @inline(__always)
    mutating func update(_ length: Int64) {
        count &+= 1
        if length < min { min = length }
        if length > max { max = length }
        sum &+= length
        sumOfSquares += Double(length) * Double(length)
    }

    mutating func merge(_ other: StringLengthSummary) {
        guard other.count > 0 else { return }
        count += other.count
        min = Swift.min(min, other.min)
        max = Swift.max(max, other.max)
        sum += other.sum
        sumOfSquares += other.sumOfSquares
    }

    /// Mean and M2 of the lengths (M2 = Σx² − (Σx)²/n).
    public var moments: Moments {
        guard count > 0 else { return Moments() }
        let n = Double(count)
        let mean = Double(sum) / n
        return Moments(count: count, mean: mean, m2: Swift.max(0, sumOfSquares - Double(sum) * mean))
    }
}

/// Everything a profile knows about one column.
///
/// Counting rules (whylogs-compatible, docs/formats.md "Column profile"):
/// - `count` counts every value including nulls.
/// - `nullCount` counts missing values: ``Value/null`` and NaN; `nanCount` the NaN among them.
///   Missing values carry no type.
/// - ±∞ are counted in `infCount` and as fractional, but kept out of the quantile sketch and
///   the moments (one infinity would make the mean and variance meaningless).
/// - Integers, finite floats and booleans (as 0/1, as whylogs does for pandas bool columns)
///   feed ``numeric``; every non-missing value feeds the HLL
///   (integers as 64-bit integers, floats as doubles, strings as UTF-8, booleans as the
///   strings `true`/`false`); strings, integers (as decimal text) and booleans feed the
///   frequent-items sketch.
public struct ColumnProfile: Sendable {
    public internal(set) var config: ProfileConfig
    public var count: Int64 = 0
    public var nullCount: Int64 = 0
    public var nanCount: Int64 = 0
    public var positiveInfCount: Int64 = 0
    public var negativeInfCount: Int64 = 0
    /// How many booleans were `true`.
    public var trueCount: Int64 = 0
    public var types = TypeCounts()
    /// Present once the column has seen a number.
    public var numeric: NumericSummary?
    /// Distinct values (all types).
    public var cardinality: HLLSketch
    /// Present once the column has seen a string, integer or boolean.
    public var frequentItems: FrequentStringsSketch?
    /// Present once the column has seen a string.
    public var stringLengths: StringLengthSummary?

    public init(config: ProfileConfig = .default) {
        self.config = config
        self.cardinality = config.makeHLL()
    }

    public var infCount: Int64 { positiveInfCount + negativeInfCount }

    /// Non-missing values.
    public var nonNullCount: Int64 { count - nullCount }

    // MARK: Updating

    public mutating func update(_ value: Value) {
        switch value {
        case .null: updateNull()
        case .int(let v): update(int: v)
        case .double(let v): update(double: v)
        case .bool(let v): update(bool: v)
        case .string(let v): update(string: v)
        }
    }

    /// Records a value of no supported type (a nested JSON object or array): counted, typed
    /// as *other*, not sketched.
    public mutating func updateOther() {
        count += 1
        types.other += 1
    }

    public mutating func updateNull() {
        count += 1
        nullCount += 1
    }

    public mutating func update(double x: Double) {
        count += 1
        if x.isNaN {
            nullCount += 1
            nanCount += 1
            return
        }
        types.fractional += 1
        cardinality.update(x)
        if x.isInfinite {
            if x > 0 { positiveInfCount += 1 } else { negativeInfCount += 1 }
            return
        }
        if numeric == nil { numeric = NumericSummary(kll: config.makeKLL()) }
        numeric!.update(x)
    }

    public mutating func update(int v: Int64) {
        count += 1
        types.integral += 1
        cardinality.update(v)
        if numeric == nil { numeric = NumericSummary(kll: config.makeKLL()) }
        numeric!.update(Double(v))
        if let low = numeric!.integerMin {
            if v < low { numeric!.integerMin = v }
        } else {
            numeric!.integerMin = v
        }
        if let high = numeric!.integerMax {
            if v > high { numeric!.integerMax = v }
        } else {
            numeric!.integerMax = v
        }
        updateFrequentItems(integerText: v)
    }

    public mutating func update(bool v: Bool) {
        count += 1
        types.boolean += 1
        if v { trueCount += 1 }
        // Like whylogs (pandas bool columns), booleans also enter the numeric summary as 0/1, so
        // that the mean is the share of true and drift statistics apply.
        if numeric == nil { numeric = NumericSummary(kll: config.makeKLL()) }
        numeric!.update(v ? 1 : 0)
        let text = v ? "true" : "false"
        cardinality.update(text)
        updateFrequentItems(text)
    }

    public mutating func update(string v: String) {
        count += 1
        types.string += 1
        cardinality.update(v)
        if stringLengths == nil { stringLengths = StringLengthSummary() }
        stringLengths!.update(Int64(Self.scalarCount(v)))
        if v.utf8.count > config.maxStringLength {
            updateFrequentItems(Self.truncate(v, toUTF8Count: config.maxStringLength))
        } else {
            updateFrequentItems(v)
        }
    }

    private mutating func updateFrequentItems(_ text: String) {
        if frequentItems == nil { frequentItems = config.makeFrequentItems() }
        frequentItems!.update(text)
    }

    private mutating func updateFrequentItems(integerText v: Int64) {
        // Small decimal strings (≤ 15 UTF-8 bytes) are stored inline by String: no allocation.
        updateFrequentItems(String(v))
    }

    /// The number of Unicode scalars of `s`: its UTF-8 bytes that are not continuation bytes
    /// (`10xxxxxx`); much cheaper than walking `unicodeScalars`.
    @inline(__always)
    static func scalarCount(_ s: String) -> Int {
        var copy = s
        return copy.withUTF8 { bytes in
            var n = 0
            for byte in bytes where byte & 0xC0 != 0x80 { n += 1 }
            return n
        }
    }

    /// The longest prefix of `s` of at most `limit` UTF-8 bytes that ends on a character boundary.
    static func truncate(_ s: String, toUTF8Count limit: Int) -> String {
        var end = s.startIndex
        var used = 0
        for index in s.indices {
            let next = s.index(after: index)
            let width = s.utf8.distance(from: index, to: next)
            if used + width > limit { break }
            used += width
            end = next
        }
        return String(s[..<end])
    }

    // MARK: Merging

    /// Adds another profile of the same column over disjoint rows. Counts and moments become
    /// those of the union; sketches merge by their own rules.
    public mutating func merge(_ other: ColumnProfile) {
        count += other.count
        nullCount += other.nullCount
        nanCount += other.nanCount
        positiveInfCount += other.positiveInfCount
        negativeInfCount += other.negativeInfCount
        trueCount += other.trueCount
        types.merge(other.types)
        switch (numeric, other.numeric) {
        case (_, nil): break
        case (nil, let theirs?): numeric = theirs
        case (_?, let theirs?): numeric!.merge(theirs)
        }
        if !other.cardinality.isEmpty {
            if cardinality.isEmpty && cardinality.lgK == other.cardinality.lgK {
                cardinality = other.cardinality.converted(to: cardinality.type)
            } else {
                var union = try! HLLUnion(lgMaxK: Swift.max(cardinality.lgK, other.cardinality.lgK))
                union.update(cardinality)
                union.update(other.cardinality)
                cardinality = union.result(type: cardinality.type)
            }
        }
        switch (frequentItems, other.frequentItems) {
        case (_, nil): break
        case (nil, let theirs?): frequentItems = theirs
        case (_?, let theirs?): frequentItems!.merge(theirs)
        }
        switch (stringLengths, other.stringLengths) {
        case (_, nil): break
        case (nil, let theirs?): stringLengths = theirs
        case (_?, let theirs?): stringLengths!.merge(theirs)
        }
    }
}
