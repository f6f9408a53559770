// Writing a key element by element, in bounded memory (the writer's side of the reader's element events).
//
//   beginKey(header) → writeElement(…)… → endKey()
//
// Small values are assembled in memory and get the compact encoding of the target version. A value that
// outgrows `spoolElements` elements or `spoolBytes` bytes is spooled to an unlinked temporary file, then
// written from there in its plain encoding (which is the only one Redis uses at that size): memory stays
// bounded by one element, whatever the key's size.

import NIOCore
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A key being assembled by ``RDBWriter/beginKey(_:)``.
final class KeyAssembly {
    let header: RDBKeyHeader
    var value: RDBValue?
    var elements = 0
    var bytes = 0
    var spool: ElementSpool?
    var minimumFieldExpire: Int64?
    var metadata: RDBStreamMetadata?
    var groups: [RDBStreamGroup] = []

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
            staging.writeInteger(score.bitPattern, endianness: .little)
        case .hashField(let field, let value, let expire):
            write(field)
            write(value)
            staging.writeInteger(expire ?? Int64.min, endianness: .little)
        case .streamEntry(let entry):
            staging.writeInteger(entry.id.milliseconds, endianness: .little)
            staging.writeInteger(entry.id.sequence, endianness: .little)
            staging.writeInteger(UInt32(entry.fields.count), endianness: .little)
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
            staging.writeInteger(UInt8(1))
            staging.writeInteger(value, endianness: .little)
        case .bytes(var bytes):
            staging.writeInteger(UInt8(0))
            staging.writeInteger(UInt32(bytes.readableBytes), endianness: .little)
            staging.writeBuffer(&bytes)
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
    public mutating func beginKey(_ header: RDBKeyHeader) throws(FormatError) {
        precondition(assembly == nil, "beginKey() inside a key")
        let assembly = KeyAssembly(header: header)
        switch header.type.kind {
        case .string: assembly.value = .string(.bytes(ByteBuffer()))
        case .list: assembly.value = .list([])
        case .set: assembly.value = .set([])
        case .zset: assembly.value = .zset([])
        case .hash: assembly.value = .hash([])
        case .stream: assembly.value = .stream(RDBStream())
        case .module: assembly.value = .module(RDBModuleValue(moduleID: 0, data: []))
        }
        self.assembly = assembly
    }

    /// Adds one element to the key begun by ``beginKey(_:)``.
    public mutating func writeElement(_ element: RDBElement) throws(FormatError) {
        guard let assembly else { preconditionFailure("writeElement() outside a key") }
        if case .hashField(_, _, let expire?) = element {
            assembly.minimumFieldExpire = min(assembly.minimumFieldExpire ?? expire, expire)
        }
        switch element {
        case .streamMetadata(let metadata):
            assembly.metadata = metadata
            return
        case .streamGroup(let group):
            assembly.groups.append(group)
            return
        case .string, .module:
            RDBEntry.append(element, to: &assembly.value)
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
        RDBEntry.append(element, to: &assembly.value)
        if assembly.elements > options.spoolElements || assembly.bytes > options.spoolBytes {
            // Too big for memory: move what we have to a spool file; the rest goes there directly.
            let spool = try ElementSpool()
            var failure: FormatError?
            RDBWriter.forEachElement(of: assembly.value!) { element in
                if failure == nil {
                    do throws(FormatError) { try spool.append(element) } catch { failure = error }
                }
            }
            if let failure { throw failure }
            assembly.spool = spool
            assembly.value = nil
        }
    }

    /// Writes the key begun by ``beginKey(_:)``.
    ///
    /// - Returns: false when the key was skipped (see ``writeEntry(_:)``).
    @discardableResult
    public mutating func endKey() throws(FormatError) -> Bool {
        guard let assembly else { preconditionFailure("endKey() outside a key") }
        self.assembly = nil
        guard let spool = assembly.spool else {
            var value = assembly.value!
            if case .stream(var stream) = value {
                stream.metadata = assembly.metadata
                stream.groups = assembly.groups
                value = .stream(stream)
            }
            return try writeEntry(RDBEntry(header: assembly.header, value: value))
        }
        return try writeSpooled(assembly, spool)
    }

    static func approximateSize(_ element: RDBElement) -> Int {
        switch element {
        case .listItem(let item), .setMember(let item): item.byteCount + 8
        case .zsetMember(let member, _): member.byteCount + 16
        case .hashField(let field, let value, _): field.byteCount + value.byteCount + 16
        case .streamEntry(let entry): entry.fields.reduce(24) { $0 + $1.field.byteCount + $1.value.byteCount + 8 }
        default: 16
        }
    }

    static func forEachElement(of value: RDBValue, _ body: (RDBElement) -> Void) {
        switch value {
        case .list(let items): items.forEach { body(.listItem($0)) }
        case .set(let members): members.forEach { body(.setMember($0)) }
        case .zset(let members): members.forEach { body(.zsetMember($0.member, score: $0.score)) }
        case .hash(let fields): fields.forEach { body(.hashField($0.field, value: $0.value, expireAtMilliseconds: $0.expireAtMilliseconds)) }
        case .stream(let stream): stream.entries.forEach { body(.streamEntry($0)) }
        case .string, .module: break
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
                    staging.writeInteger(RDBType.listLinked.rawValue)
                    try writeString(.bytes(header.key))
                    try writeLength(count)
                    try spool.forEach(.list) { element throws(FormatError) in
                        if case .listItem(let item) = element { try writeString(item) }
                    }
                } else {
                    try writeSpooledQuicklist(header.key, spool)
                }
            case .set:
                staging.writeInteger(RDBType.setHashtable.rawValue)
                try writeString(.bytes(header.key))
                try writeLength(count)
                try spool.forEach(.set) { element throws(FormatError) in
                    if case .setMember(let member) = element { try writeString(member) }
                }
            case .zset:
                let type: RDBType = version >= 8 ? .zsetV2 : .zsetV1
                staging.writeInteger(type.rawValue)
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
                staging.writeInteger((minimum == nil ? RDBType.hashHashtable : RDBType.hashMetadata).rawValue)
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
        staging.writeInteger((version2 ? RDBType.listQuicklist2 : RDBType.listQuicklist).rawValue)
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
        // Nodes of streamNodeMaxEntries entries, written as the in-memory path writes them, a node at a time.
        var node: [RDBStreamEntry] = []
        var first: RDBStreamID?
        var last = RDBStreamID(milliseconds: 0, sequence: 0)
        let nodeSize = max(1, options.streamNodeMaxEntries)
        let type: RDBType = version >= 11 ? .stream3 : version == 10 ? .stream2 : .stream
        staging.writeInteger(type.rawValue)
        try writeString(.bytes(assembly.header.key))
        try writeLength(UInt64((spool.count + nodeSize - 1) / nodeSize))
        try spool.forEach(.stream) { element throws(FormatError) in
            guard case .streamEntry(let entry) = element else { return }
            if first == nil { first = entry.id }
            last = entry.id
            node.append(entry)
            if node.count == nodeSize {
                try writeStreamNode(node)
                node.removeAll(keepingCapacity: true)
            }
        }
        if !node.isEmpty { try writeStreamNode(node) }
        var stream = RDBStream()
        stream.metadata = assembly.metadata
        stream.groups = assembly.groups
        try writeStreamTail(stream, type: type, entryCount: spool.count, firstEntryID: first, lastEntryID: last)
    }
}

/// Decides quicklist node boundaries from element sizes alone, as Redis fills nodes of at most `limit` bytes:
/// `add` returns true when the element starts a new node after a full one. Both the in-memory and the spooled
/// paths use it, so they split lists identically.
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

    mutating func add(_ item: RDBString) -> Bool {
        let header = version2 ? Listpack.headerSize + 1 : Ziplist.headerSize + 1
        var size = version2 ? ListpackBuilder.entrySize(item) : ZiplistBuilder.entrySize(item, previousEntryBytes: previousEntryBytes)
        var startsNode = false
        if nodeCount > 0 && nodeBytes + size > limit {
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
