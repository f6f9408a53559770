// A small pull parser for JSON (RFC 8259) over a ByteSource: whole values, or token by token so that a
// document's "keys" array can be read one record at a time.
//
// Numbers keep their text, so that 64-bit integers and doubles convert exactly; strings are their UTF-8 bytes
// (\u escapes decoded, surrogate pairs joined, a lone surrogate becomes U+FFFD).

import Formats
import NIOCore

/// A parsed JSON value.
package enum JSONValue {
    case null
    case bool(Bool)
    case number(String)
    case string([UInt8])
    case array([JSONValue])
    case object([JSONMember])

    /// The first member named `name` of an object; nil for other values.
    package subscript(name: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.name == name }?.value
    }

    package var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}

/// A member of a JSON object, in document order (duplicate names are kept).
package struct JSONMember {
    package var name: String
    package var value: JSONValue
}

/// Reads JSON from a source, tracking the absolute offset for error messages.
package struct JSONScanner<Source: ByteSource> {
    private var source: Source
    private var window: [UInt8] = []
    private var index = 0
    /// Absolute offset of window[0].
    private var windowOffset: Int64 = 0
    private var sourceEnded = false
    private let chunkSize: Int

    /// Nesting limit (the style guide's maxAggregateDepth) and longest string accepted (512 MiB, as RDB strings).
    static var maxDepth: Int { 100 }
    static var maxStringBytes: Int { 512 * 1024 * 1024 }

    package init(source: Source, chunkSize: Int = 256 * 1024) {
        self.source = source
        self.chunkSize = chunkSize
    }

    /// The absolute offset of the next byte.
    package var offset: Int64 { windowOffset + Int64(index) }

    // MARK: - Bytes

    /// Refills the window once it is consumed; false at the end of the input.
    private mutating func refill() throws(FormatError) -> Bool {
        guard !sourceEnded else { return false }
        windowOffset += Int64(window.count)
        window.removeAll(keepingCapacity: true)
        index = 0
        var buffer = ByteBufferAllocator().buffer(capacity: chunkSize)
        while buffer.readableBytes == 0 {
            if try source.read(into: &buffer, atMost: chunkSize) == 0 {
                sourceEnded = true
                return false
            }
        }
        window.append(contentsOf: buffer.readableBytesView)
        return true
    }

    private mutating func peekByte() throws(FormatError) -> UInt8? {
        if index < window.count { return window[index] }
        return try refill() ? window[index] : nil
    }

    private mutating func nextByte() throws(FormatError) -> UInt8? {
        if index == window.count, try !refill() { return nil }
        defer { index += 1 }
        return window[index]
    }

    /// Skips whitespace and returns the next byte without consuming it; nil at the end of the input.
    package mutating func peekToken() throws(FormatError) -> UInt8? {
        while let byte = try peekByte() {
            switch byte {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return byte
            }
        }
        return nil
    }

    /// Consumes `byte` (after whitespace) when it is next.
    mutating func consume(_ byte: UInt8) throws(FormatError) -> Bool {
        guard try peekToken() == byte else { return false }
        index += 1
        return true
    }

    /// Consumes `byte` (after whitespace) or throws.
    mutating func expect(_ byte: UInt8, _ what: String) throws(FormatError) {
        guard try peekToken() != nil else { throw truncated("expected \(what)") }
        guard try consume(byte) else { throw corrupt("expected \(what)") }
    }

    func corrupt(_ detail: String, at offset: Int64? = nil) -> FormatError {
        FormatError(.corrupt, offset: offset ?? self.offset, phase: .other("read-json"), "invalid JSON: \(detail)")
    }

    func truncated(_ detail: String) -> FormatError {
        FormatError(.truncated, offset: offset, phase: .other("read-json"), "JSON input ends early: \(detail)")
    }

    // MARK: - Values

    /// Parses one whole value.
    package mutating func parseValue() throws(FormatError) -> JSONValue {
        try parseValue(depth: 0)
    }

    private mutating func parseValue(depth: Int) throws(FormatError) -> JSONValue {
        guard depth < Self.maxDepth else {
            throw FormatError(
                .limitExceeded, offset: offset, phase: .other("read-json"), "JSON nested deeper than \(Self.maxDepth)")
        }
        guard let byte = try peekToken() else { throw truncated("expected a value") }
        switch byte {
        case UInt8(ascii: "{"):
            index += 1
            var members: [JSONMember] = []
            if try consume(UInt8(ascii: "}")) { return .object(members) }
            repeat {
                guard try peekToken() == UInt8(ascii: "\"") else { throw corrupt("expected a member name") }
                let key = String(decoding: try parseString(), as: UTF8.self)
                try expect(UInt8(ascii: ":"), "':'")
                members.append(JSONMember(name: key, value: try parseValue(depth: depth + 1)))
            } while try consume(UInt8(ascii: ","))
            try expect(UInt8(ascii: "}"), "',' or '}'")
            return .object(members)
        case UInt8(ascii: "["):
            index += 1
            var items: [JSONValue] = []
            if try consume(UInt8(ascii: "]")) { return .array(items) }
            repeat {
                items.append(try parseValue(depth: depth + 1))
            } while try consume(UInt8(ascii: ","))
            try expect(UInt8(ascii: "]"), "',' or ']'")
            return .array(items)
        case UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "t"):
            try parseLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try parseLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try parseLiteral("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try parseNumber())
        default:
            throw corrupt("unexpected character '\(Unicode.Scalar(byte))'")
        }
    }

    private mutating func parseLiteral(_ literal: StaticString) throws(FormatError) {
        let start = offset
        for expected in UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount) {
            guard let byte = try nextByte() else { throw truncated("in \(literal)") }
            guard byte == expected else { throw corrupt("expected \(literal)", at: start) }
        }
    }

    private mutating func parseNumber() throws(FormatError) -> String {
        let start = offset
        var text: [UInt8] = []
        func digits(_ scanner: inout JSONScanner, _ text: inout [UInt8]) throws(FormatError) -> Int {
            var count = 0
            while let byte = try scanner.peekByte(), byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                text.append(byte)
                scanner.index += 1
                count += 1
            }
            return count
        }
        if try peekByte() == UInt8(ascii: "-") {
            text.append(UInt8(ascii: "-"))
            index += 1
        }
        let integerStart = text.count
        let integerDigits = try digits(&self, &text)
        // No leading zeros: "0" and "0.5" but not "01".
        guard integerDigits > 0, integerDigits == 1 || text[integerStart] != UInt8(ascii: "0") else {
            throw corrupt("invalid number", at: start)
        }
        if try peekByte() == UInt8(ascii: ".") {
            text.append(UInt8(ascii: "."))
            index += 1
            guard try digits(&self, &text) > 0 else { throw corrupt("invalid number", at: start) }
        }
        if let byte = try peekByte(), byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            text.append(byte)
            index += 1
            if let sign = try peekByte(), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
                text.append(sign)
                index += 1
            }
            guard try digits(&self, &text) > 0 else { throw corrupt("invalid number", at: start) }
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Parses a string (the next token must be its opening quote) into its UTF-8 bytes.
    mutating func parseString() throws(FormatError) -> [UInt8] {
        let start = offset
        guard try nextByte() == UInt8(ascii: "\"") else { throw corrupt("expected a string", at: start) }
        var bytes: [UInt8] = []
        while true {
            // Fast path: copy the run of ordinary bytes in the window at once.
            var end = index
            while end < window.count {
                let byte = window[end]
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 { break }
                end += 1
            }
            if end > index {
                bytes.append(contentsOf: window[index..<end])
                index = end
                guard bytes.count <= Self.maxStringBytes else {
                    throw FormatError(
                        .limitExceeded, offset: start, phase: .other("read-json"), "JSON string longer than 512 MiB")
                }
            }
            guard let byte = try nextByte() else { throw truncated("in a string starting at offset \(start)") }
            switch byte {
            case UInt8(ascii: "\""):
                return bytes
            case UInt8(ascii: "\\"):
                guard let escape = try nextByte() else { throw truncated("in a string escape") }
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): bytes.append(escape)
                case UInt8(ascii: "b"): bytes.append(0x08)
                case UInt8(ascii: "f"): bytes.append(0x0C)
                case UInt8(ascii: "n"): bytes.append(0x0A)
                case UInt8(ascii: "r"): bytes.append(0x0D)
                case UInt8(ascii: "t"): bytes.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try parseHex4()
                    if (0xD800..<0xDC00).contains(scalar), try peekByte() == UInt8(ascii: "\\") {
                        // A high surrogate: join it with the low surrogate that should follow.
                        index += 1
                        guard try nextByte() == UInt8(ascii: "u") else { throw corrupt("expected a low surrogate") }
                        let low = try parseHex4()
                        scalar =
                            (0xDC00..<0xE000).contains(low)
                            ? 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00) : 0xFFFD
                    }
                    bytes.append(contentsOf: Array(String(Unicode.Scalar(scalar) ?? "\u{FFFD}").utf8))
                default:
                    throw corrupt("invalid escape '\\\(Unicode.Scalar(escape))'")
                }
            case 0x00..<0x20:
                throw corrupt("control character 0x\(String(byte, radix: 16)) in a string")
            default:
                bytes.append(byte)  // the window ended inside a run of ordinary bytes and was refilled
            }
        }
    }

    private mutating func parseHex4() throws(FormatError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = try nextByte() else { throw truncated("in a \\u escape") }
            guard let digit = Int(String(Unicode.Scalar(byte)), radix: 16) else { throw corrupt("invalid \\u escape") }
            value = value << 4 | UInt32(digit)
        }
        return value
    }
}
