/// Unions HLL sketches of any lgK and register width (DataSketches `hll_union`).
///
/// The union keeps an HLL_8 "gadget" of at most `lgMaxK`; a sketch with a smaller lgK shrinks
/// it (the result has the smallest lgK seen). Once two HLL-mode sketches have been combined
/// the result is out of order: the HIP estimator no longer applies and the composite
/// estimator answers, with its wider bounds.
///
/// Merging registers leaves the gadget's kxq sums, cur_min and count at cur_min stale; they
/// are recomputed before any step that reads them (an emptiness test, replaying LIST/SET
/// coupons, a query), so every input counts however the gadget was folded down.
///
/// **Compatibility.** The library recomputes those statistics only when its union is
/// queried, and until then takes a gadget that was folded down to fewer registers for empty:
/// the next input *replaces* it (a union of two disjoint 100k-item lgK-12 sketches at
/// lgMaxK 10 estimates about 100k). This union keeps every input instead. It answers and
/// serializes like the library's union queried (`get_estimate()`) after every update, with
/// one difference for the results, and one deliberate divergence:
/// - a result is the image the library's `get_result` gives while the gadget still carries
///   its rebuild flag — the registers replayed into a fresh array, so an HLL_8 result has
///   cur_min 0 and counts its zero registers; answering a query never modifies the union;
/// - an HLL input folded down into a LIST/SET gadget gets its statistics recomputed before
///   the gadget's coupons are replayed into it, so HIP grows by the right amounts (the
///   library replays them against the stale "all registers zero" statistics, which
///   under-counts them).
/// See docs/formats.md, "HLL".
public struct HLLUnion: Sendable {
    public let lgMaxK: Int
    var gadget: HLLSketch
    /// True while the library's gadget would carry its "rebuild kxq/cur_min" flag had it
    /// never been queried (set by a register merge or fold-down, cleared when the gadget is
    /// replaced by a plain copy): its results then replay the registers into a fresh array.
    var resultReplaysRegisters = false

    /// - Throws: ``SketchError`` when `lgMaxK` is outside 4...21.
    public init(lgMaxK: Int = HLLSketch.defaultLgK) throws(SketchError) {
        gadget = try HLLSketch(lgK: lgMaxK, type: .hll8)
        self.lgMaxK = lgMaxK
    }

    /// True when no non-empty sketch has been added.
    public var isEmpty: Bool { gadget.isEmpty }

    /// The lgK the result will have.
    public var lgK: Int { gadget.lgK }

    /// Adds a sketch.
    ///
    /// - Complexity: O(coupons) for a LIST/SET sketch, O(K of the sketch) for an HLL sketch,
    ///   plus O(K) to recompute stale statistics before replaying coupons.
    public mutating func update(_ sketch: HLLSketch) {
        guard !sketch.isEmpty else { return }
        switch sketch.mode {
        case .list, .set:
            // Replaying coupons moves HIP, the kxq sums and the zero count: settle them first.
            settleGadgetStatistics()
            if gadget.isEmpty && sketch.lgK == gadget.lgK {
                gadget = sketch.converted(to: .hll8)
                resultReplaysRegisters = false
            } else {
                for coupon in sketch.coupons.slots where coupon != 0 {
                    gadget.update(coupon: coupon)
                }
            }
        case .hll:
            let source = sketch.array!
            // A plain copy keeps the input's "start full size" flag; a folded-down one is new.
            let keepsFlag = sketch.startFullSize && source.lgK <= lgMaxK
            if gadget.isEmpty {
                gadget = Self.sketch(Self.copyOrDownsample(source, toLgK: lgMaxK), startFullSize: keepsFlag)
                resultReplaysRegisters = source.lgK > lgMaxK
            } else if gadget.mode != .hll {
                // The gadget's coupons go into a copy of the incoming registers (capped at
                // lgMaxK: a LIST/SET coupon carries 26 address bits, whatever its lgK).
                var array = Self.copyOrDownsample(source, toLgK: lgMaxK)
                array.rebuildIfPending()
                for coupon in gadget.coupons.slots where coupon != 0 {
                    array.update(coupon: coupon)
                }
                gadget = Self.sketch(array, startFullSize: keepsFlag)
                resultReplaysRegisters = source.lgK > lgMaxK
            } else {
                // Folding and merging read only the registers, HIP and the out-of-order flag.
                var array = gadget.array!
                var startFullSize = gadget.startFullSize
                if source.lgK < array.lgK {
                    array = Self.copyOrDownsample(array, toLgK: source.lgK)
                    startFullSize = false
                }
                array.mergeRegisters(from: source)
                array.outOfOrder = true
                array.hip = 0
                gadget = Self.sketch(array, startFullSize: startFullSize)
                resultReplaysRegisters = true
            }
        }
    }

    /// Recomputes the gadget's kxq sums, cur_min and count at cur_min if a merge left them
    /// stale (the library's `check_rebuild_kxq_cur_min`).
    private mutating func settleGadgetStatistics() {
        guard gadget.mode == .hll, gadget.array!.rebuildPending else { return }
        gadget.array!.rebuildIfPending()
    }

    /// The union as a sketch of the given register width.
    ///
    /// - Complexity: O(K).
    public func result(type: HLLTargetType = .hll4) -> HLLSketch {
        guard resultReplaysRegisters, gadget.mode == .hll else { return gadget.converted(to: type) }
        var replayed = gadget
        replayed.array = gadget.array!.replayed(into: type)
        return replayed.converted(to: type)
    }

    public var estimate: Double { rebuiltGadget.estimate }

    public func lowerBound(standardDeviations: Int) -> Double {
        rebuiltGadget.lowerBound(standardDeviations: standardDeviations)
    }

    public func upperBound(standardDeviations: Int) -> Double {
        rebuiltGadget.upperBound(standardDeviations: standardDeviations)
    }

    /// The gadget with its kxq sums and offset recomputed, as the library's queries see it.
    private var rebuiltGadget: HLLSketch {
        guard gadget.mode == .hll, gadget.array!.rebuildPending else { return gadget }
        var copy = gadget
        copy.array!.rebuildIfPending()
        return copy
    }

    /// An HLL_8 copy of `source`, folded down to `lgK` when it is larger (`copy_or_downsample`).
    static func copyOrDownsample(_ source: HLLArray, toLgK lgK: Int) -> HLLArray {
        if source.lgK <= lgK { return source.converted(to: .hll8) }
        var target = HLLArray(lgK: lgK, type: .hll8)
        target.mergeRegisters(from: source)
        target.hip = source.hip
        target.outOfOrder = source.outOfOrder
        return target
    }

    static func sketch(_ array: HLLArray, startFullSize: Bool) -> HLLSketch {
        var sketch = HLLSketch(
            lgK: array.lgK, type: .hll8, mode: .hll, coupons: CouponTable(lgSize: HLLConstants.lgInitListSize),
            array: array)
        sketch.startFullSize = startFullSize
        return sketch
    }
}
