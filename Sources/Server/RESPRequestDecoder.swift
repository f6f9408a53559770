import Formats
import Keyspace
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Client requests: RESP2 multibulk and inline commands, as Redis's networking.c reads them
//
//   *<argc>\r\n ( $<len>\r\n <len bytes>\r\n ) × argc       multibulk; argc ≤ 0 is an empty request (skipped)
//   PING\r\n   SET k "a b"\r\n                              inline: one line, split like sdssplitargs
//
// Why not Formats' RESPCommandDecoder (the AOF decoder): it is a pull decoder over a ByteSource whose failure is
// final and whose messages are redis-check-aof's, and it has no inline commands. A connection needs a decoder that
// stops between reads and resumes without re-reading (a 512 MB argument arriving in 64 KB reads must cost linear
// time), and Redis's network error texts. The two are checked against each other in the tests.
//
// Redis's quirks are kept: a header line ends at the first CR (the next byte is skipped unchecked), the two bytes
// after a bulk are skipped unchecked, lengths are strict `string2ll`, and unauthenticated clients get tighter limits.

/// Why a request was refused; the server replies `-ERR Protocol error: <reason>` and closes the connection.
struct ProtocolError: Error, Equatable, CustomStringConvertible {
    var reason: String
    var description: String { "Protocol error: \(reason)" }
}

/// Resumable request parser. Feed it the accumulated input; it consumes whole requests and remembers a partially
/// read multibulk (count and arguments so far, and the length of the bulk it waits for).
struct RESPRequestDecoder {
    /// `proto-max-bulk-len`.
    var maxBulkBytes: Int = 512 * 1024 * 1024
    /// The longest inline request, and the longest count line (Redis `PROTO_INLINE_MAX_SIZE`).
    var maxInlineBytes: Int = 64 * 1024
    /// Redis's multibulk count limit (`INT_MAX` in 7.0; 1024 × 1024 here as for the AOF).
    var maxArgumentCount: Int = 1024 * 1024

    /// Arguments still expected in the current multibulk (0 when between requests).
    private var remaining = 0
    private var arguments: [Bytes] = []
    /// The length of the bulk whose header was read and whose data has not all arrived; -1 when none.
    private var pendingBulk = -1

    /// Whether a request is partly read.
    var isInsideRequest: Bool { remaining > 0 }

    /// The next complete request in `buffer` (consuming it), or nil when more input is needed. An empty request
    /// (`*0`, a blank inline line) is consumed and skipped.
    ///
    /// - Parameter authenticated: false applies Redis's limits for clients that must still AUTH (at most 10
    ///   arguments and 16 KiB bulks).
    /// - Throws: ``ProtocolError``; the connection must then be closed (the buffer's state is undefined).
    mutating func next(_ buffer: inout ByteBuffer, authenticated: Bool = true) throws(ProtocolError) -> [Bytes]? {
        var request: [Bytes] = []
        return try next(&buffer, into: &request, authenticated: authenticated) ? request : nil
    }

    /// ``next(_:authenticated:)`` into an array the caller keeps from one request to the next, so that a request
    /// allocates no array of its own (its storage is reused when nothing else holds it). `request` is emptied and
    /// holds the arguments when this returns true; it is left empty otherwise.
    mutating func next(_ buffer: inout ByteBuffer, into request: inout [Bytes], authenticated: Bool = true)
        throws(ProtocolError) -> Bool
    {
        request.removeAll(keepingCapacity: true)
        while true {
            if remaining == 0 {
                guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return false }
                if first == UInt8(ascii: "*") {
                    if authenticated, nextWhole(&buffer, into: &request) { return true }
                    guard let count = try readCountLine(&buffer, bulk: false) else { return false }
                    guard count <= Int64(Int32.max), count <= maxArgumentCount else {
                        throw ProtocolError(reason: "invalid multibulk length")
                    }
                    if count > 10, !authenticated { throw ProtocolError(reason: "unauthenticated multibulk length") }
                    if count <= 0 { continue }
                    remaining = Int(count)
                    arguments.removeAll(keepingCapacity: true)
                    arguments.reserveCapacity(min(remaining, 1024))
                } else {
                    guard let inline = try readInline(&buffer) else { return false }
                    if inline.isEmpty { continue }
                    request = inline
                    return true
                }
            }
            while remaining > 0 {
                if pendingBulk < 0 {
                    guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return false }
                    guard first == UInt8(ascii: "$") else {
                        throw ProtocolError(reason: "expected '$', got '\(Character(Unicode.Scalar(first)))'")
                    }
                    guard let length = try readCountLine(&buffer, bulk: true) else { return false }
                    guard length >= 0, length <= maxBulkBytes else { throw ProtocolError(reason: "invalid bulk length") }
                    if length > 16384, !authenticated { throw ProtocolError(reason: "unauthenticated bulk length") }
                    pendingBulk = Int(length)
                }
                guard buffer.readableBytes >= pendingBulk + 2 else { return false }
                let argument = buffer.withUnsafeReadableBytes { raw in
                    Bytes(UnsafeRawBufferPointer(rebasing: raw[0..<pendingBulk]))
                }
                buffer.moveReaderIndex(forwardBy: pendingBulk + 2)
                pendingBulk = -1
                arguments.append(argument)
                remaining -= 1
            }
            swap(&request, &arguments)  // `arguments` takes the caller's emptied array, for the next request
            return true
        }
    }

    /// The fast path of ``next(_:into:authenticated:)``: a multibulk that has wholly arrived, read in one pass over
    /// the buffer's bytes into `request`. False, consuming nothing and leaving `request` empty, for anything else
    /// (not all there, an empty count or more than 1024 arguments, a malformed or over-long header, a bulk over the
    /// limit): the resumable path then reads it, with its errors.
    private func nextWhole(_ buffer: inout ByteBuffer, into request: inout [Bytes]) -> Bool {
        let maxBulkBytes = maxBulkBytes
        let length: Int? = buffer.withUnsafeReadableBytes { raw in
            guard let base = raw.baseAddress else { return nil }
            let end = raw.count
            // The number after the type byte at `start`, up to the first CR; the byte after the CR is skipped
            // unchecked. Sets `start` past the line.
            func header(_ start: inout Int) -> Int64? {
                guard let found = memchr(base + start, 13, end - start) else { return nil }
                let cr = UnsafeRawPointer(found) - base
                guard cr + 1 < end else { return nil }
                let value = CanonicalInteger.parse(raw: UnsafeRawBufferPointer(rebasing: raw[(start + 1)..<cr]))
                start = cr + 2
                return value
            }
            var offset = 0
            guard let count = header(&offset), count > 0, count <= 1024, count <= maxArgumentCount else { return nil }
            request.reserveCapacity(Int(count))
            for _ in 0..<count {
                guard offset < end, raw[offset] == UInt8(ascii: "$"), let length = header(&offset), length >= 0,
                    length <= maxBulkBytes, Int(length) + 2 <= end - offset
                else {
                    request.removeAll(keepingCapacity: true)
                    return nil
                }
                request.append(Bytes(UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + Int(length))])))
                offset += Int(length) + 2
            }
            return offset
        }
        guard let length else { return false }
        buffer.moveReaderIndex(forwardBy: length)
        return true
    }

    /// Reads `*<n>\r` or `$<n>\r` and the byte after it; nil when the line is not complete yet.
    private func readCountLine(_ buffer: inout ByteBuffer, bulk: Bool) throws(ProtocolError) -> Int64? {
        let scanned: (value: Int64?, lineLength: Int)? = buffer.withUnsafeReadableBytes { raw in
            guard let base = raw.baseAddress, let found = memchr(base, 13, raw.count) else { return nil }
            let cr = UnsafeRawPointer(found) - base
            // The byte after CR must have arrived (it is skipped unchecked, as Redis skips it).
            guard cr + 1 < raw.count else { return nil }
            return (CanonicalInteger.parse(raw: UnsafeRawBufferPointer(rebasing: raw[1..<cr])), cr + 2)
        }
        guard let scanned else {
            if buffer.readableBytes > maxInlineBytes {
                throw ProtocolError(reason: bulk ? "too big bulk count string" : "too big mbulk count string")
            }
            return nil
        }
        guard let value = scanned.value else {
            throw ProtocolError(reason: bulk ? "invalid bulk length" : "invalid multibulk length")
        }
        buffer.moveReaderIndex(forwardBy: scanned.lineLength)
        return value
    }

    /// One inline request: the line up to LF (a CR before it dropped), split like sdssplitargs.
    private func readInline(_ buffer: inout ByteBuffer) throws(ProtocolError) -> [Bytes]? {
        let newline: Int? = buffer.withUnsafeReadableBytes { raw in
            guard let base = raw.baseAddress, let found = memchr(base, 10, raw.count) else { return nil }
            return UnsafeRawPointer(found) - base
        }
        guard let length = newline else {
            if buffer.readableBytes > maxInlineBytes { throw ProtocolError(reason: "too big inline request") }
            return nil
        }
        // Redis checks only while the newline is missing, so whether a longer line passes depends on how it was
        // split into reads; here the limit holds however it arrives.
        guard length <= maxInlineBytes else { throw ProtocolError(reason: "too big inline request") }
        var line = buffer.readSlice(length: length + 1)!
        line.moveWriterIndex(to: line.writerIndex - 1)
        if line.readableBytesView.last == 13 { line.moveWriterIndex(to: line.writerIndex - 1) }
        guard let words = InlineSplitter.split(line.readableBytesView) else {
            throw ProtocolError(reason: "unbalanced quotes in request")
        }
        return words
    }
}

/// sdssplitargs over bytes: words separated by spaces, `"…"` with C escapes and `\xHH`, `'…'` with `\'`.
enum InlineSplitter {
    static func split<C: Collection>(_ line: C) -> [Bytes]? where C.Element == UInt8, C.Index == Int {
        var words: [Bytes] = []
        var index = line.startIndex
        let end = line.endIndex
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (byte >= 0x09 && byte <= 0x0d) }
        func hexValue(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        while true {
            while index < end, isSpace(line[index]) { index += 1 }
            guard index < end else { return words }
            var word: [UInt8] = []
            var quote: UInt8 = 0
            while true {
                if quote == UInt8(ascii: "\"") {
                    guard index < end else { return nil }
                    let byte = line[index]
                    if byte == UInt8(ascii: "\\"), index + 3 < end, line[index + 1] == UInt8(ascii: "x"),
                        let high = hexValue(line[index + 2]), let low = hexValue(line[index + 3])
                    {
                        word.append(high &* 16 &+ low)
                        index += 4
                    } else if byte == UInt8(ascii: "\\"), index + 1 < end {
                        let escaped = line[index + 1]
                        switch escaped {
                        case UInt8(ascii: "n"): word.append(10)
                        case UInt8(ascii: "r"): word.append(13)
                        case UInt8(ascii: "t"): word.append(9)
                        case UInt8(ascii: "b"): word.append(8)
                        case UInt8(ascii: "a"): word.append(7)
                        default: word.append(escaped)
                        }
                        index += 2
                    } else if byte == UInt8(ascii: "\"") {
                        index += 1
                        if index < end, !isSpace(line[index]) { return nil }
                        break
                    } else {
                        word.append(byte)
                        index += 1
                    }
                } else if quote == UInt8(ascii: "'") {
                    guard index < end else { return nil }
                    let byte = line[index]
                    if byte == UInt8(ascii: "\\"), index + 1 < end, line[index + 1] == UInt8(ascii: "'") {
                        word.append(UInt8(ascii: "'"))
                        index += 2
                    } else if byte == UInt8(ascii: "'") {
                        index += 1
                        if index < end, !isSpace(line[index]) { return nil }
                        break
                    } else {
                        word.append(byte)
                        index += 1
                    }
                } else {
                    guard index < end else { break }
                    let byte = line[index]
                    if isSpace(byte) { break }
                    if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                        quote = byte
                    } else {
                        word.append(byte)
                    }
                    index += 1
                }
            }
            words.append(Bytes(word))
        }
    }
}

/// The decoder as a NIO `ByteToMessageDecoder` (one `[Bytes]` per request), for pipelines that want requests as
/// messages and for `ByteToMessageDecoderVerifier`. The server's handler calls ``RESPRequestDecoder`` directly.
struct RESPRequestFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = [Bytes]

    var decoder = RESPRequestDecoder()

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let request = try decoder.next(&buffer) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(request))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
        -> DecodingState
    {
        try decode(context: context, buffer: &buffer)
    }
}
