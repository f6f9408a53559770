import Formats
import NIOCore

// A stream to and from the RDB model of `Formats`. Loading rebuilds the nodes entry by entry with the rules
// XADD follows, so a loaded stream trims like one built by commands (Redis keeps the file's nodes; those of a
// file Redis wrote are the same unless entries were deleted inside them).

extension StreamValue {
    /// The stream an RDB holds. Pending entries that no consumer owns (a corrupt file; Redis refuses it) are
    /// dropped.
    /// - Complexity: O(entries + pending entries × log n)
    public init(rdb: RDBStream) {
        self.init()
        for entry in rdb.entries {
            var fields: [Bytes] = []
            fields.reserveCapacity(2 * entry.fields.count)
            for pair in entry.fields {
                fields.append(Bytes(pair.field))
                fields.append(Bytes(pair.value))
            }
            append(id: StreamID(entry.id), fields: fields)
        }
        let storage = mutableStorage
        let lastEntryID = storage.lastID
        if let metadata = rdb.metadata {
            storage.lastID = Swift.max(StreamID(metadata.lastID), lastEntryID)
            storage.entriesAdded = metadata.entriesAdded ?? UInt64(storage.length)
            storage.maxDeletedID = metadata.maxDeletedEntryID.map(StreamID.init) ?? .zero
            if let first = metadata.firstID { storage.firstID = StreamID(first) }
        }
        for rdbGroup in rdb.groups {
            let lastID = StreamID(rdbGroup.lastID)
            // RDB 9 and older have no read counter: Redis estimates it, -1 (UInt64.max on disk) is "unknown".
            let entriesRead: Int64?
            if let stored = rdbGroup.entriesRead {
                entriesRead = stored == UInt64.max ? nil : Int64(bitPattern: stored)
            } else {
                entriesRead = estimatedEntriesRead(upTo: lastID)
            }
            var group = StreamGroup(name: Bytes(rdbGroup.name), lastID: lastID, entriesRead: entriesRead)
            var times: [StreamID: RDBPendingEntry] = [:]
            for pending in rdbGroup.pending { times[StreamID(pending.id)] = pending }
            for rdbConsumer in rdbGroup.consumers {
                let name = Bytes(rdbConsumer.name)
                var consumer = StreamConsumer(
                    name: name, seenTime: rdbConsumer.seenTimeMilliseconds,
                    activeTime: rdbConsumer.activeTimeMilliseconds)
                for rdbID in rdbConsumer.pending {
                    let id = StreamID(rdbID)
                    guard let pending = times.removeValue(forKey: id) else { continue }
                    consumer.pending.insert(id)
                    group.pending.insert(
                        StreamPendingEntry(
                            id: id, consumer: name, deliveryTime: pending.deliveryTimeMilliseconds,
                            deliveryCount: pending.deliveryCount))
                }
                let (index, found) = group.consumerPosition(name)
                if !found { group.consumers.insert(consumer, at: index) }
            }
            let (index, found) = groupPosition(group.name)
            if !found { storage.groups.insert(group, at: index) }
        }
    }

    /// The stream as the RDB writer takes it.
    /// - Complexity: O(entries + pending entries)
    public var rdbStream: RDBStream {
        let storage = readStorage
        var entries: [RDBStreamEntry] = []
        entries.reserveCapacity(storage.length)
        storage.visit(from: .zero, through: .max, reverse: false) { node, slot in
            let fields = node.fields(at: slot)
            var pairs: [(field: RDBString, value: RDBString)] = []
            pairs.reserveCapacity(fields.count / 2)
            var index = 0
            while index + 1 < fields.count {
                pairs.append((fields[index].rdbString, fields[index + 1].rdbString))
                index += 2
            }
            entries.append(RDBStreamEntry(id: node.id(at: slot).rdbStreamID, fields: pairs))
            return true
        }
        let metadata = RDBStreamMetadata(
            length: UInt64(storage.length), lastID: storage.lastID.rdbStreamID, firstID: storage.firstID.rdbStreamID,
            maxDeletedEntryID: storage.maxDeletedID.rdbStreamID, entriesAdded: storage.entriesAdded)
        let groups = storage.groups.map { group in
            RDBStreamGroup(
                name: group.name.byteBuffer, lastID: group.lastID.rdbStreamID,
                entriesRead: group.entriesRead.map { UInt64(bitPattern: $0) } ?? UInt64.max,
                pending: group.pending.map {
                    RDBPendingEntry(
                        id: $0.id.rdbStreamID, deliveryTimeMilliseconds: $0.deliveryTime,
                        deliveryCount: $0.deliveryCount)
                },
                consumers: group.consumers.map { consumer in
                    RDBStreamConsumer(
                        name: consumer.name.byteBuffer, seenTimeMilliseconds: consumer.seenTime,
                        activeTimeMilliseconds: consumer.activeTime, pending: consumer.pending.map(\.rdbStreamID))
                })
        }
        return RDBStream(entries: entries, metadata: metadata, groups: groups)
    }
}
