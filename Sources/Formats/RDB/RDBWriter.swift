// The RDB writer: the mirror of RDBReader (each read… has its write…), for target versions 6 to 12.
//
// Encodings are chosen as the Redis release of that version chooses them (FORMAT-SPEC §1.9), with Redis's
// default thresholds: compact (ziplist / listpack / intset) under the entry and value-size limits, plain
// otherwise; quicklist nodes of about 8 KB; integer strings; LZF for strings over 20 bytes when it saves at
// least 4 bytes (strings of 4 KiB or more only when samples of them compress: see LZF.samplesIncompressible);
// string or binary scores as the version needs. The CRC64 is computed over everything written.

import NIOCore

/// How an ``RDBWriter`` writes.
public struct RDBWriteOptions: Sendable {
    /// The RDB version to write: 6 (Redis 2.6/2.8), 7 (3.2), 8 (4.0), 9 (5.0-6.2), 10 (7.0), 11 (7.2, Valkey 8),
    /// 12 (7.4).
    public var version = 10
    /// LZF-compress strings over 20 bytes (`rdbcompression`).
    public var compression = true
    /// Write the CRC64 trailer; otherwise eight zero bytes (`rdbchecksum no`).
    public var checksum = true
    /// Skip values the version cannot hold (reported in ``RDBWriter/skippedKeys``) instead of failing.
    public var skipUnsupported = false
    /// `list-max-listpack-size -2`: quicklist nodes of at most this many bytes.
    public var listNodeBytes = 8 * 1024
    /// `hash-max-listpack-entries` (512 built in; redis.conf ships 128) and `hash-max-listpack-value`.
    public var hashMaxListpackEntries = 128
    public var hashMaxListpackValue = 64
    /// `zset-max-listpack-entries`, `zset-max-listpack-value`.
    public var zsetMaxListpackEntries = 128
    public var zsetMaxListpackValue = 64
    /// `set-max-intset-entries`, and (RDB 11+) `set-max-listpack-entries` / `-value`.
    public var setMaxIntsetEntries = 512
    public var setMaxListpackEntries = 128
    public var setMaxListpackValue = 64
    /// `list-max-ziplist-entries` / `-value` of Redis 2.8 (RDB 6 lists).
    public var listMaxZiplistEntries = 512
    public var listMaxZiplistValue = 64
    /// `stream-node-max-entries` and `stream-node-max-bytes`: a stream node ends as XADD ends one.
    public var streamNodeMaxEntries = 100
    public var streamNodeMaxBytes = 4096
    /// A key written element by element (``RDBWriter/beginKey(_:)``) moves to a spool file beyond this many
    /// elements or bytes, so that memory stays bounded (both far above every compact-encoding threshold). The
    /// bytes count each element's data and its entry in memory (a few dozen bytes).
    public var spoolElements = 16384
    public var spoolBytes = 8 * 1024 * 1024

    /// The versions this writer produces.
    public static let supportedVersions: ClosedRange<Int> = 6...12

    public init() {}

    /// The `redis-ver` AUX value written for a version: the Redis release whose format it is.
    public static func redisVersion(for version: Int) -> String {
        switch version {
        case 7: "3.2.13"
        case 8: "4.0.14"
        case 9: "6.2.14"
        case 10: "7.0.15"
        case 11: "7.2.4"
        default: "7.4.0"
        }
    }
}

/// Writes an RDB file to a ``ByteSink``.
///
/// ```swift
/// var writer = RDBWriter(sink: try FileSink(path: "dump.rdb"), options: options)
/// try writer.writeHeader()
/// try writer.selectDB(0)
/// try writer.writeEntry(entry)
/// try writer.finish()      // EOF, CRC64, then the sink's finish (fsync, rename, fsync directory)
/// ```
public struct RDBWriter<Sink: ByteSink> {
    public private(set) var sink: Sink
    public let options: RDBWriteOptions
    /// Keys left out because the version cannot hold them (with `skipUnsupported`).
    public internal(set) var skippedKeys: [(db: Int, key: ByteBuffer, reason: String)] = []
    /// Keys written so far.
    public internal(set) var keysWritten = 0
    /// Bytes written so far.
    public private(set) var offset: Int64 = 0
    /// The key being written element by element, if any.
    var assembly: KeyAssembly?
    /// Strings as the input stored them compressed (``offerCompressedStrings(_:)``) for what is being written
    /// now, and the first that has not been written again (they come in the order the writer writes them, when
    /// it keeps the input's encoding).
    var knownCompressed: [RDBCompressedString] = []
    var knownCompressedNext = 0

    var staging = ByteBufferAllocator().buffer(capacity: 64 * 1024)
    /// Where LZF compresses a string before its lengths (which depend on the result) are written.
    private var compressed = ByteBufferAllocator().buffer(capacity: 0)
    private var crc = CRC64()
    /// False in a fragment writer: the file's writer checksums the fragment's bytes when it appends them.
    private var checksums = true
    var database = 0
    var databaseSelected = false

    static var stagingBytes: Int { 64 * 1024 }

    public init(sink: Sink, options: RDBWriteOptions = .init()) {
        precondition(RDBWriteOptions.supportedVersions.contains(options.version), "RDB version \(options.version) is not supported")
        self.sink = sink
        self.options = options
    }

    var version: Int { options.version }

    // MARK: - Output

    private mutating func flush() throws(FormatError) {
        guard staging.readableBytes > 0 else { return }
        if checksums { staging.withUnsafeReadableBytes { crc.update($0) } }
        offset += Int64(staging.readableBytes)
        try sink.write(staging)
        staging.clear()  // reused: a sink that keeps the bytes holds its own copy (clear() reallocates then)
    }

    mutating func flushIfFull() throws(FormatError) {
        if staging.readableBytes >= RDBWriter.stagingBytes { try flush() }
    }

    // MARK: - Primitives (mirrors of the reader's)

    /// writeLength ↔ readLength: the shortest LEN form; 64-bit lengths need RDB 8.
    mutating func writeLength(_ value: UInt64) throws(FormatError) {
        if value < 64 {
            staging.appendInteger(UInt8(value))
        } else if value < 16384 {
            staging.appendInteger(UInt16(0x4000 | value), endianness: .big)  // 01 + 14 bits, high byte first
        } else if value <= UInt64(UInt32.max) {
            staging.appendInteger(UInt8(0x80))
            staging.appendInteger(UInt32(value), endianness: .big)  // RDB_32BITLEN is network order
        } else {
            guard version >= 8 else {
                throw FormatError(.limitExceeded, offset: offset, "a length of \(value) needs RDB 8 or later")
            }
            staging.appendInteger(UInt8(0x81))
            staging.appendInteger(value, endianness: .big)
        }
    }

    /// writeString ↔ readString: integer form when canonical and within 32 bits, LZF when it pays, else raw.
    mutating func writeString(_ string: RDBString) throws(FormatError) {
        switch string {
        case .integer(let value):
            if !writeIntegerString(value) {
                try writeRawString(string.bytes)
            }
        case .bytes(let bytes):
            // rdbTryIntegerEncoding: at most 11 characters of canonical decimal.
            if bytes.readableBytes <= 11, let value = CanonicalInteger.parse(bytes, maxLength: 11), writeIntegerString(value) {
                return
            }
            try writeRawString(bytes)
        }
        try flushIfFull()
    }

    /// What `writeString(_: RDBString)` writes, for any string that lends its bytes: integer form when canonical and
    /// within 32 bits, LZF when it pays, else raw.
    mutating func writeString<S: RDBWritableString>(_ string: S) throws(FormatError) {
        if let string = string as? RDBString {
            // Folded away when specialised: an RDBString may be a converted file's, with its compressed form known.
            try writeString(string)
            return
        }
        if let value = string.canonicalInteger(maxLength: 11), writeIntegerString(value) {
            try flushIfFull()
            return
        }
        let length = string.byteCount
        if options.compression, length > 20, string.withRawBytes({ compress($0) }) {
            try writeLZFString(compressed, uncompressedCount: length)
        } else {
            try writeLength(UInt64(length))
            if length > RDBWriter.stagingBytes {
                try writePayload(string.withRawBytes { ByteBuffer(bytes: $0) })
            } else {
                string.withRawBytes { staging.appendBytes($0) }
            }
        }
        try flushIfFull()
    }

    private mutating func writeIntegerString(_ value: Int64) -> Bool {
        switch value {
        case Int64(Int8.min)...Int64(Int8.max):
            staging.appendInteger(UInt8(0xC0))
            staging.appendInteger(Int8(value))
        case Int64(Int16.min)...Int64(Int16.max):
            staging.appendInteger(UInt8(0xC1))
            staging.appendInteger(Int16(value), endianness: .little)
        case Int64(Int32.min)...Int64(Int32.max):
            staging.appendInteger(UInt8(0xC2))
            staging.appendInteger(Int32(value), endianness: .little)
        default:
            return false
        }
        return true
    }

    mutating func writeRawString(_ bytes: ByteBuffer) throws(FormatError) {
        let length = bytes.readableBytes
        // LZF cannot win below 21 bytes (``compress(_:)`` says when it does).
        if options.compression, length > 20 {
            if knownCompressedNext < knownCompressed.count, let known = knownCompressedForm(of: bytes) {
                try writeLZFString(known, uncompressedCount: length)
                return
            }
            if bytes.withUnsafeReadableBytes({ compress($0) }) {
                try writeLZFString(compressed, uncompressedCount: length)
                return
            }
        }
        try writeLength(UInt64(length))
        try writePayload(bytes)
    }

    /// LZF-compresses `input` into `compressed`; true when that saves at least 4 bytes (rdbSaveLzfStringObject).
    /// From 4 KiB, samples are tried first: incompressible data is then not read whole for nothing.
    private mutating func compress(_ input: UnsafeRawBufferPointer) -> Bool {
        compressed.clear()
        return !LZF.samplesIncompressible(input) && LZF.compress(input, appendingTo: &compressed, maximumCount: input.count - 4) > 0
    }

    /// An RDB_ENC_LZF string: its compressed and uncompressed lengths, then the compressed bytes.
    private mutating func writeLZFString(_ compressedBytes: ByteBuffer, uncompressedCount: Int) throws(FormatError) {
        staging.appendInteger(UInt8(0xC3))
        try writeLength(UInt64(compressedBytes.readableBytes))
        try writeLength(UInt64(uncompressedCount))
        try writePayload(compressedBytes)
    }

    /// The compressed bytes the input had for `bytes` (``offerCompressedStrings(_:)``), if any: the first of the
    /// strings not yet written again with the same bytes. Redis's rule decides whether they may be used: they
    /// must save at least 4 bytes.
    private mutating func knownCompressedForm(of bytes: ByteBuffer) -> ByteBuffer? {
        let length = bytes.readableBytes
        var index = knownCompressedNext
        while index < knownCompressed.count {
            let known = knownCompressed[index]
            if known.bytes.readableBytes == length && known.compressed.readableBytes <= length - 4 && known.bytes == bytes {
                knownCompressedNext = index + 1
                return known.compressed
            }
            index += 1
        }
        return nil
    }

    /// The bytes of a string after its length: copied to the staging buffer, or (when large) straight to the sink.
    private mutating func writePayload(_ bytes: ByteBuffer) throws(FormatError) {
        if bytes.readableBytes > RDBWriter.stagingBytes {
            try flush()
            if checksums { bytes.withUnsafeReadableBytes { crc.update($0) } }
            offset += Int64(bytes.readableBytes)
            try sink.write(bytes)
        } else {
            staging.appendBytes(of: bytes)
        }
    }

    /// writeStringDouble ↔ readStringDouble (type 3 scores): length byte and text, 253/254/255 for nan/±inf.
    mutating func writeStringDouble(_ value: Double) {
        if value.isNaN {
            staging.appendInteger(UInt8(253))
        } else if value == .infinity {
            staging.appendInteger(UInt8(254))
        } else if value == -.infinity {
            staging.appendInteger(UInt8(255))
        } else {
            let text = RDBWriter.formatScore(value)
            staging.appendInteger(UInt8(text.utf8.count))
            staging.writeString(text)
        }
    }

    /// The shortest text that reads back as the same double; integral values without ".0" (as Redis prints),
    /// "-0" for -0 (Redis's "%.17g" keeps the sign).
    static func formatScore(_ value: Double) -> String {
        if value == 0 && value.sign == .minus { return "-0" }
        if value == value.rounded(), abs(value) < 1e15 {
            return String(Int64(value))
        }
        return value.description
    }

    mutating func writeBinaryDouble(_ value: Double) {
        staging.appendInteger(value.bitPattern, endianness: .little)
    }

    mutating func writeMilliseconds(_ value: Int64) {
        staging.appendInteger(value, endianness: .little)
    }

    mutating func writeBlob(_ blob: ByteBuffer) throws(FormatError) {
        try writeRawString(blob)
        try flushIfFull()
    }

    // MARK: - Top level

    /// Writes the magic and (RDB 7+) the AUX fields: `redis-ver`, `redis-bits`, `ctime`, `used-mem`, `aof-base`
    /// (RDB 10+) unless given, then `aux` in order.
    public mutating func writeHeader(aux: [(key: String, value: String)] = [], now: Int64? = nil) throws(FormatError) {
        staging.writeString(RDBHeader(dialect: .redis, version: version).magic)
        guard version >= 7 else { return }
        let given = Set(aux.map(\.key))
        var fields: [(String, String)] = []
        if !given.contains("redis-ver") { fields.append(("redis-ver", RDBWriteOptions.redisVersion(for: version))) }
        if !given.contains("redis-bits") { fields.append(("redis-bits", "64")) }
        if !given.contains("ctime") { fields.append(("ctime", String(now ?? RDBWriter.unixSeconds()))) }
        if !given.contains("used-mem") { fields.append(("used-mem", "0")) }
        if version >= 10, !given.contains("aof-base") { fields.append(("aof-base", "0")) }
        fields += aux.map { ($0.key, $0.value) }
        for (key, value) in fields {
            try writeAux(key: .bytes(ByteBuffer(string: key)), value: .bytes(ByteBuffer(string: value)))
        }
    }

    static func unixSeconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec)
    }

    /// writeAux ↔ the AUX opcode (RDB 7+; ignored before).
    public mutating func writeAux(key: RDBString, value: RDBString) throws(FormatError) {
        guard version >= 7 else { return }
        staging.appendInteger(RDBOpcode.aux.rawValue)
        try writeString(key)
        try writeString(value)
    }

    /// writeFunction ↔ FUNCTION2 (RDB 10+). Before 10 a function cannot be stored: `.unsupportedType`, or a
    /// skipped entry reported with the key "(function)" when skipping is allowed.
    public mutating func writeFunction(_ code: RDBString) throws(FormatError) {
        guard version >= 10 else {
            if options.skipUnsupported {
                skippedKeys.append((database, ByteBuffer(string: "(function library)"), "functions need RDB 10"))
                return
            }
            throw FormatError(.unsupportedType, offset: offset, phase: .readFunctions, "function libraries need RDB 10 or later (target \(version))")
        }
        staging.appendInteger(RDBOpcode.function2.rawValue)
        try writeString(code)
    }

    /// writeModuleAux ↔ MODULE_AUX (RDB 9+).
    public mutating func writeModuleAux(_ module: RDBModuleValue) throws(FormatError) {
        guard version >= 9 else {
            if options.skipUnsupported {
                skippedKeys.append((database, ByteBuffer(string: "(module aux \(module.moduleName))"), "module aux data needs RDB 9"))
                return
            }
            throw FormatError(.unsupportedType, offset: offset, phase: .readModuleAux, "module aux data needs RDB 9 or later (target \(version))")
        }
        staging.appendInteger(RDBOpcode.moduleAux.rawValue)
        try writeLength(module.moduleID)
        try writeLength(2)  // RDB_MODULE_OPCODE_UINT
        try writeLength(module.when ?? 2)
        try writeModuleData(module)
    }

    /// Selects a database (SELECTDB, and RESIZEDB hints from RDB 7).
    public mutating func selectDB(_ db: Int, keys: UInt64 = 0, expires: UInt64 = 0) throws(FormatError) {
        staging.appendInteger(RDBOpcode.selectDB.rawValue)
        try writeLength(UInt64(db))
        if version >= 7 {
            staging.appendInteger(RDBOpcode.resizeDB.rawValue)
            try writeLength(keys)
            try writeLength(expires)
        }
        database = db
        databaseSelected = true
    }

    /// Writes the EOF opcode and the CRC64 trailer (RDB 5+), then finishes the sink. Returns the CRC written.
    @discardableResult
    public mutating func finish() throws(FormatError) -> UInt64 {
        staging.appendInteger(RDBOpcode.eof.rawValue)
        try flush()
        let value = options.checksum ? crc.value : 0
        var trailer = ByteBufferAllocator().buffer(capacity: 8)
        trailer.appendInteger(value, endianness: .little)
        offset += 8
        try sink.write(trailer)
        try sink.finish()
        return value
    }

    // MARK: - Fragments (keys encoded apart, on other threads)

    /// Makes this writer (over a ``BufferSink``, with the options of the file's writer) encode keys of database
    /// `db` as a fragment of another writer's output: no header, no SELECTDB and no checksum. A writer may
    /// encode one fragment after another (``takeFragment()`` between them).
    public mutating func beginFragment(database db: Int) {
        database = db
        databaseSelected = true
        checksums = false
    }

    /// Moves what is staged into the sink (a fragment writer's bytes are then all in its ``BufferSink``).
    public mutating func flushFragment() throws(FormatError) {
        try flush()
    }

    /// Appends `bytes` another writer encoded for the current database (``beginFragment(database:)``) with
    /// the same options, and counts its `keys`: the checksum, offset and ``keysWritten`` cover them as if this
    /// writer had written them.
    public mutating func appendFragment(_ bytes: ByteBuffer, keys: Int) throws(FormatError) {
        try flush()
        bytes.withUnsafeReadableBytes { crc.update($0) }
        offset += Int64(bytes.readableBytes)
        try sink.write(bytes)
        keysWritten += keys
    }

    // MARK: - Keys

    /// Writes one key with its whole value, in the encoding Redis of the target version would choose.
    ///
    /// - Returns: false when the key was skipped (the version cannot hold it and `skipUnsupported` is set).
    /// - Throws: `.unsupportedType` naming the key when the version cannot hold the value (a stream before
    ///   RDB 9, field expiries before 12, modules before 8); `.corrupt` for values no Redis can hold (NaN
    ///   scores); `.io` from the sink.
    @discardableResult
    public mutating func writeEntry(_ entry: RDBEntry) throws(FormatError) -> Bool {
        let header = entry.header
        if !databaseSelected || header.database != database {
            try selectDB(header.database)
        }
        guard try admit(header, unsupportedReason: unsupportedReason(entry.value)) else { return false }
        try writeKeyPrefix(header)
        do throws(FormatError) {
            try writeValue(entry.value, key: header.key)
        } catch {
            var error = error
            if error.key == nil { error.key = header.key }
            throw error
        }
        keysWritten += 1
        try flushIfFull()
        return true
    }

    /// Decides whether a key the version cannot hold (`unsupportedReason` set) is skipped (false, reported in
    /// `skippedKeys`) or an error naming the key; true when the key can be written.
    mutating func admit(_ header: RDBKeyHeader, unsupportedReason reason: String?) throws(FormatError) -> Bool {
        guard let reason else { return true }
        if options.skipUnsupported {
            // A copy: the key may be a slice of the reader's window, which it would otherwise keep alive.
            skippedKeys.append((header.database, ByteBuffer(bytes: header.key.readableBytesView), reason))
            return false
        }
        throw FormatError(
            .unsupportedType, offset: offset, phase: .readValue(header.type), key: header.key, "\(reason) (target RDB \(version))")
    }

    /// The opcodes before a key's type: expiry, and (RDB 9+) LRU idle time and LFU counter.
    mutating func writeKeyPrefix(_ header: RDBKeyHeader) throws(FormatError) {
        if let expire = header.expireAtMilliseconds {
            staging.appendInteger(RDBOpcode.expireTimeMilliseconds.rawValue)
            writeMilliseconds(expire)
        }
        if version >= 9 {
            if let idle = header.lruIdleSeconds {
                staging.appendInteger(RDBOpcode.idle.rawValue)
                try writeLength(idle)
            }
            if let frequency = header.lfuFrequency {
                staging.appendInteger(RDBOpcode.freq.rawValue)
                staging.appendInteger(frequency)
            }
        }
    }

    private func unsupportedReason(_ value: RDBValue) -> String? {
        switch value {
        case .stream where version < 9: return "streams need RDB 9 or later"
        case .module where version < 8: return "module values need RDB 8 or later"
        case .hash(let fields) where version < 12 && fields.contains(where: { $0.expireAtMilliseconds != nil }):
            return "hash field expiries need RDB 12 or later"
        default: return nil
        }
    }
}

extension RDBWriter where Sink == BufferSink {
    /// The fragment's bytes (after ``flushFragment()``), in a buffer of their size: the writer keeps its own
    /// buffers for the next fragment.
    public mutating func takeFragment() -> ByteBuffer { sink.drain() }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
