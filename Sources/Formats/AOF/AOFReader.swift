import NIOCore

// One AOF file, in either layout Redis has written:
//
//   RESP AOF (1.x+; 7.0+ INCR and `.base.aof` files):
//     [#TS:<seconds>\r\n] *<argc>\r\n $<len>\r\n<bytes>\r\n … (RESPCommandDecoder)
//
//   RDB-preamble AOF (4.0+, default from 5.0; 7.0+ `.base.rdb` files, which have no tail):
//     REDIS<4-digit version> | VALKEY<3-digit> … 0xFF <8-byte CRC64>   a complete RDB (RDBReader)
//     *<argc>\r\n …                                                  the RESP tail
//
// Either may be gzip-compressed when read through ``InputSource`` (Redis never writes one): offsets are then
// offsets in the decompressed data, and ``readInputSize()`` gives the decompressed size.
//
// The reader tracks MULTI/EXEC as redis-check-aof does: a second MULTI or an EXEC without MULTI is an error,
// and the truncation point (`ok_up_to`) is the start of the last item read outside a transaction, so a
// dangling MULTI is cut as a whole.

/// What an AOF holds, item by item.
public enum AOFEvent: Sendable {
    /// An event of the RDB preamble.
    case rdb(RDBEvent)
    /// A command of the RESP part.
    case command(RESPCommand)
    /// An annotation line (`#TS:…`).
    case annotation(RESPAnnotation)
}

/// A pull reader of one AOF file (RESP, or an RDB preamble followed by RESP).
public struct AOFReader<Source: ByteSource> {
    // Exactly one of the two is set: the RDB reader while in the preamble, then the decoder. Two optionals
    // rather than an enum with payloads, so that each call mutates the reader in place instead of copying it out
    // of the enum and back (those copies and their retains showed in callgrind profiles of the checker).
    private var preamble: RDBReader<Source>?
    private var decoder: RESPCommandDecoder<Source>?
    private var failure: FormatError?
    private let initialLine: Int64
    private let limits: RESPLimits
    /// For a MULTI/EXEC error: redis-check-aof stops right after the first argument, so its `epos` and line
    /// counter are those of that argument, not of the command's end.
    private var transactionErrorPosition: (itemOffset: Int64, line: Int64)?

    /// True when the file starts with an RDB (`REDIS` or `VALKEY` magic).
    public let hasPreamble: Bool
    /// Offset where the RESP part starts (after the RDB preamble); nil until the preamble is read.
    public private(set) var commandsOffset: Int64?
    /// Offset up to which the file is sound: the start of the last item read outside MULTI (`ok_up_to`).
    public private(set) var safeOffset: Int64 = 0
    /// The line counter at ``safeOffset``.
    public private(set) var safeLine: Int64
    /// True between a MULTI and its EXEC.
    public private(set) var inTransaction = false
    /// redis-check-aof's message for the last failure (see ``RESPCommandDecoder/failureMessage``).
    public private(set) var failureMessage: String?
    /// Commands read so far.
    public private(set) var commandCount = 0

    /// Creates a reader. `hasPreamble` says whether the source starts with an RDB (see ``startsWithRDB(_:)``);
    /// `line` continues the line count of a previous file (multi-part AOFs count across files).
    public init(
        source: Source, hasPreamble: Bool, limits: RESPLimits = .init(), rdbOptions: RDBReadOptions = .init(),
        line: Int64 = 1, chunkSize: Int = 1024 * 1024
    ) {
        self.hasPreamble = hasPreamble
        self.initialLine = line
        self.safeLine = line
        if hasPreamble {
            preamble = RDBReader(source: source, options: rdbOptions, chunkSize: chunkSize)
        } else {
            decoder = RESPCommandDecoder(
                input: WindowedReader(source: source, chunkSize: chunkSize), limits: limits, line: line)
            commandsOffset = 0
        }
        self.limits = limits
    }

    /// True when the first bytes are an RDB magic: `REDIS` (as redis-check-aof, for a file of at least 8
    /// bytes) or Valkey 9's `VALKEY`.
    public static func startsWithRDB(_ prefix: [UInt8]) -> Bool {
        prefix.count >= 8 && (prefix.starts(with: Array("REDIS".utf8)) || prefix.starts(with: Array("VALKEY".utf8)))
    }

    /// The line counter (1 + CRLFs consumed in commands), also after a failure.
    public var line: Int64 {
        if let transactionErrorPosition { return transactionErrorPosition.line }
        return decoder?.line ?? initialLine
    }

    /// The offset of the last line or bulk started (redis-check-aof's `epos`), or of the failing RDB item.
    public var lastItemOffset: Int64 {
        if let transactionErrorPosition { return transactionErrorPosition.itemOffset }
        if let decoder { return decoder.lastItemOffset }
        return failure?.offset ?? preamble!.offset
    }

    /// The absolute offset of the next byte.
    public var offset: Int64 {
        decoder?.offset ?? preamble!.offset
    }

    /// True when the failure (if any) was in the RDB preamble.
    public var failedInPreamble: Bool {
        preamble != nil && failure != nil
    }

    /// The size of the whole input, for a source whose size is not known in advance (gzip: the size of the
    /// decompressed data). Reads and discards whatever is left, also after a failure; when the source itself
    /// fails (damaged compressed data), it is the number of bytes decoded before the damage. Call it last: the
    /// reader is at the end of the input afterwards.
    public mutating func readInputSize() -> Int64 {
        do {
            if decoder != nil { return try decoder!.skipToEnd() }
            var input = preamble!.remainingInput
            _ = try input.skipToEnd()
            return input.offset
        } catch {
            return error.offset
        }
    }

    /// The next item; nil at the end of the file. At the end, ``inTransaction`` says whether a MULTI was left
    /// open (the file then needs cutting at ``safeOffset``).
    ///
    /// - Throws: `FormatError`: the RDB reader's errors for the preamble; for commands the decoder's
    ///   (`.truncated`, `.corrupt`, `.limitExceeded`) and `.corrupt` for a nested MULTI or an EXEC without
    ///   MULTI, at the offset of the command. Rethrown on every later call.
    public mutating func next() throws(FormatError) -> AOFEvent? {
        if let failure { throw failure }
        do {
            return try advance()
        } catch {
            failure = error
            throw error
        }
    }

    /// Right after ``AOFEvent/rdb(_:)`` with ``RDBEvent/beginKey(_:)``: reads and fully validates the rest of
    /// the key's value without handing out its elements (``RDBReader/skipValue()``, the checker's fast path),
    /// and returns how many elements it had.
    ///
    /// - Throws: what ``next()`` throws; rethrown by every later call to `next()`.
    public mutating func skipRDBValue() throws(FormatError) -> Int {
        if let failure { throw failure }
        precondition(preamble != nil, "skipRDBValue() outside the RDB preamble")
        do {
            return try preamble!.skipValue()
        } catch {
            failure = error
            throw error
        }
    }

    private mutating func advance() throws(FormatError) -> AOFEvent? {
        if preamble != nil {
            if let event = try preamble!.next() {
                return .rdb(event)
            }
            let tail = RESPCommandDecoder(input: preamble!.remainingInput, limits: limits, line: initialLine)
            preamble = nil
            commandsOffset = tail.offset
            safeOffset = tail.offset
            decoder = tail
        }
        if !inTransaction {
            safeOffset = decoder!.offset
            safeLine = decoder!.line
        }
        let item: RESPItem?
        do {
            item = try decoder!.next()
        } catch {
            failureMessage = decoder!.failureMessage
            throw error
        }
        switch item {
        case nil:
            return nil
        case .annotation(let annotation):
            return .annotation(annotation)
        case .command(let command):
            commandCount += 1
            if command.isNamed("multi") {
                guard !inTransaction else { throw transactionError("Unexpected MULTI", command) }
                inTransaction = true
            } else if command.isNamed("exec") {
                guard inTransaction else { throw transactionError("Unexpected EXEC", command) }
                inTransaction = false
            }
            return .command(command)
        }
    }

    private mutating func transactionError(_ message: String, _ command: RESPCommand) -> FormatError {
        failureMessage = message
        // The `*` line, the first `$` line and the first argument's CRLF.
        transactionErrorPosition = (command.firstArgumentOffset, command.line + 3)
        return FormatError(.corrupt, offset: command.offset, phase: .other("read-command"), message)
    }
}
