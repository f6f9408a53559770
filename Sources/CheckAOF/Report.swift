import Formats
import NIOCore
import ToolSupport

/// What was found in one file.
struct FileReport {
    var name: String
    var kind: String
    /// True for a gzip-compressed file (sizes and offsets are then in the decompressed data).
    var gzip = false
    var size: Int64 = 0
    var okUpTo: Int64 = 0
    var line: Int64 = 1
    var diff: Int64 = 0
    var error: [String: JSONValue]?

    var json: String {
        let errorValue = error.map { error in
            JSONValue.object(JSONObject(error.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }))
        }
        return JSONValue.object(JSONObject([
            ("name", .string(name)), ("kind", .string(kind)), ("gzip", .bool(gzip)), ("size", .int(size)), ("ok_up_to", .int(okUpTo)),
            ("ok_up_to_line", .int(line)), ("diff", .int(diff)), ("error", errorValue ?? .null),
        ])).serialized
    }
}

/// The whole report, for `--json`.
struct Report {
    var files: [FileReport] = []
    var suspicious: [[String: JSONValue]] = []
    /// An error that is not about one file (manifest, missing directory).
    var error: String?

    func json(valid: Bool) -> String {
        let fileList = "[" + files.map(\.json).joined(separator: ",") + "]"
        let suspiciousList =
            "["
            + suspicious.map { item in
                JSONValue.object(JSONObject(
                    ["file", "offset", "line", "command", "reason"].compactMap { key in item[key].map { (key, $0) } })).serialized
            }.joined(separator: ",") + "]"
        return "{\"valid\":\(valid),\"files\":\(fileList),\"suspicious\":\(suspiciousList),\"error\":"
            + (error.map(JSONValue.quote) ?? "null") + "}"
    }
}

// MARK: - Suspicious commands

/// Commands that Redis would refuse while loading the AOF: unknown names and wrong argument counts. Arity as
/// in Redis's command table: N means exactly N arguments (the name included), -N at least N.
struct SuspiciousCommands {
    static let arity: [String: Int] = [
        "select": 2, "multi": 1, "exec": 1, "discard": 1, "set": -3, "setnx": 3, "setex": 4, "psetex": 4,
        "get": 2, "getset": 3, "getdel": 2, "getex": -2, "mset": -3, "msetnx": -3, "append": 3, "setrange": 4,
        "incr": 2, "decr": 2, "incrby": 3, "decrby": 3, "incrbyfloat": 3, "setbit": 4, "bitop": -4,
        "bitfield": -2, "del": -2, "unlink": -2, "expire": -3, "pexpire": -3, "expireat": -3, "pexpireat": -3,
        "persist": 2, "rename": 3, "renamenx": 3, "move": 3, "copy": -3, "swapdb": 3, "flushdb": -1,
        "flushall": -1, "restore": -4, "rpush": -3, "lpush": -3, "rpushx": -3, "lpushx": -3, "linsert": 5,
        "lset": 4, "lrem": 4, "ltrim": 4, "lpop": -2, "rpop": -2, "rpoplpush": 3, "lmove": 5, "blmove": 6,
        "brpoplpush": 4, "sadd": -3, "srem": -3, "smove": 4, "spop": -2, "sinterstore": -3,
        "sunionstore": -3, "sdiffstore": -3, "zadd": -4, "zincrby": 4, "zrem": -3, "zremrangebyscore": 4,
        "zremrangebyrank": 4, "zremrangebylex": 4, "zunionstore": -4, "zinterstore": -4, "zdiffstore": -4,
        "zpopmin": -2, "zpopmax": -2, "hset": -4, "hsetnx": 4, "hmset": -4, "hdel": -3, "hincrby": 4,
        "hincrbyfloat": 4, "hpexpireat": -6, "hexpire": -6, "hpexpire": -6, "hexpireat": -6, "hpersist": -5,
        "pfadd": -2, "pfmerge": -2, "geoadd": -5, "xadd": -5, "xdel": -3, "xtrim": -4, "xsetid": -3,
        "xgroup": -2, "xclaim": -6, "xautoclaim": -6, "xack": -4, "xreadgroup": -7, "function": -2,
        "fcall": -3, "eval": -3, "evalsha": -3, "script": -2, "publish": 3, "spublish": 3, "sort": -2,
        "georadius": -6, "lmpop": -4, "zmpop": -4, "blpop": -3, "brpop": -3, "sintercard": -3,
    ]

    /// The last name looked up (a copy) and its arity, nil when unknown: an AOF repeats the same command many
    /// times in a row (a rewrite writes a big key as RPUSH after RPUSH), and comparing bytes is cheaper than
    /// hashing a lower-cased string for every command.
    private var lastName = ByteBuffer()
    private var lastArity: Int?

    /// Why `command` looks wrong, or nil.
    mutating func check(_ command: RESPCommand) -> String? {
        let name = command.arguments[0]
        if name != lastName {
            lastName = ByteBuffer(bytes: name.readableBytesView)
            lastArity = Self.arity[command.name]
        }
        guard let arity = lastArity else {
            return "unknown command '\(FormatError.escape(command.arguments[0], limit: 64))'"
        }
        let count = command.arguments.count
        if arity > 0 ? count != arity : count < -arity {
            return "wrong number of arguments for '\(command.name)': \(count)"
        }
        return nil
    }
}
