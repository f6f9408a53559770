import Formats
import HashTreeCollections
import NIOCore

/// What loading an RDB found.
public struct RDBLoadSummary: Sendable {
    public var keysLoaded = 0
    /// Keys whose expiry had already passed: not loaded (Redis does the same on a master).
    public var expiredSkipped = 0
    public var header: RDBHeader?
    public var aux: [(key: Bytes, value: Bytes)] = []
    public var checksum: RDBChecksumStatus?
    public init() {}
}

extension Bytes {
    /// The bytes of an RDB string (integers as their decimal text).
    public init(_ string: RDBString) {
        switch string {
        case .bytes(let buffer): self.init(buffer)
        case .integer(let value): self.init(integer: value)
        }
    }

    /// As an RDB string for the writer.
    public var rdbString: RDBString { .bytes(byteBuffer) }
}

extension Keyspace {
    /// Loads every key of an RDB into the databases (which should be empty: a key that exists already is a
    /// `.corrupt` "duplicate key" error, as in Redis). Keys already expired are skipped when expiry is enabled.
    ///
    /// - Throws: what the reader throws; `.corrupt` for a database number beyond ``databases`` or a duplicate
    ///   key; `.unsupportedType` for module values and hash field expiries, which this server cannot hold.
    public func load<Source: ByteSource>(from reader: inout RDBReader<Source>) throws(FormatError) -> RDBLoadSummary {
        var loader = RDBEventLoader(keyspace: self)
        while let event = try reader.next() { try loader.handle(event) }
        return loader.summary
    }

    /// Loads an RDB file (plain or gzip-compressed). The file is decoded on a thread of its own
    /// (``RDBReadAhead``) while this one inserts, so that decoding and inserting take two cores.
    public func loadRDB(path: String, options: RDBReadOptions = .init()) throws(FormatError) -> RDBLoadSummary {
        let source = try InputSource.open(path)
        defer { source.close() }
        var loader = RDBEventLoader(keyspace: self)
        do {
            // Ends (and so stops and waits for its thread) before the source is closed.
            let readAhead = RDBReadAhead(reader: RDBReader(source: source, options: options, chunkSize: 64 * 1024))
            while var batch = readAhead.next() {
                try batch.drain { (event) throws(FormatError) in try loader.handle(event) }
            }
        }
        return loader.summary
    }
}

/// Applies RDB reader events to a keyspace: the loader of ``Keyspace/load(from:)`` and of AOF preambles.
struct RDBEventLoader {
    let keyspace: Keyspace
    var summary = RDBLoadSummary()
    private let now: Int64
    private var builder: ValueBuilder? = nil
    private var header: RDBKeyHeader? = nil

    init(keyspace: Keyspace) {
        self.keyspace = keyspace
        now = keyspace.clock()
    }

    mutating func handle(_ event: RDBEvent) throws(FormatError) {
        switch event {
        case .header(let fileHeader): summary.header = fileHeader
        case .aux(let key, let value): summary.aux.append((Bytes(key), Bytes(value)))
        case .selectDB, .resizeHint, .slotInfo, .function: break
        case .moduleAux(let module):
            throw FormatError(.unsupportedType, offset: 0, phase: .readModuleAux, "module aux data for \(module.moduleName): modules are not supported")
        case .end(let status): summary.checksum = status
        case .beginKey(let keyHeader):
            guard keyHeader.database < keyspace.databases.count else {
                throw FormatError(.corrupt, offset: keyHeader.offset, phase: .readKey, key: keyHeader.key,
                    "database \(keyHeader.database) does not exist (the server has \(keyspace.databases.count))")
            }
            header = keyHeader
            builder = try ValueBuilder(keyHeader)
        case .element(let element):
            try builder!.add(element, header: header!)
        case .endKey:
            let keyHeader = header!
            let value = builder!.finish()
            builder = nil
            if keyspace.expiryEnabled, let when = keyHeader.expireAtMilliseconds, when <= now {
                summary.expiredSkipped += 1
                return
            }
            let key = Bytes(keyHeader.key)
            let db = keyHeader.database
            guard keyspace.databases[db].entries.updateValue(value, forKey: key) == nil else {
                throw FormatError(.corrupt, offset: keyHeader.offset, phase: .readKey, key: keyHeader.key, "duplicate key")
            }
            if let when = keyHeader.expireAtMilliseconds { keyspace.databases[db].expires[key] = when }
            summary.keysLoaded += 1
        }
    }
}

/// Builds one value from the reader's element events.
struct ValueBuilder {
    private enum Partial {
        case string(Bytes)
        case list(ListValue)
        case set(TreeSet<Bytes>)
        case sortedSet(SortedSetValue)
        case hash(TreeDictionary<Bytes, Bytes>)
        case stream(RDBStream)
    }

    private var partial: Partial

    init(_ header: RDBKeyHeader) throws(FormatError) {
        switch header.type.kind {
        case .string: partial = .string(Bytes())
        case .list: partial = .list(ListValue())
        case .set: partial = .set([])
        case .zset: partial = .sortedSet(SortedSetValue())
        case .hash: partial = .hash([:])
        case .stream: partial = .stream(RDBStream())
        case .module:
            throw FormatError(.unsupportedType, offset: header.offset, phase: .readValue(header.type), key: header.key,
                "module values are not supported by this server")
        }
    }

    mutating func add(_ element: RDBElement, header: RDBKeyHeader) throws(FormatError) {
        switch element {
        case .string(let string):
            partial = .string(Bytes(string))
        case .listItem(let item):
            guard case .list(var list) = partial else { return }
            partial = .string(Bytes())
            list.append(Bytes(item))
            partial = .list(list)
        case .setMember(let member):
            guard case .set(var set) = partial else { return }
            partial = .string(Bytes())
            set.insert(Bytes(member))
            partial = .set(set)
        case .zsetMember(let member, let score):
            guard case .sortedSet(var zset) = partial else { return }
            partial = .string(Bytes())
            zset.insert(Bytes(member), score: score)
            partial = .sortedSet(zset)
        case .hashField(let field, let value, let expire):
            if expire != nil {
                throw FormatError(.unsupportedType, offset: header.offset, phase: .readValue(header.type), key: header.key,
                    "hash field expiries (Redis 7.4 HEXPIRE) are not supported by this server")
            }
            guard case .hash(var hash) = partial else { return }
            partial = .string(Bytes())
            hash[Bytes(field)] = Bytes(value)
            partial = .hash(hash)
        case .streamEntry(let entry):
            guard case .stream(var stream) = partial else { return }
            partial = .string(Bytes())
            stream.entries.append(entry)
            partial = .stream(stream)
        case .streamMetadata(let metadata):
            guard case .stream(var stream) = partial else { return }
            stream.metadata = metadata
            partial = .stream(stream)
        case .streamGroup(let group):
            guard case .stream(var stream) = partial else { return }
            stream.groups.append(group)
            partial = .stream(stream)
        case .module:
            break
        }
    }

    func finish() -> Value {
        switch partial {
        case .string(let bytes): .string(bytes)
        case .list(let list): .list(list)
        case .set(let set): .set(SetValue(set))
        case .sortedSet(let zset): .sortedSet(zset)
        case .hash(let hash): .hash(HashValue(hash))
        case .stream(let stream): .stream(StreamValue(rdb: stream))
        }
    }
}
