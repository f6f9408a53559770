// Zipmap (zipmap.c; RDB 2 type 9, written by Redis 2.4 and earlier):
//
//   <zmlen u8: pair count, >= 254 means unknown> <pair> ... <pair> <0xFF>
//   pair = <len> <key> <len> <free u8> <value> <free unused bytes>
//   len  = 1 byte < 254, or 0xFE + u32 LE

import NIOCore

/// Validation and decoding of zipmap blobs.
enum Zipmap {
    /// Validates the blob and returns its field, value, field, value… entries.
    ///
    /// - Throws: `.corrupt` with an offset relative to the start of the blob.
    static func entries(_ blob: ByteBuffer) throws(FormatError) -> [RDBString] {
        let base = blob.readerIndex
        let result: Result<[RDBString], FormatError> = blob.withUnsafeReadableBytes { bytes in
            func corrupt(_ at: Int, _ detail: String) -> Result<[RDBString], FormatError> {
                .failure(FormatError(.corrupt, offset: Int64(at), "zipmap integrity check failed: \(detail)"))
            }
            let n = bytes.count
            guard n >= 2 else { return corrupt(0, "\(n) bytes is shorter than a zipmap") }
            let declared = Int(bytes[0])
            let end = n - 1
            var p = 1
            var entries: [RDBString] = []
            entries.reserveCapacity(min(declared, 254) * 2)
            // Reads a length at p; nil when it overruns.
            func readLength(_ p: inout Int) -> Int? {
                guard p < end else { return nil }
                let b = bytes[p]
                if b < 254 {
                    p += 1
                    return Int(b)
                }
                guard b == 254, end - p >= 5 else { return nil }
                let value = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: p + 1, as: UInt32.self)))
                p += 5
                return value
            }
            while true {
                guard p <= end else { return corrupt(p, "missing terminator") }
                if bytes[p] == 0xFF {
                    guard p == end else { return corrupt(p, "terminator before the end of the blob") }
                    break
                }
                let start = p
                guard let keyLength = readLength(&p), keyLength <= end - p else {
                    return corrupt(start, "key overruns the blob")
                }
                let key = blob.getSlice(at: base + p, length: keyLength)!
                p += keyLength
                guard let valueLength = readLength(&p), p < end else { return corrupt(start, "value overruns the blob") }
                let free = Int(bytes[p])
                p += 1
                guard valueLength <= end - p, free <= end - p - valueLength else {
                    return corrupt(start, "value overruns the blob")
                }
                let value = blob.getSlice(at: base + p, length: valueLength)!
                p += valueLength + free
                entries.append(.bytes(key))
                entries.append(.bytes(value))
            }
            guard declared >= 254 || declared == entries.count / 2 else {
                return corrupt(0, "header count \(declared) but \(entries.count / 2) pairs")
            }
            return .success(entries)
        }
        return try result.get()
    }
}
