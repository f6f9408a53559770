import ArgumentParser
import Formats
import JSONRecords
import ToolSupport
import Foundation
import NIOCore

/// `redis-convert`: converts a Redis dump between RDB, our JSON / JSON Lines and Redis commands, or reports
/// the memory each key would take, streaming one key at a time.
@main
struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redis-convert",
        abstract:
            "Convert a Redis dump (RDB, JSON, JSON Lines) to JSON, JSON Lines, Redis commands, RDB or a memory report.",
        discussion: """
            The input kind is told from its content: an RDB file (REDIS or VALKEY magic), our JSON document or \
            our JSON Lines; gzip-compressed input is detected. Keys are read and written one at a time.

            Formats: json (one document), jsonl (a {"meta":…} line, then one key per line), resp (alias aof: \
            commands that rebuild the dataset, for redis-cli --pipe), rdb (--rdb-version, default 10), \
            memory-csv (redis-rdb-tools' columns with a Redis 7.0 memory estimate per key).

            Exit status: 0 converted; 1 the input is unreadable, damaged or holds what the output format \
            cannot (see --skip-unsupported); 64 usage error.
            """,
        version: "redis-convert 0.1.0"
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case json, jsonl, resp, aof, rdb
        case memoryCSV = "memory-csv"
    }

    @Argument(help: "The input file, or - for standard input.")
    var input: String

    @Option(name: .long, help: "The output format: json, jsonl, resp (alias aof), rdb, memory-csv.")
    var to: Format

    @Option(
        name: .shortAndLong,
        help: ArgumentHelp(
            "Write to this file instead of standard output (atomically; gzip when the name ends in .gz).",
            valueName: "file"))
    var output: String?

    @Option(
        name: .customLong("db"), help: ArgumentHelp("Keep only the keys of this database (repeatable).", valueName: "n")
    )
    var databases: [Int] = []

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Keep only the keys this regular expression finds (ICU syntax, unanchored; the key read as UTF-8).",
            valueName: "regex"))
    var key: String?

    @Option(
        name: .customLong("type"),
        help: ArgumentHelp(
            "Keep only the keys of this type (repeatable): string, list, set, zset, hash, stream, module.",
            valueName: "type"))
    var types: [String] = []

    @Flag(name: .long, help: "Leave out the keys whose expiry time has passed.")
    var notExpired = false

    @Option(
        name: .long, help: ArgumentHelp("The RDB version written by --to rdb (6 to 12; default 10).", valueName: "n"))
    var rdbVersion: Int?

    @Flag(
        name: .long,
        help: "Leave out, with a warning, what the output format or RDB version cannot hold, instead of failing.")
    var skipUnsupported = false

    @Flag(
        name: .long,
        help: """
            With --to rdb: compress every string value anew. By default a string value that the input RDB stored \
            LZF-compressed keeps those compressed bytes (checked by decompressing them).
            """)
    var recompress = false

    @Option(
        name: .long, help: ArgumentHelp("With --to memory-csv: only the n largest keys, largest first.", valueName: "n")
    )
    var top: Int?

    @Flag(name: .long, help: "Never show a progress bar.")
    var noProgress = false

    func validate() throws {
        if let rdbVersion {
            guard to == .rdb else { throw ValidationError("--rdb-version applies to --to rdb only") }
            guard RDBWriteOptions.supportedVersions.contains(rdbVersion) else {
                let versions = RDBWriteOptions.supportedVersions
                throw ValidationError("--rdb-version must be between \(versions.lowerBound) and \(versions.upperBound)")
            }
        }
        if recompress && to != .rdb { throw ValidationError("--recompress applies to --to rdb only") }
        if let top {
            guard to == .memoryCSV else { throw ValidationError("--top applies to --to memory-csv only") }
            guard top > 0 else { throw ValidationError("--top must be at least 1") }
        }
        if databases.contains(where: { $0 < 0 }) { throw ValidationError("--db must not be negative") }
        for type in types where Convert.kind(named: type) == nil {
            throw ValidationError("unknown --type \(type) (string, list, set, zset, hash, stream, module)")
        }
        if let key {
            do {
                _ = try NSRegularExpression(pattern: key)
            } catch {
                throw ValidationError("--key is not a valid regular expression: \(key)")
            }
        }
    }

    static func kind(named name: String) -> RDBValueKind? {
        name == "sortedset" ? .zset : RDBValueKind(rawValue: name)
    }

    func makeFilter() throws -> KeyFilter {
        var filter = KeyFilter()
        filter.databases = Set(databases)
        filter.kinds = Set(types.compactMap(Convert.kind(named:)))
        if let key { filter.keyPattern = try NSRegularExpression(pattern: key) }
        if notExpired { filter.expiredBefore = Int64(Date().timeIntervalSince1970 * 1000) }
        return filter
    }

    mutating func run() throws {
        let filter = try makeFilter()
        do throws(FormatError) {
            try convert(filter: filter)
        } catch {
            writeStandardError("redis-convert: \(error)\n")
            throw ExitCode(1)
        }
    }

    // MARK: - Conversion

    private func convert(filter: KeyFilter) throws(FormatError) {
        if AOFInput.looks(self.input) {
            try convertAOF(filter: filter)
            return
        }
        let input = try InputSource.open(self.input)
        defer { input.close() }
        let knownSize = input.knownSize
        let (kind, source) = try InputKind.detect(input)
        let sink = try OutputSink(path: output == "-" ? nil : output)
        var progress = ProgressBar(totalBytes: knownSize, enabled: !noProgress)
        defer { progress.finish() }
        // One call per concrete writer, not through `any RecordWriter`: the generic pipeline (reader included)
        // is then specialized for it, where an existential left it unspecialized (measured: a tenth of the
        // instructions in generic metadata lookups).
        switch to {
        case .json, .jsonl:
            try Convert.run(JSONRecordWriter(sink: sink, lines: to == .jsonl), kind, source, filter, &progress)
        case .resp, .aof:
            try Convert.run(RESPWriter(sink: sink, skipUnsupported: skipUnsupported), kind, source, filter, &progress)
        case .rdb:
            var writer = RDBRecordWriter(sink: sink, version: rdbVersion ?? 10, skipUnsupported: skipUnsupported)
            writer.reusesCompressedStrings = !recompress
            try Convert.run(writer, kind, source, filter, &progress)
        case .memoryCSV:
            try Convert.run(MemoryCSVWriter(sink: sink, top: top), kind, source, filter, &progress)
        }
    }

    /// AOF input (single file, preamble, manifest, appendonlydir): replayed, then converted like an RDB's keys.
    private func convertAOF(filter: KeyFilter) throws(FormatError) {
        let keyspace = try AOFInput.replay(input)
        var entries = KeyspaceEntrySource(keyspace)
        let sink = try OutputSink(path: output == "-" ? nil : output)
        var progress = ProgressBar(totalBytes: nil, enabled: false)
        defer { progress.finish() }
        switch to {
        case .json, .jsonl:
            try Convert.pumpAll(JSONRecordWriter(sink: sink, lines: to == .jsonl), &entries, filter, &progress)
        case .resp, .aof:
            try Convert.pumpAll(RESPWriter(sink: sink, skipUnsupported: skipUnsupported), &entries, filter, &progress)
        case .rdb:
            let writer = RDBRecordWriter(sink: sink, version: rdbVersion ?? 10, skipUnsupported: skipUnsupported)
            try Convert.pumpAll(writer, &entries, filter, &progress)
        case .memoryCSV:
            try Convert.pumpAll(MemoryCSVWriter(sink: sink, top: top), &entries, filter, &progress)
        }
    }

    private static func pumpAll<Writer: RecordWriter>(
        _ writer: Writer, _ entries: inout KeyspaceEntrySource, _ filter: KeyFilter, _ progress: inout ProgressBar
    ) throws(FormatError) {
        var writer = writer
        do throws(FormatError) {
            try Convert.pump(&entries, into: &writer, filter: filter, progress: &progress)
        } catch {
            writer.abort()
            throw error
        }
    }

    private static func run<Source: ByteSource, Writer: RecordWriter>(
        _ writer: Writer, _ kind: InputKind, _ source: Source, _ filter: KeyFilter, _ progress: inout ProgressBar
    ) throws(FormatError) {
        var writer = writer
        do throws(FormatError) {
            switch kind {
            case .rdb where writer.streamsElements:
                var entries = RDBEntrySource(source: source, keepingCompressedStrings: writer.reusesCompressedStrings)
                try Convert.stream(&entries, into: &writer, filter: filter, progress: &progress)
            case .rdb:
                var entries = RDBEntrySource(source: source)
                try Convert.pump(&entries, into: &writer, filter: filter, progress: &progress)
            case .json, .jsonLines:
                var entries = JSONEntrySource(source: source, lines: kind == .jsonLines)
                try Convert.pump(&entries, into: &writer, filter: filter, progress: &progress)
            }
        } catch {
            writer.abort()
            throw error
        }
    }

    /// Moves every accepted key from an RDB to a streaming writer, element by element (bounded memory).
    private static func stream<Source: ByteSource, Writer: RecordWriter>(
        _ source: inout RDBEntrySource<Source>, into writer: inout Writer, filter: KeyFilter, progress: inout ProgressBar
    ) throws(FormatError) {
        var before: RDBFileInfo? = nil
        while try source.stream(acceptedBy: filter, into: &writer, begin: { info, writer throws(FormatError) in
            if before == nil {
                before = info
                try writer.begin(info)
            }
        }) {
            progress.update(source.offset)
        }
        if let before {
            try writer.finish(trailing: source.info.since(before))
        } else {
            try writer.begin(source.info)
            try writer.finish(trailing: RDBFileInfo())
        }
    }

    /// Moves every accepted key from the source to the writer, one at a time.
    private static func pump<Source: EntrySource, Writer: RecordWriter>(
        _ source: inout Source, into writer: inout Writer, filter: KeyFilter, progress: inout ProgressBar
    ) throws(FormatError) {
        var before: RDBFileInfo? = nil
        while let entry = try source.next(accepting: filter) {
            if before == nil {
                before = source.info
                try writer.begin(source.info)
            }
            try writer.write(entry)
            progress.update(source.offset)  // redraws at most every 0.1 s
        }
        if let before {
            try writer.finish(trailing: source.info.since(before))
        } else {
            try writer.begin(source.info)
            try writer.finish(trailing: RDBFileInfo())
        }
    }
}
