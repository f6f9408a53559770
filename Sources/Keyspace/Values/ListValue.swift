import DequeModule

/// A list, stored as a deque of chunks of at most ``chunkCapacity`` elements (Redis's quicklist idea), each
/// chunk packing its elements' bytes back to back (``ListChunk``, the listpack's role).
///
/// Copying a list shares all chunks; the first write after a snapshot copies the chunk spine (one reference per
/// chunk) and the chunks it touches, never every element.
///
/// ```
///  chunks: [ c0: e0 … e127 ][ c1: … ][ … ][ cN: … ]     count = total elements
///            └ bytes: e0|e1|…  ends: [end(e0), end(e1), …]
/// ```
///
/// Invariants: no chunk is empty; none holds more than ``chunkCapacity`` elements, nor more than
/// ``chunkByteLimit`` bytes unless it holds a single element; `count` is the sum of the chunk sizes. Chunks left
/// small by removals in the middle are merged with a neighbour (see ``mergeThreshold``), so positional access stays
/// O(count / chunkCapacity) in practice.
public struct ListValue: Sendable, Sequence {
    /// Elements per chunk. Chunks are split when they pass it and never left empty.
    public static let chunkCapacity = 128
    /// Payload bytes per chunk (Redis's default `list-max-listpack-size -2`, 8 KiB): an insert into a chunk copies
    /// and moves at most this much, and a large element gets a chunk of its own.
    public static let chunkByteLimit = 8192
    /// Two neighbouring chunks are merged after a removal when together they hold at most this many elements (and
    /// fit the byte limit). Below the capacity, so that an insert that splits a full chunk and a removal next to it
    /// do not alternate between splitting and merging.
    static let mergeThreshold = chunkCapacity * 3 / 4

    typealias Chunk = ListChunk

    var chunks: Deque<ListChunk>
    /// Number of elements (LLEN).
    public internal(set) var count: Int

    /// An empty list.
    public init() {
        chunks = []
        count = 0
    }

    /// A list of `elements`, head first.
    /// - Complexity: O(n)
    public init<S: Sequence>(_ elements: S) where S.Element == Bytes {
        self.init()
        // Fill one chunk at a time outside the deque, then move it in.
        var chunk = Chunk()
        for element in elements {
            if !chunk.hasRoom(forBytes: element.count) {
                chunk.shrinkToFit()
                chunks.append(chunk)
                chunk = Chunk()
            }
            chunk.append(element)
            count += 1
        }
        if !chunk.isEmpty { chunks.append(chunk) }
    }

    /// Whether the list has no element (a stored list never is: the key is deleted instead).
    public var isEmpty: Bool { count == 0 }

    // MARK: - Ends

    /// Adds `element` at the tail (RPUSH).
    /// - Complexity: amortized O(1).
    public mutating func append(_ element: Bytes) {
        element.withUnsafeBufferPointer { append(bytesOf: UnsafeRawBufferPointer($0)) }
    }

    /// Adds a copy of `raw` at the tail, without making a ``Bytes`` of it first (an RDB load copies a block's
    /// entries so).
    /// - Complexity: amortized O(1).
    mutating func append(bytesOf raw: UnsafeRawBufferPointer) {
        if chunks.isEmpty || !chunks[chunks.count - 1].hasRoom(forBytes: raw.count) {
            if !chunks.isEmpty { chunks[chunks.count - 1].shrinkToFit() }
            chunks.append(Chunk())
        }
        chunks[chunks.count - 1].append(bytesOf: raw)
        count += 1
    }

    /// Adds `element` at the head (LPUSH).
    /// - Complexity: O(chunkCapacity), moving at most `chunkByteLimit` bytes.
    public mutating func prepend(_ element: Bytes) {
        if chunks.isEmpty || !chunks[0].hasRoom(forBytes: element.count) {
            if !chunks.isEmpty { chunks[0].shrinkToFit() }
            chunks.prepend(Chunk(element))
        } else {
            chunks[0].insert(element, at: 0)
        }
        count += 1
    }

    /// Removes and returns the head element, nil when empty (LPOP).
    /// - Complexity: O(chunkCapacity).
    public mutating func removeFirst() -> Bytes? {
        guard !chunks.isEmpty else { return nil }
        let element = chunks[0].remove(at: 0)
        if chunks[0].isEmpty { chunks.removeFirst() }
        count -= 1
        return element
    }

    /// Removes and returns the tail element, nil when empty (RPOP).
    /// - Complexity: O(1).
    public mutating func removeLast() -> Bytes? {
        guard !chunks.isEmpty else { return nil }
        let last = chunks.count - 1
        let element = chunks[last].remove(at: chunks[last].count - 1)
        if chunks[last].isEmpty { chunks.removeLast() }
        count -= 1
        return element
    }

    /// Removes up to `limit` elements from the head and returns them head first (LPOP with a count).
    /// Whole chunks are moved out without copying their elements one by one.
    /// - Complexity: O(k + chunkCapacity) for k elements removed.
    public mutating func removeFirst(upTo limit: Int) -> [Bytes] {
        let total = Swift.min(Swift.max(limit, 0), count)
        var result: [Bytes] = []
        result.reserveCapacity(total)
        while result.count < total {
            let needed = total - result.count
            let size = chunks[0].count
            let taken = Swift.min(needed, size)
            do {
                // Scoped: a chunk still held here would make the removal below copy it.
                let chunk = chunks[0]
                for index in 0..<taken { result.append(chunk[index]) }
            }
            if taken == size {
                chunks.removeFirst()
            } else {
                chunks[0].removeFirst(taken)
            }
        }
        count -= total
        return result
    }

    /// Removes up to `limit` elements from the tail and returns them tail first (RPOP with a count).
    /// - Complexity: O(k) for k elements removed.
    public mutating func removeLast(upTo limit: Int) -> [Bytes] {
        let total = Swift.min(Swift.max(limit, 0), count)
        var result: [Bytes] = []
        result.reserveCapacity(total)
        while result.count < total {
            let needed = total - result.count
            let last = chunks.count - 1
            let size = chunks[last].count
            let taken = Swift.min(needed, size)
            do {
                let chunk = chunks[last]
                for index in stride(from: size - 1, through: size - taken, by: -1) { result.append(chunk[index]) }
            }
            if taken == size {
                chunks.removeLast()
            } else {
                chunks[last].removeLast(taken)
            }
        }
        count -= total
        return result
    }

    /// The head element, nil when empty.
    public var first: Bytes? { chunks.first.map { $0[0] } }
    /// The tail element, nil when empty.
    public var last: Bytes? { chunks.last.map { $0[$0.count - 1] } }

    // MARK: - Positions

    /// The chunk holding element `index` and the position inside it, walking from the nearer end.
    /// `index` must be in `0..<count`.
    /// - Complexity: O(count / chunkCapacity).
    func locate(_ index: Int) -> (chunk: Int, offset: Int) {
        precondition(index >= 0 && index < count, "list index out of range")
        if index < count / 2 {
            var rest = index
            var chunk = 0
            while rest >= chunks[chunk].count {
                rest -= chunks[chunk].count
                chunk += 1
            }
            return (chunk, rest)
        }
        var rest = count - 1 - index
        var chunk = chunks.count - 1
        while rest >= chunks[chunk].count {
            rest -= chunks[chunk].count
            chunk -= 1
        }
        return (chunk, chunks[chunk].count - 1 - rest)
    }

    /// The element at `index` (0-based from the head). `index` must be in `0..<count`.
    /// - Complexity: O(count / chunkCapacity)
    public subscript(index: Int) -> Bytes {
        get {
            let (chunk, offset) = locate(index)
            return chunks[chunk][offset]
        }
        set {
            let (chunk, offset) = locate(index)
            chunks[chunk].replace(at: offset, with: newValue)
            splitIfOverfull(chunk)
        }
    }

    /// Inserts `element` so that it ends up at `index` (`0...count`).
    /// - Complexity: O(count / chunkCapacity + chunkCapacity).
    public mutating func insert(_ element: Bytes, at index: Int) {
        precondition(index >= 0 && index <= count, "list index out of range")
        if index == count { return append(element) }
        if index == 0 { return prepend(element) }
        let (chunk, offset) = locate(index)
        insert(element, chunk: chunk, offset: offset)
    }

    /// Inserts `element` at `offset` (`0...size`) of chunk `chunk`, splitting the chunk in two halves when it
    /// passes the element or byte limit.
    mutating func insert(_ element: Bytes, chunk: Int, offset: Int) {
        chunks[chunk].insert(element, at: offset)
        count += 1
        splitIfOverfull(chunk)
    }

    /// Splits chunk `index` until every part is within the element and byte limits (a large element among small
    /// ones can take more than one split).
    mutating func splitIfOverfull(_ index: Int) {
        var index = index
        var last = index
        while index <= last {
            if chunks[index].isOverfull {
                let tail = chunks[index].splitOff()
                chunks.insert(tail, at: index + 1)
                last += 1
            } else {
                index += 1
            }
        }
    }

    /// Removes and returns the element at `index` (`0..<count`).
    /// - Complexity: O(count / chunkCapacity + chunkCapacity).
    @discardableResult
    public mutating func remove(at index: Int) -> Bytes {
        let (chunk, offset) = locate(index)
        let element = chunks[chunk].remove(at: offset)
        count -= 1
        if chunks[chunk].isEmpty {
            chunks.remove(at: chunk)
        } else {
            mergeWithNeighbour(chunk)
        }
        return element
    }

    /// Merges chunk `index` into a neighbour when the two together are at most ``mergeThreshold`` elements and
    /// within the byte limit.
    mutating func mergeWithNeighbour(_ index: Int) {
        if index + 1 < chunks.count, ListValue.canMerge(chunks[index], chunks[index + 1]) {
            let next = chunks.remove(at: index + 1)
            chunks[index].append(contentsOf: next, 0..<next.count)
        } else if index > 0, ListValue.canMerge(chunks[index - 1], chunks[index]) {
            let this = chunks.remove(at: index)
            chunks[index - 1].append(contentsOf: this, 0..<this.count)
        }
    }

    static func canMerge(_ a: Chunk, _ b: Chunk) -> Bool {
        a.count + b.count <= mergeThreshold && a.byteCount + b.byteCount <= chunkByteLimit
    }

    /// Keeps only the elements at `range` (LTRIM). Whole chunks outside it are dropped without being copied.
    /// - Complexity: O(removed / chunkCapacity + chunkCapacity).
    public mutating func keep(_ range: Range<Int>) {
        let lower = Swift.max(0, range.lowerBound)
        let upper = Swift.min(count, range.upperBound)
        guard lower < upper else {
            self = ListValue()
            return
        }
        var dropFront = lower
        while let head = chunks.first, dropFront >= head.count {
            dropFront -= head.count
            chunks.removeFirst()
        }
        if dropFront > 0 { chunks[0].removeFirst(dropFront) }
        var dropBack = count - upper
        while let tail = chunks.last, dropBack >= tail.count {
            dropBack -= tail.count
            chunks.removeLast()
        }
        if dropBack > 0 { chunks[chunks.count - 1].removeLast(dropBack) }
        count = upper - lower
    }

    /// Elements in `range`, head to tail (LRANGE).
    /// - Complexity: O(count / chunkCapacity + range.count).
    public func elements(in range: Range<Int>) -> [Bytes] { map(range) { $0 } }

    /// `transform` applied to the elements in `range`, head to tail (LRANGE builds its reply with it, in one pass).
    /// - Complexity: O(count / chunkCapacity + range.count).
    public func map<T>(_ range: Range<Int>, _ transform: (Bytes) throws -> T) rethrows -> [T] {
        let lower = Swift.max(0, range.lowerBound)
        let upper = Swift.min(count, range.upperBound)
        guard lower < upper else { return [] }
        var result: [T] = []
        result.reserveCapacity(upper - lower)
        var (chunk, offset) = locate(lower)
        while result.count < upper - lower {
            let source = chunks[chunk]
            let take = Swift.min(source.count - offset, upper - lower - result.count)
            for index in offset..<(offset + take) { result.append(try transform(source[index])) }
            chunk += 1
            offset = 0
        }
        return result
    }

    // MARK: - Structure (tests)

    /// Number of chunks.
    package var chunkCount: Int { chunks.count }

    /// The size of every chunk, head first (to check the invariants: none empty, none above the capacity).
    package var chunkSizes: [Int] { chunks.map(\.count) }

    /// How many of this list's chunks share their storage with a chunk of `other` (a snapshot taken earlier):
    /// the chunks a write after the snapshot did not have to copy.
    /// - Complexity: O(chunks)
    package func chunksShared(with other: ListValue) -> Int {
        var theirs = Set<UnsafeRawPointer>()
        theirs.reserveCapacity(other.chunks.count)
        for chunk in other.chunks { if let address = chunk.storageAddress { theirs.insert(address) } }
        var shared = 0
        for chunk in chunks {
            if let address = chunk.storageAddress, theirs.contains(address) { shared += 1 }
        }
        return shared
    }

    /// The payload bytes of every chunk, head first.
    package var chunkByteCounts: [Int] { chunks.map(\.byteCount) }

    // MARK: - Sequence

    /// Walks the elements head to tail, chunk by chunk.
    public struct Iterator: IteratorProtocol {
        var chunks: Deque<ListChunk>.Iterator
        var current = ListChunk()
        var offset = 0

        /// The next element towards the tail.
        public mutating func next() -> Bytes? {
            while offset == current.count {
                guard let chunk = chunks.next() else { return nil }
                current = chunk
                offset = 0
            }
            defer { offset += 1 }
            return current[offset]
        }
    }

    /// An iterator from the head.
    public func makeIterator() -> Iterator { Iterator(chunks: chunks.makeIterator()) }

    /// The exact count.
    public var underestimatedCount: Int { count }
}
