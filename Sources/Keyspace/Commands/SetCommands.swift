import HashTreeCollections

// MARK: - Set commands

extension CommandTable {
    static let setCommands: [CommandSpec] = [
        CommandSpec("sadd", arity: -3, flags: [.write, .denyOOM, .fast], keys: (1, 1, 1), group: "set") {
            context throws(CommandError) in
            try SetCommand.change(&context, adding: true)
        },
        CommandSpec("srem", arity: -3, flags: [.write, .fast], keys: (1, 1, 1), group: "set") {
            context throws(CommandError) in
            try SetCommand.change(&context, adding: false)
        },
        CommandSpec("smembers", arity: 2, flags: [.readonly], keys: (1, 1, 1), group: "set") {
            context throws(CommandError) in
            guard let set = try context.read(SetValue.self, key: 1) else {
                return .emptyArray
            }
            return .bulks(set)
        },
        CommandSpec("sismember", arity: 3, flags: [.readonly, .fast], keys: (1, 1, 1), group: "set") {
            context throws(CommandError) in
            let set = try context.read(SetValue.self, key: 1)
            return .boolean(set?.contains(context[2]) ?? false)
        },
        CommandSpec("smismember", arity: -3, flags: [.readonly, .fast], keys: (1, 1, 1), group: "set") {
            context throws(CommandError) in
            let set = try context.read(SetValue.self, key: 1)
            return .array(context.argv[2...].map { .boolean(set?.contains($0) ?? false) })
        },
        CommandSpec("scard", arity: 2, flags: [.readonly, .fast], keys: (1, 1, 1), group: "set") {
            context throws(CommandError) in
            .count(try context.read(SetValue.self, key: 1)?.count ?? 0)
        },
        CommandSpec("spop", arity: -2, flags: [.write, .random, .fast], keys: (1, 1, 1), group: "set") {
            context throws(CommandError) in
            try SetCommand.pop(&context)
        },
        CommandSpec("srandmember", arity: -2, flags: [.readonly, .random], keys: (1, 1, 1), group: "set") {
            context throws(CommandError) in
            try SetCommand.randomMembers(&context)
        },
        CommandSpec("smove", arity: 4, flags: [.write, .fast], keys: (1, 2, 1), group: "set") {
            context throws(CommandError) in
            try SetCommand.move(&context)
        },
        CommandSpec("sinter", arity: -2, flags: [.readonly], keys: (1, -1, 1), group: "set") {
            context throws(CommandError) in
            try SetCommand.combine(&context, .intersection, keysFrom: 1, destination: nil)
        },
        CommandSpec("sunion", arity: -2, flags: [.readonly], keys: (1, -1, 1), group: "set") {
            context throws(CommandError) in
            try SetCommand.combine(&context, .union, keysFrom: 1, destination: nil)
        },
        CommandSpec("sdiff", arity: -2, flags: [.readonly], keys: (1, -1, 1), group: "set") {
            context throws(CommandError) in
            try SetCommand.combine(&context, .difference, keysFrom: 1, destination: nil)
        },
        CommandSpec("sinterstore", arity: -3, flags: [.write, .denyOOM], keys: (1, -1, 1), group: "set") {
            context throws(CommandError) in
            try SetCommand.combine(&context, .intersection, keysFrom: 2, destination: context[1])
        },
        CommandSpec("sunionstore", arity: -3, flags: [.write, .denyOOM], keys: (1, -1, 1), group: "set") {
            context throws(CommandError) in
            try SetCommand.combine(&context, .union, keysFrom: 2, destination: context[1])
        },
        CommandSpec("sdiffstore", arity: -3, flags: [.write, .denyOOM], keys: (1, -1, 1), group: "set") {
            context throws(CommandError) in
            try SetCommand.combine(&context, .difference, keysFrom: 2, destination: context[1])
        },
        // Keys are located by `numkeys` (Redis reports no fixed key positions for it either).
        CommandSpec("sintercard", arity: -3, flags: [.readonly], group: "set") { context throws(CommandError) in
            try SetCommand.intersectionCardinality(&context)
        },
        CommandSpec("sscan", arity: -3, flags: [.readonly, .random], keys: (1, 1, 1), group: "set") {
            context throws(CommandError) in
            try SetCommand.scan(&context)
        },
    ]
}

/// The set commands' implementations (Redis `t_set.c`).
enum SetCommand {
    /// SPOP propagates the members it popped as SREM commands of at most this many members each (Redis's batch).
    static let propagationBatch = 1024

    // MARK: - Members

    /// SADD (`adding`: the number of members that were not there) and SREM (the number that were; the last one
    /// deletes the key).
    static func change(_ context: inout CommandContext, adding: Bool) throws(CommandError) -> Reply {
        let key = context[1]
        let db = context.db
        let members = context.argv[2...]
        let changed = try context.keyspace.update(SetValue.self, db: db, key: key, create: adding) {
            set throws(CommandError) in
            var changed = 0
            for member in members {
                let done = adding ? set.insert(member) : set.remove(member)
                if done { changed += 1 }
            }
            return changed
        } ?? 0
        if changed > 0 { context.keyspace.modified(db: db, key: key, changes: changed) }
        return .count(changed)
    }

    /// SMOVE `source destination member`: 1 when the member moved (or is already in a set that is both), else 0.
    static func move(_ context: inout CommandContext) throws(CommandError) -> Reply {
        let source = context[1]
        let destination = context[2]
        let member = context[3]
        let db = context.db
        let keyspace = context.keyspace
        // A missing source answers 0 before the destination's type is looked at.
        let lookup = try keyspace.payloadForWrite(SetValue.self, db: db, key: source).map { $0.contains(member) }
        guard let isMember = lookup else { return .integer(0) }
        if source != destination { _ = try keyspace.payloadForWrite(SetValue.self, db: db, key: destination) }
        // The same key: nothing moves, the answer is whether the member is there.
        guard isMember, source != destination else { return .boolean(isMember) }
        _ = try keyspace.update(SetValue.self, db: db, key: source) { set throws(CommandError) in
            set.remove(member)
        }
        keyspace.modified(db: db, key: source)
        let inserted = try keyspace.update(SetValue.self, db: db, key: destination, create: true) {
            set throws(CommandError) in
            set.insert(member)
        } ?? false
        keyspace.modified(db: db, key: destination, changes: inserted ? 1 : 0)
        return .integer(1)
    }

    // MARK: - Random members

    /// SPOP `key [count]`: one random member (null when missing), or with a count an array of distinct ones.
    /// Propagated as SREM of what was popped, or DEL when the whole set went.
    static func pop(_ context: inout CommandContext) throws(CommandError) -> Reply {
        guard context.count <= 3 else { throw .syntax }
        let key = context[1]
        let db = context.db
        var random = SystemRandomNumberGenerator()
        guard context.count == 3 else {
            let popped = try context.keyspace.update(SetValue.self, db: db, key: key) { set throws(CommandError) in
                let member = set.randomMember(using: &random)
                if let member { set.remove(member) }
                return member
            }
            guard let member = popped ?? nil else { return .null }
            context.keyspace.modified(db: db, key: key)
            context.propagateAs = [["SREM", key, member]]
            return .bulk(member)
        }
        let count = try CollectionArguments.nonNegative(context[2], orError: "value is out of range, must be positive")
        let popped = try context.keyspace.update(SetValue.self, db: db, key: key) { set throws(CommandError) in
            let size = set.count
            return (set.popRandomMembers(count, using: &random), size)
        }
        guard let (members, size) = popped, !members.isEmpty else { return .emptyArray }
        context.keyspace.modified(db: db, key: key, changes: members.count)
        if members.count == size {
            context.propagateAs = [["DEL", key]]
        } else {
            context.propagateAs = stride(from: 0, to: members.count, by: propagationBatch).map { start in
                ["SREM", key] + members[start..<Swift.min(start + propagationBatch, members.count)]
            }
        }
        return .bulks(members)
    }

    /// SRANDMEMBER `key [count]`: one random member (null when missing); with a positive count up to that many
    /// distinct members, with a negative one exactly |count| members that may repeat.
    static func randomMembers(_ context: inout CommandContext) throws(CommandError) -> Reply {
        guard context.count <= 3 else { throw .syntax }
        let count = context.count == 3 ? try CollectionArguments.atLeast(-Int64.max, context[2]) : nil
        var random = SystemRandomNumberGenerator()
        guard let set = try context.read(SetValue.self, key: 1) else {
            return count == nil ? .null : .emptyArray
        }
        guard let count else { return .bulkOrNull(set.randomMember(using: &random)) }
        if count < 0 { return .bulks(set.randomMembersWithRepetition(Int(-count), using: &random)) }
        return .bulks(set.randomDistinctMembers(Int(count), using: &random))
    }

    // MARK: - Scanning

    /// SSCAN `key cursor [MATCH pattern] [COUNT n]`. The cursor is checked before the key is looked up, the
    /// options after (so a missing key answers an empty page whatever they are). A set Redis would keep as an
    /// intset is returned whole in one page, as Redis does.
    static func scan(_ context: inout CommandContext) throws(CommandError) -> Reply {
        let cursor = try CollectionArguments.scanCursor(context[2])
        guard let set = try context.read(SetValue.self, key: 1) else {
            return .array([.bulk("0"), .emptyArray])
        }
        // ScanOptions parses the cursor with its own rules: hand it a neutral one and keep ours.
        var argv = context.argv
        argv[2] = "0"
        var options = try ScanOptions(argv, cursorIndex: 2)
        options.cursor = cursor
        let next: Int
        let page: [Bytes]
        if set.isIntset(limits: context.keyspace.encodingLimits) {
            (next, page) = (0, Array(set))
        } else {
            let (after, elements) = set.tree.scanPage(cursor: options.cursor, count: options.count)
            (next, page) = (after, Array(elements))
        }
        let matching = options.pattern == nil ? page : page.filter(options.matches)
        return .array([.bulk(Bytes(integer: Int64(next))), .bulks(matching)])
    }
}
