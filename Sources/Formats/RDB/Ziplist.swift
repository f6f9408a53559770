// Ziplist (ziplist.c; RDB 2 types 10, 12, 13, RDB 7 quicklist nodes; replaced by listpacks in RDB 10):
//
//   <zlbytes u32 LE> <zltail u32 LE: offset of the last entry> <zllen u16 LE, 65535 = unknown>
//   <entry> ... <entry> <0xFF>
//   entry = <prevlen: 1 byte < 254, or 0xFE + u32 LE> <encoding> <data>
//
//   00pppppp                    string, 6-bit length
//   01pppppp qqqqqqqq           string, 14-bit length, big endian
//   10______ <u32 BE>           string, 32-bit length, big endian
//   0xC0 i16 | 0xD0 i32 | 0xE0 i64 | 0xF0 i24 | 0xFE i8 (LE; i24 and i8 since RDB 6)
//   0xF1..0xFD                  immediate integer 0..12 (low nibble - 1), RDB 6

import NIOCore

/// Validation and decoding of ziplist blobs.
enum Ziplist {
    static let headerSize = 10

    /// Validates the whole blob (header, prevlen chain, every encoding, tail offset, count) and returns its entries.
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
        .failure(FormatError(.corrupt, offset: Int64(at), "ziplist integrity check failed: \(detail)"))
    }

    private static func parse(_ bytes: UnsafeRawBufferPointer) -> Result<[BlobEntry], FormatError> {
        let n = bytes.count
        guard n >= headerSize + 1 else { return corrupt(0, "\(n) bytes is shorter than a ziplist header") }
        let total = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt32.self)))
        guard total == n else { return corrupt(0, "header says \(total) bytes, blob has \(n)") }
        let tail = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
        let declared = Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt16.self)))
        var entries: [BlobEntry] = []
        entries.reserveCapacity(declared == 65535 ? min(n / 2, 1024) : min(declared, n))
        var p = headerSize
        let end = n - 1
        var previousSize = 0
        var lastStart = headerSize
        while true {
            guard p <= end else { return corrupt(p, "missing terminator") }
            if bytes[p] == 0xFF {
                guard p == end else { return corrupt(p, "terminator at \(p) before the end of the blob") }
                break
            }
            let start = p
            var prevlen: Int
            if bytes[p] < 254 {
                prevlen = Int(bytes[p])
                p += 1
            } else {
                guard end - p >= 5 else { return corrupt(start, "prevlen overruns the blob") }
                prevlen = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: p + 1, as: UInt32.self)))
                p += 5
            }
            guard prevlen == previousSize else {
                return corrupt(start, "prevlen \(prevlen) does not match the previous entry's size \(previousSize)")
            }
            guard p < end else { return corrupt(start, "entry overruns the blob") }
            let e = bytes[p]
            let left = end - p
            let value: BlobEntry
            var size: Int  // encoding + data
            if e < 0xC0 {
                var length: Int
                var header: Int
                switch e >> 6 {
                case 0:
                    length = Int(e & 0x3F)
                    header = 1
                case 1:
                    guard left >= 2 else { return corrupt(start, "string header overruns the blob") }
                    length = (Int(e & 0x3F) << 8) | Int(bytes[p + 1])
                    header = 2
                default:
                    guard left >= 5 else { return corrupt(start, "string header overruns the blob") }
                    length = Int(UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: p + 1, as: UInt32.self)))
                    header = 5
                }
                guard length <= left - header else { return corrupt(start, "string entry overruns the blob") }
                size = header + length
                value = BlobEntry(offset: p + header, length: length)
            } else {
                let dataSize: Int
                switch e {
                case 0xC0: dataSize = 2
                case 0xD0: dataSize = 4
                case 0xE0: dataSize = 8
                case 0xF0: dataSize = 3
                case 0xFE: dataSize = 1
                case 0xF1...0xFD: dataSize = 0
                default: return corrupt(start, "invalid entry encoding 0x\(String(e, radix: 16))")
                }
                guard left >= 1 + dataSize else { return corrupt(start, "integer entry overruns the blob") }
                let d = p + 1
                switch e {
                case 0xC0: value = BlobEntry(integer: Int64(Int16(littleEndian: bytes.loadUnaligned(fromByteOffset: d, as: Int16.self))))
                case 0xD0: value = BlobEntry(integer: Int64(Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: d, as: Int32.self))))
                case 0xE0: value = BlobEntry(integer: Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: d, as: Int64.self)))
                case 0xF0:
                    let raw = UInt32(bytes[d]) | UInt32(bytes[d + 1]) << 8 | UInt32(bytes[d + 2]) << 16
                    value = BlobEntry(integer: Int64(Int32(bitPattern: raw << 8) >> 8))
                case 0xFE: value = BlobEntry(integer: Int64(Int8(bitPattern: bytes[d])))
                default: value = BlobEntry(integer: Int64(e & 0x0F) - 1)
                }
                size = 1 + dataSize
            }
            p += size
            previousSize = p - start
            lastStart = start
            entries.append(value)
        }
        guard tail == lastStart else { return corrupt(4, "tail offset \(tail) but the last entry is at \(lastStart)") }
        guard declared == 65535 || declared == entries.count else {
            return corrupt(8, "header count \(declared) but \(entries.count) entries")
        }
        return .success(entries)
    }
}
