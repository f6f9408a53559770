/// A command's reply, in RESP2 terms. The server encodes it; tests and AOF replay read it directly.
public enum Reply: Sendable, Equatable {
    /// `+text`
    case status(String)
    /// `-CODE message`: the whole line without the dash (`"ERR syntax error"`, `"WRONGTYPE …"`).
    case error(String)
    /// `:n`
    case integer(Int64)
    /// `$len bytes`
    case bulk(Bytes)
    /// `$-1`
    case null
    /// `*-1`
    case nullArray
    /// `*n …`
    case array([Reply])

    public static let ok = Reply.status("OK")
    public static let queued = Reply.status("QUEUED")
    public static let emptyArray = Reply.array([])

    /// A bulk string from text.
    public static func bulk(_ text: String) -> Reply { .bulk(Bytes(text)) }
    /// A double as Redis 7.0 replies with it (a bulk string, `%.17g`).
    public static func double(_ value: Double) -> Reply { .bulk(Bytes(double: value)) }
    /// An integer reply from a count.
    public static func count(_ value: Int) -> Reply { .integer(Int64(value)) }
    /// `:1` or `:0`.
    public static func boolean(_ value: Bool) -> Reply { .integer(value ? 1 : 0) }
    /// A bulk string or null.
    public static func bulkOrNull(_ value: Bytes?) -> Reply { value.map { .bulk($0) } ?? .null }
    /// An array of bulk strings.
    public static func bulks<S: Sequence>(_ values: S) -> Reply where S.Element == Bytes { .array(values.map { .bulk($0) }) }

    public var isError: Bool {
        if case .error = self { return true }
        return false
    }
}

/// A command failed: the reply is an error line. `message` includes the code (`ERR …`, `WRONGTYPE …`).
public struct CommandError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }

    public static let syntax = CommandError("ERR syntax error")
    public static let wrongType = CommandError("WRONGTYPE Operation against a key holding the wrong kind of value")
    public static let notInteger = CommandError("ERR value is not an integer or out of range")
    public static let notFloat = CommandError("ERR value is not a valid float")
    public static let noSuchKey = CommandError("ERR no such key")
    public static let indexOutOfRange = CommandError("ERR index out of range")
    public static let overflow = CommandError("ERR increment or decrement would overflow")
    public static let invalidExpire = CommandError("ERR invalid expire time in '%s' command")
    public static let noAuth = CommandError("NOAUTH Authentication required.")

    public static func wrongArity(_ command: String) -> CommandError {
        CommandError("ERR wrong number of arguments for '\(command)' command")
    }

    /// `ERR invalid expire time in 'set' command`
    public static func invalidExpireTime(_ command: String) -> CommandError {
        CommandError("ERR invalid expire time in '\(command)' command")
    }
}
