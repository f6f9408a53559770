import CZlib
import NIOCore

/// Inflates a gzip stream (RFC 1952, several members allowed, as `gzip -d` accepts) read from another source.
///
/// Offsets seen by readers on top of it are offsets in the decompressed data.
public struct GzipSource<Inner: ByteSource>: ByteSource {
    private var inner: Inner
    private var input: ByteBuffer
    private let stream: InflateStream
    private var innerEnded = false
    private var streamEnded = false
    /// Compressed bytes consumed so far, for progress reporting.
    public private(set) var compressedOffset: Int64 = 0

    /// Wraps `inner`; `prefix` holds bytes already read from it (for example by magic detection).
    public init(_ inner: Inner, prefix: ByteBuffer = ByteBuffer()) throws(FormatError) {
        self.inner = inner
        self.input = prefix
        self.stream = try InflateStream()
    }

    public mutating func read(into window: inout ByteBuffer, atMost count: Int) throws(FormatError) -> Int {
        while true {
            if streamEnded {
                // Another gzip member may follow (concatenated .gz files), or only trailing zero padding.
                if input.readableBytes == 0 && !innerEnded {
                    try refill()
                }
                guard input.readableBytes > 0 else { return 0 }
                if input.readableBytesView.first != 0x1f {
                    throw FormatError(.corrupt, offset: compressedOffset, phase: .io, "trailing garbage after gzip stream")
                }
                try stream.reset()
                streamEnded = false
            }
            if input.readableBytes == 0 && !innerEnded {
                try refill()
            }
            let before = input.readableBytes
            let result = try stream.inflate(from: &input, into: &window, atMost: count)
            compressedOffset += Int64(before - input.readableBytes)
            if result.ended {
                streamEnded = true
            }
            if result.produced > 0 {
                return result.produced
            }
            if result.ended {
                continue
            }
            if innerEnded && input.readableBytes == 0 {
                throw FormatError(.truncated, offset: compressedOffset, phase: .io, "gzip stream ends before its trailer")
            }
        }
    }

    private mutating func refill() throws(FormatError) {
        input.discardReadBytes()
        let got = try inner.read(into: &input, atMost: 256 * 1024)
        if got == 0 {
            innerEnded = true
        }
    }
}

/// Owns a zlib inflate state; a class so that the state is freed exactly once.
final class InflateStream {
    private var stream = z_stream()

    init() throws(FormatError) {
        // 15 + 16: a gzip wrapper is required (the caller detected its magic).
        let status = czlib_inflate_init2(&stream, 15 + 16)
        guard status == Z_OK else {
            throw FormatError(.io, offset: 0, phase: .io, "zlib inflateInit2 failed (\(status))")
        }
    }

    deinit {
        inflateEnd(&stream)
    }

    func reset() throws(FormatError) {
        let status = inflateReset(&stream)
        guard status == Z_OK else {
            throw FormatError(.io, offset: 0, phase: .io, "zlib inflateReset failed (\(status))")
        }
    }

    /// Inflates from `input` into `output`; returns what was produced and whether the member ended.
    func inflate(from input: inout ByteBuffer, into output: inout ByteBuffer, atMost count: Int)
        throws(FormatError) -> (produced: Int, ended: Bool)
    {
        var status: Int32 = Z_OK
        var consumed = 0
        let produced = output.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { target in
            input.withUnsafeMutableReadableBytes { source in
                stream.next_in = source.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.avail_in = UInt32(min(source.count, Int(UInt32.max)))
                stream.next_out = target.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = UInt32(min(count, target.count, Int(UInt32.max)))
                let availableOut = stream.avail_out
                let availableIn = stream.avail_in
                status = CZlib.inflate(&stream, Z_NO_FLUSH)
                consumed = Int(availableIn - stream.avail_in)
                return Int(availableOut - stream.avail_out)
            }
        }
        input.moveReaderIndex(forwardBy: consumed)
        switch status {
        case Z_OK, Z_BUF_ERROR:
            return (produced, false)
        case Z_STREAM_END:
            return (produced, true)
        default:
            let message = stream.msg.map { String(cString: $0) } ?? "status \(status)"
            throw FormatError(.corrupt, offset: 0, phase: .io, "invalid gzip data: \(message)")
        }
    }
}
