import Formats

// A stream node: the entries Redis keeps in one listpack of its radix tree (t_stream.c), here with the entries'
// bytes packed in one array, and the listpack's size and counters tracked exactly so that node boundaries fall
// where Redis's do. That matters beyond memory: `XTRIM … ~` and `XADD … MAXLEN ~` only ever remove whole nodes,
// so the number of entries they remove is only Redis's if our nodes are Redis's.
//
// The listpack Redis builds for a node (its byte size is what `stream-node-max-bytes` limits):
//
//   header (6 bytes)
//   master entry:  count | deleted | num-fields | field_1 … field_N | 0
//   each entry:    flags | ms-diff | seq-diff | [num-fields | field_1 | value_1 … ] or [value_1 … ] | lp-count
//   end (1 byte)
//
// `flags` has SAMEFIELDS when the entry's field names are the master entry's (then only values are stored) and
// DELETED once XDEL or an exact XTRIM removed it: a deleted entry stays in its node until the whole node goes.
//
// Our packing of an entry in `payload`:  [varint n] (varint length, bytes) for each field and value, or, for a
// SAMEFIELDS entry, (varint length, bytes) for each value only.

/// A node of a stream. Shared between snapshots: never mutated once shared (``StreamValue`` copies it first).
///
/// Per entry it keeps 12 bytes besides the packed fields: the ID relative to the master ID in 8 (milliseconds
/// delta and sequence, 32 bits each; a node whose IDs do not fit switches to full 16-byte IDs), and the entry's
/// offset in `payload` with its two flags in 4.
final class StreamNode: @unchecked Sendable {
    /// The ID of the first entry ever added to the node (the radix tree key).
    let masterID: StreamID
    /// The field names of that first entry.
    let masterFields: [Bytes]
    /// Every entry's ID, deleted ones included, in order: packed while `wideIDs` is nil.
    private var packedIDs: ContiguousArray<UInt64>
    private var wideIDs: ContiguousArray<StreamID>?
    /// Per entry: offset in `payload` (the entry ends where the next begins), DELETED and SAMEFIELDS bits.
    private var marks: ContiguousArray<UInt32>
    private var payload: ContiguousArray<UInt8>
    /// Entries not deleted (the listpack's `count`).
    private(set) var liveCount: Int
    /// Entries flagged deleted (the listpack's `deleted`).
    private(set) var deletedCount: Int
    /// The size of the listpack Redis would hold for this node.
    private(set) var listpackBytes: Int

    private static let deletedMark: UInt32 = 1 << 30  // STREAM_ITEM_FLAG_DELETED
    private static let sameFieldsMark: UInt32 = 1 << 31  // STREAM_ITEM_FLAG_SAMEFIELDS
    private static let offsetMask: UInt32 = (1 << 30) - 1

    /// A node holding one entry, whose fields become the master fields.
    init<Fields: RandomAccessCollection>(id: StreamID, fields: Fields)
    where Fields.Element == Bytes, Fields.Index == Int {
        masterID = id
        var names: [Bytes] = []
        names.reserveCapacity(fields.count / 2)
        for index in stride(from: fields.startIndex, to: fields.endIndex, by: 2) { names.append(fields[index]) }
        masterFields = names
        packedIDs = []
        marks = []
        payload = []
        liveCount = 1
        deletedCount = 0
        // Header and end byte, then the master entry: count 1, deleted 0, num-fields, the names, the 0 terminator.
        var bytes = 7 + ListpackSize.integer(1) + ListpackSize.integer(0) + ListpackSize.integer(Int64(names.count))
        for name in names { bytes += ListpackSize.string(name) }
        listpackBytes = bytes + ListpackSize.integer(0)
        appendEntry(id: id, fields: fields)
    }

    private init(copying node: StreamNode) {
        masterID = node.masterID
        masterFields = node.masterFields
        packedIDs = node.packedIDs
        wideIDs = node.wideIDs
        marks = node.marks
        payload = node.payload
        liveCount = node.liveCount
        deletedCount = node.deletedCount
        listpackBytes = node.listpackBytes
    }

    /// A copy to mutate (the arrays are shared until written).
    func copy() -> StreamNode { StreamNode(copying: self) }

    /// Live plus deleted entries: what `stream-node-max-entries` limits.
    var slotCount: Int { marks.count }
    /// The last entry's ID, deleted or not (what Redis reads as the node's last ID).
    var lastSlotID: StreamID { id(at: marks.count - 1) }

    /// The ID of entry `index`.
    @inline(__always)
    func id(at index: Int) -> StreamID {
        if let wideIDs { return wideIDs[index] }
        let packed = packedIDs[index]
        return StreamID(milliseconds: masterID.milliseconds &+ (packed >> 32), sequence: packed & 0xFFFF_FFFF)
    }

    /// Drops spare capacity once the node is full (Redis shrinks a listpack that is done growing).
    func shrinkToFit() {
        // Converting an array to its own type would keep its buffer: copy into exactly sized ones.
        func fitted<Element>(_ array: ContiguousArray<Element>) -> ContiguousArray<Element> {
            var copy = ContiguousArray<Element>()
            copy.reserveCapacity(array.count)
            copy.append(contentsOf: array)
            return copy
        }
        packedIDs = fitted(packedIDs)
        if let wide = wideIDs { wideIDs = fitted(wide) }
        marks = fitted(marks)
        payload = fitted(payload)
    }

    // MARK: - Adding and deleting

    /// Appends an entry to a node that already has one (`id` above all of them).
    func append<Fields: RandomAccessCollection>(id: StreamID, fields: Fields)
    where Fields.Element == Bytes, Fields.Index == Int {
        listpackBytes += ListpackSize.integer(Int64(liveCount + 1)) - ListpackSize.integer(Int64(liveCount))
        liveCount += 1
        appendEntry(id: id, fields: fields)
    }

    private func appendID(_ id: StreamID) {
        let delta = id.milliseconds &- masterID.milliseconds
        if wideIDs == nil, delta <= 0xFFFF_FFFF, id.sequence <= 0xFFFF_FFFF {
            packedIDs.append(delta << 32 | id.sequence)
            return
        }
        if wideIDs == nil {
            wideIDs = ContiguousArray((0..<packedIDs.count).map { self.id(at: $0) })
            packedIDs = []
        }
        wideIDs!.append(id)
    }

    private func appendEntry<Fields: RandomAccessCollection>(id: StreamID, fields: Fields)
    where Fields.Element == Bytes, Fields.Index == Int {
        let pairs = fields.count / 2
        var same = pairs == masterFields.count
        if same {
            for index in 0..<pairs where fields[fields.startIndex + 2 * index] != masterFields[index] {
                same = false
                break
            }
        }
        appendID(id)
        marks.append(UInt32(payload.count) | (same ? StreamNode.sameFieldsMark : 0))
        var bytes = ListpackSize.integer(same ? 2 : 0)  // the flags
        bytes += ListpackSize.integer(Int64(bitPattern: id.milliseconds &- masterID.milliseconds))
        bytes += ListpackSize.integer(Int64(bitPattern: id.sequence &- masterID.sequence))
        if same {
            for index in stride(from: fields.startIndex + 1, to: fields.endIndex, by: 2) {
                bytes += ListpackSize.string(fields[index])
                StreamNode.pack(fields[index], into: &payload)
            }
            bytes += ListpackSize.integer(Int64(pairs + 3))
        } else {
            bytes += ListpackSize.integer(Int64(pairs))
            StreamNode.packLength(pairs, into: &payload)
            for item in fields {
                bytes += ListpackSize.string(item)
                StreamNode.pack(item, into: &payload)
            }
            bytes += ListpackSize.integer(Int64(2 * pairs + 4))
        }
        listpackBytes += bytes
    }

    /// Flags entry `index` deleted; false if it already was. The node may be left with no live entry (the
    /// caller removes it when Redis would).
    @discardableResult
    func markDeleted(_ index: Int) -> Bool {
        guard marks[index] & StreamNode.deletedMark == 0 else { return false }
        marks[index] |= StreamNode.deletedMark  // flags 0→1 and 2→3 keep their one-byte encoding
        listpackBytes += ListpackSize.integer(Int64(liveCount - 1)) - ListpackSize.integer(Int64(liveCount))
        listpackBytes += ListpackSize.integer(Int64(deletedCount + 1)) - ListpackSize.integer(Int64(deletedCount))
        liveCount -= 1
        deletedCount += 1
        return true
    }

    // MARK: - Reading

    func isDeleted(_ index: Int) -> Bool { marks[index] & StreamNode.deletedMark != 0 }

    /// The position of the first slot whose ID is `>= id` (`slotCount` when none).
    func firstSlot(atOrAfter id: StreamID) -> Int {
        StreamSearch.lowerBound(marks.count) { self.id(at: $0) < id }
    }

    /// The fields of entry `index`: field, value, field, value…
    func fields(at index: Int) -> [Bytes] {
        let start = Int(marks[index] & StreamNode.offsetMask)
        let end = index + 1 < marks.count ? Int(marks[index + 1] & StreamNode.offsetMask) : payload.count
        let same = marks[index] & StreamNode.sameFieldsMark != 0
        var result: [Bytes] = []
        payload.withUnsafeBufferPointer { bytes in
            var position = start
            if same {
                result.reserveCapacity(2 * masterFields.count)
                for name in masterFields {
                    result.append(name)
                    result.append(StreamNode.unpack(bytes, &position))
                }
            } else {
                let pairs = StreamNode.unpackLength(bytes, &position)
                result.reserveCapacity(2 * pairs)
                while position < end { result.append(StreamNode.unpack(bytes, &position)) }
            }
        }
        return result
    }

    // MARK: - Packing

    private static func packLength(_ length: Int, into payload: inout ContiguousArray<UInt8>) {
        var rest = UInt(length)
        while rest >= 0x80 {
            payload.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        payload.append(UInt8(rest))
    }

    private static func pack(_ item: Bytes, into payload: inout ContiguousArray<UInt8>) {
        packLength(item.count, into: &payload)
        item.withUnsafeBytes { payload.append(contentsOf: $0) }
    }

    private static func unpackLength(_ bytes: UnsafeBufferPointer<UInt8>, _ position: inout Int) -> Int {
        var length = 0
        var shift = 0
        while true {
            let byte = bytes[position]
            position += 1
            length |= Int(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return length }
            shift += 7
        }
    }

    private static func unpack(_ bytes: UnsafeBufferPointer<UInt8>, _ position: inout Int) -> Bytes {
        let length = unpackLength(bytes, &position)
        defer { position += length }
        return Bytes(UnsafeBufferPointer(rebasing: bytes[position..<(position + length)]))
    }
}

/// Sizes of listpack entries as Redis encodes them (listpack.c), backlen included.
enum ListpackSize {
    static func integer(_ value: Int64) -> Int { ListpackBuilder.entrySize(integer: value) }

    /// A string is stored as an integer when it is a canonical one (`lpStringToInt64`), else with a 1, 2 or
    /// 5-byte length header.
    static func string(_ bytes: Bytes) -> Int {
        if bytes.count <= 20, let value = bytes.integerValue { return integer(value) }
        let length = bytes.count
        let size = length + (length < 64 ? 1 : length < 4096 ? 2 : 5)
        // The backlen stores `size` in 7-bit groups (lpEncodeBacklen).
        let backlen = size <= 127 ? 1 : size < 16383 ? 2 : size < 2_097_151 ? 3 : size < 268_435_455 ? 4 : 5
        return size + backlen
    }
}
