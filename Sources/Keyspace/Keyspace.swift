import HashTreeCollections

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A command that changed the dataset, as it must reach the AOF and replicas (Redis's `propagate`).
public struct PropagatedCommand: Sendable, Equatable {
    /// The database the command applies to (the AOF writer emits SELECT when it changes).
    public var db: Int
    public var argv: [Bytes]

    public init(db: Int, argv: [Bytes]) {
        self.db = db
        self.argv = argv
    }
}

/// The whole dataset and the command engine: databases, expiries, WATCH bookkeeping and propagation.
///
/// Not thread-safe: like Redis's main thread, one thread owns it (the server's command loop, or a converter
/// replaying an AOF). What crosses threads is a snapshot (``snapshot()``), an array of value-typed databases.
/// It is `@unchecked Sendable` only so that its owner can hand it to the thread that will own it.
public final class Keyspace: @unchecked Sendable {
    /// The databases, `databases` of them (16 by default).
    public var databases: [Database]
    /// Current time in Unix milliseconds. Injectable for tests.
    public var clock: @Sendable () -> Int64
    /// Time of the command being executed (Redis's `commandTimeSnapshot`): expiry decisions within one command
    /// use one instant.
    public internal(set) var commandTime: Int64 = 0
    /// Changes since the last save (Redis `server.dirty`). Mutations add to it; the server resets it after a save.
    public var dirty = 0
    /// When false, keys are never considered expired (Redis while loading an RDB or replaying an AOF).
    public var expiryEnabled = true
    /// Encoding thresholds reported by OBJECT ENCODING and used when saving.
    public var encodingLimits = EncodingLimits()
    /// The command table. The server adds its own commands (SAVE, INFO, CONFIG…) to it.
    public var commands: CommandTable
    /// `requirepass`: when set, clients must AUTH before other commands.
    public var requirePass: Bytes?
    /// When set, commands that write, and PING, are refused with this error (Redis's `-MISCONF` after a failed
    /// save or AOF write).
    public var writeDeniedError: CommandError?

    // MARK: Propagation
    /// Whether changes are recorded in ``propagated`` (the server turns it on when an AOF is open).
    public var propagationEnabled = false
    /// Commands to append to the AOF, in order. The owner takes them with ``takePropagated()``.
    public private(set) var propagated: [PropagatedCommand] = []

    // MARK: Statistics (INFO stats / keyspace)
    public var expiredKeys = 0
    public var keyspaceHits = 0
    public var keyspaceMisses = 0
    public var commandsProcessed = 0
    /// Per database, the running estimate of the time to live of keys with an expiry, in milliseconds, that
    /// active expiry keeps from its samples (INFO keyspace `avg_ttl`); absent is 0.
    public internal(set) var averageTTL: [Int: Int64] = [:]

    // MARK: WATCH
    var watchers: [WatchedKey: [Session]] = [:]

    /// A dataset with `databases` empty databases.
    public init(databases count: Int = 16, clock: @escaping @Sendable () -> Int64 = Keyspace.unixMilliseconds) {
        precondition(count >= 1, "at least one database")
        databases = Array(repeating: Database(), count: count)
        self.clock = clock
        commands = CommandTable.standard
    }

    /// The wall clock in Unix milliseconds.
    public static func unixMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }

    /// A copy of every database, taken in O(1) per database (the fork emulation): later writes do not change it.
    /// - Complexity: O(databases)
    public func snapshot() -> [Database] { databases }

    // MARK: - Reading

    /// The value of `key`, removing it first if it has expired (Redis `lookupKey` with `expireIfNeeded`).
    /// Does not count hits and misses; see ``lookupRead(db:key:)``.
    public func value(db: Int, key: Bytes) -> Value? {
        if !databases[db].expires.isEmpty { expireIfNeeded(db: db, key: key) }
        return Self.borrowedLookup(&databases[db].entries, key)
    }

    /// `entries[key]` through an exclusive access: the tree is borrowed where it lies. Read through the array
    /// (`databases[db].entries[key]`), the database was copied out to call into the tree, a retain and a release
    /// of both its trees' roots per lookup (5% of a pipelined GET). The access checks the array's uniqueness, a
    /// load; the first one after a snapshot copies the array of databases (not their trees), as a write would.
    @inline(__always)
    private static func borrowedLookup(_ entries: inout TreeDictionary<Bytes, Value>, _ key: Bytes) -> Value? {
        entries[key]
    }

    /// ``value(db:key:)`` for read commands: counts keyspace hits and misses.
    public func lookupRead(db: Int, key: Bytes) -> Value? {
        let found = value(db: db, key: key)
        if found == nil { keyspaceMisses += 1 } else { keyspaceHits += 1 }
        return found
    }

    /// Whether `key` exists (expired keys are removed first).
    public func exists(db: Int, key: Bytes) -> Bool { value(db: db, key: key) != nil }

    /// The absolute expiry of `key` in Unix milliseconds, nil when it has none (or does not exist).
    public func expireTime(db: Int, key: Bytes) -> Int64? { databases[db].expires[key] }

    // MARK: - Writing

    /// Stores `value` under `key`, replacing what was there; the expiry is removed unless `keepTTL`.
    /// Counts one change and signals the key modified.
    public func set(db: Int, key: Bytes, value: Value, keepTTL: Bool = false) {
        if value.isEmptyCollection {
            remove(db: db, key: key)
            return
        }
        databases[db].entries[key] = value
        if !keepTTL, !databases[db].expires.isEmpty { databases[db].expires.removeValue(forKey: key) }
        modified(db: db, key: key)
    }

    /// Removes `key` and its expiry. Counts one change when it existed.
    @discardableResult
    public func remove(db: Int, key: Bytes) -> Value? {
        guard let old = databases[db].entries.removeValue(forKey: key) else { return nil }
        if !databases[db].expires.isEmpty { databases[db].expires.removeValue(forKey: key) }
        modified(db: db, key: key)
        return old
    }

    /// Sets the absolute expiry of an existing key. Counts one change.
    public func setExpire(db: Int, key: Bytes, atMilliseconds: Int64) {
        precondition(databases[db].entries[key] != nil, "expire on a missing key")
        databases[db].expires[key] = atMilliseconds
        modified(db: db, key: key)
    }

    /// Removes the expiry of `key`; returns whether it had one. Counts one change when it did.
    @discardableResult
    public func removeExpire(db: Int, key: Bytes) -> Bool {
        guard databases[db].expires.removeValue(forKey: key) != nil else { return false }
        modified(db: db, key: key)
        return true
    }

    /// Records that `key` changed without going through ``set(db:key:value:keepTTL:)`` (after ``update``):
    /// adds `changes` to ``dirty`` and invalidates WATCHes on the key.
    public func modified(db: Int, key: Bytes, changes: Int = 1) {
        dirty += changes
        if !watchers.isEmpty { touchWatched(db: db, key: key) }
    }

    /// Mutates the value of `key` in place when it holds a `P`, creating an empty one first when `create` is
    /// true and the key is missing. Returns nil when the key is missing and `create` is false.
    ///
    /// The value is taken out of the map while `body` runs, so a value that no snapshot shares is mutated
    /// without a copy. A collection left empty deletes the key (and its expiry). Nothing is counted: call
    /// ``modified(db:key:changes:)`` when `body` changed something.
    ///
    /// - Throws: `WRONGTYPE` when the key holds another type; whatever `body` throws (the value is kept).
    /// - Complexity: O(log n) plus `body`.
    public func update<P: ValuePayload, R>(
        _ type: P.Type, db: Int, key: Bytes, create: Bool = false,
        _ body: (inout P) throws(CommandError) -> R
    ) throws(CommandError) -> R? {
        if !databases[db].expires.isEmpty { expireIfNeeded(db: db, key: key) }
        // One descent that finds the key or inserts a placeholder, then an in-place change of its slot: half the
        // cost of the map's optional `_modify` subscript (which moves the value out and back through a state
        // record). A placeholder that should not stay (a missing key without `create`, a collection left empty)
        // is removed afterwards, which is the rare path.
        var inserted = false
        var outcome: Result<R, CommandError>?
        var remove = false
        withUnsafeMutablePointer(to: &inserted) { inserted in
            databases[db].entries.updateValue(forKey: key, default: Keyspace.placeholder(marking: inserted)) { slot in
                var payload: P
                if inserted.pointee {
                    guard create else {
                        remove = true
                        return
                    }
                    payload = P()
                } else {
                    // Moved out of the map so that the body's change does not copy it (unless a snapshot shares it).
                    var taken: Value? = .string(Bytes())
                    swap(&taken!, &slot)
                    guard let value = P.take(from: &taken) else {
                        swap(&taken!, &slot)
                        outcome = .failure(.wrongType)
                        return
                    }
                    payload = value
                }
                outcome = Result { () throws(CommandError) -> R in try body(&payload) }
                if payload.isEmptyCollection {
                    remove = true
                } else {
                    slot = payload.wrapped
                }
            }
        }
        if remove {
            databases[db].entries.removeValue(forKey: key)
            if !inserted, !databases[db].expires.isEmpty { databases[db].expires.removeValue(forKey: key) }
        }
        guard let outcome else { return nil }
        return try outcome.get()
    }

    /// The value ``update(_:db:key:create:_:)`` inserts for a missing key (a string of no bytes: no allocation),
    /// noting that it did.
    private static func placeholder(marking inserted: UnsafeMutablePointer<Bool>) -> Value {
        inserted.pointee = true
        return .string(Bytes())
    }

    /// Reads the value of `key` as a `P`: nil when missing, `WRONGTYPE` when another type.
    public func read<P: ValuePayload>(_ type: P.Type, db: Int, key: Bytes) throws(CommandError) -> P? {
        guard let value = lookupRead(db: db, key: key) else { return nil }
        guard let payload = P.extract(value) else { throw .wrongType }
        return payload
    }

    /// Empties one database (FLUSHDB), or all of them when `db` is nil (FLUSHALL). Returns the keys removed.
    @discardableResult
    public func flush(db: Int? = nil) -> Int {
        var removed = 0
        for index in databases.indices where db == nil || db == index {
            removed += databases[index].count
            if !watchers.isEmpty { touchAllWatched(db: index) }
            databases[index] = Database()
            averageTTL[index] = nil
        }
        dirty += removed
        return removed
    }

    // MARK: - Expiry

    /// Removes `key` if its expiry has passed (at ``commandTime``): counts it, propagates a DEL, and signals
    /// WATCHers. Returns whether it was removed.
    @discardableResult
    public func expireIfNeeded(db: Int, key: Bytes) -> Bool {
        guard expiryEnabled, let when = databases[db].expires[key], when <= currentTime else { return false }
        databases[db].entries.removeValue(forKey: key)
        databases[db].expires.removeValue(forKey: key)
        expiredKeys += 1
        propagate(db: db, ["DEL", key])
        if !watchers.isEmpty { touchWatched(db: db, key: key) }
        return true
    }

    /// Whether `key` has an expiry that has passed, without removing it.
    public func isLogicallyExpired(db: Int, key: Bytes) -> Bool {
        guard expiryEnabled, let when = databases[db].expires[key] else { return false }
        return when <= currentTime
    }

    /// The command's time when a command runs, the clock otherwise.
    var currentTime: Int64 { commandTime != 0 ? commandTime : clock() }

    /// One pass of active expiry (Redis `activeExpireCycle`, simplified): in each database, sample up to
    /// `samples` keys with an expiry, remove the expired ones, and go on while more than a quarter of a sample
    /// had expired, up to `maxRounds` samples per database. Returns the number of keys removed.
    @discardableResult
    public func activeExpireCycle(samples: Int = 20, maxRounds: Int = 16) -> Int {
        guard expiryEnabled else { return 0 }
        commandTime = clock()
        defer { commandTime = 0 }
        var removed = 0
        for db in databases.indices {
            if databases[db].expires.isEmpty { averageTTL[db] = nil }
            var rounds = 0
            while rounds < maxRounds, !databases[db].expires.isEmpty {
                rounds += 1
                var expiredInRound = 0
                var ttlSum: Int64 = 0
                var ttlSamples: Int64 = 0
                let expires = databases[db].expires
                let sampleCount = min(samples, expires.count)
                for _ in 0..<sampleCount {
                    let offset = Int.random(in: 0..<expires.count)
                    let (key, when) = expires[expires.index(expires.startIndex, offsetBy: offset)]
                    if when <= commandTime {
                        if expireIfNeeded(db: db, key: key) { expiredInRound += 1 }
                    } else {
                        ttlSum &+= when - commandTime
                        ttlSamples += 1
                    }
                }
                // Redis's estimate: the first sample's mean, then 1/50 of each new mean.
                if ttlSamples > 0 {
                    let mean = ttlSum / ttlSamples
                    var previous = averageTTL[db] ?? 0
                    if previous == 0 { previous = mean }
                    averageTTL[db] = (previous / 50) * 49 + mean / 50
                }
                removed += expiredInRound
                if expiredInRound * 4 <= sampleCount { break }
            }
        }
        return removed
    }

    /// A random key of `db` that has not expired (RANDOMKEY), nil when the database is empty.
    public func randomKey(db: Int) -> Bytes? {
        for attempt in 0..<100 {
            let entries = databases[db].entries
            guard !entries.isEmpty else { return nil }
            let key = entries[entries.index(entries.startIndex, offsetBy: Int.random(in: 0..<entries.count))].key
            // Like Redis, give up removing expired keys after many tries and return one anyway.
            if attempt == 99 || !expireIfNeeded(db: db, key: key) { return key }
        }
        return nil
    }

    // MARK: - Propagation

    /// Records a command for the AOF (when ``propagationEnabled``).
    public func propagate(db: Int, _ argv: [Bytes]) {
        guard propagationEnabled else { return }
        propagated.append(PropagatedCommand(db: db, argv: argv))
    }

    /// The commands recorded since the last call, oldest first.
    public func takePropagated() -> [PropagatedCommand] {
        defer { propagated.removeAll(keepingCapacity: true) }
        return propagated
    }

    func wrapPropagated(from start: Int, db: Int) {
        guard propagationEnabled, propagated.count > start else { return }
        propagated.insert(PropagatedCommand(db: propagated[start].db, argv: ["MULTI"]), at: start)
        propagated.append(PropagatedCommand(db: propagated[propagated.count - 1].db, argv: ["EXEC"]))
    }
}

/// A value type that a key can hold, for ``Keyspace/update(_:db:key:create:_:)`` and ``Keyspace/read(_:db:key:)``.
public protocol ValuePayload: Sendable {
    /// An empty value, for commands that create the key.
    init()
    /// The payload when `value` holds this type.
    static func extract(_ value: Value) -> Self?
    /// Moves the payload out of `slot` (leaving nil) so that it is uniquely referenced; nil for another type.
    static func take(from slot: inout Value?) -> Self?
    var wrapped: Value { get }
    /// True for an empty collection (the key is then deleted). Always false for strings and streams.
    var isEmptyCollection: Bool { get }
}

extension Bytes: ValuePayload {
    public static func extract(_ value: Value) -> Bytes? {
        if case .string(let bytes) = value { return bytes }
        return nil
    }
    public static func take(from slot: inout Value?) -> Bytes? {
        guard case .string(let bytes)? = slot else { return nil }
        slot = nil
        return bytes
    }
    public var wrapped: Value { .string(self) }
    // A string key is never deleted for being empty ("" is a valid value).
    public var isEmptyCollection: Bool { false }
}

extension ListValue: ValuePayload {
    public static func extract(_ value: Value) -> ListValue? {
        if case .list(let list) = value { return list }
        return nil
    }
    public static func take(from slot: inout Value?) -> ListValue? {
        guard case .list(let list)? = slot else { return nil }
        slot = nil
        return list
    }
    public var wrapped: Value { .list(self) }
    public var isEmptyCollection: Bool { count == 0 }
}

extension SetValue: ValuePayload {
    public static func extract(_ value: Value) -> SetValue? {
        if case .set(let set) = value { return set }
        return nil
    }
    public static func take(from slot: inout Value?) -> SetValue? {
        guard case .set(let set)? = slot else { return nil }
        slot = nil
        return set
    }
    public var wrapped: Value { .set(self) }
    public var isEmptyCollection: Bool { isEmpty }
}

extension HashValue: ValuePayload {
    public static func extract(_ value: Value) -> HashValue? {
        if case .hash(let hash) = value { return hash }
        return nil
    }
    public static func take(from slot: inout Value?) -> HashValue? {
        guard case .hash(let hash)? = slot else { return nil }
        slot = nil
        return hash
    }
    public var wrapped: Value { .hash(self) }
    public var isEmptyCollection: Bool { isEmpty }
}

extension SortedSetValue: ValuePayload {
    public static func extract(_ value: Value) -> SortedSetValue? {
        if case .sortedSet(let zset) = value { return zset }
        return nil
    }
    public static func take(from slot: inout Value?) -> SortedSetValue? {
        guard case .sortedSet(let zset)? = slot else { return nil }
        slot = nil
        return zset
    }
    public var wrapped: Value { .sortedSet(self) }
    public var isEmptyCollection: Bool { count == 0 }
}

extension StreamValue: ValuePayload {
    public static func extract(_ value: Value) -> StreamValue? {
        if case .stream(let stream) = value { return stream }
        return nil
    }
    public static func take(from slot: inout Value?) -> StreamValue? {
        guard case .stream(let stream)? = slot else { return nil }
        slot = nil
        return stream
    }
    public var wrapped: Value { .stream(self) }
    // An empty stream is a valid key.
    public var isEmptyCollection: Bool { false }
}
