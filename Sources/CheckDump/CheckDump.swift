import ArgumentParser
import Formats
import ToolSupport
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `redis-check-dump`: validates an RDB file completely and reports what it holds, in the manner of
/// Redis's `redis-check-rdb`.
@main
struct CheckDump: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redis-check-dump",
        abstract: "Check an RDB file (any version Redis or Valkey wrote, gzip or not) and report what it holds.",
        discussion: """
            Reads the whole file: every key, every embedded ziplist, listpack, intset and zipmap entry, and \
            the CRC64 trailer. Prints a report in the manner of redis-check-rdb.

            Exit status: 0 the file is valid; 1 it is not (corrupt, truncated, unsupported, checksum error) \
            or it cannot be read; 64 usage error.
            """,
        version: "redis-check-dump 0.1.0 (RDB 1-12, Valkey 80)"
    )

    @Argument(help: "The RDB file to check, or - for standard input. Gzip-compressed files are detected.")
    var file: String

    @Flag(name: .long, help: "Print the report as one JSON object on standard output.")
    var json = false

    @Flag(name: .long, help: "Never show a progress bar.")
    var noProgress = false

    @Flag(name: .long, help: "Do not check for duplicate members inside embedded blobs.")
    var noDuplicateCheck = false

    mutating func run() throws {
        var options = RDBReadOptions()
        options.checkDuplicates = !noDuplicateCheck
        var report = CheckReport(file: file)
        let nowMilliseconds = Int64(CheckDump.currentMilliseconds())
        if !json {
            print("[offset 0] Checking RDB file \(file)")
        }
        do throws(FormatError) {
            let source = try InputSource.open(file)
            report.gzip = source.isGzip
            defer { source.close() }
            var progress = ProgressBar(totalBytes: source.knownSize, enabled: !noProgress)
            var reader = RDBReader(source: source, options: options)
            var nextProgressOffset: Int64 = 0
            while let event = try reader.next() {
                report.salvageOffset = reader.lastCompleteOffset
                report.keysBeforeError = reader.completeKeys
                // Every MiB of input (however few keys that is), the bar gets a look; it redraws at most 10 times a second.
                if reader.offset >= nextProgressOffset {
                    nextProgressOffset = reader.offset + 1 << 20
                    progress.update(reader.offset)
                }
                switch event {
                case .header(let header):
                    report.header = header
                case .aux(let key, let value):
                    report.aux.append((key.bytes, value.bytes))
                    if !json {
                        print("[offset \(reader.offset)] AUX FIELD \(Self.text(key.bytes)) = '\(Self.text(value.bytes))'")
                    }
                case .selectDB(let db):
                    report.currentDatabase = db
                    report.databases[db, default: DatabaseCounts()].selected = true
                    if !json { print("[offset \(reader.offset)] Selecting DB ID \(db)") }
                case .resizeHint(let keys, let expires):
                    report.databases[report.currentDatabase, default: DatabaseCounts()].hintKeys = keys
                    report.databases[report.currentDatabase, default: DatabaseCounts()].hintExpires = expires
                case .slotInfo:
                    report.slotInfos += 1
                case .moduleAux(let module):
                    report.moduleAux += 1
                    if !json { print("[offset \(reader.offset)] MODULE AUX for: \(module.moduleName)") }
                case .function:
                    report.functions += 1
                case .beginKey(let header):
                    // Validated in full, without building element events.
                    let elements = try reader.skipValue()
                    report.countKey(header, elements: elements, now: nowMilliseconds)
                case .element, .elements, .endKey:
                    break
                case .end(let status):
                    report.checksum = status
                    report.bytes = reader.offset
                    if !json {
                        switch status {
                        case .verified: print("[offset \(reader.offset)] Checksum OK")
                        case .disabled:
                            print("[offset \(reader.offset)] RDB file was saved with checksum disabled: no check performed.")
                        case .absent: print("[offset \(reader.offset)] RDB version \(report.header?.version ?? 0) has no checksum")
                        case .notChecked: print("[offset \(reader.offset)] Checksum not checked")
                        }
                    }
                }
            }
            report.trailingBytes = try reader.readTrailingBytes()
            progress.finish()
        } catch {
            report.error = error
        }
        if json {
            print(report.json())
        } else {
            print(report.text(), terminator: "")
        }
        if report.error != nil {
            throw ExitCode(1)
        }
    }

    static func text(_ bytes: ByteBuffer) -> String {
        FormatError.escape(bytes)
    }

    static func currentMilliseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return UInt64(now.tv_sec) * 1000 + UInt64(now.tv_nsec) / 1_000_000
    }
}

/// Per-database counters.
struct DatabaseCounts {
    var selected = false
    var keys = 0
    var expires = 0
    var alreadyExpired = 0
    var hintKeys: UInt64?
    var hintExpires: UInt64?
}

/// Everything the checker learned, printed as text or JSON.
struct CheckReport {
    let file: String
    var gzip = false
    var header: RDBHeader?
    var aux: [(ByteBuffer, ByteBuffer)] = []
    var databases: [Int: DatabaseCounts] = [:]
    var currentDatabase = 0
    var keys = 0
    var expires = 0
    var alreadyExpired = 0
    var emptyKeys = 0
    var idleKeys = 0
    var frequencyKeys = 0
    /// Counts by type byte meaning, indexed by RDBType.allCases position (no hashing on the hot path).
    var typeCounts = [Int](repeating: 0, count: RDBType.allCases.count)
    var functions = 0
    var moduleAux = 0
    var slotInfos = 0
    var checksum: RDBChecksumStatus?
    var bytes: Int64 = 0
    var error: FormatError?
    var salvageOffset: Int64 = 0
    var trailingBytes: Int64 = 0
    var keysBeforeError = 0

    mutating func countKey(_ header: RDBKeyHeader, elements: Int, now: Int64) {
        keys += 1
        databases[header.database, default: DatabaseCounts()].keys += 1
        if let expire = header.expireAtMilliseconds {
            expires += 1
            databases[header.database, default: DatabaseCounts()].expires += 1
            if expire < now {
                alreadyExpired += 1
                databases[header.database, default: DatabaseCounts()].alreadyExpired += 1
            }
        }
        if header.lruIdleSeconds != nil { idleKeys += 1 }
        if header.lfuFrequency != nil { frequencyKeys += 1 }
        typeCounts[CheckReport.typeIndex[header.type]!] += 1
        // Streams and strings are never "empty" in Redis's sense; collections with no element are skipped on load.
        if elements == 0, header.type.kind != .string, header.type.kind != .stream, header.type.kind != .module {
            emptyKeys += 1
        }
    }

    static let typeIndex: [RDBType: Int] = Dictionary(
        uniqueKeysWithValues: RDBType.allCases.enumerated().map { ($1, $0) })

    var types: [RDBValueKind: Int] {
        var types: [RDBValueKind: Int] = [:]
        for (type, count) in zip(RDBType.allCases, typeCounts) where count > 0 { types[type.kind, default: 0] += count }
        return types
    }

    var encodings: [String: Int] {
        var encodings: [String: Int] = [:]
        for (type, count) in zip(RDBType.allCases, typeCounts) where count > 0 { encodings[type.name, default: 0] += count }
        return encodings
    }

    var checksumName: String {
        switch checksum {
        case .verified: "ok"
        case .disabled: "disabled"
        case .absent: "absent"
        case .notChecked: "not-checked"
        case nil: error?.code == .checksumMismatch ? "mismatch" : "unknown"
        }
    }

    /// The first line of an error in redis-check-rdb's words, then our detail.
    static func headline(_ error: FormatError) -> String {
        switch error.code {
        case .truncated: "Unexpected EOF reading RDB file: \(error.detail)"
        case .checksumMismatch: error.detail
        case .unsupportedType where error.detail.hasPrefix("invalid object type"):
            "Invalid object type" + error.detail.dropFirst("invalid object type".count)
        default: error.detail
        }
    }

    func text() -> String {
        var out = ""
        if let error {
            out += "--- RDB ERROR DETECTED ---\n"
            out += "[offset \(error.offset)] \(CheckReport.headline(error))\n"
            out += "[additional info] While doing: \(error.phase)\n"
            out += "[additional info] Error kind: \(error.code)\n"
            if let key = error.key {
                out += "[additional info] Reading key '\(FormatError.escape(key))'\n"
            }
            if case .readValue(let type) = error.phase {
                out += "[additional info] Reading type \(type.rawValue) (\(type.name))\n"
            }
        } else {
            out += "[offset \(bytes)] \\o/ RDB looks OK! \\o/\n"
        }
        out += "[info] \(keys) keys read\n"
        out += "[info] \(expires) expires\n"
        out += "[info] \(alreadyExpired) already expired\n"
        if let error {
            out += "[info] \(keysBeforeError) keys were sound before the error; a salvage could cut the file at offset \(salvageOffset)\n"
            _ = error
        }
        if let header {
            out += "[info] RDB version \(header.version) (\(header.magic))\(gzip ? ", gzip-compressed" : "")\n"
        }
        out += "[info] checksum: \(checksumName)\n"
        for (db, counts) in databases.sorted(by: { $0.key < $1.key }) where counts.keys > 0 || counts.selected {
            out += "[info] db \(db): \(counts.keys) keys, \(counts.expires) expires, \(counts.alreadyExpired) already expired\n"
        }
        for kind in RDBValueKind.allCases {
            if let count = types[kind] { out += "[info] type \(kind.rawValue): \(count)\n" }
        }
        for (name, count) in encodings.sorted(by: { $0.key < $1.key }) {
            out += "[info] encoding \(name): \(count)\n"
        }
        if trailingBytes > 0 { out += "[info] \(trailingBytes) bytes follow the RDB (ignored, as Redis does)\n" }
        if functions > 0 { out += "[info] \(functions) function libraries\n" }
        if moduleAux > 0 { out += "[info] \(moduleAux) module aux records\n" }
        if idleKeys > 0 { out += "[info] \(idleKeys) keys with LRU idle time\n" }
        if frequencyKeys > 0 { out += "[info] \(frequencyKeys) keys with LFU frequency\n" }
        if emptyKeys > 0 { out += "[info] \(emptyKeys) empty keys (Redis skips them when loading)\n" }
        return out
    }

    func json() -> String {
        var object = JSONObject()
        object.add("file", .string(file))
        object.add("valid", .bool(error == nil))
        object.add("version", header.map { .int(Int64($0.version)) } ?? .null)
        object.add("dialect", header.map { .string($0.dialect == .redis ? "redis" : "valkey") } ?? .null)
        object.add("gzip", .bool(gzip))
        object.add("bytes", .int(error == nil ? bytes : salvageOffset))
        object.add("keys", .int(Int64(keys)))
        object.add("expires", .int(Int64(expires)))
        object.add("already_expired", .int(Int64(alreadyExpired)))
        object.add("empty_keys", .int(Int64(emptyKeys)))
        var dbs = JSONObject()
        for (db, counts) in databases.sorted(by: { $0.key < $1.key }) where counts.keys > 0 || counts.selected {
            var entry = JSONObject()
            entry.add("keys", .int(Int64(counts.keys)))
            entry.add("expires", .int(Int64(counts.expires)))
            entry.add("already_expired", .int(Int64(counts.alreadyExpired)))
            dbs.add(String(db), .object(entry))
        }
        object.add("databases", .object(dbs))
        var typeObject = JSONObject()
        for kind in RDBValueKind.allCases { if let count = types[kind] { typeObject.add(kind.rawValue, .int(Int64(count))) } }
        object.add("types", .object(typeObject))
        var encodingObject = JSONObject()
        for (name, count) in encodings.sorted(by: { $0.key < $1.key }) { encodingObject.add(name, .int(Int64(count))) }
        object.add("encodings", .object(encodingObject))
        var auxObject = JSONObject()
        for (key, value) in aux { auxObject.add(FormatError.escape(key), .string(FormatError.escape(value))) }
        object.add("aux", .object(auxObject))
        object.add("functions", .int(Int64(functions)))
        object.add("module_aux", .int(Int64(moduleAux)))
        object.add("checksum", .string(checksumName))
        object.add("trailing_bytes", .int(trailingBytes))
        if let error {
            var errorObject = JSONObject()
            errorObject.add("offset", .int(error.offset))
            errorObject.add("code", .string(error.code.description))
            errorObject.add("message", .string(CheckReport.headline(error)))
            errorObject.add("phase", .string(error.phase.description))
            errorObject.add("key", error.key.map { .string(FormatError.escape($0)) } ?? .null)
            if case .readValue(let type) = error.phase {
                errorObject.add("type", .string(type.name))
            } else {
                errorObject.add("type", .null)
            }
            errorObject.add("keys_before", .int(Int64(keysBeforeError)))
            errorObject.add("salvage_offset", .int(salvageOffset))
            object.add("error", .object(errorObject))
        } else {
            object.add("error", .null)
        }
        return JSONValue.object(object).serialized
    }
}
