extension HLLSketch {
    /// The distinct-count estimate: the coupon-collector curve in LIST/SET mode; in HLL mode the
    /// HIP estimate, or the composite estimate for out-of-order (union) sketches.
    public var estimate: Double {
        switch mode {
        case .list, .set: return coupons.estimate
        case .hll: return array!.estimate
        }
    }

    /// The composite (non-HIP) estimate, whatever the out-of-order flag says.
    public var compositeEstimate: Double {
        switch mode {
        case .list, .set: return coupons.estimate
        case .hll: return array!.compositeEstimate
        }
    }

    /// The lower bound at `standardDeviations` (1, 2 or 3) standard deviations: the true count
    /// is at least this with probability ≈ 84.1 %, 97.7 % or 99.9 %.
    ///
    /// - Precondition: `standardDeviations` is 1, 2 or 3.
    public func lowerBound(standardDeviations: Int) -> Double {
        precondition((1...3).contains(standardDeviations), "HLL bounds take 1, 2 or 3 standard deviations")
        switch mode {
        case .list, .set: return coupons.bound(upper: false, standardDeviations: standardDeviations)
        case .hll: return array!.lowerBound(standardDeviations: standardDeviations)
        }
    }

    /// The upper bound at `standardDeviations` (1, 2 or 3) standard deviations.
    ///
    /// - Precondition: `standardDeviations` is 1, 2 or 3.
    public func upperBound(standardDeviations: Int) -> Double {
        precondition((1...3).contains(standardDeviations), "HLL bounds take 1, 2 or 3 standard deviations")
        switch mode {
        case .list, .set: return coupons.bound(upper: true, standardDeviations: standardDeviations)
        case .hll: return array!.upperBound(standardDeviations: standardDeviations)
        }
    }

    /// The relative standard error of the estimate for this configuration: 0.8326/√K (HIP) or
    /// 1.039/√K (out of order).
    public var relativeStandardError: Double {
        (isOutOfOrder ? HLLConstants.nonHipRSEFactor : HLLConstants.hipRSEFactor) / HLLConstants.squareRootOfK(lgK: lgK)
    }

    /// LIST/SET: the number of coupons held; HLL: the number of non-zero registers (when the
    /// HLL_4 offset is 0) — a floor under any distinct count.
    var couponCountOrNonZeroRegisters: Int {
        switch mode {
        case .list, .set: return coupons.count
        case .hll: return array!.curMin == 0 ? (1 << lgK) - Int(array!.numAtCurMin) : 1 << lgK
        }
    }
}
