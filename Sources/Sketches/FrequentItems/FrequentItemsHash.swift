/// The hash the DataSketches C++ library (and so the `datasketches` Python wheel, built with
/// GCC) uses to place a string item in the frequent-items hash map:
/// `fmix64(std::hash<std::string>{}(item))`.
///
/// - `std::hash<std::string>` in libstdc++ is `_Hash_bytes(data, size, 0xc70f6907)`, a 64-bit
///   Murmur-2-style hash (libstdc++ `libsupc++/hash_bytes.cc`, "Implementation of Murmur hash
///   for 64-bit size_t"; seed from `bits/functional_hash.h`, `_Hash_impl::hash`).
/// - `fmix64` is the MurmurHash3 64-bit finalizer (Appleby, MurmurHash3; datasketches-cpp
///   `common/include/MurmurHash3.h`), applied in `reverse_purge_hash_map_impl.hpp`.
///
/// Both are written here from those published descriptions (see FORMATS.md section c).
/// Only the low 32 bits of the result are ever needed: the map has at most 2^26 slots.
enum FrequentItemsHash {
    /// `_Hash_impl`'s default seed in libstdc++.
    static let stdStringSeed: UInt64 = 0xc70f_6907
    /// The 64-bit Murmur-2 multiplier, 0xc6a4a793_5bd1e995.
    static let multiplier: UInt64 = 0xc6a4_a793_5bd1_e995

    @inline(__always)
    static func shiftMix(_ v: UInt64) -> UInt64 { v ^ (v >> 47) }

    /// libstdc++'s `_Hash_bytes` for 64-bit `size_t`: the length is folded into the seed,
    /// whole 8-byte little-endian words are mixed one by one, the 1...7 trailing bytes are
    /// read as one little-endian integer, then two shift-mix rounds finish.
    @inline(__always)
    static func libstdcxxHashBytes(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = stdStringSeed) -> UInt64 {
        let count = bytes.count
        var hash = seed ^ (UInt64(truncatingIfNeeded: count) &* multiplier)
        let alignedCount = count & ~7
        var i = 0
        while i < alignedCount {
            let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            hash ^= shiftMix(word &* multiplier) &* multiplier
            hash &*= multiplier
            i += 8
        }
        let tail = count & 7
        if tail != 0 {
            // The 1...7 trailing bytes as a little-endian integer (libstdc++ `load_bytes`).
            hash ^= loadLittleEndian(bytes, at: alignedCount, count: tail)
            hash &*= multiplier
        }
        hash = shiftMix(hash) &* multiplier
        return shiftMix(hash)
    }

    /// The `count` (0...8) bytes of `bytes` at `offset`, which must end at or before the end of
    /// `bytes`, as a little-endian integer (byte `offset` lowest); 0 for no bytes.
    @inline(__always)
    static func loadLittleEndian(_ bytes: UnsafeRawBufferPointer, at offset: Int, count: Int) -> UInt64 {
        if count == 8 { return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }
        if count == 0 { return 0 }
        let end = offset + count
        if end >= 8 {
            // One load of the 8 bytes ending at `end`, shifted to drop the ones before `offset`.
            let last = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: end - 8, as: UInt64.self))
            return last >> (8 * UInt64(8 - count))
        }
        var composed: UInt64 = 0
        var at = offset
        var shift: UInt64 = 0
        if count & 4 != 0 {
            composed = UInt64(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self)))
            at += 4
            shift = 32
        }
        if count & 2 != 0 {
            let pair = UInt64(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt16.self)))
            composed |= pair << shift
            at += 2
            shift += 16
        }
        if count & 1 != 0 {
            composed |= UInt64(bytes.load(fromByteOffset: at, as: UInt8.self)) << shift
        }
        return composed
    }

    /// The slot hash of a UTF-8 item: the low 32 bits of `fmix64(_Hash_bytes(item))`.
    @inline(__always)
    static func slotHash(_ utf8: UnsafeRawBufferPointer) -> UInt32 {
        UInt32(truncatingIfNeeded: MurmurHash3.fmix64(libstdcxxHashBytes(utf8)))
    }
}
