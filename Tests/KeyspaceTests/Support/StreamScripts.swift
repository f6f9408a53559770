import Formats
import Keyspace
import Testing
import TestSupport

// The stream tests' driver against Redis 7.0 and their command scripts.

extension RedisOracle {
    /// Runs `script` on a fresh ``Keyspace`` and on Redis 7.0 and records every reply that differs once the
    /// times in it (idle, seen and delivery times) are blanked out on both sides; steps in `shapeOnly` are
    /// compared by kind and length only. SET, DEL, EXISTS and TYPE, which belong to other command families, go
    /// through the keyspace API when the command table does not have them.
    func compareStreams(
        _ script: [[String]], shapeOnly: Set<Int> = [], sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        try client.send(["FLUSHALL"])
        try client.send(["SELECT", "0"])
        let keyspace = Keyspace()
        let session = Session()
        for (step, command) in script.enumerated() {
            let argv = command.map { Bytes($0) }
            let ours = StreamScripts.maskTimes(StreamScripts.execute(argv, on: keyspace, session: session).resp)
            let theirs = StreamScripts.maskTimes(try client.send(command))
            if !RedisOracle.matches(ours, theirs, shapeOnly.contains(step) ? .shape : .exact) {
                Issue.record(
                    "\(command.joined(separator: " ")): ours \(ours), Redis \(theirs)", sourceLocation: sourceLocation)
            }
        }
    }
}

// MARK: - Scripts

enum StreamScripts {
    /// Runs one command; the few non-stream commands the scripts use are done directly when the engine lacks them.
    static func execute(_ argv: [Bytes], on keyspace: Keyspace, session: Session) -> Reply {
        let name = argv[0].lowercasedASCII
        guard keyspace.commands[name] == nil else { return keyspace.execute(argv, session: session) }
        switch name {
        case "set":
            keyspace.set(db: 0, key: argv[1], value: .string(argv[2]))
            return .ok
        case "del": return .count(argv.dropFirst().filter { keyspace.remove(db: 0, key: $0) != nil }.count)
        case "exists": return .count(argv.dropFirst().filter { keyspace.exists(db: 0, key: $0) }.count)
        case "type": return .status(keyspace.value(db: 0, key: argv[1])?.typeName ?? "none")
        default: return keyspace.execute(argv, session: session)
        }
    }

    /// Replaces the times in stream replies with 0: the integer after "seen-time" or "idle", the idle time or
    /// delivery time of a pending entry (`[id, consumer, time, count]`, `[id, time, count]`).
    static func maskTimes(_ reply: RESPReply) -> RESPReply {
        guard case .array(var items) = reply else { return reply }
        items = items.map(maskTimes)
        for index in items.indices.dropLast() {
            if case .bulk(let name) = items[index], name == Array("seen-time".utf8) || name == Array("idle".utf8) {
                items[index + 1] = .integer(0)
            }
        }
        let looksLikeID: (RESPReply) -> Bool = { item in
            guard case .bulk(let bytes) = item else { return false }
            return bytes.contains(UInt8(ascii: "-"))
                && bytes.allSatisfy { $0 == UInt8(ascii: "-") || ($0 >= 48 && $0 <= 57) }
        }
        if items.count == 4, looksLikeID(items[0]), case .bulk = items[1], case .integer = items[2],
            case .integer = items[3]
        {
            items[2] = .integer(0)
        }
        if items.count == 3, looksLikeID(items[0]), case .integer = items[1], case .integer = items[2] {
            items[1] = .integer(0)
        }
        return .array(items)
    }

    /// The commands of an AOF's RESP part (`*n $len arg …`).
    static func parseCommands(_ bytes: [UInt8]) -> [[String]] {
        var commands: [[String]] = []
        var position = 0
        func line() -> String {
            let start = position
            while position + 1 < bytes.count && !(bytes[position] == 13 && bytes[position + 1] == 10) { position += 1 }
            defer { position += 2 }
            return String(decoding: bytes[(start + 1)..<position], as: UTF8.self)
        }
        while position < bytes.count, bytes[position] == UInt8(ascii: "*") {
            let count = Int(line()) ?? 0
            var argv: [String] = []
            for _ in 0..<count {
                let length = Int(line()) ?? 0
                argv.append(String(decoding: bytes[position..<(position + length)], as: UTF8.self))
                position += length + 2
            }
            commands.append(argv)
        }
        return commands
    }

    /// An XCLAIM's TIME (a delivery time, taken from each server's clock) blanked out.
    static func maskClaimTime(_ argv: [String]) -> [String] {
        guard argv.first?.uppercased() == "XCLAIM", let time = argv.firstIndex(where: { $0.uppercased() == "TIME" }),
            time + 1 < argv.count
        else { return argv }
        var masked = argv
        masked[time + 1] = "0"
        return masked
    }

    /// A stream's state minus what may differ after a replay: consumers' seen times and groups' read counters
    /// (Redis 7.0 does not propagate those either).
    static func comparable(_ stream: StreamValue) -> RDBStream {
        var model = stream.rdbStream
        for index in model.groups.indices {
            model.groups[index].entriesRead = nil
            for consumer in model.groups[index].consumers.indices {
                model.groups[index].consumers[consumer].seenTimeMilliseconds = 0
                model.groups[index].consumers[consumer].activeTimeMilliseconds = nil
            }
        }
        return model
    }

    static let errors: [[String]] = [
        // Arity.
        ["XADD", "s", "*"], ["XADD", "s", "*", "f"], ["XADD", "s", "*", "f", "v", "g"], ["XADD", "s", "1-1", "f"],
        ["XADD", "s", "MAXLEN", "5", "NOMKSTREAM"], ["XLEN"], ["XLEN", "s", "x"], ["XRANGE", "s", "-"],
        ["XREVRANGE", "s", "+"], ["XDEL", "s"], ["XTRIM", "s", "MAXLEN"], ["XSETID", "s"], ["XREAD", "STREAMS"],
        ["XREAD", "COUNT", "1"], ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s"], ["XACK", "s", "g"],
        ["XPENDING", "s"],
        ["XCLAIM", "s", "g", "c", "0"], ["XAUTOCLAIM", "s", "g", "c", "0"], ["XGROUP"], ["XINFO"], ["XGROUP", "FOO"],
        ["XGROUP", "CREATE", "s", "g"], ["XGROUP", "SETID", "s", "g"], ["XGROUP", "DESTROY", "s"],
        ["XGROUP", "DESTROY", "s", "g", "x"],
        ["XGROUP", "CREATECONSUMER", "s", "g"], ["XGROUP", "DELCONSUMER", "s", "g", "c", "x"], ["XGROUP", "HELP", "x"],
        ["XGROUP", "help"], ["XINFO", "help"], ["XINFO", "FOO", "s"], ["XINFO", "STREAM"],
        ["XINFO", "GROUPS", "s", "x"],
        ["XINFO", "CONSUMERS", "s"], ["XINFO", "HELP", "x"],
        // Wrong type.
        ["SET", "str", "x"], ["XADD", "str", "*", "f", "v"], ["XADD", "str", "NOMKSTREAM", "1-1", "f", "v"],
        ["XLEN", "str"],
        ["XRANGE", "str", "-", "+"], ["XREVRANGE", "str", "+", "-"], ["XDEL", "str", "bad"],
        ["XTRIM", "str", "MAXLEN", "0"],
        ["XSETID", "str", "1-1"], ["XREAD", "STREAMS", "str", "0"],
        ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "str", ">"],
        ["XACK", "str", "g", "1"], ["XPENDING", "str", "g"], ["XCLAIM", "str", "g", "c", "0", "1"],
        ["XAUTOCLAIM", "str", "g", "c", "0", "0"], ["XGROUP", "CREATE", "str", "g", "0"],
        ["XGROUP", "CREATE", "str", "g", "0", "MKSTREAM"],
        ["XGROUP", "DESTROY", "str", "g"], ["XINFO", "STREAM", "str"], ["XINFO", "GROUPS", "str"],
        ["XINFO", "CONSUMERS", "str", "g"],
        // XADD IDs and options.
        ["XADD", "s", "0-0", "f", "v"], ["XADD", "s", "0", "f", "v"], ["XADD", "s", "-", "f", "v"],
        ["XADD", "s", "+", "f", "v"],
        ["XADD", "s", "bogus", "f", "v"], ["XADD", "s", "-1", "f", "v"], ["XADD", "s", "1-", "f", "v"],
        ["XADD", "s", "1-x", "f", "v"],
        ["XADD", "s", "1-+", "f", "v"], ["XADD", "s", "18446744073709551616", "f", "v"],
        ["XADD", "s", "1-18446744073709551616", "f", "v"],
        ["XADD", "s", "MAXLEN", "-1", "*", "f", "v"], ["XADD", "s", "MAXLEN", "x", "*", "f", "v"],
        ["XADD", "s", "MAXLEN", "~", "*", "f", "v"],
        ["XADD", "s", "LIMIT", "5", "*", "f", "v"], ["XADD", "s", "LIMIT", "0", "*", "f", "v"],
        ["XADD", "s", "MAXLEN", "=", "5", "LIMIT", "5", "*", "f", "v"],
        ["XADD", "s", "MAXLEN", "1", "MINID", "2", "*", "f", "v"], ["XADD", "s", "MINID", "-", "*", "f", "v"],
        ["XADD", "s", "MINID", "~", "1", "MAXLEN", "3", "*", "f", "v"],
        ["XADD", "s", "MAXLEN", "~", "1", "LIMIT", "-1", "*", "f", "v"],
        ["XADD", "s", "MAXLEN", "~", "1", "LIMIT", "x", "*", "f", "v"], ["XADD", "s", "NOMKSTREAM", "MAXLEN"],
        ["XADD", "s", "maxlen"],
        ["EXISTS", "s"], ["XADD", "s", "NOMKSTREAM", "1-1", "f", "v"], ["EXISTS", "s"],
        ["XADD", "s", "01-1", "a", "1"], ["XADD", "s", "+1", "a", "1"], ["XADD", "s", " 2", "a", "1"],
        ["XADD", "s", "2-*", "a", "1"],
        ["XADD", "s", "2--01", "a", "1"], ["XADD", "s", "2-*", "a", "1"], ["XADD", "s", "3-*", "a", "1"],
        ["XADD", "s", "1-5", "a", "1"],
        ["XADD", "s", "3-0", "a", "1"], ["XADD", "s", "3", "a", "1"], ["XRANGE", "s", "-", "+"],
        ["XADD", "m", "18446744073709551615-18446744073709551615", "a", "1"], ["XADD", "m", "*", "a", "1"],
        ["XADD", "m", "5-*", "a", "1"],
        ["XADD", "m2", "18446744073709551615-*", "a", "1"], ["XADD", "m2", "18446744073709551615-*", "a", "1"],
        // XRANGE bounds and COUNT.
        ["XRANGE", "nokey", "-", "+", "COUNT", "0"], ["XRANGE", "s", "-", "+", "COUNT", "0"],
        ["XRANGE", "s", "-", "+", "COUNT", "-3"],
        ["XRANGE", "s", "-", "+", "COUNT"], ["XRANGE", "s", "-", "+", "FOO", "1"],
        ["XRANGE", "s", "-", "+", "COUNT", "x"],
        ["XRANGE", "s", "-", "+", "COUNT", "1", "COUNT", "2"], ["XRANGE", "s", "(-", "+"], ["XRANGE", "s", "-", "(+"],
        ["XRANGE", "s", "(18446744073709551615-18446744073709551615", "+"], ["XRANGE", "s", "-", "(0-0"],
        ["XRANGE", "s", "(", "+"],
        ["XRANGE", "s", "1", "("], ["XRANGE", "s", "(1-1", "(3-0"], ["XRANGE", "s", "2", "2"],
        ["XRANGE", "s", "3", "1"],
        ["XRANGE", "s", "bad", "+"], ["XREVRANGE", "s", "+", "-", "COUNT", "2"], ["XREVRANGE", "s", "(3-0", "-"],
        ["XREVRANGE", "s", "2", "2"], ["XREVRANGE", "s", "-", "+"],
        // XDEL, XTRIM, XSETID errors.
        ["XDEL", "nokey", "bad"], ["XDEL", "s", "bad"], ["XDEL", "s", "-"], ["XDEL", "s", "1-1", "bad"], ["XLEN", "s"],
        ["XTRIM", "s"], ["XTRIM", "nokey", "MAXLEN", "0"], ["XTRIM", "s", "FOO", "1"],
        ["XTRIM", "s", "LIMIT", "0", "MAXLEN", "1"],
        ["XTRIM", "s", "MAXLEN", "1", "LIMIT", "0"], ["XTRIM", "s", "MAXLEN", "~", "1", "LIMIT", "-1"],
        ["XTRIM", "s", "MINID", "~"],
        ["XTRIM", "s", "MINID", "-"], ["XTRIM", "s", "MINID", "+"], ["XTRIM", "s", "NOMKSTREAM", "MAXLEN", "1"],
        ["XTRIM", "s", "MAXLEN", "1", "MINID", "1"], ["XTRIM", "s", "MAXLEN", "1", "extra"],
        ["XTRIM", "s", "LIMIT", "5"],
        ["XSETID", "nokey", "1-1"], ["XSETID", "s", "1"], ["XSETID", "s", "+"], ["XSETID", "s", "bad"],
        ["XSETID", "s", "9-9", "ENTRIESADDED", "-1"], ["XSETID", "s", "9-9", "ENTRIESADDED", "0"],
        ["XSETID", "s", "9-9", "ENTRIESADDED", "x"],
        ["XSETID", "s", "9-9", "MAXDELETEDID", "10-0"], ["XSETID", "s", "9-9", "MAXDELETEDID", "bad"],
        ["XSETID", "s", "9-9", "FOO"],
        ["XSETID", "s", "9-9", "ENTRIESADDED"],
        // XREAD and XREADGROUP errors.
        ["XREAD", "STREAMS", "a", "b", "c"], ["XREAD", "COUNT", "x", "STREAMS", "a", "0"],
        ["XREAD", "COUNT", "-5", "STREAMS", "a", "0"],
        ["XREAD", "BLOCK", "-1", "STREAMS", "a", "0"], ["XREAD", "BLOCK", "x", "STREAMS", "a", "0"],
        ["XREAD", "GROUP", "g", "c", "STREAMS", "a", "0"],
        ["XREAD", "NOACK", "STREAMS", "a", "0"], ["XREAD", "STREAMS", "a", ">"], ["XREAD", "FOO", "STREAMS", "a", "0"],
        ["XREAD", "STREAMS", "s", "bad"], ["XREAD", "STREAMS", "s", "-"], ["XREAD", "STREAMS", "a", "$"],
        ["XREAD", "BLOCK", "10", "STREAMS", "a", "$"],
        ["XREADGROUP", "STREAMS", "a", "0"], ["XREADGROUP", "COUNT", "1", "STREAMS", "a", "0"],
        ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "a", "0"],
        ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "a", "b", "c"],
        ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"], ["XGROUP", "CREATE", "s", "g", "0"],
        ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "$"],
        ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "bad"],
        ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "(0"],
        ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "nokey", ">", ">"],
        ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "nokey", ">", "0"],
        ["XREADGROUP", "GROUP", "g", "STREAMS", "s", ">"],
        ["XREADGROUP", "GROUP", "g", "c", "BLOCK", "-1", "STREAMS", "s", ">"],
        // XGROUP errors.
        ["XGROUP", "CREATE", "nokey", "g", "0"], ["XGROUP", "CREATE", "nokey", "g", "0", "FOO"],
        ["XGROUP", "CREATE", "nokey", "g", "0", "MKSTREAM", "ENTRIESREAD", "-2"],
        ["XGROUP", "CREATE", "nokey", "g", "0", "MKSTREAM", "ENTRIESREAD", "x"],
        ["XGROUP", "CREATE", "nokey", "g", "0", "ENTRIESREAD"],
        ["XGROUP", "CREATE", "nokey", "g", "bad", "MKSTREAM"], ["EXISTS", "nokey"],
        ["XGROUP", "CREATE", "nokey", "g", "-", "MKSTREAM"],
        ["XGROUP", "CREATE", "nokey", "g", "0", "MKSTREAM", "MKSTREAM", "MKSTREAM", "MKSTREAM"], ["EXISTS", "nokey"],
        ["XGROUP", "CREATE", "s", "g", "0"], ["XGROUP", "CREATE", "s", "g", "+"], ["XGROUP", "SETID", "s", "nog", "0"],
        ["XGROUP", "SETID", "nokey", "g", "0"], ["XGROUP", "SETID", "s", "g", "bad"],
        ["XGROUP", "SETID", "s", "g", "0", "extra"],
        ["XGROUP", "SETID", "s", "g", "0", "ENTRIESREAD", "3", "x"],
        ["XGROUP", "SETID", "s", "g", "0", "ENTRIESREAD", "-2"],
        ["XGROUP", "createconsumer", "nokey", "g", "c"], ["XGROUP", "CREATECONSUMER", "s", "nog", "c"],
        ["XGROUP", "DELCONSUMER", "s", "nog", "c"], ["XGROUP", "DESTROY", "nokey", "g"],
        ["XGROUP", "DESTROY", "s", "nog"],
        // XACK, XPENDING, XCLAIM, XAUTOCLAIM errors.
        ["XACK", "nokey", "g", "bad"], ["XACK", "s", "nog", "bad"], ["XACK", "s", "g", "bad"],
        ["XACK", "s", "g", "1-1"],
        ["XPENDING", "nokey", "g"], ["XPENDING", "s", "nog"], ["XPENDING", "s", "g", "-"],
        ["XPENDING", "s", "g", "-", "+"],
        ["XPENDING", "s", "g", "-", "+", "10", "c", "extra"],
        ["XPENDING", "s", "g", "-", "+", "10", "c", "x", "y", "z"],
        ["XPENDING", "s", "g", "IDLE", "5", "-", "+"], ["XPENDING", "s", "g", "IDLE", "x", "-", "+", "1"],
        ["XPENDING", "s", "g", "-", "+", "x"], ["XPENDING", "s", "g", "bad", "+", "1"],
        ["XPENDING", "s", "g", "(18446744073709551615-18446744073709551615", "+", "1"],
        ["XPENDING", "s", "g", "-", "(0-0", "1"],
        ["XPENDING", "nokey", "g", "-", "+", "1"], ["XPENDING", "s", "g", "-", "+", "1", "nocons"],
        ["XPENDING", "s", "g", "-", "+", "-5"],
        ["XCLAIM", "nokey", "g", "c", "0", "1"], ["XCLAIM", "s", "nog", "c", "0", "1"],
        ["XCLAIM", "s", "g", "c", "x", "1"],
        ["XCLAIM", "s", "g", "c", "0", "bad"], ["XCLAIM", "s", "g", "c", "0", "1", "foo"],
        ["XCLAIM", "s", "g", "c", "0", "1", "IDLE", "x"],
        ["XCLAIM", "s", "g", "c", "0", "1", "TIME", "x"], ["XCLAIM", "s", "g", "c", "0", "1", "RETRYCOUNT", "x"],
        ["XCLAIM", "s", "g", "c", "0", "1", "LASTID", "bad"], ["XCLAIM", "s", "g", "c", "0", "1", "IDLE"],
        ["XCLAIM", "s", "g", "c", "0", "1", "JUSTID", "2"], ["XCLAIM", "s", "g", "c", "0", "-"],
        ["XCLAIM", "s", "g", "c", "0", "1", "LASTID", "+"],
        ["XAUTOCLAIM", "s", "g", "c", "0", "-"], ["XAUTOCLAIM", "s", "g", "c", "0", "(-"],
        ["XAUTOCLAIM", "s", "g", "c", "0", "(18446744073709551615-18446744073709551615"],
        ["XAUTOCLAIM", "s", "g", "c", "x", "0"],
        ["XAUTOCLAIM", "s", "g", "c", "0", "0", "COUNT", "0"], ["XAUTOCLAIM", "s", "g", "c", "0", "0", "COUNT", "x"],
        ["XAUTOCLAIM", "s", "g", "c", "0", "0", "COUNT", "576460752303423488"],
        ["XAUTOCLAIM", "s", "g", "c", "0", "0", "FOO"],
        ["XAUTOCLAIM", "s", "g", "c", "0", "0", "COUNT"], ["XAUTOCLAIM", "nokey", "g", "c", "0", "0"],
        ["XAUTOCLAIM", "s", "nog", "c", "0", "0"],
        ["XAUTOCLAIM", "s", "g", "c", "-5", "0"],
        // XINFO errors.
        ["XINFO", "STREAM", "nokey"], ["XINFO", "GROUPS", "nokey"], ["XINFO", "CONSUMERS", "nokey", "g"],
        ["XINFO", "CONSUMERS", "s", "nog"],
        ["XINFO", "STREAM", "s", "FOO"], ["XINFO", "STREAM", "s", "FULL", "COUNT"],
        ["XINFO", "STREAM", "s", "FULL", "COUNT", "x"],
        ["XINFO", "STREAM", "s", "FULL", "FOO", "1"], ["XINFO", "STREAM", "s", "FULL", "COUNT", "1", "x"],
    ]

    static let entries: [[String]] = [
        ["XADD", "s", "1-1", "a", "1", "b", "2"], ["XADD", "s", "1-2", "a", "x"], ["XADD", "s", "2-0", "c", ""],
        ["XADD", "s", "5-5", "a", "1", "b", "3"],
        ["XADD", "s", "NOMKSTREAM", "6-0", "x", "y"], ["XLEN", "s"], ["XRANGE", "s", "-", "+"],
        ["XRANGE", "s", "1", "1"],
        ["XRANGE", "s", "1-2", "5"], ["XRANGE", "s", "(1-1", "(5-5"], ["XRANGE", "s", "-", "+", "COUNT", "2"],
        ["XREVRANGE", "s", "+", "-"], ["XREVRANGE", "s", "5", "1-2"], ["XREVRANGE", "s", "+", "-", "COUNT", "1"],
        ["XREVRANGE", "s", "(6", "(1"],
        ["XRANGE", "s", "7", "+"], ["XREVRANGE", "s", "0", "-"],
        ["XDEL", "s", "1-2", "1-2", "9-9"], ["XRANGE", "s", "-", "+"], ["XINFO", "STREAM", "s"], ["XDEL", "s", "1-1"],
        ["XINFO", "STREAM", "s"],
        ["XDEL", "s", "6-0", "2-0", "5-5"], ["XLEN", "s"], ["EXISTS", "s"], ["XINFO", "STREAM", "s"],
        ["XRANGE", "s", "-", "+"],
        ["XADD", "s", "5-5", "a", "1"], ["XADD", "s", "7-0", "a", "1"], ["XINFO", "STREAM", "s"],
        // XTRIM exact and approximate, MAXLEN and MINID, LIMIT.
        ["DEL", "t"],
        ["XADD", "t", "1-0", "f", "1"], ["XADD", "t", "2-0", "f", "2"], ["XADD", "t", "3-0", "f", "3"],
        ["XADD", "t", "4-0", "f", "4"],
        ["XADD", "t", "5-0", "f", "5"], ["XTRIM", "t", "MAXLEN", "10"], ["XTRIM", "t", "MAXLEN", "~", "2"],
        ["XTRIM", "t", "MAXLEN", "=", "4"],
        ["XRANGE", "t", "-", "+"], ["XTRIM", "t", "MINID", "3"], ["XRANGE", "t", "-", "+"],
        ["XTRIM", "t", "MINID", "~", "10"],
        ["XTRIM", "t", "MINID", "=", "4-1"], ["XINFO", "STREAM", "t"], ["XTRIM", "t", "maxlen", "0"],
        ["XINFO", "STREAM", "t"],
        ["XADD", "t", "MAXLEN", "2", "6-0", "f", "6"], ["XADD", "t", "MAXLEN", "2", "7-0", "f", "7"],
        ["XADD", "t", "MAXLEN", "2", "8-0", "f", "8"],
        ["XRANGE", "t", "-", "+"], ["XADD", "t", "MINID", "8", "9-0", "f", "9"], ["XRANGE", "t", "-", "+"],
        ["XADD", "t", "MINID", "~", "9", "LIMIT", "0", "10-0", "f", "10"],
        ["XADD", "t", "MAXLEN", "~", "0", "LIMIT", "1", "11-0", "f", "11"],
        ["XINFO", "STREAM", "t"],
        // XSETID.
        ["XSETID", "t", "5-0"], ["XSETID", "t", "11-0"],
        ["XSETID", "t", "100-0", "ENTRIESADDED", "1000", "MAXDELETEDID", "50-0"],
        ["XINFO", "STREAM", "t"], ["XSETID", "t", "40-0"],
        ["XSETID", "t", "100", "MAXDELETEDID", "0-0", "ENTRIESADDED", "3"],
        ["XINFO", "STREAM", "t"], ["XADD", "t", "100-0", "a", "b"], ["XADD", "t", "100-*", "a", "b"],
        ["XDEL", "t", "100-1", "11-0"],
        ["XSETID", "t", "99-0"], ["XSETID", "t", "100-1"], ["XINFO", "STREAM", "t"],
        // IDs far apart in one node (past 32-bit deltas), read, deleted and trimmed.
        ["XADD", "wide", "1-1", "a", "1"], ["XADD", "wide", "1-4294967296", "a", "2"],
        ["XADD", "wide", "4294967297-0", "a", "3"],
        ["XADD", "wide", "4294967298-5", "b", "4"],
        ["XADD", "wide", "18446744073709551614-18446744073709551615", "a", "5"],
        ["XRANGE", "wide", "-", "+"], ["XRANGE", "wide", "1-4294967296", "4294967297"],
        ["XREVRANGE", "wide", "+", "(1-1"],
        ["XDEL", "wide", "4294967297-0"], ["XRANGE", "wide", "4294967297", "+"], ["XINFO", "STREAM", "wide"],
        ["XTRIM", "wide", "MINID", "4294967298-5"], ["XRANGE", "wide", "-", "+"], ["XINFO", "STREAM", "wide"],
        ["XADD", "e", "1-1", "a", "b"], ["XDEL", "e", "1-1"], ["XSETID", "e", "0-5"], ["XSETID", "e", "1-1"],
        ["XSETID", "e", "0-1", "MAXDELETEDID", "0-1"],
        ["XINFO", "STREAM", "e"], ["TYPE", "e"],
    ]

    /// Many entries: node splits by count and by bytes, XDEL leaving holes, and trims of every kind.
    static let nodes: [[String]] = {
        var script: [[String]] = []
        for index in 1...250 { script.append(["XADD", "n", "\(index)-1", "f", "\(index)"]) }
        script += [
            ["XINFO", "STREAM", "n"], ["XDEL", "n", "1-1", "2-1", "3-1", "150-1"],
            ["XTRIM", "n", "MAXLEN", "~", "200"],
            ["XTRIM", "n", "MAXLEN", "~", "140"], ["XINFO", "STREAM", "n"], ["XTRIM", "n", "MINID", "~", "205"],
            ["XLEN", "n"],
            ["XTRIM", "n", "MINID", "205"], ["XLEN", "n"], ["XINFO", "STREAM", "n"],
            ["XRANGE", "n", "-", "+", "COUNT", "3"],
        ]
        let wide = String(repeating: "x", count: 100)
        for index in 1...100 { script.append(["XADD", "b", "\(index)-0", "field\(index)", wide]) }
        script += [["XINFO", "STREAM", "b"], ["XTRIM", "b", "MAXLEN", "~", "50"], ["XINFO", "STREAM", "b"]]
        // Integer-looking values are stored compactly: more fit in a node.
        for index in 1...300 {
            script.append(["XADD", "i", "1000000-\(index)", "f", "\(index * 1000)", "g", "-\(index)"])
        }
        script += [
            ["XINFO", "STREAM", "i"], ["XTRIM", "i", "MAXLEN", "~", "120", "LIMIT", "100"], ["XINFO", "STREAM", "i"],
        ]
        // Deleted entries keep their slot: the node fills up at 100 slots all the same.
        for index in 1...150 {
            script.append(["XADD", "d", "\(index)-0", "f", "v"])
            if index % 3 == 0 { script.append(["XDEL", "d", "\(index - 1)-0"]) }
        }
        script += [["XINFO", "STREAM", "d"], ["XTRIM", "d", "MAXLEN", "~", "1"], ["XINFO", "STREAM", "d"]]
        // Fields that differ from the first entry's; long values (2-byte length headers, and past 4096 bytes).
        for index in 1...60 {
            script.append(["XADD", "w", "\(index)-0", "k\(index % 3)", String(repeating: "y", count: index * 7)])
        }
        script.append(["XADD", "w", "61-0", "big", String(repeating: "z", count: 5000)])
        script.append(["XADD", "w", "62-0", "k", "v"])
        script += [["XINFO", "STREAM", "w"], ["XTRIM", "w", "MINID", "~", "30"], ["XINFO", "STREAM", "w"]]
        // MINID exact that leaves a node with no live entry (its last slot is a deleted entry at or above MINID).
        script += [
            ["XADD", "z", "1-0", "f", "v"], ["XADD", "z", "2-0", "f", "v"], ["XADD", "z", "3-0", "f", "v"],
            ["XDEL", "z", "3-0"],
            ["XTRIM", "z", "MINID", "3"], ["XINFO", "STREAM", "z"], ["XADD", "z", "4-0", "f", "v"],
            ["XINFO", "STREAM", "z"],
            ["XRANGE", "z", "-", "+"], ["XADD", "z", "MINID", "~", "5", "5-0", "f", "v"], ["XINFO", "STREAM", "z"],
        ]
        return script
    }()

    /// A consumer-group workout touching every group command; replies compared with times masked.
    static let groupsWorkout: [[String]] = [
        ["XADD", "s", "1-0", "f", "v1"], ["XADD", "s", "2-0", "f", "v2"], ["XADD", "s", "3-0", "f", "v3"],
        ["XADD", "s", "4-0", "f", "v4"],
        ["XADD", "s", "5-0", "f", "v5"], ["XADD", "s", "6-0", "f", "v6"],
        ["XGROUP", "CREATE", "s", "g", "0"], ["XGROUP", "CREATE", "s", "late", "$"],
        ["XGROUP", "CREATE", "s", "g", "0"],
        ["XGROUP", "CREATE", "other", "g", "$", "MKSTREAM", "ENTRIESREAD", "0"], ["XINFO", "GROUPS", "s"],
        ["XINFO", "GROUPS", "other"],
        ["XREADGROUP", "GROUP", "g", "c1", "COUNT", "2", "STREAMS", "s", ">"],
        ["XREADGROUP", "GROUP", "g", "c2", "COUNT", "1", "STREAMS", "s", ">"],
        ["XREADGROUP", "GROUP", "g", "c3", "NOACK", "COUNT", "1", "STREAMS", "s", ">"],
        ["XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", "0"],
        ["XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", "1-0"],
        ["XREADGROUP", "GROUP", "g", "c1", "COUNT", "1", "STREAMS", "s", "0"], ["XINFO", "GROUPS", "s"],
        ["XINFO", "CONSUMERS", "s", "g"],
        ["XPENDING", "s", "g"], ["XPENDING", "s", "g", "-", "+", "10"], ["XPENDING", "s", "g", "-", "+", "10", "c1"],
        ["XPENDING", "s", "g", "(1-0", "+", "1"], ["XPENDING", "s", "g", "IDLE", "0", "-", "+", "10", "c2"],
        ["XPENDING", "s", "g", "-", "+", "0"], ["XPENDING", "s", "g", "-", "+", "10", "nobody"],
        ["XACK", "s", "g", "1-0", "1-0", "9-0"], ["XPENDING", "s", "g"],
        ["XCLAIM", "s", "g", "c4", "0", "2-0", "3-0", "4-0", "JUSTID"],
        ["XCLAIM", "s", "g", "c4", "0", "3-0", "TIME", "1000", "RETRYCOUNT", "7"],
        ["XCLAIM", "s", "g", "c5", "0", "5-0", "FORCE", "JUSTID"],
        ["XCLAIM", "s", "g", "c5", "0", "6-0", "FORCE", "TIME", "1"],
        ["XCLAIM", "s", "g", "c5", "0", "9-0", "FORCE"], ["XCLAIM", "s", "g", "c6", "3600000", "2-0"],
        ["XCLAIM", "s", "g", "c6", "0", "2-0", "IDLE", "99999999999999", "LASTID", "5-0"], ["XINFO", "GROUPS", "s"],
        ["XCLAIM", "s", "g", "c6", "0", "8-0", "LASTID", "99-0"], ["XINFO", "GROUPS", "s"],
        ["XPENDING", "s", "g", "-", "+", "100"],
        ["XDEL", "s", "3-0"], ["XCLAIM", "s", "g", "c7", "0", "3-0", "2-0"], ["XPENDING", "s", "g", "-", "+", "100"],
        ["XADD", "s", "7-0", "f", "v7"], ["XADD", "s", "8-0", "f", "v8"], ["XGROUP", "SETID", "s", "g", "6-0"],
        ["XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">"], ["XDEL", "s", "7-0", "5-0"],
        ["XAUTOCLAIM", "s", "g", "c8", "0", "0", "COUNT", "2"],
        ["XAUTOCLAIM", "s", "g", "c8", "0", "0", "COUNT", "2", "JUSTID"],
        ["XAUTOCLAIM", "s", "g", "c9", "0", "(2-0"], ["XAUTOCLAIM", "s", "g", "c9", "3600000", "0"],
        ["XAUTOCLAIM", "s", "g", "c9", "0", "9-0"],
        ["XPENDING", "s", "g"], ["XINFO", "CONSUMERS", "s", "g"], ["XINFO", "STREAM", "s", "FULL"],
        ["XINFO", "STREAM", "s", "FULL", "COUNT", "1"],
        ["XINFO", "STREAM", "s", "FULL", "COUNT", "0"], ["XINFO", "STREAM", "s", "FULL", "COUNT", "-1"],
        ["XGROUP", "CREATECONSUMER", "s", "g", "c1"], ["XGROUP", "CREATECONSUMER", "s", "g", "new"],
        ["XGROUP", "DELCONSUMER", "s", "g", "nobody"],
        ["XGROUP", "DELCONSUMER", "s", "g", "c8"], ["XPENDING", "s", "g"],
        ["XGROUP", "SETID", "s", "g", "$", "ENTRIESREAD", "3"],
        ["XINFO", "GROUPS", "s"], ["XGROUP", "SETID", "s", "g", "-"], ["XINFO", "GROUPS", "s"],
        ["XGROUP", "SETID", "s", "g", "+"],
        ["XINFO", "GROUPS", "s"], ["XGROUP", "DESTROY", "s", "late"], ["XGROUP", "DESTROY", "s", "late"],
        ["XINFO", "STREAM", "s"],
        ["XADD", "other", "1-1", "a", "b"], ["XREADGROUP", "GROUP", "g", "x", "NOACK", "STREAMS", "other", ">"],
        ["XINFO", "GROUPS", "other"],
    ]

    static let groupEdges: [[String]] = [
        // XAUTOCLAIM: deleted entries count against COUNT, the cursor, attempts (10 × COUNT).
        ["DEL", "q"], ["XGROUP", "CREATE", "q", "g", "0", "MKSTREAM"],
        ["XADD", "q", "1-0", "a", "1"], ["XADD", "q", "2-0", "a", "2"], ["XADD", "q", "3-0", "a", "3"],
        ["XADD", "q", "4-0", "a", "4"],
        ["XADD", "q", "5-0", "a", "5"], ["XADD", "q", "6-0", "a", "6"],
        ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "q", ">"],
        ["XDEL", "q", "1-0", "2-0", "3-0", "5-0"], ["XAUTOCLAIM", "q", "g", "d", "0", "0", "COUNT", "2"],
        ["XPENDING", "q", "g"],
        ["XAUTOCLAIM", "q", "g", "d", "0", "0", "COUNT", "1"],
        ["XAUTOCLAIM", "q", "g", "d", "0", "0", "COUNT", "1", "JUSTID"],
        ["XAUTOCLAIM", "q", "g", "d", "0", "-", "COUNT", "10", "JUSTID", "COUNT", "1"],
        ["XAUTOCLAIM", "q", "g", "d", "0", "+"],
        ["XPENDING", "q", "g", "-", "+", "10"], ["XINFO", "CONSUMERS", "q", "g"],
        // XCLAIM of an entry pending elsewhere, the same consumer, FORCE of a deleted entry.
        ["XCLAIM", "q", "g", "d", "0", "4-0"], ["XCLAIM", "q", "g", "c", "0", "4-0", "6-0", "RETRYCOUNT", "-5"],
        ["XCLAIM", "q", "g", "c", "0", "1-0", "FORCE"], ["XPENDING", "q", "g", "-", "+", "10"],
        // XREADGROUP takes back an entry pending for another consumer after SETID moved the group back.
        ["XGROUP", "SETID", "q", "g", "0"], ["XREADGROUP", "GROUP", "g", "e", "COUNT", "1", "STREAMS", "q", ">"],
        ["XPENDING", "q", "g", "-", "+", "10"], ["XINFO", "GROUPS", "q"],
        ["XREADGROUP", "GROUP", "g", "e", "STREAMS", "q", ">"],
        ["XINFO", "GROUPS", "q"],
        ["XREADGROUP", "GROUP", "g", "e", "STREAMS", "q", "18446744073709551615-18446744073709551615"],
        ["XREADGROUP", "GROUP", "g", "e", "STREAMS", "q", "18446744073709551615-18446744073709551614"],
        // Reading the history shows deleted messages with a null body.
        ["XDEL", "q", "4-0"], ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "q", "0"],
        ["XREADGROUP", "GROUP", "g", "e", "STREAMS", "q", "0"],
        ["XINFO", "STREAM", "q", "FULL"],
        // Consumers are created by serving them, not by asking.
        ["XREADGROUP", "GROUP", "g", "ghost", "STREAMS", "q", ">"], ["XINFO", "CONSUMERS", "q", "g"],
        ["XCLAIM", "q", "g", "ghost2", "0", "77-0"], ["XAUTOCLAIM", "q", "g", "ghost3", "0", "99-0"],
        ["XINFO", "CONSUMERS", "q", "g"],
        // An empty group in a stream without groups.
        ["XADD", "lonely", "1-1", "a", "b"], ["XINFO", "GROUPS", "lonely"], ["XINFO", "STREAM", "lonely", "FULL"],
        ["XPENDING", "lonely", "g"],
    ]

    /// entries-read and lag through deletions, trims, SETID and reads.
    static let lag: [[String]] = [
        ["XGROUP", "CREATE", "l", "g0", "$", "MKSTREAM"], ["XINFO", "GROUPS", "l"],
        ["XADD", "l", "1-0", "f", "v"], ["XADD", "l", "2-0", "f", "v"], ["XADD", "l", "3-0", "f", "v"],
        ["XADD", "l", "4-0", "f", "v"],
        ["XADD", "l", "5-0", "f", "v"], ["XGROUP", "CREATE", "l", "a", "0"], ["XGROUP", "CREATE", "l", "b", "3-0"],
        ["XGROUP", "CREATE", "l", "c", "$"], ["XGROUP", "CREATE", "l", "d", "1-0", "ENTRIESREAD", "1"],
        ["XGROUP", "CREATE", "l", "e", "9-0"],
        ["XINFO", "GROUPS", "l"], ["XREADGROUP", "GROUP", "a", "x", "COUNT", "2", "STREAMS", "l", ">"],
        ["XINFO", "GROUPS", "l"],
        ["XDEL", "l", "4-0"], ["XINFO", "GROUPS", "l"],
        ["XREADGROUP", "GROUP", "a", "x", "COUNT", "1", "STREAMS", "l", ">"],
        ["XINFO", "GROUPS", "l"], ["XREADGROUP", "GROUP", "a", "x", "STREAMS", "l", ">"], ["XINFO", "GROUPS", "l"],
        ["XREADGROUP", "GROUP", "b", "x", "STREAMS", "l", ">"], ["XINFO", "GROUPS", "l"], ["XDEL", "l", "1-0"],
        ["XINFO", "GROUPS", "l"],
        ["XTRIM", "l", "MAXLEN", "1"], ["XINFO", "GROUPS", "l"], ["XADD", "l", "6-0", "f", "v"],
        ["XINFO", "GROUPS", "l"],
        ["XGROUP", "SETID", "l", "a", "0", "ENTRIESREAD", "0"], ["XINFO", "GROUPS", "l"],
        ["XGROUP", "SETID", "l", "b", "$"],
        ["XINFO", "GROUPS", "l"], ["XREADGROUP", "GROUP", "d", "y", "NOACK", "STREAMS", "l", ">"],
        ["XINFO", "GROUPS", "l"],
        ["XDEL", "l", "5-0", "6-0"], ["XLEN", "l"], ["XINFO", "GROUPS", "l"], ["XINFO", "STREAM", "l"],
        ["XGROUP", "CREATE", "l", "f", "0"], ["XINFO", "GROUPS", "l"], ["XSETID", "l", "10-0", "ENTRIESADDED", "20"],
        ["XINFO", "GROUPS", "l"],
        ["XADD", "m", "1-0", "f", "v"], ["XADD", "m", "2-0", "f", "v"], ["XGROUP", "CREATE", "m", "g", "0"],
        ["XDEL", "m", "2-0"],
        ["XINFO", "GROUPS", "m"], ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "m", ">"], ["XINFO", "GROUPS", "m"],
        ["XGROUP", "CREATE", "m", "h", "1-0"], ["XINFO", "GROUPS", "m"], ["XADD", "m", "3-0", "f", "v"],
        ["XINFO", "GROUPS", "m"],
    ]

    static let reads: [[String]] = [
        ["XADD", "r1", "1-0", "a", "1"], ["XADD", "r1", "2-0", "a", "2"], ["XADD", "r2", "5-0", "b", "1"],
        ["XREAD", "STREAMS", "r1", "r2", "0", "0"], ["XREAD", "COUNT", "1", "STREAMS", "r1", "r2", "0", "0"],
        ["XREAD", "STREAMS", "r1", "r2", "1-0", "$"], ["XREAD", "STREAMS", "r1", "nokey", "2", "0"],
        ["XREAD", "STREAMS", "nokey", "0"],
        ["XREAD", "BLOCK", "0", "STREAMS", "r1", "0-5"], ["XREAD", "BLOCK", "100", "STREAMS", "r1", "$"],
        ["XREAD", "COUNT", "0", "STREAMS", "r1", "-"],
        ["XREAD", "STREAMS", "r1", "r1", "0", "1"], ["XREAD", "count", "1", "count", "5", "streams", "r1", "0"],
        ["XDEL", "r1", "2-0"], ["XREAD", "STREAMS", "r1", "1-0"],
        ["XREAD", "STREAMS", "r1", "18446744073709551615-18446744073709551615"],
        ["XGROUP", "CREATE", "r1", "g", "0"], ["XGROUP", "CREATE", "r2", "g", "$"],
        ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "r1", "r2", ">", ">"],
        ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "r1", "r2", ">", "0"],
        ["XREADGROUP", "GROUP", "g", "c", "BLOCK", "10", "STREAMS", "r1", ">"], ["XADD", "r2", "6-0", "b", "2"],
        ["XREADGROUP", "GROUP", "g", "c", "COUNT", "0", "STREAMS", "r2", ">"],
        ["XREADGROUP", "GROUP", "g", "c", "NOACK", "STREAMS", "r2", "0"],
        ["XREADGROUP", "GROUP", "g", "c2", "STREAMS", "r1", "r1", ">", "0"], ["XINFO", "CONSUMERS", "r1", "g"],
        ["MULTI"], ["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "r1", ">"],
        ["XADD", "r1", "3-0", "a", "3"],
        ["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "r1", ">"], ["EXEC"],
        ["XREADGROUP", "group", "g", "c", "noack", "streams", "r1", ">"],
    ]

    // MARK: - Random scripts

    /// `count` random stream commands over a few keys, with increasing explicit IDs (auto IDs would differ).
    static func random(count: Int, using random: inout ListSetRandom) -> [[String]] {
        let keys = ["x", "y", "z"]
        var top = ["x": 0, "y": 0, "z": 0]
        var script: [[String]] = []
        func pick<T>(_ choices: [T]) -> T { choices[Int(random.next() % UInt64(choices.count))] }
        func chance(_ percent: UInt64) -> Bool { random.next() % 100 < percent }
        func id(_ key: String) -> String {
            let value = Int(random.next() % UInt64(Swift.max(1, top[key]! + 3)))
            return "\(value / 3)-\(value % 3)"
        }
        func number(_ limit: UInt64) -> String { "\(random.next() % limit)" }
        func value() -> String {
            switch random.next() % 8 {
            case 0: return number(100_000)
            case 1: return String(repeating: "v", count: Int(random.next() % 300))
            case 2: return "-\(random.next() % 5000)"
            case 3: return chance(10) ? String(repeating: "w", count: 1000 + Int(random.next() % 4000)) : ""
            default: return "val\(random.next() % 50)"
            }
        }
        let groups = ["g1", "g2", "g3"]
        let consumers = ["alice", "bob", "carol", "dan"]
        for _ in 0..<count {
            let key = pick(keys)
            let group = pick(groups)
            let consumer = pick(consumers)
            switch random.next() % 30 {
            case 0...7:
                top[key]! += Int(1 + random.next() % 4)
                var fields = chance(30) ? ["f", value(), "g", value()] : [pick(["f", "g", "h"]), value()]
                if chance(5) { fields += ["1", "2", "3", "4"] }
                var command = ["XADD", key]
                if chance(3) { command.append("NOMKSTREAM") }
                switch random.next() % 10 {
                case 0: command += ["MAXLEN", "~", number(300)]
                case 1: command += ["MAXLEN", number(300)]
                case 2: command += ["MINID", "~", id(key)]
                case 3: command += ["MAXLEN", "~", number(200), "LIMIT", number(150)]
                case 4: command += ["MINID", "=", id(key)]
                default: break
                }
                let next = chance(5) ? "\(top[key]! / 3)-*" : "\(top[key]! / 3)-\(top[key]! % 3)"
                script.append(command + [next] + fields)
            case 8, 9: script.append(["XDEL", key] + (0..<(1 + random.next() % 4)).map { _ in id(key) })
            case 10:
                switch random.next() % 5 {
                case 0: script.append(["XTRIM", key, "MAXLEN", "~", number(250)])
                case 1: script.append(["XTRIM", key, "MINID", id(key)])
                case 2: script.append(["XTRIM", key, "MINID", "~", id(key), "LIMIT", number(300)])
                case 3: script.append(["XTRIM", key, "MAXLEN", "~", number(250), "LIMIT", number(120)])
                default: script.append(["XTRIM", key, "MAXLEN", "=", number(250)])
                }
            case 11:
                script.append([
                    "XRANGE", key, pick(["-", id(key), "(" + id(key)]), pick(["+", id(key)]), "COUNT", number(6),
                ])
            case 12:
                script.append([
                    "XREVRANGE", key, pick(["+", id(key)]), pick(["-", "(" + id(key)]), "COUNT", number(4),
                ])
            case 13: script.append(["XINFO", "STREAM", key])
            case 14: script.append(["XLEN", key])
            case 15:
                var command = ["XGROUP", "CREATE", key, group, pick(["$", id(key), "0"]), "MKSTREAM"]
                if chance(30) { command += ["ENTRIESREAD", pick(["-1", number(50)])] }
                script.append(command)
            case 16, 17:
                var command = ["XREADGROUP", "GROUP", group, consumer, "COUNT", number(5)]
                if chance(20) { command.append("NOACK") }
                script.append(command + ["STREAMS", key, chance(25) ? pick(["0", id(key)]) : ">"])
            case 18: script.append(["XACK", key, group, id(key), id(key)])
            case 19:
                var command = ["XCLAIM", key, group, consumer, "0", id(key), id(key), "TIME", number(100_000)]
                if chance(50) { command.append("JUSTID") }
                if chance(20) { command.append("FORCE") }
                if chance(20) { command += ["RETRYCOUNT", number(9)] }
                if chance(20) { command += ["LASTID", id(key)] }
                script.append(command)
            case 20:
                var command = [
                    "XAUTOCLAIM", key, group, consumer, "0", pick([id(key), "(" + id(key), "-"]), "COUNT",
                    "\(1 + random.next() % 4)",
                ]
                if chance(50) { command.append("JUSTID") }
                script.append(command)
            case 21: script.append(["XPENDING", key, group])
            case 22:
                script.append(
                    ["XPENDING", key, group, pick(["-", id(key)]), "+", number(6)] + (chance(50) ? [consumer] : []))
            case 23: script.append(["XINFO", "GROUPS", key])
            case 24:
                var command = ["XGROUP", "SETID", key, group, pick(["$", id(key)])]
                if chance(30) { command += ["ENTRIESREAD", pick(["-1", number(40)])] }
                script.append(command)
            case 25: script.append(["XGROUP", pick(["DELCONSUMER", "CREATECONSUMER"]), key, group, consumer])
            case 26:
                script.append(chance(20) ? ["XGROUP", "DESTROY", key, group] : ["XINFO", "CONSUMERS", key, group])
            case 27: script.append(["XINFO", "STREAM", key, "FULL", "COUNT", number(4)])
            case 28: script.append(["XREAD", "COUNT", number(4), "STREAMS", key, pick(keys), id(key), "0"])
            default:
                if chance(10) {
                    top[key]! += 6
                    script.append(["XSETID", key, "\(top[key]! / 3)-0", "ENTRIESADDED", number(2000)])
                } else {
                    script.append(["XSETID", key, "\(top[key]! / 3)-2"])
                }
            }
        }
        return script + keys.flatMap { [["XINFO", "STREAM", $0, "FULL", "COUNT", "0"], ["XRANGE", $0, "-", "+"]] }
    }
}
