#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// MARK: - Argument rules of the sorted-set commands

/// How the sorted-set commands read scores, weights and ranges, with Redis 7.0's rules and messages.
enum SortedSetArguments {
    static let notFloat = CommandError("ERR value is not a valid float")
    static let badScoreRange = CommandError("ERR min or max is not a float")
    static let badLexRange = CommandError("ERR min or max not valid string range item")
    static let nanScore = CommandError("ERR resulting score is not a number (NaN)")

    /// A score or weight the way Redis 7.0 reads it (`getDoubleFromObject`): `strtod` over the whole argument,
    /// not empty, no leading space, not NaN, and not out of range (an overflow to ±inf or an underflow to zero
    /// that was not written as such is refused; `inf`, `-inf` and subnormal values are accepted).
    static func score(_ argument: Bytes) -> Double? {
        guard let first = argument.first, !Bytes.isSpace(first) else { return nil }
        let (value, consumedAll, outOfRange) = Bytes.cDouble(argument)
        guard consumedAll, !value.isNaN else { return nil }
        if outOfRange && (value.isInfinite || value == 0) { return nil }
        return value
    }

    /// A score argument, or `ERR value is not a valid float` (or `message`).
    static func score(_ argument: Bytes, orError error: CommandError = notFloat) throws(CommandError) -> Double {
        guard let value = score(argument) else { throw error }
        return value
    }

    /// One end of a score range (Redis `zslParseRange`): `(` makes it exclusive; the rest goes through `strtod`
    /// as a C string, so leading spaces are skipped, an empty rest is 0, and overflow gives ±inf. NaN is refused.
    static func scoreBound(_ argument: Bytes) -> (value: Double, exclusive: Bool)? {
        // The C string ends at the first NUL byte.
        let text = argument.prefix { $0 != 0 }
        let exclusive = text.first == UInt8(ascii: "(")
        let (value, consumedAll, _) = Bytes.cDouble(exclusive ? text.dropFirst() : text)
        guard consumedAll, !value.isNaN else { return nil }
        return (value, exclusive)
    }

    /// `min max` as a score range, or `ERR min or max is not a float`.
    static func scoreRange(_ min: Bytes, _ max: Bytes) throws(CommandError) -> ScoreRange {
        guard let low = scoreBound(min), let high = scoreBound(max) else { throw badScoreRange }
        return ScoreRange(min: low.value, max: high.value, minExclusive: low.exclusive, maxExclusive: high.exclusive)
    }

    /// One end of a lexicographic range (Redis `zslParseLexRangeItem`): `+`, `-`, `(member`, `[member`.
    static func lexBound(_ argument: Bytes) -> LexRange.Bound? {
        guard let first = argument.first else { return nil }
        // "+" and "-" must be the whole C string.
        let alone = argument.count == 1 || argument[1] == 0
        switch first {
        case UInt8(ascii: "+"): return alone ? .positiveInfinity : nil
        case UInt8(ascii: "-"): return alone ? .negativeInfinity : nil
        case UInt8(ascii: "("): return .exclusive(Bytes(argument.dropFirst()))
        case UInt8(ascii: "["): return .inclusive(Bytes(argument.dropFirst()))
        default: return nil
        }
    }

    /// `min max` as a lexicographic range, or `ERR min or max not valid string range item`.
    static func lexRange(_ min: Bytes, _ max: Bytes) throws(CommandError) -> LexRange {
        guard let low = lexBound(min), let high = lexBound(max) else { throw badLexRange }
        return LexRange(min: low, max: high)
    }

    /// The ranks `start...stop` designate in a collection of `count` elements (negative indexes count from the
    /// end), clamped; nil when empty. As ZRANGE, ZREVRANGE and ZREMRANGEBYRANK read them: only the start is
    /// clamped to 0, so a stop still negative after adding the count selects nothing.
    static func rankRange(start: Int64, stop: Int64, count: Int) -> Range<Int>? {
        let length = Int64(count)
        var start = start < 0 ? start &+ length : start
        var stop = stop < 0 ? stop &+ length : stop
        if start < 0 { start = 0 }
        guard start <= stop, start < length else { return nil }
        if stop >= length { stop = length - 1 }
        return Int(start)..<Int(stop + 1)
    }
}
