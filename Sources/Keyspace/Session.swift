/// One client's state: selected database, name, authentication, transaction and WATCHes.
///
/// Owned by the thread that owns the ``Keyspace``. The server keeps one per connection; AOF replay uses one.
public final class Session: @unchecked Sendable {
    /// Unique, increasing (CLIENT ID).
    public let id: Int64
    /// The selected database (SELECT).
    public var db = 0
    /// CLIENT SETNAME.
    public var name: Bytes?
    /// CLIENT SETINFO LIB-NAME / LIB-VER.
    public var libraryName: Bytes?
    public var libraryVersion: Bytes?
    /// True once AUTH succeeded, or from the start when no password is set.
    public var authenticated = false
    /// RESP protocol version (HELLO); only 2 is spoken.
    public var protocolVersion = 2
    /// Set by QUIT: the server closes the connection after sending the reply.
    public var closeAfterReply = false
    /// Unix milliseconds when the session was created (CLIENT LIST `age`).
    public let createdAt: Int64
    /// The last command's name (CLIENT LIST `cmd`) and when it ran (`idle`).
    public var lastCommand = "NULL"
    public var lastInteraction: Int64
    /// Peer and local addresses, `ip:port` (filled by the server for CLIENT LIST).
    public var peerAddress = ""
    public var localAddress = ""

    // MARK: Transactions
    /// Between MULTI and EXEC/DISCARD.
    public internal(set) var inMulti = false
    /// Commands queued by MULTI.
    var queued: [(spec: CommandSpec, argv: [Bytes])] = []
    /// A queued command was refused (unknown, wrong arity…): EXEC will abort (`EXECABORT`).
    var multiFailed = false
    /// WATCHed keys, with whether each was already logically expired when watched.
    var watched: [(key: WatchedKey, expiredWhenWatched: Bool)] = []
    /// A watched key was modified: EXEC will fail with a null reply.
    var watchTainted = false

    nonisolated(unsafe) private static var nextID: Int64 = 0

    public init(id: Int64? = nil, now: Int64 = Keyspace.unixMilliseconds()) {
        if let id {
            self.id = id
        } else {
            Session.nextID += 1
            self.id = Session.nextID
        }
        createdAt = now
        lastInteraction = now
    }

    /// Number of queued commands (CLIENT LIST `multi`, -1 outside MULTI).
    public var queuedCount: Int { inMulti ? queued.count : -1 }
    /// Number of watched keys (CLIENT LIST `watch`).
    public var watchCount: Int { watched.count }
}

/// A key in a database, as WATCH tracks it.
struct WatchedKey: Hashable {
    var db: Int
    var key: Bytes
}
