#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Streams the lines of a file or of standard input without loading it whole.
///
/// Lines are split on `\n`; a trailing `\r` is removed (CRLF files). Bytes are decoded as
/// UTF-8, with invalid sequences replaced (U+FFFD).
final class LineReader {
    private let file: UnsafeMutablePointer<FILE>
    private let ownsFile: Bool
    private var buffer: UnsafeMutablePointer<CChar>? = nil
    private var capacity: Int = 0
    /// 1-based number of the line last returned, for error messages.
    private(set) var lineNumber = 0
    /// What to call the input in error messages.
    let name: String

    /// Opens `path`, or standard input when `path` is nil or `-`.
    init(path: String?) throws(CLIError) {
        if let path, path != "-" {
            guard let f = fopen(path, "rb") else {
                throw CLIError("cannot open \(path): \(String(cString: strerror(errno)))")
            }
            file = f
            ownsFile = true
            name = path
        } else {
            guard let f = fdopen(0, "rb") else { throw CLIError("cannot read standard input") }
            file = f
            ownsFile = false
            name = "standard input"
        }
    }

    deinit {
        free(buffer)
        if ownsFile { fclose(file) }
    }

    /// The next line, or nil at the end of the input.
    func next() throws(CLIError) -> String? {
        let length = getline(&buffer, &capacity, file)
        guard length >= 0, let buffer else {
            if ferror(file) != 0 { throw CLIError("\(name): read error: \(String(cString: strerror(errno)))") }
            return nil
        }
        lineNumber += 1
        var end = length
        if end > 0, buffer[end - 1] == 0x0A { end -= 1 }
        if end > 0, buffer[end - 1] == 0x0D { end -= 1 }
        return buffer.withMemoryRebound(to: UInt8.self, capacity: end) {
            String(decoding: UnsafeBufferPointer(start: $0, count: end), as: UTF8.self)
        }
    }
}
