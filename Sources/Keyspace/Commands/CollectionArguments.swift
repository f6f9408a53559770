// MARK: - Argument rules shared by the list and set commands

/// How the list and set commands read their numeric and keyword arguments, with Redis 7.0's messages.
enum CollectionArguments {
    /// A list end: LEFT is the head, RIGHT the tail (LMOVE, LMPOP).
    enum End {
        case left, right
    }

    /// `LEFT` or `RIGHT` in any case, else `ERR syntax error` (Redis `getListPositionFromObjectOrReply`).
    static func end(_ argument: Bytes) throws(CommandError) -> End {
        if argument.isKeyword("left") { return .left }
        if argument.isKeyword("right") { return .right }
        throw .syntax
    }

    /// A non-negative integer; anything else (not an integer, or negative) fails with `ERR <message>`
    /// (Redis `getPositiveLongFromObjectOrReply` with a message).
    static func nonNegative(_ argument: Bytes, orError message: String) throws(CommandError) -> Int {
        guard let value = argument.integerValue, value >= 0 else { throw CommandError("ERR " + message) }
        return Int(value)
    }

    /// An integer at least `minimum`. With a message, every failure is `ERR <message>`; without one, a
    /// non-integer is `ERR value is not an integer or out of range` and a value below the minimum names the
    /// range (Redis `getRangeLongFromObjectOrReply`).
    static func atLeast(_ minimum: Int64, _ argument: Bytes, orError message: String? = nil) throws(CommandError) -> Int64 {
        guard let value = argument.integerValue else {
            throw message.map { CommandError("ERR " + $0) } ?? .notInteger
        }
        guard value >= minimum else {
            throw CommandError("ERR " + (message ?? "value is out of range, value must between \(minimum) and \(Int64.max)"))
        }
        return value
    }

    /// A SCAN cursor as Redis reads it (`strtoul` over the whole argument, no leading space): an optional sign
    /// (a minus wraps around, so `-1` is the largest cursor), decimal digits, nothing after them; the empty
    /// string is cursor 0. Values past `Int.max` are clamped (they are past every position anyway).
    /// - Throws: `ERR invalid cursor`.
    static func scanCursor(_ argument: Bytes) throws(CommandError) -> Int {
        let invalid = CommandError("ERR invalid cursor")
        // The C string ends at the first NUL byte.
        let text = argument.prefix { $0 != 0 }
        guard let first = text.first else { return 0 }
        if Bytes.isSpace(first) { throw invalid }
        var digits = text[...]
        var negative = false
        if first == UInt8(ascii: "+") || first == UInt8(ascii: "-") {
            negative = first == UInt8(ascii: "-")
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty else { throw invalid }
        var value: UInt64 = 0
        for byte in digits {
            let digit = byte &- UInt8(ascii: "0")
            guard digit < 10 else { throw invalid }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(digit))
            if overflow1 || overflow2 { throw invalid }
            value = sum
        }
        if negative { value = 0 &- value }
        return value > UInt64(Int.max) ? Int.max : Int(value)
    }
}
