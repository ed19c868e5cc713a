public import Profiles

/// A PostgreSQL type, named by its OID (the `oid` column of `pg_type`).
///
/// Only the types Driftwatch binds or reads are named; any other OID can still be wrapped.
/// OIDs of built-in types are fixed: https://github.com/postgres/postgres/blob/master/src/include/catalog/pg_type.dat
public struct PostgresType: Hashable, Sendable, CustomStringConvertible {
    public let oid: UInt32

    public init(oid: UInt32) { self.oid = oid }

    public static let unknown = PostgresType(oid: 0)
    public static let bool = PostgresType(oid: 16)
    public static let bytea = PostgresType(oid: 17)
    public static let name = PostgresType(oid: 19)
    public static let int8 = PostgresType(oid: 20)
    public static let int2 = PostgresType(oid: 21)
    public static let int4 = PostgresType(oid: 23)
    public static let text = PostgresType(oid: 25)
    public static let oidType = PostgresType(oid: 26)
    public static let json = PostgresType(oid: 114)
    public static let float4 = PostgresType(oid: 700)
    public static let float8 = PostgresType(oid: 701)
    public static let bpchar = PostgresType(oid: 1042)
    public static let varchar = PostgresType(oid: 1043)
    public static let timestamptz = PostgresType(oid: 1184)
    public static let uuid = PostgresType(oid: 2950)
    public static let jsonb = PostgresType(oid: 3802)
    public static let boolArray = PostgresType(oid: 1000)
    public static let byteaArray = PostgresType(oid: 1001)
    public static let int4Array = PostgresType(oid: 1007)
    public static let textArray = PostgresType(oid: 1009)
    public static let int8Array = PostgresType(oid: 1016)
    public static let float8Array = PostgresType(oid: 1022)
    public static let timestamptzArray = PostgresType(oid: 1185)
    public static let uuidArray = PostgresType(oid: 2951)

    /// The array type whose elements are of this type, for the types Driftwatch binds as arrays.
    public var arrayType: PostgresType? {
        switch self {
        case .bool: .boolArray
        case .bytea: .byteaArray
        case .int4: .int4Array
        case .int8: .int8Array
        case .text: .textArray
        case .float8: .float8Array
        case .timestamptz: .timestamptzArray
        case .uuid: .uuidArray
        default: nil
        }
    }

    /// Types whose binary form is their UTF-8 text.
    var isTextual: Bool {
        self == .text || self == .varchar || self == .bpchar || self == .name || self == .json || self == .unknown
    }

    public var description: String {
        switch self {
        case .bool: "bool"
        case .bytea: "bytea"
        case .name: "name"
        case .int8: "int8"
        case .int2: "int2"
        case .int4: "int4"
        case .text: "text"
        case .json: "json"
        case .float4: "float4"
        case .float8: "float8"
        case .varchar: "varchar"
        case .timestamptz: "timestamptz"
        case .uuid: "uuid"
        case .jsonb: "jsonb"
        case .textArray: "text[]"
        case .int8Array: "int8[]"
        default: "oid \(oid)"
        }
    }
}

/// A point in time as PostgreSQL's `timestamptz` holds it: microseconds since the Unix epoch
/// (UTC). Driftwatch's profiles count milliseconds; ``milliseconds`` converts, rounding down.
public struct PostgresTimestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var microsecondsSinceEpoch: Int64

    public init(microsecondsSinceEpoch: Int64) { self.microsecondsSinceEpoch = microsecondsSinceEpoch }

    /// - Precondition: `milliseconds` is within ±292,000 years of 1970 (the microsecond count
    ///   fits in 64 bits); stores validate untrusted times against far narrower bounds.
    public init(milliseconds: Int64) { self.microsecondsSinceEpoch = milliseconds * 1000 }

    /// Milliseconds since the Unix epoch, rounded towards negative infinity.
    public var milliseconds: Int64 {
        let (q, r) = microsecondsSinceEpoch.quotientAndRemainder(dividingBy: 1000)
        return r < 0 ? q - 1 : q
    }

    /// Microseconds between the Unix epoch and PostgreSQL's epoch, 2000-01-01 00:00:00 UTC, which
    /// the binary `timestamptz` format counts from (src/include/datatype/timestamp.h).
    static let postgresEpochOffset: Int64 = 946_684_800 * 1_000_000

    public static func < (a: PostgresTimestamp, b: PostgresTimestamp) -> Bool {
        a.microsecondsSinceEpoch < b.microsecondsSinceEpoch
    }

    /// RFC 3339 in UTC with millisecond precision, e.g. `2025-01-31T12:00:00.000Z`.
    public var description: String { RFC3339.format(milliseconds: milliseconds) }
}

/// A statement parameter, sent to the server in binary form with its type's OID.
///
/// Every parameter travels out of band (`PQexecParams`), never spliced into SQL text, so
/// no value can change the statement. Binary forms follow each type's `send` function in
/// PostgreSQL's `src/backend/utils/adt`: big-endian integers and IEEE 754 doubles, UTF-8
/// text, raw bytea bytes, the 16 bytes of a UUID, and `timestamptz` as microseconds since
/// 2000-01-01 UTC (``PostgresTimestamp``), which avoids any dependence on the session's
/// `TimeZone` or `DateStyle`. ``null`` has no type: the server infers it from the context
/// (add a cast such as `$1::int8` where the context does not say).
public enum PostgresValue: Sendable {
    case null
    case bool(Bool)
    case int32(Int32)
    case int64(Int64)
    case double(Double)
    case text(String)
    case bytea([UInt8])
    case uuid(UploadID)
    case timestamp(PostgresTimestamp)
    /// A one-dimensional array whose elements are all of `element` (or ``null``).
    indirect case array(element: PostgresType, [PostgresValue])

    /// A `timestamptz` at `milliseconds` since the Unix epoch.
    public static func timestamp(milliseconds: Int64) -> PostgresValue {
        .timestamp(PostgresTimestamp(milliseconds: milliseconds))
    }

    /// `text` or NULL.
    public static func text(_ value: String?) -> PostgresValue { value.map { .text($0) } ?? .null }
    /// `int8` or NULL.
    public static func int64(_ value: Int64?) -> PostgresValue { value.map { .int64($0) } ?? .null }
    /// `float8` or NULL.
    public static func double(_ value: Double?) -> PostgresValue { value.map { .double($0) } ?? .null }

    /// `text[]`.
    public static func textArray(_ values: [String]) -> PostgresValue {
        .array(element: .text, values.map { .text($0) })
    }
    /// `int8[]`.
    public static func int64Array(_ values: [Int64]) -> PostgresValue {
        .array(element: .int8, values.map { .int64($0) })
    }
    /// `float8[]`, with NULL for nil.
    public static func doubleArray(_ values: [Double?]) -> PostgresValue {
        .array(element: .float8, values.map { .double($0) })
    }
    /// `timestamptz[]` from milliseconds since the Unix epoch.
    public static func timestampArray(milliseconds values: [Int64]) -> PostgresValue {
        .array(element: .timestamptz, values.map { .timestamp(milliseconds: $0) })
    }

    /// The type OID sent with the value (0 for NULL: let the server infer it).
    var type: PostgresType {
        switch self {
        case .null: .unknown
        case .bool: .bool
        case .int32: .int4
        case .int64: .int8
        case .double: .float8
        case .text: .text
        case .bytea: .bytea
        case .uuid: .uuid
        case .timestamp: .timestamptz
        case .array(let element, _): element.arrayType ?? .unknown
        }
    }

    /// Appends the binary form (without a length prefix) to `buffer`. NULL appends nothing.
    ///
    /// - Throws: ``StorageError/Code/misuse`` for an array of a type without an array type or
    ///   with an element of another type.
    func writeBinary(into buffer: inout [UInt8]) throws(StorageError) {
        switch self {
        case .null: break
        case .bool(let v): buffer.append(v ? 1 : 0)
        case .int32(let v): buffer.appendBigEndian(UInt32(bitPattern: v))
        case .int64(let v): buffer.appendBigEndian(UInt64(bitPattern: v))
        case .double(let v): buffer.appendBigEndian(v.bitPattern)
        case .text(let v): buffer.append(contentsOf: v.utf8)
        case .bytea(let v): buffer.append(contentsOf: v)
        case .uuid(let v):
            buffer.appendBigEndian(v.high)
            buffer.appendBigEndian(v.low)
        case .timestamp(let t):
            buffer.appendBigEndian(UInt64(bitPattern: t.microsecondsSinceEpoch - PostgresTimestamp.postgresEpochOffset))
        case .array(let element, let values):
            // Array binary layout (array_send in src/backend/utils/adt/arrayfuncs.c):
            //   int32 ndim | int32 has-nulls flag | uint32 element oid |
            //   per dimension: int32 length, int32 lower bound (1) |
            //   per element: int32 byte length (-1 for NULL) then the element's binary form.
            guard element.arrayType != nil else {
                throw StorageError(.misuse, "cannot bind an array of \(element)")
            }
            buffer.appendBigEndian(UInt32(values.isEmpty ? 0 : 1))
            buffer.appendBigEndian(UInt32(values.contains { if case .null = $0 { true } else { false } } ? 1 : 0))
            buffer.appendBigEndian(element.oid)
            if !values.isEmpty {
                buffer.appendBigEndian(UInt32(values.count))
                buffer.appendBigEndian(UInt32(1))
            }
            for value in values {
                if case .null = value {
                    buffer.appendBigEndian(UInt32(bitPattern: -1))
                    continue
                }
                guard value.type == element else {
                    throw StorageError(.misuse, "array of \(element) holds a \(value.type) element")
                }
                try value.writeLengthPrefixed(into: &buffer)
            }
        }
    }

    /// Appends an int32 length (-1 for NULL) and the binary form: the layout of a field in an
    /// array, a binary COPY tuple or a composite.
    func writeLengthPrefixed(into buffer: inout [UInt8]) throws(StorageError) {
        if case .null = self {
            buffer.appendBigEndian(UInt32(bitPattern: -1))
            return
        }
        let lengthAt = buffer.count
        buffer.appendBigEndian(UInt32(0))
        try writeBinary(into: &buffer)
        let length = buffer.count - lengthAt - 4
        guard length <= Int(Int32.max) else {
            throw StorageError(.misuse, "a \(type) value of \(length) bytes exceeds PostgreSQL's 1 GB field limit")
        }
        buffer.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: UInt32(length).bigEndian, toByteOffset: lengthAt, as: UInt32.self)
        }
    }
}

extension PostgresValue: ExpressibleByNilLiteral, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByBooleanLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int64) { self = .int64(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension [UInt8] {
    mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }
}
