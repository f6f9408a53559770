import Formats
import Foundation
import Keyspace
import Logging
import NIOCore
import NIOPosix

// MARK: - Persistence state: the one background job, RDB save status, the AOF
//
// Fork emulation: where Redis forks a child that writes the dataset while the parent goes on, we take
// `keyspace.snapshot()` (O(1): the databases are persistent hash trees; values share their storage) on the event
// loop and hand it to one background thread. Clients keep writing: the first write to a part of the tree after
// the snapshot copies only that path (O(log n) nodes, or one 128-element chunk of a list or zset), so the extra
// memory is what was written during the save, never a second copy of the dataset.

/// What the one background job is doing (Redis allows one child at a time: `hasActiveChildProcess`).
enum BackgroundJobKind: Sendable {
    case rdb
    case aofRewrite
}

/// A running background job.
struct BackgroundJob {
    var kind: BackgroundJobKind
    /// Unix milliseconds when it started.
    var startedAt: Int64
    /// `keyspace.dirty` when the snapshot was taken: a successful save subtracts it (`dirty_before_bgsave`).
    var dirtyAtStart: Int
    /// Resident set size when the snapshot was taken, and the highest seen since (the "copy-on-write" cost).
    var residentAtStart: Int
    var peakResident: Int
}

/// Everything persistence keeps between commands. Confined to the server's event loop.
final class PersistenceState {
    /// The thread that writes snapshots (started on first use).
    private var pool: NIOThreadPool?
    var job: BackgroundJob?

    // RDB
    var lastBackgroundSaveOK = true
    var lastBackgroundSaveSeconds = -1
    /// Unix milliseconds of the last background save attempt (a failed one is retried after 5 s, as Redis does).
    var lastBackgroundSaveTry: Int64 = 0
    var backgroundSaveScheduled = false
    /// Microseconds the command thread spent taking the last snapshot (INFO `latest_fork_usec`).
    var latestSnapshotMicroseconds = 0
    /// Snapshots taken for background jobs (INFO `total_forks`).
    var snapshotsTaken = 0
    /// Extra resident memory seen during the last job (INFO `rdb_last_cow_size` / `aof_last_cow_size`).
    var lastRDBExtraBytes = 0
    var lastAOFExtraBytes = 0

    // AOF
    var aof: AppendOnlyLog?
    var rewriteScheduled = false
    var lastRewriteOK = true
    var lastRewriteSeconds = -1
    var rewrites = 0
    var rewriteConsecutiveFailures = 0
    /// errno of the last AOF write while it keeps failing (Redis's `aof_last_write_status` / `_errno`); nil
    /// once a write succeeds.
    var lastAOFWriteFailure: Int32?
    /// Unix milliseconds of the last "Error writing to the AOF file" line (logged at most every 30 seconds).
    var lastAOFWriteErrorLog: Int64 = 0
    /// AOF loading at start-up: whether it was truncated.
    var loadTruncated = false

    /// Runs `work` on the background thread; `completion` runs on `loop` with its result.
    func runInBackground<T: Sendable>(
        on loop: any EventLoop, _ work: @escaping @Sendable () throws -> T,
        completion: @escaping (Result<T, any Error>) -> Void
    ) {
        if pool == nil {
            let pool = NIOThreadPool(numberOfThreads: 1)
            pool.start()
            self.pool = pool
        }
        pool!.runIfActive(eventLoop: loop, work).whenComplete(completion)
    }

    deinit { try? pool?.syncShutdownGracefully() }
}

/// Monotonic microseconds, for measuring the snapshot pause and command times.
func monotonicMicroseconds() -> Int { Int(monotonicNanoseconds() / 1000) }
