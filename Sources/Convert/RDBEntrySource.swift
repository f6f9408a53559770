import Formats
import ToolSupport
import NIOCore

/// Keys of an RDB file, read with ``RDBReader`` one key at a time, on a thread of its own (``RDBReadAhead``).
/// Values the filter rejects are skipped with `skipValue()` (validated, never assembled), so filtering a large
/// dump costs little memory.
struct RDBEntrySource<Source: ByteSource>: EntrySource {
    /// Set until the first call, which starts the reader thread with its filter (the same on every call).
    private var source: Source?
    private var readAhead: RDBReadAhead<Source, RDBEvent>?
    private var batch = RDBReadAheadBatch<RDBEvent>()
    private var position = 0
    private var compressedIndex = 0
    private(set) var info = RDBFileInfo()
    private(set) var offset: Int64 = 0
    private var ended = false

    private let keepsCompressedStrings: Bool

    /// `keepingCompressedStrings`: offer the strings the input stored LZF-compressed to the writer
    /// (``RecordWriter/offerCompressedStrings(_:)``) when streaming.
    init(source: Source, keepingCompressedStrings: Bool = false) {
        self.source = source
        self.keepsCompressedStrings = keepingCompressedStrings
    }

    /// The next event, moved out of the batch; nil at the end. Fetches the next batch when this one is used up,
    /// and rethrows the reader's error in turn.
    private mutating func next(_ filter: KeyFilter) throws(FormatError) -> RDBEvent? {
        while position == batch.items.count {
            if let error = batch.error { throw error }
            if let source = source.take() {
                var options = RDBReadOptions()
                options.keepsCompressedStrings = keepsCompressedStrings
                readAhead = RDBReadAhead(reader: RDBReader(source: source, options: options, chunkSize: 64 * 1024), accepting: filter.accepts)
            }
            if let readAhead {
                var used = RDBReadAheadBatch<RDBEvent>()
                swap(&used, &batch)
                readAhead.recycle(used)
            }
            guard let next = readAhead?.next() else { return nil }
            batch = consume next
            position = 0
            compressedIndex = 0
            offset = batch.offset
        }
        position += 1
        return batch.take(position - 1)
    }

    /// The LZF strings read for the event ``next(_:)`` just announced, when the reader kept them.
    private mutating func takeCompressedStrings() -> [RDBCompressedString] {
        guard compressedIndex < batch.compressedStrings.count,
              batch.compressedStrings[compressedIndex].event == position - 1
        else { return [] }
        compressedIndex += 1
        var strings: [RDBCompressedString] = []
        swap(&strings, &batch.compressedStrings[compressedIndex - 1].strings)
        return strings
    }

    /// Moves the next accepted key straight into a streaming writer, element by element; returns false at the
    /// end of the input. `begin` runs before the first key reaches the writer.
    mutating func stream<Writer: RecordWriter>(
        acceptedBy filter: KeyFilter, into writer: inout Writer, begin: (RDBFileInfo, inout Writer) throws(FormatError) -> Void
    ) throws(FormatError) -> Bool {
        guard !ended else { return false }
        while let event = try next(filter) {
            if compressedIndex < batch.compressedStrings.count {
                let strings = takeCompressedStrings()
                if !strings.isEmpty { writer.offerCompressedStrings(strings) }
            }
            switch consume event {
            case .element(let element):
                try writer.writeElement(element)
            case .beginKey(let keyHeader):
                try begin(info, &writer)
                try writer.beginKey(keyHeader)
            case .endKey:
                try writer.endKey()
                return true
            case let other:
                if record(other) { return false }
            }
        }
        ended = true
        return false
    }

    /// Keeps what a non-key event says; true at the end of the RDB.
    private mutating func record(_ event: RDBEvent) -> Bool {
        switch event {
        case .header(let fileHeader): info.header = fileHeader
        case .aux(let key, let value): info.aux.append((key, value))
        case .function(let code): info.functions.append(code)
        case .moduleAux(let module): info.moduleAux.append(module)
        case .end(let status):
            info.checksum = status
            ended = true
            // Read to the end of the input by the reader thread: for gzip this verified the gzip trailer.
            if let trailing = batch.trailingBytes, trailing > 0 {
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
        var builder = RDBValueBuilder()
        while let event = try next(filter) {
            switch consume event {
            case .element(let element):
                builder.add(element)
            case .beginKey(let keyHeader):
                header = keyHeader
                builder = RDBValueBuilder()
            case .endKey:
                guard let header else { continue }
                return RDBEntry(header: header, value: builder.value(of: header.type.kind))
            case let other:
                if record(other) { return nil }
            }
        }
        ended = true
        return nil
    }
}
