// MARK: - DUMP and RESTORE
//
// The payload is an RDB value with its RDB version and CRC64 (``RDBDumpPayload``), written and read by the
// same Formats code as RDB files, in Redis 7.0's format (RDB 10): a real Redis 7.0 restores what we dump and
// we restore what it dumps. RESTORE's IDLETIME and FREQ are validated as Redis does and then ignored (access
// times are not tracked; see OBJECT).

import Formats
import NIOCore

extension CommandTable {
    static let dumpCommands: [CommandSpec] = [
        CommandSpec("dump", arity: 2, flags: [.readonly], keys: (1, 1, 1), group: "generic") {
            context throws(CommandError) in
            guard let value = context.keyspace.lookupRead(db: context.db, key: context[1]) else { return .null }
            return .bulk(try context.keyspace.dumpPayload(of: value))
        },
        CommandSpec("restore", arity: -4, flags: [.write, .denyOOM], keys: (1, 1, 1), group: "generic") {
            context throws(CommandError) in
            try restore(&context)
        },
    ]

    /// RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f] (Redis 7.0 `restoreCommand`), checks
    /// in Redis's order: options, existing key (BUSYKEY), TTL, payload footer, payload value.
    static func restore(_ context: inout CommandContext) throws(CommandError) -> Reply {
        var replace = false
        var absoluteTTL = false
        var idleTimeGiven = false
        var frequencyGiven = false
        var index = 4
        while index < context.count {
            let option = context[index]
            let hasValue = index + 1 < context.count
            if option.isKeyword("replace") {
                replace = true
            } else if option.isKeyword("absttl") {
                absoluteTTL = true
            } else if option.isKeyword("idletime") && hasValue && !frequencyGiven {
                guard try context.integer(index + 1) >= 0 else { throw CommandError("ERR Invalid IDLETIME value, must be >= 0") }
                idleTimeGiven = true
                index += 1
            } else if option.isKeyword("freq") && hasValue && !idleTimeGiven {
                let frequency = try context.integer(index + 1)
                guard frequency >= 0 && frequency <= 255 else {
                    throw CommandError("ERR Invalid FREQ value, must be >= 0 and <= 255")
                }
                frequencyGiven = true
                index += 1
            } else {
                throw .syntax
            }
            index += 1
        }
        let keyspace = context.keyspace
        let db = context.db
        let key = context[1]
        let existed = keyspace.exists(db: db, key: key)
        if existed && !replace { throw CommandError("BUSYKEY Target key name already exists.") }
        var ttl = try context.integer(2)
        guard ttl >= 0 else { throw CommandError("ERR Invalid TTL value, must be >= 0") }
        let value = try Keyspace.restoreValue(fromPayload: context[3])
        if ttl != 0 && !absoluteTTL { ttl = ttl &+ context.now }
        if ttl != 0 && keyspace.isAlreadyExpired(ttl) {
            if existed {
                keyspace.remove(db: db, key: key)
                context.propagateAs = [["DEL", key]]
            }
            return .ok
        }
        keyspace.store(db: db, key: key, value: value, expireAt: ttl != 0 ? ttl : nil)
        if ttl != 0 && !absoluteTTL {
            // Propagated with the absolute time, so that a replay restores the same deadline.
            var argv = context.argv
            argv[2] = Bytes(integer: ttl)
            argv.append("ABSTTL")
            context.propagateAs = [argv]
        }
        return .ok
    }
}

extension Keyspace {
    /// DUMP's payload for `value`: RDB 10 (Redis 7.0) with this keyspace's encoding thresholds.
    /// - Throws: an `ERR` reply when the writer refuses the value (it cannot for values the commands build).
    /// - Complexity: O(size of the value)
    public func dumpPayload(of value: Value) throws(CommandError) -> Bytes {
        var options = RDBWriteOptions()
        options.version = 10
        options.hashMaxListpackEntries = encodingLimits.hashMaxListpackEntries
        options.hashMaxListpackValue = encodingLimits.hashMaxListpackValue
        options.zsetMaxListpackEntries = encodingLimits.zsetMaxListpackEntries
        options.zsetMaxListpackValue = encodingLimits.zsetMaxListpackValue
        options.setMaxIntsetEntries = encodingLimits.setMaxIntsetEntries
        do {
            return Bytes(try RDBDumpPayload.write(value.rdbValue, options: options))
        } catch {
            throw CommandError("ERR DUMP failed: \(error.detail)")
        }
    }

    /// The value of a RESTORE payload: RDB version at most 10 (Redis 7.0's) and a matching CRC64, then a value
    /// this server can hold (no modules, no hash field expiries) that is not an empty collection.
    /// - Throws: `ERR DUMP payload version or checksum are wrong`, `ERR Bad data format`.
    /// - Complexity: O(payload bytes)
    public static func restoreValue(fromPayload payload: Bytes) throws(CommandError) -> Value {
        let dump: RDBDumpPayload
        do {
            dump = try RDBDumpPayload(validating: payload.byteBuffer, newestVersion: 10)
        } catch {
            throw CommandError("ERR DUMP payload version or checksum are wrong")
        }
        let badFormat = CommandError("ERR Bad data format")
        var options = RDBReadOptions()
        options.groupsBlobElements = true
        var reader = dump.makeReader(options: options)
        var builder: ValueBuilder? = nil
        do {
            while let event = try reader.next() {
                switch RDBLoadItem(event) {
                case .other(.header): continue
                case .beginKey(let keyHeader):
                    builder = try ValueBuilder(keyHeader)
                case .element(let element):
                    guard builder != nil else { throw badFormat }
                    try builder!.add(element)
                case .block(let block):
                    guard builder != nil else { throw badFormat }
                    try builder!.add(block)
                case .endKey:
                    guard let value = builder.take()?.finish(), !value.isEmptyCollection else { throw badFormat }
                    return value
                default:
                    throw badFormat
                }
            }
        } catch {
            throw badFormat
        }
        throw badFormat
    }
}
