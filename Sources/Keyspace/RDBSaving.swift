import Formats
import HashTreeCollections
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

extension Value {
    /// The value as the RDB writer takes it. The writer picks the encoding the target version's Redis would.
    public var rdbValue: RDBValue {
        switch self {
        case .string(let bytes):
            return .string(bytes.rdbString)
        case .list(let list):
            return .list(Bytes.rdbStrings(count: list.count) { body in for item in list { body(item) } })
        case .set(let set):
            return .set(Bytes.rdbStrings(count: set.count) { body in for member in set { body(member) } })
        case .sortedSet(let zset):
            let members = Bytes.rdbStrings(count: zset.count) { body in for element in zset { body(element.member) } }
            return .zset(zip(members, zset).map { RDBScoredMember(member: $0, score: $1.score) })
        case .hash(let hash):
            let strings = Bytes.rdbStrings(count: 2 * hash.count) { body in
                for (field, value) in hash {
                    body(field)
                    body(value)
                }
            }
            return .hash(strings.pairs())
        case .stream(let stream):
            return .stream(stream.rdbStream)
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

extension Bytes: RDBWritableString {
    @inlinable public var byteCount: Int { count }

    public func canonicalInteger(maxLength: Int) -> Int64? {
        guard count <= maxLength else { return nil }
        return withUnsafeBufferPointer { CanonicalInteger.parse(raw: UnsafeRawBufferPointer($0), maxLength: maxLength) }
    }

    @inlinable public func withRawBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        withUnsafeBufferPointer { body(UnsafeRawBufferPointer($0)) }
    }
}

extension SortedSetValue.ScoredMember: RDBScoredElement {}

extension RDBWriter {
    /// Writes `key` with `value` straight from the keyspace's storage: the bytes ``Keyspace/entry(_:_:_:_:)``
    /// and ``writeEntry(_:)`` write, without converting the value to an `RDBValue` first (streams still are).
    mutating func writeKey(_ key: Bytes, _ value: Value, expireAtMilliseconds expire: Int64?, database: Int) throws(FormatError) {
        switch value {
        case .string(let string):
            try writeKey(database: database, key: key, expireAtMilliseconds: expire, string: string)
        case .list(let list):
            try writeKey(database: database, key: key, expireAtMilliseconds: expire, list: list, count: list.count)
        case .set(let set):
            if let integers = set.ascendingIntegers {
                try writeKey(database: database, key: key, expireAtMilliseconds: expire, ascendingIntegers: integers)
            } else {
                try writeKey(database: database, key: key, expireAtMilliseconds: expire, set: set, count: set.count)
            }
        case .sortedSet(let zset):
            try writeKey(
                database: database, key: key, expireAtMilliseconds: expire, sortedSet: zset, highestFirst: zset.highestFirst,
                count: zset.count)
        case .hash(let hash):
            try writeKey(
                database: database, key: key, expireAtMilliseconds: expire, hash: hash.lazy.map { (field: $0.key, value: $0.value) },
                count: hash.count)
        case .stream:
            try writeEntry(Keyspace.entry(key, value, expire, database))
        }
    }
}

extension Bytes {
    /// The strings `strings` calls its argument with (`count` of them, in the same order on each of its three
    /// calls), as RDB strings that are slices of one buffer holding all their bytes: one allocation for a whole
    /// collection, where a buffer per element made malloc and free most of what converting a value for the
    /// writer cost.
    static func rdbStrings(count: Int, _ strings: ((Bytes) -> Void) -> Void) -> [RDBString] {
        var total = 0
        strings { total += $0.count }
        // All the bytes first: a slice taken earlier would make each write copy the buffer.
        var buffer = ByteBufferAllocator().buffer(capacity: total)
        strings { string in string.withUnsafeBytes { _ = buffer.writeBytes($0) } }
        var result: [RDBString] = []
        result.reserveCapacity(count)
        var offset = 0
        strings { string in
            result.append(.bytes(buffer.getSlice(at: offset, length: string.count)!))
            offset += string.count
        }
        return result
    }
}

extension [RDBString] {
    /// Fields and values taken two by two.
    fileprivate func pairs() -> [RDBHashField] {
        stride(from: 0, to: count - 1, by: 2).map { RDBHashField(field: self[$0], value: self[$0 + 1]) }
    }
}

extension Value {
    /// What the value weighs in a chunk of keys for an encoder thread: one per key and per element, and for a
    /// string one per 16 bytes, so that a chunk of large strings is about as many bytes as one of small keys.
    var chunkCost: Int {
        if case .string(let bytes) = self { return 1 + bytes.count / 16 }
        return 1 + elementCount
    }

    /// Elements the value holds (0 for a string): what encoding it costs, roughly.
    var elementCount: Int {
        switch self {
        case .string: 0
        case .list(let list): list.count
        case .set(let set): set.count
        case .sortedSet(let zset): zset.count
        case .hash(let hash): hash.count
        case .stream(let stream): stream.count
        }
    }
}

/// How the threads that encode keys for a save are scheduled.
public enum EncoderPriority: Sendable {
    /// Like any other thread: for `SAVE`, which the server waits for anyway.
    case normal
    /// Linux's `SCHED_IDLE`: they run only on CPU time no other thread of the machine wants, and give it up
    /// as soon as one does (at `nice 10`, the event loop waited for its turn behind them). The saving thread
    /// encodes chunks itself while the one it needs is not ready (the oldest no encoder has taken, or that one
    /// again when its encoder has not finished it in time), so a save on a machine with no CPU time to spare goes
    /// on at the saving thread's own priority, as a forked Redis child does.
    case idle
}

extension Keyspace {
    /// Writes `snapshot` (from ``snapshot()``) as a complete RDB: header and AUX fields, every database with its
    /// RESIZEDB hint, every key with its expiry, EOF and checksum. Runs on any thread: the snapshot is a value.
    ///
    /// With `encoders` above 0, keys are encoded (values turned into their RDB encodings, LZF included) by that
    /// many threads (scheduled as `encoderPriority` says), in chunks of about 64 KiB of RDB, while the calling
    /// thread walks the snapshot and writes the encoded chunks in order (checksum, file writes), encoding chunks
    /// itself while the next one is not ready (``ParallelKeyEncoder``); values that weigh more
    /// than ``parallelValueElements`` are written by the calling thread itself, in bounded memory. The file is
    /// the same byte for byte.
    ///
    /// - Returns: the number of keys written.
    /// - Throws: what the writer and its sink throw (`.io` on a full disk…).
    public static func save<Sink: ByteSink>(
        _ snapshot: [Database], to writer: inout RDBWriter<Sink>, aux: [(key: String, value: String)] = [],
        encoders: Int = 0, encoderPriority: EncoderPriority = .normal
    ) throws(FormatError) -> Int {
        let pool = encoders > 0 ? ParallelKeyEncoder(threads: encoders, options: writer.options, priority: encoderPriority) : nil
        return try save(snapshot, to: &writer, aux: aux, pool: pool)
    }

    /// ``save(_:to:aux:encoders:encoderPriority:)`` with `pool`'s threads (stopped on return).
    static func save<Sink: ByteSink>(
        _ snapshot: [Database], to writer: inout RDBWriter<Sink>, aux: [(key: String, value: String)],
        pool: ParallelKeyEncoder?
    ) throws(FormatError) -> Int {
        defer { pool?.stop() }
        try writer.writeHeader(aux: aux)
        let before = writer.keysWritten
        for (index, database) in snapshot.enumerated() where !database.isEmpty {
            try writer.selectDB(index, keys: UInt64(database.count), expires: UInt64(database.expires.count))
            guard let pool else {
                for (key, value) in database.entries {
                    try writer.writeKey(key, value, expireAtMilliseconds: database.expires[key], database: index)
                }
                continue
            }
            var chunk = KeyChunk(database: index)
            for (key, value) in database.entries {
                let cost = value.chunkCost
                if cost > parallelValueElements {
                    // After what is queued before it, so that the file keeps the snapshot's order.
                    if !chunk.items.isEmpty { pool.submit(chunk) }
                    chunk = KeyChunk(database: index)
                    try pool.writeReady(into: &writer, keepingAtMost: 0)
                    try writer.writeKey(key, value, expireAtMilliseconds: database.expires[key], database: index)
                    continue
                }
                chunk.items.append((key, value, database.expires[key]))
                chunk.elements += cost
                if chunk.elements >= parallelChunkElements {
                    pool.submit(chunk)
                    chunk = KeyChunk(database: index)
                    try pool.writeReady(into: &writer, keepingAtMost: pool.depth)
                }
            }
            if !chunk.items.isEmpty { pool.submit(chunk) }
            try pool.writeReady(into: &writer, keepingAtMost: 0)
        }
        try writer.finish()
        return writer.keysWritten - before
    }

    /// The weight (``Value/chunkCost``) of a chunk handed to an encoder thread: 64 KiB or so of RDB. The
    /// chunks in flight are the memory a save needs beyond the snapshot.
    static var parallelChunkElements: Int { 4096 }
    /// Values that weigh more (65,536 elements, or a string of 1 MiB) are encoded by the saving thread itself,
    /// streamed to the file: an encoder would hold the whole encoded value in memory.
    static var parallelValueElements: Int { 65536 }

    static func entry(_ key: Bytes, _ value: Value, _ expire: Int64?, _ database: Int) -> RDBEntry {
        RDBEntry(
            header: RDBKeyHeader(database: database, key: key.byteBuffer, type: value.rdbType, expireAtMilliseconds: expire),
            value: value.rdbValue)
    }

    /// Writes `snapshot` to `path` atomically (temp file in the same directory, fsync, rename, directory fsync),
    /// with `encoders` threads encoding keys, scheduled as `encoderPriority` says (see
    /// ``save(_:to:aux:encoders:encoderPriority:)``).
    public static func saveRDB(
        _ snapshot: [Database], path: String, options: RDBWriteOptions = .init(), aux: [(key: String, value: String)] = [],
        encoders: Int = 0, encoderPriority: EncoderPriority = .normal
    ) throws(FormatError) -> Int {
        let sink = try FileSink(path: path)
        var writer = RDBWriter(sink: sink, options: options)
        do {
            return try save(snapshot, to: &writer, aux: aux, encoders: encoders, encoderPriority: encoderPriority)
        } catch {
            sink.abort()
            throw error
        }
    }
}

/// Keys of one database, in snapshot order, for an encoder thread.
struct KeyChunk: @unchecked Sendable {
    let database: Int
    var items: [(key: Bytes, value: Value, expire: Int64?)] = []
    var elements = 0

    init(database: Int) { self.database = database }
}

/// Threads that encode chunks of keys into RDB bytes, and the queue of results the saving thread writes in
/// order. Chunks in flight (queued, being encoded, or encoded and not yet written) are bounded by the caller.
///
/// The saving thread never waits long for an encoder: while the chunk it needs next is not ready, it encodes
/// the oldest chunk no encoder has taken (that one first, when it is untaken), and when none is left and the
/// encoder holding the next one has not finished within ``encoderGrace`` (at idle priority an encoder may be
/// stopped for as long as the machine is busy), that chunk again. Whichever copy finishes first is written; the
/// bytes are the same. Under a busy machine the saving thread so encodes about half the chunks, and encodes one
/// twice only when no untaken chunk is queued (measured: 1-9 of 1,497 on the benchmark dataset, against 80-111
/// when the saving thread only ever took the chunk it needed).
final class ParallelKeyEncoder: @unchecked Sendable {
    private let monitor = Monitor()
    private var queue: [(sequence: Int, chunk: KeyChunk)] = []
    private var queueHead = 0
    /// Chunks an encoder has taken and not finished, by sequence.
    private var taken: [Int: KeyChunk] = [:]
    private var results: [Int: Result<(bytes: ByteBuffer, keys: Int), FormatError>] = [:]
    private var submitted = 0
    private var written = 0
    private var stopped = false
    private var running: Int
    private let options: RDBWriteOptions
    /// Chunks the saving thread keeps in flight before it waits: a few per thread.
    let depth: Int
    /// The saving thread's writer for the chunks it encodes itself (``writeReady(into:keepingAtMost:)``).
    private var helperFragment: RDBWriter<BufferSink>
    /// The most bytes one encoded chunk held (the memory in flight is at most ``depth`` times it).
    private(set) var largestChunkBytes = 0
    /// Chunks the saving thread encoded again because their encoder had not finished in time.
    private(set) var chunksEncodedTwice = 0
    /// The most untaken chunks that were queued when the saving thread encoded a chunk twice (tests: 0 by the
    /// rule above; the rule before it left them waiting).
    private(set) var untakenChunksAtSecondEncoding = 0
    /// How long the saving thread waits for the chunk it needs from an encoder before encoding it too: a chunk
    /// (64 KiB or so of RDB) takes well under a millisecond to encode on a core of its own.
    static let encoderGrace: Int64 = 5_000_000
    /// Tests: encoder threads take chunks and never finish them (encoders the machine never schedules).
    private let stallsEncoders: Bool
    /// Tests: encoder threads pause this many microseconds after taking each chunk (encoders a busy machine
    /// keeps stopping).
    private let encoderPauseMicroseconds: UInt32
    /// Chunks handed to the encoders so far.
    var chunksSubmitted: Int {
        monitor.lock()
        defer { monitor.unlock() }
        return submitted
    }

    /// Starts `threads` encoder threads (none: the saving thread encodes every chunk itself).
    init(
        threads: Int, options: RDBWriteOptions, priority: EncoderPriority, stallsEncoders: Bool = false,
        encoderPauseMicroseconds: UInt32 = 0
    ) {
        self.stallsEncoders = stallsEncoders
        self.encoderPauseMicroseconds = encoderPauseMicroseconds
        self.options = options
        running = threads
        depth = 4 * threads
        helperFragment = RDBWriter(sink: BufferSink(), options: options)
        for _ in 0..<threads {
            DetachedThread.start { [self] in
                #if os(Linux)
                // Per thread on Linux (0: the calling thread). Lowering one's own policy needs no privilege.
                // SCHED_IDLE is 5 in <sched.h>, behind _GNU_SOURCE, which Swift's Glibc module does not define.
                if priority == .idle {
                    var parameters = sched_param()
                    if sched_setscheduler(0, 5, &parameters) != 0 {
                        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)
                    }
                }
                #endif
                work()
            }
        }
    }

    func submit(_ chunk: KeyChunk) {
        monitor.lock()
        queue.append((submitted, chunk))
        submitted += 1
        monitor.broadcast()
        monitor.unlock()
    }

    /// Writes the encoded chunks that are next in order, waiting for them while more than `limit` are in flight.
    /// While the next is not ready, chunks no encoder has taken are encoded here, oldest first; the next one
    /// too when its encoder has held it for ``encoderGrace`` and none is left.
    func writeReady<Sink: ByteSink>(into writer: inout RDBWriter<Sink>, keepingAtMost limit: Int) throws(FormatError) {
        while true {
            monitor.lock()
            var waitingSince: Int64? = nil
            while results[written] == nil && submitted - written > limit {
                var job: (sequence: Int, chunk: KeyChunk)? = nil
                if queueHead < queue.count {
                    // The next chunk if no encoder has taken it, else the oldest one none has: work rather than
                    // wait, without doing an encoder's work again while there is other work to do.
                    job = claim()
                } else if let held = taken[written] {
                    let now = monotonicNanoseconds()
                    if let since = waitingSince, now - since >= Self.encoderGrace {
                        job = (written, held)
                        chunksEncodedTwice += 1
                        untakenChunksAtSecondEncoding = max(untakenChunksAtSecondEncoding, queue.count - queueHead)
                    } else {
                        if waitingSince == nil { waitingSince = now }
                        monitor.wait(untilMonotonicNanoseconds: waitingSince! + Self.encoderGrace)
                        continue
                    }
                }
                guard let job else {
                    monitor.wait()
                    continue
                }
                monitor.unlock()
                let result = encode(job.chunk, with: &helperFragment)
                monitor.lock()
                if job.sequence >= written && results[job.sequence] == nil { results[job.sequence] = result }
            }
            guard let result = results.removeValue(forKey: written) else {
                monitor.unlock()
                return
            }
            written += 1
            monitor.unlock()
            let (bytes, keys) = try result.get()
            largestChunkBytes = max(largestChunkBytes, bytes.readableBytes)
            try writer.appendFragment(bytes, keys: keys)
        }
    }

    /// Takes the oldest queued chunk off the queue (under the monitor; the queue is not empty).
    private func claim() -> (sequence: Int, chunk: KeyChunk) {
        let (sequence, chunk) = queue[queueHead]
        queue[queueHead] = (sequence, KeyChunk(database: 0))
        queueHead += 1
        if queueHead == queue.count {
            queue.removeAll(keepingCapacity: true)
            queueHead = 0
        }
        return (sequence, chunk)
    }

    /// Stops the threads (dropping what is queued) and waits for them to exit.
    func stop() {
        monitor.lock()
        stopped = true
        monitor.broadcast()
        while running > 0 { monitor.wait() }
        monitor.unlock()
    }

    private func work() {
        var fragment = RDBWriter(sink: BufferSink(), options: options)
        while true {
            monitor.lock()
            while queueHead == queue.count && !stopped { monitor.wait() }
            if stopped {
                running -= 1
                monitor.broadcast()
                monitor.unlock()
                return
            }
            let (sequence, chunk) = claim()
            taken[sequence] = chunk
            if stallsEncoders {
                while !stopped { monitor.wait() }
                monitor.unlock()
                continue
            }
            monitor.unlock()
            if encoderPauseMicroseconds > 0 { usleep(encoderPauseMicroseconds) }
            let result = encode(chunk, with: &fragment)
            monitor.lock()
            taken[sequence] = nil
            // The saving thread may have encoded it meanwhile, and written it.
            if sequence >= written && results[sequence] == nil { results[sequence] = result }
            monitor.broadcast()
            monitor.unlock()
        }
    }

    /// Encodes `chunk` with `fragment`, the calling thread's writer: its staging and output buffers serve chunk
    /// after chunk, and the result is a copy of the chunk's size.
    private func encode(
        _ chunk: KeyChunk, with fragment: inout RDBWriter<BufferSink>
    ) -> Result<(bytes: ByteBuffer, keys: Int), FormatError> {
        let before = fragment.keysWritten
        fragment.beginFragment(database: chunk.database)
        do throws(FormatError) {
            for (key, value, expire) in chunk.items {
                try fragment.writeKey(key, value, expireAtMilliseconds: expire, database: chunk.database)
            }
            try fragment.flushFragment()
        } catch {
            fragment = RDBWriter(sink: BufferSink(), options: options)
            return .failure(error)
        }
        return .success((fragment.takeFragment(), fragment.keysWritten - before))
    }
}
