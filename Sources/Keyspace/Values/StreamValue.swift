import Formats

/// A stream.
///
/// PLACEHOLDER storage (the RDB model): to be replaced by the stream family.
public struct StreamValue: Sendable {
    public var rdb: RDBStream

    public init() { rdb = RDBStream(metadata: RDBStreamMetadata(length: 0, lastID: RDBStreamID(milliseconds: 0, sequence: 0))) }
    public init(rdb: RDBStream) { self.rdb = rdb }

    /// Number of entries.
    public var count: Int { rdb.entries.count }

    /// The stream as the RDB writer takes it.
    public var rdbStream: RDBStream { rdb }
}
