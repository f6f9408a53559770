import Formats
import ToolSupport
import NIOCore

/// `--to rdb`: an RDB file of the chosen version through ``RDBWriter``, which picks each value's encoding as
/// that Redis release would.
struct RDBRecordWriter: RecordWriter {
    /// AUX fields that describe the program that wrote a file, not the data: the writer writes its own.
    static let producerAuxFields: Set<String> = [
        "redis-ver", "redis-bits", "ctime", "used-mem", "aof-base", "aof-preamble",
    ]

    private var writer: RDBWriter<OutputSink>
    private var database: Int? = nil
    /// MODULE_AUX saved "after the keyspace" (when = 2, REDISMODULE_AUX_AFTER_RDB) goes at the end, as Redis does.
    private var moduleAuxAfterKeys: [RDBModuleValue] = []
    private var skippedReported = 0
    /// Store again the LZF bytes of strings that arrived compressed, where the output holds the same strings,
    /// instead of compressing them anew.
    var reusesCompressedStrings = false

    init(sink: OutputSink, version: Int, skipUnsupported: Bool) {
        var options = RDBWriteOptions()
        options.version = version
        options.skipUnsupported = skipUnsupported
        writer = RDBWriter(sink: sink, options: options)
    }

    mutating func begin(_ info: RDBFileInfo) throws(FormatError) {
        try writer.writeHeader()
        try writeMetadata(info, atEnd: false)
    }

    mutating func write(_ entry: RDBEntry) throws(FormatError) {
        if database != entry.header.database {
            try writer.selectDB(entry.header.database)
            database = entry.header.database
        }
        try writer.writeEntry(entry)
        reportSkipped()
    }

    mutating func finish(trailing: RDBFileInfo) throws(FormatError) {
        try writeMetadata(trailing, atEnd: true)
        for module in moduleAuxAfterKeys { try writer.writeModuleAux(module) }
        reportSkipped()
        try writer.finish()
    }

    func abort() { writer.sink.abort() }

    // Keys pass through element by element: the writer spools big values to disk, so memory stays bounded.
    var streamsElements: Bool { true }

    mutating func beginKey(_ header: RDBKeyHeader) throws(FormatError) {
        if database != header.database {
            try writer.selectDB(header.database)
            database = header.database
        }
        try writer.beginKey(header)
    }

    mutating func writeElement(_ element: RDBElement) throws(FormatError) {
        try writer.writeElement(element)
    }

    mutating func offerCompressedStrings(_ strings: [RDBCompressedString]) {
        writer.offerCompressedStrings(strings)
    }

    mutating func endKey() throws(FormatError) {
        try writer.endKey()
        reportSkipped()
    }

    private mutating func writeMetadata(_ info: RDBFileInfo, atEnd: Bool) throws(FormatError) {
        for (name, value) in info.aux
        where !RDBRecordWriter.producerAuxFields.contains(String(decoding: name.bytes.readableBytesView, as: UTF8.self))
        {
            try writer.writeAux(key: name, value: value)
        }
        for code in info.functions { try writer.writeFunction(code) }
        for module in info.moduleAux {
            if module.when == 2 && !atEnd {
                moduleAuxAfterKeys.append(module)
            } else {
                try writer.writeModuleAux(module)
            }
        }
        reportSkipped()
    }

    /// Prints the keys the writer left out since the last call (with --skip-unsupported).
    private mutating func reportSkipped() {
        let skipped = writer.skippedKeys
        while skippedReported < skipped.count {
            let (db, key, reason) = skipped[skippedReported]
            writeStandardError("redis-convert: skipped key \"\(FormatError.escape(key))\" (db \(db)): \(reason)\n")
            skippedReported += 1
        }
    }
}
