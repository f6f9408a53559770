import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// What Redis appends to an AOF for each write command (`aof.c` feedAppendOnlyFile), and what a RESP rewrite
// (BGREWRITEAOF with aof-use-rdb-preamble no: a 7.0+ `.base.aof`) holds:
//
//   #TS:<unix seconds>\r\n                      7.0+, aof-timestamp-enabled: before a command whose second is
//                                               later than the last annotation's (the first command gets one)
//   *2\r\n$6\r\nSELECT\r\n$<n>\r\n<db>\r\n      1.x+: when the command's database differs from the last one
//                                               written; the first command of a file always gets one
//   *<argc>\r\n                                 the command, RESP2 multibulk (1.x+), argc ≥ 1
//   $<len>\r\n<len bytes>\r\n  × argc           binary-safe; integers are written as decimal text
//
// The annotation goes before the SELECT, as Redis writes them. Redis resets its "last database" when it opens a
// new INCR file (7.0+) or starts a rewrite, which is what a new `AOFWriter` per file gives.

/// Options of ``AOFWriter``.
public struct AOFWriteOptions: Sendable {
    /// Write `#TS:<unix seconds>` annotations (Redis 7 `aof-timestamp-enabled`; off by default, as in Redis).
    public var timestampAnnotations = false
    /// Bytes gathered before they are handed to the sink without a ``AOFWriter/flush()``: bounds the memory of
    /// a whole-file write; a server calls `flush()` at the end of each event-loop iteration anyway.
    public var bufferBytes = 64 * 1024

    /// The defaults: no annotations, 64 KiB buffer.
    public init() {}
}

/// Writes commands to an AOF, as Redis appends them: RESP multibulk, with a `SELECT` whenever the database
/// changes and optional `#TS:` annotations.
///
/// The same writer serves both ways a file is written:
/// - **a whole file** (a rewritten `.base.aof`, a converted dataset): `AOFWriter(sink: FileSink(path:))`;
///   ``finish()`` fsyncs, renames over the destination and fsyncs the directory;
/// - **a stream of appends** (the INCR file a server feeds): `AOFWriter(sink: AppendFileSink(path:))`; the
///   writer gathers commands until ``flush()`` hands them to the file in one write, and the caller decides
///   when to make them durable (`writer.sink.sync()`, Redis's `appendfsync always|everysec|no`).
///
/// Commands are buffered in the writer (``AOFWriteOptions/bufferBytes``), so a failure may surface at a later
/// call than the command that could not be written; after a failure the bytes stay buffered for the next
/// ``flush()``. ``bytesWritten`` counts everything accepted so far.
public struct AOFWriter<Sink: ByteSink> {
    /// Where the bytes go.
    public private(set) var sink: Sink
    /// The options given at creation.
    public let options: AOFWriteOptions
    /// The database of the last `SELECT` written; nil before the first command, so that it gets one.
    public private(set) var selectedDatabase: Int?
    /// The second of the last `#TS:` annotation written; nil before the first.
    public private(set) var lastTimestamp: Int64?
    /// Bytes accepted so far (handed to the sink or still buffered): the size this writer added to the file.
    public private(set) var bytesWritten: Int64 = 0
    private var buffer: ByteBuffer

    /// Creates a writer; nothing is written until the first command.
    public init(sink: Sink, options: AOFWriteOptions = .init()) {
        self.sink = sink
        self.options = options
        self.buffer = ByteBufferAllocator().buffer(capacity: min(options.bufferBytes, 1 << 20) + 512)
    }

    // MARK: - Commands

    /// Appends a command run in `database`, preceded by a `SELECT` when the database differs from the last one
    /// written and, with annotations on, by `#TS:` when `unixTime` is later than the last annotation.
    ///
    /// - Parameters:
    ///   - arguments: the command name, then its arguments (at least one element).
    ///   - database: the database the command ran in (≥ 0).
    ///   - unixTime: the command's time in Unix seconds (a server passes its cached clock); nil reads the
    ///     system clock when annotations are on.
    /// - Throws: `.io` from the sink when the buffer is handed over.
    public mutating func writeCommand<Arguments: Collection<ByteBuffer>>(
        _ arguments: Arguments, database: Int, unixTime: Int64? = nil
    ) throws(FormatError) {
        precondition(!arguments.isEmpty, "an AOF command has at least its name")
        prepare(database: database, unixTime: unixTime)
        appendCommand(arguments)
        if buffer.readableBytes >= options.bufferBytes { try flush() }
    }

    /// ``writeCommand(_:database:unixTime:)`` for arguments that are byte collections (a server's own string
    /// type, `[UInt8]`): encoded straight into the buffer, with no `ByteBuffer` made per argument.
    public mutating func writeCommand<Arguments: Collection>(
        bytes arguments: Arguments, database: Int, unixTime: Int64? = nil
    ) throws(FormatError) where Arguments.Element: Collection<UInt8> {
        precondition(!arguments.isEmpty, "an AOF command has at least its name")
        prepare(database: database, unixTime: unixTime)
        bytesWritten += Int64(buffer.writeRESPCommand(bytes: arguments))
        if buffer.readableBytes >= options.bufferBytes { try flush() }
    }

    /// The `#TS:` annotation and the `SELECT` that go before a command, when due.
    private mutating func prepare(database: Int, unixTime: Int64?) {
        precondition(database >= 0, "databases are numbered from 0")
        if options.timestampAnnotations {
            let now = unixTime ?? Int64(time(nil))
            // Redis annotates only when its clock moved forward (aof_cur_timestamp < unixtime).
            if lastTimestamp.map({ now > $0 }) ?? true {
                appendTimestamp(now)
            }
        }
        if selectedDatabase != database {
            appendCommand([ByteBuffer(string: "SELECT"), ByteBuffer(string: String(database))])
            selectedDatabase = database
        }
    }

    /// ``writeCommand(_:database:unixTime:)`` for arguments given as text (UTF-8).
    public mutating func writeCommand(_ arguments: [String], database: Int, unixTime: Int64? = nil)
        throws(FormatError)
    {
        try writeCommand(arguments.map { ByteBuffer(string: $0) }, database: database, unixTime: unixTime)
    }

    /// Appends `#TS:<unixTime>` whatever the last annotation was: a RESP rewrite starts with one
    /// (genAofTimestampAnnotationIfNeeded(1)). Commands that follow in the same second get none.
    ///
    /// - Throws: `.io` from the sink when the buffer is handed over.
    public mutating func writeTimestampAnnotation(_ unixTime: Int64) throws(FormatError) {
        appendTimestamp(unixTime)
        if buffer.readableBytes >= options.bufferBytes { try flush() }
    }

    /// Hands the buffered bytes to the sink (for ``AppendFileSink``, one `write(2)`).
    ///
    /// - Throws: `.io` naming the failed step. The bytes stay buffered, so a later `flush()` tries them again
    ///   (as Redis retries its `aof_buf`): ``AppendFileSink`` cuts a failed write back off the file, so nothing
    ///   is written twice, unless the cut failed too; then ``dropBuffered(_:)`` the part that stayed in the file.
    public mutating func flush() throws(FormatError) {
        guard buffer.readableBytes > 0 else { return }
        try sink.write(buffer)
        buffer.clear()
    }

    /// Forgets the first `count` buffered bytes: the part of a failed ``flush()`` that reached the file and
    /// could not be cut back (``AppendFileSink/size`` grew by that much), so that the next flush writes only
    /// the rest (Redis trims its `aof_buf` the same way).
    public mutating func dropBuffered(_ count: Int) {
        precondition(count >= 0 && count <= buffer.readableBytes, "dropping \(count) of \(buffer.readableBytes) buffered bytes")
        buffer.moveReaderIndex(forwardBy: count)
    }

    /// Flushes and finishes the sink: for ``FileSink`` fsync, rename and directory fsync; for
    /// ``AppendFileSink`` fsync and close.
    ///
    /// - Throws: `.io` naming the failed step.
    public mutating func finish() throws(FormatError) {
        try flush()
        try sink.finish()
    }

    // MARK: - Encoding

    private mutating func appendTimestamp(_ unixTime: Int64) {
        let before = buffer.writerIndex
        buffer.writeStaticString("#TS:")
        buffer.writeString(String(unixTime))
        buffer.writeStaticString("\r\n")
        bytesWritten += Int64(buffer.writerIndex - before)
        lastTimestamp = unixTime
    }

    private mutating func appendCommand<Arguments: Collection<ByteBuffer>>(_ arguments: Arguments) {
        bytesWritten += Int64(buffer.writeRESPCommand(arguments))
    }
}

extension ByteBuffer {
    /// Appends one command as RESP multibulk: `*<argc>\r\n`, then `$<len>\r\n<bytes>\r\n` per argument (what
    /// ``RESPCommandDecoder`` reads back).
    ///
    /// - Returns: the number of bytes written.
    @discardableResult
    public mutating func writeRESPCommand<Arguments: Collection<ByteBuffer>>(_ arguments: Arguments) -> Int {
        writeRESPCommand(bytes: arguments.lazy.map(\.readableBytesView))
    }

    /// ``writeRESPCommand(_:)`` for arguments that are byte collections.
    @discardableResult
    public mutating func writeRESPCommand<Arguments: Collection>(bytes arguments: Arguments) -> Int
    where Arguments.Element: Collection<UInt8> {
        let before = writerIndex
        writeStaticString("*")
        writeString(String(arguments.count))
        writeStaticString("\r\n")
        for argument in arguments {
            writeStaticString("$")
            writeString(String(argument.count))
            writeStaticString("\r\n")
            writeBytes(argument)
            writeStaticString("\r\n")
        }
        return writerIndex - before
    }
}
