// MARK: - Glob patterns (KEYS, SCAN MATCH, SSCAN/HSCAN/ZSCAN MATCH)

extension Bytes {
    /// Whether the bytes match a Redis glob pattern (`stringmatchlen`): `*` any run, `?` one byte,
    /// `[abc]`, `[^abc]`, `[a-z]` classes, `\x` a literal `x`. `ignoringCase` folds ASCII letters.
    ///
    /// - Complexity: O(pattern × subject) in the worst case; nested stars are bounded the way Redis bounds them.
    public func matches(glob pattern: Bytes, ignoringCase: Bool = false) -> Bool {
        var budget = 1_000_000  // like Redis's nesting limit: a hostile pattern cannot spin forever
        return pattern.withUnsafeBufferPointer { p in
            withUnsafeBufferPointer { s in
                Bytes.match(p[...], s[...], ignoringCase, &budget)
            }
        }
    }

    private static func fold(_ byte: UInt8, _ ignoringCase: Bool) -> UInt8 {
        ignoringCase && byte &- 65 < 26 ? byte | 0x20 : byte
    }

    private static func match(
        _ pattern: Slice<UnsafeBufferPointer<UInt8>>, _ subject: Slice<UnsafeBufferPointer<UInt8>>,
        _ ignoringCase: Bool, _ budget: inout Int
    ) -> Bool {
        var p = pattern.startIndex
        var s = subject.startIndex
        budget -= 1
        if budget <= 0 { return false }
        while p < pattern.endIndex {
            switch pattern[p] {
            case UInt8(ascii: "*"):
                while p + 1 < pattern.endIndex && pattern[p + 1] == UInt8(ascii: "*") { p += 1 }
                if p + 1 == pattern.endIndex { return true }
                var start = s
                while start <= subject.endIndex {
                    if match(pattern[(p + 1)...], subject[start...], ignoringCase, &budget) { return true }
                    if budget <= 0 { return false }
                    start += 1
                }
                return false
            case UInt8(ascii: "?"):
                guard s < subject.endIndex else { return false }
                s += 1
            case UInt8(ascii: "["):
                guard s < subject.endIndex else { return false }
                p += 1
                let negate = p < pattern.endIndex && pattern[p] == UInt8(ascii: "^")
                if negate { p += 1 }
                var found = false
                let byte = fold(subject[s], ignoringCase)
                while p < pattern.endIndex && pattern[p] != UInt8(ascii: "]") {
                    if pattern[p] == UInt8(ascii: "\\") && p + 1 < pattern.endIndex {
                        p += 1
                        if fold(pattern[p], ignoringCase) == byte { found = true }
                    } else if p + 2 < pattern.endIndex && pattern[p + 1] == UInt8(ascii: "-") && pattern[p + 2] != UInt8(ascii: "]") {
                        var low = fold(pattern[p], ignoringCase)
                        var high = fold(pattern[p + 2], ignoringCase)
                        if low > high { swap(&low, &high) }
                        if byte >= low && byte <= high { found = true }
                        p += 2
                    } else if fold(pattern[p], ignoringCase) == byte {
                        found = true
                    }
                    p += 1
                }
                // An unterminated class ends at the pattern's end, as in Redis.
                if p == pattern.endIndex { p -= 1 }
                if found == negate { return false }
                s += 1
            case UInt8(ascii: "\\") where p + 1 < pattern.endIndex:
                p += 1
                guard s < subject.endIndex, fold(pattern[p], ignoringCase) == fold(subject[s], ignoringCase) else { return false }
                s += 1
            default:
                guard s < subject.endIndex, fold(pattern[p], ignoringCase) == fold(subject[s], ignoringCase) else { return false }
                s += 1
            }
            p += 1
        }
        return s == subject.endIndex
    }
}

// MARK: - SCAN cursors

/// The arguments SCAN-like commands share: `cursor [MATCH pattern] [COUNT n] [TYPE t]`.
public struct ScanOptions: Sendable {
    public var cursor: Int
    public var pattern: Bytes?
    public var count = 10
    /// SCAN only.
    public var type: String?
    /// ZSCAN/HSCAN NOVALUES (Redis 7.4+ for HSCAN); off by default.
    public var noValues = false

    /// Parses `argv[cursorIndex...]`. `allowType` for SCAN, `allowNoValues` for HSCAN.
    /// - Throws: `ERR invalid cursor`, `ERR value is not an integer or out of range`, `ERR syntax error`.
    public init(_ argv: [Bytes], cursorIndex: Int, allowType: Bool = false, allowNoValues: Bool = false) throws(CommandError) {
        self.cursor = try CollectionArguments.scanCursor(argv[cursorIndex])
        var index = cursorIndex + 1
        while index < argv.count {
            let option = argv[index]
            let hasValue = index + 1 < argv.count
            if option.isKeyword("count") && hasValue {
                guard let count = argv[index + 1].integerValue else { throw .notInteger }
                guard count >= 1 else { throw .syntax }
                self.count = Int(Swift.min(count, Int64(Int32.max)))
                index += 2
            } else if option.isKeyword("match") && hasValue {
                let pattern = argv[index + 1]
                // "*" matches everything: skip the matching work, as Redis does.
                self.pattern = pattern == "*" ? nil : pattern
                index += 2
            } else if allowType && option.isKeyword("type") && hasValue {
                type = argv[index + 1].lowercasedASCII
                index += 2
            } else if allowNoValues && option.isKeyword("novalues") {
                noValues = true
                index += 1
            } else {
                throw .syntax
            }
        }
    }

    /// Whether `element` passes MATCH.
    public func matches(_ element: Bytes) -> Bool { pattern.map { element.matches(glob: $0) } ?? true }
}

extension Collection where Index: Comparable {
    /// One page of a scan over a persistent hash tree (or any collection) by position: the elements at
    /// `cursor ..< cursor + count` and the next cursor (0 at the end).
    ///
    /// Positions follow the tree's hash order, so a full iteration returns every element that was present from
    /// start to end unless elements before the cursor were removed meanwhile (then some may be missed; Redis's
    /// reverse-binary cursor avoids that, ours does not yet).
    /// - Complexity: O(log n + count) for `TreeDictionary` / `TreeSet`.
    public func scanPage(cursor: Int, count: Int) -> (next: Int, elements: SubSequence) {
        let total = self.count
        guard cursor < total else { return (0, self[endIndex...]) }
        let start = index(startIndex, offsetBy: cursor)
        let end = index(start, offsetBy: Swift.min(count, total - cursor))
        let next = cursor + Swift.min(count, total - cursor)
        return (next >= total ? 0 : next, self[start..<end])
    }
}
