// MARK: - Random elements (ZRANDMEMBER, HRANDFIELD)

/// The `count [WITHSCORES | WITHVALUES]` arguments of ZRANDMEMBER and HRANDFIELD and the positions they reply
/// with, following Redis 7.0's cases: no count (one element), 0 (nothing), negative (that many, repeats
/// allowed), at least the size (everything), else that many distinct elements.
enum RandomSampling {
    /// A negative count whose magnitude passes this is refused with `ERR value is out of range`: Redis would try
    /// to build the reply and run out of memory; no client can read four billion replies anyway.
    static let maxRepeatedCount: Int64 = 1 << 32

    /// What the count argument asks for.
    struct Request {
        var count: Int64
        /// WITHSCORES / WITHVALUES: each element is followed by its score or value.
        var withValues: Bool
    }

    /// Parses `argv[2...]`: nil when there is no count. The count is checked before the key is looked up.
    /// - Throws: `ERR value is not an integer or out of range`, the range error for `LONG_MIN`, `ERR syntax error`
    ///   for anything but `keyword` after the count, `ERR value is out of range` for a count whose reply would
    ///   overflow with values.
    static func request(_ argv: [Bytes], keyword: StaticString) throws(CommandError) -> Request? {
        guard argv.count >= 3 else { return nil }
        let count = try CollectionArguments.atLeast(-Int64.max, argv[2])
        guard argv.count <= 4, argv.count == 3 || argv[3].isKeyword(keyword) else { throw .syntax }
        let withValues = argv.count == 4
        let valueLimit = Int64.max / 2
        if withValues && (count > valueLimit || count < -valueLimit) { throw CommandError("ERR value is out of range") }
        if count < -maxRepeatedCount { throw CommandError("ERR value is out of range") }
        return Request(count: count, withValues: withValues)
    }

    /// The positions (in `0..<size`) to reply with for `count`, in reply order. `size` must be positive.
    /// - Complexity: O(|count|), or O(size) when the count is more than a third of the size.
    static func positions<G: RandomNumberGenerator>(count: Int64, size: Int, using generator: inout G) -> [Int] {
        if count == 0 { return [] }
        if count < 0 {
            let total = Int(-count)
            var positions: [Int] = []
            positions.reserveCapacity(Swift.min(total, 1 << 16))
            for _ in 0..<total { positions.append(Int.random(in: 0..<size, using: &generator)) }
            return positions
        }
        if count >= Int64(size) { return Array(0..<size) }
        let wanted = Int(count)
        if wanted * 3 > size {
            // Many of them: a partial shuffle of every position.
            var all = Array(0..<size)
            for index in 0..<wanted { all.swapAt(index, Int.random(in: index..<size, using: &generator)) }
            return Array(all[0..<wanted])
        }
        // Few of them: draw until enough distinct ones came up.
        var chosen = Set<Int>(minimumCapacity: wanted)
        var positions: [Int] = []
        positions.reserveCapacity(wanted)
        while positions.count < wanted {
            let position = Int.random(in: 0..<size, using: &generator)
            if chosen.insert(position).inserted { positions.append(position) }
        }
        return positions
    }
}
