import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

// MARK: - Issue #7 point 2: the server's writers on a disk that fills up or fails
//
// The fault injector (``FaultInjection``) is armed by a trigger file: the disk fails while it exists, so each test
// writes normally, makes the disk fail at an exact byte, checks what clients see, then gives the disk room again.
// Where the injector reaches real Redis 7.0's writes too (its AOF `write`s and every `fsync`; its RDB writes go
// through stdio, out of reach), the same run is made against it and the replies compared.
//
// Ports 8200-8249 belong to these suites. `FAULT_ROUNDS` (default 1) repeats the append comparison with other
// byte budgets, so that the disk fills at other places inside a command.

/// A fresh data directory whose disk fails while a trigger file exists.
struct FailingDisk {
    let data: URL
    let trigger: URL

    init(_ prefix: String) throws {
        let root = try RedisServer.temporaryDirectory(prefix)
        data = root.appendingPathComponent("data")
        trigger = root.appendingPathComponent("disk-is-failing")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
    }

    /// The injector's environment: writes to paths containing `match` fail once `afterBytes` more bytes went to
    /// them after ``fail()``.
    func environment(
        match: String, afterBytes: Int, errno: Int32 = FaultInjection.ENOSPC, failFsync: Bool = false, failTruncate: Bool = false
    ) throws -> [String: String] {
        try FaultInjection.environment(
            match: match, afterBytes: afterBytes, errno: errno, failFsync: failFsync, failTruncate: failTruncate,
            whileExists: trigger.path)
    }

    func fail() { FileManager.default.createFile(atPath: trigger.path, contents: nil) }

    func heal() throws { try FileManager.default.removeItem(at: trigger) }

    var aofDirectory: URL { data.appendingPathComponent("appendonlydir") }

    /// Files of `directory` (the AOF directory by default), with their bytes.
    func files(in directory: URL? = nil) throws -> [String: Data] {
        let directory = directory ?? aofDirectory
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
            files[name] = try Data(contentsOf: directory.appendingPathComponent(name))
        }
        return files
    }
}

enum Fault {
    /// `FAULT_ROUNDS`: how many byte budgets the longer comparisons try (1 in CI).
    static var rounds: Int { ProcessInfo.processInfo.environment["FAULT_ROUNDS"].flatMap(Int.init).map { max(1, $0) } ?? 1 }

    /// `RPUSH log n` with n one more than the writes acknowledged so far: the list holds 1, 2, 3… with no gap,
    /// whatever was refused.
    static func push(_ client: RESPClient, _ acknowledged: inout Int) throws -> RESPReply {
        let reply = try client.send(["RPUSH", "log", String(acknowledged + 1)])
        if reply == .integer(Int64(acknowledged + 1)) { acknowledged += 1 }
        return reply
    }

    /// The list `log` as numbers.
    static func log(_ client: RESPClient) throws -> [Int] {
        guard case .array(let items) = try client.send(["LRANGE", "log", "0", "-1"]) else { return [] }
        return items.compactMap { $0.text.flatMap(Int.init) }
    }

    /// A copy of an AOF directory's data directory, for a second server to load without touching the first.
    static func copy(_ data: URL, prefix: String) throws -> URL {
        let directory = try RedisServer.temporaryDirectory(prefix)
        try FileManager.default.copyItem(
            at: data.appendingPathComponent("appendonlydir"), to: directory.appendingPathComponent("appendonlydir"))
        return directory
    }

    /// A server started with the AOF on `disk` (`appendfsync policy`), its first rewrite done, and five writes
    /// acknowledged while the disk is healthy.
    struct AOFSession {
        let server: PersistedServer
        let client: RESPClient
        var acknowledged = 0
        var replies: [String] = []

        init(binary: String, port: Int, policy: String, disk: FailingDisk, environment: [String: String]) throws {
            server = try PersistedServer(
                port: port, directory: disk.data, arguments: Fault.aofArguments + ["--appendfsync", policy],
                environment: environment, binary: binary)
            client = try server.client()
            #expect(try Persist.waitForJobs(client))
            for _ in 0..<5 { replies.append(try Fault.push(client, &acknowledged).description) }
        }
    }

    static func misconf(_ errno: Int32) -> String { "-MISCONF Errors writing to the AOF file: \(FaultInjection.message(errno))" }

    static let aofArguments = ["--appendonly", "yes", "--enable-debug-command", "yes"]
}

@Suite("Persistence: writers on a failing disk", .serialized)
struct PersistenceFaultTests {
    // MARK: - AOF append, appendfsync everysec / no

    /// One run of ``appendFailure(policy:errno:)`` on one server.
    struct AppendRun {
        var transcript: [String] = []
        var acknowledged = 0
        var disk: FailingDisk
        var log = ""
    }

    static func appendRun(binary: String, port: Int, policy: String, errno: Int32, cutFails: Bool, budget: Int) throws -> AppendRun {
        let disk = try FailingDisk("aof-append")
        let session = try Fault.AOFSession(
            binary: binary, port: port, policy: policy, disk: disk,
            environment: try disk.environment(match: "incr.aof", afterBytes: budget, errno: errno, failTruncate: cutFails))
        let (server, client) = (session.server, session.client)
        defer { server.stop() }
        var run = AppendRun(transcript: session.replies, acknowledged: session.acknowledged, disk: disk)
        disk.fail()
        var refused = 0
        while refused < 3 && run.transcript.count < 60 {
            let reply = try Fault.push(client, &run.acknowledged)
            if case .error = reply { refused += 1 }
            run.transcript.append(reply.description)
        }
        // Reads are served, PING is refused like a write, INFO reports the error.
        run.transcript.append("PING \(try client.send(["PING"]))")
        run.transcript.append("LLEN \(try client.send(["LLEN", "log"]))")
        run.transcript.append("aof_last_write_status:\(try Persist.info(client)["aof_last_write_status"] ?? "?")")
        try disk.heal()
        // Redis retries the buffered write before every event-loop sleep and in its cron; ours with each batch of
        // commands and each cron tick.
        let recovered = try Persist.waitUntil(10) { try Persist.info(client)["aof_last_write_status"] == "ok" }
        run.transcript.append("recovered \(recovered)")
        for _ in 0..<5 { run.transcript.append(try Fault.push(client, &run.acknowledged).description) }
        run.log = server.log
        server.kill9()
        return run
    }

    @Test(
        "AOF append on a full or failing disk (everysec, no): the replies of Redis 7.0 (writes and PING refused with -MISCONF, reads served, INFO err), then recovery; both servers load every acknowledged write",
        arguments: [
            ("everysec", FaultInjection.ENOSPC, false), ("everysec", FaultInjection.EIO, false), ("no", FaultInjection.ENOSPC, false),
            // The partial write cannot be cut back (ftruncate fails too): it stays, and only the rest is written again.
            ("everysec", FaultInjection.ENOSPC, true),
        ])
    func appendFailure(policy: String, errno: Int32, cutFails: Bool) throws {
        guard let tools = Persist.tools() else { return }
        for round in 0..<Fault.rounds {
            // RPUSH log 6…9 take 31 bytes, 10… 32. ENOSPC: the disk fills inside the 5th command after the fault,
            // elsewhere in later rounds. EIO: at a command boundary, since Redis reports any short write as ENOSPC
            // (its guess) until a retry meets the real error, where ours reports the error write(2) returned.
            let budget = errno == FaultInjection.EIO ? 4 * 31 + 32 + round * 32 : 150 + round * 7
            let ours = try Self.appendRun(binary: tools.ours, port: 8200, policy: policy, errno: errno, cutFails: cutFails, budget: budget)
            // Redis 7.0 under everysec postpones its write (up to 2 s, acknowledging meanwhile) while a background
            // fsync runs, which moves where the disk fills: a run where that happened is done again.
            var redis = try Self.appendRun(binary: tools.redis, port: 8201, policy: policy, errno: errno, cutFails: cutFails, budget: budget)
            var redisRuns = 1
            while redis.transcript != ours.transcript && redisRuns < 3 {
                redis = try Self.appendRun(binary: tools.redis, port: 8201, policy: policy, errno: errno, cutFails: cutFails, budget: budget)
                redisRuns += 1
            }
            #expect(ours.transcript == redis.transcript, "budget \(budget)")
            #expect(ours.transcript.contains(Fault.misconf(errno)), "\(ours.transcript)")
            #expect(ours.transcript.contains("PING \(Fault.misconf(errno))"))
            #expect(ours.transcript.contains("aof_last_write_status:err"))
            #expect(ours.transcript.contains("recovered true"))
            #expect(ours.log.contains("Error writing to the AOF file: \(FaultInjection.message(errno))"))
            #expect(ours.log.contains("AOF write error looks solved, Redis can write again."))
            if cutFails { #expect(ours.log.contains("could not cut the partial write back")) }
            // The write that failed half-way was cut off, then written whole: both servers load every
            // acknowledged write, and nothing else, from our directory.
            let restarted = try PersistedServer(port: 8202, directory: ours.disk.data, arguments: Fault.aofArguments)
            defer { restarted.stop() }
            let client = try restarted.client()
            #expect(try Fault.log(client) == Array(1...ours.acknowledged))
            #expect(!restarted.log.contains("short read"))
            let copy = try Fault.copy(ours.disk.data, prefix: "aof-append-redis")
            #expect(
                try Persist.redisDigest(binary: tools.redis, port: 8203, directory: copy, arguments: ["--appendonly", "yes"])
                    == Persist.digest(client))
            print("persistence fault AOF append \(policy) errno \(errno) cut fails \(cutFails) budget \(budget): \(ours.acknowledged) acknowledged, replies as Redis 7.0: \(ours.transcript == redis.transcript) (Redis runs: \(redisRuns))")
        }
    }

    // MARK: - AOF append, appendfsync always

    @Test(
        "appendfsync always: a failed AOF write or fsync ends the server with exit 1 before the reply, as Redis 7.0; what was acknowledged loads",
        arguments: ["write", "fsync"])
    func alwaysExits(step: String) throws {
        guard let tools = Persist.tools() else { return }
        var outcomes: [String] = []
        for (binary, port) in [(tools.ours, 8204), (tools.redis, 8205)] {
            let disk = try FailingDisk("aof-always")
            // A write fails inside the second RPUSH (31 bytes each); or every fsync fails.
            let environment =
                step == "write"
                ? try disk.environment(match: "incr.aof", afterBytes: 40)
                : try disk.environment(match: "incr.aof", afterBytes: 1 << 30, errno: FaultInjection.EIO, failFsync: true)
            let session = try Fault.AOFSession(binary: binary, port: port, policy: "always", disk: disk, environment: environment)
            let (server, client) = (session.server, session.client)
            defer { server.stop() }
            var acknowledged = session.acknowledged
            disk.fail()
            var connectionLost = false
            for _ in 0..<10 {
                do {
                    let reply = try Fault.push(client, &acknowledged)
                    if case .error(let message) = reply { Issue.record("refused instead of exiting: \(message)") }
                } catch {
                    connectionLost = true
                    break
                }
            }
            #expect(connectionLost, "the server kept answering")
            #expect(server.waitForExit(timeout: 10) == 1)
            let expectedLine =
                step == "write"
                ? "Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting..."
                : "Can't persist AOF for fsync error when the AOF fsync policy is 'always': Input/output error. Exiting..."
            #expect(server.log.contains(expectedLine), "\(server.log.suffix(1000))")
            // Restarted on a healthy disk: every acknowledged write is there. The write whose fsync failed did reach
            // the file (it was never acknowledged); a failed write was cut off.
            let restarted = try PersistedServer(port: port, directory: disk.data, arguments: Fault.aofArguments, binary: binary)
            defer { restarted.stop() }
            let values = try Fault.log(try restarted.client())
            #expect(values == Array(1...(acknowledged + (step == "fsync" ? 1 : 0))))
            outcomes.append("\(acknowledged) acknowledged, \(values.count) loaded")
        }
        #expect(outcomes.count == 2 && outcomes[0] == outcomes[1], "ours, Redis 7.0: \(outcomes)")
    }

    // MARK: - AOF background fsync, appendfsync everysec

    @Test("appendfsync everysec, failing background fsync: -MISCONF with the fsync's error and INFO err as Redis 7.0; ours clears it once an fsync succeeds again")
    func backgroundFsyncFailure() throws {
        guard let tools = Persist.tools() else { return }
        var seen: [[String]] = []
        for (binary, port) in [(tools.ours, 8206), (tools.redis, 8207)] {
            let disk = try FailingDisk("aof-bio-fsync")
            let session = try Fault.AOFSession(
                binary: binary, port: port, policy: "everysec", disk: disk,
                environment: try disk.environment(match: "incr.aof", afterBytes: 1 << 30, errno: FaultInjection.EIO, failFsync: true))
            let (server, client) = (session.server, session.client)
            defer { server.stop() }
            var acknowledged = session.acknowledged
            disk.fail()
            // Writes go on until the once-a-second fsync fails.
            var refusal: RESPReply = .null
            for _ in 0..<150 {
                refusal = try Fault.push(client, &acknowledged)
                if case .error = refusal { break }
                usleep(20_000)
            }
            seen.append([
                refusal.description, try client.send(["PING"]).description,
                try Persist.info(client)["aof_last_write_status"] ?? "?",
                try client.send(["LLEN", "log"]) == .integer(Int64(acknowledged)) ? "reads served" : "reads wrong",
            ])
            #expect(server.log.contains("Fail to fsync the AOF file: Input/output error"))
            try disk.heal()
            if binary == tools.ours {
                // Ours tries the fsync again each second while it fails; the first success clears the error.
                #expect(try Persist.waitUntil(10) { try Persist.info(client)["aof_last_write_status"] == "ok" })
                for _ in 0..<5 {
                    let reply = try Fault.push(client, &acknowledged)
                    #expect(reply == .integer(Int64(acknowledged)))
                }
                server.kill9()
                let restarted = try PersistedServer(port: port, directory: disk.data, arguments: Fault.aofArguments)
                defer { restarted.stop() }
                #expect(try Fault.log(try restarted.client()) == Array(1...acknowledged))
            } else {
                // Redis 7.0 fsyncs again only after its next append, which the refusal prevents: recorded, not asserted.
                usleep(2_500_000)
                print("persistence fault background fsync: Redis 7.0, 2.5 s after the disk healed: aof_last_write_status:\(try Persist.info(client)["aof_last_write_status"] ?? "?")")
            }
        }
        #expect(seen.first == [Fault.misconf(FaultInjection.EIO), Fault.misconf(FaultInjection.EIO), "err", "reads served"])
        #expect(seen.count == 2 && seen[0] == seen[1], "ours, Redis 7.0: \(seen)")
    }
}
