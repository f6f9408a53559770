// Byte strings in our JSON (README "redis-convert"): lossless for any bytes.
//
//   valid UTF-8 with no control character (Unicode Cc: U+0000-U+001F, U+007F-U+009F) other than \t \n \r
//       →  a JSON string, escaping only " \ \t \n \r                          "user:1\n"
//   anything else (binary, NUL, invalid UTF-8)
//       →  {"b64": "<base64, RFC 4648 §4, padded>"}                          {"b64":"AP8NCg=="}

import Formats
import NIOCore

package enum JSONByteString {
    // MARK: - Writing

    /// Appends `string` as a JSON string or a `{"b64":…}` object.
    package static func write(_ string: RDBString, to out: inout ByteBuffer) {
        switch string {
        case .integer(let value):
            out.appendInteger(UInt8(ascii: "\""))
            writeDecimal(value, to: &out)
            out.appendInteger(UInt8(ascii: "\""))
        case .bytes(let bytes):
            write(bytes, to: &out)
        }
    }

    /// Appends `bytes` as a JSON string or a `{"b64":…}` object.
    package static func write(_ bytes: ByteBuffer, to out: inout ByteBuffer) {
        bytes.withUnsafeReadableBytes { raw in
            if !writeQuotedIfText(raw, to: &out) {
                out.appendStaticString("{\"b64\":\"")
                Base64.encode(raw, to: &out)
                out.appendStaticString("\"}")
            }
        }
    }

    /// Appends the decimal text of `value` (no String in between).
    package static func writeDecimal(_ value: Int64, to out: inout ByteBuffer) {
        out.appendUnsafeBytes(maximumCount: 20) { target in
            // Digits are produced last first: count them, then fill from the right.
            var magnitude = value.magnitude
            var digits = 1
            var rest = magnitude / 10
            while rest != 0 {
                digits &+= 1
                rest /= 10
            }
            let sign = value < 0 ? 1 : 0
            if sign == 1 { target.storeBytes(of: UInt8(ascii: "-"), as: UInt8.self) }
            var index = sign &+ digits
            repeat {
                index &-= 1
                target.storeBytes(of: UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10), toByteOffset: index, as: UInt8.self)
                magnitude /= 10
            } while magnitude != 0
            return sign &+ digits
        }
    }

    /// Appends any text (an AUX field name) as a JSON string, escaping every control character.
    package static func writeText(_ text: String, to out: inout ByteBuffer) {
        let hex = Array("0123456789abcdef".utf8)
        out.appendInteger(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                out.appendInteger(UInt8(ascii: "\\"))
                out.writeInteger(byte)
            case 0x00..<0x20:
                out.writeString("\\u00")
                out.writeInteger(hex[Int(byte >> 4)])
                out.writeInteger(hex[Int(byte & 15)])
            default:
                out.writeInteger(byte)
            }
        }
        out.appendInteger(UInt8(ascii: "\""))
    }

    // MARK: - The quoting fast path

    /// What each byte needs inside a JSON string: copied as it is, escaped (`"` `\` tab, newline, return), a
    /// control character that makes the string binary, or a byte of a multi-byte UTF-8 sequence.
    private enum ByteClass: UInt8 {
        case plain = 0, escape, control, nonASCII
    }

    private static let classes: [ByteClass] = (0...255).map { byte -> ByteClass in
        switch byte {
        case 0x09, 0x0A, 0x0D, 0x22, 0x5C: .escape
        case 0x00..<0x20, 0x7F: .control
        case 0x80...: .nonASCII
        default: .plain
        }
    }

    /// The second byte of each escape, by byte (0 where there is none).
    private static let escapes: [UInt8] = (0...255).map { byte -> UInt8 in
        switch byte {
        case 0x09: UInt8(ascii: "t")
        case 0x0A: UInt8(ascii: "n")
        case 0x0D: UInt8(ascii: "r")
        case 0x22, 0x5C: UInt8(byte)
        default: 0
        }
    }

    /// Appends the bytes as a quoted JSON string when they are text (valid UTF-8, no control character other
    /// than tab, newline, return) and returns true; otherwise appends nothing and returns false.
    ///
    /// One pass copies the bytes to the output: runs of eight plain ASCII bytes are copied as a word, the rest
    /// go through the byte-class table. Non-ASCII input is validated as UTF-8 afterwards, and the output is
    /// only committed when it passes.
    private static func writeQuotedIfText(_ bytes: UnsafeRawBufferPointer, to out: inout ByteBuffer) -> Bool {
        let count = bytes.count
        var isText = true
        // Every byte takes at most two output bytes (escapes), plus the quotes.
        out.appendUnsafeBytes(maximumCount: 2 &* count &+ 2) { output in
            output.storeBytes(of: UInt8(ascii: "\""), as: UInt8.self)
            var written = 1
            var sawNonASCII = false
            if let input = bytes.baseAddress {
                classes.withUnsafeBufferPointer { classes in
                    escapes.withUnsafeBufferPointer { escapes in
                        var index = 0
                        while index < count {
                            // Validated: index + 8 <= count for the load; written <= 2 * index + 1, so the store ends
                            // within 2 * index + 9 <= 2 * count + 2 bytes.
                            if index &+ 8 <= count {
                                let word = UInt64(littleEndian: input.loadUnaligned(fromByteOffset: index, as: UInt64.self))
                                (output + written).storeBytes(of: word.littleEndian, as: UInt64.self)
                                let attention = JSONByteString.attention(word)
                                if attention == 0 {
                                    written &+= 8
                                    index &+= 8
                                    continue
                                }
                                // The bytes before the first one needing attention are copied already.
                                let plain = attention.trailingZeroBitCount &>> 3
                                written &+= plain
                                index &+= plain
                            }
                            let byte = input.load(fromByteOffset: index, as: UInt8.self)
                            switch classes[Int(byte)] {
                            case .plain:
                                (output + written).storeBytes(of: byte, as: UInt8.self)
                                written &+= 1
                            case .escape:
                                (output + written).storeBytes(of: UInt8(ascii: "\\"), as: UInt8.self)
                                (output + (written &+ 1)).storeBytes(of: escapes[Int(byte)], as: UInt8.self)
                                written &+= 2
                            case .control:
                                isText = false
                                return
                            case .nonASCII:
                                sawNonASCII = true
                                (output + written).storeBytes(of: byte, as: UInt8.self)
                                written &+= 1
                            }
                            index &+= 1
                        }
                    }
                }
            }
            if isText && sawNonASCII {
                isText = isUTF8WithoutC1Controls(bytes)
            }
            guard isText else { return 0 }
            (output + written).storeBytes(of: UInt8(ascii: "\""), as: UInt8.self)
            return written &+ 1
        }
        return isText
    }

    /// For eight bytes (the first in the low bits): 0x80 in the place of each byte that needs a look (below
    /// 0x20, `"`, `\`, 0x7F, or 0x80 and above), 0 when none does. Bytes above the first flagged one may be
    /// flagged wrongly (borrows), never the first: its position is exact.
    @inline(__always)
    private static func attention(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        // A byte below 0x20: the classic "has less than" test.
        let below = (word &- ones &* 0x20) & ~word & highs
        // A byte equal to b: x ^ (b repeated) has a zero byte there.
        func equal(_ byte: UInt64) -> UInt64 {
            let x = word ^ (ones &* byte)
            return (x &- ones) & ~x & highs
        }
        return below | equal(0x22) | equal(0x5C) | equal(0x7F) | (word & highs)
    }

    /// Unicode's well-formed UTF-8 (what `String(validating:)` accepts: no overlong forms, surrogates or
    /// code points past U+10FFFF), without C1 controls (U+0080-U+009F, `C2 80`-`C2 9F`).
    static func isUTF8WithoutC1Controls(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let count = bytes.count
        var index = 0
        func continuation(_ offset: Int, _ range: ClosedRange<UInt8> = 0x80...0xBF) -> Bool {
            index &+ offset < count && range.contains(bytes[index &+ offset])
        }
        while index < count {
            let lead = bytes[index]
            let length: Int
            switch lead {
            case 0x00...0x7F: length = 1
            case 0xC2: guard continuation(1, 0xA0...0xBF) else { return false }; length = 2
            case 0xC3...0xDF: guard continuation(1) else { return false }; length = 2
            case 0xE0: guard continuation(1, 0xA0...0xBF), continuation(2) else { return false }; length = 3
            case 0xE1...0xEC, 0xEE...0xEF: guard continuation(1), continuation(2) else { return false }; length = 3
            case 0xED: guard continuation(1, 0x80...0x9F), continuation(2) else { return false }; length = 3
            case 0xF0: guard continuation(1, 0x90...0xBF), continuation(2), continuation(3) else { return false }; length = 4
            case 0xF1...0xF3: guard continuation(1), continuation(2), continuation(3) else { return false }; length = 4
            case 0xF4: guard continuation(1, 0x80...0x8F), continuation(2), continuation(3) else { return false }; length = 4
            default: return false
            }
            index &+= length
        }
        return true
    }

    // MARK: - Reading

    /// The bytes a JSON value stands for: a string (its UTF-8), `{"b64": "…"}`, or a number (its text, so that
    /// hand-written `"value": 42` works). Nil for anything else or invalid base64.
    static func decode(_ value: JSONValue) -> ByteBuffer? {
        switch value {
        case .string(let bytes):
            return ByteBuffer(bytes: bytes)
        case .number(let text):
            return ByteBuffer(string: text)
        case .object(let members):
            guard members.count == 1, members[0].name == "b64", case .string(let text) = members[0].value,
                let bytes = Base64.decode(text)
            else { return nil }
            return ByteBuffer(bytes: bytes)
        default:
            return nil
        }
    }
}

/// Base64 (RFC 4648 §4, with padding).
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    static func encode(_ bytes: UnsafeRawBufferPointer, to out: inout ByteBuffer) {
        let count = bytes.count
        guard count > 0 else { return }
        out.appendUnsafeBytes(maximumCount: (count &+ 2) / 3 &* 4) { target in
            alphabet.withUnsafeBufferPointer { alphabet in
                // Validated: the output holds (count + 2) / 3 * 4 bytes, 4 per 3 input bytes or part of them.
                func put(_ byte: UInt8, _ at: Int) { target.storeBytes(of: byte, toByteOffset: at, as: UInt8.self) }
                var index = 0
                var written = 0
                while index &+ 3 <= count {
                    let chunk = UInt32(bytes[index]) << 16 | UInt32(bytes[index &+ 1]) << 8 | UInt32(bytes[index &+ 2])
                    put(alphabet[Int(chunk >> 18 & 63)], written)
                    put(alphabet[Int(chunk >> 12 & 63)], written &+ 1)
                    put(alphabet[Int(chunk >> 6 & 63)], written &+ 2)
                    put(alphabet[Int(chunk & 63)], written &+ 3)
                    index &+= 3
                    written &+= 4
                }
                let rest = count &- index
                if rest > 0 {
                    let chunk = UInt32(bytes[index]) << 16 | (rest == 2 ? UInt32(bytes[index &+ 1]) << 8 : 0)
                    put(alphabet[Int(chunk >> 18 & 63)], written)
                    put(alphabet[Int(chunk >> 12 & 63)], written &+ 1)
                    put(rest == 2 ? alphabet[Int(chunk >> 6 & 63)] : UInt8(ascii: "="), written &+ 2)
                    put(UInt8(ascii: "="), written &+ 3)
                    written &+= 4
                }
                return written
            }
        }
    }

    /// Decodes padded or unpadded base64; nil on any other character.
    static func decode(_ text: [UInt8]) -> [UInt8]? {
        var end = text.count
        while end > 0 && text[end - 1] == UInt8(ascii: "=") { end -= 1 }
        guard text.count - end <= 2, end % 4 != 1 else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(end * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for index in 0..<end {
            let value = values[Int(text[index])]
            guard value != 0xFF else { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return output
    }
}
