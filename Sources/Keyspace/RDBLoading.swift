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
                try batch.drain(
                    elements: { (element) throws(FormatError) in try loader.add(element) },
                    events: { (event) throws(FormatError) in try loader.handle(event) })
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

    /// An element of the key being built (what ``handle(_:)`` does with `.element`, without the event around it).
    @inline(__always)
    mutating func add(_ element: consuming RDBElement) throws(FormatError) {
        try builder!.add(element)
    }

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
            builder = try ValueBuilder(keyHeader)
        case .element(let element):
            try add(element)
        case .endKey:
            let built = builder.take()!
            let keyHeader = built.header
            let value = built.finish()
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
///
/// The collection being built is held in a stored property of its own and changed in place: no enum to take it
/// out of and put back for every element (which cost a retain, a release and two outlined copies each).
struct ValueBuilder {
    /// The key being built.
    let header: RDBKeyHeader
    private let kind: RDBValueKind
    private var string = Bytes()
    private var list: ListValue? = nil
    private var set: TreeSet<Bytes>? = nil
    private var sortedSet: SortedSetValue? = nil
    private var hash: TreeDictionary<Bytes, Bytes>? = nil
    private var stream: RDBStream? = nil

    init(_ header: RDBKeyHeader) throws(FormatError) {
        self.header = header
        kind = header.type.kind
        switch kind {
        case .string: break
        case .list: list = ListValue()
        case .set: set = []
        case .zset: sortedSet = SortedSetValue()
        case .hash: hash = [:]
        case .stream: stream = RDBStream()
        case .module:
            throw FormatError(.unsupportedType, offset: header.offset, phase: .readValue(header.type), key: header.key,
                "module values are not supported by this server")
        }
    }

    mutating func add(_ element: consuming RDBElement) throws(FormatError) {
        switch consume element {
        case .string(let string):
            self.string = Bytes(string)
        case .listItem(let item):
            list?.append(Bytes(item))
        case .setMember(let member):
            set?.insert(Bytes(member))
        case .zsetMember(let member, let score):
            sortedSet?.insert(Bytes(member), score: score)
        case .hashField(let field, let value, let expire):
            if expire != nil {
                throw FormatError(.unsupportedType, offset: header.offset, phase: .readValue(header.type), key: header.key,
                    "hash field expiries (Redis 7.4 HEXPIRE) are not supported by this server")
            }
            hash?[Bytes(field)] = Bytes(value)
        case .streamEntry(let entry):
            stream?.entries.append(entry)
        case .streamMetadata(let metadata):
            stream?.metadata = metadata
        case .streamGroup(let group):
            stream?.groups.append(group)
        case .module:
            break
        }
    }

    consuming func finish() -> Value {
        switch kind {
        case .list: .list(list!)
        case .set: .set(SetValue(set!))
        case .zset: .sortedSet(sortedSet!)
        case .hash: .hash(HashValue(hash!))
        case .stream: .stream(StreamValue(rdb: stream!))
        case .string, .module: .string(string)
        }
    }
}
