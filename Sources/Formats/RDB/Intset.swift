// Intset (intset.c; RDB 2 type 11):
//
//   <encoding u32 LE: 2, 4 or 8 bytes per member> <length u32 LE> <length members, signed, LE, strictly ascending>
//
// The blob is exactly 8 + length * encoding bytes, and never empty.

import NIOCore

/// Validation and decoding of intset blobs.
enum Intset {
    /// Validates the blob and returns its members in ascending order.
    ///
    /// - Throws: `.corrupt` with an offset relative to the start of the blob.
    static func members(_ blob: ByteBuffer) throws(FormatError) -> [Int64] {
        let result: Result<[Int64], FormatError> = blob.withUnsafeReadableBytes { bytes in
            func corrupt(_ at: Int, _ detail: String) -> Result<[Int64], FormatError> {
                .failure(FormatError(.corrupt, offset: Int64(at), "intset integrity check failed: \(detail)"))
            }
            let n = bytes.count
            guard n >= 8 else { return corrupt(0, "\(n) bytes is shorter than an intset header") }
            let width = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt32.self)))
            guard width == 2 || width == 4 || width == 8 else { return corrupt(0, "invalid encoding \(width)") }
            let count = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
            guard count > 0 else { return corrupt(4, "empty intset") }
            guard (n - 8) % width == 0, (n - 8) / width == count else {
                return corrupt(4, "length \(count) × \(width) bytes does not fill the \(n)-byte blob")
            }
            var members: [Int64] = []
            members.reserveCapacity(count)
            var previous = Int64.min
            for index in 0..<count {
                let at = 8 + index * width
                let value: Int64
                switch width {
                case 2: value = Int64(Int16(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: Int16.self)))
                case 4: value = Int64(Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: Int32.self)))
                default: value = Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: Int64.self))
                }
                guard index == 0 || value > previous else {
                    return corrupt(at, "members not strictly ascending (\(value) after \(previous))")
                }
                previous = value
                members.append(value)
            }
            return .success(members)
        }
        return try result.get()
    }
}
