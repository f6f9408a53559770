// `--to resp` (alias `aof`): RESP2 multibulk commands that rebuild the dataset, as Redis's AOF rewrite
// (aof.c rewriteAppendOnlyFile) writes them, so that `redis-cli --pipe` or an AOF replay loads them:
//
//   FUNCTION LOAD code                                  each function library, first
//   SELECT db                                           whenever the database changes
//   SET / RPUSH / SADD / ZADD / HSET                    at most 64 elements per command (AOF_REWRITE_ITEMS_PER_CMD)
//   HPEXPIREAT key ms FIELDS 1 field                    hash field expiries (Redis 7.4)
//   XADD key id f v …  |  XADD key MAXLEN 0 0-1 x y     stream entries, or the empty-stream trick
//   XSETID key last ENTRIESADDED n MAXDELETEDID id      (7.0 syntax)
//   XGROUP CREATE key group id ENTRIESREAD n, XGROUP CREATECONSUMER key group consumer
//   XCLAIM key group consumer 0 id TIME ms RETRYCOUNT n FORCE JUSTID   each pending entry
//   PEXPIREAT key ms                                    key expiries
//
// Redis can only XCLAIM entries that exist, so a pending entry whose stream entry was deleted is recreated
// around a placeholder entry at its ID, deleted again (XDEL) before the final XSETID.

import Formats
import ToolSupport
import NIOCore

/// Writes Redis commands.
struct RESPWriter: RecordWriter {
    /// AOF_REWRITE_ITEMS_PER_CMD.
    static let itemsPerCommand = 64

    private var output: BufferedOutput
    private let skipUnsupported: Bool
    private var database: Int? = nil

    init(sink: OutputSink, skipUnsupported: Bool) {
        output = BufferedOutput(sink: sink)
        self.skipUnsupported = skipUnsupported
    }

    mutating func begin(_ info: RDBFileInfo) throws(FormatError) {
        for code in info.functions {
            command(["FUNCTION", "LOAD"], code.bytes)
        }
        try writeUnsupportedMetadata(info)
        try output.flushIfFull()
    }

    mutating func write(_ entry: RDBEntry) throws(FormatError) {
        let header = entry.header
        let key = header.key
        if entry.value.isEmptyCollection {
            warn("skipped empty \(header.type.kind.rawValue) \(describe(entry)) (Redis drops empty keys when loading)")
            return
        }
        if case .module(let module) = entry.value {
            let reason = "module value (\(module.moduleName)) cannot be expressed as commands"
            guard skipUnsupported else {
                throw FormatError(
                    .unsupportedType, offset: header.offset, phase: .other("write-resp"), key: key,
                    "\(reason) (--skip-unsupported leaves such keys out)")
            }
            warn("skipped \(describe(entry)): \(reason)")
            return
        }
        if database != header.database {
            command(["SELECT", String(header.database)])
            database = header.database
        }
        switch entry.value {
        case .string(let value):
            command(["SET"], key, value.bytes)
        case .list(let items):
            batches(of: items) { writer, batch in writer.command(["RPUSH"], key, batch.map(\.bytes)) }
        case .set(let members):
            batches(of: members) { writer, batch in writer.command(["SADD"], key, batch.map(\.bytes)) }
        case .zset(let members):
            batches(of: members) { writer, batch in
                writer.command(
                    ["ZADD"], key, batch.flatMap { [ByteBuffer(string: RESPWriter.score($0.score)), $0.member.bytes] })
            }
        case .hash(let fields):
            batches(of: fields) { writer, batch in
                writer.command(["HSET"], key, batch.flatMap { [$0.field.bytes, $0.value.bytes] })
            }
            for field in fields {
                if let expire = field.expireAtMilliseconds {
                    command(["HPEXPIREAT"], key, words(String(expire), "FIELDS", "1") + [field.field.bytes])
                }
            }
        case .stream(let stream):
            writeStream(stream, key: key)
        case .module:
            break  // handled above
        }
        if let expire = header.expireAtMilliseconds {
            command(["PEXPIREAT"], key, ByteBuffer(string: String(expire)))
        }
        try output.flushIfFull()
    }

    mutating func finish(trailing: RDBFileInfo) throws(FormatError) {
        for code in trailing.functions {
            command(["FUNCTION", "LOAD"], code.bytes)
        }
        try writeUnsupportedMetadata(trailing)
        try output.finish()
    }

    func abort() { output.sink.abort() }

    /// Module AUX data has no command form.
    private func writeUnsupportedMetadata(_ info: RDBFileInfo) throws(FormatError) {
        for module in info.moduleAux {
            guard skipUnsupported else {
                throw FormatError(
                    .unsupportedType, offset: 0, phase: .other("write-resp"),
                    "module AUX data (\(module.moduleName)) cannot be expressed as commands"
                        + " (--skip-unsupported leaves it out)"
                )
            }
            warn("skipped module AUX data of \(module.moduleName): it cannot be expressed as commands")
        }
    }

    // MARK: - Streams

    private mutating func writeStream(_ stream: RDBStream, key: ByteBuffer) {
        let metadata = stream.metadata
        let zero = RDBStreamID(milliseconds: 0, sequence: 0)
        let existing = Set(stream.entries.map(\.id))
        let pendingIDs = Set(stream.groups.flatMap { $0.pending.map(\.id) })
        let placeholders = pendingIDs.filter { !existing.contains($0) && $0 > zero }.sorted()
        var next = 0
        for entry in stream.entries {
            while next < placeholders.count && placeholders[next] < entry.id {
                command(["XADD"], key, words(placeholders[next].description, "x", "y"))
                next += 1
            }
            let fields = entry.fields.flatMap { [$0.field.bytes, $0.value.bytes] }
            command(["XADD"], key, words(entry.id.description) + fields)
        }
        for id in placeholders[next...] {
            command(["XADD"], key, words(id.description, "x", "y"))
        }
        if stream.entries.isEmpty && placeholders.isEmpty {
            // aof.c's trick for an empty stream: add an entry and trim it at once.
            command(["XADD"], key, words("MAXLEN", "0", "0-1", "x", "y"))
        }
        // Before RDB 10 (type 15) Redis takes entries_added as the length and max_deleted_entry_id as 0-0.
        let lastID = metadata?.lastID ?? stream.entries.last?.id ?? zero
        let entriesAdded = metadata?.entriesAdded ?? metadata?.length ?? UInt64(stream.entries.count)
        let maxDeleted = metadata?.maxDeletedEntryID ?? zero
        let setID = words(
            lastID.description, "ENTRIESADDED", String(entriesAdded), "MAXDELETEDID", maxDeleted.description)
        if placeholders.isEmpty { command(["XSETID"], key, setID) }
        for group in stream.groups {
            // A missing or invalid entries_read is -1 (SCG_INVALID_ENTRIES_READ), as Redis writes it.
            let entriesRead = group.entriesRead.map { Int64(bitPattern: $0) } ?? -1
            command(
                ["XGROUP", "CREATE"], key,
                [group.name] + words(group.lastID.description, "ENTRIESREAD", String(entriesRead)))
            var pending: [RDBStreamID: RDBPendingEntry] = [:]
            for entry in group.pending { pending[entry.id] = entry }
            for consumer in group.consumers {
                if consumer.pending.isEmpty {
                    command(["XGROUP", "CREATECONSUMER"], key, [group.name, consumer.name])
                }
                for id in consumer.pending {
                    guard let entry = pending[id] else { continue }
                    let claim = words(
                        "0", id.description, "TIME", String(entry.deliveryTimeMilliseconds),
                        "RETRYCOUNT", String(entry.deliveryCount), "FORCE", "JUSTID")
                    command(["XCLAIM"], key, [group.name, consumer.name] + claim)
                }
            }
        }
        if !placeholders.isEmpty {
            batches(of: placeholders) { writer, batch in
                writer.command(["XDEL"], key, batch.map { ByteBuffer(string: $0.description) })
            }
            command(["XSETID"], key, setID)
        }
    }

    // MARK: - Encoding

    /// The score as ZADD reads it: the shortest text that reads back as the same double, or inf / -inf.
    static func score(_ value: Double) -> String {
        if value == .infinity { return "inf" }
        if value == -.infinity { return "-inf" }
        return value.description
    }

    private mutating func batches<Element>(
        of elements: [Element], _ emit: (inout RESPWriter, ArraySlice<Element>) -> Void
    ) {
        var start = 0
        while start < elements.count {
            let end = min(start + RESPWriter.itemsPerCommand, elements.count)
            emit(&self, elements[start..<end])
            start = end
        }
    }

    private mutating func command(_ words: [String], _ key: ByteBuffer? = nil, _ arguments: ByteBuffer...) {
        command(words, key, arguments)
    }

    /// `*N\r\n` then `$len\r\nbytes\r\n` for each argument.
    private mutating func command(_ words: [String], _ key: ByteBuffer?, _ arguments: [ByteBuffer]) {
        let count = words.count + (key == nil ? 0 : 1) + arguments.count
        output.buffer.writeString("*\(count)\r\n")
        for word in words { bulk(ByteBuffer(string: word)) }
        if let key { bulk(key) }
        for argument in arguments { bulk(argument) }
    }

    private func words(_ texts: String...) -> [ByteBuffer] {
        texts.map { ByteBuffer(string: $0) }
    }

    private mutating func bulk(_ bytes: ByteBuffer) {
        output.buffer.writeString("$\(bytes.readableBytes)\r\n")
        output.buffer.writeImmutableBuffer(bytes)
        output.buffer.writeStaticString("\r\n")
    }

    private func describe(_ entry: RDBEntry) -> String {
        "key \"\(FormatError.escape(entry.header.key))\" (db \(entry.header.database))"
    }

    private func warn(_ text: String) {
        writeStandardError("redis-convert: \(text)\n")
    }
}

extension RDBValue {
    /// A collection without elements: Redis never holds one and skips it when loading.
    var isEmptyCollection: Bool {
        switch self {
        case .list(let items), .set(let items): items.isEmpty
        case .zset(let members): members.isEmpty
        case .hash(let fields): fields.isEmpty
        case .string, .stream, .module: false
        }
    }
}
