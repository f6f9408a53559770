// The text Redis before 7.2 gives a sorted-set score in its compact encodings (util.c d2string:
// snprintf("%.17g")), written without printf for the scores most data has.
//
//   value = significand × 2^exponent (significand < 2^53, exponent < 0)
//   N     = significand × 10^k / 2^-exponent, rounded half to even, with exactly 17 digits
//   text  = N's digits with the decimal point X + 1 digits in (10^X ≤ |value| < 10^(X+1)), trailing zeros dropped
//
// Exact in 128-bit integers for 1e-4 ≤ |value| < 1e15 (where %g prints fixed notation); printf otherwise.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

enum ScoreText {
    static let infinity = Array("inf".utf8)
    static let minusInfinity = Array("-inf".utf8)
    static let zero = Array("0".utf8)
    static let minusZero = Array("-0".utf8)

    /// The longest text: sign, "0.", 3 zeros, 17 digits (fixed), or printf's exponent form.
    static let capacity = 32

    /// Calls `body` with the bytes `snprintf("%.17g", value)` writes.
    static func withPrintfG17<R>(_ value: Double, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { buffer in
            let count = printfG17(value, into: buffer)
            return body(UnsafeRawBufferPointer(UnsafeMutableBufferPointer(rebasing: buffer[..<count])))
        }
    }

    /// Writes the bytes `snprintf("%.17g", value)` writes into `buffer` (at least ``capacity`` bytes) and returns
    /// their count.
    static func printfG17(_ value: Double, into buffer: UnsafeMutableBufferPointer<UInt8>) -> Int {
        if #available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, *), let count = fixedG17(value, into: buffer) {
            return count
        }
        let count = buffer.withMemoryRebound(to: CChar.self) { text in
            withVaList([value]) { vsnprintf(text.baseAddress, capacity, "%.17g", $0) }
        }
        return min(Int(count), capacity - 1)
    }

    /// The fixed-notation case of %.17g, computed exactly; nil outside 1e-4 ≤ |value| < 1e15 or for integral
    /// values of 2^53 and above.
    @available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, *)
    static func fixedG17(_ value: Double, into buffer: UnsafeMutableBufferPointer<UInt8>) -> Int? {
        let magnitude = value.magnitude
        guard magnitude >= 1e-4, magnitude < 1e15 else { return nil }
        let significand = UInt128(magnitude.significandBitPattern | (1 << 52))  // normal: 1e-4 is far above subnormals
        let shift = 52 - Int(magnitude.exponent)
        guard shift > 0 else { return nil }
        // A first guess of X from the binary exponent (log10(2) ≈ 78913 / 2^18), corrected on the exact value.
        var decimalExponent = (Int(magnitude.exponent) * 78913) >> 18
        var digits: UInt128 = 0
        for _ in 0..<3 {
            let k = 16 - decimalExponent
            let scaled = significand * power10(k)
            let quotient = scaled >> shift
            if quotient < lowest17 {
                decimalExponent -= 1
                continue
            }
            if quotient >= lowest18 {
                decimalExponent += 1
                continue
            }
            let remainder = scaled & ((1 << shift) - 1)
            let half: UInt128 = 1 << (shift - 1)
            digits = quotient
            if remainder > half || (remainder == half && quotient & 1 == 1) { digits += 1 }
            if digits == lowest18 {  // rounded up to the next power of ten
                digits = lowest17
                decimalExponent += 1
            }
            break
        }
        guard digits != 0 else { return nil }

        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 17) { text in
            var rest = digits
            for index in stride(from: 16, through: 0, by: -1) {
                text[index] = UInt8(truncatingIfNeeded: rest % 10) + UInt8(ascii: "0")
                rest /= 10
            }
            let integerDigits = decimalExponent + 1
            var fractionEnd = 17
            while fractionEnd > max(integerDigits, 0) && text[fractionEnd - 1] == UInt8(ascii: "0") { fractionEnd -= 1 }

            var count = 0
            func put(_ byte: UInt8) {
                buffer[count] = byte
                count += 1
            }
            if value < 0 { put(UInt8(ascii: "-")) }
            if integerDigits > 0 {
                for index in 0..<integerDigits { put(text[index]) }
                if fractionEnd > integerDigits {
                    put(UInt8(ascii: "."))
                    for index in integerDigits..<fractionEnd { put(text[index]) }
                }
            } else {
                put(UInt8(ascii: "0"))
                put(UInt8(ascii: "."))
                for _ in 0 ..< -integerDigits { put(UInt8(ascii: "0")) }
                for index in 0..<fractionEnd { put(text[index]) }
            }
            return count
        }
    }

    /// The double strtod gives a plain decimal, `[-]digits[.digits]` with at most 19 significant digits and
    /// at most 22 after the point (what %.17g writes from 1e-4 to 1e15, and any integer below 10^19); nil for
    /// anything else (exponents, inf, nan, signs strtod also takes, longer texts), which the caller hands to strtod.
    ///
    /// Exact: with N the digits as an integer and k the digits after the point, the value is N / 10^k. When N < 2^53
    /// both are exact doubles and one IEEE division rounds correctly (Clinger's fast path); otherwise the quotient
    /// is taken in 128-bit integers, scaled to 54-55 bits, and rounded half to even with the remainder as sticky bit.
    @available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, *)
    static func parseDecimal(_ text: UnsafeRawBufferPointer) -> Double? {
        let count = text.count
        var index = 0
        let negative = count > 0 && text[0] == UInt8(ascii: "-")
        if negative { index = 1 }
        var digits: UInt64 = 0
        var significantDigits = 0
        var anyDigit = false
        var fractionDigits = 0
        var inFraction = false
        while index < count {
            let byte = text[index]
            index &+= 1
            let digit = byte &- UInt8(ascii: "0")
            if digit < 10 {
                anyDigit = true
                if inFraction { fractionDigits &+= 1 }
                if digits == 0 && digit == 0 { continue }  // leading zeros are not significant
                significantDigits &+= 1
                guard significantDigits <= 19 else { return nil }
                digits = digits &* 10 &+ UInt64(digit)
            } else if byte == UInt8(ascii: "."), !inFraction {
                inFraction = true
            } else {
                return nil
            }
        }
        guard anyDigit, fractionDigits <= 22 else { return nil }
        let magnitude: Double
        if digits == 0 {
            magnitude = 0
        } else if fractionDigits == 0 {
            magnitude = Double(digits)  // correctly rounded conversion
        } else if digits < 1 << 53 {
            magnitude = Double(digits) / exactPowersOf10[fractionDigits]
        } else {
            magnitude = quotient(digits, power10(fractionDigits))
        }
        return negative ? -magnitude : magnitude
    }

    /// n / d correctly rounded, for n < 2^64 and d ≤ 10^22 (< 2^74).
    @available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, *)
    private static func quotient(_ n: UInt64, _ d: UInt128) -> Double {
        let numeratorBits = 64 - n.leadingZeroBitCount
        let denominatorBits = 128 - d.leadingZeroBitCount
        // 2^(shift) × n / d lies in [2^53, 2^55): the quotient has 54 or 55 bits.
        let shift = 54 + denominatorBits - numeratorBits
        let numerator = UInt128(n) << max(shift, 0)  // at most 54 + 74 = 128 bits
        let denominator = d << max(-shift, 0)
        let whole: UInt128
        let remainder: UInt128
        if denominator >> 64 == 0 {
            // One hardware division: the quotient (< 2^55) fits in 64 bits, so the high word is below the divisor.
            let (quotient, rest) = UInt64(truncatingIfNeeded: denominator).dividingFullWidth(
                (high: UInt64(truncatingIfNeeded: numerator >> 64), low: UInt64(truncatingIfNeeded: numerator)))
            (whole, remainder) = (UInt128(quotient), UInt128(rest))
        } else {
            (whole, remainder) = numerator.quotientAndRemainder(dividingBy: denominator)
        }
        let dropped = whole >> 54 != 0 ? 2 : 1
        var significand = UInt64(truncatingIfNeeded: whole >> dropped)
        let rest = UInt64(truncatingIfNeeded: whole) & ((1 << dropped) - 1)
        let half: UInt64 = 1 << (dropped - 1)
        var exponent = dropped - shift
        if rest > half || (rest == half && (remainder != 0 || significand & 1 == 1)) {
            significand += 1
            if significand == 1 << 53 {
                significand = 1 << 52
                exponent += 1
            }
        }
        return Double(sign: .plus, exponent: exponent, significand: Double(significand))
    }

    /// 10^0 ... 10^22, each exactly a double.
    private static let exactPowersOf10: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    @available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, *)
    private static var lowest17: UInt128 { 10_000_000_000_000_000 }
    @available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, *)
    private static var lowest18: UInt128 { 100_000_000_000_000_000 }

    /// 10^k for 0 ≤ k ≤ 38: at most two table entries and one multiplication.
    @available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, *)
    private static func power10(_ k: Int) -> UInt128 {
        k <= 19 ? UInt128(powersOf10[k]) : UInt128(powersOf10[19]) * UInt128(powersOf10[k - 19])
    }

    /// 10^0 ... 10^19 (10^19 < 2^64).
    private static let powersOf10: [UInt64] = (0...19).map { k in (0..<k).reduce(1) { product, _ in product * 10 } }
}
