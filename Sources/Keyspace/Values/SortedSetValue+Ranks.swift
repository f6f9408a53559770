import HashTreeCollections

// MARK: - Ranks and ranges (ZRANK, ZRANGE, ZCOUNT, ZREMRANGEBY…, ZPOP…)

extension SortedSetValue {
    /// The number of elements before chunk `chunk`, summed from the nearer end of the spine.
    /// - Complexity: O(n / chunkCapacity) over a contiguous array of counts.
    func elementsBefore(chunk: Int) -> Int {
        let counts = storage.counts
        if chunk <= counts.count / 2 {
            var sum = 0
            for index in 0..<chunk { sum &+= Int(counts[index]) }
            return sum
        }
        var sum = 0
        for index in chunk..<counts.count { sum &+= Int(counts[index]) }
        return count - sum
    }

    /// The chunk and offset of the element at `rank` (`0..<count`).
    /// - Complexity: O(n / chunkCapacity)
    func locate(rank: Int) -> (chunk: Int, offset: Int) {
        precondition(rank >= 0 && rank < count, "rank out of range")
        let counts = storage.counts
        if rank < count / 2 {
            var rest = rank
            var chunk = 0
            while rest >= Int(counts[chunk]) {
                rest -= Int(counts[chunk])
                chunk += 1
            }
            return (chunk, rest)
        }
        var rest = count - 1 - rank
        var chunk = counts.count - 1
        while rest >= Int(counts[chunk]) {
            rest -= Int(counts[chunk])
            chunk -= 1
        }
        return (chunk, Int(counts[chunk]) - 1 - rest)
    }

    /// The 0-based position of `member` in ascending order, nil when it is not in the set.
    /// - Complexity: O(log n + n / chunkCapacity)
    public func rank(of member: Bytes) -> Int? {
        guard let score = score(of: member) else { return nil }
        let item = ScoredMember(member: member, score: score)
        let chunk = firstChunk(notBefore: item)
        return elementsBefore(chunk: chunk)
            + Self.firstOffset(in: storage.chunks[chunk]) { !ScoredMember.precedes($0, item) }
    }

    /// The number of elements before the first one that satisfies `isAtOrAfter`, a predicate that is false then
    /// true along the order (a partition point: "score ≥ min", "member > max"…).
    /// - Complexity: O(log n + n / chunkCapacity)
    public func firstRank(where isAtOrAfter: (ScoredMember) -> Bool) -> Int {
        let chunk = firstChunk(where: isAtOrAfter)
        guard chunk < storage.chunks.count else { return count }
        return elementsBefore(chunk: chunk) + Self.firstOffset(in: storage.chunks[chunk], where: isAtOrAfter)
    }

    /// ``firstRank(where:)`` for a predicate on the score alone, which finds its chunk without reading chunks.
    /// - Complexity: O(log n + n / chunkCapacity)
    public func firstRank(whereScore isAtOrAfter: (Double) -> Bool) -> Int {
        let chunk = firstChunk(whereScore: isAtOrAfter)
        guard chunk < storage.chunks.count else { return count }
        return elementsBefore(chunk: chunk) + Self.firstOffset(in: storage.chunks[chunk]) { isAtOrAfter($0.score) }
    }

    /// The element at `rank` (`0..<count`) in ascending order.
    /// - Complexity: O(n / chunkCapacity)
    public subscript(rank rank: Int) -> ScoredMember {
        let (chunk, offset) = locate(rank: rank)
        return storage.chunks[chunk][offset]
    }

    /// The elements at `ranks` (clamped to the set) in ascending order.
    /// - Complexity: O(n / chunkCapacity + ranks.count)
    public func elements(inRanks ranks: Range<Int>) -> [ScoredMember] {
        let lower = Swift.max(0, ranks.lowerBound)
        let upper = Swift.min(count, ranks.upperBound)
        guard lower < upper else { return [] }
        var result: [ScoredMember] = []
        result.reserveCapacity(upper - lower)
        var (chunk, offset) = locate(rank: lower)
        let chunks = storage.chunks
        while result.count < upper - lower {
            let source = chunks[chunk]
            let take = Swift.min(source.count - offset, upper - lower - result.count)
            result.append(contentsOf: source[offset..<(offset + take)])
            chunk += 1
            offset = 0
        }
        return result
    }

    /// The elements at `ranks` (each in `0..<count`, in any order, repeats allowed), in the same order: one walk
    /// along the chunks rather than a search per rank (ZRANDMEMBER).
    /// - Complexity: O(k log k + n / chunkCapacity) for k ranks.
    public func elements(atRanks ranks: [Int]) -> [ScoredMember] {
        guard !ranks.isEmpty else { return [] }
        let order = ranks.indices.sorted { ranks[$0] < ranks[$1] }
        var result = [ScoredMember](repeating: ScoredMember(member: Bytes(), score: 0), count: ranks.count)
        let chunks = storage.chunks
        let counts = storage.counts
        var chunk = 0
        var before = 0
        for slot in order {
            let rank = ranks[slot]
            precondition(rank >= 0 && rank < count, "rank out of range")
            while rank >= before + Int(counts[chunk]) {
                before += Int(counts[chunk])
                chunk += 1
            }
            result[slot] = chunks[chunk][rank - before]
        }
        return result
    }

    /// Removes the elements at `ranks` (clamped) and returns them in ascending order. Whole chunks inside the
    /// range are dropped without being copied.
    /// - Complexity: O(n / chunkCapacity + k log n) for k removed elements.
    @discardableResult
    public mutating func removeElements(inRanks ranks: Range<Int>) -> [ScoredMember] {
        let lower = Swift.max(0, ranks.lowerBound)
        let upper = Swift.min(count, ranks.upperBound)
        guard lower < upper else { return [] }
        if lower == 0 && upper == count {
            let all = Array(self)
            self = SortedSetValue()
            return all
        }
        makeUnique()
        var removed: [ScoredMember] = []
        removed.reserveCapacity(upper - lower)
        let (firstChunk, firstOffset) = locate(rank: lower)
        var chunk = firstChunk
        var offset = firstOffset
        // Chunks emptied entirely form one run; only the first and last chunks touched can be partial.
        var emptied = firstChunk..<firstChunk
        var partial: [Int] = []
        while removed.count < upper - lower {
            let size = Int(storage.counts[chunk])
            let take = Swift.min(size - offset, upper - lower - removed.count)
            removed.append(contentsOf: storage.chunks[chunk][offset..<(offset + take)])
            if take == size {
                emptied = (emptied.isEmpty ? chunk : emptied.lowerBound)..<(chunk + 1)
            } else {
                storage.chunks[chunk].removeSubrange(offset..<(offset + take))
                storage.counts[chunk] -= Int32(take)
                storage.lastScores[chunk] = storage.chunks[chunk][size - take - 1].score
                partial.append(chunk)
            }
            chunk += 1
            offset = 0
        }
        if storage.scores != nil { for element in removed { storage.scores!.removeValue(forKey: element.member) } }
        storage.chunks.removeSubrange(emptied)
        storage.counts.removeSubrange(emptied)
        storage.lastScores.removeSubrange(emptied)
        // Merge what is left small, the later chunk first so the earlier index stays valid.
        for index in partial.reversed() {
            let shifted = index > emptied.lowerBound ? index - emptied.count : index
            if shifted < storage.chunks.count { rebalance(around: shifted) }
        }
        return removed
    }

    /// The ranks of the elements within a score range.
    /// - Complexity: O(log n + n / chunkCapacity)
    public func ranks(in range: ScoreRange) -> Range<Int> {
        guard !range.isEmpty else { return 0..<0 }
        let lower = firstRank { range.isAboveMinimum($0) }
        let upper = firstRank { !range.isBelowMaximum($0) }
        return lower < upper ? lower..<upper : lower..<lower
    }

    /// The ranks of the elements within a lexicographic range (meaningful when all scores are equal, as for
    /// ZRANGEBYLEX; otherwise a consistent but unspecified answer, as in Redis).
    /// - Complexity: O(log n + n / chunkCapacity)
    public func ranks(in range: LexRange) -> Range<Int> {
        guard !range.isEmpty else { return 0..<0 }
        let lower = firstRank { range.isAboveMinimum($0.member) }
        let upper = firstRank { !range.isBelowMaximum($0.member) }
        return lower < upper ? lower..<upper : lower..<lower
    }
}

// MARK: - Ranges

/// A score interval with inclusive or exclusive ends (`1`, `(1`, `-inf`, `+inf`), as ZRANGEBYSCORE takes it.
public struct ScoreRange: Sendable, Equatable {
    public var min: Double
    public var max: Double
    public var minExclusive: Bool
    public var maxExclusive: Bool

    public init(min: Double, max: Double, minExclusive: Bool = false, maxExclusive: Bool = false) {
        self.min = min
        self.max = max
        self.minExclusive = minExclusive
        self.maxExclusive = maxExclusive
    }

    /// No score can be inside (min above max, or equal ends with one excluded).
    public var isEmpty: Bool { min > max || (min == max && (minExclusive || maxExclusive)) }

    @inline(__always) public func isAboveMinimum(_ score: Double) -> Bool { minExclusive ? score > min : score >= min }
    @inline(__always) public func isBelowMaximum(_ score: Double) -> Bool { maxExclusive ? score < max : score <= max }
    public func contains(_ score: Double) -> Bool { isAboveMinimum(score) && isBelowMaximum(score) }
}

/// A member interval for ZRANGEBYLEX: `[a` inclusive, `(a` exclusive, `-` below everything, `+` above.
public struct LexRange: Sendable, Equatable {
    public enum Bound: Sendable, Equatable {
        case negativeInfinity
        case positiveInfinity
        case inclusive(Bytes)
        case exclusive(Bytes)
    }

    public var min: Bound
    public var max: Bound

    public init(min: Bound, max: Bound) {
        self.min = min
        self.max = max
    }

    /// No member can be inside.
    public var isEmpty: Bool {
        switch (min, max) {
        case (.positiveInfinity, _), (_, .negativeInfinity): return true
        case (.negativeInfinity, _), (_, .positiveInfinity): return false
        case (.inclusive(let a), .inclusive(let b)): return b < a
        case (.inclusive(let a), .exclusive(let b)), (.exclusive(let a), .inclusive(let b)),
            (.exclusive(let a), .exclusive(let b)):
            return !(a < b)
        }
    }

    public func isAboveMinimum(_ member: Bytes) -> Bool {
        switch min {
        case .negativeInfinity: true
        case .positiveInfinity: false
        case .inclusive(let bound): !(member < bound)
        case .exclusive(let bound): bound < member
        }
    }

    public func isBelowMaximum(_ member: Bytes) -> Bool {
        switch max {
        case .negativeInfinity: false
        case .positiveInfinity: true
        case .inclusive(let bound): !(bound < member)
        case .exclusive(let bound): member < bound
        }
    }

    public func contains(_ member: Bytes) -> Bool { isAboveMinimum(member) && isBelowMaximum(member) }
}
