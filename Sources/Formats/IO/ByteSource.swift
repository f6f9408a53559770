import NIOCore

/// A source of bytes that a ``WindowedReader`` pulls from: a file, a pipe, a decompressor, memory.
///
/// Sources may return fewer bytes than asked for (a partial read, as `read(2)` does); they return 0 only at
/// the end of input. This is the `read_some` contract valkey moved its rio to.
public protocol ByteSource {
    /// Appends at most `count` bytes to `window`.
    ///
    /// - Returns: the number of bytes appended; 0 means the input has ended.
    /// - Throws: `.io` when the operating system fails the read, `.corrupt` when a decoding source (gzip)
    ///   finds invalid data.
    mutating func read(into window: inout ByteBuffer, atMost count: Int) throws(FormatError) -> Int
}

/// A source over bytes already in memory (tests, DUMP payloads, small blobs).
public struct ByteBufferSource: ByteSource, Sendable {
    private var remaining: ByteBuffer

    public init(_ bytes: ByteBuffer) {
        self.remaining = bytes
    }

    public init<Bytes: Sequence>(bytes: Bytes) where Bytes.Element == UInt8 {
        var buffer = ByteBufferAllocator().buffer(capacity: 0)
        buffer.writeBytes(bytes)
        self.remaining = buffer
    }

    public mutating func read(into window: inout ByteBuffer, atMost count: Int) throws(FormatError) -> Int {
        let taken = min(count, remaining.readableBytes)
        guard taken > 0, let slice = remaining.readSlice(length: taken) else { return 0 }
        return window.writeImmutableBuffer(slice)
    }
}
