import HashTreeCollections
import Keyspace
import Testing
import TestSupport

// MARK: - Semantics

@Suite("List commands")
struct ListCommandTests {
    private typealias Support = ListSetTestSupport

    private typealias Harness = ListSetHarness

    private static func numbers(_ range: Range<Int>) -> [Bytes] { range.map { Bytes(integer: Int64($0)) } }

    /// The chunk invariants: no chunk empty or above the capacity, none above the byte limit unless it holds one
    /// element, sizes adding up to the count.
    private static func expectWellFormed(_ list: ListValue?, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let list else { return }
        let sizes = list.chunkSizes
        #expect(sizes.allSatisfy { $0 >= 1 && $0 <= ListValue.chunkCapacity }, sourceLocation: sourceLocation)
        #expect(sizes.reduce(0, +) == list.count, sourceLocation: sourceLocation)
        let oversized = zip(sizes, list.chunkByteCounts).filter { $0.0 > 1 && $0.1 > ListValue.chunkByteLimit }
        #expect(oversized.isEmpty, "chunks over the byte limit: \(oversized)", sourceLocation: sourceLocation)
    }

    @Test("Large elements: chunks stay within the byte limit through pushes, LSET, LINSERT and LREM")
    func largeElements() {
        var generator = ListSetRandom(seed: 21)
        let run = Harness()
        var model: [Bytes] = []
        func element() -> Bytes {
            let size = [0, 1, 3, 100, 3000, 9000, 20000][Int.random(in: 0..<7, using: &generator)]
            return Bytes([UInt8](repeating: UInt8.random(in: 97...99, using: &generator), count: size))
        }
        for _ in 0..<600 {
            let value = element()
            switch Int.random(in: 0..<6, using: &generator) {
            case 0:
                run("LPUSH", "l", value)
                model.insert(value, at: 0)
            case 1, 2:
                run("RPUSH", "l", value)
                model.append(value)
            case 3 where !model.isEmpty:
                let index = Int.random(in: 0..<model.count, using: &generator)
                #expect(run("LSET", "l", Bytes(integer: Int64(index)), value) == .ok)
                model[index] = value
            case 4 where !model.isEmpty:
                let pivot = model[Int.random(in: 0..<model.count, using: &generator)]
                run("LINSERT", "l", "AFTER", pivot, value)
                model.insert(value, at: model.firstIndex(of: pivot)! + 1)
            default:
                let removed = run("LREM", "l", "2", value)
                var left = 2
                model.removeAll { candidate in
                    guard left > 0, candidate == value else { return false }
                    left -= 1
                    return true
                }
                #expect(removed == .integer(Int64(2 - left)))
            }
            Self.expectWellFormed(run.list("l"))
        }
        #expect(run.list("l").map { Array($0) } ?? [] == model)
        #expect(run("LRANGE", "l", "0", "-1") == .bulks(model))
    }

    @Test("Pushes return the length; pops follow Redis 7.0's null and null-array rules")
    func pushAndPop() {
        let run = Harness()
        #expect(run("LPUSH", "l", "a", "b", "c") == .integer(3))
        #expect(run("RPUSH", "l", "d") == .integer(4))
        #expect(run("LRANGE", "l", "0", "-1") == .bulks(["c", "b", "a", "d"] as [Bytes]))
        #expect(run("LPUSHX", "missing", "a") == .integer(0))
        #expect(run("RPUSHX", "l", "e") == .integer(5))
        #expect(run("LPOP", "l") == .bulk("c"))
        #expect(run("RPOP", "l", "2") == .bulks(["e", "d"] as [Bytes]))
        #expect(run("LPOP", "l", "0") == .emptyArray)
        #expect(run("LPOP", "l", "10") == .bulks(["b", "a"] as [Bytes]))
        #expect(run.keyspace.databases[0].entries["l"] == nil)
        #expect(run("LPOP", "l") == .null)
        #expect(run("RPOP", "l", "1") == .nullArray)
        #expect(run("LPOP", "l", "0") == .nullArray)
        #expect(run("LPOP", "l", "-1") == .error("ERR value is out of range, must be positive"))
        #expect(run("LPOP", "l", "1", "2") == .error("ERR wrong number of arguments for 'lpop' command"))
        #expect(run("LLEN", "l") == .integer(0))
    }

    @Test("LRANGE, LINDEX and LSET resolve negative and out-of-range indexes as Redis does, across chunks")
    func indexes() {
        let run = Harness()
        let model = Self.numbers(0..<1000)
        for batch in stride(from: 0, to: 1000, by: 100) {
            run.keyspace.execute(["RPUSH", "l"] + model[batch..<(batch + 100)], session: run.session)
        }
        func expected(_ start: Int64, _ stop: Int64) -> [Bytes] {
            let length = Int64(model.count)
            var start = start < 0 ? start + length : start
            var stop = stop < 0 ? stop + length : stop
            start = max(start, 0)
            stop = min(stop, length - 1)
            return start > stop ? [] : Array(model[Int(start)...Int(stop)])
        }
        let bounds: [Int64] = [0, 1, 127, 128, 129, 500, 998, 999, 1000, 5000, -1, -2, -128, -999, -1000, -1001, .min, .max]
        for start in bounds {
            for stop in bounds {
                let reply = run("LRANGE", "l", Bytes(integer: start), Bytes(integer: stop))
                #expect(reply == .bulks(expected(start, stop)), "LRANGE \(start) \(stop)")
            }
            let index = run("LINDEX", "l", Bytes(integer: start))
            let resolved = start < 0 ? start + 1000 : start
            let element: Reply = (0..<1000).contains(resolved) ? .bulk(model[Int(resolved)]) : .null
            #expect(index == element, "LINDEX \(start)")
        }
        #expect(run("LSET", "l", "-1", "last") == .ok)
        #expect(run("LSET", "l", "300", "middle") == .ok)
        #expect(run("LSET", "l", "1000", "x") == .error("ERR index out of range"))
        #expect(run("LSET", "l", "-1001", "x") == .error("ERR index out of range"))
        #expect(run("LINDEX", "l", "-1") == .bulk("last"))
        #expect(run("LINDEX", "l", "300") == .bulk("middle"))
        #expect(run("LSET", "missing", "0", "x") == .error("ERR no such key"))
        #expect(run("LSET", "l", "x", "x") == .error("ERR value is not an integer or out of range"))
        #expect(run("LINDEX", "missing", "not-a-number") == .null)
    }

    @Test("LREM from the head, the tail or everywhere matches a model and keeps chunks well formed")
    func removeByValue() {
        var generator = ListSetRandom(seed: 7)
        let run = Harness()
        var model: [Bytes] = (0..<3000).map { _ in ["a", "b", "c", "d"][Int.random(in: 0..<4, using: &generator)] }
        run.keyspace.execute(["RPUSH", "l"] + model, session: run.session)
        for step in 0..<60 {
            let element: Bytes = ["a", "b", "c", "d"][step % 4]
            let count = Int.random(in: -150...150, using: &generator)
            var removed = 0
            if count >= 0 {
                var index = 0
                while index < model.count {
                    if model[index] == element && (count == 0 || removed < count) {
                        model.remove(at: index)
                        removed += 1
                    } else {
                        index += 1
                    }
                }
            } else {
                var index = model.count - 1
                while index >= 0 {
                    if model[index] == element && removed < -count {
                        model.remove(at: index)
                        removed += 1
                    }
                    index -= 1
                }
            }
            #expect(run("LREM", "l", Bytes(integer: Int64(count)), element) == .integer(Int64(removed)))
            #expect(run.list("l").map { Array($0) } ?? [] == model)
            Self.expectWellFormed(run.list("l"))
        }
        #expect(run("LREM", "l", "0", "zzz") == .integer(0))
        #expect(run("LREM", "missing", "0", "a") == .integer(0))
        #expect(run("LREM", "l", "x", "a") == .error("ERR value is not an integer or out of range"))
        #expect(run("LREM", "l", "-9223372036854775808", "a") != .integer(0) || !model.contains("a"))
    }

    @Test("LINSERT splits full chunks and LTRIM keeps the selected range")
    func insertAndTrim() {
        let run = Harness()
        var model = Self.numbers(0..<300)
        run.keyspace.execute(["RPUSH", "l"] + model, session: run.session)
        for step in 0..<400 {
            let pivot = model[(step * 37) % model.count]
            let after = step % 2 == 0
            let element = Bytes("new\(step)")
            let index = model.firstIndex(of: pivot)!
            model.insert(element, at: after ? index + 1 : index)
            #expect(run("LINSERT", "l", after ? "AFTER" : "before", pivot, element) == .integer(Int64(model.count)))
        }
        #expect(run.list("l").map { Array($0) } ?? [] == model)
        Self.expectWellFormed(run.list("l"))
        #expect(run("LINSERT", "l", "before", "no-such-pivot", "x") == .integer(-1))
        #expect(run("LINSERT", "missing", "before", "a", "x") == .integer(0))
        #expect(run("LINSERT", "l", "around", "a", "x") == .error("ERR syntax error"))

        #expect(run("LTRIM", "l", "130", "-131") == .ok)
        model = Array(model[130...(model.count - 131)])
        #expect(run.list("l").map { Array($0) } ?? [] == model)
        Self.expectWellFormed(run.list("l"))
        #expect(run("LTRIM", "l", "-1", "0") == .ok)
        #expect(run.keyspace.databases[0].entries["l"] == nil)
        #expect(run("LTRIM", "missing", "0", "1") == .ok)
    }

    @Test("LPOS with RANK, COUNT and MAXLEN matches a model scan")
    func position() {
        let run = Harness()
        let model: [Bytes] = (0..<700).map { (index: Int) -> Bytes in
            index % 7 == 0 || index % 11 == 0 ? Bytes("x") : Bytes(integer: Int64(index))
        }
        run.keyspace.execute(["RPUSH", "l"] + model, session: run.session)
        func expected(rank: Int, count: Int?, maxLength: Int) -> Reply {
            let scanned = maxLength == 0 ? model.count : min(maxLength, model.count)
            let order = rank > 0 ? Array(0..<model.count) : Array((0..<model.count).reversed())
            let matches = order.prefix(scanned).filter { model[$0] == "x" }.dropFirst(abs(rank) - 1)
            guard let count else { return matches.first.map { .integer(Int64($0)) } ?? .null }
            return .array((count == 0 ? Array(matches) : Array(matches.prefix(count))).map { .integer(Int64($0)) })
        }
        for rank in [1, 2, 5, 60, 500, -1, -3, -100, -500] {
            for count in [nil, 0, 1, 3, 1000] as [Int?] {
                for maxLength in [0, 1, 50, 699, 5000] {
                    var argv: [Bytes] = ["LPOS", "l", "x", "RANK", Bytes(integer: Int64(rank)), "MAXLEN", Bytes(integer: Int64(maxLength))]
                    if let count { argv += ["COUNT", Bytes(integer: Int64(count))] }
                    #expect(run.keyspace.execute(argv, session: run.session) == expected(rank: rank, count: count, maxLength: maxLength),
                        "\(argv.map(\.string))")
                }
            }
        }
        #expect(run("LPOS", "missing", "x") == .null)
        #expect(run("LPOS", "missing", "x", "COUNT", "0") == .emptyArray)
        #expect(run("LPOS", "l", "x", "RANK", "0")
            == .error("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"))
        #expect(run("LPOS", "l", "x", "COUNT", "-1") == .error("ERR COUNT can't be negative"))
        #expect(run("LPOS", "l", "x", "MAXLEN", "no") == .error("ERR MAXLEN can't be negative"))
        #expect(run("LPOS", "l", "x", "RANK") == .error("ERR syntax error"))
    }

    @Test("RPOPLPUSH and LMOVE move between keys, rotate one key, and check both types first")
    func moves() {
        let run = Harness()
        run("RPUSH", "src", "a", "b", "c")
        #expect(run("RPOPLPUSH", "src", "dst") == .bulk("c"))
        #expect(run("LMOVE", "src", "dst", "LEFT", "RIGHT") == .bulk("a"))
        #expect(run("LRANGE", "dst", "0", "-1") == .bulks(["c", "a"] as [Bytes]))
        #expect(run("LMOVE", "dst", "dst", "left", "right") == .bulk("c"))
        #expect(run("LRANGE", "dst", "0", "-1") == .bulks(["a", "c"] as [Bytes]))
        #expect(run("LMOVE", "src", "dst", "right", "left") == .bulk("b"))
        #expect(run.keyspace.databases[0].entries["src"] == nil)
        #expect(run("RPOPLPUSH", "src", "dst") == .null)
        run.keyspace.set(db: 0, key: "string", value: .string("v"))
        #expect(run("RPOPLPUSH", "dst", "string") == .error(CommandError.wrongType.message))
        #expect(run("LRANGE", "dst", "0", "-1") == .bulks(["b", "a", "c"] as [Bytes]))
        #expect(run("RPOPLPUSH", "missing", "string") == .null)
        #expect(run("LMOVE", "dst", "x", "up", "left") == .error("ERR syntax error"))
        run("RPUSH", "one", "z")
        #expect(run("RPOPLPUSH", "one", "one") == .bulk("z"))
        #expect(run("LRANGE", "one", "0", "-1") == .bulks(["z"] as [Bytes]))
    }

    @Test("LMPOP pops from the first non-empty list and is propagated as LPOP/RPOP with the count popped")
    func multiPop() {
        let run = Harness()
        run.keyspace.propagationEnabled = true
        run("RPUSH", "b", "1", "2", "3")
        _ = run.keyspace.takePropagated()
        #expect(run("LMPOP", "2", "a", "b", "RIGHT", "COUNT", "5") == .array([.bulk("b"), .bulks(["3", "2", "1"] as [Bytes])]))
        #expect(run.keyspace.takePropagated() == [PropagatedCommand(db: 0, argv: ["RPOP", "b", "3"])])
        #expect(run("LMPOP", "2", "a", "b", "LEFT") == .nullArray)
        #expect(run.keyspace.takePropagated().isEmpty)
        #expect(run("LMPOP", "0", "a", "LEFT") == .error("ERR numkeys should be greater than 0"))
        #expect(run("LMPOP", "3", "a", "b", "LEFT") == .error("ERR syntax error"))
        #expect(run("LMPOP", "1", "a", "LEFT", "COUNT", "0") == .error("ERR count should be greater than 0"))
        #expect(run("LMPOP", "1", "a", "LEFT", "COUNT", "1", "COUNT", "1") == .error("ERR syntax error"))
    }

    @Test("Elements are binary safe")
    func binarySafe() {
        let run = Harness()
        let odd = Bytes([0x00, 0xff, 0x0d, 0x0a, 0x80])
        let other = Bytes([0x00, 0xff])
        run("RPUSH", "l", odd, other, odd)
        #expect(run("LPOS", "l", odd, "COUNT", "0") == .array([.integer(0), .integer(2)]))
        #expect(run("LINSERT", "l", "AFTER", other, odd) == .integer(4))
        #expect(run("LREM", "l", "0", odd) == .integer(3))
        #expect(run("LRANGE", "l", "0", "-1") == .bulks([other]))
        #expect(run("LPUSH", odd, "x") == .integer(1))
        #expect(run("LINDEX", odd, "0") == .bulk("x"))
    }

    @Test("Every list command answers WRONGTYPE on another type")
    func wrongType() {
        let run = Harness()
        run.keyspace.set(db: 0, key: "s", value: .string("v"))
        let commands: [[Bytes]] = [
            ["LPUSH", "s", "a"], ["RPUSH", "s", "a"], ["LPUSHX", "s", "a"], ["RPUSHX", "s", "a"], ["LPOP", "s"],
            ["RPOP", "s", "2"], ["LLEN", "s"], ["LRANGE", "s", "0", "1"], ["LINDEX", "s", "0"], ["LSET", "s", "0", "a"],
            ["LREM", "s", "0", "a"], ["LTRIM", "s", "0", "1"], ["LINSERT", "s", "BEFORE", "a", "b"], ["LPOS", "s", "a"],
            ["RPOPLPUSH", "s", "d"], ["LMOVE", "s", "d", "LEFT", "LEFT"], ["LMPOP", "1", "s", "LEFT"],
        ]
        for argv in commands {
            #expect(run.keyspace.execute(argv, session: run.session) == .error(CommandError.wrongType.message), "\(argv.map(\.string))")
        }
    }

    // MARK: - Snapshots and propagation

    @Test("A snapshot of a 1M-element list shares every chunk but the one an LPUSH or LSET touches")
    func snapshotSharesChunks() throws {
        let run = Harness()
        run.keyspace.set(db: 0, key: "big", value: .list(ListValue(Self.numbers(0..<1_000_000))))
        let snapshot = run.keyspace.snapshot()
        guard case .list(let frozen)? = snapshot[0].entries["big"] else { Issue.record("no list"); return }

        #expect(run("LPUSH", "big", "head") == .integer(1_000_001))
        let afterPush = try #require(run.list("big"))
        // The first chunk was full: a new chunk is prepended and every old one is still shared.
        #expect(afterPush.chunksShared(with: frozen) >= afterPush.chunkCount - 1)
        #expect(afterPush.chunksShared(with: frozen) == frozen.chunkCount)

        #expect(run("LSET", "big", "500000", "changed") == .ok)
        #expect(run("RPUSH", "big", "tail") == .integer(1_000_002))
        let afterWrites = try #require(run.list("big"))
        #expect(afterWrites.chunksShared(with: frozen) >= afterWrites.chunkCount - 3)

        #expect(frozen.count == 1_000_000)
        #expect(frozen.first == "0" && frozen.last == "999999" && frozen[500_000] == "500000")
        #expect(afterWrites[0] == "head" && afterWrites[500_000] == "changed")
    }

    @Test("Snapshot isolation: list commands after a snapshot leave it as it was")
    func snapshotIsolation() throws {
        let run = Harness()
        let original = Self.numbers(0..<2000)
        run.keyspace.execute(["RPUSH", "l"] + original, session: run.session)
        run("RPUSH", "other", "x")
        let snapshot = run.keyspace.snapshot()
        run("LSET", "l", "100", "changed")
        run("LREM", "l", "0", "7")
        run("LINSERT", "l", "AFTER", "1500", "inserted")
        run("LTRIM", "l", "10", "-10")
        run("LPUSH", "l", "a", "b")
        run("RPOP", "l", "5")
        run("LMOVE", "l", "other", "LEFT", "RIGHT")
        run("LMPOP", "1", "other", "LEFT", "COUNT", "100")
        guard case .list(let frozen)? = snapshot[0].entries["l"] else { Issue.record("no list"); return }
        #expect(Array(frozen) == original)
        guard case .list(let frozenOther)? = snapshot[0].entries["other"] else { Issue.record("no list"); return }
        #expect(Array(frozenOther) == ["x"])
        // 2000, -1 (LREM), +1 (LINSERT), 1981 kept by LTRIM, +2, -5, -1 moved.
        #expect(run.list("l")?.count == 1977)
    }

    @Test("Replaying what list commands propagate rebuilds the same dataset")
    func propagationReplay() {
        let run = Harness()
        run.keyspace.propagationEnabled = true
        var generator = ListSetRandom(seed: 11)
        for command in ListScripts.random(count: 1500, using: &generator) {
            run.keyspace.execute(command.map { Bytes($0) }, session: run.session)
        }
        run.session.db = 3
        run("RPUSH", "in3", "a", "b")
        run("LMPOP", "1", "in3", "RIGHT")
        let replayed = Support.replay(run.keyspace.takePropagated())
        Support.expectSameContent(replayed, run.keyspace)
    }
}

// MARK: - Against Redis 7.0

@Suite("List commands against Redis 7.0", .serialized)
struct ListDifferentialTests {
    static let oracle = RedisOracle.make(port: 7811)

    @Test("Replies, errors and arity match Redis 7.0 for every list command and option")
    func errorsAndEdges() throws {
        guard let oracle = Self.oracle else { return }
        try oracle.compare(ListScripts.edges)
    }

    @Test("A long random script of list commands gets the same replies as Redis 7.0")
    func randomScript() throws {
        guard let oracle = Self.oracle else { return }
        var generator = ListSetRandom(seed: 42)
        try oracle.compare(ListScripts.random(count: 3000, using: &generator))
    }

    @Test("Binary-safe elements and keys")
    func binarySafe() throws {
        guard let oracle = Self.oracle else { return }
        let odd = "a\0b\r\n\u{ff}é"
        try oracle.compare([
            ["RPUSH", odd, odd, "x", odd, ""], ["LPOS", odd, odd, "COUNT", "0"], ["LINSERT", odd, "BEFORE", "", odd],
            ["LRANGE", odd, "0", "-1"], ["LREM", odd, "-1", odd], ["LRANGE", odd, "0", "-1"], ["LMOVE", odd, "", "LEFT", "RIGHT"],
            ["LRANGE", "", "0", "-1"], ["LINDEX", odd, "-1"], ["LPOP", "", "5"],
        ])
    }
}
