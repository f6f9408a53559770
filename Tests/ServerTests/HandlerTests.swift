import Foundation
import Keyspace
import NIOCore
import NIOEmbedded
import NIOPosix
import Testing

@testable import Server

/// The connection handler on an `EmbeddedChannel`, with a server that listens nowhere.
final class EmbeddedConnection {
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let server: ServerCore
    let channel: EmbeddedChannel

    init(config: ServerConfig = ServerConfig(), server: ServerCore? = nil) throws {
        self.server = server ?? ServerCore(config: config, loop: EmbeddedConnection.group.next())
        channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(RESPServerHandler(server: self.server))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 6379)).wait()
    }

    /// Sends `text` as one read (then read-complete) and returns every buffer written in response.
    func send(_ text: String) throws -> [String] {
        try send(Array(text.utf8))
    }

    func send(_ bytes: [UInt8]) throws -> [String] {
        try channel.writeInbound(ByteBuffer(bytes: bytes))
        channel.pipeline.fireChannelReadComplete()
        var writes: [String] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) {
            writes.append(String(buffer: buffer))
        }
        return writes
    }
}

@Suite("Connection handler")
struct HandlerTests {
    @Test("A pipeline read in one batch is answered with one write")
    func pipelined() throws {
        let connection = try EmbeddedConnection()
        let writes = try connection.send("*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nPING\r\n*2\r\n$6\r\nSELECT\r\n$2\r\n99\r\n")
        #expect(writes == ["+PONG\r\n$2\r\nhi\r\n+PONG\r\n-ERR DB index is out of range\r\n"])
        #expect(try connection.channel.finish().isClean)
    }

    final class ClockReads: @unchecked Sendable {
        var count = 0
    }

    @Test("A read batch reads the clock once; DEBUG SLEEP moves the time on for the commands after it")
    func batchClock() throws {
        let connection = try EmbeddedConnection()
        let reads = ClockReads()
        let keyspace = connection.server.keyspace
        keyspace.clock = {
            reads.count += 1
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
        }
        let before = reads.count
        #expect(try connection.send("SET a 1 PX 100000\r\nINCR b\r\nGET a\r\nPTTL a\r\nEXISTS a b\r\n") == [
            "+OK\r\n:1\r\n$1\r\n1\r\n:100000\r\n:2\r\n"
        ])
        #expect(reads.count - before == 1)
        // The key expires during the sleep: GET, in the same batch, must not see it.
        #expect(try connection.send("SET k v PX 20\r\nDEBUG SLEEP 0.06\r\nGET k\r\nEXISTS k\r\n") == [
            "+OK\r\n+OK\r\n$-1\r\n:0\r\n"
        ])
        #expect(try connection.channel.finish().isClean)
    }

    @Test("rename-command: the command answers to its new name only; an empty name removes it")
    func renamedCommands() throws {
        var config = ServerConfig()
        config.renamedCommands = [("get", "fetch"), ("flushall", "")]
        let connection = try EmbeddedConnection(config: config)
        #expect(try connection.send("SET k v\r\nFETCH k\r\nfetch k\r\n") == ["+OK\r\n$1\r\nv\r\n$1\r\nv\r\n"])
        #expect(try connection.send("GET k\r\nFLUSHALL\r\n") == [
            "-ERR unknown command 'GET', with args beginning with: 'k' \r\n"
                + "-ERR unknown command 'FLUSHALL', with args beginning with: \r\n"
        ])
        #expect(try connection.channel.finish().isClean)
    }

    @Test("The output buffer is reused between batches (the replies stay intact while NIO holds the last one) and a big reply's buffer is not kept")
    func outputBufferReuse() throws {
        let connection = try EmbeddedConnection()
        // Two batches whose writes are both still queued in the channel when the second is encoded.
        try connection.channel.writeInbound(ByteBuffer(string: "*2\r\n$4\r\nECHO\r\n$5\r\nfirst\r\n"))
        connection.channel.pipeline.fireChannelReadComplete()
        try connection.channel.writeInbound(ByteBuffer(string: "*2\r\n$4\r\nECHO\r\n$6\r\nsecond\r\n"))
        connection.channel.pipeline.fireChannelReadComplete()
        let first = try #require(try connection.channel.readOutbound(as: ByteBuffer.self))
        let second = try #require(try connection.channel.readOutbound(as: ByteBuffer.self))
        #expect(String(buffer: first) == "$5\r\nfirst\r\n")
        #expect(String(buffer: second) == "$6\r\nsecond\r\n")
        // A 200 KB reply: the connection does not keep a buffer that size afterwards (CLIENT LIST tot-mem).
        let big = String(repeating: "x", count: 200_000)
        let reply = try connection.send("*2\r\n$4\r\nECHO\r\n$\(big.utf8.count)\r\n\(big)\r\n").joined()
        #expect(reply == "$200000\r\n" + big + "\r\n")
        let handler = try #require(connection.server.clients.values.first)
        #expect(handler.connectionFields.totalMemory < 64 * 1024)
        #expect(try connection.send("PING\r\n") == ["+PONG\r\n"])
    }

    @Test("A request split over many reads is answered once it is complete")
    func split() throws {
        let connection = try EmbeddedConnection()
        let request = Array("*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n".utf8)
        var replies: [String] = []
        for byte in request { replies += try connection.send([byte]) }
        #expect(replies == ["$5\r\nhello\r\n"])
        #expect(try connection.send("ECHO \"a b\"\r\n") == ["$3\r\na b\r\n"])
        #expect(try connection.channel.finish().isClean)
    }

    @Test("Malformed input: the replies before it, then -ERR Protocol error, then the connection closes")
    func malformed() throws {
        let connection = try EmbeddedConnection()
        let writes = try connection.send("PING\r\n*1\r\n+PING\r\n*1\r\n$4\r\nPING\r\n")
        #expect(writes == ["+PONG\r\n-ERR Protocol error: expected '$', got '+'\r\n"])
        #expect(!connection.channel.isActive)
        #expect(connection.server.clients.isEmpty)
    }

    @Test("Bulk lengths over proto-max-bulk-len and bad counts are protocol errors")
    func limits() throws {
        var config = ServerConfig()
        try config.load("proto-max-bulk-len 1mb")
        let connection = try EmbeddedConnection(config: config)
        #expect(try connection.send("*1\r\n$1048577\r\n") == ["-ERR Protocol error: invalid bulk length\r\n"])
        #expect(!connection.channel.isActive)
        let other = try EmbeddedConnection()
        #expect(try other.send("*x\r\n") == ["-ERR Protocol error: invalid multibulk length\r\n"])
        let unterminated = try EmbeddedConnection()
        #expect(try unterminated.send("SET k \"v\r\n") == ["-ERR Protocol error: unbalanced quotes in request\r\n"])
    }

    @Test("QUIT replies OK then closes; unknown commands keep the connection")
    func quit() throws {
        let connection = try EmbeddedConnection()
        #expect(try connection.send("NOSUCH a\r\n") == ["-ERR unknown command 'NOSUCH', with args beginning with: 'a' \r\n"])
        #expect(connection.channel.isActive)
        #expect(try connection.send("QUIT\r\nPING\r\n") == ["+OK\r\n"])
        #expect(!connection.channel.isActive)
    }

    @Test("maxclients: the connection over the limit gets the error and is closed")
    func maxClients() throws {
        var config = ServerConfig()
        try config.load("maxclients 1")
        let first = try EmbeddedConnection(config: config)
        let second = try EmbeddedConnection(server: first.server)
        let written = try second.channel.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) }
        #expect(written == "-ERR max number of clients reached\r\n")
        #expect(!second.channel.isActive)
        #expect(try first.send("PING\r\n") == ["+PONG\r\n"])
        #expect(first.server.stats.rejectedConnections == 1)
    }

    @Test("requirepass: unauthenticated clients get NOAUTH and the tighter multibulk limit")
    func authentication() throws {
        var config = ServerConfig()
        try config.load("requirepass secret")
        let connection = try EmbeddedConnection(config: config)
        #expect(try connection.send("PING\r\n") == ["-NOAUTH Authentication required.\r\n"])
        #expect(try connection.send("AUTH secret\r\nPING\r\n") == ["+OK\r\n+PONG\r\n"])
        let other = try EmbeddedConnection(server: connection.server)
        #expect(try other.send("*20\r\n") == ["-ERR Protocol error: unauthenticated multibulk length\r\n"])
    }

    @Test("CLIENT LIST sees every connection; CLIENT KILL closes another; INFO counts them")
    func clients() throws {
        let first = try EmbeddedConnection()
        let second = try EmbeddedConnection(server: first.server)
        _ = try second.send("CLIENT SETNAME second\r\n")
        let list = try first.send("CLIENT LIST\r\n").joined()
        #expect(list.contains("name=second"))
        #expect(list.components(separatedBy: "id=").count == 3)
        let info = try first.send("INFO clients\r\n").joined()
        #expect(info.contains("connected_clients:2"))
        let id = second.server.clients.values.first { $0.session.name == "second" }!.session.id
        #expect(try first.send("CLIENT KILL ID \(id)\r\n") == [":1\r\n"])
        #expect(!second.channel.isActive)
        #expect(first.server.clients.count == 1)
    }

    @Test("INFO, CONFIG GET/SET/RESETSTAT, LASTSAVE through the server's table")
    func serverCommands() throws {
        let connection = try EmbeddedConnection()
        let info = try connection.send("INFO\r\n").joined()
        for section in ["# Server", "# Clients", "# Memory", "# Persistence", "# Stats", "# Keyspace", "redis_version:7.0.15", "tcp_port:6379"] {
            #expect(info.contains(section))
        }
        #expect(try connection.send("CONFIG GET maxclients\r\n") == ["*2\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n"])
        #expect(try connection.send("CONFIG SET maxclients 5 hz 20\r\n") == ["+OK\r\n"])
        #expect(connection.server.config.maxClients == 5 && connection.server.config.hz == 20)
        #expect(try connection.send("CONFIG SET maxclients x\r\n")
            == ["-ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't be parsed into an integer\r\n"])
        #expect(try connection.send("CONFIG SET nosuch 1\r\n") == ["-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n"])
        #expect(try connection.send("CONFIG SET daemonize yes\r\n")
            == ["-ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config\r\n"])
        #expect(try connection.send("CONFIG SET dir /tmp\r\n")
            == ["-ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config\r\n"])
        #expect(try connection.send("CONFIG SET maxclients\r\n") == ["-ERR wrong number of arguments for 'config|set' command\r\n"])
        #expect(try connection.send("CONFIG GET nosuch\r\n") == ["*0\r\n"])
        #expect(try connection.send("INFO errorstats\r\n").joined().contains("errorstat_ERR:count="))
        #expect(try connection.send("CONFIG RESETSTAT\r\n") == ["+OK\r\n"])
        #expect(try connection.send("CONFIG SET requirepass pw\r\n") == ["+OK\r\n"])
        #expect(connection.server.keyspace.requirePass == "pw")
        #expect(try connection.send("LASTSAVE\r\n").joined().hasPrefix(":"))
        #expect(try connection.send("INFO commandstats\r\n").joined().contains("cmdstat_config:calls="))
    }

    @Test("Replies are encoded as RESP2: integers, nulls, nested arrays, binary bulks")
    func encoding() {
        var buffer = ByteBuffer()
        buffer.writeReply(.array([.integer(-42), .integer(7), .integer(Int64.min), .null, .nullArray, .array([]), .bulk(Bytes([0, 13, 10]))]))
        buffer.writeReply(.error("ERR multi\r\nline"))
        #expect(String(buffer: buffer)
            == "*7\r\n:-42\r\n:7\r\n:-9223372036854775808\r\n$-1\r\n*-1\r\n*0\r\n$3\r\n\0\r\n\r\n-ERR multi  line\r\n")
    }
}
