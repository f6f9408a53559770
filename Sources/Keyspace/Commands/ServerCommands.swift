#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Server commands the engine answers alone: COMMAND, TIME, DEBUG
//
// INFO, CONFIG, SAVE, LASTSAVE, SHUTDOWN and the DEBUG subcommands that reload data need the server; it registers
// them into ``Keyspace/commands`` (keeping this module free of networking).

extension CommandTable {
    static let serverCommands: [CommandSpec] = [
        CommandSpec("command", arity: -1, flags: [.loading, .stale], group: "server") { context throws(CommandError) in
            if context.count == 1 {
                let table = context.keyspace.commands
                return .array(table.specs.keys.sorted().map { table.info(table.specs[$0]!) })
            }
            return try dispatch(&context, container: "command", commandSubcommands)
        },
        CommandSpec("time", arity: 1, flags: [.random, .loading, .stale, .fast], group: "server") {
            context throws(CommandError) in
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            return .array([.bulk(Bytes(integer: Int64(now.tv_sec))), .bulk(Bytes(integer: Int64(now.tv_nsec / 1000)))])
        },
        CommandSpec("debug", arity: -2, flags: [.admin, .noScript, .loading, .stale], group: "server") {
            context throws(CommandError) in
            try dispatchDebug(&context, debugSubcommands)
        },
    ]

    /// DEBUG's own error for an unknown subcommand or a wrong arity (it predates the subcommand table).
    public static func dispatchDebug(
        _ context: inout CommandContext, _ subcommands: [SubcommandSpec]
    ) throws(CommandError) -> Reply {
        let requested = context[1]
        guard let sub = subcommands.first(where: { requested.matchesKeyword($0.name) }),
            sub.accepts(argumentCount: context.count)
        else {
            throw CommandError(
                "ERR unknown subcommand or wrong number of arguments for '\(requested.string)'. Try DEBUG HELP.")
        }
        return try sub.handler(&context)
    }

    /// DEBUG SLEEP, DIGEST, DIGEST-VALUE, HELP. The server adds RELOAD, FLUSHLOAD and SET-ACTIVE-EXPIRE.
    public static let debugSubcommands: [SubcommandSpec] = [
        SubcommandSpec("sleep", arity: 3) { context throws(CommandError) in
            // Like Redis (strtod without checks): a non-number sleeps 0 seconds. It blocks every client.
            let seconds = context[2].doubleValue ?? 0
            if seconds > 0 {
                usleep(UInt32(min(seconds, 3600) * 1_000_000))
                // The commands after this one in a pipelined batch see the time after the sleep.
                context.keyspace.commandTime = context.keyspace.clock()
            }
            return .ok
        },
        SubcommandSpec("digest", arity: 2) { context throws(CommandError) in
            .status(context.keyspace.digest())
        },
        SubcommandSpec("digest-value", arity: -2) { context throws(CommandError) in
            .array(context.argv.dropFirst(2).map { .status(context.keyspace.digest(of: $0, db: context.db)) })
        },
        SubcommandSpec("help", arity: 2) { context throws(CommandError) in
            helpReply("debug", [
                "DIGEST", "    Output a hex signature representing the current DB content.",
                "DIGEST-VALUE <key> [<key> ...]", "    Output a hex signature of the values of all the specified keys.",
                "FLUSHLOAD", "    Empty the dataset and load the RDB file without saving first.",
                "RELOAD", "    Save the RDB on disk and reload it back to memory.",
                "SET-ACTIVE-EXPIRE <0|1>", "    Setting it to 0 disables expiring keys in background.",
                "SLEEP <seconds>", "    Stop the server for <seconds>. Decimals allowed.",
            ])
        },
    ]

    // MARK: - COMMAND

    static let commandSubcommands: [SubcommandSpec] = [
        SubcommandSpec("count", arity: 2) { context throws(CommandError) in .count(context.keyspace.commands.count) },
        SubcommandSpec("info", arity: -2) { context throws(CommandError) in
            let table = context.keyspace.commands
            let names = context.count == 2 ? table.specs.keys.sorted().map { Bytes($0) } : Array(context.argv.dropFirst(2))
            return .array(names.map { name in table.specs[name.lowercasedASCII].map { table.info($0) } ?? .null })
        },
        SubcommandSpec("docs", arity: -2) { context throws(CommandError) in
            let table = context.keyspace.commands
            let names = context.count == 2 ? table.specs.keys.sorted() : context.argv.dropFirst(2).map(\.lowercasedASCII)
            var reply: [Reply] = []
            for name in names {
                guard let spec = table.specs[name] else { continue }
                reply.append(.bulk(Bytes(name)))
                reply.append(table.docs(spec))
            }
            return .array(reply)
        },
        SubcommandSpec("list", arity: -2) { context throws(CommandError) in
            let table = context.keyspace.commands
            var names = table.allNames
            if context.count > 2 {
                guard context.count == 5, context[2].isKeyword("filterby") else { throw .syntax }
                let value = context[4]
                if context[3].isKeyword("pattern") {
                    names = names.filter { Bytes($0).matches(glob: value, ignoringCase: true) }
                } else if context[3].isKeyword("aclcat") {
                    let category = "@" + value.lowercasedASCII
                    names = names.filter { name in
                        table.specs[String(name.prefix { $0 != "|" })].map { table.categories($0).contains(category) }
                            ?? false
                    }
                } else if context[3].isKeyword("module") {
                    names = []
                } else {
                    throw .syntax
                }
            }
            return .array(names.map { .bulk(Bytes($0)) })
        },
        SubcommandSpec("getkeys", arity: -4) { context throws(CommandError) in
            let argv = Array(context.argv.dropFirst(2))
            guard let spec = context.keyspace.commands.specs[argv[0].lowercasedASCII] else {
                throw CommandError("ERR Invalid command specified")
            }
            guard spec.accepts(argumentCount: argv.count) else {
                throw CommandError("ERR Invalid number of arguments specified for command")
            }
            let keys = spec.keys(in: argv)
            guard !keys.isEmpty else { throw CommandError("ERR The command has no key arguments") }
            return .bulks(keys)
        },
        SubcommandSpec("help", arity: 2) { context throws(CommandError) in
            helpReply("command", [
                "(no subcommand)", "    Return details about all Redis commands.",
                "COUNT", "    Return the total number of commands in this Redis server.",
                "LIST", "    Return a list of all commands in this Redis server.",
                "INFO [<command-name> ...]", "    Return details about multiple Redis commands.",
                "DOCS [<command-name> ...]", "    Return documentation details about multiple Redis commands.",
                "GETKEYS <full-command>", "    Return the keys from a full Redis command.",
            ])
        },
    ]

    /// The subcommands of the containers this module defines, for COMMAND INFO / DOCS / LIST.
    static let knownSubcommands: [String: [SubcommandSpec]] = [
        "client": clientSubcommands, "command": commandSubcommands, "debug": debugSubcommands,
    ]
}

// MARK: - Command introspection

extension CommandTable {
    /// Every command name, with `container|subcommand` entries after each container (COMMAND LIST).
    var allNames: [String] {
        var names: [String] = []
        for name in specs.keys.sorted() {
            names.append(name)
            for sub in CommandTable.knownSubcommands[name] ?? [] { names.append("\(name)|\(sub.name)") }
        }
        return names
    }

    /// ACL categories derived from the flags and the group, as COMMAND INFO lists them.
    func categories(_ spec: CommandSpec) -> [String] {
        var categories: [String] = []
        if spec.flags.contains(.write) { categories.append("@write") }
        if spec.flags.contains(.readonly) { categories.append("@read") }
        if spec.flags.contains(.admin) { categories += ["@admin", "@dangerous"] }
        switch spec.group {
        case "generic": categories.append("@keyspace")
        case "string", "list", "set", "hash", "stream", "connection", "transactions": categories.append("@\(spec.group)")
        case "sorted-set", "sorted_set", "zset": categories.append("@sortedset")
        default: break
        }
        categories.append(spec.flags.contains(.fast) ? "@fast" : "@slow")
        return categories
    }

    /// The COMMAND INFO entry of a command: name, arity, flags, first/last/step, categories, tips, key specs,
    /// subcommands (Redis 7.0's ten fields).
    func info(_ spec: CommandSpec) -> Reply {
        var keySpecs: [Reply] = []
        if spec.firstKey > 0 {
            let access: [Reply] = spec.flags.contains(.write) ? [.status("RW"), .status("UPDATE")] : [.status("RO"), .status("ACCESS")]
            let lastKey = spec.lastKey >= 0 ? spec.lastKey - spec.firstKey : spec.lastKey
            keySpecs.append(.array([
                .bulk("flags"), .array(access),
                .bulk("begin_search"), .array([.bulk("type"), .bulk("index"), .bulk("spec"), .array([.bulk("index"), .count(spec.firstKey)])]),
                .bulk("find_keys"), .array([
                    .bulk("type"), .bulk("range"), .bulk("spec"),
                    .array([.bulk("lastkey"), .count(lastKey), .bulk("keystep"), .count(spec.keyStep), .bulk("limit"), .integer(0)]),
                ]),
            ]))
        }
        let subcommands = (CommandTable.knownSubcommands[spec.name] ?? []).map { sub -> Reply in
            .array([
                .bulk(Bytes("\(spec.name)|\(sub.name)")), .count(sub.arity), .array(sub.flags.names.map { .status($0) }),
                .integer(0), .integer(0), .integer(0), .array(categories(spec).map { .status($0) }), .emptyArray,
                .emptyArray, .emptyArray,
            ])
        }
        let tips: [Reply] = spec.flags.contains(.random) ? [.status("nondeterministic_output")] : []
        return .array([
            .bulk(Bytes(spec.name)), .count(spec.arity), .array(spec.flags.names.map { .status($0) }),
            .count(spec.firstKey), .count(spec.lastKey), .count(spec.keyStep),
            .array(categories(spec).map { .status($0) }), .array(tips), .array(keySpecs), .array(subcommands),
        ])
    }

    /// The COMMAND DOCS entry of a command (summary and complexity are not recorded in this table).
    func docs(_ spec: CommandSpec) -> Reply {
        func fields(_ group: String) -> [Reply] {
            [.bulk("summary"), .bulk(""), .bulk("since"), .bulk("1.0.0"), .bulk("group"), .bulk(Bytes(group)),
             .bulk("complexity"), .bulk("")]
        }
        var reply = fields(spec.group)
        if let subs = CommandTable.knownSubcommands[spec.name] {
            reply += [.bulk("subcommands"), .array(subs.flatMap { [.bulk(Bytes("\(spec.name)|\($0.name)")), .array(fields(spec.group))] })]
        }
        return .array(reply)
    }
}
