import Formats
import NIOCore

/// Where the converted output goes: standard output, or a file written atomically (gzip when its name ends in
/// `.gz`). The one place that knows about `FileSink` and `StandardOutputSink`.
enum OutputSink: ByteSink {
    case file(FileSink)
    case standardOutput(StandardOutputSink)

    /// Opens `path` (a temporary file beside it until ``finish()``), or standard output when `path` is nil.
    ///
    /// - Throws: `.io` when the temporary file cannot be created.
    init(path: String?) throws(FormatError) {
        if let path {
            self = .file(try FileSink(path: path, gzip: path.hasSuffix(".gz")))
        } else {
            self = .standardOutput(try StandardOutputSink())
        }
    }

    mutating func write(_ bytes: ByteBuffer) throws(FormatError) {
        switch self {
        case .file(let file): try file.write(bytes)
        case .standardOutput(let output): try output.write(bytes)
        }
    }

    /// Flushes; for a file also fsync, rename over the destination and fsync the directory.
    mutating func finish() throws(FormatError) {
        switch self {
        case .file(let file): try file.finish()
        case .standardOutput(let output): try output.finish()
        }
    }

    /// After a failure: removes the temporary file, leaving any previous file at the destination untouched.
    func abort() {
        if case .file(let file) = self { file.abort() }
    }
}

/// A text output that gathers small writes and hands them to the sink in chunks of about 64 KiB.
struct BufferedOutput {
    private(set) var sink: OutputSink
    /// Append here, then call ``flushIfFull()``.
    var buffer = ByteBufferAllocator().buffer(capacity: BufferedOutput.chunkBytes + 4096)

    static let chunkBytes = 64 * 1024

    init(sink: OutputSink) {
        self.sink = sink
    }

    mutating func flushIfFull() throws(FormatError) {
        if buffer.readableBytes >= BufferedOutput.chunkBytes { try flush() }
    }

    mutating func flush() throws(FormatError) {
        guard buffer.readableBytes > 0 else { return }
        try sink.write(buffer)
        buffer.clear()
    }

    /// Flushes what is left and finishes the sink.
    mutating func finish() throws(FormatError) {
        try flush()
        try sink.finish()
    }
}
