/// The register width of an HLL sketch in HLL mode (DataSketches `target_hll_type`).
public enum HLLTargetType: Sendable, Hashable, CaseIterable {
    /// 4-bit registers with an exception table: K/2 bytes. The smallest; the default.
    case hll4
    /// 6-bit packed registers: 3K/4 + 1 bytes.
    case hll6
    /// One byte per register: K bytes. The fastest to update and to union.
    case hll8

    /// Accepts `HLL_4`/`4`, `HLL_6`/`6`, `HLL_8`/`8` (case-insensitive).
    public init?(name: String) {
        switch name.uppercased() {
        case "HLL_4", "HLL4", "4": self = .hll4
        case "HLL_6", "HLL6", "6": self = .hll6
        case "HLL_8", "HLL8", "8": self = .hll8
        default: return nil
        }
    }

    /// `HLL_4`, `HLL_6` or `HLL_8`, as the libraries print it.
    public var name: String {
        switch self {
        case .hll4: return "HLL_4"
        case .hll6: return "HLL_6"
        case .hll8: return "HLL_8"
        }
    }

    /// The 2-bit code in the image's mode byte.
    var code: UInt8 {
        switch self {
        case .hll4: return 0
        case .hll6: return 1
        case .hll8: return 2
        }
    }
}

/// How an HLL sketch currently stores what it has seen.
public enum HLLMode: Sendable, Hashable {
    /// Up to 7 coupons in a list.
    case list
    /// A hash set of coupons (lgK ≥ 8), up to 3/4 of 2^(lgK−3) slots.
    case set
    /// The register array.
    case hll

    public var name: String {
        switch self {
        case .list: return "LIST"
        case .set: return "SET"
        case .hll: return "HLL"
        }
    }

    var code: UInt8 {
        switch self {
        case .list: return 0
        case .set: return 1
        case .hll: return 2
        }
    }
}

/// A HyperLogLog distinct-count sketch, byte-compatible with Apache DataSketches' `hll_sketch`
/// (C++/Python/Java): same hashing (MurmurHash3 x64-128, seed 9001) and item
/// canonicalisation, the same LIST → SET → HLL progression, HIP and composite estimators,
/// bounds, and compact/updatable images (FORMATS.md section b, docs/formats.md).
///
/// Relative standard error ≈ 0.8326/√K with the HIP estimator (K = 2^lgK), 1.04/√K for
/// sketches produced by a union. A value type: copies are independent, queries never mutate.
public struct HLLSketch: Sendable {
    public static let defaultLgK = 12
    public static let minLgK = 4
    public static let maxLgK = 21

    /// log2 of the number of registers.
    public let lgK: Int
    /// The register width used in HLL mode.
    public private(set) var type: HLLTargetType
    public private(set) var mode: HLLMode
    /// LIST/SET state (unused in HLL mode).
    var coupons: CouponTable
    /// HLL state (nil until HLL mode).
    var array: HLLArray?
    /// The image's "start full size" flag, kept so that images round-trip byte for byte.
    var startFullSize = false

    /// An empty sketch.
    /// - Throws: ``SketchError`` when `lgK` is outside 4...21.
    public init(lgK: Int = defaultLgK, type: HLLTargetType = .hll4) throws(SketchError) {
        guard (Self.minLgK...Self.maxLgK).contains(lgK) else {
            throw .invalidArgument("HLL lgK=\(lgK) out of range \(Self.minLgK)...\(Self.maxLgK)")
        }
        self.lgK = lgK
        self.type = type
        self.mode = .list
        self.coupons = CouponTable(lgSize: HLLConstants.lgInitListSize)
    }

    init(lgK: Int, type: HLLTargetType, mode: HLLMode, coupons: CouponTable, array: HLLArray?) {
        self.lgK = lgK
        self.type = type
        self.mode = mode
        self.coupons = coupons
        self.array = array
    }

    /// True when nothing has been added.
    public var isEmpty: Bool {
        switch mode {
        case .list, .set: return coupons.count == 0
        case .hll: return array!.isEmpty
        }
    }

    /// True when the sketch came from a union (or was read from one): the HIP estimator does
    /// not apply and the composite estimator is used.
    public var isOutOfOrder: Bool {
        mode == .hll ? array!.outOfOrder : coupons.outOfOrder
    }

    // MARK: Updating

    /// Adds a 64-bit integer (hashed as its 8 little-endian bytes, like the libraries' int64).
    public mutating func update(_ value: Int64) {
        let (h1, h2) = MurmurHash3.hash64(UInt64(bitPattern: value))
        update(coupon: HLLConstants.coupon(h1, h2))
    }

    /// Adds an integer (as `Int64`).
    public mutating func update(_ value: Int) {
        update(Int64(value))
    }

    /// Adds a double: −0.0 is hashed as 0.0 and every NaN as the canonical NaN
    /// 0x7ff8000000000000, as the libraries do. (So 0.0 and the integer 0 collide, 1.0 and 1
    /// do not.)
    public mutating func update(_ value: Double) {
        let bits: UInt64
        if value == 0 {
            bits = 0
        } else if value.isNaN {
            bits = 0x7ff8_0000_0000_0000
        } else {
            bits = value.bitPattern
        }
        let (h1, h2) = MurmurHash3.hash64(bits)
        update(coupon: HLLConstants.coupon(h1, h2))
    }

    /// Adds a string by its UTF-8 bytes. The empty string is ignored, as in the libraries.
    public mutating func update(_ value: String) {
        guard !value.isEmpty else { return }
        let hash: (h1: UInt64, h2: UInt64)? = value.utf8.withContiguousStorageIfAvailable { utf8 in
            MurmurHash3.hash128(UnsafeRawBufferPointer(utf8))
        }
        if let hash {
            update(coupon: HLLConstants.coupon(hash.h1, hash.h2))
        } else {
            var copy = value
            let hash = copy.withUTF8 { MurmurHash3.hash128(UnsafeRawBufferPointer($0)) }
            update(coupon: HLLConstants.coupon(hash.h1, hash.h2))
        }
    }

    /// Adds raw bytes (the libraries' `update(const void*, size_t)`); an empty buffer counts
    /// as an item, as there.
    public mutating func update(bytes: some Collection<UInt8>) {
        let hash: (h1: UInt64, h2: UInt64)? = bytes.withContiguousStorageIfAvailable { buffer in
            MurmurHash3.hash128(UnsafeRawBufferPointer(buffer))
        }
        let (h1, h2) = hash ?? Array(bytes).withUnsafeBytes { MurmurHash3.hash128($0) }
        update(coupon: HLLConstants.coupon(h1, h2))
    }

    /// Adds a coupon (value << 26 | 26-bit address); 0 is ignored.
    mutating func update(coupon: UInt32) {
        guard coupon != 0 else { return }
        switch mode {
        case .hll:
            array!.update(coupon: coupon)
        case .list:
            if coupons.listInsert(coupon) == .full {
                if lgK < 8 {
                    promoteToHLL()
                } else {
                    promoteListToSet()
                }
            }
        case .set:
            if coupons.setInsert(coupon) == .full {
                if coupons.lgSize == lgK - 3 {
                    promoteToHLL()
                } else {
                    coupons.grow()
                }
            }
        }
    }

    private mutating func promoteListToSet() {
        var set = CouponTable(lgSize: HLLConstants.lgInitSetSize)
        for coupon in coupons.slots where coupon != 0 {
            _ = set.setInsert(coupon)
        }
        coupons = set
        mode = .set
    }

    /// LIST/SET → HLL: replay the coupons in their stored order into fresh registers, then set
    /// HIP to the coupon estimate at this moment (`promoteListOrSetToHll`).
    private mutating func promoteToHLL() {
        var hll = HLLArray(lgK: lgK, type: type)
        for coupon in coupons.slots where coupon != 0 {
            hll.update(coupon: coupon)
        }
        hll.hip = coupons.estimate
        hll.outOfOrder = false
        array = hll
        coupons = CouponTable(lgSize: HLLConstants.lgInitListSize)
        mode = .hll
    }

    // MARK: Conversion

    /// The same sketch with another register width (the libraries' `hll_sketch(that, type)`):
    /// LIST/SET sketches only change their label; HLL registers are re-added, which recomputes
    /// the kxq sums and, for HLL_4, the offset and exception table; HIP is carried over.
    public func converted(to newType: HLLTargetType) -> HLLSketch {
        var copy = self
        copy.type = newType
        if mode == .hll {
            copy.array = array!.converted(to: newType)
        }
        return copy
    }
}

/// Constants of the format (DataSketches `HllUtil.hpp`).
enum HLLConstants {
    static let serialVersion: UInt8 = 1
    static let family: UInt8 = 7
    static let listPreamble: UInt8 = 2
    static let setPreamble: UInt8 = 3
    static let hllPreamble: UInt8 = 10
    static let emptyFlag: UInt8 = 4
    static let compactFlag: UInt8 = 8
    static let outOfOrderFlag: UInt8 = 16
    static let fullSizeFlag: UInt8 = 32
    static let lgInitListSize = 3
    static let lgInitSetSize = 5
    static let hllByteArrayStart = 40
    static let keyMask26: UInt32 = (1 << 26) - 1
    /// log2 of the initial HLL_4 exception table size, by lgK 0...21 (`LG_AUX_ARR_INTS`).
    static let lgAuxArrInts: [Int] = [0, 2, 2, 2, 2, 2, 2, 3, 3, 3, 4, 4, 5, 5, 6, 7, 8, 9, 10, 11, 12, 13]
    /// Coupon relative error at the LIST/SET → HLL transition (`COUPON_RSE`).
    static let couponRSE = 0.409 / Double(1 << 13)
    static let hipRSEFactor = 0.8325546
    static let nonHipRSEFactor = 1.03896

    /// `(min(clz(h2), 62) + 1) << 26 | (h1 & 2^26 − 1)`.
    @inline(__always)
    static func coupon(_ h1: UInt64, _ h2: UInt64) -> UInt32 {
        let value = UInt32(Swift.min(h2.leadingZeroBitCount, 62) + 1)
        return value << 26 | UInt32(truncatingIfNeeded: h1) & keyMask26
    }

    /// 2^−v for v in 0...63, exact: the double with biased exponent 1023 − v and a zero
    /// significand (computed, not looked up: a global table costs a lazy-init check per use).
    @inline(__always)
    static func inversePowerOf2(_ v: UInt8) -> Double {
        Double(bitPattern: UInt64(1023 - Int(v)) << 52)
    }

    /// `√(2^lgK)`, correctly rounded (as `sqrt` gives it): `2^(lgK/2)` for even lgK, else √2
    /// rounded to a double times `2^((lgK−1)/2)` — scaling by a power of two keeps the
    /// rounding exact. `Double.squareRoot()` compiles to `sqrtsd` but keeps a call to libm's
    /// `sqrt` for negative arguments (errno), an undefined symbol this stdlib-only module
    /// should not leave to its users' link line.
    @inline(__always)
    static func squareRootOfK(lgK: Int) -> Double {
        let half = Double(sign: .plus, exponent: lgK >> 1, significand: 1)
        return lgK & 1 == 0 ? half : 1.414_213_562_373_095_1 * half
    }

    /// `ceil(log2(n))`-style sizing used when a table's size must be recomputed from a count
    /// (`computeLgArrInts`): the next power of two ≥ count, doubled when over 3/4 full, at least
    /// `floor`.
    static func lgTableSize(count: Int, floor: Int) -> Int {
        var power = 1
        var lg = 0
        while power < count {
            power <<= 1
            lg += 1
        }
        if 4 * count > 3 * power { lg += 1 }
        return Swift.max(floor, lg)
    }
}

/// The coupon list (8 slots, first-seen order) or open-addressing coupon set of LIST/SET mode.
struct CouponTable: Sendable, Equatable {
    var slots: [UInt32]
    var count = 0
    var outOfOrder = false

    init(lgSize: Int) {
        slots = [UInt32](repeating: 0, count: 1 << lgSize)
    }

    var lgSize: Int { slots.count.trailingZeroBitCount }

    enum InsertResult { case duplicate, inserted, full }

    /// LIST insert: first empty slot, duplicates dropped; `.full` when the 8th coupon arrives.
    mutating func listInsert(_ coupon: UInt32) -> InsertResult {
        for i in slots.indices {
            let existing = slots[i]
            if existing == 0 {
                slots[i] = coupon
                count += 1
                return count == slots.count ? .full : .inserted
            }
            if existing == coupon { return .duplicate }
        }
        return .full
    }

    /// SET insert; `.full` when the table is more than 3/4 full (grow or promote).
    mutating func setInsert(_ coupon: UInt32) -> InsertResult {
        let index = Self.find(slots, coupon)
        if index >= 0 { return .duplicate }
        slots[~index] = coupon
        count += 1
        return 4 * count > 3 * slots.count ? .full : .inserted
    }

    /// Doubles the set, re-inserting in old-slot order.
    mutating func grow() {
        var bigger = [UInt32](repeating: 0, count: slots.count * 2)
        for coupon in slots where coupon != 0 {
            let index = Self.find(bigger, coupon)
            bigger[~index] = coupon
        }
        slots = bigger
    }

    /// The slot holding `coupon` (≥ 0) or ~(the empty slot where it would go). The table is
    /// never full (≤ 3/4 occupancy), so the probe ends.
    static func find(_ table: [UInt32], _ coupon: UInt32) -> Int {
        table.withUnsafeBufferPointer { slots in
            let lg = UInt32(slots.count.trailingZeroBitCount)
            let mask = UInt32(slots.count - 1)
            let stride = ((coupon & HLLConstants.keyMask26) >> lg) | 1
            var probe = coupon & mask
            let start = probe
            repeat {
                let existing = slots[Int(probe)]
                if existing == 0 { return ~Int(probe) }
                if existing == coupon { return Int(probe) }
                probe = (probe &+ stride) & mask
            } while probe != start
            return Int.min  // unreachable while occupancy ≤ 3/4; callers check counts on decode
        }
    }

    /// The coupon-collector estimate (cubic interpolation through the library's tables).
    var estimate: Double {
        let c = Double(count)
        return Swift.max(HLLInterpolation.coupon(c), c)
    }

    func bound(upper: Bool, standardDeviations: Int) -> Double {
        let c = Double(count)
        let estimate = HLLInterpolation.coupon(c)
        let denominator =
            upper
            ? 1 - Double(standardDeviations) * HLLConstants.couponRSE
            : 1 + Double(standardDeviations) * HLLConstants.couponRSE
        return Swift.max(estimate / denominator, c)
    }
}
