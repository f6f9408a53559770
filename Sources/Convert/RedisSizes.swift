// Sizes of Redis 7.0's in-memory structures on 64-bit Linux with jemalloc 5 (what MEMORY USAGE adds up).
// The struct sizes are sizeof() of server.h / quicklist.h / t_stream.h / dict.h of Redis 7.0.

import Formats
import NIOCore

enum RedisSizes {
    // MARK: - Structs

    /// sizeof(robj): type/encoding/lru bit fields, refcount, ptr.
    static let object = 16
    /// sizeof(dictEntry): key, value union, next.
    static let dictEntry = 24
    /// sizeof(dict) in 7.0: type, ht_table[2], ht_used[2], rehashidx, pauserehash, ht_size_exp[2].
    static let dict = 56
    /// sizeof(quicklist) and sizeof(quicklistNode).
    static let quicklist = 40
    static let quicklistNode = 40
    /// sizeof(zset) (dict*, zsl*) and sizeof(zskiplist) (header, tail, length, level).
    static let zset = 16
    static let zskiplist = 32
    /// sizeof(stream), sizeof(streamCG), sizeof(streamNACK), sizeof(streamConsumer) in 7.0.
    static let stream = 80
    static let streamGroup = 40
    static let streamPendingEntry = 24
    static let streamConsumer = 24
    /// Listpack header (total bytes u32, count u16) and end byte.
    static let listpackOverhead = 7

    // MARK: - jemalloc

    /// The usable size jemalloc gives for a request (its size classes: 8, 16, then steps of 16 to 128, then
    /// four classes per doubling), which is what zmalloc_size() reports.
    static func allocation(_ bytes: Int) -> Int {
        if bytes <= 8 { return 8 }
        if bytes <= 128 { return (bytes + 15) & ~15 }
        let power = Int.bitWidth - (bytes - 1).leadingZeroBitCount - 1  // 2^power < bytes <= 2^(power+1)
        let step = 1 << (power - 2)
        return (bytes + step - 1) & ~(step - 1)
    }

    // MARK: - sds

    /// sdsZmallocSize of a string built with sdsnewlen: header by length (sdshdr5 below 32 bytes, 8, 16, 32,
    /// 64), the bytes and the terminating NUL, rounded to the allocation.
    static func sds(_ length: Int) -> Int {
        let header: Int
        switch length {
        case 0: header = 3  // an empty sds is created as sdshdr8
        case ..<32: header = 1
        case ..<256: header = 3
        case ..<65536: header = 5
        case ..<(1 << 32): header = 9
        default: header = 17
        }
        return allocation(header + length + 1)
    }

    // MARK: - Listpack

    /// Bytes of a listpack entry holding `string` (the writer's own encoder decides: integer encodings for
    /// canonical integers, 6/12/32-bit string lengths, plus the back length).
    static func listpackEntry(_ string: RDBString) -> Int {
        ListpackBuilder.entrySize(string)
    }

    static func listpackEntry(integer value: Int64) -> Int {
        ListpackBuilder.entrySize(integer: value)
    }

    /// The value when the string is a canonical 64-bit decimal, which Redis stores as an integer.
    static func canonicalInteger(_ string: RDBString) -> Int64? {
        CanonicalInteger.of(string)
    }

    // MARK: - Hash tables and radix trees

    /// dictSlots after loading or growing to `count` entries: the next power of two, at least 4.
    static func dictSlots(_ count: Int) -> Int {
        var slots = 4
        while slots < count { slots <<= 1 }
        return slots
    }

    /// streamRadixTreeMemoryUsage: 16 bytes per element, sizeof(raxNode) + 30 words per node.
    static func streamRax(_ keys: [RDBStreamID]) -> Int {
        let nodes = raxNodes(keys)
        return keys.count * 16 + nodes * 4 + nodes * 8 * 30
    }

    /// The number of nodes of a rax holding these 128-bit big-endian IDs: compressed nodes for shared runs,
    /// a branching node where keys diverge, and a (empty) node where each key ends.
    static func raxNodes(_ ids: [RDBStreamID]) -> Int {
        guard !ids.isEmpty else { return 1 }  // the empty root
        let keys = Set(ids).sorted().map { id -> [UInt8] in
            var bytes = [UInt8](repeating: 0, count: 16)
            for index in 0..<8 {
                bytes[index] = UInt8(truncatingIfNeeded: id.milliseconds >> (56 - 8 * index))
                bytes[8 + index] = UInt8(truncatingIfNeeded: id.sequence >> (56 - 8 * index))
            }
            return bytes
        }
        return raxNodes(keys[...], depth: 0)
    }

    private static func raxNodes(_ keys: ArraySlice<[UInt8]>, depth: Int) -> Int {
        guard depth < 16 else { return 1 }
        let first = keys.first!
        let last = keys.last!
        var shared = 0
        while depth + shared < 16 && first[depth + shared] == last[depth + shared] { shared += 1 }  // keys are sorted
        if shared > 0 { return 1 + raxNodes(keys, depth: depth + shared) }
        var total = 1
        var start = keys.startIndex
        while start < keys.endIndex {
            var end = start + 1
            while end < keys.endIndex && keys[end][depth] == keys[start][depth] { end += 1 }
            total += raxNodes(keys[start..<end], depth: depth + 1)
            start = end
        }
        return total
    }

    // MARK: - Skiplist

    /// The expected zmalloc_size of a skiplist node (24 bytes + 16 per level; zslRandomLevel gives level k
    /// with probability 0.75 * 0.25^(k-1), at most 32).
    static let expectedSkiplistNode: Double = {
        var expected = 0.0
        var probability = 0.75
        for level in 1...32 {
            expected += probability * Double(allocation(24 + 16 * level))
            probability *= 0.25
        }
        return expected
    }()

    /// The skiplist header node: 32 levels.
    static let skiplistHeader = allocation(24 + 16 * 32)
}
