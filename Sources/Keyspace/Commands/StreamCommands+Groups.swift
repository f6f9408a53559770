// MARK: - XGROUP, XACK, XPENDING

// Group bookkeeping (consumers, pending entries, last IDs) adds to `dirty` without touching WATCH, as Redis 7.0
// does: only XADD, XDEL, XTRIM and a stream created by XGROUP CREATE … MKSTREAM signal the key modified.

extension CommandTable {
    static let streamGroupCommands: [CommandSpec] =
        [
            CommandSpec("xgroup", arity: -2, flags: [.write], keys: (2, 2, 1), group: "stream") {
                context throws(CommandError) in
                try StreamCommand.group(&context)
            },
            CommandSpec("xack", arity: -4, flags: [.write, .fast], keys: (1, 1, 1), group: "stream") {
                context throws(CommandError) in
                try StreamCommand.acknowledge(&context)
            },
            CommandSpec("xpending", arity: -3, flags: [.readonly], keys: (1, 1, 1), group: "stream") {
                context throws(CommandError) in
                try StreamCommand.pending(&context)
            },
        ] + streamClaimCommands
}

extension StreamCommand {
    // MARK: - XGROUP

    /// XGROUP's subcommands, with the arities of Redis 7.0's `xgroup|…` entries.
    private static let groupSubcommands: [SubcommandSpec] = [
        SubcommandSpec("create", arity: -5, flags: [.write, .denyOOM]) { context throws(CommandError) in
            try groupCreate(&context)
        },
        SubcommandSpec("setid", arity: -5, flags: [.write]) { context throws(CommandError) in try groupSetID(&context)
        },
        SubcommandSpec("destroy", arity: 4, flags: [.write]) { context throws(CommandError) in
            try groupDestroy(&context)
        },
        SubcommandSpec("createconsumer", arity: 5, flags: [.write, .denyOOM]) { context throws(CommandError) in
            try groupCreateConsumer(&context)
        },
        SubcommandSpec("delconsumer", arity: 5, flags: [.write]) { context throws(CommandError) in
            try groupDeleteConsumer(&context)
        },
        SubcommandSpec("help", arity: 2, flags: [.loading, .stale]) { _ throws(CommandError) in
            .array(groupHelp.map { .status($0) })
        },
    ]

    private static let groupHelp = [
        "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CREATE <key> <groupname> <id|$> [option]",
        "    Create a new consumer group. Options are:",
        "    * MKSTREAM",
        "      Create the empty stream if it does not exist.",
        "    * ENTRIESREAD entries_read",
        "      Set the group's entries_read counter (internal use).",
        "CREATECONSUMER <key> <groupname> <consumer>",
        "    Create a new consumer in the specified group.",
        "DELCONSUMER <key> <groupname> <consumer>",
        "    Remove the specified consumer.",
        "DESTROY <key> <groupname>",
        "    Remove the specified group.",
        "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
        "    Set the current group ID and entries_read counter.",
        "HELP",
        "    Prints this help.",
    ]

    /// `XGROUP CREATE|SETID|DESTROY|CREATECONSUMER|DELCONSUMER|HELP …`
    static func group(_ context: inout CommandContext) throws(CommandError) -> Reply {
        try CommandTable.dispatch(&context, container: "xgroup", groupSubcommands)
    }

    /// What every XGROUP subcommand but HELP checks first, in Redis's order: the CREATE / SETID options
    /// (MKSTREAM, ENTRIESREAD), then the key (which must exist unless MKSTREAM), then, when `groupNeeded`, the
    /// group. Returns MKSTREAM, ENTRIESREAD (nil: -1) and whether the key exists.
    private static func groupPreamble(
        _ context: CommandContext, options: Bool = false, groupNeeded: Bool = false
    ) throws(CommandError) -> (makeStream: Bool, entriesRead: Int64?, keyExists: Bool) {
        var makeStream = false
        var entriesRead: Int64? = nil
        var index = 5
        while options && index < context.count {
            if context[1].isKeyword("create") && context[index].isKeyword("mkstream") {
                makeStream = true
                index += 1
            } else if context[index].isKeyword("entriesread") && index + 1 < context.count {
                let value = try context.integer(index + 1)
                guard value >= -1 else { throw CommandError("ERR value for ENTRIESREAD must be positive or -1") }
                entriesRead = value == -1 ? nil : value
                index += 2
            } else {
                throw StreamArguments.subcommandSyntax(context)
            }
        }
        let (keyExists, groupExists) = try groupTarget(context, key: context[2], group: context[3])
        if !keyExists && !makeStream {
            throw CommandError(
                "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically."
            )
        }
        if groupNeeded && !groupExists { throw StreamArguments.noSuchGroup(context[3], key: context[2]) }
        return (makeStream, entriesRead, keyExists)
    }

    /// Whether the key exists (as a stream; `WRONGTYPE` otherwise) and has the group, without counting a
    /// keyspace hit (Redis's `lookupKeyWrite`) or keeping a reference to the value.
    private static func groupTarget(_ context: CommandContext, key: Bytes, group: Bytes) throws(CommandError) -> (
        Bool, Bool
    ) {
        guard let value = context.keyspace.value(db: context.db, key: key) else { return (false, false) }
        guard case .stream(let stream) = value else { throw .wrongType }
        return (true, stream.groupIndex(group) != nil)
    }

    /// `XGROUP CREATE key group id|$ [MKSTREAM] [ENTRIESREAD n]`
    private static func groupCreate(_ context: inout CommandContext) throws(CommandError) -> Reply {
        let (_, entriesRead, keyExists) = try groupPreamble(context, options: true)
        guard context.count <= 8 else { throw StreamArguments.subcommandSyntax(context) }
        let idArgument = context[4]
        let groupName = context[3]
        // The ID is checked before MKSTREAM creates anything.
        let given = idArgument == "$" ? nil : try StreamArguments.id(idArgument, strict: true)
        let made =
            try context.keyspace.update(StreamValue.self, db: context.db, key: context[2], create: !keyExists) {
                stream throws(CommandError) -> Bool in
                stream.createGroup(groupName, lastID: given ?? stream.lastID, entriesRead: entriesRead)
            } ?? false
        // A stream made by MKSTREAM is a new key (WATCH sees it).
        if !keyExists { context.keyspace.modified(db: context.db, key: context[2], changes: 0) }
        guard made else { throw CommandError("BUSYGROUP Consumer Group name already exists") }
        context.keyspace.dirty += 1
        return .ok
    }

    /// `XGROUP SETID key group id|$ [ENTRIESREAD n]`: the read counter becomes n, or unknown.
    private static func groupSetID(_ context: inout CommandContext) throws(CommandError) -> Reply {
        let (_, entriesRead, _) = try groupPreamble(context, options: true, groupNeeded: true)
        guard context.count == 5 || context.count == 7 else { throw StreamArguments.subcommandSyntax(context) }
        let idArgument = context[4]
        let groupName = context[3]
        try context.keyspace.update(StreamValue.self, db: context.db, key: context[2]) { stream throws(CommandError) in
            let id = idArgument == "$" ? stream.lastID : try StreamArguments.id(idArgument, strict: false)
            stream.modifyGroup(at: stream.groupIndex(groupName)!) { group in
                group.lastID = id
                group.entriesRead = entriesRead
            }
        }
        context.keyspace.dirty += 1
        return .ok
    }

    /// `XGROUP DESTROY key group`: 1 when the group existed.
    private static func groupDestroy(_ context: inout CommandContext) throws(CommandError) -> Reply {
        _ = try groupPreamble(context)
        let groupName = context[3]
        let destroyed =
            try context.keyspace.update(StreamValue.self, db: context.db, key: context[2]) {
                stream throws(CommandError) in stream.destroyGroup(groupName)
            } ?? false
        if destroyed { context.keyspace.dirty += 1 }
        return .boolean(destroyed)
    }

    /// `XGROUP CREATECONSUMER key group consumer`: 1 when it was created.
    private static func groupCreateConsumer(_ context: inout CommandContext) throws(CommandError) -> Reply {
        _ = try groupPreamble(context, groupNeeded: true)
        let (groupName, consumer, now) = (context[3], context[4], context.now)
        let created =
            try context.keyspace.update(StreamValue.self, db: context.db, key: context[2]) {
                stream throws(CommandError) in
                stream.modifyGroup(at: stream.groupIndex(groupName)!) { $0.createConsumer(consumer, now: now) }
            } ?? false
        if created { context.keyspace.dirty += 1 }
        return .boolean(created)
    }

    /// `XGROUP DELCONSUMER key group consumer`: the number of pending entries the consumer had.
    private static func groupDeleteConsumer(_ context: inout CommandContext) throws(CommandError) -> Reply {
        _ = try groupPreamble(context, groupNeeded: true)
        let (key, groupName, consumer) = (context[2], context[3], context[4])
        guard stream(context, key)?.group(named: groupName)?.consumer(named: consumer) != nil else {
            return .integer(0)
        }
        let pending =
            try context.keyspace.update(StreamValue.self, db: context.db, key: key) {
                stream throws(CommandError) in
                stream.modifyGroup(at: stream.groupIndex(groupName)!) { $0.deleteConsumer(consumer) }
            } ?? nil
        context.keyspace.dirty += 1
        return .count(pending ?? 0)
    }

    /// The stream at `key` without counting a keyspace hit (Redis's `lookupKeyWrite`), nil when missing or of
    /// another type.
    static func stream(_ context: CommandContext, _ key: Bytes) -> StreamValue? {
        guard case .stream(let stream)? = context.keyspace.value(db: context.db, key: key) else { return nil }
        return stream
    }

    // MARK: - XACK

    /// `XACK key group id [id …]`: the number of entries acknowledged.
    static func acknowledge(_ context: inout CommandContext) throws(CommandError) -> Reply {
        let key = context[1]
        let groupName = context[2]
        guard
            let groupIndex = try context.keyspace.read(StreamValue.self, db: context.db, key: key)?.groupIndex(
                groupName)
        else {
            return .integer(0)
        }
        var ids: [StreamID] = []
        ids.reserveCapacity(context.count - 3)
        for argument in context.argv[3...] { ids.append(try StreamArguments.id(argument, strict: true)) }
        // Acknowledging nothing must not copy a stream a snapshot shares.
        let anyPending = stream(context, key).map { stream in
            ids.contains { stream.groups[groupIndex].pending.contains($0) }
        }
        guard anyPending == true else { return .integer(0) }
        let acknowledged =
            try context.keyspace.update(StreamValue.self, db: context.db, key: key) {
                stream throws(CommandError) -> Int in
                stream.modifyGroup(at: groupIndex) { group in ids.reduce(0) { $0 + (group.acknowledge($1) ? 1 : 0) } }
            } ?? 0
        context.keyspace.dirty += acknowledged
        return .count(acknowledged)
    }

    // MARK: - XPENDING

    /// `XPENDING key group [[IDLE min-idle] start end count [consumer]]`.
    static func pending(_ context: inout CommandContext) throws(CommandError) -> Reply {
        let summary = context.count == 3
        guard summary || (6...9).contains(context.count) else { throw .syntax }
        var minIdle: Int64 = 0
        var start = StreamID.zero
        var end = StreamID.max
        var count = 0
        var consumerName: Bytes? = nil
        if !summary {
            var first = 3
            if context[3].isKeyword("idle") {
                minIdle = try context.integer(4)
                guard context.count >= 8 else { throw .syntax }
                first += 2
            }
            count = try StreamArguments.count(context, first + 2)
            start = try StreamArguments.rangeStart(context[first])
            end = try StreamArguments.rangeEnd(context[first + 1])
            if first + 3 < context.count { consumerName = context[first + 3] }
        }
        guard let stream = try context.read(StreamValue.self, key: 1),
            let group = stream.group(named: context[2])
        else { throw StreamArguments.noKeyOrGroup(context[1], context[2]) }

        if summary {
            guard let first = group.pending.first, let last = group.pending.last else {
                return .array([.integer(0), .null, .null, .nullArray])
            }
            let owners = group.consumers.filter { !$0.pending.isEmpty }.map {
                Reply.array([.bulk($0.name), .bulk(Bytes(integer: Int64($0.pending.count)))])
            }
            return .array([.count(group.pending.count), first.id.reply, last.id.reply, .array(owners)])
        }
        let now = context.now
        var entries: [StreamPendingEntry] = []
        var consumer: StreamConsumer? = nil
        if let consumerName {
            guard let found = group.consumer(named: consumerName) else { return .emptyArray }
            consumer = found
        }
        // Walk the consumer's list or the group's, skipping entries not idle long enough, until COUNT.
        var next: StreamID? = start
        while entries.count < count, let cursor = next {
            let entry: StreamPendingEntry?
            if let consumer {
                entry = consumer.pending.first(atOrAfter: cursor).flatMap { group.pending[$0] }
            } else {
                entry = group.pending.first(atOrAfter: cursor)
            }
            guard let entry, entry.id <= end else { break }
            next = entry.id.successor
            if minIdle == 0 || now - entry.deliveryTime >= minIdle { entries.append(entry) }
        }
        return .array(
            entries.map { entry in
                .array([
                    entry.id.reply, .bulk(entry.consumer), .integer(Swift.max(0, now - entry.deliveryTime)),
                    .integer(Int64(bitPattern: entry.deliveryCount)),
                ])
            })
    }
}
