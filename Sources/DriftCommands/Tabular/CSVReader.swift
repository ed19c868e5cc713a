#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A streaming RFC 4180 CSV reader: comma-separated fields, optional double quotes with `""`
/// as an escaped quote, quoted fields may contain commas and line breaks, records end with
/// LF or CRLF. Input is UTF-8 (a leading byte-order mark is skipped).
///
/// Reads in 1 MiB blocks, so memory stays bounded by the longest record; a record longer than
/// ``maximumRecordBytes`` is an error rather than an unbounded allocation.
final class CSVReader {
    static let maximumRecordBytes = 64 << 20

    private let file: UnsafeMutablePointer<FILE>
    private let ownsFile: Bool
    private var block = [UInt8](repeating: 0, count: 1 << 20)
    private var blockCount = 0
    private var position = 0
    private var atEOF = false
    private var field: [UInt8] = []
    /// 1-based line number where the record last returned started.
    private(set) var recordLine = 0
    private var line = 1
    let name: String
    /// Bytes consumed so far, for progress reporting.
    private(set) var bytesRead: Int = 0

    init(path: String) throws(CLIError) {
        if path == "-" {
            guard let f = fdopen(0, "rb") else { throw CLIError("cannot read standard input") }
            file = f
            ownsFile = false
            name = "standard input"
        } else {
            guard let f = fopen(path, "rb") else {
                throw CLIError("cannot open \(path): \(String(cString: strerror(errno)))")
            }
            file = f
            ownsFile = true
            name = path
        }
        refill()
        if blockCount >= 3, block[0] == 0xEF, block[1] == 0xBB, block[2] == 0xBF { position = 3 }
    }

    deinit {
        if ownsFile { fclose(file) }
    }

    private func refill() {
        guard !atEOF else { return }
        blockCount = block.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
        bytesRead += blockCount
        position = 0
        if blockCount == 0 { atEOF = true }
    }

    @inline(__always)
    private func nextByte() -> UInt8? {
        if position == blockCount {
            refill()
            if blockCount == 0 { return nil }
        }
        defer { position += 1 }
        return block[position]
    }

    @inline(__always)
    private func peekByte() -> UInt8? {
        if position == blockCount {
            refill()
            if blockCount == 0 { return nil }
        }
        return block[position]
    }

    /// The next record's fields, or nil at the end of the input. Blank lines are skipped.
    func next() throws(CLIError) -> [String]? {
        var fields: [String] = []
        var recordBytes = 0
        recordLine = line
        field.removeAll(keepingCapacity: true)
        var inQuotes = false
        var wasQuoted = false
        var sawAny = false
        while true {
            guard let byte = nextByte() else {
                if inQuotes {
                    throw CLIError("\(name):\(recordLine): quoted field not closed before the end of the input")
                }
                if !sawAny { return nil }
                fields.append(String(decoding: field, as: UTF8.self))
                return fields
            }
            sawAny = true
            recordBytes += 1
            if recordBytes > Self.maximumRecordBytes {
                throw CLIError("\(name):\(recordLine): record longer than \(Self.maximumRecordBytes) bytes")
            }
            if inQuotes {
                if byte == UInt8(ascii: "\"") {
                    if peekByte() == UInt8(ascii: "\"") {
                        _ = nextByte()
                        field.append(byte)
                    } else {
                        inQuotes = false
                    }
                } else {
                    if byte == UInt8(ascii: "\n") { line += 1 }
                    field.append(byte)
                }
                continue
            }
            switch byte {
            case UInt8(ascii: ","):
                fields.append(String(decoding: field, as: UTF8.self))
                field.removeAll(keepingCapacity: true)
                wasQuoted = false
            case UInt8(ascii: "\""):
                guard field.isEmpty, !wasQuoted else {
                    throw CLIError("\(name):\(line): stray quote inside an unquoted field (quote the whole field)")
                }
                inQuotes = true
                wasQuoted = true
            case UInt8(ascii: "\r"):
                if peekByte() == UInt8(ascii: "\n") { continue }
                field.append(byte)
            case UInt8(ascii: "\n"):
                line += 1
                if fields.isEmpty, field.isEmpty, !wasQuoted {
                    // A blank line: skip it.
                    recordLine = line
                    recordBytes = 0
                    sawAny = false
                    continue
                }
                fields.append(String(decoding: field, as: UTF8.self))
                return fields
            default:
                if wasQuoted {
                    throw CLIError("\(name):\(line): characters after the closing quote of a field")
                }
                field.append(byte)
            }
        }
    }
}
