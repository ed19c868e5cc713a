/// Unions HLL sketches of any lgK and register width (DataSketches `hll_union`).
///
/// The union keeps an HLL_8 "gadget" of at most `lgMaxK`; a sketch with a smaller lgK shrinks
/// it (the result has the smallest lgK seen). Once two HLL-mode sketches have been combined
/// the result is out of order: the HIP estimator no longer applies and the composite
/// estimator answers, with its wider bounds.
///
/// Unlike the library, answering a query does not modify the union; a result is therefore
/// always the image the library produces *before* any query (see docs/formats.md, "HLL").
public struct HLLUnion: Sendable {
    public let lgMaxK: Int
    var gadget: HLLSketch

    /// - Throws: ``SketchError`` when `lgMaxK` is outside 4...21.
    public init(lgMaxK: Int = HLLSketch.defaultLgK) throws(SketchError) {
        gadget = try HLLSketch(lgK: lgMaxK, type: .hll8)
        self.lgMaxK = lgMaxK
    }

    public var isEmpty: Bool { gadget.isEmpty }

    /// The lgK the result will have.
    public var lgK: Int { gadget.lgK }

    /// Adds a sketch.
    public mutating func update(_ sketch: HLLSketch) {
        guard !sketch.isEmpty else { return }
        switch sketch.mode {
        case .list, .set:
            if gadget.isEmpty && sketch.lgK == gadget.lgK {
                gadget = sketch.converted(to: .hll8)
            } else {
                for coupon in sketch.coupons.slots where coupon != 0 {
                    gadget.update(coupon: coupon)
                }
            }
        case .hll:
            let source = sketch.array!
            if gadget.isEmpty {
                gadget = Self.sketch(Self.copyOrDownsample(source, toLgK: lgMaxK))
            } else if gadget.mode != .hll {
                // The gadget's coupons go into a copy of the incoming registers.
                var array = Self.copyOrDownsample(source, toLgK: lgMaxK)
                for coupon in gadget.coupons.slots where coupon != 0 {
                    array.update(coupon: coupon)
                }
                gadget = Self.sketch(array)
            } else {
                var array = gadget.array!
                if source.lgK < array.lgK {
                    array = Self.copyOrDownsample(array, toLgK: source.lgK)
                }
                array.mergeRegisters(from: source)
                array.outOfOrder = true
                array.hip = 0
                gadget = Self.sketch(array)
            }
        }
    }

    /// The union as a sketch of the given register width.
    public func result(type: HLLTargetType = .hll4) -> HLLSketch {
        gadget.converted(to: type)
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

    static func sketch(_ array: HLLArray) -> HLLSketch {
        HLLSketch(
            lgK: array.lgK, type: .hll8, mode: .hll, coupons: CouponTable(lgSize: HLLConstants.lgInitListSize),
            array: array)
    }
}
