import NIOCore

/// Where writers put their bytes: a file written atomically, standard output, a gzip stream, memory.
public protocol ByteSink {
    /// Writes all of `bytes`.
    ///
    /// - Throws: `.io` naming the failed step and the system error (ENOSPC, EIO…).
    mutating func write(_ bytes: ByteBuffer) throws(FormatError)
    /// Makes everything written durable or visible (for an atomic file: fsync, rename, fsync the directory).
    mutating func finish() throws(FormatError)
}

/// Collects the bytes in memory (tests, DUMP payloads).
public struct BufferSink: ByteSink, Sendable {
    public private(set) var buffer = ByteBuffer()

    public init() {}

    public mutating func write(_ bytes: ByteBuffer) throws(FormatError) {
        var bytes = bytes
        buffer.writeBuffer(&bytes)
    }

    public mutating func finish() throws(FormatError) {}

    /// The bytes written, as an array.
    public var bytes: [UInt8] { Array(buffer.readableBytesView) }
}
