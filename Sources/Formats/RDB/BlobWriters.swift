// Writers of the embedded blobs, mirrors of Listpack.scan, Ziplist.scan and Intset.members (layouts in those
// files). They encode entries as Redis does: integers in their smallest form when the text is a canonical
// decimal integer, strings in their shortest length form.

import NIOCore

/// The canonical-integer test Redis applies before storing a string as an integer (`string2ll`): an optional
/// '-', no leading zeros (but "0"), no '+', no spaces, fits Int64, and not "-0".
package enum CanonicalInteger {
    package static func parse(_ bytes: ByteBuffer, maxLength: Int = 20) -> Int64? {
        bytes.withUnsafeReadableBytes { parse(raw: $0, maxLength: maxLength) }
    }

    /// Redis's `string2ll` over raw bytes: optional `-`, no `+`, no spaces, no leading zeros ("-0" neither),
    /// within `Int64`. The one strict integer parser of the package (RDB encodings, command arguments, the
    /// server's `*N` / `$N` headers).
    package static func parse(raw: UnsafeRawBufferPointer, maxLength: Int = 20) -> Int64? {
        let count = raw.count
        guard count > 0, count <= maxLength else { return nil }
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

    /// The most bytes ``format(_:rightAlignedIn:)`` writes (`-9223372036854775808`).
    package static let maxTextLength = 20

    /// Writes the canonical decimal text of `value` at the end of `digits` (at least ``maxTextLength`` bytes) and
    /// returns the index where it starts: the inverse of ``parse(raw:maxLength:)``. Not generic, so that a caller
    /// in another module gets it specialised (the generic ``withText(_:_:)`` was called unspecialised from the
    /// keyspace: a metadata lookup per INCR).
    @inlinable
    package static func format(_ value: Int64, rightAlignedIn digits: UnsafeMutableRawBufferPointer) -> Int {
        precondition(digits.count >= maxTextLength)
        var rest = value.magnitude
        var index = digits.count
        repeat {
            index &-= 1
            digits[index] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
            rest /= 10
        } while rest > 0
        if value < 0 {
            index &-= 1
            digits[index] = UInt8(ascii: "-")
        }
        return index
    }

    /// Calls `body` with the canonical decimal text of `value` (on the stack), as ``format(_:rightAlignedIn:)``
    /// writes it.
    @inlinable
    package static func withText<R>(_ value: Int64, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        return Swift.withUnsafeMutableBytes(of: &digits) { raw in
            let start = format(value, rightAlignedIn: raw)
            return body(UnsafeRawBufferPointer(rebasing: raw[start...]))
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

/// A quicklist node's builder: a listpack (RDB 10+) or a ziplist.
protocol QuicklistNodeBuilder {
    init(capacityBytes: Int)
    mutating func append<S: RDBWritableString>(_ string: S)
    mutating func finish() -> ByteBuffer
}

/// Builds a listpack.
package struct ListpackBuilder: QuicklistNodeBuilder {
    /// The bytes `append(string)` would add, backlen included.
    package static func entrySize<S: RDBWritableString>(_ string: S) -> Int {
        if let value = string.canonicalInteger(maxLength: 20) { return entrySize(integer: value) }
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

    /// The blob being built: a header to be filled in by ``finish()``, then the entries.
    private var blob: ByteBuffer
    private(set) var count = 0

    /// `capacityBytes`: the expected size of the entries (the blob grows as needed).
    init(capacityBytes: Int = 256) {
        blob = ByteBufferAllocator().buffer(capacity: Listpack.headerSize + capacityBytes + 1)
        blob.moveWriterIndex(forwardBy: Listpack.headerSize)
    }

    /// Appends an entry: an integer when the string is a canonical one, else the string.
    mutating func append<S: RDBWritableString>(_ string: S) {
        if let value = string.canonicalInteger(maxLength: 20) {
            append(integer: value)
        } else {
            string.withRawBytes { append(raw: $0) }
        }
    }

    mutating func append(integer value: Int64) {
        // One reservation per entry; the encoding and its backlen (1 byte: sizes 1-9) are stored in place.
        blob.appendUnsafeBytes(maximumCount: 10) { target in
            var size: Int
            switch value {
            case 0...127:
                target.storeBytes(of: UInt8(value), as: UInt8.self)
                size = 1
            case -4096...4095:
                let raw = UInt16(bitPattern: Int16(value)) & 0x1FFF
                target.storeBytes(of: (0xC000 | raw).bigEndian, as: UInt16.self)  // 110 + 13 bits, high byte first
                size = 2
            case Int64(Int16.min)...Int64(Int16.max):
                target.storeBytes(of: 0xF1, as: UInt8.self)
                target.storeBytes(of: Int16(value).littleEndian, toByteOffset: 1, as: Int16.self)
                size = 3
            case -(1 << 23)...((1 << 23) - 1):
                target.storeBytes(of: 0xF2, as: UInt8.self)
                target.storeBytes(of: Int32(value).littleEndian, toByteOffset: 1, as: Int32.self)  // low 3 bytes kept
                size = 4
            case Int64(Int32.min)...Int64(Int32.max):
                target.storeBytes(of: 0xF3, as: UInt8.self)
                target.storeBytes(of: Int32(value).littleEndian, toByteOffset: 1, as: Int32.self)
                size = 5
            default:
                target.storeBytes(of: 0xF4, as: UInt8.self)
                target.storeBytes(of: value.littleEndian, toByteOffset: 1, as: Int64.self)
                size = 9
            }
            target.storeBytes(of: UInt8(size), toByteOffset: size, as: UInt8.self)  // backlen of a size below 128
            return size + 1
        }
        count += 1
    }

    mutating func append(bytes: ByteBuffer) {
        bytes.withUnsafeReadableBytes { append(raw: $0) }
    }

    /// Appends a string entry (never integer-encoded: callers decide that).
    mutating func append(raw bytes: UnsafeRawBufferPointer) {
        let length = bytes.count
        let headerBytes = length < 64 ? 1 : length < 4096 ? 2 : 5
        let size = headerBytes + length
        let backlenBytes = Listpack.backlenByteCount(size)
        blob.appendUnsafeBytes(maximumCount: size + backlenBytes) { target in
            switch headerBytes {
            case 1:
                target.storeBytes(of: UInt8(0x80 | length), as: UInt8.self)
            case 2:
                target.storeBytes(of: UInt16(0xE000 | length).bigEndian, as: UInt16.self)  // 1110 + 12 bits
            default:
                target.storeBytes(of: 0xF0, as: UInt8.self)
                target.storeBytes(of: UInt32(length).littleEndian, toByteOffset: 1, as: UInt32.self)
            }
            if let source = bytes.baseAddress {
                (target + headerBytes).copyMemory(from: source, byteCount: length)
            }
            ListpackBuilder.storeBacklen(size, byteCount: backlenBytes, at: target + size)
            return size + backlenBytes
        }
        count += 1
    }

    /// lpEncodeBacklen: 7 bits per byte, most significant group first, bit 7 set on all but the first.
    private static func storeBacklen(_ size: Int, byteCount: Int, at target: UnsafeMutableRawPointer) {
        for index in 0..<byteCount {
            let shift = 7 * (byteCount - 1 - index)
            var byte = UInt8((size >> shift) & 127)
            if index != 0 { byte |= 128 }
            target.storeBytes(of: byte, toByteOffset: index, as: UInt8.self)
        }
    }

    /// The size the finished blob will have.
    var byteCount: Int { blob.readableBytes + 1 }

    /// The finished blob: header filled in, terminator appended. The builder is spent.
    mutating func finish() -> ByteBuffer {
        let total = byteCount
        blob.appendInteger(UInt8(0xFF))
        blob.setInteger(UInt32(total), at: 0, endianness: .little)
        blob.setInteger(UInt16(min(count, 65535)), at: 4, endianness: .little)
        return blob
    }
}

/// Builds a ziplist (RDB 6 to 9), with the RDB 6 integer encodings.
struct ZiplistBuilder: QuicklistNodeBuilder {
    /// The bytes `append(string)` would add after an entry of `previousEntryBytes` bytes.
    static func entrySize<S: RDBWritableString>(_ string: S, previousEntryBytes: Int) -> Int {
        let prevlen = previousEntryBytes < 254 ? 1 : 5
        if let value = string.canonicalInteger(maxLength: 31) {
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

    /// The blob being built: a header to be filled in by ``finish()``, then the entries.
    private var body: ByteBuffer
    private(set) var count = 0
    private var previousSize = 0
    private var lastOffset = Ziplist.headerSize

    /// `capacityBytes`: the expected size of the entries (the blob grows as needed).
    init(capacityBytes: Int = 256) {
        body = ByteBufferAllocator().buffer(capacity: Ziplist.headerSize + capacityBytes + 1)
        body.moveWriterIndex(forwardBy: Ziplist.headerSize)
    }

    mutating func append<S: RDBWritableString>(_ string: S) {
        let start = body.writerIndex
        if previousSize < 254 {
            body.appendInteger(UInt8(previousSize))
        } else {
            body.appendInteger(UInt8(0xFE))
            body.appendInteger(UInt32(previousSize), endianness: .little)
        }
        // Ziplists integer-encode strings of up to 31 characters (zipTryEncoding).
        if let value = string.canonicalInteger(maxLength: 31) {
            switch value {
            case 0...12: body.appendInteger(UInt8(0xF1 + value))
            case Int64(Int8.min)...Int64(Int8.max):
                body.appendInteger(UInt8(0xFE))
                body.appendInteger(Int8(value))
            case Int64(Int16.min)...Int64(Int16.max):
                body.appendInteger(UInt8(0xC0))
                body.appendInteger(Int16(value), endianness: .little)
            case -(1 << 23)...((1 << 23) - 1):
                body.appendInteger(UInt8(0xF0))
                let raw = UInt32(bitPattern: Int32(value))
                body.appendInteger(UInt8(raw & 0xFF))
                body.appendInteger(UInt8((raw >> 8) & 0xFF))
                body.appendInteger(UInt8((raw >> 16) & 0xFF))
            case Int64(Int32.min)...Int64(Int32.max):
                body.appendInteger(UInt8(0xD0))
                body.appendInteger(Int32(value), endianness: .little)
            default:
                body.appendInteger(UInt8(0xE0))
                body.appendInteger(value, endianness: .little)
            }
        } else {
            let length = string.byteCount
            if length <= 63 {
                body.appendInteger(UInt8(length))
            } else if length <= 16383 {
                body.appendInteger(UInt8(0x40 | (length >> 8)))
                body.appendInteger(UInt8(length & 0xFF))
            } else {
                body.appendInteger(UInt8(0x80))
                body.appendInteger(UInt32(length), endianness: .big)
            }
            string.withRawBytes { body.appendBytes($0) }
        }
        lastOffset = start
        previousSize = body.writerIndex - start
        count += 1
    }

    var byteCount: Int { body.readableBytes + 1 }

    /// The finished blob: header filled in, terminator appended. The builder is spent.
    mutating func finish() -> ByteBuffer {
        let total = byteCount
        body.appendInteger(UInt8(0xFF))
        body.setInteger(UInt32(total), at: 0, endianness: .little)
        body.setInteger(UInt32(count == 0 ? Ziplist.headerSize : lastOffset), at: 4, endianness: .little)
        body.setInteger(UInt16(min(count, 65535)), at: 8, endianness: .little)
        return body
    }
}

extension Intset {
    /// Builds an intset from distinct members (sorted here), in the narrowest width that holds them all.
    static func build(_ members: [Int64]) -> ByteBuffer {
        build(ascending: members.sorted())
    }

    /// Builds an intset from distinct members in ascending order, in the narrowest width that holds them all.
    static func build(ascending sorted: [Int64]) -> ByteBuffer {
        let width: Int
        // The lowest and highest members decide.
        let (lowest, highest) = (sorted.first ?? 0, sorted.last ?? 0)
        if lowest >= Int64(Int16.min) && highest <= Int64(Int16.max) {
            width = 2
        } else if lowest >= Int64(Int32.min) && highest <= Int64(Int32.max) {
            width = 4
        } else {
            width = 8
        }
        var blob = ByteBufferAllocator().buffer(capacity: 8 + sorted.count * width)
        blob.appendInteger(UInt32(width), endianness: .little)
        blob.appendInteger(UInt32(sorted.count), endianness: .little)
        for value in sorted {
            switch width {
            case 2: blob.appendInteger(Int16(value), endianness: .little)
            case 4: blob.appendInteger(Int32(value), endianness: .little)
            default: blob.appendInteger(value, endianness: .little)
            }
        }
        return blob
    }
}
