import NIOCore

/// A pull reader with an exact-length contract over a ``ByteSource``: this is Redis's `rio` with types.
///
/// It keeps a window of input in a `ByteBuffer`. Reads return exactly the bytes asked for or throw
/// `.truncated` at the offset where they should have started. The checksum is fed only by consumption
/// (as rio's `update_cksum`): bytes become part of the CRC when the reader moves past them, never when they
/// are merely buffered, and skipped bytes are checksummed too.
///
/// Slices returned by ``readSlice(_:)`` share storage with the window; a refill never writes into storage
/// that slices may still see (it moves the unread tail into a fresh buffer instead).
public struct WindowedReader<Source: ByteSource> {
    @usableFromInline var source: Source
    @usableFromInline var window: ByteBuffer
    /// Absolute offset of window index 0.
    @usableFromInline var baseOffset: Int64 = 0
    /// Window index up to which bytes were fed into the checksum.
    @usableFromInline var checksumMark: Int = 0
    @usableFromInline var crc: CRC64? = nil
    /// The size of each read from the source.
    public let chunkSize: Int
    /// The most a refill reserves beyond the bytes it has: a length read from the input (a string header may
    /// declare up to 1 GiB in a 25-byte DUMP payload) is not trusted with an allocation; the window grows
    /// (doubling) as the bytes actually arrive, so memory follows the input, not what it claims.
    @usableFromInline static var maxReserve: Int { 16 * 1024 * 1024 }
    private var sourceEnded = false

    public init(source: Source, chunkSize: Int = 1024 * 1024) {
        self.source = source
        self.chunkSize = chunkSize
        self.window = ByteBufferAllocator().buffer(capacity: 0)
    }

    /// Absolute offset of the next byte to be read.
    @inlinable
    public var offset: Int64 { baseOffset + Int64(window.readerIndex) }

    /// Starts (or restarts from `value`) checksumming from the current offset.
    public mutating func startChecksum(value: UInt64 = 0) {
        crc = CRC64(value: value)
        checksumMark = window.readerIndex
    }

    /// The checksum of everything consumed since ``startChecksum(value:)``; nil when not checksumming.
    public mutating func checksum() -> UInt64? {
        flushChecksum()
        return crc?.value
    }

    /// Stops checksumming (the trailer itself is not covered).
    public mutating func stopChecksum() {
        flushChecksum()
        crc = nil
    }

    @usableFromInline
    mutating func flushChecksum() {
        guard crc != nil else { return }
        let from = checksumMark
        let to = window.readerIndex
        if to > from {
            // Step back over the consumed bytes (still in the window) to checksum them in one pass.
            window.moveReaderIndex(to: from)
            window.withUnsafeReadableBytes { bytes in
                crc!.update(UnsafeRawBufferPointer(rebasing: bytes.prefix(to - from)))
            }
            window.moveReaderIndex(to: to)
        }
        checksumMark = to
    }

    /// Makes at least `count` bytes readable; returns false if the input ends first.
    @inlinable
    public mutating func ensure(_ count: Int) throws(FormatError) -> Bool {
        if window.readableBytes >= count { return true }
        return try refill(count)
    }

    @usableFromInline
    mutating func refill(_ count: Int) throws(FormatError) -> Bool {
        flushChecksum()
        let remaining = window.readableBytes
        if !sourceEnded {
            // A fresh buffer instead of discardReadBytes(): outstanding slices keep the old storage alive
            // and unmodified, and copy-on-write never copies the whole window.
            var fresh = ByteBufferAllocator().buffer(capacity: max(chunkSize, min(count, Self.maxReserve)) + remaining)
            baseOffset += Int64(window.readerIndex)
            fresh.writeBuffer(&window)
            // Swapped, not assigned: a copy left in `fresh` would share the storage, and the reads below would
            // copy the whole window before writing to it.
            swap(&window, &fresh)
            checksumMark = 0
            while window.readableBytes < count {
                let want = max(chunkSize, min(count - window.readableBytes, Self.maxReserve))
                let got: Int
                do {
                    got = try source.read(into: &window, atMost: want)
                } catch var error {
                    error.offset = offset + Int64(window.readableBytes)
                    throw error
                }
                if got == 0 {
                    sourceEnded = true
                    break
                }
            }
        }
        return window.readableBytes >= count
    }

    /// True when no byte is left.
    public var isAtEnd: Bool {
        mutating get throws(FormatError) { try !ensure(1) }
    }

    @usableFromInline
    func truncated(_ what: String, count: Int) -> FormatError {
        FormatError(
            .truncated, offset: offset,
            "unexpected end of input reading \(what): needed \(count) bytes, \(window.readableBytes) left")
    }

    /// Reads one byte.
    @inlinable
    public mutating func readByte() throws(FormatError) -> UInt8 {
        guard try ensure(1) else { throw truncated("a byte", count: 1) }
        return window.readInteger(as: UInt8.self)!
    }

    /// Looks at the next byte without consuming it; nil at the end of input.
    @inlinable
    public mutating func peekByte() throws(FormatError) -> UInt8? {
        guard try ensure(1) else { return nil }
        return window.getInteger(at: window.readerIndex, as: UInt8.self)
    }

    /// Reads a fixed-width integer; the byte order is spelled at every call site.
    @inlinable
    public mutating func readInteger<T: FixedWidthInteger>(_: T.Type, endianness: Endianness) throws(FormatError) -> T {
        let size = MemoryLayout<T>.size
        guard try ensure(size) else { throw truncated("a \(size)-byte integer", count: size) }
        return window.readInteger(endianness: endianness, as: T.self)!
    }

    /// Reads exactly `count` bytes as a slice sharing the window's storage.
    @inlinable
    public mutating func readSlice(_ count: Int) throws(FormatError) -> ByteBuffer {
        guard try ensure(count) else { throw truncated("\(count) bytes", count: count) }
        return window.readSlice(length: count)!
    }

    /// Reads exactly `count` bytes onto the end of `buffer` (a copy: no slice of the window is made).
    @inlinable
    public mutating func read(_ count: Int, appendingTo buffer: inout ByteBuffer) throws(FormatError) {
        guard try ensure(count) else { throw truncated("\(count) bytes", count: count) }
        window.withUnsafeReadableBytes { bytes in
            _ = buffer.writeBytes(UnsafeRawBufferPointer(rebasing: bytes.prefix(count)))
        }
        window.moveReaderIndex(forwardBy: count)
    }

    /// Reads and discards everything left; returns how many bytes that was. A decoding source (gzip) still
    /// verifies its own trailer on the way.
    public mutating func skipToEnd() throws(FormatError) -> Int64 {
        var skipped: Int64 = 0
        while try ensure(1) {
            skipped += Int64(window.readableBytes)
            window.moveReaderIndex(forwardBy: window.readableBytes)
        }
        return skipped
    }

    /// Skips `count` bytes without keeping them; they still pass through the checksum.
    public mutating func skip(_ count: Int64) throws(FormatError) {
        var left = count
        while left > 0 {
            if window.readableBytes == 0 {
                guard try ensure(1) else {
                    throw FormatError(.truncated, offset: offset, "unexpected end of input skipping \(left) more bytes")
                }
            }
            let step = Int(min(Int64(window.readableBytes), left))
            window.moveReaderIndex(forwardBy: step)
            left -= Int64(step)
        }
    }
}
