import Foundation
import Formats
import NIOCore
import TestSupport
import Testing

/// Strings an input stored LZF-compressed keep their compressed bytes when written again
/// (RDBReader's `keepsCompressedStrings`, RDBWriter's `offerCompressedStrings`), and only where the output holds
/// exactly those bytes.
@Suite struct CompressedStringReuseTests {
    /// "abc" × 20, and a valid LZF form of it that liblzf would not produce (two back references where one
    /// does): seeing these bytes in the output proves they were reused, not recompressed.
    static let text = ByteBuffer(string: String(repeating: "abc", count: 20))
    static let unusualForm = ByteBuffer(bytes: [0x02, 0x61, 0x62, 0x63, 0xE0, 20, 0x02, 0xE0, 19, 0x02])

    static func contains(_ haystack: [UInt8], _ needle: ByteBuffer) -> Bool {
        let needle = Array(needle.readableBytesView)
        return haystack.count >= needle.count && (0...(haystack.count - needle.count)).contains { haystack[$0..<($0 + needle.count)].elementsEqual(needle) }
    }

    static func header(_ key: String, _ type: RDBType, count: UInt64? = nil) -> RDBKeyHeader {
        RDBKeyHeader(database: 0, key: ByteBuffer(string: key), type: type, declaredCount: count, offset: 0)
    }

    @Test func theUnusualFormDecompressesToTheText() throws {
        #expect(try LZF.decompress(Self.unusualForm, uncompressedCount: 60) == Self.text)
        #expect(LZF.compress(Self.text, maximumCount: 56) != Self.unusualForm)
    }

    /// Writes a string value, a small list (one listpack) and a big set (written straight through) with the
    /// offers `offer` makes, and returns the file.
    static func write(offering offer: (inout RDBWriter<BufferSink>) -> Void) throws -> [UInt8] {
        var writer = RDBWriter(sink: BufferSink())
        try writer.writeHeader(now: 1_700_000_000)
        offer(&writer)
        try writer.beginKey(header("string", .string, count: 1))
        try writer.writeElement(.string(.bytes(text)))
        try writer.endKey()
        try writer.beginKey(header("set", .setHashtable, count: 600))
        for member in 0..<600 {
            if member == 300 { offer(&writer) }
            try writer.writeElement(.setMember(member == 300 ? .bytes(text) : .bytes(ByteBuffer(string: "m\(member)"))))
        }
        try writer.endKey()
        try writer.finish()
        return writer.sink.bytes
    }

    @Test func offeredFormsAreWrittenWhereTheBytesMatch() throws {
        let offered = RDBCompressedString(bytes: Self.text, compressed: Self.unusualForm)
        let file = try Self.write { writer in writer.offerCompressedStrings([offered]) }
        // Once for the string value, once for the set member (a key written straight through).
        var count = 0
        var rest = file[...]
        let needle = Array(Self.unusualForm.readableBytesView)
        while let start = rest.firstRange(of: needle)?.lowerBound {
            count += 1
            rest = rest[(start + needle.count)...]
        }
        #expect(count == 2)
        let (_, entries) = try readAll(file)
        #expect(entries.first?.value == .string(.bytes(Self.text)))
        guard case .set(let members)? = entries.last?.value else {
            Issue.record("no set")
            return
        }
        #expect(members.contains(.bytes(Self.text)))
    }

    @Test func formsOfOtherBytesAreNotUsed() throws {
        var other = Self.text
        other.setInteger(UInt8(ascii: "x"), at: other.readerIndex + 59)
        let offered = RDBCompressedString(bytes: other, compressed: Self.unusualForm)
        let file = try Self.write { writer in writer.offerCompressedStrings([offered]) }
        #expect(!Self.contains(file, Self.unusualForm))
        let (_, entries) = try readAll(file)
        #expect(entries.first?.value == .string(.bytes(Self.text)))
    }

    @Test func noFormsWithoutCompression() throws {
        var writer = RDBWriter(sink: BufferSink(), options: { var o = RDBWriteOptions(); o.compression = false; return o }())
        try writer.writeHeader(now: 1_700_000_000)
        writer.offerCompressedStrings([RDBCompressedString(bytes: Self.text, compressed: Self.unusualForm)])
        try writer.beginKey(Self.header("string", .string, count: 1))
        try writer.writeElement(.string(.bytes(Self.text)))
        try writer.endKey()
        try writer.finish()
        #expect(!Self.contains(writer.sink.bytes, Self.unusualForm))
    }

    /// The reader hands out, after each event, the LZF strings it read for it, each with the bytes it decompressed to.
    @Test func readerKeepsWhatItDecompressed() throws {
        let original = Array(try Data(contentsOf: Paths.rdbFixtures.appendingPathComponent("redis-7.0-encodings.rdb")))
        var options = RDBReadOptions()
        options.keepsCompressedStrings = true
        var buffer = ByteBuffer()
        buffer.writeBytes(original)
        var reader = RDBReader(source: ByteBufferSource(buffer), options: options)
        var kept = 0
        while let _ = try reader.next() {
            for string in reader.takeCompressedStrings() {
                kept += 1
                #expect(try LZF.decompress(string.compressed, uncompressedCount: string.bytes.readableBytes) == string.bytes)
                #expect(Self.contains(original, string.compressed))
            }
        }
        #expect(kept > 0)
    }
}
