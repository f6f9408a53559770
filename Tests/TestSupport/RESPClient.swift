import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A RESP2 reply as a client sees it, for comparing servers.
public indirect enum RESPReply: Equatable, Sendable, CustomStringConvertible {
    case status(String)
    case error(String)
    case integer(Int64)
    case bulk([UInt8])
    case null
    case array([RESPReply])
    case nullArray

    public var description: String {
        switch self {
        case .status(let text): "+\(text)"
        case .error(let text): "-\(text)"
        case .integer(let value): ":\(value)"
        case .bulk(let bytes): "\"\(String(decoding: bytes, as: UTF8.self))\""
        case .null: "(nil)"
        case .nullArray: "(nil array)"
        case .array(let items): "[" + items.map(\.description).joined(separator: ", ") + "]"
        }
    }

    /// The bulk string as text, nil otherwise.
    public var text: String? {
        if case .bulk(let bytes) = self { return String(decoding: bytes, as: UTF8.self) }
        if case .status(let text) = self { return text }
        return nil
    }
}

/// A blocking RESP2 client over a loopback TCP socket: enough to drive a real Redis and our server from tests.
public final class RESPClient {
    private let socket: Int32
    private var buffer: [UInt8] = []
    private var position = 0

    public struct ClientError: Error, CustomStringConvertible {
        public var description: String
        /// What stopped the read or the send, for callers that read until the server closes or goes quiet.
        public var reason: Reason = .failed

        public enum Reason: Sendable {
            /// The server closed the connection (end of stream).
            case closed
            /// The server reset the connection (ECONNRESET, EPIPE): unread replies may be lost.
            case reset
            /// The receive or send timeout expired.
            case timedOut
            /// Anything else, including a malformed reply.
            case failed
        }

        init(description: String, reason: Reason = .failed) {
            self.description = description
            self.reason = reason
        }

        /// The error for a failed `send`/`recv` (errno read here).
        static func system(_ call: String) -> ClientError {
            let code = errno
            let reason: Reason =
                switch code {
                case EAGAIN, EWOULDBLOCK: .timedOut
                case ECONNRESET, EPIPE: .reset
                default: .failed
                }
            return ClientError(description: "\(call) failed: errno \(code)", reason: reason)
        }
    }

    /// Connects to 127.0.0.1:`port`, retrying for up to `timeout` seconds while the server starts.
    public init(port: Int, timeout: Double = 10) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw ClientError(description: "socket(): errno \(errno)") }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            if connected == 0 {
                var timeout = timeval(tv_sec: 30, tv_usec: 0)
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                socket = fd
                return
            }
            close(fd)
            if Date() > deadline { throw ClientError(description: "cannot connect to port \(port)") }
            usleep(50_000)
        }
    }

    deinit { close(socket) }

    /// Sets how long a read and a send may block before throwing a ``ClientError`` with reason `.timedOut`
    /// (30 s for reads and no limit for sends by default).
    public func setTimeouts(receive: Double, send: Double = 0) {
        for (option, seconds) in [(SO_RCVTIMEO, receive), (SO_SNDTIMEO, send)] {
            var value = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - seconds.rounded(.down)) * 1_000_000))
            setsockopt(socket, SOL_SOCKET, option, &value, socklen_t(MemoryLayout<timeval>.size))
        }
    }

    /// Shuts down the write side only (the server reads end of stream; replies can still be read).
    public func shutdownWrite() {
        shutdown(socket, Int32(SHUT_WR))
    }

    /// Encodes a command as a RESP multibulk.
    public static func encode(_ arguments: [[UInt8]]) -> [UInt8] {
        var out = Array("*\(arguments.count)\r\n".utf8)
        for argument in arguments {
            out += Array("$\(argument.count)\r\n".utf8)
            out += argument
            out += [13, 10]
        }
        return out
    }

    /// Sends raw bytes.
    public func sendRaw(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw ClientError.system("send") }
            sent += n
        }
    }

    /// Sends one command and reads its reply.
    @discardableResult
    public func send(_ arguments: [String]) throws -> RESPReply {
        try send(bytes: arguments.map { Array($0.utf8) })
    }

    /// Sends one binary-safe command and reads its reply.
    @discardableResult
    public func send(bytes arguments: [[UInt8]]) throws -> RESPReply {
        try sendRaw(RESPClient.encode(arguments))
        return try readReply()
    }

    /// Sends many commands in one write (a pipeline) and reads all the replies.
    public func pipeline(_ commands: [[String]]) throws -> [RESPReply] {
        var out: [UInt8] = []
        for command in commands { out += RESPClient.encode(command.map { Array($0.utf8) }) }
        try sendRaw(out)
        return try commands.map { _ in try readReply() }
    }

    /// Reads the next reply; throws when the connection closes first.
    public func readReply() throws -> RESPReply {
        let line = try readLine()
        guard let kind = line.first else { throw ClientError(description: "empty reply line") }
        let rest = String(decoding: line.dropFirst(), as: UTF8.self)
        switch kind {
        case UInt8(ascii: "+"): return .status(rest)
        case UInt8(ascii: "-"): return .error(rest)
        case UInt8(ascii: ":"):
            guard let value = Int64(rest) else { throw ClientError(description: "bad integer \(rest)") }
            return .integer(value)
        case UInt8(ascii: "$"):
            guard let length = Int(rest) else { throw ClientError(description: "bad bulk length \(rest)") }
            if length < 0 { return .null }
            let bytes = try readBytes(length + 2)
            return .bulk(Array(bytes.prefix(length)))
        case UInt8(ascii: "*"):
            guard let count = Int(rest) else { throw ClientError(description: "bad array length \(rest)") }
            if count < 0 { return .nullArray }
            return .array(try (0..<count).map { _ in try readReply() })
        default:
            throw ClientError(description: "unexpected reply type \(Character(UnicodeScalar(kind)))")
        }
    }

    /// Whether the server closed the connection (reads until EOF or `timeout`).
    public func isClosedByPeer(timeout: Double = 2) -> Bool {
        var waited = 0.0
        while waited < timeout {
            var byte: UInt8 = 0
            let n = recv(socket, &byte, 1, Int32(MSG_DONTWAIT))
            if n == 0 { return true }
            if n < 0 && errno != EAGAIN && errno != EWOULDBLOCK { return true }
            usleep(20_000)
            waited += 0.02
        }
        return false
    }

    private func fill() throws {
        if position > 0 && position == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            position = 0
        }
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        let n = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
        if n == 0 { throw ClientError(description: "connection closed", reason: .closed) }
        guard n > 0 else { throw ClientError.system("recv") }
        buffer += chunk[0..<n]
    }

    /// The bytes already received and not yet read as replies, or else the next bytes to arrive (at most 64 KiB);
    /// throws at end of stream. For readers that check a reply stream themselves.
    public func readSome() throws -> ArraySlice<UInt8> {
        if position == buffer.count { try fill() }
        defer { position = buffer.count }
        return buffer[position...]
    }

    private func readLine() throws -> [UInt8] {
        while true {
            if let end = buffer[position...].firstIndex(of: 10), end > position, buffer[end - 1] == 13 {
                let line = Array(buffer[position..<(end - 1)])
                position = end + 1
                return line
            }
            try fill()
        }
    }

    private func readBytes(_ count: Int) throws -> [UInt8] {
        while buffer.count - position < count { try fill() }
        defer { position += count }
        return Array(buffer[position..<(position + count)])
    }
}
