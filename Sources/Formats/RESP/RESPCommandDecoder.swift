import NIOCore

// RESP multibulk commands as an AOF stores them (RESP2, Redis 1.x to 7.4; annotations from 7.0):
//
//   *<argc>\r\n                          argc ≥ 1, decimal            (AOF: every command)
//   $<len>\r\n<len bytes>\r\n            × argc, 0 ≤ len ≤ 512 MiB    (proto-max-bulk-len)
//   #<text>\r\n                          annotation (7.0+, `#TS:<unix seconds>`), at most 1024 bytes
//
// Lines are counted as `redis-check-aof` counts them: 1 + every CRLF it consumes inside commands
// (`consumeNewline`), annotation lines not included.

/// Caps applied to counts and lengths read from the input, before anything is allocated.
public struct RESPLimits: Sendable {
    /// Most arguments in one command (Redis's multibulk limit for a client is 1024 × 1024).
    public var maxArgumentCount: Int = 1024 * 1024
    /// Most bytes in one argument (`proto-max-bulk-len`, 512 MiB).
    public var maxBulkBytes: Int = 512 * 1024 * 1024
    /// Most bytes in an annotation line (`AOF_ANNOTATION_LINE_MAX_LEN`).
    public var maxAnnotationBytes: Int = 1024

    public init() {}
}

/// One command: its arguments and where it was found.
public struct RESPCommand: Sendable {
    /// The arguments, the command name first.
    public var arguments: [ByteBuffer]
    /// Absolute offset of the `*`.
    public var offset: Int64
    /// Absolute offset just past the last CRLF.
    public var endOffset: Int64
    /// The line number (redis-check-aof's counter) at the `*`.
    public var line: Int64
    /// Absolute offset of the first argument's bytes (where redis-check-aof reports an unexpected MULTI/EXEC).
    public var firstArgumentOffset: Int64

    /// The command name as text, lower-cased.
    public var name: String {
        arguments.first.map { String(decoding: $0.readableBytesView, as: UTF8.self).lowercased() } ?? ""
    }

    /// True when the command name is `lowercaseName` in any ASCII case; compares bytes without building a
    /// string (the reader asks this of every command).
    public func isNamed(_ lowercaseName: StaticString) -> Bool {
        guard let first = arguments.first, first.readableBytes == lowercaseName.utf8CodeUnitCount else { return false }
        return first.withUnsafeReadableBytes { bytes in
            lowercaseName.withUTF8Buffer { name in
                zip(bytes, name).allSatisfy { byte, expected in
                    (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte) == expected
                }
            }
        }
    }
}

/// An annotation line (`#…`), 7.0+.
public struct RESPAnnotation: Sendable {
    /// The text between `#` and the line end (CR LF removed).
    public var text: String
    /// Absolute offset of the `#`.
    public var offset: Int64

    /// Creates an annotation (the decoder makes them; this is for callers that write them).
    public init(text: String, offset: Int64) {
        self.text = text
        self.offset = offset
    }

    /// The timestamp of a `#TS:<seconds>` annotation; nil for another annotation or a malformed number.
    public var timestamp: Int64? {
        guard text.hasPrefix("TS:") else { return nil }
        return Int64(text.dropFirst(3))
    }
}

/// What the decoder found next.
public enum RESPItem: Sendable {
    /// A multibulk command.
    case command(RESPCommand)
    /// A `#` line.
    case annotation(RESPAnnotation)
}

/// A streaming decoder of AOF records over a ``WindowedReader``.
///
/// Failures are `FormatError`s whose offset is the start of the failing command (or annotation), with
/// `.truncated` when the input ends inside it and `.corrupt` (or `.limitExceeded`) for wrong bytes. The
/// decoder also keeps what `redis-check-aof` prints about a failure: ``lastItemOffset`` (its `epos`,
/// the start of the last line or bulk read) and ``failureMessage`` (nil where Redis prints no message).
public struct RESPCommandDecoder<Source: ByteSource> {
    private var input: WindowedReader<Source>
    /// The limits checked before any allocation.
    public let limits: RESPLimits
    /// 1 + the CRLFs consumed inside commands so far (redis-check-aof's `line`), also after a failure.
    public private(set) var line: Int64
    /// Offset of the last line or bulk started (redis-check-aof's `epos`): after a failure, the one that failed.
    public private(set) var lastItemOffset: Int64 = 0
    /// redis-check-aof's message for the failure; nil when it prints none (end of input at a line start) or
    /// prints its own (a bad first byte: "AOF NAME format error").
    public private(set) var failureMessage: String?
    private var failure: FormatError?

    /// Creates a decoder reading from `input`'s current position; `line` continues a previous file's count.
    public init(input: WindowedReader<Source>, limits: RESPLimits = .init(), line: Int64 = 1) {
        self.input = input
        self.limits = limits
        self.line = line
    }

    /// Creates a decoder over a byte source.
    public init(source: Source, limits: RESPLimits = .init(), chunkSize: Int = 1024 * 1024) {
        self.init(input: WindowedReader(source: source, chunkSize: chunkSize), limits: limits)
    }

    /// The absolute offset of the next byte.
    public var offset: Int64 { input.offset }

    /// The next command or annotation; nil at a clean end of input (between items).
    ///
    /// - Throws: `.truncated` (input ends inside an item), `.corrupt` (bad prefix, number or line end),
    ///   `.limitExceeded` (argument count or bulk length over ``limits``), `.io`; the offset is the start of
    ///   the item. After an error, every call rethrows it.
    public mutating func next() throws(FormatError) -> RESPItem? {
        if let failure { throw failure }
        do {
            return try decode()
        } catch {
            failure = error
            throw error
        }
    }

    /// Reads and discards whatever is left of the input, also after a failure; returns the offset of its end
    /// (the input's size).
    ///
    /// - Throws: `.io`, or the source's own errors (`.truncated`, `.corrupt` for damaged gzip data).
    public mutating func skipToEnd() throws(FormatError) -> Int64 {
        _ = try input.skipToEnd()
        return input.offset
    }

    // MARK: - Decoding

    private mutating func decode() throws(FormatError) -> RESPItem? {
        let start = input.offset
        guard let first = try input.peekByte() else { return nil }
        switch first {
        case UInt8(ascii: "#"):
            return .annotation(try readAnnotation(start: start))
        case UInt8(ascii: "*"):
            return .command(try readCommand(start: start))
        default:
            lastItemOffset = start
            failureMessage = nil
            throw FormatError(
                .corrupt, offset: start, phase: .other("read-command"),
                "format error: expected '*' or '#', got byte 0x\(hex(first))")
        }
    }

    private mutating func readAnnotation(start: Int64) throws(FormatError) -> RESPAnnotation {
        var bytes: [UInt8] = []
        while let byte = try input.peekByte() {
            _ = try input.readByte()
            if byte == UInt8(ascii: "\n") { break }
            bytes.append(byte)
            guard bytes.count <= limits.maxAnnotationBytes else {
                lastItemOffset = start
                failureMessage = "Annotation line longer than \(limits.maxAnnotationBytes) bytes"
                throw FormatError(
                    .limitExceeded, offset: start, phase: .other("read-annotation"),
                    "annotation line longer than \(limits.maxAnnotationBytes) bytes")
            }
        }
        // The loader takes an unterminated last annotation as it is (fgets at the end of the file).
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        return RESPAnnotation(text: String(decoding: bytes.dropFirst(), as: UTF8.self), offset: start)
    }

    private mutating func readCommand(start: Int64) throws(FormatError) -> RESPCommand {
        let startLine = line
        let argumentCount = try readNumber(prefix: UInt8(ascii: "*"), commandStart: start)
        guard argumentCount >= 1, argumentCount <= Int64(limits.maxArgumentCount) else {
            failureMessage = "Expected argument count in the range 1...\(limits.maxArgumentCount), got \(argumentCount)"
            throw FormatError(
                argumentCount < 1 ? .corrupt : .limitExceeded, offset: start, phase: .other("read-command"),
                "argument count \(argumentCount) outside 1...\(limits.maxArgumentCount)")
        }
        // A declared count is trusted for pre-allocation only up to a bound.
        var arguments: [ByteBuffer] = []
        arguments.reserveCapacity(min(Int(argumentCount), 1024))
        var firstArgumentOffset: Int64 = 0
        for _ in 0..<argumentCount {
            let length = try readNumber(prefix: UInt8(ascii: "$"), commandStart: start)
            guard length >= 0, length <= Int64(limits.maxBulkBytes) else {
                failureMessage = "Expected to read string of \(length) bytes, which is not in the suitable range"
                throw FormatError(
                    length < 0 ? .corrupt : .limitExceeded, offset: start, phase: .other("read-bulk"),
                    "bulk length \(length) outside 0...\(limits.maxBulkBytes)")
            }
            let dataOffset = input.offset
            if arguments.isEmpty { firstArgumentOffset = dataOffset }
            lastItemOffset = dataOffset
            let wanted = Int(length) + 2
            guard try input.ensure(wanted) else {
                let got = try input.skipToEnd()
                failureMessage = "Expected to read \(wanted) bytes, got \(got) bytes"
                throw FormatError(
                    .truncated, offset: start, phase: .other("read-bulk"),
                    "input ends inside an argument at \(dataOffset): expected \(wanted) bytes, got \(got)")
            }
            // ensure() made the argument and the two bytes after it readable: look at those in place.
            let (cr, lf) = input.withBufferedBytes { ($0[Int(length)], $0[Int(length) &+ 1]) }
            let argument = try input.readSlice(Int(length))
            input.consumeBuffered(2)
            guard cr == UInt8(ascii: "\r"), lf == UInt8(ascii: "\n") else {
                failureMessage = "Expected \\r\\n, got: \(hex(cr))\(hex(lf))"
                throw FormatError(
                    .corrupt, offset: start, phase: .other("read-bulk"),
                    "bulk at \(dataOffset) not followed by CRLF (got 0x\(hex(cr))\(hex(lf)))")
            }
            line += 1
            arguments.append(argument)
        }
        return RESPCommand(
            arguments: arguments, offset: start, endOffset: input.offset, line: startLine,
            firstArgumentOffset: firstArgumentOffset)
    }

    /// Reads `<prefix><decimal>\r\n` as redis-check-aof's `readLong` does (a 128-byte `fgets`, `strtol`, CRLF).
    private mutating func readNumber(prefix: UInt8, commandStart: Int64) throws(FormatError) -> Int64 {
        let lineStart = input.offset
        lastItemOffset = lineStart
        // fgets with a 128-byte buffer reads at most 127 bytes, up to and including a newline: make that many
        // bytes readable (or all that is left) and scan them in place.
        _ = try input.ensure(NumberLine.maxBytes)
        let scanned = input.withBufferedBytes { NumberLine(scanning: $0, prefix: prefix) }
        input.consumeBuffered(scanned.consumed)
        let what = prefix == UInt8(ascii: "*") ? "argument count" : "bulk length"
        guard let first = scanned.first else {
            failureMessage = nil
            throw FormatError(
                .truncated, offset: commandStart, phase: .other("read-command"),
                "input ends before the \(what) line at \(lineStart)")
        }
        guard first == prefix else {
            failureMessage = "Expected prefix '\(Character(Unicode.Scalar(prefix)))', got: '\(Character(Unicode.Scalar(first)))'"
            throw FormatError(
                .corrupt, offset: commandStart, phase: .other("read-command"),
                "expected '\(Character(Unicode.Scalar(prefix)))' at \(lineStart), got byte 0x\(hex(first))")
        }
        guard scanned.endsWithCRLF else {
            failureMessage = "Expected \\r\\n, got: \(hex(scanned.rest.0))\(hex(scanned.rest.1))"
            let atEnd = try !input.ensure(1)
            let truncated = !scanned.sawNewline && atEnd
            throw FormatError(
                truncated ? .truncated : .corrupt, offset: commandStart, phase: .other("read-command"),
                truncated
                    ? "input ends inside the \(what) line at \(lineStart)"
                    : "bad \(what) line at \(lineStart)")
        }
        line += 1
        return scanned.value
    }
}

/// One `*<n>` or `$<n>` line as redis-check-aof's `readLong` sees it: what `fgets` (128-byte buffer) takes,
/// then `strtol` and the two bytes after the number.
private struct NumberLine {
    /// fgets stores at most 127 bytes and a NUL.
    static let maxBytes = 127

    /// Bytes taken: up to and including the first newline, at most ``maxBytes``.
    var consumed = 0
    var sawNewline = false
    /// The first byte (the prefix); nil when no byte was left.
    var first: UInt8?
    /// `strtol` of what follows the prefix: optional sign, digits, saturated at Int64.max before the sign.
    var value: Int64 = 0
    /// The two bytes after the number (0 past the line's end: Redis prints its NUL, then an uninitialized byte).
    var rest: (UInt8, UInt8) = (0, 0)

    var endsWithCRLF: Bool { rest.0 == UInt8(ascii: "\r") && rest.1 == UInt8(ascii: "\n") }

    init(scanning buffered: UnsafeRawBufferPointer, prefix: UInt8) {
        let limit = min(buffered.count, Self.maxBytes)
        guard limit > 0 else { return }
        // The line: bytes 0..<consumed of the buffer, all within `limit`.
        var end = 0
        while end < limit {
            let byte = buffered[end]
            end &+= 1
            if byte == UInt8(ascii: "\n") {
                sawNewline = true
                break
            }
        }
        consumed = end
        first = buffered[0]
        var index = 1
        var negative = false
        if index < end, buffered[index] == UInt8(ascii: "-") || buffered[index] == UInt8(ascii: "+") {
            negative = buffered[index] == UInt8(ascii: "-")
            index &+= 1
        }
        while index < end, buffered[index] >= UInt8(ascii: "0"), buffered[index] <= UInt8(ascii: "9") {
            // Saturate like strtol; the caller's range check rejects the result.
            let (product, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = product.addingReportingOverflow(Int64(buffered[index] &- UInt8(ascii: "0")))
            value = overflow1 || overflow2 ? Int64.max : sum
            index &+= 1
        }
        if negative { value = -value }
        rest = (index < end ? buffered[index] : 0, index &+ 1 < end ? buffered[index &+ 1] : 0)
    }
}

extension WindowedReader {
    /// Calls `body` with the bytes already buffered and not consumed (at least what the last ``ensure(_:)``
    /// promised), to scan them in place.
    @inlinable
    func withBufferedBytes<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        window.withUnsafeReadableBytes(body)
    }

    /// Consumes `count` bytes that are buffered (see ``withBufferedBytes(_:)``).
    @inlinable
    mutating func consumeBuffered(_ count: Int) {
        precondition(count <= window.readableBytes, "consuming bytes that are not buffered")
        window.moveReaderIndex(forwardBy: count)
    }
}

private func hex(_ byte: UInt8) -> String {
    let text = String(byte, radix: 16)
    return text.count == 1 ? "0" + text : text
}
