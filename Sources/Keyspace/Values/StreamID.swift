import Formats

/// A stream entry ID: Unix milliseconds and a sequence number, ordered as a 128-bit number (Redis `streamID`).
///
/// ```
///   1526919030474-55      milliseconds "-" sequence, both unsigned 64-bit decimal
/// ```
public struct StreamID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var milliseconds: UInt64
    public var sequence: UInt64

    @inlinable
    public init(milliseconds: UInt64, sequence: UInt64) {
        self.milliseconds = milliseconds
        self.sequence = sequence
    }

    /// `0-0`: below every valid entry ID (XADD refuses it).
    public static let zero = StreamID(milliseconds: 0, sequence: 0)
    /// The last possible ID (what `+` means in a range).
    public static let max = StreamID(milliseconds: .max, sequence: .max)

    @inlinable
    public static func < (lhs: StreamID, rhs: StreamID) -> Bool {
        lhs.milliseconds != rhs.milliseconds ? lhs.milliseconds < rhs.milliseconds : lhs.sequence < rhs.sequence
    }

    public var isZero: Bool { milliseconds == 0 && sequence == 0 }

    /// The next ID, nil after ``max`` (Redis `streamIncrID` reports the wrap as an error).
    public var successor: StreamID? {
        if sequence != .max { return StreamID(milliseconds: milliseconds, sequence: sequence + 1) }
        if milliseconds != .max { return StreamID(milliseconds: milliseconds + 1, sequence: 0) }
        return nil
    }

    /// The previous ID, nil before ``zero`` (Redis `streamDecrID`).
    public var predecessor: StreamID? {
        if sequence != 0 { return StreamID(milliseconds: milliseconds, sequence: sequence - 1) }
        if milliseconds != 0 { return StreamID(milliseconds: milliseconds - 1, sequence: .max) }
        return nil
    }

    /// `ms-seq`, as replies and the AOF carry it.
    public var description: String { "\(milliseconds)-\(sequence)" }

    /// ``description`` as bytes.
    public var bytes: Bytes {
        // Digits written backwards into a buffer large enough for two 20-digit numbers and the dash.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 41) { buffer in
            var start = 41
            func prepend(_ value: UInt64) {
                var rest = value
                repeat {
                    start -= 1
                    buffer[start] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
                    rest /= 10
                } while rest > 0
            }
            prepend(sequence)
            start -= 1
            buffer[start] = UInt8(ascii: "-")
            prepend(milliseconds)
            return Bytes(UnsafeBufferPointer(rebasing: buffer[start..<41]))
        }
    }

    /// The ID as a reply (a bulk string).
    public var reply: Reply { .bulk(bytes) }

    // MARK: - RDB

    public init(_ rdb: RDBStreamID) {
        self.init(milliseconds: rdb.milliseconds, sequence: rdb.sequence)
    }

    public var rdbStreamID: RDBStreamID { RDBStreamID(milliseconds: milliseconds, sequence: sequence) }
}

// MARK: - Parsing

extension StreamID {
    /// What an ID argument says (Redis `streamGenericParseIDOrReply`).
    public struct Parsed: Sendable, Equatable {
        public var id: StreamID
        /// False for XADD's `<ms>-*` form: the sequence is to be generated.
        public var sequenceGiven: Bool
    }

    /// Parses an ID argument the way Redis does: `-` and `+` (unless `strict`), `<ms>`, `<ms>-<seq>`, and `<ms>-*`
    /// when `allowAutoSequence`. Each part is read by `string2ull` — a strict integer, or else what `strtoull`
    /// accepts over the whole text (leading spaces, a sign: `+5`, ` 5` and even `-01` are numbers to it).
    /// A missing sequence is `missingSequence`. Nil when invalid.
    ///
    /// - Complexity: O(length), at most 127 bytes looked at.
    public static func parse(
        _ argument: Bytes, missingSequence: UInt64 = 0, strict: Bool = false, allowAutoSequence: Bool = false
    ) -> Parsed? {
        // Redis copies the argument into a 128-byte buffer, then works on it as a C string.
        guard argument.count <= 127 else { return nil }
        return argument.withUnsafeBytes { raw -> Parsed? in
            var text = UnsafeRawBufferPointer(rebasing: raw[...])
            if let nul = text.firstIndex(of: 0) { text = UnsafeRawBufferPointer(rebasing: text[..<nul]) }
            if text.count == 1 && (text[0] == UInt8(ascii: "-") || text[0] == UInt8(ascii: "+")) {
                if strict { return nil }
                return Parsed(id: text[0] == UInt8(ascii: "-") ? .zero : .max, sequenceGiven: true)
            }
            guard let dash = text.firstIndex(of: UInt8(ascii: "-")) else {
                guard let ms = unsignedValue(text) else { return nil }
                return Parsed(id: StreamID(milliseconds: ms, sequence: missingSequence), sequenceGiven: true)
            }
            guard let ms = unsignedValue(UnsafeRawBufferPointer(rebasing: text[..<dash])) else { return nil }
            let rest = UnsafeRawBufferPointer(rebasing: text[(dash + 1)...])
            if allowAutoSequence && rest.count == 1 && rest[0] == UInt8(ascii: "*") {
                return Parsed(id: StreamID(milliseconds: ms, sequence: 0), sequenceGiven: false)
            }
            guard let seq = unsignedValue(rest) else { return nil }
            return Parsed(id: StreamID(milliseconds: ms, sequence: seq), sequenceGiven: true)
        }
    }

    /// Redis `string2ull`: a strict `string2ll` integer when non-negative, else `strtoull` over the whole text.
    private static func unsignedValue(_ text: UnsafeRawBufferPointer) -> UInt64? {
        guard !text.isEmpty else { return nil }
        if let strict = Bytes(text).integerValue { return strict >= 0 ? UInt64(strict) : nil }
        // strtoull: leading white space, an optional sign, at least one digit, and nothing after the digits.
        var index = 0
        while index < text.count && Bytes.isSpace(text[index]) { index += 1 }
        var negative = false
        if index < text.count && (text[index] == UInt8(ascii: "+") || text[index] == UInt8(ascii: "-")) {
            negative = text[index] == UInt8(ascii: "-")
            index += 1
        }
        let firstDigit = index
        var magnitude: UInt64 = 0
        while index < text.count, text[index] &- UInt8(ascii: "0") < 10 {
            let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(text[index] &- UInt8(ascii: "0")))
            if overflow1 || overflow2 { return nil }  // ERANGE
            magnitude = sum
            index += 1
        }
        guard index > firstDigit, index == text.count else { return nil }
        // strtoull negates in unsigned arithmetic: "-1" would be 2^64-1 (but string2ll took that case above).
        return negative ? 0 &- magnitude : magnitude
    }
}
