import HashTreeCollections

// MARK: - Executing commands

extension Keyspace {
    /// Runs one command for `session` and returns its reply: name lookup, arity, authentication, MULTI queueing,
    /// `-MISCONF`, then the handler; changes are propagated (see ``propagated``).
    ///
    /// - Complexity: that of the command.
    public func execute(_ argv: [Bytes], session: Session) -> Reply {
        guard let first = argv.first else { return .error("ERR empty command") }
        return execute(argv, spec: commands[first.lowercasedASCII], session: session)
    }

    /// ``execute(_:session:)`` with the command already looked up (nil when unknown), for a caller that resolves
    /// names without building a `String` (the server's name table).
    ///
    /// - Complexity: that of the command.
    public func execute(_ argv: [Bytes], spec: CommandSpec?, session: Session) -> Reply {
        guard let spec else {
            if session.inMulti { session.multiFailed = true }
            return .error(Keyspace.unknownCommandMessage(argv))
        }
        guard spec.accepts(argumentCount: argv.count) else {
            if session.inMulti { session.multiFailed = true }
            return .error(CommandError.wrongArity(spec.name).message)
        }
        if requirePass != nil, !session.authenticated, !spec.flags.contains(.noAuth) {
            return .error(CommandError.noAuth.message)
        }
        if session.inMulti, !spec.flags.contains(.transaction) {
            session.queued.append((spec, argv))
            return .queued
        }
        return call(spec, argv, session: session)
    }

    /// Starts a run of commands that share one command time: a server's read batch, whose pipelined commands
    /// then read the clock once (a read per command cost about 3% of a pipelined GET). Commands that wait (DEBUG
    /// SLEEP) move the time on for those after them. Ends with ``endCommandBatch()``.
    public func beginCommandBatch() { commandTime = clock() }

    /// Ends what ``beginCommandBatch()`` started: commands outside a batch read the clock each.
    public func endCommandBatch() { commandTime = 0 }

    /// Runs a resolved command: the part of ``execute(_:session:)`` that EXEC repeats for each queued command.
    func call(_ spec: CommandSpec, _ argv: [Bytes], session: Session) -> Reply {
        // Redis refuses PING too, so that a monitoring check sees the disk error.
        if let writeDeniedError, spec.flags.contains(.write) || spec.name == "ping" {
            return .error(writeDeniedError.message)
        }
        let outer = commandTime
        if outer == 0 { commandTime = clock() }
        defer { if outer == 0 { commandTime = 0 } }
        session.lastCommand = spec.name
        session.lastInteraction = commandTime
        commandsProcessed += 1
        let dirtyBefore = dirty
        let db = session.db
        var context = CommandContext(keyspace: self, session: session, argv: argv)
        let reply: Reply
        do {
            reply = try spec.handler(&context)
        } catch {
            return .error(error.message)
        }
        if dirty != dirtyBefore, spec.flags.contains(.write) {
            if let replacement = context.propagateAs {
                for command in replacement { propagate(db: db, command) }
            } else {
                propagate(db: db, argv)
            }
        }
        return reply
    }

    /// `ERR unknown command 'foo', with args beginning with: 'a' 'b' ` (Redis 7.0's wording, trailing space
    /// included; each argument cut to 128 bytes).
    static func unknownCommandMessage(_ argv: [Bytes]) -> String {
        var message = "ERR unknown command '\(Bytes(argv[0].prefix(128)).string)', with args beginning with: "
        for argument in argv.dropFirst() {
            message += "'\(Bytes(argument.prefix(128)).string)' "
            if message.utf8.count > 1024 { break }
        }
        return message
    }

    // MARK: - WATCH bookkeeping

    func watch(_ key: Bytes, session: Session) {
        let watched = WatchedKey(db: session.db, key: key)
        guard !session.watched.contains(where: { $0.key == watched }) else { return }
        session.watched.append((watched, isLogicallyExpired(db: session.db, key: key)))
        watchers[watched, default: []].append(session)
    }

    /// Forgets all keys `session` watches (UNWATCH, EXEC, DISCARD, and the server when a client disconnects).
    public func unwatchAll(session: Session) {
        for (watched, _) in session.watched {
            watchers[watched]?.removeAll { $0 === session }
            if watchers[watched]?.isEmpty == true { watchers[watched] = nil }
        }
        session.watched.removeAll()
        session.watchTainted = false
    }

    func touchWatched(db: Int, key: Bytes) {
        guard let sessions = watchers[WatchedKey(db: db, key: key)] else { return }
        for session in sessions { session.watchTainted = true }
    }

    /// FLUSHDB / FLUSHALL / SWAPDB: every watcher of a key that exists in `db` is tainted.
    func touchAllWatched(db: Int) {
        for (watched, sessions) in watchers where watched.db == db && databases[db].entries[watched.key] != nil {
            for session in sessions { session.watchTainted = true }
        }
    }

    /// SWAPDB: watchers of keys in either database are tainted when the key exists on either side.
    func touchWatchedForSwap(_ a: Int, _ b: Int) {
        for (watched, sessions) in watchers where watched.db == a || watched.db == b {
            if databases[a].entries[watched.key] != nil || databases[b].entries[watched.key] != nil {
                for session in sessions { session.watchTainted = true }
            }
        }
    }

    /// Swaps two databases (SWAPDB), tainting WATCHes on either.
    public func swapDatabases(_ a: Int, _ b: Int) {
        if !watchers.isEmpty { touchWatchedForSwap(a, b) }
        databases.swapAt(a, b)
        (averageTTL[a], averageTTL[b]) = (averageTTL[b], averageTTL[a])
        dirty += 1
    }

    /// Called by the server when a client goes away.
    public func sessionClosed(_ session: Session) {
        unwatchAll(session: session)
        session.queued.removeAll()
        session.inMulti = false
    }
}

// MARK: - MULTI, EXEC, DISCARD, WATCH, UNWATCH

extension CommandTable {
    static let transactionCommands: [CommandSpec] = [
        CommandSpec("multi", arity: 1, flags: [.noScript, .loading, .stale, .fast, .transaction], group: "transactions") {
            context throws(CommandError) in
            if context.session.inMulti { throw CommandError("ERR MULTI calls can not be nested") }
            context.session.inMulti = true
            context.session.queued = []
            context.session.multiFailed = false
            return .ok
        },
        CommandSpec("exec", arity: 1, flags: [.noScript, .loading, .stale, .transaction], group: "transactions") {
            context throws(CommandError) in
            try context.keyspace.exec(session: context.session)
        },
        CommandSpec("discard", arity: 1, flags: [.noScript, .loading, .stale, .fast, .transaction], group: "transactions") {
            context throws(CommandError) in
            guard context.session.inMulti else { throw CommandError("ERR DISCARD without MULTI") }
            context.keyspace.endTransaction(context.session)
            return .ok
        },
        CommandSpec(
            "watch", arity: -2, flags: [.noScript, .loading, .stale, .fast, .transaction], keys: (1, -1, 1),
            group: "transactions"
        ) { context throws(CommandError) in
            if context.session.inMulti { throw CommandError("ERR WATCH inside MULTI is not allowed") }
            for key in context.argv.dropFirst() { context.keyspace.watch(key, session: context.session) }
            return .ok
        },
        CommandSpec("unwatch", arity: 1, flags: [.noScript, .loading, .stale, .fast, .transaction], group: "transactions") {
            context throws(CommandError) in
            context.keyspace.unwatchAll(session: context.session)
            return .ok
        },
    ]
}

extension Keyspace {
    func endTransaction(_ session: Session) {
        session.inMulti = false
        session.queued = []
        session.multiFailed = false
        unwatchAll(session: session)
    }

    /// EXEC: aborts after a queueing error, returns a null array when a watched key changed or expired, else runs
    /// the queued commands in order and wraps what they propagate in MULTI … EXEC.
    func exec(session: Session) throws(CommandError) -> Reply {
        guard session.inMulti else { throw CommandError("ERR EXEC without MULTI") }
        if session.multiFailed {
            endTransaction(session)
            throw CommandError("EXECABORT Transaction discarded because of previous errors.")
        }
        let expiredSinceWatch = session.watched.contains { watched, expiredWhenWatched in
            !expiredWhenWatched && isLogicallyExpired(db: watched.db, key: watched.key)
        }
        if session.watchTainted || expiredSinceWatch {
            endTransaction(session)
            return .nullArray
        }
        let queued = session.queued
        session.inMulti = false
        session.queued = []
        unwatchAll(session: session)
        let start = propagated.count
        var replies: [Reply] = []
        replies.reserveCapacity(queued.count)
        for (spec, argv) in queued {
            replies.append(call(spec, argv, session: session))
        }
        wrapPropagated(from: start, db: session.db)
        return .array(replies)
    }
}
