// Reading an RDB on a thread of its own, ahead of the conversion.
//
//   reader thread:  RDBReader.next() (CRC64, LZF, blob validation) → filter → batches of events ─┐
//                                                                                                  │ at most
//   caller:         RDBEntrySource ← batches ← ──────────────────────────────────────────────────┘ 4 batches
//
// Decoding the input and writing the output (encoding, LZF compression, CRC64 of the output) then run on two
// cores at once. The events keep their file order, errors come after the events read before them, and the
// caller sees nothing of the keys the filter rejects (skipped on the reader thread with skipValue()).

import Formats
import Foundation
import NIOCore

/// A run of events read ahead, and how the reading ended if it did.
///
/// Element events, by far the most, are kept unwrapped in `elements`: taking a payload out of an event copies it,
/// and that copy is then made here, on the reader thread.
struct ReadAheadBatch {
    /// For each event in order: true when it is an element (the next of `elements`), false for the next of
    /// `events`.
    var isElement: [Bool] = []
    var elements: [RDBElement] = []
    var events: [RDBEvent] = []
    /// The reader's offset after the last event (for the progress bar).
    var offset: Int64 = 0
    /// After the `.end` event: the bytes that followed the RDB (read to the end, which verifies a gzip trailer).
    var trailingBytes: Int64?
    /// The error that stopped the reader, after the events read before it.
    var error: FormatError?
}

/// Runs an ``RDBReader`` on a thread of its own and hands its events over in batches.
///
/// A batch ends after `batchEvents` events or `batchInputBytes` bytes of input, and the reader thread waits
/// while `maximumBatches` are queued: what the events hold (slices of the input, decompressed blobs) stays
/// within a few MiB whatever the input. Dropping the `ReadAheadReader` stops the thread.
final class ReadAheadReader<Source: ByteSource> {
    private let shared: ReadAheadQueue<Source>

    static var batchEvents: Int { 4096 }
    static var batchInputBytes: Int64 { 256 * 1024 }
    static var maximumBatches: Int { 4 }

    init(source: Source, filter: KeyFilter) {
        shared = ReadAheadQueue(reader: RDBReader(source: source), filter: filter)
        // Built here, where `Source` is known, so that the reader thread runs specialized code; the thread's own
        // closure then captures only the (non-generic) entry.
        let entry = ThreadEntry { [shared] in shared.produce() }
        let thread = Thread { entry.body() }
        thread.name = "redis-convert reader"
        thread.start()
    }

    deinit {
        shared.cancel()
    }

    /// The next batch, waiting for the reader thread if needed; nil once the last batch (the one with the end,
    /// or an error) has been taken.
    func next() -> ReadAheadBatch? {
        shared.next()
    }
}

/// A closure handed over to a new thread, which alone uses what it captures from then on.
private final class ThreadEntry: @unchecked Sendable {
    let body: () -> Void

    init(_ body: @escaping () -> Void) {
        self.body = body
    }
}

/// What the caller and the reader thread share: the queue of batches, under `condition`. The reader and the
/// filter are the reader thread's alone once it has started.
private final class ReadAheadQueue<Source: ByteSource>: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [ReadAheadBatch] = []
    private var queueHead = 0
    private var cancelled = false
    private var producerDone = false
    private var reader: RDBReader<Source>?
    private let filter: KeyFilter

    init(reader: RDBReader<Source>, filter: KeyFilter) {
        self.reader = reader
        self.filter = filter
    }

    func next() -> ReadAheadBatch? {
        condition.lock()
        defer { condition.unlock() }
        while queueHead == queue.count && !producerDone {
            condition.wait()
        }
        guard queueHead < queue.count else { return nil }
        var batch = ReadAheadBatch()
        swap(&batch, &queue[queueHead])
        queueHead += 1
        if queueHead == queue.count {
            queue.removeAll(keepingCapacity: true)
            queueHead = 0
        }
        condition.broadcast()
        return batch
    }

    /// Stops the reader thread at its next batch; what it queued is dropped.
    func cancel() {
        condition.lock()
        cancelled = true
        queue.removeAll()
        queueHead = 0
        condition.broadcast()
        condition.unlock()
    }

    /// The reader thread: reads to the end of the RDB (or an error) in batches.
    func produce() {
        guard var reader = self.reader.take() else { return }
        var batch = ReadAheadBatch()
        var capacity = (events: 64, elements: 256)
        var batchStart = reader.offset
        var ended = false
        while !ended {
            do throws(FormatError) {
                if let event = try reader.next() {
                    switch consume event {
                    case .element(let element):
                        batch.elements.append(element)
                        batch.isElement.append(true)
                    case .beginKey(let header) where !filter.accepts(header):
                        _ = try reader.skipValue()
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
            if ended || batch.isElement.count >= ReadAheadReader<Source>.batchEvents
                || reader.offset - batchStart >= ReadAheadReader<Source>.batchInputBytes
            {
                batch.offset = reader.offset
                batchStart = reader.offset
                capacity = (max(capacity.events, batch.events.count), max(capacity.elements, batch.elements.count))
                // Handed over without a reference left here: the caller then moves events out of unique arrays
                // (a reference held a moment longer made it copy the whole batch).
                var full = ReadAheadBatch()
                full.events.reserveCapacity(capacity.events)
                full.elements.reserveCapacity(capacity.elements)
                full.isElement.reserveCapacity(capacity.events + capacity.elements)
                swap(&full, &batch)
                guard enqueue(full) else { return }
            }
        }
        condition.lock()
        producerDone = true
        condition.broadcast()
        condition.unlock()
    }

    /// Queues a batch, waiting while the queue is full; false when the caller has cancelled.
    private func enqueue(_ batch: consuming ReadAheadBatch) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while !cancelled && queue.count - queueHead >= ReadAheadReader<Source>.maximumBatches {
            condition.wait()
        }
        guard !cancelled else { return false }
        queue.append(consume batch)
        condition.broadcast()
        return true
    }
}
