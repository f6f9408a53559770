// SHA-1 (FIPS 180-4), one-shot over a contiguous buffer: what DEBUG DIGEST needs, nothing more.
//
// Message layout after padding (big-endian throughout):
//
//   | message bytes … | 0x80 | 0x00 … | bit length (UInt64, big-endian) |   total: a multiple of 64 bytes
//
// Not for security: DEBUG DIGEST uses SHA-1 as a well-mixed 160-bit fingerprint, and so do we.

/// SHA-1 of a byte buffer, as Redis's `sha1.c` computes it for DEBUG DIGEST.
package enum SHA1 {
    /// A 160-bit SHA-1 value as five big-endian words (`h0` first).
    package struct Hash: Sendable, Hashable {
        package var words: (UInt32, UInt32, UInt32, UInt32, UInt32)

        /// All zero bits (the start of a digest accumulation).
        package static let zero = Hash(words: (0, 0, 0, 0, 0))

        package init(words: (UInt32, UInt32, UInt32, UInt32, UInt32)) { self.words = words }

        /// The 20 bytes, most significant byte of `h0` first.
        package var bytes: [UInt8] {
            var result: [UInt8] = []
            result.reserveCapacity(20)
            for word in [words.0, words.1, words.2, words.3, words.4] {
                result.append(UInt8(truncatingIfNeeded: word >> 24))
                result.append(UInt8(truncatingIfNeeded: word >> 16))
                result.append(UInt8(truncatingIfNeeded: word >> 8))
                result.append(UInt8(truncatingIfNeeded: word))
            }
            return result
        }

        /// Lower-case hexadecimal, 40 characters (how DEBUG DIGEST prints it).
        package var hex: String {
            let digits = Array("0123456789abcdef".utf8)
            var text: [UInt8] = []
            text.reserveCapacity(40)
            for byte in bytes {
                text.append(digits[Int(byte >> 4)])
                text.append(digits[Int(byte & 0x0f)])
            }
            return String(decoding: text, as: UTF8.self)
        }

        /// Bitwise exclusive or, word by word.
        package static func ^ (lhs: Hash, rhs: Hash) -> Hash {
            Hash(words: (
                lhs.words.0 ^ rhs.words.0, lhs.words.1 ^ rhs.words.1, lhs.words.2 ^ rhs.words.2,
                lhs.words.3 ^ rhs.words.3, lhs.words.4 ^ rhs.words.4))
        }

        package static func == (lhs: Hash, rhs: Hash) -> Bool {
            lhs.words.0 == rhs.words.0 && lhs.words.1 == rhs.words.1 && lhs.words.2 == rhs.words.2
                && lhs.words.3 == rhs.words.3 && lhs.words.4 == rhs.words.4
        }

        package func hash(into hasher: inout Hasher) {
            hasher.combine(words.0)
            hasher.combine(words.1)
            hasher.combine(words.2)
            hasher.combine(words.3)
            hasher.combine(words.4)
        }
    }

    /// The SHA-1 of `bytes`.
    /// - Complexity: O(n)
    package static func hash<S: Sequence>(_ bytes: S) -> Hash where S.Element == UInt8 {
        let array = Array(bytes)
        return array.withUnsafeBytes { hash($0) }
    }

    /// The SHA-1 of the bytes at `buffer`.
    /// - Complexity: O(n)
    package static func hash(_ buffer: UnsafeRawBufferPointer) -> Hash {
        var state = (UInt32(0x6745_2301), UInt32(0xEFCD_AB89), UInt32(0x98BA_DCFE), UInt32(0x1032_5476), UInt32(0xC3D2_E1F0))
        let count = buffer.count
        let fullBlocks = count / 64
        // Whole blocks straight from the input; the check that they exist is the division above.
        for block in 0..<fullBlocks {
            compress(&state, UnsafeRawBufferPointer(rebasing: buffer[(block * 64)..<(block * 64 + 64)]))
        }
        // The tail, the 0x80 marker and the length fit in one block, or two when the tail leaves under 9 bytes.
        let tail = count - fullBlocks * 64
        let tailBlocks = tail + 9 <= 64 ? 1 : 2
        withUnsafeTemporaryAllocation(byteCount: 128, alignment: 8) { scratch in
            scratch.initializeMemory(as: UInt8.self, repeating: 0)
            if tail > 0 {
                scratch.copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[(fullBlocks * 64)...]))
            }
            scratch[tail] = 0x80
            let bitLength = UInt64(count) &* 8
            let end = tailBlocks * 64
            for index in 0..<8 {
                scratch[end - 1 - index] = UInt8(truncatingIfNeeded: bitLength >> (8 * UInt64(index)))
            }
            for block in 0..<tailBlocks {
                compress(&state, UnsafeRawBufferPointer(rebasing: scratch[(block * 64)..<(block * 64 + 64)]))
            }
        }
        return Hash(words: state)
    }

    /// One 64-byte block of the compression function.
    private static func compress(
        _ state: inout (UInt32, UInt32, UInt32, UInt32, UInt32), _ block: UnsafeRawBufferPointer
    ) {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 80) { w in
            for index in 0..<16 {
                let base = index * 4
                w[index] = UInt32(block[base]) << 24 | UInt32(block[base + 1]) << 16
                    | UInt32(block[base + 2]) << 8 | UInt32(block[base + 3])
            }
            for index in 16..<80 {
                let mixed = w[index - 3] ^ w[index - 8] ^ w[index - 14] ^ w[index - 16]
                w[index] = mixed << 1 | mixed >> 31
            }
            var (a, b, c, d, e) = state
            for index in 0..<80 {
                let f: UInt32
                let k: UInt32
                switch index {
                case 0..<20:
                    f = (b & c) | (~b & d)
                    k = 0x5A82_7999
                case 20..<40:
                    f = b ^ c ^ d
                    k = 0x6ED9_EBA1
                case 40..<60:
                    f = (b & c) | (b & d) | (c & d)
                    k = 0x8F1B_BCDC
                default:
                    f = b ^ c ^ d
                    k = 0xCA62_C1D6
                }
                let temp = (a << 5 | a >> 27) &+ f &+ e &+ k &+ w[index]
                e = d
                d = c
                c = b << 30 | b >> 2
                b = a
                a = temp
            }
            state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d, state.4 &+ e)
        }
    }
}
