// MARK: - EXPIRE PEXPIRE EXPIREAT PEXPIREAT TTL PTTL EXPIRETIME PEXPIRETIME PERSIST
//
// Expiries are absolute Unix milliseconds. A relative or absolute time already past deletes the key
// (propagated as DEL); any other expiry is propagated as PEXPIREAT with the absolute time, so a replay gives
// the key the same deadline whenever it runs (Redis `expireGenericCommand`).

extension CommandTable {
    static let expireCommands: [CommandSpec] = [
        expireSpec("expire", base: .relative, inSeconds: true),
        expireSpec("pexpire", base: .relative, inSeconds: false),
        expireSpec("expireat", base: .absolute, inSeconds: true),
        expireSpec("pexpireat", base: .absolute, inSeconds: false),
        ttlSpec("ttl", inMilliseconds: false, absolute: false),
        ttlSpec("pttl", inMilliseconds: true, absolute: false),
        ttlSpec("expiretime", inMilliseconds: false, absolute: true),
        ttlSpec("pexpiretime", inMilliseconds: true, absolute: true),
        CommandSpec("persist", arity: 2, flags: [.write, .fast], keys: (1, 1, 1), group: "generic") {
            context throws(CommandError) in
            guard context.keyspace.exists(db: context.db, key: context[1]) else { return .integer(0) }
            return .boolean(context.keyspace.removeExpire(db: context.db, key: context[1]))
        },
    ]

    enum ExpireBase { case relative, absolute }

    /// The conditions EXPIRE and its siblings take (Redis 7.0 `parseExtendedExpireArgumentsOrReply`).
    struct ExpireCondition {
        var nx = false
        var xx = false
        var gt = false
        var lt = false

        /// - Throws: `ERR Unsupported option <opt>`, or the incompatibility errors.
        init(_ argv: [Bytes], from start: Int) throws(CommandError) {
            for option in argv[start...] {
                if option.isKeyword("nx") {
                    nx = true
                } else if option.isKeyword("xx") {
                    xx = true
                } else if option.isKeyword("gt") {
                    gt = true
                } else if option.isKeyword("lt") {
                    lt = true
                } else {
                    throw CommandError("ERR Unsupported option \(option.string)")
                }
            }
            if nx && (xx || gt || lt) {
                throw CommandError("ERR NX and XX, GT or LT options at the same time are not compatible")
            }
            if gt && lt { throw CommandError("ERR GT and LT options at the same time are not compatible") }
        }

        /// Whether the new expiry may replace `current` (nil: the key has none, an infinite TTL).
        func allows(_ when: Int64, current: Int64?) -> Bool {
            if nx && current != nil { return false }
            if xx && current == nil { return false }
            if gt, current.map({ when <= $0 }) ?? true { return false }
            if lt, let current, when >= current { return false }
            return true
        }
    }

    private static func expireSpec(_ name: String, base: ExpireBase, inSeconds: Bool) -> CommandSpec {
        CommandSpec(name, arity: -3, flags: [.write, .fast], keys: (1, 1, 1), group: "generic") {
            context throws(CommandError) in
            let condition = try ExpireCondition(context.argv, from: 3)
            var when = try context.integer(2)
            if inSeconds {
                guard when <= Int64.max / 1000 && when >= Int64.min / 1000 else { throw .invalidExpireTime(name) }
                when *= 1000
            }
            let baseTime = base == .relative ? context.now : 0
            guard when <= Int64.max - baseTime else { throw .invalidExpireTime(name) }
            when += baseTime
            let keyspace = context.keyspace
            let db = context.db
            let key = context[1]
            guard keyspace.exists(db: db, key: key) else { return .integer(0) }
            guard condition.allows(when, current: keyspace.expireTime(db: db, key: key)) else { return .integer(0) }
            if keyspace.isAlreadyExpired(when) {
                keyspace.remove(db: db, key: key)
                context.propagateAs = [["DEL", key]]
            } else {
                keyspace.setExpire(db: db, key: key, atMilliseconds: when)
                if name != "pexpireat" { context.propagateAs = [["PEXPIREAT", key, Bytes(integer: when)]] }
            }
            return .integer(1)
        }
    }

    /// TTL and its siblings: -2 for a missing key, -1 without expiry, else the remaining (or absolute) time,
    /// seconds rounded to the nearest (Redis `ttlGenericCommand`).
    private static func ttlSpec(_ name: String, inMilliseconds: Bool, absolute: Bool) -> CommandSpec {
        CommandSpec(name, arity: 2, flags: [.readonly, .fast], keys: (1, 1, 1), group: "generic") {
            context throws(CommandError) in
            guard context.keyspace.lookupRead(db: context.db, key: context[1]) != nil else { return .integer(-2) }
            guard let expireAt = context.keyspace.expireTime(db: context.db, key: context[1]) else { return .integer(-1) }
            let time = max(0, absolute ? expireAt : expireAt - context.now)
            return .integer(inMilliseconds ? time : (time &+ 500) / 1000)  // wraps near Int64.max as Redis does
        }
    }
}
