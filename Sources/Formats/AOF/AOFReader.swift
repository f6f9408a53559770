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
    private enum Stage {
        case preamble(RDBReader<Source>)
        case commands(RESPCommandDecoder<Source>)
    }
    private var stage: Stage
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
            stage = .preamble(RDBReader(source: source, options: rdbOptions, chunkSize: chunkSize))
        } else {
            stage = .commands(
                RESPCommandDecoder(input: WindowedReader(source: source, chunkSize: chunkSize), limits: limits, line: line))
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
        if case .commands(let decoder) = stage { return decoder.line }
        return initialLine
    }

    /// The offset of the last line or bulk started (redis-check-aof's `epos`), or of the failing RDB item.
    public var lastItemOffset: Int64 {
        if let transactionErrorPosition { return transactionErrorPosition.itemOffset }
        return switch stage {
        case .preamble(let reader): failure?.offset ?? reader.offset
        case .commands(let decoder): decoder.lastItemOffset
        }
    }

    /// The absolute offset of the next byte.
    public var offset: Int64 {
        switch stage {
        case .preamble(let reader): reader.offset
        case .commands(let decoder): decoder.offset
        }
    }

    /// True when the failure (if any) was in the RDB preamble.
    public var failedInPreamble: Bool {
        if case .preamble = stage, failure != nil { return true }
        return false
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

    private mutating func advance() throws(FormatError) -> AOFEvent? {
        switch stage {
        case .preamble(var reader):
            if let event = try reader.next() {
                stage = .preamble(reader)
                return .rdb(event)
            }
            let decoder = RESPCommandDecoder(input: reader.remainingInput, limits: limits, line: initialLine)
            commandsOffset = decoder.offset
            safeOffset = decoder.offset
            stage = .commands(decoder)
            return try advance()
        case .commands(var decoder):
            if !inTransaction {
                safeOffset = decoder.offset
                safeLine = decoder.line
            }
            let item: RESPItem?
            do {
                item = try decoder.next()
            } catch {
                failureMessage = decoder.failureMessage
                stage = .commands(decoder)
                throw error
            }
            stage = .commands(decoder)
            switch item {
            case nil:
                return nil
            case .annotation(let annotation):
                return .annotation(annotation)
            case .command(let command):
                commandCount += 1
                let name = command.name
                if name == "multi" {
                    guard !inTransaction else { throw transactionError("Unexpected MULTI", command) }
                    inTransaction = true
                } else if name == "exec" {
                    guard inTransaction else { throw transactionError("Unexpected EXEC", command) }
                    inTransaction = false
                }
                return .command(command)
            }
        }
    }

    private mutating func transactionError(_ message: String, _ command: RESPCommand) -> FormatError {
        failureMessage = message
        // The `*` line, the first `$` line and the first argument's CRLF.
        transactionErrorPosition = (command.firstArgumentOffset, command.line + 3)
        return FormatError(.corrupt, offset: command.offset, phase: .other("read-command"), message)
    }
}
