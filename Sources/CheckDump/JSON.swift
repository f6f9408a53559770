/// A minimal JSON writer for the tool's report (keys keep their insertion order).
indirect enum JSONValue {
    case null
    case bool(Bool)
    case int(Int64)
    case string(String)
    case object(JSONObject)

    var serialized: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return value ? "true" : "false"
        case .int(let value): return String(value)
        case .string(let value): return JSONValue.quote(value)
        case .object(let object):
            return "{" + object.members.map { JSONValue.quote($0.0) + ":" + $0.1.serialized }.joined(separator: ",") + "}"
        }
    }

    static func quote(_ text: String) -> String {
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

struct JSONObject {
    var members: [(String, JSONValue)] = []

    mutating func add(_ key: String, _ value: JSONValue) {
        members.append((key, value))
    }
}
