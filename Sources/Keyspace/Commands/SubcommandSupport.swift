// MARK: - Container commands (CLIENT, COMMAND, CONFIG, DEBUG…)

/// A subcommand of a container command (CLIENT SETNAME, COMMAND INFO…), with its own arity as Redis 7's command
/// table has it.
public struct SubcommandSpec: Sendable {
    /// Lower-case name (`"setname"`).
    public var name: String
    /// Redis's arity, counting the container and the subcommand: `CLIENT SETNAME name` is 3, `-N` at least N.
    public var arity: Int
    public var flags: CommandFlags
    public var handler: CommandHandler

    public init(_ name: String, arity: Int, flags: CommandFlags = [], handler: @escaping CommandHandler) {
        self.name = name
        self.arity = arity
        self.flags = flags
        self.handler = handler
    }

    func accepts(argumentCount: Int) -> Bool {
        arity >= 0 ? argumentCount == arity : argumentCount >= -arity
    }
}

extension CommandTable {
    /// Runs the subcommand named by `argv[1]` (Redis's errors for an unknown one or a wrong arity) and records
    /// `container|subcommand` as the session's last command, as CLIENT LIST shows it.
    ///
    /// - Complexity: O(subcommands) for the lookup, then that of the subcommand.
    public static func dispatch(
        _ context: inout CommandContext, container: String, _ subcommands: [SubcommandSpec]
    ) throws(CommandError) -> Reply {
        let requested = context[1]
        guard let sub = subcommands.first(where: { requested.matchesKeyword($0.name) }) else {
            throw CommandError(
                "ERR unknown subcommand '\(Bytes(requested.prefix(128)).string)'. Try \(container.uppercased()) HELP.")
        }
        guard sub.accepts(argumentCount: context.count) else {
            throw CommandError.wrongArity("\(container)|\(sub.name)")
        }
        context.session.lastCommand = "\(container)|\(sub.name)"
        return try sub.handler(&context)
    }

    /// The HELP reply of a container command: one status line per entry.
    public static func helpReply(_ container: String, _ lines: [String]) -> Reply {
        var all = ["\(container.uppercased()) <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"]
        all += lines
        all += ["HELP", "    Print this help."]
        return .array(all.map { .status($0) })
    }
}

extension Bytes {
    /// Case-insensitive ASCII comparison with a lower-case keyword known only at run time.
    func matchesKeyword(_ lowercaseKeyword: String) -> Bool {
        var index = 0
        for expected in lowercaseKeyword.utf8 {
            guard index < count else { return false }
            let byte = self[index]
            if (byte &- 65 < 26 ? byte | 0x20 : byte) != expected { return false }
            index += 1
        }
        return index == count
    }
}
