import Dispatch
import Formats
import Foundation
import Keyspace
import Logging
import NIOCore
import SystemPackage

// MARK: - The append-only file, Redis 7's multi-part layout
//
//   <dir>/<appenddirname>/
//       <appendfilename>.<n>.base.rdb|aof    the dataset at the last rewrite
//       <appendfilename>.<m>.incr.aof        commands since (one per rewrite started; the last one is appended to)
//       <appendfilename>.manifest            which files, in which order (replaced atomically)
//
// Commands reach the incr file as Redis propagates them (SELECT on database change, MULTI/EXEC around
// transactions, relative expiries as PEXPIREAT…): the engine records them, the server writes them before it
// sends the replies, and fsyncs per `appendfsync`: `always` before the replies leave, `everysec` from a
// background queue once a second, `no` never (the kernel decides).

/// `appendfsync`.
enum FsyncPolicy: String {
    case always, everysec, no
}

/// The open AOF of a running server. Confined to the event loop, but for the everysec fsync queue.
final class AppendOnlyLog {
    /// `<dir>/<appenddirname>`.
    let directory: String
    let appendFileName: String
    var policy: FsyncPolicy
    private(set) var manifest: AOFManifest
    private var writer: AOFWriter<AppendFileSink>
    /// The incr file being appended to.
    private(set) var incrementalPath: String
    /// Bytes of the base file and of every file (INFO `aof_base_size`, `aof_current_size`).
    private(set) var baseSize: Int64
    private var previousIncrementalBytes: Int64
    var currentSize: Int64 { baseSize + previousIncrementalBytes + writer.sink.size }
    /// Bytes written since the last fsync started.
    private var unsyncedBytes: Int64 = 0
    private var lastSync: Int64 = 0
    private let syncQueue = DispatchQueue(label: "aof-fsync")
    private let syncStatus = BackgroundSyncStatus()
    /// errno of the last background fsync when it failed (Redis's `aof_bio_fsync_status` / `_errno`), as last
    /// seen by ``cron(server:)``.
    private(set) var reportedSyncFailure: Int32?

    var manifestPath: String { directory + "/" + AOFManifest.manifestFileName(appendFileName) }

    private init(
        directory: String, appendFileName: String, policy: FsyncPolicy, timestamps: Bool, manifest: AOFManifest,
        incrementalPath: String, baseSize: Int64, previousIncrementalBytes: Int64
    ) throws(FormatError) {
        self.directory = directory
        self.appendFileName = appendFileName
        self.policy = policy
        self.manifest = manifest
        self.incrementalPath = incrementalPath
        self.baseSize = baseSize
        self.previousIncrementalBytes = previousIncrementalBytes
        var options = AOFWriteOptions()
        options.timestampAnnotations = timestamps
        options.bufferBytes = 1 << 30  // flushed by the server once per event-loop iteration
        writer = AOFWriter(sink: try AppendFileSink(path: incrementalPath), options: options)
        lastSync = Keyspace.unixMilliseconds()
    }

    /// Opens the AOF in `directory` for appending: the last incr file of its manifest, or, when the manifest
    /// has none, a new one (recorded in the manifest first). `manifest` nil creates an empty directory layout
    /// (no base yet; the caller starts a rewrite to make one, as Redis 7 does).
    static func open(
        directory: String, appendFileName: String, policy: FsyncPolicy, timestamps: Bool, manifest existing: AOFManifest?
    ) throws(FormatError) -> AppendOnlyLog {
        try makeDirectory(directory)
        var manifest = existing ?? AOFManifest()
        let sizes = { (entries: [AOFManifestEntry]) -> Int64 in
            entries.reduce(0) { $0 + fileSize(directory + "/" + $1.fileName) }
        }
        let baseSize = manifest.base.map { fileSize(directory + "/" + $0.fileName) } ?? 0
        if manifest.incrementals.isEmpty {
            // Redis numbers incr files apart from bases: the first is 1 whatever the base's number.
            let sequence: Int64 = 1
            manifest.incrementals.append(AOFManifestEntry(
                fileName: AOFManifest.incrementalFileName(appendFileName, sequence: sequence), sequence: sequence, type: .incremental))
            try manifest.write(to: directory + "/" + AOFManifest.manifestFileName(appendFileName))
        }
        let last = manifest.incrementals.last!
        return try AppendOnlyLog(
            directory: directory, appendFileName: appendFileName, policy: policy, timestamps: timestamps, manifest: manifest,
            incrementalPath: directory + "/" + last.fileName, baseSize: baseSize,
            previousIncrementalBytes: sizes(Array(manifest.incrementals.dropLast())))
    }

    // MARK: - Appending

    /// Buffers propagated commands (written at the next ``flush()``).
    func append(_ commands: [PropagatedCommand], unixTime: Int64) throws(FormatError) {
        for command in commands {
            try writer.writeCommand(bytes: command.argv, database: command.db, unixTime: unixTime)
        }
    }

    /// Writes what is buffered; with `appendfsync always`, makes it durable before returning.
    /// - Throws: the step that failed. A failed write is cut off the file by the sink and its bytes stay
    ///   buffered, so the next call writes them again (Redis's `aof_buf`).
    func flush() throws(AOFFlushError) {
        let before = writer.sink.size
        do throws(FormatError) {
            try writer.flush()
        } catch {
            // The sink could not cut a partial write back: what reached the file is not written again.
            if writer.sink.size > before { writer.dropBuffered(Int(writer.sink.size - before)) }
            throw AOFFlushError(step: .write, error: error)
        }
        unsyncedBytes += writer.sink.size - before
        if policy == .always, unsyncedBytes > 0 {
            do throws(FormatError) {
                try writer.sink.sync()
            } catch {
                throw AOFFlushError(step: .fsync, error: error)
            }
            unsyncedBytes = 0
        }
    }

    /// Once a second with `everysec`: fsync on the background queue (the event loop never waits for the disk).
    /// While the last background fsync failed, it is tried again once a second even with nothing new written,
    /// so that a disk that recovers clears the error (Redis 7.0 only fsyncs again after the next append).
    func cron(server: ServerCore) {
        let failure = syncStatus.failure
        if failure != reportedSyncFailure {
            if let failure {
                serverLog.warning("Fail to fsync the AOF file: \(String(cString: strerror(failure)))")
            } else {
                serverLog.warning("AOF fsync error looks solved, Redis can write again.")
            }
            reportedSyncFailure = failure
            server.updateWriteDenial()
        }
        guard policy == .everysec, unsyncedBytes > 0 || failure != nil else { return }
        let now = Keyspace.unixMilliseconds()
        guard now - lastSync >= 1000 else { return }
        lastSync = now
        unsyncedBytes = 0
        let path = incrementalPath
        let status = syncStatus
        syncQueue.async {
            let fd = Foundation.open(path, O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { return status.record(errno) }
            status.record(fdatasync(fd) == 0 ? nil : errno)
            Foundation.close(fd)
        }
    }

    /// Makes everything durable now (shutdown, before a rewrite swaps files).
    func syncNow() throws(FormatError) {
        try writer.flush()
        try writer.sink.sync()
        unsyncedBytes = 0
        syncQueue.sync {}
    }

    /// Flushes, syncs and closes (appendonly no, shutdown).
    func close() throws(FormatError) {
        try writer.flush()
        syncQueue.sync {}
        try writer.sink.finish()
    }

    // MARK: - Rewrite

    /// Starts a rewrite: a new incr file takes the appends from now on, and the manifest lists it after the old
    /// ones (a crash during the rewrite loads old base + all incrs). Returns the sequence for the new base.
    func beginRewrite(timestamps: Bool) throws(FormatError) -> Int64 {
        try syncNow()
        let sequence = (manifest.incrementals.last?.sequence ?? 0) + 1
        var next = manifest
        next.incrementals.append(AOFManifestEntry(
            fileName: AOFManifest.incrementalFileName(appendFileName, sequence: sequence), sequence: sequence, type: .incremental))
        let path = directory + "/" + next.incrementals.last!.fileName
        var options = AOFWriteOptions()
        options.timestampAnnotations = timestamps
        options.bufferBytes = 1 << 30
        let newWriter = AOFWriter(sink: try AppendFileSink(path: path), options: options)
        do {
            try next.write(to: manifestPath)
        } catch {
            // No manifest names the new file: remove it rather than leave a stray incr behind.
            unlink(path)
            throw error
        }
        try writer.sink.finish()
        previousIncrementalBytes += writer.sink.size
        writer = newWriter
        incrementalPath = path
        manifest = next
        return (manifest.base?.sequence ?? 0) + 1
    }

    /// Ends a successful rewrite: `baseName` (written and fsynced by the rewrite) becomes the base, the incr
    /// file opened at ``beginRewrite(timestamps:)`` the only incr; the manifest is replaced atomically, then the
    /// old files are deleted (Redis keeps them as history until then).
    func finishRewrite(baseName: String, sequence: Int64, rdb: Bool) throws(FormatError) {
        let current = manifest.incrementals.last!
        let old = (manifest.base.map { [$0] } ?? []) + manifest.incrementals.dropLast()
        var next = AOFManifest()
        next.base = AOFManifestEntry(fileName: baseName, sequence: sequence, type: .base)
        next.incrementals = [current]
        try next.write(to: manifestPath)
        manifest = next
        for entry in old where entry.fileName != baseName { unlink(directory + "/" + entry.fileName) }
        try? FileSink.syncDirectory(of: manifestPath)
        baseSize = AppendOnlyLog.fileSize(directory + "/" + baseName)
        previousIncrementalBytes = 0
    }

    // MARK: - Files

    static func fileSize(_ path: String) -> Int64 {
        var status = stat()
        return stat(path, &status) == 0 ? Int64(status.st_size) : 0
    }

    static func makeDirectory(_ path: String) throws(FormatError) {
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw FormatError(.io, offset: 0, phase: .io, "mkdir \(path): \(String(cString: strerror(errno)))")
        }
    }
}

/// A failed ``AppendOnlyLog/flush()``: the step and the system error.
struct AOFFlushError: Error, CustomStringConvertible {
    enum Step { case write, fsync }
    var step: Step
    var error: FormatError

    /// The system error (ENOSPC, EIO…) for `-MISCONF Errors writing to the AOF file: <strerror>`.
    var errno: Int32 { (error.underlying as? Errno)?.rawValue ?? EIO }

    var description: String { error.description }
}

/// The outcome of the last background fsync, written by the fsync queue and read by the event loop.
final class BackgroundSyncStatus: @unchecked Sendable {
    private let lock = NSLock()
    private var lastFailure: Int32?

    /// Records an fsync: nil when it succeeded, else its errno.
    func record(_ failure: Int32?) {
        lock.lock()
        lastFailure = failure
        lock.unlock()
    }

    /// errno of the last fsync when it failed, nil when it succeeded.
    var failure: Int32? {
        lock.lock()
        defer { lock.unlock() }
        return lastFailure
    }
}
