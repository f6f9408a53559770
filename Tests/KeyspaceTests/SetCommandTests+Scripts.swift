import Keyspace

/// Command scripts shared by the unit and differential set tests.
enum SetScripts {
    /// How to compare a command's replies: members come back in hash order, random commands only by shape.
    static func comparison(for command: [String]) -> Comparison {
        switch command[0].uppercased() {
        // An intset scans whole in one call, in integer order for Redis and hash order here.
        case "SMEMBERS", "SINTER", "SUNION", "SDIFF", "SSCAN": .unordered
        case "SPOP", "SRANDMEMBER": .shape
        default: .exact
        }
    }

    /// Every error path and edge the set commands have.
    static let edges: [(command: [String], comparison: Comparison)] = edgeCommands.map { ($0, comparison(for: $0)) }

    private static let edgeCommands: [[String]] = [
        // Arity.
        ["SADD", "s"], ["SREM", "s"], ["SMEMBERS"], ["SMEMBERS", "s", "t"], ["SISMEMBER", "s"], ["SMISMEMBER", "s"], ["SCARD"],
        ["SPOP"], ["SRANDMEMBER"], ["SMOVE", "a", "b"], ["SINTER"], ["SUNION"], ["SDIFF"], ["SINTERSTORE", "d"], ["SUNIONSTORE", "d"],
        ["SDIFFSTORE", "d"], ["SINTERCARD", "1"], ["SSCAN", "s"],
        // Missing keys.
        ["SREM", "s", "a"], ["SMEMBERS", "s"], ["SISMEMBER", "s", "a"], ["SMISMEMBER", "s", "a", "b"], ["SCARD", "s"], ["SPOP", "s"],
        ["SPOP", "s", "0"], ["SPOP", "s", "3"], ["SRANDMEMBER", "s"], ["SRANDMEMBER", "s", "3"], ["SRANDMEMBER", "s", "-3"],
        ["SRANDMEMBER", "s", "0"], ["SMOVE", "s", "t", "a"], ["SINTER", "s"], ["SINTER", "s", "t"], ["SUNION", "s", "t"], ["SDIFF", "s", "t"],
        ["SINTERSTORE", "d", "s"], ["SUNIONSTORE", "d", "s", "t"], ["SDIFFSTORE", "d", "s"], ["SINTERCARD", "2", "s", "t"],
        ["SSCAN", "s", "0"], ["SSCAN", "s", "0", "COUNT", "0"], ["SSCAN", "s", "x"],
        // Bad numbers and options.
        ["SADD", "s", "1", "2", "3", "4", "5"], ["SADD", "t", "3", "4", "5", "6", "a", "b"],
        ["SPOP", "s", "-1"], ["SPOP", "s", "x"], ["SPOP", "s", "1", "2"], ["SRANDMEMBER", "s", "x"], ["SRANDMEMBER", "s", "1", "2"],
        ["SRANDMEMBER", "s", "-9223372036854775808"], ["SRANDMEMBER", "s", "1.5"],
        ["SINTERCARD", "0", "s"], ["SINTERCARD", "-1", "s"], ["SINTERCARD", "x", "s"], ["SINTERCARD", "3", "s", "t"],
        ["SINTERCARD", "2", "s", "t", "LIMIT"], ["SINTERCARD", "2", "s", "t", "LIMIT", "-1"], ["SINTERCARD", "2", "s", "t", "LIMIT", "x"],
        ["SINTERCARD", "2", "s", "t", "FOO", "1"], ["SINTERCARD", "2", "s", "t", "LIMIT", "1", "LIMIT", "2"],
        ["SINTERCARD", "1", "s", "t"],
        ["SSCAN", "s", "x"], ["SSCAN", "s", " 1"], ["SSCAN", "s", "1x"], ["SSCAN", "s", "-"], ["SSCAN", "s", "18446744073709551616"],
        ["SSCAN", "s", "0", "COUNT", "0"], ["SSCAN", "s", "0", "COUNT", "-1"], ["SSCAN", "s", "0", "COUNT", "x"], ["SSCAN", "s", "0", "MATCH"],
        ["SSCAN", "s", "0", "FOO", "bar"],
        // Values.
        ["SCARD", "s"], ["SISMEMBER", "s", "3"], ["SMISMEMBER", "s", "1", "9", "5"], ["SINTERCARD", "2", "s", "t"],
        ["SINTERCARD", "2", "s", "t", "LIMIT", "2"], ["SINTERCARD", "2", "s", "t", "LIMIT", "0"],
        ["SINTERCARD", "2", "s", "t", "LIMIT", "1", "LIMIT", "0"],
        ["SSCAN", "s", "0"], ["SSCAN", "s", "0", "MATCH", "[1-3]", "COUNT", "100"], ["SSCAN", "s", "-1"], ["SSCAN", "s", "+0"],
        ["SSCAN", "s", "18446744073709551615"], ["SSCAN", "s", "-0"],
        ["SMOVE", "s", "t", "1"], ["SMOVE", "s", "t", "3"], ["SMOVE", "s", "s", "2"], ["SMOVE", "s", "s", "9"], ["SMOVE", "s", "new", "2"],
        ["SINTERSTORE", "d", "s", "t"], ["SUNIONSTORE", "d", "s", "t", "missing"], ["SDIFFSTORE", "d", "t", "s"], ["SDIFFSTORE", "d", "missing", "s"],
        ["SCARD", "d"], ["SUNIONSTORE", "d", "s"], ["SINTERSTORE", "d", "s", "missing"], ["SCARD", "d"], ["SDIFFSTORE", "s", "s", "s"],
        ["SCARD", "s"],
        ["SADD", "r", "a", "b", "c"], ["SRANDMEMBER", "r", "2"], ["SRANDMEMBER", "r", "5"], ["SRANDMEMBER", "r", "-5"], ["SRANDMEMBER", "r", "3"],
        ["SPOP", "r", "0"], ["SPOP", "r", "1"], ["SCARD", "r"], ["SPOP", "r", "10"], ["SCARD", "r"], ["SADD", "r", "z"], ["SPOP", "r"],
        ["SCARD", "r"],
        // Wrong types (a list: the same engineer's RPUSH).
        ["RPUSH", "l", "v"], ["SADD", "l", "a"], ["SREM", "l", "a"], ["SMEMBERS", "l"], ["SISMEMBER", "l", "a"], ["SMISMEMBER", "l", "a"],
        ["SCARD", "l"], ["SPOP", "l"], ["SPOP", "l", "1"], ["SPOP", "l", "x"], ["SRANDMEMBER", "l"], ["SRANDMEMBER", "l", "1"],
        ["SRANDMEMBER", "l", "x"], ["SMOVE", "l", "t", "a"], ["SMOVE", "t", "l", "a"], ["SMOVE", "missing", "l", "a"],
        ["SMOVE", "t", "l", "nope"], ["SINTER", "missing", "l"], ["SINTER", "t", "l"], ["SUNION", "t", "l"], ["SDIFF", "missing", "l"],
        ["SDIFF", "t", "l"], ["SINTERSTORE", "d", "missing", "l"], ["SUNIONSTORE", "d", "l"], ["SDIFFSTORE", "d", "t", "l"],
        ["SINTERCARD", "2", "missing", "l"], ["SSCAN", "l", "0"], ["SSCAN", "l", "x"], ["SUNIONSTORE", "l", "t"], ["SCARD", "l"],
    ]

    /// `count` random set commands over a few keys and a small universe of members. Without `includePops`, no
    /// command whose effect is random (so that the replies can be compared with a real server's).
    static func random<G: RandomNumberGenerator>(count: Int, includePops: Bool, using generator: inout G) -> [[String]] {
        let keys = ["s1", "s2", "s3", "s4"]
        let members = (0..<12).map { String($0) } + ["a", "b", "c", "x y", ""]
        func key() -> String { keys.randomElement(using: &generator)! }
        func member() -> String { members.randomElement(using: &generator)! }
        func someKeys() -> [String] { (0..<Int.random(in: 1...3, using: &generator)).map { _ in key() } }
        var script: [[String]] = []
        for _ in 0..<count {
            var choice = Int.random(in: 0..<18, using: &generator)
            if !includePops && (choice == 15 || choice == 16) { choice = 0 }
            let command: [String] = switch choice {
            case 0, 1, 2: ["SADD", key()] + (0..<Int.random(in: 1...6, using: &generator)).map { _ in member() }
            case 3: ["SREM", key()] + (0..<Int.random(in: 1...3, using: &generator)).map { _ in member() }
            case 4: ["SMEMBERS", key()]
            case 5: ["SISMEMBER", key(), member()]
            case 6: ["SMISMEMBER", key(), member(), member()]
            case 7: ["SCARD", key()]
            case 8: ["SMOVE", key(), key(), member()]
            case 9: ["SINTER"] + someKeys()
            case 10: ["SUNION"] + someKeys()
            case 11: ["SDIFF"] + someKeys()
            case 12: [["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"][Int.random(in: 0..<3, using: &generator)], key()] + someKeys()
            case 13:
                ["SINTERCARD", "2", key(), key(), "LIMIT", String(Int.random(in: 0...4, using: &generator))]
            case 14: ["SRANDMEMBER", key(), String(Int.random(in: -5...5, using: &generator))]
            case 15: ["SPOP", key(), String(Int.random(in: 0...4, using: &generator))]
            case 16: ["SPOP", key()]
            default: ["SCARD", key()]
            }
            script.append(command)
        }
        return script + keys.map { ["SMEMBERS", $0] }
    }
}
