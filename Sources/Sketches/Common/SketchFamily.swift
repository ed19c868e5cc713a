/// The DataSketches families Driftwatch reads, identified by the family byte of the
/// preamble (byte 2 of every image). Family ids from Apache DataSketches' `Family` enum:
/// HLL = 7, frequent items = 10, KLL = 15.
public enum SketchFamily: String, Sendable, CaseIterable {
    case kll
    case hll
    case frequentItems = "frequent_items"

    /// Detects the family from the first bytes of an image; throws when the image is too
    /// short or the family byte is not one Driftwatch reads.
    public static func detect(_ image: some Collection<UInt8>) throws(SketchError) -> SketchFamily {
        let head = Array(image.prefix(3))
        guard head.count == 3 else {
            throw .malformed("sketch", at: head.count, "truncated: \(head.count) bytes, a preamble needs at least 8")
        }
        switch head[2] {
        case 15: return .kll
        case 7: return .hll
        case 10: return .frequentItems
        default:
            throw .malformed("sketch", at: 2, "unknown family id \(head[2]) (KLL = 15, HLL = 7, frequent items = 10)")
        }
    }
}
