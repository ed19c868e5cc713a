/// A bounds-checked little-endian reader over a sketch image.
///
/// Every read checks the bytes actually present first and throws a ``SketchError`` naming
/// the family and offset, so decoders never trap or over-allocate on hostile input.
/// All DataSketches images are little-endian (see docs/formats.md).
struct ByteReader {
    let bytes: [UInt8]
    let family: String
    private(set) var offset: Int = 0

    init(_ bytes: some Collection<UInt8>, family: String) {
        self.bytes = Array(bytes)
        self.family = family
    }

    var count: Int { bytes.count }
    var remaining: Int { bytes.count - offset }

    /// Throws unless `n` more bytes are present at the current offset; `what` names the field
    /// (evaluated only on failure, so an interpolated name costs nothing on the happy path).
    func require(_ n: Int, _ what: @autoclosure () -> String) throws(SketchError) {
        guard n >= 0, n <= remaining else {
            throw error("truncated: \(what()) needs \(n) bytes, \(remaining) remain")
        }
    }

    func error(_ reason: String, at position: Int? = nil) -> SketchError {
        .malformed(family, at: position ?? offset, reason)
    }

    mutating func seek(to position: Int, _ what: String) throws(SketchError) {
        guard position >= 0, position <= bytes.count else {
            throw error("truncated: \(what) starts at byte \(position) but the image has \(bytes.count) bytes")
        }
        offset = position
    }

    mutating func skip(_ n: Int, _ what: String) throws(SketchError) {
        try require(n, what)
        offset += n
    }

    mutating func u8(_ what: String) throws(SketchError) -> UInt8 {
        try require(1, what)
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16(_ what: String) throws(SketchError) -> UInt16 {
        try require(2, what)
        defer { offset += 2 }
        return UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
    }

    mutating func u32(_ what: String) throws(SketchError) -> UInt32 {
        try require(4, what)
        defer { offset += 4 }
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(bytes[offset + i]) << (8 * UInt32(i)) }
        return v
    }

    mutating func u64(_ what: String) throws(SketchError) -> UInt64 {
        try require(8, what)
        defer { offset += 8 }
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
        return v
    }

    mutating func f32(_ what: String) throws(SketchError) -> Float {
        Float(bitPattern: try u32(what))
    }

    mutating func f64(_ what: String) throws(SketchError) -> Double {
        Double(bitPattern: try u64(what))
    }

    /// Copies the next `destination.count` bytes into `destination` in one block (for arrays of
    /// little-endian numbers on a little-endian host).
    ///
    /// - Precondition: the bytes are present (the caller has called ``require(_:_:)``).
    mutating func copyBytes(into destination: UnsafeMutableRawBufferPointer) {
        precondition(destination.count <= remaining, "copyBytes past the checked length")
        let start = offset
        bytes.withUnsafeBytes { source in
            destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[start..<(start + destination.count)]))
        }
        offset += destination.count
    }

    /// Reads `n` raw bytes; `n` is checked against the bytes present before copying.
    mutating func bytes(_ n: Int, _ what: String) throws(SketchError) -> ArraySlice<UInt8> {
        try require(n, what)
        defer { offset += n }
        return bytes[offset..<(offset + n)]
    }
}

/// Appends little-endian fields to a growing image.
struct ByteWriter {
    private(set) var bytes: [UInt8]

    init(capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: v))
        bytes.append(UInt8(truncatingIfNeeded: v >> 8))
    }
    mutating func u32(_ v: UInt32) {
        for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) }
    }
    mutating func u64(_ v: UInt64) {
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) }
    }
    mutating func f32(_ v: Float) { u32(v.bitPattern) }
    mutating func f64(_ v: Double) { u64(v.bitPattern) }
    mutating func append(contentsOf other: some Sequence<UInt8>) { bytes.append(contentsOf: other) }
    /// Appends a block of raw memory in one copy.
    mutating func append(raw: UnsafeRawBufferPointer) { bytes.append(contentsOf: raw) }
}
