extension HLLSketch {
    // MARK: Writing

    /// The image in the libraries' layout (FORMATS.md section b): `compact` (the default)
    /// writes only the coupons / exceptions present; updatable images carry whole tables.
    public func serialized(compact: Bool = true) -> [UInt8] {
        var out = ByteWriter()
        var flags: UInt8 = compact ? HLLConstants.compactFlag : 0
        if isEmpty { flags |= HLLConstants.emptyFlag }
        if isOutOfOrder { flags |= HLLConstants.outOfOrderFlag }
        let modeByte = mode.code | type.code << 2
        switch mode {
        case .list, .set:
            out.u8(mode == .list ? HLLConstants.listPreamble : HLLConstants.setPreamble)
            out.u8(HLLConstants.serialVersion)
            out.u8(HLLConstants.family)
            out.u8(UInt8(lgK))
            out.u8(UInt8(coupons.lgSize))
            out.u8(flags)
            out.u8(mode == .list ? UInt8(coupons.count) : 0)
            out.u8(modeByte)
            if mode == .set { out.u32(UInt32(coupons.count)) }
            for coupon in coupons.slots where !compact || coupon != 0 { out.u32(coupon) }
        case .hll:
            let hll = array!
            if startFullSize { flags |= HLLConstants.fullSizeFlag }
            out.u8(HLLConstants.hllPreamble)
            out.u8(HLLConstants.serialVersion)
            out.u8(HLLConstants.family)
            out.u8(UInt8(lgK))
            out.u8(UInt8(hll.aux?.lgSize ?? 0))
            out.u8(flags)
            out.u8(hll.curMin)
            out.u8(modeByte)
            out.f64(hll.hip)
            out.f64(hll.kxq0)
            out.f64(hll.kxq1)
            out.u32(hll.numAtCurMin)
            out.u32(UInt32(hll.aux?.count ?? 0))
            out.append(contentsOf: hll.bytes)
            if type == .hll4 {
                if let aux = hll.aux {
                    for entry in aux.entries where !compact || entry != 0 { out.u32(entry) }
                } else if !compact {
                    let size = 1 << HLLConstants.lgAuxArrInts[lgK]
                    out.append(contentsOf: repeatElement(0, count: 4 * size))
                }
            }
        }
        return out.bytes
    }

    // MARK: Reading

    /// Reads a compact or updatable image in any mode and register width.
    ///
    /// Distrusts its input: every field is checked against the format and the bytes present,
    /// tables are rebuilt with their occupancy checked, HLL_4 exceptions must match their
    /// nibbles, and counters must agree with the registers, so that a decoded sketch can be
    /// updated, merged and queried without tripping over an inconsistency.
    /// - Throws: ``SketchError`` naming the field and byte offset.
    public init(serialized image: some Collection<UInt8>) throws(SketchError) {
        var reader = ByteReader(image, family: "HLL")
        let preamble = try reader.u8("preamble ints")
        let version = try reader.u8("serial version")
        guard version == HLLConstants.serialVersion else {
            throw reader.error("serial version \(version) is not 1", at: 1)
        }
        let family = try reader.u8("family id")
        guard family == HLLConstants.family else {
            throw reader.error("family id \(family) is not 7 (HLL)", at: 2)
        }
        let lgK = Int(try reader.u8("lg_k"))
        guard (Self.minLgK...Self.maxLgK).contains(lgK) else {
            throw reader.error("lg_k \(lgK) out of range \(Self.minLgK)...\(Self.maxLgK)", at: 3)
        }
        let lgArr = Int(try reader.u8("lg_arr"))
        let flags = try reader.u8("flags")
        let byte6 = try reader.u8("count / cur_min")
        let modeByte = try reader.u8("mode")
        guard modeByte & 0xF0 == 0, modeByte & 3 != 3, (modeByte >> 2) & 3 != 3 else {
            throw reader.error("mode byte \(modeByte) has an invalid mode or target type", at: 7)
        }
        let mode: HLLMode = [.list, .set, .hll][Int(modeByte & 3)]
        let type: HLLTargetType = [.hll4, .hll6, .hll8][Int((modeByte >> 2) & 3)]
        let expectedPreamble = [HLLConstants.listPreamble, HLLConstants.setPreamble, HLLConstants.hllPreamble][
            Int(modeByte & 3)]
        guard preamble == expectedPreamble else {
            throw reader.error("preamble ints \(preamble) do not match mode \(mode.name) (\(expectedPreamble))", at: 0)
        }
        let compact = flags & HLLConstants.compactFlag != 0
        let outOfOrder = flags & HLLConstants.outOfOrderFlag != 0
        let empty = flags & HLLConstants.emptyFlag != 0

        switch mode {
        case .list:
            let count = Int(byte6)
            guard count < 8 else { throw reader.error("LIST count \(count) must be below 8", at: 6) }
            guard !empty || count == 0 else { throw reader.error("empty flag set with \(count) coupons", at: 5) }
            var table = CouponTable(lgSize: HLLConstants.lgInitListSize)
            table.outOfOrder = outOfOrder
            let present = compact ? count : 8
            try reader.require(4 * present, "\(present) LIST coupons")
            for i in 0..<present {
                let coupon = try reader.u32("coupon")
                guard i < count else { continue }
                try Self.checkCoupon(coupon, &reader)
                guard table.listInsert(coupon) == .inserted else {
                    throw reader.error("LIST coupon \(coupon) repeats", at: reader.offset - 4)
                }
            }
            self.init(lgK: lgK, type: type, mode: .list, coupons: table, array: nil)
        case .set:
            guard lgK > 7 else { throw reader.error("a SET needs lg_k > 7, found \(lgK)", at: 3) }
            let countField = try reader.u32("SET coupon count")
            let maxCount = 3 * (1 << (lgK - 3)) / 4
            guard countField <= UInt32(maxCount) else {
                throw reader.error("SET count \(countField) exceeds the \(maxCount) a SET of lg_k \(lgK) holds", at: 8)
            }
            let count = Int(countField)
            var table: CouponTable
            if compact {
                // Like the library: start from the initial 32 slots and grow while inserting, so
                // that the slot order (and a re-serialized compact image) matches its own.
                table = CouponTable(lgSize: HLLConstants.lgInitSetSize)
                try reader.require(4 * count, "\(count) SET coupons")
                for _ in 0..<count {
                    let coupon = try reader.u32("coupon")
                    try Self.checkCoupon(coupon, &reader)
                    switch table.setInsert(coupon) {
                    case .duplicate: throw reader.error("SET coupon \(coupon) repeats", at: reader.offset - 4)
                    case .full: table.grow()
                    case .inserted: break
                    }
                }
            } else {
                let lgSize =
                    lgArr < HLLConstants.lgInitSetSize
                    ? HLLConstants.lgTableSize(count: count, floor: HLLConstants.lgInitSetSize) : lgArr
                guard lgSize <= lgK - 3 else {
                    throw reader.error("SET table lg size \(lgSize) exceeds lg_k − 3 = \(lgK - 3)", at: 4)
                }
                try reader.require(4 << lgSize, "a SET table of \(1 << lgSize) slots")
                table = CouponTable(lgSize: lgSize)
                var seen = 0
                for slot in 0..<(1 << lgSize) {
                    let coupon = try reader.u32("coupon")
                    guard coupon != 0 else { continue }
                    try Self.checkCoupon(coupon, &reader)
                    table.slots[slot] = coupon
                    seen += 1
                }
                guard seen == count, 4 * count <= 3 * (1 << lgSize) else {
                    throw reader.error("SET table holds \(seen) coupons, header says \(count)", at: 8)
                }
                // Every coupon must be reachable by its probe sequence, or updates would
                // insert duplicates.
                for (slot, coupon) in table.slots.enumerated() where coupon != 0 {
                    guard CouponTable.find(table.slots, coupon) == slot else {
                        throw reader.error(
                            "SET coupon \(coupon) is not where its probe sequence leads", at: 12 + 4 * slot)
                    }
                }
            }
            table.count = count
            table.outOfOrder = outOfOrder
            self.init(lgK: lgK, type: type, mode: .set, coupons: table, array: nil)
        case .hll:
            var hll = HLLArray(lgK: lgK, type: type)
            hll.curMin = byte6
            hll.outOfOrder = outOfOrder
            let hip = try reader.f64("hip_accum")
            hll.kxq0 = try reader.f64("kxq0")
            hll.kxq1 = try reader.f64("kxq1")
            guard hip.isFinite, hip >= 0, hll.kxq0.isFinite, hll.kxq0 >= 0, hll.kxq1.isFinite, hll.kxq1 >= 0,
                hll.kxq0 + hll.kxq1 > 0
            else {
                throw reader.error("hip_accum/kxq0/kxq1 (\(hip), \(hll.kxq0), \(hll.kxq1)) are not valid", at: 8)
            }
            // Like the library, an out-of-order image's HIP value is not used (and is written back as 0).
            hll.hip = outOfOrder ? 0 : hip
            hll.numAtCurMin = try reader.u32("num_at_cur_min")
            let auxCount = Int(try reader.u32("aux_count"))
            let k = 1 << lgK
            guard hll.numAtCurMin <= UInt32(k) else {
                throw reader.error("num_at_cur_min \(hll.numAtCurMin) exceeds K = \(k)", at: 32)
            }
            guard auxCount <= k, type == .hll4 || auxCount == 0 else {
                throw reader.error("aux_count \(auxCount) is invalid for \(type.name) with K = \(k)", at: 36)
            }
            let arrayBytes = HLLArray.arrayBytes(type, lgK: lgK)
            hll.bytes = Array(try reader.bytes(arrayBytes, "the \(type.name) register array"))
            if auxCount > 0 {
                let lgSize =
                    compact
                    ? HLLConstants.lgTableSize(count: auxCount, floor: HLLConstants.lgAuxArrInts[lgK]) : lgArr
                guard lgSize <= lgK else {
                    throw reader.error("aux table lg size \(lgSize) exceeds lg_k \(lgK)", at: 4)
                }
                var aux = AuxMap(lgSize: lgSize, lgK: lgK)
                let present = compact ? auxCount : 1 << lgSize
                try reader.require(4 * present, "\(present) aux entries")
                for _ in 0..<present {
                    let entry = try reader.u32("aux entry")
                    guard entry != 0 else { continue }
                    let slot = entry & UInt32(k - 1)
                    let value = UInt8(truncatingIfNeeded: entry >> 26)
                    guard value >= hll.curMin &+ 15, value <= 63, entry & HLLConstants.keyMask26 < UInt32(k) else {
                        throw reader.error(
                            "aux entry \(entry) (slot \(slot), value \(value)) is not an exception at cur_min \(hll.curMin)",
                            at: reader.offset - 4)
                    }
                    guard aux.add(slot: slot, value: value) else {
                        throw reader.error("aux slot \(slot) repeats", at: reader.offset - 4)
                    }
                }
                guard aux.count == auxCount else {
                    throw reader.error("aux table holds \(aux.count) entries, header says \(auxCount)", at: 36)
                }
                hll.aux = aux
            } else if type == .hll4 && !compact {
                // An updatable image without exceptions still carries a zero table of the
                // default size (a shorter image is accepted: the table carries nothing).
                _ = try? reader.skip(4 << HLLConstants.lgAuxArrInts[lgK], "empty aux table")
            }
            try Self.checkRegisters(hll, &reader)
            self.init(lgK: lgK, type: type, mode: .hll, coupons: CouponTable(lgSize: 3), array: hll)
            self.startFullSize = flags & HLLConstants.fullSizeFlag != 0
        }
    }

    /// A coupon's value (bits 26...31) is 1...63.
    private static func checkCoupon(_ coupon: UInt32, _ reader: inout ByteReader) throws(SketchError) {
        let value = coupon >> 26
        guard value >= 1, value <= 63 else {
            throw reader.error("coupon \(coupon) has value \(value) outside 1...63", at: reader.offset - 4)
        }
    }

    /// Register values and counters must agree: values ≤ 63; HLL_4 exceptions exactly where
    /// nibbles are 15; `num_at_cur_min` equal to the registers at `cur_min` (zeros for
    /// HLL_6/8 with cur_min 0), with none below it.
    private static func checkRegisters(_ hll: HLLArray, _ reader: inout ByteReader) throws(SketchError) {
        let start = HLLConstants.hllByteArrayStart
        guard hll.curMin <= 63 else { throw reader.error("cur_min \(hll.curMin) exceeds 63", at: 6) }
        if hll.type == .hll4 {
            // Every exception nibble needs an aux entry, and every aux entry an exception nibble.
            var tokens = 0
            var orphan = -1
            hll.bytes.withUnsafeBufferPointer { bytes in
                for (index, byte) in bytes.enumerated() where byte & 0x0F == 0x0F || byte >> 4 == 0x0F {
                    for slot in [2 * index, 2 * index + 1]
                    where (slot & 1 == 0 ? byte & 0x0F : byte >> 4) == HLLArray.auxToken {
                        tokens += 1
                        if orphan < 0 && hll.aux?.value(forSlot: UInt32(slot)) == nil { orphan = slot }
                    }
                }
            }
            if orphan >= 0 {
                throw reader.error("register \(orphan) is an exception without an aux entry", at: start + orphan / 2)
            }
            guard tokens == (hll.aux?.count ?? 0) else {
                throw reader.error("\(tokens) exception nibbles but \(hll.aux?.count ?? 0) aux entries", at: 36)
            }
        }
        var atCurMin: UInt32 = 0
        var badSlot = -1
        var q0 = 0.0
        var q1 = 0.0
        let curMin = hll.curMin
        hll.forEachRegister(nonZeroOnly: false) { slot, v in
            if v > 63 || v < curMin {
                if badSlot < 0 { badSlot = slot }
                return
            }
            if v == curMin { atCurMin += 1 }
            if v < 32 { q0 += HLLConstants.inversePowerOf2(v) } else { q1 += HLLConstants.inversePowerOf2(v) }
        }
        if badSlot >= 0 {
            throw reader.error(
                "register \(badSlot) holds \(hll.value(badSlot)), outside cur_min \(curMin)...63", at: start + badSlot)
        }
        // kxq0/kxq1 are running sums of 2^−v over the registers; they must match the registers
        // (up to the rounding of incremental updates), or estimates and later updates go wrong.
        let tolerance = 1e-9 * Double(hll.k)
        guard abs(q0 - hll.kxq0) <= tolerance, abs(q1 - hll.kxq1) <= tolerance else {
            throw reader.error(
                "kxq0/kxq1 (\(hll.kxq0), \(hll.kxq1)) do not match the registers (\(q0), \(q1))", at: 16)
        }
        guard atCurMin == hll.numAtCurMin else {
            throw reader.error(
                "num_at_cur_min \(hll.numAtCurMin) but \(atCurMin) registers hold cur_min \(curMin)", at: 32)
        }
    }
}
