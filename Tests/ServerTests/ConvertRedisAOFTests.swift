import Foundation
import Testing
import TestSupport

/// Issue #5 point 6: an AOF written by a real Redis 7.0 under a mixed write load (every type, relative expiries,
/// non-deterministic commands, MULTI/EXEC, several databases, two clients at once, a rewrite in the middle so
/// that the directory holds a preamble base and an incr file), converted to RDB by `redis-convert` (replayed
/// through our command engine), loads into Redis 7.0 with the DEBUG DIGEST of the server that wrote the AOF.
@Suite("redis-convert: AOF written by Redis 7.0 under load", .serialized)
struct ConvertRedisAOFTests {
    /// A seeded random mix of writes on a small key space, so that commands meet existing keys of every type
    /// (and the WRONGTYPE errors Redis does not log).
    static func randomWrites(count: Int, seed: UInt64, prefix: String) -> [[String]] {
        var generator = SplitMix64(seed: seed)
        func pick(_ n: Int) -> Int { Int(generator.next() % UInt64(n)) }
        func key(_ kind: String) -> String { "\(prefix):\(kind):\(pick(12))" }
        var commands: [[String]] = []
        while commands.count < count {
            let value = "v\(pick(1000))"
            switch pick(24) {
            case 0: commands.append(["SET", key("s"), value])
            case 1: commands.append(["APPEND", key("s"), value])
            case 2: commands.append(["INCRBYFLOAT", key("n"), "\(pick(100)).25"])
            case 3: commands.append(["INCR", key("n")])
            case 4: commands.append(["SET", key("s"), value, "EX", "\(100 + pick(1000))"])
            case 5: commands.append(["RPUSH", key("l"), value, "v\(pick(1000))"])
            case 6: commands.append(["LPOP", key("l")])
            case 7: commands.append(["LMOVE", key("l"), key("l"), "LEFT", "RIGHT"])
            case 8: commands.append(["SADD", key("t"), value, "\(pick(50))"])
            case 9: commands.append(["SPOP", key("t")])
            case 10: commands.append(["SRANDMEMBER", key("t")])
            case 11: commands.append(["ZADD", key("z"), "\(pick(100))", value])
            case 12: commands.append(["ZINCRBY", key("z"), "1.5", value])
            case 13: commands.append(["ZPOPMIN", key("z")])
            case 14: commands.append(["HSET", key("h"), "f\(pick(20))", value])
            case 15: commands.append(["HINCRBYFLOAT", key("h"), "g\(pick(5))", "0.5"])
            case 16: commands.append(["HDEL", key("h"), "f\(pick(20))"])
            case 17: commands.append(["XADD", key("x"), "MAXLEN", "~", "50", "*", "f", value])
            case 18: commands.append(["EXPIRE", key(["s", "l", "t", "z", "h"][pick(5)]), "\(500 + pick(500))"])
            case 19: commands.append(["PERSIST", key("s")])
            case 20: commands.append(["DEL", key(["s", "l", "t", "z", "h", "n"][pick(6)])])
            case 21: commands.append(["RENAME", key("s"), key("s")])
            case 22: commands.append(["GETEX", key("s"), "PX", "\(100_000 + pick(100_000))"])
            default:
                commands.append(["MULTI"])
                commands.append(["INCR", key("n")])
                commands.append(["RPUSH", key("l"), value])
                commands.append(["SPOP", key("t")])
                commands.append(["EXEC"])
            }
        }
        return commands
    }

    /// Without a rewrite every write is a command in the incr file; with one (half-way, preamble on), the base
    /// holds the dataset of that moment and the incr the writes after it.
    @Test("An appendonlydir Redis 7.0 wrote under a mixed load converts to an RDB with the same DEBUG DIGEST",
          arguments: [false, true])
    func liveAOFConvertsToTheSameDataset(rewrite: Bool) throws {
        guard let (_, redis) = Persist.tools() else { return }
        let tool = try #require(Paths.builtProduct("redis-convert"))
        let directory = try RedisServer.temporaryDirectory("redis-aof-under-load")
        let writer = try RedisServer(
            binary: redis, port: rewrite ? 7937 : 7935, directory: directory,
            arguments: ["--appendonly", "yes", "--aof-use-rdb-preamble", "yes", "--enable-debug-command", "yes"])
        defer { writer.stop() }
        let client = try RESPClient(port: rewrite ? 7937 : 7935)
        let supported = try Persist.supported(client)
        try Dataset.populate(client, keys: 5_000, large: 2_000, label: "aof-under-load", supported: supported)

        // Two clients write at once (the second in database 3); the rewrite starts in the middle.
        let other = Handoff(try RESPClient(port: rewrite ? 7937 : 7935))
        let group = DispatchGroup()
        spawn(group) {
            _ = try? other.value.send(["SELECT", "3"])
            for batch in 0..<20 {
                _ = try? other.value.pipeline(Self.randomWrites(count: 150, seed: 100 + UInt64(batch), prefix: "c2"))
            }
        }
        _ = try Dataset.mutations(supported: supported, large: 2_000).run(on: client, label: "aof-under-load")
        _ = try client.pipeline(Self.randomWrites(count: 1_500, seed: 7, prefix: "c1"))
        if rewrite {
            #expect(try client.send(["BGREWRITEAOF"]).text?.contains("rewriting started") == true)
        }
        for batch in 0..<10 {
            _ = try client.pipeline(Self.randomWrites(count: 300, seed: 20 + UInt64(batch), prefix: "c1"))
        }
        #expect(try Persist.waitForJobs(client))
        group.wait()
        _ = try client.pipeline(Self.randomWrites(count: 500, seed: 99, prefix: "c1"))

        let digest = try Persist.digest(client)
        let keys = try client.send(["DBSIZE"])
        writer.stop()  // SHUTDOWN flushes and fsyncs the AOF
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("appendonlydir").path)
        #expect(files.contains { $0.hasSuffix(".base.rdb") } && files.contains { $0.hasSuffix(".incr.aof") }, "\(files)")
        let incr = try #require(files.first { $0.hasSuffix(".incr.aof") })
        let incrBytes = try FileManager.default.attributesOfItem(
            atPath: directory.appendingPathComponent("appendonlydir/\(incr)").path)[.size] as? Int ?? 0

        let output = try RedisServer.temporaryDirectory("redis-aof-converted")
        let converted = try run(tool, [directory.appendingPathComponent("appendonlydir").path, "--to", "rdb", "-o", output.appendingPathComponent("dump.rdb").path])
        #expect(converted.status == 0, "\(converted.standardError)")
        let loaded = try RedisServer(binary: redis, port: rewrite ? 7938 : 7936, directory: output, arguments: ["--enable-debug-command", "yes"])
        defer { loaded.stop() }
        let reader = try RESPClient(port: rewrite ? 7938 : 7936)
        #expect(try Persist.digest(reader) == digest)
        #expect(try reader.send(["DBSIZE"]) == keys)
        print("aof under load (rewrite: \(rewrite)): \(keys) keys, digest \(digest), files \(files.sorted()), incr \(incrBytes) bytes")
    }
}
