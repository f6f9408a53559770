import Formats
import ToolSupport
import NIOCore

/// Keys of an RDB file, read with ``RDBReader`` one key at a time. Values the filter rejects are skipped with
/// `skipValue()` (validated, never assembled), so filtering a large dump costs little memory.
struct RDBEntrySource<Source: ByteSource>: EntrySource {
    private var reader: RDBReader<Source>
    private(set) var info = RDBFileInfo()
    private var ended = false

    init(source: Source) {
        reader = RDBReader(source: source)
    }

    var offset: Int64 { reader.offset }

    /// Moves the next accepted key straight into a streaming writer, element by element; returns false at the
    /// end of the input. `begin` runs before the first key reaches the writer.
    mutating func stream<Writer: RecordWriter>(
        acceptedBy filter: KeyFilter, into writer: inout Writer, begin: (RDBFileInfo, inout Writer) throws(FormatError) -> Void
    ) throws(FormatError) -> Bool {
        guard !ended else { return false }
        var inKey = false
        while let event = try reader.next() {
            switch event {
            case .beginKey(let keyHeader):
                if filter.accepts(keyHeader) {
                    try begin(info, &writer)
                    try writer.beginKey(keyHeader)
                    inKey = true
                } else {
                    _ = try reader.skipValue()
                }
            case .element(let element):
                try writer.writeElement(element)
            case .endKey:
                guard inKey else { continue }
                try writer.endKey()
                return true
            default:
                if try record(event) { return false }
            }
        }
        ended = true
        return false
    }

    /// Keeps what a non-key event says; true at the end of the RDB.
    private mutating func record(_ event: RDBEvent) throws(FormatError) -> Bool {
        switch event {
        case .header(let fileHeader): info.header = fileHeader
        case .aux(let key, let value): info.aux.append((key, value))
        case .function(let code): info.functions.append(code)
        case .moduleAux(let module): info.moduleAux.append(module)
        case .end(let status):
            info.checksum = status
            ended = true
            // Reads to the end of the input: for gzip this verifies the gzip trailer.
            let trailing = try reader.readTrailingBytes()
            if trailing > 0 {
                // Redis ignores them too; in an AOF with an RDB preamble they are the commands that follow.
                writeStandardError(
                    "redis-convert: ignored \(trailing) bytes after the end of the RDB (an AOF tail is not converted)\n")
            }
            return true
        default: break
        }
        return false
    }

    mutating func next(accepting filter: KeyFilter) throws(FormatError) -> RDBEntry? {
        guard !ended else { return nil }
        var header: RDBKeyHeader? = nil
        var builder = ValueBuilder()
        while let event = try reader.next() {
            switch event {
            case .beginKey(let keyHeader):
                if filter.accepts(keyHeader) {
                    header = keyHeader
                    builder = ValueBuilder()
                } else {
                    _ = try reader.skipValue()
                }
            case .element(let element):
                builder.add(element)
            case .endKey:
                guard let header else { continue }
                return RDBEntry(header: header, value: builder.value(of: header.type.kind))
            default:
                if try record(event) { return nil }
            }
        }
        ended = true
        return nil
    }
}

/// Gathers the elements of one value.
private struct ValueBuilder {
    private var string = RDBString.bytes(ByteBuffer())
    private var items: [RDBString] = []
    private var members: [RDBScoredMember] = []
    private var fields: [RDBHashField] = []
    private var stream = RDBStream()
    private var module = RDBModuleValue(moduleID: 0, data: [])

    mutating func add(_ element: RDBElement) {
        switch element {
        case .string(let value): string = value
        case .listItem(let item), .setMember(let item): items.append(item)
        case .zsetMember(let member, let score): members.append(RDBScoredMember(member: member, score: score))
        case .hashField(let field, let value, let expire):
            fields.append(RDBHashField(field: field, value: value, expireAtMilliseconds: expire))
        case .streamEntry(let entry): stream.entries.append(entry)
        case .streamMetadata(let metadata): stream.metadata = metadata
        case .streamGroup(let group): stream.groups.append(group)
        case .module(let value): module = value
        }
    }

    func value(of kind: RDBValueKind) -> RDBValue {
        switch kind {
        case .string: .string(string)
        case .list: .list(items)
        case .set: .set(items)
        case .zset: .zset(members)
        case .hash: .hash(fields)
        case .stream: .stream(stream)
        case .module: .module(module)
        }
    }
}
