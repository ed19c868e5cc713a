// The C math library for ln and exp: the standard library has neither. Glibc/Musl/Darwin rather
// than Foundation keeps the module's footprint to libm, which every Swift program links anyway.
#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Elementary functions used by the statistics, in one place so that the platform import
/// stays in this file. (libm's `log`/`exp` are thread-safe; `lgamma` is not — it writes the
/// global `signgam` — which is one reason ``SpecialFunctions/logGamma(_:)`` is our own.)
enum Elementary {
    /// Natural logarithm.
    @inline(__always)
    static func naturalLog(_ x: Double) -> Double { log(x) }

    /// e^x.
    @inline(__always)
    static func exponential(_ x: Double) -> Double { exp(x) }

    /// ln 2.
    static let ln2 = 0.693_147_180_559_945_309_4

    /// π.
    static let pi = 3.141_592_653_589_793_238_5
}
