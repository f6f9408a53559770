import Formats
import Keyspace
import NIOCore

// MARK: - Encoding replies as RESP2, straight into the connection's output buffer

extension ByteBuffer {
    /// Appends `reply` in RESP2. Bulk strings and integers take a path without intermediate allocations.
    /// - Complexity: O(size of the reply)
    mutating func writeReply(_ reply: Reply) {
        switch reply {
        case .bulk(let bytes):
            writeBulk(bytes)
        case .integer(let value):
            writeInteger(UInt8(ascii: ":"), value)
        case .status(let text):
            writeInteger(UInt8(ascii: "+"), as: UInt8.self)
            writeString(text)
            writeCRLF()
        case .error(let text):
            writeInteger(UInt8(ascii: "-"), as: UInt8.self)
            // A line break inside the message would end the reply early: Redis replaces them with spaces.
            if text.utf8.contains(where: { $0 == 13 || $0 == 10 }) {
                writeBytes(text.utf8.map { $0 == 13 || $0 == 10 ? 32 : $0 })
            } else {
                writeString(text)
            }
            writeCRLF()
        case .null:
            writeStaticString("$-1\r\n")
        case .nullArray:
            writeStaticString("*-1\r\n")
        case .array(let items):
            writeInteger(UInt8(ascii: "*"), Int64(items.count))
            for item in items { writeReply(item) }
        }
    }

    /// `$<len>\r\n<bytes>\r\n`
    @inline(__always)
    mutating func writeBulk(_ bytes: Bytes) {
        writeInteger(UInt8(ascii: "$"), Int64(bytes.count))
        bytes.withUnsafeBytes { raw in _ = writeBytes(raw) }
        writeCRLF()
    }

    @inline(__always)
    mutating func writeCRLF() {
        writeInteger(UInt16(0x0d0a), endianness: .big, as: UInt16.self)
    }

    /// `<prefix><decimal>\r\n` without building a String.
    mutating func writeInteger(_ prefix: UInt8, _ value: Int64) {
        // Small non-negative numbers (lengths, counts, most integer replies) are one or two digits.
        if value >= 0, value < 10 {
            writeInteger(UInt32(prefix) << 24 | UInt32(UInt8(ascii: "0") + UInt8(value)) << 16 | 0x0d0a, endianness: .big, as: UInt32.self)
            return
        }
        // prefix, at most 20 characters, CRLF
        writeWithUnsafeMutableBytes(minimumWritableBytes: 23) { raw in
            var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
            return Swift.withUnsafeMutableBytes(of: &digits) { scratch in
                let start = CanonicalInteger.format(value, rightAlignedIn: scratch)
                let length = scratch.count - start
                raw[0] = prefix
                UnsafeMutableRawBufferPointer(rebasing: raw[1...]).copyMemory(from: UnsafeRawBufferPointer(rebasing: scratch[start...]))
                raw[length + 1] = 13
                raw[length + 2] = 10
                return length + 3
            }
        }
    }
}
