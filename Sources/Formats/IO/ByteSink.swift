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
        buffer.appendBytes(of: bytes)
    }

    public mutating func finish() throws(FormatError) {}

    /// The bytes written, as an array.
    public var bytes: [UInt8] { Array(buffer.readableBytesView) }

    /// The bytes written so far, in a buffer of their own size; the sink is left empty and keeps its storage
    /// for what is written next.
    public mutating func drain() -> ByteBuffer {
        var bytes = ByteBufferAllocator().buffer(capacity: buffer.readableBytes)
        bytes.writeImmutableBuffer(buffer)
        buffer.clear()
        return bytes
    }
}

extension ByteBuffer {
    /// Reserves `maximumCount` writable bytes, lets `body` store up to that many at the writer index, and moves
    /// the writer index past the count `body` returns.
    ///
    /// What `writeWithUnsafeMutableBytes(minimumWritableBytes:_:)` does, without its `dropFirst` on the buffer
    /// (about a hundred instructions a call in a release build), which counts when entries are a few bytes.
    @discardableResult
    package mutating func appendUnsafeBytes(maximumCount: Int, _ body: (UnsafeMutableRawPointer) -> Int) -> Int {
        reserveCapacity(minimumWritableBytes: maximumCount)
        let start = writerIndex
        let written = withVeryUnsafeMutableBytes { storage in body(storage.baseAddress! + start) }
        precondition(written >= 0 && written <= maximumCount, "wrote \(written) of \(maximumCount) reserved bytes")
        moveWriterIndex(forwardBy: written)
        return written
    }

    /// Appends an integer in the given byte order (what `writeInteger(_:endianness:)` does, see
    /// ``appendUnsafeBytes(maximumCount:_:)``: NIO's version goes through the same non-inlined setter).
    package mutating func appendInteger<T: FixedWidthInteger>(_ value: T, endianness: Endianness = .big) {
        let size = MemoryLayout<T>.size
        appendUnsafeBytes(maximumCount: size) { target in
            target.storeBytes(of: endianness == .big ? value.bigEndian : value.littleEndian, as: T.self)
            return size
        }
    }

    /// Appends a literal's UTF-8 (see ``appendBytes(of:)``).
    package mutating func appendStaticString(_ string: StaticString) {
        appendBytes(UnsafeRawBufferPointer(start: string.utf8Start, count: string.utf8CodeUnitCount))
    }

    /// Appends the readable bytes of `other` with one reservation and one copy.
    ///
    /// The same as `writeImmutableBuffer(_:)`, which goes through a setter that NIO does not inline, with a
    /// run-time exclusivity check: about a hundred instructions a call, which counts for small strings.
    package mutating func appendBytes(of other: ByteBuffer) {
        other.withUnsafeReadableBytes { appendBytes($0) }
    }

    /// Appends `bytes` with one reservation and one copy (see ``appendBytes(of:)``).
    package mutating func appendBytes(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        appendUnsafeBytes(maximumCount: bytes.count) { target in
            target.copyMemory(from: source, byteCount: bytes.count)
            return bytes.count
        }
    }
}
