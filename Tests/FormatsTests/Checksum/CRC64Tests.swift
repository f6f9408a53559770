import Formats
import TestSupport
import Testing

@Suite struct CRC64Tests {
    @Test func knownVector() {
        #expect(CRC64.checksum(Array("123456789".utf8)) == 0xe9c6_d914_c4b8_d9ca)
    }

    @Test func emptyInputIsZero() {
        #expect(CRC64.checksum([UInt8]()) == 0)
    }

    /// The slicing-by-8 loop must agree with a bit-by-bit reference at every length and split point.
    @Test func matchesBitwiseReference() {
        var generator = SplitMix64(seed: 42)
        for length in [1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000, 4099] {
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            let expected = bitwiseCRC64(bytes)
            #expect(CRC64.checksum(bytes) == expected, "length \(length)")
            let split = Int(generator.next() % UInt64(length))
            var crc = CRC64()
            crc.update(bytes[..<split])
            crc.update(bytes[split...])
            #expect(crc.value == expected, "length \(length) split at \(split)")
        }
    }

    private func bitwiseCRC64(_ bytes: [UInt8]) -> UInt64 {
        var crc: UInt64 = 0
        for byte in bytes {
            crc ^= UInt64(byte)
            for _ in 0..<8 {
                crc = (crc & 1) == 1 ? (crc >> 1) ^ 0x95ac_9329_ac4b_c9b5 : crc >> 1
            }
        }
        return crc
    }
}

