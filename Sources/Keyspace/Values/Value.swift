/// A key's value. Every payload is a small struct whose storage is shared on copy, so a snapshot of a database
/// (a copy of its maps) is O(1) and the first write after it copies O(log n) nodes or one chunk, never a whole
/// large value.
public enum Value: Sendable {
    case string(Bytes)
    case list(ListValue)
    case set(SetValue)
    case sortedSet(SortedSetValue)
    case hash(HashValue)
    case stream(StreamValue)

    /// What TYPE replies.
    public var typeName: String {
        switch self {
        case .string: "string"
        case .list: "list"
        case .set: "set"
        case .sortedSet: "zset"
        case .hash: "hash"
        case .stream: "stream"
        }
    }

    /// The number of elements (1 for a string, entries for a stream).
    public var count: Int {
        switch self {
        case .string: 1
        case .list(let list): list.count
        case .set(let set): set.count
        case .sortedSet(let zset): zset.count
        case .hash(let hash): hash.count
        case .stream(let stream): stream.count
        }
    }

    /// An empty collection is never stored: Redis deletes a key whose last element goes.
    /// Streams are the exception (an empty stream is a valid key).
    public var isEmptyCollection: Bool {
        switch self {
        case .string, .stream: false
        case .list(let list): list.count == 0
        case .set(let set): set.count == 0
        case .sortedSet(let zset): zset.count == 0
        case .hash(let hash): hash.count == 0
        }
    }
}

/// The thresholds Redis 7.0 uses to choose compact encodings (its `*-max-listpack-*` / `set-max-intset-entries`
/// defaults). They only matter for OBJECT ENCODING and for the RDB writer's choices, never for semantics.
public struct EncodingLimits: Sendable {
    public var hashMaxListpackEntries = 512  // Redis 7.0's built-in default (redis.conf ships 128)
    public var hashMaxListpackValue = 64
    public var zsetMaxListpackEntries = 128
    public var zsetMaxListpackValue = 64
    public var setMaxIntsetEntries = 512
    public var listMaxListpackSize = -2
    public init() {}
}
