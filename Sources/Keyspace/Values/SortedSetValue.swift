import HashTreeCollections

/// A sorted set: member → score, plus the members in (score, member) order.
///
/// PLACEHOLDER storage (sorted array): to be replaced by the sorted-set family with a chunked order so that a
/// write after a snapshot does not copy every member.
public struct SortedSetValue: Sendable, Sequence {
    public var scores: TreeDictionary<Bytes, Double>
    var order: [ScoredMember]

    public struct ScoredMember: Sendable, Equatable {
        public var member: Bytes
        public var score: Double
        public init(member: Bytes, score: Double) {
            self.member = member
            self.score = score
        }
        /// Redis's order: by score, then by member bytes.
        static func precedes(_ a: ScoredMember, _ b: ScoredMember) -> Bool {
            a.score < b.score || (a.score == b.score && a.member < b.member)
        }
    }

    public init() {
        scores = [:]
        order = []
    }

    public var count: Int { scores.count }

    public func score(of member: Bytes) -> Double? { scores[member] }

    /// Sets `member`'s score, adding the member if needed.
    public mutating func insert(_ member: Bytes, score: Double) {
        if let old = scores[member] { removeFromOrder(ScoredMember(member: member, score: old)) }
        scores[member] = score
        let item = ScoredMember(member: member, score: score)
        order.insert(item, at: insertionIndex(item))
    }

    /// Removes `member`; returns whether it was there.
    @discardableResult
    public mutating func remove(_ member: Bytes) -> Bool {
        guard let old = scores.removeValue(forKey: member) else { return false }
        removeFromOrder(ScoredMember(member: member, score: old))
        return true
    }

    private func insertionIndex(_ item: ScoredMember) -> Int {
        var low = 0
        var high = order.count
        while low < high {
            let mid = (low + high) / 2
            if ScoredMember.precedes(order[mid], item) { low = mid + 1 } else { high = mid }
        }
        return low
    }

    private mutating func removeFromOrder(_ item: ScoredMember) {
        let index = insertionIndex(item)
        if index < order.count && order[index] == item { order.remove(at: index) }
    }

    public func makeIterator() -> IndexingIterator<[ScoredMember]> { order.makeIterator() }
}
