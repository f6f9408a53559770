// Value encodings of the RDB writer (FORMAT-SPEC §1.10): the mirror of RDBReader.beginValue and decodeBlob.

import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension RDBWriter {
    /// The type byte a value gets at the target version, with the encoding decision behind it.
    func typeFor(_ value: RDBValue) -> RDBType {
        switch value {
        case .string: return .string
        case .module: return .module
        case .stream: return version >= 11 ? .stream3 : version == 10 ? .stream2 : .stream
        case .list(let items): return listType(items)
        case .set(let members): return setType(members, count: members.count)
        case .zset(let members): return zsetType(members.lazy.map { $0.member }, count: members.count)
        case .hash(let fields):
            if fields.contains(where: { $0.expireAtMilliseconds != nil }) {
                let compact = hashType(fields.lazy.map { (field: $0.field, value: $0.value) }, count: fields.count) != .hashHashtable
                return compact ? .hashListpackEx : .hashMetadata
            }
            return hashType(fields.lazy.map { (field: $0.field, value: $0.value) }, count: fields.count)
        }
    }

    // The encoding decisions, for any strings: the same for a file's values and the keyspace's.

    func listType<C: Sequence>(_ items: C) -> RDBType where C.Element: RDBWritableString {
        if version >= 10 { return .listQuicklist2 }
        if version >= 7 { return .listQuicklist }
        var count = 0
        for item in items {
            count += 1
            if count > options.listMaxZiplistEntries || item.byteCount > options.listMaxZiplistValue { return .listLinked }
        }
        return .listZiplist
    }

    func setType<C: Sequence>(_ members: C, count: Int) -> RDBType where C.Element: RDBWritableString {
        if count <= options.setMaxIntsetEntries, members.allSatisfy({ $0.canonicalInteger(maxLength: 20) != nil }) {
            return .setIntset
        }
        if version >= 11, count <= options.setMaxListpackEntries,
            members.allSatisfy({ $0.byteCount <= options.setMaxListpackValue })
        {
            return .setListpack
        }
        return .setHashtable
    }

    func zsetType<C: Sequence>(_ members: C, count: Int) -> RDBType where C.Element: RDBWritableString {
        let compact = count <= options.zsetMaxListpackEntries && members.allSatisfy { $0.byteCount <= options.zsetMaxListpackValue }
        if compact { return version >= 10 ? .zsetListpack : .zsetZiplist }
        return version >= 8 ? .zsetV2 : .zsetV1
    }

    /// For fields without expiries (the caller decides between the expiry encodings).
    func hashType<C: Sequence, S: RDBWritableString>(_ fields: C, count: Int) -> RDBType where C.Element == (field: S, value: S) {
        let limit = options.hashMaxListpackValue
        let compact = count <= options.hashMaxListpackEntries && fields.allSatisfy { $0.field.byteCount <= limit && $0.value.byteCount <= limit }
        if compact { return version >= 10 ? .hashListpack : .hashZiplist }
        return .hashHashtable
    }

    mutating func writeValue(_ value: RDBValue, key: ByteBuffer) throws(FormatError) {
        let type = typeFor(value)
        staging.appendInteger(type.rawValue)
        try writeString(.bytes(key))
        switch (value, type) {
        case (.string(let string), _):
            try writeString(string)
        case (.module(let module), _):
            try writeLength(module.moduleID)
            try writeModuleData(module)
        case (.list(let items), _):
            try writeList(items, count: items.count, type: type)
        case (.set(let members), _):
            try writeSet(members, count: members.count, type: type)
        case (.zset(let members), _):
            try writeZset(members, type: type)
        case (.hash(let fields), _):
            try writeHash(fields, type: type)
        case (.stream(let stream), _):
            try writeStream(stream, type: type)
        }
    }

    /// A list's body in `type` (from ``listType(_:)``).
    mutating func writeList<C: Sequence>(_ items: C, count: Int, type: RDBType) throws(FormatError) where C.Element: RDBWritableString {
        switch type {
        case .listLinked:
            try writeCountedStrings(items, count: count)
        case .listZiplist:
            var builder = ZiplistBuilder()
            for item in items { builder.append(item) }
            try writeBlob(builder.finish())
        default:
            try writeQuicklist(items, version2: type == .listQuicklist2)
        }
    }

    /// A set's body in `type` (from ``setType(_:count:)``).
    mutating func writeSet<C: Sequence>(_ members: C, count: Int, type: RDBType) throws(FormatError) where C.Element: RDBWritableString {
        switch type {
        case .setIntset:
            try writeBlob(Intset.build(members.map { $0.canonicalInteger(maxLength: 20)! }))
        case .setListpack:
            var builder = ListpackBuilder(capacityBytes: members.reduce(0) { $0 &+ $1.byteCount &+ 2 })
            for member in members { builder.append(member) }
            try writeBlob(builder.finish())
        default:
            try writeCountedStrings(members, count: count)
        }
    }

    /// `count`, then the strings (a linked list, a hashtable set): the sequence must yield `count` of them, or
    /// the file would be corrupt.
    private mutating func writeCountedStrings<C: Sequence>(_ strings: C, count: Int) throws(FormatError) where C.Element: RDBWritableString {
        try writeLength(UInt64(count))
        var written = 0
        for string in strings {
            try writeString(string)
            written += 1
        }
        precondition(written == count, "\(written) elements for a count of \(count)")
    }

    /// Quicklist nodes of at most `listNodeBytes` bytes each (list-max-listpack-size -2), as Redis fills them.
    private mutating func writeQuicklist<C: Sequence>(_ items: C, version2: Bool) throws(FormatError) where C.Element: RDBWritableString {
        // The node count comes first in the file: the nodes are sized once to count them, then built.
        var sizer = QuicklistNodeSizer(version2: version2, limit: options.listNodeBytes)
        var nodes = 0
        var nodeStartBytes = 0
        var largestNodeBytes = 0
        var bytes = 0
        for item in items {
            if sizer.add(item) || nodes == 0 {
                nodes += 1
                largestNodeBytes = max(largestNodeBytes, bytes - nodeStartBytes)
                nodeStartBytes = bytes
            }
            // Entries take about their bytes plus 2 (encoding and backlen).
            bytes &+= item.byteCount &+ 2
        }
        largestNodeBytes = max(largestNodeBytes, bytes - nodeStartBytes)
        try writeLength(UInt64(nodes))
        guard nodes > 0 else { return }
        let capacity = min(largestNodeBytes, options.listNodeBytes &+ 64)
        if version2 {
            try writeQuicklistNodes(items, as: ListpackBuilder.self, capacity: capacity)
        } else {
            try writeQuicklistNodes(items, as: ZiplistBuilder.self, capacity: capacity)
        }
    }

    /// The nodes ``writeQuicklist(_:version2:)`` counted, built as `Builder`s (split by the same sizer).
    private mutating func writeQuicklistNodes<C: Sequence, Builder: QuicklistNodeBuilder>(
        _ items: C, as: Builder.Type, capacity: Int
    ) throws(FormatError) where C.Element: RDBWritableString {
        var splitter = QuicklistNodeSizer(version2: Builder.self == ListpackBuilder.self, limit: options.listNodeBytes)
        var builder = Builder(capacityBytes: capacity)
        var started = false
        for item in items {
            if splitter.add(item) && started {
                try writeQuicklistNode(builder.finish(), packed: Builder.self == ListpackBuilder.self)
                builder = Builder(capacityBytes: capacity)
            }
            started = true
            builder.append(item)
        }
        try writeQuicklistNode(builder.finish(), packed: Builder.self == ListpackBuilder.self)
    }

    /// One node: a listpack (QUICKLIST_NODE_CONTAINER_PACKED first) or a ziplist.
    private mutating func writeQuicklistNode(_ blob: ByteBuffer, packed: Bool) throws(FormatError) {
        if packed { try writeLength(2) }
        try writeBlob(blob)
    }

    private mutating func writeZset(_ members: [RDBScoredMember], type: RDBType) throws(FormatError) {
        if let bad = members.first(where: { $0.score.isNaN }) { throw nanScore(bad.member) }
        // Sorted-set order: by score, then member bytes.
        func ordered(_ a: RDBScoredMember, _ b: RDBScoredMember) -> Bool {
            a.score != b.score ? a.score < b.score : RDBWriter.lessBytes(a.member, b.member)
        }
        switch type {
        case .zsetZiplist, .zsetListpack:
            // In order (zzlInsert order); what Redis wrote usually is already.
            let inOrder = zip(members, members.dropFirst()).allSatisfy { !ordered($1, $0) }
            try writeCompactZset(inOrder ? members : members.sorted(by: ordered), type: type)
        default:
            // Redis writes skiplists from the highest score down, so that loading appends at the head: members in
            // order (a sorted set in memory) are written reversed, members in reverse order (as a file holds them)
            // as they are, others sorted first.
            let descending = zip(members, members.dropFirst()).allSatisfy { !ordered($0, $1) }
            if descending {
                try writeSkiplistZset(members, count: members.count, type: type)
            } else {
                try writeSkiplistZset(members.sorted(by: ordered).reversed(), count: members.count, type: type)
            }
        }
    }

    /// A listpack or ziplist sorted set from members in (score, member) order.
    mutating func writeCompactZset<C: Sequence>(_ ascending: C, type: RDBType) throws(FormatError) where C.Element: RDBScoredElement {
        if type == .zsetZiplist {
            var builder = ZiplistBuilder()
            for element in ascending {
                if element.score.isNaN { throw nanScore(element.member) }
                builder.append(element.member)
                builder.append(RDBWriter.scoreString(element.score, version: version))
            }
            try writeBlob(builder.finish())
        } else {
            var builder = ListpackBuilder(capacityBytes: ascending.reduce(0) { $0 &+ $1.member.byteCount &+ 12 })
            for element in ascending {
                if element.score.isNaN { throw nanScore(element.member) }
                builder.append(element.member)
                RDBWriter.appendScore(element.score, to: &builder, version: version)
            }
            try writeBlob(builder.finish())
        }
    }

    /// A skiplist sorted set (`zsetV1` text scores, `zsetV2` binary) from members highest first.
    mutating func writeSkiplistZset<C: Sequence>(_ highestFirst: C, count: Int, type: RDBType) throws(FormatError) where C.Element: RDBScoredElement {
        try writeLength(UInt64(count))
        var written = 0
        for element in highestFirst {
            if element.score.isNaN { throw nanScore(element.member) }
            try writeString(element.member)
            if type == .zsetV2 {
                writeBinaryDouble(element.score)
            } else {
                writeStringDouble(element.score)
            }
            try flushIfFull()
            written += 1
        }
        precondition(written == count, "\(written) sorted set members for a count of \(count)")
    }

    /// The error for a sorted-set member whose score is NaN (no Redis can hold it; its file would not load).
    private func nanScore<S: RDBWritableString>(_ member: S) -> FormatError {
        let text = FormatError.escape(member.withRawBytes { ByteBuffer(bytes: $0) })
        return FormatError(.corrupt, offset: offset, "sorted set member \"\(text)\" has a NaN score, which Redis cannot hold")
    }

    /// A score as a compact-encoding entry, as that release's zset code stores it (d2string): an integer when
    /// integral (and exact), else text: "%.17g" up to Redis 7.0 (RDB 10), the shortest round-trip text from
    /// Redis 7.2 (RDB 11); "-0", "inf", "-inf".
    static func scoreString(_ score: Double, version: Int) -> RDBString {
        if let value = integralScore(score) { return .integer(value) }
        return withScoreText(score, version: version) { .bytes(ByteBuffer(bytes: $0)) }
    }

    /// ``scoreString(_:version:)`` appended to a listpack, without a buffer for the text.
    static func appendScore(_ score: Double, to builder: inout ListpackBuilder, version: Int) {
        if let value = integralScore(score) {
            builder.append(integer: value)
        } else {
            withScoreText(score, version: version) { builder.append(raw: $0) }
        }
    }

    /// The integer an integral score is stored as (not -0: its sign would be lost).
    private static func integralScore(_ score: Double) -> Int64? {
        score == score.rounded() && abs(score) < 1e17 && !(score == 0 && score.sign == .minus) ? Int64(score) : nil
    }

    private static func withScoreText<R>(_ score: Double, version: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        if score.isInfinite { return (score > 0 ? ScoreText.infinity : ScoreText.minusInfinity).withUnsafeBytes(body) }
        if score == 0 { return (score.sign == .minus ? ScoreText.minusZero : ScoreText.zero).withUnsafeBytes(body) }
        guard version <= 10 else {
            var text = score.description
            return text.withUTF8 { body(UnsafeRawBufferPointer($0)) }
        }
        return ScoreText.withPrintfG17(score, body)  // Redis before 7.2
    }

    /// Byte order of two strings (integers as their decimal text).
    static func lessBytes(_ a: RDBString, _ b: RDBString) -> Bool {
        if case .bytes(let x) = a, case .bytes(let y) = b {
            return x.withUnsafeReadableBytes { x in
                y.withUnsafeReadableBytes { y in
                    let common = min(x.count, y.count)
                    if common > 0, let xBase = x.baseAddress, let yBase = y.baseAddress {
                        let order = memcmp(xBase, yBase, common)
                        if order != 0 { return order < 0 }
                    }
                    return x.count < y.count
                }
            }
        }
        return lessBytes(.bytes(a.bytes), .bytes(b.bytes))
    }

    private mutating func writeHash(_ fields: [RDBHashField], type: RDBType) throws(FormatError) {
        switch type {
        case .hashListpackEx:
            let minimum = fields.compactMap(\.expireAtMilliseconds).min() ?? 0
            writeMilliseconds(minimum)
            // Kept ordered by expiry, fields without one last (as t_hash.c keeps the listpack).
            let ordered = fields.sorted { ($0.expireAtMilliseconds ?? .max) < ($1.expireAtMilliseconds ?? .max) }
            var builder = ListpackBuilder()
            for field in ordered {
                builder.append(field.field)
                builder.append(field.value)
                builder.append(integer: field.expireAtMilliseconds ?? 0)
            }
            try writeBlob(builder.finish())
        case .hashMetadata:
            let minimum = fields.compactMap(\.expireAtMilliseconds).min() ?? 0
            writeMilliseconds(minimum)
            try writeLength(UInt64(fields.count))
            for field in fields {
                // Field expiry = minimum + ttl - 1; 0 means none.
                let ttl = field.expireAtMilliseconds.map { UInt64($0 - minimum + 1) } ?? 0
                try writeLength(ttl)
                try writeString(field.field)
                try writeString(field.value)
            }
        default:
            try writeHash(fields.lazy.map { (field: $0.field, value: $0.value) }, count: fields.count, type: type)
        }
    }

    /// A hash without field expiries in `type` (from ``hashType(_:count:)``).
    mutating func writeHash<C: Sequence, S: RDBWritableString>(
        _ fields: C, count: Int, type: RDBType
    ) throws(FormatError) where C.Element == (field: S, value: S) {
        switch type {
        case .hashZiplist:
            var builder = ZiplistBuilder()
            for (field, value) in fields {
                builder.append(field)
                builder.append(value)
            }
            try writeBlob(builder.finish())
        case .hashListpack:
            var builder = ListpackBuilder(capacityBytes: fields.reduce(0) { $0 &+ $1.field.byteCount &+ $1.value.byteCount &+ 4 })
            for (field, value) in fields {
                builder.append(field)
                builder.append(value)
            }
            try writeBlob(builder.finish())
        default:
            try writeLength(UInt64(count))
            var written = 0
            for (field, value) in fields {
                try writeString(field)
                try writeString(value)
                written += 1
            }
            precondition(written == count, "\(written) hash fields for a count of \(count)")
        }
    }

    mutating func writeModuleData(_ module: RDBModuleValue) throws(FormatError) {
        for datum in module.data {
            switch datum {
            case .signedInteger(let value):
                try writeLength(1)
                try writeLength(value)
            case .unsignedInteger(let value):
                try writeLength(2)
                try writeLength(value)
            case .float(let bits):
                try writeLength(3)
                staging.appendInteger(bits, endianness: .little)
            case .double(let bits):
                try writeLength(4)
                staging.appendInteger(bits, endianness: .little)
            case .string(let string):
                try writeLength(5)
                try writeString(string)
            }
        }
        try writeLength(0)  // RDB_MODULE_OPCODE_EOF
    }

    // MARK: - Streams

    private mutating func writeRawStreamID(_ id: RDBStreamID) {
        staging.appendInteger(id.milliseconds, endianness: .big)
        staging.appendInteger(id.sequence, endianness: .big)
    }

    private mutating func writeStreamID(_ id: RDBStreamID) throws(FormatError) {
        try writeLength(id.milliseconds)
        try writeLength(id.sequence)
    }

    /// Stream nodes split as XADD splits them (``StreamNodeSizer``); the master fields are the node's first
    /// entry's, and entries with the same field names are written with the SAMEFIELDS flag (t_stream.c).
    private mutating func writeStream(_ stream: RDBStream, type: RDBType) throws(FormatError) {
        let entries = stream.entries
        var sizer = StreamNodeSizer(options)
        var nodeStarts: [Int] = []
        for (index, entry) in entries.enumerated() where sizer.add(entry) {
            nodeStarts.append(index)
        }
        try writeLength(UInt64(nodeStarts.count))
        for (node, start) in nodeStarts.enumerated() {
            let end = node + 1 < nodeStarts.count ? nodeStarts[node + 1] : entries.count
            try writeStreamNode(entries[start..<end])
        }
        try writeStreamTail(stream, type: type, entryCount: entries.count, firstEntryID: entries.first?.id, lastEntryID: entries.last?.id)
    }

    /// One node: its 16-byte key (the master ID) and its listpack.
    mutating func writeStreamNode<Entries: Collection>(_ node: Entries) throws(FormatError) where Entries.Element == RDBStreamEntry {
        let master = node.first!
        var key = ByteBufferAllocator().buffer(capacity: 16)
        key.appendInteger(master.id.milliseconds, endianness: .big)
        key.appendInteger(master.id.sequence, endianness: .big)
        try writeRawString(key)
        var builder = ListpackBuilder()
        builder.append(integer: Int64(node.count))  // live entries
        builder.append(integer: 0)  // deleted entries
        builder.append(integer: Int64(master.fields.count))
        for pair in master.fields { builder.append(pair.field) }
        builder.append(integer: 0)  // master entry terminator
        for entry in node {
            let sameFields = entry.fields.count == master.fields.count
                && zip(entry.fields, master.fields).allSatisfy { $0.field == $1.field }
            builder.append(integer: sameFields ? 2 : 0)  // STREAM_ITEM_FLAG_SAMEFIELDS
            builder.append(integer: Int64(bitPattern: entry.id.milliseconds &- master.id.milliseconds))
            builder.append(integer: Int64(bitPattern: entry.id.sequence &- master.id.sequence))
            if sameFields {
                for pair in entry.fields { builder.append(pair.value) }
                builder.append(integer: Int64(3 + entry.fields.count))
            } else {
                builder.append(integer: Int64(entry.fields.count))
                for pair in entry.fields {
                    builder.append(pair.field)
                    builder.append(pair.value)
                }
                builder.append(integer: Int64(4 + 2 * entry.fields.count))
            }
        }
        try writeBlob(builder.finish())
    }

    /// What follows the nodes: length, IDs, (RDB 10+) first/max-deleted IDs and entries added, then the groups.
    mutating func writeStreamTail(
        _ stream: RDBStream, type: RDBType, entryCount: Int, firstEntryID: RDBStreamID?, lastEntryID: RDBStreamID?
    ) throws(FormatError) {
        let zero = RDBStreamID(milliseconds: 0, sequence: 0)
        let lastEntry = lastEntryID ?? zero
        let metadata = stream.metadata ?? RDBStreamMetadata(length: UInt64(entryCount), lastID: lastEntry)
        try writeLength(UInt64(entryCount))
        try writeStreamID(max(metadata.lastID, lastEntry))
        if type != .stream {
            try writeStreamID(metadata.firstID ?? firstEntryID ?? zero)
            try writeStreamID(metadata.maxDeletedEntryID ?? zero)
            try writeLength(metadata.entriesAdded ?? UInt64(entryCount))
        }
        try writeLength(UInt64(stream.groups.count))
        for group in stream.groups {
            try writeString(.bytes(group.name))
            try writeStreamID(group.lastID)
            if type != .stream {
                try writeLength(group.entriesRead ?? UInt64.max)  // SCG_INVALID_ENTRIES_READ is -1
            }
            try writeLength(UInt64(group.pending.count))
            for pending in group.pending {
                writeRawStreamID(pending.id)
                writeMilliseconds(pending.deliveryTimeMilliseconds)
                try writeLength(pending.deliveryCount)
                try flushIfFull()
            }
            try writeLength(UInt64(group.consumers.count))
            for consumer in group.consumers {
                try writeString(.bytes(consumer.name))
                writeMilliseconds(consumer.seenTimeMilliseconds)
                if type == .stream3 {
                    writeMilliseconds(consumer.activeTimeMilliseconds ?? consumer.seenTimeMilliseconds)
                }
                try writeLength(UInt64(consumer.pending.count))
                for id in consumer.pending {
                    writeRawStreamID(id)
                }
                try flushIfFull()
            }
        }
    }
}
