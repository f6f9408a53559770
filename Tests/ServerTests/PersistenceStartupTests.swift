import Foundation
import Testing
import TestSupport

/// What a restart after a crash finds in the data directory besides the data: temporary files of saves and
/// rewrites that were killed mid-way.
@Suite("Persistence: start-up after a crash", .serialized)
struct PersistenceStartupTests {
    /// A process id that no longer runs: that of a child that has exited and been reaped.
    static func deadProcessIdentifier() throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }

    @Test("A first start with appendonly yes makes the files Redis 7.0 makes (base 1, incr 1), which it loads")
    func newAppendOnlyDirectoryIsNamedAsRedisNamesIt() throws {
        guard let (_, redis) = Persist.tools() else { return }
        var listings: [[String]] = []
        var ourDirectory: URL? = nil
        for binary in [nil, redis] {
            let directory = try RedisServer.temporaryDirectory("fresh-aof")
            let server = try PersistedServer(
                port: 7931, directory: directory, arguments: ["--appendonly", "yes"], binary: binary)
            #expect(try server.client().send(["SET", "k", "v"]) == .status("OK"))
            #expect(try Persist.waitForJobs(try server.client()))
            server.stop()
            listings.append(
                try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("appendonlydir").path).sorted())
            if binary == nil { ourDirectory = directory }
        }
        #expect(listings[0] == ["appendonly.aof.1.base.rdb", "appendonly.aof.1.incr.aof", "appendonly.aof.manifest"])
        #expect(listings[0] == listings[1])
        let copy = try Persist.copies([], prefix: "fresh-aof-copy")
        try FileManager.default.copyItem(
            at: try #require(ourDirectory).appendingPathComponent("appendonlydir"), to: copy.appendingPathComponent("appendonlydir"))
        let loaded = try RedisServer(binary: redis, port: 7932, directory: copy, arguments: ["--appendonly", "yes"])
        defer { loaded.stop() }
        #expect(try loaded.command(["GET", "k"]).trimmingCharacters(in: .whitespacesAndNewlines) == "v")
    }

    @Test("Temporary files of killed saves and rewrites are removed at start-up; others' files are kept")
    func abandonedTemporaryFilesAreRemoved() throws {
        guard Persist.tools(needRedis: false) != nil else { return }
        let directory = try RedisServer.temporaryDirectory("startup-cleanup")
        defer { try? FileManager.default.removeItem(at: directory) }
        let arguments = ["--appendonly", "yes"]
        let first = try PersistedServer(port: 7930, directory: directory, arguments: arguments)
        #expect(try first.client().send(["SET", "k", "v"]) == .status("OK"))
        first.stop()

        let dead = try Self.deadProcessIdentifier()
        let live = ProcessInfo.processInfo.processIdentifier
        let abandoned = [
            ".dump.rdb.tmp-\(dead)-1a2b3c",
            "appendonlydir/.appendonly.aof.2.base.rdb.tmp-\(dead)-ff",
            "appendonlydir/.appendonly.aof.manifest.tmp-\(dead)-0",
        ]
        let kept = [
            ".dump.rdb.tmp-\(live)-aa",  // a writer that still runs
            ".other.rdb.tmp-\(dead)-aa",  // another server's dbfilename in the same dir
            ".dump.rdb.tmp-\(dead)-notahex",  // not a name our writers make
            "notes.txt",
        ]
        for name in abandoned + kept {
            try Data("partial".utf8).write(to: directory.appendingPathComponent(name))
        }

        let restarted = try PersistedServer(port: 7930, directory: directory, arguments: arguments)
        defer { restarted.stop() }
        #expect(try restarted.client().send(["GET", "k"]) == .bulk(Array("v".utf8)))
        for name in abandoned {
            #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path), "\(name) left")
            #expect(restarted.log.contains("Removed the temporary file"), "\(restarted.log.suffix(1500))")
            #expect(restarted.log.contains((name as NSString).lastPathComponent))
        }
        for name in kept {
            #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path), "\(name) removed")
        }
    }
}
