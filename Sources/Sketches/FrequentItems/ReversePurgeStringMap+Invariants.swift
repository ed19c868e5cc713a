extension ReversePurgeStringMap {
    /// Checks the map's structural invariants and returns the first violation found, or nil.
    /// For tests and debugging; O(2^lgCurSize + total key bytes).
    ///
    /// - every active slot's drift is its probe distance from its home slot plus one, and every
    ///   slot on that probe path is active (so lookups find it);
    /// - `numActive` counts the active slots and does not exceed the capacity;
    /// - counters are positive and key ranges lie within the arena;
    /// - keys are distinct.
    func invariantViolation() -> String? {
        let size = 1 << lgCurSize
        let mask = size - 1
        if slots.isEmpty && numActive == 0 { return nil }  // not allocated yet
        guard slots.count == size else { return "slots.count \(slots.count) != 2^\(lgCurSize)" }
        var active = 0
        var seen = Set<[UInt8]>()
        for (index, slot) in slots.enumerated() where slot.drift != 0 {
            active += 1
            let home = Int(slot.hash) & mask
            let distance = (index - home) & mask
            if Int(slot.drift) != distance + 1 {
                return "slot \(index): drift \(slot.drift) but distance from home \(home) is \(distance)"
            }
            var probe = home
            while probe != index {
                if slots[probe].drift == 0 { return "slot \(index): empty slot \(probe) on its probe path" }
                probe = (probe + 1) & mask
            }
            if slot.value == 0 { return "slot \(index): zero counter" }
            guard slot.keyStart >= 0, slot.keyCount >= 0, slot.keyStart + slot.keyCount <= arena.count else {
                return "slot \(index): key range outside the arena"
            }
            let key = Array(arena[slot.keyStart..<(slot.keyStart + slot.keyCount)])
            let hash = key.withUnsafeBytes { FrequentItemsHash.slotHash($0) }
            if hash != slot.hash { return "slot \(index): stored hash does not match its key" }
            if !seen.insert(key).inserted { return "slot \(index): duplicate key" }
        }
        if active != numActive { return "numActive \(numActive) but \(active) active slots" }
        if numActive > capacity { return "numActive \(numActive) exceeds capacity \(capacity)" }
        return nil
    }
}
