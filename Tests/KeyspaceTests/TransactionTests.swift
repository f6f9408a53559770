import Keyspace
import Testing

@Suite("Transactions")
struct TransactionTests {
    @Test("Queueing errors abort EXEC; nested MULTI and EXEC without MULTI are errors")
    func queueing() {
        let keyspace = Keyspace()
        let session = Session()
        #expect(keyspace.execute(["EXEC"], session: session) == .error("ERR EXEC without MULTI"))
        #expect(keyspace.execute(["MULTI"], session: session) == .ok)
        #expect(keyspace.execute(["MULTI"], session: session) == .error("ERR MULTI calls can not be nested"))
        #expect(keyspace.execute(["NOSUCH", "a"], session: session) == .error("ERR unknown command 'NOSUCH', with args beginning with: 'a' "))
        #expect(keyspace.execute(["EXEC"], session: session) == .error("EXECABORT Transaction discarded because of previous errors."))
        #expect(keyspace.execute(["DISCARD"], session: session) == .error("ERR DISCARD without MULTI"))
        #expect(keyspace.execute(["MULTI"], session: session) == .ok)
        #expect(keyspace.execute(["WATCH", "k"], session: session) == .error("ERR WATCH inside MULTI is not allowed"))
        #expect(keyspace.execute(["EXEC"], session: session) == .array([]))
    }

    @Test("A change to a watched key by another session makes EXEC return a null array")
    func watch() {
        let keyspace = Keyspace()
        let watcher = Session()
        let other = Session()
        #expect(keyspace.execute(["WATCH", "k"], session: watcher) == .ok)
        keyspace.set(db: 0, key: "k", value: .string("x"))  // as another client's SET would
        _ = other
        #expect(keyspace.execute(["MULTI"], session: watcher) == .ok)
        #expect(keyspace.execute(["EXEC"], session: watcher) == .nullArray)
        // After EXEC the watch is gone: a new transaction runs.
        #expect(keyspace.execute(["MULTI"], session: watcher) == .ok)
        #expect(keyspace.execute(["EXEC"], session: watcher) == .array([]))
        // A change in another database does not count.
        #expect(keyspace.execute(["WATCH", "k"], session: watcher) == .ok)
        keyspace.set(db: 1, key: "k", value: .string("y"))
        #expect(keyspace.execute(["MULTI"], session: watcher) == .ok)
        #expect(keyspace.execute(["EXEC"], session: watcher) == .array([]))
    }
}
