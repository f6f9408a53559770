import HashTreeCollections

// MARK: - Random members (SPOP, SRANDMEMBER)

extension SetValue {
    /// The member at position `offset` of the set's order (`0..<count`).
    /// - Complexity: O(1) flat, O(log n) as a tree.
    func member(at offset: Int) -> Bytes {
        switch storage {
        case .integers(let values): Bytes(integer: values[offset])
        case .compact(let members): members[offset]
        case .tree(let box): box.tree[box.tree.index(box.tree.startIndex, offsetBy: offset)]
        }
    }

    /// A member chosen uniformly at random, nil when the set is empty.
    /// - Complexity: O(log n)
    public func randomMember<G: RandomNumberGenerator>(using generator: inout G) -> Bytes? {
        guard !isEmpty else { return nil }
        return member(at: Int.random(in: 0..<count, using: &generator))
    }

    /// `count` members drawn independently, so the same member can come more than once (SRANDMEMBER with a
    /// negative count). Empty when the set is.
    /// - Complexity: O(count × log n)
    public func randomMembersWithRepetition<G: RandomNumberGenerator>(_ count: Int, using generator: inout G) -> [Bytes] {
        let size = self.count
        guard size > 0, count > 0 else { return [] }
        var result: [Bytes] = []
        // Reserve for a sane reply only: a count near Int64.max cannot be allocated up front.
        result.reserveCapacity(Swift.min(count, 1 << 16))
        for _ in 0..<count { result.append(member(at: Int.random(in: 0..<size, using: &generator))) }
        return result
    }

    /// `count` distinct members chosen at random, or every member when `count` reaches the size (SRANDMEMBER
    /// with a positive count).
    ///
    /// Few members are drawn by random positions; when the sample is a large part of the set (more than a third,
    /// Redis's threshold for the same switch) one pass selects each member with the right probability instead.
    /// - Complexity: O(count × log n) for a small sample, O(n) otherwise.
    public func randomDistinctMembers<G: RandomNumberGenerator>(_ count: Int, using generator: inout G) -> [Bytes] {
        let size = self.count
        if count >= size { return Array(self) }
        guard count > 0 else { return [] }
        if count * 3 > size { return SetValue.sample(self, count, size, keepingRest: false, using: &generator).chosen }
        var positions = Set<Int>()
        positions.reserveCapacity(count)
        while positions.count < count { positions.insert(Int.random(in: 0..<size, using: &generator)) }
        return positions.map { member(at: $0) }
    }

    /// Removes `count` members chosen at random and returns them (SPOP with a count); the whole set when `count`
    /// reaches the size.
    /// - Complexity: O(count × log n) when popping at most half of the set, O(n) otherwise.
    public mutating func popRandomMembers<G: RandomNumberGenerator>(_ count: Int, using generator: inout G) -> [Bytes] {
        let size = self.count
        guard count > 0, size > 0 else { return [] }
        if count >= size {
            defer { self = SetValue() }
            return Array(self)
        }
        if count * 2 <= size {
            var popped: [Bytes] = []
            popped.reserveCapacity(count)
            for _ in 0..<count {
                let member = member(at: Int.random(in: 0..<self.count, using: &generator))
                remove(member)
                popped.append(member)
            }
            return popped
        }
        // Most of the set goes: select in one pass and rebuild the set from the members that stay.
        let (chosen, rest) = SetValue.sample(self, count, size, keepingRest: true, using: &generator)
        self = SetValue(distinct: ContiguousArray(rest))
        return chosen
    }

    /// Selection sampling (Knuth's algorithm S): each member is chosen with probability
    /// `still needed / still unseen`, which yields exactly `count` members, uniformly. The members not chosen are
    /// returned too when `keepingRest`.
    private static func sample<G: RandomNumberGenerator>(
        _ members: SetValue, _ count: Int, _ size: Int, keepingRest: Bool, using generator: inout G
    ) -> (chosen: [Bytes], rest: [Bytes]) {
        var chosen: [Bytes] = []
        var rest: [Bytes] = []
        chosen.reserveCapacity(count)
        if keepingRest { rest.reserveCapacity(size - count) }
        var unseen = size
        for member in members {
            if Int.random(in: 0..<unseen, using: &generator) < count - chosen.count {
                chosen.append(member)
            } else if keepingRest {
                rest.append(member)
            }
            unseen -= 1
        }
        return (chosen, rest)
    }
}
