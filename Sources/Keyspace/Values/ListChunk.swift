#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Up to ``ListValue/chunkCapacity`` list elements packed back to back in one byte buffer (the role a listpack
/// plays in a Redis quicklist node): a 3-byte element costs its 3 bytes plus a 4-byte end offset, not a heap
/// object of its own.
///
/// ```
///  bytes: [ e0 bytes | e1 bytes | … | eN bytes ]
///  ends:  [ end(e0),   end(e1),   …,  end(eN) ]      element i is bytes[ends[i-1] ..< ends[i]] (ends[-1] = 0)
/// ```
///
/// Both arrays are copy-on-write: a chunk shared with a snapshot is copied (at most ``ListValue/chunkByteLimit``
/// bytes, or one large element) by the first write that touches it.
struct ListChunk: Sendable {
    private(set) var bytes: [UInt8]
    private(set) var ends: [UInt32]

    init() {
        bytes = []
        ends = []
    }

    /// A chunk holding `element` alone.
    init(_ element: Bytes) {
        bytes = element.withUnsafeBufferPointer { Array($0) }
        ends = [UInt32(element.count)]
    }

    var count: Int { ends.count }
    var isEmpty: Bool { ends.isEmpty }
    /// Payload bytes held.
    var byteCount: Int { bytes.count }

    // MARK: - Reading

    @inline(__always) func start(_ index: Int) -> Int { index == 0 ? 0 : Int(ends[index &- 1]) }
    @inline(__always) func end(_ index: Int) -> Int { Int(ends[index]) }

    /// Element `index` as an owned copy.
    subscript(index: Int) -> Bytes { Bytes(Array(bytes[start(index)..<end(index)])) }

    /// Whether element `index` equals `element`, compared in place.
    func element(_ index: Int, equals element: Bytes) -> Bool {
        let lower = start(index)
        let length = end(index) - lower
        guard length == element.count else { return false }
        if length == 0 { return true }
        return bytes.withUnsafeBufferPointer { mine in
            element.withUnsafeBytes { theirs in memcmp(mine.baseAddress! + lower, theirs.baseAddress!, length) == 0 }
        }
    }

    /// Position of the first element equal to `element`, nil when none.
    func firstIndex(of element: Bytes) -> Int? {
        for index in 0..<count where self.element(index, equals: element) { return index }
        return nil
    }

    /// Whether `extra` more bytes may join without passing the byte limit (a chunk always takes a first element).
    func hasRoom(forBytes extra: Int) -> Bool {
        ends.isEmpty || (ends.count < ListValue.chunkCapacity && bytes.count + extra <= ListValue.chunkByteLimit)
    }

    /// Whether the chunk passed its element or byte limit and must be split (one element is never split).
    var isOverfull: Bool {
        ends.count > ListValue.chunkCapacity || (ends.count > 1 && bytes.count > ListValue.chunkByteLimit)
    }

    // MARK: - Writing

    mutating func append(_ element: Bytes) {
        element.withUnsafeBufferPointer { append(bytesOf: UnsafeRawBufferPointer($0)) }
    }

    mutating func append(bytesOf raw: UnsafeRawBufferPointer) {
        if bytes.capacity == 0 { bytes.reserveCapacity(Swift.max(32, raw.count)) }
        bytes.append(contentsOf: raw)
        ends.append(UInt32(bytes.count))
    }

    /// Appends the elements `range` of `other`.
    mutating func append(contentsOf other: ListChunk, _ range: Range<Int>) {
        guard !range.isEmpty else { return }
        let base = other.start(range.lowerBound)
        let shift = bytes.count - base
        bytes.append(contentsOf: other.bytes[base..<other.end(range.upperBound - 1)])
        ends.reserveCapacity(ends.count + range.count)
        for index in range { ends.append(UInt32(Int(other.ends[index]) + shift)) }
    }

    mutating func insert(_ element: Bytes, at index: Int) {
        if index == ends.count { return append(element) }
        let length = element.count
        element.withUnsafeBufferPointer { bytes.insert(contentsOf: $0, at: start(index)) }
        shiftEnds(from: index, by: length)
        ends.insert(UInt32(start(index) + length), at: index)
    }

    /// Replaces element `index` with `element`.
    mutating func replace(at index: Int, with element: Bytes) {
        let lower = start(index)
        let upper = end(index)
        element.withUnsafeBufferPointer { bytes.replaceSubrange(lower..<upper, with: $0) }
        shiftEnds(from: index, by: element.count - (upper - lower))
    }

    @discardableResult
    mutating func remove(at index: Int) -> Bytes {
        let element = self[index]
        let lower = start(index)
        bytes.removeSubrange(lower..<end(index))
        ends.remove(at: index)
        shiftEnds(from: index, by: -element.count)
        return element
    }

    /// Removes the first `k` elements.
    mutating func removeFirst(_ k: Int) {
        guard k > 0 else { return }
        let cut = end(k - 1)
        bytes.removeFirst(cut)
        ends.removeFirst(k)
        shiftEnds(from: 0, by: -cut)
    }

    /// Removes the last `k` elements.
    mutating func removeLast(_ k: Int) {
        guard k > 0 else { return }
        let keep = ends.count - k
        bytes.removeLast(bytes.count - start(keep))
        ends.removeLast(k)
    }

    /// Drops spare capacity (growth by doubling leaves up to half of each buffer unused), for a chunk that is
    /// full and will not grow again soon.
    mutating func shrinkToFit() {
        if bytes.capacity - bytes.count > 64 { bytes = ListChunk.exactCopy(of: bytes) }
        if ends.capacity - ends.count > 16 { ends = ListChunk.exactCopy(of: ends) }
    }

    /// A copy with no spare capacity (`Array(array[...])` would share the buffer, spare capacity included).
    private static func exactCopy<T>(of array: [T]) -> [T] {
        var copy: [T] = []
        copy.reserveCapacity(array.count)
        copy.append(contentsOf: array)
        return copy
    }

    /// Moves the elements after a split point into a new chunk and returns it: half of the elements when there are
    /// too many, else the element boundary nearest half of the bytes. Both parts keep at least one element.
    /// Requires at least two elements.
    mutating func splitOff() -> ListChunk {
        var point = ends.count / 2
        if ends.count <= ListValue.chunkCapacity {
            let half = UInt32(bytes.count / 2)
            point = 1
            while point < ends.count - 1 && ends[point - 1] < half { point += 1 }
        }
        var tail = ListChunk()
        tail.append(contentsOf: self, point..<ends.count)
        removeLast(ends.count - point)
        return tail
    }

    /// Adds `delta` to the end offsets of elements `index...`.
    private mutating func shiftEnds(from index: Int, by delta: Int) {
        guard delta != 0, index < ends.count else { return }
        // Wrapping arithmetic (a negative delta is its two's complement): the offsets stay within the chunk's byte
        // count, and without overflow checks the loop vectorizes (it was most of an LPUSH's time in the chunk).
        let step = UInt32(truncatingIfNeeded: delta)
        ends.withUnsafeMutableBufferPointer { offsets in
            for position in index..<offsets.count { offsets[position] &+= step }
        }
    }

    // MARK: - Identity (tests)

    /// The address of the offsets' storage: equal for two chunks that share it.
    var storageAddress: UnsafeRawPointer? {
        ends.withUnsafeBufferPointer { $0.baseAddress.map { UnsafeRawPointer($0) } }
    }
}
