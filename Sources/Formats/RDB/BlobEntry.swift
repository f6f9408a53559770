import NIOCore

/// An entry of a validated ziplist or listpack, as a position in its blob: a plain value with no reference
/// counting, so a checker can validate millions of entries without touching the allocator.
@usableFromInline struct BlobEntry: Sendable {
    /// The value of an integer entry.
    @usableFromInline var integer: Int64
    /// Offset of a string entry's bytes from the start of the blob.
    @usableFromInline var offset: Int32
    /// Length of a string entry; -1 for an integer entry.
    @usableFromInline var length: Int32

    init(integer: Int64) {
        self.integer = integer
        self.offset = 0
        self.length = -1
    }

    /// Listpacks are capped at 1 GiB and ziplists at 4 GiB by their own headers; a blob over 2 GiB is refused
    /// by RDBReadOptions.maxBlobBytes long before, so offsets fit in Int32.
    init(offset: Int, length: Int) {
        self.integer = 0
        self.offset = Int32(truncatingIfNeeded: offset)
        self.length = Int32(truncatingIfNeeded: length)
    }

    @inlinable var isInteger: Bool { length < 0 }

    /// The entries as strings sharing the blob's storage.
    static func strings(_ entries: [BlobEntry], in blob: ByteBuffer) -> [RDBString] {
        let base = blob.readerIndex
        return entries.map { entry in
            entry.isInteger
                ? .integer(entry.integer)
                : .bytes(blob.getSlice(at: base + Int(entry.offset), length: Int(entry.length))!)
        }
    }

    /// Finds the first entry (looking at every `stride`-th one) whose text equals an earlier one's.
    ///
    /// Integers compare by their decimal text, as Redis's duplicate checks compare values. Hashes of the text
    /// find candidates; candidates are confirmed byte by byte.
    static func firstDuplicate(_ entries: [BlobEntry], stride: Int, in blob: ByteBuffer) -> Int? {
        blob.withUnsafeReadableBytes { bytes -> Int? in
            let count = (entries.count + stride - 1) / stride
            if count <= 16 {
                var i = 0
                while i < entries.count {
                    var j = i + stride
                    while j < entries.count {
                        if equal(entries[i], entries[j], bytes) { return j }
                        j += stride
                    }
                    i += stride
                }
                return nil
            }
            // Open addressing over the text hashes, in a table at least twice the entries' count: 0 marks an
            // empty slot.
            let capacity = 1 << (Int.bitWidth - (2 * count - 1).leadingZeroBitCount)
            let shift = UInt64(Int.bitWidth - (capacity - 1).nonzeroBitCount)
            return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: capacity) { slots -> Int? in
                slots.initialize(repeating: 0)
                var index = 0
                while index < entries.count {
                    let hash = textHash(entries[index], bytes) | 1
                    var slot = Int(truncatingIfNeeded: (hash &* 0x9e37_79b9_7f4a_7c15) >> shift)
                    while slots[slot] != 0 {
                        if slots[slot] == hash {  // a candidate: confirm on the text
                            var earlier = 0
                            while earlier < index {
                                if equal(entries[earlier], entries[index], bytes) { return index }
                                earlier += stride
                            }
                        }
                        slot = (slot + 1) & (capacity - 1)
                    }
                    slots[slot] = hash
                    index += stride
                }
                return nil
            }
        }
    }

    private static func withText<R>(_ entry: BlobEntry, _ bytes: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        if entry.isInteger { return CanonicalInteger.withText(entry.integer, body) }
        return body(UnsafeRawBufferPointer(rebasing: bytes[Int(entry.offset)..<Int(entry.offset) + Int(entry.length)]))
    }

    private static func equal(_ a: BlobEntry, _ b: BlobEntry, _ bytes: UnsafeRawBufferPointer) -> Bool {
        if a.isInteger && b.isInteger { return a.integer == b.integer }
        return withText(a, bytes) { left in
            withText(b, bytes) { right in left.elementsEqual(right) }
        }
    }

    /// A hash of the entry's text, eight bytes at a time (a multiply and fold per word).
    private static func textHash(_ entry: BlobEntry, _ bytes: UnsafeRawBufferPointer) -> UInt64 {
        withText(entry, bytes) { text in
            let count = text.count
            var hash = 0xcbf2_9ce4_8422_2325 ^ UInt64(count)
            var index = 0
            while index + 8 <= count {
                hash = (hash ^ text.loadUnaligned(fromByteOffset: index, as: UInt64.self)) &* 0x9e37_79b9_7f4a_7c15
                hash ^= hash >> 32
                index += 8
            }
            var tail: UInt64 = 0
            var position: UInt64 = 0
            while index < count {
                tail |= UInt64(text[index]) << position
                position += 8
                index += 1
            }
            hash = (hash ^ tail) &* 0x9e37_79b9_7f4a_7c15
            return hash ^ (hash >> 29)
        }
    }

    /// The entry's value as a score (a sorted set's second field), or nil when it is not a number.
    static func score(_ entry: BlobEntry, in blob: ByteBuffer) -> Double? {
        if entry.isInteger { return Double(entry.integer) }
        let start = blob.readerIndex + Int(entry.offset)
        guard let text = blob.getSlice(at: start, length: Int(entry.length)) else { return nil }
        return RDBReaderSupport.parseDouble(text)
    }
}
