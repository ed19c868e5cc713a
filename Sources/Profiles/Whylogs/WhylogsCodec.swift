/// Reads and writes whylogs profiles (`.bin` files of whylogs 1.x).
///
/// * Reading accepts the v1 `WHY1` container and the v0 delimited `DatasetProfileMessage`
///   that whylogs 1.6.4 writes for profiles carrying model-performance metrics. Input is
///   distrusted: every length, offset and index is checked against the bytes present before
///   anything is allocated, and any byte string either decodes or throws a ``WhylogsError``
///   naming the problem and its byte offset — never a trap.
/// * Writing produces the v1 container the way whylogs 1.6.4 does, readable by
///   `whylogs.read(path)`.
///
/// Format: FORMATS.md section d and docs/formats.md ("whylogs v1").
public enum WhylogsCodec {
    /// True when `bytes` start with the whylogs v1 magic `WHY1`.
    public static func isWhylogs(_ bytes: [UInt8]) -> Bool {
        WhylogsContainer.hasMagic(bytes)
    }

    /// True when `bytes` are framed like a whylogs v0 message (a varint length equal to the
    /// rest of the file, then a field tag of `DatasetProfileMessage`). A cheap sniff for
    /// format detection; only ``readView(_:)`` validates the content.
    public static func isWhylogsV0(_ bytes: [UInt8]) -> Bool {
        !WhylogsContainer.hasMagic(bytes) && WhylogsV0.looksLikeV0(bytes)
    }

    /// Reads a whylogs v1 or v0 file into its metric components without interpreting them.
    ///
    /// - Throws: ``WhylogsError`` for bytes that are neither format or are corrupt.
    /// - Complexity: O(n) in the file size: every byte is parsed at most once.
    public static func readView(_ bytes: [UInt8]) throws(WhylogsError) -> WhylogsProfileView {
        if WhylogsContainer.hasMagic(bytes) {
            return try WhylogsContainer.read(bytes)
        }
        if WhylogsV0.looksLikeV0(bytes) {
            return try WhylogsV0.read(bytes)
        }
        let head = bytes.prefix(4).map { $0 < 0x10 ? "0\(String($0, radix: 16))" : String($0, radix: 16) }
        throw .malformed(
            at: 0,
            "not a whylogs profile: no WHY1 magic (starts with \(head.joined(separator: " "))) and not a v0 "
                + "delimited DatasetProfileMessage")
    }

    /// Writes a view as a whylogs v1 container (never v0: a view's model-performance block is
    /// not written).
    public static func writeView(_ view: WhylogsProfileView) -> [UInt8] {
        WhylogsContainer.write(view)
    }
}
