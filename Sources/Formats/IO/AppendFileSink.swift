import NIOCore
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Appends to a file in place: the AOF INCR file a server feeds, where ``FileSink``'s write-then-rename does
/// not fit.
///
/// Each ``write(_:)`` is handed to the operating system at once (`write(2)` with `O_APPEND`, as Redis writes its
/// `aof_buf`), ``sync()`` makes what was written durable (`fdatasync`, as `redis_fsync` on Linux), and
/// ``finish()`` syncs and closes. When the file was created by this sink, the first sync also fsyncs the
/// directory, so that the new name survives a crash.
///
/// A write that fails part-way is cut back off the file (`ftruncate` to the size before it, as Redis's
/// flushAppendOnlyFile does), so a full disk never leaves half a command at the end of the file.
public final class AppendFileSink: ByteSink {
    /// The file appended to.
    public let path: String
    /// The file's size: what it held when opened plus every byte written since.
    public private(set) var size: Int64
    private var descriptor: SystemPackage.FileDescriptor?
    private var directoryNeedsSync: Bool

    /// Opens `path` for appending, creating it (mode 0644) when it does not exist.
    ///
    /// - Throws: `.io` naming the path and the system error.
    public init(path: String) throws(FormatError) {
        self.path = path
        let file = FilePath(path)
        let permissions: FilePermissions = [.ownerReadWrite, .groupRead, .otherRead]
        let descriptor: SystemPackage.FileDescriptor
        do {
            do {
                descriptor = try .open(
                    file, .writeOnly, options: [.append, .create, .exclusiveCreate, .closeOnExec],
                    permissions: permissions)
                directoryNeedsSync = true
            } catch Errno.fileExists {
                descriptor = try .open(file, .writeOnly, options: [.append, .closeOnExec])
                directoryNeedsSync = false
            }
            size = try descriptor.seek(offset: 0, from: .end)
        } catch {
            throw FormatError(.io, offset: 0, phase: .io, "open \(path) for appending: \(error)", underlying: error)
        }
        self.descriptor = descriptor
    }

    deinit {
        try? descriptor?.close()
    }

    /// Writes all of `bytes` at the end of the file.
    ///
    /// - Throws: `.io` ("write") with the system error (ENOSPC, EIO…); the file is then cut back to its size
    ///   before this write. If that fails too, the error says so and ``size`` counts the bytes that stayed.
    public func write(_ bytes: ByteBuffer) throws(FormatError) {
        guard let descriptor else {
            throw FormatError(.io, offset: size, phase: .io, "write \(path): the file is closed")
        }
        do throws(FormatError) {
            try descriptor.writeAll(bytes, naming: path)
        } catch {
            var error = error
            error.offset = size
            if ftruncate(descriptor.rawValue, off_t(size)) != 0 {
                let cutError = Errno(rawValue: errno)
                error.detail += "; could not cut the partial write back to \(size) bytes: \(cutError)"
                if let end = try? descriptor.seek(offset: 0, from: .end) { size = end }
            }
            throw error
        }
        size += Int64(bytes.readableBytes)
    }

    /// Makes everything written durable (`fdatasync`; the first time after creating the file, also fsyncs the
    /// directory).
    ///
    /// - Throws: `.io` naming the step ("fsync", "fsync directory").
    public func sync() throws(FormatError) {
        guard let descriptor else { return }
        #if os(Linux)
        let status = fdatasync(descriptor.rawValue)
        #else
        let status = fsync(descriptor.rawValue)
        #endif
        guard status == 0 else {
            let error = Errno(rawValue: errno)
            throw FormatError(.io, offset: size, phase: .io, "fsync \(path): \(error)", underlying: error)
        }
        if directoryNeedsSync {
            try FileSink.syncDirectory(of: path)
            directoryNeedsSync = false
        }
    }

    /// Syncs and closes the file. Later writes fail; later calls to `finish()` do nothing.
    ///
    /// - Throws: `.io` naming the step ("fsync", "fsync directory", "close").
    public func finish() throws(FormatError) {
        guard let descriptor else { return }
        try sync()
        self.descriptor = nil
        do {
            try descriptor.close()
        } catch {
            throw FormatError(.io, offset: size, phase: .io, "close \(path): \(error)", underlying: error)
        }
    }
}
