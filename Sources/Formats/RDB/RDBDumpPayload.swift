// DUMP / RESTORE payloads (Redis cluster.c `createDumpPayload` / `verifyDumpPayload`): one value as an RDB
// file would hold it, without key, expiry or opcodes, then a small footer.
//
//   +-----------+----------------------+----------------------+-------------------------------+
//   | type (1)  | value encoding …     | RDB version (2, LE)  | CRC64 of all before (8, LE)   |
//   +-----------+----------------------+----------------------+-------------------------------+
//
// The value encoding is the one `rdbSaveObject` writes for that type (so a Redis 7.0 DUMP of a list is a
// quicklist-2 of listpack nodes, RDB 10). The version is the RDB version of the writer (10 for Redis 7.0,
// 11 for 7.2, 12 for 7.4); a Redis refuses payloads newer than its own. The CRC is Redis's CRC64 (Jones,
// reflected, init 0), the one RDB files end with. Everything after the value and before the footer is
// ignored by Redis, and by the callers of ``RDBDumpPayload/makeReader(options:)``, who stop at the value's end.

import NIOCore

/// A DUMP payload: one serialized value with its RDB version and checksum.
public struct RDBDumpPayload: Sendable {
    /// The whole payload, footer included.
    public let payload: ByteBuffer
    /// The RDB version the footer names.
    public let version: Int

    /// Bytes of the footer: the version and the CRC64.
    public static let footerBytes = 10

    /// The type byte and value encoding (the payload without its 10-byte footer).
    public var body: ByteBuffer { payload.getSlice(at: payload.readerIndex, length: payload.readableBytes - RDBDumpPayload.footerBytes)! }

    // MARK: - Writing

    /// Serializes `value` as a DUMP of the given writer options would (`options.version` is the footer's
    /// version: 10 for what Redis 7.0 produces).
    ///
    /// - Throws: `.unsupportedType` when the version cannot hold the value (a stream before RDB 9…),
    ///   `.corrupt` for values no Redis can hold (NaN scores).
    public static func write(_ value: RDBValue, options: RDBWriteOptions = .init()) throws(FormatError) -> ByteBuffer {
        var writer = RDBWriter(sink: BufferSink(), options: options)
        // The writer always writes a key after the type byte; an empty one is the single byte 0x00 at offset 1,
        // which is cut out below. Nothing else is written before the value: no header, no SELECTDB.
        try writer.writeValue(value, key: ByteBuffer())
        try writer.finish()  // flushes; appends EOF (1 byte) and the file CRC (8 bytes), both dropped
        var written = writer.sink.buffer
        let valueEnd = written.readableBytes - 9
        var payload = ByteBufferAllocator().buffer(capacity: valueEnd - 1 + footerBytes)
        payload.writeImmutableBuffer(written.getSlice(at: written.readerIndex, length: 1)!)
        payload.writeImmutableBuffer(written.getSlice(at: written.readerIndex + 2, length: valueEnd - 2)!)
        written.clear()
        payload.writeInteger(UInt16(options.version), endianness: .little)  // RDB_VERSION, little-endian
        let crc = payload.withUnsafeReadableBytes { CRC64.update(0, $0) }
        payload.writeInteger(crc, endianness: .little)  // memrev64ifbe: the CRC is stored little-endian
        return payload
    }

    // MARK: - Reading

    /// Checks the footer of `payload` as Redis's `verifyDumpPayload` does: at least 10 bytes, a version no
    /// newer than `newestVersion`, and (when `verifyChecksum`) a matching CRC64.
    ///
    /// - Throws: `.truncated` under 10 bytes, `.unsupportedVersion`, `.checksumMismatch`.
    public init(
        validating payload: ByteBuffer, newestVersion: Int = RDBHeader.newestRedisVersion, verifyChecksum: Bool = true
    ) throws(FormatError) {
        let length = payload.readableBytes
        guard length >= RDBDumpPayload.footerBytes else {
            throw FormatError(.truncated, offset: Int64(length), "a DUMP payload has at least 10 bytes (\(length) given)")
        }
        let footer = payload.readerIndex + length - RDBDumpPayload.footerBytes
        let version = Int(payload.getInteger(at: footer, endianness: .little, as: UInt16.self)!)
        guard version >= 1, version <= newestVersion else {
            throw FormatError(.unsupportedVersion, offset: Int64(length - 10), "DUMP payload of RDB version \(version) (newest accepted \(newestVersion))")
        }
        if verifyChecksum {
            let stored = payload.getInteger(at: footer + 2, endianness: .little, as: UInt64.self)!
            let computed = payload.getSlice(at: payload.readerIndex, length: length - 8)!.withUnsafeReadableBytes {
                CRC64.update(0, $0)
            }
            guard stored == computed else {
                throw FormatError(
                    .checksumMismatch, offset: Int64(length - 8),
                    "DUMP payload CRC error: stored 0x\(String(stored, radix: 16)), computed 0x\(String(computed, radix: 16))")
            }
        }
        self.version = version
        self.payload = payload
    }

    /// A reader over the value, as the events of a one-key RDB: `.header`, then `.beginKey` (database 0, an
    /// empty key, no expiry), the value's `.element`s and `.endKey`. Stop there: what follows is not part of
    /// the value.
    ///
    /// Like Redis, which reads the value from the whole payload, a value whose encoding runs past the body
    /// reads on into the footer's bytes (and fails only past them).
    public func makeReader(options: RDBReadOptions = .init()) -> RDBReader<ByteBufferSource> {
        var framed = ByteBufferAllocator().buffer(capacity: payload.readableBytes + 20)
        let header = RDBHeader(dialect: .redis, version: version)
        framed.writeString(header.magic)
        framed.writeImmutableBuffer(payload.getSlice(at: payload.readerIndex, length: 1)!)
        framed.writeInteger(UInt8(0))  // the empty key
        framed.writeImmutableBuffer(payload.getSlice(at: payload.readerIndex + 1, length: payload.readableBytes - 1)!)
        framed.writeInteger(RDBOpcode.eof.rawValue)
        if header.hasChecksum { framed.writeInteger(UInt64(0)) }  // "checksum disabled": the footer was checked
        return RDBReader(source: ByteBufferSource(framed), options: options)
    }
}
