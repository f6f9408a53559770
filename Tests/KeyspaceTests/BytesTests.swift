import Foundation
import Keyspace
import NIOCore
import Testing

/// `Bytes` keeps up to 15 bytes inline and longer strings in an array; nothing a caller sees may depend on which.
@Suite("Bytes: inline and array forms")
struct BytesTests {
    @Test("Sixteen bytes, and a Value no bigger for holding one")
    func layout() {
        #expect(MemoryLayout<Bytes>.size == 16)
        // The persistent trees (24 bytes: root, count, version) are the widest payloads; a string adds nothing.
        let widest = max(MemoryLayout<SetValue>.size, MemoryLayout<HashValue>.size, MemoryLayout<ListValue>.size)
        #expect(MemoryLayout<Value>.size <= widest + 1)
    }

    /// Strings of every length around the boundary, built every way, compared every way.
    @Test("Equality, hashing and order agree across the 15/16-byte boundary", arguments: Array(0...40))
    func boundary(_ length: Int) {
        let raw = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 1) }
        let forms = [
            Bytes(raw), Bytes(raw[...]), Bytes(ByteBuffer(bytes: raw)), raw.withUnsafeBytes { Bytes($0) },
            Bytes(AnySequence(raw)),
        ]
        for form in forms {
            #expect(form.count == length)
            #expect(form.array == raw)
            #expect(Array(form) == raw)
            #expect(form == forms[0])
            #expect(form.hashValue == forms[0].hashValue)
            #expect(!(form < forms[0]) && !(forms[0] < form))
            if length > 0 { #expect(form[length - 1] == raw[length - 1]) }
        }
        // One byte more or less, or a last byte changed: never equal, ordered as memcmp then length.
        let longer = Bytes(raw + [0])
        #expect(longer != forms[0] && forms[0] < longer)
        if length > 0 {
            let shorter = Bytes(raw.dropLast())
            #expect(shorter != forms[0] && shorter < forms[0])
            var changed = raw
            changed[length - 1] &+= 1
            #expect(Bytes(changed) != forms[0] && forms[0] < Bytes(changed))
            #expect(Set([Bytes(changed), forms[0], longer, Bytes(raw)]).count == 3)
        }
    }

    @Test("Appending and mutating move between the forms")
    func mutation() {
        var bytes: Bytes = "0123456789"
        bytes.append(contentsOf: Array("abcde".utf8))  // 15: still inline
        #expect(bytes == Bytes("0123456789abcde") && bytes.count == 15)
        bytes.append(contentsOf: Array("f".utf8))  // 16: an array
        #expect(bytes == Bytes("0123456789abcdef") && bytes.hashValue == Bytes(Array("0123456789abcdef".utf8)).hashValue)
        let copy = bytes
        bytes.withMutableStorage { $0.removeLast(10) }  // back to 6, inline; the copy keeps its bytes
        #expect(bytes == "012345" && bytes.count == 6)
        #expect(copy == "0123456789abcdef")
        bytes.withMutableStorage { $0 = Array(repeating: 0x41, count: 100) }
        #expect(bytes.count == 100 && bytes.string == String(repeating: "A", count: 100))
    }

    @Test("Integers as Redis writes them", arguments: [Int64.min, Int64.min + 1, -1_000_000_000_000_000, -10, -1, 0, 1, 9, 10, 123_456_789_012_345, 1_234_567_890_123_456, Int64.max])
    func integers(_ value: Int64) {
        let bytes = Bytes(integer: value)
        #expect(bytes == Bytes(String(value)))
        #expect(bytes.integerValue == value)
    }

    @Test("Keywords, globs and numbers read either form")
    func readers() {
        #expect(Bytes("PeRsIsT").isKeyword("persist"))
        #expect(!Bytes("persist-").isKeyword("persist"))
        #expect(Bytes("a-very-long-key-name:12345").matches(glob: "a-very-*:1234?"))
        #expect(Bytes("short:7").matches(glob: "short:[0-9]"))
        #expect(Bytes("3.25").doubleValue == 3.25)
        #expect(Bytes("0.000000000000000000001").doubleValue == 1e-21)
        #expect(Bytes("12345678901234567").integerValue == 12_345_678_901_234_567)
    }
}

@Suite("Bytes: reading doubles")
struct BytesDoubleTests {
    /// What C's strtod makes of `text` (the reference every double argument is read against).
    static func strtodValue(_ text: String) -> Double? {
        text.withCString { start in
            var end: UnsafeMutablePointer<CChar>? = nil
            let value = strtod(start, &end)
            return end.map { UnsafePointer($0) - start } == text.utf8.count ? value : nil
        }
    }

    @Test("Integer-looking arguments (read without strtod up to 15 digits) give strtod's double, sign of -0 included")
    func integersAsStrtod() {
        var generator = SystemRandomNumberGenerator()
        var texts = ["0", "-0", "7", "-7", "007", "-007", "+5", "999999999999999", "-999999999999999",
            "1000000000000000", "9007199254740993", "-9007199254740993", "12345678901234567890"]
        for _ in 0..<2000 {
            let digits = Int.random(in: 1...15, using: &generator)
            let magnitude = Int64.random(in: 0..<Int64(pow(10, Double(digits))), using: &generator)
            texts.append(String(Bool.random(using: &generator) ? -magnitude : magnitude))
        }
        for text in texts {
            let ours = Bytes(text).doubleValue
            let reference = Self.strtodValue(text)
            #expect(ours == reference, "\(text)")
            if let ours, let reference { #expect(ours.sign == reference.sign, "\(text)") }
        }
    }
}
