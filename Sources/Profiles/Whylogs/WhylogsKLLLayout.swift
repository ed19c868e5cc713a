/// Conversion between the standard KLL doubles image (preamble 5, written by DataSketches
/// C++/Python 5.x and by Driftwatch) and the legacy one whylogs reads and writes.
///
/// Source: FORMATS.md section a, "Legacy doubles layout": older datasketches-java
/// (`PREAMBLE_INTS_DOUBLE = 6`, `DATA_START_DOUBLE = 24`) and whylogs' fork
/// `whylogs-sketching` 3.4.1.dev3 write multi-item doubles images with preamble_ints = 6:
/// bytes 19–23 unused and the level offsets from byte 24 instead of 20; everything else is
/// identical. Empty and single-item images (preamble 2) are the same in both. The two are
/// mutually unreadable (datasketches 5.2.0 rejects 6, whylogs-sketching rejects 5), so the
/// writer must convert.
///
///     standard (5):  0 preInts=5 | ... | 16-17 min k | 18 num levels | 19 unused | 20.. offsets
///     legacy   (6):  0 preInts=6 | ... | 16-17 min k | 18 num levels | 19-23 unused | 24.. offsets
enum WhylogsKLLLayout {
    /// Byte 0 of a KLL image: preamble size in 32-bit words.
    static let standardPreambleInts: UInt8 = 5
    static let legacyPreambleInts: UInt8 = 6
    /// Where the level offsets start in a standard full image (4 · 5).
    static let standardDataStart = 20
    static let paddingBytes = 4

    /// The legacy image of a standard multi-item doubles image; other images are returned
    /// unchanged (they are the same in both layouts).
    static func legacy(fromStandard image: [UInt8]) -> [UInt8] {
        guard image.count >= standardDataStart, image[0] == standardPreambleInts else { return image }
        var out = image
        out[0] = legacyPreambleInts
        out.insert(contentsOf: repeatElement(0, count: paddingBytes), at: standardDataStart)
        return out
    }

    /// The standard image of a legacy multi-item doubles image; other images are returned
    /// unchanged.
    static func standard(fromLegacy image: [UInt8]) -> [UInt8] {
        guard image.count >= standardDataStart + paddingBytes, image[0] == legacyPreambleInts else { return image }
        var out = image
        out[0] = standardPreambleInts
        out.removeSubrange(standardDataStart..<(standardDataStart + paddingBytes))
        return out
    }

    /// The doubles image with the same items as a floats image (whylogs 0.x wrote KLL floats
    /// histograms; widening f32 → f64 is exact, as whylogs' `float_to_doubles`). The header and
    /// level offsets are the same for both item types (FORMATS.md section a), so only the items
    /// are widened. Call only for an image that ``KLLImage/itemType(of:)`` reports as floats; a
    /// malformed image is returned as is and fails in the doubles decoder.
    static func doubles(fromFloats image: [UInt8]) -> [UInt8] {
        let itemsStart: Int
        switch image.first {
        case 2?: itemsStart = 8
        case standardPreambleInts?:
            guard image.count > 18 else { return image }
            itemsStart = standardDataStart + 4 * Int(image[18])
        default: return image
        }
        guard itemsStart <= image.count, (image.count - itemsStart) % 4 == 0 else { return image }
        var out = Array(image[0..<itemsStart])
        out.reserveCapacity(itemsStart + 2 * (image.count - itemsStart))
        var i = itemsStart
        while i < image.count {
            let bits =
                UInt32(image[i]) | UInt32(image[i + 1]) << 8 | UInt32(image[i + 2]) << 16 | UInt32(image[i + 3]) << 24
            let wide = Double(Float(bitPattern: bits)).bitPattern
            for b in 0..<8 { out.append(UInt8(truncatingIfNeeded: wide >> (8 * UInt64(b)))) }
            i += 4
        }
        return out
    }
}
