// MARK: - OBJECT ENCODING | REFCOUNT | IDLETIME | FREQ | HELP
//
// Access times and frequencies are not tracked (it would cost a write on every read): IDLETIME answers 0, as
// for a key just used, and FREQ answers what Redis answers under its default (LRU) policy: an error.

extension CommandTable {
    static let objectCommands: [CommandSpec] = [
        CommandSpec("object", arity: -2, flags: [.readonly], keys: (2, 2, 1), group: "generic") {
            context throws(CommandError) in
            try object(&context)
        }
    ]

    static let objectHelp: [String] = [
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        "HELP",
        "    Prints this help.",
    ]

    static func object(_ context: inout CommandContext) throws(CommandError) -> Reply {
        let subcommand = context[1]
        let name = subcommand.lowercasedASCII
        let takesKey = ["encoding", "refcount", "idletime", "freq"].contains(name)
        if name == "help" {
            guard context.count == 2 else { throw .wrongArity("object|help") }
            return .array(objectHelp.map { .status($0) })
        }
        guard takesKey else {
            throw CommandError("ERR unknown subcommand '\(Bytes(subcommand.prefix(128)).string)'. Try OBJECT HELP.")
        }
        guard context.count == 3 else { throw .wrongArity("object|\(name)") }
        guard let value = context.keyspace.lookupRead(db: context.db, key: context[2]) else { return .null }
        switch name {
        case "encoding": return .bulk(value.encodingName(limits: context.keyspace.encodingLimits))
        case "refcount": return .integer(value.referenceCount)
        case "idletime": return .integer(0)
        default:
            throw CommandError(
                "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when "
                    + "switching between policies at runtime LRU and LFU data will take some time to adjust.")
        }
    }
}
