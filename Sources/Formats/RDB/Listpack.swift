// Listpack (listpack.c; RDB 10 types 16, 17, 18, 20, 25 and stream nodes since RDB 9):
//
//   <total-bytes u32 LE> <count u16 LE, 65535 = unknown> <entry> ... <entry> <0xFF>
//   entry = <encoding+data> <backlen: size of encoding+data, 1..5 bytes, readable right to left>
//
//   0xxxxxxx                 7-bit unsigned integer
//   10xxxxxx <data>          string of up to 63 bytes
//   110xxxxx yyyyyyyy        13-bit signed integer
//   1110xxxx yyyyyyyy <data> string of up to 4095 bytes
//   11110000 <u32 LE> <data> string with a 32-bit length
//   0xF1 i16 | 0xF2 i24 | 0xF3 i32 | 0xF4 i64 (LE)
//
// backlen: 7 bits per byte, most significant group first; every byte but the first has bit 7 set.

import NIOCore

/// Validation and decoding of listpack blobs.
enum Listpack {
    static let headerSize = 6

    /// Validates the whole blob (header, every entry and its backlen, terminator, count) and returns its entries.
    ///
    /// - Throws: `.corrupt` with the offset of the failing entry relative to the start of the blob.
    static func entries(_ blob: ByteBuffer) throws(FormatError) -> [RDBString] {
        BlobEntry.strings(try scan(blob), in: blob)
    }

    /// Validates the whole blob and returns its entries as positions (no reference counting).
    static func scan(_ blob: ByteBuffer) throws(FormatError) -> [BlobEntry] {
        let result: Result<[BlobEntry], FormatError> = blob.withUnsafeReadableBytes { bytes in
            parse(bytes)
        }
        return try result.get()
    }

    private static func corrupt(_ at: Int, _ detail: String) -> Result<[BlobEntry], FormatError> {
        .failure(FormatError(.corrupt, offset: Int64(at), "listpack integrity check failed: \(detail)"))
    }

    private static func parse(_ bytes: UnsafeRawBufferPointer) -> Result<[BlobEntry], FormatError> {
        let n = bytes.count
        guard n >= headerSize + 1 else { return corrupt(0, "\(n) bytes is shorter than a listpack header") }
        let total = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt32.self)))
        guard total == n else { return corrupt(0, "header says \(total) bytes, blob has \(n)") }
        let declared = Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 4, as: UInt16.self)))
        var entries: [BlobEntry] = []
        entries.reserveCapacity(declared == 65535 ? min(n / 2, 1024) : min(declared, n))
        var p = headerSize
        let end = n - 1  // index of the terminator
        while true {
            guard p <= end else { return corrupt(p, "missing terminator") }
            let b = bytes[p]
            if b == 0xFF {
                guard p == end else { return corrupt(p, "terminator at \(p) before the end of the blob") }
                break
            }
            let start = p
            var size: Int  // encoding + data
            var value: BlobEntry
            let left = end - p  // bytes available before the terminator
            if b & 0x80 == 0 {
                size = 1
                value = BlobEntry(integer: Int64(b))
            } else if b & 0xC0 == 0x80 {
                let length = Int(b & 0x3F)
                size = 1 + length
                guard size <= left else { return corrupt(start, "string entry overruns the blob") }
                value = BlobEntry(offset: p + 1, length: length)
            } else if b & 0xE0 == 0xC0 {
                guard left >= 2 else { return corrupt(start, "integer entry overruns the blob") }
                var v = (Int64(b & 0x1F) << 8) | Int64(bytes[p + 1])
                if v >= 1 << 12 { v -= 1 << 13 }
                size = 2
                value = BlobEntry(integer: v)
            } else if b & 0xF0 == 0xE0 {
                guard left >= 2 else { return corrupt(start, "string entry overruns the blob") }
                let length = (Int(b & 0x0F) << 8) | Int(bytes[p + 1])
                size = 2 + length
                guard size <= left else { return corrupt(start, "string entry overruns the blob") }
                value = BlobEntry(offset: p + 2, length: length)
            } else {
                switch b {
                case 0xF0:
                    guard left >= 5 else { return corrupt(start, "string entry overruns the blob") }
                    let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: p + 1, as: UInt32.self)))
                    guard length <= left - 5 else { return corrupt(start, "string entry overruns the blob") }
                    size = 5 + length
                    value = BlobEntry(offset: p + 5, length: length)
                case 0xF1:
                    guard left >= 3 else { return corrupt(start, "integer entry overruns the blob") }
                    size = 3
                    value = BlobEntry(integer: Int64(Int16(littleEndian: bytes.loadUnaligned(fromByteOffset: p + 1, as: Int16.self))))
                case 0xF2:
                    guard left >= 4 else { return corrupt(start, "integer entry overruns the blob") }
                    let raw = UInt32(bytes[p + 1]) | UInt32(bytes[p + 2]) << 8 | UInt32(bytes[p + 3]) << 16
                    size = 4
                    value = BlobEntry(integer: Int64(Int32(bitPattern: raw << 8) >> 8))
                case 0xF3:
                    guard left >= 5 else { return corrupt(start, "integer entry overruns the blob") }
                    size = 5
                    value = BlobEntry(integer: Int64(Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: p + 1, as: Int32.self))))
                case 0xF4:
                    guard left >= 9 else { return corrupt(start, "integer entry overruns the blob") }
                    size = 9
                    value = BlobEntry(integer: Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: p + 1, as: Int64.self)))
                default:
                    return corrupt(start, "invalid entry encoding 0x\(String(b, radix: 16))")
                }
            }
            let backlenSize = backlenByteCount(size)
            guard size + backlenSize <= left else { return corrupt(start, "entry backlen overruns the blob") }
            // Decode the backlen right to left, as lpPrev does.
            var decoded = 0
            var shift = 0
            var q = p + size + backlenSize - 1
            var used = 0
            while true {
                let byte = bytes[q]
                decoded |= Int(byte & 127) << shift
                used += 1
                if byte & 128 == 0 || used == backlenSize { break }
                shift += 7
                q -= 1
            }
            guard decoded == size, used == backlenSize, bytes[p + size] & 128 == 0 else {
                return corrupt(start, "entry backlen \(decoded) does not match its size \(size)")
            }
            entries.append(value)
            p += size + backlenSize
        }
        guard declared == 65535 || declared == entries.count else {
            return corrupt(4, "header count \(declared) but \(entries.count) entries")
        }
        return .success(entries)
    }

    /// How many bytes the backlen of an entry of `size` bytes takes (lpEncodeBacklenBytes).
    static func backlenByteCount(_ size: Int) -> Int {
        if size <= 127 { return 1 }
        if size < 16383 { return 2 }
        if size < 2_097_151 { return 3 }
        if size < 268_435_455 { return 4 }
        return 5
    }
}
