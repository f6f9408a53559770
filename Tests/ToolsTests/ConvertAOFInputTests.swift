import Foundation
import Testing
import TestSupport

/// redis-convert with an AOF as input (issue #5): replayed through the command engine, then written as RDB.
@Suite("redis-convert: AOF input")
struct ConvertAOFInputTests {
    @Test(
        "An AOF converted to RDB holds what Redis 7.0 loads from the AOF (same DEBUG DIGEST)",
        arguments: ["redis-7.0-resp", "redis-7.0-resp-rewrite", "redis-7.0-preamble-rewrite", "redis-7.0-timestamps"])
    func aofToRDB(fixture: String) throws {
        let tool = try #require(Paths.builtProduct("redis-convert"))
        guard let binary = RedisServer.redis70 else {
            if Paths.isCI { Issue.record("Redis 7.0 is required in CI") }
            return
        }
        let index = ["redis-7.0-resp", "redis-7.0-resp-rewrite", "redis-7.0-preamble-rewrite", "redis-7.0-timestamps"].firstIndex(of: fixture)!
        let directory = Paths.root.appendingPathComponent("Fixtures/aof/\(fixture)/appendonlydir")
        let work = try RedisServer.temporaryDirectory("convert-aof")
        let converted = work.appendingPathComponent("dump.rdb")
        let result = try run(tool, [directory.path, "--to", "rdb", "-o", converted.path])
        #expect(result.status == 0, "stderr: \(result.standardError)")

        let fromAOF = try RedisServer.temporaryDirectory("convert-aof-theirs")
        try FileManager.default.copyItem(at: directory, to: fromAOF.appendingPathComponent("appendonlydir"))
        let theirs = try RedisServer(
            binary: binary, port: 7871 + 2 * index, directory: fromAOF,
            arguments: ["--appendonly", "yes", "--enable-debug-command", "yes"])
        defer { theirs.stop() }
        let ours = try RedisServer(binary: binary, port: 7872 + 2 * index, directory: work, arguments: ["--enable-debug-command", "yes"])
        defer { ours.stop() }
        let expected = try theirs.command(["DEBUG", "DIGEST"])
        #expect(try ours.command(["DEBUG", "DIGEST"]) == expected)
        #expect(try ours.command(["DBSIZE"]) == (try theirs.command(["DBSIZE"])))
    }
}
