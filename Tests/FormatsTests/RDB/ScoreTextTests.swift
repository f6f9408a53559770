import Foundation
import NIOCore
import TestSupport
import Testing

@testable import Formats

/// Scores in compact encodings up to RDB 10 are printf's "%.17g" (Redis before 7.2); ours is computed without
/// printf in the common range and must match it byte for byte.
@Suite struct ScoreTextTests {
    static func printf(_ value: Double) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        let count = withVaList([value]) { vsnprintf(&buffer, 64, "%.17g", $0) }
        return String(decoding: buffer.prefix(Int(count)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func ours(_ value: Double) -> String {
        ScoreText.withPrintfG17(value) { String(decoding: $0, as: UTF8.self) }
    }

    @Test func matchesPrintfOnRandomDoubles() {
        var generator = SplitMix64(seed: 17)
        var mismatches: [String] = []
        for round in 0..<300_000 {
            let value: Double
            switch round % 4 {
            case 0:  // any bit pattern
                value = Double(bitPattern: generator.next())
            case 1:  // uniform magnitudes across the fast path's range and beyond
                let exponent = Double(Int(generator.next() % 26) - 7)
                value = (Double(generator.next() >> 11) / Double(1 << 53)) * pow(10, exponent) * (generator.next() % 2 == 0 ? 1 : -1)
            case 2:  // few significant bits: decimal ties at 17 digits are possible
                value = Double(Int64(generator.next() % 1_000_000)) / Double(1 << Int(generator.next() % 40))
            default:  // decimal text a client would send
                value = Double("\(Int64(generator.next() % 20_000_000) - 10_000_000).\(generator.next() % 1_000_000)")!
            }
            guard value.isFinite else { continue }
            let expected = Self.printf(value)
            let actual = Self.ours(value)
            if expected != actual && mismatches.count < 10 { mismatches.append("\(value.bitPattern): printf \(expected), ours \(actual)") }
        }
        #expect(mismatches.isEmpty, "\(mismatches)")
    }

    @Test(arguments: [
        0.1, -0.1, 1e-4, 9.99999999999999e14, 123.456, 0.30000000000000004, 1.0 / 3.0, 2.5, 1e-5, 1e15, 1e17,
        Double.pi * 1e10, 5e-324, Double.greatestFiniteMagnitude, 4503599627370497.5, 0.00012345678901234567,
    ])
    func matchesPrintfOnEdges(_ value: Double) {
        #expect(Self.ours(value) == Self.printf(value))
        #expect(Self.ours(-value) == Self.printf(-value))
    }

    static func strtod(_ text: String) -> Double? {
        text.withCString { start -> Double? in
            var end: UnsafeMutablePointer<CChar>? = nil
            let value = Foundation.strtod(start, &end)
            guard let end, UnsafePointer(end) != start else { return nil }  // no conversion (an empty text)
            return UnsafePointer(end) == start + text.utf8.count ? value : nil
        }
    }

    static func parsed(_ text: String) -> Double? {
        RDBReaderSupport.parseDouble(ByteBuffer(string: text))
    }

    static func digits(_ count: Int, _ generator: inout SplitMix64) -> String {
        String((0..<count).map { _ in Character(String(generator.next() % 10)) })
    }

    /// Scores are read back without strtod when they are plain decimals; every text must give strtod's double,
    /// bit for bit (the sign of zero included).
    @Test func parsingMatchesStrtodOnRandomTexts() {
        var generator = SplitMix64(seed: 29)
        var mismatches: [String] = []
        var fast = 0
        for round in 0..<400_000 {
            let text: String
            switch round % 6 {
            case 0:  // what Redis before 7.2 writes
                text = Self.printf(Double(bitPattern: generator.next()))
            case 1:
                let exponent = Double(Int(generator.next() % 26) - 7)
                text = Self.printf((Double(generator.next() >> 11) / Double(1 << 53)) * pow(10, exponent))
            case 2:  // shortest round-trip text (what Redis 7.2 and later write)
                text = "\(Double(generator.next() >> 11) / Double(1 << Int(generator.next() % 60)))"
            case 3:  // %.15g
                text = String(format: "%.15g", (Double(generator.next() >> 11) / Double(1 << 53)) * 1e6)
            case 4:  // arbitrary digit strings around the fast path's limits
                let whole = Self.digits(Int(generator.next() % 21), &generator)
                let fraction = Self.digits(Int(generator.next() % 25), &generator)
                let sign = generator.next() % 2 == 0 ? "-" : ""
                text = sign + whole + (fraction.isEmpty && generator.next() % 2 == 0 ? "" : "." + fraction)
            default:  // halfway cases between doubles just above 2^53, and leading zeros
                let base = (UInt64(1) << 53) + (generator.next() % 1_000_000) * 2 + 1
                text = generator.next() % 2 == 0 ? "\(base)" : "000\(base).5000"
            }
            let expected = Self.strtod(text)
            let actual = Self.parsed(text)
            if let fastValue = ScoreText.parseDecimal(text.utf8.withContiguousStorageIfAvailable { UnsafeRawBufferPointer($0) }!) {
                fast += 1
                if fastValue.bitPattern != expected?.bitPattern, mismatches.count < 10 {
                    mismatches.append("\(text): strtod \(String(describing: expected)), fast path \(fastValue)")
                }
            }
            if actual?.bitPattern != expected?.bitPattern, mismatches.count < 10 {
                mismatches.append("\(text): strtod \(String(describing: expected)), ours \(String(describing: actual))")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches)")
        #expect(fast > 200_000)  // the fast path is taken for most of them
    }

    @Test(arguments: [
        "0", "-0", "0.0", "-0.000", "5.", ".5", "-.5", "1", "-1", "9007199254740993", "9007199254740993.0",
        "18446744073709551615", "9999999999999999999", "10000000000000000000", "0.1", "0.30000000000000004",
        "-965618.74199999997", "0.00012345678901234567", "0.0000000000000000000001", "1e5", "+1", " 1", "inf",
        "-inf", "nan", "1.2.3", "-", ".", "", "1-", "0x10", "123456789012345678.9",
    ])
    func parsingMatchesStrtodOnEdges(_ text: String) {
        #expect(Self.parsed(text)?.bitPattern == Self.strtod(text)?.bitPattern, "\(text)")
    }
}
