// MARK: - List commands

// The blocking forms (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP) are not here: they need the server's event loop
// to park a client until a key is pushed to.

extension CommandTable {
    static let listCommands: [CommandSpec] = [
        CommandSpec("lpush", arity: -3, flags: [.write, .denyOOM, .fast], keys: (1, 1, 1), group: "list") {
            context throws(CommandError) in
            try ListCommand.push(&context, head: true, onlyIfExists: false)
        },
        CommandSpec("rpush", arity: -3, flags: [.write, .denyOOM, .fast], keys: (1, 1, 1), group: "list") {
            context throws(CommandError) in
            try ListCommand.push(&context, head: false, onlyIfExists: false)
        },
        CommandSpec("lpushx", arity: -3, flags: [.write, .denyOOM, .fast], keys: (1, 1, 1), group: "list") {
            context throws(CommandError) in
            try ListCommand.push(&context, head: true, onlyIfExists: true)
        },
        CommandSpec("rpushx", arity: -3, flags: [.write, .denyOOM, .fast], keys: (1, 1, 1), group: "list") {
            context throws(CommandError) in
            try ListCommand.push(&context, head: false, onlyIfExists: true)
        },
        CommandSpec("lpop", arity: -2, flags: [.write, .fast], keys: (1, 1, 1), group: "list") {
            context throws(CommandError) in
            try ListCommand.pop(&context, head: true)
        },
        CommandSpec("rpop", arity: -2, flags: [.write, .fast], keys: (1, 1, 1), group: "list") {
            context throws(CommandError) in
            try ListCommand.pop(&context, head: false)
        },
        CommandSpec("llen", arity: 2, flags: [.readonly, .fast], keys: (1, 1, 1), group: "list") {
            context throws(CommandError) in
            .count(try context.read(ListValue.self, key: 1)?.count ?? 0)
        },
        CommandSpec("lrange", arity: 4, flags: [.readonly], keys: (1, 1, 1), group: "list") {
            context throws(CommandError) in
            let start = try context.integer(2)
            let stop = try context.integer(3)
            guard let list = try context.read(ListValue.self, key: 1) else {
                return .emptyArray
            }
            return .array(list.map(list.positions(start: start, stop: stop)) { .bulk($0) })
        },
        CommandSpec("lindex", arity: 3, flags: [.readonly], keys: (1, 1, 1), group: "list") {
            context throws(CommandError) in
            // Redis looks the key up before parsing the index: a missing key answers null whatever the index.
            guard let list = try context.read(ListValue.self, key: 1) else {
                return .null
            }
            guard let position = list.position(try context.integer(2)) else { return .null }
            return .bulk(list[position])
        },
        CommandSpec("lset", arity: 4, flags: [.write, .denyOOM], keys: (1, 1, 1), group: "list") {
            context throws(CommandError) in
            try ListCommand.set(&context)
        },
        CommandSpec("lrem", arity: 4, flags: [.write], keys: (1, 1, 1), group: "list") {
            context throws(CommandError) in
            try ListCommand.removeByValue(&context)
        },
        CommandSpec("ltrim", arity: 4, flags: [.write], keys: (1, 1, 1), group: "list") {
            context throws(CommandError) in
            try ListCommand.trim(&context)
        },
        CommandSpec("linsert", arity: 5, flags: [.write, .denyOOM], keys: (1, 1, 1), group: "list") {
            context throws(CommandError) in
            try ListCommand.insert(&context)
        },
        CommandSpec("lpos", arity: -3, flags: [.readonly], keys: (1, 1, 1), group: "list") {
            context throws(CommandError) in
            try ListCommand.position(&context)
        },
        CommandSpec("rpoplpush", arity: 3, flags: [.write, .denyOOM], keys: (1, 2, 1), group: "list") {
            context throws(CommandError) in
            try ListCommand.move(&context, from: .right, to: .left)
        },
        CommandSpec("lmove", arity: 5, flags: [.write, .denyOOM], keys: (1, 2, 1), group: "list") {
            context throws(CommandError) in
            let from = try CollectionArguments.end(context[3])
            let to = try CollectionArguments.end(context[4])
            return try ListCommand.move(&context, from: from, to: to)
        },
        // Keys are located by `numkeys` (Redis reports no fixed key positions for it either).
        CommandSpec("lmpop", arity: -4, flags: [.write], group: "list") { context throws(CommandError) in
            try ListCommand.multiPop(&context)
        },
    ]
}

/// The list commands' implementations (Redis `t_list.c`).
enum ListCommand {
    // MARK: - Push and pop

    /// LPUSH, RPUSH, LPUSHX, RPUSHX: the length after the push (0 for the X forms on a missing key).
    static func push(_ context: inout CommandContext, head: Bool, onlyIfExists: Bool) throws(CommandError) -> Reply {
        let key = context[1]
        let db = context.db
        let elements = context.argv[2...]
        let length = try context.keyspace.update(ListValue.self, db: db, key: key, create: !onlyIfExists) {
            list throws(CommandError) in
            if head {
                for element in elements { list.prepend(element) }
            } else {
                for element in elements { list.append(element) }
            }
            return list.count
        }
        guard let length else { return .integer(0) }
        context.keyspace.modified(db: db, key: key, changes: elements.count)
        return .count(length)
    }

    /// LPOP / RPOP `key [count]`: one element (null when missing), or with a count an array (a null array when
    /// missing, an empty one for a count of 0).
    static func pop(_ context: inout CommandContext, head: Bool) throws(CommandError) -> Reply {
        guard context.count <= 3 else { throw .wrongArity(context.name) }
        let count = context.count == 3
            ? try CollectionArguments.nonNegative(context[2], orError: "value is out of range, must be positive") : nil
        let key = context[1]
        let db = context.db
        let popped = try context.keyspace.update(ListValue.self, db: db, key: key) { list throws(CommandError) in
            let limit = count ?? 1
            return head ? list.removeFirst(upTo: limit) : list.removeLast(upTo: limit)
        }
        guard let popped else { return count == nil ? .null : .nullArray }
        if !popped.isEmpty { context.keyspace.modified(db: db, key: key, changes: popped.count) }
        return count == nil ? .bulk(popped[0]) : .bulks(popped)
    }

    /// RPOPLPUSH / LMOVE: pops from one end of the source and pushes to one end of the destination; the element
    /// moved, or null when the source is missing. The same key rotates the list.
    static func move(
        _ context: inout CommandContext, from: CollectionArguments.End, to: CollectionArguments.End
    ) throws(CommandError) -> Reply {
        let source = context[1]
        let destination = context[2]
        let db = context.db
        let keyspace = context.keyspace
        // Both types are checked before anything moves (the source first: a missing source answers null even
        // when the destination has the wrong type).
        guard try keyspace.payloadForWrite(ListValue.self, db: db, key: source) != nil else { return .null }
        if destination != source { _ = try keyspace.payloadForWrite(ListValue.self, db: db, key: destination) }
        let sameKey = destination == source
        let moved = try keyspace.update(ListValue.self, db: db, key: source) { list throws(CommandError) -> Bytes in
            // The key exists and collections are never stored empty, so there is an element.
            let element = (from == .left ? list.removeFirst() : list.removeLast())!
            if sameKey {
                if to == .left { list.prepend(element) } else { list.append(element) }
            }
            return element
        }
        guard let moved else { return .null }
        keyspace.modified(db: db, key: source)
        if !sameKey {
            _ = try keyspace.update(ListValue.self, db: db, key: destination, create: true) { list throws(CommandError) in
                if to == .left { list.prepend(moved) } else { list.append(moved) }
            }
            keyspace.modified(db: db, key: destination, changes: 0)
        }
        return .bulk(moved)
    }

    /// LMPOP `numkeys key… LEFT|RIGHT [COUNT n]`: pops from the first non-empty list, replying
    /// `[key, [elements]]`, or a null array when every list is missing. Propagated as LPOP/RPOP `key n`.
    static func multiPop(_ context: inout CommandContext) throws(CommandError) -> Reply {
        let numberOfKeys = try CollectionArguments.atLeast(1, context[1], orError: "numkeys should be greater than 0")
        // The direction follows the keys: fewer arguments than `numkeys` announces is a syntax error.
        guard numberOfKeys < Int64(context.count - 2) else { throw .syntax }
        let endIndex = 2 + Int(numberOfKeys)
        let end = try CollectionArguments.end(context[endIndex])
        var count: Int64?
        var index = endIndex + 1
        while index < context.count {
            guard count == nil, context[index].isKeyword("count"), index + 1 < context.count else { throw .syntax }
            count = try CollectionArguments.atLeast(1, context[index + 1], orError: "count should be greater than 0")
            index += 2
        }
        let limit = Int(count ?? 1)
        let db = context.db
        for key in context.argv[2..<endIndex] {
            // A missing key is skipped; a key of another type ends the search with WRONGTYPE.
            guard try context.keyspace.payloadForWrite(ListValue.self, db: db, key: key) != nil else { continue }
            let popped = try context.keyspace.update(ListValue.self, db: db, key: key) { list throws(CommandError) in
                end == .left ? list.removeFirst(upTo: limit) : list.removeLast(upTo: limit)
            } ?? []
            context.keyspace.modified(db: db, key: key, changes: popped.count)
            context.propagateAs = [[end == .left ? "LPOP" : "RPOP", key, Bytes(integer: Int64(popped.count))]]
            return .array([.bulk(key), .bulks(popped)])
        }
        return .nullArray
    }

    // MARK: - Positions

    /// LSET `key index element`: `ERR no such key` when missing (checked before the index is parsed),
    /// `ERR index out of range` outside the list.
    static func set(_ context: inout CommandContext) throws(CommandError) -> Reply {
        let key = context[1]
        let db = context.db
        let index = context[2]
        let element = context[3]
        let done: Void? = try context.keyspace.update(ListValue.self, db: db, key: key) { list throws(CommandError) in
            guard let value = index.integerValue else { throw .notInteger }
            guard let position = list.position(value) else { throw .indexOutOfRange }
            list[position] = element
        }
        guard done != nil else { throw .noSuchKey }
        context.keyspace.modified(db: db, key: key)
        return .ok
    }

    /// LTRIM `key start stop`: always OK; a range that selects nothing deletes the key.
    static func trim(_ context: inout CommandContext) throws(CommandError) -> Reply {
        let start = try context.integer(2)
        let stop = try context.integer(3)
        let key = context[1]
        let db = context.db
        let removed = try context.keyspace.update(ListValue.self, db: db, key: key) { list throws(CommandError) in
            let kept = list.positions(start: start, stop: stop)
            let removed = list.count - kept.count
            if removed > 0 { list.keep(kept) }
            return removed
        }
        // Redis signals the key even when nothing was trimmed (a WATCH on it fails), but counts only removals.
        if let removed { context.keyspace.modified(db: db, key: key, changes: removed) }
        return .ok
    }

    // MARK: - Values

    /// LREM `key count element`: removes `count` matches from the head, `-count` from the tail, or all for 0.
    static func removeByValue(_ context: inout CommandContext) throws(CommandError) -> Reply {
        let count = try context.integer(2)
        let key = context[1]
        let db = context.db
        let element = context[3]
        // |Int64.min| passes every list length: it means "all of them from the tail".
        let limit = count == Int64.min ? 0 : Int(count.magnitude)
        let removed = try context.keyspace.update(ListValue.self, db: db, key: key) { list throws(CommandError) in
            list.removeAll(equalTo: element, limit: limit, fromTail: count < 0)
        } ?? 0
        if removed > 0 { context.keyspace.modified(db: db, key: key, changes: removed) }
        return .count(removed)
    }

    /// LINSERT `key BEFORE|AFTER pivot element`: the new length, -1 without the pivot, 0 for a missing key.
    static func insert(_ context: inout CommandContext) throws(CommandError) -> Reply {
        let after: Bool
        if context[2].isKeyword("after") {
            after = true
        } else if context[2].isKeyword("before") {
            after = false
        } else {
            throw .syntax
        }
        let key = context[1]
        let db = context.db
        let pivot = context[3]
        let element = context[4]
        let length = try context.keyspace.update(ListValue.self, db: db, key: key) { list throws(CommandError) in
            list.insert(element, nextTo: pivot, after: after) ? list.count : -1
        }
        guard let length else { return .integer(0) }
        if length > 0 { context.keyspace.modified(db: db, key: key) }
        return .count(length)
    }

    /// LPOS `key element [RANK r] [COUNT n] [MAXLEN len]`: the first match's position (null if none), or with
    /// COUNT an array of up to `n` positions (all for 0).
    static func position(_ context: inout CommandContext) throws(CommandError) -> Reply {
        var rank: Int64 = 1
        var count: Int?
        var maxLength = 0
        var index = 3
        while index < context.count {
            guard index + 1 < context.count else { throw .syntax }
            let option = context[index]
            let argument = context[index + 1]
            if option.isKeyword("rank") {
                rank = try context.integer(index + 1)
                if rank == 0 {
                    throw CommandError("ERR RANK can't be zero: use 1 to start from the first match, 2 from the "
                        + "second ... or use negative to start from the end of the list")
                }
            } else if option.isKeyword("count") {
                count = try CollectionArguments.nonNegative(argument, orError: "COUNT can't be negative")
            } else if option.isKeyword("maxlen") {
                maxLength = try CollectionArguments.nonNegative(argument, orError: "MAXLEN can't be negative")
            } else {
                throw .syntax
            }
            index += 2
        }
        guard let list = try context.read(ListValue.self, key: 1) else {
            return count == nil ? .null : .emptyArray
        }
        // Redis 7.0 negates the rank in a C long: RANK -2^63 stays negative, so it scans from the tail, counts
        // every match as reaching the rank and never reaches COUNT (observed on 7.0.15). Reproduced here.
        let overflowedRank = rank == Int64.min
        let skipping = overflowedRank ? 0 : Int(rank.magnitude - 1)
        let limit: Int? = if let count { count == 0 || overflowedRank ? nil : count } else { 1 }
        let found = list.positions(
            of: context[2], fromTail: rank < 0, skipping: skipping, limit: limit, maxComparisons: maxLength)
        if count == nil { return found.first.map { .count($0) } ?? .null }
        return .array(found.map { .count($0) })
    }
}
