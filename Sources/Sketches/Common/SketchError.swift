/// An error thrown by the sketches: bad bytes handed to a decoder, or a parameter out of
/// its documented range.
///
/// The message always says what was wrong and, for decoding errors, at which byte offset
/// of the image, e.g. `KLL image: k=3 out of range 8...65535 at byte 4`.
public struct SketchError: Error, CustomStringConvertible, Sendable, Equatable {
    private enum Kind: Sendable, Equatable {
        case malformed(family: String, offset: Int)
        case invalidArgument
        case incompatible
    }

    private let kind: Kind
    /// A human-readable explanation without the family/offset prefix.
    public let reason: String

    /// The byte offset of the problem when the error came from a decoder.
    public var offset: Int? {
        if case .malformed(_, let offset) = kind { return offset }
        return nil
    }

    /// True when the error came from decoding an image (as opposed to a bad argument).
    public var isDecodingError: Bool {
        if case .malformed = kind { return true }
        return false
    }

    public var description: String {
        switch kind {
        case .malformed(let family, let offset): return "\(family) image: \(reason) at byte \(offset)"
        case .invalidArgument: return reason
        case .incompatible: return reason
        }
    }

    /// An image that cannot be decoded: `family` names the sketch ("KLL", "HLL", ...).
    public static func malformed(_ family: String, at offset: Int, _ reason: String) -> SketchError {
        SketchError(kind: .malformed(family: family, offset: offset), reason: reason)
    }

    /// A parameter outside its range, e.g. `KLL k=3 out of range 8...65535`.
    public static func invalidArgument(_ reason: String) -> SketchError {
        SketchError(kind: .invalidArgument, reason: reason)
    }

    /// Two sketches that cannot be combined (e.g. different seeds or families).
    public static func incompatible(_ reason: String) -> SketchError {
        SketchError(kind: .incompatible, reason: reason)
    }
}
