import Formats
import HashTreeCollections
@testable import Keyspace
import NIOCore
import Testing
import TestSupport

@Suite("SHA1 and DEBUG DIGEST", .serialized)
struct DigestTests {
    static let oracle = RedisOracle.make(port: 7801)

    // MARK: - SHA1

    @Test("SHA1 known vectors (FIPS 180 examples and every padding boundary)")
    func sha1Vectors() {
        #expect(SHA1.hash(Array("".utf8)).hex == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        #expect(SHA1.hash(Array("abc".utf8)).hex == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(
            SHA1.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)).hex
                == "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
        #expect(SHA1.hash([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)).hex == "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
        // Lengths around the 55/56/64-byte edges where the length field moves to a second block.
        let expected: [Int: String] = [
            55: "8ae2d46729cfe68ff927af5eec9c7d1b66d65ac2", 56: "636e2ec698dac903498e648bd2f3af641d3c88cb",
            63: "6d942da0c4392b123528f2905c713a3ce28364bd", 64: "c6138d514ffa2135bfce0ed0b8fac65669917ec7",
            65: "69bd728ad6e13cd76ff19751fde427b00e395746", 119: "41c89d06001bab4ab78736b44efe7ce18ce6ae08",
            120: "d3dbd653bd8597b7475321b60a36891278e6a04a", 128: "e6434bc401f98603d7eda504790c98c67385d535",
        ]
        for (length, hex) in expected {
            #expect(SHA1.hash((0..<length).map { UInt8($0) }).hex == hex, "length \(length)")
        }
    }

    // MARK: - Digest

    @Test("An empty dataset digests to forty zeros; a missing key's value digest too")
    func emptyDigest() {
        let keyspace = Keyspace()
        #expect(keyspace.digest() == String(repeating: "0", count: 40))
        #expect(keyspace.digest(of: "missing", db: 0) == String(repeating: "0", count: 40))
    }

    @Test("The digest does not depend on the order of set members and hash fields, but does on list order")
    func orderIndependence() {
        let a = Keyspace()
        let b = Keyspace()
        a.set(db: 0, key: "s", value: .set(SetValue(TreeSet(["x", "y", "z"]))))
        b.set(db: 0, key: "s", value: .set(SetValue(TreeSet(["z", "y", "x"]))))
        #expect(a.digest() == b.digest())
        a.set(db: 0, key: "l", value: .list(ListValue(["1", "2"])))
        b.set(db: 0, key: "l", value: .list(ListValue(["2", "1"])))
        #expect(a.digest() != b.digest())
        // The same data in another database is another dataset.
        let c = Keyspace()
        c.set(db: 1, key: "s", value: .set(SetValue(TreeSet(["x", "y", "z"]))))
        #expect(c.digest() != Keyspace.digest(of: [a.databases[0]]))
    }

    /// Commands building one key of every type (and encoding) on a real server; the same data goes into ours
    /// through ``build(_:)``.
    static let dataset: [[String]] = [
        ["SET", "string", "hello"],
        ["SET", "int", "12345"],
        ["SET", "empty", ""],
        ["SET", "long", String(repeating: "x", count: 100)],
        ["RPUSH", "list", "a", "b", "c", "1", "2"],
        ["SADD", "intset", "1", "2", "3", "-5"],
        ["SADD", "set", "a", "b", "1"],
        ["ZADD", "zset", "1", "a", "2.5", "b", "-3", "c", "0.1", "d", "inf", "e"],
        ["ZADD", "bigzset"] + (0..<200).flatMap { [String(Double($0) / 3), "m\($0)"] },
        ["HSET", "hash", "f1", "v1", "f2", "2", "f3", ""],
        ["HSET", "bighash"] + (0..<200).flatMap { ["field\($0)", String(repeating: "v", count: $0)] },
        ["SADD", "bigset"] + (0..<600).map { String($0) },
        ["SET", "expiring", "v", "PX", "100000000"],
        ["SELECT", "3"],
        ["SET", "string", "hello"],
        ["RPUSH", "other", "x"],
        ["SELECT", "0"],
    ]

    /// Runs the dataset's commands on a Keyspace through its own API (no commands of ours involved).
    static func build(_ commands: [[String]], into keyspace: Keyspace) {
        var db = 0
        for command in commands {
            let args = command.dropFirst().map { Bytes($0) }
            switch command[0] {
            case "SELECT": db = Int(command[1])!
            case "SET":
                keyspace.set(db: db, key: args[0], value: .string(args[1]))
                if command.count == 5 { keyspace.setExpire(db: db, key: args[0], atMilliseconds: keyspace.clock() + Int64(command[4])!) }
            case "RPUSH": keyspace.set(db: db, key: args[0], value: .list(ListValue(args.dropFirst())))
            case "SADD": keyspace.set(db: db, key: args[0], value: .set(SetValue(TreeSet(args.dropFirst()))))
            case "ZADD":
                var zset = SortedSetValue()
                var index = 1
                while index < args.count {
                    zset.insert(args[index + 1], score: args[index].doubleValue!)
                    index += 2
                }
                keyspace.set(db: db, key: args[0], value: .sortedSet(zset))
            case "HSET":
                var fields = TreeDictionary<Bytes, Bytes>()
                var index = 1
                while index < args.count {
                    fields[args[index]] = args[index + 1]
                    index += 2
                }
                keyspace.set(db: db, key: args[0], value: .hash(HashValue(fields)))
            default: Issue.record("unexpected \(command[0])")
            }
        }
    }

    @Test("DEBUG DIGEST and DIGEST-VALUE equal a real Redis 7.0's on every type and encoding")
    func digestMatchesRedis() throws {
        guard let oracle = DigestTests.oracle else { return }
        _ = try oracle.client.send(["FLUSHALL"])
        for command in DigestTests.dataset { _ = try oracle.client.send(command) }
        let keyspace = Keyspace()
        DigestTests.build(DigestTests.dataset, into: keyspace)
        #expect(try oracle.client.send(["DEBUG", "DIGEST"]) == .status(keyspace.digest()))
        for key in ["string", "int", "empty", "long", "list", "intset", "set", "zset", "bigzset", "hash", "bighash", "bigset", "expiring", "nokey"] {
            let theirs = try oracle.client.send(["DEBUG", "DIGEST-VALUE", key])
            #expect(theirs == .array([.status(keyspace.digest(of: Bytes(key), db: 0))]), "key \(key)")
        }
        _ = try oracle.client.send(["FLUSHALL"])
        #expect(try oracle.client.send(["DEBUG", "DIGEST"]) == .status(Keyspace().digest()))
    }

    @Test("A stream's digest equals a real Redis 7.0's (entries, not groups)")
    func streamDigestMatchesRedis() throws {
        guard let oracle = DigestTests.oracle else { return }
        _ = try oracle.client.send(["FLUSHALL"])
        _ = try oracle.client.send(["XADD", "s", "1-1", "a", "1", "b", "two"])
        _ = try oracle.client.send(["XADD", "s", "1-2", "a", "3", "b", "four"])
        _ = try oracle.client.send(["XADD", "s", "5-0", "other", "x"])
        _ = try oracle.client.send(["XGROUP", "CREATE", "s", "g", "0"])
        func string(_ text: String) -> RDBString { .bytes(ByteBuffer(string: text)) }
        var stream = RDBStream()
        stream.entries = [
            RDBStreamEntry(id: RDBStreamID(milliseconds: 1, sequence: 1), fields: [(string("a"), .integer(1)), (string("b"), string("two"))]),
            RDBStreamEntry(id: RDBStreamID(milliseconds: 1, sequence: 2), fields: [(string("a"), .integer(3)), (string("b"), string("four"))]),
            RDBStreamEntry(id: RDBStreamID(milliseconds: 5, sequence: 0), fields: [(string("other"), string("x"))]),
        ]
        stream.metadata = RDBStreamMetadata(length: 3, lastID: RDBStreamID(milliseconds: 5, sequence: 0))
        let keyspace = Keyspace()
        keyspace.set(db: 0, key: "s", value: .stream(StreamValue(rdb: stream)))
        #expect(try oracle.client.send(["DEBUG", "DIGEST"]) == .status(keyspace.digest()))
    }
}

// MARK: - Comparing whole datasets with the oracle

extension RedisOracle {
    /// ``compare(_:keyspace:sourceLocation:)``, then the whole datasets by DEBUG DIGEST (every database, values,
    /// and which keys have an expiry). Returns our keyspace for further checks.
    @discardableResult
    func compareWithDigest(
        _ script: [(command: [String], comparison: Comparison)], sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> Keyspace {
        let keyspace = Keyspace()
        try compare(script, keyspace: keyspace, sourceLocation: sourceLocation)
        let theirs = try client.send(["DEBUG", "DIGEST"])
        #expect(theirs == .status(keyspace.digest()), "dataset digest", sourceLocation: sourceLocation)
        return keyspace
    }

    /// ``compareWithDigest(_:sourceLocation:)`` with exact comparison for every command.
    @discardableResult
    func compareWithDigest(_ commands: [[String]], sourceLocation: SourceLocation = #_sourceLocation) throws -> Keyspace {
        try compareWithDigest(commands.map { ($0, Comparison.exact) }, sourceLocation: sourceLocation)
    }
}

extension RedisOracle {
    /// Like ``compareWithDigest(_:sourceLocation:)`` for commands whose arguments are not text (DUMP payloads):
    /// each reply compared exactly, then the datasets by DEBUG DIGEST.
    @discardableResult
    func compareBinary(_ commands: [[[UInt8]]], sourceLocation: SourceLocation = #_sourceLocation) throws -> Keyspace {
        _ = try client.send(["FLUSHALL"])
        _ = try client.send(["SELECT", "0"])
        let keyspace = Keyspace()
        let session = Session()
        for command in commands {
            let mine = keyspace.execute(command.map { Bytes($0) }, session: session)
            let theirs = try client.send(bytes: command)
            #expect(mine.resp == theirs, "\(command.map { String(decoding: $0.prefix(40), as: UTF8.self) })", sourceLocation: sourceLocation)
        }
        #expect(try client.send(["DEBUG", "DIGEST"]) == .status(keyspace.digest()), "dataset digest", sourceLocation: sourceLocation)
        return keyspace
    }
}
