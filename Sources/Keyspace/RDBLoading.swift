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
        var loader = RDBEventLoader(keyspace: self, blobsChecked: reader.options.checkDuplicates)
        while let event = try reader.next() { try loader.handle(event) }
        return loader.summary
    }

    /// Loads an RDB file (plain or gzip-compressed). The file is decoded on a thread of its own
    /// (``RDBReadAhead``) while this one inserts, so that decoding and inserting take two cores.
    public func loadRDB(path: String, options: RDBReadOptions = .init()) throws(FormatError) -> RDBLoadSummary {
        let source = try InputSource.open(path)
        defer { source.close() }
        var loader = RDBEventLoader(keyspace: self, blobsChecked: options.checkDuplicates)
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

    /// Whether the reader rejects blobs that repeat a member or field (``RDBReadOptions/checkDuplicates``).
    private let blobsChecked: Bool

    init(keyspace: Keyspace, blobsChecked: Bool = true) {
        self.keyspace = keyspace
        self.blobsChecked = blobsChecked
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
            builder = try ValueBuilder(keyHeader, blobsChecked: blobsChecked)
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
    /// A set's or hash's elements while within its flat form's limit (a hash's as field, value, field…)…
    private var flat: ContiguousArray<Bytes>? = nil
    /// … and past it.
    private var set: TreeSet<Bytes>? = nil
    private var hash: TreeDictionary<Bytes, Bytes>? = nil
    private var sortedSet: SortedSetValue? = nil
    private var stream: RDBStream? = nil
    /// Whether the file's encoding can hold a member or field twice: plain encodings, or blobs the reader did not
    /// check for duplicates (an intset's strict order rules them out). A tree absorbs them (the last value of a
    /// field wins), a sorted set's insert updates the score; the flat form is cleaned in ``finish()``.
    private let mayRepeat: Bool

    /// - Parameter blobsChecked: whether the reader rejects blobs that repeat a member or field
    ///   (``RDBReadOptions/checkDuplicates``).
    init(_ header: RDBKeyHeader, blobsChecked: Bool = true) throws(FormatError) {
        self.header = header
        kind = header.type.kind
        mayRepeat = switch header.type {
        case .setIntset: false
        case .setListpack, .hashZipmap, .hashZiplist, .hashListpack, .hashListpackEx, .hashListpackExPreGA,
            .zsetZiplist, .zsetListpack:
            !blobsChecked
        default: true
        }
        switch kind {
        case .string: break
        case .list: list = ListValue()
        case .set, .hash:
            var elements = ContiguousArray<Bytes>()
            if let declared = header.declaredCount {
                let perEntry = kind == .hash ? 2 : 1
                let limit = kind == .hash ? HashValue.compactLimit : SetValue.compactLimit
                elements.reserveCapacity(perEntry * Int(min(declared, UInt64(limit))))
            }
            flat = elements
        case .zset: sortedSet = SortedSetValue()
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
            let member = Bytes(member)
            if set != nil {
                set!.insert(member)
            } else if flat!.count < SetValue.compactLimit {
                flat!.append(member)
            } else {
                var tree = TreeSet(flat.take()!)
                tree.insert(member)
                set = tree
            }
        case .zsetMember(let member, let score):
            // A member a checked blob holds once needs no lookup; a plain encoding's repeat updates the score.
            if mayRepeat {
                sortedSet!.insert(Bytes(member), score: score)
            } else {
                sortedSet!.insertNew(Bytes(member), score: score)
            }
        case .hashField(let field, let value, let expire):
            if expire != nil {
                throw FormatError(.unsupportedType, offset: header.offset, phase: .readValue(header.type), key: header.key,
                    "hash field expiries (Redis 7.4 HEXPIRE) are not supported by this server")
            }
            if hash != nil {
                hash![Bytes(field)] = Bytes(value)
            } else if flat!.count < 2 * HashValue.compactLimit {
                flat!.append(Bytes(field))
                flat!.append(Bytes(value))
            } else {
                var tree = HashValue.tree(of: flat.take()!)
                tree[Bytes(field)] = Bytes(value)
                hash = tree
            }
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
        case .set:
            if let set { .set(SetValue(set)) } else if mayRepeat {
                .set(SetValue(distinct: ValueBuilder.withoutRepeats(flat!, stride: 1)))
            } else {
                .set(SetValue(distinct: flat!))
            }
        case .zset: .sortedSet(sortedSet!)
        case .hash:
            if let hash { .hash(HashValue(hash)) } else if mayRepeat {
                .hash(HashValue(distinctPairs: ValueBuilder.withoutRepeats(flat!, stride: 2)))
            } else {
                .hash(HashValue(distinctPairs: flat!))
            }
        case .stream: .stream(StreamValue(rdb: stream!))
        case .string, .module: .string(string)
        }
    }
}

extension ValueBuilder {
    /// `elements` (members, or field/value pairs when `stride` is 2) with each member or field once, as a tree
    /// would have kept them: the first position, the last value. The usual answer, no repeats, costs a hash per
    /// element and a sort of integers.
    static func withoutRepeats(_ elements: ContiguousArray<Bytes>, stride: Int) -> ContiguousArray<Bytes> {
        let count = elements.count / stride
        guard count > 1 else { return elements }
        var hashes = Swift.stride(from: 0, to: elements.count, by: stride).map { elements[$0].hashValue }
        hashes.sort()
        guard zip(hashes, hashes.dropFirst()).contains(where: { $0 == $1 }) else { return elements }
        // Some hashes repeat: rebuild, keeping each key's first position and last value.
        var position: [Bytes: Int] = [:]
        var result = ContiguousArray<Bytes>()
        for index in Swift.stride(from: 0, to: elements.count, by: stride) {
            if let earlier = position[elements[index]] {
                if stride == 2 { result[earlier + 1] = elements[index + 1] }
                continue
            }
            position[elements[index]] = result.count
            result.append(contentsOf: elements[index..<index + stride])
        }
        return result
    }
}
