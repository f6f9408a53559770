import NIOCore
import SystemPackage

/// A file, standard input or memory, transparently gunzipped when it starts with the gzip magic (1f 8b).
///
/// This is what the tools open: `InputSource.open("-")` reads standard input.
public struct InputSource: ByteSource {
    private enum Mode {
        case plain(FileSource)
        case gzip(GzipSource<FileSource>)
        case memory(ByteBufferSource)
        case memoryGzip(GzipSource<ByteBufferSource>)
    }
    private var mode: Mode
    private var prefix: ByteBuffer
    /// True when the input was gzip-compressed.
    public let isGzip: Bool
    /// The size of the file in bytes when known (a regular file, not compressed), for progress bars.
    public let knownSize: Int64?

    /// Opens a path, or standard input for `-`, and detects gzip.
    ///
    /// - Throws: `.io` when the file cannot be opened or read.
    public static func open(_ path: String) throws(FormatError) -> InputSource {
        var file: FileSource
        if path == "-" {
            file = FileSource(descriptor: SystemPackage.FileDescriptor.standardInput)
        } else {
            file = try FileSource(path: FilePath(path))
        }
        var size: Int64? = nil
        if path != "-", let end = try? file.descriptor.seek(offset: 0, from: SystemPackage.FileDescriptor.SeekOrigin.end) {
            _ = try? file.descriptor.seek(offset: 0, from: SystemPackage.FileDescriptor.SeekOrigin.start)
            size = end
        }
        var prefix = ByteBufferAllocator().buffer(capacity: 64 * 1024)
        while prefix.readableBytes < 2 {
            if try file.read(into: &prefix, atMost: 64 * 1024) == 0 { break }
        }
        if prefix.readableBytesView.starts(with: [0x1f, 0x8b]) {
            let gzip = try GzipSource(file, prefix: prefix)
            return InputSource(mode: .gzip(gzip), prefix: ByteBuffer(), isGzip: true, knownSize: nil)
        }
        return InputSource(mode: .plain(file), prefix: prefix, isGzip: false, knownSize: size)
    }

    /// Reads from memory, detecting gzip the same way.
    public static func memory(_ bytes: ByteBuffer) throws(FormatError) -> InputSource {
        if bytes.readableBytesView.starts(with: [0x1f, 0x8b]) {
            return InputSource(
                mode: .memoryGzip(try GzipSource(ByteBufferSource(bytes))), prefix: ByteBuffer(), isGzip: true,
                knownSize: nil)
        }
        return InputSource(
            mode: .memory(ByteBufferSource(bytes)), prefix: ByteBuffer(), isGzip: false,
            knownSize: Int64(bytes.readableBytes))
    }

    private init(mode: Mode, prefix: ByteBuffer, isGzip: Bool, knownSize: Int64?) {
        self.mode = mode
        self.prefix = prefix
        self.isGzip = isGzip
        self.knownSize = knownSize
    }

    public mutating func read(into window: inout ByteBuffer, atMost count: Int) throws(FormatError) -> Int {
        if prefix.readableBytes > 0 {
            let taken = min(count, prefix.readableBytes)
            let slice = prefix.readSlice(length: taken)!
            return window.writeImmutableBuffer(slice)
        }
        switch mode {
        case .plain(var file):
            defer { mode = .plain(file) }
            return try file.read(into: &window, atMost: count)
        case .gzip(var gzip):
            defer { mode = .gzip(gzip) }
            return try gzip.read(into: &window, atMost: count)
        case .memory(var memory):
            defer { mode = .memory(memory) }
            return try memory.read(into: &window, atMost: count)
        case .memoryGzip(var gzip):
            defer { mode = .memoryGzip(gzip) }
            return try gzip.read(into: &window, atMost: count)
        }
    }

    /// Compressed bytes consumed so far for gzip input, for progress bars; nil for plain input.
    public var compressedOffset: Int64? {
        switch mode {
        case .gzip(let gzip): gzip.compressedOffset
        case .memoryGzip(let gzip): gzip.compressedOffset
        default: nil
        }
    }

    /// Closes the file if one was opened.
    public func close() {
        switch mode {
        case .plain(let file): file.close()
        default: break
        }
    }
}
