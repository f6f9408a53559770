import Formats
import Foundation
import HashTreeCollections
import Keyspace
import Testing
import TestSupport

/// Reads every key of a dataset through commands, the same way on our keyspace and on a real server, so that
/// the two can be compared value by value.
enum DatasetDump {
    /// The commands that read a key of `type` completely, with set-like replies sorted.
    static func readCommands(key: String, type: String) -> [[String]] {
        switch type {
        case "string": [["GET", key]]
        case "list": [["LRANGE", key, "0", "-1"]]
        case "set": [["SMEMBERS", key]]
        case "zset": [["ZRANGE", key, "0", "-1", "WITHSCORES"]]
        case "hash": [["HGETALL", key]]
        case "stream": [["XRANGE", key, "-", "+"]]
        default: []
        }
    }

    /// Every key of database `db`, its type, TTL presence and content, as sorted text lines.
    static func lines(db: Int, run: ([String]) throws -> RESPReply) throws -> [String] {
        _ = try run(["SELECT", String(db)])
        guard case .array(let keys) = try run(["KEYS", "*"]) else { return ["KEYS failed"] }
        var lines: [String] = []
        for case .bulk(let keyBytes) in keys {
            let key = String(decoding: keyBytes, as: UTF8.self)
            let type = try run(["TYPE", key]).text ?? "?"
            var line = "\(db) \(key) \(type) ttl:\(try run(["PTTL", key]) == .integer(-1) ? "none" : "set")"
            for command in readCommands(key: key, type: type) {
                var reply = try run(command)
                if type == "set" || type == "hash" { reply = RedisOracle.sorted(reply) }
                line += " \(reply)"
            }
            lines.append(line)
        }
        return lines.sorted()
    }
}

@Suite("AOF replay")
struct AOFReplayTests {
    static let fixtures = Paths.root.appendingPathComponent("Fixtures/aof")

    @Test(
        "Replaying a real Redis 7.0 AOF gives the dataset Redis loads from it",
        arguments: ["redis-7.0-resp", "redis-7.0-resp-rewrite", "redis-7.0-preamble-rewrite", "redis-7.0-timestamps"])
    func replayMatchesRedis(fixture: String) throws {
        let directory = AOFReplayTests.fixtures.appendingPathComponent(fixture).appendingPathComponent("appendonlydir")
        let keyspace = Keyspace()
        let summary = try keyspace.replayAOF(path: directory.path)
        #expect(summary.commands > 0 || summary.preambleKeys > 0)
        #expect(summary.failedCommands == 0, "\(String(describing: summary.firstFailure))")

        guard let binary = RedisServer.redis70 else {
            if Paths.isCI { Issue.record("Redis 7.0 is required in CI") }
            return
        }
        let work = try RedisServer.temporaryDirectory("aof-replay")
        try FileManager.default.copyItem(at: directory, to: work.appendingPathComponent("appendonlydir"))
        // Parameterised cases run in parallel: one port each.
        let port = 7861 + ["redis-7.0-resp", "redis-7.0-resp-rewrite", "redis-7.0-preamble-rewrite", "redis-7.0-timestamps"].firstIndex(of: fixture)!
        let server = try RedisServer(
            binary: binary, port: port, directory: work,
            arguments: ["--appendonly", "yes", "--appenddirname", "appendonlydir"])
        defer { server.stop() }
        let client = try RESPClient(port: port)
        let session = Session()
        for db in 0..<16 {
            let theirs = try DatasetDump.lines(db: db) { try client.send($0) }
            let ours = try DatasetDump.lines(db: db) { keyspace.execute($0.map { Bytes($0) }, session: session).resp }
            #expect(ours == theirs, "db \(db)")
        }
    }

    @Test("A manifest path and the directory give the same files in load order")
    func manifestAndDirectory() throws {
        let directory = AOFReplayTests.fixtures.appendingPathComponent("redis-7.0-preamble-rewrite/appendonlydir")
        let fromDirectory = try Keyspace.aofFiles(at: directory.path)
        let fromManifest = try Keyspace.aofFiles(at: directory.appendingPathComponent("appendonly.aof.manifest").path)
        #expect(fromDirectory == fromManifest)
        #expect(fromDirectory.map { URL(fileURLWithPath: $0).lastPathComponent } == ["appendonly.aof.2.base.rdb", "appendonly.aof.2.incr.aof"])
    }

    @Test("A cut inside the last command is an error naming the offset, or the prefix with allowTruncatedTail")
    func truncatedTail() throws {
        let work = try RedisServer.temporaryDirectory("aof-cut")
        let file = work.appendingPathComponent("cut.aof")
        let whole = Array("*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$1".utf8)
        try Data(whole).write(to: file)
        #expect(throws: AOFReplayError.self) { try Keyspace().replayAOF(path: file.path) }
        do {
            _ = try Keyspace().replayAOF(path: file.path)
        } catch {
            #expect(error.underlying.code == .truncated)
        }
        let keyspace = Keyspace()
        let summary = try keyspace.replayAOF(path: file.path, allowTruncatedTail: true)
        #expect(summary.lastFileOffset == 27)  // the start of the MULTI: the dangling transaction is dropped
        #expect(keyspace.databases[0].count == 1)
        #expect(keyspace.databases[0].entries["a"] != nil)
    }

    @Test("A last file ending inside MULTI with every command whole: replayed up to the MULTI, which is where it ends")
    func danglingTransaction() throws {
        let work = try RedisServer.temporaryDirectory("aof-dangling-multi")
        let file = work.appendingPathComponent("dangling.aof")
        try Data("*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n".utf8).write(to: file)
        #expect(throws: AOFReplayError.self) { try Keyspace().replayAOF(path: file.path) }
        let keyspace = Keyspace()
        let summary = try keyspace.replayAOF(path: file.path, allowTruncatedTail: true)
        // Redis reverts the transaction and cuts the file at the MULTI: appends after it must not join it.
        #expect(summary.lastFileOffset == 27)
        #expect(keyspace.databases[0].count == 1)
        #expect(keyspace.databases[0].entries["b"] == nil)
    }

    @Test("A cut RDB preamble is an error even with allowTruncatedTail (Redis refuses it; cutting would lose the dataset)")
    func truncatedPreamble() throws {
        let base = AOFReplayTests.fixtures.appendingPathComponent("redis-7.0-preamble-rewrite/appendonlydir/appendonly.aof.2.base.rdb")
        let bytes = try Data(contentsOf: base)
        let file = try RedisServer.temporaryDirectory("aof-cut-preamble").appendingPathComponent("cut.aof")
        try bytes.prefix(bytes.count / 2).write(to: file)
        do {
            _ = try Keyspace().replayAOF(path: file.path, allowTruncatedTail: true)
            Issue.record("a cut preamble was accepted")
        } catch {
            #expect(error.underlying.code == .truncated)
        }
    }

    @Test("An unknown command stops the replay with its offset")
    func unknownCommand() throws {
        let work = try RedisServer.temporaryDirectory("aof-unknown")
        let file = work.appendingPathComponent("bad.aof")
        try Data("*1\r\n$5\r\nMULTI\r\n*1\r\n$4\r\nEXEC\r\n*2\r\n$7\r\nNOTACMD\r\n$1\r\nx\r\n".utf8).write(to: file)
        do {
            _ = try Keyspace().replayAOF(path: file.path)
            Issue.record("expected an error")
        } catch {
            #expect(error.underlying.offset == 29)
            #expect(error.underlying.detail.contains("NOTACMD"))
        }
    }
}
