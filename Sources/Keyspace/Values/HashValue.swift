import HashTreeCollections

/// A hash. Small hashes are a flat array of fields and values (Redis's listpack counterpart): one allocation,
/// built by appending, searched by a scan. A hash that grows past ``compactLimit`` fields becomes a persistent
/// hash tree, so a snapshot shares it and a write copies O(log n) nodes; it stays a tree if it shrinks again.
///
/// A compact hash copied by a snapshot is copied whole on the first write after it: at most ``compactLimit``
/// fields, the small-value case the fork emulation allows.
public struct HashValue: Sendable {
    /// The most fields a hash keeps in its flat form (the `hash-max-listpack-entries` redis.conf sets).
    public static let compactLimit = 128

    @usableFromInline enum Storage: Sendable {
        /// Field, value, field, value…: distinct fields, in insertion order.
        case compact(ContiguousArray<Bytes>)
        case tree(TreeBox<TreeDictionary<Bytes, Bytes>>)
    }

    @usableFromInline var storage: Storage

    public init() { storage = .compact([]) }

    /// A hash of `fields` (flat when small, else the tree itself, shared).
    public init(_ fields: TreeDictionary<Bytes, Bytes>) {
        guard fields.count <= HashValue.compactLimit else {
            storage = .tree(TreeBox(fields))
            return
        }
        var pairs = ContiguousArray<Bytes>()
        pairs.reserveCapacity(2 * fields.count)
        for (field, value) in fields {
            pairs.append(field)
            pairs.append(value)
        }
        storage = .compact(pairs)
    }

    /// A hash of `pairs` (field, value, field, value…), whose fields must be distinct.
    init(distinctPairs pairs: ContiguousArray<Bytes>) {
        guard pairs.count / 2 > HashValue.compactLimit else {
            storage = .compact(pairs)
            return
        }
        storage = .tree(TreeBox(HashValue.tree(of: pairs)))
    }

    /// The tree of `pairs` (field, value, field, value…); a repeated field keeps its last value.
    static func tree(of pairs: ContiguousArray<Bytes>) -> TreeDictionary<Bytes, Bytes> {
        var tree = TreeDictionary<Bytes, Bytes>()
        var index = 0
        while index < pairs.count {
            tree[pairs[index]] = pairs[index + 1]
            index += 2
        }
        return tree
    }

    /// Number of fields.
    /// - Complexity: O(1)
    public var count: Int {
        switch storage {
        case .compact(let pairs): pairs.count / 2
        case .tree(let box): box.tree.count
        }
    }

    public var isEmpty: Bool { count == 0 }

    /// Whether the hash is in its flat form.
    public var isCompact: Bool {
        if case .compact = storage { return true }
        return false
    }

    /// The position of `field` in a flat hash's pairs.
    private static func position(of field: Bytes, in pairs: ContiguousArray<Bytes>) -> Int? {
        var index = 0
        while index < pairs.count {
            if pairs[index] == field { return index }
            index += 2
        }
        return nil
    }

    /// The value of `field`, nil when absent (HGET).
    /// - Complexity: O(n) flat (n ≤ ``compactLimit``), O(log n) as a tree.
    public subscript(field: Bytes) -> Bytes? {
        switch storage {
        case .compact(let pairs): HashValue.position(of: field, in: pairs).map { pairs[$0 + 1] }
        case .tree(let box): box.tree[field]
        }
    }

    /// Sets `field` to `value`; returns the value it replaced, nil for a new field.
    @discardableResult
    public mutating func updateValue(_ value: Bytes, forField field: Bytes) -> Bytes? {
        switch storage {
        case .tree(var box):
            storage = .compact([])  // our reference goes, so the box (if ours alone) is changed in place
            TreeBox.unique(&box)
            defer { storage = .tree(box) }
            return box.tree.updateValue(value, forKey: field)
        case .compact(var pairs):
            let position = HashValue.position(of: field, in: pairs)
            storage = .compact([])
            if let position {
                defer { storage = .compact(pairs) }
                let old = pairs[position + 1]
                pairs[position + 1] = value
                return old
            }
            if pairs.count / 2 < HashValue.compactLimit {
                pairs.append(field)
                pairs.append(value)
                storage = .compact(pairs)
            } else {
                var tree = HashValue.tree(of: pairs)
                tree[field] = value
                storage = .tree(TreeBox(tree))
            }
            return nil
        }
    }

    /// Removes `field`; returns its value, nil when it was absent.
    @discardableResult
    public mutating func removeValue(forField field: Bytes) -> Bytes? {
        switch storage {
        case .tree(var box):
            storage = .compact([])
            TreeBox.unique(&box)
            defer { storage = .tree(box) }
            return box.tree.removeValue(forKey: field)
        case .compact(var pairs):
            guard let position = HashValue.position(of: field, in: pairs) else { return nil }
            storage = .compact([])
            let old = pairs[position + 1]
            // Order within a hash means nothing: the last pair fills the hole.
            let last = pairs.count - 2
            if position != last {
                pairs.swapAt(position, last)
                pairs.swapAt(position + 1, last + 1)
            }
            pairs.removeLast(2)
            storage = .compact(pairs)
            return old
        }
    }

    /// The fields as a persistent tree (the tree itself, or one built from the flat form): what scans of a large
    /// hash page over.
    /// - Complexity: O(1) for a tree, O(n) flat.
    public var tree: TreeDictionary<Bytes, Bytes> {
        switch storage {
        case .compact(let pairs): HashValue.tree(of: pairs)
        case .tree(let box): box.tree
        }
    }

    /// Whether Redis 7.0 would keep this hash as a listpack (few fields, all fields and values short).
    /// - Complexity: O(min(n, limit))
    public func isListpack(limits: EncodingLimits) -> Bool {
        count <= limits.hashMaxListpackEntries
            && allSatisfy {
                $0.key.count <= limits.hashMaxListpackValue && $0.value.count <= limits.hashMaxListpackValue
            }
    }

    /// The field and value at position `offset` (`0..<count`) of the hash's order (HRANDFIELD).
    /// - Complexity: O(1) flat, O(log n) as a tree.
    public func entry(at offset: Int) -> (field: Bytes, value: Bytes) {
        switch storage {
        case .compact(let pairs):
            return (pairs[2 * offset], pairs[2 * offset + 1])
        case .tree(let box):
            let fields = box.tree
            let element = fields[fields.index(fields.startIndex, offsetBy: offset)]
            return (element.key, element.value)
        }
    }
}

extension HashValue: Sequence {
    /// The fields and their values in the hash's order: insertion order when flat, hash order as a tree.
    public struct Iterator: IteratorProtocol {
        private var pairs: ContiguousArray<Bytes> = []
        private var index = 0
        private var tree: TreeDictionary<Bytes, Bytes>.Iterator?

        init(_ storage: Storage) {
            switch storage {
            case .compact(let pairs): self.pairs = pairs
            case .tree(let box): tree = box.tree.makeIterator()
            }
        }

        public mutating func next() -> (key: Bytes, value: Bytes)? {
            if tree != nil { return tree!.next() }
            guard index < pairs.count else { return nil }
            defer { index += 2 }
            return (pairs[index], pairs[index + 1])
        }
    }

    public func makeIterator() -> Iterator { Iterator(storage) }
    public var underestimatedCount: Int { count }

    /// The fields, in the hash's order (HKEYS).
    public var fields: [Bytes] { map(\.key) }
    /// The values, in the hash's order (HVALS).
    public var values: [Bytes] { map(\.value) }
}
