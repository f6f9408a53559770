import Formats
import TestSupport
import NIOCore
import Testing

@Suite struct LZFTests {
    @Test func roundTrip() throws {
        var input = ByteBuffer()
        input.writeString(String(repeating: "abcdefgh", count: 500) + "tail")
        let compressed = try #require(LZF.compress(input, maximumCount: input.readableBytes - 4))
        #expect(compressed.readableBytes < input.readableBytes)
        let output = try LZF.decompress(compressed, uncompressedCount: input.readableBytes)
        #expect(output == input)
    }

    /// The worked example of FORMAT-SPEC §2.1 (the `compressible` value of encodings.rdb).
    @Test func decodesRedisExample() throws {
        let compressed = ByteBuffer(bytes: [0x01, 0x61, 0x61, 0xE0, 0x7C, 0x00, 0x01, 0x61, 0x61])
        let output = try LZF.decompress(compressed, uncompressedCount: 137)
        #expect(Array(output.readableBytesView) == Array(repeating: UInt8(ascii: "a"), count: 137))
    }

    @Test func incompressibleReturnsNil() {
        var generator = SplitMix64(seed: 7)
        let input = ByteBuffer(bytes: (0..<64).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
        #expect(LZF.compress(input, maximumCount: 60) == nil)
    }

    @Test func wrongDeclaredLengthIsCorrupt() {
        let compressed = ByteBuffer(bytes: [0x01, 0x61, 0x61, 0xE0, 0x7C, 0x00, 0x01, 0x61, 0x61])
        for declared in [136, 138, 1] {
            #expect(throws: FormatError.self) { try LZF.decompress(compressed, uncompressedCount: declared) }
            do {
                _ = try LZF.decompress(compressed, uncompressedCount: declared)
            } catch {
                #expect(error.code == .corrupt)
            }
        }
    }

    @Test func backReferenceBeforeStartIsCorrupt() {
        // A back reference of distance 2 as the very first instruction points before the output.
        let compressed = ByteBuffer(bytes: [0x20, 0x01])
        do {
            _ = try LZF.decompress(compressed, uncompressedCount: 3)
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .corrupt)
        }
    }
}
