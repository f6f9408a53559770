// Reading an RDB on a thread of its own, ahead of whoever uses the events.
//
//   reader thread:  RDBReader.next() (CRC64, LZF, blob validation) → filter → batches of events ─┐
//                                                                                                  │ at most
//   caller:         next() ← batches ← ────────────────────────────────────────────────────────────┘ 4 batches
//
// Decoding the input and using it (a conversion's encoding and compression, a server's inserts) then run on
// two cores at once. The events keep their file order, an error comes after the events read before it, and the
// caller sees nothing of the keys the filter rejects (skipped on the reader thread with skipValue()).

import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A run of events read ahead, and how the reading ended if it did.
///
/// Element events, by far the most, are kept unwrapped in `elements`: taking a payload out of an event copies it,
/// and that copy is then made here, on the reader thread.
public struct RDBReadAheadBatch {
    /// For each event in order: true when it is an element (the next of `elements`), false for the next of
    /// `events`.
    public var isElement: [Bool] = []
    public var elements: [RDBElement] = []
    public var events: [RDBEvent] = []
    /// With ``RDBReadOptions/keepsCompressedStrings``: the strings stored LZF-compressed that the reader read
    /// up to an event (``RDBReader/takeCompressedStrings()``), with that event's index in `isElement`, in order.
    public var compressedStrings: [(event: Int, strings: [RDBCompressedString])] = []
    /// The reader's offset after the last event (for a progress bar).
    public var offset: Int64 = 0
    /// After the `.end` event: the bytes that followed the RDB (read to the end, which verifies a gzip trailer).
    public var trailingBytes: Int64?
    /// The error that stopped the reader, after the events read before it.
    public var error: FormatError?

    public init() {}

    /// Calls `body` with each event in file order, moving it out of the batch; then throws the batch's error.
    public mutating func drain(_ body: (consuming RDBEvent) throws(FormatError) -> Void) throws(FormatError) {
        try drain(elements: { (element) throws(FormatError) in try body(.element(element)) }, events: body)
    }

    /// ``drain(_:)`` with the element events, by far the most, handed over as they are kept (no `.element`
    /// wrapper to build and take apart again), and the others to `events`, in file order.
    public mutating func drain(
        elements elementBody: (consuming RDBElement) throws(FormatError) -> Void,
        events eventBody: (consuming RDBEvent) throws(FormatError) -> Void
    ) throws(FormatError) {
        var element = 0
        var other = 0
        for isElement in self.isElement {
            if isElement {
                var taken = RDBElement.listItem(.integer(0))
                swap(&taken, &elements[element])
                element += 1
                try elementBody(taken)
            } else {
                var taken = RDBEvent.endKey
                swap(&taken, &events[other])
                other += 1
                try eventBody(taken)
            }
        }
        if let error { throw error }
    }
}

/// Runs an ``RDBReader`` on a thread of its own and hands its events over in batches.
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
public final class RDBReadAhead<Source: ByteSource> {
    private let shared: ReadAheadQueue<Source>

    static var batchEvents: Int { 4096 }
    static var batchInputBytes: Int64 { 256 * 1024 }
    static var maximumBatches: Int { 4 }

    /// Starts the reader thread. `accepts` (called on that thread) decides which keys are read; the others are
    /// skipped without assembling their values.
    public init(reader: RDBReader<Source>, accepting accepts: ((RDBKeyHeader) -> Bool)? = nil) {
        shared = ReadAheadQueue(reader: reader, accepts: accepts)
        // The thread's closure is built here, where `Source` is known, so that the reader runs specialized code.
        DetachedThread.start { [shared] in shared.produce() }
    }

    deinit {
        shared.cancelAndWait()
    }

    /// The next batch, waiting for the reader thread if needed; nil once the last batch (the one with the end,
    /// or an error) has been taken.
    public func next() -> RDBReadAheadBatch? {
        shared.next()
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

/// A mutex with one condition variable.
package final class Monitor: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()

    package init() {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
    }

    deinit {
        pthread_cond_destroy(&condition)
        pthread_mutex_destroy(&mutex)
    }

    package func lock() { pthread_mutex_lock(&mutex) }
    package func unlock() { pthread_mutex_unlock(&mutex) }
    package func wait() { pthread_cond_wait(&condition, &mutex) }
    package func broadcast() { pthread_cond_broadcast(&condition) }
}

/// What the caller and the reader thread share: the queue of batches, under `monitor`. The reader and the
/// filter are the reader thread's alone once it has started.
private final class ReadAheadQueue<Source: ByteSource>: @unchecked Sendable {
    private let monitor = Monitor()
    private var queue: [RDBReadAheadBatch] = []
    private var queueHead = 0
    private var cancelled = false
    /// Set by the reader thread when it has stopped using the reader (and so the source).
    private var producerDone = false
    private var reader: RDBReader<Source>?
    private let accepts: ((RDBKeyHeader) -> Bool)?

    init(reader: RDBReader<Source>, accepts: ((RDBKeyHeader) -> Bool)?) {
        self.reader = reader
        self.accepts = accepts
    }

    func next() -> RDBReadAheadBatch? {
        monitor.lock()
        defer { monitor.unlock() }
        while queueHead == queue.count && !producerDone {
            monitor.wait()
        }
        guard queueHead < queue.count else { return nil }
        var batch = RDBReadAheadBatch()
        swap(&batch, &queue[queueHead])
        queueHead += 1
        if queueHead == queue.count {
            queue.removeAll(keepingCapacity: true)
            queueHead = 0
        }
        monitor.broadcast()
        return batch
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
        var batch = RDBReadAheadBatch()
        var capacity = (events: 64, elements: 256)
        var batchStart = reader.offset
        var ended = false
        while !ended {
            do throws(FormatError) {
                if let event = try reader.next() {
                    if keepsCompressedStrings {
                        let strings = reader.takeCompressedStrings()
                        if !strings.isEmpty { batch.compressedStrings.append((batch.isElement.count, strings)) }
                    }
                    switch consume event {
                    case .element(let element):
                        batch.elements.append(element)
                        batch.isElement.append(true)
                    case .beginKey(let header) where accepts.map({ !$0(header) }) ?? false:
                        _ = try reader.skipValue()
                        if keepsCompressedStrings {  // the skipped key's, not the next event's
                            _ = reader.takeCompressedStrings()
                            if batch.compressedStrings.last?.event == batch.isElement.count { batch.compressedStrings.removeLast() }
                        }
                    case .end(let status):
                        batch.trailingBytes = try reader.readTrailingBytes()
                        ended = true
                        batch.events.append(.end(status))
                        batch.isElement.append(false)
                    case let other:
                        batch.events.append(other)
                        batch.isElement.append(false)
                    }
                } else {
                    ended = true
                }
            } catch {
                batch.error = error
                ended = true
            }
            if ended || batch.isElement.count >= RDBReadAhead<Source>.batchEvents
                || reader.offset - batchStart >= RDBReadAhead<Source>.batchInputBytes
            {
                batch.offset = reader.offset
                batchStart = reader.offset
                capacity = (max(capacity.events, batch.events.count), max(capacity.elements, batch.elements.count))
                // Handed over without a reference left here: the caller then moves events out of unique arrays
                // (a reference held a moment longer made it copy the whole batch).
                var full = RDBReadAheadBatch()
                full.events.reserveCapacity(capacity.events)
                full.elements.reserveCapacity(capacity.elements)
                full.isElement.reserveCapacity(capacity.events + capacity.elements)
                swap(&full, &batch)
                guard enqueue(full) else { return }
            }
        }
    }

    /// Queues a batch, waiting while the queue is full; false when the caller has cancelled.
    private func enqueue(_ batch: consuming RDBReadAheadBatch) -> Bool {
        monitor.lock()
        defer { monitor.unlock() }
        while !cancelled && queue.count - queueHead >= RDBReadAhead<Source>.maximumBatches {
            monitor.wait()
        }
        guard !cancelled else { return false }
        queue.append(consume batch)
        monitor.broadcast()
        return true
    }
}
