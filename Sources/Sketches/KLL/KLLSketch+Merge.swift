extension KLLSketch {
    /// Merges `other` into this sketch: afterwards this sketch summarizes both streams.
    ///
    /// Sketches of different `k` merge; this sketch keeps its `k`. As in DataSketches
    /// (`kll_sketch::merge`, C++ 5.2.0), ``minK`` becomes the smaller of the two only when
    /// `other` is in estimation mode: a sketch that still holds every item it saw adds no
    /// error of its own. Level-0 items of `other` are added as if updated one by one (in
    /// its buffer order), then the higher levels are merged level by level and the result
    /// is compacted until it fits (`general_compress` in the library), which reproduces
    /// the library's bytes whenever no compaction is needed.
    ///
    /// - Precondition: `count + other.count` fits in `UInt64`.
    /// - Complexity: O(retained items of both sketches).
    @inlinable
    public mutating func merge(_ other: KLLSketch<Item>) {
        if other._n == 0 { return }
        if _n == 0 {
            minItem = other.minItem
            maxItem = other.maxItem
        } else {
            if other.minItem < minItem { minItem = other.minItem }
            if maxItem < other.maxItem { maxItem = other.maxItem }
        }
        let (finalN, overflow) = _n.addingReportingOverflow(other._n)
        precondition(!overflow, "KLL merge: count + other.count overflows UInt64")
        let otherLevelZero = other.levels[0]..<other.levels[1]
        other.items.withUnsafeBufferPointer { source in
            self.appendToLevelZero(UnsafeBufferPointer(rebasing: source[otherLevelZero]))
        }
        if other.levels.count - 1 >= 2 { mergeHigherLevels(other) }
        _n = finalN
        if other.isEstimationMode { _minK = Swift.min(_minK, other._minK) }
    }

    /// Merges levels 1... of `other` with all of this sketch's levels into a work buffer,
    /// compacts it until it fits, and moves the result back to the top of a fresh buffer.
    @inlinable
    mutating func mergeHigherLevels(_ other: KLLSketch<Item>) {
        let selfNumLevels = levels.count - 1
        let otherNumLevels = other.levels.count - 1
        let provisionalNumLevels = Swift.max(selfNumLevels, otherNumLevels)
        let selfLevels = levels
        let otherLevels = other.levels
        let workCount =
            (selfLevels[selfNumLevels] - selfLevels[0]) + (otherLevels[otherNumLevels] - otherLevels[1])
        var work = [Item](repeating: 0, count: workCount)
        var workLevels = [Int](repeating: 0, count: provisionalNumLevels + 2)
        work.withUnsafeMutableBufferPointer { workBuffer in
            guard let target = workBuffer.baseAddress else { return }
            items.withUnsafeBufferPointer { selfBuffer in
                other.items.withUnsafeBufferPointer { otherBuffer in
                    guard let mine = selfBuffer.baseAddress, let theirs = otherBuffer.baseAddress else { return }
                    let levelZeroCount = selfLevels[1] - selfLevels[0]
                    (target).update(from: mine + selfLevels[0], count: levelZeroCount)
                    workLevels[1] = levelZeroCount
                    for level in 1..<provisionalNumLevels {
                        let selfCount = level < selfNumLevels ? selfLevels[level + 1] - selfLevels[level] : 0
                        let otherCount = level < otherNumLevels ? otherLevels[level + 1] - otherLevels[level] : 0
                        let start = workLevels[level]
                        workLevels[level + 1] = start + selfCount + otherCount
                        if selfCount > 0 && otherCount > 0 {
                            KLLBuffer.merge(
                                mine + selfLevels[level], selfCount, theirs + otherLevels[level], otherCount,
                                into: target + start)
                        } else if selfCount > 0 {
                            (target + start).update(from: mine + selfLevels[level], count: selfCount)
                        } else if otherCount > 0 {
                            (target + start).update(from: theirs + otherLevels[level], count: otherCount)
                        }
                    }
                }
            }
        }
        let result = Self.generalCompress(
            k: Int(_k), numLevelsIn: provisionalNumLevels, items: &work, inLevels: &workLevels,
            levelZeroSorted: isLevelZeroSorted, coin: &coin)
        let freeAtBottom = result.capacity - result.numItems
        var rebuilt = [Item](repeating: 0, count: result.capacity)
        let first = result.outLevels[0]
        rebuilt.withUnsafeMutableBufferPointer { destination in
            work.withUnsafeBufferPointer { source in
                guard let to = destination.baseAddress, let from = source.baseAddress else { return }
                (to + freeAtBottom).update(from: from + first, count: result.numItems)
            }
        }
        items = rebuilt
        levels = result.outLevels[0...result.numLevels].map { $0 - first + freeAtBottom }
    }

    /// Compacts levels bottom-up until the items fit the capacity of the (possibly grown)
    /// level structure; DataSketches' `general_compress` (FORMATS.md "Compaction"). Levels
    /// are compacted only while the total is over capacity and the level itself is at or
    /// over its own capacity. Output levels are packed from index 0 of `items`.
    @inlinable
    static func generalCompress(
        k: Int, numLevelsIn: Int, items: inout [Item], inLevels: inout [Int], levelZeroSorted: Bool,
        coin: inout KLLCoin
    ) -> (outLevels: [Int], numLevels: Int, capacity: Int, numItems: Int) {
        precondition(numLevelsIn > 0, "KLL invariant: at least one level")
        var numLevels = numLevelsIn
        var itemCount = inLevels[numLevelsIn] - inLevels[0]
        var target = KLLCapacity.total(k: k, numLevels: numLevels)
        var outLevels = [Int](repeating: 0, count: inLevels.count)
        var level = 0
        items.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { preconditionFailure("KLL invariant: empty work buffer") }
            while true {
                if level == numLevels - 1 {
                    // an empty level above the top one, for the "population above" below
                    while inLevels.count < level + 3 { inLevels.append(0) }
                    while outLevels.count < level + 3 { outLevels.append(0) }
                    inLevels[level + 2] = inLevels[level + 1]
                }
                let rawBegin = inLevels[level]
                let rawLimit = inLevels[level + 1]
                let rawPopulation = rawLimit - rawBegin
                if itemCount < target
                    || rawPopulation < KLLCapacity.level(k: k, numLevels: numLevels, height: level)
                {
                    precondition(rawBegin >= outLevels[level], "KLL invariant: data only moves down")
                    if rawBegin != outLevels[level] {
                        (base + outLevels[level]).update(from: base + rawBegin, count: rawPopulation)
                    }
                    outLevels[level + 1] = outLevels[level] + rawPopulation
                } else {
                    let populationAbove = inLevels[level + 2] - rawLimit
                    let isOdd = rawPopulation & 1 == 1
                    let adjustedBegin = isOdd ? rawBegin + 1 : rawBegin
                    let adjustedPopulation = isOdd ? rawPopulation - 1 : rawPopulation
                    let half = adjustedPopulation / 2
                    if isOdd {
                        base[outLevels[level]] = base[rawBegin]
                        outLevels[level + 1] = outLevels[level] + 1
                    } else {
                        outLevels[level + 1] = outLevels[level]
                    }
                    if level == 0 && !levelZeroSorted {
                        KLLBuffer.sort(base + adjustedBegin, count: adjustedPopulation)
                    }
                    let offset = coin.flip()
                    if populationAbove == 0 {
                        KLLBuffer.halveUp(base, start: adjustedBegin, length: adjustedPopulation, offset: offset)
                    } else {
                        KLLBuffer.halveDown(base, start: adjustedBegin, length: adjustedPopulation, offset: offset)
                        KLLBuffer.mergeInPlace(
                            base, a: adjustedBegin, aCount: half, b: rawLimit, bCount: populationAbove,
                            destination: adjustedBegin + half)
                    }
                    itemCount -= half
                    inLevels[level + 1] -= half
                    if level == numLevels - 1 {
                        numLevels += 1
                        target += KLLCapacity.level(k: k, numLevels: numLevels, height: 0)
                    }
                }
                if level == numLevels - 1 { break }
                level += 1
            }
        }
        precondition(outLevels[numLevels] - outLevels[0] == itemCount, "KLL invariant: compaction lost items")
        return (outLevels, numLevels, target, itemCount)
    }
}
