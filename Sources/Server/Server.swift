import Formats
import Foundation
import Keyspace
import Logging
import NIOCore
import NIOPosix

// MARK: - The server: one event loop owns the keyspace, the listeners and every connection
//
// Like Redis's main thread, a single NIO event loop accepts, reads, executes and writes: commands run one at a
// time against the one `Keyspace` without locks, and a pipeline's replies are flushed once per read batch. Work
// that may leave the loop (a background save, issue #6) takes `keyspace.snapshot()`, an O(1) copy.

/// Counters behind INFO stats and commandstats.
struct ServerStatistics {
    var connectionsReceived = 0
    var rejectedConnections = 0
    var netInputBytes = 0
    var netOutputBytes = 0
    var errorReplies = 0
    /// Per command (index of ``CommandNameTable``): calls, microseconds, failed calls.
    var calls: [Int] = []
    var microseconds: [Int] = []
    var failedCalls: [Int] = []
    var rejectedCalls: [Int] = []
    /// Error replies by their first word (`ERR`, `WRONGTYPE`…).
    var errorCodes: [String: Int] = [:]
    /// (time in ms, commands processed) every cron tick, for instantaneous_ops_per_sec.
    var opsSamples: [(Int64, Int)] = []

    mutating func reset(commands: Int) {
        self = ServerStatistics()
        calls = Array(repeating: 0, count: commands)
        microseconds = calls
        failedCalls = calls
        rejectedCalls = calls
    }
}

/// The running server. Confined to ``loop``: every method runs on it (handlers, cron, commands).
final class ServerCore: @unchecked Sendable {
    var config: ServerConfig
    let keyspace: Keyspace
    let loop: any EventLoop
    /// Command name → spec and statistics slot (the connection handlers read it once per batch).
    private(set) var names: CommandNameTable
    var stats = ServerStatistics()
    /// Connected clients by session id.
    var clients: [Int64: RESPServerHandler] = [:]
    private var listeners: [any Channel] = []
    private var cron: RepeatedTask?
    /// Unix seconds of the last successful save (LASTSAVE), start-up time until then.
    var lastSave: Int64
    var lastSaveSucceeded = true
    var saves = 0
    let startTime = Date()
    let runID: String = (0..<40).map { _ in String("0123456789abcdef".randomElement()!) }.joined()
    var activeExpireEnabled = true
    var lastLoad: RDBLoadSummary?
    /// Background jobs, save status and the AOF (Persistence/).
    let persistence = PersistenceState()
    private var shuttingDown = false
    /// Completed by ``shutdown(save:force:)``; made by ``start()``.
    private var closed: EventLoopPromise<Void>?

    /// Creates the keyspace and the command table; nothing listens yet.
    init(config: ServerConfig, loop: any EventLoop) {
        self.config = config
        self.loop = loop
        keyspace = Keyspace(databases: config.databases)
        lastSave = Int64(Date().timeIntervalSince1970)
        names = CommandNameTable(keyspace.commands)
        applyConfiguration()
        registerServerCommands()
        registerPersistenceCommands()
        for (from, to) in config.renamedCommands { renameCommand(from, to) }
        names = CommandNameTable(keyspace.commands)
        stats.reset(commands: names.specs.count)
    }

    /// Completes when the server has shut down.
    var closeFuture: EventLoopFuture<Void> { closed?.futureResult ?? loop.makeSucceededVoidFuture() }

    /// Applies the parameters the keyspace reads (password, encoding thresholds).
    func applyConfiguration() {
        keyspace.requirePass = config.requirePass.map { Bytes($0) }
        var limits = EncodingLimits()
        limits.hashMaxListpackEntries = Int(config["hash-max-listpack-entries"]) ?? limits.hashMaxListpackEntries
        limits.hashMaxListpackValue = Int(config["hash-max-listpack-value"]) ?? limits.hashMaxListpackValue
        limits.zsetMaxListpackEntries = Int(config["zset-max-listpack-entries"]) ?? limits.zsetMaxListpackEntries
        limits.zsetMaxListpackValue = Int(config["zset-max-listpack-value"]) ?? limits.zsetMaxListpackValue
        limits.setMaxIntsetEntries = Int(config["set-max-intset-entries"]) ?? limits.setMaxIntsetEntries
        limits.listMaxListpackSize = Int(config["list-max-listpack-size"]) ?? limits.listMaxListpackSize
        keyspace.encodingLimits = limits
    }

    /// `rename-command old new` (an empty new name removes the command).
    private func renameCommand(_ from: String, _ to: String) {
        guard let spec = keyspace.commands[from] else {
            serverLog.warning("rename-command: no such command '\(from)'")
            return
        }
        var table = CommandTable()
        for (name, existing) in keyspace.commands.specs where name != from { table.register(existing) }
        if !to.isEmpty {
            table.register(spec.renamed(to))
        }
        keyspace.commands = table
    }

    // MARK: - Start-up

    /// Loads `dir/dbfilename` when it exists (and persistence is available).
    /// - Throws: the reader's error; the caller logs it and exits as Redis does.
    func loadDataset() throws {
        guard config.persistenceAvailable else { return }
        removeAbandonedTemporaryFiles()
        // With appendonly yes the AOF is the source of truth, as in Redis (the RDB is not read).
        if config["appendonly"] == "yes" {
            try loadAppendOnlyFile()
            return
        }
        guard FileManager.default.fileExists(atPath: config.dbfilename) else { return }
        let start = Date()
        let summary = try keyspace.loadRDB(path: config.dbfilename)
        lastLoad = summary
        keyspace.dirty = 0
        if let header = summary.header {
            serverLog.notice("Loading RDB produced by version \(summary.aux.first { $0.key == "redis-ver" }?.value.string ?? "unknown") (RDB \(header.version))")
        }
        serverLog.notice("Done loading RDB, keys loaded: \(summary.keysLoaded), keys expired: \(summary.expiredSkipped).")
        serverLog.notice("DB loaded from disk: \(String(format: "%.3f", Date().timeIntervalSince(start))) seconds")
    }

    /// Removes what saves and rewrites killed mid-way (kill -9, power loss) left: temporary files next to
    /// `dbfilename` and in the AOF directory whose writer no longer runs. Redis leaves its `temp-<pid>.rdb`
    /// files behind; a server restarted in a loop after crashes would otherwise fill the disk with them.
    private func removeAbandonedTemporaryFiles() {
        let dump = config.dbfilename as NSString
        var removed = FileSink.removeAbandonedTemporaryFiles(
            in: dump.deletingLastPathComponent, destinations: [dump.lastPathComponent])
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: aofDirectory, isDirectory: &isDirectory), isDirectory.boolValue {
            removed += FileSink.removeAbandonedTemporaryFiles(in: aofDirectory)
        }
        for path in removed {
            serverLog.notice("Removed the temporary file \(path) left by an interrupted save or rewrite")
        }
    }

    /// Binds every `bind` address on `port`, one after the other, and starts the cron. Runs on ``loop``.
    /// - Returns: a future that fails when no listener could be created (an address prefixed with `-` may fail
    ///   alone).
    func start() -> EventLoopFuture<Void> {
        loop.assertInEventLoop()
        closed = loop.makePromise()
        var bound = loop.makeSucceededVoidFuture()
        if config.port != 0 {
            for raw in config.bindAddresses {
                let optional = raw.hasPrefix("-")
                let address = optional ? String(raw.dropFirst()) : raw
                let host = address == "*" ? "0.0.0.0" : address == "::*" ? "::" : address
                bound = bound.flatMap { [self] in
                    makeBootstrap().bind(host: host, port: config.port).map { self.listeners.append($0) }
                        .flatMapError { error in
                            serverLog.warning(
                                "Warning: Could not create server TCP listening socket \(raw):\(self.config.port): \(error)")
                            return optional ? self.loop.makeSucceededVoidFuture() : self.loop.makeFailedFuture(error)
                        }
                }
            }
        }
        return bound.flatMapThrowing { [self] in
            if config.port != 0 && listeners.isEmpty {
                throw ListenError(description: "Failed listening on port \(config.port) (TCP), aborting.")
            }
            startCron()
        }
    }

    struct ListenError: Error, CustomStringConvertible {
        var description: String
    }

    private func makeBootstrap() -> ServerBootstrap {
        ServerBootstrap(group: loop, childGroup: loop)
            .serverChannelOption(.backlog, value: Int32(clamping: config.tcpBacklog))
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            // One read of at most 64 KiB per connection per turn of the loop, as Redis reads 16 KiB (PROTO_IOBUF_LEN)
            // per client per event: a deep pipeline gets a bounded slice of the loop. Sixteen reads of 256 KiB were
            // 4 MiB of commands answered before any other client (seconds in a debug build; HostileClientTests).
            .childChannelOption(.maxMessagesPerRead, value: 1)
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 16 * 1024, maximum: 64 * 1024))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RESPServerHandler(server: self))
                }
            }
    }

    // MARK: - Cron (Redis serverCron at `hz`)

    private func startCron() {
        cron?.cancel()
        let interval = TimeAmount.milliseconds(Int64(1000 / config.hz))
        cron = loop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [weak self] _ in
            self?.cronTick()
        }
    }

    /// Restarts the cron after CONFIG SET hz.
    func restartCron() { startCron() }

    private var lastTimeoutCheck: Int64 = 0

    private func cronTick() {
        if activeExpireEnabled { keyspace.activeExpireCycle() }
        // Keys expired by the cycle propagate DELs: they reach the AOF like any write.
        flushAppendOnlyLogBeforeReplies()
        persistenceCron()
        let now = Keyspace.unixMilliseconds()
        stats.opsSamples.append((now, keyspace.commandsProcessed))
        if stats.opsSamples.count > 16 { stats.opsSamples.removeFirst(stats.opsSamples.count - 16) }
        if config.timeout > 0, now - lastTimeoutCheck >= 1000 {
            lastTimeoutCheck = now
            let limit = config.timeout * 1000
            for client in clients.values where !client.session.inMulti && now - client.session.lastInteraction > limit {
                serverLog.log(level: .info, "Closing idle client")
                client.closeNow()
            }
        }
    }

    /// Commands per second over the recent cron samples.
    var instantaneousOpsPerSecond: Int {
        guard let first = stats.opsSamples.first, let last = stats.opsSamples.last, last.0 > first.0 else { return 0 }
        return (last.1 - first.1) * 1000 / Int(last.0 - first.0)
    }

    // MARK: - Clients

    /// Registers a new connection; false (after replying the error) when `maxclients` is reached.
    func register(_ client: RESPServerHandler) -> Bool {
        stats.connectionsReceived += 1
        guard clients.count < config.maxClients else {
            stats.rejectedConnections += 1
            return false
        }
        client.session.authenticated = keyspace.requirePass == nil
        clients[client.session.id] = client
        return true
    }

    func unregister(_ client: RESPServerHandler) {
        guard clients.removeValue(forKey: client.session.id) != nil else { return }
        keyspace.sessionClosed(client.session)
    }

    // MARK: - Saving

    /// `dir/dbfilename` relative to the working directory (the server chdirs into `dir`).
    var rdbPath: String { config.dbfilename }

    /// The RDB writer options from the configuration.
    var rdbWriteOptions: RDBWriteOptions {
        var options = RDBWriteOptions()
        options.compression = config["rdbcompression"] != "no"
        options.checksum = config["rdbchecksum"] != "no"
        let limits = keyspace.encodingLimits
        options.hashMaxListpackEntries = limits.hashMaxListpackEntries
        options.hashMaxListpackValue = limits.hashMaxListpackValue
        options.zsetMaxListpackEntries = limits.zsetMaxListpackEntries
        options.zsetMaxListpackValue = limits.zsetMaxListpackValue
        options.setMaxIntsetEntries = limits.setMaxIntsetEntries
        return options
    }

    /// The AUX fields Redis writes in an RDB header.
    var rdbAux: [(key: String, value: String)] {
        [
            ("redis-ver", RedisCompatibility.version), ("redis-bits", "64"),
            ("ctime", String(Int64(Date().timeIntervalSince1970))), ("used-mem", String(MemoryUsage.allocatedBytes)),
            ("aof-base", "0"),
        ]
    }

    /// SAVE: writes the dataset synchronously and atomically; resets `dirty` and LASTSAVE on success.
    /// - Throws: the writer's error (already logged).
    func saveSynchronously() throws {
        guard config.persistenceAvailable else { throw PersistenceUnavailable() }
        if persistence.job?.kind == .rdb { throw BackgroundSaveInProgress() }
        let dirtyBefore = keyspace.dirty
        do {
            // The server waits for SAVE anyway: every core encodes.
            _ = try Keyspace.saveRDB(
                keyspace.snapshot(), path: rdbPath, options: rdbWriteOptions, aux: rdbAux,
                encoders: ProcessInfo.processInfo.activeProcessorCount)
        } catch {
            lastSaveSucceeded = false
            serverLog.warning("Failed saving the DB: \(error)")
            throw error
        }
        keyspace.dirty -= dirtyBefore
        lastSave = Int64(Date().timeIntervalSince1970)
        lastSaveSucceeded = true
        saves += 1
        // As Redis's rdbSave: a good save clears a failed BGSAVE's status and its -MISCONF (a failed SAVE leaves
        // the status as it was).
        persistence.lastBackgroundSaveOK = true
        updateWriteDenial()
        serverLog.notice("DB saved on disk")
    }

    struct BackgroundSaveInProgress: Error, CustomStringConvertible {
        var description: String { "Background save already in progress" }
    }

    struct PersistenceUnavailable: Error, CustomStringConvertible {
        var description: String { "persistence is not available (persistence-available no)" }
    }

    /// DEBUG RELOAD / FLUSHLOAD: empties the dataset and loads the RDB file again.
    func reloadDataset() throws {
        guard config.persistenceAvailable else { throw PersistenceUnavailable() }
        keyspace.flush()
        let summary = try keyspace.loadRDB(path: rdbPath)
        lastLoad = summary
        keyspace.dirty = 0
        serverLog.notice("DB reloaded by DEBUG RELOAD")
    }

    // MARK: - Shutdown

    /// Saves when save points are configured (or `save` is forced), removes the pid file and closes everything.
    /// Returns false when the final save failed (the server keeps running), as Redis's `prepareForShutdown`.
    @discardableResult
    func shutdown(save: Bool?, force: Bool = false) -> Bool {
        guard !shuttingDown else { return true }
        serverLog.warning("User requested shutdown...")
        let shouldSave = save ?? !config.savePoints.isEmpty
        if shouldSave, config.persistenceAvailable {
            serverLog.notice("Saving the final RDB snapshot before exiting.")
            do {
                try saveSynchronously()
            } catch {
                if !force {
                    serverLog.warning("Error trying to save the DB, can't exit.")
                    return false
                }
            }
        }
        if let log = persistence.aof {
            flushAppendOnlyLogBeforeReplies()
            do {
                try log.close()
                serverLog.notice("Calling fsync() on the AOF file.")
            } catch {
                serverLog.warning("Error closing the AOF file: \(error)")
            }
        }
        shuttingDown = true
        if let pidfile = config.pidfile {
            serverLog.notice("Removing the pid file.")
            unlink(pidfile)
        }
        serverLog.warning("Redis is now ready to exit, bye bye...")
        cron?.cancel()
        let closing = listeners.map { $0.close() } + clients.values.map { $0.closeNow() }
        clients.removeAll()
        EventLoopFuture.andAllComplete(closing, on: loop).whenComplete { _ in self.closed?.succeed(()) }
        return true
    }
}
