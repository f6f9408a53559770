import Formats

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Parsing numbers the way Redis does

extension Bytes {
    /// The value of a strict decimal integer (Redis `string2ll`): optional `-`, no `+`, no spaces, no leading
    /// zeros, at most 20 characters, within `Int64`. Nil otherwise.
    public var integerValue: Int64? {
        withUnsafeBufferPointer { CanonicalInteger.parse(raw: UnsafeRawBufferPointer($0)) }
    }

    /// The value of a floating-point argument (Redis `getDoubleFromObject`: `strtod` over the whole string, no
    /// leading space, not NaN; `inf`, `-inf`, `+inf` and exponents are accepted). Nil otherwise.
    public var doubleValue: Double? {
        guard let first = first, !Bytes.isSpace(first), count < 4096 else { return nil }
        let (value, consumedAll, outOfRange) = Bytes.cDouble(self)
        guard consumedAll, !value.isNaN else { return nil }
        // strtod reports ERANGE for underflow too; Redis rejects only overflow to infinity that was not written.
        if outOfRange && value.isInfinite { return nil }
        return value
    }

    /// The value of a long-double argument (Redis `string2ld`, used by INCRBYFLOAT and HINCRBYFLOAT).
    public var longDoubleValue: Float80? {
        guard let first = first, !Bytes.isSpace(first), count < 5 * 1024 else { return nil }
        let count = count
        return Bytes.withCString(self) { start -> Float80? in
            var end: UnsafeMutablePointer<CChar>? = nil
            errno = 0
            let value = strtold(start, &end)
            guard let end, end == UnsafeMutablePointer(mutating: start) + count else { return nil }
            if value.isNaN || errno == ERANGE { return nil }
            return value
        }
    }

    /// `strtod` over `bytes` as a C string: the value, whether every byte was consumed (a NUL inside stops it
    /// short), and whether it set ERANGE. The one way doubles are read from arguments (``doubleValue``, scores,
    /// score ranges). A canonical integer of up to 15 digits, the usual score, is converted directly: it is exactly
    /// representable, so strtod would give the same double.
    static func cDouble<C: Collection>(_ bytes: C) -> (value: Double, consumedAll: Bool, outOfRange: Bool)
    where C.Element == UInt8 {
        if bytes.count <= 15, let integer = bytes.withContiguousStorageIfAvailable({
            CanonicalInteger.parse(raw: UnsafeRawBufferPointer($0))
        }) ?? nil {
            return (Double(integer), true, false)
        }
        let count = bytes.count
        return withCString(bytes) { start in
            var end: UnsafeMutablePointer<CChar>? = nil
            errno = 0
            let value = strtod(start, &end)
            let consumed = end.map { UnsafePointer($0) - start } ?? 0
            return (value, consumed == count, errno == ERANGE)
        }
    }

    /// Calls `body` with `bytes` as a NUL-terminated C string, copied to the stack when short (no allocation for a
    /// number argument).
    static func withCString<C: Collection, R>(_ bytes: C, _ body: (UnsafePointer<CChar>) -> R) -> R
    where C.Element == UInt8 {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: bytes.count + 1) { text in
            var offset = 0
            for byte in bytes {
                text[offset] = CChar(bitPattern: byte)
                offset += 1
            }
            text[offset] = 0
            return body(UnsafePointer(text.baseAddress!))
        }
    }

    static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (byte >= 0x09 && byte <= 0x0d)
    }

    // MARK: - Formatting numbers the way Redis replies

    /// A double as Redis 7.0 replies with it (`addReplyDouble`: `%.17g`, `inf` / `-inf`).
    public init(double value: Double) {
        if value.isInfinite {
            self.init(value > 0 ? "inf" : "-inf")
            return
        }
        self.init(Bytes.formatted("%.17g", value))
    }

    /// A long double in Redis's human-friendly form (`ld2string` with `LD_STR_HUMAN`: `%.17Lf`, trailing zeros
    /// and a trailing point removed), as INCRBYFLOAT stores and replies.
    public init(humanFriendly value: Float80) {
        if value.isInfinite {
            self.init(value > 0 ? "inf" : "-inf")
            return
        }
        var text = Bytes.formatted("%.17Lf", value)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        if text == "-0" { text = "0" }
        self.init(text)
    }

    static func formatted(_ format: String, _ arguments: any CVarArg...) -> String {
        // 512 bytes fit every double; "%.17Lf" of a large long double (INCRBYFLOAT reaches 1.19e4932) needs up to
        // about 4950, so retry once with the size vsnprintf reports.
        var capacity = 512
        while true {
            let (written, text) = withVaList(arguments) { list -> (Int, String) in
                var buffer = [CChar](repeating: 0, count: capacity)
                let written = buffer.withUnsafeMutableBufferPointer { vsnprintf($0.baseAddress!, capacity, format, list) }
                let length = Swift.max(0, Swift.min(Int(written), capacity - 1))
                return (Int(written), String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
            if written < capacity { return text }
            capacity = written + 1
        }
    }
}
