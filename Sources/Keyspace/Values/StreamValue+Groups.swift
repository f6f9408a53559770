// Consumer groups of a stream: creation, lookup, the read counter and lag arithmetic of Redis 7.0
// (t_stream.c: streamRangeHasTombstones, streamEstimateDistanceFromFirstEverEntry, streamReplyWithCGLag), and
// delivering entries to a consumer (streamReplyWithRange with a group, streamReplyWithRangeFromConsumerPEL).

extension StreamValue {
    // MARK: - Groups

    /// The groups, ordered by name.
    public var groups: [StreamGroup] { readStorage.groups }

    /// Where group `name` is, or where it would be inserted.
    /// - Complexity: O(log groups)
    func groupPosition(_ name: Bytes) -> (index: Int, found: Bool) {
        let groups = readStorage.groups
        let index = StreamSearch.lowerBound(groups.count) { groups[$0].name < name }
        return (index, index < groups.count && groups[index].name == name)
    }

    /// The index of group `name`.
    public func groupIndex(_ name: Bytes) -> Int? {
        let (index, found) = groupPosition(name)
        return found ? index : nil
    }

    /// The group named `name`.
    public func group(named name: Bytes) -> StreamGroup? {
        groupIndex(name).map { readStorage.groups[$0] }
    }

    /// XGROUP CREATE: false when a group has that name.
    public mutating func createGroup(_ name: Bytes, lastID: StreamID, entriesRead: Int64?) -> Bool {
        let (index, found) = groupPosition(name)
        guard !found else { return false }
        mutableStorage.groups.insert(StreamGroup(name: name, lastID: lastID, entriesRead: entriesRead), at: index)
        return true
    }

    /// XGROUP DESTROY: false when there is no such group.
    public mutating func destroyGroup(_ name: Bytes) -> Bool {
        guard let index = groupIndex(name) else { return false }
        mutableStorage.groups.remove(at: index)
        return true
    }

    /// Changes group `index` in place (its storage is copied first when a snapshot shares it).
    @discardableResult
    public mutating func modifyGroup<R, E: Error>(at index: Int, _ body: (inout StreamGroup) throws(E) -> R) throws(E)
        -> R
    {
        try body(&mutableStorage.groups[index])
    }

    /// ``modifyGroup(at:_:)`` with read access to the entries (which changing a group leaves alone).
    @discardableResult
    public mutating func modifyGroupReading<R, E: Error>(
        at index: Int, _ body: (inout StreamGroup, StreamEntryLookup) throws(E) -> R
    ) throws(E) -> R {
        let storage = mutableStorage
        return try body(&storage.groups[index], StreamEntryLookup(storage: storage))
    }

    // MARK: - Read counter and lag

    /// Whether an entry was deleted between `start` and `end` (nil: the end of the stream), that is whether the
    /// highest deleted ID falls in that range while it is not below the first entry (Redis
    /// `streamRangeHasTombstones`).
    public func rangeHasTombstones(from start: StreamID, to end: StreamID? = nil) -> Bool {
        let storage = readStorage
        if storage.length == 0 || storage.maxDeletedID.isZero { return false }
        if storage.firstID > storage.maxDeletedID { return false }
        return start <= storage.maxDeletedID && storage.maxDeletedID <= (end ?? .max)
    }

    /// The logical read counter of `id`: how many entries were added up to it, when that can be known
    /// (Redis `streamEstimateDistanceFromFirstEverEntry`); nil when it cannot.
    public func estimatedEntriesRead(upTo id: StreamID) -> Int64? {
        let storage = readStorage
        let added = Int64(bitPattern: storage.entriesAdded)
        if storage.entriesAdded == 0 { return 0 }
        if storage.length == 0 && id <= storage.lastID { return added }
        if id == storage.lastID { return added }
        if id > storage.lastID { return nil }
        if storage.maxDeletedID.isZero || storage.maxDeletedID < storage.firstID {
            if id < storage.firstID { return added - Int64(storage.length) }
            if id == storage.firstID { return added - Int64(storage.length) + 1 }
        }
        return nil
    }

    /// The number of entries the group has yet to read, nil when it cannot be known (Redis
    /// `streamReplyWithCGLag`).
    public func lag(of group: StreamGroup) -> Int64? {
        let added = Int64(bitPattern: readStorage.entriesAdded)
        if added == 0 { return 0 }
        if let read = group.entriesRead, !rangeHasTombstones(from: group.lastID) { return added - read }
        return estimatedEntriesRead(upTo: group.lastID).map { added - $0 }
    }

    // MARK: - Delivering

    /// One message handed to a consumer by ``deliverNew(group:consumer:after:limit:noAcknowledge:now:)``.
    public struct Delivery: Sendable {
        public var entry: StreamEntry
        /// Its pending entry (nil with NOACK), and the group's last delivered ID right after it: what Redis
        /// propagates as XCLAIM.
        public var pending: StreamPendingEntry?
        public var groupLastID: StreamID
    }

    /// XREADGROUP `>`: the entries after `after`, at most `limit` (nil: all), delivered to consumer `consumer`
    /// of group `group`: the group's last ID and read counter advance, and unless `noAcknowledge` each entry
    /// becomes pending for the consumer (taken from another consumer if it was pending there), delivered now,
    /// once. Returns the deliveries and whether the group's last ID moved.
    /// - Complexity: O(entries × log n)
    public mutating func deliverNew(
        group: Int, consumer: Int, after: StreamID, limit: Int?, noAcknowledge: Bool, now: Int64
    ) -> (deliveries: [Delivery], lastIDMoved: Bool) {
        guard let start = after.successor else { return ([], false) }
        let entries = self.entries(from: start, through: .max, limit: limit)
        // What the read counter needs, computed on the stream as it is (delivering does not change entries).
        let counters = entries.map {
            (tombstonesAhead: rangeHasTombstones(from: $0.id), estimate: estimatedEntriesRead(upTo: $0.id))
        }
        let added = readStorage.entriesAdded
        var deliveries: [Delivery] = []
        deliveries.reserveCapacity(entries.count)
        var moved = false
        modifyGroup(at: group) { group in
            for (entry, counter) in zip(entries, counters) {
                if entry.id > group.lastID {
                    if let read = group.entriesRead, !counter.tombstonesAhead {
                        group.entriesRead = read + 1
                    } else if added != 0 {
                        group.entriesRead = counter.estimate
                    }
                    group.lastID = entry.id
                    moved = true
                }
                var pending: StreamPendingEntry? = nil
                if !noAcknowledge {
                    pending = group.assign(entry.id, toConsumerAt: consumer, deliveryTime: now) { _ in 1 }
                }
                deliveries.append(Delivery(entry: entry, pending: pending, groupLastID: group.lastID))
            }
        }
        return (deliveries, moved)
    }

    /// XREADGROUP with an ID: the consumer's own pending entries from `start` on, at most `limit` (nil: all);
    /// each whose message still exists counts one more delivery, now. A message deleted from the stream is
    /// returned as nil.
    /// - Complexity: O(returned × log n)
    public mutating func deliverHistory(
        group: Int, consumer: Int, from start: StreamID, limit: Int?, now: Int64
    ) -> [(id: StreamID, entry: StreamEntry?)] {
        let ids = readStorage.groups[group].consumers[consumer].pending.elements(
            from: start, through: .max, limit: limit)
        let found = ids.map { (id: $0, entry: entry($0)) }
        modifyGroup(at: group) { group in
            for item in found where item.entry != nil {
                group.pending.modify(item.id) { pending in
                    pending.deliveryTime = now
                    pending.deliveryCount += 1
                }
            }
        }
        return found
    }
}

/// Read access to a stream's entries while one of its groups changes.
public struct StreamEntryLookup {
    fileprivate let storage: StreamStorage

    /// Whether the entry exists (Redis `streamEntryExists`).
    /// - Complexity: O(log n)
    public func contains(_ id: StreamID) -> Bool { storage.slot(of: id) != nil }

    /// The entry `id`.
    /// - Complexity: O(log n + its fields)
    public func entry(_ id: StreamID) -> StreamEntry? { storage.entry(id) }
}
