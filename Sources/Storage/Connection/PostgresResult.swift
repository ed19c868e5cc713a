internal import CLibPQ
public import Profiles

/// The wire format of a result column or a parameter: PostgreSQL's text output or the type's
/// binary `send` form.
public enum PostgresFormat: Int32, Sendable {
    case text = 0
    case binary = 1
}

/// The rows a statement returned, read in place from libpq's result (no copy).
///
/// A libpq result is read-only once created and independent of its connection, so it may be
/// read from any thread (libpq §34.21, "Behavior in Threaded Programs").
public final class PostgresResult: @unchecked Sendable {
    // @unchecked: `result` is never mutated after init and freed only in deinit.
    let result: OpaquePointer
    /// Column names, in order.
    public let columns: [String]
    /// Rows returned.
    public let rowCount: Int
    /// Rows inserted, updated, deleted, copied or selected by the command, as the server's
    /// command tag reports them (0 for commands without a count).
    public let affectedRows: Int

    init(taking result: OpaquePointer) {
        self.result = result
        let n = Int(PQnfields(result))
        columns = (0..<n).map { String(cString: PQfname(result, Int32($0))) }
        rowCount = Int(PQntuples(result))
        affectedRows = Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    deinit { PQclear(result) }

    /// The type of column `index`.
    public func type(ofColumn index: Int) -> PostgresType { PostgresType(oid: PQftype(result, Int32(index))) }

    /// The index of the column named `name`, or nil.
    public func columnIndex(_ name: String) -> Int? { columns.firstIndex(of: name) }

    /// The first column of the first row: the answer of a scalar query.
    ///
    /// - Throws: ``StorageError/Code/decoding`` when there is no row or it does not decode.
    public func scalar<T: PostgresDecodable>(_ type: T.Type = T.self) throws -> T {
        guard rowCount > 0, !columns.isEmpty else {
            throw StorageError(.decoding, "expected a row with one column, the statement returned none")
        }
        return try self[0].decode(T.self, at: 0)
    }
}

extension PostgresResult: RandomAccessCollection {
    public var startIndex: Int { 0 }
    public var endIndex: Int { rowCount }
    public subscript(position: Int) -> PostgresRow {
        precondition(position >= 0 && position < rowCount, "row \(position) out of 0..<\(rowCount)")
        return PostgresRow(result: self, index: position)
    }
}

/// One row of a ``PostgresResult``. Values are decoded on access with ``decode(_:at:)``.
public struct PostgresRow {
    public let result: PostgresResult
    public let index: Int

    /// The cell in column `column`.
    public func cell(_ column: Int) -> PostgresCell {
        precondition(column >= 0 && column < result.columns.count, "column \(column) out of range")
        let r = result.result
        let row = Int32(index)
        let col = Int32(column)
        let isNull = PQgetisnull(r, row, col) == 1
        let bytes = UnsafeRawBufferPointer(
            start: PQgetvalue(r, row, col), count: isNull ? 0 : Int(PQgetlength(r, row, col)))
        return PostgresCell(
            owner: result, column: result.columns[column], type: PostgresType(oid: PQftype(r, col)),
            format: PQfformat(r, col) == 1 ? .binary : .text, isNull: isNull, bytes: bytes)
    }

    /// Whether column `column` is NULL.
    public func isNull(at column: Int) -> Bool { PQgetisnull(result.result, Int32(index), Int32(column)) == 1 }

    /// The value of column `column` as `T`; decode as `T?` to accept NULL.
    ///
    /// - Throws: ``StorageError/Code/decoding`` naming the column when the value is NULL for a
    ///   non-optional `T` or does not convert.
    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self, at column: Int) throws -> T {
        guard column >= 0 && column < result.columns.count else {
            throw StorageError(.decoding, "no column \(column) (the row has \(result.columns.count))")
        }
        let cell = cell(column)
        if cell.isNull {
            guard let null = T.nullValue else {
                throw StorageError(.decoding, "column '\(cell.column)' is NULL, expected \(T.self)")
            }
            return null
        }
        return try T.decode(cell)
    }

    /// The value of the column named `name` as `T`.
    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self, _ name: String) throws -> T {
        guard let column = result.columnIndex(name) else {
            throw StorageError(
                .decoding, "no column '\(name)' in the result (\(result.columns.joined(separator: ", ")))")
        }
        return try decode(T.self, at: column)
    }

    /// The elements of a one-dimensional array column (binary results only). Decode as `T?`
    /// to accept NULL elements; a NULL array throws.
    public func decodeArray<T: PostgresDecodable>(_ type: T.Type, at column: Int) throws -> [T] {
        let cell = cell(column)
        if cell.isNull {
            throw StorageError(.decoding, "column '\(cell.column)' is NULL, expected an array of \(T.self)")
        }
        return try cell.arrayElements(T.self)
    }
}

/// One value of a result, valid while its row's result is alive.
public struct PostgresCell {
    let owner: PostgresResult
    /// The column's name.
    public let column: String
    public let type: PostgresType
    public let format: PostgresFormat
    public let isNull: Bool
    /// The raw bytes, in ``format``; empty for NULL.
    public let bytes: UnsafeRawBufferPointer

    func failure(_ expected: String, _ why: String? = nil) -> StorageError {
        StorageError(
            .decoding,
            "column '\(column)' (\(type), \(format)) does not decode as \(expected)" + (why.map { ": \($0)" } ?? ""))
    }

    var text: String { String(decoding: bytes, as: UTF8.self) }

    func bigEndian<T: FixedWidthInteger>(_: T.Type, at offset: Int = 0) -> T {
        var value: T = 0
        withUnsafeMutableBytes(of: &value) {
            $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + MemoryLayout<T>.size]))
        }
        return T(bigEndian: value)
    }

    /// Decodes the binary array form (see ``PostgresValue`` for the layout).
    func arrayElements<T: PostgresDecodable>(_: T.Type) throws -> [T] {
        guard format == .binary else { throw failure("[\(T.self)]", "array columns need binary results") }
        guard bytes.count >= 12 else { throw failure("[\(T.self)]", "array header truncated") }
        let ndim = bigEndian(Int32.self)
        let elementType = PostgresType(oid: bigEndian(UInt32.self, at: 8))
        if ndim == 0 { return [] }
        guard ndim == 1, bytes.count >= 20 else { throw failure("[\(T.self)]", "\(ndim)-dimensional array") }
        let count = Int(bigEndian(Int32.self, at: 12))
        var offset = 20
        var elements: [T] = []
        elements.reserveCapacity(Swift.max(0, count))
        for _ in 0..<count {
            guard offset + 4 <= bytes.count else { throw failure("[\(T.self)]", "array truncated") }
            let length = Int(bigEndian(Int32.self, at: offset))
            offset += 4
            if length < 0 {
                guard let null = T.nullValue else { throw failure("[\(T.self)]", "array holds a NULL") }
                elements.append(null)
                continue
            }
            guard offset + length <= bytes.count else { throw failure("[\(T.self)]", "array truncated") }
            let element = PostgresCell(
                owner: owner, column: column, type: elementType, format: .binary, isNull: false,
                bytes: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + length]))
            elements.append(try T.decode(element))
            offset += length
        }
        return elements
    }
}

/// A Swift type a result value decodes into.
///
/// Conversions accept both formats where the text form is unambiguous: integers from
/// `int2`/`int4`/`int8`, `Double` from `float4`/`float8` (cast `numeric` to `float8` in SQL),
/// `String` from any text-like type (and any type at all in text format), `[UInt8]` from
/// `bytea`, ``UploadID`` from `uuid`, ``PostgresTimestamp`` from `timestamptz`.
public protocol PostgresDecodable {
    /// Decodes a non-NULL value.
    static func decode(_ cell: PostgresCell) throws -> Self
    /// What SQL NULL decodes to, or nil when the type has no NULL (then NULL is an error).
    static var nullValue: Self? { get }
}

extension PostgresDecodable {
    public static var nullValue: Self? { nil }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public static func decode(_ cell: PostgresCell) throws -> Wrapped? { try Wrapped.decode(cell) }
    public static var nullValue: Wrapped?? { .some(.none) }
}

extension Int64: PostgresDecodable {
    public static func decode(_ cell: PostgresCell) throws -> Int64 {
        if cell.format == .text {
            guard let v = Int64(cell.text) else { throw cell.failure("Int64", "'\(cell.text)'") }
            return v
        }
        switch (cell.type, cell.bytes.count) {
        case (.int8, 8): return cell.bigEndian(Int64.self)
        case (.int4, 4): return Int64(cell.bigEndian(Int32.self))
        case (.int2, 2): return Int64(cell.bigEndian(Int16.self))
        case (.oidType, 4): return Int64(cell.bigEndian(UInt32.self))
        default: throw cell.failure("Int64")
        }
    }
}

extension Int: PostgresDecodable {
    public static func decode(_ cell: PostgresCell) throws -> Int {
        guard let v = Int(exactly: try Int64.decode(cell)) else { throw cell.failure("Int", "out of range") }
        return v
    }
}

extension Int32: PostgresDecodable {
    public static func decode(_ cell: PostgresCell) throws -> Int32 {
        guard let v = Int32(exactly: try Int64.decode(cell)) else { throw cell.failure("Int32", "out of range") }
        return v
    }
}

extension Double: PostgresDecodable {
    public static func decode(_ cell: PostgresCell) throws -> Double {
        if cell.format == .text {
            switch cell.text {
            case "NaN": return .nan
            case "Infinity": return .infinity
            case "-Infinity": return -.infinity
            case let t:
                guard let v = Double(t) else { throw cell.failure("Double", "'\(t)'") }
                return v
            }
        }
        switch (cell.type, cell.bytes.count) {
        case (.float8, 8): return Double(bitPattern: cell.bigEndian(UInt64.self))
        case (.float4, 4): return Double(Float(bitPattern: cell.bigEndian(UInt32.self)))
        default: throw cell.failure("Double")
        }
    }
}

extension Bool: PostgresDecodable {
    public static func decode(_ cell: PostgresCell) throws -> Bool {
        if cell.format == .text {
            switch cell.text {
            case "t": return true
            case "f": return false
            case let t: throw cell.failure("Bool", "'\(t)'")
            }
        }
        guard cell.type == .bool, cell.bytes.count == 1 else { throw cell.failure("Bool") }
        return cell.bytes[0] != 0
    }
}

extension String: PostgresDecodable {
    public static func decode(_ cell: PostgresCell) throws -> String {
        if cell.format == .text || cell.type.isTextual { return cell.text }
        switch cell.type {
        case .jsonb:
            // jsonb_send: a version byte (1) followed by the JSON text.
            guard cell.bytes.first == 1 else { throw cell.failure("String", "unknown jsonb version") }
            return String(decoding: UnsafeRawBufferPointer(rebasing: cell.bytes.dropFirst()), as: UTF8.self)
        case .uuid: return try UploadID.decode(cell).description
        default: throw cell.failure("String", "cast it to text in SQL")
        }
    }
}

extension [UInt8]: PostgresDecodable {
    public static func decode(_ cell: PostgresCell) throws -> [UInt8] {
        if cell.format == .binary {
            guard cell.type == .bytea else { throw cell.failure("[UInt8]") }
            return Array(cell.bytes)
        }
        // bytea's text output in the default hex format: `\x` then two hex digits per byte.
        let text = Array(cell.bytes)
        guard text.count >= 2, text[0] == UInt8(ascii: "\\"), text[1] == UInt8(ascii: "x"), text.count % 2 == 0 else {
            throw cell.failure("[UInt8]", "not hex bytea output")
        }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: c - 48
            case 97...102: c - 87
            case 65...70: c - 55
            default: nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(text.count / 2 - 1)
        var i = 2
        while i < text.count {
            guard let hi = nibble(text[i]), let lo = nibble(text[i + 1]) else {
                throw cell.failure("[UInt8]", "bad hex digit")
            }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }
}

extension UploadID: PostgresDecodable {
    public static func decode(_ cell: PostgresCell) throws -> UploadID {
        if cell.format == .text {
            guard let id = UploadID(cell.text) else { throw cell.failure("UploadID", "'\(cell.text)'") }
            return id
        }
        guard cell.type == .uuid, cell.bytes.count == 16 else { throw cell.failure("UploadID") }
        return UploadID(high: cell.bigEndian(UInt64.self), low: cell.bigEndian(UInt64.self, at: 8))
    }
}

extension PostgresTimestamp: PostgresDecodable {
    public static func decode(_ cell: PostgresCell) throws -> PostgresTimestamp {
        if cell.format == .text {
            guard let micros = RFC3339.parseMicroseconds(cell.text) else {
                throw cell.failure("PostgresTimestamp", "'\(cell.text)' (expected ISO output with an offset)")
            }
            return PostgresTimestamp(microsecondsSinceEpoch: micros)
        }
        guard cell.type == .timestamptz, cell.bytes.count == 8 else { throw cell.failure("PostgresTimestamp") }
        let raw = cell.bigEndian(Int64.self)
        // ±infinity are stored as Int64.max / Int64.min (src/include/datatype/timestamp.h).
        guard raw != .max && raw != .min else { throw cell.failure("PostgresTimestamp", "infinite timestamp") }
        let (micros, overflow) = raw.addingReportingOverflow(PostgresTimestamp.postgresEpochOffset)
        guard !overflow else { throw cell.failure("PostgresTimestamp", "out of range") }
        return PostgresTimestamp(microsecondsSinceEpoch: micros)
    }
}
