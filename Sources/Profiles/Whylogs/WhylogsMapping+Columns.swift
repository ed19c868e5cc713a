internal import Sketches

extension WhylogsCodec {
    /// Counts above this are refused, as the native codec does, so that sums of counts cannot
    /// overflow.
    static let countLimit = Int64(1) << 56

    /// A column profile from a whylogs column's standard metrics:
    ///
    /// - `counts/*`, `types/*` → the counts and type counts (`object` + `tensor` → `other`);
    ///   whylogs' null count includes NaN, as Driftwatch's does.
    /// - `counts/inf` → ``ColumnProfile/positiveInfCount`` / ``ColumnProfile/negativeInfCount``.
    ///   whylogs keeps one count but feeds ±∞ to the KLL, whose extremes are exact: −∞ alone
    ///   there → all negative; both → one negative and the rest positive (the split is not
    ///   recorded); otherwise all positive.
    /// - `distribution/kll`, `mean`, `m2` → the numeric summary (min/max = the KLL's exact
    ///   extremes, moments count = the KLL's n), nil when the KLL is empty or absent. whylogs'
    ///   numbers include booleans (as 0/1) and ±∞ (so the mean may be ±∞ or NaN), kept as
    ///   whylogs recorded them.
    /// - `ints/min`, `ints/max` → the integer extremes; when absent (v0 files) and every number
    ///   was an integer, the KLL's exact extremes.
    ///
    /// - Throws: ``ProfileError/malformed(format:at:_:)`` at the column's data offset when the
    ///   counts contradict each other or the sketches.
    static func column(
        _ name: String, _ m: WhylogsColumnMetrics, cardinality: HLLSketch?, config: ProfileConfig, offset: Int
    ) throws(ProfileError) -> ColumnProfile {
        func bad(_ reason: String) -> ProfileError {
            .malformed(format: "whylogs", at: offset, "column '\(name)': \(reason)")
        }
        let counts: [(String, Int64)] = [
            (WhylogsPath.countsN, m.count), (WhylogsPath.countsNull, m.nullCount), (WhylogsPath.countsNaN, m.nanCount),
            (WhylogsPath.countsInf, m.infCount), (WhylogsPath.countsTrue, m.trueCount),
            (WhylogsPath.typesIntegral, m.integral), (WhylogsPath.typesFractional, m.fractional),
            (WhylogsPath.typesBoolean, m.boolean), (WhylogsPath.typesString, m.string),
            (WhylogsPath.typesObject, m.object), (WhylogsPath.typesTensor, m.tensor),
        ]
        // WhylogsColumnMetrics has already refused negative counts.
        for (path, value) in counts where value > countLimit {
            throw bad("\(path) \(value) is above 2^56")
        }
        let types = TypeCounts(
            integral: m.integral, fractional: m.fractional, boolean: m.boolean, string: m.string,
            other: m.object + m.tensor)
        guard m.nanCount <= m.nullCount else {
            throw bad("\(WhylogsPath.countsNaN) \(m.nanCount) exceeds \(WhylogsPath.countsNull) \(m.nullCount)")
        }
        guard types.total + m.nullCount <= m.count else {
            throw bad("\(types.total) typed values and \(m.nullCount) nulls exceed \(WhylogsPath.countsN) \(m.count)")
        }
        guard m.trueCount <= m.boolean else {
            throw bad("\(WhylogsPath.countsTrue) \(m.trueCount) exceeds \(WhylogsPath.typesBoolean) \(m.boolean)")
        }
        guard m.infCount <= m.fractional else {
            throw bad("\(WhylogsPath.countsInf) \(m.infCount) exceeds \(WhylogsPath.typesFractional) \(m.fractional)")
        }
        let nonNull = m.count - m.nullCount

        var column = ColumnProfile(config: config)
        column.count = m.count
        column.nullCount = m.nullCount
        column.nanCount = m.nanCount
        column.trueCount = m.trueCount
        column.types = types
        column.positiveInfCount = m.infCount
        if let kll = m.kll, let low = kll.min, let high = kll.max {
            let n = Int64(kll.count)
            guard n <= nonNull else {
                throw bad("\(WhylogsPath.kll) holds \(n) values but the column has \(nonNull) non-null")
            }
            guard let mean = m.mean, let m2 = m.m2 else {
                throw bad(
                    "\(WhylogsPath.kll) holds \(n) values but \(WhylogsPath.mean) or \(WhylogsPath.m2) is missing")
            }
            // Without infinities the mean is finite and M2 ≥ 0 (it may overflow to +∞); with
            // them whylogs' mean is ±∞ or NaN and its M2 NaN.
            let infinite = low.isInfinite || high.isInfinite
            guard infinite || (mean.isFinite && !m2.isNaN), !(m2 < 0) else {
                throw bad("\(WhylogsPath.mean) \(mean) and \(WhylogsPath.m2) \(m2) are not the moments of \(n) values")
            }
            let signs: Int64 = (low == -.infinity ? 1 : 0) + (high == .infinity ? 1 : 0)
            guard m.infCount >= signs else {
                throw bad(
                    "\(WhylogsPath.kll) holds infinities (\(low)...\(high)) but \(WhylogsPath.countsInf) is \(m.infCount)"
                )
            }
            var integerMin = m.intMin
            var integerMax = m.intMax
            if let imin = integerMin, let imax = integerMax {
                guard low <= Double(imin), Double(imax) <= high else {
                    throw bad("ints \(imin)...\(imax) lie outside the distribution's \(low)...\(high)")
                }
            } else if m.integral == n, let imin = Int64(exactly: low), let imax = Int64(exactly: high) {
                // Every number was an integer (a v0 file has no ints block): the KLL's extremes
                // are exact, so they are the integer extremes.
                integerMin = imin
                integerMax = imax
            }
            column.numeric = NumericSummary(
                kll: kll, min: low, max: high, integerMin: integerMin, integerMax: integerMax,
                moments: Moments(count: n, mean: mean, m2: m2))
            switch (low == -.infinity, high == .infinity) {
            case (true, false):
                column.positiveInfCount = 0
                column.negativeInfCount = m.infCount
            case (true, true):
                column.positiveInfCount = m.infCount - 1
                column.negativeInfCount = 1
            default:
                break
            }
        }
        if let cardinality { column.cardinality = cardinality }
        if let items = m.frequentStrings {
            guard items.totalWeight <= UInt64(nonNull) else {
                throw bad(
                    "\(WhylogsPath.frequentStrings) counts \(items.totalWeight) values but the column has \(nonNull) "
                        + "non-null")
            }
            column.frequentItems = items
        }
        return column
    }

    /// A column's metrics in whylogs' terms: ±∞ add up into `counts/inf`, `other` is written
    /// as `types/object`; a column without numbers gets an empty KLL with mean = M2 = 0, as
    /// whylogs writes its string columns; string lengths are not written.
    static func metrics(of column: ColumnProfile) -> WhylogsColumnMetrics {
        var m = WhylogsColumnMetrics()
        m.count = column.count
        m.nullCount = column.nullCount
        m.nanCount = column.nanCount
        m.infCount = column.infCount
        m.trueCount = column.trueCount
        m.integral = column.types.integral
        m.fractional = column.types.fractional
        m.boolean = column.types.boolean
        m.string = column.types.string
        m.object = column.types.other
        if let numeric = column.numeric {
            m.kll = numeric.kll
            m.mean = numeric.moments.mean
            m.m2 = numeric.moments.m2
            m.intMin = numeric.integerMin
            m.intMax = numeric.integerMax
        } else {
            m.kll = column.config.makeKLL()
            m.mean = 0
            m.m2 = 0
        }
        m.hllImage = column.cardinality.serialized(compact: true)
        m.frequentStrings = column.frequentItems
        return m
    }
}
