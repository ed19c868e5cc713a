/// The registers of an HLL-mode sketch in the library's in-memory layout, plus the HIP and
/// kxq accumulators (DataSketches `HllArray`, `Hll4Array`, `Hll6Array`, `Hll8Array`).
///
/// - HLL_8: one byte per register.
/// - HLL_6: 6-bit fields packed LSB-first (register i at bit 6i), 3K/4 + 1 bytes.
/// - HLL_4: nibbles (register i in the low nibble of byte i/2 when even, high when odd)
///   holding `value − curMin`; 15 marks an exception whose value is in `aux`.
struct HLLArray: Sendable, Equatable {
    let lgK: Int
    let type: HLLTargetType
    var bytes: [UInt8]
    var aux: AuxMap?
    var curMin: UInt8 = 0
    /// HLL_4: registers at `curMin`; HLL_6/8: zero registers (while `curMin` is 0).
    var numAtCurMin: UInt32
    var hip: Double = 0
    var kxq0: Double
    var kxq1: Double = 0
    var outOfOrder = false
    /// Set by a union's register merge: kxq, curMin and numAtCurMin are stale until rebuilt.
    var rebuildPending = false

    static let auxToken: UInt8 = 15

    init(lgK: Int, type: HLLTargetType) {
        self.lgK = lgK
        self.type = type
        self.bytes = [UInt8](repeating: 0, count: Self.arrayBytes(type, lgK: lgK))
        self.numAtCurMin = UInt32(1) << UInt32(lgK)
        self.kxq0 = Double(1 << lgK)
    }

    static func arrayBytes(_ type: HLLTargetType, lgK: Int) -> Int {
        switch type {
        case .hll4: return 1 << (lgK - 1)
        case .hll6: return (((1 << lgK) * 3) >> 2) + 1
        case .hll8: return 1 << lgK
        }
    }

    var k: Int { 1 << lgK }

    /// True when every register is zero. While a union's merge has left the statistics stale
    /// (`rebuildPending`), `numAtCurMin` still describes the array *before* the merge — for a
    /// freshly folded-down gadget, "all K registers zero" — so the registers are consulted
    /// instead. (Only HLL_8 arrays are ever pending, and an all-zero HLL_8 array is all-zero
    /// bytes.)
    var isEmpty: Bool {
        if rebuildPending { return !bytes.contains { $0 != 0 } }
        return curMin == 0 && numAtCurMin == UInt32(k)
    }

    // MARK: Register access

    /// The stored field of register `slot` (HLL_4: the nibble, not the value).
    @inline(__always)
    func stored(_ slot: Int) -> UInt8 {
        switch type {
        case .hll8:
            return bytes[slot]
        case .hll6:
            let bit = slot * 6
            let index = bit >> 3
            let pair = UInt16(bytes[index]) | UInt16(bytes[index + 1]) << 8
            return UInt8(truncatingIfNeeded: pair >> UInt16(bit & 7)) & 63
        case .hll4:
            let byte = bytes[slot >> 1]
            return slot & 1 == 0 ? byte & 0x0F : byte >> 4
        }
    }

    @inline(__always)
    mutating func store(_ slot: Int, _ value: UInt8) {
        switch type {
        case .hll8:
            bytes[slot] = value
        case .hll6:
            let bit = slot * 6
            let index = bit >> 3
            let shift = UInt16(bit & 7)
            var pair = UInt16(bytes[index]) | UInt16(bytes[index + 1]) << 8
            pair = (pair & ~(UInt16(63) << shift)) | (UInt16(value & 63) << shift)
            bytes[index] = UInt8(truncatingIfNeeded: pair)
            bytes[index + 1] = UInt8(truncatingIfNeeded: pair >> 8)
        case .hll4:
            let index = slot >> 1
            if slot & 1 == 0 {
                bytes[index] = (bytes[index] & 0xF0) | (value & 0x0F)
            } else {
                bytes[index] = (bytes[index] & 0x0F) | (value << 4)
            }
        }
    }

    /// The actual value of register `slot`.
    func value(_ slot: Int) -> UInt8 {
        let raw = stored(slot)
        guard type == .hll4 else { return raw }
        return raw == Self.auxToken ? aux!.value(forSlot: UInt32(slot))! : raw + curMin
    }

    /// Every register as (slot, value), slot order; `nonZeroOnly` skips zeros (the library's
    /// default iteration). The register width is dispatched once, outside the loop.
    @inline(__always)
    func forEachRegister(nonZeroOnly: Bool = true, _ body: (Int, UInt8) -> Void) {
        let k = self.k
        bytes.withUnsafeBufferPointer { raw in
            switch type {
            case .hll8:
                for slot in 0..<k {
                    let v = raw[slot]
                    if nonZeroOnly && v == 0 { continue }
                    body(slot, v)
                }
            case .hll6:
                for slot in 0..<k {
                    let bit = slot &* 6
                    let index = bit >> 3
                    let pair = UInt16(raw[index]) | UInt16(raw[index + 1]) << 8
                    let v = UInt8(truncatingIfNeeded: pair >> UInt16(bit & 7)) & 63
                    if nonZeroOnly && v == 0 { continue }
                    body(slot, v)
                }
            case .hll4:
                for slot in 0..<k {
                    let byte = raw[slot >> 1]
                    let nibble = slot & 1 == 0 ? byte & 0x0F : byte >> 4
                    let v = nibble == Self.auxToken ? (aux?.value(forSlot: UInt32(slot)) ?? 0) : nibble &+ curMin
                    if nonZeroOnly && v == 0 { continue }
                    body(slot, v)
                }
            }
        }
    }

    // MARK: Updating

    @inline(__always)
    mutating func update(coupon: UInt32) {
        let slot = Int(coupon & HLLConstants.keyMask26) & (k - 1)
        let newValue = UInt8(truncatingIfNeeded: coupon >> 26)
        switch type {
        case .hll8, .hll6:
            let current = stored(slot)
            if newValue > current {
                store(slot, newValue)
                hipAndKxqUpdate(old: current, new: newValue)
                if current == 0 { numAtCurMin &-= 1 }
            }
        case .hll4:
            if newValue <= curMin { return }
            updateHLL4(slot: slot, newValue: newValue)
        }
    }

    /// HIP: before the register changes, add K / (kxq0 + kxq1); then move the register's 2^−v
    /// between the kxq sums (values < 32 in kxq0, the rest in kxq1).
    @inline(__always)
    mutating func hipAndKxqUpdate(old: UInt8, new: UInt8) {
        if !outOfOrder { hip += Double(k) / (kxq0 + kxq1) }
        if old < 32 {
            kxq0 -= HLLConstants.inversePowerOf2(old)
        } else {
            kxq1 -= HLLConstants.inversePowerOf2(old)
        }
        if new < 32 {
            kxq0 += HLLConstants.inversePowerOf2(new)
        } else {
            kxq1 += HLLConstants.inversePowerOf2(new)
        }
    }

    private mutating func updateHLL4(slot: Int, newValue: UInt8) {
        let rawOld = stored(slot)
        let lowerBoundOld = rawOld &+ curMin
        guard newValue > lowerBoundOld else { return }
        let actualOld = rawOld < Self.auxToken ? lowerBoundOld : aux!.value(forSlot: UInt32(slot))!
        guard newValue > actualOld else { return }
        hipAndKxqUpdate(old: actualOld, new: newValue)
        let shifted = newValue - curMin
        if rawOld == Self.auxToken {
            // The old value was an exception, so the new (larger) one is too.
            aux!.replace(slot: UInt32(slot), value: newValue)
        } else if shifted >= Self.auxToken {
            store(slot, Self.auxToken)
            if aux == nil { aux = AuxMap(lgSize: HLLConstants.lgAuxArrInts[lgK], lgK: lgK) }
            aux!.add(slot: UInt32(slot), value: newValue)
        } else {
            store(slot, shifted)
        }
        if actualOld == curMin {
            numAtCurMin -= 1
            while numAtCurMin == 0 { shiftToBiggerCurMin() }
        }
    }

    /// curMin += 1: every nibble below 15 decrements (new zeros counted); exceptions whose
    /// offset is now 14 move back into their nibble, the rest go to a fresh exception table.
    private mutating func shiftToBiggerCurMin() {
        let newCurMin = curMin + 1
        var numAtNewCurMin: UInt32 = 0
        for slot in 0..<k {
            let old = stored(slot)
            if old < Self.auxToken {
                store(slot, old &- 1)
                if old == 1 { numAtNewCurMin += 1 }
            }
        }
        var newAux: AuxMap?
        if let old = aux {
            for entry in old.entries where entry != 0 {
                let slot = Int(entry & HLLConstants.keyMask26) & (k - 1)
                let value = UInt8(truncatingIfNeeded: entry >> 26)
                let newShifted = value - newCurMin
                if newShifted < Self.auxToken {
                    store(slot, newShifted)
                } else {
                    if newAux == nil { newAux = AuxMap(lgSize: HLLConstants.lgAuxArrInts[lgK], lgK: lgK) }
                    newAux!.add(slot: UInt32(slot), value: value)
                }
            }
        }
        aux = newAux
        curMin = newCurMin
        numAtCurMin = numAtNewCurMin
    }

    // MARK: Conversion and merging

    /// The same registers in another width (the libraries' `HllNArray(const HllArray&)`): fresh
    /// registers, every non-zero register re-added as a coupon, HIP carried over.
    func converted(to newType: HLLTargetType) -> HLLArray {
        if newType == type && !rebuildPending { return self }
        return replayed(into: newType)
    }

    /// The registers re-added as coupons into a fresh array of `newType` (so the kxq sums,
    /// cur_min and its count are recomputed), with HIP and the out-of-order flag carried over.
    func replayed(into newType: HLLTargetType) -> HLLArray {
        var out = HLLArray(lgK: lgK, type: newType)
        out.outOfOrder = outOfOrder
        var zeros = UInt32(k)
        forEachRegister { slot, value in
            zeros -= 1
            out.update(coupon: UInt32(value) << 26 | UInt32(slot))
        }
        if newType != .hll4 { out.numAtCurMin = zeros }
        out.hip = hip
        return out
    }

    /// Register-wise maximum with `other` into this HLL_8 array (folding slots when `other`
    /// has a larger lgK); kxq/curMin become stale (`rebuildPending`).
    mutating func mergeRegisters(from other: HLLArray) {
        precondition(type == .hll8, "register merges go into the union's HLL_8 gadget")
        let mask = k - 1
        bytes.withUnsafeMutableBufferPointer { mine in
            other.forEachRegister(nonZeroOnly: false) { slot, value in
                let index = slot & mask
                if value > mine[index] { mine[index] = value }
            }
        }
        rebuildPending = true
    }

    /// Recomputes kxq0/kxq1, curMin (the smallest register) and how many registers hold it —
    /// what the library's union does lazily before answering (`check_rebuild_kxq_cur_min`).
    mutating func rebuildIfPending() {
        guard rebuildPending else { return }
        var newCurMin: UInt8 = 64
        var count: UInt32 = 0
        var q0 = Double(k)
        var q1 = 0.0
        forEachRegister(nonZeroOnly: false) { _, v in
            if v > 0 {
                if v < 32 {
                    q0 += HLLConstants.inversePowerOf2(v) - 1
                } else {
                    q1 += HLLConstants.inversePowerOf2(v) - 1
                }
            }
            if v < newCurMin {
                newCurMin = v
                count = 1
            } else if v == newCurMin {
                count += 1
            }
        }
        kxq0 = q0
        kxq1 = q1
        curMin = newCurMin
        numAtCurMin = count
        rebuildPending = false
    }

    // MARK: Estimates

    var estimate: Double { outOfOrder ? compositeEstimate : hip }

    /// The raw HLL estimate α·K²/Σ2^−v.
    var rawEstimate: Double {
        let kd = Double(k)
        let correction: Double
        switch lgK {
        case 4: correction = 0.673
        case 5: correction = 0.697
        case 6: correction = 0.709
        default: correction = 0.7213 / (1 + 1.079 / kd)
        }
        return correction * kd * kd / (kxq0 + kxq1)
    }

    /// Linear counting through harmonic numbers (coupon collector on the bit map).
    var bitMapEstimate: Double {
        let kd = Double(k)
        let unhit = curMin == 0 ? Int(numAtCurMin) : 0
        if unhit == 0 { return kd * PreciseMath.naturalLog(kd / 0.5) }
        return kd * (HLLInterpolation.harmonic(k) - HLLInterpolation.harmonic(unhit))
    }

    /// The non-HIP estimator: the raw estimate mapped through the per-lgK interpolation table,
    /// blended with linear counting below the crossover.
    var compositeEstimate: Double {
        let raw = rawEstimate
        let base = (lgK - 4) * HLLTables.compositeXCount
        let xs = HLLTables.compositeX[base..<(base + HLLTables.compositeXCount)]
        let stride = HLLTables.compositeYStride[lgK - 4]
        if raw < xs.first! { return 0 }
        if raw > xs.last! {
            let finalY = stride * Double(HLLTables.compositeXCount - 1)
            return raw * (finalY / xs.last!)
        }
        let adjusted = HLLInterpolation.withYStride(Array(xs), yStride: stride, x: raw)
        if adjusted > Double(3 << lgK) { return adjusted }
        let linear = bitMapEstimate
        let average = (adjusted + linear) / 2
        let crossOver = lgK == 4 ? 0.718 : (lgK == 5 ? 0.672 : 0.64)
        return average > crossOver * Double(k) ? adjusted : linear
    }

    func lowerBound(standardDeviations: Int) -> Double {
        let nonZeros = curMin == 0 ? Double(k) - Double(numAtCurMin) : Double(k)
        let relativeError = HLLInterpolation.relativeError(
            upper: false, outOfOrder: outOfOrder, lgK: lgK, standardDeviations: standardDeviations)
        return Swift.max(estimate / (1 + relativeError), nonZeros)
    }

    func upperBound(standardDeviations: Int) -> Double {
        let relativeError = HLLInterpolation.relativeError(
            upper: true, outOfOrder: outOfOrder, lgK: lgK, standardDeviations: standardDeviations)
        return estimate / (1 + relativeError)
    }
}

/// The HLL_4 exception table: open addressing on the slot number, entries
/// `value << 26 | slot` (DataSketches `AuxHashMap`).
struct AuxMap: Sendable, Equatable {
    var entries: [UInt32]
    var count = 0
    let lgK: Int

    init(lgSize: Int, lgK: Int) {
        entries = [UInt32](repeating: 0, count: 1 << lgSize)
        self.lgK = lgK
    }

    var lgSize: Int { entries.count.trailingZeroBitCount }

    /// Index of `slot`'s entry (≥ 0) or ~(the empty index where it would go); `Int.min` if the
    /// table has no empty slot (impossible while occupancy ≤ 3/4).
    func find(_ slot: UInt32) -> Int {
        let mask = UInt32(entries.count - 1)
        let kMask = UInt32((1 << lgK) - 1)
        var probe = slot & mask
        let start = probe
        repeat {
            let entry = entries[Int(probe)]
            if entry == 0 { return ~Int(probe) }
            if entry & kMask == slot { return Int(probe) }
            let stride = (slot >> UInt32(lgSize)) | 1
            probe = (probe &+ stride) & mask
        } while probe != start
        return Int.min
    }

    func value(forSlot slot: UInt32) -> UInt8? {
        let index = find(slot)
        return index >= 0 ? UInt8(truncatingIfNeeded: entries[index] >> 26) : nil
    }

    /// Adds a slot that is not present; false if it was (a corrupt image).
    @discardableResult
    mutating func add(slot: UInt32, value: UInt8) -> Bool {
        let index = find(slot)
        guard index < 0, index != Int.min else { return false }
        entries[~index] = UInt32(value) << 26 | (slot & HLLConstants.keyMask26)
        count += 1
        if 4 * count > 3 * entries.count { grow() }
        return true
    }

    mutating func replace(slot: UInt32, value: UInt8) {
        let index = find(slot)
        if index >= 0 { entries[index] = UInt32(value) << 26 | (slot & HLLConstants.keyMask26) }
    }

    private mutating func grow() {
        let old = entries
        let kMask = UInt32((1 << lgK) - 1)
        entries = [UInt32](repeating: 0, count: old.count * 2)
        for entry in old where entry != 0 {
            let index = find(entry & kMask)
            entries[~index] = entry
        }
    }
}

/// Interpolation, harmonic numbers and relative-error lookup of the estimators
/// (DataSketches `CubicInterpolation`, `HarmonicNumbers`, `HllUtil::getRelErr`).
enum HLLInterpolation {
    /// Lagrange cubic through four points.
    static func cubic(
        _ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, _ x3: Double,
        _ y3: Double, _ x: Double
    ) -> Double {
        let l0Numerator = (x - x1) * (x - x2) * (x - x3)
        let l1Numerator = (x - x0) * (x - x2) * (x - x3)
        let l2Numerator = (x - x0) * (x - x1) * (x - x3)
        let l3Numerator = (x - x0) * (x - x1) * (x - x2)
        let l0Denominator = (x0 - x1) * (x0 - x2) * (x0 - x3)
        let l1Denominator = (x1 - x0) * (x1 - x2) * (x1 - x3)
        let l2Denominator = (x2 - x0) * (x2 - x1) * (x2 - x3)
        let l3Denominator = (x3 - x0) * (x3 - x1) * (x3 - x2)
        let term0 = y0 * l0Numerator / l0Denominator
        let term1 = y1 * l1Numerator / l1Denominator
        let term2 = y2 * l2Numerator / l2Denominator
        let term3 = y3 * l3Numerator / l3Denominator
        return term0 + term1 + term2 + term3
    }

    /// j with xs[j] ≤ x < xs[j+1] (x inside the table, not equal to its last entry).
    static func straddle(_ xs: [Double], _ x: Double) -> Int {
        var low = 0
        var high = xs.count - 1
        while low + 1 < high {
            let middle = low + (high - low) / 2
            if xs[middle] <= x { low = middle } else { high = middle }
        }
        return low
    }

    /// The coupon-collector curve at `count` coupons (LIST/SET estimate).
    static func coupon(_ x: Double) -> Double {
        let xs = HLLTables.couponX
        let ys = HLLTables.couponY
        if x == xs[xs.count - 1] { return ys[ys.count - 1] }
        let offset = straddle(xs, x)
        // The library's corner cases use its table length (40) for the upper edge.
        let start = offset == 0 ? 0 : (offset == xs.count - 2 ? offset - 2 : offset - 1)
        return cubic(
            xs[start], ys[start], xs[start + 1], ys[start + 1], xs[start + 2], ys[start + 2], xs[start + 3],
            ys[start + 3], x)
    }

    /// Interpolation through x values with y = stride · index.
    static func withYStride(_ xs: [Double], yStride: Double, x: Double) -> Double {
        let last = xs.count - 1
        if x == xs[last] { return yStride * Double(last) }
        let offset = straddle(xs, x)
        let start = offset == 0 ? 0 : (offset == xs.count - 2 ? offset - 2 : offset - 1)
        return cubic(
            xs[start], yStride * Double(start), xs[start + 1], yStride * Double(start + 1), xs[start + 2],
            yStride * Double(start + 2), xs[start + 3], yStride * Double(start + 3), x)
    }

    /// Exact harmonic numbers below 25, the asymptotic series above (`HarmonicNumbers`).
    static let exactHarmonic: [Double] = [
        0.0, 1.0, 1.5, 11.0 / 6.0, 25.0 / 12.0, 137.0 / 60.0, 49.0 / 20.0, 363.0 / 140.0, 761.0 / 280.0,
        7129.0 / 2520.0, 7381.0 / 2520.0, 83711.0 / 27720.0, 86021.0 / 27720.0, 1145993.0 / 360360.0,
        1171733.0 / 360360.0, 1195757.0 / 360360.0, 2436559.0 / 720720.0, 42142223.0 / 12252240.0,
        14274301.0 / 4084080.0, 275295799.0 / 77597520.0, 55835135.0 / 15519504.0, 18858053.0 / 5173168.0,
        19093197.0 / 5173168.0, 444316699.0 / 118982864.0, 1347822955.0 / 356948592.0,
    ]
    static let eulerMascheroni = 0.577215664901532860606512090082

    static func harmonic(_ n: Int) -> Double {
        if n < exactHarmonic.count { return exactHarmonic[n] }
        let x = Double(n)
        let inverseSquare = 1.0 / (x * x)
        var sum = PreciseMath.naturalLog(x) + eulerMascheroni + (1.0 / (2.0 * x))
        var power = inverseSquare
        sum -= power * (1.0 / 12.0)
        power *= inverseSquare
        sum += power * (1.0 / 120.0)
        power *= inverseSquare
        sum -= power * (1.0 / 252.0)
        power *= inverseSquare
        sum += power * (1.0 / 240.0)
        return sum
    }

    /// Relative error of the bounds: empirical tables for lgK ≤ 12, `σ·factor/√K` above
    /// (negative for upper bounds).
    static func relativeError(upper: Bool, outOfOrder: Bool, lgK: Int, standardDeviations: Int) -> Double {
        if lgK > 12 {
            let factor = outOfOrder ? HLLConstants.nonHipRSEFactor : HLLConstants.hipRSEFactor
            return (upper ? -1 : 1) * (Double(standardDeviations) * factor) / HLLConstants.squareRootOfK(lgK: lgK)
        }
        let index = (lgK - 4) * 3 + (standardDeviations - 1)
        switch (outOfOrder, upper) {
        case (false, false): return HLLTables.hipLower[index]
        case (false, true): return HLLTables.hipUpper[index]
        case (true, false): return HLLTables.nonHipLower[index]
        case (true, true): return HLLTables.nonHipUpper[index]
        }
    }
}
