extension KLLSketch {
    /// Descriptions of every broken internal invariant (empty when the sketch is sound).
    /// For tests and debugging; O(retained items).
    func invariantViolations() -> [String] {
        var problems: [String] = []
        let numLevels = levels.count - 1
        if numLevels < 1 { return ["no levels"] }
        let capacity = KLLCapacity.total(k: k, numLevels: numLevels)
        if levels[numLevels] != capacity { problems.append("top offset \(levels[numLevels]) != capacity \(capacity)") }
        if items.count != capacity { problems.append("buffer count \(items.count) != capacity \(capacity)") }
        for level in 0..<numLevels where levels[level] > levels[level + 1] {
            problems.append("level \(level) offsets decrease")
        }
        if levels[0] < 0 { problems.append("negative level 0 offset") }
        if !problems.isEmpty { return problems }
        var weight: UInt64 = 0
        for level in 0..<numLevels {
            weight += UInt64(levels[level + 1] - levels[level]) << UInt64(level)
        }
        if weight != _n { problems.append("total weight \(weight) != n \(_n)") }
        if _minK > _k || _minK < 8 { problems.append("min_k \(_minK) outside 8...k") }
        let firstSorted = isLevelZeroSorted ? 0 : 1
        for level in firstSorted..<Swift.max(firstSorted, numLevels) where levels[level] < levels[level + 1] {
            for index in (levels[level] + 1)..<levels[level + 1] where items[index] < items[index - 1] {
                problems.append("level \(level) unsorted at \(index)")
                break
            }
        }
        for index in levels[0]..<capacity {
            let item = items[index]
            if item.isNaN || item < minItem || maxItem < item {
                problems.append("item \(item) at \(index) outside [min, max] or NaN")
                break
            }
        }
        return problems
    }
}
