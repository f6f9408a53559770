import Foundation
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

// MARK: - Hostile input: random bytes, mutated frames, bad lengths, huge inline lines (issue #7 point 4)
//
// Every payload comes from a SplitMix64 seeded per connection (the run's seed + the connection's number), so a
// payload that upsets the server can be rebuilt from the printed seed. Commands only touch `fz:*` keys in
// database 0 and never name SELECT, MOVE, SWAPDB, FLUSH*, SHUTDOWN, DEBUG or CONFIG, and a byte mutation of them
// cannot reach those names in practice: the probe's database stays the probe's.

/// What a hostile payload is made of (the summary counts connections per kind).
enum HostileKind: String, CaseIterable, Sendable {
    case randomBytes = "random"
    case respJunk = "resp-junk"
    case mutatedFrames = "mutated"
    case badLengths = "bad-lengths"
    case hugeInline = "huge-inline"
    case unbalancedQuotes = "quotes"
}

/// One connection's worth of hostile input.
struct HostilePayload {
    var kind: HostileKind
    var bytes: [UInt8]
    /// Request frames in it (valid or mutated); a blob of junk counts as one.
    var frames: Int
}

/// Builds hostile payloads from a seeded generator.
struct HostileInput {
    var generator: SplitMix64

    init(seed: UInt64) { generator = SplitMix64(seed: seed) }

    /// Lengths that must be refused, or that declare far more than will ever arrive.
    static let weirdLengths = [
        "200000000", "2147483648", "2147483647", "-1", "-2", "-2147483649", "abc", "", "1e3", "+5", " 5", "0x10",
        "00", "-0", "9223372036854775807", "9223372036854775808", "99999999999999999999", "600000000", "1048577",
    ]

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &generator) }
    mutating func byte() -> UInt8 { UInt8.random(in: 0...255, using: &generator) }
    mutating func chance(_ percent: Int) -> Bool { int(0...99) < percent }
    mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in byte() } }
    mutating func pick<T>(_ items: [T]) -> T { items[int(0...items.count - 1)] }

    mutating func next() -> HostilePayload {
        switch pick(HostileKind.allCases) {
        case .randomBytes:
            return HostilePayload(
                kind: .randomBytes, bytes: bytes(chance(10) ? int(64_000...300_000) : int(1...4096)), frames: 1)
        case .respJunk:
            // Mostly protocol characters, so the parser gets past the first byte.
            let alphabet = Array("*$\r\n\r\n0123456789-+: abcSETGET\"'\\x".utf8) + [0, 0xff]
            return HostilePayload(kind: .respJunk, bytes: (0..<int(1...8192)).map { _ in pick(alphabet) }, frames: 1)
        case .mutatedFrames:
            var (bytes, frames) = validFrames(count: int(1...40))
            for _ in 0..<int(1...4) { mutate(&bytes) }
            return HostilePayload(kind: .mutatedFrames, bytes: bytes, frames: frames)
        case .badLengths:
            var (bytes, frames) = validFrames(count: int(0...5))
            let length = pick(Self.weirdLengths)
            let header = pick(["*\(length)\r\n", "*2\r\n$3\r\nGET\r\n$\(length)\r\n", "*1\r\n$\(length)\r\n"])
            bytes += Array(header.utf8)
            if chance(50) { bytes += self.bytes(int(0...20_000)) }
            return HostilePayload(kind: .badLengths, bytes: bytes, frames: frames + 1)
        case .hugeInline:
            var line =
                Array("SET fz:\(int(0...99)) ".utf8)
                + [UInt8](repeating: UInt8(ascii: "a"), count: int(60_000...200_000))
            if chance(50) { line += Array("\r\n".utf8) }
            return HostilePayload(kind: .hugeInline, bytes: line, frames: 1)
        case .unbalancedQuotes:
            let line = pick([
                "SET fz:1 \"abc", "SET fz:1 'abc", "ECHO \"a\"b", "ECHO 'a'b", "\"", "ECHO \"\\x4", "SET \"k v",
            ])
            let (bytes, frames) = validFrames(count: int(0...3))
            return HostilePayload(
                kind: .unbalancedQuotes, bytes: bytes + Array((line + "\r\n").utf8), frames: frames + 1)
        }
    }

    /// `count` valid requests on `fz:*` keys, multibulk or (for text arguments) inline.
    mutating func validFrames(count: Int) -> (bytes: [UInt8], frames: Int) {
        var out: [UInt8] = []
        for _ in 0..<count {
            let key = Array("fz:\(int(0...99))".utf8)
            let value = chance(70) ? Array("v\(int(0...9999))".utf8) : bytes(int(0...300))
            let command: [[UInt8]] =
                switch int(0...11) {
                case 0: [Array("SET".utf8), key, value]
                case 1: [Array("GET".utf8), key]
                case 2: [Array("ECHO".utf8), value]
                case 3: [Array("PING".utf8)]
                case 4: [Array("INCR".utf8), Array("fz:n".utf8)]
                case 5: [Array("RPUSH".utf8), Array("fz:l".utf8), value, value]
                case 6: [Array("HSET".utf8), Array("fz:h".utf8), key, value]
                case 7: [Array("EXISTS".utf8), key, Array("fz:n".utf8)]
                case 8: [Array("STRLEN".utf8), key]
                case 9: [Array("DEL".utf8), key]
                case 10: [Array("APPEND".utf8), key, value]
                default: [Array("LRANGE".utf8), Array("fz:l".utf8), Array("0".utf8), Array("9".utf8)]
                }
            let printable = command.allSatisfy { $0.allSatisfy { $0 > 0x20 && $0 < 0x7f && $0 != 0x22 && $0 != 0x27 } }
            if printable, chance(30) {
                out += command.map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ").utf8 + [13, 10]
            } else {
                out += RESPClient.encode(command)
            }
        }
        return (out, count)
    }

    /// One random damage: a byte changed, bytes inserted or removed, a cut, a length replaced, a slice repeated.
    mutating func mutate(_ bytes: inout [UInt8]) {
        guard !bytes.isEmpty else {
            bytes = self.bytes(int(1...16))
            return
        }
        let at = int(0...bytes.count - 1)
        switch int(0...5) {
        case 0: bytes[at] = byte()
        case 1: bytes.insert(contentsOf: self.bytes(int(1...8)), at: at)
        case 2: bytes.removeSubrange(at..<min(bytes.count, at + int(1...16)))
        case 3: bytes.removeSubrange(at...)
        case 4:
            // A length line: the digits after a `*` or `$` that starts a line.
            let starts = bytes.indices.filter {
                (bytes[$0] == UInt8(ascii: "*") || bytes[$0] == UInt8(ascii: "$")) && ($0 == 0 || bytes[$0 - 1] == 10)
            }
            guard let start = starts.isEmpty ? nil : pick(starts) else { return }
            let end = bytes[start...].firstIndex(of: 13) ?? bytes.count
            bytes.replaceSubrange((start + 1)..<end, with: Array(pick(Self.weirdLengths).utf8))
        default:
            let end = min(bytes.count, at + int(1...64))
            bytes.insert(contentsOf: bytes[at..<end], at: end)
        }
    }
}

// MARK: - What a hostile connection saw

/// How the server answered a hostile payload.
struct HostileOutcome {
    var replies = 0
    /// The reason of the `-ERR Protocol error: <reason>` reply, when there was one.
    var protocolError: String?
    var closedByServer = false
    var reset = false
    /// Set when the reply stream broke the rules (malformed RESP, closed without saying why).
    var violation: String?
}

enum HostileConnection {
    /// Sends `payload` (in one write or in random pieces) and reads replies until the server closes the
    /// connection or is quiet for `idle` seconds.
    static func run(_ payload: HostilePayload, port: Int, input: inout HostileInput, idle: Double = 0.3) throws
        -> HostileOutcome
    {
        let client = try RESPClient(port: port)
        client.setTimeouts(receive: idle, send: 10)
        do {
            if input.chance(30) {
                var offset = 0
                while offset < payload.bytes.count {
                    let end = min(payload.bytes.count, offset + input.int(1...512))
                    try client.sendRaw(Array(payload.bytes[offset..<end]))
                    offset = end
                }
            } else {
                try client.sendRaw(payload.bytes)
            }
        } catch {
            // The server may close while we send (after a protocol error): read what it said.
        }
        var outcome = HostileOutcome()
        var last: RESPReply?
        let deadline = Date().addingTimeInterval(10)
        reading: while Date() < deadline {
            do {
                last = try client.readReply()
                outcome.replies += 1
            } catch let error as RESPClient.ClientError {
                switch error.reason {
                case .closed: outcome.closedByServer = true
                case .reset: outcome.reset = true
                case .timedOut: break
                case .failed: outcome.violation = "malformed reply stream: \(error)"
                }
                break reading
            }
        }
        if case .error(let message)? = last, message.hasPrefix("ERR Protocol error: ") {
            outcome.protocolError = String(message.dropFirst("ERR Protocol error: ".count))
        }
        // A clean close must follow the protocol error reply (a reset may lose it).
        if outcome.closedByServer, outcome.protocolError == nil, outcome.violation == nil {
            outcome.violation = "closed without a protocol error (last reply: \(last.map(\.description) ?? "none"))"
        }
        return outcome
    }
}
