internal import Sketches

/// An error thrown while reading or writing a whylogs profile.
///
/// Decoding errors say what was wrong and at which byte offset of the file, e.g.
/// `whylogs profile: column 'age' chunk header: length 4000 runs past the chunk area (ends at byte 2497) at byte 640`.
/// A sketch image that fails to decode carries the sketch decoder's own message (with the offset
/// inside the image) plus the column, the metric path and the file offset of the column chunk.
public struct WhylogsError: Error, CustomStringConvertible, Sendable, Equatable {
    private enum Kind: Sendable, Equatable {
        /// Bytes that are not a well-formed whylogs profile.
        case malformed(offset: Int)
        /// A well-formed profile using a feature Driftwatch does not read.
        case unsupported(offset: Int)
        /// A profile that cannot be written in the whylogs format.
        case unencodable
    }

    private let kind: Kind
    /// A human-readable explanation without the prefix and the offset.
    public let reason: String

    /// The byte offset of the problem in the file, for decoding errors.
    public var offset: Int? {
        switch kind {
        case .malformed(let offset), .unsupported(let offset): return offset
        case .unencodable: return nil
        }
    }

    /// True when the bytes are a well-formed whylogs profile that uses a feature Driftwatch
    /// does not read (as opposed to corrupt or foreign bytes).
    public var isUnsupported: Bool {
        if case .unsupported = kind { return true }
        return false
    }

    public var description: String {
        switch kind {
        case .malformed(let offset), .unsupported(let offset): return "whylogs profile: \(reason) at byte \(offset)"
        case .unencodable: return "whylogs profile: \(reason)"
        }
    }

    static func malformed(at offset: Int, _ reason: String) -> WhylogsError {
        WhylogsError(kind: .malformed(offset: offset), reason: reason)
    }

    static func unsupported(at offset: Int, _ reason: String) -> WhylogsError {
        WhylogsError(kind: .unsupported(offset: offset), reason: reason)
    }

    static func unencodable(_ reason: String) -> WhylogsError {
        WhylogsError(kind: .unencodable, reason: reason)
    }

    /// A sketch image inside the profile failed to decode; `chunkOffset` is the file offset of
    /// the column chunk (v1) or of the message (v0) that holds it.
    static func sketch(column: String, path: String, chunkOffset: Int, _ error: SketchError) -> WhylogsError {
        malformed(at: chunkOffset, "column '\(column)' \(path): \(error.description) of the image, in the column data")
    }
}
