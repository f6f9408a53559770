import HashTreeCollections

/// A sorted set: the members in (score, member) order in sorted chunks of at most ``chunkCapacity`` elements
/// (a two-level B-tree), and, past ``indexThreshold`` members, member → score in a persistent hash tree (the way
/// Redis pairs a dict with a skiplist). A small set has no tree: a member is found by scanning the order, as
/// Redis scans a listpack.
///
/// ```
///  storage ─► scores:  TreeDictionary member → score         ZSCORE, membership        O(log n)  (large sets)
///             chunks:  [ c0: (s,m) … ≤128 ][ c1 ][ … ][ cK ]  sorted, none empty        O(log n) to find a place
///             counts:  [ |c0| |c1| … |cK| ]  Int32, contiguous  rank = counts before + offset   O(n / 128)
///             lastScores: [ last score of c0, … ]          searched without touching the chunks (a chunk is
///                                                           read only when its last score ties)
/// ```
///
/// The struct is one reference (8 bytes, so `Value` stays small). Copying it shares everything; the first write
/// after a snapshot copies the storage object: O(1) for the tree (then O(log n) nodes on write) and the chunk
/// spine (one reference per chunk), then only the one chunk the write touches. Never every member.
///
/// Scores are never NaN (the commands refuse it) and `-0` is stored as `0`, as Redis's listpack stores it.
public struct SortedSetValue: Sendable, Sequence {
    /// Elements per chunk. A chunk that would pass it is split; a chunk left small is merged with a neighbour.
    public static let chunkCapacity = 128
    /// Members up to which a set keeps no member → score tree (Redis's `zset-max-listpack-entries`). A set that
    /// grows past it gets the tree, and keeps it if it shrinks again.
    public static let indexThreshold = 128

    /// A member with its score, the element type of the order.
    public struct ScoredMember: Sendable, Equatable {
        public var member: Bytes
        public var score: Double
        public init(member: Bytes, score: Double) {
            self.member = member
            self.score = score
        }

        /// Redis's order: by score, then by member bytes.
        @inline(__always)
        static func precedes(_ a: ScoredMember, _ b: ScoredMember) -> Bool {
            a.score < b.score || (a.score == b.score && a.member < b.member)
        }
    }

    typealias Chunk = ContiguousArray<ScoredMember>

    /// The shared state. Mutated only through a uniquely referenced instance (``makeUnique()``), so a snapshot
    /// holding another reference never sees a change; that is what makes `@unchecked Sendable` sound.
    final class Storage: @unchecked Sendable {
        /// Member → score, for a set that has had more than ``indexThreshold`` members; nil before.
        var scores: TreeDictionary<Bytes, Double>?
        var chunks: [Chunk]
        var counts: [Int32]
        var lastScores: [Double]

        init(
            scores: TreeDictionary<Bytes, Double>? = nil, chunks: [Chunk] = [], counts: [Int32] = [],
            lastScores: [Double] = []
        ) {
            self.scores = scores
            self.chunks = chunks
            self.counts = counts
            self.lastScores = lastScores
        }

        /// A copy sharing the tree and every chunk buffer.
        /// - Complexity: O(1); the arrays' spines are copied on their first write.
        func copy() -> Storage { Storage(scores: scores, chunks: chunks, counts: counts, lastScores: lastScores) }
    }

    var storage: Storage

    public init() { storage = Storage() }

    /// A sorted set from elements already in (score, member) order with distinct members (the result of a set
    /// operation). Chunks are filled to capacity.
    /// - Complexity: O(n log n) for the tree (none for a small set), O(n) for the order.
    init(ordered elements: [ScoredMember]) {
        var scores: TreeDictionary<Bytes, Double>? = elements.count > Self.indexThreshold ? [:] : nil
        var chunks: [Chunk] = []
        var counts: [Int32] = []
        var lastScores: [Double] = []
        chunks.reserveCapacity((elements.count + Self.chunkCapacity - 1) / Self.chunkCapacity)
        var start = 0
        while start < elements.count {
            let end = Swift.min(start + Self.chunkCapacity, elements.count)
            var chunk = Chunk(elements[start..<end])
            for index in chunk.indices {
                if chunk[index].score == 0 { chunk[index].score = 0 }
                scores?[chunk[index].member] = chunk[index].score
            }
            lastScores.append(chunk[chunk.count - 1].score)
            chunks.append(chunk)
            counts.append(Int32(end - start))
            start = end
        }
        storage = Storage(scores: scores, chunks: chunks, counts: counts, lastScores: lastScores)
    }

    /// A sorted set from a file's members, in the order the file gave them (a listpack's lowest first, a skiplist's
    /// as Redis writes it, highest first). When they come in strict (score, member) order either way, the set is
    /// built in one pass (``init(ordered:)``); otherwise, or when a member repeats (`mayRepeat`: a plain encoding,
    /// or a blob nobody checked), member by member, a repeated member keeping its last score.
    /// - Complexity: O(n) for the order and O(n log n) for the tree in order, O(n log n) otherwise.
    init(loaded elements: [ScoredMember], mayRepeat: Bool) {
        self = SortedSetValue.loaded(elements, mayRepeat: mayRepeat)
    }

    private static func loaded(_ elements: [ScoredMember], mayRepeat: Bool) -> SortedSetValue {
        // Repeats are found through the tree, which a small set does not have.
        guard !mayRepeat || elements.count > indexThreshold else { return inserting(elements, mayRepeat: mayRepeat) }
        let set: SortedSetValue
        if isStrictlyOrdered(elements, ascending: true) {
            set = SortedSetValue(ordered: elements)
        } else if isStrictlyOrdered(elements, ascending: false) {
            set = SortedSetValue(ordered: elements.reversed())
        } else {
            return inserting(elements, mayRepeat: mayRepeat)
        }
        if mayRepeat, let scores = set.storage.scores, scores.count != elements.count {
            return inserting(elements, mayRepeat: true)
        }
        return set
    }

    /// Member by member (a repeated member's last score wins when `mayRepeat`).
    private static func inserting(_ elements: [ScoredMember], mayRepeat: Bool) -> SortedSetValue {
        var set = SortedSetValue()
        for element in elements {
            if mayRepeat { set.insert(element.member, score: element.score) } else { set.insertNew(element.member, score: element.score) }
        }
        return set
    }

    /// Whether each element strictly precedes the next (follows it, when not `ascending`).
    private static func isStrictlyOrdered(_ elements: [ScoredMember], ascending: Bool) -> Bool {
        var index = 1
        while index < elements.count {
            let ordered = ascending
                ? ScoredMember.precedes(elements[index - 1], elements[index])
                : ScoredMember.precedes(elements[index], elements[index - 1])
            if !ordered { return false }
            index += 1
        }
        return true
    }

    /// Number of members.
    /// - Complexity: O(1) with the tree, O(chunks) without (a small set has one or two).
    public var count: Int {
        if let scores = storage.scores { return scores.count }
        var sum = 0
        for size in storage.counts { sum &+= Int(size) }
        return sum
    }

    /// No chunk is ever empty.
    public var isEmpty: Bool { storage.counts.isEmpty }

    /// Member → score as a persistent tree, the set's own or one built from the order (what ZSCAN pages over).
    /// - Complexity: O(1) with the tree, O(n) without.
    public var scores: TreeDictionary<Bytes, Double> {
        storage.scores ?? TreeDictionary(uniqueKeysWithValues: lazy.map { ($0.member, $0.score) })
    }

    /// The score of `member`, nil when it is not in the set.
    /// - Complexity: O(log n) with the tree, O(n) without (n ≤ ``indexThreshold``).
    public func score(of member: Bytes) -> Double? {
        if let scores = storage.scores { return scores[member] }
        for chunk in storage.chunks {
            for element in chunk where element.member == member { return element.score }
        }
        return nil
    }

    /// Whether Redis 7.0 would keep this sorted set as a listpack (few members, all short).
    /// - Complexity: O(min(n, limit))
    public func isListpack(limits: EncodingLimits) -> Bool {
        count <= limits.zsetMaxListpackEntries && allSatisfy { $0.member.count <= limits.zsetMaxListpackValue }
    }

    // MARK: - Changing members

    /// Sets `member`'s score, adding the member if needed. Returns the previous score (nil when added).
    /// - Complexity: O(log n + chunkCapacity); O(n / chunkCapacity) more when a chunk splits or merges.
    @discardableResult
    public mutating func insert(_ member: Bytes, score: Double) -> Double? {
        precondition(!score.isNaN, "NaN score")
        let score = score == 0 ? 0 : score  // -0 is stored as 0
        let old = self.score(of: member)
        if let old, old == score { return old }
        makeUnique()
        storage.scores?[member] = score
        if let old { removeFromOrder(ScoredMember(member: member, score: old)) }
        insertIntoOrder(ScoredMember(member: member, score: score))
        if old == nil { indexIfLarge() }
        return old
    }

    /// Adds `member`, which must not be in the set (what a loader knows of a file checked for duplicates): no
    /// lookup first.
    /// - Complexity: O(log n + chunkCapacity)
    mutating func insertNew(_ member: Bytes, score: Double) {
        precondition(!score.isNaN, "NaN score")
        let score = score == 0 ? 0 : score
        makeUnique()
        storage.scores?[member] = score
        insertIntoOrder(ScoredMember(member: member, score: score))
        indexIfLarge()
    }

    /// Builds the member → score tree once a set without one passes ``indexThreshold``.
    private mutating func indexIfLarge() {
        guard storage.scores == nil, count > Self.indexThreshold else { return }
        storage.scores = TreeDictionary(uniqueKeysWithValues: lazy.map { ($0.member, $0.score) })
    }

    /// Removes `member`; returns its score, nil when it was not there.
    /// - Complexity: O(log n + chunkCapacity)
    @discardableResult
    public mutating func remove(_ member: Bytes) -> Double? {
        guard let old = score(of: member) else { return nil }
        makeUnique()
        storage.scores?.removeValue(forKey: member)
        removeFromOrder(ScoredMember(member: member, score: old))
        return old
    }

    /// Takes a private copy of the storage when a snapshot shares it.
    @inline(__always)
    mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    }

    // MARK: - The order

    /// The first chunk whose last element is not before `item`, or the number of chunks when every element is.
    /// Compares the contiguous last scores, reading a chunk only when its last score equals the item's.
    /// - Complexity: O(log(n / chunkCapacity))
    func firstChunk(notBefore item: ScoredMember) -> Int {
        let lastScores = storage.lastScores
        var low = 0
        var high = lastScores.count
        while low < high {
            let middle = (low &+ high) >> 1
            let last = lastScores[middle]
            let isAtOrAfter: Bool
            if last != item.score {
                isAtOrAfter = last > item.score
            } else {
                let chunk = storage.chunks[middle]
                isAtOrAfter = !(chunk[chunk.count - 1].member < item.member)
            }
            if isAtOrAfter { high = middle } else { low = middle + 1 }
        }
        return low
    }

    /// The first chunk whose last score satisfies `isAtOrAfter` (false then true along the order), or the number
    /// of chunks: a score-range bound found without reading any chunk.
    /// - Complexity: O(log(n / chunkCapacity))
    func firstChunk(whereScore isAtOrAfter: (Double) -> Bool) -> Int {
        let lastScores = storage.lastScores
        var low = 0
        var high = lastScores.count
        while low < high {
            let middle = (low &+ high) >> 1
            if isAtOrAfter(lastScores[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }

    /// The first chunk whose last element satisfies `isAtOrAfter` (a predicate false then true along the order),
    /// or the number of chunks when none does.
    /// - Complexity: O(log(n / chunkCapacity))
    func firstChunk(where isAtOrAfter: (ScoredMember) -> Bool) -> Int {
        let chunks = storage.chunks
        var low = 0
        var high = chunks.count
        while low < high {
            let middle = (low &+ high) >> 1
            if isAtOrAfter(chunks[middle][chunks[middle].count - 1]) { high = middle } else { low = middle + 1 }
        }
        return low
    }

    /// The first offset in `chunk` whose element satisfies `isAtOrAfter`, or the chunk's count.
    static func firstOffset(in chunk: Chunk, where isAtOrAfter: (ScoredMember) -> Bool) -> Int {
        var low = 0
        var high = chunk.count
        while low < high {
            let middle = (low &+ high) >> 1
            if isAtOrAfter(chunk[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }

    private mutating func insertIntoOrder(_ item: ScoredMember) {
        let capacity = Self.chunkCapacity
        if storage.chunks.isEmpty {
            storage.chunks.append([item])
            storage.counts.append(1)
            storage.lastScores.append(item.score)
            return
        }
        var chunk = firstChunk(notBefore: item)
        if chunk == storage.chunks.count { chunk -= 1 }
        let offset = Self.firstOffset(in: storage.chunks[chunk]) { !ScoredMember.precedes($0, item) }
        let size = Int(storage.counts[chunk])
        if size < capacity {
            storage.chunks[chunk].insert(item, at: offset)
            storage.counts[chunk] += 1
            if offset == size { storage.lastScores[chunk] = item.score }
            return
        }
        // A full chunk. Growing at either end of the set starts a new chunk (sequential loads and appends stay
        // dense); anywhere else the chunk is split in halves.
        if offset == size && chunk == storage.chunks.count - 1 {
            storage.chunks.append([item])
            storage.counts.append(1)
            storage.lastScores.append(item.score)
        } else if offset == 0 && chunk == 0 {
            storage.chunks.insert([item], at: 0)
            storage.counts.insert(1, at: 0)
            storage.lastScores.insert(item.score, at: 0)
        } else {
            let half = size / 2
            var tail = Chunk(storage.chunks[chunk][half...])
            storage.chunks[chunk].removeSubrange(half...)
            if offset <= half {
                storage.chunks[chunk].insert(item, at: offset)
            } else {
                tail.insert(item, at: offset - half)
            }
            storage.counts[chunk] = Int32(storage.chunks[chunk].count)
            storage.counts.insert(Int32(tail.count), at: chunk + 1)
            storage.lastScores[chunk] = storage.chunks[chunk][storage.chunks[chunk].count - 1].score
            storage.lastScores.insert(tail[tail.count - 1].score, at: chunk + 1)
            storage.chunks.insert(tail, at: chunk + 1)
        }
    }

    private mutating func removeFromOrder(_ item: ScoredMember) {
        let chunk = firstChunk(notBefore: item)
        precondition(chunk < storage.chunks.count, "sorted set order out of step with its scores")
        let offset = Self.firstOffset(in: storage.chunks[chunk]) { !ScoredMember.precedes($0, item) }
        precondition(storage.chunks[chunk][offset] == item, "sorted set order out of step with its scores")
        storage.chunks[chunk].remove(at: offset)
        storage.counts[chunk] -= 1
        if offset == Int(storage.counts[chunk]) && offset > 0 {
            storage.lastScores[chunk] = storage.chunks[chunk][offset - 1].score
        }
        rebalance(around: chunk)
    }

    /// After removals in `chunk`: drops it when empty, merges it into a neighbour when it has become small and
    /// the two fit in one chunk (so many removals cannot leave a long spine of tiny chunks).
    mutating func rebalance(around chunk: Int) {
        let size = Int(storage.counts[chunk])
        if size == 0 {
            storage.chunks.remove(at: chunk)
            storage.counts.remove(at: chunk)
            storage.lastScores.remove(at: chunk)
            return
        }
        guard size < Self.chunkCapacity / 4, storage.chunks.count > 1 else { return }
        let left = chunk > 0 ? Int(storage.counts[chunk - 1]) : Int.max
        let right = chunk + 1 < storage.chunks.count ? Int(storage.counts[chunk + 1]) : Int.max
        let (first, neighbourSize) = left <= right ? (chunk - 1, left) : (chunk, right)
        guard neighbourSize + size <= Self.chunkCapacity else { return }
        let second = storage.chunks.remove(at: first + 1)
        storage.chunks[first].append(contentsOf: second)
        let secondCount = storage.counts.remove(at: first + 1)
        storage.counts[first] += secondCount
        let secondLast = storage.lastScores.remove(at: first + 1)
        storage.lastScores[first] = secondLast
    }

    // MARK: - Sequence

    /// Iterates in (score, member) order.
    public struct Iterator: IteratorProtocol {
        var chunks: IndexingIterator<[Chunk]>
        var current: Chunk.Iterator?

        public mutating func next() -> ScoredMember? {
            while true {
                if let element = current?.next() { return element }
                guard let chunk = chunks.next() else { return nil }
                current = chunk.makeIterator()
            }
        }
    }

    public func makeIterator() -> Iterator { Iterator(chunks: storage.chunks.makeIterator(), current: nil) }

    /// The members highest first (the order Redis writes a skiplist in an RDB).
    public var highestFirst: HighestFirst { HighestFirst(chunks: storage.chunks) }

    /// The members in reverse (score, member) order.
    public struct HighestFirst: Sequence {
        let chunks: [Chunk]

        public struct Iterator: IteratorProtocol {
            let chunks: [Chunk]
            var chunk: Int
            var index = 0

            public mutating func next() -> ScoredMember? {
                while index == 0 {
                    guard chunk > 0 else { return nil }
                    chunk -= 1
                    index = chunks[chunk].count
                }
                index -= 1
                return chunks[chunk][index]
            }
        }

        public func makeIterator() -> Iterator { Iterator(chunks: chunks, chunk: chunks.count) }
    }

    public var underestimatedCount: Int { count }
}
