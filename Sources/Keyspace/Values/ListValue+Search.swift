import DequeModule

// MARK: - Redis index arithmetic

extension ListValue {
    /// The position `index` names (negative counts from the tail: -1 is the last element), nil when outside the
    /// list (LINDEX, LSET).
    /// - Complexity: O(1)
    public func position(_ index: Int64) -> Int? {
        let resolved = index < 0 ? index + Int64(count) : index
        guard resolved >= 0, resolved < Int64(count) else { return nil }
        return Int(resolved)
    }

    /// The positions `start ... stop` name, negative values counting from the tail and both ends clamped to the
    /// list; empty when `start` is past `stop` or past the end (LRANGE, LTRIM).
    /// - Complexity: O(1)
    public func positions(start: Int64, stop: Int64) -> Range<Int> {
        let length = Int64(count)
        var start = start < 0 ? start + length : start
        var stop = stop < 0 ? stop + length : stop
        if start < 0 { start = 0 }
        guard start <= stop, start < length else { return 0..<0 }
        if stop >= length { stop = length - 1 }
        return Int(start)..<Int(stop + 1)
    }
}

// MARK: - Searching (LPOS, LINSERT)

extension ListValue {
    /// Positions (counted from the head) of the elements equal to `element`, in scan order (LPOS).
    ///
    /// - Parameters:
    ///   - fromTail: scan from the tail instead of the head.
    ///   - skipping: matches passed over before the first one reported (LPOS's RANK minus one).
    ///   - limit: matches reported at most; nil for all.
    ///   - maxComparisons: elements looked at, at most; 0 for the whole list (LPOS's MAXLEN).
    /// - Complexity: O(n) in the elements scanned.
    public func positions(
        of element: Bytes, fromTail: Bool, skipping: Int, limit: Int?, maxComparisons: Int
    ) -> [Int] {
        var found: [Int] = []
        if limit == 0 { return found }
        var matches = 0
        var scanned = 0
        let budget = maxComparisons == 0 ? count : Swift.min(maxComparisons, count)
        // Returns false to stop the scan.
        func visit(_ chunk: Chunk, _ offset: Int, at position: Int) -> Bool {
            if chunk.element(offset, equals: element) {
                matches += 1
                if matches > skipping {
                    found.append(position)
                    if let limit, found.count >= limit { return false }
                }
            }
            scanned += 1
            return scanned < budget
        }
        guard budget > 0 else { return found }
        if fromTail {
            var position = count - 1
            for chunk in chunks.reversed() {
                for offset in stride(from: chunk.count - 1, through: 0, by: -1) {
                    if !visit(chunk, offset, at: position) { return found }
                    position -= 1
                }
            }
        } else {
            var position = 0
            for chunk in chunks {
                for offset in 0..<chunk.count {
                    if !visit(chunk, offset, at: position) { return found }
                    position += 1
                }
            }
        }
        return found
    }

    /// Inserts `element` just before or after the first element equal to `pivot` (LINSERT). Returns false, leaving
    /// the list unchanged, when there is no such element.
    /// - Complexity: O(n) to find the pivot, then O(chunkCapacity).
    public mutating func insert(_ element: Bytes, nextTo pivot: Bytes, after: Bool) -> Bool {
        for chunk in chunks.indices {
            guard let offset = chunks[chunk].firstIndex(of: pivot) else { continue }
            insert(element, chunk: chunk, offset: after ? offset + 1 : offset)
            return true
        }
        return false
    }
}

// MARK: - Removing by value (LREM)

extension ListValue {
    /// Removes elements equal to `element`, at most `limit` of them (0 for all), the first ones from the head, or
    /// from the tail when `fromTail` (LREM). Returns how many were removed.
    ///
    /// Chunks without a match are kept as they are (shared with any snapshot); the scan stops once `limit` is
    /// reached. A chunk left small is merged with the chunk before it when they fit together.
    /// - Complexity: O(n) in the elements scanned, plus O(chunkCapacity) per chunk that loses elements.
    @discardableResult
    public mutating func removeAll(equalTo element: Bytes, limit: Int, fromTail: Bool) -> Int {
        var quota = limit <= 0 ? Int.max : limit
        var removed = 0
        var rebuilt = Deque<Chunk>()
        rebuilt.reserveCapacity(chunks.count)
        // Chunks are consumed from the scan's end: `rebuilt` grows in scan order (appended from the head,
        // prepended from the tail) and the rest is spliced back once the quota is used up.
        while quota > 0, let chunk = fromTail ? chunks.popLast() : chunks.popFirst() {
            let (filtered, dropped) = ListValue.filter(chunk, removing: element, upTo: quota, fromTail: fromTail)
            var kept = filtered
            guard dropped > 0 else {
                if fromTail { rebuilt.prepend(chunk) } else { rebuilt.append(chunk) }
                continue
            }
            quota -= dropped
            removed += dropped
            guard !kept.isEmpty else { continue }
            // Merge with the neighbour already placed when both fit in one chunk.
            // (Sizes only: holding a neighbour in a local would make its storage look shared and force a copy.)
            let neighbourSize = (fromTail ? rebuilt.first?.count : rebuilt.last?.count) ?? Int.max
            let neighbourBytes = (fromTail ? rebuilt.first?.byteCount : rebuilt.last?.byteCount) ?? Int.max
            if neighbourSize <= ListValue.mergeThreshold - kept.count,
                neighbourBytes <= ListValue.chunkByteLimit - kept.byteCount
            {
                if fromTail {
                    let next = rebuilt.removeFirst()
                    kept.append(contentsOf: next, 0..<next.count)
                    rebuilt.prepend(kept)
                } else {
                    rebuilt[rebuilt.count - 1].append(contentsOf: kept, 0..<kept.count)
                }
            } else if fromTail {
                rebuilt.prepend(kept)
            } else {
                rebuilt.append(kept)
            }
        }
        guard removed > 0 else {
            // Nothing matched: put the scanned chunks back in place (no element was copied).
            if fromTail { chunks.append(contentsOf: rebuilt) } else { chunks.prepend(contentsOf: rebuilt) }
            return 0
        }
        if fromTail {
            chunks.append(contentsOf: rebuilt)
        } else {
            rebuilt.append(contentsOf: chunks)
            chunks = rebuilt
        }
        count -= removed
        return removed
    }

    /// `chunk` without its first (or last, `fromTail`) `limit` elements equal to `element`, and how many went.
    /// Returns the chunk itself, uncopied, when nothing matches.
    private static func filter(
        _ chunk: Chunk, removing element: Bytes, upTo limit: Int, fromTail: Bool
    ) -> (kept: Chunk, dropped: Int) {
        var matches = 0
        for offset in 0..<chunk.count where chunk.element(offset, equals: element) { matches += 1 }
        guard matches > 0 else { return (chunk, 0) }
        let dropping = Swift.min(matches, limit)
        // Scanning from the tail and dropping fewer than all matches: the first `matches - dropping` stay.
        var spared = fromTail ? matches - dropping : 0
        var budget = dropping
        var kept = Chunk()
        // Runs of kept elements are copied in one go.
        var runStart = 0
        for offset in 0..<chunk.count where budget > 0 && chunk.element(offset, equals: element) {
            if spared > 0 {
                spared -= 1
                continue
            }
            budget -= 1
            kept.append(contentsOf: chunk, runStart..<offset)
            runStart = offset + 1
        }
        kept.append(contentsOf: chunk, runStart..<chunk.count)
        return (kept, dropping)
    }
}
