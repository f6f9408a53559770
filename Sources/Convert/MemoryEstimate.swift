// An estimate of the memory a key takes in Redis 7.0 once loaded (64-bit, jemalloc, default redis.conf
// thresholds), added up the way MEMORY USAGE does (object.c objectComputeSize with every element counted):
//
//   key sds + sizeof(dictEntry) + value, where the value is
//   string      int: robj | embstr (<= 44 bytes): one allocation robj+sdshdr8+bytes | raw: robj + sds
//   list        robj + quicklist + per node (quicklistNode + listpack allocation); nodes of <= 8 KiB
//   set         intset: robj + allocation(8 + n * width) | hashtable: robj + dict + slots * 8
//               + per member (dictEntry + sds)
//   zset        listpack: robj + allocation(listpack) | skiplist: robj + zset + zskiplist + dict + slots * 8
//               + header node + per member (sds + dictEntry + expected node)
//   hash        listpack: robj + allocation(listpack) | hashtable: robj + dict + slots * 8
//               + per field (dictEntry + field sds + value sds)
//   stream      robj + stream + rax of nodes + listpack allocations + per group (streamCG + PEL rax
//               + NACKs + per consumer (streamConsumer + name + PEL rax))
//   module      robj + the serialized size (a module reports its own figure; it is not known here)
//
// Allocations are rounded to jemalloc's size classes (RedisSizes.allocation).

import Formats
import Foundation
import NIOCore

/// What memory-csv prints for one key.
struct MemoryEstimate {
    var bytes: Int
    /// OBJECT ENCODING the key gets when Redis 7.0 loads it.
    var encoding: String
    /// Elements (bytes for strings, as rdbtools counts them).
    var elementCount: Int
    /// Bytes of the largest element (hash: field or value; stream: field or value).
    var largestElementBytes: Int
}

enum MemoryEstimator {
    // Redis 7.0 defaults (redis.conf).
    static let hashMaxListpackEntries = 128
    static let hashMaxListpackValue = 64
    static let zsetMaxListpackEntries = 128
    static let zsetMaxListpackValue = 64
    static let setMaxIntsetEntries = 512
    /// list-max-listpack-size -2.
    static let listNodeBytes = 8192
    static let streamNodeMaxBytes = 4096
    static let streamNodeMaxEntries = 100
    /// OBJ_ENCODING_EMBSTR_SIZE_LIMIT.
    static let embeddedStringLimit = 44

    static func estimate(_ entry: RDBEntry) -> MemoryEstimate {
        let keyBytes = RedisSizes.sds(entry.header.key.readableBytes) + RedisSizes.dictEntry
        var estimate = value(entry.value, header: entry.header)
        estimate.bytes += keyBytes
        return estimate
    }

    private static func value(_ value: RDBValue, header: RDBKeyHeader) -> MemoryEstimate {
        switch value {
        case .string(let string): return self.string(string)
        case .list(let items):
            return list(
                items,
                declaredNodes: header.type == .listQuicklist || header.type == .listQuicklist2
                    ? header.declaredCount : nil)
        case .set(let members): return set(members)
        case .zset(let members): return zset(members)
        case .hash(let fields): return hash(fields)
        case .stream(let stream): return self.stream(stream, declaredNodes: header.declaredCount)
        case .module(let module): return self.module(module)
        }
    }

    // MARK: - Types

    private static func string(_ string: RDBString) -> MemoryEstimate {
        let length = string.byteCount
        if length <= 20, RedisSizes.canonicalInteger(string) != nil {
            return MemoryEstimate(
                bytes: RedisSizes.object, encoding: "int", elementCount: length, largestElementBytes: length)
        }
        if length <= embeddedStringLimit {
            let bytes = RedisSizes.allocation(RedisSizes.object + 3 + length + 1)
            return MemoryEstimate(bytes: bytes, encoding: "embstr", elementCount: length, largestElementBytes: length)
        }
        return MemoryEstimate(
            bytes: RedisSizes.object + RedisSizes.sds(length), encoding: "raw", elementCount: length,
            largestElementBytes: length)
    }

    private static func list(_ items: [RDBString], declaredNodes: UInt64?) -> MemoryEstimate {
        let entries = items.map(RedisSizes.listpackEntry)
        var nodes = packListNodes(items, entries: entries)
        // A quicklist loaded from an RDB keeps the file's nodes: when the file says how many, spread evenly.
        if let declaredNodes, declaredNodes > 0, Int(declaredNodes) != nodes.count, Int(declaredNodes) <= items.count {
            nodes = spread(entries, into: Int(declaredNodes))
        }
        var bytes = RedisSizes.object + RedisSizes.quicklist
        for node in nodes {
            bytes += RedisSizes.quicklistNode + RedisSizes.allocation(RedisSizes.listpackOverhead + node.reduce(0, +))
        }
        return MemoryEstimate(
            bytes: bytes, encoding: "quicklist", elementCount: items.count, largestElementBytes: largest(items))
    }

    /// Quicklist node boundaries as RPUSH makes them (_quicklistNodeAllowInsert with fill -2: the node's size
    /// plus the element plus its estimated overhead must stay within 8 KiB).
    private static func packListNodes(_ items: [RDBString], entries: [Int]) -> [[Int]] {
        var nodes: [[Int]] = []
        var current: [Int] = []
        var currentBytes = RedisSizes.listpackOverhead
        for (item, entry) in zip(items, entries) {
            let length = item.byteCount
            let overhead = (length < 254 ? 1 : 5) + (length < 64 ? 1 : length < 16384 ? 2 : 5)
            if !current.isEmpty && currentBytes + length + overhead > listNodeBytes {
                nodes.append(current)
                current = []
                currentBytes = RedisSizes.listpackOverhead
            }
            current.append(entry)
            currentBytes += entry
        }
        if !current.isEmpty { nodes.append(current) }
        return nodes
    }

    private static func spread(_ entries: [Int], into count: Int) -> [[Int]] {
        (0..<count).map { node in Array(entries[(node * entries.count / count)..<((node + 1) * entries.count / count)])
        }
    }

    private static func set(_ members: [RDBString]) -> MemoryEstimate {
        let largest = largest(members)
        if members.count <= setMaxIntsetEntries {
            let integers = members.compactMap(RedisSizes.canonicalInteger)
            if integers.count == members.count {
                let width =
                    integers.allSatisfy { Int16(exactly: $0) != nil }
                    ? 2 : integers.allSatisfy { Int32(exactly: $0) != nil } ? 4 : 8
                let bytes = RedisSizes.object + RedisSizes.allocation(8 + members.count * width)
                return MemoryEstimate(
                    bytes: bytes, encoding: "intset", elementCount: members.count, largestElementBytes: largest)
            }
        }
        var bytes = RedisSizes.object + RedisSizes.dict + 8 * RedisSizes.dictSlots(members.count)
        for member in members { bytes += RedisSizes.dictEntry + RedisSizes.sds(member.byteCount) }
        return MemoryEstimate(
            bytes: bytes, encoding: "hashtable", elementCount: members.count, largestElementBytes: largest)
    }

    private static func zset(_ members: [RDBScoredMember]) -> MemoryEstimate {
        let largest = members.map(\.member.byteCount).max() ?? 0
        if members.count <= zsetMaxListpackEntries && largest <= zsetMaxListpackValue {
            var listpack = RedisSizes.listpackOverhead
            for member in members {
                listpack += RedisSizes.listpackEntry(member.member) + RedisSizes.listpackEntry(scoreText(member.score))
            }
            let bytes = RedisSizes.object + RedisSizes.allocation(listpack)
            return MemoryEstimate(
                bytes: bytes, encoding: "listpack", elementCount: members.count, largestElementBytes: largest)
        }
        var total = Double(
            RedisSizes.object + RedisSizes.zset + RedisSizes.zskiplist + RedisSizes.dict + 8
                * RedisSizes.dictSlots(members.count)
                + RedisSizes.skiplistHeader)
        for member in members {
            total +=
                Double(RedisSizes.sds(member.member.byteCount) + RedisSizes.dictEntry) + RedisSizes.expectedSkiplistNode
        }
        return MemoryEstimate(
            bytes: Int(total.rounded()), encoding: "skiplist", elementCount: members.count, largestElementBytes: largest
        )
    }

    /// The score as a zset listpack stores it (zzlInsertAt → d2string): an integer when integral and below
    /// 2^52, "-0", "inf" / "-inf", else "%.17g".
    private static func scoreText(_ score: Double) -> RDBString {
        if score.isInfinite { return .bytes(ByteBuffer(string: score > 0 ? "inf" : "-inf")) }
        if score == 0 && score.sign == .minus { return .bytes(ByteBuffer(string: "-0")) }
        if score == score.rounded(), abs(score) < 4_503_599_627_370_496 { return .integer(Int64(score)) }
        return .bytes(ByteBuffer(string: String(format: "%.17g", score)))
    }

    private static func hash(_ fields: [RDBHashField]) -> MemoryEstimate {
        let largest = fields.map { max($0.field.byteCount, $0.value.byteCount) }.max() ?? 0
        if fields.count <= hashMaxListpackEntries && largest <= hashMaxListpackValue
            && !fields.contains(where: { $0.expireAtMilliseconds != nil })
        {
            var listpack = RedisSizes.listpackOverhead
            for field in fields {
                listpack += RedisSizes.listpackEntry(field.field) + RedisSizes.listpackEntry(field.value)
            }
            let bytes = RedisSizes.object + RedisSizes.allocation(listpack)
            return MemoryEstimate(
                bytes: bytes, encoding: "listpack", elementCount: fields.count, largestElementBytes: largest)
        }
        var bytes = RedisSizes.object + RedisSizes.dict + 8 * RedisSizes.dictSlots(fields.count)
        for field in fields {
            bytes +=
                RedisSizes.dictEntry + RedisSizes.sds(field.field.byteCount) + RedisSizes.sds(field.value.byteCount)
        }
        return MemoryEstimate(
            bytes: bytes, encoding: "hashtable", elementCount: fields.count, largestElementBytes: largest)
    }

    private static func stream(_ stream: RDBStream, declaredNodes: UInt64?) -> MemoryEstimate {
        var nodes = packStreamNodes(stream.entries)
        if let declaredNodes, declaredNodes > 0, Int(declaredNodes) != nodes.count,
            Int(declaredNodes) <= stream.entries.count
        {
            let count = Int(declaredNodes)
            nodes = (0..<count).map { node in
                Array(
                    stream.entries[(node * stream.entries.count / count)..<((node + 1) * stream.entries.count / count)])
            }
        }
        var bytes = RedisSizes.object + RedisSizes.stream + RedisSizes.streamRax(nodes.map { $0[0].id })
        for node in nodes { bytes += RedisSizes.allocation(streamListpackBytes(node)) }
        for group in stream.groups {
            bytes += RedisSizes.streamGroup + RedisSizes.streamRax(group.pending.map(\.id))
            bytes += RedisSizes.streamPendingEntry * group.pending.count
            for consumer in group.consumers {
                bytes +=
                    RedisSizes.streamConsumer + consumer.name.readableBytes + RedisSizes.streamRax(consumer.pending)
            }
        }
        let largest =
            stream.entries.flatMap { $0.fields.map { max($0.field.byteCount, $0.value.byteCount) } }.max() ?? 0
        return MemoryEstimate(
            bytes: bytes, encoding: "stream", elementCount: stream.entries.count, largestElementBytes: largest)
    }

    /// Node boundaries as XADD makes them (streamAppendItem: a new node when the listpack plus the entry's
    /// fields and values would reach stream-node-max-bytes, or the node has stream-node-max-entries).
    private static func packStreamNodes(_ entries: [RDBStreamEntry]) -> [[RDBStreamEntry]] {
        var nodes: [[RDBStreamEntry]] = []
        var current: [RDBStreamEntry] = []
        var currentBytes = 0
        for entry in entries {
            let fieldBytes = entry.fields.reduce(0) { $0 + $1.field.byteCount + $1.value.byteCount }
            if !current.isEmpty
                && (currentBytes + fieldBytes >= streamNodeMaxBytes || current.count >= streamNodeMaxEntries)
            {
                nodes.append(current)
                current = []
            }
            if current.isEmpty { currentBytes = 0 }
            current.append(entry)
            currentBytes = streamListpackBytes(current)
        }
        if !current.isEmpty { nodes.append(current) }
        return nodes
    }

    /// A stream node's listpack: the master entry (count, deleted, field count, fields, 0), then per entry
    /// flags, ms and seq deltas from the master ID, the field count and fields unless they are the master's,
    /// the values, and the entry's element count.
    private static func streamListpackBytes(_ entries: [RDBStreamEntry]) -> Int {
        guard let master = entries.first else { return RedisSizes.listpackOverhead }
        var bytes = RedisSizes.listpackOverhead
        bytes += RedisSizes.listpackEntry(integer: Int64(entries.count)) + RedisSizes.listpackEntry(integer: 0)
        bytes += RedisSizes.listpackEntry(integer: Int64(master.fields.count))
        for pair in master.fields { bytes += RedisSizes.listpackEntry(pair.field) }
        bytes += RedisSizes.listpackEntry(integer: 0)
        for entry in entries {
            let sameFields =
                entry.fields.count == master.fields.count
                && zip(entry.fields, master.fields).allSatisfy { $0.field == $1.field }
            bytes += RedisSizes.listpackEntry(integer: sameFields ? 2 : 0)
            bytes += RedisSizes.listpackEntry(
                integer: Int64(truncatingIfNeeded: entry.id.milliseconds &- master.id.milliseconds))
            bytes += RedisSizes.listpackEntry(
                integer: Int64(truncatingIfNeeded: entry.id.sequence &- master.id.sequence))
            if !sameFields { bytes += RedisSizes.listpackEntry(integer: Int64(entry.fields.count)) }
            for pair in entry.fields {
                if !sameFields { bytes += RedisSizes.listpackEntry(pair.field) }
                bytes += RedisSizes.listpackEntry(pair.value)
            }
            let elements = sameFields ? entry.fields.count + 3 : entry.fields.count * 2 + 4
            bytes += RedisSizes.listpackEntry(integer: Int64(elements))
        }
        return bytes
    }

    private static func module(_ module: RDBModuleValue) -> MemoryEstimate {
        var bytes = RedisSizes.object
        for datum in module.data {
            switch datum {
            case .signedInteger, .unsignedInteger, .double: bytes += 8
            case .float: bytes += 4
            case .string(let string): bytes += RedisSizes.sds(string.byteCount)
            }
        }
        return MemoryEstimate(bytes: bytes, encoding: "module", elementCount: 1, largestElementBytes: 0)
    }

    private static func largest(_ strings: [RDBString]) -> Int {
        strings.map(\.byteCount).max() ?? 0
    }
}
