// MARK: - Key commands
//
// DEL UNLINK EXISTS TYPE TOUCH KEYS SCAN RANDOMKEY RENAME RENAMENX MOVE COPY DBSIZE FLUSHDB FLUSHALL SWAPDB here;
// the expiry commands in KeyCommands+Expire.swift, DUMP and RESTORE in KeyCommands+Dump.swift, OBJECT in
// KeyCommands+Object.swift. Semantics, replies and errors are Redis 7.0's (db.c, expire.c, cluster.c).

import HashTreeCollections

extension CommandTable {
    static let keyCommands: [CommandSpec] = basicKeyCommands + databaseCommands + expireCommands + dumpCommands
        + objectCommands

    static let basicKeyCommands: [CommandSpec] = [
        CommandSpec("del", arity: -2, flags: [.write], keys: (1, -1, 1), group: "generic") {
            context throws(CommandError) in
            deleteKeys(&context)
        },
        // Values are freed when their last reference goes: there is no background freeing to ask for.
        CommandSpec("unlink", arity: -2, flags: [.write, .fast], keys: (1, -1, 1), group: "generic") {
            context throws(CommandError) in
            deleteKeys(&context)
        },
        CommandSpec("exists", arity: -2, flags: [.readonly, .fast], keys: (1, -1, 1), group: "generic") {
            context throws(CommandError) in
            countFound(&context)
        },
        CommandSpec("touch", arity: -2, flags: [.readonly, .fast], keys: (1, -1, 1), group: "generic") {
            context throws(CommandError) in
            countFound(&context)
        },
        CommandSpec("type", arity: 2, flags: [.readonly, .fast], keys: (1, 1, 1), group: "generic") {
            context throws(CommandError) in
            .status(context.keyspace.lookupRead(db: context.db, key: context[1])?.typeName ?? "none")
        },
        CommandSpec("keys", arity: 2, flags: [.readonly], group: "generic") { context throws(CommandError) in
            let keyspace = context.keyspace
            let db = context.db
            let pattern = context[1]
            let all = pattern == "*"
            var keys: [Reply] = []
            for key in keyspace.databases[db].entries.keys
            where (all || key.matches(glob: pattern)) && !keyspace.isLogicallyExpired(db: db, key: key) {
                keys.append(.bulk(key))
            }
            return .array(keys)
        },
        CommandSpec("scan", arity: -2, flags: [.readonly], group: "generic") { context throws(CommandError) in
            try scan(&context)
        },
        CommandSpec("randomkey", arity: 1, flags: [.readonly, .random], group: "generic") {
            context throws(CommandError) in
            .bulkOrNull(context.keyspace.randomKey(db: context.db))
        },
        CommandSpec("rename", arity: 3, flags: [.write], keys: (1, 2, 1), group: "generic") {
            context throws(CommandError) in
            try rename(&context, onlyIfMissing: false)
        },
        CommandSpec("renamenx", arity: 3, flags: [.write, .fast], keys: (1, 2, 1), group: "generic") {
            context throws(CommandError) in
            try rename(&context, onlyIfMissing: true)
        },
        CommandSpec("move", arity: 3, flags: [.write, .fast], keys: (1, 1, 1), group: "generic") {
            context throws(CommandError) in
            try move(&context)
        },
        CommandSpec("copy", arity: -3, flags: [.write, .denyOOM], keys: (1, 2, 1), group: "generic") {
            context throws(CommandError) in
            try copy(&context)
        },
    ]

    static let databaseCommands: [CommandSpec] = [
        CommandSpec("dbsize", arity: 1, flags: [.readonly, .fast], group: "server") { context throws(CommandError) in
            .count(context.keyspace.databases[context.db].count)
        },
        CommandSpec("flushdb", arity: -1, flags: [.write], group: "server") { context throws(CommandError) in
            try flushOption(context)
            // Propagated even when the database was already empty (Redis 7.0 forces it).
            if context.keyspace.flush(db: context.db) == 0 { context.keyspace.dirty += 1 }
            return .ok
        },
        CommandSpec("flushall", arity: -1, flags: [.write], group: "server") { context throws(CommandError) in
            try flushOption(context)
            context.keyspace.flush()
            context.keyspace.dirty += 1  // Redis counts FLUSHALL itself as a change, so it is always propagated
            return .ok
        },
        CommandSpec("swapdb", arity: 3, flags: [.write, .fast], group: "server") { context throws(CommandError) in
            let first = try Keyspace.databaseIndex(context[1], message: CommandError("ERR invalid first DB index"))
            let second = try Keyspace.databaseIndex(context[2], message: CommandError("ERR invalid second DB index"))
            let range = context.keyspace.databases.indices
            guard range.contains(first), range.contains(second) else { throw .databaseOutOfRange }
            context.keyspace.swapDatabases(first, second)
            return .ok
        },
    ]

    // MARK: - DEL, EXISTS, SCAN

    /// DEL / UNLINK: the number of keys removed (an expired key is removed by the lookup and not counted).
    static func deleteKeys(_ context: inout CommandContext) -> Reply {
        let keyspace = context.keyspace
        var removed = 0
        for key in context.argv.dropFirst() {
            keyspace.expireIfNeeded(db: context.db, key: key)
            if keyspace.remove(db: context.db, key: key) != nil { removed += 1 }
        }
        return .count(removed)
    }

    /// EXISTS / TOUCH: how many of the keys exist, a key named twice counted twice.
    static func countFound(_ context: inout CommandContext) -> Reply {
        var found = 0
        for key in context.argv.dropFirst() where context.keyspace.lookupRead(db: context.db, key: key) != nil {
            found += 1
        }
        return .count(found)
    }

    /// FLUSHDB / FLUSHALL take an optional ASYNC or SYNC (both flush at once here).
    static func flushOption(_ context: CommandContext) throws(CommandError) {
        guard context.count <= 2 else { throw .syntax }
        if context.count == 2 && !context[1].isKeyword("async") && !context[1].isKeyword("sync") { throw .syntax }
    }

    /// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]. The cursor is a position in the database's hash
    /// order (see `scanPage`). Expired keys are left out but not removed here, so that positions do not shift
    /// under a running iteration. An unknown TYPE matches nothing (Redis 7.0 does not reject it).
    static func scan(_ context: inout CommandContext) throws(CommandError) -> Reply {
        let options = try ScanOptions(context.argv, cursorIndex: 1, allowType: true)
        let keyspace = context.keyspace
        let db = context.db
        let entries = keyspace.databases[db].entries
        let (next, page) = entries.scanPage(cursor: options.cursor, count: options.count)
        var keys: [Reply] = []
        for (key, value) in page where options.matches(key) {
            if let type = options.type, value.typeName != type { continue }
            if keyspace.isLogicallyExpired(db: db, key: key) { continue }
            keys.append(.bulk(key))
        }
        return .array([.bulk(Bytes(integer: Int64(next))), .array(keys)])
    }

    // MARK: - RENAME, MOVE, COPY

    /// RENAME / RENAMENX (Redis `renameGenericCommand`): the value keeps its expiry.
    static func rename(_ context: inout CommandContext, onlyIfMissing: Bool) throws(CommandError) -> Reply {
        let keyspace = context.keyspace
        let db = context.db
        let source = context[1]
        let destination = context[2]
        guard keyspace.exists(db: db, key: source) else { throw .noSuchKey }
        if source == destination { return onlyIfMissing ? .integer(0) : .ok }
        if onlyIfMissing && keyspace.exists(db: db, key: destination) { return .integer(0) }
        keyspace.moveKey(source, db: db, to: destination, db: db)
        return onlyIfMissing ? .integer(1) : .ok
    }

    /// MOVE key db: 1 when moved, 0 when the key is missing or the target already has it.
    static func move(_ context: inout CommandContext) throws(CommandError) -> Reply {
        let keyspace = context.keyspace
        let target = try Keyspace.databaseIndex(context[2])
        guard keyspace.databases.indices.contains(target) else { throw .databaseOutOfRange }
        guard target != context.db else { throw .sameObject }
        let key = context[1]
        guard keyspace.exists(db: context.db, key: key) else { return .integer(0) }
        if keyspace.exists(db: target, key: key) { return .integer(0) }
        keyspace.moveKey(key, db: context.db, to: key, db: target)
        return .integer(1)
    }

    /// COPY source destination [DB db] [REPLACE]: the copy shares the value's storage (copy-on-write), so it is
    /// O(1) here where Redis duplicates the value.
    static func copy(_ context: inout CommandContext) throws(CommandError) -> Reply {
        let keyspace = context.keyspace
        var target = context.db
        var replace = false
        var index = 3
        while index < context.count {
            if context[index].isKeyword("replace") {
                replace = true
            } else if context[index].isKeyword("db") && index + 1 < context.count {
                let db = try Keyspace.databaseIndex(context[index + 1])
                guard keyspace.databases.indices.contains(db) else { throw .databaseOutOfRange }
                target = db
                index += 1
            } else {
                throw .syntax
            }
            index += 1
        }
        let source = context[1]
        let destination = context[2]
        if target == context.db && source == destination { throw .sameObject }
        guard let value = keyspace.lookupRead(db: context.db, key: source) else { return .integer(0) }
        let expireAt = keyspace.expireTime(db: context.db, key: source)
        if keyspace.exists(db: target, key: destination) && !replace { return .integer(0) }
        keyspace.store(db: target, key: destination, value: value, expireAt: expireAt)
        return .integer(1)
    }
}
