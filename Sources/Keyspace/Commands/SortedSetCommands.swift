import HashTreeCollections

// MARK: - Sorted set commands

extension CommandTable {
    static let sortedSetCommands: [CommandSpec] =
        sortedSetMemberCommands + sortedSetRangeCommands + sortedSetAlgebraCommands

    /// Adding, removing, scoring, ranking, popping and sampling members, and ZSCAN.
    static let sortedSetMemberCommands: [CommandSpec] = [
        CommandSpec("zadd", arity: -4, flags: [.write, .denyOOM, .fast], keys: (1, 1, 1), group: "sorted-set") {
            context throws(CommandError) in
            try SortedSetCommand.add(&context, isIncrementBy: false)
        },
        CommandSpec("zincrby", arity: 4, flags: [.write, .denyOOM, .fast], keys: (1, 1, 1), group: "sorted-set") {
            context throws(CommandError) in
            try SortedSetCommand.add(&context, isIncrementBy: true)
        },
        CommandSpec("zrem", arity: -3, flags: [.write, .fast], keys: (1, 1, 1), group: "sorted-set") {
            context throws(CommandError) in
            try SortedSetCommand.remove(&context)
        },
        CommandSpec("zscore", arity: 3, flags: [.readonly, .fast], keys: (1, 1, 1), group: "sorted-set") {
            context throws(CommandError) in
            let zset = try context.read(SortedSetValue.self, key: 1)
            return zset?.score(of: context[2]).map(Reply.double) ?? .null
        },
        CommandSpec("zmscore", arity: -3, flags: [.readonly, .fast], keys: (1, 1, 1), group: "sorted-set") {
            context throws(CommandError) in
            let zset = try context.read(SortedSetValue.self, key: 1)
            return .array(context.argv[2...].map { member in zset?.score(of: member).map(Reply.double) ?? .null })
        },
        CommandSpec("zcard", arity: 2, flags: [.readonly, .fast], keys: (1, 1, 1), group: "sorted-set") {
            context throws(CommandError) in
            .count(try context.read(SortedSetValue.self, key: 1)?.count ?? 0)
        },
        CommandSpec("zcount", arity: 4, flags: [.readonly, .fast], keys: (1, 1, 1), group: "sorted-set") {
            context throws(CommandError) in
            let range = try SortedSetArguments.scoreRange(context[2], context[3])
            let zset = try context.read(SortedSetValue.self, key: 1)
            return .count(zset?.ranks(in: range).count ?? 0)
        },
        CommandSpec("zlexcount", arity: 4, flags: [.readonly, .fast], keys: (1, 1, 1), group: "sorted-set") {
            context throws(CommandError) in
            let range = try SortedSetArguments.lexRange(context[2], context[3])
            let limits = context.keyspace.encodingLimits
            let zset = try context.read(SortedSetValue.self, key: 1)
            return .count(zset.map { SortedSetCommand.lexRanks($0, range, limits: limits).count } ?? 0)
        },
        CommandSpec("zrank", arity: 3, flags: [.readonly, .fast], keys: (1, 1, 1), group: "sorted-set") {
            context throws(CommandError) in
            try SortedSetCommand.rank(&context, reverse: false)
        },
        CommandSpec("zrevrank", arity: 3, flags: [.readonly, .fast], keys: (1, 1, 1), group: "sorted-set") {
            context throws(CommandError) in
            try SortedSetCommand.rank(&context, reverse: true)
        },
        CommandSpec("zpopmin", arity: -2, flags: [.write, .fast], keys: (1, 1, 1), group: "sorted-set") {
            context throws(CommandError) in
            try SortedSetCommand.pop(&context, highest: false)
        },
        CommandSpec("zpopmax", arity: -2, flags: [.write, .fast], keys: (1, 1, 1), group: "sorted-set") {
            context throws(CommandError) in
            try SortedSetCommand.pop(&context, highest: true)
        },
        CommandSpec("zmpop", arity: -4, flags: [.write], group: "sorted-set") { context throws(CommandError) in
            try SortedSetCommand.multiPop(&context)
        },
        CommandSpec("zrandmember", arity: -2, flags: [.readonly, .random], keys: (1, 1, 1), group: "sorted-set") {
            context throws(CommandError) in
            try SortedSetCommand.randomMembers(&context)
        },
        CommandSpec("zscan", arity: -3, flags: [.readonly, .random], keys: (1, 1, 1), group: "sorted-set") {
            context throws(CommandError) in
            try SortedSetCommand.scan(&context)
        },
        CommandSpec("zremrangebyrank", arity: 4, flags: [.write], keys: (1, 1, 1), group: "sorted-set") {
            context throws(CommandError) in
            guard let start = context[2].integerValue, let stop = context[3].integerValue else { throw .notInteger }
            return try SortedSetCommand.removeRange(&context) { zset in
                SortedSetArguments.rankRange(start: start, stop: stop, count: zset.count) ?? 0..<0
            }
        },
        CommandSpec("zremrangebyscore", arity: 4, flags: [.write], keys: (1, 1, 1), group: "sorted-set") {
            context throws(CommandError) in
            let range = try SortedSetArguments.scoreRange(context[2], context[3])
            return try SortedSetCommand.removeRange(&context) { zset in zset.ranks(in: range) }
        },
        CommandSpec("zremrangebylex", arity: 4, flags: [.write], keys: (1, 1, 1), group: "sorted-set") {
            context throws(CommandError) in
            let range = try SortedSetArguments.lexRange(context[2], context[3])
            let limits = context.keyspace.encodingLimits
            return try SortedSetCommand.removeRange(&context) { zset in
                SortedSetCommand.lexRanks(zset, range, limits: limits)
            }
        },
    ]
}

/// The sorted-set commands' implementations (Redis `t_zset.c`).
enum SortedSetCommand {
    // MARK: - ZADD, ZINCRBY

    /// ZADD's options (`NX XX GT LT CH INCR`).
    struct AddOptions {
        var onlyNew = false  // NX
        var onlyExisting = false  // XX
        var onlyGreater = false  // GT
        var onlyLess = false  // LT
        var countChanged = false  // CH
        var increment = false  // INCR

        /// Reads the options at `argv[index...]`, stopping at the first argument that is not one.
        mutating func parse(_ argv: [Bytes], from index: inout Int) {
            while index < argv.count {
                let option = argv[index]
                if option.isKeyword("nx") {
                    onlyNew = true
                } else if option.isKeyword("xx") {
                    onlyExisting = true
                } else if option.isKeyword("gt") {
                    onlyGreater = true
                } else if option.isKeyword("lt") {
                    onlyLess = true
                } else if option.isKeyword("ch") {
                    countChanged = true
                } else if option.isKeyword("incr") {
                    increment = true
                } else {
                    break
                }
                index += 1
            }
        }
    }

    /// ZADD, and ZINCRBY as ZADD INCR with one pair: the number of members added (or changed, with CH), or with
    /// INCR the new score (null when the option made it a no-op).
    static func add(_ context: inout CommandContext, isIncrementBy: Bool) throws(CommandError) -> Reply {
        let argv = context.argv
        var options = AddOptions()
        var index = 2
        if isIncrementBy { options.increment = true } else { options.parse(argv, from: &index) }
        let elements = argv.count - index
        guard elements > 0, elements % 2 == 0 else { throw .syntax }
        if options.onlyNew && options.onlyExisting {
            throw CommandError("ERR XX and NX options at the same time are not compatible")
        }
        if (options.onlyGreater && options.onlyNew) || (options.onlyLess && options.onlyNew)
            || (options.onlyGreater && options.onlyLess)
        {
            throw CommandError("ERR GT, LT, and/or NX options at the same time are not compatible")
        }
        if options.increment && elements > 2 {
            throw CommandError("ERR INCR option supports a single increment-element pair")
        }
        // Every score is checked before anything changes (and parsed again below: cheaper than an array of them
        // for the usual single pair).
        for position in stride(from: index, to: argv.count, by: 2) {
            _ = try SortedSetArguments.score(argv[position], orError: SortedSetArguments.notFloat)
        }

        let key = argv[1]
        let db = context.db
        var added = 0
        var updated = 0
        var processed = 0
        var lastScore = 0.0
        // A missing key is not created under XX (nothing could be added to it).
        _ = try context.keyspace.update(SortedSetValue.self, db: db, key: key, create: !options.onlyExisting) {
            zset throws(CommandError) in
            for position in stride(from: index, to: argv.count, by: 2) {
                let score = try SortedSetArguments.score(argv[position], orError: SortedSetArguments.notFloat)
                let member = argv[position + 1]
                if let current = zset.score(of: member) {
                    if options.onlyNew { continue }
                    var newScore = score
                    if options.increment {
                        newScore = current + score
                        if newScore.isNaN { throw SortedSetArguments.nanScore }
                    }
                    if (options.onlyLess && newScore >= current) || (options.onlyGreater && newScore <= current) {
                        continue
                    }
                    if newScore != current {
                        zset.insert(member, score: newScore)
                        updated += 1
                    }
                    lastScore = newScore
                    processed += 1
                } else if !options.onlyExisting {
                    zset.insert(member, score: score)
                    added += 1
                    lastScore = score
                    processed += 1
                }
            }
        }
        if added + updated > 0 { context.keyspace.modified(db: db, key: key, changes: added + updated) }
        if options.increment { return processed > 0 ? .double(lastScore) : .null }
        return .count(options.countChanged ? added + updated : added)
    }

    // MARK: - ZREM, ZREMRANGEBY…

    /// ZREM: the number of members removed; the last one deletes the key.
    static func remove(_ context: inout CommandContext) throws(CommandError) -> Reply {
        let key = context[1]
        let db = context.db
        let members = context.argv[2...]
        let removed =
            try context.keyspace.update(SortedSetValue.self, db: db, key: key) { zset throws(CommandError) in
                var removed = 0
                for member in members where zset.remove(member) != nil { removed += 1 }
                return removed
            } ?? 0
        if removed > 0 { context.keyspace.modified(db: db, key: key, changes: removed) }
        return .count(removed)
    }

    /// ZREMRANGEBYRANK / BYSCORE / BYLEX once the range is parsed: removes the ranks `ranks` gives for the set
    /// and replies how many went.
    static func removeRange(
        _ context: inout CommandContext, _ ranks: (SortedSetValue) -> Range<Int>
    ) throws(CommandError) -> Reply {
        let key = context[1]
        let db = context.db
        let removed =
            try context.keyspace.update(SortedSetValue.self, db: db, key: key) { zset throws(CommandError) in
                zset.removeElements(inRanks: ranks(zset)).count
            } ?? 0
        if removed > 0 { context.keyspace.modified(db: db, key: key, changes: removed) }
        return .count(removed)
    }

    // MARK: - ZRANK, ZPOPMIN, ZPOPMAX

    /// ZRANK / ZREVRANK: the member's 0-based position from the lowest (or highest) score, null when missing.
    static func rank(_ context: inout CommandContext, reverse: Bool) throws(CommandError) -> Reply {
        guard let zset = try context.read(SortedSetValue.self, key: 1),
            let rank = zset.rank(of: context[2])
        else { return .null }
        return .count(reverse ? zset.count - 1 - rank : rank)
    }

    /// ZPOPMIN / ZPOPMAX `key [count]`: member, score, … from the lowest (or highest) score.
    static func pop(_ context: inout CommandContext, highest: Bool) throws(CommandError) -> Reply {
        if context.count > 3 { throw .syntax }
        var count = 1
        if context.count == 3 {
            count = try CollectionArguments.nonNegative(context[2], orError: "value is out of range, must be positive")
        }
        let key = context[1]
        let db = context.db
        let popped =
            try context.keyspace.update(SortedSetValue.self, db: db, key: key) { zset throws(CommandError) in
                popEnd(&zset, count: count, highest: highest)
            } ?? []
        if !popped.isEmpty { context.keyspace.modified(db: db, key: key, changes: popped.count) }
        return reply(popped, withScores: true)
    }

    /// Removes up to `count` members from the low end (or the high end, returned highest first).
    static func popEnd(
        _ zset: inout SortedSetValue, count: Int, highest: Bool
    ) -> [SortedSetValue.ScoredMember] {
        let take = Swift.min(count, zset.count)
        guard take > 0 else { return [] }
        if highest { return Array(zset.removeElements(inRanks: (zset.count - take)..<zset.count).reversed()) }
        return zset.removeElements(inRanks: 0..<take)
    }

    /// ZMPOP `numkeys key… MIN|MAX [COUNT count]`: pops from the first of the keys that exists (a key of
    /// another type before it is WRONGTYPE) and replies `[key, [[member, score], …]]`, or a null array when none
    /// exists. Propagated as ZPOPMIN / ZPOPMAX of that key, as Redis does.
    static func multiPop(_ context: inout CommandContext) throws(CommandError) -> Reply {
        let argv = context.argv
        let numkeysError = CommandError("ERR numkeys should be greater than 0")
        guard let declared = argv[1].integerValue, declared >= 1 else { throw numkeysError }
        guard declared < Int64(argv.count - 2) else { throw .syntax }
        let keys = argv[2..<(2 + Int(declared))]
        let direction = argv[2 + keys.count]
        guard direction.isKeyword("min") || direction.isKeyword("max") else { throw .syntax }
        let highest = direction.isKeyword("max")
        var count: Int64? = nil
        var index = 3 + keys.count
        while index < argv.count {
            guard count == nil, argv[index].isKeyword("count"), index + 1 < argv.count else { throw .syntax }
            guard let value = argv[index + 1].integerValue, value >= 1 else {
                throw CommandError("ERR count should be greater than 0")
            }
            count = value
            index += 2
        }
        let db = context.db
        for key in keys {
            guard try context.keyspace.payloadForWrite(SortedSetValue.self, db: db, key: key) != nil else { continue }
            let wanted = count ?? 1
            let popped =
                try context.keyspace.update(SortedSetValue.self, db: db, key: key) { zset throws(CommandError) in
                    popEnd(&zset, count: Int(Swift.min(wanted, Int64(Int.max))), highest: highest)
                } ?? []
            context.keyspace.modified(db: db, key: key, changes: popped.count)
            context.propagateAs = [[highest ? "ZPOPMAX" : "ZPOPMIN", key, Bytes(integer: wanted)]]
            return .array([.bulk(key), .array(popped.map { .array([.bulk($0.member), .double($0.score)]) })])
        }
        return .nullArray
    }

    // MARK: - ZRANDMEMBER, ZSCAN

    /// ZRANDMEMBER `key [count [WITHSCORES]]`.
    static func randomMembers(_ context: inout CommandContext) throws(CommandError) -> Reply {
        let request = try RandomSampling.request(context.argv, keyword: "withscores")
        guard let zset = try context.read(SortedSetValue.self, key: 1) else {
            return request == nil ? .null : .emptyArray
        }
        var generator = SystemRandomNumberGenerator()
        guard let request else {
            return .bulk(zset[rank: Int.random(in: 0..<zset.count, using: &generator)].member)
        }
        // The whole set comes highest first, as Redis walks a listpack for it.
        if request.count >= Int64(zset.count) { return reply(Array(zset).reversed(), withScores: request.withValues) }
        let ranks = RandomSampling.positions(count: request.count, size: zset.count, using: &generator)
        return reply(zset.elements(atRanks: ranks), withScores: request.withValues)
    }

    /// ZSCAN `key cursor [MATCH pattern] [COUNT count]`: a set Redis would keep as a listpack comes back whole
    /// in one call (in order, cursor 0), as Redis does; a larger one is paged over its member tree.
    static func scan(_ context: inout CommandContext) throws(CommandError) -> Reply {
        guard let scan = try context.scanArguments(SortedSetValue.self) else { return .scanPage(next: 0, []) }
        let (zset, options) = scan
        var items: [Reply] = []
        var next = 0
        if zset.isListpack(limits: context.keyspace.encodingLimits) {
            for element in zset where options.matches(element.member) {
                items.append(.bulk(element.member))
                items.append(.double(element.score))
            }
        } else {
            let page = zset.scores.scanPage(cursor: options.cursor, count: options.count)
            next = page.next
            for (member, score) in page.elements where options.matches(member) {
                items.append(.bulk(member))
                items.append(.double(score))
            }
        }
        return .scanPage(next: next, items)
    }

    // MARK: - Replies

    /// Members, each followed by its score when `withScores`, as one flat array (RESP2).
    static func reply<S: Sequence>(_ elements: S, withScores: Bool) -> Reply
    where S.Element == SortedSetValue.ScoredMember {
        var items: [Reply] = []
        items.reserveCapacity(elements.underestimatedCount * (withScores ? 2 : 1))
        for element in elements {
            items.append(.bulk(element.member))
            if withScores { items.append(.double(element.score)) }
        }
        return .array(items)
    }
}
