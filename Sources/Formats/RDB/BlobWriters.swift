// Writers of the embedded blobs, mirrors of Listpack.scan, Ziplist.scan and Intset.members (layouts in those
// files). They encode entries as Redis does: integers in their smallest form when the text is a canonical
// decimal integer, strings in their shortest length form.

import NIOCore

/// The canonical-integer test Redis applies before storing a string as an integer (`string2ll`): an optional
/// '-', no leading zeros (but "0"), no '+', no spaces, fits Int64, and not "-0".
package enum CanonicalInteger {
    package static func parse(_ bytes: ByteBuffer, maxLength: Int = 20) -> Int64? {
        let count = bytes.readableBytes
        guard count > 0, count <= maxLength else { return nil }
        return bytes.withUnsafeReadableBytes { raw -> Int64? in
            var index = 0
            let negative = raw[0] == UInt8(ascii: "-")
            if negative {
                index = 1
                guard count > 1 else { return nil }
            }
            // "0" alone is canonical; a leading zero otherwise is not (nor "-0").
            if raw[index] == UInt8(ascii: "0") {
                return count == 1 ? 0 : nil
            }
            var value: UInt64 = 0
            while index < count {
                let digit = raw[index] &- UInt8(ascii: "0")
                guard digit < 10 else { return nil }
                let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (plus, overflow2) = times.addingReportingOverflow(UInt64(digit))
                guard !overflow1, !overflow2 else { return nil }
                value = plus
                index += 1
            }
            if negative {
                guard value <= UInt64(Int64.max) + 1 else { return nil }
                return value == UInt64(Int64.max) + 1 ? Int64.min : -Int64(value)
            }
            guard value <= UInt64(Int64.max) else { return nil }
            return Int64(value)
        }
    }

    /// The integer a string holds for compact encodings, or nil to store it as a string.
    package static func of(_ string: RDBString, maxLength: Int = 20) -> Int64? {
        switch string {
        case .integer(let value): value
        case .bytes(let bytes): parse(bytes, maxLength: maxLength)
        }
    }
}

/// Builds a listpack.
package struct ListpackBuilder {
    /// The bytes `append(string)` would add, backlen included.
    package static func entrySize(_ string: RDBString) -> Int {
        if let value = CanonicalInteger.of(string) { return entrySize(integer: value) }
        let length = string.byteCount
        let size = length + (length < 64 ? 1 : length < 4096 ? 2 : 5)
        return size + Listpack.backlenByteCount(size)
    }

    /// The bytes `append(integer:)` would add, backlen included.
    package static func entrySize(integer value: Int64) -> Int {
        let size: Int
        switch value {
        case 0...127: size = 1
        case -4096...4095: size = 2
        case Int64(Int16.min)...Int64(Int16.max): size = 3
        case -(1 << 23)...((1 << 23) - 1): size = 4
        case Int64(Int32.min)...Int64(Int32.max): size = 5
        default: size = 9
        }
        return size + Listpack.backlenByteCount(size)
    }

    private(set) var body = ByteBufferAllocator().buffer(capacity: 256)
    private(set) var count = 0

    mutating func append(_ string: RDBString) {
        if let value = CanonicalInteger.of(string) {
            append(integer: value)
        } else {
            append(bytes: string.bytes)
        }
    }

    mutating func append(integer value: Int64) {
        let start = body.writerIndex
        switch value {
        case 0...127:
            body.writeInteger(UInt8(value))
        case -4096...4095:
            let raw = UInt16(bitPattern: Int16(value)) & 0x1FFF
            body.writeInteger(UInt8(0xC0 | (raw >> 8)))
            body.writeInteger(UInt8(raw & 0xFF))
        case Int64(Int16.min)...Int64(Int16.max):
            body.writeInteger(UInt8(0xF1))
            body.writeInteger(Int16(value), endianness: .little)
        case -(1 << 23)...((1 << 23) - 1):
            body.writeInteger(UInt8(0xF2))
            let raw = UInt32(bitPattern: Int32(value))
            body.writeInteger(UInt8(raw & 0xFF))
            body.writeInteger(UInt8((raw >> 8) & 0xFF))
            body.writeInteger(UInt8((raw >> 16) & 0xFF))
        case Int64(Int32.min)...Int64(Int32.max):
            body.writeInteger(UInt8(0xF3))
            body.writeInteger(Int32(value), endianness: .little)
        default:
            body.writeInteger(UInt8(0xF4))
            body.writeInteger(value, endianness: .little)
        }
        writeBacklen(body.writerIndex - start)
        count += 1
    }

    mutating func append(bytes: ByteBuffer) {
        let start = body.writerIndex
        let length = bytes.readableBytes
        if length < 64 {
            body.writeInteger(UInt8(0x80 | length))
        } else if length < 4096 {
            body.writeInteger(UInt8(0xE0 | (length >> 8)))
            body.writeInteger(UInt8(length & 0xFF))
        } else {
            body.writeInteger(UInt8(0xF0))
            body.writeInteger(UInt32(length), endianness: .little)
        }
        var bytes = bytes
        body.writeBuffer(&bytes)
        writeBacklen(body.writerIndex - start)
        count += 1
    }

    /// lpEncodeBacklen: 7 bits per byte, most significant group first, bit 7 set on all but the first.
    private mutating func writeBacklen(_ size: Int) {
        let bytes = Listpack.backlenByteCount(size)
        for index in stride(from: bytes - 1, through: 0, by: -1) {
            var byte = UInt8((size >> (7 * index)) & 127)
            if index != bytes - 1 { byte |= 128 }
            body.writeInteger(byte)
        }
    }

    /// The size the finished blob will have.
    var byteCount: Int { Listpack.headerSize + body.readableBytes + 1 }

    func finish() -> ByteBuffer {
        var blob = ByteBufferAllocator().buffer(capacity: byteCount)
        blob.writeInteger(UInt32(byteCount), endianness: .little)
        blob.writeInteger(UInt16(min(count, 65535)), endianness: .little)
        var body = self.body
        blob.writeBuffer(&body)
        blob.writeInteger(UInt8(0xFF))
        return blob
    }
}

/// Builds a ziplist (RDB 6 to 9), with the RDB 6 integer encodings.
struct ZiplistBuilder {
    /// The bytes `append(string)` would add after an entry of `previousEntryBytes` bytes.
    static func entrySize(_ string: RDBString, previousEntryBytes: Int) -> Int {
        let prevlen = previousEntryBytes < 254 ? 1 : 5
        if let value = CanonicalInteger.of(string, maxLength: 31) {
            switch value {
            case 0...12: return prevlen + 1
            case Int64(Int8.min)...Int64(Int8.max): return prevlen + 2
            case Int64(Int16.min)...Int64(Int16.max): return prevlen + 3
            case -(1 << 23)...((1 << 23) - 1): return prevlen + 4
            case Int64(Int32.min)...Int64(Int32.max): return prevlen + 5
            default: return prevlen + 9
            }
        }
        let length = string.byteCount
        return prevlen + length + (length <= 63 ? 1 : length <= 16383 ? 2 : 5)
    }

    private(set) var body = ByteBufferAllocator().buffer(capacity: 256)
    private(set) var count = 0
    private var previousSize = 0
    private var lastOffset = Ziplist.headerSize

    mutating func append(_ string: RDBString) {
        let start = body.writerIndex
        if previousSize < 254 {
            body.writeInteger(UInt8(previousSize))
        } else {
            body.writeInteger(UInt8(0xFE))
            body.writeInteger(UInt32(previousSize), endianness: .little)
        }
        // Ziplists integer-encode strings of up to 31 characters (zipTryEncoding).
        if let value = CanonicalInteger.of(string, maxLength: 31) {
            switch value {
            case 0...12: body.writeInteger(UInt8(0xF1 + value))
            case Int64(Int8.min)...Int64(Int8.max):
                body.writeInteger(UInt8(0xFE))
                body.writeInteger(Int8(value))
            case Int64(Int16.min)...Int64(Int16.max):
                body.writeInteger(UInt8(0xC0))
                body.writeInteger(Int16(value), endianness: .little)
            case -(1 << 23)...((1 << 23) - 1):
                body.writeInteger(UInt8(0xF0))
                let raw = UInt32(bitPattern: Int32(value))
                body.writeInteger(UInt8(raw & 0xFF))
                body.writeInteger(UInt8((raw >> 8) & 0xFF))
                body.writeInteger(UInt8((raw >> 16) & 0xFF))
            case Int64(Int32.min)...Int64(Int32.max):
                body.writeInteger(UInt8(0xD0))
                body.writeInteger(Int32(value), endianness: .little)
            default:
                body.writeInteger(UInt8(0xE0))
                body.writeInteger(value, endianness: .little)
            }
        } else {
            var bytes = string.bytes
            let length = bytes.readableBytes
            if length <= 63 {
                body.writeInteger(UInt8(length))
            } else if length <= 16383 {
                body.writeInteger(UInt8(0x40 | (length >> 8)))
                body.writeInteger(UInt8(length & 0xFF))
            } else {
                body.writeInteger(UInt8(0x80))
                body.writeInteger(UInt32(length), endianness: .big)
            }
            body.writeBuffer(&bytes)
        }
        lastOffset = Ziplist.headerSize + start
        previousSize = body.writerIndex - start
        count += 1
    }

    var byteCount: Int { Ziplist.headerSize + body.readableBytes + 1 }

    func finish() -> ByteBuffer {
        var blob = ByteBufferAllocator().buffer(capacity: byteCount)
        blob.writeInteger(UInt32(byteCount), endianness: .little)
        blob.writeInteger(UInt32(count == 0 ? Ziplist.headerSize : lastOffset), endianness: .little)
        blob.writeInteger(UInt16(min(count, 65535)), endianness: .little)
        var body = self.body
        blob.writeBuffer(&body)
        blob.writeInteger(UInt8(0xFF))
        return blob
    }
}

extension Intset {
    /// Builds an intset from distinct members (sorted here), in the narrowest width that holds them all.
    static func build(_ members: [Int64]) -> ByteBuffer {
        let sorted = members.sorted()
        let width: Int
        if sorted.allSatisfy({ $0 >= Int64(Int16.min) && $0 <= Int64(Int16.max) }) {
            width = 2
        } else if sorted.allSatisfy({ $0 >= Int64(Int32.min) && $0 <= Int64(Int32.max) }) {
            width = 4
        } else {
            width = 8
        }
        var blob = ByteBufferAllocator().buffer(capacity: 8 + sorted.count * width)
        blob.writeInteger(UInt32(width), endianness: .little)
        blob.writeInteger(UInt32(sorted.count), endianness: .little)
        for value in sorted {
            switch width {
            case 2: blob.writeInteger(Int16(value), endianness: .little)
            case 4: blob.writeInteger(Int32(value), endianness: .little)
            default: blob.writeInteger(value, endianness: .little)
            }
        }
        return blob
    }
}
