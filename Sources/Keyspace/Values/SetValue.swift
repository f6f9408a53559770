import HashTreeCollections

/// A set: a persistent hash tree, so a snapshot shares it and a write copies O(log n) nodes.
public struct SetValue: Sendable {
    /// The members, in hash order.
    public var members: TreeSet<Bytes>

    /// An empty set.
    public init() { members = [] }
    /// A set of `members` (shares the tree).
    public init(_ members: TreeSet<Bytes>) { self.members = members }

    /// Number of members (SCARD).
    /// - Complexity: O(1)
    public var count: Int { members.count }

    /// Whether every member is a decimal integer that fits the intset (what Redis 7.0 would encode as intset
    /// while the set is small).
    /// - Complexity: O(n) for a set within `setMaxIntsetEntries`, O(1) above it.
    public func isIntset(limits: EncodingLimits) -> Bool {
        members.count <= limits.setMaxIntsetEntries && members.allSatisfy { $0.integerValue != nil }
    }
}
