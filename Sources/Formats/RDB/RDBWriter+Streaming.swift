// Writing a key element by element, in bounded memory (the writer's side of the reader's element events).
//
//   beginKey(header) → writeElement(…)… → endKey()
//
// A plain collection whose declared count (RDBKeyHeader.declaredCount) is above every compact-encoding
// threshold can only be written in its plain encoding, which starts with that count: it is written straight
// through, element by element, without being held. Other values are assembled in memory and get the compact
// encoding of the target version. A value that outgrows `spoolElements` elements or `spoolBytes` bytes is
// spooled to an unlinked temporary file, then written from there in its plain encoding (which is the only one
// Redis uses at that size): memory stays bounded by one element, whatever the key's size.

import NIOCore
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The elements of one value, gathered in arrays of their own kind (a value enum would be unwrapped and
/// rewrapped on every element). The writer's in-memory assembly and redis-convert's whole values use it.
package struct RDBValueBuilder {
    var string = RDBString.bytes(ByteBuffer())
    var module = RDBModuleValue(moduleID: 0, data: [])
    /// List items or set members.
    var items: [RDBString] = []
    var members: [RDBScoredMember] = []
    var fields: [RDBHashField] = []
    var entries: [RDBStreamEntry] = []
    var metadata: RDBStreamMetadata?
    var groups: [RDBStreamGroup] = []

    package init() {}

    /// Adds one element event of the value.
    package mutating func add(_ element: consuming RDBElement) {
        switch consume element {
        case .string(let value): string = value
        case .module(let value): module = value
        case .listItem(let item), .setMember(let item): items.append(item)
        case .zsetMember(let member, let score): members.append(RDBScoredMember(member: member, score: score))
        case .hashField(let field, let value, let expire):
            fields.append(RDBHashField(field: field, value: value, expireAtMilliseconds: expire))
        case .streamEntry(let entry): entries.append(entry)
        case .streamMetadata(let value): metadata = value
        case .streamGroup(let group): groups.append(group)
        }
    }

    /// The value gathered, as a value of `kind`.
    package func value(of kind: RDBValueKind) -> RDBValue {
        switch kind {
        case .string: .string(string)
        case .module: .module(module)
        case .list: .list(items)
        case .set: .set(items)
        case .zset: .zset(members)
        case .hash: .hash(fields)
        case .stream: .stream(RDBStream(entries: entries, metadata: metadata, groups: groups))
        }
    }

    /// Calls `body` with each collection element gathered (list items as `kind` says), in order, and drops them.
    mutating func moveElements(
        as kind: RDBValueKind, _ body: (RDBElement) throws(FormatError) -> Void
    ) throws(FormatError) {
        for item in items { try body(kind == .list ? .listItem(item) : .setMember(item)) }
        for member in members { try body(.zsetMember(member.member, score: member.score)) }
        for field in fields {
            try body(.hashField(field.field, value: field.value, expireAtMilliseconds: field.expireAtMilliseconds))
        }
        for entry in entries { try body(.streamEntry(entry)) }
        items = []
        members = []
        fields = []
        entries = []
    }
}

/// A key being assembled by ``RDBWriter/beginKey(_:)``.
final class KeyAssembly {
    let header: RDBKeyHeader
    var builder = RDBValueBuilder()
    var elements = 0
    var bytes = 0
    var spool: ElementSpool?
    /// For a key written straight through (``RDBWriter/beginKey(_:)``): its type, and the elements still due.
    var direct: (type: RDBType, remaining: UInt64)?
    var minimumFieldExpire: Int64?
    /// Strings the input stored LZF-compressed, offered for this key's assembled value
    /// (``RDBWriter/offerCompressedStrings(_:)``), and their size; dropped once the value spools.
    var compressedStrings: [RDBCompressedString] = []
    var compressedStringBytes = 0

    init(header: RDBKeyHeader) {
        self.header = header
    }
}

/// Elements written to an unlinked temporary file and read back in order.
final class ElementSpool {
    private let descriptor: SystemPackage.FileDescriptor
    private var staging = ByteBufferAllocator().buffer(capacity: 256 * 1024)
    private(set) var count = 0

    init() throws(FormatError) {
        let directory = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array("\(directory)/rdb-spool-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            let error = Errno(rawValue: errno)
            throw FormatError(.io, offset: 0, phase: .io, "create spool file in \(directory): \(error)", underlying: error)
        }
        // Unlinked at once: the space is freed when the descriptor closes, whatever happens.
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        descriptor = SystemPackage.FileDescriptor(rawValue: fd)
    }

    deinit {
        try? descriptor.close()
    }

    func append(_ element: RDBElement) throws(FormatError) {
        switch element {
        case .listItem(let item), .setMember(let item):
            write(item)
        case .zsetMember(let member, let score):
            write(member)
            staging.appendInteger(score.bitPattern, endianness: .little)
        case .hashField(let field, let value, let expire):
            write(field)
            write(value)
            staging.appendInteger(expire ?? Int64.min, endianness: .little)
        case .streamEntry(let entry):
            staging.appendInteger(entry.id.milliseconds, endianness: .little)
            staging.appendInteger(entry.id.sequence, endianness: .little)
            staging.appendInteger(UInt32(entry.fields.count), endianness: .little)
            for pair in entry.fields {
                write(pair.field)
                write(pair.value)
            }
        default:
            preconditionFailure("\(element) is not spooled")
        }
        count += 1
        if staging.readableBytes >= 256 * 1024 { try flush() }
    }

    private func write(_ string: RDBString) {
        switch string {
        case .integer(let value):
            staging.appendInteger(UInt8(1))
            staging.appendInteger(value, endianness: .little)
        case .bytes(let bytes):
            staging.appendInteger(UInt8(0))
            staging.appendInteger(UInt32(bytes.readableBytes), endianness: .little)
            staging.appendBytes(of: bytes)
        }
    }

    private func flush() throws(FormatError) {
        try descriptor.writeAll(staging, naming: "spool file")
        staging.clear()
    }

    /// Reads every element back, in order, as elements of the given kind.
    func forEach(_ kind: RDBValueKind, _ body: (RDBElement) throws(FormatError) -> Void) throws(FormatError) {
        try flush()
        do {
            _ = try descriptor.seek(offset: 0, from: .start)
        } catch {
            throw FormatError(.io, offset: 0, phase: .io, "rewind spool file: \(error)", underlying: error)
        }
        var reader = WindowedReader(source: FileSource(descriptor: descriptor))
        func readString() throws(FormatError) -> RDBString {
            if try reader.readByte() == 1 {
                return .integer(try reader.readInteger(Int64.self, endianness: .little))
            }
            let length = Int(try reader.readInteger(UInt32.self, endianness: .little))
            return .bytes(try reader.readSlice(length))
        }
        for _ in 0..<count {
            switch kind {
            case .list: try body(.listItem(try readString()))
            case .set: try body(.setMember(try readString()))
            case .zset:
                let member = try readString()
                try body(.zsetMember(member, score: Double(bitPattern: try reader.readInteger(UInt64.self, endianness: .little))))
            case .hash:
                let field = try readString()
                let value = try readString()
                let expire = try reader.readInteger(Int64.self, endianness: .little)
                try body(.hashField(field, value: value, expireAtMilliseconds: expire == Int64.min ? nil : expire))
            case .stream:
                let ms = try reader.readInteger(UInt64.self, endianness: .little)
                let seq = try reader.readInteger(UInt64.self, endianness: .little)
                let fieldCount = Int(try reader.readInteger(UInt32.self, endianness: .little))
                var fields: [(field: RDBString, value: RDBString)] = []
                fields.reserveCapacity(fieldCount)
                for _ in 0..<fieldCount {
                    let field = try readString()
                    fields.append((field, try readString()))
                }
                try body(.streamEntry(RDBStreamEntry(id: RDBStreamID(milliseconds: ms, sequence: seq), fields: fields)))
            default:
                preconditionFailure("\(kind) is not spooled")
            }
        }
    }
}

extension RDBWriter {
    /// Starts a key whose value will arrive as ``writeElement(_:)`` calls (RDBReader's element events).
    ///
    /// A plain collection with a `declaredCount` above every compact-encoding threshold is written straight
    /// through (its encoding at the target version is plain whatever the elements): exactly that many elements
    /// must follow.
    public mutating func beginKey(_ header: RDBKeyHeader) throws(FormatError) {
        precondition(assembly == nil, "beginKey() inside a key")
        let assembly = KeyAssembly(header: header)
        self.assembly = assembly
        if let count = header.declaredCount, let type = directType(header.type, count: count) {
            // An offer made before the key stays for its name and first elements.
            if !databaseSelected || header.database != database {
                try selectDB(header.database)
            }
            try writeKeyPrefix(header)
            staging.appendInteger(type.rawValue)
            try writeString(.bytes(header.key))
            try writeLength(count)
            assembly.direct = (type, count)
        } else {
            assembly.compressedStrings = knownCompressed
            assembly.compressedStringBytes = knownCompressed.reduce(0) { $0 + $1.bytes.readableBytes + $1.compressed.readableBytes }
            forgetCompressedStrings()
        }
    }

    /// The plain type a collection of `count` elements, read as `type`, must get at the target version; nil when
    /// the encoding could still be compact, or depends on what the elements hold (field expiries).
    private func directType(_ type: RDBType, count: UInt64) -> RDBType? {
        switch type {
        case .setHashtable:
            let compactLimit = version >= 11 ? max(options.setMaxIntsetEntries, options.setMaxListpackEntries) : options.setMaxIntsetEntries
            return count > UInt64(max(compactLimit, 0)) ? .setHashtable : nil
        case .zsetV1, .zsetV2:
            return count > UInt64(max(options.zsetMaxListpackEntries, 0)) ? (version >= 8 ? .zsetV2 : .zsetV1) : nil
        case .hashHashtable:
            return count > UInt64(max(options.hashMaxListpackEntries, 0)) ? .hashHashtable : nil
        case .listLinked where version < 7:
            return count > UInt64(max(options.listMaxZiplistEntries, 0)) ? .listLinked : nil
        default:
            return nil
        }
    }

    /// Adds one element to the key begun by ``beginKey(_:)``.
    ///
    /// - Throws: `.io` from the sink or the spool file; for a key written straight through, `.corrupt` for a NaN
    ///   score, a field expiry, or more elements than declared.
    public mutating func writeElement(_ element: consuming RDBElement) throws(FormatError) {
        guard let assembly else { preconditionFailure("writeElement() outside a key") }
        if let direct = assembly.direct {
            try writeDirect(element, of: assembly, type: direct.type, remaining: direct.remaining)
            return
        }
        switch element {
        case .hashField(_, _, let expire?):
            assembly.minimumFieldExpire = min(assembly.minimumFieldExpire ?? expire, expire)
        case .streamMetadata, .streamGroup, .string, .module:
            assembly.builder.add(element)
            return
        default:
            break
        }
        assembly.elements += 1
        assembly.bytes += RDBWriter.approximateSize(element)
        if let spool = assembly.spool {
            try spool.append(element)
            return
        }
        assembly.builder.add(element)
        if assembly.elements > options.spoolElements || assembly.bytes > options.spoolBytes {
            // Too big for memory: move what we have to a spool file; the rest goes there directly.
            let spool = try ElementSpool()
            try assembly.builder.moveElements(as: assembly.header.type.kind) { element throws(FormatError) in
                try spool.append(element)
            }
            assembly.spool = spool
            assembly.compressedStrings = []
        }
    }

    /// One element of a key written straight through, in the plain encoding `type`.
    private mutating func writeDirect(
        _ element: consuming RDBElement, of assembly: KeyAssembly, type: RDBType, remaining: UInt64
    ) throws(FormatError) {
        do throws(FormatError) {
            guard remaining > 0 else {
                throw FormatError(
                    .corrupt, offset: offset, "more elements than the \(assembly.header.declaredCount ?? 0) declared")
            }
            assembly.direct = (type, remaining - 1)
            switch consume element {
            case .listItem(let item), .setMember(let item):
                try writeString(item)
            case .zsetMember(let member, let score):
                guard !score.isNaN else {
                    throw FormatError(.corrupt, offset: offset, "sorted set member \"\(member)\" has a NaN score")
                }
                try writeString(member)
                if type == .zsetV2 { writeBinaryDouble(score) } else { writeStringDouble(score) }
            case .hashField(let field, let value, nil):
                try writeString(field)
                try writeString(value)
            case .hashField(let field, _, .some):
                throw FormatError(.corrupt, offset: offset, "field \"\(field)\" has an expiry in a hash of type \(type)")
            case let other:
                preconditionFailure("\(other) does not belong to a \(type) value")
            }
        } catch {
            var error = error
            if error.key == nil { error.key = assembly.header.key }
            throw error
        }
    }

    /// Writes the key begun by ``beginKey(_:)``.
    ///
    /// - Returns: false when the key was skipped (see ``writeEntry(_:)``).
    /// - Throws: what ``writeEntry(_:)`` throws; `.corrupt` when a key written straight through got fewer
    ///   elements than it declared.
    @discardableResult
    public mutating func endKey() throws(FormatError) -> Bool {
        guard let assembly else { preconditionFailure("endKey() outside a key") }
        self.assembly = nil
        defer { forgetCompressedStrings() }
        if let direct = assembly.direct {
            guard direct.remaining == 0 else {
                throw FormatError(
                    .corrupt, offset: offset, key: assembly.header.key,
                    "\(direct.remaining) of the \(assembly.header.declaredCount ?? 0) declared elements are missing")
            }
            keysWritten += 1
            try flushIfFull()
            return true
        }
        guard let spool = assembly.spool else {
            knownCompressed = assembly.compressedStrings
            knownCompressedNext = 0
            return try writeEntry(RDBEntry(header: assembly.header, value: assembly.builder.value(of: assembly.header.type.kind)))
        }
        return try writeSpooled(assembly, spool)
    }

    /// Offers strings that the input stored LZF-compressed (each decompressed successfully), in file order, for
    /// what comes next: the key ``beginKey(_:)`` starts, or the current key's next elements and its end. Where
    /// the output holds one of those strings again, with compression on and where Redis would store it
    /// compressed (over 20 bytes, at least 4 bytes saved), its compressed bytes are written as they are instead
    /// of compressing it anew. The data is the same either way (LZF leaves room for other compressed forms, so
    /// the bytes may differ from a fresh compression).
    ///
    /// An offer holds at most the current key's strings: a key written straight through keeps only the latest
    /// offer, an assembled value at most `spoolBytes` of them and none once it spools.
    public mutating func offerCompressedStrings(_ strings: [RDBCompressedString]) {
        guard options.compression, !strings.isEmpty else { return }
        guard let assembly, assembly.direct == nil else {
            knownCompressed = strings
            knownCompressedNext = 0
            return
        }
        guard assembly.spool == nil else { return }
        for string in strings {
            let size = string.bytes.readableBytes + string.compressed.readableBytes
            guard assembly.compressedStringBytes + size <= options.spoolBytes else { break }
            assembly.compressedStringBytes += size
            assembly.compressedStrings.append(string)
        }
    }

    private mutating func forgetCompressedStrings() {
        if !knownCompressed.isEmpty {
            knownCompressed = []
        }
        knownCompressedNext = 0
    }

    /// What an element costs while assembled: its bytes and the size of its entry in the arrays.
    static func approximateSize(_ element: RDBElement) -> Int {
        switch element {
        case .listItem(let item), .setMember(let item): item.byteCount + MemoryLayout<RDBString>.stride
        case .zsetMember(let member, _): member.byteCount + MemoryLayout<RDBScoredMember>.stride
        case .hashField(let field, let value, _): field.byteCount + value.byteCount + MemoryLayout<RDBHashField>.stride
        case .streamEntry(let entry):
            entry.fields.reduce(MemoryLayout<RDBStreamEntry>.stride) { $0 + $1.field.byteCount + $1.value.byteCount + 2 * MemoryLayout<RDBString>.stride }
        default: 16
        }
    }

    /// Writes a spooled (large) value in its plain encoding, reading the elements back from the spool.
    private mutating func writeSpooled(_ assembly: KeyAssembly, _ spool: ElementSpool) throws(FormatError) -> Bool {
        let header = assembly.header
        let kind = header.type.kind
        // The same rules as writeEntry: what the version cannot hold is reported, not written.
        var reason: String? = nil
        if kind == .stream && version < 9 { reason = "streams need RDB 9 or later" }
        if kind == .hash && assembly.minimumFieldExpire != nil && version < 12 { reason = "hash field expiries need RDB 12 or later" }
        guard try admit(header, unsupportedReason: reason) else { return false }
        if !databaseSelected || header.database != database {
            try selectDB(header.database)
        }
        try writeKeyPrefix(header)
        let count = UInt64(spool.count)
        do throws(FormatError) {
            switch kind {
            case .list:
                if version < 7 {
                    staging.appendInteger(RDBType.listLinked.rawValue)
                    try writeString(.bytes(header.key))
                    try writeLength(count)
                    try spool.forEach(.list) { element throws(FormatError) in
                        if case .listItem(let item) = element { try writeString(item) }
                    }
                } else {
                    try writeSpooledQuicklist(header.key, spool)
                }
            case .set:
                staging.appendInteger(RDBType.setHashtable.rawValue)
                try writeString(.bytes(header.key))
                try writeLength(count)
                try spool.forEach(.set) { element throws(FormatError) in
                    if case .setMember(let member) = element { try writeString(member) }
                }
            case .zset:
                let type: RDBType = version >= 8 ? .zsetV2 : .zsetV1
                staging.appendInteger(type.rawValue)
                try writeString(.bytes(header.key))
                try writeLength(count)
                try spool.forEach(.zset) { element throws(FormatError) in
                    guard case .zsetMember(let member, let score) = element else { return }
                    guard !score.isNaN else {
                        throw FormatError(.corrupt, offset: offset, "sorted set member \"\(member)\" has a NaN score")
                    }
                    try writeString(member)
                    if type == .zsetV2 { writeBinaryDouble(score) } else { writeStringDouble(score) }
                }
            case .hash:
                let minimum = assembly.minimumFieldExpire
                staging.appendInteger((minimum == nil ? RDBType.hashHashtable : RDBType.hashMetadata).rawValue)
                try writeString(.bytes(header.key))
                if let minimum { writeMilliseconds(minimum) }
                try writeLength(count)
                try spool.forEach(.hash) { element throws(FormatError) in
                    guard case .hashField(let field, let value, let expire) = element else { return }
                    if let minimum {
                        try writeLength(expire.map { UInt64($0 - minimum + 1) } ?? 0)
                    }
                    try writeString(field)
                    try writeString(value)
                }
            case .stream:
                try writeSpooledStream(assembly, spool)
            case .string, .module:
                preconditionFailure("\(kind) values are never spooled")
            }
        } catch {
            var error = error
            if error.key == nil { error.key = header.key }
            throw error
        }
        keysWritten += 1
        try flushIfFull()
        return true
    }

    /// Two passes over the spool: the first counts the nodes (the count comes first in the file), the second
    /// writes them; node boundaries come from the same builder both times.
    private mutating func writeSpooledQuicklist(_ key: ByteBuffer, _ spool: ElementSpool) throws(FormatError) {
        let version2 = version >= 10
        staging.appendInteger((version2 ? RDBType.listQuicklist2 : RDBType.listQuicklist).rawValue)
        try writeString(.bytes(key))
        var nodes: UInt64 = 0
        var sizer = QuicklistNodeSizer(version2: version2, limit: options.listNodeBytes)
        try spool.forEach(.list) { element throws(FormatError) in
            if case .listItem(let item) = element, sizer.add(item) { nodes += 1 }
        }
        if sizer.pending { nodes += 1 }
        try writeLength(nodes)
        var builderV2 = ListpackBuilder()
        var builderV1 = ZiplistBuilder()
        var splitter = QuicklistNodeSizer(version2: version2, limit: options.listNodeBytes)
        try spool.forEach(.list) { element throws(FormatError) in
            guard case .listItem(let item) = element else { return }
            if splitter.add(item) {
                // The item starts a new node: write the full one first.
                if version2 {
                    try writeLength(2)
                    try writeBlob(builderV2.finish())
                    builderV2 = ListpackBuilder()
                } else {
                    try writeBlob(builderV1.finish())
                    builderV1 = ZiplistBuilder()
                }
            }
            if version2 { builderV2.append(item) } else { builderV1.append(item) }
        }
        if splitter.pending {
            if version2 {
                try writeLength(2)
                try writeBlob(builderV2.finish())
            } else {
                try writeBlob(builderV1.finish())
            }
        }
    }

    private mutating func writeSpooledStream(_ assembly: KeyAssembly, _ spool: ElementSpool) throws(FormatError) {
        // The nodes the in-memory path would write: counted in a first pass over the spool, then written a node
        // at a time.
        var sizer = StreamNodeSizer(options)
        var nodeCount = 0
        try spool.forEach(.stream) { element throws(FormatError) in
            guard case .streamEntry(let entry) = element else { return }
            if sizer.add(entry) { nodeCount += 1 }
        }
        var node: [RDBStreamEntry] = []
        var first: RDBStreamID?
        var last = RDBStreamID(milliseconds: 0, sequence: 0)
        let type: RDBType = version >= 11 ? .stream3 : version == 10 ? .stream2 : .stream
        staging.appendInteger(type.rawValue)
        try writeString(.bytes(assembly.header.key))
        try writeLength(UInt64(nodeCount))
        sizer = StreamNodeSizer(options)
        try spool.forEach(.stream) { element throws(FormatError) in
            guard case .streamEntry(let entry) = element else { return }
            if first == nil { first = entry.id }
            last = entry.id
            if sizer.add(entry) && !node.isEmpty {
                try writeStreamNode(node)
                node.removeAll(keepingCapacity: true)
            }
            node.append(entry)
        }
        if !node.isEmpty { try writeStreamNode(node) }
        var stream = RDBStream()
        stream.metadata = assembly.builder.metadata
        stream.groups = assembly.builder.groups
        try writeStreamTail(stream, type: type, entryCount: spool.count, firstEntryID: first, lastEntryID: last)
    }
}

/// Decides stream node boundaries as XADD does (t_stream.c, streamAppendItem): an entry starts a new node when
/// the current one holds `stream-node-max-entries` entries, or when the node's listpack bytes plus the entry's
/// field and value bytes reach `stream-node-max-bytes`. `add` returns true when the entry starts a node (the
/// first one does). Both the in-memory and the spooled paths use it, so they split streams identically.
struct StreamNodeSizer {
    let maxEntries: Int
    let maxBytes: Int
    /// The node's listpack bytes without its entry count (which grows as entries are added).
    private var nodeBytes = 0
    private var nodeEntries = 0
    private var masterFields: [RDBString] = []
    private var masterID = RDBStreamID(milliseconds: 0, sequence: 0)

    init(_ options: RDBWriteOptions) {
        maxEntries = options.streamNodeMaxEntries
        maxBytes = options.streamNodeMaxBytes <= 0 || options.streamNodeMaxBytes > 1 << 30 ? 1 << 30 : options.streamNodeMaxBytes
    }

    mutating func add(_ entry: RDBStreamEntry) -> Bool {
        var startsNode = nodeEntries == 0
        if !startsNode {
            let listpackBytes = nodeBytes + ListpackBuilder.entrySize(integer: Int64(nodeEntries))
            let entryBytes = entry.fields.reduce(0) { $0 + $1.field.byteCount + $1.value.byteCount }
            startsNode = listpackBytes + entryBytes >= maxBytes || (maxEntries > 0 && nodeEntries >= maxEntries)
        }
        if startsNode {
            // Header and end byte, deleted count, field count, the master fields, the master terminator.
            masterFields = entry.fields.map(\.field)
            nodeBytes = Listpack.headerSize + 1 + ListpackBuilder.entrySize(integer: 0)
                + ListpackBuilder.entrySize(integer: Int64(entry.fields.count))
                + masterFields.reduce(0) { $0 + ListpackBuilder.entrySize($1) } + ListpackBuilder.entrySize(integer: 0)
            nodeEntries = 0
            masterID = entry.id
        }
        let sameFields = entry.fields.count == masterFields.count
            && zip(entry.fields, masterFields).allSatisfy { $0.field == $1 }
        nodeBytes += ListpackBuilder.entrySize(integer: sameFields ? 2 : 0)
            + ListpackBuilder.entrySize(integer: Int64(bitPattern: entry.id.milliseconds &- masterID.milliseconds))
            + ListpackBuilder.entrySize(integer: Int64(bitPattern: entry.id.sequence &- masterID.sequence))
        if sameFields {
            nodeBytes += entry.fields.reduce(0) { $0 + ListpackBuilder.entrySize($1.value) }
            nodeBytes += ListpackBuilder.entrySize(integer: Int64(3 + entry.fields.count))
        } else {
            nodeBytes += ListpackBuilder.entrySize(integer: Int64(entry.fields.count))
            nodeBytes += entry.fields.reduce(0) { $0 + ListpackBuilder.entrySize($1.field) + ListpackBuilder.entrySize($1.value) }
            nodeBytes += ListpackBuilder.entrySize(integer: Int64(4 + 2 * entry.fields.count))
        }
        nodeEntries += 1
        return startsNode
    }
}

/// Decides quicklist node boundaries from element sizes alone, as Redis's push fills nodes of at most `limit`
/// bytes (quicklist.c, _quicklistNodeAllowInsert): the element starts a new node when the node's bytes plus an
/// estimate of the entry (its string length plus 8 for a listpack, Redis 7; plus the ziplist header sizes its
/// length implies, Redis 3.2 to 6.2) exceed the limit. `add` returns true when the element starts a new node
/// after a full one. Both the in-memory and the spooled paths use it, so they split lists identically.
struct QuicklistNodeSizer {
    let version2: Bool
    let limit: Int
    private var nodeBytes = 0
    private var nodeCount = 0
    private var previousEntryBytes = 0
    private(set) var pending = false

    init(version2: Bool, limit: Int) {
        self.version2 = version2
        self.limit = limit
        self.nodeBytes = version2 ? Listpack.headerSize + 1 : Ziplist.headerSize + 1
    }

    mutating func add<S: RDBWritableString>(_ item: S) -> Bool {
        let header = version2 ? Listpack.headerSize + 1 : Ziplist.headerSize + 1
        var size = version2 ? ListpackBuilder.entrySize(item) : ZiplistBuilder.entrySize(item, previousEntryBytes: previousEntryBytes)
        let length = item.byteCount
        let estimate = version2
            ? length + 8  // SIZE_ESTIMATE_OVERHEAD
            : length + (length < 254 ? 1 : 5) + (length < 64 ? 1 : length < 16384 ? 2 : 5)
        var startsNode = false
        if nodeCount > 0 && nodeBytes + estimate > limit {
            startsNode = true
            nodeBytes = header
            nodeCount = 0
            if !version2 { size = ZiplistBuilder.entrySize(item, previousEntryBytes: 0) }
        }
        nodeBytes += size
        nodeCount += 1
        previousEntryBytes = size
        pending = true
        return startsNode
    }
}
