import HashTreeCollections

/// A set. Small sets are a flat array of members (Redis's intset and listpack counterpart): one allocation,
/// built by appending, searched by a scan. A set that grows past ``compactLimit`` becomes a persistent hash tree,
/// so a snapshot shares it and a write copies O(log n) nodes; it stays a tree if it shrinks again (as Redis
/// never converts back either).
///
/// A compact set copied by a snapshot is copied whole on the first write after it: at most ``compactLimit``
/// members, the small-value case the fork emulation allows.
public struct SetValue: Sendable {
    /// The most members a set keeps in its flat form (Redis 7.0's `set-max-intset-entries` default).
    public static let compactLimit = 512

    @usableFromInline enum Storage: Sendable {
        /// Distinct members, in insertion order.
        case compact(ContiguousArray<Bytes>)
        case tree(TreeBox<TreeSet<Bytes>>)
    }

    @usableFromInline var storage: Storage

    /// An empty set.
    public init() { storage = .compact([]) }

    /// A set of `members` (flat when small, else the tree itself, shared).
    public init(_ members: TreeSet<Bytes>) {
        storage = members.count <= SetValue.compactLimit ? .compact(ContiguousArray(members)) : .tree(TreeBox(members))
    }

    /// A set of `members`, which must be distinct.
    init(distinct members: ContiguousArray<Bytes>) {
        storage = members.count <= SetValue.compactLimit ? .compact(members) : .tree(TreeBox(TreeSet(members)))
    }

    /// Number of members (SCARD).
    /// - Complexity: O(1)
    public var count: Int {
        switch storage {
        case .compact(let members): members.count
        case .tree(let box): box.tree.count
        }
    }

    public var isEmpty: Bool { count == 0 }

    /// Whether the set is in its flat form.
    public var isCompact: Bool {
        if case .compact = storage { return true }
        return false
    }

    /// Whether `member` is in the set (SISMEMBER).
    /// - Complexity: O(n) flat (n ≤ ``compactLimit``), O(log n) as a tree.
    public func contains(_ member: Bytes) -> Bool {
        switch storage {
        case .compact(let members): members.contains(member)
        case .tree(let box): box.tree.contains(member)
        }
    }

    /// Adds `member`; returns whether it was not there.
    @discardableResult
    public mutating func insert(_ member: Bytes) -> Bool {
        switch storage {
        case .tree(var box):
            storage = .compact([])  // our reference goes, so the box (if ours alone) is changed in place
            TreeBox.unique(&box)
            defer { storage = .tree(box) }
            return box.tree.insert(member).inserted
        case .compact(var members):
            if members.contains(member) { return false }
            storage = .compact([])
            if members.count < SetValue.compactLimit {
                members.append(member)
                storage = .compact(members)
            } else {
                var tree = TreeSet(members)
                tree.insert(member)
                storage = .tree(TreeBox(tree))
            }
            return true
        }
    }

    /// Removes `member`; returns whether it was there.
    @discardableResult
    public mutating func remove(_ member: Bytes) -> Bool {
        switch storage {
        case .tree(var box):
            storage = .compact([])
            TreeBox.unique(&box)
            defer { storage = .tree(box) }
            return box.tree.remove(member) != nil
        case .compact(var members):
            guard let index = members.firstIndex(of: member) else { return false }
            storage = .compact([])
            // Order within a set means nothing: the last member fills the hole.
            members.swapAt(index, members.count - 1)
            members.removeLast()
            storage = .compact(members)
            return true
        }
    }

    /// The members as a persistent tree (the tree itself, or one built from the flat form): what set algebra and
    /// scans work on.
    /// - Complexity: O(1) for a tree, O(n) flat.
    public var tree: TreeSet<Bytes> {
        switch storage {
        case .compact(let members): TreeSet(members)
        case .tree(let box): box.tree
        }
    }

    /// Whether every member is a decimal integer that fits the intset (what Redis 7.0 would encode as intset
    /// while the set is small).
    /// - Complexity: O(n) for a set within `setMaxIntsetEntries`, O(1) above it.
    public func isIntset(limits: EncodingLimits) -> Bool {
        count <= limits.setMaxIntsetEntries && allSatisfy { $0.integerValue != nil }
    }
}

extension SetValue: Sequence {
    /// The members in the set's order: insertion order when flat, hash order as a tree.
    public struct Iterator: IteratorProtocol {
        private var compact: ContiguousArray<Bytes>.Iterator?
        private var tree: TreeSet<Bytes>.Iterator?

        init(_ storage: Storage) {
            switch storage {
            case .compact(let members): compact = members.makeIterator()
            case .tree(let box): tree = box.tree.makeIterator()
            }
        }

        public mutating func next() -> Bytes? {
            if compact != nil { return compact!.next() }
            return tree!.next()
        }
    }

    public func makeIterator() -> Iterator { Iterator(storage) }
    public var underestimatedCount: Int { count }
}
