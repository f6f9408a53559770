import CZlib
import NIOCore
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a file atomically: into a temporary file in the same directory, then (in ``finish()``) fsync, close,
/// rename over the destination, fsync the directory. A crash at any moment leaves either the old file or the
/// new one. Dropped without ``finish()``, or after ``abort()``, the temporary file is removed.
///
/// Each failing step is named in the error (Redis's `err_op`): "write", "fsync", "rename", "fsync directory".
public final class FileSink: ByteSink {
    /// The destination.
    public let path: String
    /// The temporary file being written.
    public let temporaryPath: String
    private var descriptor: SystemPackage.FileDescriptor?
    private var staging: ByteBuffer
    private var deflater: DeflateStream?
    private var finished = false
    /// Bytes handed to the operating system so far (after compression).
    public private(set) var bytesWritten: Int64 = 0

    static let stagingBytes = 256 * 1024

    /// Creates the temporary file next to `path`; `gzip` compresses what is written.
    ///
    /// - Throws: `.io` when the temporary file cannot be created.
    public init(path: String, gzip: Bool = false) throws(FormatError) {
        self.path = path
        let file = FilePath(path)
        let directory = file.removingLastComponent()
        let name = file.lastComponent?.string ?? "output"
        var random = SystemRandomNumberGenerator()
        let suffix = String(random.next() & 0xFFFF_FFFF, radix: 16)
        let temporary = directory.appending(".\(name).tmp-\(getpid())-\(suffix)")
        self.temporaryPath = temporary.string
        self.staging = ByteBufferAllocator().buffer(capacity: FileSink.stagingBytes)
        do {
            self.descriptor = try SystemPackage.FileDescriptor.open(
                temporary, .writeOnly, options: [.create, .exclusiveCreate, .closeOnExec],
                permissions: [.ownerReadWrite, .groupRead, .otherRead])
        } catch {
            throw FormatError(.io, offset: 0, phase: .io, "create temporary file \(temporary): \(error)", underlying: error)
        }
        if gzip {
            self.deflater = try DeflateStream()
        }
    }

    deinit {
        if !finished { abort() }
    }

    public func write(_ bytes: ByteBuffer) throws(FormatError) {
        if let deflater {
            try deflater.deflate(bytes, into: &staging, finish: false)
        } else {
            staging.appendBytes(of: bytes)
        }
        if staging.readableBytes >= FileSink.stagingBytes {
            try flushStaging()
        }
    }

    private func flushStaging() throws(FormatError) {
        guard let descriptor, staging.readableBytes > 0 else { return }
        do throws(FormatError) {
            try descriptor.writeAll(staging, naming: temporaryPath)
        } catch {
            var error = error
            error.offset = bytesWritten
            throw error
        }
        bytesWritten += Int64(staging.readableBytes)
        staging.clear()
    }

    /// Flushes, fsyncs, closes, renames over the destination and fsyncs the directory.
    public func finish() throws(FormatError) {
        guard !finished, let descriptor else { return }
        do throws(FormatError) {
            if let deflater {
                try deflater.deflate(ByteBuffer(), into: &staging, finish: true)
            }
            try flushStaging()
            guard fsync(descriptor.rawValue) == 0 else {
                let error = Errno(rawValue: errno)
                throw FormatError(.io, offset: bytesWritten, phase: .io, "fsync \(temporaryPath): \(error)", underlying: error)
            }
            do {
                try descriptor.close()
                self.descriptor = nil
            } catch {
                throw FormatError(.io, offset: bytesWritten, phase: .io, "close \(temporaryPath): \(error)", underlying: error)
            }
            guard rename(temporaryPath, path) == 0 else {
                let error = Errno(rawValue: errno)
                throw FormatError(.io, offset: bytesWritten, phase: .io, "rename \(temporaryPath) to \(path): \(error)", underlying: error)
            }
            finished = true
            try FileSink.syncDirectory(of: path)
        } catch {
            if !finished { abort() }
            throw error
        }
    }

    /// Closes and removes the temporary file; the destination is untouched.
    public func abort() {
        if let descriptor {
            try? descriptor.close()
            self.descriptor = nil
        }
        if !finished {
            unlink(temporaryPath)
            finished = true
        }
    }

    /// fsyncs the directory holding `path`, so that a rename in it is durable.
    public static func syncDirectory(of path: String) throws(FormatError) {
        let directory = FilePath(path).removingLastComponent()
        let directoryPath = directory.isEmpty ? "." : directory.string
        let descriptor = open(directoryPath, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            let error = Errno(rawValue: errno)
            throw FormatError(.io, offset: 0, phase: .io, "open directory \(directoryPath): \(error)", underlying: error)
        }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else {
            let error = Errno(rawValue: errno)
            throw FormatError(.io, offset: 0, phase: .io, "fsync directory \(directoryPath): \(error)", underlying: error)
        }
    }
}

extension FileSink {
    /// Removes the temporary files that writers killed before ``finish()`` left in `directory`: names
    /// `.<destination>.tmp-<pid>-<hex>` whose process no longer runs (files of a live writer, this process's
    /// included, are kept). `destinations` limits the destination names; nil takes any.
    ///
    /// A kill -9 during a save leaves such a file (Redis leaves its `temp-<pid>.rdb` the same way); a server
    /// calls this at start-up, before anything of its own is being written.
    ///
    /// - Returns: the paths removed.
    @discardableResult
    public static func removeAbandonedTemporaryFiles(
        in directory: String, destinations: Set<String>? = nil
    ) -> [String] {
        guard let stream = opendir(directory.isEmpty ? "." : directory) else { return [] }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
                String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            }
            names.append(name)
        }
        closedir(stream)
        var removed: [String] = []
        for name in names {
            guard let (destination, pid) = abandonedTemporaryName(name),
                destinations?.contains(destination) ?? true,
                pid != getpid(), kill(pid, 0) != 0, errno == ESRCH
            else { continue }
            let path = FilePath(directory.isEmpty ? "." : directory).appending(name).string
            if unlink(path) == 0 { removed.append(path) }
        }
        return removed
    }

    /// The destination and writer's process id of a temporary file name made by ``init(path:gzip:)``.
    static func abandonedTemporaryName(_ name: String) -> (destination: String, pid: pid_t)? {
        let pieces = name.split(separator: "-", omittingEmptySubsequences: false)
        guard name.hasPrefix("."), pieces.count >= 3 else { return nil }
        let head = pieces.dropLast(2).joined(separator: "-")  // ".<destination>.tmp"
        let pidText = pieces[pieces.count - 2]
        let suffix = pieces[pieces.count - 1]
        guard head.hasSuffix(".tmp"), head.count > ".tmp".count + 1, let pid = pid_t(pidText), pid > 0,
            !suffix.isEmpty, suffix.allSatisfy({ $0.isHexDigit })
        else { return nil }
        let destination = String(head.dropFirst().dropLast(".tmp".count))
        return (destination, pid)
    }
}

/// Writes to standard output, optionally gzip-compressed.
public final class StandardOutputSink: ByteSink {
    private var staging = ByteBufferAllocator().buffer(capacity: FileSink.stagingBytes)
    private let deflater: DeflateStream?

    public init(gzip: Bool = false) throws(FormatError) {
        self.deflater = gzip ? try DeflateStream() : nil
    }

    public func write(_ bytes: ByteBuffer) throws(FormatError) {
        if let deflater {
            try deflater.deflate(bytes, into: &staging, finish: false)
        } else {
            staging.appendBytes(of: bytes)
        }
        if staging.readableBytes >= FileSink.stagingBytes { try flush() }
    }

    private func flush() throws(FormatError) {
        defer { staging.clear() }
        try SystemPackage.FileDescriptor.standardOutput.writeAll(staging, naming: "standard output")
    }

    public func finish() throws(FormatError) {
        if let deflater { try deflater.deflate(ByteBuffer(), into: &staging, finish: true) }
        try flush()
    }
}

/// Owns a zlib deflate state producing a gzip stream.
final class DeflateStream {
    private var stream = z_stream()

    init() throws(FormatError) {
        let status = czlib_deflate_init2(&stream, 6, 15 + 16)
        guard status == Z_OK else {
            throw FormatError(.io, offset: 0, phase: .io, "zlib deflateInit2 failed (\(status))")
        }
    }

    deinit {
        deflateEnd(&stream)
    }

    /// Compresses `input` (all of it) and appends the output to `output`; `finish` writes the gzip trailer.
    func deflate(_ input: ByteBuffer, into output: inout ByteBuffer, finish: Bool) throws(FormatError) {
        var input = input
        var status: Int32 = Z_OK
        repeat {
            var consumed = 0
            output.reserveCapacity(minimumWritableBytes: 64 * 1024)
            _ = output.writeWithUnsafeMutableBytes(minimumWritableBytes: 64 * 1024) { target in
                input.withUnsafeMutableReadableBytes { source in
                    stream.next_in = source.baseAddress?.assumingMemoryBound(to: Bytef.self)
                    stream.avail_in = UInt32(min(source.count, Int(UInt32.max)))
                    stream.next_out = target.baseAddress?.assumingMemoryBound(to: Bytef.self)
                    stream.avail_out = UInt32(min(target.count, Int(UInt32.max)))
                    let availableOut = stream.avail_out
                    let availableIn = stream.avail_in
                    status = CZlib.deflate(&stream, finish ? Z_FINISH : Z_NO_FLUSH)
                    consumed = Int(availableIn - stream.avail_in)
                    return Int(availableOut - stream.avail_out)
                }
            }
            input.moveReaderIndex(forwardBy: consumed)
            if status == Z_STREAM_ERROR {
                throw FormatError(.io, offset: 0, phase: .io, "zlib deflate failed")
            }
        } while input.readableBytes > 0 || (finish && status != Z_STREAM_END)
    }
}

extension SystemPackage.FileDescriptor {
    /// Writes every readable byte of `buffer`, retrying partial writes and EINTR.
    ///
    /// - Throws: `.io` naming `what` and the system error (ENOSPC, EIO…).
    func writeAll(_ buffer: ByteBuffer, naming what: String) throws(FormatError) {
        let failure: Errno? = buffer.withUnsafeReadableBytes { bytes -> Errno? in
            do {
                _ = try self.writeAll(bytes)
                return nil
            } catch {
                return error as? Errno ?? .ioError
            }
        }
        if let failure {
            throw FormatError(.io, offset: 0, phase: .io, "write \(what): \(failure)", underlying: failure)
        }
    }
}
