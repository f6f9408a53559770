import Foundation
import Formats
import HashTreeCollections
import Keyspace
import Testing
import TestSupport

// MARK: - Semantics

@Suite("Stream commands")
struct StreamCommandTests {
    @Test("IDs parse as Redis's string2ull reads them")
    func idParsing() {
        func parse(_ text: String, strict: Bool = false, auto: Bool = false) -> String? {
            StreamID.parse(Bytes(text), strict: strict, allowAutoSequence: auto).map {
                "\($0.id)\($0.sequenceGiven ? "" : "*")"
            }
        }
        #expect(parse("1-2") == "1-2")
        #expect(parse("5") == "5-0")
        #expect(StreamID.parse("5", missingSequence: .max)?.id == StreamID(milliseconds: 5, sequence: .max))
        #expect(parse("-") == "0-0")
        #expect(parse("+") == "18446744073709551615-18446744073709551615")
        #expect(parse("-", strict: true) == nil)
        #expect(parse("+", strict: true) == nil)
        #expect(parse("01-1") == "1-1")
        #expect(parse("+1") == "1-0")
        #expect(parse(" 1") == "1-0")
        #expect(parse("1 ") == nil)
        #expect(parse("1--01") == "1-18446744073709551615")
        #expect(parse("1--1") == nil)
        #expect(parse("1-") == nil)
        #expect(parse("18446744073709551616") == nil)
        #expect(parse("1-*") == nil)
        #expect(parse("1-*", auto: true) == "1-0*")
        #expect(parse("1\0garbage") == "1-0")
        #expect(parse(String(repeating: "1", count: 128)) == nil)
        #expect(StreamID(milliseconds: 7, sequence: 0).predecessor == StreamID(milliseconds: 6, sequence: .max))
        #expect(StreamID.max.successor == nil && StreamID.zero.predecessor == nil)
    }

    @Test("Auto IDs follow the clock and never go back; XADD refuses IDs at or below the top")
    func autoIDs() {
        let clock = ManualClock(1_000)
        let keyspace = Keyspace(clock: { clock.now })
        let session = Session()
        func run(_ argv: Bytes...) -> Reply { keyspace.execute(argv, session: session) }
        #expect(run("XADD", "s", "*", "f", "v") == .bulk("1000-0"))
        #expect(run("XADD", "s", "*", "f", "v") == .bulk("1000-1"))
        clock.now = 900
        #expect(run("XADD", "s", "*", "f", "v") == .bulk("1000-2"))
        #expect(run("XADD", "s", "1000-*", "f", "v") == .bulk("1000-3"))
        #expect(run("XADD", "s", "999-*", "f", "v").isError)
        #expect(run("XADD", "s", "2000-*", "f", "v") == .bulk("2000-0"))
        #expect(run("XADD", "s", "18446744073709551615-18446744073709551615", "f", "v").isError == false)
        #expect(
            run("XADD", "s", "*", "f", "v")
                == .error("ERR The stream has exhausted the last possible ID, unable to add more items"))
        #expect(run("XADD", "missing", "NOMKSTREAM", "*", "f", "v") == .null)
        #expect(keyspace.databases[0].entries["missing"] == nil)
    }

    @Test("Nodes split where Redis's listpacks do: 100 entries, or 4096 bytes")
    func nodeBoundaries() throws {
        let keyspace = Keyspace()
        let session = Session()
        for index in 1...250 {
            _ = keyspace.execute(
                ["XADD", "s", Bytes("\(index)-1"), "f", Bytes(integer: Int64(index))], session: session)
        }
        let stream = try #require(try keyspace.read(StreamValue.self, db: 0, key: "s"))
        #expect(stream.nodeCount == 3)
        #expect(stream.radixTreeNodeCount == 8)
        let wide = String(repeating: "x", count: 100)
        for index in 1...100 {
            _ = keyspace.execute(
                ["XADD", "b", Bytes("\(index)-0"), Bytes("field\(index)"), Bytes(wide)], session: session)
        }
        let bytes = try #require(try keyspace.read(StreamValue.self, db: 0, key: "b"))
        #expect(bytes.nodeCount == 4)
        // Approximate trimming removes whole nodes only.
        #expect(keyspace.execute(["XTRIM", "s", "MAXLEN", "~", "140"], session: session) == .integer(100))
        #expect(keyspace.execute(["XTRIM", "s", "MAXLEN", "~", "140"], session: session) == .integer(0))
        #expect(keyspace.execute(["XTRIM", "s", "MAXLEN", "140"], session: session) == .integer(10))
        #expect(keyspace.execute(["XLEN", "s"], session: session) == .integer(140))
    }

    @Test("A snapshot keeps the stream, its groups and pending entries as they were")
    func snapshotIsolation() throws {
        let clock = ManualClock(5_000)
        let keyspace = Keyspace(clock: { clock.now })
        let session = Session()
        func run(_ argv: Bytes...) { _ = keyspace.execute(argv, session: session) }
        for index in 1...1000 { run("XADD", "s", Bytes("\(index)-0"), "field", Bytes(integer: Int64(index))) }
        run("XGROUP", "CREATE", "s", "g", "0")
        run("XGROUP", "CREATE", "s", "h", "$")
        run("XREADGROUP", "GROUP", "g", "alice", "COUNT", "300", "STREAMS", "s", ">")
        run("XREADGROUP", "GROUP", "g", "bob", "COUNT", "300", "STREAMS", "s", ">")
        let before = try #require(try keyspace.read(StreamValue.self, db: 0, key: "s")).rdbStream
        let snapshot = keyspace.snapshot()
        clock.now = 9_000
        run("XADD", "s", "1001-0", "new", "entry")
        run("XDEL", "s", "1-0", "500-0", "1001-0")
        run("XTRIM", "s", "MAXLEN", "700")
        run("XACK", "s", "g", "400-0", "401-0")
        run("XCLAIM", "s", "g", "carol", "0", "350-0", "351-0")
        run("XAUTOCLAIM", "s", "g", "dave", "0", "0", "COUNT", "5")
        run("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0")
        run("XGROUP", "DELCONSUMER", "s", "g", "bob")
        run("XGROUP", "SETID", "s", "g", "10-0")
        run("XGROUP", "DESTROY", "s", "h")
        run("XSETID", "s", "99999-0", "ENTRIESADDED", "5000", "MAXDELETEDID", "9999-0")
        guard case .stream(let kept)? = snapshot[0].entries["s"] else {
            Issue.record("the snapshot lost the stream")
            return
        }
        #expect(kept.rdbStream == before)
        #expect(kept.count == 1000 && kept.groups.count == 2)
        let now = try #require(try keyspace.read(StreamValue.self, db: 0, key: "s"))
        #expect(now.count == 700 && now.groups.count == 1 && now.lastID == StreamID(milliseconds: 99_999, sequence: 0))
    }

    @Test("A stream survives the RDB model unchanged")
    func rdbRoundTrip() throws {
        let keyspace = Keyspace(clock: { 7_000 })
        let session = Session()
        for command in StreamScripts.groupsWorkout { _ = keyspace.execute(command.map { Bytes($0) }, session: session) }
        let stream = try #require(try keyspace.read(StreamValue.self, db: 0, key: "s"))
        let reloaded = StreamValue(rdb: stream.rdbStream)
        #expect(reloaded.rdbStream == stream.rdbStream)
        #expect(reloaded.allEntries == stream.allEntries)
        #expect(reloaded.nodeCount == stream.nodeCount)
    }

    @Test("XREADGROUP and the claims propagate as Redis 7.0 writes them to its AOF")
    func propagationForms() {
        let keyspace = Keyspace(clock: { 42_000 })
        keyspace.propagationEnabled = true
        let session = Session()
        func run(_ argv: Bytes...) -> Reply { keyspace.execute(argv, session: session) }
        _ = run("XADD", "s", "MAXLEN", "~", "5", "*", "f", "v")
        _ = run("XADD", "s", "7-*", "f", "v")  // refused: the clock part is below the top item's
        _ = run("XADD", "s", "42000-*", "f", "v")
        _ = run("XGROUP", "CREATE", "s", "g", "0")
        _ = run("XREADGROUP", "GROUP", "g", "c1", "COUNT", "1", "STREAMS", "s", ">")
        _ = run("XREADGROUP", "GROUP", "g", "c2", "NOACK", "STREAMS", "s", ">")
        _ = run("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", "0")
        _ = run("XCLAIM", "s", "g", "c3", "0", "42000")
        let expected: [[Bytes]] = [
            ["XADD", "s", "MAXLEN", "=", "1", "42000-0", "f", "v"],
            ["XADD", "s", "42000-1", "f", "v"],
            ["XGROUP", "CREATE", "s", "g", "0"],
            [
                "XCLAIM", "s", "g", "c1", "0", "42000-0", "TIME", "42000", "RETRYCOUNT", "1", "FORCE", "JUSTID",
                "LASTID", "42000-0",
            ],
            ["XGROUP", "CREATECONSUMER", "s", "g", "c2"],
            ["XGROUP", "SETID", "s", "g", "42000-1", "ENTRIESREAD", "2"],
            [
                "XCLAIM", "s", "g", "c3", "0", "42000", "TIME", "42000", "RETRYCOUNT", "3", "FORCE", "JUSTID", "LASTID",
                "42000-1",
            ],
        ]
        #expect(keyspace.takePropagated().map(\.argv) == expected)
    }

    @Test("LIMIT without ~ is refused from clients but obeyed from the AOF (Redis rewrites ~ trims that way)")
    func replayedLimit() {
        let keyspace = Keyspace()
        let client = Session()
        let loader = Session(id: -1)
        for index in 1...5 { _ = keyspace.execute(["XADD", "s", Bytes("\(index)-0"), "f", "v"], session: client) }
        let rewritten: [Bytes] = ["XADD", "s", "MAXLEN", "=", "2", "LIMIT", "100", "6-0", "f", "v"]
        #expect(
            keyspace.execute(rewritten, session: client)
                == .error("ERR syntax error, LIMIT cannot be used without the special ~ option"))
        #expect(keyspace.execute(rewritten, session: loader) == .bulk("6-0"))
        #expect(keyspace.execute(["XLEN", "s"], session: client) == .integer(2))
        #expect(keyspace.execute(["XTRIM", "s", "MINID", "=", "6", "LIMIT", "1"], session: loader) == .integer(1))
    }

    @Test("What stream commands propagate, replayed into a fresh keyspace, gives the same streams")
    func propagationReplay() throws {
        let clock = ManualClock(1_700_000_000_000)
        let keyspace = Keyspace(clock: { clock.now })
        keyspace.propagationEnabled = true
        let session = Session()
        for (step, command) in StreamScripts.groupsWorkout.enumerated() {
            clock.now += Int64(step % 3)
            _ = keyspace.execute(command.map { Bytes($0) }, session: session)
        }
        // Auto IDs and approximate trims: the replay must not depend on its own clock.
        for _ in 0..<300 {
            _ = keyspace.execute(["XADD", "auto", "MAXLEN", "~", "120", "*", "n", "1"], session: session)
        }
        _ = keyspace.execute(["XTRIM", "auto", "MINID", "~", "1700000000000-150"], session: session)
        let propagated = keyspace.takePropagated()

        // Later than the original run, as a real AOF load is (XCLAIM takes a TIME in the future as now).
        let replayed = Keyspace(clock: { 1_800_000_000_000 })
        replayed.expiryEnabled = false
        let replaySession = Session(id: -1)
        for command in propagated {
            replaySession.db = command.db
            let reply = replayed.execute(command.argv, session: replaySession)
            #expect(!reply.isError, "replaying \(command.argv.map(\.string)): \(reply)")
        }
        for key in ["s", "auto", "other"] as [Bytes] {
            let original = try #require(try keyspace.read(StreamValue.self, db: 0, key: key))
            let copy = try #require(try replayed.read(StreamValue.self, db: 0, key: key))
            #expect(StreamScripts.comparable(copy) == StreamScripts.comparable(original), "key \(key)")
        }
    }
}

// MARK: - Against Redis 7.0

@Suite("Stream commands against Redis 7.0", .serialized)
struct StreamDifferentialTests {
    static let oracle = RedisOracle.make(port: 7831)

    @Test("Arity, wrong types, bad IDs and numbers, and every option error")
    func errors() throws {
        guard let oracle = Self.oracle else { return }
        try oracle.compareStreams(StreamScripts.errors)
    }

    @Test("XADD, XRANGE, XREVRANGE, XLEN, XDEL, XTRIM and XSETID")
    func entries() throws {
        guard let oracle = Self.oracle else { return }
        try oracle.compareStreams(StreamScripts.entries)
    }

    @Test("Node boundaries, approximate trimming and the radix tree figures of XINFO STREAM")
    func nodes() throws {
        guard let oracle = Self.oracle else { return }
        try oracle.compareStreams(StreamScripts.nodes)
    }

    @Test("Consumer groups: XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM, XINFO (times masked)")
    func groups() throws {
        guard let oracle = Self.oracle else { return }
        try oracle.compareStreams(StreamScripts.groupsWorkout + StreamScripts.groupEdges)
    }

    @Test("The read counter and lag after deletions, trims and SETID")
    func lag() throws {
        guard let oracle = Self.oracle else { return }
        try oracle.compareStreams(StreamScripts.lag)
    }

    @Test("XREAD and XREADGROUP, with BLOCK served at once")
    func reads() throws {
        guard let oracle = Self.oracle else { return }
        try oracle.compareStreams(StreamScripts.reads)
    }

    @Test("Which commands make a WATCHed stream fail EXEC")
    func watch() throws {
        guard let oracle = Self.oracle else { return }
        var script: [[String]] =
            (1...5).map { ["XADD", "w", "\($0)-0", "f", "v"] } + [["XGROUP", "CREATE", "w", "g", "0"]]
        let commands: [[String]] = [
            ["XSETID", "w", "9-0"], ["XDEL", "w", "1-0"], ["XDEL", "w", "1-0"], ["XTRIM", "w", "MAXLEN", "3"],
            ["XTRIM", "w", "MAXLEN", "3"],
            ["XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "w", ">"], ["XACK", "w", "g", "3-0"],
            ["XCLAIM", "w", "g", "d", "0", "4-0"], ["XAUTOCLAIM", "w", "g", "e", "0", "0"],
            ["XGROUP", "SETID", "w", "g", "0"],
            ["XGROUP", "CREATECONSUMER", "w", "g", "z"], ["XGROUP", "DELCONSUMER", "w", "g", "z"],
            ["XGROUP", "CREATE", "w", "h", "0"],
            ["XGROUP", "DESTROY", "w", "h"], ["XADD", "w", "NOMKSTREAM", "10-0", "a", "b"],
            ["XGROUP", "CREATE", "new", "g", "0", "MKSTREAM"],
        ]
        for command in commands {
            let key = command[0] == "XGROUP" ? command[2] : command[1]
            script += [["WATCH", key], command, ["MULTI"], ["EXEC"]]
        }
        try oracle.compareStreams(script)
    }

    @Test("Auto IDs compare by shape")
    func autoIDs() throws {
        guard let oracle = Self.oracle else { return }
        try oracle.compareStreams(
            [
                ["XADD", "a", "*", "f", "v"], ["XADD", "a", "MAXLEN", "~", "0", "*", "f", "v"], ["XLEN", "a"],
                ["XADD", "a", "NOMKSTREAM", "*", "f", "v"], ["XADD", "nope", "NOMKSTREAM", "*", "f", "v"],
                ["EXISTS", "nope"],
                ["XINFO", "STREAM", "a"], ["XREAD", "STREAMS", "a", "0"],
            ], shapeOnly: [0, 1, 3, 6, 7])
    }

    @Test("Binary-safe keys, fields, values and group and consumer names")
    func binarySafe() throws {
        guard let oracle = Self.oracle else { return }
        let odd = "a\0b\r\n\u{ff}é"
        try oracle.compareStreams([
            ["XADD", odd, "1-1", odd, odd, "", ""], ["XADD", odd, "2-2", "", odd], ["XRANGE", odd, "-", "+"],
            ["XGROUP", "CREATE", odd, odd, "0"], ["XREADGROUP", "GROUP", odd, odd, "STREAMS", odd, ">"],
            ["XPENDING", odd, odd], ["XINFO", "GROUPS", odd], ["XINFO", "CONSUMERS", odd, odd],
            ["XINFO", "STREAM", odd],
            ["XACK", odd, odd, "1-1"], ["XREVRANGE", odd, "+", "-", "COUNT", "1"], ["XPENDING", odd, "nogroup"],
        ])
    }

    @Test("What we propagate is what Redis 7.0 appends to its AOF (XCLAIM times aside)")
    func aofForms() throws {
        guard let binary = RedisServer.redis70 else { return }
        let directory = try RedisServer.temporaryDirectory("streams-aof")
        let server = try RedisServer(
            binary: binary, port: 7832, directory: directory,
            arguments: ["--appendonly", "yes", "--appendfsync", "always"])
        defer { server.stop() }
        let client = try RESPClient(port: 7832)
        let keyspace = Keyspace()
        keyspace.propagationEnabled = true
        let session = Session()
        let script =
            StreamScripts.groupsWorkout + StreamScripts.groupEdges + StreamScripts.lag + [
                ["XADD", "t", "MAXLEN", "~", "3", "5-*", "f", "v"],
                ["XADD", "t", "MAXLEN", "~", "3", "LIMIT", "7", "5-*", "f", "v"],
                ["XADD", "t", "MINID", "~", "3", "6-1", "f", "v"], ["XTRIM", "t", "MAXLEN", "~", "0"],
                ["XTRIM", "t", "MINID", "~", "9"],
                ["XADD", "t", "NOMKSTREAM", "7-*", "f", "v"], ["XSETID", "t", "100-0", "ENTRIESADDED", "50"],
            ] + (1...230).map { ["XADD", "u", "MAXLEN", "~", "50", "\($0)-*", "f", "v"] } + [
                ["XTRIM", "u", "MINID", "~", "150"]
            ]
        for command in script {
            _ = StreamScripts.execute(command.map { Bytes($0) }, on: keyspace, session: session)
            _ = try client.send(command)
        }
        let aof = try [UInt8](
            Data(contentsOf: directory.appendingPathComponent("appendonlydir/appendonly.aof.1.incr.aof")))
        // Redis wraps a command that propagates several in MULTI/EXEC (the engine does not): compared without them.
        let wrappers: Set<Bytes> = ["SELECT", "MULTI", "EXEC"]
        let theirs = StreamScripts.parseCommands(aof).filter { !wrappers.contains(Bytes($0[0].uppercased())) }
        let ours = keyspace.takePropagated().map { $0.argv.map(\.string) }
        #expect(ours.count == theirs.count)
        for (mine, redis) in zip(ours, theirs)
        where StreamScripts.maskClaimTime(mine) != StreamScripts.maskClaimTime(redis) {
            Issue.record("ours \(mine), Redis \(redis)")
        }
    }

    @Test("A long random script of stream commands gets Redis 7.0's replies")
    func randomScript() throws {
        guard let oracle = Self.oracle else { return }
        let seeds =
            ProcessInfo.processInfo.environment["STREAM_SEEDS"].map {
                $0.split(separator: ",").compactMap { UInt64($0) }
            } ?? [7, 1234]
        for seed in seeds {
            var random = ListSetRandom(seed: seed)
            try oracle.compareStreams(StreamScripts.random(count: 4000, using: &random))
        }
    }
}
