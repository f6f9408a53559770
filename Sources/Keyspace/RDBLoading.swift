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
    /// The bytes of a blob's entry (integers as their decimal text).
    @inline(__always) init(_ entry: RDBElementBlock.Entry) {
        switch entry {
        case .bytes(let raw): self.init(raw)
        case .integer(let value): self.init(integer: value)
        }
    }

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
        do throws(FormatError) {
            while let event = try reader.next() { try loader.handle(event) }
        } catch {
            throw loader.finish(failure: error) ?? error
        }
        if let failure = loader.finish(failure: nil) { throw failure }
        return loader.summary
    }

    /// Loads an RDB file (plain or gzip-compressed) on two threads.
    ///
    /// The file is decoded on a thread of its own (``RDBReadAhead``), which also takes as much of this thread's
    /// work as the queue between them says it can (``RDBLoadWorker``): copying strings into ``Bytes``, building
    /// whole values. This thread builds the rest and inserts the keys, in runs sorted in hash-tree order
    /// (``RDBKeyStore``).
    public func loadRDB(path: String, options: RDBReadOptions = .init()) throws(FormatError) -> RDBLoadSummary {
        try loadRDB(path: path, options: options, runLength: RDBKeyStore.runLength)
    }

    /// ``loadRDB(path:options:)`` with the keys inserted in sorted runs of `runLength` (tests use short ones).
    func loadRDB(path: String, options: RDBReadOptions, runLength: Int) throws(FormatError) -> RDBLoadSummary {
        let source = try InputSource.open(path)
        defer { source.close() }
        var options = options
        options.groupsBlobElements = true
        options.inlinesStringValues = true
        var loader = RDBEventLoader(keyspace: self, blobsChecked: options.checkDuplicates, runLength: runLength)
        let worker = RDBLoadWorker(databaseCount: databases.count, blobsChecked: options.checkDuplicates)
        var failure: FormatError? = nil
        do {
            // Ends (and so stops and waits for its thread) before the source is closed.
            let readAhead = RDBReadAhead(
                reader: RDBReader(source: source, options: options, chunkSize: 64 * 1024),
                transform: { (event, backlog) throws(FormatError) in try worker.take(event, backlog: backlog) })
            do throws(FormatError) {
                while var batch = readAhead.next() {
                    for index in batch.items.indices {
                        // A block goes back into the batch once used: its buffers are freed by the reader thread,
                        // which made them.
                        if let used = try loader.handle(batch.take(index)) { batch.items[index] = .block(used) }
                    }
                    if let error = batch.error { throw error }
                    readAhead.recycle(batch)
                }
            } catch {
                failure = error
            }
        }
        if let failure = loader.finish(failure: failure) { throw failure }
        return loader.summary
    }
}

/// The reader thread's share of a two-thread load (``Keyspace/loadRDB(path:options:)``): it makes every event
/// into an ``RDBLoadItem``, copying strings into ``Bytes`` or building whole values itself when the loading
/// thread is behind.
///
/// Used by the reader thread alone, hence `@unchecked Sendable`.
final class RDBLoadWorker: @unchecked Sendable {
    private let databaseCount: Int
    private let blobsChecked: Bool
    /// The key being built here, if any.
    private var builder: ValueBuilder? = nil

    init(databaseCount: Int, blobsChecked: Bool) {
        self.databaseCount = databaseCount
        self.blobsChecked = blobsChecked
    }

    /// The item for the loading thread, or nil when the event belongs to a key built here. The `backlog` decides
    /// how much of the loading thread's work this one takes: with 1 (that thread keeps up) elements go over as
    /// the reader gave them; with ``RDBReadAhead/maximumBatches`` (it is behind) the next key is built here and
    /// handed over whole (``RDBLoadItem/built(_:_:)``); in between, elements go over with their strings copied.
    /// String keys are built here at any backlog.
    func take(_ event: consuming RDBEvent, backlog: Int) throws(FormatError) -> RDBLoadItem? {
        switch consume event {
        case .element(let element):
            guard builder == nil else {
                try builder!.add(RDBLoadElement(element))
                return nil
            }
            // The loading thread waiting for this one: it copies the strings itself.
            guard backlog > 1 else { return .element(.unconverted(element)) }
            return .element(RDBLoadElement(element))
        case .elements(let block):
            guard builder == nil else {
                try builder!.add(block)
                return nil
            }
            return .block(block)
        case .beginKey(let fileHeader):
            // A string (read with its key, `inlinesStringValues`) is always built here: its value is copied on one
            // thread or the other anyway, and the loading thread is left only the insert.
            if let built = RDBLoadItem(inlinedString: fileHeader) { return built }
            let header = RDBLoadKeyHeader(fileHeader)
            guard header.type == .string || backlog >= RDBReadAhead<InputSource, RDBLoadItem>.maximumBatches else {
                return .beginKey(header)
            }
            builder = try ValueBuilder(header, databaseCount: databaseCount, blobsChecked: blobsChecked)
            return nil
        case .endKey:
            guard let built = builder.take() else { return .endKey }
            let header = built.header
            return .built(header, built.finish())
        case let other:
            return .other(other)
        }
    }
}

/// Where loaded keys go: the value into its database, its expiry beside it, or nowhere when it has already
/// expired (as Redis does on a master).
///
/// Keys are inserted in runs sorted by their hash read from its lowest bits up, the order in which a hash tree
/// descends: consecutive inserts then share their path down the tree, which stays in the cache, instead of each
/// landing somewhere else in a tree of millions (inserting 2 million keys this way is 2 to 4 times faster). While
/// one run of up to ``runLength`` keys fills, the previous one, sorted, is inserted a key per key added, so that
/// the loading thread's pace stays even (a whole run at once would stall the reader thread meanwhile).
struct RDBKeyStore {
    /// Keys per sorted run (two runs are held, about 64 bytes a key).
    static let runLength = 1 << 17
    /// The shortest run towards the announced end of the file.
    static let shortestRun = 4096

    /// A run of held keys: keys, values and placements by index (three arrays, so that a key and its value can
    /// each be moved out with a swap rather than copied), and the order to insert them in.
    private struct Run {
        var keys: ContiguousArray<Bytes> = []
        var values: ContiguousArray<Value> = []
        var placements: ContiguousArray<Placement> = []
        /// For each key: its tree order (the hash's low bits, reversed) above its index.
        var order: [UInt64] = []
        /// How much of `order` has been inserted.
        var inserted = 0

        var isEmpty: Bool { inserted == order.count }

        mutating func removeAll() {
            keys.removeAll(keepingCapacity: true)
            values.removeAll(keepingCapacity: true)
            placements.removeAll(keepingCapacity: true)
            order.removeAll(keepingCapacity: true)
            inserted = 0
        }
    }

    /// Where a held key goes.
    private struct Placement {
        var database: Int
        var expireAtMilliseconds: Int64?
        var offset: Int64
    }

    private let now: Int64
    private let expiryEnabled: Bool
    private(set) var keysLoaded = 0
    private(set) var expiredSkipped = 0
    /// The run being filled, and the sorted one being inserted.
    private var filling = Run()
    private var draining = Run()
    /// The first duplicate key found (the earliest in the file among those found), thrown by ``flush(into:)``.
    private var duplicate: (key: Bytes, offset: Int64)? = nil
    /// The radix sort's second buffer (``sortOrder(_:scratch:)``).
    private var sortScratch: [UInt64] = []

    private let runLength: Int
    /// The length of the run being filled: ``runLength``, or less near the end the file announces.
    private var fillingLength: Int
    /// Keys of the draining run inserted per key added: enough to finish it before the filling run is full.
    private var pace = 1
    /// Keys the file's RESIZEDB hints announced, and keys added (expired or not) so far.
    private var announced = 0
    private var added = 0

    /// - Parameter runLength: keys per sorted run, at most 2^20 (the index bits of a run's order).
    init(keyspace: Keyspace, runLength: Int = RDBKeyStore.runLength) {
        precondition(runLength > 0 && UInt64(runLength) <= RDBKeyStore.indexMask + 1, "run length out of range")
        now = keyspace.clock()
        expiryEnabled = keyspace.expiryEnabled
        self.runLength = runLength
        fillingLength = runLength
    }

    /// Notes a RESIZEDB hint: so many keys are coming. Runs get shorter towards the announced end, so that what
    /// is left to insert once the file has been read (the last run, sorted and inserted while the reader thread
    /// has nothing left to do) is a few thousand keys instead of up to ``runLength``. A hint that lies costs
    /// some speed, nothing else.
    mutating func announce(keys: UInt64) {
        announced &+= Int(truncatingIfNeeded: min(keys, 1 << 40))
    }

    /// Adds a key (or skips it if it has expired), and inserts the next held key.
    /// - Throws: `.corrupt` "duplicate key" when a database holds a key already.
    mutating func insert(_ value: consuming Value, _ keyHeader: RDBLoadKeyHeader, into databases: inout [Database]) throws(FormatError) {
        added += 1
        if expiryEnabled, let when = keyHeader.expireAtMilliseconds, when <= now {
            expiredSkipped += 1
            return
        }
        let hash = UInt64(UInt(bitPattern: keyHeader.key._rawHashValue(seed: 0)))
        filling.order.append(RDBKeyStore.treeOrder(hash) << RDBKeyStore.indexBits | UInt64(filling.keys.count))
        filling.keys.append(keyHeader.key)
        filling.values.append(value)
        filling.placements.append(Placement(
            database: keyHeader.database, expireAtMilliseconds: keyHeader.expireAtMilliseconds, offset: keyHeader.offset))
        for _ in 0..<pace where !draining.isEmpty {
            RDBKeyStore.insertNext(of: &draining, into: &databases, loaded: &keysLoaded, duplicate: &duplicate)
        }
        if filling.keys.count == fillingLength {
            drain(into: &databases)
            RDBKeyStore.sortOrder(&filling.order, scratch: &sortScratch)
            swap(&filling, &draining)
            // Within two runs of the announced end: half what remains, down to a few thousand keys.
            let remaining = announced - added
            fillingLength = runLength
            if remaining > 0 && remaining < 2 * runLength {
                fillingLength = max(min(runLength, RDBKeyStore.shortestRun), (remaining + 1) / 2)
            }
            pace = (draining.order.count + fillingLength - 1) / fillingLength
        }
        if duplicate != nil { try flush(into: &databases) }
    }

    /// Inserts every key held.
    /// - Throws: `.corrupt` "duplicate key", for the first one found (after inserting the others).
    mutating func flush(into databases: inout [Database]) throws(FormatError) {
        drain(into: &databases)
        RDBKeyStore.sortOrder(&filling.order, scratch: &sortScratch)
        swap(&filling, &draining)
        drain(into: &databases)
        if let duplicate = duplicate.take() {
            throw FormatError(.corrupt, offset: duplicate.offset, phase: .readKey, key: duplicate.key.byteBuffer, "duplicate key")
        }
    }

    /// Inserts the rest of the sorted run.
    private mutating func drain(into databases: inout [Database]) {
        while !draining.isEmpty {
            RDBKeyStore.insertNext(of: &draining, into: &databases, loaded: &keysLoaded, duplicate: &duplicate)
        }
        draining.removeAll()
    }

    private static func insertNext(
        of run: inout Run, into databases: inout [Database], loaded: inout Int, duplicate: inout (key: Bytes, offset: Int64)?
    ) {
        let index = Int(truncatingIfNeeded: run.order[run.inserted] & indexMask)
        run.inserted += 1
        var key = Bytes()
        swap(&key, &run.keys[index])
        var value = Value.string(Bytes())
        swap(&value, &run.values[index])
        let placement = run.placements[index]
        // The value is swapped into the slot the tree makes for it, not copied in: the retain of a copy would touch
        // the value's storage, made on the reader thread a run ago and long out of this core's cache (that retain
        // was a sixth of this thread's time loading 2 million strings).
        var inserted = false
        databases[placement.database].entries.updateValue(forKey: key, default: placeholder(inserted: &inserted)) { slot in
            if inserted { swap(&slot, &value) }
        }
        if !inserted {
            // The first entry stays; the repeat is the error.
            if duplicate.map({ placement.offset < $0.offset }) ?? true { duplicate = (key, placement.offset) }
            return
        }
        if let when = placement.expireAtMilliseconds { databases[placement.database].expires[key] = when }
        loaded += 1
    }

    /// What a new slot holds until the value is swapped in; notes that the slot is new.
    private static func placeholder(inserted: inout Bool) -> Value {
        inserted = true
        return .string(Bytes())
    }

    private static let indexBits: UInt64 = 20
    private static let indexMask: UInt64 = (1 << indexBits) - 1

    /// Sorts a run's `order` as `sort()` does, in four passes of a least-significant-digit radix sort over the 44
    /// bits above the index (11 bits a pass). The run appends its keys in index order, and each pass keeps the
    /// order of equal digits, so equal tree orders stay in index order: the order `sort()` gives. A fifth of the
    /// comparison sort's instructions on a run of 131,072 keys.
    static func sortOrder(_ order: inout [UInt64], scratch: inout [UInt64]) {
        let count = order.count
        guard count > 256 else {
            order.sort()
            return
        }
        if scratch.count < count { scratch = [UInt64](repeating: 0, count: count) }
        let digitBits: UInt64 = 11
        let digitMask: UInt64 = (1 << digitBits) - 1
        var offsets = [Int](repeating: 0, count: 1 << digitBits)
        order.withUnsafeMutableBufferPointer { first in
            scratch.withUnsafeMutableBufferPointer { second in
                offsets.withUnsafeMutableBufferPointer { offsets in
                    var source = first.baseAddress!
                    var target = second.baseAddress!
                    // Shifts 20, 31, 42, 53: an even number of passes, so the result ends where it started.
                    for shift in Swift.stride(from: indexBits, to: 64, by: Int(digitBits)) {
                        offsets.update(repeating: 0)
                        for index in 0..<count { offsets[Int((source[index] >> shift) & digitMask)] &+= 1 }
                        var start = 0
                        for digit in 0..<offsets.count {
                            let digitCount = offsets[digit]
                            offsets[digit] = start
                            start &+= digitCount
                        }
                        for index in 0..<count {
                            let value = source[index]
                            let digit = Int((value >> shift) & digitMask)
                            target[offsets[digit]] = value
                            offsets[digit] &+= 1
                        }
                        swap(&source, &target)
                    }
                }
            }
        }
    }

    /// The hash's low 44 bits reversed: sorting by it groups keys by the tree's root bucket (the lowest five bits),
    /// then by the next level's, and so on.
    private static func treeOrder(_ hash: UInt64) -> UInt64 {
        var bits = hash
        bits = (bits & 0x5555_5555_5555_5555) << 1 | (bits >> 1) & 0x5555_5555_5555_5555
        bits = (bits & 0x3333_3333_3333_3333) << 2 | (bits >> 2) & 0x3333_3333_3333_3333
        bits = (bits & 0x0F0F_0F0F_0F0F_0F0F) << 4 | (bits >> 4) & 0x0F0F_0F0F_0F0F_0F0F
        return bits.byteSwapped >> indexBits
    }
}

/// An RDB event as the loader uses it: the strings of keys and (unless ``RDBLoadElement/unconverted(_:)``) of
/// elements copied into ``Bytes`` of their own (inline when short), no longer slices of the reader's input window.
///
/// Made on the reader thread when loading a file (``Keyspace/loadRDB(path:options:)``): the slices' shared
/// reference count is then only ever changed by that thread, and the loading thread gets bytes it owns.
enum RDBLoadItem {
    case element(RDBLoadElement)
    /// A block of elements (``RDBElementBlock``), copied into the value by whoever builds it.
    case block(RDBElementBlock)
    case beginKey(RDBLoadKeyHeader)
    case endKey
    /// A whole key, built on the reader thread (``RDBLoadWorker``): stands for its begin, elements and end.
    case built(RDBLoadKeyHeader, Value)
    /// Every other event (header, aux fields, database selection, the end), as the reader gave it.
    case other(RDBEvent)

    init(_ event: consuming RDBEvent) {
        switch consume event {
        case .element(let element): self = .element(RDBLoadElement(element))
        case .elements(let block): self = .block(block)
        case .beginKey(let header): self = RDBLoadItem(inlinedString: header) ?? .beginKey(RDBLoadKeyHeader(header))
        case .endKey: self = .endKey
        case let other: self = .other(other)
        }
    }
}

extension RDBLoadItem {
    /// The whole key, when the reader read a string's value with its key (``RDBReadOptions/inlinesStringValues``).
    init?(inlinedString header: RDBKeyHeader) {
        guard let value = header.stringValue else { return nil }
        self = .built(RDBLoadKeyHeader(header), .string(Bytes(value)))
    }
}

/// An element of a value, strings as ``Bytes``.
enum RDBLoadElement {
    case string(Bytes)
    case listItem(Bytes)
    case setMember(Bytes)
    case zsetMember(Bytes, score: Double)
    /// A hash field without an expiry of its own.
    case hashField(Bytes, value: Bytes)
    /// Streams' parts, module values and hash fields with an expiry, as the reader gave them.
    case other(RDBElement)
    /// An element left as the reader gave it, to be made into one of the others by whoever uses it (the loading
    /// thread when it has time to spare, ``RDBLoadWorker``).
    case unconverted(RDBElement)

    init(_ element: consuming RDBElement) {
        switch consume element {
        case .string(let string): self = .string(Bytes(string))
        case .listItem(let item): self = .listItem(Bytes(item))
        case .setMember(let member): self = .setMember(Bytes(member))
        case .zsetMember(let member, let score): self = .zsetMember(Bytes(member), score: score)
        case .hashField(let field, let value, nil): self = .hashField(Bytes(field), value: Bytes(value))
        case let other: self = .other(other)
        }
    }
}

/// What the loader keeps of an ``RDBKeyHeader``: the key as ``Bytes``, without the LRU and LFU hints.
struct RDBLoadKeyHeader {
    var key: Bytes
    var database: Int
    var type: RDBType
    var expireAtMilliseconds: Int64?
    var declaredCount: UInt64?
    /// Offset of the key's entry in the file, for errors.
    var offset: Int64

    init(_ header: RDBKeyHeader) {
        key = Bytes(header.key)
        database = header.database
        type = header.type
        expireAtMilliseconds = header.expireAtMilliseconds
        declaredCount = header.declaredCount
        offset = header.offset
    }
}

/// Applies RDB reader events to a keyspace: the loader of ``Keyspace/load(from:)`` and of AOF preambles.
struct RDBEventLoader {
    let keyspace: Keyspace
    var summary = RDBLoadSummary()
    private var store: RDBKeyStore
    private var builder: ValueBuilder? = nil

    /// Whether the reader rejects blobs that repeat a member or field (``RDBReadOptions/checkDuplicates``).
    private let blobsChecked: Bool

    init(keyspace: Keyspace, blobsChecked: Bool = true, runLength: Int = RDBKeyStore.runLength) {
        self.keyspace = keyspace
        self.blobsChecked = blobsChecked
        store = RDBKeyStore(keyspace: keyspace, runLength: runLength)
    }

    mutating func handle(_ event: consuming RDBEvent) throws(FormatError) {
        try handle(RDBLoadItem(event))
    }

    /// Inserts the keys still held (``RDBKeyStore``), and counts them in ``summary``.
    mutating func flush() throws(FormatError) {
        defer {
            summary.keysLoaded = store.keysLoaded
            summary.expiredSkipped = store.expiredSkipped
        }
        try store.flush(into: &keyspace.databases)
    }

    /// Inserts the keys still held after the reading ended, with `failure` or without: every key read before an
    /// error is loaded. The error to report: a duplicate key among those held comes before `failure` in the file.
    mutating func finish(failure: FormatError?) -> FormatError? {
        do throws(FormatError) {
            try flush()
        } catch {
            return error
        }
        return failure
    }

    /// Applies `item`; returns a block once its elements are added (for whoever made it to free it).
    @discardableResult
    mutating func handle(_ item: consuming RDBLoadItem) throws(FormatError) -> RDBElementBlock? {
        switch consume item {
        case .element(let element):
            try builder!.add(element)
        case .block(let block):
            try builder!.add(block)
            return block
        case .beginKey(let keyHeader):
            builder = try ValueBuilder(keyHeader, databaseCount: keyspace.databases.count, blobsChecked: blobsChecked)
        case .endKey:
            let built = builder.take()!
            let header = built.header
            try store.insert(built.finish(), header, into: &keyspace.databases)
        case .built(let header, let value):
            // Checked already when a builder made it; not for a string read with its key.
            try ValueBuilder.checkDatabase(of: header, databaseCount: keyspace.databases.count)
            try store.insert(value, header, into: &keyspace.databases)
        case .other(let event):
            switch event {
            case .header(let fileHeader): summary.header = fileHeader
            case .aux(let key, let value): summary.aux.append((Bytes(key), Bytes(value)))
            case .moduleAux(let module):
                throw FormatError(.unsupportedType, offset: 0, phase: .readModuleAux, "module aux data for \(module.moduleName): modules are not supported")
            case .end(let status):
                summary.checksum = status
                // Before the commands of an AOF that follow its preamble.
                try flush()
            case .resizeHint(let keys, _): store.announce(keys: keys)
            case .selectDB, .slotInfo, .function, .beginKey, .element, .elements, .endKey: break
            }
        }
        return nil
    }
}

/// Builds one value from the reader's element events.
///
/// The collection being built is held in a stored property of its own and changed in place: no enum to take it
/// out of and put back for every element (which cost a retain, a release and two outlined copies each).
struct ValueBuilder {
    /// The key being built.
    let header: RDBLoadKeyHeader
    private let kind: RDBValueKind
    private var string = Bytes()
    private var list: ListValue? = nil
    /// A set's or hash's elements while within its flat form's limit (a hash's as field, value, field…)…
    private var flat: ContiguousArray<Bytes>? = nil
    /// … and past it.
    private var set: TreeSet<Bytes>? = nil
    /// An intset's members as the reader decoded them (ascending), kept as the set's own.
    private var integers: [Int64]? = nil
    private var hash: TreeDictionary<Bytes, Bytes>? = nil
    /// A sorted set's members in file order, built into the set by ``finish()``.
    private var scored: [SortedSetValue.ScoredMember]? = nil
    private var stream: RDBStream? = nil
    /// Whether the file's encoding can hold a member or field twice: plain encodings, or blobs the reader did not
    /// check for duplicates (an intset's strict order rules them out). A tree absorbs them (the last value of a
    /// field wins), a sorted set's insert updates the score; the flat form is cleaned in ``finish()``.
    private let mayRepeat: Bool

    /// - Parameter blobsChecked: whether the reader rejects blobs that repeat a member or field
    ///   (``RDBReadOptions/checkDuplicates``).
    /// - Throws: `.corrupt` when the key's database is not below `databaseCount`; `.unsupportedType` for module
    ///   values.
    init(_ header: RDBLoadKeyHeader, databaseCount: Int = .max, blobsChecked: Bool = true) throws(FormatError) {
        try ValueBuilder.checkDatabase(of: header, databaseCount: databaseCount)
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
        case .zset:
            var members: [SortedSetValue.ScoredMember] = []
            if let declared = header.declaredCount { members.reserveCapacity(Int(min(declared, 1 << 16))) }
            scored = members
        case .stream: stream = RDBStream()
        case .module:
            throw FormatError(.unsupportedType, offset: header.offset, phase: .readValue(header.type), key: header.key.byteBuffer,
                "module values are not supported by this server")
        }
    }

    /// - Throws: `.corrupt` when the key's database is not below `databaseCount`.
    static func checkDatabase(of header: RDBLoadKeyHeader, databaseCount: Int) throws(FormatError) {
        guard header.database < databaseCount else {
            throw FormatError(.corrupt, offset: header.offset, phase: .readKey, key: header.key.byteBuffer,
                "database \(header.database) does not exist (the server has \(databaseCount))")
        }
    }

    mutating func add(_ element: consuming RDBLoadElement) throws(FormatError) {
        switch consume element {
        case .string(let string):
            self.string = string
        case .listItem(let item):
            list?.append(item)
        case .setMember(let member):
            addMember(member)
        case .zsetMember(let member, let score):
            addMember(member, score: score)
        case .hashField(let field, let value):
            addField(field, value: value)
        case .unconverted(let element):
            try add(RDBLoadElement(element))
        case .other(.hashField):
            throw FormatError(.unsupportedType, offset: header.offset, phase: .readValue(header.type), key: header.key.byteBuffer,
                "hash field expiries (Redis 7.4 HEXPIRE) are not supported by this server")
        case .other(.streamEntry(let entry)):
            stream?.entries.append(entry)
        case .other(.streamMetadata(let metadata)):
            stream?.metadata = metadata
        case .other(.streamGroup(let group)):
            stream?.groups.append(group)
        case .other:
            break
        }
    }

    /// Adds a block's elements, each copied straight from the block's buffer (list items into the list's own
    /// chunks).
    mutating func add(_ block: RDBElementBlock) throws(FormatError) {
        let expected: RDBValueKind = switch block.kind {
        case .listItems: .list
        case .setMembers: .set
        case .zsetMembers: .zset
        case .hashFields: .hash
        }
        guard expected == kind else {
            // The reader hands out a type's own elements; anything else is a bug, not a file's fault.
            preconditionFailure("\(block.kind) elements in a \(kind) value")
        }
        block.withEntries { entries in
            var index = 0
            switch block.kind {
            case .listItems:
                while index < entries.count {
                    switch entries[index] {
                    case .bytes(let raw): list!.append(bytesOf: raw)
                    case .integer(let value): CanonicalInteger.withText(value) { list!.append(bytesOf: $0) }
                    }
                    index += 1
                }
            case .setMembers:
                if let ascending = block.ascendingIntegers, integers == nil, set == nil, flat!.isEmpty {
                    integers = ascending
                    return
                }
                while index < entries.count {
                    addMember(Bytes(entries[index]))
                    index += 1
                }
            case .zsetMembers:
                while index < entries.count {
                    addMember(Bytes(entries[index]), score: entries.score(index))
                    index += 2
                }
            case .hashFields:
                while index < entries.count {
                    addField(Bytes(entries[index]), value: Bytes(entries[index + 1]))
                    index += 2
                }
            }
        }
    }

    @inline(__always) private mutating func addMember(_ member: Bytes) {
        if let ascending = integers.take() {
            // Members after an intset's (no file has both): the integers join the others as strings.
            for value in ascending { addMember(Bytes(integer: value)) }
        }
        if set != nil {
            set!.insert(member)
        } else if flat!.count < SetValue.compactLimit {
            flat!.append(member)
        } else {
            var tree = TreeSet(flat.take()!)
            tree.insert(member)
            set = tree
        }
    }

    @inline(__always) private mutating func addMember(_ member: Bytes, score: Double) {
        scored!.append(SortedSetValue.ScoredMember(member: member, score: score))
    }

    @inline(__always) private mutating func addField(_ field: Bytes, value: Bytes) {
        if hash != nil {
            hash![field] = value
        } else if flat!.count < 2 * HashValue.compactLimit {
            flat!.append(field)
            flat!.append(value)
        } else {
            var tree = HashValue.tree(of: flat.take()!)
            tree[field] = value
            hash = tree
        }
    }

    consuming func finish() -> Value {
        switch kind {
        case .list: .list(list!)
        case .set:
            if let integers { .set(SetValue(ascendingIntegers: integers)) } else if let set { .set(SetValue(set)) } else if mayRepeat {
                .set(SetValue(distinct: ValueBuilder.withoutRepeats(flat!, stride: 1)))
            } else {
                .set(SetValue(distinct: flat!))
            }
        case .zset: .sortedSet(SortedSetValue(loaded: scored!, mayRepeat: mayRepeat))
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
