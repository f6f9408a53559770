/// A message delivered to a consumer of a group and not acknowledged yet (Redis `streamNACK`).
public struct StreamPendingEntry: StreamIDKeyed, Equatable {
    public var id: StreamID
    /// The consumer that owns it.
    public var consumer: Bytes
    /// Unix milliseconds of the last delivery.
    public var deliveryTime: Int64
    /// Number of deliveries.
    public var deliveryCount: UInt64

    public init(id: StreamID, consumer: Bytes, deliveryTime: Int64, deliveryCount: UInt64) {
        self.id = id
        self.consumer = consumer
        self.deliveryTime = deliveryTime
        self.deliveryCount = deliveryCount
    }
}

/// A consumer of a group (Redis `streamConsumer`).
public struct StreamConsumer: Sendable {
    public var name: Bytes
    /// Unix milliseconds of the consumer's last interaction (`seen-time`; XINFO CONSUMERS `idle` counts from it).
    public var seenTime: Int64
    /// Redis 7.2's `active-time`, kept as loaded from an RDB (Redis 7.0 has no such field; saved as the seen
    /// time when absent).
    public var activeTime: Int64?
    /// The IDs of the group's pending entries this consumer owns.
    public var pending: StreamIDList<StreamID>

    public init(name: Bytes, seenTime: Int64, activeTime: Int64? = nil) {
        self.name = name
        self.seenTime = seenTime
        self.activeTime = activeTime
        pending = StreamIDList()
    }
}

/// A consumer group (Redis `streamCG`): last delivered ID, read counter, pending entries list and consumers.
public struct StreamGroup: Sendable {
    public var name: Bytes
    /// `last-delivered-id`.
    public var lastID: StreamID
    /// `entries-read`, the group's logical read counter; nil when unknown (Redis's `SCG_INVALID_ENTRIES_READ`).
    public var entriesRead: Int64?
    /// Every pending entry of the group, by ID.
    public internal(set) var pending: StreamIDList<StreamPendingEntry>
    /// Consumers ordered by name (as Redis's radix tree orders them).
    public internal(set) var consumers: [StreamConsumer]

    public init(name: Bytes, lastID: StreamID, entriesRead: Int64?) {
        self.name = name
        self.lastID = lastID
        self.entriesRead = entriesRead
        pending = StreamIDList()
        consumers = []
    }

    // MARK: - Consumers

    /// Where consumer `name` is, or where it would be inserted.
    /// - Complexity: O(log consumers)
    func consumerPosition(_ name: Bytes) -> (index: Int, found: Bool) {
        let index = StreamSearch.lowerBound(consumers.count) { consumers[$0].name < name }
        return (index, index < consumers.count && consumers[index].name == name)
    }

    /// The consumer named `name`.
    public func consumer(named name: Bytes) -> StreamConsumer? {
        let (index, found) = consumerPosition(name)
        return found ? consumers[index] : nil
    }

    /// The index of consumer `name`, refreshing its seen time (Redis `streamLookupConsumer` without
    /// `SLC_NO_REFRESH`), creating it when missing. `created` tells which.
    mutating func lookupOrCreateConsumer(_ name: Bytes, now: Int64) -> (index: Int, created: Bool) {
        let (index, found) = consumerPosition(name)
        if found {
            consumers[index].seenTime = now
            return (index, false)
        }
        consumers.insert(StreamConsumer(name: name, seenTime: now), at: index)
        return (index, true)
    }

    /// XGROUP CREATECONSUMER: creates consumer `name`; false when it exists (its seen time is left alone).
    mutating func createConsumer(_ name: Bytes, now: Int64) -> Bool {
        let (index, found) = consumerPosition(name)
        guard !found else { return false }
        consumers.insert(StreamConsumer(name: name, seenTime: now), at: index)
        return true
    }

    /// XGROUP DELCONSUMER: deletes consumer `name` and its pending entries from the group's list; returns how
    /// many it had, nil when there is no such consumer.
    /// - Complexity: O(its pending entries × log n)
    mutating func deleteConsumer(_ name: Bytes) -> Int? {
        let (index, found) = consumerPosition(name)
        guard found else { return nil }
        let consumer = consumers.remove(at: index)
        for id in consumer.pending { pending.remove(id) }
        return consumer.pending.count
    }

    // MARK: - Pending entries

    /// XACK of one ID: removes it from the group's and its owner's lists; false when it was not pending.
    /// - Complexity: O(log n)
    mutating func acknowledge(_ id: StreamID) -> Bool {
        guard let entry = pending.remove(id) else { return false }
        let (index, found) = consumerPosition(entry.consumer)
        if found { consumers[index].pending.remove(id) }
        return true
    }

    /// Makes consumer `index` the owner of pending entry `id` with `deliveryTime` and the count `newCount`
    /// computes from the old one (nil when the entry is new); creates the entry when missing.
    /// Returns the entry as it now is.
    mutating func assign(
        _ id: StreamID, toConsumerAt index: Int, deliveryTime: Int64, deliveryCount newCount: (UInt64?) -> UInt64
    ) -> StreamPendingEntry {
        let owner = consumers[index].name
        if let old = pending[id], old.consumer != owner {
            let (oldIndex, found) = consumerPosition(old.consumer)
            if found { consumers[oldIndex].pending.remove(id) }
        }
        let updated: StreamPendingEntry
        if let entry = pending.modify(
            id,
            { entry -> StreamPendingEntry in
                entry.consumer = owner
                entry.deliveryTime = deliveryTime
                entry.deliveryCount = newCount(entry.deliveryCount)
                return entry
            })
        {
            updated = entry
        } else {
            updated = StreamPendingEntry(
                id: id, consumer: owner, deliveryTime: deliveryTime, deliveryCount: newCount(nil))
            pending.insert(updated)
        }
        consumers[index].pending.insert(id)
        return updated
    }

    /// Drops pending entry `id` (its message was deleted from the stream).
    mutating func dropPending(_ id: StreamID) {
        _ = acknowledge(id)
    }
}
