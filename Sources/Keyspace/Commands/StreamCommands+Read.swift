// MARK: - XREAD, XREADGROUP

extension StreamCommand {
    /// `XREAD [COUNT n] [BLOCK ms] STREAMS key … id …` and
    /// `XREADGROUP GROUP group consumer [COUNT n] [BLOCK ms] [NOACK] STREAMS key … id …` (never blocking).
    ///
    /// XREADGROUP is propagated as Redis propagates it: an XCLAIM per message that became pending, an
    /// `XGROUP CREATECONSUMER` and an `XGROUP SETID … ENTRIESREAD` under NOACK, never the read itself.
    static func read(_ context: inout CommandContext, groupRead: Bool) throws(CommandError) -> Reply {
        var limit: Int? = nil
        var streamsStart = 0
        var streamCount = 0
        var groupName = Bytes()
        var consumerName = Bytes()
        var groupGiven = false
        var noAcknowledge = false
        var index = 1
        while index < context.count {
            let more = context.count - 1 - index
            let option = context[index]
            if more > 0 && option.isKeyword("block") {
                index += 1
                try checkTimeout(context, index)
            } else if more > 0 && option.isKeyword("count") {
                index += 1
                let count = try StreamArguments.count(context, index)
                limit = count == 0 ? nil : count
            } else if more > 0 && option.isKeyword("streams") {
                streamsStart = index + 1
                let remaining = context.count - streamsStart
                guard remaining % 2 == 0 else {
                    throw CommandError(
                        "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.")
                }
                streamCount = remaining / 2
                break
            } else if more >= 2 && option.isKeyword("group") {
                guard groupRead else {
                    throw CommandError(
                        "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.")
                }
                groupName = context[index + 1]
                consumerName = context[index + 2]
                groupGiven = true
                index += 2
            } else if option.isKeyword("noack") {
                guard groupRead else {
                    throw CommandError(
                        "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.")
                }
                noAcknowledge = true
            } else {
                throw .syntax
            }
            index += 1
        }
        guard streamsStart != 0 else { throw .syntax }
        if groupRead && !groupGiven { throw CommandError("ERR Missing GROUP option for XREADGROUP") }

        // Every key and ID is checked before anything is served. nil stands for ">".
        var after: [StreamID?] = []
        after.reserveCapacity(streamCount)
        for position in 0..<streamCount {
            let key = context[streamsStart + position]
            let argument = context[streamsStart + streamCount + position]
            let stream = try context.keyspace.read(StreamValue.self, db: context.db, key: key)
            if groupRead && stream?.groupIndex(groupName) == nil {
                throw StreamArguments.noKeyOrGroup(key, groupName, suffix: " in XREADGROUP with GROUP option")
            }
            if argument == "$" {
                guard !groupRead else {
                    throw CommandError(
                        "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set."
                    )
                }
                after.append(stream?.lastID ?? .zero)
            } else if argument == ">" {
                guard groupRead else {
                    throw CommandError(
                        "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option."
                    )
                }
                after.append(nil)
            } else {
                let id = try StreamArguments.id(argument, strict: true)
                // Redis marks ">" with the largest ID: giving that ID explicitly means ">" too.
                after.append(groupRead && id == .max ? nil : id)
            }
        }

        var served: [Reply] = []
        var propagated = StreamPropagation(context)
        for position in 0..<streamCount {
            let key = context[streamsStart + position]
            let entries: Reply?
            if groupRead {
                entries = try readGroup(
                    &context, key: key, group: groupName, consumer: consumerName, after: after[position], limit: limit,
                    noAcknowledge: noAcknowledge, propagated: &propagated)
            } else {
                entries = try readPlain(context, key: key, after: after[position] ?? .zero, limit: limit)
            }
            if let entries { served.append(.array([.bulk(key), entries])) }
        }
        if groupRead { context.propagateAs = propagated.commands }
        return served.isEmpty ? .nullArray : .array(served)
    }

    /// BLOCK's argument (`getTimeoutFromObjectOrReply` in milliseconds); the value itself is not used.
    private static func checkTimeout(_ context: CommandContext, _ index: Int) throws(CommandError) {
        guard let timeout = context[index].integerValue else {
            throw CommandError("ERR timeout is not an integer or out of range")
        }
        guard timeout >= 0 else { throw CommandError("ERR timeout is negative") }
    }

    /// XREAD of one stream: its entries after `after`, nil when there is none.
    private static func readPlain(_ context: CommandContext, key: Bytes, after: StreamID, limit: Int?)
        throws(CommandError) -> Reply?
    {
        guard let stream = try context.keyspace.read(StreamValue.self, db: context.db, key: key),
            stream.count > 0, stream.lastLiveID > after, let start = after.successor
        else { return nil }
        return .array(stream.entries(from: start, through: .max, limit: limit).map(\.reply))
    }

    /// XREADGROUP of one stream: new messages (`after` nil) when the stream has some past the group's last ID,
    /// or the consumer's pending messages after `after`; nil when there is nothing to serve. The consumer is
    /// created on first service.
    private static func readGroup(
        _ context: inout CommandContext, key: Bytes, group groupName: Bytes, consumer consumerName: Bytes,
        after: StreamID?, limit: Int?, noAcknowledge: Bool, propagated: inout StreamPropagation
    ) throws(CommandError) -> Reply? {
        // Redis looks the key up again (a second keyspace hit).
        guard
            let groupIndex = try context.keyspace.read(StreamValue.self, db: context.db, key: key)?.groupIndex(
                groupName)
        else {
            return nil
        }
        let now = context.now
        var changes = 0
        let reply =
            try context.keyspace.update(StreamValue.self, db: context.db, key: key) {
                stream throws(CommandError) -> Reply? in
                // Only the ID: a copy of the group would make the changes below copy its lists.
                let groupLastID = stream.groups[groupIndex].lastID
                if after == nil && !(stream.count > 0 && stream.lastLiveID > groupLastID) { return nil }
                let (consumer, created) = stream.modifyGroup(at: groupIndex) {
                    $0.lookupOrCreateConsumer(consumerName, now: now)
                }
                if created {
                    changes += 1
                    if noAcknowledge { propagated.append(["XGROUP", "CREATECONSUMER", key, groupName, consumerName]) }
                }
                changes += 1
                if let after {
                    let history = stream.deliverHistory(
                        group: groupIndex, consumer: consumer, from: after.successor ?? .zero, limit: limit, now: now)
                    return .array(history.map { item in item.entry?.reply ?? .array([item.id.reply, .nullArray]) })
                }
                let (deliveries, moved) = stream.deliverNew(
                    group: groupIndex, consumer: consumer, after: groupLastID, limit: limit,
                    noAcknowledge: noAcknowledge, now: now)
                for delivery in deliveries {
                    guard let pending = delivery.pending else { continue }
                    propagated.append(
                        claimPropagation(
                            key: key, group: groupName, id: pending.id.bytes, pending: pending,
                            lastID: delivery.groupLastID))
                }
                if noAcknowledge && moved {
                    let final = stream.groups[groupIndex]
                    propagated.append([
                        "XGROUP", "SETID", key, groupName, final.lastID.bytes, "ENTRIESREAD",
                        StreamArguments.decimal(final.entriesRead ?? -1),
                    ])
                }
                return .array(deliveries.map(\.entry.reply))
            } ?? nil
        // Reading changes the group but is no write to the key: WATCH is not touched, as in Redis.
        context.keyspace.dirty += changes
        return reply
    }

    /// `XCLAIM key group consumer 0 id TIME ms RETRYCOUNT n FORCE JUSTID LASTID id`: how Redis propagates a
    /// change to a pending entry so that replaying it is idempotent (`streamPropagateXCLAIM`).
    static func claimPropagation(key: Bytes, group: Bytes, id: Bytes, pending: StreamPendingEntry, lastID: StreamID)
        -> [Bytes]
    {
        [
            "XCLAIM", key, group, pending.consumer, "0", id, "TIME", StreamArguments.decimal(pending.deliveryTime),
            "RETRYCOUNT", Bytes(String(pending.deliveryCount)), "FORCE", "JUSTID", "LASTID", lastID.bytes,
        ]
    }
}
