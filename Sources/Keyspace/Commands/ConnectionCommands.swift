// MARK: - Connection commands: PING ECHO SELECT QUIT AUTH HELLO CLIENT RESET

extension CommandTable {
    /// The Redis version this engine answers as (HELLO, INFO): clients enable features by it.
    public static let compatibleRedisVersion = "7.0.15"

    static let connectionCommands: [CommandSpec] = [
        CommandSpec("ping", arity: -1, flags: [.fast, .stale], group: "connection") { context throws(CommandError) in
            guard context.count <= 2 else { throw .wrongArity("ping") }
            return context.count == 2 ? .bulk(context[1]) : .status("PONG")
        },
        CommandSpec("echo", arity: 2, flags: [.fast], group: "connection") { context throws(CommandError) in
            .bulk(context[1])
        },
        CommandSpec("select", arity: 2, flags: [.loading, .stale, .fast], group: "connection") {
            context throws(CommandError) in
            let index = try context.integer(1)
            guard index >= 0, index < Int64(context.keyspace.databases.count) else {
                throw CommandError("ERR DB index is out of range")
            }
            context.session.db = Int(index)
            return .ok
        },
        CommandSpec(
            "quit", arity: -1, flags: [.noAuth, .noScript, .loading, .stale, .fast, .transaction], group: "connection"
        ) { context throws(CommandError) in
            context.session.closeAfterReply = true
            return .ok
        },
        CommandSpec("auth", arity: -2, flags: [.noAuth, .noScript, .loading, .stale, .fast], group: "connection") {
            context throws(CommandError) in
            guard context.count <= 3 else { throw .syntax }
            if context.count == 2, context.keyspace.requirePass == nil {
                throw CommandError(
                    "ERR AUTH <password> called without any password configured for the default user. "
                        + "Are you sure your configuration is correct?")
            }
            let user: Bytes = context.count == 3 ? context[1] : "default"
            try context.keyspace.authenticate(context.session, user: user, password: context[context.count - 1])
            return .ok
        },
        CommandSpec("hello", arity: -1, flags: [.noAuth, .noScript, .loading, .stale, .fast], group: "connection") {
            context throws(CommandError) in
            try hello(&context)
        },
        CommandSpec("client", arity: -2, flags: [.noScript, .loading, .stale], group: "connection") {
            context throws(CommandError) in
            try dispatch(&context, container: "client", clientSubcommands)
        },
        CommandSpec(
            "reset", arity: 1, flags: [.noAuth, .noScript, .loading, .stale, .fast, .transaction], group: "connection"
        ) { context throws(CommandError) in
            context.keyspace.reset(context.session)
            return .status("RESET")
        },
    ]

    /// HELLO [protover [AUTH username password] [SETNAME clientname]]: only RESP2 is spoken.
    private static func hello(_ context: inout CommandContext) throws(CommandError) -> Reply {
        var index = 1
        if context.count >= 2 {
            guard let version = context[1].integerValue else {
                throw CommandError("ERR Protocol version is not an integer or out of range")
            }
            guard version == 2 else { throw CommandError("NOPROTO unsupported protocol version") }
            index = 2
        }
        var credentials: (user: Bytes, password: Bytes)?
        var name: Bytes?
        while index < context.count {
            let more = context.count - index - 1
            if context[index].isKeyword("auth"), more >= 2 {
                credentials = (context[index + 1], context[index + 2])
                index += 3
            } else if context[index].isKeyword("setname"), more >= 1 {
                name = context[index + 1]
                index += 2
            } else {
                throw CommandError("ERR Syntax error in HELLO option '\(context[index].string)'")
            }
        }
        if let credentials {
            try context.keyspace.authenticate(context.session, user: credentials.user, password: credentials.password)
        } else if context.keyspace.requirePass != nil, !context.session.authenticated {
            throw CommandError(
                "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH "
                    + "<user> <pass> option can be used to authenticate the client and select the RESP protocol "
                    + "version at the same time")
        }
        if let name {
            try validateClientName(name)
            context.session.name = name.isEmpty ? nil : name
        }
        context.session.protocolVersion = 2
        return .array([
            .bulk("server"), .bulk("redis"), .bulk("version"), .bulk(compatibleRedisVersion),
            .bulk("proto"), .integer(2), .bulk("id"), .integer(context.session.id),
            .bulk("mode"), .bulk("standalone"), .bulk("role"), .bulk("master"), .bulk("modules"), .emptyArray,
        ])
    }

    // MARK: - CLIENT

    /// The CLIENT subcommands the engine answers alone. LIST, INFO and KILL see only the calling session here; the
    /// server replaces them with versions that see every connection.
    public static let clientSubcommands: [SubcommandSpec] = [
        SubcommandSpec("id", arity: 2) { context throws(CommandError) in .integer(context.session.id) },
        SubcommandSpec("getname", arity: 2) { context throws(CommandError) in .bulkOrNull(context.session.name) },
        SubcommandSpec("setname", arity: 3) { context throws(CommandError) in
            try validateClientName(context[2])
            context.session.name = context[2].isEmpty ? nil : context[2]
            return .ok
        },
        SubcommandSpec("setinfo", arity: 4) { context throws(CommandError) in
            let value = context[3]
            let attribute: String
            if context[2].isKeyword("lib-name") {
                attribute = "lib-name"
            } else if context[2].isKeyword("lib-ver") {
                attribute = "lib-ver"
            } else {
                throw CommandError("ERR Unrecognized option '\(context[2].string)'")
            }
            guard value.allSatisfy({ $0 > 32 && $0 < 127 }) else {
                throw CommandError("ERR \(attribute) cannot contain spaces, newlines or special characters.")
            }
            if attribute == "lib-name" {
                context.session.libraryName = value.isEmpty ? nil : value
            } else {
                context.session.libraryVersion = value.isEmpty ? nil : value
            }
            return .ok
        },
        SubcommandSpec("info", arity: 2) { context throws(CommandError) in
            .bulk(Bytes(context.session.clientInfo(now: context.now) + "\n"))
        },
        SubcommandSpec("list", arity: -2) { context throws(CommandError) in
            let filter = try ClientFilter.parseList(context.argv)
            let line = filter.matches(context.session) ? context.session.clientInfo(now: context.now) + "\n" : ""
            return .bulk(Bytes(line))
        },
        SubcommandSpec("kill", arity: -3) { context throws(CommandError) in
            // The engine alone has no other client to kill; the server replaces this subcommand.
            let filter = try ClientFilter.parseKill(context.argv)
            if filter.legacyAddress != nil { throw CommandError("ERR No such client") }
            return .integer(0)
        },
        SubcommandSpec("no-evict", arity: 3) { context throws(CommandError) in
            guard context[2].isKeyword("on") || context[2].isKeyword("off") else { throw .syntax }
            return .ok
        },
        SubcommandSpec("no-touch", arity: 3) { context throws(CommandError) in
            guard context[2].isKeyword("on") || context[2].isKeyword("off") else { throw .syntax }
            return .ok
        },
        SubcommandSpec("help", arity: 2) { context throws(CommandError) in
            helpReply("client", [
                "ID", "    Return the ID of the current connection.",
                "GETNAME", "    Return the name of the current connection.",
                "SETNAME <name>", "    Assign the name <name> to the current connection.",
                "SETINFO <LIB-NAME|LIB-VER> <value>", "    Set client library name or version.",
                "INFO", "    Return information about the current client connection.",
                "LIST [TYPE <normal|master|replica|pubsub>] [ID <id> [<id> ...]]",
                "    Return information about client connections.",
                "KILL <ip:port> | <option> <value> [<option> <value> [...]]",
                "    Kill connections (ID, ADDR, LADDR, USER, TYPE, SKIPME, MAXAGE).",
            ])
        },
    ]

    /// Names may hold only printable ASCII without spaces (Redis `validateClientName`).
    static func validateClientName(_ name: Bytes) throws(CommandError) {
        guard name.allSatisfy({ $0 >= 33 && $0 <= 126 }) else {
            throw CommandError("ERR Client names cannot contain spaces, newlines or special characters.")
        }
    }
}

// MARK: - Authentication and RESET

extension Keyspace {
    /// AUTH and HELLO AUTH: only the `default` user exists; without `requirepass` it takes any password.
    /// - Throws: `WRONGPASS` for another user or a wrong password (compared in constant time).
    public func authenticate(_ session: Session, user: Bytes, password: Bytes) throws(CommandError) {
        let wrong = CommandError("WRONGPASS invalid username-password pair or user is disabled.")
        guard user == "default" else { throw wrong }
        if let requirePass {
            var difference = UInt8(requirePass.count == password.count ? 0 : 1)
            let probe = requirePass.count == password.count ? password : requirePass
            for index in 0..<requirePass.count { difference |= requirePass[index] ^ probe[index] }
            guard difference == 0 else { throw wrong }
        }
        session.authenticated = true
    }

    /// RESET: leaves MULTI, forgets WATCHes, selects database 0, drops the name and the library info, speaks RESP2
    /// and is logged out again when a password is required (Redis `clearClientConnectionState`).
    public func reset(_ session: Session) {
        if session.inMulti { endTransaction(session) } else { unwatchAll(session: session) }
        session.db = 0
        session.name = nil
        session.protocolVersion = 2
        session.authenticated = requirePass == nil
    }
}

// MARK: - CLIENT LIST / INFO lines

/// What only the network layer knows about a client, for its CLIENT LIST line. The defaults describe a client with
/// empty buffers.
public struct ClientConnectionFields: Sendable {
    public var fd = -1
    public var queryBufferBytes = 0
    public var queryBufferFreeBytes = 0
    public var outputBufferBytes = 0
    public var readBufferSize = 0
    public var totalMemory = 0
    public var events = "r"
    public init() {}
}

extension Session {
    /// This session's CLIENT LIST / CLIENT INFO line (Redis 7.0's fields, then 7.2's `lib-name` and `lib-ver`).
    public func clientInfo(now: Int64, connection: ClientConnectionFields = .init()) -> String {
        let age = max(0, (now - createdAt) / 1000)
        let idle = max(0, (now - lastInteraction) / 1000)
        let flags = inMulti ? "x" : "N"
        var line = "id=\(id) addr=\(peerAddress) laddr=\(localAddress) fd=\(connection.fd)"
        line += " name=\(name?.string ?? "") age=\(age) idle=\(idle) flags=\(flags) db=\(db)"
        line += " sub=0 psub=0 ssub=0 multi=\(queuedCount) qbuf=\(connection.queryBufferBytes)"
        line += " qbuf-free=\(connection.queryBufferFreeBytes) argv-mem=0 multi-mem=0"
        line += " rbs=\(connection.readBufferSize) rbp=0 obl=\(connection.outputBufferBytes) oll=0 omem=0"
        line += " tot-mem=\(connection.totalMemory) events=\(connection.events) cmd=\(lastCommand) user=default"
        line += " redir=-1 resp=\(protocolVersion)"
        line += " lib-name=\(libraryName?.string ?? "") lib-ver=\(libraryVersion?.string ?? "")"
        return line
    }
}

/// The filters of CLIENT LIST and CLIENT KILL.
public struct ClientFilter: Sendable {
    public var ids: [Int64]?
    /// `normal`, `master`, `replica`, `pubsub`: only normal clients exist here.
    public var type: String?
    public var address: String?
    public var localAddress: String?
    public var user: String?
    public var maxAge: Int64?
    /// CLIENT KILL SKIPME (default yes for the new form).
    public var skipMe = true
    /// The old `CLIENT KILL ip:port` form: an error when nothing matches.
    public var legacyAddress: String?

    public init() {}

    /// Whether `session` passes every filter (`now` for MAXAGE).
    public func matches(_ session: Session, now: Int64 = 0) -> Bool {
        if let ids, !ids.contains(session.id) { return false }
        if let type, type != "normal" { return false }
        if let address = legacyAddress ?? address, session.peerAddress != address { return false }
        if let localAddress, session.localAddress != localAddress { return false }
        if let user, user != "default" { return false }
        if let maxAge, (now - session.createdAt) / 1000 < maxAge { return false }
        return true
    }

    /// CLIENT LIST [TYPE type] [ID id …].
    public static func parseList(_ argv: [Bytes]) throws(CommandError) -> ClientFilter {
        var filter = ClientFilter()
        var index = 2
        while index < argv.count {
            if argv[index].isKeyword("type"), index + 1 < argv.count {
                filter.type = try clientType(argv[index + 1])
                index += 2
            } else if argv[index].isKeyword("id"), index + 1 < argv.count {
                var ids: [Int64] = []
                index += 1
                while index < argv.count {
                    guard let id = argv[index].integerValue, id > 0 else { throw CommandError("ERR Invalid client ID") }
                    ids.append(id)
                    index += 1
                }
                filter.ids = ids
            } else {
                throw CommandError.syntax
            }
        }
        return filter
    }

    /// CLIENT KILL ip:port | CLIENT KILL <filter> <value> ….
    public static func parseKill(_ argv: [Bytes]) throws(CommandError) -> ClientFilter {
        var filter = ClientFilter()
        if argv.count == 3 {
            filter.legacyAddress = argv[2].string
            filter.skipMe = false
            return filter
        }
        guard argv.count % 2 == 0 else { throw .syntax }
        for index in stride(from: 2, to: argv.count, by: 2) {
            let value = argv[index + 1]
            let option = argv[index]
            if option.isKeyword("id") {
                guard let id = value.integerValue, id > 0 else {
                    throw CommandError("ERR client-id should be greater than 0")
                }
                filter.ids = [id]
            } else if option.isKeyword("type") {
                filter.type = try clientType(value)
            } else if option.isKeyword("addr") {
                filter.address = value.string
            } else if option.isKeyword("laddr") {
                filter.localAddress = value.string
            } else if option.isKeyword("user") {
                filter.user = value.string
            } else if option.isKeyword("skipme") {
                if value.isKeyword("yes") {
                    filter.skipMe = true
                } else if value.isKeyword("no") {
                    filter.skipMe = false
                } else {
                    throw .syntax
                }
            } else if option.isKeyword("maxage") {
                guard let age = value.integerValue else { throw .notInteger }
                filter.maxAge = age
            } else {
                throw .syntax
            }
        }
        return filter
    }

    private static func clientType(_ name: Bytes) throws(CommandError) -> String {
        for type in ["normal", "master", "replica", "slave", "pubsub"] where name.matchesKeyword(type) {
            return type == "slave" ? "replica" : type
        }
        throw CommandError("ERR Unknown client type '\(name.string)'")
    }
}
