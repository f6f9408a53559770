import ArgumentParser
import Formats
import NIOCore
import SystemPackage
import ToolSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `redis-check-aof`: checks an AOF (RESP, RDB preamble, or Redis 7's multi-part directory) with Redis 7's
/// report, and cuts a truncated tail after confirmation, keeping the removed bytes in a file beside it.
@main
struct CheckAOF: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redis-check-aof",
        abstract: "Check (and with --fix repair) an append-only file: single file, RDB preamble, or multi-part.",
        discussion: """
            FILE is an AOF, a Redis 7 manifest (appendonly.aof.manifest) or the directory holding one \
            (appendonlydir). The report uses redis-check-aof's phrases (ok_up_to, ok_up_to_line, "is valid", \
            "is not valid").

            --fix cuts a truncated tail (input ending inside a command, or a MULTI without EXEC) back to the \
            last complete command outside a transaction, after asking "Continue? [y/N]:" on standard input \
            (--yes answers for scripts). The removed bytes are first saved in FILE.truncated-<unix time>. \
            Only the last file of a multi-part AOF is ever cut; an RDB preamble and corrupt (not merely \
            truncated) data are reported and left alone.

            Commands that Redis would refuse to load (unknown name, wrong number of arguments) are listed \
            as suspicious; they do not make the file invalid.

            A single-file AOF may be gzip-compressed (detected from its content): sizes and offsets are then \
            those of the decompressed data, and --fix / --truncate-to-timestamp refuse to cut it. Files named \
            in a manifest must not be compressed (Redis cannot load them).

            Exit status: 0 valid, empty, or repaired; 1 not valid, not repaired, or unreadable; 64 usage error.
            """,
        version: "redis-check-aof 0.1.0 (Redis 7 layouts)"
    )

    @Flag(name: .long, help: "Cut a truncated tail after confirmation (keeping a copy of the removed bytes).")
    var fix = false

    @Flag(name: .long, help: "With --fix: do not ask, answer yes.")
    var yes = false

    @Flag(name: .long, help: "Print the report as one JSON object on standard output.")
    var json = false

    @Option(name: .long, help: "Cut the last file at the first #TS annotation later than this Unix time.")
    var truncateToTimestamp: Int64?

    @Argument(help: "An AOF file, a manifest, or an appendonlydir directory.")
    var file: String

    func validate() throws {
        if fix && truncateToTimestamp != nil {
            throw ValidationError("--fix and --truncate-to-timestamp cannot be used together.")
        }
        if json && fix && !yes {
            throw ValidationError("--json with --fix needs --yes (the prompt would mix with the report).")
        }
        if file == "-" {
            throw ValidationError("redis-check-aof checks a file, a manifest or a directory, not standard input.")
        }
        if let truncateToTimestamp, truncateToTimestamp <= 0 {
            throw ValidationError("Invalid timestamp, aborting...")
        }
    }

    mutating func run() throws {
        var checker = Checker(
            fix: fix, yes: yes, json: json, toTimestamp: truncateToTimestamp, now: Int64(time(nil)))
        let status = checker.check(file)
        if json { print(checker.report.json(valid: status == 0)) }
        if status != 0 { throw ExitCode(status) }
    }
}

// MARK: - Checking

/// The outcome of one file (redis-check-aof's `AOF_CHECK_*`).
enum FileOutcome {
    case ok, empty, truncated, timestampTruncated
}

/// Stops the check with an exit status once the message is printed (redis-check-aof's `exit(1)`).
struct Stop: Error {
    var status: Int32
}

struct Checker {
    let fix: Bool
    let yes: Bool
    let json: Bool
    let toTimestamp: Int64?
    let now: Int64
    var report = Report()
    /// redis-check-aof's global line counter, continued from file to file.
    var line: Int64 = 1

    init(fix: Bool, yes: Bool, json: Bool, toTimestamp: Int64?, now: Int64) {
        self.fix = fix
        self.yes = yes
        self.json = json
        self.toTimestamp = toTimestamp
        self.now = now
    }

    func say(_ text: String, terminator: String = "\n") {
        if !json { print(text, terminator: terminator) }
    }

    /// Checks `path`; returns the exit status.
    mutating func check(_ path: String) -> Int32 {
        do {
            var target = path
            if isDirectory(path) {
                guard let manifest = findManifest(in: path) else {
                    say("Cannot find an AOF manifest in \(path), aborting...")
                    report.error = "no manifest in directory"
                    return 1
                }
                target = manifest
            }
            guard let head = readPrefix(target, count: 4096) else {
                say("Cannot open file \(target): \(String(cString: strerror(errno))), aborting...")
                report.error = "cannot open \(target)"
                return 1
            }
            let isGzip = isGzipMagic(head)
            // Detection looks at the decompressed bytes of a gzip file.
            let decoded = isGzip ? decodedPrefix(target, count: 4096) : head
            if AOFManifest.looksLikeManifest(decoded) {
                if isGzip {
                    say("AOF manifest \(target) is gzip-compressed: Redis cannot read it, aborting...")
                    report.error = "gzip-compressed manifest"
                    return 1
                }
                try checkMultiPart(manifestPath: target)
            } else {
                say("Start checking Old-Style AOF")
                let outcome = try checkSingle(
                    name: target, path: target, kind: "aof", lastFile: true,
                    preamble: AOFReader<InputSource>.startsWithRDB(Array(decoded.prefix(8))))
                printOutcome(outcome, name: target, label: "AOF")
            }
            return 0
        } catch {
            return error.status
        }
    }

    mutating func checkMultiPart(manifestPath: String) throws(Stop) {
        say("Start checking Multi Part AOF")
        let directory = dirname(manifestPath)
        let manifest: AOFManifest
        guard let bytes = readPrefix(manifestPath, count: 64 * 1024 * 1024) else {
            say("Cannot open file \(manifestPath): \(String(cString: strerror(errno)))")
            throw Stop(status: 1)
        }
        do throws(AOFManifest.ParseError) {
            manifest = try AOFManifest(parsing: bytes)
        } catch {
            say(error.description)
            report.error = error.message
            throw Stop(status: 1)
        }
        let files = manifest.loadOrder
        for (index, entry) in files.enumerated() {
            let path = directory + "/" + entry.fileName
            let lastFile = index == files.count - 1
            if let head = readPrefix(path, count: 2), isGzipMagic(head) {
                // Redis loads manifest files as they are: a compressed one fails its load.
                say("AOF \(entry.fileName) is gzip-compressed: Redis cannot load a compressed file named in a manifest, aborting...")
                report.files.append(
                    FileReport(name: entry.fileName, kind: entry.type == .base ? "base" : "incr", gzip: true,
                               error: ["message": .string("gzip-compressed file in a manifest")]))
                throw Stop(status: 1)
            }
            if entry.type == .base {
                let preamble = readPrefix(path, count: 5).map { $0.starts(with: Array("REDIS".utf8)) } ?? false
                say("Start to check BASE AOF (\(preamble ? "RDB" : "RESP") format).")
                let outcome = try checkSingle(
                    name: entry.fileName, path: path, kind: preamble ? "base-rdb" : "base-aof", lastFile: lastFile,
                    preamble: preamble)
                printOutcome(outcome, name: entry.fileName, label: "BASE AOF")
            } else {
                if index == (manifest.base == nil ? 0 : 1) { say("Start to check INCR files.") }
                let outcome = try checkSingle(
                    name: entry.fileName, path: path, kind: "incr", lastFile: lastFile, preamble: false)
                printOutcome(outcome, name: entry.fileName, label: "INCR AOF")
            }
        }
        say("All AOF files and manifest are valid")
    }

    func printOutcome(_ outcome: FileOutcome, name: String, label: String) {
        switch outcome {
        case .ok: say("\(label) \(name) is valid")
        case .empty: say("\(label) \(name) is empty")
        case .timestampTruncated: say("Successfully truncated AOF \(name) to timestamp \(toTimestamp ?? 0)")
        case .truncated: say("Successfully truncated AOF \(name)")
        }
    }

    /// redis-check-aof's `checkSingleAof`.
    mutating func checkSingle(name: String, path: String, kind: String, lastFile: Bool, preamble: Bool)
        throws(Stop) -> FileOutcome
    {
        var info = FileReport(name: name, kind: kind == "aof" && preamble ? "aof-rdb-preamble" : kind)
        var size: Int64
        let source: InputSource
        do throws(FormatError) {
            source = try InputSource.open(path)
            size = source.knownSize ?? fileSize(path) ?? 0
        } catch {
            say("Cannot open file \(path): \(error.detail), aborting...")
            info.error = ["message": .string("cannot open: \(error.detail)")]
            report.files.append(info)
            throw Stop(status: 1)
        }
        defer { source.close() }
        let isGzip = source.isGzip
        info.gzip = isGzip
        if isGzip {
            say("AOF \(name) is gzip-compressed: sizes and offsets are those of the decompressed data")
        }
        info.size = size
        if size == 0 {
            report.files.append(info)
            return .empty
        }
        var reader = AOFReader(source: source, hasPreamble: preamble, line: line)
        var suspicious = SuspiciousCommands()
        var failure: FormatError?
        var keys = 0
        // The decompressed size of gzip input is known only at the end: no progress bar for it.
        var progress = ProgressBar(totalBytes: isGzip ? nil : size, enabled: !json)
        if preamble { say("[offset 0] Checking RDB file \(name)") }
        while true {
            let event: AOFEvent?
            do throws(FormatError) {
                event = try reader.next()
            } catch {
                failure = error
                break
            }
            guard let event else { break }
            progress.update(reader.offset)
            switch event {
            case .rdb(let rdbEvent):
                switch rdbEvent {
                case .aux(let key, let value):
                    say("[offset \(reader.offset)] AUX FIELD \(FormatError.escape(key.bytes)) = '\(FormatError.escape(value.bytes))'")
                case .selectDB(let db):
                    say("[offset \(reader.offset)] Selecting DB ID \(db)")
                case .beginKey:
                    keys += 1
                    // Validated in full, without building element events.
                    do throws(FormatError) {
                        _ = try reader.skipRDBValue()
                    } catch {
                        failure = error
                    }
                case .end:
                    say("[offset \(reader.offset)] \\o/ RDB looks OK! \\o/")
                    say("[info] \(keys) keys read")
                    say("RDB preamble is OK, proceeding with AOF tail...")
                default:
                    break
                }
            case .command(let command):
                if let reason = suspicious.check(command) {
                    report.suspicious.append(
                        ["file": .string(name), "offset": .int(command.offset), "line": .int(command.line),
                         "command": .string(FormatError.escape(command.arguments[0], limit: 64)),
                         "reason": .string(reason)])
                    if !json, report.suspicious.count <= 100 {
                        writeStandardError(
                            "suspicious: \(hexOffset(command.offset)): \(reason) (line \(command.line))\n")
                    }
                }
            case .annotation(let annotation):
                guard let toTimestamp, annotation.text.hasPrefix("TS:") else { continue }
                guard let timestamp = annotation.timestamp else {
                    say("Invalid timestamp annotation")
                    throw Stop(status: 1)
                }
                if timestamp <= toTimestamp { continue }
                if annotation.offset == 0 {
                    say("AOF \(path) has nothing before timestamp \(toTimestamp), aborting...")
                    throw Stop(status: 1)
                }
                if isGzip {
                    say("Cannot truncate AOF \(name) to timestamp \(toTimestamp): it is gzip-compressed, and the cut would be at offset \(annotation.offset) of the decompressed data. Decompress it (gzip -d), then run again on the plain file. Nothing was changed.")
                    throw Stop(status: 1)
                }
                if !lastFile {
                    say("Failed to truncate AOF \(path) to timestamp \(toTimestamp) to offset \(annotation.offset) because it is not the last file.")
                    say("If you insist, please delete all files after this file according to the manifest file and delete the corresponding records in manifest file manually. Then re-run redis-check-aof.")
                    throw Stop(status: 1)
                }
                do throws(CutFailure) {
                    try cut(path: path, size: size, to: annotation.offset)
                } catch {
                    say("Failed to truncate AOF \(path) to timestamp \(toTimestamp)")
                    say(error.message)
                    report.error = error.message
                    throw Stop(status: 1)
                }
                info.okUpTo = annotation.offset
                info.line = reader.line
                info.diff = size - annotation.offset
                report.files.append(info)
                return .timestampTruncated
            }
        }
        line = reader.line
        info.line = reader.line
        if isGzip {
            // Offsets and sizes are in the decompressed data: read what is left to learn its size.
            size = reader.readInputSize()
            info.size = size
            if size == 0, failure == nil {
                report.files.append(info)
                return .empty
            }
        }
        progress.update(size)

        if let failure, reader.failedInPreamble {
            say("--- RDB ERROR DETECTED ---")
            say("[offset \(failure.offset)] \(failure.code): \(failure.detail) (while \(failure.phase))")
            say("RDB preamble of AOF file is not sane, aborting.")
            info.okUpTo = 0
            info.diff = size
            info.error = ["offset": .int(failure.offset), "code": .string("\(failure.code)"),
                          "message": .string(failure.detail), "in_preamble": .bool(true)]
            report.files.append(info)
            throw Stop(status: 1)
        }
        var errorLine: String?
        if let failure {
            if let message = reader.failureMessage {
                let suffix = message.hasPrefix("Unexpected ") ? " in AOF \(path)" : ""
                errorLine = "\(hexOffset(reader.lastItemOffset)): \(message)\(suffix)"
            } else if failure.detail.hasPrefix("format error") {
                say("AOF \(name) format error")
            } else if failure.phase == .io {
                // The input itself failed: damaged gzip data, a read error.
                errorLine = "\(hexOffset(failure.offset)): \(failure.detail)"
            } else if reader.inTransaction, failure.code == .truncated {
                // The input ended at the start of a line inside a transaction: Redis has no message of its own
                // for that and reports the open MULTI.
                errorLine = "\(hexOffset(reader.lastItemOffset)): Reached EOF before reading EXEC for MULTI"
            }
            info.error = ["offset": .int(failure.offset), "code": .string("\(failure.code)"),
                          "message": .string(failure.detail)]
        } else if reader.inTransaction {
            errorLine = "\(hexOffset(reader.lastItemOffset)): Reached EOF before reading EXEC for MULTI"
            info.error = ["offset": .int(reader.safeOffset), "code": .string("truncated"),
                          "message": .string("Reached EOF before reading EXEC for MULTI")]
        }
        if let errorLine { say(errorLine) }

        let okUpTo = failure == nil && !reader.inTransaction ? size : reader.safeOffset
        let diff = size - okUpTo
        info.okUpTo = okUpTo
        info.diff = diff
        report.files.append(info)
        if diff == 0, let toTimestamp {
            say("Truncate nothing in AOF \(name) to timestamp \(toTimestamp)")
            return .ok
        }
        say("AOF analyzed: filename=\(name), size=\(size), ok_up_to=\(okUpTo), ok_up_to_line=\(reader.line), diff=\(diff)")
        if diff == 0, let failure {
            // Every command is whole, but the input itself failed after them (a gzip trailer missing or wrong).
            say("AOF \(name) is not valid: \(failure.detail)")
            throw Stop(status: 1)
        }
        guard diff > 0 else { return .ok }
        guard fix else {
            say("AOF \(name) is not valid. Use the --fix option to try fixing it.")
            throw Stop(status: 1)
        }
        if isGzip {
            say("Cannot fix AOF \(name): it is gzip-compressed, and the cut would be at offset \(okUpTo) of the decompressed data. Decompress it (gzip -d), then run --fix on the plain file. Nothing was changed.")
            throw Stop(status: 1)
        }
        if !lastFile {
            say("Failed to truncate AOF \(name) because it is not the last file")
            say("Nothing was changed: \(name) is damaged at offset \(okUpTo), and only the last file of a multi-part AOF can be cut.")
            throw Stop(status: 1)
        }
        // A truncated tail (input ends inside a command, or MULTI without EXEC) is all --fix may cut: corrupt
        // bytes mean something else went wrong, and cutting there could drop good commands after them.
        if let failure, failure.code != .truncated {
            say("Not fixing AOF \(name): the data at offset \(failure.offset) is corrupt, not truncated. Nothing was changed.")
            throw Stop(status: 1)
        }
        say("This will shrink the AOF \(name) from \(size) bytes, with \(diff) bytes, to \(okUpTo) bytes")
        if !yes {
            say("Continue? [y/N]: ", terminator: "")
            fflush(nil)
            let answer = readLine(strippingNewline: true) ?? ""
            guard answer.first == "y" || answer.first == "Y" else {
                say("Aborting...")
                throw Stop(status: 1)
            }
        }
        do throws(CutFailure) {
            try cut(path: path, size: size, to: okUpTo)
        } catch {
            say("Failed to truncate AOF \(name)")
            say(error.message)
            report.error = error.message
            throw Stop(status: 1)
        }
        return .truncated
    }

    /// Why ``cut(path:size:to:)`` failed, and what it changed: printed after "Failed to truncate AOF …".
    struct CutFailure: Error {
        var message: String
    }

    /// Saves bytes `offset..<size` of `path` beside it (atomically: temporary file, fsync, rename), then
    /// truncates `path` to `offset` and fsyncs it.
    ///
    /// - Throws: ``CutFailure``. When the copy or the truncation fails, nothing was changed (no copy is left,
    ///   and no temporary file). When only the final fsync fails, the file is cut but the cut may not survive a
    ///   crash, and the copy of the removed bytes is kept.
    func cut(path: String, size: Int64, to offset: Int64) throws(CutFailure) {
        var backup = "\(path).truncated-\(now)"
        var attempt = 1
        while access(backup, F_OK) == 0 {
            backup = "\(path).truncated-\(now)-\(attempt)"
            attempt += 1
        }
        let descriptor: SystemPackage.FileDescriptor
        do {
            descriptor = try SystemPackage.FileDescriptor.open(FilePath(path), .readWrite)
        } catch {
            throw CutFailure(message: "Cannot open \(path) for writing: \(error). Nothing was changed.")
        }
        defer { try? descriptor.close() }
        do throws(any Error) {
            // Copied in bounded chunks: an open transaction can make the tail large. The sink removes its
            // temporary file when a write or the fsync fails.
            let sink = try FileSink(path: backup)
            var chunk = [UInt8](repeating: 0, count: 1 << 20)
            var position = offset
            while position < size {
                let want = Int(min(Int64(chunk.count), size - position))
                let got = try chunk.withUnsafeMutableBytes {
                    try descriptor.read(fromAbsoluteOffset: position, into: UnsafeMutableRawBufferPointer(rebasing: $0.prefix(want)))
                }
                guard got > 0 else {
                    sink.abort()
                    throw CutFailure(message: "\(path) ended at \(position) bytes while its tail was copied. Nothing was changed.")
                }
                var buffer = ByteBufferAllocator().buffer(capacity: got)
                buffer.writeBytes(chunk.prefix(got))
                try sink.write(buffer)
                position += Int64(got)
            }
            try sink.finish()
        } catch let failure as CutFailure {
            throw failure
        } catch {
            let reason = (error as? FormatError)?.detail ?? "\(error)"
            throw CutFailure(message: "Could not save the \(size - offset) bytes to remove in \(backup): \(reason). Nothing was changed.")
        }
        say("Saved the \(size - offset) removed bytes in \(backup)")
        guard ftruncate(descriptor.rawValue, off_t(offset)) == 0 else {
            let error = Errno(rawValue: errno)
            // The copy duplicates bytes that are still in the file: leave no trace of an attempt that changed nothing.
            unlink(backup)
            throw CutFailure(message: "ftruncate \(path) to \(offset) bytes: \(error). Nothing was changed.")
        }
        guard fsync(descriptor.rawValue) == 0 else {
            let error = Errno(rawValue: errno)
            throw CutFailure(
                message: "fsync \(path): \(error). The file was cut to \(offset) bytes, but the cut may not survive a "
                    + "crash; the removed bytes are in \(backup).")
        }
    }
}

// MARK: - Helpers

/// `0x%16llx`: hexadecimal, padded with spaces to 16 characters.
func hexOffset(_ offset: Int64) -> String {
    let digits = String(offset, radix: 16)
    return "0x" + String(repeating: " ", count: max(0, 16 - digits.count)) + digits
}

func isDirectory(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
}

func fileSize(_ path: String) -> Int64? {
    var info = stat()
    return stat(path, &info) == 0 ? Int64(info.st_size) : nil
}

func dirname(_ path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    return slash == path.startIndex ? "/" : String(path[..<slash])
}

/// The first `count` bytes of a file (fewer when it is shorter); nil when it cannot be opened.
func readPrefix(_ path: String, count: Int) -> [UInt8]? {
    guard let descriptor = try? FileDescriptor.open(FilePath(path), .readOnly) else { return nil }
    defer { try? descriptor.close() }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: min(count, 65536))
    while bytes.count < count {
        guard let got = try? chunk.withUnsafeMutableBytes({ try descriptor.read(into: $0) }), got > 0 else { break }
        bytes += chunk.prefix(min(got, count - bytes.count))
    }
    return bytes
}

/// True when `bytes` start with the gzip magic (1f 8b).
func isGzipMagic(_ bytes: [UInt8]) -> Bool {
    bytes.starts(with: [0x1f, 0x8b])
}

/// The first `count` bytes of a file after gzip decompression (as many as could be decoded when the data is
/// damaged).
func decodedPrefix(_ path: String, count: Int) -> [UInt8] {
    guard var source = try? InputSource.open(path) else { return [] }
    defer { source.close() }
    var buffer = ByteBufferAllocator().buffer(capacity: count)
    while buffer.readableBytes < count {
        guard let got = try? source.read(into: &buffer, atMost: count - buffer.readableBytes), got > 0 else { break }
    }
    return Array(buffer.readableBytesView.prefix(count))
}

/// The manifest inside an `appendonlydir`: the one `*.manifest` that is not a `temp-` file.
func findManifest(in directory: String) -> String? {
    guard let handle = opendir(directory) else { return nil }
    defer { closedir(handle) }
    var found: [String] = []
    while let entry = readdir(handle) {
        let name = withUnsafePointer(to: entry.pointee.d_name) {
            $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
        }
        if name.hasSuffix(".manifest"), !name.hasPrefix("temp-") { found.append(name) }
    }
    return found.count == 1 ? directory + "/" + found[0] : nil
}
