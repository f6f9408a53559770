import Formats
import HashTreeCollections
import NIOCore

extension Value {
    /// The value as the RDB writer takes it. The writer picks the encoding the target version's Redis would.
    public var rdbValue: RDBValue {
        switch self {
        case .string(let bytes): .string(bytes.rdbString)
        case .list(let list): .list(list.map(\.rdbString))
        case .set(let set): .set(set.members.map(\.rdbString))
        case .sortedSet(let zset): .zset(zset.map { RDBScoredMember(member: $0.member.rdbString, score: $0.score) })
        case .hash(let hash): .hash(hash.fields.map { RDBHashField(field: $0.key.rdbString, value: $0.value.rdbString) })
        case .stream(let stream): .stream(stream.rdbStream)
        }
    }

    /// The RDB type a key header names for this value (the writer re-chooses the compact encodings).
    public var rdbType: RDBType {
        switch self {
        case .string: .string
        case .list: .listQuicklist2
        case .set: .setHashtable
        case .sortedSet: .zsetV2
        case .hash: .hashHashtable
        case .stream: .stream2
        }
    }
}

extension Keyspace {
    /// Writes `snapshot` (from ``snapshot()``) as a complete RDB: header and AUX fields, every database with its
    /// RESIZEDB hint, every key with its expiry, EOF and checksum. Runs on any thread: the snapshot is a value.
    ///
    /// - Returns: the number of keys written.
    /// - Throws: what the writer and its sink throw (`.io` on a full disk…).
    public static func save<Sink: ByteSink>(
        _ snapshot: [Database], to writer: inout RDBWriter<Sink>, aux: [(key: String, value: String)] = []
    ) throws(FormatError) -> Int {
        try writer.writeHeader(aux: aux)
        var written = 0
        for (index, database) in snapshot.enumerated() where !database.isEmpty {
            try writer.selectDB(index, keys: UInt64(database.count), expires: UInt64(database.expires.count))
            for (key, value) in database.entries {
                let header = RDBKeyHeader(
                    database: index, key: key.byteBuffer, type: value.rdbType,
                    expireAtMilliseconds: database.expires[key])
                try writer.writeEntry(RDBEntry(header: header, value: value.rdbValue))
                written += 1
            }
        }
        try writer.finish()
        return written
    }

    /// Writes `snapshot` to `path` atomically (temp file in the same directory, fsync, rename, directory fsync).
    public static func saveRDB(
        _ snapshot: [Database], path: String, options: RDBWriteOptions = .init(), aux: [(key: String, value: String)] = []
    ) throws(FormatError) -> Int {
        let sink = try FileSink(path: path)
        var writer = RDBWriter(sink: sink, options: options)
        do {
            return try save(snapshot, to: &writer, aux: aux)
        } catch {
            sink.abort()
            throw error
        }
    }
}
