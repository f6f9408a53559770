import HashTreeCollections

/// A set: a persistent hash tree, so a snapshot shares it and a write copies O(log n) nodes.
public struct SetValue: Sendable {
    public var members: TreeSet<Bytes>

    public init() { members = [] }
    public init(_ members: TreeSet<Bytes>) { self.members = members }

    public var count: Int { members.count }

    /// Whether every member is a decimal integer that fits the intset (what Redis 7.0 would encode as intset
    /// while the set is small).
    public func isIntset(limits: EncodingLimits) -> Bool {
        members.count <= limits.setMaxIntsetEntries && members.allSatisfy { $0.integerValue != nil }
    }
}
