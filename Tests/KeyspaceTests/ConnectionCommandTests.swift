import Keyspace
import Testing

@Suite("Connection commands")
struct ConnectionCommandsTests {
    static let oracle = RedisOracle.make(port: 7842)

    @Test("PING, ECHO, SELECT, QUIT, AUTH, HELLO, CLIENT, RESET match Redis 7.0")
    func differential() throws {
        guard let oracle = Self.oracle else { return }
        try oracle.compare([
            (["PING"], .exact), (["ping", "hello world"], .exact), (["PING", "a", "b"], .exact),
            (["PING", "\u{0}\u{1}binary\r\n"], .exact),
            (["ECHO"], .exact), (["ECHO", ""], .exact), (["echo", "x y"], .exact), (["ECHO", "a", "b"], .exact),
            (["SELECT", "15"], .exact), (["SELECT", "16"], .exact), (["SELECT", "-1"], .exact),
            (["SELECT", "x"], .exact), (["SELECT", "01"], .exact), (["SELECT"], .exact), (["SELECT", "1", "2"], .exact),
            (["SELECT", "0"], .exact),
            (["AUTH", "pw"], .exact), (["AUTH", "default", "anything"], .exact), (["AUTH", "bob", "pw"], .exact),
            (["AUTH", "a", "b", "c"], .exact), (["AUTH"], .exact),
            (["HELLO", "2"], .shape), (["HELLO"], .shape), (["HELLO", "1"], .exact),
            (["HELLO", "x"], .exact), (["HELLO", "2", "SETNAME"], .exact), (["HELLO", "2", "foo"], .exact),
            (["HELLO", "2", "AUTH", "default"], .exact), (["HELLO", "2", "AUTH", "bob", "x"], .exact),
            (["HELLO", "2", "SETNAME", "a b"], .exact), (["HELLO", "2", "setname", "named"], .shape),
            (["CLIENT", "GETNAME"], .exact),
            (["CLIENT"], .exact), (["CLIENT", "NOSUCH"], .exact), (["CLIENT", "GETNAME", "x"], .exact),
            (["CLIENT", "SETNAME", "a b"], .exact), (["CLIENT", "SETNAME", "caf\u{e9}"], .exact),
            (["CLIENT", "SETNAME", "conn-1"], .exact), (["client", "getname"], .exact),
            (["CLIENT", "SETNAME", ""], .exact), (["CLIENT", "GETNAME"], .exact), (["CLIENT", "SETNAME"], .exact),
            (["CLIENT", "ID"], .shape), (["CLIENT", "ID", "x"], .exact),
            (["CLIENT", "LIST", "TYPE", "foo"], .exact), (["CLIENT", "LIST", "ID", "x"], .exact),
            (["CLIENT", "LIST", "ID", "999999"], .exact), (["CLIENT", "LIST", "FOO"], .exact),
            (["CLIENT", "KILL"], .exact), (["CLIENT", "KILL", "1.2.3.4:5"], .exact),
            (["CLIENT", "KILL", "ID", "999999"], .exact), (["CLIENT", "KILL", "ID", "0"], .exact),
            (["CLIENT", "KILL", "ADDR", "1.1.1.1:1", "SKIPME", "yes"], .exact), (["CLIENT", "KILL", "ID"], .exact),
            (["CLIENT", "KILL", "TYPE", "bogus"], .exact), (["CLIENT", "NO-EVICT", "maybe"], .exact),
            (["CLIENT", "NO-EVICT", "on"], .exact), (["CLIENT", "NO-EVICT", "off"], .exact),
            (["CLIENT", "HELP", "x"], .exact),
            (["SELECT", "3"], .exact), (["RESET"], .exact), (["RESET", "x"], .exact), (["CLIENT", "GETNAME"], .exact),
            (["QUIT", "x"], .ignore),
        ])
    }

    @Test("SELECT changes the session's database; RESET goes back to 0 and forgets the name and MULTI")
    func selectAndReset() {
        let keyspace = Keyspace()
        let session = Session()
        #expect(keyspace.execute(["SELECT", "5"], session: session) == .ok)
        #expect(session.db == 5)
        #expect(keyspace.execute(["CLIENT", "SETNAME", "worker"], session: session) == .ok)
        #expect(keyspace.execute(["CLIENT", "GETNAME"], session: session) == .bulk("worker"))
        #expect(keyspace.execute(["MULTI"], session: session) == .ok)
        #expect(keyspace.execute(["RESET"], session: session) == .status("RESET"))
        #expect(session.db == 0)
        #expect(!session.inMulti)
        #expect(session.name == nil)
        #expect(keyspace.execute(["CLIENT", "GETNAME"], session: session) == .null)
    }

    @Test("requirepass: NOAUTH before AUTH, WRONGPASS for a bad password, RESET logs out again")
    func authentication() {
        let keyspace = Keyspace()
        keyspace.requirePass = "s3cret"
        let session = Session()
        #expect(keyspace.execute(["ECHO", "x"], session: session) == .error("NOAUTH Authentication required."))
        #expect(keyspace.execute(["PING"], session: session) == .error("NOAUTH Authentication required."))
        #expect(
            keyspace.execute(["HELLO", "2"], session: session).isError
                && keyspace.execute(["HELLO", "2"], session: session)
                    == .error(
                        "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"
                    ))
        #expect(keyspace.execute(["AUTH", "wrong"], session: session) == .error("WRONGPASS invalid username-password pair or user is disabled."))
        #expect(keyspace.execute(["AUTH", "s3cre"], session: session).isError)
        #expect(keyspace.execute(["AUTH", "s3cret"], session: session) == .ok)
        #expect(keyspace.execute(["ECHO", "x"], session: session) == .bulk("x"))
        #expect(keyspace.execute(["RESET"], session: session) == .status("RESET"))
        #expect(keyspace.execute(["ECHO", "x"], session: session) == .error("NOAUTH Authentication required."))
        #expect(keyspace.execute(["AUTH", "default", "s3cret"], session: session) == .ok)
        let other = Session()
        guard case .array(let hello) = keyspace.execute(["HELLO", "2", "AUTH", "default", "s3cret", "SETNAME", "x"], session: other) else {
            Issue.record("HELLO AUTH did not reply with the server's properties")
            return
        }
        #expect(hello.count == 14)
        #expect(other.authenticated)
        #expect(other.name == "x")
    }

    @Test("QUIT asks the server to close after the reply; CLIENT SETINFO stores the library")
    func quitAndSetinfo() {
        let keyspace = Keyspace()
        let session = Session()
        #expect(keyspace.execute(["CLIENT", "SETINFO", "LIB-NAME", "redis-py"], session: session) == .ok)
        #expect(keyspace.execute(["CLIENT", "SETINFO", "lib-ver", "8.1.0"], session: session) == .ok)
        #expect(keyspace.execute(["CLIENT", "SETINFO", "lib-ver", "8 1"], session: session)
            == .error("ERR lib-ver cannot contain spaces, newlines or special characters."))
        #expect(keyspace.execute(["CLIENT", "SETINFO", "other", "x"], session: session) == .error("ERR Unrecognized option 'other'"))
        guard case .bulk(let line) = keyspace.execute(["CLIENT", "INFO"], session: session) else {
            Issue.record("CLIENT INFO is not a bulk string")
            return
        }
        #expect(line.string.contains("lib-name=redis-py lib-ver=8.1.0"))
        #expect(line.string.contains("cmd=client|info"))
        #expect(keyspace.execute(["HELLO", "3"], session: session) == .error("NOPROTO unsupported protocol version"))
        #expect(keyspace.execute(["QUIT"], session: session) == .ok)
        #expect(session.closeAfterReply)
    }

    @Test("Connection commands change no data: nothing is propagated, dirty stays 0, snapshots are untouched")
    func noPropagation() {
        let keyspace = Keyspace()
        keyspace.set(db: 0, key: "k", value: .string("v"))
        keyspace.dirty = 0
        let snapshot = keyspace.snapshot()
        keyspace.propagationEnabled = true
        let session = Session()
        for command: [Bytes] in [["PING"], ["ECHO", "a"], ["SELECT", "2"], ["CLIENT", "SETNAME", "n"], ["HELLO", "2"], ["RESET"], ["AUTH", "default", "x"]] {
            _ = keyspace.execute(command, session: session)
        }
        #expect(keyspace.takePropagated().isEmpty)
        #expect(keyspace.dirty == 0)
        #expect(snapshot[0].count == 1)
        #expect(snapshot[2].count == 0)
    }
}
