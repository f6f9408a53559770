/// Binary search for the stream structures.
enum StreamSearch {
    /// The first index of `0..<count` where `isBelow` is false, `isBelow` being true on a prefix (a lower bound).
    /// - Complexity: O(log count) calls of `isBelow`
    @inline(__always)
    static func lowerBound(_ count: Int, _ isBelow: (Int) -> Bool) -> Int {
        var low = 0
        var high = count
        while low < high {
            let mid = (low + high) / 2
            if isBelow(mid) { low = mid + 1 } else { high = mid }
        }
        return low
    }
}

/// Something kept in stream ID order: a pending entry, or an ID itself.
public protocol StreamIDKeyed: Sendable {
    var id: StreamID { get }
}

extension StreamID: StreamIDKeyed {
    public var id: StreamID { self }
}

/// Elements in ascending ID order, without duplicates, in chunks of at most ``chunkCapacity`` (the role Redis's
/// radix trees play for pending entries lists).
///
/// A copy shares every chunk: the first write after a snapshot copies the chunk spine (one reference per chunk)
/// and the one chunk it changes, never every element.
///
/// ```
///  chunks: [ c0: id0 < id1 < … ][ c1: … ] …      every ID of c(i) below every ID of c(i+1)
/// ```
public struct StreamIDList<Element: StreamIDKeyed>: Sendable, Sequence {
    /// Elements per chunk; a full chunk is split in two when something is inserted in its middle.
    static var chunkCapacity: Int { 128 }

    private var chunks: ContiguousArray<ContiguousArray<Element>> = []
    public private(set) var count = 0

    public init() {}

    public var isEmpty: Bool { count == 0 }
    public var first: Element? { chunks.first?.first }
    public var last: Element? { chunks.last?.last }

    // MARK: - Lookup

    /// The chunk that holds `id` or where it would go: the first chunk whose last ID is `>= id`, or the last
    /// chunk when `id` is above everything (nil only when empty).
    private func chunkIndex(for id: StreamID) -> Int? {
        guard !chunks.isEmpty else { return nil }
        return StreamSearch.lowerBound(chunks.count - 1) { chunks[$0][chunks[$0].count - 1].id < id }
    }

    private static func position(of id: StreamID, in chunk: ContiguousArray<Element>) -> Int {
        StreamSearch.lowerBound(chunk.count) { chunk[$0].id < id }
    }

    /// The element with `id`.
    /// - Complexity: O(log n)
    public subscript(id: StreamID) -> Element? {
        guard let chunk = chunkIndex(for: id) else { return nil }
        let position = Self.position(of: id, in: chunks[chunk])
        guard position < chunks[chunk].count, chunks[chunk][position].id == id else { return nil }
        return chunks[chunk][position]
    }

    public func contains(_ id: StreamID) -> Bool { self[id] != nil }

    /// The first element whose ID is `>= id`.
    /// - Complexity: O(log n)
    public func first(atOrAfter id: StreamID) -> Element? {
        guard let chunk = chunkIndex(for: id) else { return nil }
        let position = Self.position(of: id, in: chunks[chunk])
        return position < chunks[chunk].count ? chunks[chunk][position] : nil
    }

    /// The first element whose ID is `> id`.
    public func first(after id: StreamID) -> Element? {
        guard let next = id.successor else { return nil }
        return first(atOrAfter: next)
    }

    /// Elements with IDs in `lower...upper`, in order, at most `limit` of them (nil: all).
    /// - Complexity: O(log n + returned)
    public func elements(from lower: StreamID, through upper: StreamID, limit: Int? = nil) -> [Element] {
        var result: [Element] = []
        guard lower <= upper, var chunk = chunkIndex(for: lower) else { return result }
        var position = Self.position(of: lower, in: chunks[chunk])
        while chunk < chunks.count {
            let elements = chunks[chunk]
            while position < elements.count {
                if let limit, result.count >= limit { return result }
                guard elements[position].id <= upper else { return result }
                result.append(elements[position])
                position += 1
            }
            chunk += 1
            position = 0
        }
        return result
    }

    // MARK: - Changing

    /// Inserts `element`; returns false (and changes nothing) when its ID is already there.
    /// - Complexity: O(log n + chunkCapacity), plus O(chunks) when a chunk is split
    @discardableResult
    public mutating func insert(_ element: Element) -> Bool {
        let id = element.id
        guard let chunk = chunkIndex(for: id) else {
            chunks.append([element])
            count = 1
            return true
        }
        let position = Self.position(of: id, in: chunks[chunk])
        if position < chunks[chunk].count && chunks[chunk][position].id == id { return false }
        count += 1
        if position == chunks[chunk].count && chunk == chunks.count - 1 && chunks[chunk].count >= Self.chunkCapacity {
            // Appending past a full last chunk (the usual case: new deliveries have the highest IDs).
            var fresh = ContiguousArray<Element>()
            fresh.reserveCapacity(16)
            fresh.append(element)
            chunks.append(fresh)
            return true
        }
        chunks[chunk].insert(element, at: position)
        if chunks[chunk].count > Self.chunkCapacity {
            let half = chunks[chunk].count / 2
            let tail = ContiguousArray(chunks[chunk][half...])
            chunks[chunk].removeSubrange(half...)
            chunks.insert(tail, at: chunk + 1)
        }
        return true
    }

    /// Removes the element with `id` and returns it.
    /// - Complexity: O(log n + chunkCapacity), plus O(chunks) when a chunk empties
    @discardableResult
    public mutating func remove(_ id: StreamID) -> Element? {
        guard let chunk = chunkIndex(for: id) else { return nil }
        let position = Self.position(of: id, in: chunks[chunk])
        guard position < chunks[chunk].count, chunks[chunk][position].id == id else { return nil }
        let removed = chunks[chunk].remove(at: position)
        if chunks[chunk].isEmpty { chunks.remove(at: chunk) }
        count -= 1
        return removed
    }

    /// Changes the element with `id` in place (`body` must not change its ID); nil when absent.
    /// - Complexity: O(log n), plus a chunk copy when a snapshot shares it
    @discardableResult
    public mutating func modify<R>(_ id: StreamID, _ body: (inout Element) -> R) -> R? {
        guard let chunk = chunkIndex(for: id) else { return nil }
        let position = Self.position(of: id, in: chunks[chunk])
        guard position < chunks[chunk].count, chunks[chunk][position].id == id else { return nil }
        return body(&chunks[chunk][position])
    }

    // MARK: - Sequence

    public func makeIterator() -> FlattenSequence<ContiguousArray<ContiguousArray<Element>>>.Iterator {
        chunks.joined().makeIterator()
    }

    public var underestimatedCount: Int { count }
}
