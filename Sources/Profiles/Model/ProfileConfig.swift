public import Sketches

/// Sketch parameters of a profile. Every column of a profile uses the same parameters, so that
/// profiles of the same model merge without re-sketching; merging profiles made with
/// different parameters is allowed and follows each sketch's own rules (KLL keeps the smaller
/// k's error, HLL unions at the smaller lgK, frequent items keep the larger map).
///
/// The defaults are chosen for accuracy per byte (see docs/formats.md, "Profile sizes"):
/// - KLL k = 200: normalized rank error ≈ 1.65 % (single rank, 99 % confidence), about
///   4.5 KB per numeric column once past ~10⁴ values.
/// - HLL lgK = 11, HLL_4: ≈ 1.9 % relative standard error (HIP), 1 064 bytes at most.
/// - Frequent items lgMaxMapSize = 7: up to 96 tracked items, error ≤ 3.5 / 128 of the
///   stream weight; strings are truncated to 128 UTF-8 bytes (on a character boundary)
///   before counting.
public struct ProfileConfig: Sendable, Hashable {
    public static let defaultKLLK = 200
    public static let defaultHLLLgK = 11
    public static let defaultFrequentItemsLgMaxMapSize = 7
    public static let defaultMaxStringLength = 128
    /// Bound on the classification label set of a performance block.
    public static let defaultMaxLabels = 64

    public var kllK: Int
    public var hllLgK: Int
    public var hllType: HLLTargetType
    public var frequentItemsLgMaxMapSize: Int
    /// Strings longer than this many UTF-8 bytes are truncated (at a character boundary) before
    /// entering the frequent-items sketch. The HLL sees the whole string.
    public var maxStringLength: Int
    public var maxLabels: Int

    /// - Throws: ``ProfileError/invalidConfiguration(_:)`` naming the first parameter that is
    ///   outside its range.
    public init(
        kllK: Int = defaultKLLK, hllLgK: Int = defaultHLLLgK, hllType: HLLTargetType = .hll4,
        frequentItemsLgMaxMapSize: Int = defaultFrequentItemsLgMaxMapSize,
        maxStringLength: Int = defaultMaxStringLength, maxLabels: Int = defaultMaxLabels
    ) throws(ProfileError) {
        guard (8...65535).contains(kllK) else {
            throw .invalidConfiguration("KLL k=\(kllK) out of range 8...65535")
        }
        guard (4...21).contains(hllLgK) else {
            throw .invalidConfiguration("HLL lgK=\(hllLgK) out of range 4...21")
        }
        guard
            (FrequentStringsSketch.minLgMaxMapSize...FrequentStringsSketch.maxLgMaxMapSize)
                .contains(frequentItemsLgMaxMapSize)
        else {
            throw .invalidConfiguration(
                "frequent-items lgMaxMapSize=\(frequentItemsLgMaxMapSize) out of range "
                    + "\(FrequentStringsSketch.minLgMaxMapSize)...\(FrequentStringsSketch.maxLgMaxMapSize)")
        }
        guard (1...65536).contains(maxStringLength) else {
            throw .invalidConfiguration("maxStringLength=\(maxStringLength) out of range 1...65536")
        }
        guard (2...4096).contains(maxLabels) else {
            throw .invalidConfiguration("maxLabels=\(maxLabels) out of range 2...4096")
        }
        self.kllK = kllK
        self.hllLgK = hllLgK
        self.hllType = hllType
        self.frequentItemsLgMaxMapSize = frequentItemsLgMaxMapSize
        self.maxStringLength = maxStringLength
        self.maxLabels = maxLabels
    }

    /// The defaults; cannot fail.
    public static let `default`: ProfileConfig = try! ProfileConfig()

    func makeKLL() -> KLLSketch<Double> {
        // The range is checked in init.
        try! KLLSketch<Double>(k: kllK)
    }

    func makeHLL() -> HLLSketch {
        try! HLLSketch(lgK: hllLgK, type: hllType)
    }

    func makeFrequentItems() -> FrequentStringsSketch {
        try! FrequentStringsSketch(lgMaxMapSize: frequentItemsLgMaxMapSize)
    }
}
