import Foundation
import Testing
import TestSupport

// MARK: - The model of what the server acknowledged to the crash rounds' clients
//
// Each client owns its keys (`c<client>:<type>:<n>` in databases 0, 1 and 2), so what it sees in its replies
// depends on its own commands only, however the clients interleave. A client keeps the state of its keys that
// the server acknowledged, plus the state after each command still in flight; after kill -9 and a restart the
// keys must hold the acknowledged state or the state after some of the commands in flight, in order.

/// A key of the model: database and name (the name fixes the type).
struct ModelKey: Hashable, Comparable, CustomStringConvertible {
    var db: Int
    var name: String

    static func < (a: ModelKey, b: ModelKey) -> Bool { (a.db, a.name) < (b.db, b.name) }
    var description: String { "db\(db) \(name)" }
}

/// A value as the model holds it. Scores are integers, so replies and digests compare exactly.
enum ModelValue: Equatable {
    case string(String)
    case list([String])
    case set(Set<String>)
    case hash([String: String])
    case zset([String: Int64])

    /// Redis deletes a collection when its last element goes.
    var isEmpty: Bool {
        switch self {
        case .string: false
        case .list(let items): items.isEmpty
        case .set(let members): members.isEmpty
        case .hash(let fields): fields.isEmpty
        case .zset(let scores): scores.isEmpty
        }
    }
}

struct ModelEntry: Equatable {
    var value: ModelValue
    /// Unix milliseconds (PEXPIREAT, SET … PXAT); nil without a TTL.
    var expiresAt: Int64?
}

/// One client's keys as the server should hold them.
struct ClientModel: Equatable {
    static let types = ["str", "num", "list", "set", "hash", "zset"]
    static let databases = [0, 1, 2]
    static let keysPerType = 2

    var entries: [ModelKey: ModelEntry] = [:]

    /// Every key client `client` may write.
    static func universe(client: Int) -> [ModelKey] {
        databases.flatMap { db in
            types.flatMap { type in (0..<keysPerType).map { ModelKey(db: db, name: "c\(client):\(type):\($0)") } }
        }
    }

    /// Keys that differ from `other`, for a failure message.
    func difference(from other: ClientModel) -> String {
        let keys = Set(entries.keys).union(other.entries.keys).filter { entries[$0] != other.entries[$0] }.sorted()
        return keys.prefix(5).map { "\($0): \(entries[$0].map { "\($0)" } ?? "missing") vs \(other.entries[$0].map { "\($0)" } ?? "missing")" }
            .joined(separator: "; ")
    }

    // MARK: Redis semantics of the commands the load sends

    /// Applies a write command run in database `db` and returns Redis's reply to it.
    mutating func apply(_ command: [String], db: Int) -> RESPReply {
        let key = ModelKey(db: db, name: command[1])
        let arguments = Array(command.dropFirst(2))
        switch command[0] {
        case "SET":
            // SET key value [PXAT ms]: a plain SET drops the TTL.
            entries[key] = ModelEntry(value: .string(arguments[0]), expiresAt: arguments.count == 3 ? Int64(arguments[2]) : nil)
            return .status("OK")
        case "INCR":
            return update(key) { value in
                guard case .string(let text)? = value else {
                    value = .string("1")
                    return .integer(1)
                }
                let next = (Int64(text) ?? 0) + 1
                value = .string(String(next))
                return .integer(next)
            }
        case "APPEND":
            return update(key) { value in
                guard case .string(let text)? = value else {
                    value = .string(arguments[0])
                    return .integer(Int64(arguments[0].utf8.count))
                }
                value = .string(text + arguments[0])
                return .integer(Int64(text.utf8.count + arguments[0].utf8.count))
            }
        case "RPUSH":
            return update(key) { value in
                guard case .list(var items)? = value else {
                    value = .list(arguments)
                    return .integer(Int64(arguments.count))
                }
                items += arguments
                value = .list(items)
                return .integer(Int64(items.count))
            }
        case "LPOP":
            return update(key) { value in
                guard case .list(var items)? = value, !items.isEmpty else { return .null }
                let first = items.removeFirst()
                value = .list(items)
                return .bulk(Array(first.utf8))
            }
        case "SADD", "SREM":
            return update(key) { value in
                var members: Set<String> = []
                if case .set(let existing)? = value { members = existing }
                let before = members.count
                if command[0] == "SADD" { members.formUnion(arguments) } else { members.subtract(arguments) }
                value = .set(members)
                return .integer(Int64(abs(members.count - before)))
            }
        case "HSET", "HDEL":
            return update(key) { value in
                var fields: [String: String] = [:]
                if case .hash(let existing)? = value { fields = existing }
                let before = fields.count
                if command[0] == "HSET" {
                    for pair in stride(from: 0, to: arguments.count, by: 2) { fields[arguments[pair]] = arguments[pair + 1] }
                } else {
                    for field in arguments { fields[field] = nil }
                }
                value = .hash(fields)
                return .integer(Int64(abs(fields.count - before)))
            }
        case "ZADD", "ZINCRBY":
            return update(key) { value in
                var scores: [String: Int64] = [:]
                if case .zset(let existing)? = value { scores = existing }
                if command[0] == "ZINCRBY" {
                    let score = (scores[arguments[1]] ?? 0) + Int64(arguments[0])!
                    scores[arguments[1]] = score
                    value = .zset(scores)
                    return .bulk(Array(String(score).utf8))
                }
                let before = scores.count
                for pair in stride(from: 0, to: arguments.count, by: 2) { scores[arguments[pair + 1]] = Int64(arguments[pair])! }
                value = .zset(scores)
                return .integer(Int64(scores.count - before))
            }
        case "PEXPIREAT":
            guard entries[key] != nil else { return .integer(0) }
            entries[key]!.expiresAt = Int64(arguments[0])
            return .integer(1)
        case "PERSIST":
            guard entries[key]?.expiresAt != nil else { return .integer(0) }
            entries[key]!.expiresAt = nil
            return .integer(1)
        case "DEL":
            let keys = command.dropFirst().map { ModelKey(db: db, name: $0) }
            let removed = keys.filter { entries.removeValue(forKey: $0) != nil }.count
            return .integer(Int64(removed))
        default:
            preconditionFailure("the load does not send \(command[0])")
        }
    }

    /// Changes a value in place, keeping its TTL; an emptied collection deletes the key.
    private mutating func update(_ key: ModelKey, _ change: (inout ModelValue?) -> RESPReply) -> RESPReply {
        var value = entries[key]?.value
        let reply = change(&value)
        if let value, !value.isEmpty {
            entries[key] = ModelEntry(value: value, expiresAt: entries[key]?.expiresAt)
        } else {
            entries[key] = nil
        }
        return reply
    }

    // MARK: Reading the server

    /// What the server holds for client `client`'s keys.
    static func read(client: Int, from connection: RESPClient) throws -> ClientModel {
        var model = ClientModel()
        let keys = universe(client: client)
        for db in databases {
            let inDatabase = keys.filter { $0.db == db }
            var commands = [["SELECT", String(db)]]
            for key in inDatabase {
                commands.append(readCommand(key.name))
                commands.append(["PEXPIRETIME", key.name])
            }
            let replies = try connection.pipeline(commands)
            for (index, key) in inDatabase.enumerated() {
                let expiry = replies[2 + 2 * index]
                guard let value = value(of: replies[1 + 2 * index], name: key.name) else {
                    // Absent, or not of the type its name says (that shows as a difference).
                    if expiry != .integer(-2) { model.entries[key] = ModelEntry(value: .string("unreadable: \(replies[1 + 2 * index])"), expiresAt: nil) }
                    continue
                }
                guard case .integer(let milliseconds) = expiry, milliseconds != -2 else {
                    model.entries[key] = ModelEntry(value: .string("no PEXPIRETIME: \(expiry)"), expiresAt: nil)
                    continue
                }
                model.entries[key] = ModelEntry(value: value, expiresAt: milliseconds >= 0 ? milliseconds : nil)
            }
        }
        _ = try connection.send(["SELECT", "0"])
        return model
    }

    private static func readCommand(_ name: String) -> [String] {
        switch name.split(separator: ":")[1] {
        case "list": ["LRANGE", name, "0", "-1"]
        case "set": ["SMEMBERS", name]
        case "hash": ["HGETALL", name]
        case "zset": ["ZRANGE", name, "0", "-1", "WITHSCORES"]
        default: ["GET", name]
        }
    }

    /// The value a read reply shows, read as the key's type; nil for a missing key (an empty collection) or an
    /// error.
    private static func value(of reply: RESPReply, name: String) -> ModelValue? {
        if case .bulk(let bytes) = reply { return .string(String(decoding: bytes, as: UTF8.self)) }
        guard case .array(let replies) = reply, !replies.isEmpty else { return nil }
        let items = replies.map { $0.text ?? "\($0)" }
        let pairs = stride(from: 0, to: items.count - 1, by: 2).map { (items[$0], items[$0 + 1]) }
        switch name.split(separator: ":")[1] {
        case "set": return .set(Set(items))
        case "hash": return .hash(Dictionary(pairs, uniquingKeysWith: { first, _ in first }))
        case "zset": return .zset(Dictionary(pairs.map { ($0.0, Double($0.1).flatMap { Int64(exactly: $0) } ?? .min) }, uniquingKeysWith: { first, _ in first }))
        default: return .list(items)
        }
    }
}
