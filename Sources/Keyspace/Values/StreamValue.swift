import DequeModule

/// A stream: entries in ID order, the stream's counters, and its consumer groups.
///
/// ```
///  StreamValue ── storage ──▶ StreamStorage (copied on write when a snapshot shares it)
///                               nodes:  [ node: ≤100 entries / 4 KiB ][ node ] …   ordered by master ID
///                               length, lastID, firstID, maxDeletedID, entriesAdded
///                               groups: [ StreamGroup ] by name — PEL, consumers (each with its own PEL)
/// ```
///
/// The struct is one reference. A copy (a snapshot) shares the storage; the first write after it copies the
/// storage object — the node spine (one reference per node) and the groups — and then the one node it touches,
/// never every entry. Nodes follow Redis's listpack boundaries (see ``StreamNode``), so approximate trimming
/// removes what Redis removes.
public struct StreamValue: Sendable {
    private var storage: StreamStorage

    /// `stream-node-max-entries` and `stream-node-max-bytes` (Redis 7.0's defaults).
    public static let nodeMaxEntries = 100
    public static let nodeMaxBytes = 4096
    /// `STREAM_LISTPACK_MAX_SIZE`: the largest entry (fields and values together) XADD accepts.
    public static let maxEntryBytes = 1 << 30

    /// An empty stream (XGROUP CREATE … MKSTREAM, or before the first XADD).
    public init() { storage = StreamStorage() }

    /// The storage, copied first when a snapshot shares it.
    var mutableStorage: StreamStorage {
        mutating get {
            if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
            return storage
        }
    }

    var readStorage: StreamStorage { storage }

    // MARK: - Counters

    /// Number of entries (XLEN).
    public var count: Int { storage.length }
    /// The ID of the last entry ever added, or set by XSETID (`last-generated-id`).
    public var lastID: StreamID { storage.lastID }
    /// `recorded-first-entry-id`: the first live entry's ID, 0-0 when empty.
    public var firstID: StreamID { storage.firstID }
    /// The highest ID ever removed by XDEL (`max-deleted-entry-id`).
    public var maxDeletedID: StreamID { storage.maxDeletedID }
    /// Entries ever added (`entries-added`).
    public var entriesAdded: UInt64 { storage.entriesAdded }

    /// XSETID: the last ID and, when given, the counters.
    public mutating func setLastID(_ id: StreamID, entriesAdded: UInt64?, maxDeletedID: StreamID?) {
        let storage = mutableStorage
        storage.lastID = id
        if let entriesAdded { storage.entriesAdded = entriesAdded }
        if let maxDeletedID { storage.maxDeletedID = maxDeletedID }
    }

    // MARK: - Reading entries

    /// The entry with `id`, nil when there is none (or it was deleted).
    /// - Complexity: O(log n)
    public func entry(_ id: StreamID) -> StreamEntry? { storage.entry(id) }

    /// Whether an entry with `id` exists (Redis `streamEntryExists`).
    /// - Complexity: O(log n)
    public func contains(_ id: StreamID) -> Bool { storage.slot(of: id) != nil }

    /// Entries with IDs in `lower...upper`, in ascending order (descending when `reverse`), at most `limit`
    /// (nil: all).
    /// - Complexity: O(log n + entries returned + deleted entries skipped)
    public func entries(from lower: StreamID, through upper: StreamID, limit: Int? = nil, reverse: Bool = false)
        -> [StreamEntry]
    {
        var result: [StreamEntry] = []
        guard lower <= upper else { return result }
        if let limit { result.reserveCapacity(Swift.min(limit, 1024)) }
        storage.visit(from: lower, through: upper, reverse: reverse) { node, slot in
            if let limit, result.count >= limit { return false }
            result.append(StreamEntry(id: node.id(at: slot), fields: node.fields(at: slot)))
            return true
        }
        return result
    }

    /// The first and last live entries.
    public var firstEntry: StreamEntry? { entries(from: .zero, through: .max, limit: 1).first }
    public var lastEntry: StreamEntry? { entries(from: .zero, through: .max, limit: 1, reverse: true).first }

    /// The last live entry's ID, 0-0 when empty (Redis `streamLastValidID`).
    public var lastLiveID: StreamID {
        var found = StreamID.zero
        storage.visit(from: .zero, through: .max, reverse: true) { node, slot in
            found = node.id(at: slot)
            return false
        }
        return found
    }

    /// Every entry, in order (DEBUG DIGEST, saving).
    public var allEntries: [StreamEntry] { entries(from: .zero, through: .max) }

    // MARK: - Adding

    /// Appends an entry; `id` must be above ``lastID`` (the caller checks, as XADD does).
    /// - Complexity: O(fields), plus one node copy when a snapshot shares the tail node
    public mutating func append(id: StreamID, fields: [Bytes]) { append(id: id, fields: fields[...]) }

    /// ``append(id:fields:)`` from a slice (XADD passes its arguments without copying them).
    public mutating func append(id: StreamID, fields: ArraySlice<Bytes>) {
        precondition(id > lastID, "stream IDs only grow")
        let storage = mutableStorage
        var totalBytes = 0
        for item in fields { totalBytes += item.count }
        // No reference to the tail may be held here: it would make the node look shared, and copied.
        if storage.tailAccepts(totalBytes) {
            storage.mutableNode(storage.nodes.count - 1).append(id: id, fields: fields)
        } else {
            // The tail is done growing: drop its spare capacity, unless a snapshot shares it (a copy is not worth it).
            if let last = storage.nodes.indices.last, isKnownUniquelyReferenced(&storage.nodes[last]) {
                storage.nodes[last].shrinkToFit()
            }
            storage.nodes.append(StreamNode(id: id, fields: fields))
        }
        storage.length += 1
        storage.entriesAdded += 1
        storage.lastID = id
        if storage.length == 1 { storage.firstID = id }
    }

    // MARK: - Deleting

    /// XDEL: deletes the entries with these IDs; returns how many existed. Records the highest deleted ID and
    /// the new first entry, as Redis does.
    /// - Complexity: O(ids × log n)
    public mutating func delete(_ ids: [StreamID]) -> Int {
        var deleted = 0
        var firstDeleted = false
        for id in ids {
            // Check before writing, so that deleting nothing never copies a shared stream.
            guard let (nodeIndex, slot) = storage.slot(of: id) else { continue }
            let storage = mutableStorage
            let node = storage.mutableNode(nodeIndex)
            node.markDeleted(slot)
            if node.liveCount == 0 { storage.nodes.remove(at: nodeIndex) }
            storage.length -= 1
            if id == storage.firstID { firstDeleted = true }
            if id > storage.maxDeletedID { storage.maxDeletedID = id }
            deleted += 1
        }
        if deleted > 0 {
            let storage = mutableStorage
            if storage.length == 0 {
                storage.firstID = .zero
            } else if firstDeleted {
                storage.firstID = storage.firstLiveID
            }
        }
        return deleted
    }

    /// How a trim decides what goes.
    public enum TrimStrategy: Sendable, Equatable {
        /// Keep at most this many entries.
        case maxLength(Int)
        /// Remove the entries below this ID.
        case minimumID(StreamID)
    }

    /// XTRIM and XADD's trimming (Redis `streamTrim`): removes whole nodes from the head while the strategy
    /// allows; when `approximate`, stops at the first node that cannot go whole, else flags entries deleted
    /// inside it. `limit` (0: none) caps the entries removed, checked node by node. Returns the entries removed.
    /// - Complexity: O(nodes removed + entries of one node)
    @discardableResult
    public mutating func trim(_ strategy: TrimStrategy, approximate: Bool, limit: Int = 0) -> Int {
        guard storage.length > 0 || !storage.nodes.isEmpty else { return 0 }
        if case .maxLength(let maxLength) = strategy, storage.length <= maxLength { return 0 }
        let storage = mutableStorage
        var deleted = 0
        while !storage.nodes.isEmpty {
            if case .maxLength(let maxLength) = strategy, storage.length <= maxLength { break }
            // Read through the spine, holding no reference to the head node (it would look shared and be copied).
            let entries = storage.nodes[0].liveCount
            if limit != 0 && deleted + entries > limit { break }
            let removeWhole: Bool
            switch strategy {
            case .maxLength(let maxLength): removeWhole = storage.length - entries >= maxLength
            case .minimumID(let minimum): removeWhole = storage.nodes[0].lastSlotID < minimum
            }
            if removeWhole {
                storage.nodes.removeFirst()
                storage.length -= entries
                deleted += entries
                continue
            }
            if approximate { break }
            let node = storage.mutableNode(0)
            for slot in 0..<node.slotCount {
                let stop: Bool
                switch strategy {
                case .maxLength(let maxLength): stop = storage.length <= maxLength
                case .minimumID(let minimum): stop = node.id(at: slot) >= minimum
                }
                if stop { break }
                if node.markDeleted(slot) {
                    storage.length -= 1
                    deleted += 1
                }
            }
            // Redis leaves the node in place even when no live entry is left in it (only possible with MINID).
            break
        }
        if storage.length == 0 {
            storage.firstID = .zero
        } else if deleted > 0 {
            storage.firstID = storage.firstLiveID
        }
        return deleted
    }

    /// The first entry's ID counting deleted ones still in their node, ``StreamID/max`` when there are no
    /// nodes (Redis `streamGetEdgeID` without skipping tombstones: what a rewritten `MINID` says).
    public var firstSlotID: StreamID { storage.nodes.first.map { $0.id(at: 0) } ?? .max }

    // MARK: - Structure

    /// Nodes (`radix-tree-keys` in XINFO STREAM).
    public var nodeCount: Int { storage.nodes.count }

    /// The nodes of Redis's radix tree over the node keys (`radix-tree-nodes`): a compressed node per shared run
    /// of key bytes, a branching node where keys diverge, a leaf per key.
    /// - Complexity: O(nodes × 16)
    public var radixTreeNodeCount: Int {
        let keys = storage.nodes.map { node -> [UInt8] in
            var key: [UInt8] = []
            key.reserveCapacity(16)
            for shift in stride(from: 56, through: 0, by: -8) {
                key.append(UInt8(truncatingIfNeeded: node.masterID.milliseconds >> UInt64(shift)))
            }
            for shift in stride(from: 56, through: 0, by: -8) {
                key.append(UInt8(truncatingIfNeeded: node.masterID.sequence >> UInt64(shift)))
            }
            return key
        }
        guard !keys.isEmpty else { return 1 }  // the empty root
        return StreamValue.radixNodes(keys, keys.startIndex..<keys.endIndex, depth: 0)
    }

    private static func radixNodes(_ keys: [[UInt8]], _ range: Range<Int>, depth: Int) -> Int {
        if depth == 16 { return 1 }
        if range.count == 1 { return 2 }  // the rest of the key compressed, then the leaf
        // Sorted keys: the prefix shared by the first and the last is shared by all.
        var shared = 0
        let first = keys[range.lowerBound]
        let last = keys[range.upperBound - 1]
        while depth + shared < 16 && first[depth + shared] == last[depth + shared] { shared += 1 }
        if shared > 0 { return 1 + radixNodes(keys, range, depth: depth + shared) }
        var total = 1
        var start = range.lowerBound
        while start < range.upperBound {
            var end = start + 1
            while end < range.upperBound && keys[end][depth] == keys[start][depth] { end += 1 }
            total += radixNodes(keys, start..<end, depth: depth + 1)
            start = end
        }
        return total
    }
}

/// One stream entry: its ID and its fields and values (`fields[0]` a field, `fields[1]` its value, …).
public struct StreamEntry: Sendable, Equatable {
    public var id: StreamID
    public var fields: [Bytes]

    public init(id: StreamID, fields: [Bytes]) {
        self.id = id
        self.fields = fields
    }

    /// `[id, [field, value, …]]`, as XRANGE replies.
    public var reply: Reply { .array([id.reply, .bulks(fields)]) }
}

// MARK: - Storage

/// What a ``StreamValue`` shares between snapshots.
final class StreamStorage: @unchecked Sendable {
    var nodes: Deque<StreamNode>
    var length: Int
    var lastID: StreamID
    var firstID: StreamID
    var maxDeletedID: StreamID
    var entriesAdded: UInt64
    /// Consumer groups, ordered by name as Redis's radix tree orders them.
    var groups: [StreamGroup]

    init() {
        nodes = []
        length = 0
        lastID = .zero
        firstID = .zero
        maxDeletedID = .zero
        entriesAdded = 0
        groups = []
    }

    func copy() -> StreamStorage {
        let copy = StreamStorage()
        copy.nodes = nodes
        copy.length = length
        copy.lastID = lastID
        copy.firstID = firstID
        copy.maxDeletedID = maxDeletedID
        copy.entriesAdded = entriesAdded
        copy.groups = groups
        return copy
    }

    /// Whether an entry of `entryBytes` bytes (fields and values) goes into the tail node rather than a new one:
    /// the tail's listpack stays under `stream-node-max-bytes` and has fewer than `stream-node-max-entries` slots.
    func tailAccepts(_ entryBytes: Int) -> Bool {
        guard let tail = nodes.last else { return false }
        return tail.listpackBytes + entryBytes < StreamValue.nodeMaxBytes && tail.slotCount < StreamValue.nodeMaxEntries
    }

    /// Node `index`, copied first when a snapshot shares it.
    func mutableNode(_ index: Int) -> StreamNode {
        if !isKnownUniquelyReferenced(&nodes[index]) { nodes[index] = nodes[index].copy() }
        return nodes[index]
    }

    /// The node whose key range holds `id`: the last one whose master ID is `<= id`.
    func nodeIndex(containing id: StreamID) -> Int? {
        let above = StreamSearch.lowerBound(nodes.count) { nodes[$0].masterID <= id }
        return above == 0 ? nil : above - 1
    }

    /// Where the live entry `id` is.
    func slot(of id: StreamID) -> (node: Int, slot: Int)? {
        guard let nodeIndex = nodeIndex(containing: id) else { return nil }
        let node = nodes[nodeIndex]
        let slot = node.firstSlot(atOrAfter: id)
        guard slot < node.slotCount, node.id(at: slot) == id, !node.isDeleted(slot) else { return nil }
        return (nodeIndex, slot)
    }

    /// The live entry `id`.
    func entry(_ id: StreamID) -> StreamEntry? {
        guard let (node, slot) = slot(of: id) else { return nil }
        return StreamEntry(id: id, fields: nodes[node].fields(at: slot))
    }

    /// Calls `body` for each live entry in `lower...upper`, ascending (descending when `reverse`), until it
    /// returns false.
    func visit(from lower: StreamID, through upper: StreamID, reverse: Bool, _ body: (StreamNode, Int) -> Bool) {
        guard lower <= upper, !nodes.isEmpty else { return }
        if !reverse {
            var nodeIndex = self.nodeIndex(containing: lower) ?? 0
            var slot = nodes[nodeIndex].firstSlot(atOrAfter: lower)
            while nodeIndex < nodes.count {
                let node = nodes[nodeIndex]
                while slot < node.slotCount {
                    if node.id(at: slot) > upper { return }
                    if !node.isDeleted(slot), !body(node, slot) { return }
                    slot += 1
                }
                nodeIndex += 1
                slot = 0
            }
        } else {
            guard var nodeIndex = self.nodeIndex(containing: upper) else { return }
            var slot = upper.successor.map { nodes[nodeIndex].firstSlot(atOrAfter: $0) } ?? nodes[nodeIndex].slotCount
            slot -= 1
            while nodeIndex >= 0 {
                let node = nodes[nodeIndex]
                while slot >= 0 {
                    if node.id(at: slot) < lower { return }
                    if !node.isDeleted(slot), !body(node, slot) { return }
                    slot -= 1
                }
                nodeIndex -= 1
                if nodeIndex >= 0 { slot = nodes[nodeIndex].slotCount - 1 }
            }
        }
    }

    /// The first live entry's ID (0-0 when none).
    var firstLiveID: StreamID {
        var found = StreamID.zero
        visit(from: .zero, through: .max, reverse: false) { node, slot in
            found = node.id(at: slot)
            return false
        }
        return found
    }
}
