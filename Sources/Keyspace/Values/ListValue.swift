import DequeModule

/// A list, stored as a deque of chunks of at most ``chunkCapacity`` elements (Redis's quicklist idea).
///
/// Copying a list shares all chunks; the first write after a snapshot copies the chunk spine (one reference per
/// chunk) and the one chunk it touches, never every element.
///
/// ```
///  chunks: [ c0: e0 … e127 ][ c1: … ][ … ][ cN: … ]     count = total elements
/// ```
public struct ListValue: Sendable, Sequence {
    /// Elements per chunk. Chunks are split when they pass it and never left empty.
    public static let chunkCapacity = 128

    @usableFromInline var chunks: Deque<ContiguousArray<Bytes>>
    public private(set) var count: Int

    public init() {
        chunks = []
        count = 0
    }

    public init<S: Sequence>(_ elements: S) where S.Element == Bytes {
        self.init()
        for element in elements { append(element) }
    }

    public var isEmpty: Bool { count == 0 }

    // MARK: - Ends

    public mutating func append(_ element: Bytes) {
        if chunks.isEmpty || chunks[chunks.count - 1].count >= ListValue.chunkCapacity {
            var chunk = ContiguousArray<Bytes>()
            chunk.reserveCapacity(8)
            chunk.append(element)
            chunks.append(chunk)
        } else {
            chunks[chunks.count - 1].append(element)
        }
        count += 1
    }

    public mutating func prepend(_ element: Bytes) {
        if chunks.isEmpty || chunks[0].count >= ListValue.chunkCapacity {
            chunks.prepend([element])
        } else {
            chunks[0].insert(element, at: 0)
        }
        count += 1
    }

    public mutating func removeFirst() -> Bytes? {
        guard !chunks.isEmpty else { return nil }
        let element = chunks[0].removeFirst()
        if chunks[0].isEmpty { chunks.removeFirst() }
        count -= 1
        return element
    }

    public mutating func removeLast() -> Bytes? {
        guard !chunks.isEmpty else { return nil }
        let last = chunks.count - 1
        let element = chunks[last].removeLast()
        if chunks[last].isEmpty { chunks.removeLast() }
        count -= 1
        return element
    }

    public var first: Bytes? { chunks.first?.first }
    public var last: Bytes? { chunks.last?.last }

    // MARK: - Positions

    /// The chunk holding element `index` and the position inside it. `index` must be in `0..<count`.
    private func locate(_ index: Int) -> (chunk: Int, offset: Int) {
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
            chunks[chunk][offset] = newValue
        }
    }

    /// Inserts `element` so that it ends up at `index` (`0...count`).
    public mutating func insert(_ element: Bytes, at index: Int) {
        precondition(index >= 0 && index <= count, "list index out of range")
        if index == count { return append(element) }
        if index == 0 { return prepend(element) }
        let (chunk, offset) = locate(index)
        chunks[chunk].insert(element, at: offset)
        count += 1
        if chunks[chunk].count > ListValue.chunkCapacity {
            let half = chunks[chunk].count / 2
            let tail = ContiguousArray(chunks[chunk][half...])
            chunks[chunk].removeSubrange(half...)
            chunks.insert(tail, at: chunk + 1)
        }
    }

    /// Removes and returns the element at `index` (`0..<count`).
    @discardableResult
    public mutating func remove(at index: Int) -> Bytes {
        let (chunk, offset) = locate(index)
        let element = chunks[chunk].remove(at: offset)
        if chunks[chunk].isEmpty { chunks.remove(at: chunk) }
        count -= 1
        return element
    }

    /// Keeps only the elements at `range` (LTRIM). Whole chunks outside it are dropped without being copied.
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

    /// Elements in `range`, head to tail.
    public func elements(in range: Range<Int>) -> [Bytes] {
        let lower = Swift.max(0, range.lowerBound)
        let upper = Swift.min(count, range.upperBound)
        guard lower < upper else { return [] }
        var result: [Bytes] = []
        result.reserveCapacity(upper - lower)
        var (chunk, offset) = locate(lower)
        while result.count < upper - lower {
            let source = chunks[chunk]
            let take = Swift.min(source.count - offset, upper - lower - result.count)
            result.append(contentsOf: source[offset..<(offset + take)])
            chunk += 1
            offset = 0
        }
        return result
    }

    // MARK: - Sequence

    public struct Iterator: IteratorProtocol {
        var chunks: Deque<ContiguousArray<Bytes>>.Iterator
        var current: ContiguousArray<Bytes>.Iterator?

        public mutating func next() -> Bytes? {
            while true {
                if let element = current?.next() { return element }
                guard let chunk = chunks.next() else { return nil }
                current = chunk.makeIterator()
            }
        }
    }

    public func makeIterator() -> Iterator { Iterator(chunks: chunks.makeIterator(), current: nil) }

    public var underestimatedCount: Int { count }
}
