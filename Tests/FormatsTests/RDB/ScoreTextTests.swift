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
}
