import HashTreeCollections
@testable import Keyspace
import Formats
import Foundation
import Testing
import TestSupport

@Suite("Snapshots")
struct SnapshotTests {
    @Test("A snapshot keeps every value as it was, nested collections included")
    func snapshotIsolation() throws {
        let keyspace = Keyspace()
        keyspace.set(db: 0, key: "s", value: .string("before"))
        keyspace.set(db: 0, key: "l", value: .list(ListValue((0..<1000).map { Bytes(integer: Int64($0)) })))
        var set = SetValue()
        for member in 0..<300 { set.insert(Bytes(integer: Int64(member))) }
        keyspace.set(db: 0, key: "set", value: .set(set))
        keyspace.setExpire(db: 0, key: "s", atMilliseconds: 4_000_000_000_000)
        let snapshot = keyspace.snapshot()

        keyspace.set(db: 0, key: "s", value: .string("after"))
        _ = try keyspace.update(ListValue.self, db: 0, key: "l") { list throws(CommandError) in
            list[500] = "changed"
            list.append("new")
            _ = list.removeFirst()
        }
        _ = try keyspace.update(SetValue.self, db: 0, key: "set") { set throws(CommandError) in
            set.remove("7")
        }
        keyspace.remove(db: 0, key: "missing")
        keyspace.flush(db: 1)

        #expect(snapshot[0].expires["s"] == 4_000_000_000_000)
        #expect(keyspace.expireTime(db: 0, key: "s") == nil)
        guard case .string(let old)? = snapshot[0].entries["s"] else { Issue.record("string"); return }
        #expect(old == "before")
        guard case .list(let list)? = snapshot[0].entries["l"] else { Issue.record("list"); return }
        #expect(Array(list) == (0..<1000).map { Bytes(integer: Int64($0)) })
        guard case .set(let oldSet)? = snapshot[0].entries["set"] else { Issue.record("set"); return }
        #expect(oldSet.contains("7"))
        guard case .list(let current)? = keyspace.databases[0].entries["l"] else { Issue.record("list"); return }
        #expect(current.count == 1000 && current[499] == "changed" && current.last == "new")
    }

    @Test("A collection emptied in place deletes the key and its expiry")
    func emptiedCollectionDeletesKey() throws {
        let keyspace = Keyspace()
        keyspace.set(db: 0, key: "l", value: .list(ListValue(["a"])))
        keyspace.setExpire(db: 0, key: "l", atMilliseconds: 4_000_000_000_000)
        let popped = try keyspace.update(ListValue.self, db: 0, key: "l") { list throws(CommandError) in list.removeFirst() }
        #expect(popped == "a")
        #expect(keyspace.databases[0].entries["l"] == nil)
        #expect(keyspace.databases[0].expires["l"] == nil)
        keyspace.set(db: 0, key: "str", value: .string("x"))
        #expect(throws: CommandError.wrongType) {
            try keyspace.update(ListValue.self, db: 0, key: "str") { _ throws(CommandError) in }
        }
    }

    @Test("update: a missing key stays missing unless created and left non-empty; a throwing body keeps the value")
    func updateEdgeCases() throws {
        let keyspace = Keyspace()
        // Missing, not created: nothing is left behind (update inserts a placeholder while it looks).
        let untouched = try keyspace.update(ListValue.self, db: 0, key: "absent") { list throws(CommandError) in
            list.append("never")
        }
        #expect(untouched == nil)
        #expect(keyspace.databases[0].entries["absent"] == nil)
        #expect(keyspace.databases[0].count == 0)
        // Created but left empty: no key either.
        let emptyCount = try keyspace.update(SetValue.self, db: 0, key: "empty", create: true) { set throws(CommandError) in
            set.count
        }
        #expect(emptyCount == 0)
        #expect(keyspace.databases[0].entries["empty"] == nil)
        // Created with content.
        _ = try keyspace.update(ListValue.self, db: 0, key: "l", create: true) { list throws(CommandError) in
            list.append("a")
            list.append("b")
        }
        guard case .list(let created)? = keyspace.databases[0].entries["l"] else { Issue.record("list"); return }
        #expect(Array(created) == ["a", "b"])
        // A body that throws after changing the value: the change is kept (as Redis keeps what a command did
        // before failing), the error reaches the caller, the key keeps its expiry.
        keyspace.setExpire(db: 0, key: "l", atMilliseconds: 4_000_000_000_000)
        #expect(throws: CommandError.overflow) {
            try keyspace.update(ListValue.self, db: 0, key: "l") { list throws(CommandError) in
                list.append("c")
                throw CommandError.overflow
            }
        }
        guard case .list(let kept)? = keyspace.databases[0].entries["l"] else { Issue.record("list kept"); return }
        #expect(Array(kept) == ["a", "b", "c"])
        #expect(keyspace.databases[0].expires["l"] == 4_000_000_000_000)
        // Another type: WRONGTYPE, and the value is put back untouched.
        keyspace.set(db: 0, key: "s", value: .string("text"))
        #expect(throws: CommandError.wrongType) {
            try keyspace.update(HashValue.self, db: 0, key: "s", create: true) { _ throws(CommandError) in }
        }
        guard case .string(let text)? = keyspace.databases[0].entries["s"] else { Issue.record("string"); return }
        #expect(text == "text")
        #expect(keyspace.databases[0].count == 2)
    }

    @Test("Keys past their expiry are gone on access and propagate a DEL")
    func lazyExpiry() {
        let clock = ManualClock(1_000)
        let keyspace = Keyspace(clock: { clock.now })
        keyspace.propagationEnabled = true
        keyspace.set(db: 2, key: "k", value: .string("v"))
        keyspace.setExpire(db: 2, key: "k", atMilliseconds: 1_500)
        #expect(keyspace.value(db: 2, key: "k") != nil)
        clock.now = 1_500
        #expect(keyspace.value(db: 2, key: "k") == nil)
        #expect(keyspace.expiredKeys == 1)
        #expect(keyspace.takePropagated() == [PropagatedCommand(db: 2, argv: ["DEL", "k"])])
    }

    @Test("The list keeps order through chunk splits, trims and removals")
    func listChunks() {
        var model: [Bytes] = []
        var list = ListValue()
        var random = SystemRandomNumberGenerator()
        for step in 0..<5000 {
            let element = Bytes(integer: Int64(step))
            switch Int.random(in: 0..<6, using: &random) {
            case 0: list.append(element); model.append(element)
            case 1: list.prepend(element); model.insert(element, at: 0)
            case 2:
                let index = Int.random(in: 0...model.count, using: &random)
                list.insert(element, at: index); model.insert(element, at: index)
            case 3 where !model.isEmpty:
                let index = Int.random(in: 0..<model.count, using: &random)
                #expect(list.remove(at: index) == model.remove(at: index))
            case 4 where model.count > 10 && step % 50 == 0:
                let lower = Int.random(in: 0..<5, using: &random)
                list.keep(lower..<(model.count - 2)); model = Array(model[lower..<(model.count - 2)])
            default:
                #expect(list.removeLast() == model.popLast())
            }
        }
        #expect(Array(list) == model)
        #expect(list.count == model.count)
        if model.count > 10 { #expect(list.elements(in: 3..<9) == Array(model[3..<9])) }
    }
}

/// A settable clock for expiry tests.
final class ManualClock: @unchecked Sendable {
    var now: Int64
    init(_ now: Int64) { self.now = now }
}

@Suite("Saving with encoder threads")
struct ParallelSaveTests {
    /// Many small keys (many chunks), values around the chunk size, one value too big for an encoder (written
    /// by the saving thread between chunks), compressible strings, expiries, three databases.
    static func keyspace() -> Keyspace {
        let keyspace = Keyspace()
        var generator = SplitMix64(seed: 42)
        for db in [0, 2, 5] {
            for i in 0..<3_000 {
                let key = Bytes("k\(db):\(i)")
                switch generator.next() % 6 {
                case 0: keyspace.set(db: db, key: key, value: .string(Bytes(String(repeating: "abc", count: Int(generator.next() % 200)))))
                case 1: keyspace.set(db: db, key: key, value: .list(ListValue((0..<Int(1 + generator.next() % 300)).map { Bytes(integer: Int64($0)) })))
                case 2:
                    var set = SetValue()
                    for member in 0..<(1 + generator.next() % 200) { set.insert(Bytes("m\(member)")) }
                    keyspace.set(db: db, key: key, value: .set(set))
                case 3:
                    var hash = HashValue()
                    for field in 0..<(1 + generator.next() % 150) {
                        hash.updateValue(Bytes("v\(field)"), forField: Bytes("f\(field)"))
                    }
                    keyspace.set(db: db, key: key, value: .hash(hash))
                case 4:
                    var zset = SortedSetValue()
                    for member in 0..<(1 + generator.next() % 150) { zset.insert(Bytes("z\(member)"), score: Double(member) / 3) }
                    keyspace.set(db: db, key: key, value: .sortedSet(zset))
                default: keyspace.set(db: db, key: key, value: .string(Bytes(integer: Int64(bitPattern: generator.next()))))
                }
                if i % 10 == 0 { keyspace.setExpire(db: db, key: key, atMilliseconds: 4_000_000_000_000 + Int64(i)) }
            }
        }
        keyspace.set(db: 2, key: "huge", value: .list(ListValue((0..<70_000).map { Bytes("item-\($0)") })))
        keyspace.set(db: 2, key: "chunk-sized", value: .list(ListValue((0..<5_000).map { Bytes("x\($0)") })))
        return keyspace
    }

    @Test("Encoder threads write the same bytes as the saving thread alone", arguments: [1, 2, 3])
    func sameBytes(encoders: Int) throws {
        let snapshot = Self.keyspace().snapshot()
        let aux = [(key: "ctime", value: "1700000000")]
        var alone = RDBWriter(sink: BufferSink())
        let keys = try Keyspace.save(snapshot, to: &alone, aux: aux)
        var parallel = RDBWriter(sink: BufferSink())
        #expect(try Keyspace.save(snapshot, to: &parallel, aux: aux, encoders: encoders) == keys)
        #expect(keys == 9_002)
        #expect(parallel.sink.bytes == alone.sink.bytes)
        #expect(parallel.keysWritten == alone.keysWritten)
    }

    /// Saves `snapshot` by the calling thread alone and again through `pool`: the same bytes, the same keys.
    static func expectSameFile(_ snapshot: [Database], through pool: ParallelKeyEncoder) throws {
        let aux = [(key: "ctime", value: "1700000000")]
        var alone = RDBWriter(sink: BufferSink())
        let keys = try Keyspace.save(snapshot, to: &alone, aux: aux)
        var parallel = RDBWriter(sink: BufferSink())
        #expect(try Keyspace.save(snapshot, to: &parallel, aux: aux, pool: pool) == keys)
        let same = parallel.sink.bytes == alone.sink.bytes
        #expect(same, "\(parallel.sink.bytes.count) bytes, alone \(alone.sink.bytes.count)")
    }

    /// Idle-priority encoders may get no CPU time at all on a busy machine: the saving thread then encodes the
    /// chunk it needs next. A pool with no threads is that case at its extreme: without it the save would wait
    /// forever.
    @Test("The saving thread encodes the chunks no encoder takes", .timeLimit(.minutes(1)))
    func savingThreadEncodesUntakenChunks() throws {
        try Self.expectSameFile(
            Self.keyspace().snapshot(), through: ParallelKeyEncoder(threads: 0, options: RDBWriteOptions(), priority: .idle))
    }

    /// An encoder at idle priority may take a chunk and then get no CPU time for as long as the machine is busy:
    /// the saving thread encodes that chunk too once it has waited ``ParallelKeyEncoder/encoderGrace`` for it.
    @Test("The saving thread encodes again a chunk whose encoder never finishes", .timeLimit(.minutes(1)))
    func stalledEncoders() throws {
        let pool = ParallelKeyEncoder(threads: 2, options: RDBWriteOptions(), priority: .normal, stallsEncoders: true)
        try Self.expectSameFile(Self.keyspace().snapshot(), through: pool)
        // Each encoder takes one chunk and holds it (one that starts after the saving thread has taken every
        // chunk holds none).
        #expect((1...2).contains(pool.chunksEncodedTwice))
        // Before it encodes a held chunk again, the saving thread has encoded every chunk no encoder took (it
        // used to wait out the grace on chunk 0 while chunks 2-8 were queued).
        #expect(pool.untakenChunksAtSecondEncoding == 0)
    }

    /// Encoders a busy machine keeps stopping (20 ms a chunk here, four times the grace) but that do finish: the
    /// saving thread encodes the chunks no encoder has taken meanwhile, a held one again only when none is
    /// queued, and whichever copy of a chunk comes first is written once.
    @Test("The saving thread encodes untaken chunks rather than an encoder's again", .timeLimit(.minutes(1)))
    func slowEncoders() throws {
        let pool = ParallelKeyEncoder(threads: 2, options: RDBWriteOptions(), priority: .normal, encoderPauseMicroseconds: 20_000)
        try Self.expectSameFile(Self.keyspace().snapshot(), through: pool)
        #expect(pool.chunksSubmitted > 50)
        #expect(pool.untakenChunksAtSecondEncoding == 0, "\(pool.chunksEncodedTwice) of \(pool.chunksSubmitted) chunks encoded twice")
    }

    /// A chunk was 4,096 keys whatever their size: 8 chunks in flight of 32 KiB strings were 1 GiB (a BGSAVE of
    /// 10,000 such strings took 443 MiB more than the server held before). Strings now weigh their bytes.
    @Test("A chunk of large strings stays near 64 KiB", .timeLimit(.minutes(1)))
    func largeStringChunks() throws {
        let keyspace = Keyspace()
        var generator = SystemRandomNumberGenerator()
        for i in 0..<300 {
            let bytes = (0..<32 * 1024).map { _ in UInt8.random(in: 0...255, using: &generator) }
            keyspace.set(db: 0, key: Bytes("big:\(i)"), value: .string(Bytes(bytes)))
        }
        for i in 0..<3_000 { keyspace.set(db: 0, key: Bytes("small:\(i)"), value: .string("value")) }
        let pool = ParallelKeyEncoder(threads: 2, options: RDBWriteOptions(), priority: .normal)
        try Self.expectSameFile(keyspace.snapshot(), through: pool)
        #expect(pool.largestChunkBytes > 32 * 1024)
        #expect(pool.largestChunkBytes <= 96 * 1024)
    }

    @Test("Encoders at idle priority write the same bytes", .timeLimit(.minutes(1)))
    func idleEncoders() throws {
        try Self.expectSameFile(
            Self.keyspace().snapshot(), through: ParallelKeyEncoder(threads: 2, options: RDBWriteOptions(), priority: .idle))
    }

    #if os(Linux)
    /// Threads of this process whose scheduling policy is SCHED_IDLE (5): field 41 of /proc/self/task/TID/stat.
    static func idleThreads() -> Int {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.filter { task in
            guard let stat = try? String(contentsOfFile: "/proc/self/task/\(task)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 38 && fields[38] == "5"
        }.count
    }

    @Test("Idle-priority encoder threads run at SCHED_IDLE", .timeLimit(.minutes(1)))
    func encodersAreIdlePriority() throws {
        let pool = ParallelKeyEncoder(threads: 2, options: RDBWriteOptions(), priority: .idle)
        defer { pool.stop() }
        var found = 0
        for _ in 0..<200 where found < 2 {
            found = Self.idleThreads()
            if found < 2 { usleep(10_000) }
        }
        #expect(found >= 2)
    }
    #endif
}
