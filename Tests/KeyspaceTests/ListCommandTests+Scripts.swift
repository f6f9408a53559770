import Keyspace

/// Command scripts shared by the unit and differential list tests.
enum ListScripts {
    /// Every error path and edge the list commands have.
    static let edges: [[String]] = [
        // Arity.
        ["LPUSH", "l"], ["RPUSH"], ["LPUSHX", "l"], ["RPUSHX", "l"], ["LPOP"], ["LPOP", "l", "1", "2"], ["RPOP", "l", "1", "2"],
        ["LLEN"], ["LLEN", "l", "x"], ["LRANGE", "l", "0"], ["LINDEX", "l"], ["LSET", "l", "0"], ["LREM", "l", "0"],
        ["LTRIM", "l", "0"], ["LINSERT", "l", "BEFORE", "a"], ["LPOS", "l"], ["RPOPLPUSH", "l"], ["LMOVE", "a", "b", "LEFT"],
        ["LMPOP", "1", "l"],
        // Missing keys.
        ["LPOP", "l"], ["LPOP", "l", "0"], ["LPOP", "l", "3"], ["RPOP", "l"], ["RPOP", "l", "3"], ["LLEN", "l"],
        ["LRANGE", "l", "0", "-1"], ["LINDEX", "l", "0"], ["LINDEX", "l", "x"], ["LSET", "l", "0", "v"], ["LSET", "l", "x", "v"],
        ["LREM", "l", "0", "v"], ["LTRIM", "l", "0", "1"], ["LINSERT", "l", "BEFORE", "a", "b"], ["LPOS", "l", "a"],
        ["LPOS", "l", "a", "COUNT", "2"], ["RPOPLPUSH", "l", "d"], ["LMOVE", "l", "d", "LEFT", "RIGHT"], ["LMPOP", "2", "l", "m", "LEFT"],
        ["LPUSHX", "l", "a"], ["RPUSHX", "l", "a", "b"], ["LLEN", "l"],
        // Bad numbers and keywords.
        ["RPUSH", "l", "a", "b", "c", "a", "b", "a"],
        ["LPOP", "l", "-1"], ["LPOP", "l", "x"], ["LPOP", "l", "1.5"], ["RPOP", "l", "99999999999999999999"],
        ["LRANGE", "l", "x", "1"], ["LRANGE", "l", "0", "1x"], ["LRANGE", "l", " 1", "2"], ["LRANGE", "l", "+1", "2"],
        ["LRANGE", "l", "01", "2"], ["LINDEX", "l", "x"], ["LINDEX", "l", "-0"], ["LSET", "l", "x", "v"], ["LSET", "l", "99", "v"],
        ["LSET", "l", "-99", "v"], ["LREM", "l", "x", "a"], ["LTRIM", "l", "x", "1"], ["LTRIM", "l", "0", "y"],
        ["LINSERT", "l", "middle", "a", "b"], ["LPOS", "l", "a", "RANK", "0"], ["LPOS", "l", "a", "RANK", "x"],
        ["LPOS", "l", "a", "COUNT", "-1"], ["LPOS", "l", "a", "COUNT", "x"], ["LPOS", "l", "a", "MAXLEN", "-1"],
        ["LPOS", "l", "a", "MAXLEN", "x"], ["LPOS", "l", "a", "FOO", "1"], ["LPOS", "l", "a", "RANK"], ["LPOS", "l", "a", "COUNT"],
        ["LMOVE", "l", "d", "UP", "LEFT"], ["LMOVE", "l", "d", "LEFT", "DOWN"], ["LMPOP", "0", "l", "LEFT"],
        ["LMPOP", "-1", "l", "LEFT"], ["LMPOP", "x", "l", "LEFT"], ["LMPOP", "2", "l", "LEFT"], ["LMPOP", "1", "l", "UP"],
        ["LMPOP", "1", "l", "LEFT", "COUNT"], ["LMPOP", "1", "l", "LEFT", "COUNT", "0"], ["LMPOP", "1", "l", "LEFT", "COUNT", "x"],
        ["LMPOP", "1", "l", "LEFT", "COUNT", "1", "COUNT", "1"], ["LMPOP", "1", "l", "LEFT", "FOO"],
        ["LMPOP", "9223372036854775807", "l", "LEFT"],
        // Ranges and indexes.
        ["LRANGE", "l", "0", "-1"], ["LRANGE", "l", "-100", "100"], ["LRANGE", "l", "3", "1"], ["LRANGE", "l", "6", "10"],
        ["LRANGE", "l", "-1", "-1"], ["LRANGE", "l", "-9223372036854775808", "9223372036854775807"],
        ["LINDEX", "l", "-1"], ["LINDEX", "l", "-6"], ["LINDEX", "l", "-7"], ["LINDEX", "l", "6"], ["LINDEX", "l", "9223372036854775807"],
        ["LSET", "l", "-1", "z"], ["LSET", "l", "0", "A"], ["LRANGE", "l", "0", "-1"],
        // LPOS.
        ["LPOS", "l", "a"], ["LPOS", "l", "b", "RANK", "2"], ["LPOS", "l", "a", "RANK", "-1"], ["LPOS", "l", "b", "RANK", "-2", "COUNT", "0"],
        ["LPOS", "l", "b", "COUNT", "0", "MAXLEN", "2"], ["LPOS", "l", "b", "COUNT", "1", "COUNT", "0"], ["LPOS", "l", "nothing"],
        ["LPOS", "l", "nothing", "COUNT", "0"], ["LPOS", "l", "b", "RANK", "9"], ["LPOS", "l", "b", "RANK", "-9223372036854775807"],
        ["LPOS", "l", "b", "RANK", "-9223372036854775808"], ["LPOS", "l", "b", "RANK", "-9223372036854775808", "COUNT", "1"],
        ["LPOS", "l", "b", "rank", "1", "count", "2", "maxlen", "0"],
        // LINSERT, LREM, LTRIM.
        ["LINSERT", "l", "before", "b", "x"], ["LINSERT", "l", "AFTER", "z", "y"], ["LINSERT", "l", "AFTER", "nope", "y"],
        ["LRANGE", "l", "0", "-1"], ["LREM", "l", "1", "b"], ["LREM", "l", "-1", "c"], ["LREM", "l", "0", "nope"],
        ["LREM", "l", "-9223372036854775808", "y"], ["LRANGE", "l", "0", "-1"], ["LTRIM", "l", "1", "-2"], ["LRANGE", "l", "0", "-1"],
        ["LTRIM", "l", "0", "-1"], ["LTRIM", "l", "5", "1"], ["LLEN", "l"],
        // Pops with counts, moves and rotation.
        ["RPUSH", "l", "1", "2", "3", "4", "5"], ["LPOP", "l", "0"], ["LPOP", "l", "2"], ["RPOP", "l", "2"], ["RPOP", "l", "9"],
        ["LLEN", "l"], ["RPUSH", "l", "1", "2", "3"], ["RPOPLPUSH", "l", "l"], ["LMOVE", "l", "l", "LEFT", "RIGHT"],
        ["LMOVE", "l", "l", "left", "left"], ["LMOVE", "l", "l", "right", "right"], ["LRANGE", "l", "0", "-1"],
        ["RPOPLPUSH", "l", "m"], ["LMOVE", "l", "m", "LEFT", "LEFT"], ["LMOVE", "l", "m", "RIGHT", "RIGHT"], ["LLEN", "l"],
        ["LRANGE", "m", "0", "-1"], ["LMPOP", "2", "l", "m", "LEFT"], ["LMPOP", "2", "l", "m", "RIGHT", "COUNT", "10"],
        ["LMPOP", "2", "l", "m", "RIGHT"], ["LLEN", "m"],
        // Wrong types (a set: SADD belongs to the same engineer, SET may not exist yet).
        ["SADD", "s", "v"], ["RPUSH", "l", "a"], ["LPUSH", "s", "a"], ["RPUSH", "s", "a"], ["LPUSHX", "s", "a"], ["RPUSHX", "s", "a"],
        ["LPOP", "s"], ["LPOP", "s", "0"], ["LPOP", "s", "x"], ["RPOP", "s", "1"], ["LLEN", "s"], ["LRANGE", "s", "0", "1"],
        ["LRANGE", "s", "x", "1"], ["LINDEX", "s", "0"], ["LINDEX", "s", "x"], ["LSET", "s", "0", "a"], ["LSET", "s", "x", "a"],
        ["LREM", "s", "0", "a"], ["LREM", "s", "x", "a"], ["LTRIM", "s", "0", "1"], ["LINSERT", "s", "BEFORE", "a", "b"],
        ["LINSERT", "s", "X", "a", "b"], ["LPOS", "s", "a"], ["LPOS", "s", "a", "RANK", "0"], ["RPOPLPUSH", "s", "l"],
        ["RPOPLPUSH", "l", "s"], ["RPOPLPUSH", "missing", "s"], ["LMOVE", "l", "s", "LEFT", "LEFT"], ["LMOVE", "s", "l", "LEFT", "LEFT"],
        ["LMPOP", "1", "s", "LEFT"], ["LMPOP", "2", "missing", "s", "LEFT"], ["LMPOP", "2", "l", "s", "LEFT"], ["LRANGE", "l", "0", "-1"],
        ["SCARD", "s"],
    ]

    /// `count` random list commands over a few keys and a small alphabet (so that pivots, LREM and LPOS match).
    static func random<G: RandomNumberGenerator>(count: Int, using generator: inout G) -> [[String]] {
        let keys = ["k1", "k2", "k3"]
        let values = ["a", "b", "c", "d", "e", "17", "-3", ""]
        func key() -> String { keys.randomElement(using: &generator)! }
        func value() -> String { values.randomElement(using: &generator)! }
        func index() -> String { String(Int.random(in: -40...40, using: &generator)) }
        func side() -> String { Bool.random(using: &generator) ? "LEFT" : "RIGHT" }
        var script: [[String]] = []
        for _ in 0..<count {
            let command: [String] = switch Int.random(in: 0..<20, using: &generator) {
            case 0, 1: ["LPUSH", key()] + (0..<Int.random(in: 1...12, using: &generator)).map { _ in value() }
            case 2, 3: ["RPUSH", key()] + (0..<Int.random(in: 1...12, using: &generator)).map { _ in value() }
            case 4: [Bool.random(using: &generator) ? "LPUSHX" : "RPUSHX", key(), value()]
            case 5: [Bool.random(using: &generator) ? "LPOP" : "RPOP", key()]
            case 6: [Bool.random(using: &generator) ? "LPOP" : "RPOP", key(), String(Int.random(in: 0...5, using: &generator))]
            case 7: ["LRANGE", key(), index(), index()]
            case 8: ["LINDEX", key(), index()]
            case 9: ["LSET", key(), index(), value()]
            case 10: ["LREM", key(), String(Int.random(in: -3...3, using: &generator)), value()]
            case 11: ["LTRIM", key(), index(), index()]
            case 12: ["LINSERT", key(), Bool.random(using: &generator) ? "BEFORE" : "AFTER", value(), value()]
            case 13: ["LPOS", key(), value(), "RANK", String([1, 2, -1, -2][Int.random(in: 0..<4, using: &generator)])]
            case 14: ["LPOS", key(), value(), "COUNT", String(Int.random(in: 0...3, using: &generator)), "MAXLEN",
                      String(Int.random(in: 0...20, using: &generator))]
            case 15: ["RPOPLPUSH", key(), key()]
            case 16: ["LMOVE", key(), key(), side(), side()]
            case 17: ["LMPOP", "2", key(), key(), side(), "COUNT", String(Int.random(in: 1...4, using: &generator))]
            case 18: ["LLEN", key()]
            default: ["LRANGE", key(), "0", "-1"]
            }
            script.append(command)
        }
        return script + keys.map { ["LRANGE", $0, "0", "-1"] }
    }
}
