/// `x^y` for `x ≥ 1` and `ln x` for `x > 0` to about 1e-30 relative error before the final
/// rounding, without Foundation or libm (the module is stdlib-only; the stdlib has neither).
/// Used by KLL's rank-error fit and HLL's estimators, whose reference answers come from the
/// platform's (correctly rounded in practice) `pow` and `log`.
///
/// Double-double arithmetic after Dekker ("A floating-point technique for extending the
/// available precision", 1971) and Hida, Li & Bailey ("Library for double-double and
/// quad-double arithmetic", 2001): a value is an unevaluated sum `hi + lo` with
/// `|lo| ≤ ulp(hi)/2`. `ln x` comes from the series `2·atanh(s)`, `s = (m−1)/(m+1)`,
/// after reducing `x = 2^e·m` with `m` in [√½, √2); `exp` from its Taylor series after
/// reducing by multiples of `ln 2`.
enum PreciseMath {
    struct DoubleDouble {
        var hi: Double
        var lo: Double

        init(_ hi: Double, _ lo: Double = 0) {
            self.hi = hi
            self.lo = lo
        }

        /// Knuth's branch-free exact sum.
        static func twoSum(_ a: Double, _ b: Double) -> DoubleDouble {
            let s = a + b
            let v = s - a
            return DoubleDouble(s, (a - (s - v)) + (b - v))
        }

        /// Exact sum when `|a| ≥ |b|`.
        static func quickTwoSum(_ a: Double, _ b: Double) -> DoubleDouble {
            let s = a + b
            return DoubleDouble(s, b - (s - a))
        }

        /// Dekker's exact product with Veltkamp splitting. (Not `addingProduct`: without a
        /// hardware FMA in the x86-64 baseline it becomes a call to libm's `fma`, which a
        /// stdlib-only module cannot assume is linked.)
        static func twoProduct(_ a: Double, _ b: Double) -> DoubleDouble {
            let p = a * b
            let (aHigh, aLow) = split(a)
            let (bHigh, bLow) = split(b)
            let error = ((aHigh * bHigh - p) + aHigh * bLow + aLow * bHigh) + aLow * bLow
            return DoubleDouble(p, error)
        }

        /// `x = high + low` with both halves of at most 26 significant bits.
        static func split(_ x: Double) -> (Double, Double) {
            let scaled = 134_217_729.0 * x  // 2^27 + 1
            let high = scaled - (scaled - x)
            return (high, x - high)
        }

        static func + (x: DoubleDouble, y: DoubleDouble) -> DoubleDouble {
            let s = twoSum(x.hi, y.hi)
            let t = twoSum(x.lo, y.lo)
            let u = quickTwoSum(s.hi, s.lo + t.hi)
            return quickTwoSum(u.hi, u.lo + t.lo)
        }

        static func * (x: DoubleDouble, y: DoubleDouble) -> DoubleDouble {
            let p = twoProduct(x.hi, y.hi)
            return quickTwoSum(p.hi, p.lo + (x.hi * y.lo + x.lo * y.hi))
        }

        static func / (x: DoubleDouble, y: DoubleDouble) -> DoubleDouble {
            let q1 = x.hi / y.hi
            var r = x + y * DoubleDouble(-q1)
            let q2 = r.hi / y.hi
            r = r + y * DoubleDouble(-q2)
            let q3 = r.hi / y.hi
            return quickTwoSum(q1, q2) + DoubleDouble(q3)
        }
    }

    /// ln 2 as a double-double (the hi/lo split used by fdlibm and the QD library).
    static let ln2 = DoubleDouble(0x1.62e4_2fef_a39e_fp-1, 0x1.abc9_e3b3_9803_fp-56)

    static func power(_ x: Double, _ y: Double) -> Double {
        precondition(x >= 1 && x.isFinite, "PreciseMath.power: x must be finite and >= 1")
        if x == 1 { return 1 }
        return exp(log(x) * DoubleDouble(y)).hi
    }

    /// `ln x` rounded to the nearest double, for finite `x > 0`.
    static func naturalLog(_ x: Double) -> Double {
        precondition(x > 0 && x.isFinite, "PreciseMath.naturalLog: x must be finite and > 0")
        return log(x).hi
    }

    static func log(_ x: Double) -> DoubleDouble {
        var m = x.significand
        var e = Int(x.exponent)
        if m > 1.414_213_562_373_095_1 {
            m /= 2
            e += 1
        }
        // m − 1 is exact for m in [½, 2] (Sterbenz); m + 1 may need one more bit.
        let s = DoubleDouble(m - 1) / DoubleDouble.twoSum(m, 1)
        let s2 = s * s
        var term = s
        var sum = s
        var n = 1
        while n < 60 {
            term = term * s2
            let contribution = term / DoubleDouble(Double(2 * n + 1))
            sum = sum + contribution
            if abs(contribution.hi) < 1e-40 { break }
            n += 1
        }
        let lnM = DoubleDouble(2 * sum.hi, 2 * sum.lo)
        return ln2 * DoubleDouble(Double(e)) + lnM
    }

    static func exp(_ y: DoubleDouble) -> DoubleDouble {
        // y > 0 here; truncating conversion instead of `rounded()` (a libm call)
        let n = Double(Int(y.hi / ln2.hi + 0.5))
        let r = y + ln2 * DoubleDouble(-n)
        var term = DoubleDouble(1)
        var sum = DoubleDouble(1)
        var i = 1
        while i < 60 {
            term = term * r / DoubleDouble(Double(i))
            sum = sum + term
            if abs(term.hi) < 1e-40 { break }
            i += 1
        }
        let scale = Double(sign: .plus, exponent: Int(n), significand: 1)
        return DoubleDouble(sum.hi * scale, sum.lo * scale)
    }
}
