import Foundation
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

// MARK: - Connections held open while misbehaving, and the big pipeline

/// Connections that stay open without behaving: silent ones, ones stalled inside a request, ones stalled inside a
/// huge bulk (the server holds what arrived), ones that send a pipeline and do not read the replies, and ones that
/// shut down their write side after a PING.
struct HalfOpenClients {
    static let silentCount = 100
    static let stalledCount = 40
    static let bigBulkCount = 4
    static let bigBulkBytes = 24 * 1_048_576
    static let halfClosedCount = 20
    static let unreadCount = 10
    static let unreadCommands = 4000
    static let echoed = [UInt8](repeating: UInt8(ascii: "e"), count: 1000)

    private var held: [RESPClient] = []
    private var halfClosed: [RESPClient] = []
    private var unread: [Handoff<RESPClient>] = []
    private let senders = DispatchGroup()

    /// The connections the server should still count (all but the half-closed ones, which it closes).
    var openCount: Int { held.count + unread.count }

    init(port: Int, record: HostileRecord) throws {
        for _ in 0..<Self.silentCount { held.append(try RESPClient(port: port)) }
        for index in 0..<Self.stalledCount {
            let client = try RESPClient(port: port)
            let request = index % 2 == 0 ? "*3\r\n$3\r\nSET\r\n$10000000\r\nabc" : "PING\r\nSET fz:stalled"
            try client.sendRaw(Array(request.utf8))
            record.sent(connections: 1, frames: 1, bytes: request.utf8.count)
            held.append(client)
        }
        for index in 0..<Self.bigBulkCount {
            let client = try RESPClient(port: port)
            var request = Array("*2\r\n$4\r\nECHO\r\n$200000000\r\n".utf8)
            request += [UInt8](repeating: UInt8(ascii: "0") + UInt8(index), count: Self.bigBulkBytes)
            try client.sendRaw(request)
            record.sent(connections: 1, frames: 1, bytes: request.count)
            held.append(client)
        }
        for _ in 0..<Self.halfClosedCount {
            let client = try RESPClient(port: port)
            client.setTimeouts(receive: 30)
            try client.sendRaw(Array("PING\r\n".utf8))
            client.shutdownWrite()
            record.sent(connections: 1, frames: 1, bytes: 6)
            halfClosed.append(client)
        }
        let pipeline = (0..<Self.unreadCommands).flatMap { _ in RESPClient.encode([Array("ECHO".utf8), Self.echoed]) }
        for _ in 0..<Self.unreadCount {
            let client = Handoff(try RESPClient(port: port))
            client.value.setTimeouts(receive: 60, send: 120)
            // Sends until the server stops reading (its replies are not read), then blocks until they are.
            spawn(senders) {
                do { try client.value.sendRaw(pipeline) } catch { record.fail("unread pipeline: send: \(error)") }
            }
            record.sent(connections: 1, frames: Self.unreadCommands, bytes: pipeline.count)
            unread.append(client)
        }
    }

    /// Each half-closed client got its PONG, then the server closed the connection.
    func checkHalfClosed() throws {
        for client in halfClosed {
            let reply = try client.readReply()
            if reply != .status("PONG") { throw HostileFailure(description: "half-closed client: \(reply)") }
            if !client.isClosedByPeer(timeout: 30) {
                throw HostileFailure(description: "half-closed client still open")
            }
        }
    }

    /// The clients that did not read their replies read them now: every ECHO answered, in order.
    func checkUnreadPipelines() throws {
        let expected = RESPReply.bulk(Self.echoed)
        for client in unread {
            for index in 0..<Self.unreadCommands {
                let reply = try client.value.readReply()
                if reply != expected { throw HostileFailure(description: "unread pipeline reply \(index): \(reply)") }
            }
        }
        senders.wait()
    }

    mutating func close() {
        held.removeAll()
        halfClosed.removeAll()
        unread.removeAll()
    }
}

/// `commands` small requests sent in one stream by one thread while this one reads the replies slowly (after a
/// second's pause, 2 ms between reads), checking every byte: INCR, SET, GET and an inline PING in turn.
enum BigPipeline {
    static let block = 10_000

    static func run(port: Int, commands: Int, round: Int, record: HostileRecord) {
        let counter = "hostile:counter:\(round)"
        do {
            let client = Handoff(try RESPClient(port: port))
            client.value.setTimeouts(receive: 60, send: 60)
            let sender = DispatchGroup()
            spawn(sender) {
                var start = 0
                while start < commands {
                    let end = min(commands, start + block)
                    let bytes = requests(start..<end, counter: counter)
                    do {
                        try client.value.sendRaw(bytes)
                    } catch {
                        record.fail("pipeline round \(round): send at command \(start): \(error)")
                        return
                    }
                    record.sent(frames: end - start, bytes: bytes.count)
                    start = end
                }
            }
            record.sent(connections: 1)
            defer { sender.wait() }
            usleep(1_000_000)
            var expected: [UInt8] = []
            var position = 0
            var produced = 0
            var checked = 0
            while produced < commands || position < expected.count {
                let chunk = try client.value.readSome()
                var offset = chunk.startIndex
                while offset < chunk.endIndex {
                    if position == expected.count {
                        guard produced < commands else {
                            throw HostileFailure(description: "more replies than commands")
                        }
                        let end = min(commands, produced + block)
                        expected = replies(produced..<end)
                        position = 0
                        produced = end
                    }
                    let count = min(chunk.endIndex - offset, expected.count - position)
                    guard chunk[offset..<(offset + count)].elementsEqual(expected[position..<(position + count)]) else {
                        let got = String(decoding: chunk[offset..<min(chunk.endIndex, offset + 40)], as: UTF8.self)
                        let wanted = String(
                            decoding: expected[position..<min(expected.count, position + 40)], as: UTF8.self)
                        throw HostileFailure(
                            description:
                                "reply byte \(checked): \(got.debugDescription), expected \(wanted.debugDescription)")
                    }
                    offset += count
                    position += count
                    checked += count
                }
                usleep(2_000)
            }
        } catch {
            record.fail("pipeline round \(round): \(error)")
        }
    }

    /// Command `i`: INCR counter, SET hostile:p:<i mod 1000> <i>, GET the key the SET before wrote, PING.
    static func requests(_ range: Range<Int>, counter: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(range.count * 40)
        for i in range {
            switch i % 4 {
            case 0: out += RESPClient.encode([Array("INCR".utf8), Array(counter.utf8)])
            case 1:
                out += RESPClient.encode([
                    Array("SET".utf8), Array("hostile:p:\(i % 1000)".utf8), Array(String(i).utf8),
                ])
            case 2: out += RESPClient.encode([Array("GET".utf8), Array("hostile:p:\((i - 1) % 1000)".utf8)])
            default: out += Array("PING\r\n".utf8)
            }
        }
        return out
    }

    static func replies(_ range: Range<Int>) -> [UInt8] {
        var out = ""
        for i in range {
            switch i % 4 {
            case 0: out += ":\(i / 4 + 1)\r\n"
            case 1: out += "+OK\r\n"
            case 2:
                let value = String(i - 1)
                out += "$\(value.utf8.count)\r\n\(value)\r\n"
            default: out += "+PONG\r\n"
            }
        }
        return Array(out.utf8)
    }
}
