import HashTreeCollections
import Keyspace
import Testing
import TestSupport

// MARK: - Semantics

@Suite("Set commands")
struct SetCommandTests {
    private typealias Support = ListSetTestSupport

    private typealias Harness = ListSetHarness

    private static func numbers(_ range: Range<Int>) -> [Bytes] { range.map { Bytes(integer: Int64($0)) } }

    private static func bulks(_ reply: Reply) -> [Bytes]? { Harness.bulks(reply) }

    @Test("SADD and SREM count real changes; the last member deletes the key")
    func addAndRemove() {
        let run = Harness()
        #expect(run("SADD", "s", "a", "b", "a", "c") == .integer(3))
        #expect(run("SADD", "s", "a", "d") == .integer(1))
        #expect(run("SCARD", "s") == .integer(4))
        #expect(run("SISMEMBER", "s", "d") == .integer(1))
        #expect(run("SISMEMBER", "s", "z") == .integer(0))
        #expect(run("SMISMEMBER", "s", "a", "z", "c") == .array([.integer(1), .integer(0), .integer(1)]))
        #expect(run("SMISMEMBER", "missing", "a", "b") == .array([.integer(0), .integer(0)]))
        #expect(Set(Self.bulks(run("SMEMBERS", "s")) ?? []) == ["a", "b", "c", "d"])
        let dirty = run.keyspace.dirty
        #expect(run("SREM", "s", "a", "z") == .integer(1))
        #expect(run.keyspace.dirty == dirty + 1)
        #expect(run("SREM", "s", "b", "c", "d") == .integer(3))
        #expect(run.keyspace.databases[0].entries["s"] == nil)
        #expect(run("SREM", "s", "a") == .integer(0))
        #expect(run("SMEMBERS", "s") == .emptyArray)
        #expect(run("SCARD", "s") == .integer(0))
    }

    @Test("SPOP removes what it returns and is propagated as SREM batches, or DEL when the set empties")
    func pop() throws {
        let run = Harness()
        run.keyspace.propagationEnabled = true
        run.keyspace.execute(["SADD", "s"] + Self.numbers(0..<3000), session: run.session)
        _ = run.keyspace.takePropagated()

        guard case .bulk(let one) = run("SPOP", "s") else { Issue.record("SPOP"); return }
        #expect(run.members("s")?.contains(one) == false)
        #expect(run.keyspace.takePropagated() == [PropagatedCommand(db: 0, argv: ["SREM", "s", one])])

        for count in [10, 1200, 1500] {
            let before = try #require(run.members("s"))
            let popped = try #require(Self.bulks(run("SPOP", "s", Bytes(integer: Int64(count)))))
            #expect(popped.count == count && Set(popped).count == count)
            #expect(Set(popped).isSubset(of: before))
            #expect(run.members("s") == before.subtracting(popped))
            let propagated = run.keyspace.takePropagated()
            #expect(propagated.count == (count + 1023) / 1024)
            #expect(propagated.allSatisfy { $0.argv.count <= 2 + 1024 && $0.argv.prefix(2) == ["SREM", "s"] })
            #expect(Set(propagated.flatMap { $0.argv.dropFirst(2) }) == Set(popped))
        }
        let rest = try #require(run.members("s"))
        #expect(Set(Self.bulks(run("SPOP", "s", "5000")) ?? []) == rest)
        #expect(run.keyspace.takePropagated() == [PropagatedCommand(db: 0, argv: ["DEL", "s"])])
        #expect(run.keyspace.databases[0].entries["s"] == nil)

        #expect(run("SPOP", "s") == .null)
        #expect(run("SPOP", "s", "3") == .emptyArray)
        run("SADD", "s", "a")
        _ = run.keyspace.takePropagated()
        #expect(run("SPOP", "s", "0") == .emptyArray)
        #expect(run("SPOP", "s", "-1") == .error("ERR value is out of range, must be positive"))
        #expect(run("SPOP", "s", "1", "2") == .error("ERR syntax error"))
        #expect(run.keyspace.takePropagated().isEmpty)
    }

    @Test("SRANDMEMBER: distinct members for a positive count, exactly |count| for a negative one")
    func randomMembers() throws {
        let run = Harness()
        let members = Set(Self.numbers(0..<300))
        run.keyspace.execute(["SADD", "s"] + Array(members), session: run.session)
        for count in [1, 5, 99, 100, 101, 250, 299, 300, 1000] {
            let drawn = try #require(Self.bulks(run("SRANDMEMBER", "s", Bytes(integer: Int64(count)))))
            #expect(drawn.count == min(count, 300))
            #expect(Set(drawn).count == drawn.count)
            #expect(Set(drawn).isSubset(of: members))
        }
        let repeated = try #require(Self.bulks(run("SRANDMEMBER", "s", "-1000")))
        #expect(repeated.count == 1000 && Set(repeated).isSubset(of: members))
        // Uniform enough that 2000 single draws from 5 members see every one of them.
        run("SADD", "small", "a", "b", "c", "d", "e")
        var seen = Set<Bytes>()
        for _ in 0..<2000 { if case .bulk(let member) = run("SRANDMEMBER", "small") { seen.insert(member) } }
        #expect(seen == ["a", "b", "c", "d", "e"])
        #expect(run("SCARD", "s") == .integer(300))
        #expect(run("SRANDMEMBER", "missing") == .null)
        #expect(run("SRANDMEMBER", "missing", "-3") == .emptyArray)
        #expect(run("SRANDMEMBER", "s", "0") == .emptyArray)
        #expect(run("SRANDMEMBER", "s", "-9223372036854775808")
            == .error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"))
        #expect(run("SRANDMEMBER", "s", "x") == .error("ERR value is not an integer or out of range"))
    }

    @Test("SMOVE moves one member, creates the destination and deletes an emptied source")
    func move() {
        let run = Harness()
        run("SADD", "a", "x", "y")
        #expect(run("SMOVE", "a", "b", "x") == .integer(1))
        #expect(run("SMOVE", "a", "b", "x") == .integer(0))
        #expect(run("SMOVE", "a", "a", "y") == .integer(1))
        #expect(run("SMOVE", "a", "a", "x") == .integer(0))
        #expect(run("SMOVE", "a", "b", "y") == .integer(1))
        #expect(run.keyspace.databases[0].entries["a"] == nil)
        #expect(run.members("b") == ["x", "y"])
        run("RPUSH", "list", "v")
        #expect(run("SMOVE", "b", "list", "x") == .error(CommandError.wrongType.message))
        #expect(run.members("b") == ["x", "y"])
        #expect(run("SMOVE", "missing", "list", "x") == .integer(0))
        #expect(run("SMOVE", "list", "b", "x") == .error(CommandError.wrongType.message))
    }

    @Test("SINTER, SUNION, SDIFF and their STORE forms match Swift's Set on random sets")
    func algebra() throws {
        var generator = ListSetRandom(seed: 3)
        let run = Harness()
        var model: [Bytes: Set<Bytes>] = [:]
        for key in ["a", "b", "c", "d"] as [Bytes] {
            let members = (0..<Int.random(in: 50...2000, using: &generator)).map { _ in
                Bytes(integer: Int64.random(in: 0..<3000, using: &generator))
            }
            model[key] = Set(members)
            run.keyspace.execute(["SADD", key] + members, session: run.session)
        }
        let combinations: [[Bytes]] = [["a"], ["a", "b"], ["b", "a", "c"], ["a", "b", "c", "d"], ["d", "missing"], ["missing", "a"]]
        for keys in combinations {
            let sets = keys.map { model[$0] ?? [] }
            let intersection = sets.dropFirst().reduce(sets[0]) { $0.intersection($1) }
            let union = sets.reduce(Set<Bytes>()) { $0.union($1) }
            let difference = sets.dropFirst().reduce(sets[0]) { $0.subtracting($1) }
            #expect(Set(Self.bulks(run.keyspace.execute(["SINTER"] + keys, session: run.session)) ?? []) == intersection)
            #expect(Set(Self.bulks(run.keyspace.execute(["SUNION"] + keys, session: run.session)) ?? []) == union)
            #expect(Set(Self.bulks(run.keyspace.execute(["SDIFF"] + keys, session: run.session)) ?? []) == difference)
            for (command, expected) in [("SINTERSTORE", intersection), ("SUNIONSTORE", union), ("SDIFFSTORE", difference)] {
                let reply = run.keyspace.execute([Bytes(command), "dest"] + keys, session: run.session)
                #expect(reply == .integer(Int64(expected.count)))
                #expect(run.members("dest") ?? [] == expected)
            }
            let cardinality = run.keyspace.execute(["SINTERCARD", Bytes(integer: Int64(keys.count))] + keys, session: run.session)
            #expect(cardinality == .integer(Int64(intersection.count)))
            let limited = run.keyspace.execute(["SINTERCARD", Bytes(integer: Int64(keys.count))] + keys + ["LIMIT", "3"], session: run.session)
            #expect(limited == .integer(Int64(min(3, intersection.count))))
        }
        // A STORE replaces any type and drops the TTL; an empty result deletes the destination.
        run("RPUSH", "list", "v")
        run.keyspace.setExpire(db: 0, key: "list", atMilliseconds: 4_000_000_000_000)
        #expect(run("SUNIONSTORE", "list", "a") == .integer(Int64(model["a"]!.count)))
        #expect(run.keyspace.expireTime(db: 0, key: "list") == nil)
        #expect(run("SINTERSTORE", "list", "a", "missing") == .integer(0))
        #expect(run.keyspace.databases[0].entries["list"] == nil)
        // The destination may be a source.
        #expect(run("SDIFFSTORE", "a", "a", "b") == .integer(Int64(model["a"]!.subtracting(model["b"]!).count)))
        #expect(run("SINTERCARD", "2", "a") == .error("ERR Number of keys can't be greater than number of args"))
        #expect(run("SINTERCARD", "0", "a") == .error("ERR numkeys should be greater than 0"))
        #expect(run("SINTERCARD", "1", "a", "LIMIT", "-1") == .error("ERR LIMIT can't be negative"))
        #expect(run("SINTERCARD", "1", "a", "LIMITS", "1") == .error("ERR syntax error"))
    }

    @Test("SSCAN visits every member once over a full iteration; intsets come back whole")
    func scan() throws {
        let run = Harness()
        let members = (0..<1000).map { Bytes("member:\($0)") }
        run.keyspace.execute(["SADD", "s"] + members, session: run.session)
        var cursor: Bytes = "0"
        var seen: [Bytes] = []
        var calls = 0
        repeat {
            guard case .array(let page) = run("SSCAN", "s", cursor, "COUNT", "7"), page.count == 2,
                case .bulk(let next) = page[0], let elements = Self.bulks(page[1])
            else { Issue.record("bad SSCAN reply"); return }
            seen += elements
            cursor = next
            calls += 1
        } while cursor != "0" && calls < 10_000
        #expect(seen.count == 1000 && Set(seen) == Set(members))

        guard case .array(let matched) = run("SSCAN", "s", "0", "MATCH", "member:99*", "COUNT", "100000") else { return }
        #expect(Set(Self.bulks(matched[1]) ?? []) == ["member:99", "member:990", "member:991", "member:992", "member:993",
            "member:994", "member:995", "member:996", "member:997", "member:998", "member:999"])

        run("SADD", "ints", "1", "2", "3", "-4")
        guard case .array(let whole) = run("SSCAN", "ints", "0", "COUNT", "1") else { return }
        #expect(whole[0] == .bulk("0") && Set(Self.bulks(whole[1]) ?? []) == ["1", "2", "3", "-4"])
        #expect(run("SSCAN", "missing", "0", "COUNT", "0") == .array([.bulk("0"), .emptyArray]))
        #expect(run("SSCAN", "s", "x") == .error("ERR invalid cursor"))
        #expect(run("SSCAN", "s", " 1") == .error("ERR invalid cursor"))
        #expect(run("SSCAN", "s", "18446744073709551616") == .error("ERR invalid cursor"))
        #expect(run("SSCAN", "ints", "-1") == .array([.bulk("0"), whole[1]]))
        #expect(run("SSCAN", "s", "0", "COUNT", "0") == .error("ERR syntax error"))
        #expect(run("SSCAN", "s", "0", "MATCH") == .error("ERR syntax error"))
    }

    @Test("Members and keys are binary safe")
    func binarySafe() {
        let run = Harness()
        let odd = Bytes([0x00, 0xff, 0x0d, 0x0a])
        #expect(run("SADD", odd, odd, "", Bytes([0x00])) == .integer(3))
        #expect(run("SISMEMBER", odd, Bytes([0x00, 0xff, 0x0d, 0x0a])) == .integer(1))
        #expect(run("SISMEMBER", odd, Bytes([0x00, 0xff])) == .integer(0))
        #expect(run("SMOVE", odd, "other", "") == .integer(1))
        #expect(Set(Self.bulks(run("SUNION", odd, "other")) ?? []) == [odd, "", Bytes([0x00])])
    }

    @Test("Every set command answers WRONGTYPE on another type")
    func wrongType() {
        let run = Harness()
        run("RPUSH", "l", "v")
        run("SADD", "s", "v")
        let commands: [[Bytes]] = [
            ["SADD", "l", "a"], ["SREM", "l", "a"], ["SMEMBERS", "l"], ["SISMEMBER", "l", "a"], ["SMISMEMBER", "l", "a"],
            ["SCARD", "l"], ["SPOP", "l"], ["SPOP", "l", "2"], ["SRANDMEMBER", "l"], ["SRANDMEMBER", "l", "-2"],
            ["SMOVE", "l", "s", "v"], ["SMOVE", "s", "l", "v"], ["SINTER", "s", "l"], ["SINTER", "missing", "l"], ["SUNION", "l"],
            ["SDIFF", "missing", "l"], ["SINTERSTORE", "d", "s", "l"], ["SUNIONSTORE", "d", "l"], ["SDIFFSTORE", "d", "s", "l"],
            ["SINTERCARD", "2", "s", "l"], ["SSCAN", "l", "0"],
        ]
        for argv in commands {
            #expect(run.keyspace.execute(argv, session: run.session) == .error(CommandError.wrongType.message), "\(argv.map(\.string))")
        }
    }

    // MARK: - Snapshots and propagation

    @Test("Snapshot isolation: set commands after a snapshot leave it as it was")
    func snapshotIsolation() {
        let run = Harness()
        let original = Set(Self.numbers(0..<5000))
        run.keyspace.execute(["SADD", "s"] + Array(original), session: run.session)
        run("SADD", "t", "1", "2", "x")
        let snapshot = run.keyspace.snapshot()
        run("SADD", "s", "new")
        run("SREM", "s", "1", "2", "3")
        run("SPOP", "s", "100")
        run("SPOP", "s")
        run("SMOVE", "s", "t", "4000")
        run("SINTERSTORE", "t", "s", "t")
        run("SDIFFSTORE", "s", "s", "t")
        guard case .set(let frozen)? = snapshot[0].entries["s"], case .set(let frozenT)? = snapshot[0].entries["t"] else {
            Issue.record("sets missing from the snapshot")
            return
        }
        #expect(Set(frozen) == original)
        #expect(Set(frozenT) == ["1", "2", "x"])
        #expect(run.members("s") != original)
    }

    @Test("Replaying what set commands propagate (SPOP as SREM or DEL) rebuilds the same dataset")
    func propagationReplay() {
        let run = Harness()
        run.keyspace.propagationEnabled = true
        var generator = ListSetRandom(seed: 5)
        for command in SetScripts.random(count: 1500, includePops: true, using: &generator) {
            run.keyspace.execute(command.map { Bytes($0) }, session: run.session)
        }
        run.session.db = 2
        run("SADD", "in2", "a", "b", "c")
        run("SPOP", "in2", "2")
        run("SPOP", "in2")
        run("SADD", "in2", "z")
        let replayed = Support.replay(run.keyspace.takePropagated())
        Support.expectSameContent(replayed, run.keyspace)
    }
}

// MARK: - Against Redis 7.0

@Suite("Set commands against Redis 7.0", .serialized)
struct SetDifferentialTests {
    static let oracle = RedisOracle.make(port: 7812)

    @Test("Replies, errors and arity match Redis 7.0 for every set command and option")
    func errorsAndEdges() throws {
        guard let oracle = Self.oracle else { return }
        try oracle.compare(SetScripts.edges)
    }

    @Test("A long random script of set commands gets the same replies as Redis 7.0")
    func randomScript() throws {
        guard let oracle = Self.oracle else { return }
        var generator = ListSetRandom(seed: 99)
        let script = SetScripts.random(count: 3000, includePops: false, using: &generator)
        try oracle.compare(script.map { ($0, SetScripts.comparison(for: $0)) })
    }

    @Test("A full SSCAN iteration returns the same members as Redis 7.0's")
    func scanIteration() throws {
        guard let oracle = Self.oracle else { return }
        let keyspace = Keyspace()
        let members = (0..<700).map { "m\($0)" } + (0..<10).map { "\($0)" }
        try oracle.compare([(["SADD", "s"] + members, .exact)], keyspace: keyspace)
        func iterate(_ send: ([String]) throws -> RESPReply) throws -> [String] {
            var cursor = "0"
            var seen: [String] = []
            for _ in 0..<10_000 {
                guard case .array(let page) = try send(["SSCAN", "s", cursor, "MATCH", "m1*", "COUNT", "13"]),
                    case .array(let elements) = page[1], let next = page[0].text
                else { Issue.record("bad SSCAN reply"); break }
                seen += elements.compactMap(\.text)
                cursor = next
                if cursor == "0" { break }
            }
            return seen.sorted()
        }
        let session = Session()
        let ours = try iterate { keyspace.execute($0.map { Bytes($0) }, session: session).resp }
        let theirs = try iterate { try oracle.client.send($0) }
        #expect(ours == theirs)
        #expect(ours.count == 111)
    }
}
