import Formats
import HashTreeCollections

// MARK: - Commands that rebuild a snapshot (BGREWRITEAOF without RDB preamble)

extension Keyspace {
    /// Elements per command when a big value is rebuilt (Redis's `AOF_REWRITE_ITEMS_PER_CMD`).
    public static let rewriteItemsPerCommand = 64

    /// Calls `body` with the commands that rebuild `database` from nothing: one SET / RPUSH / SADD / ZADD /
    /// HSET / XADD group per key (big values split every ``rewriteItemsPerCommand`` elements), stream metadata
    /// and consumer groups (XSETID, XGROUP CREATE, CREATECONSUMER, XCLAIM … JUSTID FORCE for the pending
    /// entries), then PEXPIREAT for keys with an expiry. The SELECT is the caller's (the AOF writer adds it).
    ///
    /// Runs on any thread: `database` is a snapshot.
    public static func rewriteCommands<E: Error>(
        of database: Database, _ body: ([Bytes]) throws(E) -> Void
    ) throws(E) {
        for (key, value) in database.entries {
            switch value {
            case .string(let bytes):
                try body(["SET", key, bytes])
            case .list(let list):
                try batched(list, prefix: ["RPUSH", key], body) { [$0] }
            case .set(let set):
                try batched(set, prefix: ["SADD", key], body) { [$0] }
            case .sortedSet(let zset):
                try batched(zset, prefix: ["ZADD", key], body) { [Bytes(double: $0.score), $0.member] }
            case .hash(let hash):
                try batched(hash, prefix: ["HSET", key], body) { [$0.key, $0.value] }
            case .stream(let stream):
                try rewriteStream(key, stream.rdbStream, body)
            }
            if let when = database.expires[key] {
                try body(["PEXPIREAT", key, Bytes(integer: when)])
            }
        }
    }

    private static func batched<S: Sequence, E: Error>(
        _ elements: S, prefix: [Bytes], _ body: ([Bytes]) throws(E) -> Void, _ arguments: (S.Element) -> [Bytes]
    ) throws(E) {
        var command = prefix
        var items = 0
        for element in elements {
            command += arguments(element)
            items += 1
            if items == rewriteItemsPerCommand {
                try body(command)
                command = prefix
                items = 0
            }
        }
        if items > 0 { try body(command) }
    }

    private static func streamID(_ id: RDBStreamID) -> Bytes { Bytes("\(id.milliseconds)-\(id.sequence)") }

    private static func rewriteStream<E: Error>(_ key: Bytes, _ stream: RDBStream, _ body: ([Bytes]) throws(E) -> Void) throws(E) {
        for entry in stream.entries {
            var command: [Bytes] = ["XADD", key, streamID(entry.id)]
            for pair in entry.fields { command += [Bytes(pair.field), Bytes(pair.value)] }
            try body(command)
        }
        let metadata = stream.metadata
        if stream.entries.isEmpty {
            // XADD cannot make an empty stream: create it with a group, as Redis's rewrite does, then drop it.
            try body(["XGROUP", "CREATE", key, "__rewrite_tmp__", "0", "MKSTREAM"])
            try body(["XGROUP", "DESTROY", key, "__rewrite_tmp__"])
        }
        if let metadata {
            var command: [Bytes] = ["XSETID", key, streamID(metadata.lastID)]
            if let added = metadata.entriesAdded {
                command += ["ENTRIESADDED", Bytes(integer: Int64(clamping: added))]
            }
            if let deleted = metadata.maxDeletedEntryID { command += ["MAXDELETEDID", streamID(deleted)] }
            try body(command)
        }
        for group in stream.groups {
            var create: [Bytes] = ["XGROUP", "CREATE", key, Bytes(group.name), streamID(group.lastID)]
            if let read = group.entriesRead { create += ["ENTRIESREAD", Bytes(integer: Int64(clamping: read))] }
            try body(create)
            var owner: [RDBStreamID: Bytes] = [:]
            for consumer in group.consumers {
                let name = Bytes(consumer.name)
                try body(["XGROUP", "CREATECONSUMER", key, Bytes(group.name), name])
                for id in consumer.pending { owner[id] = name }
            }
            for pending in group.pending {
                guard let consumer = owner[pending.id] else { continue }
                try body([
                    "XCLAIM", key, Bytes(group.name), consumer, "0", streamID(pending.id),
                    "TIME", Bytes(integer: pending.deliveryTimeMilliseconds),
                    "RETRYCOUNT", Bytes(integer: Int64(clamping: pending.deliveryCount)), "JUSTID", "FORCE",
                ])
            }
        }
    }
}
