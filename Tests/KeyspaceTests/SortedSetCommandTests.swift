import HashTreeCollections
import Keyspace
import TestSupport
import Testing

// MARK: - Semantics

@Suite("Sorted set commands")
struct SortedSetCommandTests {
    typealias Harness = ListSetHarness

    static func bulks(_ reply: Reply) -> [Bytes]? { ListSetHarness.bulks(reply) }

    /// Every item (field or member, then value or score) of a full HSCAN / ZSCAN iteration, as (item, value)
    /// pairs, recording an issue when an item comes twice.
    static func scanPairs(
        _ send: ([String]) throws -> RESPReply, _ command: (String) -> [String],
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> [String: String] {
        var cursor = "0"
        var seen: [String: String] = [:]
        for _ in 0..<100_000 {
            guard case .array(let page) = try send(command(cursor)), case .array(let items) = page[1],
                let next = page[0].text
            else {
                Issue.record("bad scan reply", sourceLocation: sourceLocation)
                break
            }
            for pair in stride(from: 0, to: items.count - 1, by: 2) {
                guard let item = items[pair].text, let value = items[pair + 1].text else { continue }
                if seen.updateValue(value, forKey: item) != nil {
                    Issue.record("\(item) returned twice", sourceLocation: sourceLocation)
                }
            }
            cursor = next
            if cursor == "0" { break }
        }
        return seen
    }

    @Test("ZADD options: NX, XX, GT, LT, CH, INCR, and what counts as a change")
    func addOptions() {
        let run = Harness()
        #expect(run("ZADD", "z", "1", "a", "2", "b") == .integer(2))
        #expect(run.keyspace.dirty == 2)
        #expect(run("ZADD", "z", "1", "a") == .integer(0))
        #expect(run.keyspace.dirty == 2)  // same score: no change
        #expect(run("ZADD", "z", "CH", "5", "a", "3", "c") == .integer(2))
        #expect(run("ZADD", "z", "NX", "9", "a", "4", "d") == .integer(1))
        #expect(run("ZSCORE", "z", "a") == .bulk("5"))
        #expect(run("ZADD", "z", "XX", "CH", "6", "a", "4", "e") == .integer(1))
        #expect(run("ZSCORE", "z", "e") == .null)
        #expect(run("ZADD", "z", "GT", "CH", "1", "a", "7", "b") == .integer(1))
        #expect(run("ZADD", "z", "LT", "CH", "9", "a", "1", "b") == .integer(1))
        #expect(run("ZADD", "z", "GT", "1", "new") == .integer(1))  // GT/LT never stop an addition
        #expect(run("ZADD", "z", "INCR", "2.5", "a") == .bulk("8.5"))
        #expect(run("ZADD", "z", "INCR", "NX", "1", "a") == .null)
        #expect(run("ZADD", "z", "INCR", "XX", "1", "missing") == .null)
        #expect(run("ZADD", "z", "INCR", "GT", "-1", "a") == .null)
        #expect(run("ZADD", "z", "INCR", "0", "a") == .bulk("8.5"))
        #expect(run("ZINCRBY", "z", "-10", "a") == .bulk("-1.5"))
        #expect(run("ZADD", "nokey", "XX", "1", "a") == .integer(0))
        #expect(run.keyspace.databases[0].entries["nokey"] == nil)
        #expect(run("ZADD", "z", "INCR", "+inf", "inf") == .bulk("inf"))
        #expect(run("ZADD", "z", "INCR", "-inf", "inf") == .error("ERR resulting score is not a number (NaN)"))
        #expect(run("ZINCRBY", "z", "-0", "fresh") == .bulk("-0"))  // the reply keeps the sign, the set stores 0
        #expect(run("ZSCORE", "z", "fresh") == .bulk("0"))
    }

    @Test("Ranks, ranges, counts and removals by rank, score and lex agree with a model on a large set")
    func largeSetRanges() throws {
        let run = Harness()
        var model: [(member: Bytes, score: Double)] = []
        var arguments: [Bytes] = ["ZADD", "z"]
        for index in 0..<3000 {
            let member = Bytes("m\(String(index, radix: 7))")
            let score = Double(index % 200) / 4
            model.append((member, score))
            arguments += [Bytes(double: score), member]
        }
        run.execute(arguments)
        model.sort { $0.score < $1.score || ($0.score == $1.score && $0.member < $1.member) }
        let members = model.map(\.member)
        #expect(run("ZCARD", "z") == .integer(3000))
        for rank in stride(from: 0, to: 3000, by: 97) {
            #expect(run("ZRANK", "z", members[rank]) == .integer(Int64(rank)))
            #expect(run("ZREVRANK", "z", members[rank]) == .integer(Int64(2999 - rank)))
        }
        #expect(Self.bulks(run("ZRANGE", "z", "100", "199")) == Array(members[100..<200]))
        #expect(Self.bulks(run("ZRANGE", "z", "-10", "-1", "REV")) == Array(members[0..<10].reversed()))
        let inRange = model.filter { $0.score > 10 && $0.score <= 20 }.map(\.member)
        #expect(run("ZCOUNT", "z", "(10", "20") == .integer(Int64(inRange.count)))
        #expect(Self.bulks(run("ZRANGEBYSCORE", "z", "(10", "20", "LIMIT", "5", "50")) == Array(inRange[5..<55]))
        #expect(
            Self.bulks(run("ZREVRANGEBYSCORE", "z", "20", "(10", "LIMIT", "5", "50"))
                == Array(inRange.reversed()[5..<55]))
        let sameScore = model.filter { $0.score == 7 }.map(\.member)
        #expect(
            Self.bulks(run("ZRANGE", "z", "7", "8", "BYSCORE"))
                == model.filter { $0.score >= 7 && $0.score <= 8 }.map(\.member))
        #expect(run("ZLEXCOUNT", "z", "-", "+") == .integer(3000))
        #expect(sameScore.count == 15)

        #expect(run("ZREMRANGEBYRANK", "z", "10", "109") == .integer(100))
        var expected = Array(members[0..<10] + members[110...])
        #expect(Self.bulks(run("ZRANGE", "z", "0", "-1")) == expected)
        let removedByScore = model.filter { $0.score >= 30 && $0.score < 40 }.map(\.member)
        #expect(run("ZREMRANGEBYSCORE", "z", "30", "(40") == .integer(Int64(removedByScore.count)))
        expected.removeAll { removedByScore.contains($0) }
        #expect(Self.bulks(run("ZRANGE", "z", "0", "-1")) == expected)
        #expect(
            run("ZPOPMIN", "z", "3")
                == .array(
                    expected.prefix(3).flatMap { member in
                        [Reply.bulk(member), .double(model.first { $0.member == member }!.score)]
                    }))
        guard case .array(let popped) = run("ZPOPMAX", "z", "2") else {
            Issue.record("ZPOPMAX")
            return
        }
        #expect(popped.first == .bulk(expected.last!))
        #expect(run("ZCARD", "z") == .integer(Int64(expected.count - 5)))
        let zset = try #require(run.zset("z"))
        SortedSetValueTests.checkInvariants(zset)
    }

    @Test("ZRANDMEMBER: distinct members for a positive count, exactly |count| for a negative one")
    func randomMembers() throws {
        let run = Harness()
        run.execute(["ZADD", "z"] + (0..<300).flatMap { [Bytes(integer: Int64($0)), Bytes("m\($0)")] })
        for count in [1, 50, 150, 299] {
            let members = try #require(Self.bulks(run("ZRANDMEMBER", "z", Bytes(integer: Int64(count)))))
            #expect(members.count == count && Set(members).count == count)
        }
        #expect(try #require(Self.bulks(run("ZRANDMEMBER", "z", "1000"))).count == 300)
        let repeated = try #require(Self.bulks(run("ZRANDMEMBER", "z", "-1000", "WITHSCORES")))
        #expect(repeated.count == 2000)
        for pair in stride(from: 0, to: repeated.count, by: 2) {
            #expect(run("ZSCORE", "z", repeated[pair]) == .bulk(repeated[pair + 1]))
        }
        #expect(run("ZRANDMEMBER", "z", "-9223372036854775807") == .error("ERR value is out of range"))
    }

    @Test("A full ZSCAN of a large set returns every member once with its score")
    func scanIteration() throws {
        let run = Harness()
        run.execute(["ZADD", "z"] + (0..<1000).flatMap { [Bytes(integer: Int64($0)), Bytes("m\($0)")] })
        let seen = try Self.scanPairs({ run.execute($0.map { Bytes($0) }).resp }) { ["ZSCAN", "z", $0, "COUNT", "37"] }
        #expect(seen.count == 1000)
        #expect(seen["m17"] == "17")
    }

    @Test("Members are binary safe and every command answers WRONGTYPE on another type")
    func binaryAndWrongType() {
        let run = Harness()
        let binary = Bytes([0, 255, 10, 13, 0])
        #expect(run("ZADD", "z", "1", binary, "2", "") == .integer(2))
        #expect(run("ZSCORE", "z", binary) == .bulk("1"))
        #expect(run("ZRANGE", "z", "0", "-1") == .array([.bulk(binary), .bulk("")]))
        #expect(run("ZRANGEBYLEX", "z", "[", "+") == .array([.bulk(binary), .bulk("")]))
        run("SET", "s", "x")
        let wrongType = Reply.error(CommandError.wrongType.message)
        let commands: [[Bytes]] = [
            ["ZADD", "s", "1", "a"], ["ZINCRBY", "s", "1", "a"], ["ZREM", "s", "a"], ["ZSCORE", "s", "a"],
            ["ZMSCORE", "s", "a"], ["ZCARD", "s"], ["ZCOUNT", "s", "0", "1"], ["ZLEXCOUNT", "s", "-", "+"],
            ["ZRANK", "s", "a"], ["ZREVRANK", "s", "a"], ["ZPOPMIN", "s"], ["ZPOPMAX", "s", "2"],
            ["ZRANDMEMBER", "s"], ["ZSCAN", "s", "0"], ["ZREMRANGEBYRANK", "s", "0", "1"],
            ["ZREMRANGEBYSCORE", "s", "0", "1"], ["ZREMRANGEBYLEX", "s", "-", "+"], ["ZRANGE", "s", "0", "1"],
            ["ZRANGESTORE", "d", "s", "0", "1"], ["ZREVRANGE", "s", "0", "1"], ["ZRANGEBYSCORE", "s", "0", "1"],
            ["ZREVRANGEBYSCORE", "s", "1", "0"], ["ZRANGEBYLEX", "s", "-", "+"], ["ZREVRANGEBYLEX", "s", "+", "-"],
            ["ZUNIONSTORE", "d", "1", "s"], ["ZINTERSTORE", "d", "1", "s"], ["ZDIFFSTORE", "d", "1", "s"],
            ["ZUNION", "1", "s"], ["ZINTER", "1", "s"], ["ZDIFF", "1", "s"], ["ZINTERCARD", "1", "s"],
        ]
        for command in commands { #expect(run.execute(command) == wrongType, "\(command.map(\.string))") }
    }

    // MARK: - Snapshots and propagation

    @Test("Snapshot isolation: sorted set commands after a snapshot leave it as it was")
    func snapshotIsolation() throws {
        let run = Harness()
        run.execute(["ZADD", "big"] + (0..<2000).flatMap { [Bytes(integer: Int64($0 % 100)), Bytes("m\($0)")] })
        run("ZADD", "small", "1", "a", "2", "b")
        let snapshot = run.keyspace.snapshot()
        let before = Keyspace.digest(of: snapshot)
        guard case .sortedSet(let frozen)? = snapshot[0].entries["big"] else {
            Issue.record("big")
            return
        }
        let frozenOrder = Array(frozen)

        run("ZADD", "big", "INCR", "1000", "m5")
        run("ZREM", "big", "m6", "m7")
        run("ZREMRANGEBYRANK", "big", "100", "400")
        run("ZPOPMIN", "big", "10")
        run("ZADD", "small", "5", "c")
        run("ZUNIONSTORE", "small", "2", "small", "big")
        run("ZRANGESTORE", "big", "small", "0", "2")

        #expect(Keyspace.digest(of: snapshot) == before)
        guard case .sortedSet(let still)? = snapshot[0].entries["big"] else {
            Issue.record("big")
            return
        }
        #expect(Array(still) == frozenOrder)
        #expect(still.score(of: "m5") == 5 && still.count == 2000)
        SortedSetValueTests.checkInvariants(still)
        #expect(run.keyspace.digest() != before)
    }

    @Test("Replaying what sorted set commands propagate rebuilds the same dataset")
    func propagationReplay() {
        let run = Harness()
        run.keyspace.propagationEnabled = true
        var generator = ListSetRandom(seed: 21)
        for command in SortedSetScripts.random(count: 1500, using: &generator) {
            run.execute(command.map { Bytes($0) })
        }
        run.execute(["ZADD", "big"] + (0..<500).flatMap { [Bytes(integer: Int64($0)), Bytes("m\($0)")] })
        run("ZPOPMAX", "big", "7")
        run("ZREMRANGEBYSCORE", "big", "(10", "20")
        run("ZUNIONSTORE", "u", "2", "big", "z1", "WEIGHTS", "0.5", "3", "AGGREGATE", "MAX")
        run("ZMPOP", "3", "nokey", "u", "big", "MAX", "COUNT", "4")
        let propagated = run.keyspace.takePropagated()
        #expect(!propagated.isEmpty)
        // Read-only commands never reach the AOF.
        #expect(
            !propagated.contains { ["zrange", "zrandmember", "zscore", "zscan"].contains($0.argv[0].lowercasedASCII) })
        #expect(propagated.last?.argv == ["ZPOPMAX", "u", "4"])
        let replayed = ListSetTestSupport.replay(propagated)
        #expect(replayed.digest() == run.keyspace.digest())
    }
}

extension ListSetHarness {
    /// Runs a command given as an array.
    @discardableResult
    func execute(_ argv: [Bytes]) -> Reply { keyspace.execute(argv, session: session) }

    /// The sorted set stored at `key` in the session's database.
    func zset(_ key: Bytes) -> SortedSetValue? {
        guard case .sortedSet(let zset)? = keyspace.databases[session.db].entries[key] else { return nil }
        return zset
    }
}

// MARK: - Against Redis 7.0

@Suite("Sorted set commands against Redis 7.0", .serialized)
struct SortedSetDifferentialTests {
    static let oracle = RedisOracle.make(port: 7821)

    @Test("Replies, errors and arity match Redis 7.0 for every sorted set command and option")
    func errorsAndEdges() throws {
        guard let oracle = Self.oracle else { return }
        try oracle.compare(SortedSetScripts.edges.map { ($0, SortedSetScripts.comparison(for: $0)) })
    }

    @Test("Set operations with weights, aggregates, plain sets and infinities match Redis 7.0")
    func algebra() throws {
        guard let oracle = Self.oracle else { return }
        try oracle.compare(SortedSetScripts.algebra.map { ($0, SortedSetScripts.comparison(for: $0)) })
    }

    @Test("A long random script of sorted set commands gets the same replies as Redis 7.0", arguments: [7, 8])
    func randomScript(seed: UInt64) throws {
        guard let oracle = Self.oracle else { return }
        var generator = ListSetRandom(seed: seed)
        let script = SortedSetScripts.random(count: 2500, using: &generator)
        let keyspace = Keyspace()
        try oracle.compare(script.map { ($0, SortedSetScripts.comparison(for: $0)) }, keyspace: keyspace)
        #expect(try oracle.client.send(["DEBUG", "DIGEST"]) == .status(keyspace.digest()))
    }

    @Test("WATCH is broken exactly by the commands that change the watched key, as in Redis 7.0")
    func watch() throws {
        guard let oracle = Self.oracle else { return }
        let commands: [[String]] = [
            ["ZADD", "z", "1", "a"], ["ZADD", "z", "5", "a"], ["ZADD", "z", "XX", "1", "new"],
            ["ZADD", "z", "NX", "9", "a"],
            ["ZADD", "z", "GT", "0", "a"], ["ZINCRBY", "z", "0", "a"], ["ZREM", "z", "nope"], ["ZREM", "z", "b"],
            ["ZREMRANGEBYSCORE", "z", "100", "200"], ["ZREMRANGEBYRANK", "z", "0", "0"],
            ["ZREMRANGEBYLEX", "z", "(x", "+"],
            ["ZPOPMIN", "z", "0"], ["ZPOPMAX", "z"], ["ZRANGESTORE", "z", "nokey", "0", "-1"],
            ["ZRANGESTORE", "nokey", "z", "5", "9"], ["ZUNIONSTORE", "z", "1", "z"],
            ["ZINTERSTORE", "nokey", "1", "nokey"],
            ["ZMPOP", "1", "nokey", "MIN"], ["ZRANGE", "z", "0", "-1"], ["HSET", "h", "f", "v"],
            ["HSETNX", "h", "f", "x"],
            ["HDEL", "h", "nope"], ["HINCRBY", "h", "n", "0"], ["HINCRBYFLOAT", "h", "n", "0"], ["HGETALL", "h"],
        ]
        for command in commands {
            let key = command[1] == "nokey" || command[0] == "ZMPOP" ? "nokey" : command[0].hasPrefix("H") ? "h" : "z"
            let setup: [[String]] = [["ZADD", "z", "1", "a", "2", "b", "3", "c"], ["HSET", "h", "f", "v", "n", "1"]]
            // Field order of a small hash is Redis's insertion order, ours the tree's: HGETALL as a multiset.
            try oracle.compare(
                (setup + [["WATCH", key], command, ["MULTI"], ["PING"], ["EXEC"]]).map {
                    ($0, $0[0] == "HGETALL" ? Comparison.unordered : Comparison.exact)
                })
        }
    }

    @Test("Ranges over a set past the listpack limits match Redis 7.0")
    func largeSet() throws {
        guard let oracle = Self.oracle else { return }
        var add = ["ZADD", "big"]
        for index in 0..<700 { add += [String(Double(index % 90) / 8), "m\(index)"] }
        var script: [[String]] = [add, ["ZADD", "lex"] + (0..<400).flatMap { ["0", "k\($0)"] }]
        script += [
            ["ZCARD", "big"], ["ZRANGE", "big", "0", "-1", "WITHSCORES"], ["ZRANGE", "big", "250", "260", "REV"],
            ["ZRANK", "big", "m345"], ["ZREVRANK", "big", "m345"], ["ZCOUNT", "big", "(2", "5.5"],
            ["ZRANGEBYSCORE", "big", "3", "+inf", "WITHSCORES", "LIMIT", "100", "30"],
            ["ZREVRANGEBYSCORE", "big", "(9", "-inf", "LIMIT", "10", "-1"],
            ["ZRANGE", "big", "(5", "7", "BYSCORE", "REV", "LIMIT", "3", "12", "WITHSCORES"],
            ["ZRANGEBYLEX", "lex", "[k1", "(k2", "LIMIT", "5", "20"], ["ZREVRANGEBYLEX", "lex", "+", "[k39"],
            ["ZLEXCOUNT", "lex", "(k1", "[k3"], ["ZREMRANGEBYLEX", "lex", "[k2", "(k3"], ["ZCARD", "lex"],
            ["ZRANGESTORE", "dst", "big", "10", "(11", "BYSCORE"], ["ZRANGE", "dst", "0", "-1", "WITHSCORES"],
            ["ZREMRANGEBYRANK", "big", "100", "-100"], ["ZREMRANGEBYSCORE", "big", "(1", "2"],
            ["ZPOPMIN", "big", "5"], ["ZPOPMAX", "big", "5"], ["ZRANGE", "big", "0", "-1", "WITHSCORES"],
            ["ZUNIONSTORE", "u", "2", "big", "lex", "WEIGHTS", "2", "1"], ["ZRANGE", "u", "0", "-1", "WITHSCORES"],
            ["ZINTER", "2", "big", "u", "AGGREGATE", "MIN", "WITHSCORES"], ["ZDIFF", "2", "u", "big"],
            ["ZRANDMEMBER", "big", "100000", "WITHSCORES"], ["ZRANDMEMBER", "big", "5"], ["ZRANDMEMBER", "big", "-5"],
            ["ZSCAN", "big", "0"], ["DEBUG", "DIGEST"],
        ]
        try oracle.compare(script.map { ($0, SortedSetScripts.comparison(for: $0, large: true)) })
    }
}

/// Command scripts shared by the unit and differential sorted set tests.
enum SortedSetScripts {
    /// How to compare a command's replies: random commands by shape (or as a multiset when they return the whole
    /// set), scans of large sets by shape; everything else exactly (sorted sets have one order).
    static func comparison(for command: [String], large: Bool = false) -> Comparison {
        let name = command[0].lowercased()
        switch name {
        case "zrandmember":
            guard command.count >= 3, let count = Int(command[2]) else { return .shape }
            return count >= 100_000 ? (large ? .unordered : .exact) : .shape
        case "zscan": return large ? .shape : .exact
        default: return .exact
        }
    }

    /// Every command with its options, errors and edge cases.
    static let edges: [[String]] = [
        // ZADD and ZINCRBY
        ["ZADD", "z", "1", "a", "2", "b", "3", "c"], ["ZADD", "z", "XX", "NX", "1", "a"],
        ["ZADD", "z", "GT", "LT", "1", "a"], ["ZADD", "z", "NX", "GT", "1", "a"], ["ZADD", "z", "NX", "LT", "1", "a"],
        ["ZADD", "z", "INCR", "1", "a", "2", "b"], ["ZADD", "z", "XX", "NX", "INCR", "1", "a", "2", "b"],
        ["ZADD", "z", "GT", "LT", "INCR", "1", "a", "2", "b"], ["ZADD", "z", "1", "a", "2"], ["ZADD", "z", "abc", "a"],
        ["ZADD", "z", "nan", "a"], ["ZADD", "z", "1e400", "a"], ["ZADD", "z", "1e-400", "a"], ["ZADD", "z", " 1", "a"],
        ["ZADD", "z", "1 ", "a"], ["ZADD", "z", "", "a"], ["ZADD", "z", "foo", "1", "a"], ["ZADD", "z", "1"],
        ["ZADD", "z"], ["ZADD", "z", "INCR", "inf", "i"], ["ZADD", "z", "INCR", "-inf", "i"],
        ["ZADD", "z", "INCR", "NX", "1", "a"], ["ZADD", "z", "INCR", "XX", "1", "q"],
        ["ZADD", "z", "GT", "INCR", "-5", "a"],
        ["ZADD", "z", "CH", "GT", "5", "a", "1", "b"], ["ZADD", "z", "ch", "xx", "lt", "0", "a", "9", "nope"],
        ["ZADD", "z", "0x10", "hex", "+5", "plus", ".5", "dot", "5.", "dot2", "1e-320", "tiny", "-0", "negzero"],
        ["ZADD", "z", "0.1", "x", "1e300", "y", "123456789012", "w", "1e20", "v"],
        ["ZRANGE", "z", "0", "-1", "WITHSCORES"], ["ZINCRBY", "z", "nan", "a"], ["ZINCRBY", "z", "abc", "a"],
        ["ZINCRBY", "z", "+inf", "a"], ["ZINCRBY", "z", "-inf", "a"], ["ZINCRBY", "z", "1"],
        ["ZINCRBY", "z", "1.5", "new"],
        ["ZINCRBY", "z", "-0", "negzero2"], ["ZADD", "z", "INCR", "-0", "x"],
        // Scores, cardinality, ranks
        ["ZSCORE", "z", "a"], ["ZSCORE", "z", "x"], ["ZSCORE", "z", "nope"], ["ZSCORE", "nokey", "a"], ["ZSCORE", "z"],
        ["ZMSCORE", "z", "a", "nope", "x"], ["ZMSCORE", "nokey", "a", "b"], ["ZMSCORE", "z"], ["ZCARD", "z"],
        ["ZCARD", "nokey"], ["ZCARD"], ["ZRANK", "z", "x"], ["ZRANK", "z", "nope"], ["ZRANK", "nokey", "a"],
        ["ZREVRANK", "z", "x"], ["ZRANK", "z", "x", "WITHSCORE"], ["ZCOUNT", "z", "-inf", "+inf"],
        ["ZCOUNT", "z", "(1", "(3"], ["ZCOUNT", "z", "3", "1"], ["ZCOUNT", "z", "(1", "(1"], ["ZCOUNT", "z", "a", "b"],
        ["ZCOUNT", "nokey", "a", "b"], ["ZCOUNT", "nokey", "0", "1"], ["ZCOUNT", "z", "(inf", "+inf"],
        ["ZCOUNT", "z", "-inf", "(-inf"], ["ZCOUNT", "z", " 1", "2"], ["ZCOUNT", "z", "(", "2"],
        ["ZCOUNT", "z", "", "2"],
        ["ZCOUNT", "z", "( 1", "2"], ["ZCOUNT", "z", "1 ", "2"], ["ZCOUNT", "z", "nan", "2"],
        ["ZCOUNT", "z", "-1e400", "1e400"],
        // Lex ranges
        ["ZADD", "l", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e", "0", "D", "0", "", "0", "ab"],
        ["ZRANGEBYLEX", "l", "-", "+"], ["ZRANGEBYLEX", "l", "a", "b"], ["ZRANGEBYLEX", "l", "[a", "(c"],
        ["ZRANGEBYLEX", "l", "(a", "[c", "LIMIT", "1", "2"], ["ZRANGEBYLEX", "l", "+", "-"],
        ["ZRANGEBYLEX", "l", "-", "-"],
        ["ZRANGEBYLEX", "l", "+x", "+"], ["ZRANGEBYLEX", "l", "[", "+"], ["ZRANGEBYLEX", "l", "(", "+"],
        ["ZRANGEBYLEX", "l", "", "+"], ["ZRANGEBYLEX", "l", "[c", "[a"], ["ZRANGEBYLEX", "l", "[b", "[b"],
        ["ZRANGEBYLEX", "l", "(b", "[b"], ["ZRANGEBYLEX", "l", "-", "+", "WITHSCORES"],
        ["ZRANGEBYLEX", "l", "-", "+", "LIMIT", "0", "1", "LIMIT", "2", "3"],
        ["ZRANGEBYLEX", "l", "-", "+", "LIMIT", "0"],
        ["ZREVRANGEBYLEX", "l", "+", "-", "LIMIT", "0", "2"], ["ZREVRANGEBYLEX", "l", "[c", "(a"],
        ["ZREVRANGEBYLEX", "l", "(a", "[c"], ["ZLEXCOUNT", "l", "(a", "[c"], ["ZLEXCOUNT", "l", "+", "-"],
        ["ZLEXCOUNT", "l", "[a", "-"], ["ZLEXCOUNT", "l", "a", "+"], ["ZLEXCOUNT", "nokey", "-", "+"],
        ["ZLEXCOUNT", "nokey", "a", "+"],
        // ZRANGE and friends
        ["ZRANGE", "z", "0", "-1"], ["ZRANGE", "z", "0", "1", "REV"], ["ZRANGE", "z", "0", "1", "REV", "REV"],
        ["ZRANGE", "z", "0", "1", "BYSCORE", "BYSCORE"], ["ZRANGE", "z", "0", "1", "BYSCORE", "BYLEX"],
        ["ZRANGE", "z", "0", "1", "REV", "BYSCORE", "REV"], ["ZRANGE", "z", "1", "0", "REV", "BYSCORE"],
        ["ZRANGE", "z", "5", "0", "BYSCORE", "REV", "LIMIT", "0", "2", "WITHSCORES"],
        ["ZRANGE", "z", "(1", "5", "BYSCORE", "LIMIT", "0", "1", "LIMIT", "1", "1"], ["ZRANGE", "z", "a", "b"],
        ["ZRANGE", "z", "0", "b"], ["ZRANGE", "z", "0", "1", "LIMIT", "1", "1", "BYSCORE"],
        ["ZRANGE", "z", "0", "1", "LIMIT", "1", "a", "BYSCORE"], ["ZRANGE", "z", "0", "1", "LIMIT", "x", "a"],
        ["ZRANGE", "z", "0", "1", "foo"], ["ZRANGE", "z", "0", "1", "LIMIT"],
        ["ZRANGE", "z", "0", "-1", "LIMIT", "0", "1"],
        ["ZRANGE", "z", "a", "b", "foo"], ["ZRANGE", "z", "a", "b", "LIMIT", "0", "1"],
        ["ZRANGE", "z", "x", "y", "BYLEX", "WITHSCORES"], ["ZRANGE", "z", "0", "1", "BYLEX"],
        ["ZRANGE", "z", "0", "1", "WITHSCORES", "WITHSCORES"], ["ZRANGE", "z", "100", "200"],
        ["ZRANGE", "z", "-100", "-50"],
        ["ZRANGE", "z", "-100", "100"], ["ZRANGE", "z", "0", "9223372036854775807"],
        ["ZRANGE", "z", "-9223372036854775808", "-1"],
        ["ZRANGE", "z", "0", "1", "BYSCORE", "LIMIT", "9223372036854775807", "9223372036854775807"],
        ["ZRANGE", "nokey", "0", "1"], ["ZRANGE", "z", "[a", "[z", "BYLEX", "LIMIT", "0", "-5"],
        ["ZRANGE", "l", "(c", "[e", "BYLEX"], ["ZRANGE", "l", "[e", "(c", "BYLEX", "REV"], ["ZRANGE", "z", "0"],
        ["ZREVRANGE", "z", "0", "1", "WITHSCORES"], ["ZREVRANGE", "z", "0", "1", "LIMIT", "0", "1"],
        ["ZREVRANGE", "z", "0", "1", "BYSCORE"], ["ZREVRANGE", "z", "0", "1", "REV"], ["ZREVRANGE", "z", "-3", "-1"],
        ["ZRANGEBYSCORE", "z", "abc", "1"], ["ZRANGEBYSCORE", "z", "(1", "(abc"],
        ["ZRANGEBYSCORE", "z", "0", "1", "LIMIT", "0"],
        ["ZRANGEBYSCORE", "z", "0", "1", "LIMIT", "a", "b"],
        ["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "0", "-1", "WITHSCORES"],
        ["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "-1", "2"], ["ZRANGEBYSCORE", "z", "+inf", "-inf"],
        ["ZRANGEBYSCORE", "z", "0", "1", "WITHSCORES", "foo"], ["ZRANGEBYSCORE", "z", "0", "1", "REV"],
        ["ZRANGEBYSCORE", "z", "1", "3", "LIMIT", "1", "-5"], ["ZRANGEBYSCORE", "z", "1", "3", "LIMIT", "5", "1"],
        ["ZRANGEBYSCORE", "z", "1", "3", "LIMIT", "0", "0"], ["ZRANGEBYSCORE", "nokey", "0", "1", "LIMIT", "0", "1"],
        ["ZREVRANGEBYSCORE", "z", "+inf", "-inf", "WITHSCORES", "LIMIT", "1", "2"],
        ["ZREVRANGEBYSCORE", "z", "3", "1", "LIMIT", "1", "-1", "WITHSCORES"], ["ZREVRANGEBYSCORE", "z", "1", "3"],
        // ZRANGESTORE
        ["ZRANGESTORE", "dst", "z", "0", "-1"], ["ZRANGE", "dst", "0", "-1", "WITHSCORES"],
        ["ZRANGESTORE", "dst", "z", "0", "1", "WITHSCORES"], ["ZRANGESTORE", "dst", "l", "[a", "[c", "BYLEX"],
        ["ZRANGE", "dst", "0", "-1"], ["ZRANGESTORE", "dst", "z", "2", "1", "BYSCORE", "REV", "LIMIT", "0", "1"],
        ["ZRANGE", "dst", "0", "-1", "WITHSCORES"], ["ZRANGESTORE", "dst", "z", "0", "1", "LIMIT", "0", "1"],
        ["ZRANGESTORE", "dst", "nokey", "0", "-1"], ["EXISTS", "dst"], ["SET", "str", "x"],
        ["ZRANGESTORE", "dst", "str", "0", "-1"], ["ZRANGESTORE", "str", "nokey", "0", "-1"], ["TYPE", "str"],
        ["SET", "str", "x"], ["ZRANGESTORE", "str", "z", "0", "0"], ["TYPE", "str"], ["ZRANGESTORE", "dst", "z", "0"],
        ["ZRANGESTORE", "dst", "str", "0", "-1", "foo"], ["ZRANGESTORE", "dst", "dst", "0", "-1", "REV"],
        // Removal
        ["ZREM", "z", "a", "nope", "x"], ["ZREM", "nokey", "a"], ["ZREM", "z"], ["ZREMRANGEBYRANK", "z", "a", "b"],
        ["ZREMRANGEBYRANK", "nokey", "a", "1"], ["ZREMRANGEBYRANK", "nokey", "0", "1"],
        ["ZREMRANGEBYRANK", "z", "50", "100"],
        ["ZREMRANGEBYRANK", "z", "-1", "-1"], ["ZREMRANGEBYRANK", "z", "0", "-9223372036854775808"],
        ["ZREMRANGEBYRANK", "z", "2", "1"], ["ZRANGE", "z", "0", "-1"], ["ZREMRANGEBYSCORE", "z", "a", "1"],
        ["ZREMRANGEBYSCORE", "z", "(1", "+inf"], ["ZREMRANGEBYSCORE", "z", "1", "0"],
        ["ZRANGE", "z", "0", "-1", "WITHSCORES"],
        ["ZREMRANGEBYLEX", "l", "a", "1"], ["ZREMRANGEBYLEX", "l", "(a", "[c"], ["ZREMRANGEBYLEX", "l", "+", "-"],
        ["ZRANGE", "l", "0", "-1"], ["ZREMRANGEBYLEX", "l", "-", "+"], ["EXISTS", "l"],
        // ZPOPMIN, ZPOPMAX
        ["ZADD", "p", "1", "a", "2", "b", "3", "c", "4", "d"], ["ZPOPMIN", "p"], ["ZPOPMAX", "p"],
        ["ZPOPMIN", "p", "-1"],
        ["ZPOPMIN", "p", "a"], ["ZPOPMIN", "p", "0"], ["ZPOPMAX", "p", "1", "2"], ["ZPOPMIN", "nokey"],
        ["ZPOPMIN", "nokey", "0"], ["ZPOPMIN", "nokey", "-1"], ["ZPOPMAX", "p", "10"], ["EXISTS", "p"],
        ["ZPOPMIN", "str"], ["ZPOPMIN", "str", "a"], ["ZPOPMIN", "str", "0"],
        // ZMPOP
        ["ZADD", "p", "1", "a", "2", "b", "3", "c"], ["ZMPOP", "0", "p", "MIN"], ["ZMPOP", "a", "p", "MIN"],
        ["ZMPOP", "-1", "p", "MIN"], ["ZMPOP", "2", "p", "MIN"], ["ZMPOP", "1", "p", "foo"],
        ["ZMPOP", "1", "p", "MIN", "COUNT", "0"], ["ZMPOP", "1", "p", "MIN", "COUNT", "-1"],
        ["ZMPOP", "1", "p", "MIN", "COUNT", "x"], ["ZMPOP", "1", "p", "MIN", "COUNT"],
        ["ZMPOP", "1", "p", "MIN", "COUNT", "1", "COUNT", "2"], ["ZMPOP", "1", "p", "MIN", "foo"], ["ZMPOP", "1", "p"],
        ["ZMPOP", "2", "nokey", "p", "MAX", "COUNT", "2"], ["ZMPOP", "1", "nokey", "MIN"],
        ["ZMPOP", "2", "str", "p", "MIN"],
        ["ZMPOP", "2", "nokey", "str", "MIN"], ["ZMPOP", "2", "p", "str", "min", "count", "10"], ["EXISTS", "p"],
        ["ZADD", "p", "1", "a"], ["ZMPOP", "1", "p", "MIN", "COUNT", "9223372036854775807"],
        // ZRANDMEMBER (argument errors and whole-set replies are deterministic)
        ["ZADD", "r", "1", "a", "2", "b", "3", "c"], ["ZRANDMEMBER", "r", "100000"],
        ["ZRANDMEMBER", "r", "100000", "WITHSCORES"], ["ZRANDMEMBER", "r", "2", "foo"], ["ZRANDMEMBER", "r", "a"],
        ["ZRANDMEMBER", "r", "1", "WITHSCORES", "x"], ["ZRANDMEMBER", "r", "9223372036854775807", "WITHSCORES"],
        ["ZRANDMEMBER", "r", "-9223372036854775808"], ["ZRANDMEMBER", "r", "0"],
        ["ZRANDMEMBER", "r", "0", "WITHSCORES"],
        ["ZRANDMEMBER", "nokey"], ["ZRANDMEMBER", "nokey", "5"], ["ZRANDMEMBER", "nokey", "5", "WITHSCORES"],
        ["ZRANDMEMBER", "str", "a"], ["ZRANDMEMBER", "str", "1", "foo"], ["ZRANDMEMBER", "str", "1"],
        ["ZRANDMEMBER", "r"], ["ZRANDMEMBER", "r", "2"], ["ZRANDMEMBER", "r", "-5", "WITHSCORES"],
        // ZSCAN
        ["ZSCAN", "r", "0"], ["ZSCAN", "r", "0", "COUNT", "1"], ["ZSCAN", "r", "0", "COUNT", "0"], ["ZSCAN", "r", "x"],
        ["ZSCAN", "r", "0", "MATCH", "a"], ["ZSCAN", "r", "0", "MATCH", "*", "COUNT", "5"],
        ["ZSCAN", "r", "0", "NOVALUES"],
        ["ZSCAN", "r", "0", "MATCH"], ["ZSCAN", "nokey", "0"], ["ZSCAN", "nokey", "0", "COUNT", "0"],
        ["ZSCAN", "nokey", "x"],
        ["ZSCAN", "str", "0"], ["ZSCAN", "str", "0", "COUNT", "0"], ["ZSCAN", "str", "x"], ["ZSCAN", "r"],
        ["ZSCAN", "r", ""], ["ZSCAN", "r", "-1"], ["ZSCAN", "r", "+0"], ["ZSCAN", "r", " 0"], ["ZSCAN", "r", "0x"],
        // Binary and unicode members
        ["ZADD", "bin", "1", "a\u{0}b", "2", "é", "3", "", "4", "\r\n"], ["ZRANGE", "bin", "0", "-1", "WITHSCORES"],
        ["ZSCORE", "bin", "a\u{0}b"], ["ZRANGEBYLEX", "bin", "[a\u{0}", "+"], ["ZRANK", "bin", ""],
        ["DEBUG", "DIGEST"],
    ]

    /// ZUNION, ZINTER, ZDIFF and their STORE forms.
    static let algebra: [[String]] = [
        ["ZADD", "z", "1", "a", "2", "b", "3", "c"], ["ZADD", "inf", "inf", "a", "-inf", "b"],
        ["SADD", "set", "a", "b", "x"],
        ["SET", "str", "x"], ["ZUNIONSTORE"], ["ZUNIONSTORE", "d", "0", "z"], ["ZUNIONSTORE", "d", "-1", "z"],
        ["ZUNIONSTORE", "d", "a", "z"], ["ZUNIONSTORE", "d", "2", "z"], ["ZUNIONSTORE", "d", "1", "z", "WEIGHTS"],
        ["ZUNIONSTORE", "d", "1", "z", "WEIGHTS", "x"], ["ZUNIONSTORE", "d", "1", "z", "WEIGHTS", "1", "2"],
        ["ZUNIONSTORE", "d", "1", "z", "AGGREGATE"], ["ZUNIONSTORE", "d", "1", "z", "AGGREGATE", "foo"],
        ["ZUNIONSTORE", "d", "1", "z", "WITHSCORES"], ["ZUNION", "1", "z", "WITHSCORES"], ["ZUNION", "0", "z"],
        ["ZUNION", "9999999999999", "z"], ["ZDIFF", "1", "z", "WEIGHTS", "1"], ["ZDIFF", "1", "z", "AGGREGATE", "sum"],
        ["ZDIFFSTORE", "d", "1", "z", "WITHSCORES"], ["ZINTER", "2", "z", "str"], ["ZINTER", "2", "z", "nokey"],
        ["ZINTER", "2", "nokey", "str"], ["ZUNION", "2", "str", "nokey"],
        ["ZUNION", "2", "str", "nokey", "WEIGHTS", "x"],
        ["ZUNION", "2", "z", "nokey", "WEIGHTS", "x"], ["ZUNION", "1", "z", "WEIGHTS", "nan"],
        ["ZUNION", "1", "z", "WEIGHTS", "1e400"], ["ZUNION", "1", "z", "WEIGHTS", "inf"],
        ["ZUNION", "1", "z", "WEIGHTS", "0", "WITHSCORES"], ["ZUNION", "1", "z", "WEIGHTS", "-1", "WITHSCORES"],
        ["ZUNIONSTORE", "d", "1", "z", "WEIGHTS", "1", "WEIGHTS", "2"], ["ZRANGE", "d", "0", "-1", "WITHSCORES"],
        ["ZUNIONSTORE", "d", "1", "z", "AGGREGATE", "sum", "AGGREGATE", "min"],
        ["ZUNION", "2", "z", "set", "WITHSCORES"],
        ["ZINTER", "2", "z", "set", "WITHSCORES"], ["ZDIFF", "2", "z", "set", "WITHSCORES"],
        ["ZDIFF", "2", "set", "z", "WITHSCORES"],
        ["ZUNION", "2", "z", "z", "WEIGHTS", "1", "-1", "WITHSCORES"],
        ["ZUNION", "2", "inf", "inf", "WEIGHTS", "1", "-1", "WITHSCORES"],
        ["ZUNION", "2", "inf", "inf", "AGGREGATE", "MIN", "WITHSCORES"],
        ["ZUNION", "2", "inf", "z", "AGGREGATE", "max", "WITHSCORES"],
        ["ZINTER", "3", "z", "inf", "set", "WEIGHTS", "2", "0", "1.5", "WITHSCORES"],
        ["ZINTER", "2", "inf", "inf", "WEIGHTS", "0", "1", "AGGREGATE", "MIN", "WITHSCORES"],
        ["ZINTER", "2", "inf", "inf", "WEIGHTS", "1", "0", "AGGREGATE", "MAX", "WITHSCORES"],
        ["ZINTER", "2", "inf", "inf", "WEIGHTS", "1", "-1", "WITHSCORES"], ["ZINTERSTORE", "d", "2", "z", "nokey"],
        ["EXISTS", "d"], ["ZINTERSTORE", "d", "2", "z", "set", "AGGREGATE", "MAX", "WEIGHTS", "3", "5"],
        ["ZRANGE", "d", "0", "-1", "WITHSCORES"], ["ZDIFFSTORE", "d", "3", "z", "set", "nokey"],
        ["ZRANGE", "d", "0", "-1", "WITHSCORES"], ["ZDIFFSTORE", "d", "1", "nokey"], ["EXISTS", "d"],
        ["ZDIFFSTORE", "str", "2", "set", "z"], ["TYPE", "str"], ["ZRANGE", "str", "0", "-1", "WITHSCORES"],
        ["ZUNIONSTORE", "z", "2", "z", "inf"], ["ZRANGE", "z", "0", "-1", "WITHSCORES"], ["ZDIFF", "1", "nokey"],
        ["ZUNION", "1", "nokey", "WITHSCORES"], ["ZINTER", "1", "set"], ["ZINTER", "2", "set", "set", "WITHSCORES"],
        ["ZADD", "zero", "0", "a", "1", "b"], ["ZUNION", "1", "zero", "WEIGHTS", "-1", "WITHSCORES"],
        ["ZUNIONSTORE", "d", "1", "zero", "WEIGHTS", "-1"], ["ZRANGE", "d", "0", "-1", "WITHSCORES"],
        ["ZINTER", "1", "zero", "WEIGHTS", "-1", "WITHSCORES"], ["ZINTERCARD", "0", "z"],
        ["ZINTERCARD", "1", "z", "LIMIT", "-1"],
        ["ZINTERCARD", "1", "z", "LIMIT", "x"], ["ZINTERCARD", "2", "z"], ["ZINTERCARD", "1", "z", "foo"],
        ["ZINTERCARD", "1", "z", "LIMIT", "1"], ["ZINTERCARD", "1", "z", "LIMIT", "0"],
        ["ZINTERCARD", "2", "z", "set"],
        ["ZINTERCARD", "2", "z", "str"], ["ZINTERCARD", "2", "z", "nokey"],
        ["ZUNION", "3", "z", "set", "zero", "WITHSCORES"],
        ["DEBUG", "DIGEST"],
    ]

    /// A random mix of every sorted set command over a few small keys (members and scores from small pools, so
    /// that collisions, ties and removals happen often).
    static func random<G: RandomNumberGenerator>(count: Int, using generator: inout G) -> [[String]] {
        let keys = ["z1", "z2", "z3", "s1"]
        let members = (0..<12).map { "m\($0)" } + ["", "é", "a b"]
        let scores = ["0", "1", "-1", "2.5", "1e3", "-inf", "+inf", "0.1", "7", "-3.25", "100"]
        func pick<T>(_ choices: [T]) -> T { choices.randomElement(using: &generator)! }
        func bound() -> String { pick(["-inf", "+inf", "(1", "[1", "0", "(2.5", "7", "-1", "(0", "100", "1e3"]) }
        func lex() -> String { pick(["-", "+", "[m1", "(m1", "[m5", "(m9", "[", "(", "[é"]) }
        func index() -> String { String(Int.random(in: -8...8, using: &generator)) }
        var script: [[String]] = []
        for _ in 0..<count {
            let key = pick(keys)
            switch Int.random(in: 0..<30, using: &generator) {
            case 0..<6:
                var command = ["ZADD", key]
                command +=
                    [[], ["NX"], ["XX"], ["GT"], ["LT"], ["CH"], ["XX", "GT", "CH"], ["INCR"]][
                        Int.random(in: 0..<8, using: &generator)]
                let pairs = command.last == "INCR" ? 1 : Int.random(in: 1...4, using: &generator)
                for _ in 0..<pairs { command += [pick(scores), pick(members)] }
                script.append(command)
            case 6: script.append(["ZINCRBY", key, pick(scores), pick(members)])
            case 7: script.append(["ZREM", key, pick(members), pick(members)])
            case 8: script.append(["ZSCORE", key, pick(members)])
            case 9: script.append(["ZMSCORE", key, pick(members), pick(members)])
            case 10: script.append(["ZCARD", key])
            case 11: script.append(["ZCOUNT", key, bound(), bound()])
            case 12: script.append(["ZLEXCOUNT", key, lex(), lex()])
            case 13: script.append([pick(["ZRANK", "ZREVRANK"]), key, pick(members)])
            case 14:
                script.append(
                    ["ZRANGE", key, index(), index()] + pick([[], ["REV"], ["WITHSCORES"], ["REV", "WITHSCORES"]]))
            case 15:
                script.append(
                    ["ZRANGE", key, bound(), bound(), "BYSCORE"]
                        + pick([[], ["REV"], ["LIMIT", "1", "2"], ["WITHSCORES", "LIMIT", "0", "-1"]]))
            case 16:
                script.append(
                    [pick(["ZRANGEBYLEX", "ZREVRANGEBYLEX"]), key, lex(), lex()] + pick([[], ["LIMIT", "1", "3"]]))
            case 17: script.append([pick(["ZRANGEBYSCORE", "ZREVRANGEBYSCORE"]), key, bound(), bound(), "WITHSCORES"])
            case 18: script.append(["ZREVRANGE", key, index(), index(), "WITHSCORES"])
            case 19: script.append(["ZRANGESTORE", pick(keys), key, index(), index()] + pick([[], ["REV"]]))
            case 20: script.append(["ZREMRANGEBYRANK", key, index(), index()])
            case 21: script.append(["ZREMRANGEBYSCORE", key, bound(), bound()])
            case 22: script.append(["ZREMRANGEBYLEX", key, lex(), lex()])
            case 23: script.append([pick(["ZPOPMIN", "ZPOPMAX"]), key] + pick([[], ["2"], ["0"]]))
            case 24: script.append(["ZSCAN", key, "0"] + pick([[], ["MATCH", "m1*"], ["COUNT", "2"]]))
            case 25:
                script.append(["ZRANDMEMBER", key] + pick([[], ["100000"], ["100000", "WITHSCORES"], ["-2"], ["2"]]))
            case 26:
                let op = pick(["ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"])
                var command = [op, pick(keys), "2", key, pick(keys)]
                if op != "ZDIFFSTORE" {
                    command += pick([
                        [], ["WEIGHTS", "2", "-0.5"], ["AGGREGATE", "MIN"], ["AGGREGATE", "MAX", "WEIGHTS", "0", "3"],
                    ])
                }
                script.append(command)
            case 27:
                let op = pick(["ZUNION", "ZINTER", "ZDIFF"])
                var command = [op, "3", key, pick(keys), pick(keys)]
                if op != "ZDIFF" { command += pick([[], ["WEIGHTS", "1", "2", "3"], ["AGGREGATE", "MAX"]]) }
                script.append(command + ["WITHSCORES"])
            case 28: script.append(["SADD", "s1", pick(members), pick(members)])
            default: script.append(["ZINTERCARD", "2", key, pick(keys)])
            }
        }
        return script
    }
}
