import HashTreeCollections

/// One numbered database: keys to values, and keys to absolute expiry times (Unix milliseconds), as Redis keeps
/// `dict` and `expires`.
///
/// Both maps are persistent hash trees: copying a `Database` is O(1) and is how a snapshot is taken.
public struct Database: Sendable {
    public var entries: TreeDictionary<Bytes, Value>
    public var expires: TreeDictionary<Bytes, Int64>

    public init() {
        entries = [:]
        expires = [:]
    }

    /// Number of keys (expired ones not yet removed included, as DBSIZE counts them).
    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }
}
