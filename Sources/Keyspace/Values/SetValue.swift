import HashTreeCollections

/// A set. Small sets are flat: distinct integers in ascending order while every member is one (Redis's intset:
/// eight bytes a member, found by bisection, loaded from an RDB intset as the array the reader decoded), otherwise
/// an array of members (Redis's listpack counterpart: one allocation, built by appending, searched by a scan). A
/// set that grows past ``compactLimit`` becomes a persistent hash tree, so a snapshot shares it and a write copies
/// O(log n) nodes; it stays a tree if it shrinks again (as Redis never converts back either).
///
/// A flat set copied by a snapshot is copied whole on the first write after it: at most ``compactLimit``
/// members, the small-value case the fork emulation allows.
public struct SetValue: Sendable {
    /// The most members a set keeps in its flat forms (Redis 7.0's `set-max-intset-entries` default).
    public static let compactLimit = 512

    @usableFromInline enum Storage: Sendable {
        /// Distinct canonical integers, ascending; never empty (an empty set is `compact`).
        case integers([Int64])
        /// Distinct members, in insertion order.
        case compact(ContiguousArray<Bytes>)
        case tree(TreeBox<TreeSet<Bytes>>)
    }

    @usableFromInline var storage: Storage

    /// An empty set.
    public init() { storage = .compact([]) }

    private init(storage: Storage) { self.storage = storage }

    /// A set of `members` (flat when small, else the tree itself, shared).
    public init(_ members: TreeSet<Bytes>) {
        if members.count <= SetValue.compactLimit {
            self.init(distinct: ContiguousArray(members))
        } else {
            self.init(storage: .tree(TreeBox(members)))
        }
    }

    /// A set of `members`, which must be distinct: integers when every one is, as Redis makes an intset of them.
    init(distinct members: ContiguousArray<Bytes>) {
        guard members.count <= SetValue.compactLimit else {
            storage = .tree(TreeBox(TreeSet(members)))
            return
        }
        storage = SetValue.integers(of: members).map { .integers($0.sorted()) } ?? .compact(members)
    }

    /// A set of `integers`, which must be distinct and ascending (an intset's members).
    public init(ascendingIntegers integers: [Int64]) {
        if integers.isEmpty {
            storage = .compact([])
        } else if integers.count <= SetValue.compactLimit {
            storage = .integers(integers)
        } else {
            storage = .tree(TreeBox(TreeSet(integers.lazy.map { Bytes(integer: $0) })))
        }
    }

    /// The values of `members` when every one is a canonical integer (stops at the first that is not).
    private static func integers(of members: ContiguousArray<Bytes>) -> [Int64]? {
        guard !members.isEmpty else { return nil }
        var values: [Int64] = []
        values.reserveCapacity(members.count)
        for member in members {
            guard let value = member.integerValue else { return nil }
            values.append(value)
        }
        return values
    }

    /// Where `value` is, or would go, in ascending `values`, and whether it is there.
    @inline(__always)
    private static func position(of value: Int64, in values: [Int64]) -> (index: Int, found: Bool) {
        let index = StreamSearch.lowerBound(values.count) { values[$0] < value }
        return (index, index < values.count && values[index] == value)
    }

    /// Number of members (SCARD).
    /// - Complexity: O(1)
    public var count: Int {
        switch storage {
        case .integers(let values): values.count
        case .compact(let members): members.count
        case .tree(let box): box.tree.count
        }
    }

    public var isEmpty: Bool { count == 0 }

    /// Whether the set is in a flat form (integers or members).
    public var isCompact: Bool {
        if case .tree = storage { return false }
        return true
    }

    /// Whether `member` is in the set (SISMEMBER).
    /// - Complexity: O(log n) as integers or a tree, O(n) as flat members (n ≤ ``compactLimit``).
    public func contains(_ member: Bytes) -> Bool {
        switch storage {
        case .integers(let values):
            guard let value = member.integerValue else { return false }
            return SetValue.position(of: value, in: values).found
        case .compact(let members): return members.contains(member)
        case .tree(let box): return box.tree.contains(member)
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
        case .integers(var values):
            if let value = member.integerValue {
                let (index, found) = SetValue.position(of: value, in: values)
                if found { return false }
                storage = .compact([])
                if values.count < SetValue.compactLimit {
                    values.insert(value, at: index)
                    storage = .integers(values)
                } else {
                    var tree = TreeSet(values.lazy.map { Bytes(integer: $0) })
                    tree.insert(member)
                    storage = .tree(TreeBox(tree))
                }
                return true
            }
            // The first member that is not an integer: the members become strings, in the same order.
            var members = ContiguousArray(values.lazy.map { Bytes(integer: $0) })
            members.append(member)
            storage = members.count <= SetValue.compactLimit ? .compact(members) : .tree(TreeBox(TreeSet(members)))
            return true
        case .compact(var members):
            if members.isEmpty, let value = member.integerValue {
                // An empty set takes the form its first member calls for, as Redis's setTypeCreate does.
                storage = .integers([value])
                return true
            }
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
        case .integers(var values):
            guard let value = member.integerValue else { return false }
            let (index, found) = SetValue.position(of: value, in: values)
            guard found else { return false }
            storage = .compact([])
            values.remove(at: index)
            if !values.isEmpty { storage = .integers(values) }
            return true
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
        case .integers(let values): TreeSet(values.lazy.map { Bytes(integer: $0) })
        case .compact(let members): TreeSet(members)
        case .tree(let box): box.tree
        }
    }

    /// Whether Redis 7.0 would hold the set as an intset: in the integer form within `setMaxIntsetEntries`
    /// (flat members are a set that once held a member that is not an integer, which Redis never converts back),
    /// or a tree of integers only within a `setMaxIntsetEntries` raised past ``compactLimit``.
    /// - Complexity: O(1), except O(n) for a tree within `setMaxIntsetEntries`.
    public func isIntset(limits: EncodingLimits) -> Bool {
        guard count <= limits.setMaxIntsetEntries else { return false }
        switch storage {
        case .integers: return true
        case .compact: return false
        case .tree: return allSatisfy { $0.integerValue != nil }
        }
    }

    /// The members when they are all integers in the flat form, ascending (what an intset holds).
    /// - Complexity: O(1)
    public var ascendingIntegers: [Int64]? {
        if case .integers(let values) = storage { return values }
        return nil
    }
}

extension SetValue: Sequence {
    /// The members in the set's order: ascending as integers (as an intset's), insertion order as flat members,
    /// hash order as a tree.
    public struct Iterator: IteratorProtocol {
        private var integers: IndexingIterator<[Int64]>?
        private var compact: ContiguousArray<Bytes>.Iterator?
        private var tree: TreeSet<Bytes>.Iterator?

        init(_ storage: Storage) {
            switch storage {
            case .integers(let values): integers = values.makeIterator()
            case .compact(let members): compact = members.makeIterator()
            case .tree(let box): tree = box.tree.makeIterator()
            }
        }

        public mutating func next() -> Bytes? {
            if compact != nil { return compact!.next() }
            if integers != nil { return integers!.next().map { Bytes(integer: $0) } }
            return tree!.next()
        }
    }

    public func makeIterator() -> Iterator { Iterator(storage) }
    public var underestimatedCount: Int { count }
}
