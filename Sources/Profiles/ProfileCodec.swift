/// The two profile formats Driftwatch reads and writes.
public enum ProfileFormat: String, Sendable, CaseIterable {
    /// `DWP1` + protobuf (``NativeCodec``).
    case native
    /// whylogs v1 `.bin` (``WhylogsCodec``); whylogs v0 messages are read too.
    case whylogs
}

/// Reads a profile in any supported format (detected from its first bytes) and writes one in
/// a chosen format.
public enum ProfileCodec {
    /// The format of `bytes`, or nil when they are neither native nor whylogs.
    public static func detect(_ bytes: [UInt8]) -> ProfileFormat? {
        if NativeCodec.isNative(bytes) { return .native }
        if WhylogsCodec.isWhylogs(bytes) || WhylogsCodec.isWhylogsV0(bytes) { return .whylogs }
        return nil
    }

    /// Decodes a native or whylogs profile.
    ///
    /// - Throws: ``ProfileError`` naming the format, the problem and where.
    public static func decode(_ bytes: [UInt8]) throws(ProfileError) -> (profile: DatasetProfile, format: ProfileFormat)
    {
        switch detect(bytes) {
        case .native:
            return (try NativeCodec.decode(bytes), .native)
        case .whylogs:
            return (try WhylogsCodec.decodeProfile(bytes), .whylogs)
        case nil:
            let head = bytes.prefix(4).map { byte in
                let hex = String(byte, radix: 16)
                return byte < 0x10 ? "0" + hex : hex
            }
            throw .malformed(
                format: "profile", at: 0,
                "neither a Driftwatch profile (DWP1) nor a whylogs profile (WHY1 or v0); the file starts with "
                    + (head.isEmpty ? "nothing (it is empty)" : head.joined(separator: " ")))
        }
    }

    public static func encode(_ profile: DatasetProfile, format: ProfileFormat) -> [UInt8] {
        switch format {
        case .native: return NativeCodec.encode(profile)
        case .whylogs: return WhylogsCodec.encodeProfile(profile)
        }
    }
}
