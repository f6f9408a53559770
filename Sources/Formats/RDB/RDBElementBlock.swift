import NIOCore

/// Elements handed out as one ``RDBEvent/elements(_:)`` event when ``RDBReadOptions/groupsBlobElements`` is set:
/// those of one embedded blob (a small collection's whole value as a listpack, ziplist or intset, or one quicklist
/// node of a list), or up to 1,024 consecutive elements of a plain encoding (a large set, sorted set, hash or RDB 6
/// list), whose strings the reader copies into a buffer of the block's own.
///
/// The elements are checked exactly as for element-by-element events (entries, tuples, scores, duplicates) before
/// the block is made. Its entries are positions in its buffer: ``withEntries(_:)`` reads them in place, with no
/// string made per element (a loader copies each straight into its own storage); ``elements`` expands the block
/// into the events it stands for. Elements of a plain encoding may repeat a member or field, as the element
/// events may.
///
/// ```swift
/// block.withEntries { entries in
///     for index in 0..<entries.count {
///         switch entries[index] {
///         case .bytes(let raw): …      // valid only inside the closure
///         case .integer(let value): …
///         }
///     }
/// }
/// ```
public struct RDBElementBlock: Sendable {
    /// What the entries are.
    public enum Kind: Sendable {
        /// One entry per list item, in list order.
        case listItems
        /// One entry per set member.
        case setMembers
        /// Two entries per member, the member then its score (read the score with ``Entries/score(_:)``).
        case zsetMembers
        /// Two entries per field, the field then its value (fields without an expiry of their own).
        case hashFields
    }

    public let kind: Kind
    @usableFromInline let blob: ByteBuffer
    @usableFromInline let entries: [BlobEntry]
    /// A sorted set's scores, one per member, validated (not NaN); empty for other kinds.
    @usableFromInline let scores: [Double]
    /// An intset's members, ascending, in place of entries (which are then empty); empty for other blocks.
    @usableFromInline let integers: [Int64]

    init(kind: Kind, blob: ByteBuffer, entries: [BlobEntry], scores: [Double] = []) {
        precondition(kind == .zsetMembers ? scores.count * 2 == entries.count : scores.isEmpty, "scores do not match entries")
        self.kind = kind
        self.blob = blob
        self.entries = entries
        self.scores = scores
        integers = []
    }

    /// An intset's members, validated (distinct, ascending), as the reader decoded them.
    init(setMembers members: [Int64]) {
        kind = .setMembers
        blob = ByteBuffer()
        entries = []
        scores = []
        integers = members
    }

    /// The members of an intset's block, distinct and ascending, as one array (a loader can keep it as it is);
    /// nil for any other block.
    public var ascendingIntegers: [Int64]? { integers.isEmpty ? nil : integers }

    /// Entries per element: two for sorted set members and hash fields, one otherwise.
    @inlinable public var stride: Int {
        switch kind {
        case .listItems, .setMembers: 1
        case .zsetMembers, .hashFields: 2
        }
    }

    /// The number of elements (members, fields, items): the events the block stands for.
    @inlinable public var count: Int { integers.isEmpty ? entries.count / stride : integers.count }

    /// One entry, read in place.
    public enum Entry {
        /// A string entry's bytes, valid only inside the ``withEntries(_:)`` closure that gave them.
        case bytes(UnsafeRawBufferPointer)
        /// An integer-encoded entry (its text is the canonical decimal).
        case integer(Int64)
    }

    /// The entries over the blob's bytes; valid only inside ``withEntries(_:)``.
    public struct Entries {
        @usableFromInline let bytes: UnsafeRawBufferPointer
        @usableFromInline let entries: UnsafeBufferPointer<BlobEntry>
        @usableFromInline let scores: UnsafeBufferPointer<Double>
        @usableFromInline let integers: UnsafeBufferPointer<Int64>

        @inlinable init(
            bytes: UnsafeRawBufferPointer, entries: UnsafeBufferPointer<BlobEntry>, scores: UnsafeBufferPointer<Double>,
            integers: UnsafeBufferPointer<Int64>
        ) {
            self.bytes = bytes
            self.entries = entries
            self.scores = scores
            self.integers = integers
        }

        /// The number of entries (``RDBElementBlock/stride`` per element).
        @inlinable public var count: Int { integers.isEmpty ? entries.count : integers.count }

        @inlinable public subscript(index: Int) -> Entry {
            if !integers.isEmpty { return .integer(integers[index]) }
            let entry = entries[index]
            if entry.isInteger { return .integer(entry.integer) }
            return .bytes(UnsafeRawBufferPointer(rebasing: bytes[Int(entry.offset)..<Int(entry.offset) + Int(entry.length)]))
        }

        /// The score of the sorted set member at entry `index` (an even index).
        @inlinable public func score(_ index: Int) -> Double { scores[index / 2] }
    }

    /// Calls `body` with the entries, read in place in the blob.
    @inlinable public func withEntries<R>(_ body: (Entries) throws -> R) rethrows -> R {
        try blob.withUnsafeReadableBytes { bytes in
            try entries.withUnsafeBufferPointer { entries in
                try scores.withUnsafeBufferPointer { scores in
                    try integers.withUnsafeBufferPointer { integers in
                        try body(Entries(bytes: bytes, entries: entries, scores: scores, integers: integers))
                    }
                }
            }
        }
    }

    /// The element events the block stands for, their strings sharing the blob's storage.
    public var elements: [RDBElement] {
        if !integers.isEmpty { return integers.map { .setMember(.integer($0)) } }
        let strings = BlobEntry.strings(entries, in: blob)
        switch kind {
        case .listItems: return strings.map { .listItem($0) }
        case .setMembers: return strings.map { .setMember($0) }
        case .zsetMembers:
            return scores.indices.map { .zsetMember(strings[$0 * 2], score: scores[$0]) }
        case .hashFields:
            return Swift.stride(from: 0, to: strings.count, by: 2).map {
                .hashField(strings[$0], value: strings[$0 + 1], expireAtMilliseconds: nil)
            }
        }
    }
}
