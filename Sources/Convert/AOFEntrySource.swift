import Formats
import HashTreeCollections
import Keyspace
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

// MARK: - AOF input: replayed through the command engine, then read back key by key
//
// An AOF holds commands, not keys: any write command Redis accepts, MULTI/EXEC included. The only faithful way to
// know the dataset it describes is to run them, so the AOF (single file, RDB preamble, manifest or
// appendonlydir) is replayed into a `Keyspace` — the same command implementations the server uses — and the
// result is handed to the writers like the keys of an RDB. Memory is that of the dataset, not of the file.

enum AOFInput {
    /// Whether `path` is an AOF rather than an RDB or JSON: a directory, a Redis 7 manifest, or a file that starts
    /// like a RESP AOF (`*` or a `#TS:` annotation), or an `.aof` name (an RDB-preamble AOF starts like an RDB).
    static func looks(_ path: String) -> Bool {
        guard path != "-" else { return false }
        var status = stat()
        guard stat(path, &status) == 0 else { return false }
        if (status.st_mode & S_IFMT) == S_IFDIR { return true }
        if path.hasSuffix(".aof") || path.hasSuffix(".manifest") { return true }
        guard let file = fopen(path, "rb") else { return false }
        defer { fclose(file) }
        var head = [UInt8](repeating: 0, count: 512)
        let count = fread(&head, 1, head.count, file)
        let prefix = Array(head.prefix(count))
        if let first = prefix.first, first == UInt8(ascii: "*") || first == UInt8(ascii: "#") { return true }
        return AOFManifest.looksLikeManifest(prefix)
    }

    /// Replays the AOF at `path` into a fresh keyspace.
    /// - Throws: `FormatError` naming the file and offset of what could not be read or run.
    static func replay(_ path: String) throws(FormatError) -> Keyspace {
        let keyspace = Keyspace()
        do throws(AOFReplayError) {
            _ = try keyspace.replayAOF(path: path)
        } catch {
            var failure = error.underlying
            failure.detail = "\(error.file): \(failure.detail)"
            throw failure
        }
        return keyspace
    }
}

/// The keys of a replayed keyspace, database by database, as whole RDB entries.
struct KeyspaceEntrySource: EntrySource {
    private let databases: [Database]
    private var database = 0
    private var iterator: TreeDictionary<Bytes, Value>.Iterator?
    let info = RDBFileInfo()
    private(set) var offset: Int64 = 0

    init(_ keyspace: Keyspace) {
        databases = keyspace.snapshot()
    }

    mutating func next(accepting filter: KeyFilter) throws(FormatError) -> RDBEntry? {
        while database < databases.count {
            if iterator == nil { iterator = databases[database].entries.makeIterator() }
            while let (key, value) = iterator!.next() {
                offset += 1
                let header = RDBKeyHeader(
                    database: database, key: key.byteBuffer, type: value.rdbType,
                    expireAtMilliseconds: databases[database].expires[key])
                guard filter.accepts(header) else { continue }
                return RDBEntry(header: header, value: value.rdbValue)
            }
            iterator = nil
            database += 1
        }
        return nil
    }
}
