// Turns our JSON records (README "redis-convert") back into RDBEntry values, and meta objects into RDBFileInfo.
// The schema is the one JSONRecordWriter writes; hand-written records may leave out what has a default
// (expire_at_ms, idle, freq, stream metadata, consumers' pending lists).

import Formats
import NIOCore

package enum JSONRecordReader {
    /// The version of our schema: written as "version" by redis-convert, the only one read back.
    package static let schemaVersion = 1

    // MARK: - Records

    /// Converts one key record; `offset` is where the record starts in the input (for errors).
    ///
    /// - Throws: `.corrupt` naming the member that is missing or invalid.
    static func entry(_ record: JSONValue, at offset: Int64) throws(FormatError) -> RDBEntry {
        var context = Context(offset: offset, key: nil)
        guard case .object = record else { throw context.error("a key record must be a JSON object") }
        let database = try context.integer(record["db"], "db", as: Int.self)
        guard database >= 0 else { throw context.error("\"db\" must not be negative") }
        let key = try context.bytes(record["key"], "key")
        context.key = key
        guard case .string(let typeName)? = record["type"],
            let kind = RDBValueKind(rawValue: String(decoding: typeName, as: UTF8.self))
        else {
            throw context.error(
                "\"type\" must be one of \(RDBValueKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let expire = try context.optionalInteger(record["expire_at_ms"], "expire_at_ms", as: Int64.self)
        let idle = try context.optionalInteger(record["idle"], "idle", as: UInt64.self)
        let frequency = try context.optionalInteger(record["freq"], "freq", as: UInt8.self)
        guard let valueJSON = record["value"] else { throw context.error("\"value\" is missing") }
        let value = try context.value(valueJSON, kind: kind)
        let header = RDBKeyHeader(
            database: database, key: key, type: naturalType(of: value), expireAtMilliseconds: expire,
            lruIdleSeconds: idle,
            lfuFrequency: frequency, offset: offset)
        return RDBEntry(header: header, value: value)
    }

    /// A type byte that holds the value (the RDB writer chooses its own; this keeps `header.type.kind` right and
    /// says which stream and hash generations the value needs).
    static func naturalType(of value: RDBValue) -> RDBType {
        switch value {
        case .string: return .string
        case .list: return .listQuicklist2
        case .set: return .setHashtable
        case .zset: return .zsetV2
        case .hash(let fields):
            return fields.contains { $0.expireAtMilliseconds != nil } ? .hashMetadata : .hashHashtable
        case .stream(let stream):
            if stream.groups.contains(where: { $0.consumers.contains { $0.activeTimeMilliseconds != nil } }) {
                return .stream3
            }
            return stream.metadata?.entriesAdded != nil ? .stream2 : .stream
        case .module: return .module
        }
    }

    // MARK: - Metadata

    /// Adds what a meta object holds (`rdb_version`, `aux`, `functions`, `module_aux`) to `info`.
    ///
    /// - Throws: `.corrupt` for a member of the wrong shape.
    static func readMetadata(_ meta: JSONValue, into info: inout RDBFileInfo, at offset: Int64) throws(FormatError) {
        let context = Context(offset: offset, key: nil)
        guard case .object(let members) = meta else { throw context.error("metadata must be a JSON object") }
        for member in members {
            let name = member.name
            let value = member.value
            switch name {
            case "version":
                let version = try context.optionalInteger(value, name, as: Int.self)
                guard version == nil || version == schemaVersion else {
                    throw FormatError(
                        .unsupportedVersion, offset: offset, phase: .other("read-json"),
                        "JSON schema version \(version!) (this redis-convert reads \(schemaVersion))")
                }
            case "rdb_version":
                if let version = try context.optionalInteger(value, name, as: Int.self) {
                    info.header = RDBHeader(dialect: version >= 80 ? .valkey : .redis, version: version)
                }
            case "aux":
                guard case .object(let fields) = value else { throw context.error("\"aux\" must be an object") }
                for field in fields {
                    let auxName = field.name
                    let auxValue = field.value
                    // A name that occurred more than once is written once with an array of its values.
                    let values: [JSONValue]
                    if case .array(let items) = auxValue { values = items } else { values = [auxValue] }
                    for item in values {
                        info.aux.append(
                            (.bytes(ByteBuffer(string: auxName)), .bytes(try context.bytes(item, "aux \(auxName)"))))
                    }
                }
            case "functions":
                for item in try context.array(value, name) {
                    info.functions.append(.bytes(try context.bytes(item, "function")))
                }
            case "module_aux":
                for item in try context.array(value, name) {
                    info.moduleAux.append(try context.module(item))
                }
            default:
                break  // members added later
            }
        }
    }
}

// MARK: - Member decoding

/// Where a record came from, for error messages, and the typed accessors.
private struct Context {
    var offset: Int64
    var key: ByteBuffer?

    func error(_ detail: String) -> FormatError {
        FormatError(.corrupt, offset: offset, phase: .other("read-json"), key: key, "invalid record: \(detail)")
    }

    func bytes(_ value: JSONValue?, _ name: String) throws(FormatError) -> ByteBuffer {
        guard let value, let bytes = JSONByteString.decode(value) else {
            throw error("\"\(name)\" must be a string or {\"b64\": …}")
        }
        return bytes
    }

    func string(_ value: JSONValue?, _ name: String) throws(FormatError) -> RDBString {
        .bytes(try bytes(value, name))
    }

    /// Adds `member` to `seen`; a second occurrence is an error (Redis refuses such a value when it loads the
    /// RDB file the record would become).
    func unique(_ member: ByteBuffer, _ seen: inout Set<ByteBuffer>, _ what: String) throws(FormatError) {
        guard seen.insert(member).inserted else {
            throw error("duplicate \(what) \"\(FormatError.escape(member))\"")
        }
    }

    func array(_ value: JSONValue?, _ name: String) throws(FormatError) -> [JSONValue] {
        guard case .array(let items)? = value else { throw error("\"\(name)\" must be an array") }
        return items
    }

    func integer<T: FixedWidthInteger>(_ value: JSONValue?, _ name: String, as: T.Type) throws(FormatError) -> T {
        guard let result = try optionalInteger(value, name, as: T.self) else { throw error("\"\(name)\" is missing") }
        return result
    }

    /// An integer given as a JSON number or a decimal string; nil when absent or null.
    func optionalInteger<T: FixedWidthInteger>(_ value: JSONValue?, _ name: String, as: T.Type) throws(FormatError)
        -> T?
    {
        switch value {
        case nil, .null?: return nil
        case .number(let text)?:
            if let result = T(text) { return result }
        case .string(let bytes)?:
            if let result = T(String(decoding: bytes, as: UTF8.self)) { return result }
        default: break
        }
        throw error("\"\(name)\" must be an integer in the range of \(T.self)")
    }

    func streamID(_ value: JSONValue?, _ name: String) throws(FormatError) -> RDBStreamID {
        guard let id = try optionalStreamID(value, name) else { throw error("\"\(name)\" is missing") }
        return id
    }

    func optionalStreamID(_ value: JSONValue?, _ name: String) throws(FormatError) -> RDBStreamID? {
        switch value {
        case nil, .null?: return nil
        case .string(let bytes)?:
            let parts = bytes.split(separator: UInt8(ascii: "-"), omittingEmptySubsequences: false)
            if parts.count == 2, let milliseconds = UInt64(String(decoding: parts[0], as: UTF8.self)),
                let sequence = UInt64(String(decoding: parts[1], as: UTF8.self))
            {
                return RDBStreamID(milliseconds: milliseconds, sequence: sequence)
            }
        default: break
        }
        throw error("\"\(name)\" must be a stream ID \"ms-seq\"")
    }

    func score(_ value: JSONValue) throws(FormatError) -> Double {
        let text: String
        switch value {
        case .number(let number): text = number
        case .string(let bytes): text = String(decoding: bytes, as: UTF8.self)
        default: throw error("a score must be a number, \"inf\" or \"-inf\"")
        }
        switch text {
        case "inf", "+inf", "Infinity": return .infinity
        case "-inf", "-Infinity": return -.infinity
        default:
            guard let score = Double(text), !score.isNaN else { throw error("invalid score \(text)") }
            return score
        }
    }

    // MARK: Values

    func value(_ json: JSONValue, kind: RDBValueKind) throws(FormatError) -> RDBValue {
        switch kind {
        case .string:
            return .string(try string(json, "value"))
        case .list:
            var items: [RDBString] = []
            for item in try array(json, "value") { items.append(try string(item, "list item")) }
            return .list(items)
        case .set:
            var members: [RDBString] = []
            var seen = Set<ByteBuffer>()
            for item in try array(json, "value") {
                let member = try bytes(item, "set member")
                try unique(member, &seen, "set member")
                members.append(.bytes(member))
            }
            return .set(members)
        case .zset:
            var members: [RDBScoredMember] = []
            var seen = Set<ByteBuffer>()
            for item in try array(json, "value") {
                guard case .array(let pair) = item, pair.count == 2 else {
                    throw error("a zset member must be [member, score]")
                }
                let member = try bytes(pair[0], "zset member")
                try unique(member, &seen, "zset member")
                members.append(RDBScoredMember(member: .bytes(member), score: try score(pair[1])))
            }
            return .zset(members)
        case .hash:
            var fields: [RDBHashField] = []
            var seen = Set<ByteBuffer>()
            for item in try array(json, "value") {
                guard case .array(let parts) = item, parts.count == 2 || parts.count == 3 else {
                    throw error("a hash field must be [field, value] or [field, value, expire_at_ms]")
                }
                let expire =
                    parts.count == 3 ? try optionalInteger(parts[2], "field expire_at_ms", as: Int64.self) : nil
                if let expire, expire < 0 || expire > RDBReader<ByteBufferSource>.maxFieldExpire {
                    // Redis keeps field expiries in 48 bits (EB_EXPIRE_TIME_MAX) and refuses others when loading.
                    throw error("field expire_at_ms \(expire) is outside 0...2^48-1")
                }
                let field = try bytes(parts[0], "hash field")
                try unique(field, &seen, "hash field")
                fields.append(
                    RDBHashField(
                        field: .bytes(field), value: try string(parts[1], "hash value"), expireAtMilliseconds: expire))
            }
            return .hash(fields)
        case .stream:
            return .stream(try stream(json))
        case .module:
            return .module(try module(json))
        }
    }

    func stream(_ json: JSONValue) throws(FormatError) -> RDBStream {
        guard case .object = json else { throw error("a stream value must be an object") }
        var stream = RDBStream()
        for item in try array(json["entries"] ?? .array([]), "entries") {
            var fields: [(field: RDBString, value: RDBString)] = []
            for pair in try array(item["fields"], "fields") {
                guard case .array(let parts) = pair, parts.count == 2 else {
                    throw error("a stream field must be [field, value]")
                }
                fields.append((try string(parts[0], "stream field"), try string(parts[1], "stream value")))
            }
            let id = try streamID(item["id"], "id")
            if let previous = stream.entries.last?.id, id <= previous {
                throw error("stream entry IDs must ascend (\(id) after \(previous))")
            }
            guard !fields.isEmpty else { throw error("stream entry \(id) has no fields") }
            stream.entries.append(RDBStreamEntry(id: id, fields: fields))
        }
        let lastEntry = stream.entries.last?.id ?? RDBStreamID(milliseconds: 0, sequence: 0)
        stream.metadata = RDBStreamMetadata(
            length: try optionalInteger(json["length"], "length", as: UInt64.self) ?? UInt64(stream.entries.count),
            lastID: try optionalStreamID(json["last_id"], "last_id") ?? lastEntry,
            firstID: try optionalStreamID(json["first_id"], "first_id"),
            maxDeletedEntryID: try optionalStreamID(json["max_deleted_id"], "max_deleted_id"),
            entriesAdded: try optionalInteger(json["entries_added"], "entries_added", as: UInt64.self))
        var names = Set<ByteBuffer>()
        for item in try array(json["groups"] ?? .array([]), "groups") {
            let group = try group(item)
            try unique(group.name, &names, "consumer group")
            stream.groups.append(group)
        }
        return stream
    }

    private func group(_ json: JSONValue) throws(FormatError) -> RDBStreamGroup {
        // entries_read -1 is Redis's "invalid" counter (SCG_INVALID_ENTRIES_READ), kept as its 64-bit pattern.
        let entriesRead = try optionalInteger(json["entries_read"], "entries_read", as: Int64.self).map {
            UInt64(bitPattern: $0)
        }
        var group = RDBStreamGroup(
            name: try bytes(json["name"], "group name"), lastID: try streamID(json["last_id"], "group last_id"),
            entriesRead: entriesRead)
        var owners: [(id: RDBStreamID, consumer: ByteBuffer)] = []
        var pendingIDs = Set<RDBStreamID>()
        for item in try array(json["pending"] ?? .array([]), "pending") {
            let id = try streamID(item["id"], "pending id")
            guard pendingIDs.insert(id).inserted else { throw error("pending entry \(id) listed twice") }
            group.pending.append(
                RDBPendingEntry(
                    id: id,
                    deliveryTimeMilliseconds: try integer(item["delivery_time_ms"], "delivery_time_ms", as: Int64.self),
                    deliveryCount: try integer(item["delivery_count"], "delivery_count", as: UInt64.self)))
            if let consumer = item["consumer"], !consumer.isNull {
                owners.append((id, try bytes(consumer, "pending consumer")))
            }
        }
        // What Redis checks when it loads a group: each consumer's pending entries are in the group's list, no
        // entry has two owners, and every entry has one.
        var names = Set<ByteBuffer>()
        var owned = Set<RDBStreamID>()
        for item in try array(json["consumers"] ?? .array([]), "consumers") {
            let name = try bytes(item["name"], "consumer name")
            try unique(name, &names, "consumer")
            var pending: [RDBStreamID] = []
            if let ids = item["pending"] {
                for id in try array(ids, "consumer pending") { pending.append(try streamID(id, "consumer pending id")) }
            } else {
                pending = owners.filter { $0.consumer == name }.map(\.id)
            }
            for id in pending {
                guard pendingIDs.contains(id) else { throw error("consumer pending entry \(id) is not in the group's pending list") }
                guard owned.insert(id).inserted else { throw error("pending entry \(id) owned by two consumers") }
            }
            group.consumers.append(
                RDBStreamConsumer(
                    name: name,
                    seenTimeMilliseconds: try optionalInteger(item["seen_time_ms"], "seen_time_ms", as: Int64.self)
                        ?? 0,
                    activeTimeMilliseconds: try optionalInteger(
                        item["active_time_ms"], "active_time_ms", as: Int64.self),
                    pending: pending))
        }
        guard owned.count == pendingIDs.count else {
            throw error("group \"\(FormatError.escape(group.name))\" has pending entries without a consumer")
        }
        return group
    }

    func module(_ json: JSONValue) throws(FormatError) -> RDBModuleValue {
        guard case .object = json else { throw error("a module value must be an object") }
        var module = RDBModuleValue(
            moduleID: try integer(json["module_id"], "module_id", as: UInt64.self),
            when: try optionalInteger(json["when"], "when", as: UInt64.self), data: [])
        for item in try array(json["data"] ?? .array([]), "data") {
            guard case .array(let pair) = item, pair.count == 2, case .string(let kindBytes) = pair[0] else {
                throw error("module data must be [kind, value] pairs")
            }
            let kind = String(decoding: kindBytes, as: UTF8.self)
            switch kind {
            case "sint":
                // The signed value; a value above Int64.max is taken as the raw 64-bit pattern.
                if let signed = try? optionalInteger(pair[1], "sint", as: Int64.self) {
                    module.data.append(.signedInteger(UInt64(bitPattern: signed)))
                } else {
                    module.data.append(.signedInteger(try integer(pair[1], "sint", as: UInt64.self)))
                }
            case "uint": module.data.append(.unsignedInteger(try integer(pair[1], "uint", as: UInt64.self)))
            case "float": module.data.append(.float(try hexBits(pair[1], "float", as: UInt32.self)))
            case "double": module.data.append(.double(try hexBits(pair[1], "double", as: UInt64.self)))
            case "string": module.data.append(.string(try string(pair[1], "module string")))
            default: throw error("unknown module datum kind \"\(kind)\" (sint, uint, float, double, string)")
            }
        }
        return module
    }

    /// IEEE-754 bits written as hexadecimal, so that NaN payloads and -0 survive.
    private func hexBits<T: FixedWidthInteger>(_ value: JSONValue, _ name: String, as: T.Type) throws(FormatError) -> T
    {
        guard case .string(let bytes) = value, let bits = T(String(decoding: bytes, as: UTF8.self), radix: 16) else {
            throw error("\"\(name)\" must be the IEEE-754 bits in hexadecimal")
        }
        return bits
    }
}
