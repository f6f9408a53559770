// MARK: - XCLAIM, XAUTOCLAIM

extension CommandTable {
    static let streamClaimCommands: [CommandSpec] = [
        CommandSpec("xclaim", arity: -6, flags: [.write, .fast], keys: (1, 1, 1), group: "stream") {
            context throws(CommandError) in
            try StreamCommand.claim(&context)
        },
        CommandSpec("xautoclaim", arity: -6, flags: [.write, .fast], keys: (1, 1, 1), group: "stream") {
            context throws(CommandError) in
            try StreamCommand.autoclaim(&context)
        },
    ]
}

extension StreamCommand {
    // MARK: - XCLAIM

    /// `XCLAIM key group consumer min-idle-time id [id …] [IDLE ms] [TIME ms] [RETRYCOUNT n] [FORCE] [JUSTID]
    /// [LASTID id]`, propagated as one idempotent XCLAIM per entry changed (and an XGROUP SETID when only the
    /// last ID moved).
    static func claim(_ context: inout CommandContext) throws(CommandError) -> Reply {
        let key = context[1]
        let groupName = context[2]
        let consumerName = context[3]
        guard
            let groupIndex = try context.keyspace.read(StreamValue.self, db: context.db, key: key)?.groupIndex(
                groupName)
        else {
            throw StreamArguments.noKeyOrGroup(key, groupName)
        }
        guard let minIdleArgument = context[4].integerValue else {
            throw CommandError("ERR Invalid min-idle-time argument for XCLAIM")
        }
        let minIdle = Swift.max(0, minIdleArgument)
        var ids: [(id: StreamID, argument: Bytes)] = []
        var index = 5
        while index < context.count, let parsed = StreamID.parse(context[index], strict: true) {
            ids.append((parsed.id, context[index]))
            index += 1
        }
        let now = context.now
        var deliveryTime: Int64? = nil
        var retryCount: Int64 = -1
        var force = false
        var justID = false
        var lastID = StreamID.zero
        while index < context.count {
            let more = index + 1 < context.count
            let option = context[index]
            if option.isKeyword("force") {
                force = true
            } else if option.isKeyword("justid") {
                justID = true
            } else if more && option.isKeyword("idle") {
                index += 1
                guard let idle = context[index].integerValue else {
                    throw CommandError("ERR Invalid IDLE option argument for XCLAIM")
                }
                deliveryTime = now &- idle
            } else if more && option.isKeyword("time") {
                index += 1
                guard let time = context[index].integerValue else {
                    throw CommandError("ERR Invalid TIME option argument for XCLAIM")
                }
                deliveryTime = time
            } else if more && option.isKeyword("retrycount") {
                index += 1
                guard let retry = context[index].integerValue else {
                    throw CommandError("ERR Invalid RETRYCOUNT option argument for XCLAIM")
                }
                retryCount = retry
            } else if more && option.isKeyword("lastid") {
                index += 1
                lastID = try StreamArguments.id(context[index], strict: true)
            } else {
                throw CommandError("ERR Unrecognized XCLAIM option '\(StreamArguments.quoted(option))'")
            }
            index += 1
        }
        // A bogus time (negative, or in the future) is taken as now rather than refused.
        let time = deliveryTime.map { $0 < 0 || $0 > now ? now : $0 } ?? now

        var propagated = StreamPropagation(context)
        var changes = 0
        let replies =
            try context.keyspace.update(StreamValue.self, db: context.db, key: key) {
                stream throws(CommandError) -> [Reply] in
                stream.modifyGroupReading(at: groupIndex) { group, entries -> [Reply] in
                    var replies: [Reply] = []
                    var propagateLastID = false
                    if lastID > group.lastID {
                        group.lastID = lastID
                        propagateLastID = true
                    }
                    var consumer: Int? = nil
                    for (id, argument) in ids {
                        let existing = group.pending[id]
                        guard entries.contains(id) else {
                            // The message is gone: its pending entry goes too.
                            if let existing {
                                propagated.append(
                                    claimPropagation(
                                        key: key, group: groupName, id: argument, pending: existing,
                                        lastID: group.lastID))
                                propagateLastID = false
                                changes += 1
                                group.dropPending(id)
                            }
                            continue
                        }
                        guard existing != nil || force else { continue }
                        if let existing, minIdle > 0, now - existing.deliveryTime < minIdle { continue }
                        if consumer == nil {
                            let (found, created) = group.lookupOrCreateConsumer(consumerName, now: now)
                            consumer = found
                            if created { changes += 1 }
                        }
                        let updated = group.assign(id, toConsumerAt: consumer!, deliveryTime: time) { old in
                            // A pending entry FORCE creates starts at one delivery.
                            if retryCount >= 0 { return UInt64(bitPattern: retryCount) }
                            return justID ? (old ?? 1) : (old ?? 1) &+ 1
                        }
                        replies.append(justID ? id.reply : entries.entry(id)?.reply ?? .null)
                        propagated.append(
                            claimPropagation(
                                key: key, group: groupName, id: argument, pending: updated, lastID: group.lastID))
                        propagateLastID = false
                        changes += 1
                    }
                    if propagateLastID {
                        propagated.append([
                            "XGROUP", "SETID", key, groupName, group.lastID.bytes, "ENTRIESREAD",
                            StreamArguments.decimal(group.entriesRead ?? -1),
                        ])
                        changes += 1
                    }
                    return replies
                }
            } ?? []
        context.keyspace.dirty += changes
        context.propagateAs = propagated.commands
        return .array(replies)
    }

    // MARK: - XAUTOCLAIM

    /// The largest COUNT XAUTOCLAIM takes (`LONG_MAX / max(sizeof(streamID), attempts factor)`).
    private static let autoclaimMaxCount: Int64 = Int64.max / 16

    /// `XAUTOCLAIM key group consumer min-idle-time start [COUNT n] [JUSTID]`: claims up to COUNT pending
    /// entries idle long enough, looking at no more than 10 × COUNT of them; entries whose message was deleted
    /// are dropped (and count). Replies the next start, the claimed entries and the dropped IDs.
    static func autoclaim(_ context: inout CommandContext) throws(CommandError) -> Reply {
        let key = context[1]
        let groupName = context[2]
        let consumerName = context[3]
        guard let minIdleArgument = context[4].integerValue else {
            throw CommandError("ERR Invalid min-idle-time argument for XAUTOCLAIM")
        }
        let minIdle = Swift.max(0, minIdleArgument)
        let start = try StreamArguments.rangeStart(context[5])
        var count: Int64 = 100
        var justID = false
        var index = 6
        while index < context.count {
            if context[index].isKeyword("count") && index + 1 < context.count {
                guard let value = context[index + 1].integerValue, value >= 1, value <= autoclaimMaxCount else {
                    throw CommandError("ERR COUNT must be > 0")
                }
                count = value
                index += 1
            } else if context[index].isKeyword("justid") {
                justID = true
            } else {
                throw .syntax
            }
            index += 1
        }
        guard
            let groupIndex = try context.keyspace.read(StreamValue.self, db: context.db, key: key)?.groupIndex(
                groupName)
        else {
            throw StreamArguments.noKeyOrGroup(key, groupName)
        }

        let now = context.now
        var propagated = StreamPropagation(context)
        var changes = 0
        let reply =
            try context.keyspace.update(StreamValue.self, db: context.db, key: key) {
                stream throws(CommandError) -> Reply in
                stream.modifyGroupReading(at: groupIndex) { group, entries -> Reply in
                    var claimed: [Reply] = []
                    var deleted: [Reply] = []
                    var remaining = count
                    // At most 10 × COUNT pending entries are looked at, in ID order; `next` is where to look next.
                    var attempts = count * 10
                    var next: StreamID? = start
                    var consumer: Int? = nil
                    while attempts > 0, remaining > 0,
                        let candidate = next.flatMap({ group.pending.first(atOrAfter: $0) })
                    {
                        attempts -= 1
                        next = candidate.id.successor
                        guard let entry = entries.entry(candidate.id) else {
                            // The message is gone: its pending entry goes too (and counts).
                            propagated.append(
                                claimPropagation(
                                    key: key, group: groupName, id: candidate.id.bytes, pending: candidate,
                                    lastID: group.lastID))
                            changes += 1
                            group.dropPending(candidate.id)
                            deleted.append(candidate.id.reply)
                            remaining -= 1
                            continue
                        }
                        if minIdle > 0 && now - candidate.deliveryTime < minIdle { continue }
                        if consumer == nil {
                            let (found, created) = group.lookupOrCreateConsumer(consumerName, now: now)
                            consumer = found
                            if created { changes += 1 }
                        }
                        let updated = group.assign(candidate.id, toConsumerAt: consumer!, deliveryTime: now) { old in
                            justID ? (old ?? 1) : (old ?? 1) &+ 1
                        }
                        claimed.append(justID ? candidate.id.reply : entry.reply)
                        remaining -= 1
                        propagated.append(
                            claimPropagation(
                                key: key, group: groupName, id: candidate.id.bytes, pending: updated,
                                lastID: group.lastID))
                        changes += 1
                    }
                    let cursor = next.flatMap { group.pending.first(atOrAfter: $0)?.id } ?? .zero
                    return .array([cursor.reply, .array(claimed), .array(deleted)])
                }
            } ?? .emptyArray
        context.keyspace.dirty += changes
        context.propagateAs = propagated.commands
        return reply
    }
}
