// Byte strings in our JSON (README "redis-convert"): lossless for any bytes.
//
//   valid UTF-8 with no control character (Unicode Cc: U+0000-U+001F, U+007F-U+009F) other than \t \n \r
//       →  a JSON string, escaping only " \ \t \n \r                          "user:1\n"
//   anything else (binary, NUL, invalid UTF-8)
//       →  {"b64": "<base64, RFC 4648 §4, padded>"}                          {"b64":"AP8NCg=="}

import Formats
import NIOCore

enum JSONByteString {
    // MARK: - Writing

    /// Appends `string` as a JSON string or a `{"b64":…}` object.
    static func write(_ string: RDBString, to out: inout ByteBuffer) {
        switch string {
        case .integer(let value):
            out.writeInteger(UInt8(ascii: "\""))
            out.writeString(String(value))
            out.writeInteger(UInt8(ascii: "\""))
        case .bytes(let bytes):
            write(bytes, to: &out)
        }
    }

    /// Appends `bytes` as a JSON string or a `{"b64":…}` object.
    static func write(_ bytes: ByteBuffer, to out: inout ByteBuffer) {
        bytes.withUnsafeReadableBytes { raw in
            if isText(raw) {
                writeQuoted(raw, to: &out)
            } else {
                out.writeString("{\"b64\":\"")
                Base64.encode(raw, to: &out)
                out.writeString("\"}")
            }
        }
    }

    /// Appends any text (an AUX field name) as a JSON string, escaping every control character.
    static func writeText(_ text: String, to out: inout ByteBuffer) {
        let hex = Array("0123456789abcdef".utf8)
        out.writeInteger(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                out.writeInteger(UInt8(ascii: "\\"))
                out.writeInteger(byte)
            case 0x00..<0x20:
                out.writeString("\\u00")
                out.writeInteger(hex[Int(byte >> 4)])
                out.writeInteger(hex[Int(byte & 15)])
            default:
                out.writeInteger(byte)
            }
        }
        out.writeInteger(UInt8(ascii: "\""))
    }

    /// True when the bytes are valid UTF-8 without control characters other than tab, newline and return.
    static func isText(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var ascii = true
        for byte in bytes {
            if byte < 0x20 {
                if byte != 0x09 && byte != 0x0A && byte != 0x0D { return false }
            } else if byte == 0x7F {
                return false
            } else if byte >= 0x80 {
                ascii = false
            }
        }
        if ascii { return true }
        guard String(validating: bytes, as: UTF8.self) != nil else { return false }
        // C1 controls (U+0080-U+009F) are control characters too: keep them out of the readable form.
        var previous: UInt8 = 0
        for byte in bytes {
            if previous == 0xC2 && byte >= 0x80 && byte <= 0x9F { return false }
            previous = byte
        }
        return true
    }

    private static func writeQuoted(_ bytes: UnsafeRawBufferPointer, to out: inout ByteBuffer) {
        out.writeInteger(UInt8(ascii: "\""))
        var start = 0
        for (index, byte) in bytes.enumerated() {
            // Only these need escaping: isText() has already ruled out every other control character.
            let escape: StaticString
            switch byte {
            case UInt8(ascii: "\""): escape = "\\\""
            case UInt8(ascii: "\\"): escape = "\\\\"
            case 0x0A: escape = "\\n"
            case 0x0D: escape = "\\r"
            case 0x09: escape = "\\t"
            default: continue
            }
            if start < index { out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[start..<index])) }
            out.writeStaticString(escape)
            start = index + 1
        }
        if start < bytes.count { out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[start...])) }
        out.writeInteger(UInt8(ascii: "\""))
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
        var index = 0
        let count = bytes.count
        while index + 3 <= count {
            let chunk = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            out.writeInteger(alphabet[Int(chunk >> 18 & 63)])
            out.writeInteger(alphabet[Int(chunk >> 12 & 63)])
            out.writeInteger(alphabet[Int(chunk >> 6 & 63)])
            out.writeInteger(alphabet[Int(chunk & 63)])
            index += 3
        }
        let rest = count - index
        if rest > 0 {
            let chunk = UInt32(bytes[index]) << 16 | (rest == 2 ? UInt32(bytes[index + 1]) << 8 : 0)
            out.writeInteger(alphabet[Int(chunk >> 18 & 63)])
            out.writeInteger(alphabet[Int(chunk >> 12 & 63)])
            out.writeInteger(rest == 2 ? alphabet[Int(chunk >> 6 & 63)] : UInt8(ascii: "="))
            out.writeInteger(UInt8(ascii: "="))
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
