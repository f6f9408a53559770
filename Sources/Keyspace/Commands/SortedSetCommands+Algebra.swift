import HashTreeCollections

// MARK: - ZUNION, ZINTER, ZDIFF, their STORE forms, ZINTERCARD

extension CommandTable {
    /// Set algebra over sorted sets and plain sets (a set member scores 1), with WEIGHTS and AGGREGATE (Redis
    /// `zunionInterDiffGenericCommand`).
    static let sortedSetAlgebraCommands: [CommandSpec] = [
        CommandSpec("zunionstore", arity: -4, flags: [.write, .denyOOM], keys: (1, 1, 1), group: "sorted-set") {
            context throws(CommandError) in
            try SortedSetCommand.combine(&context, .union, store: true)
        },
        CommandSpec("zinterstore", arity: -4, flags: [.write, .denyOOM], keys: (1, 1, 1), group: "sorted-set") {
            context throws(CommandError) in
            try SortedSetCommand.combine(&context, .intersection, store: true)
        },
        CommandSpec("zdiffstore", arity: -4, flags: [.write, .denyOOM], keys: (1, 1, 1), group: "sorted-set") {
            context throws(CommandError) in
            try SortedSetCommand.combine(&context, .difference, store: true)
        },
        CommandSpec("zunion", arity: -3, flags: [.readonly], group: "sorted-set") { context throws(CommandError) in
            try SortedSetCommand.combine(&context, .union, store: false)
        },
        CommandSpec("zinter", arity: -3, flags: [.readonly], group: "sorted-set") { context throws(CommandError) in
            try SortedSetCommand.combine(&context, .intersection, store: false)
        },
        CommandSpec("zdiff", arity: -3, flags: [.readonly], group: "sorted-set") { context throws(CommandError) in
            try SortedSetCommand.combine(&context, .difference, store: false)
        },
        CommandSpec("zintercard", arity: -3, flags: [.readonly], group: "sorted-set") { context throws(CommandError) in
            try SortedSetCommand.intersectionCardinality(&context)
        },
    ]
}

extension SortedSetCommand {
    enum SetOperation {
        case union, intersection, difference
    }

    /// How scores of a member found in several inputs combine (AGGREGATE).
    enum Aggregate {
        case sum, min, max

        /// Redis `zunionInterAggregate`: a sum of opposite infinities is 0; NaN never wins a MIN or MAX.
        func combine(_ target: inout Double, _ value: Double) {
            switch self {
            case .sum:
                target += value
                if target.isNaN { target = 0 }
            case .min: if value < target { target = value }
            case .max: if value > target { target = value }
            }
        }
    }

    /// One input of a set operation: a sorted set, a set (each member scores 1), or a missing key (empty).
    enum Source {
        case sortedSet(SortedSetValue)
        case set(SetValue)
        case empty

        var count: Int {
            switch self {
            case .sortedSet(let zset): zset.count
            case .set(let set): set.count
            case .empty: 0
            }
        }

        func score(of member: Bytes) -> Double? {
            switch self {
            case .sortedSet(let zset): zset.score(of: member)
            case .set(let set): set.contains(member) ? 1 : nil
            case .empty: nil
            }
        }

        func forEach(_ body: (Bytes, Double) -> Void) {
            switch self {
            case .sortedSet(let zset): for element in zset { body(element.member, element.score) }
            case .set(let set): for member in set { body(member, 1) }
            case .empty: break
            }
        }
    }

    /// Reads `numkeys key…` starting at `argv[index]` and advances `index` past the keys.
    /// - Throws: `ERR value is not an integer or out of range`, `ERR at least 1 input key is needed for '…'
    ///   command`, `ERR syntax error` when fewer keys follow than announced, `WRONGTYPE` for a key that is
    ///   neither a sorted set nor a set.
    static func sources(
        _ context: inout CommandContext, from index: inout Int, forWrite: Bool
    ) throws(CommandError) -> [Source] {
        let argv = context.argv
        guard let declared = argv[index].integerValue else { throw .notInteger }
        guard declared >= 1 else {
            throw CommandError("ERR at least 1 input key is needed for '\(context.name)' command")
        }
        guard declared <= Int64(argv.count - index - 1) else { throw .syntax }
        let keys = argv[(index + 1)...(index + Int(declared))]
        index += 1 + keys.count
        var sources: [Source] = []
        sources.reserveCapacity(keys.count)
        for key in keys {
            let value =
                forWrite
                ? context.keyspace.value(db: context.db, key: key)
                : context.keyspace.lookupRead(db: context.db, key: key)
            switch value {
            case nil: sources.append(.empty)
            case .sortedSet(let zset)?: sources.append(.sortedSet(zset))
            case .set(let set)?: sources.append(.set(set))
            default: throw .wrongType
            }
        }
        return sources
    }

    /// ZUNION / ZINTER / ZDIFF `numkeys key… [WEIGHTS w…] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]` and the STORE
    /// forms `destination numkeys key…` (no WITHSCORES). ZDIFF takes neither WEIGHTS nor AGGREGATE.
    static func combine(
        _ context: inout CommandContext, _ operation: SetOperation, store: Bool
    ) throws(CommandError) -> Reply {
        let argv = context.argv
        var index = store ? 2 : 1
        let sources = try sources(&context, from: &index, forWrite: store)
        var weights = [Double](repeating: 1, count: sources.count)
        var aggregate = Aggregate.sum
        var withScores = false
        while index < argv.count {
            let option = argv[index]
            let remaining = argv.count - index
            if operation != .difference && remaining > sources.count && option.isKeyword("weights") {
                for source in sources.indices {
                    weights[source] = try SortedSetArguments.score(
                        argv[index + 1 + source], orError: CommandError("ERR weight value is not a float"))
                }
                index += 1 + sources.count
            } else if operation != .difference && remaining >= 2 && option.isKeyword("aggregate") {
                let name = argv[index + 1]
                if name.isKeyword("sum") {
                    aggregate = .sum
                } else if name.isKeyword("min") {
                    aggregate = .min
                } else if name.isKeyword("max") {
                    aggregate = .max
                } else {
                    throw .syntax
                }
                index += 2
            } else if !store && option.isKeyword("withscores") {
                withScores = true
                index += 1
            } else {
                throw .syntax
            }
        }

        var result: [SortedSetValue.ScoredMember]
        switch operation {
        case .union: result = union(sources, weights: weights, aggregate: aggregate)
        case .intersection: result = intersection(sources, weights: weights, aggregate: aggregate, limit: 0)
        case .difference: result = difference(sources)
        }
        result.sort(by: SortedSetValue.ScoredMember.precedes)
        if store { return self.store(&context, key: argv[1], ascending: result) }
        return reply(result, withScores: withScores)
    }

    /// The inputs from the smallest to the largest: Redis adds scores in this order, and an intersection walks
    /// the smallest one.
    static func bySize(_ sources: [Source]) -> [Int] {
        sources.indices.sorted { sources[$0].count < sources[$1].count }
    }

    static func union(_ sources: [Source], weights: [Double], aggregate: Aggregate) -> [SortedSetValue.ScoredMember] {
        var scores: [Bytes: Double] = [:]
        scores.reserveCapacity(sources.map(\.count).max() ?? 0)
        for source in bySize(sources) {
            let weight = weights[source]
            sources[source].forEach { member, score in
                var weighted = weight * score
                if weighted.isNaN { weighted = 0 }  // 0 × ±inf
                if let index = scores.index(forKey: member) {
                    aggregate.combine(&scores.values[index], weighted)
                } else {
                    scores[member] = weighted
                }
            }
        }
        return scores.map { SortedSetValue.ScoredMember(member: $0.key, score: $0.value) }
    }

    /// The members in every input. With a positive `limit`, stops once that many are found (ZINTERCARD).
    static func intersection(
        _ sources: [Source], weights: [Double], aggregate: Aggregate, limit: Int
    ) -> [SortedSetValue.ScoredMember] {
        let order = bySize(sources)
        guard sources[order[0]].count > 0 else { return [] }
        var result: [SortedSetValue.ScoredMember] = []
        let first = order[0]
        let others = order.dropFirst()
        sources[first].forEach { member, score in
            if limit > 0 && result.count >= limit { return }
            var combined = weights[first] * score
            if combined.isNaN { combined = 0 }
            for other in others {
                guard let found = sources[other].score(of: member) else { return }
                aggregate.combine(&combined, weights[other] * found)
            }
            result.append(SortedSetValue.ScoredMember(member: member, score: combined))
        }
        return result
    }

    /// The members of the first input found in no other, with their scores in the first.
    static func difference(_ sources: [Source]) -> [SortedSetValue.ScoredMember] {
        var result: [SortedSetValue.ScoredMember] = []
        let others = sources.dropFirst().filter { $0.count > 0 }
        sources[0].forEach { member, score in
            for other in others where other.score(of: member) != nil { return }
            result.append(SortedSetValue.ScoredMember(member: member, score: score))
        }
        return result
    }

    /// ZINTERCARD `numkeys key… [LIMIT limit]`: the size of the intersection, counting at most `limit` members
    /// when it is positive.
    static func intersectionCardinality(_ context: inout CommandContext) throws(CommandError) -> Reply {
        let argv = context.argv
        var index = 1
        let sources = try sources(&context, from: &index, forWrite: false)
        var limit = 0
        while index < argv.count {
            guard argv.count - index >= 2, argv[index].isKeyword("limit") else { throw .syntax }
            guard let value = argv[index + 1].integerValue, value >= 0 else {
                throw CommandError("ERR LIMIT can't be negative")
            }
            limit = Int(value)
            index += 2
        }
        let weights = [Double](repeating: 1, count: sources.count)
        return .count(intersection(sources, weights: weights, aggregate: .sum, limit: limit).count)
    }
}
