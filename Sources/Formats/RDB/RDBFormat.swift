// RDB file layout (rdb.h, rdb.c; FORMAT-SPEC §1):
//
//   "REDIS" + 4 digits (1..12)  |  "VALKEY" + 3 digits (80)          9 bytes
//   [AUX 0xFA STR name STR value]...                                  RDB >= 7
//   [MODULE_AUX 0xF7 ...] [FUNCTION2 0xF5 STR]...                     RDB >= 9 / 10
//   per database:  SELECTDB 0xFE LEN db   [RESIZEDB 0xFB LEN keys LEN expires]  (RESIZEDB: RDB >= 7)
//     per key:  [SLOT_INFO 0xF4] [EXPIRETIME_MS 0xFC MS64 | EXPIRETIME 0xFD S32] [IDLE 0xF8 LEN] [FREQ 0xF9 u8]
//               type(u8) key(STR) value
//   EOF 0xFF  [CRC64 LE, 8 bytes]                                     CRC: RDB >= 5
//
// LEN: 00xxxxxx (6 bit) | 01xxxxxx yyyyyyyy (14 bit BE) | 0x80 u32 BE | 0x81 u64 BE (RDB >= 8) | 11xxxxxx special
// STR: LEN bytes | 0xC0 i8 | 0xC1 i16 LE | 0xC2 i32 LE | 0xC3 LEN clen LEN len <lzf>

import NIOCore

/// The dialect of an RDB file, told by its magic: type 22 and opcode 243 differ between the two.
public enum RDBDialect: Hashable, Sendable {
    /// `REDIS0001` to `REDIS0012`, also written by Valkey 7.2 and 8.
    case redis
    /// `VALKEY080` and later (Valkey 9).
    case valkey
}

/// The first nine bytes of an RDB file.
public struct RDBHeader: Hashable, Sendable {
    public var dialect: RDBDialect
    /// The number after the magic: 1...12 for Redis, 80 for Valkey 9.
    public var version: Int

    public init(dialect: RDBDialect = .redis, version: Int) {
        self.dialect = dialect
        self.version = version
    }

    /// The nine magic bytes, e.g. `REDIS0011`.
    public var magic: String {
        switch dialect {
        case .redis:
            let digits = String(version)
            return "REDIS" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
        case .valkey:
            let digits = String(version)
            return "VALKEY" + String(repeating: "0", count: max(0, 3 - digits.count)) + digits
        }
    }

    /// Whether the file ends with an 8-byte CRC64 (RDB 5 and later).
    public var hasChecksum: Bool { dialect == .valkey || version >= 5 }

    /// The newest Redis RDB version this library reads.
    public static let newestRedisVersion = 12
    /// The Valkey versions this library reads.
    public static let valkeyVersions: ClosedRange<Int> = 80...80
}

/// Opcodes: bytes in the type position that are not value types.
public enum RDBOpcode: UInt8, Sendable {
    /// `RDB_OPCODE_SLOT_IMPORT` (Valkey 9) or `RDB_OPCODE_KEY_META` (Redis 8.6): payload not documented.
    case slotImportOrKeyMeta = 243
    /// `RDB_OPCODE_SLOT_INFO`, RDB 12: LEN slot, LEN keys, LEN expires.
    case slotInfo = 244
    /// `RDB_OPCODE_FUNCTION2`, RDB 10: STR library code.
    case function2 = 245
    /// `RDB_OPCODE_FUNCTION_PRE_GA`, 7.0 release candidates only.
    case functionPreGA = 246
    /// `RDB_OPCODE_MODULE_AUX`, RDB 9.
    case moduleAux = 247
    /// `RDB_OPCODE_IDLE`, RDB 9: LEN seconds.
    case idle = 248
    /// `RDB_OPCODE_FREQ`, RDB 9: one byte LFU counter.
    case freq = 249
    /// `RDB_OPCODE_AUX`, RDB 7: STR name, STR value.
    case aux = 250
    /// `RDB_OPCODE_RESIZEDB`, RDB 7: LEN keys, LEN expires.
    case resizeDB = 251
    /// `RDB_OPCODE_EXPIRETIME_MS`, RDB 3: 8-byte LE milliseconds.
    case expireTimeMilliseconds = 252
    /// `RDB_OPCODE_EXPIRETIME`, RDB 1: 4-byte seconds.
    case expireTime = 253
    /// `RDB_OPCODE_SELECTDB`: LEN db number.
    case selectDB = 254
    /// `RDB_OPCODE_EOF`, followed by the CRC64 from RDB 5 on.
    case eof = 255
}

/// Value types (the byte before a key).
public enum RDBType: Hashable, Sendable, CaseIterable {
    case string  // 0 RDB_TYPE_STRING
    case listLinked  // 1 RDB_TYPE_LIST
    case setHashtable  // 2 RDB_TYPE_SET
    case zsetV1  // 3 RDB_TYPE_ZSET (string scores)
    case hashHashtable  // 4 RDB_TYPE_HASH
    case zsetV2  // 5 RDB_TYPE_ZSET_2 (binary scores), RDB 8
    case modulePreGA  // 6 RDB_TYPE_MODULE_PRE_GA
    case module  // 7 RDB_TYPE_MODULE_2
    case hashZipmap  // 9 RDB_TYPE_HASH_ZIPMAP, RDB 2
    case listZiplist  // 10 RDB_TYPE_LIST_ZIPLIST, RDB 2
    case setIntset  // 11 RDB_TYPE_SET_INTSET, RDB 2
    case zsetZiplist  // 12 RDB_TYPE_ZSET_ZIPLIST, RDB 2
    case hashZiplist  // 13 RDB_TYPE_HASH_ZIPLIST, RDB 4
    case listQuicklist  // 14 RDB_TYPE_LIST_QUICKLIST, RDB 7
    case stream  // 15 RDB_TYPE_STREAM_LISTPACKS, RDB 9
    case hashListpack  // 16 RDB_TYPE_HASH_LISTPACK, RDB 10
    case zsetListpack  // 17 RDB_TYPE_ZSET_LISTPACK, RDB 10
    case listQuicklist2  // 18 RDB_TYPE_LIST_QUICKLIST_2, RDB 10
    case stream2  // 19 RDB_TYPE_STREAM_LISTPACKS_2, RDB 10
    case setListpack  // 20 RDB_TYPE_SET_LISTPACK, RDB 11
    case stream3  // 21 RDB_TYPE_STREAM_LISTPACKS_3, RDB 11
    case hashMetadataPreGA  // 22 RDB_TYPE_HASH_METADATA_PRE_GA (Redis 7.4 RCs)
    case hashListpackExPreGA  // 23 RDB_TYPE_HASH_LISTPACK_EX_PRE_GA (Redis 7.4 RCs)
    case hashMetadata  // 24 RDB_TYPE_HASH_METADATA, RDB 12
    case hashListpackEx  // 25 RDB_TYPE_HASH_LISTPACK_EX, RDB 12
    case valkeyHash2  // 22 in a VALKEY file: RDB_TYPE_HASH_2 (hash with field expiries)

    /// The byte written in the file.
    public var rawValue: UInt8 {
        switch self {
        case .string: 0
        case .listLinked: 1
        case .setHashtable: 2
        case .zsetV1: 3
        case .hashHashtable: 4
        case .zsetV2: 5
        case .modulePreGA: 6
        case .module: 7
        case .hashZipmap: 9
        case .listZiplist: 10
        case .setIntset: 11
        case .zsetZiplist: 12
        case .hashZiplist: 13
        case .listQuicklist: 14
        case .stream: 15
        case .hashListpack: 16
        case .zsetListpack: 17
        case .listQuicklist2: 18
        case .stream2: 19
        case .setListpack: 20
        case .stream3: 21
        case .hashMetadataPreGA: 22
        case .hashListpackExPreGA: 23
        case .hashMetadata: 24
        case .hashListpackEx: 25
        case .valkeyHash2: 22
        }
    }

    /// Decodes a type byte in the given dialect; nil when the byte is not a value type there.
    public init?(byte: UInt8, dialect: RDBDialect) {
        switch (byte, dialect) {
        case (0, _): self = .string
        case (1, _): self = .listLinked
        case (2, _): self = .setHashtable
        case (3, _): self = .zsetV1
        case (4, _): self = .hashHashtable
        case (5, _): self = .zsetV2
        case (6, _): self = .modulePreGA
        case (7, _): self = .module
        case (9, _): self = .hashZipmap
        case (10, _): self = .listZiplist
        case (11, _): self = .setIntset
        case (12, _): self = .zsetZiplist
        case (13, _): self = .hashZiplist
        case (14, _): self = .listQuicklist
        case (15, _): self = .stream
        case (16, _): self = .hashListpack
        case (17, _): self = .zsetListpack
        case (18, _): self = .listQuicklist2
        case (19, _): self = .stream2
        case (20, _): self = .setListpack
        case (21, _): self = .stream3
        case (22, .redis): self = .hashMetadataPreGA
        case (23, .redis): self = .hashListpackExPreGA
        case (24, .redis): self = .hashMetadata
        case (25, .redis): self = .hashListpackEx
        case (22, .valkey): self = .valkeyHash2
        default: return nil
        }
    }

    /// The name redis-check-rdb prints for the type ("Reading type 13 (hash-ziplist)").
    public var name: String {
        switch self {
        case .string: "string"
        case .listLinked: "list-linked"
        case .setHashtable: "set-hashtable"
        case .zsetV1: "zset-v1"
        case .hashHashtable: "hash-hashtable"
        case .zsetV2: "zset-v2"
        case .modulePreGA: "module-pre-release"
        case .module: "module-value"
        case .hashZipmap: "hash-zipmap"
        case .listZiplist: "list-ziplist"
        case .setIntset: "set-intset"
        case .zsetZiplist: "zset-ziplist"
        case .hashZiplist: "hash-ziplist"
        case .listQuicklist: "quicklist"
        case .stream: "stream"
        case .hashListpack: "hash-listpack"
        case .zsetListpack: "zset-listpack"
        case .listQuicklist2: "quicklist-v2"
        case .stream2: "stream-v2"
        case .setListpack: "set-listpack"
        case .stream3: "stream-v3"
        case .hashMetadataPreGA: "hash-hashtable-md-pre-release"
        case .hashListpackExPreGA: "hash-listpack-md-pre-release"
        case .hashMetadata: "hash-hashtable-md"
        case .hashListpackEx: "hash-listpack-md"
        case .valkeyHash2: "hash-2"
        }
    }

    /// The logical kind of the value, as the `TYPE` command names it.
    public var kind: RDBValueKind {
        switch self {
        case .string: .string
        case .listLinked, .listZiplist, .listQuicklist, .listQuicklist2: .list
        case .setHashtable, .setIntset, .setListpack: .set
        case .zsetV1, .zsetV2, .zsetZiplist, .zsetListpack: .zset
        case .hashHashtable, .hashZipmap, .hashZiplist, .hashListpack, .hashMetadataPreGA, .hashListpackExPreGA,
            .hashMetadata, .hashListpackEx, .valkeyHash2:
            .hash
        case .stream, .stream2, .stream3: .stream
        case .modulePreGA, .module: .module
        }
    }
}

/// The logical type of a value, as `TYPE` reports it.
public enum RDBValueKind: String, Hashable, Sendable, CaseIterable {
    case string, list, set, zset, hash, stream, module
}

/// Limits on what a file may make the reader allocate. The defaults follow Redis.
public struct RDBReadOptions: Sendable {
    /// The longest string accepted (Redis `proto-max-bulk-len` default).
    public var maxStringBytes: Int = 512 * 1024 * 1024
    /// The largest embedded blob (listpack, ziplist, intset, zipmap) accepted; Redis caps listpacks at 1 GiB.
    public var maxBlobBytes: Int = 1024 * 1024 * 1024
    /// The highest database number accepted.
    public var maxDatabase: Int = 1 << 20
    /// Verify the CRC64 trailer (a zero trailer means "checksum disabled" and is never verified).
    public var verifyChecksum = true
    /// Check embedded blobs for duplicate members (sets, hash fields, zset members), as Redis's deep sanitization does.
    public var checkDuplicates = true
    /// Keep, for each key, the strings it stored LZF-compressed (its name, a string value, embedded blobs such
    /// as listpacks and quicklist nodes) with their compressed bytes (``RDBReader/takeCompressedStrings()``),
    /// so that a writer can store the same bytes again instead of compressing them anew. At most
    /// ``maxCompressedStringBytes`` per key are kept.
    public var keepsCompressedStrings = false
    public var maxCompressedStringBytes = 8 * 1024 * 1024
    /// Hand out the elements of each embedded blob (a listpack, ziplist or intset value, a quicklist node), and
    /// those of plain encodings up to 1,024 or 64 KiB at a time, as ``RDBEvent/elements(_:)`` events instead of an
    /// ``RDBEvent/element(_:)`` each: what a loader that copies elements into storage of its own wants (no string
    /// per element). Zipmaps and hashes with field expiries still go element by element.
    public var groupsBlobElements = false
    /// Hand out a string key as its ``RDBEvent/beginKey(_:)`` alone, the value in ``RDBKeyHeader/stringValue``,
    /// instead of three events (begin, the string, end): what a loader of millions of small strings wants.
    /// ``RDBReader/skipValue()`` after such a key returns 1 and reads nothing.
    public var inlinesStringValues = false

    public init() {}
}

/// A string an RDB stored LZF-compressed: its bytes, and the compressed bytes they were decompressed from.
public struct RDBCompressedString: Sendable {
    public var bytes: ByteBuffer
    public var compressed: ByteBuffer

    public init(bytes: ByteBuffer, compressed: ByteBuffer) {
        self.bytes = bytes
        self.compressed = compressed
    }
}
