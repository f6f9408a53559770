// MARK: - XINFO

extension CommandTable {
    static let streamInfoCommands: [CommandSpec] = [
        CommandSpec("xinfo", arity: -2, flags: [.readonly], keys: (2, 2, 1), group: "stream") {
            context throws(CommandError) in
            try StreamCommand.info(&context)
        }
    ]
}

extension StreamCommand {
    /// XINFO's subcommands, with the arities of Redis 7.0's `xinfo|…` entries.
    private static let infoSubcommands: [SubcommandSpec] = [
        SubcommandSpec("consumers", arity: 4, flags: [.readonly]) { context throws(CommandError) in
            try info(&context, .consumers)
        },
        SubcommandSpec("groups", arity: 3, flags: [.readonly]) { context throws(CommandError) in
            try info(&context, .groups)
        },
        SubcommandSpec("stream", arity: -3, flags: [.readonly]) { context throws(CommandError) in
            try info(&context, .stream)
        },
        SubcommandSpec("help", arity: 2, flags: [.loading, .stale]) { _ throws(CommandError) in
            .array(infoHelp.map { .status($0) })
        },
    ]

    private enum InfoSubcommand { case consumers, groups, stream }

    private static let infoHelp = [
        "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CONSUMERS <key> <groupname>",
        "    Show consumers of <groupname>.",
        "GROUPS <key>",
        "    Show the stream consumer groups.",
        "STREAM <key> [FULL [COUNT <count>]",
        "    Show information about the stream.",
        "HELP",
        "    Prints this help.",
    ]

    /// `XINFO STREAM key [FULL [COUNT n]]`, `XINFO GROUPS key`, `XINFO CONSUMERS key group`, `XINFO HELP`.
    static func info(_ context: inout CommandContext) throws(CommandError) -> Reply {
        try CommandTable.dispatch(&context, container: "xinfo", infoSubcommands)
    }

    private static func info(_ context: inout CommandContext, _ subcommand: InfoSubcommand) throws(CommandError)
        -> Reply
    {
        guard let stream = try context.read(StreamValue.self, key: 2) else {
            throw .noSuchKey
        }
        switch subcommand {
        case .consumers:
            guard let group = stream.group(named: context[3]) else {
                throw StreamArguments.noSuchGroup(context[3], key: context[2])
            }
            let now = context.now
            return .array(
                group.consumers.map { consumer in
                    .array([
                        .bulk("name"), .bulk(consumer.name),
                        .bulk("pending"), .count(consumer.pending.count),
                        .bulk("idle"), .integer(Swift.max(0, now - consumer.seenTime)),
                    ])
                })
        case .groups:
            return .array(
                stream.groups.map { group in
                    .array([
                        .bulk("name"), .bulk(group.name),
                        .bulk("consumers"), .count(group.consumers.count),
                        .bulk("pending"), .count(group.pending.count),
                        .bulk("last-delivered-id"), group.lastID.reply,
                        .bulk("entries-read"), group.entriesRead.map { .integer($0) } ?? .null,
                        .bulk("lag"), stream.lag(of: group).map { .integer($0) } ?? .null,
                    ])
                })
        case .stream:
            return try streamInfo(context, stream)
        }
    }

    /// XINFO STREAM, and its FULL form (entries, groups with their pending entries and consumers, each list cut
    /// at COUNT, default 10, 0 meaning all).
    private static func streamInfo(_ context: CommandContext, _ stream: StreamValue) throws(CommandError) -> Reply {
        var full = false
        var count = 10
        if context.count > 3 {
            guard context[3].isKeyword("full") else { throw StreamArguments.subcommandSyntax(context) }
            full = true
            if context.count > 4 {
                guard context.count == 6, context[4].isKeyword("count") else {
                    throw StreamArguments.subcommandSyntax(context)
                }
                let value = try context.integer(5)
                count = value < 0 ? 10 : Int(value)
            }
        }
        var reply: [Reply] = [
            .bulk("length"), .count(stream.count),
            .bulk("radix-tree-keys"), .count(stream.nodeCount),
            .bulk("radix-tree-nodes"), .count(stream.radixTreeNodeCount),
            .bulk("last-generated-id"), stream.lastID.reply,
            .bulk("max-deleted-entry-id"), stream.maxDeletedID.reply,
            .bulk("entries-added"), .integer(Int64(bitPattern: stream.entriesAdded)),
            .bulk("recorded-first-entry-id"), stream.firstID.reply,
        ]
        guard full else {
            reply += [
                .bulk("groups"), .count(stream.groups.count),
                .bulk("first-entry"), stream.firstEntry?.reply ?? .null,
                .bulk("last-entry"), stream.lastEntry?.reply ?? .null,
            ]
            return .array(reply)
        }
        let limit = count == 0 ? nil : count
        reply += [.bulk("entries"), .array(stream.entries(from: .zero, through: .max, limit: limit).map(\.reply))]
        let groups = stream.groups.map { group -> Reply in
            let pending = group.pending.elements(from: .zero, through: .max, limit: limit).map { entry in
                Reply.array([
                    entry.id.reply, .bulk(entry.consumer), .integer(entry.deliveryTime),
                    .integer(Int64(bitPattern: entry.deliveryCount)),
                ])
            }
            let consumers = group.consumers.map { consumer -> Reply in
                let owned = consumer.pending.elements(from: .zero, through: .max, limit: limit).compactMap {
                    id -> Reply? in
                    guard let entry = group.pending[id] else { return nil }
                    return .array([
                        id.reply, .integer(entry.deliveryTime), .integer(Int64(bitPattern: entry.deliveryCount)),
                    ])
                }
                return .array([
                    .bulk("name"), .bulk(consumer.name),
                    .bulk("seen-time"), .integer(consumer.seenTime),
                    .bulk("pel-count"), .count(consumer.pending.count),
                    .bulk("pending"), .array(owned),
                ])
            }
            return .array([
                .bulk("name"), .bulk(group.name),
                .bulk("last-delivered-id"), group.lastID.reply,
                .bulk("entries-read"), group.entriesRead.map { .integer($0) } ?? .null,
                .bulk("lag"), stream.lag(of: group).map { .integer($0) } ?? .null,
                .bulk("pel-count"), .count(group.pending.count),
                .bulk("pending"), .array(pending),
                .bulk("consumers"), .array(consumers),
            ])
        }
        reply += [.bulk("groups"), .array(groups)]
        return .array(reply)
    }
}
