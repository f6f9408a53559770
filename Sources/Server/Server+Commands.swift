import Foundation
import Keyspace

// MARK: - Commands that need the server: INFO, CONFIG, SAVE, LASTSAVE, SHUTDOWN, and the server's CLIENT and DEBUG
//
// Registered into the keyspace's command table at start-up, so that the engine itself stays free of networking.

extension ServerCore {
    func registerServerCommands() {
        let commands: [CommandSpec] = [
            CommandSpec("info", arity: -1, flags: [.loading, .stale], group: "server") { [unowned self] context throws(CommandError) in
                .bulk(Bytes(info(sections: context.argv.dropFirst().map(\.lowercasedASCII))))
            },
            CommandSpec("config", arity: -2, flags: [], group: "server") { [unowned self] context throws(CommandError) in
                try CommandTable.dispatch(&context, container: "config", configSubcommands)
            },
            CommandSpec("save", arity: 1, flags: [.admin, .noScript, .noMulti], group: "server") { [unowned self] _ throws(CommandError) in
                do {
                    try saveSynchronously()
                } catch let error as BackgroundSaveInProgress {
                    throw CommandError("ERR \(error.description)")
                } catch {
                    throw CommandError("ERR")
                }
                return .ok
            },
            CommandSpec("lastsave", arity: 1, flags: [.random, .loading, .stale, .fast], group: "server") { [unowned self] _ throws(CommandError) in
                .integer(lastSave)
            },
            CommandSpec("shutdown", arity: -1, flags: [.admin, .noScript, .loading, .stale, .noMulti], group: "server") {
                [unowned self] context throws(CommandError) in
                var save: Bool? = nil
                var force = false
                for argument in context.argv.dropFirst() {
                    if argument.isKeyword("nosave") {
                        save = false
                    } else if argument.isKeyword("save") {
                        save = true
                    } else if argument.isKeyword("now") {
                        continue
                    } else if argument.isKeyword("force") {
                        force = true
                    } else if argument.isKeyword("abort") {
                        throw CommandError("ERR No shutdown in progress.")
                    } else {
                        throw .syntax
                    }
                }
                guard shutdown(save: save, force: force) else {
                    throw CommandError("ERR Errors trying to SHUTDOWN. Check logs.")
                }
                context.session.closeAfterReply = true
                return .ok
            },
            CommandSpec("client", arity: -2, flags: [.noScript, .loading, .stale], group: "connection") {
                [unowned self] context throws(CommandError) in
                try CommandTable.dispatch(&context, container: "client", clientSubcommands)
            },
            CommandSpec("debug", arity: -2, flags: [.admin, .noScript, .loading, .stale], group: "server") {
                [unowned self] context throws(CommandError) in
                try checkDebugAllowed(context.session)
                return try CommandTable.dispatchDebug(&context, debugSubcommands)
            },
        ]
        for command in commands { keyspace.commands.register(command) }
    }

    // MARK: - CLIENT LIST / INFO / KILL over every connection

    private var clientSubcommands: [SubcommandSpec] {
        let own: [SubcommandSpec] = [
            SubcommandSpec("list", arity: -2) { [unowned self] context throws(CommandError) in
                let filter = try ClientFilter.parseList(context.argv)
                var text = ""
                for id in clients.keys.sorted() {
                    let client = clients[id]!
                    guard filter.matches(client.session) else { continue }
                    text += client.session.clientInfo(now: context.now, connection: client.connectionFields) + "\n"
                }
                return .bulk(Bytes(text))
            },
            SubcommandSpec("info", arity: 2) { [unowned self] context throws(CommandError) in
                let fields = clients[context.session.id]?.connectionFields ?? ClientConnectionFields()
                return .bulk(Bytes(context.session.clientInfo(now: context.now, connection: fields) + "\n"))
            },
            SubcommandSpec("kill", arity: -3) { [unowned self] context throws(CommandError) in
                let filter = try ClientFilter.parseKill(context.argv)
                var killed = 0
                for client in Array(clients.values) where filter.matches(client.session, now: context.now) {
                    if filter.skipMe, client.session === context.session { continue }
                    killed += 1
                    if client.session === context.session {
                        context.session.closeAfterReply = true
                    } else {
                        client.closeNow()
                    }
                }
                if filter.legacyAddress != nil {
                    guard killed > 0 else { throw CommandError("ERR No such client") }
                    return .ok
                }
                return .count(killed)
            },
        ]
        let replaced = Set(own.map(\.name))
        return own + CommandTable.clientSubcommands.filter { !replaced.contains($0.name) }
    }

    // MARK: - DEBUG

    /// `enable-debug-command`: `no` refuses DEBUG, `local` allows it from loopback connections only.
    private func checkDebugAllowed(_ session: Session) throws(CommandError) {
        let setting = config.enableDebugCommand
        if setting == "yes" { return }
        if setting == "local", session.peerAddress.hasPrefix("127.") || session.peerAddress.hasPrefix("::1")
            || session.peerAddress.isEmpty
        {
            return
        }
        throw CommandError(
            "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it "
                + "from a local connection, otherwise you need to set this option in the configuration file, and "
                + "then restart the server.")
    }

    private var debugSubcommands: [SubcommandSpec] {
        let own: [SubcommandSpec] = [
            SubcommandSpec("reload", arity: -2) { [unowned self] _ throws(CommandError) in
                do {
                    try saveSynchronously()
                    try reloadDataset()
                } catch {
                    throw CommandError("ERR Error trying to load the RDB dump, check server logs.")
                }
                return .ok
            },
            // The Windows port's: empty the dataset and load the RDB file, without saving first.
            SubcommandSpec("flushload", arity: 2) { [unowned self] _ throws(CommandError) in
                do {
                    try reloadDataset()
                } catch {
                    throw CommandError("ERR Error trying to load the RDB dump, check server logs.")
                }
                return .ok
            },
            SubcommandSpec("set-active-expire", arity: 3) { [unowned self] context throws(CommandError) in
                activeExpireEnabled = context[2].integerValue != 0
                return .ok
            },
        ]
        return own + CommandTable.debugSubcommands
    }

    // MARK: - CONFIG

    private var configSubcommands: [SubcommandSpec] {
        [
            SubcommandSpec("get", arity: -3) { [unowned self] context throws(CommandError) in
                var seen = Set<String>()
                var reply: [Reply] = []
                for pattern in context.argv.dropFirst(2) {
                    for name in ConfigParameter.table.keys.sorted() where !seen.contains(name) {
                        guard Bytes(name).matches(glob: pattern, ignoringCase: true) else { continue }
                        seen.insert(name)
                        reply.append(.bulk(Bytes(name)))
                        reply.append(.bulk(Bytes(configValue(name))))
                    }
                }
                return .array(reply)
            },
            SubcommandSpec("set", arity: -4) { [unowned self] context throws(CommandError) in
                guard context.count % 2 == 0 else { throw .wrongArity("config|set") }
                try configSet(Array(context.argv.dropFirst(2)))
                return .ok
            },
            SubcommandSpec("resetstat", arity: 2) { [unowned self] _ throws(CommandError) in
                stats.reset(commands: names.specs.count)
                keyspace.keyspaceHits = 0
                keyspace.keyspaceMisses = 0
                keyspace.expiredKeys = 0
                keyspace.commandsProcessed = 0
                return .ok
            },
            SubcommandSpec("rewrite", arity: 2) { [unowned self] _ throws(CommandError) in
                guard config.configFile != nil else { throw CommandError("ERR The server is running without a config file") }
                throw CommandError("ERR Rewriting config file: not supported by this server")
            },
            SubcommandSpec("help", arity: 2) { _ throws(CommandError) in
                CommandTable.helpReply("config", [
                    "GET <pattern>", "    Return parameters matching the glob-like <pattern> and their values.",
                    "SET <directive> <value>", "    Set the configuration <directive> to <value>.",
                    "RESETSTAT", "    Reset statistics reported by the INFO command.",
                    "REWRITE", "    Rewrite the configuration file.",
                ])
            },
        ]
    }

    /// The value CONFIG GET reports (`dir` is the working directory, as Redis reports it).
    func configValue(_ name: String) -> String {
        guard let parameter = ConfigParameter.table[name] else { return "" }
        if parameter.name == "dir" { return FileManager.default.currentDirectoryPath }
        return config[parameter.name]
    }

    /// CONFIG SET name value [name value …]: every pair is validated before any is applied.
    func configSet(_ pairs: [Bytes]) throws(CommandError) {
        var updated = config
        var changed: [String] = []
        for index in stride(from: 0, to: pairs.count, by: 2) {
            let name = pairs[index].lowercasedASCII
            let value = pairs[index + 1].string
            guard let parameter = ConfigParameter.table[name] else {
                throw CommandError("ERR Unknown option or number of arguments for CONFIG SET - '\(name)'")
            }
            func refuse(_ reason: String) -> CommandError {
                CommandError("ERR CONFIG SET failed (possibly related to argument '\(name)') - \(reason)")
            }
            if ["dir", "dbfilename"].contains(parameter.name), config["enable-protected-configs"] == "no" {
                throw refuse("can't set protected config")
            }
            guard parameter.mutable else { throw refuse("can't set immutable config") }
            if parameter.name == "save" {
                if let reason = ServerConfig.validateSave(value.split(separator: " ").map(String.init)) {
                    throw refuse(reason)
                }
            }
            if let reason = updated.setValue(parameter, value) { throw refuse(reason) }
            changed.append(parameter.name)
        }
        if changed.contains("dir"), chdir(updated.dir) != 0 {
            throw CommandError("ERR CONFIG SET failed (possibly related to argument 'dir') - \(String(cString: strerror(errno)))")
        }
        config = updated
        applyConfiguration()
        if changed.contains("loglevel") { LogSink.shared.setLevel(config.loglevel) }
        if changed.contains("hz") { restartCron() }
        if changed.contains("proto-max-bulk-len") {
            for client in clients.values { client.setMaxBulkBytes(config.protoMaxBulkLength) }
        }
        if changed.contains("appendonly") {
            if config["appendonly"] == "yes" { try enableAppendOnly() } else { disableAppendOnly() }
        }
        if changed.contains("appendfsync") { persistence.aof?.policy = fsyncPolicy }
        if changed.contains("stop-writes-on-bgsave-error") || changed.contains("save") { updateWriteDenial() }
    }
}
