import Foundation
import Testing
import TestSupport

// MARK: - BGREWRITEAOF and SAVE on a failing disk (see PersistenceFaultTests.swift)

/// Where a BGREWRITEAOF meets the failing disk.
struct RewriteFault: CustomTestStringConvertible, Sendable {
    var name: String
    /// What the injector's path must contain (our temporary files are `.<final name>.tmp-<pid>-<random>`).
    var match: String
    var afterBytes: Int
    var errno: Int32
    var failFsync = false
    var preamble = "yes"
    /// The manifest cannot name the new incr file: the rewrite does not start.
    var failsAtStart = false
    /// The budget is the size of the manifest that names the new incr file: the swap at the end fails.
    var failsAtSwap = false

    var testDescription: String { name }

    static let all = [
        RewriteFault(name: "new base, ENOSPC at byte 0", match: "base.rdb.tmp-", afterBytes: 0, errno: FaultInjection.ENOSPC),
        RewriteFault(
            name: "new base (commands), EIO at byte 100000", match: "base.aof.tmp-", afterBytes: 100_000, errno: FaultInjection.EIO,
            preamble: "no"),
        RewriteFault(name: "new base, fsync EIO", match: "base.rdb.tmp-", afterBytes: 1 << 30, errno: FaultInjection.EIO, failFsync: true),
        RewriteFault(name: "manifest naming the new incr, ENOSPC", match: "manifest.tmp-", afterBytes: 0, errno: FaultInjection.ENOSPC, failsAtStart: true),
        RewriteFault(name: "manifest swap at the end, ENOSPC", match: "manifest.tmp-", afterBytes: -1, errno: FaultInjection.ENOSPC, failsAtSwap: true),
    ]
}

extension PersistenceFaultTests {
    static let manifestName = "appendonly.aof.manifest"

    /// The file names a manifest lists, in order.
    static func listed(_ manifest: Data?) -> [String] {
        String(decoding: manifest ?? Data(), as: UTF8.self).split(whereSeparator: \.isNewline).compactMap { line in
            let words = line.split(separator: " ").map(String.init)
            return words.firstIndex(of: "file").flatMap { $0 + 1 < words.count ? words[$0 + 1] : nil }
        }
    }

    // MARK: - BGREWRITEAOF

    @Test(
        "BGREWRITEAOF on a failing disk: aof_last_bgrewrite_status:err, the files the manifest named untouched and still what a restart loads, no temporary file, the server serves and appends; a later rewrite succeeds",
        arguments: RewriteFault.all)
    func rewriteFailure(_ fault: RewriteFault) throws {
        guard let tools = Persist.tools() else { return }
        let disk = try FailingDisk("aof-rewrite")
        let arguments = Fault.aofArguments + ["--aof-use-rdb-preamble", fault.preamble]
        // A dataset whose base is a few hundred KB, and a first rewrite, on a healthy disk.
        do {
            let healthy = try PersistedServer(port: 8210, directory: disk.data, arguments: arguments)
            defer { healthy.stop() }
            let client = try healthy.client()
            #expect(try Persist.waitForJobs(client))
            try Dataset.populate(client, keys: 5_000, large: 1_000, label: "rewrite on a failing disk")
            #expect(try client.send(["BGREWRITEAOF"]) == .status("Background append only file rewriting started"))
            #expect(try Persist.waitForJobs(client))
        }
        let before = try disk.files()
        var budget = fault.afterBytes
        if fault.failsAtSwap {
            // The first manifest write (naming the new incr file) goes through whole; the swap's fails.
            let incrementals = Self.listed(before[Self.manifestName]).filter { $0.hasSuffix(".incr.aof") }
            let sequence = (incrementals.last?.split(separator: ".").dropLast(2).last.flatMap { Int($0) } ?? 0) + 1
            budget = (before[Self.manifestName]?.count ?? 0) + "file appendonly.aof.\(sequence).incr.aof seq \(sequence) type i\n".utf8.count
        }
        let server = try PersistedServer(
            port: 8211, directory: disk.data, arguments: arguments,
            environment: try disk.environment(match: fault.match, afterBytes: budget, errno: fault.errno, failFsync: fault.failFsync))
        defer { server.stop() }
        let client = try server.client()
        disk.fail()
        let reply = try client.send(["BGREWRITEAOF"])
        if fault.failsAtStart {
            #expect(reply == .error("ERR Can't execute an AOF background rewriting. Please check the server logs for more information."))
        } else {
            #expect(reply == .status("Background append only file rewriting started"))
        }
        #expect(try Persist.waitForJobs(client))
        let info = try Persist.info(client)
        #expect(info["aof_last_bgrewrite_status"] == "err")
        // As Redis 7.0: only a rewrite that started counts as a consecutive failure.
        #expect(info["aof_rewrites_consecutive_failures"] == (fault.failsAtStart ? "0" : "1"))
        let after = try disk.files()
        for (name, bytes) in before where name != Self.manifestName {
            #expect(after[name] == bytes, "\(name) changed")
        }
        let listedBefore = Self.listed(before[Self.manifestName])
        let listedAfter = Self.listed(after[Self.manifestName])
        if fault.failsAtStart {
            #expect(after[Self.manifestName] == before[Self.manifestName])
        } else {
            // The incr file opened when the rewrite started stays listed after the old ones (as in Redis 7).
            #expect(listedAfter.dropLast() == listedBefore[...] && listedAfter.last?.hasSuffix(".incr.aof") == true)
        }
        #expect(Set(after.keys) == Set(listedAfter + [Self.manifestName]), "files not in the manifest: \(after.keys.sorted())")
        // Still serving and appending.
        let mutations = Dataset.mutations(supported: try Persist.supported(client), large: 1_000)
        let replies = try mutations.run(on: client, label: "after a failed rewrite")
        #expect(!replies.contains { if case .error(let message) = $0 { message.hasPrefix("MISCONF") } else { false } })
        #expect(try Persist.info(client)["aof_last_write_status"] == "ok")
        let expected = try Persist.digest(client)
        server.kill9()
        // A restart loads the files the manifest names, as does Redis 7.0; then a rewrite succeeds.
        let copy = try Fault.copy(disk.data, prefix: "aof-rewrite-redis")
        #expect(try Persist.redisDigest(binary: tools.redis, port: 8212, directory: copy, arguments: ["--appendonly", "yes"]) == expected)
        let restarted = try PersistedServer(port: 8213, directory: disk.data, arguments: arguments)
        defer { restarted.stop() }
        let again = try restarted.client()
        #expect(try Persist.digest(again) == expected)
        #expect(try again.send(["BGREWRITEAOF"]) == .status("Background append only file rewriting started"))
        #expect(try Persist.waitForJobs(again))
        let healed = try Persist.info(again)
        #expect(healed["aof_last_bgrewrite_status"] == "ok")
        #expect(healed["aof_rewrites_consecutive_failures"] == "0")
        #expect(try Persist.digest(again) == expected)
        let final = try disk.files()
        #expect(Set(final.keys) == Set(Self.listed(final[Self.manifestName]) + [Self.manifestName]))
    }

    // MARK: - SAVE

    @Test(
        "SAVE on a failing disk replies -ERR as Redis 7.0, keeps the previous dump, LASTSAVE and rdb_last_bgsave_status, leaves no temporary file; writes go on; the next SAVE succeeds",
        arguments: [
            (FaultInjection.ENOSPC, 0, false), (FaultInjection.ENOSPC, 3_000, false), (FaultInjection.EIO, 20_000, false),
            (FaultInjection.EIO, 1 << 30, true),
        ])
    func saveFailure(errno: Int32, afterBytes: Int, failFsync: Bool) throws {
        guard let tools = Persist.tools() else { return }
        var transcripts: [[String]] = []
        // Redis writes its RDB through stdio, out of the injector's reach, but its fsync can be made to fail.
        for (binary, port) in [(tools.ours, 8214)] + (failFsync ? [(tools.redis, 8215)] : []) {
            let disk = try FailingDisk("save")
            let server = try PersistedServer(
                port: port, directory: disk.data, arguments: ["--enable-debug-command", "yes"],
                environment: try disk.environment(match: disk.data.path + "/", afterBytes: afterBytes, errno: errno, failFsync: failFsync),
                binary: binary)
            defer { server.stop() }
            let client = try server.client()
            try client.pipeline((0..<300).map { ["SET", "key:\($0)", Dataset.noise(100, seed: UInt64($0))] })
            #expect(try client.send(["SAVE"]) == .status("OK"))
            let dump = disk.data.appendingPathComponent("dump.rdb")
            let previous = try Data(contentsOf: dump)
            let lastSave = try client.send(["LASTSAVE"])
            try client.pipeline((0..<50).map { ["SET", "more:\($0)", "v"] })
            disk.fail()
            var transcript = ["SAVE \(try client.send(["SAVE"]))"]
            let info = try Persist.info(client)
            transcript.append("rdb_last_bgsave_status:\(info["rdb_last_bgsave_status"] ?? "?")")
            transcript.append("rdb_changes_since_last_save:\(info["rdb_changes_since_last_save"] ?? "?")")
            transcript.append("LASTSAVE unchanged \(try client.send(["LASTSAVE"]) == lastSave)")
            transcript.append("SET \(try client.send(["SET", "after", "1"]))")
            #expect(try Data(contentsOf: dump) == previous)
            #expect(try disk.files(in: disk.data).keys.sorted() == ["dump.rdb"], "temporary files left")
            try disk.heal()
            transcript.append("SAVE \(try client.send(["SAVE"]))")
            transcript.append("rdb_changes_since_last_save:\(try Persist.info(client)["rdb_changes_since_last_save"] ?? "?")")
            #expect(try Data(contentsOf: dump) != previous)
            if binary == tools.ours { #expect(server.log.contains(FaultInjection.message(errno)), "\(server.log.suffix(1000))") }
            transcripts.append(transcript)
        }
        #expect(transcripts[0] == [
            "SAVE -ERR", "rdb_last_bgsave_status:ok", "rdb_changes_since_last_save:50", "LASTSAVE unchanged true", "SET +OK",
            "SAVE +OK", "rdb_changes_since_last_save:0",
        ])
        if transcripts.count == 2 { #expect(transcripts[0] == transcripts[1], "ours, Redis 7.0") }
    }

    @Test("A failed BGSAVE refuses writes and PING with -MISCONF, as Redis 7.0; reads are served; a SAVE that succeeds clears it")
    func saveClearsBackgroundSaveError() throws {
        guard let tools = Persist.tools() else { return }
        var transcripts: [[String]] = []
        for (binary, port) in [(tools.ours, 8216), (tools.redis, 8217)] {
            let disk = try FailingDisk("bgsave-then-save")
            let server = try PersistedServer(
                port: port, directory: disk.data, arguments: ["--save", "3600 1"],
                environment: try disk.environment(
                    match: disk.data.path + "/", afterBytes: 1 << 30, errno: FaultInjection.EIO, failFsync: true),
                binary: binary)
            defer { server.stop() }
            let client = try server.client()
            var transcript = ["SET \(try client.send(["SET", "a", "1"]))"]
            disk.fail()
            transcript.append("BGSAVE \(try client.send(["BGSAVE"]))")
            #expect(try Persist.waitForJobs(client))
            transcript.append("rdb_last_bgsave_status:\(try Persist.info(client)["rdb_last_bgsave_status"] ?? "?")")
            transcript.append("SET \(try client.send(["SET", "b", "2"]))")
            transcript.append("PING \(try client.send(["PING"]))")
            transcript.append("GET \(try client.send(["GET", "a"]))")
            transcript.append("SAVE \(try client.send(["SAVE"]))")
            try disk.heal()
            transcript.append("SAVE \(try client.send(["SAVE"]))")
            transcript.append("rdb_last_bgsave_status:\(try Persist.info(client)["rdb_last_bgsave_status"] ?? "?")")
            transcript.append("SET \(try client.send(["SET", "b", "2"]))")
            transcript.append("PING \(try client.send(["PING"]))")
            #expect(try disk.files(in: disk.data).keys.sorted() == ["dump.rdb"])
            transcripts.append(transcript)
        }
        let misconf = "-" + "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error."
        #expect(transcripts[0] == [
            "SET +OK", "BGSAVE +Background saving started", "rdb_last_bgsave_status:err", "SET \(misconf)", "PING \(misconf)",
            "GET \"1\"", "SAVE -ERR", "SAVE +OK", "rdb_last_bgsave_status:ok", "SET +OK", "PING +PONG",
        ])
        #expect(transcripts.count == 2 && transcripts[0] == transcripts[1], "ours, Redis 7.0: \(transcripts)")
    }
}
