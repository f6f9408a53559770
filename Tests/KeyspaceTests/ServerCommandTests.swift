import HashTreeCollections
import Keyspace
import Testing

@Suite("Server commands")
struct ServerCommandTests {
    static let oracle = RedisOracle.make(port: 7844)

    @Test("COMMAND, TIME, DEBUG match Redis 7.0 where the replies do not depend on the table's contents")
    func differential() throws {
        guard let oracle = Self.oracle else { return }
        try oracle.compare([
            (["COMMAND", "COUNT"], .shape), (["COMMAND", "COUNT", "x"], .exact), (["COMMAND", "NOSUCH"], .exact),
            (["COMMAND", "INFO", "nosuch"], .exact), (["COMMAND", "INFO", "ping", "nosuch"], .shape),
            (["COMMAND", "DOCS", "nosuch"], .exact), (["COMMAND", "GETKEYS"], .exact), (["COMMAND", "GETKEYS", "ping"], .exact),
            (["COMMAND", "GETKEYS", "nosuch", "a"], .exact), (["COMMAND", "GETKEYS", "watch", "a", "b"], .exact),
            (["COMMAND", "GETKEYS", "echo", "a"], .exact), (["COMMAND", "LIST", "FILTERBY", "pattern", "ech?"], .exact), (["COMMAND", "GETKEYS", "get"], .exact),
            (["COMMAND", "LIST", "FILTERBY", "bogus", "x"], .exact), (["COMMAND", "LIST", "FILTERBY", "module", "x"], .exact),
            (["TIME"], .shape), (["TIME", "x"], .exact),
            (["DEBUG"], .exact), (["DEBUG", "NOSUCH"], .exact), (["DEBUG", "SLEEP"], .exact),
            (["DEBUG", "SLEEP", "0"], .exact), (["DEBUG", "SLEEP", "x"], .exact), (["DEBUG", "SLEEP", "0.01"], .exact),
            (["DEBUG", "DIGEST"], .exact), (["DEBUG", "DIGEST", "x"], .exact), (["DEBUG", "DIGEST-VALUE"], .exact),
            (["DEBUG", "DIGEST-VALUE", "missing", "other"], .exact),
        ])
    }

    @Test("COMMAND INFO has Redis 7.0's ten fields and key positions; GETKEYS uses them")
    func commandInfo() {
        let keyspace = Keyspace()
        let session = Session()
        guard case .array(let infos) = keyspace.execute(["COMMAND", "INFO", "watch", "nosuch"], session: session),
            case .array(let watch) = infos[0]
        else {
            Issue.record("COMMAND INFO is not an array of arrays")
            return
        }
        #expect(infos[1] == .null)
        #expect(watch.count == 10)
        #expect(watch[0] == .bulk("watch"))
        #expect(watch[1] == .integer(-2))
        #expect(watch[3] == .integer(1) && watch[4] == .integer(-1) && watch[5] == .integer(1))
        #expect(keyspace.execute(["COMMAND", "GETKEYS", "WATCH", "a", "b"], session: session) == .bulks(["a", "b"] as [Bytes]))
        #expect(keyspace.execute(["COMMAND", "COUNT"], session: session) == .count(keyspace.commands.count))
        guard case .array(let all) = keyspace.execute(["COMMAND"], session: session) else {
            Issue.record("COMMAND is not an array")
            return
        }
        #expect(all.count == keyspace.commands.count)
        guard case .array(let docs) = keyspace.execute(["COMMAND", "DOCS", "client"], session: session) else {
            Issue.record("COMMAND DOCS is not an array")
            return
        }
        #expect(docs.first == .bulk("client"))
        guard case .array(let names) = keyspace.execute(["COMMAND", "LIST"], session: session) else {
            Issue.record("COMMAND LIST is not an array")
            return
        }
        #expect(names.contains(.bulk("client|setname")))
    }

    @Test("DEBUG DIGEST and DIGEST-VALUE follow the dataset; TIME is the wall clock")
    func digestAndTime() {
        let keyspace = Keyspace()
        let session = Session()
        #expect(keyspace.execute(["DEBUG", "DIGEST"], session: session) == .status(String(repeating: "0", count: 40)))
        keyspace.set(db: 0, key: "k", value: .string("v"))
        guard case .status(let digest) = keyspace.execute(["DEBUG", "DIGEST"], session: session) else {
            Issue.record("DEBUG DIGEST is not a status")
            return
        }
        #expect(digest.count == 40 && digest != String(repeating: "0", count: 40))
        guard case .array(let values) = keyspace.execute(["DEBUG", "DIGEST-VALUE", "k", "none"], session: session) else {
            Issue.record("DEBUG DIGEST-VALUE is not an array")
            return
        }
        #expect(values.count == 2 && values[1] == .status(String(repeating: "0", count: 40)))
        guard case .array(let time) = keyspace.execute(["TIME"], session: session), case .bulk(let seconds) = time[0] else {
            Issue.record("TIME is not an array of bulks")
            return
        }
        let now = Keyspace.unixMilliseconds() / 1000
        #expect(abs((seconds.integerValue ?? 0) - now) <= 2)
    }

    @Test("Server commands change no data: nothing propagated, snapshot unchanged")
    func noPropagation() {
        let keyspace = Keyspace()
        keyspace.set(db: 0, key: "k", value: .string("v"))
        let snapshot = keyspace.snapshot()
        keyspace.propagationEnabled = true
        let dirty = keyspace.dirty
        let session = Session()
        for command: [Bytes] in [["COMMAND", "COUNT"], ["TIME"], ["DEBUG", "SLEEP", "0"], ["DEBUG", "DIGEST"], ["COMMAND", "INFO", "get"]] {
            _ = keyspace.execute(command, session: session)
        }
        #expect(keyspace.takePropagated().isEmpty)
        #expect(keyspace.dirty == dirty)
        #expect(snapshot[0].entries["k"] != nil && snapshot[0].count == 1)
    }
}
