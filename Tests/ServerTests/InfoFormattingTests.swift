import Foundation
import Testing

@testable import Server

/// INFO's numbers are formatted without Foundation's `String(format:)` (which was most of an `INFO all`): they must
/// read as printf's would.
@Suite("INFO formatting")
struct InfoFormattingTests {
    @Test("Fixed-point figures match printf's %.2f and %.6f, ties of binary fractions aside")
    func fixedMatchesPrintf() {
        var generator = SystemRandomNumberGenerator()
        var values: [Double] = [0, 1, 0.5, 99.999, 1023.996, 1e-9, 123456789.123, 2.675, 0.0049, 7.0 / 3.0]
        for _ in 0..<5000 {
            let numerator = Double(UInt32.random(in: 0...UInt32.max, using: &generator))
            values.append(numerator / Double(UInt16.random(in: 1...UInt16.max, using: &generator)))
        }
        for value in values {
            for decimals in [2, 6] {
                let printf = String(format: "%.\(decimals)f", value)
                let ours = MemoryUsage.fixed(value, decimals: decimals)
                // A true tie (the binary value exactly halfway) is the one place the two roundings may differ.
                let scaled = value * pow(10, Double(decimals))
                if scaled - scaled.rounded(.down) == 0.5 { continue }
                #expect(ours == printf, "\(value) with \(decimals) decimals")
            }
        }
        #expect(MemoryUsage.human(1536) == "1.50K")
        #expect(MemoryUsage.human(3 * 1024 * 1024 + 1) == "3.00M")
        #expect(MemoryUsage.human(1000) == "1000B")
    }

    @Test("The resident size read from /proc/self/statm is the kernel's")
    func residentSize() throws {
        #if os(Linux)
        func statm() throws -> Int {
            let fields = try String(contentsOfFile: "/proc/self/statm", encoding: .utf8).split(separator: " ")
            return Int(fields[1])! * Int(sysconf(Int32(_SC_PAGESIZE)))
        }
        _ = try statm()  // Foundation's first file read grows the process; not between the readings below
        let before = MemoryUsage.residentBytes
        let expected = try statm()
        let after = MemoryUsage.residentBytes
        let slack = 16 * 4096
        #expect(before > 0 && min(before, after) - slack <= expected && expected <= max(before, after) + slack,
            "ours \(before) and \(after), statm \(expected)")
        #endif
    }
}
