import Formats
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// What replaying an AOF did.
public struct AOFReplaySummary: Sendable {
    /// Commands executed (MULTI/EXEC included).
    public var commands = 0
    /// Keys loaded from RDB preambles or `.base.rdb` files.
    public var preambleKeys = 0
    /// Files replayed, in order (one for a single-file AOF).
    public var files: [String] = []
    /// Commands whose reply was an error (Redis ignores them when loading too): offset and message of the first.
    public var failedCommands = 0
    public var firstFailure: (offset: Int64, file: String, message: String)?
    /// Offset in the last file up to which it was replayed (its size when the file is complete).
    public var lastFileOffset: Int64 = 0
    public init() {}
}

/// Where an AOF replay stopped on damaged input.
public struct AOFReplayError: Error, Sendable, CustomStringConvertible {
    /// The file that failed.
    public var file: String
    /// The reader's error (offset inside `file`; `.truncated` for an incomplete last command).
    public var underlying: FormatError
    /// How much was replayed before the error.
    public var summary: AOFReplaySummary

    public var description: String { "\(file): \(underlying)" }
}

extension Keyspace {
    /// Replays an AOF into the keyspace, the way Redis loads one at start-up: a single file (RESP, or an RDB
    /// preamble then RESP), a Redis 7 manifest, or an `appendonlydir` (its manifest is found by the
    /// `*.manifest` file name). Every write command an AOF can hold runs through the command table — the same
    /// implementation the server uses — with expiry off (as Redis while loading) and propagation off.
    ///
    /// An unknown command is an error (Redis refuses to load such a file); a command whose reply is an error is
    /// counted and skipped (Redis ignores replies while loading).
    ///
    /// - Parameter allowTruncatedTail: accept a last file that ends inside a command or inside MULTI: what came
    ///   before the command (or the MULTI) is kept (Redis's `aof-load-truncated yes`); the summary's
    ///   `lastFileOffset` is where the file should be cut. A cut RDB preamble is an error all the same.
    /// - Throws: ``AOFReplayError`` naming the file and the offset.
    public func replayAOF(path: String, allowTruncatedTail: Bool = false) throws(AOFReplayError) -> AOFReplaySummary {
        var summary = AOFReplaySummary()
        let files: [String]
        do {
            files = try Keyspace.aofFiles(at: path)
        } catch {
            throw AOFReplayError(file: path, underlying: error, summary: summary)
        }
        let wasExpiring = expiryEnabled
        let wasPropagating = propagationEnabled
        expiryEnabled = false
        propagationEnabled = false
        defer {
            expiryEnabled = wasExpiring
            propagationEnabled = wasPropagating
        }
        for (index, file) in files.enumerated() {
            let isLast = index == files.count - 1
            do {
                try replayFile(file, into: &summary, allowTruncatedTail: allowTruncatedTail && isLast)
            } catch {
                throw AOFReplayError(file: file, underlying: error, summary: summary)
            }
            summary.files.append(file)
        }
        return summary
    }

    /// The files of an AOF in load order: a manifest's base and incr files, a directory's manifest, or `path`.
    public static func aofFiles(at path: String) throws(FormatError) -> [String] {
        var isDirectory = false
        var status = stat()
        if stat(path, &status) == 0 { isDirectory = (status.st_mode & S_IFMT) == S_IFDIR }
        var manifestPath = path
        if isDirectory {
            guard let name = Keyspace.directoryEntries(path).first(where: { $0.hasSuffix(".manifest") }) else {
                throw FormatError(.corrupt, offset: 0, phase: .other("read-manifest"), "no *.manifest file in \(path)")
            }
            manifestPath = path + "/" + name
        }
        let head = try Keyspace.readPrefix(manifestPath, count: 4096)
        guard isDirectory || AOFManifest.looksLikeManifest(head) else { return [path] }
        let bytes = try Keyspace.readPrefix(manifestPath, count: 1 << 20)
        let manifest: AOFManifest
        do {
            manifest = try AOFManifest(parsing: bytes)
        } catch {
            throw FormatError(.corrupt, offset: 0, phase: .other("read-manifest"), error.description)
        }
        let directory = String(manifestPath[..<(manifestPath.lastIndex(of: "/") ?? manifestPath.startIndex)])
        let prefix = directory.isEmpty ? "" : directory + "/"
        return manifest.loadOrder.map { prefix + $0.fileName }
    }

    private func replayFile(_ path: String, into summary: inout AOFReplaySummary, allowTruncatedTail: Bool) throws(FormatError) {
        let source = try InputSource.open(path)
        defer { source.close() }
        let head = try Keyspace.readPrefix(path, count: 16)
        var rdbOptions = RDBReadOptions()
        rdbOptions.groupsBlobElements = true  // the loader copies a block's elements straight into the value
        var reader = AOFReader(source: source, hasPreamble: AOFReader<InputSource>.startsWithRDB(head), rdbOptions: rdbOptions)
        var loader = RDBEventLoader(keyspace: self)
        let session = Session(id: -1)
        session.authenticated = true
        var inMulti = false
        do throws(FormatError) {
            while let event = try reader.next() {
                switch event {
                case .rdb(let rdbEvent):
                    try loader.handle(rdbEvent)
                    if case .endKey = rdbEvent { summary.preambleKeys += 1 }
                case .annotation:
                    continue
                case .command(let command):
                    let argv = command.arguments.map { Bytes($0) }
                    let name = argv.first?.lowercasedASCII ?? ""
                    guard commands[name] != nil else {
                        throw FormatError(.corrupt, offset: command.offset, phase: .other("replay"),
                            "unknown command '\(argv.first?.string ?? "")' in the append only file")
                    }
                    if name == "multi" {
                        inMulti = true
                    } else if name == "exec" {
                        inMulti = false
                    }
                    let reply = execute(argv, session: session)
                    summary.commands += 1
                    if case .error(let message) = reply {
                        summary.failedCommands += 1
                        if summary.firstFailure == nil { summary.firstFailure = (command.offset, path, message) }
                    }
                }
            }
        } catch {
            // The preamble's keys still held are inserted (or a duplicate among them, earlier in the file, is
            // the error).
            let error = loader.finish(failure: error) ?? error
            // A cut RDB preamble is not a torn last command: Redis refuses to load it, and cutting the file at
            // the preamble's start would throw the dataset away.
            guard allowTruncatedTail, error.code == .truncated, !reader.hasPreamble || reader.commandsOffset != nil else {
                throw error
            }
            summary.lastFileOffset = reader.safeOffset
            if inMulti { sessionClosed(session) }
            return
        }
        if inMulti {
            guard allowTruncatedTail else {
                throw FormatError(.truncated, offset: reader.safeOffset, phase: .other("replay"),
                    "the append only file ends inside MULTI (no EXEC)")
            }
            // The queued commands of a MULTI without EXEC never ran: dropping the session discards them, and the
            // file is sound up to the MULTI only (Redis reverts the transaction and cuts the file there too, else
            // the next appends would land inside the open transaction).
            sessionClosed(session)
            summary.lastFileOffset = reader.safeOffset
            return
        }
        summary.lastFileOffset = reader.offset
    }

    static func readPrefix(_ path: String, count: Int) throws(FormatError) -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw FormatError(.io, offset: 0, phase: .io, "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let n = bytes[filled...].withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            filled += n
        }
        return Array(bytes[0..<filled])
    }

    static func directoryEntries(_ path: String) -> [String] {
        guard let directory = opendir(path) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }
}
