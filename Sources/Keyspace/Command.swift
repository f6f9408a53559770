/// What a command is allowed to do and how it is scheduled (the flags of Redis's command table).
public struct CommandFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Changes the dataset: refused under `-MISCONF`, propagated to the AOF when it changed something.
    public static let write = CommandFlags(rawValue: 1 << 0)
    public static let readonly = CommandFlags(rawValue: 1 << 1)
    /// May use more memory (`denyoom`).
    public static let denyOOM = CommandFlags(rawValue: 1 << 2)
    public static let admin = CommandFlags(rawValue: 1 << 3)
    /// Allowed before AUTH (AUTH, HELLO, QUIT…).
    public static let noAuth = CommandFlags(rawValue: 1 << 4)
    /// Not allowed inside MULTI (WATCH, MULTI…); handled by the engine.
    public static let noMulti = CommandFlags(rawValue: 1 << 5)
    public static let fast = CommandFlags(rawValue: 1 << 6)
    /// Output depends on randomness or time (SPOP, RANDOMKEY…).
    public static let random = CommandFlags(rawValue: 1 << 7)
    public static let loading = CommandFlags(rawValue: 1 << 8)
    public static let stale = CommandFlags(rawValue: 1 << 9)
    public static let noScript = CommandFlags(rawValue: 1 << 10)
    /// Runs even inside MULTI instead of being queued (EXEC, DISCARD, MULTI, WATCH, QUIT, RESET).
    public static let transaction = CommandFlags(rawValue: 1 << 11)

    /// The flag names COMMAND INFO reports.
    public var names: [String] {
        var names: [String] = []
        if contains(.write) { names.append("write") }
        if contains(.readonly) { names.append("readonly") }
        if contains(.denyOOM) { names.append("denyoom") }
        if contains(.admin) { names.append("admin") }
        if contains(.noAuth) { names.append("no_auth") }
        if contains(.noMulti) { names.append("no_multi") }
        if contains(.fast) { names.append("fast") }
        if contains(.loading) { names.append("loading") }
        if contains(.stale) { names.append("stale") }
        if contains(.noScript) { names.append("noscript") }
        return names
    }
}

/// A command's implementation. It reads arguments from the context, changes the keyspace through it and returns
/// the reply; a ``CommandError`` becomes an error reply.
public typealias CommandHandler = @Sendable (inout CommandContext) throws(CommandError) -> Reply

/// One entry of the command table.
///
/// A class, immutable: every command passes its spec along (lookup, execute, MULTI's queue), and a reference
/// is one retain where a struct of two strings and a closure was three.
public final class CommandSpec: Sendable {
    /// Lower-case name (`"get"`, `"zrangebyscore"`).
    public let name: String
    /// Redis's arity: N means exactly N arguments including the name, -N means at least N.
    public let arity: Int
    public let flags: CommandFlags
    /// Key positions (1-based, Redis's legacy key spec): first, last (-1 = last argument, -2 = one before), step.
    /// 0, 0, 0 for commands without keys.
    public let firstKey: Int
    public let lastKey: Int
    public let keyStep: Int
    /// The command group (`"string"`, `"list"`, `"generic"`, `"server"`…), for COMMAND DOCS.
    public let group: String
    public let handler: CommandHandler

    public init(
        _ name: String, arity: Int, flags: CommandFlags, keys: (first: Int, last: Int, step: Int) = (0, 0, 0),
        group: String, handler: @escaping CommandHandler
    ) {
        self.name = name
        self.arity = arity
        self.flags = flags
        firstKey = keys.first
        lastKey = keys.last
        keyStep = keys.step
        self.group = group
        self.handler = handler
    }

    /// The same command under another name (`rename-command`).
    public func renamed(_ newName: String) -> CommandSpec {
        CommandSpec(newName, arity: arity, flags: flags, keys: (firstKey, lastKey, keyStep), group: group, handler: handler)
    }

    /// Whether `argumentCount` (including the name) satisfies the arity.
    public func accepts(argumentCount: Int) -> Bool {
        arity >= 0 ? argumentCount == arity : argumentCount >= -arity
    }

    /// The keys of a call, from the key spec.
    public func keys(in argv: [Bytes]) -> [Bytes] {
        guard firstKey > 0, firstKey < argv.count else { return [] }
        let last = lastKey >= 0 ? min(lastKey, argv.count - 1) : argv.count + lastKey
        guard last >= firstKey else { return [] }
        return stride(from: firstKey, through: last, by: max(1, keyStep)).map { argv[$0] }
    }
}

/// The commands a ``Keyspace`` knows, by lower-case name.
public struct CommandTable: Sendable {
    public private(set) var specs: [String: CommandSpec] = [:]

    public init(_ specs: [CommandSpec] = []) {
        for spec in specs { register(spec) }
    }

    /// Adds or replaces a command.
    public mutating func register(_ spec: CommandSpec) { specs[spec.name] = spec }

    public subscript(name: String) -> CommandSpec? { specs[name] }

    public var count: Int { specs.count }

    /// Every data command of the engine (the server adds its own: SAVE, INFO, CONFIG…).
    public static let standard = CommandTable(
        transactionCommands + connectionCommands + keyCommands + stringCommands + listCommands + setCommands
            + sortedSetCommands + hashCommands + streamCommands + serverCommands)
}

/// What a handler works with: the keyspace, the calling session and the arguments.
///
/// A context lives only for the call that made it (``Keyspace/call(_:_:session:)`` keeps the keyspace and the session
/// alive around it), so it holds them unretained: a retain and release of each per command was a measurable part of a
/// pipelined command's cost.
public struct CommandContext {
    public unowned(unsafe) let keyspace: Keyspace
    public unowned(unsafe) let session: Session
    /// The arguments, the command name first.
    public let argv: [Bytes]
    /// When set by the handler, these commands are propagated to the AOF instead of `argv` (SPOP as SREM,
    /// EXPIRE as PEXPIREAT…). Each runs in the session's database at the time of the call.
    public var propagateAs: [[Bytes]]?

    /// Internal: only ``Keyspace/call(_:_:session:)`` makes contexts, which is what makes the unretained references
    /// safe.
    init(keyspace: Keyspace, session: Session, argv: [Bytes]) {
        self.keyspace = keyspace
        self.session = session
        self.argv = argv
    }

    /// The selected database.
    public var db: Int { session.db }
    /// The command's time in Unix milliseconds.
    public var now: Int64 { keyspace.commandTime }
    /// The lower-case command name.
    public var name: String { argv[0].lowercasedASCII }
    public var count: Int { argv.count }

    public subscript(index: Int) -> Bytes { argv[index] }

    /// `keyspace.read(type, db: db, key: self[keyIndex])`, how read commands look up their key: the keyspace is used
    /// without the strong reference (a retain and a release) that reading the unowned property makes. Safe for the
    /// reason the unowned reference is: a context only lives inside ``Keyspace/call(_:_:session:)``.
    @inline(__always)
    public func read<P: ValuePayload>(_ type: P.Type, key keyIndex: Int) throws(CommandError) -> P? {
        let result: Result<P?, CommandError> = Unmanaged.passUnretained(keyspace)._withUnsafeGuaranteedRef { keyspace in
            do throws(CommandError) {
                return .success(try keyspace.read(type, db: session.db, key: argv[keyIndex]))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Argument `index` as a strict integer, or `ERR value is not an integer or out of range`.
    public func integer(_ index: Int) throws(CommandError) -> Int64 {
        guard let value = argv[index].integerValue else { throw .notInteger }
        return value
    }

    /// Argument `index` as a double, or `ERR value is not a valid float`.
    public func double(_ index: Int) throws(CommandError) -> Double {
        guard let value = argv[index].doubleValue else { throw .notFloat }
        return value
    }
}
