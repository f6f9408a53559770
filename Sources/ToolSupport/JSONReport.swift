/// A minimal JSON writer for the tools' `--json` reports (an object's keys keep their insertion order).
public indirect enum JSONValue: Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// Compact JSON text.
    public var serialized: String {
        switch self {
        case .null: "null"
        case .bool(let value): value ? "true" : "false"
        case .int(let value): String(value)
        case .string(let value): JSONValue.quote(value)
        case .array(let items): "[" + items.map(\.serialized).joined(separator: ",") + "]"
        case .object(let object):
            "{" + object.members.map { JSONValue.quote($0.0) + ":" + $0.1.serialized }.joined(separator: ",") + "}"
        }
    }

    /// `text` as a JSON string literal.
    public static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// A JSON object whose members keep the order they were added in.
public struct JSONObject: Sendable {
    public var members: [(String, JSONValue)]

    public init(_ members: [(String, JSONValue)] = []) { self.members = members }

    public mutating func add(_ key: String, _ value: JSONValue) {
        members.append((key, value))
    }
}
