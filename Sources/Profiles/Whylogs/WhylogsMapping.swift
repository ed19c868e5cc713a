extension WhylogsCodec {
    /// Reads a whylogs v1 (or v0) file into a ``DatasetProfile``.
    public static func decodeProfile(_ bytes: [UInt8]) throws(ProfileError) -> DatasetProfile {
        throw .malformed(format: "whylogs", at: 0, "mapping whylogs profiles is not implemented yet")
    }

    /// Writes a profile as a whylogs v1 file readable by `whylogs.read()`.
    public static func encodeProfile(_ profile: DatasetProfile) -> [UInt8] {
        preconditionFailure("mapping whylogs profiles is not implemented yet")
    }
}
