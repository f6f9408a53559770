// Reading an RDB on a thread of its own, ahead of whoever uses the events.
//
//   reader thread:  RDBReader.next() (CRC64, LZF, blob validation) → filter → transform → batches ─┐
//                                                                                                  │ at most
//   caller:         next() ← batches ← ────────────────────────────────────────────────────────────┘ 4 batches
//
// Decoding the input and using it (a conversion's encoding and compression, a server's inserts) then run on
// two cores at once; the transform moves work (and ownership of the bytes) to the reader's side. The events keep
// their file order, an error comes after the events read before it, and the caller sees nothing of the keys the
// filter rejects (skipped on the reader thread with skipValue()) nor of the events the transform keeps.

import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A run of events read ahead, each made into an `Item` on the reader thread, and how the reading ended if it did.
public struct RDBReadAheadBatch<Item> {
    /// The events in file order, as the read-ahead's transform made them. Optional so that ``drain(_:)`` can
    /// move each out of the array in place.
    public var items: ContiguousArray<Item?> = []
    /// With ``RDBReadOptions/keepsCompressedStrings``: the strings stored LZF-compressed that the reader read
    /// up to an event (``RDBReader/takeCompressedStrings()``), with that event's index in `items`, in order
    /// (for an event the transform kept, the index of the next item).
    public var compressedStrings: [(event: Int, strings: [RDBCompressedString])] = []
    /// The reader's offset after the last event (for a progress bar).
    public var offset: Int64 = 0
    /// After the `.end` event: the bytes that followed the RDB (read to the end, which verifies a gzip trailer).
    public var trailingBytes: Int64?
    /// The error that stopped the reader, after the events read before it.
    public var error: FormatError?

    public init() {}

    /// Calls `body` with each item in file order, moving it out of the batch; then throws the batch's error.
    public mutating func drain(_ body: (consuming Item) throws(FormatError) -> Void) throws(FormatError) {
        for index in items.indices {
            try body(items[index].take()!)
        }
        if let error { throw error }
    }

    /// Moves the item at `index` out of the batch.
    public mutating func take(_ index: Int) -> Item {
        items[index].take()!
    }
}

/// Runs an ``RDBReader`` on a thread of its own and hands its events over in batches, each event made into an
/// `Item` by a transform that also runs on that thread.
///
/// What the transform does is work taken off the caller's thread, and it decides what crosses between the two:
/// the reader's events hold slices of its input window, whose shared reference count the reader thread keeps
/// changing; an item that owns its bytes (the server's loader copies strings into its own ``Bytes`` there) is
/// then released by the caller without touching that count.
///
/// A batch ends after `batchEvents` events or `batchInputBytes` bytes of input, and the reader thread waits
/// while `maximumBatches` are queued: what the events hold (slices of the input, decompressed blobs) stays
/// within a few MiB whatever the input. Dropping the `RDBReadAhead` stops the thread and waits for it, so the
/// caller may close the source right after.
///
/// ```swift
/// let readAhead = RDBReadAhead(reader: RDBReader(source: source))
/// while var batch = readAhead.next() {
///     try batch.drain { event in … }
/// }
/// ```
public final class RDBReadAhead<Source: ByteSource, Item> {
    private let shared: ReadAheadQueue<Source, Item>

    static var batchEvents: Int { 4096 }
    static var batchInputBytes: Int64 { 256 * 1024 }
    public static var maximumBatches: Int { 4 }

    /// Starts the reader thread. `accepts` (called on that thread) decides which keys are read; the others are
    /// skipped without assembling their values. `transform` (called on that thread too) makes each event into an
    /// item, or keeps it (nil: nothing is handed over for it, so a transform may do the caller's work for some
    /// events itself); an error it throws ends the reading as the reader's own would. Its second argument is the
    /// backlog: how many batches were waiting for the caller when the last one was queued, from 1 (the caller
    /// keeps up) to ``maximumBatches`` (it is behind, and the reader thread has time for more of its work).
    public init(
        reader: RDBReader<Source>, accepting accepts: ((RDBKeyHeader) -> Bool)? = nil,
        transform: @escaping (consuming RDBEvent, _ backlog: Int) throws(FormatError) -> Item?
    ) {
        shared = ReadAheadQueue(reader: reader, accepts: accepts, transform: transform)
        // The thread's closure is built here, where `Source` is known, so that the reader runs specialized code.
        DetachedThread.start { [shared] in shared.produce() }
    }

    deinit {
        shared.cancelAndWait()
    }

    /// The next batch, waiting for the reader thread if needed; nil once the last batch (the one with the end,
    /// or an error) has been taken.
    public func next() -> RDBReadAheadBatch<Item>? {
        shared.next()
    }

    /// Gives a drained batch back, so that the reader thread fills its array again instead of allocating one
    /// (an array of a few thousand items is large enough for malloc to map fresh pages for it every time).
    public func recycle(_ batch: consuming RDBReadAheadBatch<Item>) {
        shared.recycle(batch.items)
    }
}

extension RDBReadAhead where Item == RDBEvent {
    /// A read-ahead that hands the reader's events over as they are.
    public convenience init(reader: RDBReader<Source>, accepting accepts: ((RDBKeyHeader) -> Bool)? = nil) {
        self.init(reader: reader, accepting: accepts, transform: { (event, _) throws(FormatError) in event })
    }
}

/// A detached POSIX thread running a closure (Formats does not depend on Foundation's `Thread`).
package final class DetachedThread: @unchecked Sendable {
    private let body: () -> Void

    private init(_ body: @escaping () -> Void) {
        self.body = body
    }

    package static func start(_ body: @escaping () -> Void) {
        let context = Unmanaged.passRetained(DetachedThread(body)).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { context in
            let entry = Unmanaged<DetachedThread>.fromOpaque(context!).takeRetainedValue()
            entry.body()
            return nil
        }, context)
        precondition(status == 0, "pthread_create failed (\(status))")
        pthread_detach(thread)
    }
}

/// CLOCK_MONOTONIC in nanoseconds: durations (the snapshot pause, command times) and ``Monitor``'s timed waits.
package func monotonicNanoseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Int64(now.tv_sec) &* 1_000_000_000 &+ Int64(now.tv_nsec)
}

/// A mutex with one condition variable.
package final class Monitor: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()

    package init() {
        pthread_mutex_init(&mutex, nil)
        // Timed waits read the monotonic clock: a wall-clock step must not stretch or cut them.
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(&condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(&condition)
        pthread_mutex_destroy(&mutex)
    }

    package func lock() { pthread_mutex_lock(&mutex) }
    package func unlock() { pthread_mutex_unlock(&mutex) }
    package func wait() { pthread_cond_wait(&condition, &mutex) }

    /// Waits for a broadcast or until ``monotonicNanoseconds()`` reads `deadline`.
    package func wait(untilMonotonicNanoseconds deadline: Int64) {
        let time = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        withUnsafePointer(to: time) { _ = pthread_cond_timedwait(&condition, &mutex, $0) }
    }
    package func broadcast() { pthread_cond_broadcast(&condition) }
}

/// What the caller and the reader thread share: the queue of batches, under `monitor`. The reader and the
/// filter are the reader thread's alone once it has started.
private final class ReadAheadQueue<Source: ByteSource, Item>: @unchecked Sendable {
    private let monitor = Monitor()
    private var queue: [RDBReadAheadBatch<Item>] = []
    /// Item arrays of drained batches, emptied, for the reader thread's next batches.
    private var spareItems: [ContiguousArray<Item?>] = []
    private var queueHead = 0
    private var cancelled = false
    /// Set by the reader thread when it has stopped using the reader (and so the source).
    private var producerDone = false
    private var reader: RDBReader<Source>?
    private let accepts: ((RDBKeyHeader) -> Bool)?
    private let transform: (consuming RDBEvent, _ backlog: Int) throws(FormatError) -> Item?

    init(
        reader: RDBReader<Source>, accepts: ((RDBKeyHeader) -> Bool)?,
        transform: @escaping (consuming RDBEvent, _ backlog: Int) throws(FormatError) -> Item?
    ) {
        self.reader = reader
        self.accepts = accepts
        self.transform = transform
    }

    func next() -> RDBReadAheadBatch<Item>? {
        monitor.lock()
        defer { monitor.unlock() }
        while queueHead == queue.count && !producerDone {
            monitor.wait()
        }
        guard queueHead < queue.count else { return nil }
        var batch = RDBReadAheadBatch<Item>()
        swap(&batch, &queue[queueHead])
        queueHead += 1
        if queueHead == queue.count {
            queue.removeAll(keepingCapacity: true)
            queueHead = 0
        }
        monitor.broadcast()
        return batch
    }

    func recycle(_ items: consuming ContiguousArray<Item?>) {
        monitor.lock()
        defer { monitor.unlock() }
        if spareItems.count < RDBReadAhead<Source, Item>.maximumBatches { spareItems.append(items) }
    }

    /// An empty item array: a recycled one if there is one, emptied here, so that what the caller left in it is
    /// freed by the thread that allocated it (glibc's frees from another thread contend for this one's arena).
    private func emptyItems(capacity: Int) -> ContiguousArray<Item?> {
        monitor.lock()
        var items = spareItems.popLast()
        monitor.unlock()
        if items == nil {
            items = []
            items!.reserveCapacity(capacity)
        } else {
            items!.removeAll(keepingCapacity: true)
        }
        return items!
    }

    /// Stops the reader thread at its next batch and waits until it no longer uses the reader; what it queued
    /// is dropped.
    func cancelAndWait() {
        monitor.lock()
        cancelled = true
        queue.removeAll()
        queueHead = 0
        monitor.broadcast()
        while !producerDone { monitor.wait() }
        monitor.unlock()
    }

    /// The reader thread: reads to the end of the RDB (or an error) in batches.
    func produce() {
        defer {
            monitor.lock()
            producerDone = true
            monitor.broadcast()
            monitor.unlock()
        }
        guard var reader = self.reader.take() else { return }
        let keepsCompressedStrings = reader.options.keepsCompressedStrings
        var batch = RDBReadAheadBatch<Item>()
        var capacity = 256
        var batchStart = reader.offset
        var backlog = 1
        var ended = false
        while !ended {
            do throws(FormatError) {
                if let event = try reader.next() {
                    if keepsCompressedStrings {
                        let strings = reader.takeCompressedStrings()
                        if !strings.isEmpty { batch.compressedStrings.append((batch.items.count, strings)) }
                    }
                    // Tests first, then the event moved into the transform: a `switch` binding it (`case let
                    // other`) would copy every event and destroy the original (a tenth of a load's instructions).
                    if let accepts, case .beginKey(let header) = event, !accepts(header) {
                        _ = try reader.skipValue()
                        if keepsCompressedStrings {  // the skipped key's, not the next event's
                            _ = reader.takeCompressedStrings()
                            if batch.compressedStrings.last?.event == batch.items.count { batch.compressedStrings.removeLast() }
                        }
                    } else if case .end(let status) = event {
                        batch.trailingBytes = try reader.readTrailingBytes()
                        ended = true
                        if let item = try transform(.end(status), backlog) { batch.items.append(item) }
                    } else if let item = try transform(consume event, backlog) {
                        batch.items.append(item)
                    }
                } else {
                    ended = true
                }
            } catch {
                batch.error = error
                ended = true
            }
            if ended || batch.items.count >= RDBReadAhead<Source, Item>.batchEvents
                || reader.offset - batchStart >= RDBReadAhead<Source, Item>.batchInputBytes
            {
                batch.offset = reader.offset
                batchStart = reader.offset
                capacity = max(capacity, batch.items.count)
                var full = RDBReadAheadBatch<Item>()
                full.items = emptyItems(capacity: capacity)
                swap(&full, &batch)
                guard let queued = enqueue(&full) else { return }
                backlog = queued
            }
        }
    }

    /// Moves `batch` into the queue (leaving an empty one: no reference to its arrays stays here, or the caller
    /// would copy them on its first change), waiting while the queue is full; the batches now queued, or nil
    /// when the caller has cancelled.
    private func enqueue(_ batch: inout RDBReadAheadBatch<Item>) -> Int? {
        monitor.lock()
        defer { monitor.unlock() }
        while !cancelled && queue.count - queueHead >= RDBReadAhead<Source, Item>.maximumBatches {
            monitor.wait()
        }
        guard !cancelled else { return nil }
        queue.append(RDBReadAheadBatch())
        swap(&queue[queue.count - 1], &batch)
        monitor.broadcast()
        return queue.count - queueHead
    }
}
