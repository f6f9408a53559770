// Writes our JSON (README "redis-convert"): a document {"version":1,…,"keys":[records]} or JSON Lines with
// one record per line after a {"meta":…} line. Byte strings go through JSONByteString (lossless).

import Formats
import JSONRecords
import NIOCore

/// `--to json` and `--to jsonl`.
struct JSONRecordWriter: RecordWriter {
    /// The version of our schema, written as "version".
    static var schemaVersion: Int { JSONRecordReader.schemaVersion }

    private var output: BufferedOutput
    private let lines: Bool
    private var keysWritten = 0

    init(sink: OutputSink, lines: Bool) {
        output = BufferedOutput(sink: sink)
        self.lines = lines
    }

    mutating func begin(_ info: RDBFileInfo) throws(FormatError) {
        if lines {
            output.buffer.writeString("{\"meta\":")
            JSONRecordWriter.writeMetadata(info, to: &output.buffer)
            output.buffer.writeString("}\n")
        } else {
            // The metadata members, then the keys as the last member, one record per line.
            output.buffer.writeInteger(UInt8(ascii: "{"))
            JSONRecordWriter.writeMetadataMembers(info, to: &output.buffer, header: true)
            output.buffer.writeString(",\"keys\":[\n")
        }
    }

    mutating func write(_ entry: RDBEntry) throws(FormatError) {
        if !lines && keysWritten > 0 { output.buffer.writeString(",\n") }
        JSONRecordWriter.writeRecord(entry, to: &output.buffer)
        if lines { output.buffer.writeInteger(UInt8(ascii: "\n")) }
        keysWritten += 1
        try output.flushIfFull()
    }

    mutating func finish(trailing: RDBFileInfo) throws(FormatError) {
        if lines {
            if !trailing.isEmpty {
                output.buffer.writeString("{\"after_keys\":")
                JSONRecordWriter.writeMetadata(trailing, to: &output.buffer, header: false)
                output.buffer.writeString("}\n")
            }
        } else {
            output.buffer.writeString(keysWritten > 0 ? "\n]" : "]")
            if !trailing.isEmpty {
                output.buffer.writeString(",\"after_keys\":")
                JSONRecordWriter.writeMetadata(trailing, to: &output.buffer, header: false)
            }
            output.buffer.writeString("}\n")
        }
        try output.finish()
    }

    func abort() { output.sink.abort() }

    // MARK: - Metadata

    /// `{"version":1,"rdb_version":N,"aux":{…},"functions":[…],"module_aux":[…]}`; without the first two when
    /// `header` is false (the "after_keys" object).
    static func writeMetadata(_ info: RDBFileInfo, to out: inout ByteBuffer, header: Bool = true) {
        out.appendInteger(UInt8(ascii: "{"))
        writeMetadataMembers(info, to: &out, header: header)
        out.appendInteger(UInt8(ascii: "}"))
    }

    private static func writeMetadataMembers(_ info: RDBFileInfo, to out: inout ByteBuffer, header: Bool) {
        if header {
            out.writeString("\"version\":\(schemaVersion),\"rdb_version\":")
            out.writeString(info.header.map { String($0.version) } ?? "null")
            out.appendInteger(UInt8(ascii: ","))
        }
        // AUX names are identifiers (redis-ver, ctime, lua…): an object. A name given more than once (Redis 6's
        // "lua" scripts) gets an array of its values, in order.
        var names: [String] = []
        var values: [String: [RDBString]] = [:]
        for (name, value) in info.aux {
            let text = String(decoding: name.bytes.readableBytesView, as: UTF8.self)
            if values[text] == nil { names.append(text) }
            values[text, default: []].append(value)
        }
        out.writeString("\"aux\":{")
        for (index, name) in names.enumerated() {
            if index > 0 { out.appendInteger(UInt8(ascii: ",")) }
            JSONByteString.writeText(name, to: &out)
            out.appendInteger(UInt8(ascii: ":"))
            let all = values[name]!
            if all.count == 1 {
                JSONByteString.write(all[0], to: &out)
            } else {
                writeArray(all, to: &out) { JSONByteString.write($0, to: &$1) }
            }
        }
        out.writeString("},\"functions\":")
        writeArray(info.functions, to: &out) { JSONByteString.write($0, to: &$1) }
        out.writeString(",\"module_aux\":")
        writeArray(info.moduleAux, to: &out) { writeModule($0, to: &$1) }
    }

    // MARK: - Records

    /// `{"db":0,"key":S,"type":T,"expire_at_ms":N|null[,"idle":N][,"freq":N],"value":V}`
    static func writeRecord(_ entry: RDBEntry, to out: inout ByteBuffer) {
        let header = entry.header
        // About as many bytes as the value's elements take, reserved once rather than grown write by write.
        out.reserveCapacity(minimumWritableBytes: 64 &+ header.key.readableBytes &+ approximateBytes(entry.value))
        out.appendStaticString("{\"db\":")
        JSONByteString.writeDecimal(Int64(header.database), to: &out)
        out.appendStaticString(",\"key\":")
        JSONByteString.write(header.key, to: &out)
        out.appendStaticString(",\"type\":\"")
        out.writeString(header.type.kind.rawValue)
        out.appendStaticString("\",\"expire_at_ms\":")
        writeOptionalDecimal(header.expireAtMilliseconds, to: &out)
        if let idle = header.lruIdleSeconds { out.writeString(",\"idle\":\(idle)") }
        if let frequency = header.lfuFrequency { out.writeString(",\"freq\":\(frequency)") }
        out.appendStaticString(",\"value\":")
        writeValue(entry.value, to: &out)
        out.appendInteger(UInt8(ascii: "}"))
    }

    /// A decimal integer, or `null`.
    private static func writeOptionalDecimal(_ value: Int64?, to out: inout ByteBuffer) {
        if let value {
            JSONByteString.writeDecimal(value, to: &out)
        } else {
            out.appendStaticString("null")
        }
    }

    /// The bytes of the value's strings plus a few per element: what its record will about take.
    private static func approximateBytes(_ value: RDBValue) -> Int {
        switch value {
        case .string(let string): string.byteCount
        case .list(let items), .set(let items): items.reduce(0) { $0 &+ $1.byteCount &+ 3 }
        case .zset(let members): members.reduce(0) { $0 &+ $1.member.byteCount &+ 24 }
        case .hash(let fields): fields.reduce(0) { $0 &+ $1.field.byteCount &+ $1.value.byteCount &+ 8 }
        case .stream, .module: 0
        }
    }

    static func writeValue(_ value: RDBValue, to out: inout ByteBuffer) {
        switch value {
        case .string(let string):
            JSONByteString.write(string, to: &out)
        case .list(let items), .set(let items):
            writeArray(items, to: &out) { JSONByteString.write($0, to: &$1) }
        case .zset(let members):
            writeArray(members, to: &out) { member, out in
                out.appendInteger(UInt8(ascii: "["))
                JSONByteString.write(member.member, to: &out)
                out.appendInteger(UInt8(ascii: ","))
                writeScore(member.score, to: &out)
                out.appendInteger(UInt8(ascii: "]"))
            }
        case .hash(let fields):
            let withExpiries = fields.contains { $0.expireAtMilliseconds != nil }
            writeArray(fields, to: &out) { field, out in
                out.appendInteger(UInt8(ascii: "["))
                JSONByteString.write(field.field, to: &out)
                out.appendInteger(UInt8(ascii: ","))
                JSONByteString.write(field.value, to: &out)
                if withExpiries {
                    out.appendInteger(UInt8(ascii: ","))
                    writeOptionalDecimal(field.expireAtMilliseconds, to: &out)
                }
                out.appendInteger(UInt8(ascii: "]"))
            }
        case .stream(let stream):
            writeStream(stream, to: &out)
        case .module(let module):
            writeModule(module, to: &out)
        }
    }

    /// A JSON number (the shortest text that reads back as the same double), or "inf" / "-inf"; NaN, which no
    /// Redis accepts as a score, as "nan".
    static func writeScore(_ score: Double, to out: inout ByteBuffer) {
        if score == score.rounded(.towardZero), abs(score) < 1e15, !(score == 0 && score.sign == .minus) {
            // What `description` prints for an integral double in this range ("42.0"), without the String.
            JSONByteString.writeDecimal(Int64(score), to: &out)
            out.appendStaticString(".0")
        } else if score.isFinite {
            out.writeString(score.description)
        } else if score.isNaN {
            out.writeString("\"nan\"")
        } else {
            out.writeString(score > 0 ? "\"inf\"" : "\"-inf\"")
        }
    }

    static func writeStream(_ stream: RDBStream, to out: inout ByteBuffer) {
        out.writeString("{\"entries\":")
        writeArray(stream.entries, to: &out) { entry, out in
            out.writeString("{\"id\":\"\(entry.id)\",\"fields\":")
            writeArray(entry.fields, to: &out) { pair, out in
                out.appendInteger(UInt8(ascii: "["))
                JSONByteString.write(pair.field, to: &out)
                out.appendInteger(UInt8(ascii: ","))
                JSONByteString.write(pair.value, to: &out)
                out.appendInteger(UInt8(ascii: "]"))
            }
            out.appendInteger(UInt8(ascii: "}"))
        }
        let metadata = stream.metadata
        let lastID = metadata?.lastID ?? stream.entries.last?.id ?? RDBStreamID(milliseconds: 0, sequence: 0)
        out.writeString(",\"length\":\(metadata?.length ?? UInt64(stream.entries.count)),\"last_id\":\"\(lastID)\"")
        out.writeString(
            ",\"first_id\":\(quotedID(metadata?.firstID)),\"max_deleted_id\":\(quotedID(metadata?.maxDeletedEntryID))")
        out.writeString(",\"entries_added\":\(metadata?.entriesAdded.map { String($0) } ?? "null"),\"groups\":")
        writeArray(stream.groups, to: &out) { group, out in
            var owners: [RDBStreamID: ByteBuffer] = [:]
            for consumer in group.consumers {
                for id in consumer.pending { owners[id] = consumer.name }
            }
            out.writeString("{\"name\":")
            JSONByteString.write(group.name, to: &out)
            // Redis's invalid entries_read (-1, SCG_INVALID_ENTRIES_READ) is stored as its 64-bit pattern.
            let entriesRead = group.entriesRead.map { String(Int64(bitPattern: $0)) } ?? "null"
            out.writeString(",\"last_id\":\"\(group.lastID)\",\"entries_read\":\(entriesRead),\"pending\":")
            writeArray(group.pending, to: &out) { pending, out in
                out.writeString("{\"id\":\"\(pending.id)\",\"consumer\":")
                if let owner = owners[pending.id] {
                    JSONByteString.write(owner, to: &out)
                } else {
                    out.writeString("null")
                }
                out.writeString(
                    ",\"delivery_time_ms\":\(pending.deliveryTimeMilliseconds)"
                        + ",\"delivery_count\":\(pending.deliveryCount)}"
                )
            }
            out.writeString(",\"consumers\":")
            writeArray(group.consumers, to: &out) { consumer, out in
                out.writeString("{\"name\":")
                JSONByteString.write(consumer.name, to: &out)
                out.writeString(",\"seen_time_ms\":\(consumer.seenTimeMilliseconds)")
                out.writeString(
                    ",\"active_time_ms\":\(consumer.activeTimeMilliseconds.map { String($0) } ?? "null"),\"pending\":")
                writeArray(consumer.pending, to: &out) { id, out in out.writeString("\"\(id)\"") }
                out.appendInteger(UInt8(ascii: "}"))
            }
            out.appendInteger(UInt8(ascii: "}"))
        }
        out.appendInteger(UInt8(ascii: "}"))
    }

    private static func quotedID(_ id: RDBStreamID?) -> String {
        id.map { "\"\($0)\"" } ?? "null"
    }

    /// `{"module_id":"<u64>","module_name":…,"encoding_version":N[,"when":N],"data":[[kind,value],…]}`: integers
    /// as decimal strings (sint signed), float and double as their IEEE-754 bits in hexadecimal.
    static func writeModule(_ module: RDBModuleValue, to out: inout ByteBuffer) {
        out.writeString("{\"module_id\":\"\(module.moduleID)\",\"module_name\":")
        JSONByteString.writeText(module.moduleName, to: &out)
        out.writeString(",\"encoding_version\":\(module.encodingVersion)")
        if let when = module.when { out.writeString(",\"when\":\(when)") }
        out.writeString(",\"data\":")
        writeArray(module.data, to: &out) { datum, out in
            switch datum {
            case .signedInteger(let bits): out.writeString("[\"sint\",\"\(Int64(bitPattern: bits))\"]")
            case .unsignedInteger(let value): out.writeString("[\"uint\",\"\(value)\"]")
            case .float(let bits): out.writeString("[\"float\",\"\(String(bits, radix: 16))\"]")
            case .double(let bits): out.writeString("[\"double\",\"\(String(bits, radix: 16))\"]")
            case .string(let string):
                out.writeString("[\"string\",")
                JSONByteString.write(string, to: &out)
                out.appendInteger(UInt8(ascii: "]"))
            }
        }
        out.appendInteger(UInt8(ascii: "}"))
    }

    private static func writeArray<Element>(
        _ elements: [Element], to out: inout ByteBuffer, _ writeElement: (Element, inout ByteBuffer) -> Void
    ) {
        out.appendInteger(UInt8(ascii: "["))
        for (index, element) in elements.enumerated() {
            if index > 0 { out.appendInteger(UInt8(ascii: ",")) }
            writeElement(element, &out)
        }
        out.appendInteger(UInt8(ascii: "]"))
    }
}
