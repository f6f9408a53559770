import Formats
import Foundation
import Keyspace
import Logging
import NIOCore

// MARK: - BGREWRITEAOF, start-up loading, appendonly on/off

extension ServerCore {
    var aofDirectory: String { config["appenddirname"].isEmpty ? "appendonlydir" : config["appenddirname"] }
    var appendFileName: String { config["appendfilename"].isEmpty ? "appendonly.aof" : config["appendfilename"] }
    var fsyncPolicy: FsyncPolicy { FsyncPolicy(rawValue: config["appendfsync"]) ?? .everysec }
    var aofTimestamps: Bool { config["aof-timestamp-enabled"] == "yes" }

    /// BGREWRITEAOF: Redis's replies, and the rewrite started now or scheduled after a running BGSAVE.
    func backgroundRewrite() throws(CommandError) -> Reply {
        guard config.persistenceAvailable else { throw CommandError("ERR persistence is not available (persistence-available no)") }
        if let job = persistence.job {
            if job.kind == .aofRewrite { throw CommandError("ERR Background append only file rewriting already in progress") }
            persistence.rewriteScheduled = true
            return .status("Background append only file rewriting scheduled")
        }
        guard startRewrite() else {
            throw CommandError("ERR Can't execute an AOF background rewriting. Please check the server logs for more information.")
        }
        return .status("Background append only file rewriting started")
    }

    /// Starts a rewrite from a snapshot: a new incr file takes the writes from now on, the background thread
    /// writes the new base (`.base.rdb` with `aof-use-rdb-preamble yes`, else `.base.aof` of commands), and
    /// on success the manifest is swapped atomically and the old files deleted.
    /// - Returns: false when the rewrite could not start (logged; `aof_last_bgrewrite_status:err`).
    @discardableResult
    func startRewrite() -> Bool {
        precondition(persistence.job == nil, "one background job at a time")
        persistence.rewriteScheduled = false
        let directory = aofDirectory
        // With appendonly off there is no log yet: a rewrite creates one (what `CONFIG SET appendonly yes` does).
        if persistence.aof == nil {
            do {
                persistence.aof = try AppendOnlyLog.open(
                    directory: directory, appendFileName: appendFileName, policy: fsyncPolicy, timestamps: aofTimestamps,
                    manifest: nil)
                keyspace.propagationEnabled = true
            } catch {
                serverLog.warning("Can't open the append-only file: \(error)")
                rewriteFailed(started: false)
                return false
            }
        }
        let log = persistence.aof!
        // What is still buffered after a failed append belongs in the old incr file: written after the switch, it
        // would land in the new one and be applied twice at load (once by the new base, once by the new incr).
        flushAppendOnlyLogBeforeReplies()
        if let failure = persistence.lastAOFWriteFailure {
            serverLog.warning("Background AOF rewrite not started: the AOF can't be written (\(String(cString: strerror(failure))))")
            rewriteFailed(started: false)
            return false
        }
        let sequence: Int64
        do {
            sequence = try log.beginRewrite(timestamps: aofTimestamps)
        } catch {
            serverLog.warning("Background AOF rewrite failed to open a new incr file: \(error)")
            rewriteFailed(started: false)
            return false
        }
        let snapshot = takeSnapshot()
        let resident = MemoryUsage.residentBytes
        persistence.job = BackgroundJob(
            kind: .aofRewrite, startedAt: Keyspace.unixMilliseconds(), dirtyAtStart: keyspace.dirty,
            residentAtStart: resident, peakResident: resident)
        let preamble = config["aof-use-rdb-preamble"] != "no"
        let baseName = AOFManifest.baseFileName(appendFileName, sequence: sequence, rdb: preamble)
        let basePath = directory + "/" + baseName
        let options = rdbWriteOptions
        let aux = rdbAux.filter { $0.key != "aof-base" } + [("aof-base", "1")]
        let timestamps = aofTimestamps
        serverLog.notice("Background append only file rewriting started (snapshot taken in \(persistence.latestSnapshotMicroseconds) microseconds)")
        persistence.runInBackground(on: loop, {
            if preamble {
                _ = try Keyspace.saveRDB(
                    snapshot, path: basePath, options: options, aux: aux,
                    encoders: ProcessInfo.processInfo.activeProcessorCount, encoderPriority: .idle)
            } else {
                try ServerCore.writeCommandBase(snapshot, path: basePath, timestamps: timestamps)
            }
            return true
        }) { [unowned self] result in
            self.rewriteDone(result, baseName: baseName, sequence: sequence, rdb: preamble)
        }
        return true
    }

    /// Records a rewrite that failed (INFO `aof_last_bgrewrite_status`); as in Redis 7.0, only one that started
    /// counts in `aof_rewrites_consecutive_failures`.
    private func rewriteFailed(started: Bool) {
        persistence.lastRewriteOK = false
        if started { persistence.rewriteConsecutiveFailures += 1 }
    }

    /// A `.base.aof`: the commands that rebuild the snapshot, database by database.
    static func writeCommandBase(_ snapshot: [Database], path: String, timestamps: Bool) throws {
        let sink = try FileSink(path: path)
        var options = AOFWriteOptions()
        options.timestampAnnotations = false
        var writer = AOFWriter(sink: sink, options: options)
        do {
            if timestamps { try writer.writeTimestampAnnotation(Int64(Date().timeIntervalSince1970)) }
            for (index, database) in snapshot.enumerated() where !database.isEmpty {
                try Keyspace.rewriteCommands(of: database) { (argv: [Bytes]) throws(FormatError) in
                    try writer.writeCommand(bytes: argv, database: index)
                }
            }
            try writer.finish()
        } catch {
            sink.abort()
            throw error
        }
    }

    private func rewriteDone(_ result: Result<Bool, any Error>, baseName: String, sequence: Int64, rdb: Bool) {
        guard let job = persistence.job, job.kind == .aofRewrite else { return }
        persistence.job = nil
        sampleJobMemory(job)
        persistence.lastAOFExtraBytes = max(0, job.peakResident - job.residentAtStart)
        persistence.lastRewriteSeconds = Int((Keyspace.unixMilliseconds() - job.startedAt) / 1000)
        switch result {
        case .success:
            do {
                try persistence.aof?.finishRewrite(baseName: baseName, sequence: sequence, rdb: rdb)
                persistence.lastRewriteOK = true
                persistence.rewriteConsecutiveFailures = 0
                persistence.rewrites += 1
                serverLog.notice("Background AOF rewrite terminated with success")
            } catch {
                // The manifest still names the old files: the new base is of no use (Redis removes it too).
                unlink(aofDirectory + "/" + baseName)
                rewriteFailed(started: true)
                serverLog.warning("Background AOF rewrite: could not install the new manifest: \(error)")
            }
        case .failure(let error):
            // The new base (a temporary file) was removed by the writer; the manifest still lists the old files.
            rewriteFailed(started: true)
            serverLog.warning("Background AOF rewrite failed: \(error)")
        }
        startScheduledJobs()
    }

    /// `auto-aof-rewrite-percentage` / `-min-size`: rewrite when the AOF grew enough since the last rewrite.
    func checkAutomaticRewrite() {
        guard let log = persistence.aof else { return }
        let percentage = Int64(config["auto-aof-rewrite-percentage"]) ?? 100
        let minimum = ServerCore.memoryValue(config["auto-aof-rewrite-min-size"]) ?? 64 << 20
        guard percentage > 0, log.currentSize > minimum else { return }
        let base = max(log.baseSize, 1)
        if (log.currentSize - base) * 100 / base >= percentage {
            serverLog.notice("Starting automatic rewriting of AOF on \((log.currentSize - base) * 100 / base)% growth")
            startRewrite()
        }
    }

    static func memoryValue(_ text: String) -> Int64? {
        let lower = text.lowercased()
        for (suffix, factor) in [("gb", Int64(1) << 30), ("mb", 1 << 20), ("kb", 1 << 10), ("g", 1_000_000_000), ("m", 1_000_000), ("k", 1000), ("b", 1)]
        where lower.hasSuffix(suffix) {
            return Int64(lower.dropLast(suffix.count)).map { $0 * factor }
        }
        return Int64(lower)
    }

    // MARK: - Appending (called before replies are sent)

    /// Moves the commands the engine propagated into the AOF and writes them (fsynced with `always`).
    func flushAppendOnlyLog() throws(AOFFlushError) {
        guard let log = persistence.aof else { return }
        let commands = keyspace.takePropagated()
        if !commands.isEmpty {
            do throws(FormatError) {
                try log.append(commands, unixTime: Int64(Date().timeIntervalSince1970))
            } catch {
                throw AOFFlushError(step: .write, error: error)
            }
        }
        try log.flush()
    }

    /// ``flushAppendOnlyLog()`` for the reply path, with Redis 7.0's `flushAppendOnlyFile` rules on failure:
    ///
    /// - `appendfsync always`: log and exit(1). The replies waiting to go out would acknowledge writes (and show
    ///   reads of them) that are not on disk, and the dataset cannot be rolled back.
    /// - `everysec` / `no`: the failed write is cut off the file and its bytes stay buffered; the error is kept
    ///   (`aof_last_write_status:err`, writes and PING refused with `-MISCONF Errors writing to the AOF file:
    ///   <strerror>`), logged at most every 30 seconds (`AOF_WRITE_LOG_ERROR_RATE`), and the write is tried
    ///   again on every call (each batch of commands, each cron tick) until one succeeds, which clears it.
    func flushAppendOnlyLogBeforeReplies() {
        guard let log = persistence.aof else { return }
        do throws(AOFFlushError) {
            try flushAppendOnlyLog()
        } catch {
            let reason = String(cString: strerror(error.errno))
            if log.policy == .always {
                switch error.step {
                case .write:
                    serverLog.warning("Error writing to the AOF file: \(reason) (\(error.error.detail))")
                    serverLog.warning("Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...")
                case .fsync:
                    serverLog.warning("Can't persist AOF for fsync error when the AOF fsync policy is 'always': \(reason). Exiting...")
                }
                exit(1)
            }
            let now = Keyspace.unixMilliseconds()
            if now - persistence.lastAOFWriteErrorLog > 30_000 {
                persistence.lastAOFWriteErrorLog = now
                serverLog.warning("Error writing to the AOF file: \(reason) (\(error.error.detail))")
            }
            if persistence.lastAOFWriteFailure != error.errno {
                persistence.lastAOFWriteFailure = error.errno
                updateWriteDenial()
            }
            return
        }
        if persistence.lastAOFWriteFailure != nil {
            persistence.lastAOFWriteFailure = nil
            serverLog.warning("AOF write error looks solved, Redis can write again.")
            updateWriteDenial()
        }
    }

    // MARK: - appendonly yes|no

    /// CONFIG SET appendonly yes: opens the log and rewrites a base from the current dataset (as Redis 7 does).
    func enableAppendOnly() throws(CommandError) {
        guard persistence.aof == nil else { return }
        if persistence.job?.kind == .rdb {
            persistence.rewriteScheduled = true
        } else if persistence.job == nil {
            startRewrite()
        }
        guard persistence.aof != nil || persistence.rewriteScheduled else {
            throw CommandError("ERR Background append only file rewriting error")
        }
    }

    /// CONFIG SET appendonly no: stops appending; the files stay.
    func disableAppendOnly() {
        guard let log = persistence.aof else { return }
        try? flushAppendOnlyLog()
        try? log.close()
        persistence.aof = nil
        keyspace.propagationEnabled = false
        _ = keyspace.takePropagated()
        // Redis checks AOF errors only while the AOF is on.
        persistence.lastAOFWriteFailure = nil
        updateWriteDenial()
    }

    // MARK: - Start-up

    /// With `appendonly yes`: loads the AOF (multi-part directory, or a Redis 6 single file which becomes the
    /// base of a new manifest) and opens it for appending. `aof-load-truncated yes` keeps what precedes a cut
    /// last command, logs it, and cuts the file there; damage anywhere else stops the start-up.
    /// - Throws: a message naming the file and offset.
    func loadAppendOnlyFile() throws {
        let directory = aofDirectory
        let manifestPath = directory + "/" + AOFManifest.manifestFileName(appendFileName)
        var manifest: AOFManifest? = nil
        let started = Date()
        if FileManager.default.fileExists(atPath: manifestPath) {
            let allowTruncated = config["aof-load-truncated"] != "no"
            let summary: AOFReplaySummary
            do throws(AOFReplayError) {
                summary = try keyspace.replayAOF(path: manifestPath, allowTruncatedTail: allowTruncated)
            } catch {
                throw StartupError(description: "Bad file format reading the append only file \(error.file): \(error.underlying)")
            }
            cutTruncatedTail(summary)
            manifest = try AOFManifest(parsing: Array(try Data(contentsOf: URL(fileURLWithPath: manifestPath))))
            serverLog.notice("DB loaded from append only file: \(String(format: "%.3f", Date().timeIntervalSince(started))) seconds")
        } else if FileManager.default.fileExists(atPath: appendFileName) {
            // A Redis 6 single-file AOF: load it, then move it into the directory as the base (Redis 7's upgrade).
            do throws(AOFReplayError) {
                // Cut before it becomes the base: only the last file of a manifest may end early.
                cutTruncatedTail(try keyspace.replayAOF(path: appendFileName, allowTruncatedTail: config["aof-load-truncated"] != "no"))
            } catch {
                throw StartupError(description: "Bad file format reading the append only file \(error.file): \(error.underlying)")
            }
            try AppendOnlyLog.makeDirectory(directory)
            let base = AOFManifest.baseFileName(appendFileName, sequence: 1, rdb: false)
            guard rename(appendFileName, directory + "/" + base) == 0 else {
                throw StartupError(description: "Can't move \(appendFileName) into \(directory): \(String(cString: strerror(errno)))")
            }
            manifest = AOFManifest(base: AOFManifestEntry(fileName: base, sequence: 1, type: .base))
            serverLog.notice("Successfully migrated an old-style AOF into the AOF directory")
            serverLog.notice("DB loaded from append only file: \(String(format: "%.3f", Date().timeIntervalSince(started))) seconds")
        } else {
            // No AOF yet: Redis 7 writes an empty base (sequence 1) before the first incr file (sequence 1 too).
            try AppendOnlyLog.makeDirectory(directory)
            let preamble = config["aof-use-rdb-preamble"] != "no"
            let base = AOFManifest.baseFileName(appendFileName, sequence: 1, rdb: preamble)
            let snapshot = keyspace.snapshot()
            if preamble {
                _ = try Keyspace.saveRDB(
                    snapshot, path: directory + "/" + base, options: rdbWriteOptions,
                    aux: rdbAux.filter { $0.key != "aof-base" } + [("aof-base", "1")])
            } else {
                try ServerCore.writeCommandBase(snapshot, path: directory + "/" + base, timestamps: aofTimestamps)
            }
            manifest = AOFManifest(base: AOFManifestEntry(fileName: base, sequence: 1, type: .base))
            serverLog.notice("Creating AOF base file \(base) on server start")
        }
        keyspace.dirty = 0
        persistence.aof = try AppendOnlyLog.open(
            directory: directory, appendFileName: appendFileName, policy: fsyncPolicy, timestamps: aofTimestamps,
            manifest: manifest)
        keyspace.propagationEnabled = true
        // No base yet (a new AOF): write one now, as Redis 7 does at start-up.
        if manifest?.base == nil { startRewrite() }
    }

    /// `aof-load-truncated yes`: the last file replayed ends where the replay stopped (inside a command, or
    /// inside a MULTI without EXEC), so that later appends follow a complete command.
    private func cutTruncatedTail(_ summary: AOFReplaySummary) {
        guard let last = summary.files.last, AppendOnlyLog.fileSize(last) > summary.lastFileOffset else { return }
        serverLog.warning(
            "!!! Warning: short read while loading the AOF file \(last)!!! AOF loaded anyway because aof-load-truncated is enabled; truncating it to \(summary.lastFileOffset) bytes")
        truncate(last, off_t(summary.lastFileOffset))
        persistence.loadTruncated = true
    }

    struct StartupError: Error, CustomStringConvertible {
        var description: String
    }
}
