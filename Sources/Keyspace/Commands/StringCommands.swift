// MARK: - String commands
//
// GET SET SETNX SETEX PSETEX MGET MSET MSETNX GETSET GETDEL GETEX APPEND STRLEN GETRANGE SUBSTR SETRANGE here;
// INCR DECR INCRBY DECRBY INCRBYFLOAT in StringCommands+Numbers.swift; SETBIT GETBIT BITCOUNT in
// StringCommands+Bits.swift. Semantics, replies, errors and AOF rewrites are Redis 7.0's (t_string.c).

extension CommandTable {
    static let stringCommands: [CommandSpec] = basicStringCommands + numericStringCommands + bitCommands

    static let basicStringCommands: [CommandSpec] = [
        CommandSpec("get", arity: 2, flags: [.readonly, .fast], keys: (1, 1, 1), group: "string") {
            context throws(CommandError) in
            .bulkOrNull(try context.read(Bytes.self, key: 1))
        },
        CommandSpec("set", arity: -3, flags: [.write, .denyOOM], keys: (1, 1, 1), group: "string") {
            context throws(CommandError) in
            if context.count == 3 {
                // The common case: no options, no lookup.
                context.keyspace.set(db: context.db, key: context[1], value: .string(context[2]))
                return .ok
            }
            let options = try StringSetOptions(context.argv, from: 3, forGETEX: false)
            return try setString(&context, key: context[1], value: context[2], options: options, ok: .ok, aborted: .null)
        },
        CommandSpec("setnx", arity: 3, flags: [.write, .denyOOM, .fast], keys: (1, 1, 1), group: "string") {
            context throws(CommandError) in
            var options = StringSetOptions()
            options.onlyIfMissing = true
            return try setString(&context, key: context[1], value: context[2], options: options, ok: .integer(1), aborted: .integer(0))
        },
        CommandSpec("setex", arity: 4, flags: [.write, .denyOOM], keys: (1, 1, 1), group: "string") {
            context throws(CommandError) in
            var options = StringSetOptions()
            options.expiry = .seconds(context[2])
            return try setString(&context, key: context[1], value: context[3], options: options, ok: .ok, aborted: .null)
        },
        CommandSpec("psetex", arity: 4, flags: [.write, .denyOOM], keys: (1, 1, 1), group: "string") {
            context throws(CommandError) in
            var options = StringSetOptions()
            options.expiry = .milliseconds(context[2])
            return try setString(&context, key: context[1], value: context[3], options: options, ok: .ok, aborted: .null)
        },
        CommandSpec("getset", arity: 3, flags: [.write, .denyOOM, .fast], keys: (1, 1, 1), group: "string") {
            context throws(CommandError) in
            let old = try context.read(Bytes.self, key: 1)
            context.keyspace.set(db: context.db, key: context[1], value: .string(context[2]))
            context.propagateAs = [["SET", context[1], context[2]]]
            return .bulkOrNull(old)
        },
        CommandSpec("getdel", arity: 2, flags: [.write, .fast], keys: (1, 1, 1), group: "string") {
            context throws(CommandError) in
            guard let old = try context.read(Bytes.self, key: 1) else { return .null }
            context.keyspace.remove(db: context.db, key: context[1])
            context.propagateAs = [["DEL", context[1]]]
            return .bulk(old)
        },
        CommandSpec("getex", arity: -2, flags: [.write, .fast], keys: (1, 1, 1), group: "string") {
            context throws(CommandError) in
            try getex(&context)
        },
        CommandSpec("mget", arity: -2, flags: [.readonly, .fast], keys: (1, -1, 1), group: "string") {
            context throws(CommandError) in
            var replies: [Reply] = []
            replies.reserveCapacity(context.count - 1)
            for key in context.argv.dropFirst() {
                // A key of another type is a null, not an error.
                if case .string(let bytes)? = context.keyspace.lookupRead(db: context.db, key: key) {
                    replies.append(.bulk(bytes))
                } else {
                    replies.append(.null)
                }
            }
            return .array(replies)
        },
        CommandSpec("mset", arity: -3, flags: [.write, .denyOOM], keys: (1, -1, 2), group: "string") {
            context throws(CommandError) in
            guard context.count % 2 == 1 else { throw .wrongArity("mset") }
            for index in stride(from: 1, to: context.count, by: 2) {
                context.keyspace.set(db: context.db, key: context[index], value: .string(context[index + 1]))
            }
            return .ok
        },
        CommandSpec("msetnx", arity: -3, flags: [.write, .denyOOM], keys: (1, -1, 2), group: "string") {
            context throws(CommandError) in
            guard context.count % 2 == 1 else { throw .wrongArity("msetnx") }
            for index in stride(from: 1, to: context.count, by: 2) where context.keyspace.exists(db: context.db, key: context[index]) {
                return .integer(0)
            }
            for index in stride(from: 1, to: context.count, by: 2) {
                context.keyspace.set(db: context.db, key: context[index], value: .string(context[index + 1]))
            }
            return .integer(1)
        },
        CommandSpec("append", arity: 3, flags: [.write, .denyOOM], keys: (1, 1, 1), group: "string") {
            context throws(CommandError) in
            let keyspace = context.keyspace
            let suffix = context[2]
            let length = try keyspace.update(Bytes.self, db: context.db, key: context[1]) { value throws(CommandError) in
                guard value.count + suffix.count <= maxStringBytes else { throw .stringTooLong }
                value.append(contentsOf: suffix)
                return value.count
            }
            if let length {
                keyspace.modified(db: context.db, key: context[1])
                return .count(length)
            }
            keyspace.set(db: context.db, key: context[1], value: .string(suffix))
            return .count(suffix.count)
        },
        CommandSpec("strlen", arity: 2, flags: [.readonly, .fast], keys: (1, 1, 1), group: "string") {
            context throws(CommandError) in
            .count(try context.read(Bytes.self, key: 1)?.count ?? 0)
        },
        CommandSpec("getrange", arity: 4, flags: [.readonly], keys: (1, 1, 1), group: "string") {
            context throws(CommandError) in
            try getrange(&context)
        },
        CommandSpec("substr", arity: 4, flags: [.readonly], keys: (1, 1, 1), group: "string") {
            context throws(CommandError) in
            try getrange(&context)
        },
        CommandSpec("setrange", arity: 4, flags: [.write, .denyOOM], keys: (1, 1, 1), group: "string") {
            context throws(CommandError) in
            try setrange(&context)
        },
    ]
}

// MARK: - SET and its options

/// The options of SET (`NX XX GET EX PX EXAT PXAT KEEPTTL`) and GETEX (`EX PX EXAT PXAT PERSIST`).
struct StringSetOptions {
    /// An expiry as given: the unit and whether it is relative, with the unparsed number.
    enum Expiry {
        case seconds(Bytes)
        case milliseconds(Bytes)
        case unixSeconds(Bytes)
        case unixMilliseconds(Bytes)

        var isAbsoluteMilliseconds: Bool {
            if case .unixMilliseconds = self { return true }
            return false
        }

        var isAbsolute: Bool {
            switch self {
            case .unixSeconds, .unixMilliseconds: true
            case .seconds, .milliseconds: false
            }
        }

        /// The absolute expiry in Unix milliseconds (Redis `getExpireMillisecondsOrReply`).
        /// - Throws: `ERR value is not an integer or out of range`; `ERR invalid expire time in '<command>'
        ///   command` for zero, negative or overflowing times.
        func absoluteMilliseconds(now: Int64, command: String) throws(CommandError) -> Int64 {
            let (text, inSeconds): (Bytes, Bool) =
                switch self {
                case .seconds(let text), .unixSeconds(let text): (text, true)
                case .milliseconds(let text), .unixMilliseconds(let text): (text, false)
                }
            guard var value = text.integerValue else { throw .notInteger }
            if value <= 0 || (inSeconds && value > Int64.max / 1000) { throw .invalidExpireTime(command) }
            if inSeconds { value *= 1000 }
            // Redis adds without an overflow check and rejects a result that is not positive.
            if !isAbsolute { value = value &+ now }
            if value <= 0 { throw .invalidExpireTime(command) }
            return value
        }
    }

    var onlyIfMissing = false  // NX
    var onlyIfExists = false  // XX
    var returnOld = false  // GET
    var keepTTL = false  // KEEPTTL
    var persist = false  // PERSIST (GETEX)
    var expiry: Expiry?

    init() {}

    /// Parses `argv[start...]` as Redis's `parseExtendedStringArgumentsOrReply` does: each option excludes the
    /// ones it conflicts with (but may repeat), and a time option needs a following argument.
    /// - Throws: `ERR syntax error`.
    init(_ argv: [Bytes], from start: Int, forGETEX: Bool) throws(CommandError) {
        var index = start
        while index < argv.count {
            let option = argv[index]
            let hasNext = index + 1 < argv.count
            let timeSet = expiry != nil
            if !forGETEX && option.isKeyword("nx") && !onlyIfExists {
                onlyIfMissing = true
            } else if !forGETEX && option.isKeyword("xx") && !onlyIfMissing {
                onlyIfExists = true
            } else if !forGETEX && option.isKeyword("get") {
                returnOld = true
            } else if !forGETEX && option.isKeyword("keepttl") && !timeSet {
                keepTTL = true
            } else if forGETEX && option.isKeyword("persist") && !timeSet {
                persist = true
            } else if hasNext, !keepTTL, !persist, let expiry = StringSetOptions.expiry(option, argv[index + 1], current: expiry) {
                self.expiry = expiry
                index += 1
            } else {
                throw .syntax
            }
            index += 1
        }
    }

    /// EX/PX/EXAT/PXAT with its argument, when `option` is one and no different one was given before.
    private static func expiry(_ option: Bytes, _ argument: Bytes, current: Expiry?) -> Expiry? {
        let parsed: Expiry
        if option.isKeyword("ex") {
            parsed = .seconds(argument)
        } else if option.isKeyword("px") {
            parsed = .milliseconds(argument)
        } else if option.isKeyword("exat") {
            parsed = .unixSeconds(argument)
        } else if option.isKeyword("pxat") {
            parsed = .unixMilliseconds(argument)
        } else {
            return nil
        }
        guard let current else { return parsed }
        // The same option may repeat (the last wins); another time option conflicts.
        switch (current, parsed) {
        case (.seconds, .seconds), (.milliseconds, .milliseconds), (.unixSeconds, .unixSeconds),
            (.unixMilliseconds, .unixMilliseconds):
            return parsed
        default:
            return nil
        }
    }
}

extension CommandTable {
    /// SET with options, SETNX, SETEX, PSETEX (Redis `setGenericCommand`): the expiry is validated first, then
    /// GET's old value (WRONGTYPE for another type), then NX/XX. Propagated as `SET key value PXAT ms` when an
    /// expiry other than PXAT was given.
    static func setString(
        _ context: inout CommandContext, key: Bytes, value: Bytes, options: StringSetOptions, ok: Reply, aborted: Reply
    ) throws(CommandError) -> Reply {
        let keyspace = context.keyspace
        let db = context.db
        let expireAt = try options.expiry?.absoluteMilliseconds(now: context.now, command: context.name)
        var old: Bytes? = nil
        let found: Bool
        if options.returnOld {
            // GET looks the key up as a read (hits, misses, WRONGTYPE); nil means it does not exist.
            old = try keyspace.read(Bytes.self, db: db, key: key)
            found = old != nil
        } else {
            found = keyspace.exists(db: db, key: key)
        }
        if (options.onlyIfMissing && found) || (options.onlyIfExists && !found) {
            return options.returnOld ? .bulkOrNull(old) : aborted
        }
        if let expireAt {
            keyspace.store(db: db, key: key, value: .string(value), expireAt: expireAt)
            if !options.expiry!.isAbsoluteMilliseconds {
                context.propagateAs = [["SET", key, value, "PXAT", Bytes(integer: expireAt)]]
            }
        } else {
            keyspace.set(db: db, key: key, value: .string(value), keepTTL: options.keepTTL)
        }
        return options.returnOld ? .bulkOrNull(old) : ok
    }

    /// GETEX (Redis `getexCommand`): options first, then the lookup, then the expiry's validation. An absolute
    /// time already past deletes the key (propagated as DEL); otherwise the change propagates as PEXPIREAT or
    /// PERSIST.
    static func getex(_ context: inout CommandContext) throws(CommandError) -> Reply {
        let options = try StringSetOptions(context.argv, from: 2, forGETEX: true)
        let keyspace = context.keyspace
        let db = context.db
        let key = context[1]
        guard let value = try keyspace.read(Bytes.self, db: db, key: key) else { return .null }
        if let expiry = options.expiry {
            let expireAt = try expiry.absoluteMilliseconds(now: context.now, command: "getex")
            if expiry.isAbsolute && keyspace.isAlreadyExpired(expireAt) {
                keyspace.remove(db: db, key: key)
                context.propagateAs = [["DEL", key]]
            } else {
                keyspace.setExpire(db: db, key: key, atMilliseconds: expireAt)
                context.propagateAs = [["PEXPIREAT", key, Bytes(integer: expireAt)]]
            }
        } else if options.persist, keyspace.removeExpire(db: db, key: key) {
            context.propagateAs = [["PERSIST", key]]
        }
        return .bulk(value)
    }

    // MARK: - Ranges

    /// GETRANGE / SUBSTR: inclusive byte range, negative indexes from the end, clamped; "" when empty.
    static func getrange(_ context: inout CommandContext) throws(CommandError) -> Reply {
        var start = try context.integer(2)
        var end = try context.integer(3)
        guard let value = try context.read(Bytes.self, key: 1) else {
            return .bulk(Bytes())
        }
        let length = Int64(value.count)
        if start < 0 && end < 0 && start > end { return .bulk(Bytes()) }
        if start < 0 { start += length }
        if end < 0 { end += length }
        start = max(start, 0)
        end = max(end, 0)
        if end >= length { end = length - 1 }
        guard start <= end, length > 0 else { return .bulk(Bytes()) }
        return .bulk(Bytes(value.array[Int(start)...Int(end)]))
    }

    /// SETRANGE: overwrites from `offset`, padding with zero bytes; the new length.
    static func setrange(_ context: inout CommandContext) throws(CommandError) -> Reply {
        let offset = try context.integer(2)
        guard offset >= 0 else { throw CommandError("ERR offset is out of range") }
        let keyspace = context.keyspace
        let db = context.db
        let key = context[1]
        let patch = context[3]
        guard let existing = keyspace.value(db: db, key: key) else {
            if patch.isEmpty { return .integer(0) }
            guard offset + Int64(patch.count) <= Int64(maxStringBytes) else { throw .stringTooLong }
            var storage = [UInt8](repeating: 0, count: Int(offset))
            storage.append(contentsOf: patch)
            keyspace.set(db: db, key: key, value: .string(Bytes(storage)))
            return .count(storage.count)
        }
        guard case .string(let current) = existing else { throw .wrongType }
        if patch.isEmpty { return .count(current.count) }
        guard offset + Int64(patch.count) <= Int64(maxStringBytes) else { throw .stringTooLong }
        let start = Int(offset)
        let length = try keyspace.update(Bytes.self, db: db, key: key) { value throws(CommandError) in
            value.withMutableStorage { storage in
                if storage.count < start + patch.count {
                    storage.append(contentsOf: repeatElement(0, count: start + patch.count - storage.count))
                }
                storage.replaceSubrange(start..<(start + patch.count), with: patch)
            }
            return value.count
        }
        keyspace.modified(db: db, key: key)
        return .count(length ?? 0)
    }
}
