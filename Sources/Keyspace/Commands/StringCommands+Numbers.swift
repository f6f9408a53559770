// MARK: - INCR DECR INCRBY DECRBY INCRBYFLOAT
//
// Counters are strings holding a strict decimal integer (Redis `string2ll`); the result keeps the key's TTL
// (Redis `dbOverwrite`). INCRBYFLOAT computes in long double and stores Redis's human-friendly text, and is
// propagated as `SET key result KEEPTTL` so that a replay cannot round differently.

extension CommandTable {
    static let numericStringCommands: [CommandSpec] = [
        CommandSpec("incr", arity: 2, flags: [.write, .denyOOM, .fast], keys: (1, 1, 1), group: "string") {
            context throws(CommandError) in
            try increment(&context, by: 1)
        },
        CommandSpec("decr", arity: 2, flags: [.write, .denyOOM, .fast], keys: (1, 1, 1), group: "string") {
            context throws(CommandError) in
            try increment(&context, by: -1)
        },
        CommandSpec("incrby", arity: 3, flags: [.write, .denyOOM, .fast], keys: (1, 1, 1), group: "string") {
            context throws(CommandError) in
            try increment(&context, by: try context.integer(2))
        },
        CommandSpec("decrby", arity: 3, flags: [.write, .denyOOM, .fast], keys: (1, 1, 1), group: "string") {
            context throws(CommandError) in
            let decrement = try context.integer(2)
            // Negating Int64.min would overflow.
            guard decrement != Int64.min else { throw CommandError("ERR decrement would overflow") }
            return try increment(&context, by: -decrement)
        },
        CommandSpec("incrbyfloat", arity: 3, flags: [.write, .denyOOM, .fast], keys: (1, 1, 1), group: "string") {
            context throws(CommandError) in
            try incrementFloat(&context)
        },
    ]

    /// INCR, DECR, INCRBY, DECRBY (Redis `incrDecrCommand`): in place when the key exists.
    static func increment(_ context: inout CommandContext, by amount: Int64) throws(CommandError) -> Reply {
        let keyspace = context.keyspace
        let db = context.db
        let key = context[1]
        let result = try keyspace.update(Bytes.self, db: db, key: key) { value throws(CommandError) -> Int64 in
            guard let current = value.integerValue else { throw .notInteger }
            let (sum, overflow) = current.addingReportingOverflow(amount)
            if overflow { throw .overflow }
            value = Bytes(integer: sum)
            return sum
        }
        if let result {
            keyspace.modified(db: db, key: key)
            return .integer(result)
        }
        keyspace.set(db: db, key: key, value: .string(Bytes(integer: amount)))
        return .integer(amount)
    }

    /// INCRBYFLOAT (Redis `incrbyfloatCommand`): the stored value is checked before the increment.
    static func incrementFloat(_ context: inout CommandContext) throws(CommandError) -> Reply {
        let keyspace = context.keyspace
        let db = context.db
        let key = context[1]
        var current: Float80 = 0
        switch keyspace.value(db: db, key: key) {
        case nil: break
        case .string(let bytes)?:
            guard let value = bytes.longDoubleValue else { throw .notFloat }
            current = value
        case _?: throw .wrongType
        }
        guard let amount = context[2].longDoubleValue else { throw .notFloat }
        let sum = current + amount
        guard sum.isFinite else { throw CommandError("ERR increment would produce NaN or Infinity") }
        let text = Bytes(humanFriendly: sum)
        keyspace.set(db: db, key: key, value: .string(text), keepTTL: true)
        context.propagateAs = [["SET", key, text, "KEEPTTL"]]
        return .bulk(text)
    }
}
