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
        case .list(let items):
            if version >= 10 { return .listQuicklist2 }
            if version >= 7 { return .listQuicklist }
            return items.count <= options.listMaxZiplistEntries
                && items.allSatisfy { $0.byteCount <= options.listMaxZiplistValue } ? .listZiplist : .listLinked
        case .set(let members):
            if members.count <= options.setMaxIntsetEntries, members.allSatisfy({ CanonicalInteger.of($0) != nil }) {
                return .setIntset
            }
            if version >= 11, members.count <= options.setMaxListpackEntries,
                members.allSatisfy({ $0.byteCount <= options.setMaxListpackValue })
            {
                return .setListpack
            }
            return .setHashtable
        case .zset(let members):
            let compact = members.count <= options.zsetMaxListpackEntries
                && members.allSatisfy { $0.member.byteCount <= options.zsetMaxListpackValue }
            if compact { return version >= 10 ? .zsetListpack : .zsetZiplist }
            return version >= 8 ? .zsetV2 : .zsetV1
        case .hash(let fields):
            let compact = fields.count <= options.hashMaxListpackEntries
                && fields.allSatisfy { $0.field.byteCount <= options.hashMaxListpackValue && $0.value.byteCount <= options.hashMaxListpackValue }
            if fields.contains(where: { $0.expireAtMilliseconds != nil }) {
                return compact ? .hashListpackEx : .hashMetadata
            }
            if compact { return version >= 10 ? .hashListpack : .hashZiplist }
            return .hashHashtable
        }
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
        case (.list(let items), .listLinked):
            try writeLength(UInt64(items.count))
            for item in items { try writeString(item) }
        case (.list(let items), .listZiplist):
            var builder = ZiplistBuilder()
            for item in items { builder.append(item) }
            try writeBlob(builder.finish())
        case (.list(let items), .listQuicklist):
            try writeQuicklist(items, version2: false)
        case (.list(let items), _):
            try writeQuicklist(items, version2: true)
        case (.set(let members), .setIntset):
            try writeBlob(Intset.build(members.map { CanonicalInteger.of($0)! }))
        case (.set(let members), .setListpack):
            var builder = ListpackBuilder(capacityBytes: members.reduce(0) { $0 &+ $1.byteCount &+ 2 })
            for member in members { builder.append(member) }
            try writeBlob(builder.finish())
        case (.set(let members), _):
            try writeLength(UInt64(members.count))
            for member in members { try writeString(member) }
        case (.zset(let members), _):
            try writeZset(members, type: type)
        case (.hash(let fields), _):
            try writeHash(fields, type: type)
        case (.stream(let stream), _):
            try writeStream(stream, type: type)
        }
    }

    /// Quicklist nodes of at most `listNodeBytes` bytes each (list-max-listpack-size -2), as Redis fills them.
    private mutating func writeQuicklist(_ items: [RDBString], version2: Bool) throws(FormatError) {
        // Node boundaries first (the count comes first in the file), then the nodes.
        var sizer = QuicklistNodeSizer(version2: version2, limit: options.listNodeBytes)
        var starts: [Int] = []
        for (index, item) in items.enumerated() where sizer.add(item) || index == 0 {
            starts.append(index)
        }
        try writeLength(UInt64(starts.count))
        for (node, start) in starts.enumerated() {
            let end = node + 1 < starts.count ? starts[node + 1] : items.count
            if version2 {
                // Entries take about their bytes plus 2 (encoding and backlen); nodes stop near listNodeBytes.
                let estimate = items[start..<end].reduce(0) { $0 &+ $1.byteCount &+ 2 }
                var builder = ListpackBuilder(capacityBytes: min(estimate, options.listNodeBytes &+ 64))
                for item in items[start..<end] { builder.append(item) }
                try writeLength(2)  // QUICKLIST_NODE_CONTAINER_PACKED
                try writeBlob(builder.finish())
            } else {
                var builder = ZiplistBuilder()
                for item in items[start..<end] { builder.append(item) }
                try writeBlob(builder.finish())
            }
        }
    }

    private mutating func writeZset(_ members: [RDBScoredMember], type: RDBType) throws(FormatError) {
        if let bad = members.first(where: { $0.score.isNaN }) {
            throw FormatError(.corrupt, offset: offset, "sorted set member \"\(bad.member)\" has a NaN score, which Redis cannot hold")
        }
        // Sorted-set order: by score, then member bytes.
        func ordered(_ a: RDBScoredMember, _ b: RDBScoredMember) -> Bool {
            a.score != b.score ? a.score < b.score : RDBWriter.lessBytes(a.member, b.member)
        }
        switch type {
        case .zsetZiplist, .zsetListpack:
            // In order (zzlInsert order); what Redis wrote usually is already.
            let inOrder = zip(members, members.dropFirst()).allSatisfy { !ordered($1, $0) }
            let sorted = inOrder ? members : members.sorted(by: ordered)
            if type == .zsetZiplist {
                var builder = ZiplistBuilder()
                for member in sorted {
                    builder.append(member.member)
                    builder.append(RDBWriter.scoreString(member.score, version: version))
                }
                try writeBlob(builder.finish())
            } else {
                var builder = ListpackBuilder(capacityBytes: sorted.reduce(0) { $0 &+ $1.member.byteCount &+ 12 })
                for member in sorted {
                    builder.append(member.member)
                    RDBWriter.appendScore(member.score, to: &builder, version: version)
                }
                try writeBlob(builder.finish())
            }
        default:
            try writeLength(UInt64(members.count))
            // Redis writes skiplists from the highest score down, so that loading appends at the head: members in
            // order (a sorted set in memory) are written reversed, members in reverse order (as a file holds them)
            // as they are, others sorted first.
            let descending = zip(members, members.dropFirst()).allSatisfy { !ordered($0, $1) }
            let highestFirst = descending ? members : members.sorted(by: ordered).reversed()
            for member in highestFirst {
                try writeString(member.member)
                if type == .zsetV2 {
                    writeBinaryDouble(member.score)
                } else {
                    writeStringDouble(member.score)
                }
                try flushIfFull()
            }
        }
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
        case .hashZiplist:
            var builder = ZiplistBuilder()
            for field in fields {
                builder.append(field.field)
                builder.append(field.value)
            }
            try writeBlob(builder.finish())
        case .hashListpack:
            var builder = ListpackBuilder(capacityBytes: fields.reduce(0) { $0 &+ $1.field.byteCount &+ $1.value.byteCount &+ 4 })
            for field in fields {
                builder.append(field.field)
                builder.append(field.value)
            }
            try writeBlob(builder.finish())
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
            try writeLength(UInt64(fields.count))
            for field in fields {
                try writeString(field.field)
                try writeString(field.value)
            }
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
