// MARK: - Stream commands

// XREAD and XREADGROUP never block here: a BLOCK argument is parsed and checked as Redis does, then the read is
// served as if the timeout had passed at once (a null reply when no stream has anything), which is what Redis
// itself does inside MULTI. Parking a client until an XADD needs the server's event loop.

extension CommandTable {
    static let streamCommands: [CommandSpec] =
        [
            CommandSpec("xadd", arity: -5, flags: [.write, .denyOOM, .fast], keys: (1, 1, 1), group: "stream") {
                context throws(CommandError) in
                try StreamCommand.add(&context)
            },
            CommandSpec("xlen", arity: 2, flags: [.readonly, .fast], keys: (1, 1, 1), group: "stream") {
                context throws(CommandError) in
                .count(try context.read(StreamValue.self, key: 1)?.count ?? 0)
            },
            CommandSpec("xrange", arity: -4, flags: [.readonly], keys: (1, 1, 1), group: "stream") {
                context throws(CommandError) in
                try StreamCommand.range(&context, reverse: false)
            },
            CommandSpec("xrevrange", arity: -4, flags: [.readonly], keys: (1, 1, 1), group: "stream") {
                context throws(CommandError) in
                try StreamCommand.range(&context, reverse: true)
            },
            CommandSpec("xdel", arity: -3, flags: [.write, .fast], keys: (1, 1, 1), group: "stream") {
                context throws(CommandError) in
                try StreamCommand.delete(&context)
            },
            CommandSpec("xtrim", arity: -4, flags: [.write], keys: (1, 1, 1), group: "stream") {
                context throws(CommandError) in
                try StreamCommand.trim(&context)
            },
            CommandSpec("xsetid", arity: -3, flags: [.write, .denyOOM, .fast], keys: (1, 1, 1), group: "stream") {
                context throws(CommandError) in
                try StreamCommand.setID(&context)
            },
            // Keys follow the STREAMS keyword: Redis's table says 0 0 0 (movable keys).
            CommandSpec("xread", arity: -4, flags: [.readonly], group: "stream") {
                context throws(CommandError) in
                try StreamCommand.read(&context, groupRead: false)
            },
            CommandSpec("xreadgroup", arity: -7, flags: [.write], group: "stream") {
                context throws(CommandError) in
                try StreamCommand.read(&context, groupRead: true)
            },
        ] + streamGroupCommands + streamInfoCommands
}

/// The stream commands' implementations.
enum StreamCommand {
    // MARK: - XADD

    /// `XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value …]`
    static func add(_ context: inout CommandContext) throws(CommandError) -> Reply {
        let arguments = try StreamTrimArguments.parse(context, xadd: true)
        let fieldStart = arguments.idIndex + 1
        let fieldCount = context.count - fieldStart
        guard fieldCount >= 2, fieldCount % 2 == 0 else { throw .wrongArity("xadd") }
        if let given = arguments.id, given.sequenceGiven, given.id.isZero {
            throw CommandError("ERR The ID specified in XADD must be greater than 0-0")
        }
        let fields = context.argv[fieldStart...]
        let now = context.now
        let key = context[1]
        let argv = context.argv
        let propagating = context.keyspace.propagationEnabled
        guard
            let (id, rewritten) = try context.keyspace.update(
                StreamValue.self, db: context.db, key: key, create: !arguments.noMakeStream,
                { stream throws(CommandError) -> (StreamID, [Bytes]?) in
                    let id = try nextID(of: stream, given: arguments.id, now: now)
                    var total = 0
                    for item in fields { total += item.count }
                    guard total <= StreamValue.maxEntryBytes else { throw tooLarge }
                    stream.append(id: id, fields: fields)
                    var rewritten: [Bytes]? = nil
                    if let strategy = arguments.strategy {
                        stream.trim(strategy, approximate: arguments.approximate, limit: arguments.limit)
                        if arguments.approximate && propagating {
                            rewritten = arguments.rewritten(argv, stream: stream)
                        }
                    }
                    return (id, rewritten)
                })
        else { return .null }
        context.keyspace.modified(db: context.db, key: key)
        // Propagated with the ID that was generated, and an approximate trim made exact.
        let generated = arguments.id?.sequenceGiven != true
        if propagating && (generated || rewritten != nil) {
            var propagated = rewritten ?? argv
            if generated { propagated[arguments.idIndex] = id.bytes }
            context.propagateAs = [propagated]
        }
        return id.reply
    }

    /// The ID of the entry XADD adds (Redis `streamAppendItem`'s checks): the given one, `ms-*` completed, or
    /// one from the clock that never goes back.
    private static func nextID(of stream: StreamValue, given: StreamID.Parsed?, now: Int64) throws(CommandError)
        -> StreamID
    {
        let last = stream.lastID
        if last == .max {
            throw CommandError("ERR The stream has exhausted the last possible ID, unable to add more items")
        }
        let id: StreamID
        if let given {
            if given.sequenceGiven || given.id.milliseconds != last.milliseconds {
                id = given.id
            } else {
                // Redis fails this case without setting errno, and XADD then reports whatever errno holds: not
                // EDOM in practice, so the "too large" message.
                guard last.sequence != .max else { throw tooLarge }
                id = StreamID(milliseconds: last.milliseconds, sequence: last.sequence + 1)
            }
        } else {
            let milliseconds = UInt64(Swift.max(0, now))
            id =
                milliseconds > last.milliseconds
                ? StreamID(milliseconds: milliseconds, sequence: 0) : (last.successor ?? .zero)
        }
        guard id > last else { throw smallerID }
        return id
    }

    private static let smallerID = CommandError(
        "ERR The ID specified in XADD is equal or smaller than the target stream top item")
    private static let tooLarge = CommandError("ERR Elements are too large to be stored")

    // MARK: - XRANGE, XREVRANGE

    /// `XRANGE key start end [COUNT n]`, `XREVRANGE key end start [COUNT n]`.
    static func range(_ context: inout CommandContext, reverse: Bool) throws(CommandError) -> Reply {
        let start = try StreamArguments.rangeStart(reverse ? context[3] : context[2])
        let end = try StreamArguments.rangeEnd(reverse ? context[2] : context[3])
        var count: Int? = nil
        var index = 4
        while index < context.count {
            guard context[index].isKeyword("count"), index + 1 < context.count else { throw .syntax }
            count = try StreamArguments.count(context, index + 1)
            index += 2
        }
        guard let stream = try context.read(StreamValue.self, key: 1) else {
            return .emptyArray
        }
        if count == 0 { return .nullArray }
        return .array(stream.entries(from: start, through: end, limit: count, reverse: reverse).map(\.reply))
    }

    // MARK: - XDEL, XTRIM, XSETID

    /// `XDEL key id [id …]`: the number of entries deleted.
    static func delete(_ context: inout CommandContext) throws(CommandError) -> Reply {
        let argv = context.argv
        let deleted =
            try context.keyspace.update(StreamValue.self, db: context.db, key: context[1]) {
                stream throws(CommandError) -> Int in
                // Every ID is checked before anything is deleted.
                var ids: [StreamID] = []
                ids.reserveCapacity(argv.count - 2)
                for argument in argv[2...] { ids.append(try StreamArguments.id(argument, strict: true)) }
                return stream.delete(ids)
            } ?? 0
        if deleted > 0 { context.keyspace.modified(db: context.db, key: context[1], changes: deleted) }
        return .count(deleted)
    }

    /// `XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]`: the number of entries removed.
    static func trim(_ context: inout CommandContext) throws(CommandError) -> Reply {
        let arguments = try StreamTrimArguments.parse(context, xadd: false)
        guard let strategy = arguments.strategy else { throw .syntax }
        let argv = context.argv
        let result = try context.keyspace.update(StreamValue.self, db: context.db, key: context[1]) {
            stream throws(CommandError) -> (Int, [Bytes]?) in
            let deleted = stream.trim(strategy, approximate: arguments.approximate, limit: arguments.limit)
            return (deleted, deleted > 0 && arguments.approximate ? arguments.rewritten(argv, stream: stream) : nil)
        }
        guard let (deleted, rewritten) = result, deleted > 0 else { return .integer(0) }
        context.keyspace.modified(db: context.db, key: context[1], changes: deleted)
        if let rewritten { context.propagateAs = [rewritten] }
        return .count(deleted)
    }

    /// `XSETID key last-id [ENTRIESADDED n] [MAXDELETEDID id]`.
    static func setID(_ context: inout CommandContext) throws(CommandError) -> Reply {
        let id = try StreamArguments.id(context[2], strict: true)
        var entriesAdded: UInt64? = nil
        var maxDeleted = StreamID.zero
        var index = 3
        while index < context.count {
            let more = index + 1 < context.count
            if more && context[index].isKeyword("entriesadded") {
                let value = try context.integer(index + 1)
                guard value >= 0 else { throw CommandError("ERR entries_added must be positive") }
                entriesAdded = UInt64(value)
            } else if more && context[index].isKeyword("maxdeletedid") {
                maxDeleted = try StreamArguments.id(context[index + 1], strict: true)
                guard id >= maxDeleted else {
                    throw CommandError(
                        "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id")
                }
            } else {
                throw .syntax
            }
            index += 2
        }
        let done: Void? = try context.keyspace.update(StreamValue.self, db: context.db, key: context[1]) {
            stream throws(CommandError) in
            // Redis 7.0 does not compare the ID with the current max-deleted ID (later versions do).
            if stream.count > 0 {
                guard id >= stream.lastLiveID else {
                    throw CommandError("ERR The ID specified in XSETID is smaller than the target stream top item")
                }
                if let entriesAdded, UInt64(stream.count) > entriesAdded {
                    throw CommandError(
                        "ERR The entries_added specified in XSETID is smaller than the target stream length")
                }
            }
            stream.setLastID(id, entriesAdded: entriesAdded, maxDeletedID: maxDeleted.isZero ? nil : maxDeleted)
        }
        guard done != nil else { throw .noSuchKey }
        // Redis 7.0's XSETID does not signal the key modified: WATCH does not see it.
        context.keyspace.dirty += 1
        return .ok
    }
}
