import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

// MARK: - Our server as a process the persistence tests can kill -9 and restart
//
// Ports 7911-7939 belong to the persistence suites (PersistenceTests*.swift).

/// The built redis-server started on a directory, with optional extra environment (fault injection). Unlike
/// ``RedisServer`` it can be killed with SIGKILL and its log lives outside `directory`, so a fault injected on
/// the data directory never hits the log.
final class PersistedServer {
    let port: Int
    let directory: URL
    let logPath: String
    let arguments: [String]
    private let process: Process

    static var binary: String? { Paths.builtProduct("redis-server") }

    /// Starts our server, or with `binary` another one (Redis 7.0, to compare under the same faults).
    init(port: Int, directory: URL, arguments: [String] = [], environment: [String: String]? = nil, binary: String? = nil) throws {
        guard let binary = binary ?? Self.binary else { throw RedisServer.ServerError(description: "redis-server is not built") }
        self.port = port
        self.directory = directory
        self.arguments = arguments
        let logs = FileManager.default.temporaryDirectory.appendingPathComponent("persistence-logs")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        logPath = logs.appendingPathComponent("\(port)-\(UUID().uuidString).log").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "--port", String(port), "--bind", "127.0.0.1", "--dir", directory.path, "--save", "", "--appendonly", "no",
            "--daemonize", "no", "--logfile", logPath,
        ] + arguments
        if let environment { process.environment = environment }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        // Loading a big AOF or dump takes a moment: wait for PONG.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if !process.isRunning { break }
            if let client = try? RESPClient(port: port, timeout: 0.2), (try? client.send(["PING"])) == .status("PONG") { return }
            usleep(50_000)
        }
        let log = self.log
        kill9()
        throw RedisServer.ServerError(description: "our redis-server did not start on port \(port):\n\(log.suffix(3000))")
    }

    var processIdentifier: Int32 { process.processIdentifier }

    /// Whether the process is still running (it has not exited, crashed or been killed).
    var isRunning: Bool { process.isRunning }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func client() throws -> RESPClient { try RESPClient(port: port) }

    /// SIGKILL, then reaps the process.
    func kill9() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// Waits up to `timeout` seconds for the process to end by itself; its exit status, or nil if it still runs.
    func waitForExit(timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        guard !process.isRunning else { return nil }
        process.waitUntilExit()
        return process.terminationStatus
    }

    func stop() {
        guard process.isRunning else { return }
        if let client = try? RESPClient(port: port, timeout: 1) { _ = try? client.send(["SHUTDOWN", "NOSAVE"]) }
        for _ in 0..<250 where process.isRunning { usleep(20_000) }
        kill9()
    }

    deinit { stop() }
}

// MARK: - Helpers

enum Persist {
    /// Skips (or, in CI, fails) when the built server or Redis 7.0 is missing.
    static func tools(needRedis: Bool = true) -> (ours: String, redis: String)? {
        guard let ours = PersistedServer.binary, let redis = RedisServer.redis70 ?? (needRedis ? nil : "") else {
            if Paths.isCI { Issue.record("needs the built redis-server and /usr/bin/redis-server") }
            print("skipping: needs the built redis-server and /usr/bin/redis-server")
            return nil
        }
        return (ours, redis)
    }

    /// The fields of an INFO section.
    static func info(_ client: RESPClient, _ section: String = "persistence") throws -> [String: String] {
        let text = try client.send(["INFO", section]).text ?? ""
        var fields: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        return fields
    }

    /// Polls `condition` every 20 ms for up to `timeout` seconds.
    static func waitUntil(_ timeout: Double = 120, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return true }
            usleep(20_000)
        }
        return try condition()
    }

    /// Waits for the background save or rewrite to finish.
    static func waitForJobs(_ client: RESPClient) throws -> Bool {
        try waitUntil {
            let fields = try info(client)
            return fields["rdb_bgsave_in_progress"] == "0" && fields["aof_rewrite_in_progress"] == "0"
                && fields["aof_rewrite_scheduled"] == "0"
        }
    }

    static func digest(_ client: RESPClient) throws -> String { try client.send(["DEBUG", "DIGEST"]).text ?? "?" }

    /// DEBUG DIGEST of what a real Redis loads from `directory` (a copy of it; nothing is written there).
    static func redisDigest(binary: String, port: Int, directory: URL, arguments: [String] = [], debugFlag: Bool = true) throws -> String {
        let server = try RedisServer(
            binary: binary, port: port, directory: directory, arguments: (debugFlag ? ["--enable-debug-command", "yes"] : []) + arguments)
        defer { server.stop() }
        return try server.command(["DEBUG", "DIGEST"]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A fresh directory holding copies of `files` (source path → name in the new directory).
    static func copies(_ files: [(String, String)], prefix: String) throws -> URL {
        let directory = try RedisServer.temporaryDirectory(prefix)
        for (source, name) in files {
            try FileManager.default.copyItem(atPath: source, toPath: directory.appendingPathComponent(name).path)
        }
        return directory
    }

    /// A fresh directory holding copies of everything in `directory` (what a kill left, for the real Redis).
    static func copy(of directory: URL, prefix: String) throws -> URL {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        return try copies(names.map { (directory.appendingPathComponent($0).path, $0) }, prefix: prefix)
    }

    /// The base file named in an AOF manifest.
    static func baseFile(in aofDirectory: URL) throws -> URL? {
        let manifest = try String(contentsOf: aofDirectory.appendingPathComponent("appendonly.aof.manifest"), encoding: .utf8)
        for line in manifest.split(whereSeparator: \.isNewline) {
            let words = line.split(separator: " ").map(String.init)
            guard let file = words.firstIndex(of: "file"), let type = words.firstIndex(of: "type"),
                file + 1 < words.count, type + 1 < words.count, words[type + 1] == "b"
            else { continue }
            return aofDirectory.appendingPathComponent(words[file + 1])
        }
        return nil
    }

    /// The command names our server knows (started empty for the question).
    static func ourCommands(port: Int) throws -> Set<String> {
        let server = try PersistedServer(port: port, directory: try RedisServer.temporaryDirectory("probe"))
        defer { server.stop() }
        return try supported(try server.client())
    }

    /// The command names the server knows.
    static func supported(_ client: RESPClient) throws -> Set<String> {
        guard case .array(let names) = try client.send(["COMMAND", "LIST"]) else { return [] }
        return Set(names.compactMap(\.text).map { $0.lowercased() })
    }
}

/// Commands for a pipeline, restricted to what the engine has; the rest are named once (never left out silently).
struct CommandScript {
    let supported: Set<String>
    private(set) var commands: [[String]] = []
    private(set) var leftOut: Set<String> = []

    init(supported: Set<String>) { self.supported = supported }

    mutating func add(_ command: String...) { add(command) }

    mutating func add(_ command: [String]) {
        if supported.contains(command[0].lowercased()) {
            commands.append(command)
        } else {
            leftOut.insert(command[0].uppercased())
        }
    }

    /// Sends the commands in pipelines of `batch`; returns every reply.
    @discardableResult
    func run(on client: RESPClient, batch: Int = 200, label: String) throws -> [RESPReply] {
        if !leftOut.isEmpty { print("persistence \(label): not yet in the engine, left out: \(leftOut.sorted().joined(separator: " "))") }
        var replies: [RESPReply] = []
        var start = 0
        while start < commands.count {
            let end = min(start + batch, commands.count)
            replies += try client.pipeline(Array(commands[start..<end]))
            start = end
        }
        return replies
    }
}

// MARK: - The dataset and the mutations

enum Dataset {
    /// A deterministic value of `bytes` bytes that LZF cannot shrink much.
    static func noise(_ bytes: Int, seed: UInt64) -> String {
        var generator = SplitMix64(seed: seed)
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        return String((0..<bytes).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
    }

    /// `keys` string keys (some with TTLs, some integers), big and small lists, sets, hashes, zsets, a stream,
    /// keys in databases 1 and 2. Collections hold `large` elements.
    static func populate(_ client: RESPClient, keys: Int, large: Int, label: String, supported: Set<String>? = nil) throws {
        var script = CommandScript(supported: try supported ?? Persist.supported(client))
        var pairs: [String] = []
        for i in 0..<keys {
            pairs += ["key:\(i)", "value-\(i)"]
            if pairs.count == 1000 {
                script.add(["MSET"] + pairs)
                pairs = []
            }
        }
        if !pairs.isEmpty { script.add(["MSET"] + pairs) }
        for i in 0..<100 {
            script.add("SET", "n:\(i)", String(i * 1000))
            script.add("PEXPIREAT", "key:\(i)", String(4_102_444_800_000 + i))
        }
        script.add("SET", "bigstring", noise(300_000, seed: 1))
        // Lists: compact and big (several chunks).
        script.add("RPUSH", "list:small", "a", "b", "c", "d", "e")
        script.add("RPUSH", "list:small2", "1", "2", "3")
        for batch in 0..<(large / 500) {
            script.add(["RPUSH", "biglist"] + (0..<500).map { "elem-\(batch * 500 + $0)" })
            script.add(["SADD", "bigset"] + (0..<500).map { "m:\(batch * 500 + $0)" })
            script.add(["HSET", "bighash"] + (0..<500).flatMap { ["f:\(batch * 500 + $0)", "v\($0)"] })
            script.add(["ZADD", "bigzset"] + (0..<500).flatMap { [String(Double(batch * 500 + $0) / 4), "z:\(batch * 500 + $0)"] })
        }
        script.add("RPUSH", "biglist", noise(20_000, seed: 2))
        script.add("SADD", "set:small", "x", "y", "z", "m:7")
        script.add("SADD", "intset", "1", "2", "3", "400", "50000")
        script.add("HSET", "hash:small", "a", "1", "b", "2", "c", "3")
        script.add("ZADD", "zset:small", "1", "a", "2", "b", "3", "c")
        script.add("XADD", "stream", "1-1", "f", "v")
        script.add("XADD", "stream", "2-1", "f", "w")
        script.add("XADD", "stream", "3-1", "g", "x")
        for db in ["1", "2"] {
            script.add("SELECT", db)
            script.add(["MSET"] + (0..<500).flatMap { ["db\(db):\($0)", "v\($0)"] })
            script.add("RPUSH", "db\(db):list", "a", "b")
            script.add("SADD", "db\(db):set", "a", "b")
        }
        script.add("SELECT", "0")
        let replies = try script.run(on: client, batch: 100, label: label)
        let errors = replies.filter { if case .error = $0 { true } else { false } }
        #expect(errors.isEmpty, "populating: \(errors.prefix(5))")
    }

    /// Every kind of change to every type, on compact and big values, in databases 0, 1 and 2.
    static func mutations(supported: Set<String>, large: Int) -> CommandScript {
        var script = CommandScript(supported: supported)
        // Strings: overwrite, grow, change in place, count, delete, expire, rename, move, change type.
        script.add("SET", "key:1", "overwritten")
        script.add("SET", "key:2", noise(100_000, seed: 3))
        script.add("APPEND", "key:3", "-tail")
        script.add("APPEND", "bigstring", "-tail")
        script.add("SETRANGE", "key:4", "2", "XYZ")
        script.add("SETRANGE", "bigstring", "1000", "XYZ")
        script.add("SETRANGE", "bigstring", "400000", "far")
        script.add("INCR", "n:1")
        script.add("INCRBY", "n:2", "100")
        script.add("DECR", "n:3")
        script.add("INCRBYFLOAT", "n:4", "1.5")
        script.add("GETDEL", "key:5")
        script.add("SETEX", "key:6", "1000", "v")
        script.add("GETSET", "key:12", "g")
        script.add("SET", "list:small2", "now a string")
        // Lists.
        script.add("LPUSH", "list:small", "front")
        script.add("RPUSH", "biglist", "x", "y")
        script.add("LPOP", "biglist")
        script.add("RPOP", "list:small")
        script.add("LSET", "biglist", String(large / 2), "changed")
        script.add("LSET", "list:small", "0", "changed")
        script.add("LINSERT", "biglist", "BEFORE", "elem-10", "inserted")
        script.add("LREM", "biglist", "0", "elem-20")
        script.add("LTRIM", "biglist", "5", "-5")
        script.add("RPOPLPUSH", "biglist", "list:small")
        script.add("LMOVE", "list:small", "biglist", "LEFT", "RIGHT")
        // Sets.
        script.add("SADD", "bigset", "new-member")
        script.add("SREM", "bigset", "m:5", "m:6")
        script.add("SPOP", "set:small")
        script.add("SMOVE", "bigset", "set:small", "m:7")
        script.add("SADD", "intset", "99999")
        script.add("SADD", "intset", "not-an-int")
        // Hashes.
        script.add("HSET", "bighash", "f:1", "changed", "newfield", "v")
        script.add("HDEL", "bighash", "f:2")
        script.add("HINCRBY", "hash:small", "c", "5")
        script.add("HSET", "hash:small", "a", noise(200, seed: 4))
        // Sorted sets.
        script.add("ZADD", "bigzset", "99", "new")
        script.add("ZREM", "bigzset", "z:3")
        script.add("ZINCRBY", "bigzset", "5", "z:4")
        script.add("ZPOPMIN", "zset:small")
        script.add("ZREMRANGEBYRANK", "bigzset", "0", "9")
        // Streams.
        script.add("XADD", "stream", "4-1", "h", "y")
        script.add("XDEL", "stream", "1-1")
        script.add("XTRIM", "stream", "MAXLEN", "2")
        // Keys: rename, move, expire, persist, delete, flush another database.
        script.add("RENAME", "key:7", "key:7r")
        script.add("RENAME", "biglist", "biglist2")
        script.add("MOVE", "key:8", "1")
        script.add("MOVE", "bigset", "1")
        script.add("EXPIRE", "key:9", "1000")
        script.add("EXPIRE", "bighash", "1000")
        script.add("PERSIST", "key:0")
        script.add("DEL", "key:10", "bigzset")
        script.add("UNLINK", "key:11")
        script.add("DEL", "bigstring")
        for i in stride(from: 1000, to: 10_000, by: 7) { script.add("SET", "key:\(i)", "new-\(i)") }
        for i in stride(from: 10_000, to: 15_000, by: 11) { script.add("DEL", "key:\(i)") }
        script.add("SELECT", "1")
        script.add("DEL", "db1:1")
        script.add("SADD", "db1:set", "c")
        script.add("SELECT", "2")
        script.add("FLUSHDB")
        script.add("SET", "after-flush", "1")
        script.add("SELECT", "0")
        return script
    }
}
