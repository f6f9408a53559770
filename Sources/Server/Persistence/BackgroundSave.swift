import Formats
import Foundation
import Keyspace
import Logging
import NIOCore

// MARK: - BGSAVE, save points, MISCONF

extension ServerCore {
    static let misconfMessage =
        "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. "
        + "Commands that may modify the data set are disabled, because this instance is configured to report errors "
        + "during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs "
        + "for details about the RDB error."

    /// Takes a snapshot of the keyspace, timing the pause the command thread sees (`latest_fork_usec`).
    func takeSnapshot() -> [Database] {
        let started = monotonicMicroseconds()
        let snapshot = keyspace.snapshot()
        persistence.latestSnapshotMicroseconds = monotonicMicroseconds() - started
        persistence.snapshotsTaken += 1
        return snapshot
    }

    /// BGSAVE: the snapshot is taken now, the file is written by the background thread to a temporary file in
    /// `dir`, fsynced and renamed over `dbfilename` (then the directory is fsynced).
    ///
    /// - Returns: Redis's status reply.
    /// - Throws: `ERR Background save already in progress`, or another job is running (with `schedule`, the save
    ///   is queued instead).
    func backgroundSave(schedule: Bool = false) throws(CommandError) -> Reply {
        guard config.persistenceAvailable else { throw CommandError("ERR persistence is not available (persistence-available no)") }
        if let job = persistence.job {
            if job.kind == .rdb { throw CommandError("ERR Background save already in progress") }
            guard schedule else {
                throw CommandError(
                    "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.")
            }
            persistence.backgroundSaveScheduled = true
            return .status("Background saving scheduled")
        }
        startBackgroundSave()
        return .status("Background saving started")
    }

    /// Starts the RDB job (no job may be running).
    func startBackgroundSave() {
        precondition(persistence.job == nil, "one background job at a time")
        let snapshot = takeSnapshot()
        let resident = MemoryUsage.residentBytes
        persistence.job = BackgroundJob(
            kind: .rdb, startedAt: Keyspace.unixMilliseconds(), dirtyAtStart: keyspace.dirty, residentAtStart: resident,
            peakResident: resident)
        persistence.lastBackgroundSaveTry = Keyspace.unixMilliseconds()
        persistence.backgroundSaveScheduled = false
        serverLog.notice("Background saving started (snapshot taken in \(persistence.latestSnapshotMicroseconds) microseconds)")
        let path = rdbPath
        let options = rdbWriteOptions
        let aux = rdbAux
        persistence.runInBackground(on: loop, {
            // Encoders on every core, on CPU time nothing else wants (the event loop first, always).
            try Keyspace.saveRDB(
                snapshot, path: path, options: options, aux: aux, encoders: ProcessInfo.processInfo.activeProcessorCount,
                encoderPriority: .idle)
        }) { [unowned self] result in
            self.backgroundSaveDone(result)
        }
    }

    private func backgroundSaveDone(_ result: Result<Int, any Error>) {
        guard let job = persistence.job, job.kind == .rdb else { return }
        persistence.job = nil
        sampleJobMemory(job)
        persistence.lastRDBExtraBytes = max(0, job.peakResident - job.residentAtStart)
        persistence.lastBackgroundSaveSeconds = Int((Keyspace.unixMilliseconds() - job.startedAt) / 1000)
        switch result {
        case .success:
            keyspace.dirty -= job.dirtyAtStart
            lastSave = Int64(Date().timeIntervalSince1970)
            persistence.lastBackgroundSaveOK = true
            lastSaveSucceeded = true
            saves += 1
            updateWriteDenial()
            serverLog.notice("Background saving terminated with success")
        case .failure(let error):
            persistence.lastBackgroundSaveOK = false
            lastSaveSucceeded = false
            serverLog.warning("Background saving error: \(error)")
            updateWriteDenial()
        }
        startScheduledJobs()
    }

    /// `-MISCONF` (Redis's `writeCommandsDeniedByDiskError`): writes (and PING) are refused while the last
    /// background save failed, `stop-writes-on-bgsave-error yes` and save points are configured; else, with the
    /// AOF on, while its last write or background fsync failed (the message names that error).
    func updateWriteDenial() {
        if !persistence.lastBackgroundSaveOK && config["stop-writes-on-bgsave-error"] == "yes" && !config.savePoints.isEmpty {
            keyspace.writeDeniedError = CommandError(ServerCore.misconfMessage)
        } else if let log = persistence.aof, let failure = persistence.lastAOFWriteFailure ?? log.reportedSyncFailure {
            keyspace.writeDeniedError = CommandError("MISCONF Errors writing to the AOF file: \(String(cString: strerror(failure)))")
        } else {
            keyspace.writeDeniedError = nil
        }
    }

    /// Records the resident size while a job runs, for the copy-on-write figures.
    func sampleJobMemory(_ job: BackgroundJob? = nil) {
        guard var current = job ?? persistence.job else { return }
        current.peakResident = max(current.peakResident, MemoryUsage.residentBytes)
        if job == nil { persistence.job = current }
    }

    /// Runs a save or rewrite that was scheduled while another job ran.
    func startScheduledJobs() {
        guard persistence.job == nil else { return }
        if persistence.rewriteScheduled {
            startRewrite()
        } else if persistence.backgroundSaveScheduled {
            startBackgroundSave()
        }
    }

    /// Called by the cron: memory sampling, save points (`save <seconds> <changes>`), scheduled jobs, AOF fsync
    /// and automatic rewrites.
    func persistenceCron() {
        sampleJobMemory()
        startScheduledJobs()
        persistence.aof?.cron(server: self)
        if persistence.job == nil, config.persistenceAvailable {
            let now = Keyspace.unixMilliseconds()
            let sinceSave = now / 1000 - lastSave
            // A failed save is retried after 5 seconds (CONFIG_BGSAVE_RETRY_DELAY), not at every tick.
            let retryAllowed = persistence.lastBackgroundSaveOK || now - persistence.lastBackgroundSaveTry > 5000
            for point in config.savePoints where keyspace.dirty >= point.changes && sinceSave >= Int64(point.seconds) && retryAllowed {
                serverLog.notice("\(point.changes) changes in \(point.seconds) seconds. Saving...")
                startBackgroundSave()
                break
            }
        }
        if persistence.job == nil { checkAutomaticRewrite() }
    }

    /// INFO persistence.
    var persistenceInfo: [String] {
        let now = Keyspace.unixMilliseconds()
        let job = persistence.job
        let rdbRunning = job?.kind == .rdb
        let aofRunning = job?.kind == .aofRewrite
        let extra = job.map { max(0, $0.peakResident - $0.residentAtStart) } ?? 0
        let aof = persistence.aof
        var lines = [
            "loading:0", "async_loading:0",
            "current_cow_peak:\(extra)", "current_cow_size:\(extra)", "current_cow_size_age:0",
            "current_fork_perc:0.00", "current_save_keys_processed:0", "current_save_keys_total:0",
            "rdb_changes_since_last_save:\(keyspace.dirty)",
            "rdb_bgsave_in_progress:\(rdbRunning ? 1 : 0)",
            "rdb_last_save_time:\(lastSave)",
            "rdb_last_bgsave_status:\(persistence.lastBackgroundSaveOK ? "ok" : "err")",
            "rdb_last_bgsave_time_sec:\(persistence.lastBackgroundSaveSeconds)",
            "rdb_current_bgsave_time_sec:\(rdbRunning ? Int((now - job!.startedAt) / 1000) : -1)",
            "rdb_saves:\(saves)",
            "rdb_last_cow_size:\(persistence.lastRDBExtraBytes)",
            "rdb_last_load_keys_expired:\(lastLoad?.expiredSkipped ?? 0)",
            "rdb_last_load_keys_loaded:\(lastLoad?.keysLoaded ?? 0)",
            "aof_enabled:\(aof != nil ? 1 : 0)",
            "aof_rewrite_in_progress:\(aofRunning ? 1 : 0)",
            "aof_rewrite_scheduled:\(persistence.rewriteScheduled ? 1 : 0)",
            "aof_last_rewrite_time_sec:\(persistence.lastRewriteSeconds)",
            "aof_current_rewrite_time_sec:\(aofRunning ? Int((now - job!.startedAt) / 1000) : -1)",
            "aof_last_bgrewrite_status:\(persistence.lastRewriteOK ? "ok" : "err")",
            "aof_rewrites:\(persistence.rewrites)",
            "aof_rewrites_consecutive_failures:\(persistence.rewriteConsecutiveFailures)",
            "aof_last_write_status:\(persistence.lastAOFWriteFailure == nil && aof?.reportedSyncFailure == nil ? "ok" : "err")",
            "aof_last_cow_size:\(persistence.lastAOFExtraBytes)",
            "module_fork_in_progress:0", "module_fork_last_cow_size:0",
        ]
        if let aof {
            lines += [
                "aof_current_size:\(aof.currentSize)", "aof_base_size:\(aof.baseSize)",
                "aof_pending_rewrite:\(persistence.rewriteScheduled ? 1 : 0)", "aof_buffer_length:0",
                "aof_pending_bio_fsync:0", "aof_delayed_fsync:0",
            ]
        }
        return lines
    }

    func registerPersistenceCommands() {
        let commands: [CommandSpec] = [
            CommandSpec("bgsave", arity: -1, flags: [.admin, .noScript], group: "server") {
                [unowned self] context throws(CommandError) in
                var schedule = false
                if context.count > 1 {
                    guard context.count == 2, context[1].isKeyword("schedule") else { throw .syntax }
                    schedule = true
                }
                return try backgroundSave(schedule: schedule)
            },
            CommandSpec("bgrewriteaof", arity: 1, flags: [.admin, .noScript], group: "server") {
                [unowned self] _ throws(CommandError) in
                try backgroundRewrite()
            },
        ]
        for command in commands { keyspace.commands.register(command) }
    }
}
