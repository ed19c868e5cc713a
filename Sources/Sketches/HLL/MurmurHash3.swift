/// MurmurHash3 x64 128-bit (Austin Appleby, public domain), as the Apache DataSketches
/// libraries use it for HLL (and theta/CPC) items: the 64-bit seed initialises both halves,
/// 16-byte blocks, the 1...15-byte tail, then the usual finalisation. Written from the
/// published algorithm; vectors in `hll_hash_vectors.json` (written by the C++ library) check it.
public enum MurmurHash3 {
    /// The seed DataSketches uses by default (`DEFAULT_SEED` in `common_defs.hpp`).
    public static let dataSketchesSeed: UInt64 = 9001

    @usableFromInline static let c1: UInt64 = 0x87c3_7b91_1142_53d5
    @usableFromInline static let c2: UInt64 = 0x4cf5_ad43_2745_937f

    /// The 128-bit hash of `bytes` as the two 64-bit halves (h1, h2).
    public static func hash128(
        _ bytes: UnsafeRawBufferPointer, seed: UInt64 = dataSketchesSeed
    )
        -> (h1: UInt64, h2: UInt64)
    {
        var h1 = seed
        var h2 = seed
        let count = bytes.count
        let blocks = count >> 4
        for i in 0..<blocks {
            let k1 = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 16, as: UInt64.self))
            let k2 = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 16 + 8, as: UInt64.self))
            h1 ^= mixK1(k1)
            h1 = rotate(h1, 27) &+ h2
            h1 = h1 &* 5 &+ 0x52dc_e729
            h2 ^= mixK2(k2)
            h2 = rotate(h2, 31) &+ h1
            h2 = h2 &* 5 &+ 0x3849_5ab5
        }
        let tail = blocks * 16
        let rest = count & 15
        if rest > 8 {
            var k2: UInt64 = 0
            var j = rest - 1
            while j >= 8 {
                k2 = k2 << 8 | UInt64(bytes[tail + j])
                j -= 1
            }
            h2 ^= mixK2(k2)
        }
        if rest > 0 {
            var k1: UInt64 = 0
            var j = min(rest, 8) - 1
            while j >= 0 {
                k1 = k1 << 8 | UInt64(bytes[tail + j])
                j -= 1
            }
            h1 ^= mixK1(k1)
        }
        return finish(h1, h2, length: UInt64(count))
    }

    /// The hash of the 8 little-endian bytes of `word` (an int64 or a double's bits): one
    /// tail word, no blocks.
    @inlinable @inline(__always)
    static func hash64(_ word: UInt64, seed: UInt64 = dataSketchesSeed) -> (h1: UInt64, h2: UInt64) {
        let h1 = seed ^ mixK1(word)
        return finish(h1, seed, length: 8)
    }

    @inlinable @inline(__always)
    static func rotate(_ x: UInt64, _ r: UInt64) -> UInt64 { (x << r) | (x >> (64 - r)) }

    @inlinable @inline(__always)
    static func mixK1(_ k: UInt64) -> UInt64 { rotate(k &* c1, 31) &* c2 }

    @inlinable @inline(__always)
    static func mixK2(_ k: UInt64) -> UInt64 { rotate(k &* c2, 33) &* c1 }

    @inlinable @inline(__always)
    static func fmix64(_ k: UInt64) -> UInt64 {
        var k = k
        k ^= k >> 33
        k &*= 0xff51_afd7_ed55_8ccd
        k ^= k >> 33
        k &*= 0xc4ce_b9fe_1a85_ec53
        k ^= k >> 33
        return k
    }

    @inlinable @inline(__always)
    static func finish(_ h1: UInt64, _ h2: UInt64, length: UInt64) -> (h1: UInt64, h2: UInt64) {
        var h1 = h1 ^ length
        var h2 = h2 ^ length
        h1 &+= h2
        h2 &+= h1
        h1 = fmix64(h1)
        h2 = fmix64(h2)
        h1 &+= h2
        h2 &+= h1
        return (h1, h2)
    }
}
