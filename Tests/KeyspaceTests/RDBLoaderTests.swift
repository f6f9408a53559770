import Formats
import Foundation
import NIOCore
import Testing
import TestSupport

@testable import Keyspace

/// The two-thread loader (`Keyspace.loadRDB`): keys inserted in sorted runs, values built on either thread, and
/// the errors a file can hold, with runs short enough that a small file crosses many of them.
@Suite("RDB loading in sorted runs")
struct RDBLoaderTests {
    private static func header(_ key: String, database: Int = 0, expireAt: Int64? = nil) -> RDBKeyHeader {
        var buffer = ByteBufferAllocator().buffer(capacity: key.utf8.count)
        buffer.writeString(key)
        return RDBKeyHeader(database: database, key: buffer, type: .string, expireAtMilliseconds: expireAt)
    }

    private static func string(_ text: String) -> RDBString {
        var buffer = ByteBufferAllocator().buffer(capacity: text.utf8.count)
        buffer.writeString(text)
        return .bytes(buffer)
    }

    /// Writes `entries` to a temporary file; returns its path.
    private static func file(_ entries: [RDBEntry], cutting cut: Int = 0) throws -> String {
        let bytes = try writeRDB(entries, options: RDBWriteOptions()).bytes
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("loader-\(UUID().uuidString).rdb")
        try Data(bytes.dropLast(cut)).write(to: url)
        return url.path
    }

    /// The offsets of `key`'s entries in the file at `path`.
    private static func offsets(of key: String, in path: String) throws -> [Int64] {
        var reader = RDBReader(source: try InputSource.open(path))
        var found: [Int64] = []
        while let event = try reader.next() {
            if case .beginKey(let header) = event, Bytes(header.key).string == key { found.append(header.offset) }
        }
        return found
    }

    /// The string value of `key` in database 0, if it holds one.
    private static func string(of key: Bytes, in keyspace: Keyspace) -> Bytes? {
        if case .string(let bytes)? = keyspace.value(db: 0, key: key) { return bytes }
        return nil
    }

    private static func mixedEntries(count: Int) -> [RDBEntry] {
        (0..<count).map { index in
            let name = "key:\(index)"
            switch index % 5 {
            case 0:
                return RDBEntry(header: header(name, database: index % 3), value: .string(string("value \(index)")))
            case 1:
                return RDBEntry(header: header(name), value: .list((0..<(index % 7 + 1)).map { string("item \($0)") }))
            case 2:
                return RDBEntry(header: header(name, expireAt: 4_102_444_800_000), value: .set((0..<(index % 40 + 1)).map { .integer(Int64($0)) }))
            case 3:
                return RDBEntry(header: header(name), value: .hash((0..<(index % 9 + 1)).map {
                    RDBHashField(field: string("f\($0)"), value: string("v\($0)"))
                }))
            default:
                // Already expired: not loaded while expiry is on.
                return RDBEntry(header: header(name, expireAt: 1_000), value: .string(string("gone")))
            }
        }
    }

    @Test("every key of a file spanning many runs is loaded, with its value, database and expiry", arguments: [1, 7, 64, 1 << 17])
    func loadsEveryKey(runLength: Int) throws {
        try Self.loadsEveryKey(count: 2_000, runLength: runLength)
    }

    /// With runs longer than the shortest (4,096), the file's RESIZEDB hints (three databases here) shorten the
    /// runs towards the end: every key still loads.
    @Test("runs shortened towards the end the file announces lose no key")
    func shortenedRuns() throws {
        try Self.loadsEveryKey(count: 40_000, runLength: 8_192)
    }

    private static func loadsEveryKey(count: Int, runLength: Int) throws {
        let entries = Self.mixedEntries(count: count)
        let path = try Self.file(entries)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let keyspace = Keyspace()
        let summary = try keyspace.loadRDB(path: path, options: RDBReadOptions(), runLength: runLength)
        #expect(summary.keysLoaded == count / 5 * 4)
        #expect(summary.expiredSkipped == count / 5)
        #expect(keyspace.databases.map(\.count).reduce(0, +) == count / 5 * 4)
        for (index, entry) in entries.enumerated() where index % 5 != 4 {
            let key = Bytes(entry.header.key)
            let value = keyspace.value(db: entry.header.database, key: key)
            switch (entry.value, value) {
            case (.string(let expected), .string(let loaded)?): #expect(loaded == Bytes(expected))
            case (.list(let expected), .list(let loaded)?): #expect(Array(loaded) == expected.map { Bytes($0) })
            case (.set(let expected), .set(let loaded)?):
                #expect(Set(loaded) == Set(expected.map { Bytes($0) }))
                // Written as an intset, kept as the reader's array of integers.
                #expect(loaded.ascendingIntegers == expected.map { $0.canonicalInteger(maxLength: 20)! })
            case (.hash(let expected), .hash(let loaded)?):
                #expect(loaded.count == expected.count)
                for field in expected { #expect(loaded[Bytes(field.field)] == Bytes(field.value)) }
            default: Issue.record("\(key.string): \(String(describing: value)) for \(entry.value)")
            }
            #expect(keyspace.expireTime(db: entry.header.database, key: key) == entry.header.expireAtMilliseconds)
        }
    }

    @Test("a key that repeats in a later run is a duplicate, reported at its second entry", arguments: [1, 5, 64, 1 << 17])
    func duplicateAcrossRuns(runLength: Int) throws {
        var entries = (0..<500).map { RDBEntry(header: Self.header("key:\($0)"), value: .string(Self.string("v\($0)"))) }
        entries.append(RDBEntry(header: Self.header("key:17"), value: .string(Self.string("again"))))
        entries.append(contentsOf: (500..<520).map { RDBEntry(header: Self.header("key:\($0)"), value: .string(Self.string("v"))) })
        let path = try Self.file(entries)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let second = try #require(try Self.offsets(of: "key:17", in: path).last)
        let keyspace = Keyspace()
        do {
            _ = try keyspace.loadRDB(path: path, options: RDBReadOptions(), runLength: runLength)
            Issue.record("a duplicate key loaded")
        } catch {
            #expect(error.code == .corrupt)
            #expect("\(error)".contains("duplicate key"))
            #expect(error.key.map { Bytes($0).string } == "key:17")
            #expect(error.offset == second)
        }
        // The first entry stays: a repeat never replaces it; and the keys before the repeat are all loaded.
        #expect(Self.string(of: "key:17", in: keyspace) == "v17")
        for index in 0..<500 { #expect(Self.string(of: Bytes("key:\(index)"), in: keyspace) == Bytes("v\(index)")) }
    }

    @Test("a cut file: the keys read before the cut are loaded, and a duplicate among them is the error", arguments: [3, 64])
    func cutFile(runLength: Int) throws {
        let entries = (0..<300).map { RDBEntry(header: Self.header("key:\($0)"), value: .string(Self.string("value \($0)"))) }
        let cut = try Self.file(entries, cutting: 40)
        defer { try? FileManager.default.removeItem(atPath: cut) }
        let keyspace = Keyspace()
        #expect(throws: FormatError.self) { _ = try keyspace.loadRDB(path: cut, options: RDBReadOptions(), runLength: runLength) }
        let loaded = keyspace.databases[0].count
        #expect(loaded > 250 && loaded < 300, "\(loaded) keys loaded before the cut")
        for index in 0..<loaded { #expect(Self.string(of: Bytes("key:\(index)"), in: keyspace) == Bytes("value \(index)")) }

        let repeated = try Self.file(entries + [RDBEntry(header: Self.header("key:3"), value: .string(Self.string("x")))] + entries.map {
            RDBEntry(header: Self.header("other:" + Bytes($0.header.key).string), value: $0.value)
        }, cutting: 40)
        defer { try? FileManager.default.removeItem(atPath: repeated) }
        do {
            _ = try Keyspace().loadRDB(path: repeated, options: RDBReadOptions(), runLength: runLength)
            Issue.record("loaded")
        } catch {
            #expect(error.code == .corrupt, "the duplicate comes before the cut: \(error)")
            #expect(error.key.map { Bytes($0).string } == "key:3")
        }
    }

    /// Feeds the events of `path` through the reader thread's worker at a fixed `backlog` into a loader, as the
    /// two-thread load does with the backlog it sees: 1 hands elements over unconverted, 2 with their strings
    /// copied, ``RDBReadAhead/maximumBatches`` builds every value on the worker's side.
    private static func loadThroughWorker(_ path: String, backlog: Int, grouped: Bool = true, into keyspace: Keyspace) throws(FormatError) {
        var options = RDBReadOptions()
        options.groupsBlobElements = grouped
        var reader = RDBReader(source: try InputSource.open(path), options: options)
        let worker = RDBLoadWorker(databaseCount: keyspace.databases.count, blobsChecked: true)
        var loader = RDBEventLoader(keyspace: keyspace, runLength: 16)
        do throws(FormatError) {
            while let event = try reader.next() {
                if let item = try worker.take(event, backlog: backlog) { try loader.handle(item) }
            }
        } catch {
            throw loader.finish(failure: error) ?? error
        }
        if let failure = loader.finish(failure: nil) { throw failure }
    }

    /// Large collections in plain encodings (RDB 10 and RDB 6), some members repeated as a damaged or hand-made
    /// file may repeat them (the last score and value win, as in Redis's loader, and a member counts once).
    private static func plainFile(version: Int) throws -> String {
        var options = RDBWriteOptions()
        options.version = version
        let long = String(repeating: "compressible ", count: 90)
        let members: [RDBString] = (0..<2600).map { string("member:\($0 % 2500)") }
        let integers: [RDBString] = (0..<700).map { .integer(Int64($0) * 7_919) }
        let fields: [RDBHashField] = (0..<900).map { RDBHashField(field: string("f\($0 % 800)"), value: string("\($0) " + long)) }
        let scored: [RDBScoredMember] = (0..<1500).map { RDBScoredMember(member: string("z\($0 % 1400)"), score: Double($0) / 4) }
        let items: [RDBString] = (0..<2000).map { index in
            if index % 4 == 0 { return .integer(Int64(index)) }
            return string("item \(index) " + (index % 90 == 1 ? long : ""))
        }
        let entries = [
            RDBEntry(header: header("set"), value: .set(members)),
            RDBEntry(header: header("integers"), value: .set(integers)),
            RDBEntry(header: header("hash"), value: .hash(fields)),
            RDBEntry(header: header("zset"), value: .zset(scored)),
            RDBEntry(header: header("list"), value: .list(items)),
        ]
        let bytes = try writeRDB(entries, options: options).bytes
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("loader-plain-\(UUID().uuidString).rdb")
        try Data(bytes).write(to: url)
        return url.path
    }

    @Test("whatever share of the work the reader thread takes, and with blocks or not, a file loads the same", arguments: [
        "redis-7.0-encodings.rdb", "redis-6.2-encodings.rdb", "plain RDB 10", "plain RDB 6",
    ])
    func workerSharesGiveTheSameDataset(_ file: String) throws {
        let generated = file.hasPrefix("plain")
        let path = generated
            ? try Self.plainFile(version: file.hasSuffix("10") ? 10 : 6) : Paths.rdbFixtures.appendingPathComponent(file).path
        defer { if generated { try? FileManager.default.removeItem(atPath: path) } }
        let plain = Keyspace()
        plain.expiryEnabled = false
        var reader = RDBReader(source: try InputSource.open(path))
        let summary = try plain.load(from: &reader)
        #expect(summary.keysLoaded >= 5)
        if generated {
            #expect(plain.value(db: 0, key: "set").map { if case .set(let set) = $0 { set.count } else { 0 } } == 2500)
            #expect(plain.value(db: 0, key: "hash").map { if case .hash(let hash) = $0 { hash.count } else { 0 } } == 800)
            #expect(plain.value(db: 0, key: "zset").map { if case .sortedSet(let zset) = $0 { zset.count } else { 0 } } == 1400)
        }
        for grouped in [false, true] {
            for backlog in [1, 2, RDBReadAhead<InputSource, RDBLoadItem>.maximumBatches] {
                let shared = Keyspace()
                shared.expiryEnabled = false
                try Self.loadThroughWorker(path, backlog: backlog, grouped: grouped, into: shared)
                #expect(shared.digest() == plain.digest(), "backlog \(backlog), grouped \(grouped)")
                #expect(shared.databases.map(\.count) == plain.databases.map(\.count), "backlog \(backlog)")
            }
        }
        // The two-thread load itself (blocks on, the backlog whatever the timing gives).
        let loaded = Keyspace()
        loaded.expiryEnabled = false
        _ = try loaded.loadRDB(path: path)
        #expect(loaded.digest() == plain.digest())
    }

    @Test("a key in a database the server does not have is refused on whichever thread builds it", arguments: [1, 2, 4])
    func missingDatabaseOnEitherThread(backlog: Int) throws {
        try Self.refusesDatabase20(.set([Self.string("m")])) { try Self.loadThroughWorker($0, backlog: backlog, into: $1) }
    }

    @Test("a string key in a database the server does not have is refused when read with its value")
    func missingDatabaseForInlinedString() throws {
        try Self.refusesDatabase20(.string(Self.string("w"))) { _ = try $1.loadRDB(path: $0) }
    }

    /// Loads a file whose second key, holding `value`, is in database 20, with `load`: the error names that key,
    /// the first key is loaded.
    private static func refusesDatabase20(_ value: RDBValue, load: (String, Keyspace) throws -> Void) throws {
        let path = try Self.file([
            RDBEntry(header: Self.header("here"), value: .string(Self.string("v"))),
            RDBEntry(header: Self.header("beyond", database: 20), value: value),
        ])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let keyspace = Keyspace()
        do {
            try load(path, keyspace)
            Issue.record("loaded a key of database 20")
        } catch let error as FormatError {
            #expect(error.code == .corrupt)
            #expect("\(error)".contains("database 20 does not exist"), "\(error)")
            #expect(error.key.map { Bytes($0).string } == "beyond")
        }
        #expect(Self.string(of: "here", in: keyspace) == "v")
    }
}

@Suite("The loader's run order")
struct RunOrderSortTests {
    @Test("the radix sort of a run's order gives what sort() gives", arguments: [0, 1, 255, 257, 1000, 131_072])
    func radixSortMatchesSort(count: Int) {
        var generator = SystemRandomNumberGenerator()
        // As a run makes them: a tree order in the high 44 bits (some repeated), the index in the low 20.
        let orders: [UInt64] = (0..<count).map { _ in UInt64.random(in: 0..<(1 << 44), using: &generator) }
        var order = (0..<count).map { index in
            let tree = index % 5 == 0 && index > 0 ? orders[index / 2] : orders[index]
            return tree << 20 | UInt64(index)
        }
        let appended = order
        var scratch: [UInt64] = []
        RDBKeyStore.sortOrder(&order, scratch: &scratch)
        #expect(order == appended.sorted())
        // The scratch reused for a shorter run.
        var again = Array(appended.prefix(count / 2))
        RDBKeyStore.sortOrder(&again, scratch: &scratch)
        #expect(again == appended.prefix(count / 2).sorted())
    }
}
