import NIOCore

/// A string as stored in an RDB: bytes, or an integer that Redis stored in integer form.
///
/// Keeping integers as integers lets a checker skip formatting them; ``bytes`` gives the text Redis would return.
public enum RDBString: Sendable, Hashable, CustomStringConvertible {
    case bytes(ByteBuffer)
    case integer(Int64)

    /// The string's bytes (integers as their canonical decimal text).
    public var bytes: ByteBuffer {
        switch self {
        case .bytes(let buffer): return buffer
        case .integer(let value):
            var buffer = ByteBufferAllocator().buffer(capacity: 20)
            buffer.writeString(String(value))
            return buffer
        }
    }

    /// The length in bytes of the string value.
    public var byteCount: Int {
        switch self {
        case .bytes(let buffer): return buffer.readableBytes
        case .integer(let value): return RDBString.decimalLength(value)
        }
    }

    /// The bytes as an array (convenient in tests).
    public var array: [UInt8] { Array(bytes.readableBytesView) }

    public var description: String { FormatError.escape(bytes) }

    /// Two strings are equal when their bytes are, whatever their encoding.
    public static func == (lhs: RDBString, rhs: RDBString) -> Bool {
        switch (lhs, rhs) {
        case (.integer(let a), .integer(let b)): return a == b
        case (.bytes(let a), .bytes(let b)): return a == b
        default: return lhs.bytes == rhs.bytes
        }
    }

    /// Hashes the text, so that `.integer(7)` and `.bytes("7")` hash alike (they are equal).
    public func hash(into hasher: inout Hasher) {
        switch self {
        case .bytes(let buffer):
            buffer.withUnsafeReadableBytes { hasher.combine(bytes: $0) }
        case .integer(let value):
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
                var rest = value.magnitude
                var index = 20
                repeat {
                    index -= 1
                    digits[index] = UInt8(ascii: "0") + UInt8(rest % 10)
                    rest /= 10
                } while rest > 0
                if value < 0 {
                    index -= 1
                    digits[index] = UInt8(ascii: "-")
                }
                hasher.combine(bytes: UnsafeRawBufferPointer(UnsafeMutableBufferPointer(rebasing: digits[index..<20])))
            }
        }
    }

    static func decimalLength(_ value: Int64) -> Int {
        var count = value < 0 ? 2 : 1
        var rest = value.magnitude
        while rest >= 10 {
            rest /= 10
            count += 1
        }
        return count
    }
}

/// Everything the reader knows about a key before its value.
public struct RDBKeyHeader: Sendable {
    /// The database the key is in (the last SELECTDB; 0 when the file has none).
    public var database: Int
    public var key: ByteBuffer
    public var type: RDBType
    /// Absolute expiry in Unix milliseconds, when the key has one.
    public var expireAtMilliseconds: Int64?
    /// LRU idle time in seconds (IDLE opcode, RDB 9, allkeys-lru / volatile-lru servers).
    public var lruIdleSeconds: UInt64?
    /// LFU counter (FREQ opcode, RDB 9, LFU servers).
    public var lfuFrequency: UInt8?
    /// The element count the file declares before the elements: 1 for strings, the count of plain collections
    /// (types 1-5, 24, Valkey 22). Nil for blob encodings (known only after validation) and for quicklists
    /// and streams, whose files count nodes, not elements.
    public var declaredCount: UInt64?
    /// Offset of the first byte of the entry (its first prefix opcode or its type byte).
    public var offset: Int64
    /// With ``RDBReadOptions/inlinesStringValues``: a string key's value, read with the key (no ``RDBEvent/element(_:)``
    /// or ``RDBEvent/endKey`` follows). Nil otherwise.
    public var stringValue: RDBString? = nil

    public init(
        database: Int, key: ByteBuffer, type: RDBType, expireAtMilliseconds: Int64? = nil, lruIdleSeconds: UInt64? = nil,
        lfuFrequency: UInt8? = nil, declaredCount: UInt64? = nil, offset: Int64 = 0
    ) {
        self.database = database
        self.key = key
        self.type = type
        self.expireAtMilliseconds = expireAtMilliseconds
        self.lruIdleSeconds = lruIdleSeconds
        self.lfuFrequency = lfuFrequency
        self.declaredCount = declaredCount
        self.offset = offset
    }
}

/// A stream ID (`ms-seq`).
public struct RDBStreamID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var milliseconds: UInt64
    public var sequence: UInt64

    public init(milliseconds: UInt64, sequence: UInt64) {
        self.milliseconds = milliseconds
        self.sequence = sequence
    }

    public static func < (lhs: RDBStreamID, rhs: RDBStreamID) -> Bool {
        (lhs.milliseconds, lhs.sequence) < (rhs.milliseconds, rhs.sequence)
    }

    public var description: String { "\(milliseconds)-\(sequence)" }
}

/// One live stream entry.
public struct RDBStreamEntry: Sendable, Hashable {
    public var id: RDBStreamID
    public var fields: [(field: RDBString, value: RDBString)]

    public init(id: RDBStreamID, fields: [(field: RDBString, value: RDBString)]) {
        self.id = id
        self.fields = fields
    }

    public static func == (lhs: RDBStreamEntry, rhs: RDBStreamEntry) -> Bool {
        lhs.id == rhs.id && lhs.fields.count == rhs.fields.count
            && zip(lhs.fields, rhs.fields).allSatisfy { $0.field == $1.field && $0.value == $1.value }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(id)
        for pair in fields {
            hasher.combine(pair.field)
            hasher.combine(pair.value)
        }
    }
}

/// The stream fields that follow its entries in the file.
public struct RDBStreamMetadata: Sendable, Hashable {
    /// Number of live entries.
    public var length: UInt64
    public var lastID: RDBStreamID
    /// RDB 10 and later (types 19, 21); nil for type 15.
    public var firstID: RDBStreamID?
    public var maxDeletedEntryID: RDBStreamID?
    public var entriesAdded: UInt64?

    public init(
        length: UInt64, lastID: RDBStreamID, firstID: RDBStreamID? = nil, maxDeletedEntryID: RDBStreamID? = nil,
        entriesAdded: UInt64? = nil
    ) {
        self.length = length
        self.lastID = lastID
        self.firstID = firstID
        self.maxDeletedEntryID = maxDeletedEntryID
        self.entriesAdded = entriesAdded
    }
}

/// A pending entry of a consumer group.
public struct RDBPendingEntry: Sendable, Hashable {
    public var id: RDBStreamID
    public var deliveryTimeMilliseconds: Int64
    public var deliveryCount: UInt64

    public init(id: RDBStreamID, deliveryTimeMilliseconds: Int64, deliveryCount: UInt64) {
        self.id = id
        self.deliveryTimeMilliseconds = deliveryTimeMilliseconds
        self.deliveryCount = deliveryCount
    }
}

/// A consumer of a consumer group.
public struct RDBStreamConsumer: Sendable, Hashable {
    public var name: ByteBuffer
    public var seenTimeMilliseconds: Int64
    /// Type 21 only; nil before (Redis then uses the seen time).
    public var activeTimeMilliseconds: Int64?
    /// IDs of the group's pending entries owned by this consumer.
    public var pending: [RDBStreamID]

    public init(name: ByteBuffer, seenTimeMilliseconds: Int64, activeTimeMilliseconds: Int64? = nil, pending: [RDBStreamID] = []) {
        self.name = name
        self.seenTimeMilliseconds = seenTimeMilliseconds
        self.activeTimeMilliseconds = activeTimeMilliseconds
        self.pending = pending
    }
}

/// A consumer group with its pending entries list and consumers.
public struct RDBStreamGroup: Sendable, Hashable {
    public var name: ByteBuffer
    public var lastID: RDBStreamID
    /// RDB 10 and later; nil for type 15.
    public var entriesRead: UInt64?
    public var pending: [RDBPendingEntry]
    public var consumers: [RDBStreamConsumer]

    public init(
        name: ByteBuffer, lastID: RDBStreamID, entriesRead: UInt64? = nil, pending: [RDBPendingEntry] = [],
        consumers: [RDBStreamConsumer] = []
    ) {
        self.name = name
        self.lastID = lastID
        self.entriesRead = entriesRead
        self.pending = pending
        self.consumers = consumers
    }
}

/// One typed datum of a module's serialized value (the module opcode stream, §1.10.7).
public enum RDBModuleDatum: Sendable, Hashable {
    case signedInteger(UInt64)  // RDB_MODULE_OPCODE_SINT: the 64-bit pattern, as stored
    case unsignedInteger(UInt64)  // RDB_MODULE_OPCODE_UINT
    case float(UInt32)  // RDB_MODULE_OPCODE_FLOAT: the IEEE-754 binary32 bits
    case double(UInt64)  // RDB_MODULE_OPCODE_DOUBLE: the IEEE-754 binary64 bits
    case string(RDBString)  // RDB_MODULE_OPCODE_STRING
}

/// A module value or module aux record, kept as its typed opcode stream so it can be skipped or copied.
public struct RDBModuleValue: Sendable, Hashable {
    /// The 64-bit module type id: 9 name characters of 6 bits, then a 10-bit encoding version.
    public var moduleID: UInt64
    /// MODULE_AUX only: 1 before the keyspace, 2 after.
    public var when: UInt64?
    public var data: [RDBModuleDatum]

    public init(moduleID: UInt64, when: UInt64? = nil, data: [RDBModuleDatum]) {
        self.moduleID = moduleID
        self.when = when
        self.data = data
    }

    /// The module type name encoded in the id (e.g. "ReJSON-RL").
    public var moduleName: String { RDBModuleValue.name(of: moduleID) }
    /// The encoding version in the low 10 bits of the id.
    public var encodingVersion: Int { Int(moduleID & 1023) }

    static let nameCharacters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

    /// Decodes the 9-character name of a module type id.
    public static func name(of moduleID: UInt64) -> String {
        var name = ""
        var id = moduleID >> 10
        var characters: [Character] = []
        for _ in 0..<9 {
            characters.append(nameCharacters[Int(id & 63)])
            id >>= 6
        }
        name = String(characters.reversed())
        return name
    }
}

/// One piece of a value, streamed between ``RDBEvent/beginKey(_:)`` and ``RDBEvent/endKey``.
public enum RDBElement: Sendable, Hashable {
    /// The value of a string key.
    case string(RDBString)
    /// A list element, in list order.
    case listItem(RDBString)
    /// A set member.
    case setMember(RDBString)
    /// A sorted set member with its score.
    case zsetMember(RDBString, score: Double)
    /// A hash field and value, with the field's own expiry (Redis 7.4 / Valkey 9 field TTLs) when it has one.
    case hashField(RDBString, value: RDBString, expireAtMilliseconds: Int64?)
    /// A live stream entry, in ID order.
    case streamEntry(RDBStreamEntry)
    /// The stream's length and IDs (after all entries).
    case streamMetadata(RDBStreamMetadata)
    /// One consumer group (after the metadata).
    case streamGroup(RDBStreamGroup)
    /// A module value.
    case module(RDBModuleValue)
}

/// How the checksum trailer turned out.
public enum RDBChecksumStatus: Hashable, Sendable {
    /// The trailer matched the CRC64 computed over the file.
    case verified(UInt64)
    /// The trailer is zero: the file was written with `rdbchecksum no`.
    case disabled
    /// RDB 1 to 4 have no trailer.
    case absent
    /// Verification was turned off in the options; the stored value.
    case notChecked(UInt64)
}

/// What an ``RDBReader`` produces, in file order.
public enum RDBEvent: Sendable {
    case header(RDBHeader)
    case aux(key: RDBString, value: RDBString)
    case selectDB(Int)
    case resizeHint(keys: UInt64, expires: UInt64)
    /// SLOT_INFO (Redis 7.4 cluster mode): the sizes of the slot of the following keys.
    case slotInfo(slot: UInt64, keys: UInt64, expires: UInt64)
    case moduleAux(RDBModuleValue)
    /// A function library's code (FUNCTION2, or the pre-GA FUNCTION opcode of 7.0 release candidates).
    case function(code: RDBString)
    case beginKey(RDBKeyHeader)
    case element(RDBElement)
    /// The elements of one embedded blob at once, with ``RDBReadOptions/groupsBlobElements`` only: stands for
    /// the ``element(_:)`` events of ``RDBElementBlock/elements``.
    case elements(RDBElementBlock)
    case endKey
    /// The EOF opcode and the trailer. Nothing follows.
    case end(RDBChecksumStatus)
}
