import HashTreeCollections
import Keyspace
import Testing
import TestSupport

@Suite("String commands", .serialized)
struct StringCommandTests {
    static let oracle = RedisOracle.make(port: 7802)

    // MARK: - Differential: every command, option and error against Redis 7.0

    @Test("GET, SET and its options, SETNX, SETEX, PSETEX, GETSET, GETDEL")
    func setAndGet() throws {
        guard let oracle = StringCommandTests.oracle else { return }
        try oracle.compare([
            ["GET", "k"], ["SET", "k", "v"], ["GET", "k"], ["SET", "k", "w", "NX"], ["SET", "k", "w", "XX"], ["GET", "k"],
            ["SET", "n", "v", "XX"], ["SET", "n", "v", "nx"], ["SET", "k", "x", "NX", "XX"], ["SET", "k", "x", "XX", "NX"],
            ["SET", "k", "x", "GET"], ["SET", "new", "x", "GET"], ["SET", "k", "y", "NX", "GET"], ["SET", "k2", "y", "NX", "GET"],
            ["SET", "k", "y", "XX", "GET"], ["SET", "k", "y", "GET", "GET"], ["SET", "k", "y", "EX", "100", "PX", "100"],
            ["SET", "k", "y", "EX", "10", "EX", "20"], ["TTL", "k"], ["SET", "k", "y", "KEEPTTL"], ["TTL", "k"],
            ["SET", "k", "y", "KEEPTTL", "EX", "1"], ["SET", "k", "y", "EX", "1", "KEEPTTL"], ["SET", "k", "y", "EX"],
            ["SET", "k", "y", "EX", "0"], ["SET", "k", "y", "EX", "-1"], ["SET", "k", "y", "EX", "abc"], ["SET", "k", "y", "EX", "1.5"],
            ["SET", "k", "y", "EX", "9223372036854775"], ["SET", "k", "y", "PX", "9223372036854775807"],
            ["SET", "k", "y", "EXAT", "9223372036854775"], ["EXPIRETIME", "k"], ["SET", "k", "y", "PXAT", "0"], ["SET", "k", "y", "FOO"],
            ["SET", "k", "y", "PX", "100000"], ["TTL", "k"], ["SET", "k", "z"], ["TTL", "k"], ["SET", "k", "y", "EXAT", "4000000000"],
            ["EXPIRETIME", "k"], ["SET", "k", "y", "PXAT", "4000000000000"], ["PEXPIRETIME", "k"], ["SET", "k", "y", "persist"],
            ["SET", "k"], ["SET"], ["GET"], ["GET", "a", "b"],
            ["SETNX", "k", "a"], ["SETNX", "nx", "a"], ["GET", "nx"], ["SETNX", "nx"],
            ["SETEX", "k", "100", "v"], ["TTL", "k"], ["SETEX", "k", "0", "v"], ["SETEX", "k", "-5", "v"], ["SETEX", "k", "x", "v"],
            ["PSETEX", "k", "100000", "v"], ["TTL", "k"], ["PSETEX", "k", "0", "v"], ["SETEX", "k", "10"],
            ["GETSET", "k", "new"], ["TTL", "k"], ["GETSET", "missing", "x"], ["GET", "missing"],
            ["GETDEL", "k"], ["GETDEL", "k"], ["EXISTS", "k"],
            ["RPUSH", "list", "a"], ["GET", "list"], ["SET", "list", "x", "GET"], ["SET", "list", "x", "EX", "0", "GET"],
            ["GETSET", "list", "x"], ["GETDEL", "list"], ["SET", "list", "x", "NX"], ["SET", "list", "x"], ["GET", "list"],
        ])
    }

    @Test("GETEX and its options")
    func getex() throws {
        guard let oracle = StringCommandTests.oracle else { return }
        try oracle.compare([
            ["GETEX", "k"], ["GETEX", "k", "FOO"], ["SET", "k", "v"], ["GETEX", "k"], ["TTL", "k"],
            ["GETEX", "k", "EX", "100"], ["TTL", "k"], ["GETEX", "k", "PERSIST"], ["TTL", "k"], ["GETEX", "k", "PX", "200000"],
            ["TTL", "k"], ["GETEX", "k", "EXAT", "4000000000"], ["EXPIRETIME", "k"], ["GETEX", "k", "PXAT", "4000000000000"], ["PEXPIRETIME", "k"],
            ["GETEX", "k", "EX", "1", "PX", "1"], ["GETEX", "k", "PERSIST", "EX", "1"], ["GETEX", "k", "EX", "1", "PERSIST"],
            ["GETEX", "k", "EX"], ["GETEX", "k", "EX", "0"], ["GETEX", "k", "EX", "x"], ["GETEX", "k", "KEEPTTL"],
            ["GETEX", "k", "NX"], ["GETEX", "k", "GET"], ["GETEX", "missing", "EX", "0"], ["GETEX", "missing", "EX", "x"],
            ["GETEX", "k", "EXAT", "1"], ["EXISTS", "k"], ["SET", "k", "v"], ["GETEX", "k", "PXAT", "1"], ["EXISTS", "k"],
            ["RPUSH", "list", "a"], ["GETEX", "list"], ["GETEX", "list", "EX", "0"], ["GETEX"],
        ])
    }

    @Test("MGET, MSET, MSETNX")
    func multiple() throws {
        guard let oracle = StringCommandTests.oracle else { return }
        try oracle.compare([
            ["MGET", "a", "b"], ["MSET", "a", "1", "b", "2"], ["MGET", "a", "b", "c", "a"], ["MSET", "a"], ["MSET", "a", "1", "b"],
            ["MSETNX", "c", "3", "a", "x"], ["MGET", "a", "c"], ["MSETNX", "c", "3", "d", "4"], ["MGET", "c", "d"],
            ["MSETNX", "c", "3", "d"], ["RPUSH", "list", "x"], ["MGET", "a", "list"], ["MSET", "list", "now-a-string"],
            ["GET", "list"], ["SET", "e", "1", "EX", "100"], ["MSET", "e", "2"], ["TTL", "e"], ["MGET"],
        ])
    }

    @Test("INCR, DECR, INCRBY, DECRBY, INCRBYFLOAT")
    func counters() throws {
        guard let oracle = StringCommandTests.oracle else { return }
        try oracle.compare([
            ["INCR", "n"], ["INCR", "n"], ["DECR", "n"], ["DECR", "m"], ["INCRBY", "n", "100"], ["DECRBY", "n", "-50"],
            ["INCRBY", "n", "x"], ["INCRBY", "n", "1.5"], ["INCRBY", "n", " 1"], ["INCRBY", "n", "+1"], ["INCRBY", "n", "01"],
            ["DECRBY", "n", "-9223372036854775808"], ["DECRBY", "missing", "9223372036854775808"],
            ["SET", "n", "9223372036854775807"], ["INCR", "n"], ["SET", "n", "-9223372036854775808"], ["DECR", "n"],
            ["INCRBY", "n", "-1"], ["INCRBY", "n", "9223372036854775807"], ["GET", "n"],
            ["SET", "s", "abc"], ["INCR", "s"], ["SET", "s", ""], ["INCR", "s"], ["SET", "s", "007"], ["INCR", "s"],
            ["SET", "s", " 7"], ["INCR", "s"], ["SET", "s", "-0"], ["INCR", "s"], ["SET", "s", "12345678901234567890"], ["INCR", "s"],
            ["SET", "t", "10", "EX", "100"], ["INCR", "t"], ["TTL", "t"], ["INCRBYFLOAT", "t", "0.5"], ["TTL", "t"],
            ["INCRBYFLOAT", "f", "1.5"], ["INCRBYFLOAT", "f", "0.1"], ["INCRBYFLOAT", "f", "-1.6"], ["GET", "f"],
            ["INCRBYFLOAT", "f", "1e5"], ["INCRBYFLOAT", "f", "3.0e3"], ["INCRBYFLOAT", "f", "abc"], ["INCRBYFLOAT", "f", "inf"],
            ["INCRBYFLOAT", "f", "-inf"], ["INCRBYFLOAT", "f", "nan"], ["INCRBYFLOAT", "f", ""], ["INCRBYFLOAT", "f", " 1"],
            ["INCRBYFLOAT", "f", "1 "], ["INCRBYFLOAT", "f", "0x10"], ["INCRBYFLOAT", "g", "1e308"], ["INCRBYFLOAT", "g", "1e308"],
            ["INCRBYFLOAT", "h", "1e500"], ["INCRBYFLOAT", "h2", "5e-324"], ["INCRBYFLOAT", "s", "1"], ["SET", "s", "1.5x"],
            ["INCRBYFLOAT", "s", "1"], ["SET", "i", "5"], ["INCRBYFLOAT", "i", "0"], ["INCR", "f"],
            ["RPUSH", "list", "a"], ["INCR", "list"], ["INCRBY", "list", "x"], ["INCRBYFLOAT", "list", "1"],
            ["INCRBYFLOAT", "list", "x"], ["DECRBY", "list", "1"], ["INCR"], ["INCRBY", "n"], ["DECR", "a", "b"],
        ])
    }

    @Test("APPEND, STRLEN, GETRANGE, SUBSTR, SETRANGE")
    func ranges() throws {
        guard let oracle = StringCommandTests.oracle else { return }
        try oracle.compare([
            ["APPEND", "k", "Hello"], ["APPEND", "k", " World"], ["APPEND", "k", ""], ["GET", "k"], ["STRLEN", "k"], ["STRLEN", "none"],
            ["GETRANGE", "k", "0", "4"], ["GETRANGE", "k", "-5", "-1"], ["GETRANGE", "k", "-1", "-5"], ["GETRANGE", "k", "5", "2"],
            ["GETRANGE", "k", "0", "100"], ["GETRANGE", "k", "-100", "2"], ["GETRANGE", "k", "100", "200"], ["GETRANGE", "k", "0", "-100"],
            ["GETRANGE", "k", "-9223372036854775808", "9223372036854775807"], ["GETRANGE", "k", "a", "1"], ["GETRANGE", "k", "1", "b"],
            ["GETRANGE", "none", "0", "1"], ["GETRANGE", "none", "x", "1"], ["SUBSTR", "k", "1", "3"], ["SUBSTR", "k", "1"],
            ["SET", "e", ""], ["GETRANGE", "e", "0", "-1"], ["GETRANGE", "e", "0", "0"], ["STRLEN", "e"], ["SET", "i", "12345"],
            ["GETRANGE", "i", "1", "2"], ["STRLEN", "i"], ["APPEND", "i", "6"], ["GET", "i"],
            ["SETRANGE", "k", "6", "Redis"], ["GET", "k"], ["SETRANGE", "k", "20", "!"], ["GET", "k"], ["SETRANGE", "k", "0", ""],
            ["SETRANGE", "new", "3", "abc"], ["GET", "new"], ["SETRANGE", "empty", "5", ""], ["EXISTS", "empty"],
            ["SETRANGE", "k", "-1", "x"], ["SETRANGE", "k", "x", "x"], ["SETRANGE", "k", "536870911", "xx"],
            ["SETRANGE", "new2", "536870912", ""], ["SETRANGE", "new2", "536870912", "x"], ["SET", "t", "abc", "EX", "100"],
            ["SETRANGE", "t", "1", "Z"], ["APPEND", "t", "d"], ["TTL", "t"], ["GET", "t"],
            ["RPUSH", "list", "a"], ["APPEND", "list", "x"], ["STRLEN", "list"], ["GETRANGE", "list", "0", "1"],
            ["SETRANGE", "list", "0", "x"], ["SETRANGE", "list", "0", ""], ["APPEND", "k"], ["STRLEN"],
        ])
    }

    @Test("SETBIT, GETBIT, BITCOUNT (BYTE and BIT ranges)")
    func bits() throws {
        guard let oracle = StringCommandTests.oracle else { return }
        try oracle.compare([
            ["SETBIT", "b", "7", "1"], ["GET", "b"], ["SETBIT", "b", "7", "0"], ["SETBIT", "b", "100", "1"], ["STRLEN", "b"],
            ["GETBIT", "b", "100"], ["GETBIT", "b", "99"], ["GETBIT", "b", "100000"], ["GETBIT", "none", "1"], ["SETBIT", "b", "1", "2"],
            ["SETBIT", "b", "1", "-1"], ["SETBIT", "b", "1", "x"], ["SETBIT", "b", "-1", "1"], ["SETBIT", "b", "4294967296", "1"],
            ["SETBIT", "b", "x", "1"], ["GETBIT", "b", "-1"], ["GETBIT", "b", "4294967296"], ["GETBIT", "none", "x"],
            ["SET", "f", "foobar"], ["BITCOUNT", "f"], ["BITCOUNT", "f", "0", "0"], ["BITCOUNT", "f", "1", "1"], ["BITCOUNT", "f", "-2", "-1"],
            ["BITCOUNT", "f", "1", "1", "BYTE"], ["BITCOUNT", "f", "5", "30", "BIT"], ["BITCOUNT", "f", "0", "-1", "bit"],
            ["BITCOUNT", "f", "-5", "-1", "BIT"], ["BITCOUNT", "f", "7", "7", "BIT"], ["BITCOUNT", "f", "3", "12", "BIT"],
            ["BITCOUNT", "f", "1", "0"], ["BITCOUNT", "f", "-1", "-2"], ["BITCOUNT", "f", "0", "1000"], ["BITCOUNT", "f", "-1000", "1"],
            ["BITCOUNT", "f", "0"], ["BITCOUNT", "f", "0", "1", "FOO"], ["BITCOUNT", "f", "a", "b"], ["BITCOUNT", "f", "0", "1", "BIT", "x"],
            ["BITCOUNT", "none"], ["BITCOUNT", "none", "a", "b"], ["BITCOUNT", "none", "0"], ["SET", "e", ""], ["BITCOUNT", "e"],
            ["BITCOUNT", "e", "0", "-1", "BIT"], ["SET", "long", String(repeating: "\u{7f}", count: 100)], ["BITCOUNT", "long"],
            ["BITCOUNT", "long", "3", "93"], ["BITCOUNT", "long", "17", "700", "BIT"], ["SET", "i", "12"], ["GETBIT", "i", "2"],
            ["SETBIT", "i", "7", "1"], ["GET", "i"], ["SET", "t", "a", "EX", "100"], ["SETBIT", "t", "0", "1"], ["TTL", "t"],
            ["RPUSH", "list", "a"], ["SETBIT", "list", "1", "1"], ["GETBIT", "list", "1"], ["BITCOUNT", "list"], ["SETBIT", "b", "1"],
        ])
    }

    // MARK: - Binary safety

    @Test("Values and keys are binary-safe")
    func binarySafe() throws {
        let keyspace = Keyspace()
        let session = Session()
        let key = Bytes([0, 255, 13, 10, 0])
        let value = Bytes([0, 1, 2, 0xff, 0xfe, 13, 10, 0])
        #expect(keyspace.execute(["SET", key, value], session: session) == .ok)
        #expect(keyspace.execute(["GET", key], session: session) == .bulk(value))
        #expect(keyspace.execute(["APPEND", key, Bytes([0])], session: session) == .integer(9))
        #expect(keyspace.execute(["GETRANGE", key, "3", "4"], session: session) == .bulk(Bytes([0xff, 0xfe])))
        #expect(keyspace.execute(["SETRANGE", key, "1", Bytes([0, 0])], session: session) == .integer(9))
        #expect(keyspace.execute(["MGET", key], session: session) == .array([.bulk(Bytes([0, 0, 0, 0xff, 0xfe, 13, 10, 0, 0]))]))
        #expect(keyspace.execute(["STRLEN", key], session: session) == .integer(9))
        guard let oracle = StringCommandTests.oracle else { return }
        let binary = String(decoding: [0xc3, 0xa9, 0x00, 0x01, 0x0d, 0x0a], as: UTF8.self)
        try oracle.compare([
            ["SET", binary, binary], ["GET", binary], ["APPEND", binary, "\r\n"], ["GETRANGE", binary, "1", "-2"], ["STRLEN", binary],
        ])
    }

    // MARK: - Semantics

    @Test("Expired keys are gone for GET, SET NX and APPEND; KEEPTTL of an expired key does not revive its TTL")
    func expiry() {
        let clock = ManualClock(1_000_000)
        let keyspace = Keyspace(clock: { clock.now })
        let session = Session()
        #expect(keyspace.execute(["SET", "k", "v", "PX", "100"], session: session) == .ok)
        #expect(keyspace.execute(["PTTL", "k"], session: session) == .integer(100))
        clock.now += 100
        #expect(keyspace.execute(["GET", "k"], session: session) == .null)
        #expect(keyspace.execute(["SET", "k", "v", "PX", "100"], session: session) == .ok)
        clock.now += 200
        #expect(keyspace.execute(["SET", "k", "w", "NX"], session: session) == .ok)
        #expect(keyspace.execute(["SET", "a", "v", "PX", "100"], session: session) == .ok)
        clock.now += 200
        #expect(keyspace.execute(["SET", "a", "w", "KEEPTTL"], session: session) == .ok)
        #expect(keyspace.execute(["TTL", "a"], session: session) == .integer(-1))
        #expect(keyspace.execute(["SET", "b", "x", "PX", "10"], session: session) == .ok)
        clock.now += 10
        #expect(keyspace.execute(["APPEND", "b", "y"], session: session) == .integer(1))
        #expect(keyspace.execute(["GETSET", "b", "z"], session: session) == .bulk("y"))
    }

    @Test("Counters keep their TTL and count one change each; INCRBYFLOAT stores the human-friendly text")
    func counterDetails() {
        let keyspace = Keyspace()
        let session = Session()
        _ = keyspace.execute(["SET", "n", "1", "EX", "1000"], session: session)
        let before = keyspace.dirty
        #expect(keyspace.execute(["INCRBY", "n", "41"], session: session) == .integer(42))
        #expect(keyspace.dirty == before + 1)
        #expect(keyspace.expireTime(db: 0, key: "n") != nil)
        #expect(keyspace.execute(["INCRBYFLOAT", "n", "0.1"], session: session) == .bulk("42.1"))
        #expect(keyspace.execute(["INCRBYFLOAT", "n", "-0.1"], session: session) == .bulk("42"))
        #expect(keyspace.execute(["INCRBYFLOAT", "z", "-0.0"], session: session) == .bulk("0"))
        #expect(keyspace.expireTime(db: 0, key: "n") != nil)
        let big = keyspace.execute(["INCRBYFLOAT", "big", "1e600"], session: session)
        guard case .bulk(let text) = big else { Issue.record("\(big)"); return }
        #expect(text.count == 601 && text.first == UInt8(ascii: "1"))
    }

    @Test("SET EX counts one change and replies OK; SET with a past PXAT leaves a key that is already gone")
    func setCounts() {
        let keyspace = Keyspace()
        let session = Session()
        let before = keyspace.dirty
        #expect(keyspace.execute(["SET", "k", "v", "EX", "10"], session: session) == .ok)
        #expect(keyspace.dirty == before + 1)
        #expect(keyspace.execute(["SET", "p", "v", "PXAT", "1"], session: session) == .ok)
        #expect(keyspace.execute(["EXISTS", "p"], session: session) == .integer(0))
    }

    // MARK: - Propagation

    /// A workload touching every write command of the family, with the rewrites Redis makes.
    static let writeWorkload: [[Bytes]] = [
        ["SET", "a", "1"], ["SET", "b", "x", "EX", "1000"], ["SET", "c", "y", "PX", "1000000", "NX"], ["SET", "c", "z", "XX", "GET"],
        ["SET", "d", "v", "EXAT", "4000000000"], ["SET", "e", "v", "PXAT", "4000000000000"], ["SET", "d", "w", "KEEPTTL"],
        ["SETNX", "f", "1"], ["SETNX", "f", "2"], ["SETEX", "g", "100", "v"], ["PSETEX", "h", "100000", "v"],
        ["MSET", "i", "1", "j", "2"], ["MSETNX", "k", "1", "l", "2"], ["MSETNX", "k", "1", "m", "2"],
        ["INCR", "a"], ["DECR", "a"], ["INCRBY", "a", "10"], ["DECRBY", "a", "3"], ["INCRBYFLOAT", "a", "0.1"],
        ["INCRBYFLOAT", "b", "1e3"], ["APPEND", "c", "more"], ["APPEND", "n", "new"], ["SETRANGE", "n", "10", "x"],
        ["SETBIT", "o", "100", "1"], ["SETBIT", "o", "100", "0"], ["GETSET", "g", "w"], ["GETDEL", "h"],
        ["GETEX", "e", "EX", "500"], ["GETEX", "d", "PERSIST"], ["GETEX", "c", "PXAT", "1"], ["GETEX", "i", "PXAT", "4000000000000"],
        ["SET", "p", "q", "GET"], ["SET", "p", "q", "EX", "100", "GET"],
    ]

    @Test("What the commands propagate, replayed into an empty keyspace, gives the same dataset")
    func propagationReplay() {
        let keyspace = Keyspace()
        keyspace.propagationEnabled = true
        let session = Session()
        for command in StringCommandTests.writeWorkload { _ = keyspace.execute(command, session: session) }
        session.db = 3
        _ = keyspace.execute(["SET", "z", "in-db-3", "EX", "100"], session: session)
        let propagated = keyspace.takePropagated()
        // No relative time reaches the AOF.
        for command in propagated {
            let name = command.argv[0].lowercasedASCII
            #expect(!["setex", "psetex", "incrbyfloat", "getex", "getset", "getdel"].contains(name), "\(command.argv)")
            if name == "set" { #expect(!command.argv.contains { $0.isKeyword("ex") || $0.isKeyword("px") }) }
        }
        let replica = Keyspace()
        let replay = Session()
        for command in propagated {
            replay.db = command.db
            let reply = replica.execute(command.argv, session: replay)
            #expect(!reply.isError, "\(command.argv): \(reply)")
        }
        #expect(replica.digest() == keyspace.digest())
        for db in [0, 3] {
            #expect(replica.databases[db].expires == keyspace.databases[db].expires)
        }
    }

    // MARK: - Snapshots

    @Test("In-place string changes (APPEND, SETRANGE, SETBIT, INCR) leave a snapshot unchanged")
    func snapshotIsolation() {
        let keyspace = Keyspace()
        let session = Session()
        _ = keyspace.execute(["SET", "s", "hello"], session: session)
        _ = keyspace.execute(["SET", "n", "10"], session: session)
        _ = keyspace.execute(["SET", "b", "\u{0}"], session: session)
        let snapshot = keyspace.snapshot()
        _ = keyspace.execute(["APPEND", "s", " world"], session: session)
        _ = keyspace.execute(["SETRANGE", "s", "0", "J"], session: session)
        _ = keyspace.execute(["SETBIT", "b", "0", "1"], session: session)
        _ = keyspace.execute(["INCR", "n"], session: session)
        _ = keyspace.execute(["INCRBYFLOAT", "n", "0.5"], session: session)
        _ = keyspace.execute(["SET", "s2", "x", "EX", "10"], session: session)
        #expect(Keyspace.digest(of: snapshot) != keyspace.digest())
        guard case .string(let s)? = snapshot[0].entries["s"], case .string(let n)? = snapshot[0].entries["n"],
            case .string(let b)? = snapshot[0].entries["b"]
        else { Issue.record("snapshot lost a key"); return }
        #expect(s == "hello" && n == "10" && b == Bytes([0]))
        #expect(snapshot[0].entries["s2"] == nil && snapshot[0].expires.isEmpty)
        #expect(keyspace.execute(["GET", "s"], session: session) == .bulk("Jello world"))
    }
}
