import NIOCore
import SystemPackage

/// Reads a file or a pipe through a file descriptor.
public struct FileSource: ByteSource {
    /// The descriptor read from. Closed by ``close()``, not by deinit: the reader is a value type.
    public let descriptor: SystemPackage.FileDescriptor
    private let ownsDescriptor: Bool

    /// Opens `path` for reading.
    ///
    /// - Throws: `.io` naming the path and the system error.
    public init(path: FilePath) throws(FormatError) {
        do {
            self.descriptor = try SystemPackage.FileDescriptor.open(path, .readOnly, options: [.closeOnExec])
        } catch {
            throw FormatError(.io, offset: 0, phase: .io, "cannot open \(path): \(error)", underlying: error)
        }
        self.ownsDescriptor = true
    }

    /// Reads from an already open descriptor (standard input), which ``close()`` leaves open.
    public init(descriptor: SystemPackage.FileDescriptor) {
        self.descriptor = descriptor
        self.ownsDescriptor = false
    }

    public mutating func read(into window: inout ByteBuffer, atMost count: Int) throws(FormatError) -> Int {
        var failure: Errno?
        let descriptor = self.descriptor
        let got = window.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { target in
            let target = UnsafeMutableRawBufferPointer(rebasing: target.prefix(count))
            while true {
                do {
                    return try descriptor.read(into: target)
                } catch Errno.interrupted {
                    continue
                } catch {
                    failure = error as? Errno ?? .ioError
                    return 0
                }
            }
        }
        if let failure {
            throw FormatError(.io, offset: 0, phase: .io, "read failed: \(failure)", underlying: failure)
        }
        return got
    }

    /// Closes the descriptor if this source opened it.
    public func close() {
        if ownsDescriptor {
            try? descriptor.close()
        }
    }
}
