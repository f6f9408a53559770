// The streaming RDB reader: a pull API of events over a ByteSource (the layout is in RDBFormat.swift).
//
// Collections are streamed as beginKey / element... / endKey. Plain encodings (types 1-5, 24, Valkey 22) are
// read one element per call, so a collection larger than memory can pass through; blob encodings (ziplist,
// listpack, intset, zipmap, quicklist nodes, stream nodes) are read one blob at a time, fully validated, then
// handed out entry by entry. With RDBReadOptions.groupsBlobElements, a blob's entries go out as one `elements`
// event, and plain encodings' elements in blocks of up to 1,024 (RDBElementBlock). Memory is bounded by the largest single string or blob, both capped by
// RDBReadOptions.

import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads an RDB file as a sequence of ``RDBEvent``s.
///
/// ```swift
/// var reader = RDBReader(source: try InputSource.open("dump.rdb"))
/// while let event = try reader.next() { … }
/// ```
public struct RDBReader<Source: ByteSource> {
    @usableFromInline var input: WindowedReader<Source>
    public let options: RDBReadOptions
    /// The header, once read.
    public private(set) var header: RDBHeader?
    /// The database of the keys being read (last SELECTDB).
    public private(set) var database = 0
    /// Keys read completely so far.
    public private(set) var completeKeys = 0
    /// The offset just after the last complete top-level item: where a salvage could cut the file.
    public private(set) var lastCompleteOffset: Int64 = 0

    private var state: State = .start
    private var pending: [RDBEvent] = []
    private var pendingIndex = 0
    /// The last entry ID of the stream being read: entries must ascend across its nodes too (Redis writes the
    /// nodes in ID order; out of order, the stream could not be rebuilt).
    private var lastStreamEntryID: RDBStreamID?
    private var currentKey: ByteBuffer?
    private var currentType: RDBType?
    private var phase: FormatError.Phase = .start
    private var failure: FormatError?
    /// Checked on every call instead of the (large) optional error itself.
    private var hasFailed = false
    /// Set by skipValue(): elements are validated and counted, not queued.
    private var discarding = false
    private var discardedElements = 0
    /// Whether the last ``RDBEvent/beginKey(_:)`` carried its string value (``RDBReadOptions/inlinesStringValues``).
    private var lastKeyInlined = false
    /// Where the data of the last raw string read started (nil when it was LZF- or integer-encoded).
    private var lastStringDataOffset: Int64?
    /// With `keepsCompressedStrings`: the LZF strings of the key being read (or last read), until taken.
    private var compressedStrings: [RDBCompressedString] = []
    private var compressedStringBytes = 0
    /// Where short LZF strings are decompressed, reused while whoever took the last one has let it go (a loader
    /// copies each string as it comes; a string still held just makes the next one take new storage). Not for
    /// blobs, whose elements are read in place for as long as the value lasts, nor with `keepsCompressedStrings`.
    private var lzfScratch = ByteBuffer()
    private let reusesLZFScratch: Bool
    /// The longest string decompressed into ``lzfScratch`` (so that a held string never pins more).
    private static var lzfScratchLimit: Int { 4096 }

    private enum PlainKind {
        case list, set, zsetV1, zsetV2, hash
        case hashMetadata(minimumExpire: Int64)
        case hashMetadataPreGA
        case valkeyHash2

        var isZsetV1: Bool {
            if case .zsetV1 = self { return true }
            return false
        }

        /// What a block of these elements holds; nil for hash fields with expiries (element by element).
        var blockKind: RDBElementBlock.Kind? {
            switch self {
            case .list: .listItems
            case .set: .setMembers
            case .zsetV1, .zsetV2: .zsetMembers
            case .hash: .hashFields
            case .hashMetadata, .hashMetadataPreGA, .valkeyHash2: nil
            }
        }
    }

    private enum State {
        case start
        case top
        case plain(PlainKind, remaining: UInt64)
        case quicklist(remaining: UInt64, version2: Bool)
        case streamNodes(remaining: UInt64, type: RDBType)
        case streamMetadata(type: RDBType)
        case streamGroups(remaining: UInt64, type: RDBType)
        /// A blob value read but not yet decoded: decoding waits for the caller, who may skip the value.
        case blob(RDBType, ByteBuffer, BlobOrigin)
        case endKey
        case finished
    }

    /// Whether plain encodings' elements go in blocks (``RDBReadOptions/groupsBlobElements``): only while a
    /// block's offsets (Int32) can hold what its strings may add up to.
    private let groupsPlainElements: Bool

    /// Elements and string bytes per block of a plain encoding (a block ends at whichever comes first).
    static var plainBlockElements: Int { 1024 }
    static var plainBlockBytes: Int { 64 * 1024 }

    /// Creates a reader; nothing is read until ``next()``.
    public init(source: Source, options: RDBReadOptions = .init(), chunkSize: Int = 1024 * 1024) {
        self.input = WindowedReader(source: source, chunkSize: chunkSize)
        self.options = options
        groupsPlainElements = options.groupsBlobElements && options.maxStringBytes <= 1 << 29
        reusesLZFScratch = !options.keepsCompressedStrings
    }

    /// The absolute offset of the next byte to be read.
    public var offset: Int64 { input.offset }

    /// With ``RDBReadOptions/keepsCompressedStrings``: the strings of the current key that the file stored
    /// LZF-compressed (each decompressed successfully) and that were read since the last call, in file order.
    /// Taken after each event, they belong to that event (its key's name, its value or blob, its element).
    public mutating func takeCompressedStrings() -> [RDBCompressedString] {
        compressedStringBytes = 0
        defer { compressedStrings = [] }
        return compressedStrings
    }

    /// The underlying reader, positioned just after the RDB once ``next()`` has returned `.end` (an AOF tail
    /// follows there in a preamble AOF).
    public var remainingInput: WindowedReader<Source> { input }

    /// After ``RDBEvent/end(_:)``: reads whatever follows the RDB to the end of the input and returns its size
    /// (Redis ignores such bytes; a preamble AOF has its commands there). For gzip input this also verifies the
    /// gzip trailer, so a cut .gz file is reported even when the RDB inside it was complete.
    ///
    /// - Throws: `.truncated` or `.corrupt` from a decoding source, `.io`.
    public mutating func readTrailingBytes() throws(FormatError) -> Int64 {
        precondition(header != nil && failure == nil && pending.isEmpty, "readTrailingBytes() before the end of the RDB")
        phase = .other("read-trailing-bytes")
        return try input.skipToEnd()
    }

    /// Returns the next event, or nil after ``RDBEvent/end(_:)``.
    ///
    /// - Throws: `FormatError` with the offset of the failing item, the phase, and the key being read:
    ///   `.truncated` when the input ends early, `.corrupt` for invalid bytes, `.unsupportedVersion` /
    ///   `.unsupportedType` for unknown magic, versions and type bytes, `.checksumMismatch`, `.limitExceeded`,
    ///   `.io`. After an error the reader rethrows it on every call.
    public mutating func next() throws(FormatError) -> RDBEvent? {
        if let event = popPending() { return event }
        if hasFailed, let failure { throw failure }
        do throws(FormatError) {
            return try step()
        } catch var error {
            if error.code != .io || error.phase == .other("decode") {
                error.phase = phase
            }
            if error.key == nil { error.key = currentKey }
            failure = error
            hasFailed = true
            state = .finished
            throw error
        }
    }

    private mutating func enqueue(_ element: RDBElement) {
        if discarding {
            discardedElements &+= 1
            return
        }
        pending.append(.element(element))
    }

    /// Queues a blob's elements as one event (none for an empty blob: an empty quicklist node gives no elements).
    private mutating func enqueue(_ block: RDBElementBlock) {
        guard block.count > 0 else { return }
        pending.append(.elements(block))
    }

    /// After ``RDBEvent/beginKey(_:)``: reads and fully validates the rest of the value without handing out its
    /// elements, consumes its ``RDBEvent/endKey``, and returns how many elements it had. This is the checker's
    /// fast path (no element events are built).
    ///
    /// - Throws: what ``next()`` throws.
    public mutating func skipValue() throws(FormatError) -> Int {
        if lastKeyInlined {
            lastKeyInlined = false
            return 1
        }
        var count = 0
        for event in pending[pendingIndex...] {
            if case .elements(let block) = event { count &+= block.count } else { count &+= 1 }
        }
        pending.removeAll(keepingCapacity: true)
        pendingIndex = 0
        discarding = true
        discardedElements = 0
        defer { discarding = false }
        while let event = try next() {
            switch event {
            case .element: count &+= 1
            case .elements(let block): count &+= block.count
            case .endKey: return count &+ discardedElements
            default: preconditionFailure("skipValue() called outside a value")
            }
        }
        preconditionFailure("skipValue() called outside a value")
    }

    private mutating func popPending() -> RDBEvent? {
        guard pendingIndex < pending.count else { return nil }
        // Moved out (a payload-free event takes its place), not copied: no reference count traffic.
        var event = RDBEvent.endKey
        swap(&event, &pending[pendingIndex])
        pendingIndex += 1
        if pendingIndex == pending.count {
            pending.removeAll(keepingCapacity: pending.capacity <= 4096)
            pendingIndex = 0
        }
        return event
    }

    private mutating func step() throws(FormatError) -> RDBEvent? {
        while true {
            switch state {
            case .start:
                return try readHeader()
            case .top:
                return try readTop()
            case .plain(let kind, let remaining):
                if remaining == 0 {
                    state = .endKey
                    continue
                }
                if groupsPlainElements && !discarding, let blockKind = kind.blockKind {
                    let (block, read) = try readPlainBlock(kind, blockKind, remaining: remaining)
                    state = .plain(kind, remaining: remaining - read)
                    return .elements(block)
                }
                state = .plain(kind, remaining: remaining - 1)
                return .element(try readPlainElement(kind))
            case .quicklist(let remaining, let version2):
                if remaining == 0 {
                    state = .endKey
                    continue
                }
                state = .quicklist(remaining: remaining - 1, version2: version2)
                try readQuicklistNode(version2: version2)
                if let event = popPending() { return event }
            case .streamNodes(let remaining, let type):
                if remaining == 0 {
                    state = .streamMetadata(type: type)
                    continue
                }
                state = .streamNodes(remaining: remaining - 1, type: type)
                try readStreamNode()
                if let event = popPending() { return event }
            case .streamMetadata(let type):
                let (metadata, groups) = try readStreamMetadata(type: type)
                state = .streamGroups(remaining: groups, type: type)
                return .element(.streamMetadata(metadata))
            case .streamGroups(let remaining, let type):
                if remaining == 0 {
                    state = .endKey
                    continue
                }
                state = .streamGroups(remaining: remaining - 1, type: type)
                return .element(.streamGroup(try readStreamGroup(type: type)))
            case .blob(let type, let blob, let origin):
                state = .endKey
                try decodeBlob(type: type, blob: blob, origin: origin)
                if let event = popPending() { return event }
            case .endKey:
                finishKey()
                return .endKey
            case .finished:
                return nil
            }
        }
    }

    /// After the last byte of a key's value.
    private mutating func finishKey() {
        state = .top
        completeKeys += 1
        lastCompleteOffset = input.offset
        currentKey = nil
        currentType = nil
    }

    // MARK: - Header and top level

    private mutating func readHeader() throws(FormatError) -> RDBEvent {
        phase = .start
        input.startChecksum()
        guard try input.ensure(9) else {
            let magic = try input.readSlice(0)
            _ = magic
            throw FormatError(.truncated, offset: 0, "input ends before the 9-byte RDB header")
        }
        let magic = Array(try input.readSlice(9).readableBytesView)
        let header: RDBHeader
        if magic.starts(with: Array("REDIS".utf8)) {
            guard let version = RDBReader.parseDigits(magic[5...]) else {
                throw FormatError(.unsupportedVersion, offset: 5, "invalid RDB version field \"\(RDBReader.text(magic[5...]))\"")
            }
            guard version >= 1 && version <= RDBHeader.newestRedisVersion else {
                throw FormatError(.unsupportedVersion, offset: 5, "can't handle RDB format version \(version)")
            }
            header = RDBHeader(dialect: .redis, version: version)
        } else if magic.starts(with: Array("VALKEY".utf8)) {
            guard let version = RDBReader.parseDigits(magic[6...]), RDBHeader.valkeyVersions.contains(version) else {
                throw FormatError(
                    .unsupportedVersion, offset: 6, "can't handle Valkey RDB format version \"\(RDBReader.text(magic[6...]))\"")
            }
            header = RDBHeader(dialect: .valkey, version: version)
        } else {
            throw FormatError(.corrupt, offset: 0, "wrong signature: not an RDB file (starts with \"\(RDBReader.text(magic[...]))\")")
        }
        self.header = header
        state = .top
        lastCompleteOffset = input.offset
        return .header(header)
    }

    private static func parseDigits(_ bytes: ArraySlice<UInt8>) -> Int? {
        var value = 0
        for byte in bytes {
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    private static func text(_ bytes: ArraySlice<UInt8>) -> String {
        var buffer = ByteBuffer()
        buffer.writeBytes(bytes)
        return FormatError.escape(buffer)
    }

    private mutating func readTop() throws(FormatError) -> RDBEvent {
        var expire: Int64? = nil
        var idle: UInt64? = nil
        var frequency: UInt8? = nil
        let entryStart = input.offset
        let dialect = header!.dialect
        lastKeyInlined = false
        while true {
            let opcodeOffset = input.offset
            phase = .readType
            guard let byte = try input.peekByte() else {
                throw FormatError(.truncated, offset: opcodeOffset, "unexpected end of input: no EOF opcode")
            }
            _ = try input.readByte()
            let hasPrefix = expire != nil || idle != nil || frequency != nil
            if byte >= RDBOpcode.slotImportOrKeyMeta.rawValue, hasPrefix,
                byte != RDBOpcode.expireTime.rawValue, byte != RDBOpcode.expireTimeMilliseconds.rawValue,
                byte != RDBOpcode.idle.rawValue, byte != RDBOpcode.freq.rawValue
            {
                throw FormatError(.corrupt, offset: opcodeOffset, "opcode \(byte) after an expire, IDLE or FREQ prefix: a key type was expected")
            }
            switch byte {
            case RDBOpcode.eof.rawValue:
                return try readTrailer()
            case RDBOpcode.selectDB.rawValue:
                let db = try readLength()
                guard db <= UInt64(options.maxDatabase) else {
                    throw FormatError(.limitExceeded, offset: opcodeOffset, "database number \(db) out of range (limit \(options.maxDatabase))")
                }
                database = Int(db)
                lastCompleteOffset = input.offset
                return .selectDB(Int(db))
            case RDBOpcode.expireTime.rawValue:
                phase = .readExpire
                expire = Int64(try input.readInteger(Int32.self, endianness: .little)) * 1000
            case RDBOpcode.expireTimeMilliseconds.rawValue:
                phase = .readExpire
                // Host order before RDB 9; every known writer of those was little-endian.
                expire = try input.readInteger(Int64.self, endianness: .little)
            case RDBOpcode.resizeDB.rawValue:
                phase = .readLength
                let keys = try readLength()
                let expires = try readLength()
                lastCompleteOffset = input.offset
                return .resizeHint(keys: keys, expires: expires)
            case RDBOpcode.aux.rawValue:
                phase = .readAux
                let key = try readString(limit: options.maxStringBytes)
                let value = try readString(limit: options.maxStringBytes)
                lastCompleteOffset = input.offset
                return .aux(key: key, value: value)
            case RDBOpcode.freq.rawValue:
                frequency = try input.readByte()
            case RDBOpcode.idle.rawValue:
                idle = try readLength()
            case RDBOpcode.moduleAux.rawValue:
                phase = .readModuleAux
                let moduleID = try readLength()
                let whenOpcode = try readLength()
                guard whenOpcode == 2 else {  // RDB_MODULE_OPCODE_UINT
                    throw FormatError(.corrupt, offset: opcodeOffset, "bad when_opcode \(whenOpcode) in MODULE_AUX")
                }
                let when = try readLength()
                var value = try readModuleData(moduleID: moduleID)
                value.when = when
                lastCompleteOffset = input.offset
                return .moduleAux(value)
            case RDBOpcode.functionPreGA.rawValue:
                phase = .readFunctions
                _ = try readString(limit: options.maxStringBytes)  // name
                _ = try readString(limit: options.maxStringBytes)  // engine
                let hasDescription = try readLength()
                guard hasDescription <= 1 else {
                    throw FormatError(.corrupt, offset: opcodeOffset, "pre-release function: has-description flag \(hasDescription)")
                }
                if hasDescription == 1 { _ = try readString(limit: options.maxStringBytes) }
                let code = try readString(limit: options.maxStringBytes)
                lastCompleteOffset = input.offset
                return .function(code: code)
            case RDBOpcode.function2.rawValue:
                phase = .readFunctions
                let code = try readString(limit: options.maxStringBytes)
                lastCompleteOffset = input.offset
                return .function(code: code)
            case RDBOpcode.slotInfo.rawValue:
                phase = .readLength
                let slot = try readLength()
                let keys = try readLength()
                let expires = try readLength()
                lastCompleteOffset = input.offset
                return .slotInfo(slot: slot, keys: keys, expires: expires)
            default:
                guard let type = RDBType(byte: byte, dialect: dialect) else {
                    let what = byte >= 240 ? "opcode" : "object type"
                    throw FormatError(.unsupportedType, offset: opcodeOffset, "invalid \(what): \(byte)")
                }
                phase = .readKey
                currentType = type
                if !compressedStrings.isEmpty {
                    compressedStrings.removeAll()
                    compressedStringBytes = 0
                }
                let key = try readString(limit: options.maxStringBytes).bytes
                currentKey = key
                phase = .readValue(type)
                var keyHeader = RDBKeyHeader(
                    database: database, key: key, type: type, expireAtMilliseconds: expire, lruIdleSeconds: idle,
                    lfuFrequency: frequency, declaredCount: nil, offset: entryStart)
                try beginValue(&keyHeader, typeOffset: opcodeOffset)
                return .beginKey(keyHeader)
            }
        }
    }

    private mutating func readTrailer() throws(FormatError) -> RDBEvent {
        let header = header!
        state = .finished
        guard header.hasChecksum else {
            input.stopChecksum()
            lastCompleteOffset = input.offset
            return .end(.absent)
        }
        let computed = input.checksum()!
        input.stopChecksum()
        phase = .checksum
        let trailerOffset = input.offset
        let stored = try input.readInteger(UInt64.self, endianness: .little)
        lastCompleteOffset = input.offset
        if stored == 0 { return .end(.disabled) }
        guard options.verifyChecksum else { return .end(.notChecked(stored)) }
        guard stored == computed else {
            throw FormatError(
                .checksumMismatch, offset: trailerOffset,
                "RDB CRC error: stored 0x\(String(stored, radix: 16)), computed 0x\(String(computed, radix: 16))")
        }
        return .end(.verified(stored))
    }

    // MARK: - Primitives

    /// Reads a LEN; `isEncoded` is true for the 11xxxxxx special string encodings.
    private mutating func readLengthOrEncoding() throws(FormatError) -> (value: UInt64, isEncoded: Bool) {
        let start = input.offset
        let byte = try input.readByte()
        switch byte >> 6 {
        case 0:
            return (UInt64(byte & 0x3F), false)
        case 1:
            let low = try input.readByte()
            return (UInt64(byte & 0x3F) << 8 | UInt64(low), false)
        case 2:
            if byte == 0x80 || header!.version < 8 && header!.dialect == .redis {
                // RDB_32BITLEN is network order. Before RDB 8 readers ignored the low 6 bits.
                return (UInt64(try input.readInteger(UInt32.self, endianness: .big)), false)
            }
            if byte == 0x81 {
                return (try input.readInteger(UInt64.self, endianness: .big), false)  // RDB_64BITLEN, RDB 8
            }
            throw FormatError(.corrupt, offset: start, "unknown length encoding \(byte)")
        default:
            return (UInt64(byte & 0x3F), true)
        }
    }

    /// Reads a LEN that must be a plain length.
    private mutating func readLength() throws(FormatError) -> UInt64 {
        let start = input.offset
        let (value, isEncoded) = try readLengthOrEncoding()
        guard !isEncoded else {
            throw FormatError(.corrupt, offset: start, "string encoding \(value) where a length was expected")
        }
        return value
    }

    /// Reads an element count and checks it against the limit before anything trusts it.
    private mutating func readCount(_ what: String) throws(FormatError) -> UInt64 {
        let start = input.offset
        let count = try readLength()
        guard count <= UInt64(UInt32.max) else {
            throw FormatError(.limitExceeded, offset: start, "\(what) count \(count) is over the limit of 2^32 - 1")
        }
        return count
    }

    /// Reads an STR (raw, integer or LZF).
    /// - Parameter isBlob: whether the string is an embedded blob (never decompressed into ``lzfScratch``).
    private mutating func readString(limit: Int, isBlob: Bool = false) throws(FormatError) -> RDBString {
        let start = input.offset
        lastStringDataOffset = nil
        let (length, isEncoded) = try readLengthOrEncoding()
        if isEncoded { return try readEncodedString(length, start: start, limit: limit, isBlob: isBlob) }
        guard length <= UInt64(limit) else {
            throw FormatError(.limitExceeded, offset: start, "string of \(length) bytes is over the limit of \(limit)")
        }
        lastStringDataOffset = input.offset
        return .bytes(try input.readSlice(Int(length)))
    }

    /// Reads an STR's bytes onto the end of `pack` (or, integer-encoded, not at all), for a block of a plain
    /// encoding's elements: no slice of the input window per element.
    private mutating func readString(appendingTo pack: inout ByteBuffer, limit: Int) throws(FormatError) -> BlobEntry {
        let start = input.offset
        lastStringDataOffset = nil
        let (length, isEncoded) = try readLengthOrEncoding()
        if isEncoded {
            switch try readEncodedString(length, start: start, limit: limit) {
            case .integer(let value):
                return BlobEntry(integer: value)
            case .bytes(var bytes):
                let entry = BlobEntry(offset: pack.readableBytes, length: bytes.readableBytes)
                pack.writeBuffer(&bytes)
                return entry
            }
        }
        guard length <= UInt64(limit) else {
            throw FormatError(.limitExceeded, offset: start, "string of \(length) bytes is over the limit of \(limit)")
        }
        let entry = BlobEntry(offset: pack.readableBytes, length: Int(length))
        try input.read(Int(length), appendingTo: &pack)
        return entry
    }

    /// Reads the rest of an integer- or LZF-encoded STR whose length byte said `encoding`.
    private mutating func readEncodedString(
        _ encoding: UInt64, start: Int64, limit: Int, isBlob: Bool = false
    ) throws(FormatError) -> RDBString {
        switch encoding {
        case 0: return .integer(Int64(try input.readInteger(Int8.self, endianness: .little)))  // RDB_ENC_INT8
        case 1: return .integer(Int64(try input.readInteger(Int16.self, endianness: .little)))  // RDB_ENC_INT16
        case 2: return .integer(Int64(try input.readInteger(Int32.self, endianness: .little)))  // RDB_ENC_INT32
        case 3:  // RDB_ENC_LZF
            let compressedCount = try readLength()
            let count = try readLength()
            guard count <= UInt64(limit), compressedCount <= UInt64(limit) else {
                throw FormatError(
                    .limitExceeded, offset: start,
                    "LZF string of \(count) bytes (\(compressedCount) compressed) is over the limit of \(limit)")
            }
            let compressed = try input.readSlice(Int(compressedCount))
            do {
                if reusesLZFScratch && !isBlob && count <= UInt64(RDBReader.lzfScratchLimit) {
                    try LZF.decompress(compressed, uncompressedCount: Int(count), into: &lzfScratch)
                    return .bytes(lzfScratch)
                }
                let bytes = try LZF.decompress(compressed, uncompressedCount: Int(count))
                if options.keepsCompressedStrings, compressedStringBytes < options.maxCompressedStringBytes {
                    compressedStrings.append(RDBCompressedString(bytes: bytes, compressed: compressed))
                    compressedStringBytes += bytes.readableBytes + compressed.readableBytes
                }
                return .bytes(bytes)
            } catch var error {
                error.offset = start
                throw error
            }
        default:
            throw FormatError(.corrupt, offset: start, "unknown RDB string encoding type \(encoding)")
        }
    }

    /// Where an embedded blob came from, to turn blob-relative error offsets into absolute ones.
    private struct BlobOrigin {
        /// The offset of the STR holding the blob.
        var stringOffset: Int64
        /// The offset of the blob's first byte in the file; nil when the STR was LZF-compressed.
        var dataOffset: Int64?
    }

    /// Reads an STR holding an embedded blob (a ziplist, listpack, intset or zipmap).
    private mutating func readBlob() throws(FormatError) -> (ByteBuffer, BlobOrigin) {
        let start = input.offset
        let blob = try readString(limit: options.maxBlobBytes, isBlob: true).bytes
        return (blob, BlobOrigin(stringOffset: start, dataOffset: lastStringDataOffset))
    }

    /// Makes a blob-relative error absolute. Inside an LZF-compressed blob no file offset corresponds to a
    /// decompressed byte, so the error points at the compressed string and says where in the blob it was.
    private func rebase(_ error: FormatError, origin: BlobOrigin) -> FormatError {
        var error = error
        if let dataOffset = origin.dataOffset {
            error.offset = dataOffset + error.offset
        } else {
            error.detail += " (at byte \(error.offset) of the LZF-compressed blob)"
            error.offset = origin.stringOffset
        }
        return error
    }

    /// Reads a string-encoded double (type 3 scores): length byte, ASCII, or 253/254/255 for nan/+inf/-inf.
    private mutating func readStringDouble() throws(FormatError) -> Double {
        let start = input.offset
        let length = try input.readByte()
        switch length {
        case 253: return .nan
        case 254: return .infinity
        case 255: return -.infinity
        default:
            let text = try input.readSlice(Int(length))
            guard let value = RDBReaderSupport.parseDouble(text) else {
                throw FormatError(.corrupt, offset: start, "invalid double \"\(FormatError.escape(text))\"")
            }
            return value
        }
    }

    private mutating func readBinaryDouble() throws(FormatError) -> Double {
        Double(bitPattern: try input.readInteger(UInt64.self, endianness: .little))
    }

    private mutating func readMilliseconds() throws(FormatError) -> Int64 {
        try input.readInteger(Int64.self, endianness: .little)
    }

    // MARK: - Values

    private mutating func beginValue(_ keyHeader: inout RDBKeyHeader, typeOffset: Int64) throws(FormatError) {
        let type = keyHeader.type
        switch type {
        case .string:
            keyHeader.declaredCount = 1
            let value = try readString(limit: options.maxStringBytes)
            if options.inlinesStringValues {
                keyHeader.stringValue = value
                lastKeyInlined = true
                finishKey()
            } else {
                enqueue(.string(value))
                state = .endKey
            }
        case .listLinked, .setHashtable, .zsetV1, .zsetV2, .hashHashtable:
            let count = try readCount("element")
            keyHeader.declaredCount = count
            let kind: PlainKind =
                switch type {
                case .listLinked: .list
                case .setHashtable: .set
                case .zsetV1: .zsetV1
                case .zsetV2: .zsetV2
                default: .hash
                }
            state = .plain(kind, remaining: count)
        case .hashMetadata:
            let minimumExpire = try readMilliseconds()
            let count = try readCount("field")
            keyHeader.declaredCount = count
            state = .plain(.hashMetadata(minimumExpire: minimumExpire), remaining: count)
        case .hashMetadataPreGA:
            let count = try readCount("field")
            keyHeader.declaredCount = count
            state = .plain(.hashMetadataPreGA, remaining: count)
        case .valkeyHash2:
            let count = try readCount("field")
            keyHeader.declaredCount = count
            state = .plain(.valkeyHash2, remaining: count)
        case .listQuicklist, .listQuicklist2:
            let nodes = try readCount("quicklist node")
            state = .quicklist(remaining: nodes, version2: type == .listQuicklist2)
        case .stream, .stream2, .stream3:
            let nodes = try readCount("stream node")
            lastStreamEntryID = nil
            state = .streamNodes(remaining: nodes, type: type)
        case .module:
            let moduleID = try readLength()
            enqueue(.module(try readModuleData(moduleID: moduleID)))
            state = .endKey
        case .modulePreGA:
            throw FormatError(.unsupportedType, offset: typeOffset, "pre-release module format (type 6) not supported")
        case .hashListpackEx, .hashListpackExPreGA:
            if type == .hashListpackEx { _ = try readMilliseconds() }  // minimum expire: derived data
            let (blob, origin) = try readBlob()
            state = .blob(type, blob, origin)
        default:
            let (blob, origin) = try readBlob()
            state = .blob(type, blob, origin)
        }
    }

    private mutating func decodeBlob(type: RDBType, blob: ByteBuffer, origin: BlobOrigin) throws(FormatError) {
        // One validation for both paths (events and skipValue()): entries are scanned as positions, checked
        // (pairs, duplicates, scores, field expiries), and only then turned into strings if anyone wants them.
        do throws(FormatError) {
            switch type {
            case .setIntset:
                let members = try Intset.members(blob)
                if discarding {
                    discardedElements &+= members.count
                    return
                }
                if options.groupsBlobElements { return enqueue(RDBElementBlock(setMembers: members)) }
                for member in members { enqueue(.setMember(.integer(member))) }
            case .listZiplist:
                let items = try Ziplist.scan(blob)
                if discarding {
                    discardedElements &+= items.count
                    return
                }
                if options.groupsBlobElements { return enqueue(RDBElementBlock(kind: .listItems, blob: blob, entries: items)) }
                for item in BlobEntry.strings(items, in: blob) { enqueue(.listItem(item)) }
            case .setListpack:
                let members = try Listpack.scan(blob)
                try checkDuplicates(members, stride: 1, in: blob, what: "set member")
                if discarding {
                    discardedElements &+= members.count
                    return
                }
                if options.groupsBlobElements { return enqueue(RDBElementBlock(kind: .setMembers, blob: blob, entries: members)) }
                for member in BlobEntry.strings(members, in: blob) { enqueue(.setMember(member)) }
            case .hashZipmap:
                let entries = try Zipmap.entries(blob)
                var seen = Set<RDBString>(minimumCapacity: entries.count / 2)
                var index = 0
                while options.checkDuplicates && index < entries.count {
                    guard seen.insert(entries[index]).inserted else {
                        throw FormatError(.corrupt, offset: 0, "duplicate hash field \"\(entries[index])\" in zipmap")
                    }
                    index += 2
                }
                if discarding {
                    discardedElements &+= entries.count / 2
                    return
                }
                index = 0
                while index < entries.count {
                    enqueue(.hashField(entries[index], value: entries[index + 1], expireAtMilliseconds: nil))
                    index += 2
                }
            case .hashZiplist, .hashListpack:
                let entries = type == .hashZiplist ? try Ziplist.scan(blob) : try Listpack.scan(blob)
                try checkTuples(entries, size: 2, in: blob, what: "hash field")
                if discarding {
                    discardedElements &+= entries.count / 2
                    return
                }
                if options.groupsBlobElements { return enqueue(RDBElementBlock(kind: .hashFields, blob: blob, entries: entries)) }
                let strings = BlobEntry.strings(entries, in: blob)
                var index = 0
                while index < strings.count {
                    enqueue(.hashField(strings[index], value: strings[index + 1], expireAtMilliseconds: nil))
                    index += 2
                }
            case .zsetZiplist, .zsetListpack:
                let entries = type == .zsetZiplist ? try Ziplist.scan(blob) : try Listpack.scan(blob)
                try checkTuples(entries, size: 2, in: blob, what: "sorted set member")
                var scores: [Double] = []
                if !discarding { scores.reserveCapacity(entries.count / 2) }
                var index = 1
                while index < entries.count {
                    guard let score = BlobEntry.score(entries[index], in: blob), !score.isNaN else {
                        let text = BlobEntry.strings([entries[index]], in: blob)[0]
                        throw FormatError(.corrupt, offset: Int64(entries[index].offset), "invalid score \"\(text)\"")
                    }
                    if !discarding { scores.append(score) }
                    index += 2
                }
                if discarding {
                    discardedElements &+= entries.count / 2
                    return
                }
                if options.groupsBlobElements {
                    return enqueue(RDBElementBlock(kind: .zsetMembers, blob: blob, entries: entries, scores: scores))
                }
                let strings = BlobEntry.strings(entries, in: blob)
                for (pair, score) in scores.enumerated() {
                    enqueue(.zsetMember(strings[pair * 2], score: score))
                }
            case .hashListpackEx, .hashListpackExPreGA:
                let entries = try Listpack.scan(blob)
                try checkTuples(entries, size: 3, in: blob, what: "hash field")
                var index = 2
                while index < entries.count {
                    let expire = entries[index]
                    guard expire.isInteger, expire.integer >= 0, expire.integer <= RDBReader.maxFieldExpire else {
                        throw FormatError(.corrupt, offset: Int64(expire.offset), "invalid field expire time")
                    }
                    index += 3
                }
                if discarding {
                    discardedElements &+= entries.count / 3
                    return
                }
                let strings = BlobEntry.strings(entries, in: blob)
                index = 0
                while index < entries.count {
                    let expire = entries[index + 2].integer
                    enqueue(.hashField(strings[index], value: strings[index + 1], expireAtMilliseconds: expire == 0 ? nil : expire))
                    index += 3
                }
            default:
                preconditionFailure("decodeBlob called for \(type)")
            }
        } catch {
            pending.removeAll(keepingCapacity: true)
            pendingIndex = 0
            throw rebase(error, origin: origin)
        }
    }

    /// Checks that a blob holds whole tuples (field/value pairs, member/score pairs, field/value/expire triples)
    /// and that their first elements are unique.
    private func checkTuples(_ entries: [BlobEntry], size: Int, in blob: ByteBuffer, what: String) throws(FormatError) {
        guard entries.count % size == 0 else {
            throw FormatError(.corrupt, offset: 0, "blob of \(entries.count) entries does not hold whole \(what) tuples of \(size)")
        }
        try checkDuplicates(entries, stride: size, in: blob, what: what)
    }

    /// Field expiry times are capped at 2^48 - 1 milliseconds (EB_EXPIRE_TIME_MAX).
    public static var maxFieldExpire: Int64 { (1 << 48) - 1 }

    private func checkDuplicates(_ entries: [BlobEntry], stride: Int, in blob: ByteBuffer, what: String) throws(FormatError) {
        guard options.checkDuplicates, entries.count > stride else { return }
        if let index = BlobEntry.firstDuplicate(entries, stride: stride, in: blob) {
            let text = BlobEntry.strings([entries[index]], in: blob)[0]
            throw FormatError(.corrupt, offset: 0, "duplicate \(what) \"\(text)\"")
        }
    }

    private mutating func readPlainElement(_ kind: PlainKind) throws(FormatError) -> RDBElement {
        let limit = options.maxStringBytes
        switch kind {
        case .list:
            return .listItem(try readString(limit: limit))
        case .set:
            return .setMember(try readString(limit: limit))
        case .zsetV1, .zsetV2:
            let member = try readString(limit: limit)
            let scoreOffset = input.offset
            let score = kind.isZsetV1 ? try readStringDouble() : try readBinaryDouble()
            guard !score.isNaN else {
                throw FormatError(.corrupt, offset: scoreOffset, "sorted set with a NaN score")
            }
            return .zsetMember(member, score: score)
        case .hash:
            let field = try readString(limit: limit)
            return .hashField(field, value: try readString(limit: limit), expireAtMilliseconds: nil)
        case .hashMetadata(let minimumExpire):
            let ttlOffset = input.offset
            let ttl = try readLength()
            let field = try readString(limit: limit)
            let value = try readString(limit: limit)
            var expire: Int64? = nil
            if ttl != 0 {
                let (sum, overflow) = minimumExpire.addingReportingOverflow(Int64(truncatingIfNeeded: ttl) - 1)
                guard ttl <= UInt64(RDBReader.maxFieldExpire), !overflow, sum >= 0, sum <= RDBReader.maxFieldExpire else {
                    throw FormatError(.corrupt, offset: ttlOffset, "invalid field expire time (minimum \(minimumExpire) + \(ttl) - 1)")
                }
                expire = sum
            }
            return .hashField(field, value: value, expireAtMilliseconds: expire)
        case .hashMetadataPreGA:
            let ttlOffset = input.offset
            let expireAt = try readLength()
            guard expireAt <= UInt64(RDBReader.maxFieldExpire) else {
                throw FormatError(.corrupt, offset: ttlOffset, "invalid field expire time \(expireAt)")
            }
            let field = try readString(limit: limit)
            let value = try readString(limit: limit)
            return .hashField(field, value: value, expireAtMilliseconds: expireAt == 0 ? nil : Int64(expireAt))
        case .valkeyHash2:
            let field = try readString(limit: limit)
            let value = try readString(limit: limit)
            let expire = try readMilliseconds()
            return .hashField(field, value: value, expireAtMilliseconds: expire < 0 ? nil : expire)
        }
    }

    /// Reads up to ``plainBlockElements`` elements of a plain encoding (fewer once their strings pass
    /// ``plainBlockBytes``) into one block, the strings copied into a buffer of its own; returns how many it read.
    /// The checks are ``readPlainElement(_:)``'s. A block's buffer holds at most ``plainBlockBytes`` plus two strings
    /// of at most 2^29 bytes, so that its offsets fit in Int32.
    private mutating func readPlainBlock(
        _ kind: PlainKind, _ blockKind: RDBElementBlock.Kind, remaining: UInt64
    ) throws(FormatError) -> (RDBElementBlock, read: UInt64) {
        let limit = options.maxStringBytes
        let most = Int(min(remaining, UInt64(RDBReader.plainBlockElements)))
        var pack = ByteBufferAllocator().buffer(capacity: min(4096, 32 * most))
        var entries: [BlobEntry] = []
        entries.reserveCapacity(blockKind == .listItems || blockKind == .setMembers ? most : 2 * most)
        var scores: [Double] = []
        if blockKind == .zsetMembers { scores.reserveCapacity(most) }
        var read = 0
        while read < most && pack.readableBytes < RDBReader.plainBlockBytes {
            entries.append(try readString(appendingTo: &pack, limit: limit))
            switch blockKind {
            case .listItems, .setMembers:
                break
            case .zsetMembers:
                let scoreOffset = input.offset
                let score = kind.isZsetV1 ? try readStringDouble() : try readBinaryDouble()
                guard !score.isNaN else {
                    throw FormatError(.corrupt, offset: scoreOffset, "sorted set with a NaN score")
                }
                // The score's entry stands in the member/score pairing; its value is read from `scores`.
                entries.append(BlobEntry(integer: 0))
                scores.append(score)
            case .hashFields:
                entries.append(try readString(appendingTo: &pack, limit: limit))
            }
            read += 1
        }
        return (RDBElementBlock(kind: blockKind, blob: pack, entries: entries, scores: scores), UInt64(read))
    }

    private mutating func readQuicklistNode(version2: Bool) throws(FormatError) {
        var container: UInt64 = 2  // QUICKLIST_NODE_CONTAINER_PACKED
        if version2 {
            let containerOffset = input.offset
            container = try readLength()
            guard container == 1 || container == 2 else {
                throw FormatError(.corrupt, offset: containerOffset, "quicklist integrity check failed: node container \(container)")
            }
        }
        if container == 1 {  // QUICKLIST_NODE_CONTAINER_PLAIN: one raw element
            enqueue(.listItem(try readString(limit: options.maxStringBytes)))
            return
        }
        let (blob, origin) = try readBlob()
        do throws(FormatError) {
            // Empty nodes are skipped, as Redis's loader skips them.
            let items = version2 ? try Listpack.scan(blob) : try Ziplist.scan(blob)
            if discarding {
                discardedElements &+= items.count
                return
            }
            if options.groupsBlobElements { return enqueue(RDBElementBlock(kind: .listItems, blob: blob, entries: items)) }
            for item in BlobEntry.strings(items, in: blob) {
                enqueue(.listItem(item))
            }
        } catch {
            pending.removeAll(keepingCapacity: true)
            pendingIndex = 0
            throw rebase(error, origin: origin)
        }
    }

    // MARK: - Module values

    /// Reads a module opcode stream up to its EOF opcode (RDB_MODULE_OPCODE_EOF = 0).
    private mutating func readModuleData(moduleID: UInt64) throws(FormatError) -> RDBModuleValue {
        var data: [RDBModuleDatum] = []
        while true {
            let opcodeOffset = input.offset
            let opcode = try readLength()
            switch opcode {
            case 0: return RDBModuleValue(moduleID: moduleID, when: nil, data: data)
            case 1: data.append(.signedInteger(try readLength()))
            case 2: data.append(.unsignedInteger(try readLength()))
            case 3: data.append(.float(try input.readInteger(UInt32.self, endianness: .little)))
            case 4: data.append(.double(try input.readInteger(UInt64.self, endianness: .little)))
            case 5: data.append(.string(try readString(limit: options.maxStringBytes)))
            default:
                throw FormatError(
                    .corrupt, offset: opcodeOffset,
                    "unknown module opcode \(opcode) in a value of module \(RDBModuleValue.name(of: moduleID))")
            }
        }
    }

    // MARK: - Streams

    private mutating func readStreamID(_ what: String) throws(FormatError) -> RDBStreamID {
        let ms = try readLength()
        let seq = try readLength()
        return RDBStreamID(milliseconds: ms, sequence: seq)
    }

    private mutating func readRawStreamID() throws(FormatError) -> RDBStreamID {
        let ms = try input.readInteger(UInt64.self, endianness: .big)
        let seq = try input.readInteger(UInt64.self, endianness: .big)
        return RDBStreamID(milliseconds: ms, sequence: seq)
    }

    private mutating func readStreamNode() throws(FormatError) {
        let keyOffset = input.offset
        let nodeKey = try readString(limit: options.maxStringBytes).bytes
        guard nodeKey.readableBytes == 16 else {
            throw FormatError(.corrupt, offset: keyOffset, "stream node key of \(nodeKey.readableBytes) bytes, expected 16")
        }
        let master = RDBStreamID(
            milliseconds: nodeKey.getInteger(at: nodeKey.readerIndex, endianness: .big, as: UInt64.self)!,
            sequence: nodeKey.getInteger(at: nodeKey.readerIndex + 8, endianness: .big, as: UInt64.self)!)
        let (blob, origin) = try readBlob()
        do throws(FormatError) {
            let entries = try Listpack.entries(blob)
            try decodeStreamNode(entries, master: master)
        } catch {
            pending.removeAll(keepingCapacity: true)
            pendingIndex = 0
            throw rebase(error, origin: origin)
        }
    }

    private static func integer(_ string: RDBString) -> Int64? {
        switch string {
        case .integer(let value): return value
        case .bytes(let bytes):
            guard bytes.readableBytes > 0, bytes.readableBytes <= 20 else { return nil }
            return Int64(String(decoding: bytes.readableBytesView, as: UTF8.self))
        }
    }

    /// Decodes a stream node listpack (t_stream.c): master entry, then entries, each closed by its lp-count.
    private mutating func decodeStreamNode(_ entries: [RDBString], master: RDBStreamID) throws(FormatError) {
        func corrupt(_ detail: String) -> FormatError {
            FormatError(.corrupt, offset: 0, "stream listpack integrity check failed: \(detail)")
        }
        guard !entries.isEmpty else { throw corrupt("empty node listpack") }
        guard entries.count >= 4,
            let live = RDBReader.integer(entries[0]), let deleted = RDBReader.integer(entries[1]),
            let masterFieldCount = RDBReader.integer(entries[2]), live >= 0, deleted >= 0, masterFieldCount >= 0,
            masterFieldCount <= entries.count - 4
        else { throw corrupt("bad master entry") }
        let masterFields = Array(entries[3..<(3 + Int(masterFieldCount))])
        var index = 3 + Int(masterFieldCount)
        guard RDBReader.integer(entries[index]) == 0 else { throw corrupt("master entry not terminated by 0") }
        index += 1
        var seenLive: Int64 = 0
        var seenDeleted: Int64 = 0
        var previous = lastStreamEntryID
        defer { lastStreamEntryID = previous }
        while index < entries.count {
            guard entries.count - index >= 3, let flags = RDBReader.integer(entries[index]),
                let msDiff = RDBReader.integer(entries[index + 1]), let seqDiff = RDBReader.integer(entries[index + 2])
            else { throw corrupt("truncated entry header") }
            let entryStart = index
            index += 3
            let (ms, msOverflow) = master.milliseconds.addingReportingOverflow(UInt64(bitPattern: msDiff))
            let (seq, seqOverflow) = master.sequence.addingReportingOverflow(UInt64(bitPattern: seqDiff))
            guard !msOverflow || msDiff < 0, !seqOverflow || seqDiff < 0 else { throw corrupt("entry ID overflows") }
            let id = RDBStreamID(milliseconds: ms, sequence: seq)
            if let previous, id <= previous { throw corrupt("entry IDs not ascending (\(id) after \(previous))") }
            previous = id
            var fields: [(field: RDBString, value: RDBString)] = []
            if flags & 2 != 0 {  // STREAM_ITEM_FLAG_SAMEFIELDS
                guard entries.count - index >= Int(masterFieldCount) + 1 else { throw corrupt("truncated entry") }
                fields.reserveCapacity(Int(masterFieldCount))
                for field in masterFields {
                    fields.append((field, entries[index]))
                    index += 1
                }
            } else {
                guard index < entries.count, let count = RDBReader.integer(entries[index]), count >= 0,
                    count <= (entries.count - index - 2) / 2
                else { throw corrupt("bad field count") }
                index += 1
                fields.reserveCapacity(Int(count))
                for _ in 0..<count {
                    fields.append((entries[index], entries[index + 1]))
                    index += 2
                }
            }
            guard index < entries.count, let lpCount = RDBReader.integer(entries[index]),
                lpCount == Int64(index - entryStart)
            else { throw corrupt("bad lp-count at the end of entry \(id)") }
            index += 1
            if flags & 1 != 0 {  // STREAM_ITEM_FLAG_DELETED
                seenDeleted += 1
            } else {
                seenLive += 1
                if discarding {
                    discardedElements &+= 1
                } else {
                    enqueue(.streamEntry(RDBStreamEntry(id: id, fields: fields)))
                }
            }
        }
        guard seenLive == live, seenDeleted == deleted else {
            throw corrupt("master entry counts \(live) live, \(deleted) deleted; node has \(seenLive) and \(seenDeleted)")
        }
    }

    private mutating func readStreamMetadata(type: RDBType) throws(FormatError) -> (RDBStreamMetadata, UInt64) {
        let length = try readLength()
        let lastID = try readStreamID("last ID")
        var metadata = RDBStreamMetadata(length: length, lastID: lastID, firstID: nil, maxDeletedEntryID: nil, entriesAdded: nil)
        if type != .stream {
            metadata.firstID = try readStreamID("first ID")
            metadata.maxDeletedEntryID = try readStreamID("max deleted ID")
            metadata.entriesAdded = try readLength()
        }
        let groups = try readCount("consumer group")
        return (metadata, groups)
    }

    private mutating func readStreamGroup(type: RDBType) throws(FormatError) -> RDBStreamGroup {
        let name = try readString(limit: options.maxStringBytes).bytes
        let lastID = try readStreamID("group last ID")
        var entriesRead: UInt64? = nil
        if type != .stream {
            entriesRead = try readLength()
        }
        let pendingCount = try readCount("pending entry")
        var pendingEntries: [RDBPendingEntry] = []
        pendingEntries.reserveCapacity(Int(min(pendingCount, 1024)))
        var pendingIDs = Set<RDBStreamID>(minimumCapacity: Int(min(pendingCount, 1024)))
        for _ in 0..<pendingCount {
            let entryOffset = input.offset
            let id = try readRawStreamID()
            let deliveryTime = try readMilliseconds()
            let deliveryCount = try readLength()
            guard pendingIDs.insert(id).inserted else {
                throw FormatError(.corrupt, offset: entryOffset, "duplicated pending entry \(id) in group \"\(FormatError.escape(name))\"")
            }
            pendingEntries.append(RDBPendingEntry(id: id, deliveryTimeMilliseconds: deliveryTime, deliveryCount: deliveryCount))
        }
        let consumerCount = try readCount("consumer")
        var consumers: [RDBStreamConsumer] = []
        consumers.reserveCapacity(Int(min(consumerCount, 1024)))
        var owned = Set<RDBStreamID>()
        for _ in 0..<consumerCount {
            let consumerName = try readString(limit: options.maxStringBytes).bytes
            let seen = try readMilliseconds()
            var active: Int64? = nil
            if type == .stream3 {
                active = try readMilliseconds()
            }
            let count = try readCount("consumer pending entry")
            var ids: [RDBStreamID] = []
            ids.reserveCapacity(Int(min(count, 1024)))
            for _ in 0..<count {
                let idOffset = input.offset
                let id = try readRawStreamID()
                guard pendingIDs.contains(id) else {
                    throw FormatError(.corrupt, offset: idOffset, "consumer pending entry \(id) is not in the group's pending list")
                }
                guard owned.insert(id).inserted else {
                    throw FormatError(.corrupt, offset: idOffset, "pending entry \(id) owned by two consumers")
                }
                ids.append(id)
            }
            consumers.append(
                RDBStreamConsumer(name: consumerName, seenTimeMilliseconds: seen, activeTimeMilliseconds: active, pending: ids))
        }
        // Redis's loader rejects a group whose PEL holds entries no consumer owns.
        guard owned.count == pendingIDs.count else {
            throw FormatError(.corrupt, offset: input.offset, "group \"\(FormatError.escape(name))\" has pending entries without a consumer")
        }
        return RDBStreamGroup(name: name, lastID: lastID, entriesRead: entriesRead, pending: pendingEntries, consumers: consumers)
    }
}

/// Helpers of the reader that need no generic context.
enum RDBReaderSupport {
    static func parseDouble(_ bytes: ByteBuffer) -> Double? {
        let count = bytes.readableBytes
        guard count > 0, count < 128 else { return nil }
        return bytes.withUnsafeReadableBytes { raw -> Double? in
            // Plain decimals (integers, %.17g's fixed notation) without strtod.
            if #available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, *), let value = ScoreText.parseDecimal(raw) {
                return value
            }
            // strtod needs a terminated string: copy to a small stack buffer.
            return withUnsafeTemporaryAllocation(of: CChar.self, capacity: count + 1) { text -> Double? in
                for i in 0..<count { text[i] = CChar(bitPattern: raw[i]) }
                text[count] = 0
                var end: UnsafeMutablePointer<CChar>? = nil
                let value = strtod(text.baseAddress!, &end)
                guard let end, end == text.baseAddress! + count else { return nil }
                return value
            }
        }
    }
}
