import HashTreeCollections
import Keyspace
import TestSupport
import Testing

// MARK: - Semantics

@Suite("Hash commands")
struct HashCommandTests {
    typealias Harness = ListSetHarness

    static func fields(_ run: Harness, _ key: Bytes) -> [Bytes: Bytes]? {
        guard case .hash(let hash)? = run.keyspace.databases[run.session.db].entries[key] else { return nil }
        return Dictionary(uniqueKeysWithValues: hash.map { ($0.key, $0.value) })
    }

    @Test("HSET, HMSET, HSETNX and HDEL: replies, dirty counts, the last field deletes the key")
    func setAndDelete() {
        let run = Harness()
        #expect(run("HSET", "h", "a", "1", "b", "2", "a", "3") == .integer(2))
        #expect(run.keyspace.dirty == 3)  // every pair counts, as in Redis
        #expect(run("HSET", "h", "a", "1", "b") == .error("ERR wrong number of arguments for 'hset' command"))
        #expect(run("HMSET", "h", "a", "1", "c") == .error("ERR wrong number of arguments for 'hmset' command"))
        #expect(run("HMSET", "h", "a", "9") == .ok)
        #expect(run("HSETNX", "h", "a", "5") == .integer(0))
        let dirty = run.keyspace.dirty
        #expect(run("HSETNX", "h", "c", "5") == .integer(1))
        #expect(run.keyspace.dirty == dirty + 1)
        #expect(Self.fields(run, "h") == ["a": "9", "b": "2", "c": "5"])
        #expect(run("HDEL", "h", "a", "zz", "b") == .integer(2))
        #expect(run("HDEL", "h", "c") == .integer(1))
        #expect(run.keyspace.databases[0].entries["h"] == nil)
        #expect(run("HDEL", "h", "c") == .integer(0))
    }

    @Test("HINCRBY and HINCRBYFLOAT: parsing, overflow, formatting, and HSET propagation of the float result")
    func counters() {
        let run = Harness()
        run.keyspace.propagationEnabled = true
        #expect(run("HINCRBY", "h", "n", "5") == .integer(5))
        #expect(run("HINCRBY", "h", "n", "-7") == .integer(-2))
        #expect(run("HINCRBY", "h", "n", "x") == .error("ERR value is not an integer or out of range"))
        run("HSET", "h", "big", "9223372036854775807", "s", "abc", "sp", " 1")
        #expect(run("HINCRBY", "h", "big", "1") == .error("ERR increment or decrement would overflow"))
        #expect(run("HINCRBY", "h", "s", "1") == .error("ERR hash value is not an integer"))
        #expect(run("HINCRBYFLOAT", "h", "f", "0.1") == .bulk("0.1"))
        #expect(run("HINCRBYFLOAT", "h", "f", "0.2") == .bulk("0.3"))
        #expect(run("HINCRBYFLOAT", "h", "n", "1.5e3") == .bulk("1498"))
        #expect(run("HINCRBYFLOAT", "h", "f", "inf") == .error("ERR value is NaN or Infinity"))
        #expect(run("HINCRBYFLOAT", "h", "f", "nan") == .error("ERR value is not a valid float"))
        #expect(run("HINCRBYFLOAT", "h", "sp", "1") == .error("ERR hash value is not a float"))
        #expect(run("HINCRBYFLOAT", "h", "tiny", "1e-20") == .bulk("0"))
        let propagated = run.keyspace.takePropagated().map { $0.argv.map(\.string) }
        #expect(propagated.contains(["HSET", "h", "f", "0.3"]))
        #expect(propagated.contains(["HSET", "h", "n", "1498"]))
        #expect(!propagated.contains { $0[0] == "HINCRBYFLOAT" })
        #expect(propagated.contains(["HINCRBY", "h", "n", "-7"]))
    }

    @Test("HRANDFIELD: distinct fields for a positive count, exactly |count| for a negative one")
    func randomFields() throws {
        let run = Harness()
        run.execute(["HSET", "h"] + (0..<300).flatMap { [Bytes("f\($0)"), Bytes("v\($0)")] })
        for count in [1, 50, 150, 299] {
            let fields = try #require(SortedSetCommandTests.bulks(run("HRANDFIELD", "h", Bytes(integer: Int64(count)))))
            #expect(fields.count == count && Set(fields).count == count)
        }
        let repeated = try #require(SortedSetCommandTests.bulks(run("HRANDFIELD", "h", "-1000", "WITHVALUES")))
        #expect(repeated.count == 2000)
        for pair in stride(from: 0, to: repeated.count, by: 2) {
            #expect(Bytes(repeated[pair].dropFirst()) == Bytes(repeated[pair + 1].dropFirst()))
        }
        guard case .bulk(let one) = run("HRANDFIELD", "h") else {
            Issue.record("HRANDFIELD")
            return
        }
        #expect(one.first == UInt8(ascii: "f"))
    }

    @Test("A full HSCAN of a large hash returns every field once with its value")
    func scanIteration() throws {
        let run = Harness()
        run.execute(["HSET", "h"] + (0..<1000).flatMap { [Bytes("f\($0)"), Bytes("v\($0)")] })
        let seen = try SortedSetCommandTests.scanPairs({ run.execute($0.map { Bytes($0) }).resp }) {
            ["HSCAN", "h", $0, "COUNT", "41", "MATCH", "f*"]
        }
        #expect(seen.count == 1000)
        #expect(seen["f17"] == "v17")
    }

    @Test("Fields and values are binary safe and every command answers WRONGTYPE on another type")
    func binaryAndWrongType() {
        let run = Harness()
        let binary = Bytes([0, 255, 10, 13, 0])
        #expect(run("HSET", "h", binary, binary, "", "") == .integer(2))
        #expect(run("HGET", "h", binary) == .bulk(binary))
        #expect(run("HSTRLEN", "h", binary) == .integer(5))
        #expect(run("HEXISTS", "h", "") == .integer(1))
        run("SET", "s", "x")
        let wrongType = Reply.error(CommandError.wrongType.message)
        let commands: [[Bytes]] = [
            ["HSET", "s", "a", "b"], ["HMSET", "s", "a", "b"], ["HSETNX", "s", "a", "b"], ["HGET", "s", "a"],
            ["HMGET", "s", "a"], ["HGETALL", "s"], ["HKEYS", "s"], ["HVALS", "s"], ["HLEN", "s"],
            ["HEXISTS", "s", "a"],
            ["HSTRLEN", "s", "a"], ["HDEL", "s", "a"], ["HINCRBY", "s", "a", "1"], ["HINCRBYFLOAT", "s", "a", "1"],
            ["HRANDFIELD", "s"], ["HRANDFIELD", "s", "2"], ["HSCAN", "s", "0"],
        ]
        for command in commands { #expect(run.execute(command) == wrongType, "\(command.map(\.string))") }
    }

    // MARK: - Snapshots and propagation

    @Test("Snapshot isolation: hash commands after a snapshot leave it as it was")
    func snapshotIsolation() {
        let run = Harness()
        run.execute(["HSET", "h"] + (0..<2000).flatMap { [Bytes("f\($0)"), Bytes("v\($0)")] })
        let snapshot = run.keyspace.snapshot()
        let before = Keyspace.digest(of: snapshot)
        run("HSET", "h", "f1", "changed", "new", "x")
        run("HDEL", "h", "f2", "f3")
        run("HINCRBY", "h", "counter", "5")
        run("HINCRBYFLOAT", "h", "f4", "1")
        #expect(Keyspace.digest(of: snapshot) == before)
        guard case .hash(let old)? = snapshot[0].entries["h"] else {
            Issue.record("h")
            return
        }
        #expect(old.count == 2000 && old["f1"] == "v1" && old["f2"] == "v2" && old["new"] == nil)
        #expect(run.keyspace.digest() != before)
    }

    @Test("Replaying what hash commands propagate rebuilds the same dataset")
    func propagationReplay() {
        let run = Harness()
        run.keyspace.propagationEnabled = true
        var generator = ListSetRandom(seed: 33)
        for command in HashScripts.random(count: 1500, using: &generator) { run.execute(command.map { Bytes($0) }) }
        let propagated = run.keyspace.takePropagated()
        #expect(
            !propagated.contains {
                ["hget", "hgetall", "hrandfield", "hscan", "hincrbyfloat"].contains($0.argv[0].lowercasedASCII)
            })
        let replayed = ListSetTestSupport.replay(propagated)
        #expect(replayed.digest() == run.keyspace.digest())
    }
}

// MARK: - Against Redis 7.0

@Suite("Hash commands against Redis 7.0", .serialized)
struct HashDifferentialTests {
    static let oracle = RedisOracle.make(port: 7822)

    @Test("Replies, errors and arity match Redis 7.0 for every hash command and option")
    func errorsAndEdges() throws {
        guard let oracle = Self.oracle else { return }
        try oracle.compare(HashScripts.edges.map { ($0, HashScripts.comparison(for: $0)) })
    }

    @Test("A long random script of hash commands gets the same replies as Redis 7.0", arguments: [11, 12])
    func randomScript(seed: UInt64) throws {
        guard let oracle = Self.oracle else { return }
        var generator = ListSetRandom(seed: seed)
        let keyspace = Keyspace()
        let script = HashScripts.random(count: 2500, using: &generator)
        try oracle.compare(script.map { ($0, HashScripts.comparison(for: $0)) }, keyspace: keyspace)
        #expect(try oracle.client.send(["DEBUG", "DIGEST"]) == .status(keyspace.digest()))
    }

    @Test("A hash past the listpack limits: whole-hash replies and a full HSCAN match Redis 7.0")
    func largeHash() throws {
        guard let oracle = Self.oracle else { return }
        let keyspace = Keyspace()
        var script: [[String]] = [["HSET", "h"] + (0..<600).flatMap { ["f\($0)", "v\($0)"] }]
        script += [
            ["HSET", "long", "f", String(repeating: "x", count: 100)], ["HLEN", "h"], ["HGETALL", "h"],
            ["HKEYS", "h"], ["HVALS", "h"], ["HRANDFIELD", "h", "100000", "WITHVALUES"], ["HSCAN", "long", "0"],
            ["HMGET", "h", "f1", "nope", "f599"], ["DEBUG", "DIGEST"],
        ]
        try oracle.compare(script.map { ($0, HashScripts.comparison(for: $0)) }, keyspace: keyspace)
        let session = Session()
        let command = { (cursor: String) in ["HSCAN", "h", cursor, "MATCH", "f1*", "COUNT", "13"] }
        let ours = try SortedSetCommandTests.scanPairs(
            { keyspace.execute($0.map { Bytes($0) }, session: session).resp }, command)
        let theirs = try SortedSetCommandTests.scanPairs({ try oracle.client.send($0) }, command)
        #expect(ours == theirs)
        #expect(ours.count == 111)
    }
}

/// Command scripts shared by the unit and differential hash tests.
enum HashScripts {
    /// Whole-hash replies come back in a different order (Redis keeps small hashes in insertion order): compare
    /// them as multisets. Random picks by shape.
    static func comparison(for command: [String]) -> Comparison {
        switch command[0].lowercased() {
        case "hgetall", "hkeys", "hvals", "hscan": return .unordered
        case "hrandfield":
            guard command.count >= 3, let count = Int(command[2]) else { return .shape }
            return count >= 100_000 ? .unordered : .shape
        default: return .exact
        }
    }

    static let edges: [[String]] = [
        ["HSET", "h", "a", "1", "b"], ["HSET", "h", "a"], ["HSET", "h"], ["HMSET", "h", "a", "1", "b"],
        ["HSET", "h", "a", "1", "b", "2", "a", "3"], ["HGET", "h", "a"], ["HMSET", "h", "a", "1"],
        ["HSETNX", "h", "a", "5"],
        ["HSETNX", "h", "c", "5"], ["HSETNX", "h", "c"], ["HINCRBY", "h", "a", "x"], ["HINCRBY", "h", "nope", "5"],
        ["HSET", "h", "s", "abc"], ["HINCRBY", "h", "s", "1"], ["HSET", "h", "big", "9223372036854775807"],
        ["HINCRBY", "h", "big", "1"], ["HINCRBY", "h", "big", "-1"], ["HINCRBY", "h", "a", "9223372036854775808"],
        ["HINCRBY", "h", "new6", "-0"], ["HINCRBY", "h", "new6", "+1"], ["HINCRBY", "h", "new6", " 1"],
        ["HSET", "h", "neg", "-9223372036854775808"], ["HINCRBY", "h", "neg", "-1"], ["HINCRBY", "h", "neg", "0"],
        ["HSET", "h", "lead", "007"], ["HINCRBY", "h", "lead", "1"], ["HINCRBYFLOAT", "h", "lead", "1"],
        ["HINCRBYFLOAT", "h", "a", "1.5"], ["HINCRBYFLOAT", "h", "a", "x"], ["HINCRBYFLOAT", "h", "s", "1"],
        ["HINCRBYFLOAT", "h", "a", "inf"], ["HINCRBYFLOAT", "h", "a", "-inf"], ["HINCRBYFLOAT", "h", "a", "nan"],
        ["HSET", "h", "f", "1e400"], ["HINCRBYFLOAT", "h", "f", "1"], ["HSET", "h", "f", "1.5e3"],
        ["HINCRBYFLOAT", "h", "f", "1"],
        ["HSET", "h", "f", " 1"], ["HINCRBYFLOAT", "h", "f", "1"], ["HSET", "h", "f", "inf"],
        ["HINCRBYFLOAT", "h", "f", "1"],
        ["HINCRBYFLOAT", "h", "new", "0.1"], ["HINCRBYFLOAT", "h", "new", "0.2"],
        ["HINCRBYFLOAT", "h", "new2", "3.0e2"],
        ["HINCRBYFLOAT", "h", "new3", "-0"], ["HINCRBYFLOAT", "h", "new4", "1e-20"],
        ["HINCRBYFLOAT", "h", "new5", "12345678901234567890"],
        ["HINCRBYFLOAT", "h", "new5", "-12345678901234567890.5"], ["HINCRBYFLOAT", "h", "new7", " 1"],
        ["HINCRBYFLOAT", "h", "new7", ""],
        ["HINCRBYFLOAT", "h", "hexa", "0x10"], ["HSTRLEN", "h", "a"], ["HSTRLEN", "h", "zz"],
        ["HSTRLEN", "nokey", "a"],
        ["HLEN", "h"], ["HLEN", "nokey"], ["HEXISTS", "h", "a"], ["HEXISTS", "h", "zz"],
        ["HMGET", "h", "a", "zz", "b"],
        ["HMGET", "nokey", "a", "b"], ["HMGET", "h"], ["HGETALL", "h"], ["HKEYS", "h"], ["HVALS", "h"],
        ["HDEL", "h", "a", "zz", "b"], ["HDEL", "nokey", "a"], ["HDEL", "h"], ["HGET", "nokey", "a"],
        ["HGETALL", "nokey"],
        ["HKEYS", "nokey"], ["HVALS", "nokey"], ["HGET", "h"], ["HGETALL", "h", "x"],
        // Other types
        ["SET", "str", "x"], ["HGET", "str", "a"], ["HSET", "str", "a", "b"], ["HSET", "str", "a"],
        ["HINCRBY", "str", "a", "x"],
        ["HINCRBY", "str", "a", "1"], ["HINCRBYFLOAT", "str", "a", "x"], ["HINCRBYFLOAT", "str", "a", "inf"],
        ["HMGET", "str", "a"], ["HGETALL", "str"], ["HSTRLEN", "str", "a"], ["HRANDFIELD", "str"],
        ["HRANDFIELD", "str", "a"], ["HRANDFIELD", "str", "1", "foo"], ["HSCAN", "str", "0"], ["HSCAN", "str", "x"],
        ["HSCAN", "str", "0", "COUNT", "0"], ["HSETNX", "str", "a", "b"], ["HLEN", "str"], ["HEXISTS", "str", "a"],
        // HRANDFIELD
        ["HSET", "r", "a", "1", "b", "2", "c", "3"], ["HRANDFIELD", "r", "-9223372036854775808"],
        ["HRANDFIELD", "r", "9223372036854775807", "WITHVALUES"],
        ["HRANDFIELD", "r", "-4611686018427387904", "WITHVALUES"],
        ["HRANDFIELD", "r", "2", "WITHVALUES", "x"], ["HRANDFIELD", "r", "2", "WITHVALUE"], ["HRANDFIELD", "r", "a"],
        ["HRANDFIELD", "nokey", "2"], ["HRANDFIELD", "nokey"], ["HRANDFIELD", "nokey", "2", "WITHVALUES"],
        ["HRANDFIELD", "r", "0"], ["HRANDFIELD", "r", "0", "WITHVALUES"], ["HRANDFIELD", "r", "100000"],
        ["HRANDFIELD", "r", "100000", "WITHVALUES"], ["HRANDFIELD", "r"], ["HRANDFIELD", "r", "2"],
        ["HRANDFIELD", "r", "-5", "WITHVALUES"],
        // HSCAN
        ["HSCAN", "r", "0"], ["HSCAN", "r", "0", "COUNT", "1"], ["HSCAN", "r", "0", "COUNT", "0"], ["HSCAN", "r", "x"],
        ["HSCAN", "r", "0", "MATCH", "a"], ["HSCAN", "r", "0", "NOVALUES"], ["HSCAN", "r", "0", "MATCH"],
        ["HSCAN", "nokey", "0"],
        ["HSCAN", "nokey", "0", "COUNT", "0"], ["HSCAN", "r", "-1"], ["HSCAN", "r"], ["HSCAN", "r", ""],
        ["HSCAN", "r", "18446744073709551616"], ["HSCAN", "r", "0", "COUNT", "-1"], ["HSCAN", "r", "0", "COUNT", "x"],
        // Binary and unicode
        ["HSET", "bin", "a\u{0}b", "v\u{0}", "é", "ü", "", ""], ["HGET", "bin", "a\u{0}b"], ["HSTRLEN", "bin", "é"],
        ["HGETALL", "bin"], ["HEXISTS", "bin", ""], ["DEBUG", "DIGEST"],
    ]

    static func random<G: RandomNumberGenerator>(count: Int, using generator: inout G) -> [[String]] {
        let keys = ["h1", "h2", "h3"]
        let fields = (0..<10).map { "f\($0)" } + ["", "é"]
        let values = ["1", "-5", "abc", "2.5", "", "9223372036854775800", "1e3", "é", "0"]
        func pick<T>(_ choices: [T]) -> T { choices.randomElement(using: &generator)! }
        var script: [[String]] = []
        for _ in 0..<count {
            let key = pick(keys)
            switch Int.random(in: 0..<17, using: &generator) {
            case 0..<4:
                var command = [pick(["HSET", "HMSET"]), key]
                for _ in 0..<Int.random(in: 1...3, using: &generator) { command += [pick(fields), pick(values)] }
                script.append(command)
            case 4: script.append(["HSETNX", key, pick(fields), pick(values)])
            case 5: script.append(["HGET", key, pick(fields)])
            case 6: script.append(["HMGET", key, pick(fields), pick(fields)])
            case 7: script.append(["HDEL", key, pick(fields), pick(fields)])
            case 8: script.append([pick(["HLEN", "HGETALL", "HKEYS", "HVALS"]), key])
            case 9: script.append([pick(["HEXISTS", "HSTRLEN"]), key, pick(fields)])
            case 10: script.append(["HINCRBY", key, pick(fields), pick(["1", "-3", "100", "x"])])
            case 11: script.append(["HINCRBYFLOAT", key, pick(fields), pick(["0.1", "-2.5", "1e2", "3"])])
            case 12:
                script.append(
                    ["HRANDFIELD", key]
                        + pick([[], ["100000"], ["100000", "WITHVALUES"], ["2"], ["-3", "WITHVALUES"]]))
            case 13: script.append(["HSCAN", key, "0"] + pick([[], ["MATCH", "f1*"], ["COUNT", "3"]]))
            default: script.append(["HSET", key, pick(fields), pick(values)])
            }
        }
        return script
    }
}
