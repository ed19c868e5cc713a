/// The item types a ``KLLSketch`` can hold: `Double` and `Float`.
///
/// DataSketches writes KLL items as IEEE-754 values in little-endian byte order, 8 bytes for
/// `kll_doubles_sketch` and 4 bytes for `kll_floats_sketch` (FORMATS.md section a). The
/// requirements below give the codec the bit pattern of an item; the byte order is the
/// codec's business (``ByteReader`` / ``ByteWriter`` are little-endian).
public protocol KLLItem: BinaryFloatingPoint, Sendable {
    /// Which of the two DataSketches KLL encodings this type uses.
    static var kllItemType: KLLItemType { get }
    /// The IEEE-754 bit pattern, zero-extended to 64 bits.
    var kllBitPattern: UInt64 { get }
    /// Rebuilds an item from the low `kllItemType.byteSize` bytes of `kllBitPattern`.
    init(kllBitPattern: UInt64)
}

/// The item encoding of a KLL image. The image header does not say which one it is; see
/// ``KLLImage/itemType(of:)``.
public enum KLLItemType: String, Sendable {
    /// `kll_doubles_sketch`: 8-byte IEEE-754 binary64 items.
    case double
    /// `kll_floats_sketch`: 4-byte IEEE-754 binary32 items.
    case float

    /// Bytes per item in an image.
    public var byteSize: Int {
        switch self {
        case .double: return 8
        case .float: return 4
        }
    }
}

extension Double: KLLItem {
    public static var kllItemType: KLLItemType { .double }
    public var kllBitPattern: UInt64 { bitPattern }
    public init(kllBitPattern: UInt64) { self.init(bitPattern: kllBitPattern) }
}

extension Float: KLLItem {
    public static var kllItemType: KLLItemType { .float }
    public var kllBitPattern: UInt64 { UInt64(bitPattern) }
    public init(kllBitPattern: UInt64) { self.init(bitPattern: UInt32(truncatingIfNeeded: kllBitPattern)) }
}

extension ByteReader {
    /// Reads one KLL item (4 or 8 bytes, little-endian) of the given type.
    mutating func kllItem<Item: KLLItem>(_ type: Item.Type, _ what: String) throws(SketchError) -> Item {
        switch Item.kllItemType {
        case .double: return Item(kllBitPattern: try u64(what))
        case .float: return Item(kllBitPattern: UInt64(try u32(what)))
        }
    }
}

extension ByteWriter {
    /// Appends one KLL item (4 or 8 bytes, little-endian).
    mutating func kllItem<Item: KLLItem>(_ item: Item) {
        switch Item.kllItemType {
        case .double: u64(item.kllBitPattern)
        case .float: u32(UInt32(truncatingIfNeeded: item.kllBitPattern))
        }
    }
}
