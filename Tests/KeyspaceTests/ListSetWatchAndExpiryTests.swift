import Keyspace
import Testing

/// WATCH and lazy expiry as the list and set commands meet them.
@Suite("List and set commands: WATCH and expiry")
struct ListSetWatchAndExpiryTests {
    /// Whether a transaction watching the command's key fails after another client runs the command, as observed on
    /// Redis 7.0.15 (a key is signalled only when it really changed, except LTRIM, which always signals).
    static let watchCases: [(command: [Bytes], aborts: Bool)] = [
        (["LTRIM", "l", "0", "-1"], true), (["LINSERT", "l", "BEFORE", "zz", "x"], false), (["LREM", "l", "0", "zz"], false),
        (["SADD", "s", "a"], false), (["SREM", "s", "zz"], false), (["SMOVE", "s", "s", "a"], false), (["LPOP", "l", "0"], false),
        (["SINTERSTORE", "none", "missing"], false), (["SUNIONSTORE", "none", "missing"], false),
        (["SDIFFSTORE", "none", "missing"], false), (["RPUSHX", "none", "a"], false), (["LSET", "l", "0", "a"], true),
        (["SPOP", "s", "0"], false), (["LMOVE", "l", "l", "LEFT", "LEFT"], true), (["SMOVE", "s", "t", "zz"], false),
        (["LPUSH", "l", "x"], true), (["SADD", "s", "new"], true), (["SMOVE", "s", "t", "a"], true),
        (["SINTERSTORE", "l", "s"], true), (["LMPOP", "1", "l", "RIGHT"], true), (["SPOP", "s"], true),
    ]

    @Test("WATCH fails exactly when Redis 7.0 signals the key", arguments: watchCases)
    func watch(command: [Bytes], aborts: Bool) {
        let keyspace = Keyspace()
        let watcher = Session()
        let other = Session()
        _ = keyspace.execute(["RPUSH", "l", "a", "b"], session: other)
        _ = keyspace.execute(["SADD", "s", "a"], session: other)
        // The first key: after `numkeys` for LMPOP.
        let key = command[0] == "LMPOP" ? command[2] : command[1]
        #expect(keyspace.execute(["WATCH", key], session: watcher) == .ok)
        _ = keyspace.execute(command, session: other)
        #expect(keyspace.execute(["MULTI"], session: watcher) == .ok)
        let reply = keyspace.execute(["EXEC"], session: watcher)
        #expect(reply == (aborts ? .nullArray : .array([])), "\(command.map(\.string))")
    }

    @Test("Expired lists and sets are missing to every command; a STORE or a move onto one starts without a TTL")
    func expiry() {
        let clock = ManualClock(1_000)
        let keyspace = Keyspace(clock: { clock.now })
        let session = Session()
        func run(_ argv: Bytes...) -> Reply { keyspace.execute(argv, session: session) }
        run("RPUSH", "l", "a", "b")
        run("RPUSH", "source", "x")
        run("SADD", "s", "1", "2")
        run("SADD", "t", "2", "3")
        for key: Bytes in ["l", "s"] { keyspace.setExpire(db: 0, key: key, atMilliseconds: 1_500) }
        #expect(run("LLEN", "l") == .integer(2))
        clock.now = 2_000
        #expect(run("LLEN", "l") == .integer(0))
        #expect(run("RPUSHX", "l", "z") == .integer(0))
        #expect(run("SCARD", "s") == .integer(0))
        #expect(run("SINTER", "s", "t") == .emptyArray)
        #expect(run("SMOVE", "s", "t", "1") == .integer(0))

        run("RPUSH", "l", "old")
        keyspace.setExpire(db: 0, key: "l", atMilliseconds: 2_500)
        clock.now = 3_000
        #expect(run("LMOVE", "source", "l", "LEFT", "LEFT") == .bulk("x"))
        #expect(run("LRANGE", "l", "0", "-1") == .bulks(["x"] as [Bytes]))
        #expect(keyspace.expireTime(db: 0, key: "l") == nil)

        run("SADD", "s", "9")
        keyspace.setExpire(db: 0, key: "s", atMilliseconds: 3_500)
        #expect(run("SUNIONSTORE", "s", "t") == .integer(2))
        #expect(keyspace.expireTime(db: 0, key: "s") == nil)
        #expect(run("SCARD", "s") == .integer(2))
    }
}
