public import Sketches

/// An error from building, merging or decoding a profile. The description always names what
/// was wrong and where (a column, a byte offset, a parameter).
public enum ProfileError: Error, CustomStringConvertible, Sendable, Equatable {
    /// A configuration value outside its documented range.
    case invalidConfiguration(String)
    /// Two profiles that cannot be merged (different models, incompatible performance blocks).
    case incompatible(String)
    /// Bytes that are not a valid profile: `offset` is the byte where the problem was found.
    case malformed(format: String, at: Int, String)
    /// A sketch inside a profile failed to decode.
    case sketch(column: String, field: String, SketchError)

    public var description: String {
        switch self {
        case .invalidConfiguration(let reason): return "invalid profile configuration: \(reason)"
        case .incompatible(let reason): return "cannot merge profiles: \(reason)"
        case .malformed(let format, let offset, let reason): return "\(format) profile: \(reason) at byte \(offset)"
        case .sketch(let column, let field, let error): return "column '\(column)' \(field): \(error)"
        }
    }
}
