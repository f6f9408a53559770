import HashTreeCollections

/// A hash: a persistent hash tree from field to value.
public struct HashValue: Sendable {
    public var fields: TreeDictionary<Bytes, Bytes>

    public init() { fields = [:] }
    public init(_ fields: TreeDictionary<Bytes, Bytes>) { self.fields = fields }

    public var count: Int { fields.count }

    /// Whether Redis 7.0 would keep this hash as a listpack.
    public func isListpack(limits: EncodingLimits) -> Bool {
        fields.count <= limits.hashMaxListpackEntries
            && fields.allSatisfy { $0.key.count <= limits.hashMaxListpackValue && $0.value.count <= limits.hashMaxListpackValue }
    }
}
