import HashTreeCollections

/// A hash: a persistent hash tree from field to value, so a snapshot shares it and a write copies O(log n) nodes.
public struct HashValue: Sendable {
    public var fields: TreeDictionary<Bytes, Bytes>

    public init() { fields = [:] }
    public init(_ fields: TreeDictionary<Bytes, Bytes>) { self.fields = fields }

    /// Number of fields.
    public var count: Int { fields.count }

    /// Whether Redis 7.0 would keep this hash as a listpack (few fields, all fields and values short).
    /// - Complexity: O(min(n, limit))
    public func isListpack(limits: EncodingLimits) -> Bool {
        fields.count <= limits.hashMaxListpackEntries
            && fields.allSatisfy {
                $0.key.count <= limits.hashMaxListpackValue && $0.value.count <= limits.hashMaxListpackValue
            }
    }

    /// The field and value at position `offset` (`0..<count`) of the tree's order (HRANDFIELD).
    /// - Complexity: O(log n)
    public func entry(at offset: Int) -> (field: Bytes, value: Bytes) {
        let element = fields[fields.index(fields.startIndex, offsetBy: offset)]
        return (element.key, element.value)
    }
}
