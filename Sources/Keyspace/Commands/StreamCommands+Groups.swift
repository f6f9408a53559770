// MARK: - XGROUP, XACK, XPENDING

// Group bookkeeping (consumers, pending entries, last IDs) adds to `dirty` without touching WATCH, as Redis 7.0
// does: only XADD, XDEL, XTRIM and a stream created by XGROUP CREATE … MKSTREAM signal the key modified.

extension CommandTable {
    static let streamGroupCommands: [CommandSpec] = [
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

    /// XGROUP's subcommands and their arities (Redis 7.0's `xgroup|…` table entries).
    private static let groupSubcommands: [(name: StaticString, arity: Int)] = [
        ("create", -5), ("setid", -5), ("destroy", 4), ("createconsumer", 5), ("delconsumer", 5), ("help", 2),
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

    /// The subcommand named by argument 1, after Redis's unknown-subcommand and arity checks.
    static func subcommand(
        _ context: CommandContext, container: String, _ table: [(name: StaticString, arity: Int)]
    ) throws(CommandError) -> String {
        guard let (name, arity) = table.first(where: { context[1].isKeyword($0.name) }) else {
            throw CommandError(
                "ERR unknown subcommand '\(Bytes(context[1].prefix(128)).string)'. Try \(container.uppercased()) HELP.")
        }
        let accepted = arity >= 0 ? context.count == arity : context.count >= -arity
        guard accepted else { throw .wrongArity("\(container)|\(name)") }
        return "\(name)"
    }

    /// `XGROUP CREATE|SETID|DESTROY|CREATECONSUMER|DELCONSUMER|HELP …`
    static func group(_ context: inout CommandContext) throws(CommandError) -> Reply {
        let subcommand = try subcommand(context, container: "xgroup", groupSubcommands)
        if subcommand == "help" { return .array(groupHelp.map { .status($0) }) }
        let key = context[2]
        let groupName = context[3]
        // Options first (CREATE: MKSTREAM, ENTRIESREAD; SETID: ENTRIESREAD), then the key, then the group.
        var makeStream = false
        var entriesRead: Int64? = nil
        if subcommand == "create" || subcommand == "setid" {
            var index = 5
            while index < context.count {
                if subcommand == "create" && context[index].isKeyword("mkstream") {
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
        }
        let (keyExists, groupExists) = try groupTarget(context, key: key, group: groupName)
        if !keyExists && !makeStream {
            throw CommandError(
                "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically."
            )
        }
        if !groupExists && ["setid", "createconsumer", "delconsumer"].contains(subcommand) {
            throw StreamArguments.noSuchGroup(groupName, key: key)
        }
        switch subcommand {
        case "create":
            guard context.count <= 8 else { throw StreamArguments.subcommandSyntax(context) }
            return try createGroup(&context, created: !keyExists, entriesRead: entriesRead)
        case "setid":
            guard context.count == 5 || context.count == 7 else { throw StreamArguments.subcommandSyntax(context) }
            let idArgument = context[4]
            try context.keyspace.update(StreamValue.self, db: context.db, key: key) { stream throws(CommandError) in
                let id = idArgument == "$" ? stream.lastID : try StreamArguments.id(idArgument, strict: false)
                let index = stream.groupIndex(groupName)!
                stream.modifyGroup(at: index) { group in
                    group.lastID = id
                    group.entriesRead = entriesRead
                }
            }
            context.keyspace.dirty += 1
            return .ok
        case "destroy":
            let destroyed = try context.keyspace.update(StreamValue.self, db: context.db, key: key) {
                stream throws(CommandError) in stream.destroyGroup(groupName)
            } ?? false
            if destroyed { context.keyspace.dirty += 1 }
            return .boolean(destroyed)
        case "createconsumer":
            let consumer = context[4]
            let now = context.now
            let created = try context.keyspace.update(StreamValue.self, db: context.db, key: key) {
                stream throws(CommandError) in
                stream.modifyGroup(at: stream.groupIndex(groupName)!) { $0.createConsumer(consumer, now: now) }
            } ?? false
            if created { context.keyspace.dirty += 1 }
            return .boolean(created)
        default:  // delconsumer
            let consumer = context[4]
            guard stream(context, key)?.group(named: groupName)?.consumer(named: consumer) != nil else { return .integer(0) }
            let pending = try context.keyspace.update(StreamValue.self, db: context.db, key: key) {
                stream throws(CommandError) in
                stream.modifyGroup(at: stream.groupIndex(groupName)!) { $0.deleteConsumer(consumer) }
            } ?? nil
            context.keyspace.dirty += 1
            return .count(pending ?? 0)
        }
    }

    /// Whether the key exists (as a stream; `WRONGTYPE` otherwise) and has the group, without counting a
    /// keyspace hit (Redis's `lookupKeyWrite`) or keeping a reference to the value.
    private static func groupTarget(_ context: CommandContext, key: Bytes, group: Bytes) throws(CommandError) -> (Bool, Bool) {
        guard let value = context.keyspace.value(db: context.db, key: key) else { return (false, false) }
        guard case .stream(let stream) = value else { throw .wrongType }
        return (true, stream.groupIndex(group) != nil)
    }

    /// XGROUP CREATE once the key is known to be a stream, or to be created (MKSTREAM).
    private static func createGroup(_ context: inout CommandContext, created: Bool, entriesRead: Int64?) throws(CommandError) -> Reply {
        let idArgument = context[4]
        let groupName = context[3]
        // The ID is checked before MKSTREAM creates anything.
        let given = idArgument == "$" ? nil : try StreamArguments.id(idArgument, strict: true)
        let made = try context.keyspace.update(StreamValue.self, db: context.db, key: context[2], create: created) {
            stream throws(CommandError) -> Bool in
            stream.createGroup(groupName, lastID: given ?? stream.lastID, entriesRead: entriesRead)
        } ?? false
        // A stream made by MKSTREAM is a new key (WATCH sees it).
        if created { context.keyspace.modified(db: context.db, key: context[2], changes: 0) }
        guard made else { throw CommandError("BUSYGROUP Consumer Group name already exists") }
        context.keyspace.dirty += 1
        return .ok
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
        guard let groupIndex = try context.keyspace.read(StreamValue.self, db: context.db, key: key)?.groupIndex(groupName) else {
            return .integer(0)
        }
        var ids: [StreamID] = []
        ids.reserveCapacity(context.count - 3)
        for argument in context.argv[3...] { ids.append(try StreamArguments.id(argument, strict: true)) }
        // Acknowledging nothing must not copy a stream a snapshot shares.
        let anyPending = stream(context, key).map { stream in ids.contains { stream.groups[groupIndex].pending.contains($0) } }
        guard anyPending == true else { return .integer(0) }
        let acknowledged = try context.keyspace.update(StreamValue.self, db: context.db, key: key) {
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
        guard let stream = try context.keyspace.read(StreamValue.self, db: context.db, key: context[1]),
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
        return .array(entries.map { entry in
            .array([entry.id.reply, .bulk(entry.consumer), .integer(Swift.max(0, now - entry.deliveryTime)), .integer(Int64(bitPattern: entry.deliveryCount))])
        })
    }
}
