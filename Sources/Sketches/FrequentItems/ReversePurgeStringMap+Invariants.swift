extension ReversePurgeStringMap {
    /// Checks the map's structural invariants and returns the first violation found, or nil.
    /// For tests and debugging; O(2^lgCurSize + total key bytes).
    ///
    /// - every active slot's drift is its probe distance from its home slot plus one, and every
    ///   slot on that probe path is active (so lookups find it);
    /// - `numActive` counts the active slots and does not exceed the capacity;
    /// - counters are positive; stored hashes match the keys;
    /// - keys of at most 15 bytes are inline in their canonical zero-padded encoding (lookups
    ///   compare them as words), longer ones lie within the arena;
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
            if slot.isInline {
                if slot.keyCount > Self.maxInlineCount { return "slot \(index): inline key longer than 15 bytes" }
            } else {
                if slot.keyCount <= Self.maxInlineCount { return "slot \(index): short key stored in the arena" }
                if Int(slot.word0) + slot.keyCount > arena.count { return "slot \(index): key range outside the arena" }
            }
            let key = withKeyBytes(of: slot) { Array($0) }
            // Inline keys compare as words, so the padding must be zero.
            if slot.isInline {
                let expected = key.withUnsafeBytes { ReversePurgeStringMap.Key(utf8: $0) }
                if expected.word0 != slot.word0 || expected.word1 != slot.word1 {
                    return "slot \(index): inline key words are not the canonical encoding"
                }
            }
            let hash = key.withUnsafeBytes { FrequentItemsHash.slotHash($0) }
            if hash != slot.hash { return "slot \(index): stored hash does not match its key" }
            if !seen.insert(key).inserted { return "slot \(index): duplicate key" }
        }
        if active != numActive { return "numActive \(numActive) but \(active) active slots" }
        if numActive > capacity { return "numActive \(numActive) exceeds capacity \(capacity)" }
        return nil
    }
}
