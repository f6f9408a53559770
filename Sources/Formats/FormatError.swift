import NIOCore

/// The one error type of the `Formats` layer.
///
/// The code says what kind of failure it is; context (where, what was being read, which key) is kept as data
/// and only formatted by ``description``. Offsets are absolute, in bytes of the decoded input, and always
/// mark the start of the item that failed (as Redis's `rdbReportError` reports the offset it was at).
public struct FormatError: Error, Sendable, CustomStringConvertible {
    /// An extensible set of failure kinds.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case truncated, corrupt, unsupportedVersion, unsupportedType, checksumMismatch, limitExceeded, io
        }
        private let base: Base

        /// The input ended inside an item (Go's `ErrUnexpectedEOF`). A clean end of input is not an error.
        public static let truncated = Code(base: .truncated)
        /// The bytes are there but wrong.
        public static let corrupt = Code(base: .corrupt)
        /// A magic or version number this reader does not know.
        public static let unsupportedVersion = Code(base: .unsupportedVersion)
        /// A type or opcode byte this reader does not know.
        public static let unsupportedType = Code(base: .unsupportedType)
        /// The stored CRC64 differs from the computed one.
        public static let checksumMismatch = Code(base: .checksumMismatch)
        /// A length, count or depth from the input is over a configured limit.
        public static let limitExceeded = Code(base: .limitExceeded)
        /// The operating system failed a read or a write.
        public static let io = Code(base: .io)

        public var description: String {
            switch base {
            case .truncated: "truncated"
            case .corrupt: "corrupt"
            case .unsupportedVersion: "unsupported version"
            case .unsupportedType: "unsupported type"
            case .checksumMismatch: "checksum mismatch"
            case .limitExceeded: "limit exceeded"
            case .io: "I/O error"
            }
        }
    }

    /// What the reader was doing, in the vocabulary of redis-check-rdb's "While doing".
    public enum Phase: Hashable, Sendable, CustomStringConvertible {
        case start
        case readType
        case readExpire
        case readKey
        case readValue(RDBType)
        case readLength
        case readAux
        case readModuleAux
        case readFunctions
        case checksum
        case io
        case other(String)

        /// The phrase redis-check-rdb prints after "While doing:".
        public var description: String {
            switch self {
            case .start: "start"
            case .readType: "read-type"
            case .readExpire: "read-expire"
            case .readKey: "read-key"
            case .readValue: "read-object-value"
            case .readLength: "read-len"
            case .readAux: "read-aux"
            case .readModuleAux: "read-module-aux"
            case .readFunctions: "read-functions"
            case .checksum: "check-sum"
            case .io: "io"
            case .other(let text): text
            }
        }
    }

    public var code: Code
    /// Absolute offset of the start of the failing item.
    public var offset: Int64
    public var phase: Phase
    /// The key being read, when one was.
    public var key: ByteBuffer?
    /// A human sentence about what is wrong: "invalid LZF payload: expected 812 bytes, got 0".
    public var detail: String
    /// An underlying error (an `Errno`, a nested `FormatError`…).
    public var underlying: (any Error & Sendable)?
    /// Where the error was thrown, like `rdbReportError`'s `__LINE__`.
    public var file: StaticString
    public var line: UInt

    public init(
        _ code: Code,
        offset: Int64,
        phase: Phase = .other("decode"),
        key: ByteBuffer? = nil,
        _ detail: String,
        underlying: (any Error & Sendable)? = nil,
        file: StaticString = #fileID,
        line: UInt = #line
    ) {
        self.code = code
        self.offset = offset
        self.phase = phase
        self.key = key
        self.detail = detail
        self.underlying = underlying
        self.file = file
        self.line = line
    }

    public var description: String {
        var text = "[offset \(offset) (0x\(String(offset, radix: 16)))] \(code): \(detail) (while \(phase)"
        if case .readValue(let type) = phase {
            text += " \(type.name)"
        }
        if let key {
            text += ", key \"\(FormatError.escape(key))\""
        }
        text += ")"
        if let underlying {
            text += ": \(underlying)"
        }
        return text
    }

    /// Escapes bytes for display the way redis-cli quotes them: printable ASCII as is, the rest as `\xNN`.
    /// Long keys are cut at 200 bytes.
    public static func escape(_ bytes: ByteBuffer, limit: Int = 200) -> String {
        var text = ""
        let view = bytes.readableBytesView
        for byte in view.prefix(limit) {
            switch byte {
            case UInt8(ascii: "\\"): text += "\\\\"
            case UInt8(ascii: "\""): text += "\\\""
            case 0x20...0x7e: text.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: "\n"): text += "\\n"
            case UInt8(ascii: "\r"): text += "\\r"
            case UInt8(ascii: "\t"): text += "\\t"
            default:
                text += "\\x"
                if byte < 16 { text += "0" }
                text += String(byte, radix: 16)
            }
        }
        if view.count > limit {
            text += "..."
        }
        return text
    }
}
