import HashTreeCollections

// MARK: - Hash commands

extension CommandTable {
    static let hashCommands: [CommandSpec] = [
        CommandSpec("hset", arity: -4, flags: [.write, .denyOOM, .fast], keys: (1, 1, 1), group: "hash") {
            context throws(CommandError) in
            .count(try HashCommand.set(&context))
        },
        CommandSpec("hmset", arity: -4, flags: [.write, .denyOOM, .fast], keys: (1, 1, 1), group: "hash") {
            context throws(CommandError) in
            _ = try HashCommand.set(&context)
            return .ok
        },
        CommandSpec("hsetnx", arity: 4, flags: [.write, .denyOOM, .fast], keys: (1, 1, 1), group: "hash") {
            context throws(CommandError) in
            try HashCommand.setIfAbsent(&context)
        },
        CommandSpec("hget", arity: 3, flags: [.readonly, .fast], keys: (1, 1, 1), group: "hash") {
            context throws(CommandError) in
            .bulkOrNull(try context.read(HashValue.self, key: 1)?[context[2]])
        },
        CommandSpec("hmget", arity: -3, flags: [.readonly, .fast], keys: (1, 1, 1), group: "hash") {
            context throws(CommandError) in
            let hash = try context.read(HashValue.self, key: 1)
            return .array(context.argv[2...].map { field in .bulkOrNull(hash?[field]) })
        },
        CommandSpec("hgetall", arity: 2, flags: [.readonly], keys: (1, 1, 1), group: "hash") {
            context throws(CommandError) in
            guard let hash = try context.read(HashValue.self, key: 1) else {
                return .emptyArray
            }
            var items: [Reply] = []
            items.reserveCapacity(hash.count * 2)
            for (field, value) in hash {
                items.append(.bulk(field))
                items.append(.bulk(value))
            }
            return .array(items)
        },
        CommandSpec("hkeys", arity: 2, flags: [.readonly], keys: (1, 1, 1), group: "hash") {
            context throws(CommandError) in
            guard let hash = try context.read(HashValue.self, key: 1) else {
                return .emptyArray
            }
            return .bulks(hash.fields)
        },
        CommandSpec("hvals", arity: 2, flags: [.readonly], keys: (1, 1, 1), group: "hash") {
            context throws(CommandError) in
            guard let hash = try context.read(HashValue.self, key: 1) else {
                return .emptyArray
            }
            return .bulks(hash.values)
        },
        CommandSpec("hlen", arity: 2, flags: [.readonly, .fast], keys: (1, 1, 1), group: "hash") {
            context throws(CommandError) in
            .count(try context.read(HashValue.self, key: 1)?.count ?? 0)
        },
        CommandSpec("hexists", arity: 3, flags: [.readonly, .fast], keys: (1, 1, 1), group: "hash") {
            context throws(CommandError) in
            .boolean(
                try context.read(HashValue.self, key: 1)?[context[2]] != nil)
        },
        CommandSpec("hstrlen", arity: 3, flags: [.readonly, .fast], keys: (1, 1, 1), group: "hash") {
            context throws(CommandError) in
            .count(
                try context.read(HashValue.self, key: 1)?[context[2]]?.count
                    ?? 0)
        },
        CommandSpec("hdel", arity: -3, flags: [.write, .fast], keys: (1, 1, 1), group: "hash") {
            context throws(CommandError) in
            try HashCommand.delete(&context)
        },
        CommandSpec("hincrby", arity: 4, flags: [.write, .denyOOM, .fast], keys: (1, 1, 1), group: "hash") {
            context throws(CommandError) in
            try HashCommand.incrementInteger(&context)
        },
        CommandSpec("hincrbyfloat", arity: 4, flags: [.write, .denyOOM, .fast], keys: (1, 1, 1), group: "hash") {
            context throws(CommandError) in
            try HashCommand.incrementFloat(&context)
        },
        CommandSpec("hrandfield", arity: -2, flags: [.readonly, .random], keys: (1, 1, 1), group: "hash") {
            context throws(CommandError) in
            try HashCommand.randomFields(&context)
        },
        CommandSpec("hscan", arity: -3, flags: [.readonly, .random], keys: (1, 1, 1), group: "hash") {
            context throws(CommandError) in
            try HashCommand.scan(&context)
        },
    ]
}

/// The hash commands' implementations (Redis `t_hash.c`).
enum HashCommand {
    // MARK: - Writing fields

    /// HSET / HMSET `key field value [field value …]`: sets every pair, returns how many fields were new.
    /// Every pair counts as a change (Redis adds them all to `dirty`, even an unchanged value).
    static func set(_ context: inout CommandContext) throws(CommandError) -> Int {
        let argv = context.argv
        guard argv.count % 2 == 0 else { throw .wrongArity(context.name) }
        let key = argv[1]
        let db = context.db
        let created =
            try context.keyspace.update(HashValue.self, db: db, key: key, create: true) {
                hash throws(CommandError) in
                var created = 0
                for index in stride(from: 2, to: argv.count, by: 2)
                where hash.updateValue(argv[index + 1], forField: argv[index]) == nil {
                    created += 1
                }
                return created
            } ?? 0
        context.keyspace.modified(db: db, key: key, changes: (argv.count - 2) / 2)
        return created
    }

    /// HSETNX: sets the field only when it is absent; 1 when it did.
    static func setIfAbsent(_ context: inout CommandContext) throws(CommandError) -> Reply {
        let (key, field, value) = (context[1], context[2], context[3])
        let db = context.db
        let created =
            try context.keyspace.update(HashValue.self, db: db, key: key, create: true) {
                hash throws(CommandError) in
                guard hash[field] == nil else { return false }
                hash.updateValue(value, forField: field)
                return true
            } ?? false
        if created { context.keyspace.modified(db: db, key: key) }
        return .boolean(created)
    }

    /// HDEL: the number of fields removed; the last one deletes the key.
    static func delete(_ context: inout CommandContext) throws(CommandError) -> Reply {
        let key = context[1]
        let db = context.db
        let fields = context.argv[2...]
        let removed =
            try context.keyspace.update(HashValue.self, db: db, key: key) { hash throws(CommandError) in
                var removed = 0
                for field in fields where hash.removeValue(forField: field) != nil { removed += 1 }
                return removed
            } ?? 0
        if removed > 0 { context.keyspace.modified(db: db, key: key, changes: removed) }
        return .count(removed)
    }

    // MARK: - Counters

    /// HINCRBY `key field increment`: the field (0 when absent) as a strict integer plus the increment.
    /// - Throws: `ERR value is not an integer or out of range` (increment, checked first), `WRONGTYPE`,
    ///   `ERR hash value is not an integer`, `ERR increment or decrement would overflow`.
    static func incrementInteger(_ context: inout CommandContext) throws(CommandError) -> Reply {
        let increment = try context.integer(3)
        var sum: Int64 = 0
        _ = try rewriteField(&context) { stored throws(CommandError) in
            var current: Int64 = 0
            if let stored {
                guard let value = stored.integerValue else { throw CommandError("ERR hash value is not an integer") }
                current = value
            }
            let (result, overflow) = current.addingReportingOverflow(increment)
            if overflow { throw .overflow }
            sum = result
            return Bytes(integer: result)
        }
        return .integer(sum)
    }

    /// HINCRBYFLOAT `key field increment`: long-double arithmetic, the result stored in Redis's human-friendly
    /// form and propagated as `HSET key field result` so that a replay does not depend on float formatting.
    /// - Throws: `ERR value is not a valid float`, `ERR value is NaN or Infinity` (the increment), `WRONGTYPE`,
    ///   `ERR hash value is not a float`, `ERR increment would produce NaN or Infinity`.
    static func incrementFloat(_ context: inout CommandContext) throws(CommandError) -> Reply {
        guard let increment = context[3].longDoubleValue else { throw .notFloat }
        if increment.isNaN || increment.isInfinite { throw CommandError("ERR value is NaN or Infinity") }
        let result = try rewriteField(&context) { stored throws(CommandError) in
            var current: Float80 = 0
            if let stored {
                guard let value = stored.longDoubleValue else { throw CommandError("ERR hash value is not a float") }
                current = value
            }
            let sum = current + increment
            if sum.isNaN || sum.isInfinite { throw CommandError("ERR increment would produce NaN or Infinity") }
            return Bytes(humanFriendly: sum)
        }
        context.propagateAs = [["HSET", context[1], context[2], result]]
        return .bulk(result)
    }

    /// The read-modify-write the counters share: `transform` gets the field's value (nil when absent) and
    /// returns the new one, which is stored (creating the hash if needed) and counted as one change.
    private static func rewriteField(
        _ context: inout CommandContext, _ transform: (Bytes?) throws(CommandError) -> Bytes
    ) throws(CommandError) -> Bytes {
        let (key, field) = (context[1], context[2])
        let db = context.db
        let result = try context.keyspace.update(HashValue.self, db: db, key: key, create: true) {
            hash throws(CommandError) -> Bytes in
            let value = try transform(hash[field])
            hash.updateValue(value, forField: field)
            return value
        }!
        context.keyspace.modified(db: db, key: key)
        return result
    }

    // MARK: - HRANDFIELD, HSCAN

    /// HRANDFIELD `key [count [WITHVALUES]]`.
    static func randomFields(_ context: inout CommandContext) throws(CommandError) -> Reply {
        let request = try RandomSampling.request(context.argv, keyword: "withvalues")
        guard let hash = try context.read(HashValue.self, key: 1) else {
            return request == nil ? .null : .emptyArray
        }
        var generator = SystemRandomNumberGenerator()
        guard let request else {
            return .bulk(hash.entry(at: Int.random(in: 0..<hash.count, using: &generator)).field)
        }
        let positions = RandomSampling.positions(count: request.count, size: hash.count, using: &generator)
        var items: [Reply] = []
        items.reserveCapacity(positions.count * (request.withValues ? 2 : 1))
        for position in positions {
            let (field, value) = hash.entry(at: position)
            items.append(.bulk(field))
            if request.withValues { items.append(.bulk(value)) }
        }
        return .array(items)
    }

    /// HSCAN `key cursor [MATCH pattern] [COUNT count]`: a hash Redis would keep as a listpack comes back whole in
    /// one call (cursor 0), as Redis does; a larger one is paged over its field tree.
    static func scan(_ context: inout CommandContext) throws(CommandError) -> Reply {
        guard let scan = try context.scanArguments(HashValue.self) else { return .scanPage(next: 0, []) }
        let (hash, options) = scan
        var items: [Reply] = []
        func add(_ field: Bytes, _ value: Bytes) {
            guard options.matches(field) else { return }
            items.append(.bulk(field))
            items.append(.bulk(value))
        }
        if hash.isListpack(limits: context.keyspace.encodingLimits) {
            for (field, value) in hash { add(field, value) }
            return .scanPage(next: 0, items)
        }
        let page = hash.tree.scanPage(cursor: options.cursor, count: options.count)
        for (field, value) in page.elements { add(field, value) }
        return .scanPage(next: page.next, items)
    }
}
