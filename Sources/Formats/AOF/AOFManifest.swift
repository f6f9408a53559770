import NIOCore

// The manifest of a multi-part AOF (Redis 7.0+, `aof.c` `aofLoadManifestFromFile`):
//
//   # comment lines are skipped
//   file appendonly.aof.1.base.rdb seq 1 type b\n        at most one BASE (`b`), first
//   file appendonly.aof.1.incr.aof seq 1 type h\n        HISTORY (`h`), to be deleted
//   file appendonly.aof.2.incr.aof seq 2 type i\n        INCR (`i`), sequence strictly increasing
//
// Each line ≤ 1024 bytes, LF-terminated, an even number (≥ 6) of tokens split as `sdssplitargs` splits them
// (names with spaces or control characters are "quoted" with C escapes), keys case-insensitive, extra pairs
// ignored for forward compatibility.
//
// Redis writes the lines in that order (getAofManifestAsString): the base, the history files, the incremental
// files; the file is replaced atomically (temp-<appendfilename>.manifest, fsync, rename, fsync of the directory).
// File names (aof.c): <appendfilename>.<seq>.base.rdb | .base.aof, <appendfilename>.<seq>.incr.aof,
// <appendfilename>.manifest.

/// The kind of a file listed in a manifest.
public enum AOFFileType: Character, Sendable {
    /// AOF_FILE_TYPE_BASE: the snapshot written by the last rewrite (`.base.rdb` or `.base.aof`).
    case base = "b"
    /// AOF_FILE_TYPE_HIST: obsolete, kept until deleted in the background; not loaded.
    case history = "h"
    /// AOF_FILE_TYPE_INCR: commands since the rewrite.
    case incremental = "i"
}

/// One line of a manifest.
public struct AOFManifestEntry: Sendable, Equatable {
    /// The file's name (never a path), relative to the manifest's directory.
    public var fileName: String
    /// The `seq` number.
    public var sequence: Int64
    /// BASE, HISTORY or INCR.
    public var type: AOFFileType

    /// Creates an entry.
    public init(fileName: String, sequence: Int64, type: AOFFileType) {
        self.fileName = fileName
        self.sequence = sequence
        self.type = type
    }
}

/// A parsed manifest: at most one base, then the history and incremental files in their order.
public struct AOFManifest: Sendable {
    /// The BASE file, if any.
    public var base: AOFManifestEntry?
    /// HISTORY files (not loaded by Redis).
    public var history: [AOFManifestEntry] = []
    /// INCR files in increasing sequence, the order Redis loads them.
    public var incrementals: [AOFManifestEntry] = []

    /// Creates a manifest from its entries (the lists say each entry's type; ``AOFManifestEntry/type`` is not
    /// consulted when writing).
    public init(base: AOFManifestEntry? = nil, history: [AOFManifestEntry] = [], incrementals: [AOFManifestEntry] = []) {
        self.base = base
        self.history = history
        self.incrementals = incrementals
    }

    /// The files Redis loads, in order: the base, then every incremental file.
    public var loadOrder: [AOFManifestEntry] { (base.map { [$0] } ?? []) + incrementals }

    /// A manifest error with Redis's message and, as Redis logs it, the line number and the line.
    public struct ParseError: Error, Sendable, CustomStringConvertible {
        /// Redis's message ("Found an empty AOF manifest", "Invalid AOF manifest file format", …).
        public var message: String
        /// 1-based line number, when the error is about a line.
        public var lineNumber: Int?
        /// The offending line, trimmed.
        public var line: String?

        public var description: String {
            var text = "\n*** FATAL AOF MANIFEST FILE ERROR ***\n"
            if let lineNumber, let line {
                text += "Reading the manifest file, at line \(lineNumber)\n>>> '\(line)'\n"
            }
            return text + message
        }
    }

    /// AOF_MANIFEST_LINE_MAX_LEN.
    public static let maxLineBytes = 1024

    /// Parses a manifest's bytes as Redis 7 does.
    ///
    /// - Throws: ``ParseError`` with Redis's message.
    public init(parsing bytes: [UInt8]) throws(ParseError) {
        var lineNumber = 0
        var maxIncrementalSequence: Int64 = 0
        var index = 0
        if bytes.isEmpty { throw ParseError(message: "Found an empty AOF manifest") }
        while index < bytes.count {
            // fgets with a buffer of 1024 + 1: at most 1024 bytes per read.
            var end = index
            while end < bytes.count, end - index < Self.maxLineBytes, bytes[end] != UInt8(ascii: "\n") { end += 1 }
            let hasNewline = end < bytes.count && bytes[end] == UInt8(ascii: "\n")
            let raw = Array(bytes[index..<(hasNewline ? end + 1 : end)])
            index = hasNewline ? end + 1 : end
            lineNumber += 1
            if raw.first == UInt8(ascii: "#") { continue }
            // sdstrim(line, " \t\r\n")
            let isTrimmed: (UInt8) -> Bool = { $0 == 32 || $0 == 9 || $0 == 13 || $0 == 10 }
            let first = raw.firstIndex { !isTrimmed($0) } ?? raw.count
            let last = raw.lastIndex { !isTrimmed($0) }.map { $0 + 1 } ?? first
            let trimmedBytes = Array(raw[first..<max(first, last)])
            let trimmed = String(decoding: trimmedBytes, as: UTF8.self)
            guard hasNewline else {
                throw ParseError(message: "The AOF manifest file contains too long line", lineNumber: lineNumber, line: nil)
            }
            func fail(_ message: String) -> ParseError {
                ParseError(message: message, lineNumber: lineNumber, line: trimmed)
            }
            guard !trimmed.isEmpty else { throw fail("Invalid AOF manifest file format") }
            guard let tokens = Self.splitArguments(trimmedBytes), tokens.count >= 6, tokens.count % 2 == 0 else {
                throw fail("Invalid AOF manifest file format")
            }
            var name: String?
            var sequence: Int64 = 0
            var typeByte: UInt8 = 0
            for pair in stride(from: 0, to: tokens.count, by: 2) {
                let key = String(decoding: tokens[pair], as: UTF8.self).lowercased()
                let value = tokens[pair + 1]
                switch key {
                case "file":
                    let fileName = String(decoding: value, as: UTF8.self)
                    guard !value.contains(UInt8(ascii: "/")), !value.contains(UInt8(ascii: "\\")) else {
                        throw fail("File can't be a path, just a filename")
                    }
                    name = fileName
                case "seq":
                    sequence = Self.atoll(value)
                case "type":
                    typeByte = value.first ?? 0
                default:
                    break
                }
            }
            guard let name, sequence != 0, typeByte != 0 else { throw fail("Invalid AOF manifest file format") }
            switch typeByte {
            case UInt8(ascii: "b"):
                guard base == nil else { throw fail("Found duplicate base file information") }
                base = AOFManifestEntry(fileName: name, sequence: sequence, type: .base)
            case UInt8(ascii: "h"):
                history.append(AOFManifestEntry(fileName: name, sequence: sequence, type: .history))
            case UInt8(ascii: "i"):
                guard sequence > maxIncrementalSequence else { throw fail("Found a non-monotonic sequence number") }
                incrementals.append(AOFManifestEntry(fileName: name, sequence: sequence, type: .incremental))
                maxIncrementalSequence = sequence
            default:
                throw fail("Unknown AOF file type")
            }
        }
        if lineNumber == 0 { throw ParseError(message: "Found an empty AOF manifest") }
    }

    /// True when `bytes` look like a manifest: the first line that is not a `#` comment starts with `file`
    /// (redis-check-aof's `getInputFileType`).
    public static func looksLikeManifest(_ bytes: [UInt8]) -> Bool {
        var index = 0
        while index < bytes.count {
            var end = index
            while end < bytes.count, bytes[end] != UInt8(ascii: "\n") { end += 1 }
            let line = bytes[index..<end]
            if line.first != UInt8(ascii: "#") {
                return line.starts(with: Array("file".utf8))
            }
            index = end + 1
        }
        return false
    }

    // MARK: - Writing

    /// The manifest's text as Redis writes it: `file <name> seq <n> type <b|h|i>\n` for the base, each history
    /// file, then each incremental file. A name that `sdssplitargs` would not read back as it is (spaces,
    /// quotes, backslashes, bytes outside printable ASCII) is written in double quotes with C escapes.
    public func serialized() -> [UInt8] {
        var text = ""
        let lines = (base.map { [($0, AOFFileType.base)] } ?? []) + history.map { ($0, .history) }
            + incrementals.map { ($0, .incremental) }
        for (entry, type) in lines {
            text += "file \(Self.quotedIfNeeded(entry.fileName)) seq \(entry.sequence) type \(type.rawValue)\n"
        }
        return Array(text.utf8)
    }

    /// Writes the manifest to `path` atomically: a temporary file beside it, fsync, rename, fsync of the
    /// directory (``FileSink``). A crash leaves the old manifest or the new one.
    ///
    /// - Throws: `.corrupt` when Redis would refuse to load the result (the message is Redis's: a name that is a
    ///   path, non-increasing incremental sequence numbers, a zero sequence, no file at all, a line over 1024
    ///   bytes), before anything is written; `.io` naming the failed step.
    public func write(to path: String) throws(FormatError) {
        let bytes = serialized()
        // What we write must load: read it back with the same rules as Redis's loader.
        do throws(ParseError) {
            _ = try AOFManifest(parsing: bytes)
        } catch {
            throw FormatError(
                .corrupt, offset: 0, phase: .other("write-manifest"),
                "Redis would refuse this manifest: \(error.message)\(error.line.map { " ('\($0)')" } ?? "")")
        }
        let sink = try FileSink(path: path)
        try sink.write(ByteBuffer(bytes: bytes))
        try sink.finish()
    }

    /// `<appendfilename>.<seq>.base.rdb` (RDB format) or `.base.aof` (RESP), as Redis 7 names a base file.
    public static func baseFileName(_ appendFileName: String = "appendonly.aof", sequence: Int64, rdb: Bool) -> String {
        "\(appendFileName).\(sequence).base.\(rdb ? "rdb" : "aof")"
    }

    /// `<appendfilename>.<seq>.incr.aof`, as Redis 7 names an incremental file.
    public static func incrementalFileName(_ appendFileName: String = "appendonly.aof", sequence: Int64) -> String {
        "\(appendFileName).\(sequence).incr.aof"
    }

    /// `<appendfilename>.manifest`.
    public static func manifestFileName(_ appendFileName: String = "appendonly.aof") -> String {
        "\(appendFileName).manifest"
    }

    /// The name as a manifest token: as it is when it reads back unchanged, otherwise quoted.
    static func quotedIfNeeded(_ name: String) -> String {
        let plain = !name.isEmpty && name.utf8.allSatisfy { byte in
            (0x21...0x7e).contains(byte) && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "'")
                && byte != UInt8(ascii: "\\")
        }
        return plain ? name : "\"" + FormatError.escape(ByteBuffer(string: name), limit: Int.max) + "\""
    }

    // MARK: - sdssplitargs

    /// Splits a line as Redis's `sdssplitargs` does; nil for unbalanced quotes or a closing quote not
    /// followed by a space.
    static func splitArguments(_ line: [UInt8]) -> [[UInt8]]? {
        var result: [[UInt8]] = []
        var index = 0
        func isSpace(_ byte: UInt8) -> Bool { byte == 32 || (9...13).contains(byte) }
        func hexValue(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        while true {
            while index < line.count, isSpace(line[index]) { index += 1 }
            guard index < line.count else { return result }
            var current: [UInt8] = []
            var inDouble = false
            var inSingle = false
            var done = false
            while !done {
                if inDouble {
                    guard index < line.count else { return nil }
                    let byte = line[index]
                    if byte == UInt8(ascii: "\\"), index + 3 < line.count, line[index + 1] == UInt8(ascii: "x"),
                        let high = hexValue(line[index + 2]), let low = hexValue(line[index + 3])
                    {
                        current.append(high << 4 | low)
                        index += 3
                    } else if byte == UInt8(ascii: "\\"), index + 1 < line.count {
                        index += 1
                        switch line[index] {
                        case UInt8(ascii: "n"): current.append(10)
                        case UInt8(ascii: "r"): current.append(13)
                        case UInt8(ascii: "t"): current.append(9)
                        case UInt8(ascii: "b"): current.append(8)
                        case UInt8(ascii: "a"): current.append(7)
                        default: current.append(line[index])
                        }
                    } else if byte == UInt8(ascii: "\"") {
                        // The closing quote must be followed by a space or the end.
                        if index + 1 < line.count, !isSpace(line[index + 1]) { return nil }
                        done = true
                    } else {
                        current.append(byte)
                    }
                } else if inSingle {
                    guard index < line.count else { return nil }
                    let byte = line[index]
                    if byte == UInt8(ascii: "\\"), index + 1 < line.count, line[index + 1] == UInt8(ascii: "'") {
                        index += 1
                        current.append(UInt8(ascii: "'"))
                    } else if byte == UInt8(ascii: "'") {
                        if index + 1 < line.count, !isSpace(line[index + 1]) { return nil }
                        done = true
                    } else {
                        current.append(byte)
                    }
                } else {
                    guard index < line.count else { break }
                    let byte = line[index]
                    if isSpace(byte) {
                        done = true
                    } else if byte == UInt8(ascii: "\"") {
                        inDouble = true
                    } else if byte == UInt8(ascii: "'") {
                        inSingle = true
                    } else {
                        current.append(byte)
                    }
                }
                if index < line.count { index += 1 }
            }
            result.append(current)
        }
    }

    /// `atoll`: leading spaces, an optional sign, digits; anything else ends the number (0 when none).
    private static func atoll(_ bytes: [UInt8]) -> Int64 {
        var index = 0
        while index < bytes.count, bytes[index] == 32 || (9...13).contains(bytes[index]) { index += 1 }
        var negative = false
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
            negative = bytes[index] == UInt8(ascii: "-")
            index += 1
        }
        var value: Int64 = 0
        while index < bytes.count, let digit = Int64(exactly: bytes[index]), (48...57).contains(digit) {
            value = value &* 10 &+ (digit - 48)
            index += 1
        }
        return negative ? -value : value
    }
}
