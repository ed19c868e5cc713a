internal import Foundation
internal import SwiftProtobuf

/// Reads protobuf's "delimited" framing (a base-128 varint byte count, then the message) from
/// an untrusted byte string, checking every length against the bytes present before parsing.
///
/// Varint encoding: protobuf encoding guide, "Base 128 Varints" (at most 10 bytes for 64 bits).
struct WhylogsWireReader {
    let bytes: [UInt8]
    /// Reads stop here: the end of the file or of the enclosing area (the chunk area).
    var limit: Int
    private(set) var offset: Int

    init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.limit = bytes.count
        self.offset = offset
    }

    var remaining: Int { limit - offset }

    /// protobuf's own ceiling on a message size (2 GiB − 1, the C++ and Java parsers' limit);
    /// anything larger is corrupt even if the bytes were present.
    static let maximumMessageBytes: UInt64 = UInt64(Int32.max)

    /// Parse options: unknown fields are dropped (they are not needed and must not be retained
    /// from hostile input); swift-protobuf's default nesting limit (100) bounds recursion in
    /// `google.protobuf.Struct` values.
    static var decodingOptions: BinaryDecodingOptions {
        var options = BinaryDecodingOptions()
        options.discardUnknownFields = true
        return options
    }

    mutating func seek(to position: Int) {
        precondition(position >= 0 && position <= limit, "seek outside the checked area")
        offset = position
    }

    /// Reads one varint; `what` names the field for the error message.
    mutating func varint(_ what: String) throws(WhylogsError) -> UInt64 {
        let start = offset
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < limit else {
                throw .malformed(at: start, "truncated: \(what) (a varint) runs past the end at byte \(limit)")
            }
            let byte = bytes[offset]
            offset += 1
            if shift == 63 && byte > 1 {
                throw .malformed(at: start, "\(what): varint overflows 64 bits")
            }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
            if shift > 63 {
                throw .malformed(at: start, "\(what): varint longer than 10 bytes")
            }
        }
    }

    /// Reads a byte count and checks that many bytes are present (and below protobuf's ceiling)
    /// before anything is allocated; returns the range of the payload and moves past it.
    mutating func lengthPrefixedRange(_ what: String) throws(WhylogsError) -> Range<Int> {
        let start = offset
        let length = try varint("\(what) length")
        guard length <= Self.maximumMessageBytes else {
            throw .malformed(at: start, "\(what) length \(length) exceeds protobuf's 2 GiB message limit")
        }
        guard length <= UInt64(remaining) else {
            throw .malformed(
                at: start,
                "truncated: \(what) length \(length) runs past the end (\(remaining) bytes remain after the length)")
        }
        let range = offset..<(offset + Int(length))
        offset = range.upperBound
        return range
    }

    /// Reads a delimited message.
    mutating func delimited<M: SwiftProtobuf.Message>(_ type: M.Type, _ what: String) throws(WhylogsError) -> M {
        let start = offset
        let range = try lengthPrefixedRange(what)
        return try Self.parse(type, bytes[range], what, at: start)
    }

    /// Parses a non-delimited message occupying exactly `slice`; `position` is reported in errors.
    static func parse<M: SwiftProtobuf.Message>(
        _ type: M.Type, _ slice: ArraySlice<UInt8>, _ what: String, at position: Int
    ) throws(WhylogsError) -> M {
        do {
            return try M(serializedBytes: Array(slice), options: decodingOptions)
        } catch {
            throw .malformed(at: position, "\(what) (\(slice.count) bytes) is not a valid protobuf message: \(error)")
        }
    }
}

/// Appends protobuf's delimited framing.
struct WhylogsWireWriter {
    private(set) var bytes: [UInt8] = []

    static var encodingOptions: BinaryEncodingOptions {
        var options = BinaryEncodingOptions()
        // Map entries in key order, so the same profile always gives the same bytes.
        options.useDeterministicOrdering = true
        return options
    }

    mutating func append(_ raw: some Sequence<UInt8>) { bytes.append(contentsOf: raw) }

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// Appends a message without a length prefix.
    mutating func message(_ message: some SwiftProtobuf.Message) {
        bytes.append(contentsOf: Self.serialize(message))
    }

    /// Appends a length-prefixed message.
    mutating func delimited(_ message: some SwiftProtobuf.Message) {
        let body = Self.serialize(message)
        varint(UInt64(body.count))
        bytes.append(contentsOf: body)
    }

    static func serialize(_ message: some SwiftProtobuf.Message) -> [UInt8] {
        do {
            return try message.serializedBytes(options: encodingOptions)
        } catch {
            // Binary encoding only fails for proto2 messages with missing required fields;
            // every message here is proto3.
            preconditionFailure("proto3 binary encoding failed: \(error)")
        }
    }
}
