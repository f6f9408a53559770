import HashTreeCollections

// MARK: - ZRANGE and its older forms

extension CommandTable {
    /// ZRANGE (BYSCORE, BYLEX, REV, LIMIT, WITHSCORES), ZRANGESTORE, and the fixed forms ZREVRANGE,
    /// ZRANGEBYSCORE, ZREVRANGEBYSCORE, ZRANGEBYLEX, ZREVRANGEBYLEX: one implementation (Redis
    /// `zrangeGenericCommand`).
    static let sortedSetRangeCommands: [CommandSpec] = [
        CommandSpec("zrange", arity: -4, flags: [.readonly], keys: (1, 1, 1), group: "sorted-set") {
            context throws(CommandError) in
            try SortedSetCommand.range(&context, SortedSetCommand.RangeForm())
        },
        CommandSpec("zrangestore", arity: -5, flags: [.write, .denyOOM], keys: (1, 2, 1), group: "sorted-set") {
            context throws(CommandError) in
            try SortedSetCommand.range(&context, SortedSetCommand.RangeForm(store: true))
        },
        CommandSpec("zrevrange", arity: -4, flags: [.readonly], keys: (1, 1, 1), group: "sorted-set") {
            context throws(CommandError) in
            try SortedSetCommand.range(&context, SortedSetCommand.RangeForm(kind: .rank, reverse: true))
        },
        CommandSpec("zrangebyscore", arity: -4, flags: [.readonly], keys: (1, 1, 1), group: "sorted-set") {
            context throws(CommandError) in
            try SortedSetCommand.range(&context, SortedSetCommand.RangeForm(kind: .score, reverse: false))
        },
        CommandSpec("zrevrangebyscore", arity: -4, flags: [.readonly], keys: (1, 1, 1), group: "sorted-set") {
            context throws(CommandError) in
            try SortedSetCommand.range(&context, SortedSetCommand.RangeForm(kind: .score, reverse: true))
        },
        CommandSpec("zrangebylex", arity: -4, flags: [.readonly], keys: (1, 1, 1), group: "sorted-set") {
            context throws(CommandError) in
            try SortedSetCommand.range(&context, SortedSetCommand.RangeForm(kind: .lex, reverse: false))
        },
        CommandSpec("zrevrangebylex", arity: -4, flags: [.readonly], keys: (1, 1, 1), group: "sorted-set") {
            context throws(CommandError) in
            try SortedSetCommand.range(&context, SortedSetCommand.RangeForm(kind: .lex, reverse: true))
        },
    ]
}

extension SortedSetCommand {
    /// How a range is given: by position, by score, or by member bytes.
    enum RangeKind {
        case rank, score, lex
    }

    /// What a command of the family fixes by its name. A nil field is chosen by the options (ZRANGE's BYSCORE,
    /// BYLEX, REV) and may be given once.
    struct RangeForm {
        var kind: RangeKind? = nil
        var reverse: Bool? = nil
        /// ZRANGESTORE: `dst src min max …`, no WITHSCORES, the result stored.
        var store = false
    }

    /// A parsed range.
    enum ParsedRange {
        case rank(start: Int64, stop: Int64)
        case score(ScoreRange)
        case lex(LexRange)
    }

    /// The ZRANGE family. Options are read first, then their combinations are checked, then the range, and only
    /// then the key (so a syntax error wins over WRONGTYPE, as in Redis).
    static func range(_ context: inout CommandContext, _ form: RangeForm) throws(CommandError) -> Reply {
        let argv = context.argv
        let source = form.store ? 2 : 1
        var kind = form.kind
        var reverse = form.reverse
        var withScores = false
        var limit: (offset: Int64, count: Int64)? = nil
        var index = source + 3
        while index < argv.count {
            let option = argv[index]
            if !form.store && option.isKeyword("withscores") {
                withScores = true
            } else if argv.count - index - 1 >= 2 && option.isKeyword("limit") {
                guard let offset = argv[index + 1].integerValue, let count = argv[index + 2].integerValue else {
                    throw .notInteger
                }
                limit = (offset, count)
                index += 2
            } else if reverse == nil && option.isKeyword("rev") {
                reverse = true
            } else if kind == nil && option.isKeyword("bylex") {
                kind = .lex
            } else if kind == nil && option.isKeyword("byscore") {
                kind = .score
            } else {
                throw .syntax
            }
            index += 1
        }
        let rangeKind = kind ?? .rank
        let descending = reverse ?? false
        if limit != nil && rangeKind == .rank {
            throw CommandError("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
        }
        if withScores && rangeKind == .lex {
            throw CommandError("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
        }
        // Reverse score and lex ranges are written max first.
        var (minimum, maximum) = (argv[source + 1], argv[source + 2])
        if descending && rangeKind != .rank { swap(&minimum, &maximum) }
        let parsed: ParsedRange
        switch rangeKind {
        case .rank:
            guard let start = minimum.integerValue, let stop = maximum.integerValue else { throw .notInteger }
            parsed = .rank(start: start, stop: stop)
        case .score: parsed = .score(try SortedSetArguments.scoreRange(minimum, maximum))
        case .lex: parsed = .lex(try SortedSetArguments.lexRange(minimum, maximum))
        }

        let db = context.db
        let zset =
            form.store
            ? try context.keyspace.payloadForWrite(SortedSetValue.self, db: db, key: argv[source])
            : try context.keyspace.read(SortedSetValue.self, db: db, key: argv[source])
        let limits = context.keyspace.encodingLimits
        let selected = zset.map { select($0, parsed, descending: descending, limit: limit, limits: limits) } ?? []
        if form.store {
            return store(&context, key: argv[1], ascending: descending ? Array(selected.reversed()) : selected)
        }
        return reply(selected, withScores: withScores)
    }

    /// The elements of `range` in reply order, after LIMIT.
    /// - Complexity: O(log n + n / chunkCapacity + k) for k elements.
    static func select(
        _ zset: SortedSetValue, _ range: ParsedRange, descending: Bool, limit: (offset: Int64, count: Int64)?,
        limits: EncodingLimits
    ) -> [SortedSetValue.ScoredMember] {
        let ranks: Range<Int>
        switch range {
        case .rank(let start, let stop):
            guard let selected = SortedSetArguments.rankRange(start: start, stop: stop, count: zset.count) else {
                return []
            }
            guard descending else { return zset.elements(inRanks: selected) }
            let count = zset.count
            return zset.elements(inRanks: (count - selected.upperBound)..<(count - selected.lowerBound)).reversed()
        case .score(let scores): ranks = zset.ranks(in: scores)
        case .lex(let members):
            if zset.isListpack(limits: limits) {
                guard let walked = walk(Array(zset), members, descending: descending, limit: limit) else { return [] }
                let elements = zset.elements(inRanks: walked)
                return descending ? elements.reversed() : elements
            }
            ranks = zset.ranks(in: members)
        }
        guard let window = window(ranks, limit: limit, descending: descending) else { return [] }
        let elements = zset.elements(inRanks: window)
        return descending ? elements.reversed() : elements
    }

    /// The ranks a lexicographic range selects (ZRANGEBYLEX, ZLEXCOUNT, ZREMRANGEBYLEX). A set Redis keeps as a
    /// listpack is walked the way Redis walks one; a larger set is searched. The two agree whenever all scores
    /// are equal; with mixed scores Redis leaves the answer unspecified, and the walk keeps small sets identical
    /// to a real server's.
    static func lexRanks(_ zset: SortedSetValue, _ range: LexRange, limits: EncodingLimits) -> Range<Int> {
        guard zset.isListpack(limits: limits) else { return zset.ranks(in: range) }
        return walk(Array(zset), range, descending: false, limit: nil) ?? 0..<0
    }

    /// Redis's listpack walk over `elements` (the whole set, in order): nothing unless the last member is at or
    /// above the minimum and the first at or below the maximum; then forward from the first member at or above
    /// the minimum (backward from the last at or below the maximum), skipping `offset`, while members stay at
    /// or below the maximum (at or above the minimum), at most `count` of them.
    /// - Complexity: O(n)
    static func walk(
        _ elements: [SortedSetValue.ScoredMember], _ range: LexRange, descending: Bool,
        limit: (offset: Int64, count: Int64)?
    ) -> Range<Int>? {
        guard !range.isEmpty, let first = elements.first, let last = elements.last,
            range.isAboveMinimum(last.member), range.isBelowMaximum(first.member)
        else { return nil }
        let offset = limit?.offset ?? 0
        let count = limit?.count ?? -1
        guard offset >= 0 else { return nil }
        if !descending {
            guard let start = elements.firstIndex(where: { range.isAboveMinimum($0.member) }),
                range.isBelowMaximum(elements[start].member), offset < Int64(elements.count - start)
            else { return nil }
            let from = start + Int(offset)
            var end = from
            while end < elements.count, count < 0 || Int64(end - from) < count,
                range.isBelowMaximum(elements[end].member)
            {
                end += 1
            }
            return from < end ? from..<end : nil
        }
        guard let start = elements.lastIndex(where: { range.isBelowMaximum($0.member) }),
            range.isAboveMinimum(elements[start].member), offset <= Int64(start)
        else { return nil }
        let from = start - Int(offset)
        var below = from
        while below >= 0, count < 0 || Int64(from - below) < count, range.isAboveMinimum(elements[below].member) {
            below -= 1
        }
        return below < from ? (below + 1)..<(from + 1) : nil
    }

    /// The part of `ranks` LIMIT `offset count` keeps, counted from the end when `descending`: a negative offset
    /// selects nothing, a negative count everything after the offset.
    static func window(_ ranks: Range<Int>, limit: (offset: Int64, count: Int64)?, descending: Bool) -> Range<Int>? {
        var offset = 0
        var take = ranks.count
        if let limit {
            guard limit.offset >= 0, limit.offset < Int64(ranks.count) else { return nil }
            offset = Int(limit.offset)
            take = ranks.count - offset
            if limit.count >= 0 { take = Swift.min(take, Int(limit.count)) }
        }
        guard take > 0 else { return nil }
        if descending { return (ranks.upperBound - offset - take)..<(ranks.upperBound - offset) }
        return (ranks.lowerBound + offset)..<(ranks.lowerBound + offset + take)
    }

    /// Stores a result as the sorted set `key` (replacing whatever it held, expiry included) and replies its
    /// size; an empty result deletes `key` instead (ZRANGESTORE, ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE).
    static func store(
        _ context: inout CommandContext, key: Bytes, ascending elements: [SortedSetValue.ScoredMember]
    ) -> Reply {
        if elements.isEmpty {
            context.keyspace.remove(db: context.db, key: key)
            return .count(0)
        }
        context.keyspace.set(db: context.db, key: key, value: .sortedSet(SortedSetValue(ordered: elements)))
        return .count(elements.count)
    }
}
