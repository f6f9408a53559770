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
        var text = array
        text.append(0)
        return text.withUnsafeBufferPointer { buffer -> Double? in
            let start = UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
            var end: UnsafeMutablePointer<CChar>? = nil
            errno = 0
            let value = strtod(start, &end)
            guard let end, end == UnsafeMutablePointer(mutating: start) + count else { return nil }
            if value.isNaN { return nil }
            // strtod reports ERANGE for underflow too; Redis rejects only overflow to infinity that was not written.
            if errno == ERANGE && value.isInfinite { return nil }
            return value
        }
    }

    /// The value of a long-double argument (Redis `string2ld`, used by INCRBYFLOAT and HINCRBYFLOAT).
    public var longDoubleValue: Float80? {
        guard let first = first, !Bytes.isSpace(first), count < 5 * 1024 else { return nil }
        var text = array
        text.append(0)
        return text.withUnsafeBufferPointer { buffer -> Float80? in
            let start = UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
            var end: UnsafeMutablePointer<CChar>? = nil
            errno = 0
            let value = strtold(start, &end)
            guard let end, end == UnsafeMutablePointer(mutating: start) + count else { return nil }
            if value.isNaN || errno == ERANGE { return nil }
            return value
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
