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

    @available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, *)
    private static var lowest17: UInt128 { 10_000_000_000_000_000 }
    @available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, *)
    private static var lowest18: UInt128 { 100_000_000_000_000_000 }

    /// 10^k for 0 ≤ k ≤ 38.
    @available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, *)
    private static func power10(_ k: Int) -> UInt128 {
        var result: UInt128 = 1
        for _ in 0..<k { result *= 10 }
        return result
    }
}
