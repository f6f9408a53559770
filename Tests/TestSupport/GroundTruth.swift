import Foundation
import Formats
import NIOCore

/// Compares what the reader decodes with the ground truth the fixture script dumped through a Redis client
/// (Fixtures/MANIFEST.md describes the schema).
public enum GroundTruth {
    public struct Mismatch: Error, CustomStringConvertible {
        public var description: String
    }

    public static func hex(_ string: RDBString) -> String { hex(string.bytes) }

    public static func hex(_ bytes: ByteBuffer) -> String {
        var out = ""
        out.reserveCapacity(bytes.readableBytes * 2)
        for byte in bytes.readableBytesView {
            let digits = Array("0123456789abcdef")
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return out
    }

    static func score(_ text: String) -> Double? {
        switch text {
        case "inf", "+inf": .infinity
        case "-inf": -.infinity
        default: Double(text)
        }
    }

    /// Checks the decoded file against the JSON document; returns the number of keys compared.
    public static func check(rdb: [UInt8], json: Data, name: String) throws -> Int {
        guard let document = try JSONSerialization.jsonObject(with: json) as? [String: Any] else {
            throw Mismatch(description: "\(name): ground truth is not a JSON object")
        }
        let (info, entries) = try readAll(rdb)
        func fail(_ text: String) -> Mismatch { Mismatch(description: "\(name): \(text)") }

        if let version = document["rdb_version"] as? Int, info.header?.version != version {
            throw fail("version \(String(describing: info.header)) != \(version)")
        }
        let functions = (document["functions"] as? [String]) ?? []
        let ourFunctions = info.functions.map(\.text).sorted()
        if ourFunctions != functions.sorted() {
            throw fail("functions \(ourFunctions) != \(functions)")
        }
        if let moduleAux = document["module_aux"] as? [[String: Any]] {
            guard moduleAux.count == info.moduleAux.count else { throw fail("\(info.moduleAux.count) module aux records") }
            for (ours, theirs) in zip(info.moduleAux, moduleAux) {
                try compareModule(ours, theirs, id: "module aux", fail: fail)
            }
        }
        guard let expected = document["keys"] as? [[String: Any]] else { throw fail("no keys in the ground truth") }
        var byKey: [String: RDBEntry] = [:]
        for entry in entries {
            let id = "\(entry.header.database)/\(hex(entry.header.key))"
            if byKey[id] != nil { throw fail("duplicate key \(id)") }
            byKey[id] = entry
        }
        if byKey.count != expected.count {
            throw fail("\(byKey.count) keys decoded, ground truth has \(expected.count)")
        }
        for item in expected {
            let db = item["db"] as! Int
            let key = item["key"] as! String
            let id = "\(db)/\(key)"
            guard let entry = byKey[id] else { throw fail("missing key \(id)") }
            let type = item["type"] as! String
            if entry.header.type.kind.rawValue != type {
                throw fail("\(id): type \(entry.header.type.kind) != \(type)")
            }
            let expire = item["expire_at_ms"] as? Int64
            if entry.header.expireAtMilliseconds != expire {
                throw fail("\(id): expire \(String(describing: entry.header.expireAtMilliseconds)) != \(String(describing: expire))")
            }
            if let frequency = item["lfu_freq"] as? Int, entry.header.lfuFrequency.map(Int.init) != frequency {
                throw fail("\(id): LFU frequency \(String(describing: entry.header.lfuFrequency)) != \(frequency)")
            }
            if item["lru_idle"] is Int, entry.header.lruIdleSeconds == nil {
                throw fail("\(id): no LRU idle time decoded")
            }
            try compareValue(entry.value, item["value"]!, id: id, fail: fail)
        }
        return expected.count
    }

    static func compareValue(_ value: RDBValue, _ expected: Any, id: String, fail: (String) -> Mismatch) throws {
        switch value {
        case .string(let string):
            guard hex(string) == expected as? String else { throw fail("\(id): string value differs") }
        case .list(let items):
            guard items.map(hex) == expected as? [String] else { throw fail("\(id): list differs") }
        case .set(let members):
            guard members.map(hex).sorted() == expected as? [String] else { throw fail("\(id): set differs") }
        case .zset(let members):
            let want = expected as! [[String]]
            let ours = members.sorted {
                $0.score != $1.score ? $0.score < $1.score : hex($0.member) < hex($1.member)
            }
            guard ours.count == want.count else { throw fail("\(id): zset has \(ours.count) members, want \(want.count)") }
            for (member, pair) in zip(ours, want) {
                guard hex(member.member) == pair[0], let score = score(pair[1]), score == member.score else {
                    throw fail("\(id): zset member \(hex(member.member)) \(member.score) != \(pair)")
                }
            }
        case .hash(let fields):
            // Pairs [field, value], or triples [field, value, expire-or-null] for hashes with field expiries.
            let want = expected as! [[Any]]
            let ours = fields.sorted { hex($0.field) < hex($1.field) }
            guard ours.count == want.count else { throw fail("\(id): hash has \(ours.count) fields, want \(want.count)") }
            for (field, item) in zip(ours, want) {
                guard hex(field.field) == item[0] as? String, hex(field.value) == item[1] as? String else {
                    throw fail("\(id): hash field \(hex(field.field)) differs")
                }
                let expire = item.count > 2 ? (item[2] as? NSNumber).map { $0.int64Value } : nil
                guard field.expireAtMilliseconds == expire else {
                    throw fail("\(id): field \(hex(field.field)) expire \(String(describing: field.expireAtMilliseconds)) != \(String(describing: expire))")
                }
            }
        case .stream(let stream):
            try compareStream(stream, expected as! [String: Any], id: id, fail: fail)
        case .module(let module):
            try compareModule(module, expected as! [String: Any], id: id, fail: fail)
        }
    }

    static func compareModule(_ module: RDBModuleValue, _ want: [String: Any], id: String, fail: (String) -> Mismatch) throws {
        guard module.moduleName == want["module_name"] as? String, module.encodingVersion == want["encoding_version"] as? Int else {
            throw fail("\(id): module \(module.moduleName)/\(module.encodingVersion) differs")
        }
        if let when = want["when"] as? Int, module.when != UInt64(when) { throw fail("\(id): module aux when differs") }
        let data: [[String]] = module.data.map { datum in
            switch datum {
            case .signedInteger(let value): ["sint", String(value)]
            case .unsignedInteger(let value): ["uint", String(value)]
            case .float(let bits): ["float", String(bits, radix: 16)]
            case .double(let bits): ["double", String(bits, radix: 16)]
            case .string(let string): ["string", hex(string)]
            }
        }
        guard data == want["data"] as? [[String]] else { throw fail("\(id): module data \(data) differs") }
    }

    static func compareStream(_ stream: RDBStream, _ want: [String: Any], id: String, fail: (String) -> Mismatch) throws {
        guard let metadata = stream.metadata else { throw fail("\(id): stream without metadata") }
        guard Int(metadata.length) == want["length"] as? Int else { throw fail("\(id): stream length \(metadata.length)") }
        guard metadata.lastID.description == want["last_id"] as? String else { throw fail("\(id): last id \(metadata.lastID)") }
        if let first = want["first_id"] as? String, metadata.firstID?.description != first {
            throw fail("\(id): first id \(String(describing: metadata.firstID)) != \(first)")
        }
        if let maxDeleted = want["max_deleted_id"] as? String, metadata.maxDeletedEntryID?.description != maxDeleted {
            throw fail("\(id): max deleted id \(String(describing: metadata.maxDeletedEntryID)) != \(maxDeleted)")
        }
        if let added = want["entries_added"] as? Int, metadata.entriesAdded.map(Int.init) != added {
            throw fail("\(id): entries added \(String(describing: metadata.entriesAdded)) != \(added)")
        }
        let entries = want["entries"] as! [[String: Any]]
        guard entries.count == stream.entries.count else {
            throw fail("\(id): \(stream.entries.count) entries, want \(entries.count)")
        }
        for (ours, theirs) in zip(stream.entries, entries) {
            let fields = ours.fields.map { [hex($0.field), hex($0.value)] }
            guard ours.id.description == theirs["id"] as? String, fields == theirs["fields"] as? [[String]] else {
                throw fail("\(id): entry \(ours.id) differs")
            }
        }
        let groups = want["groups"] as! [[String: Any]]
        let ourGroups = stream.groups.sorted { hex($0.name) < hex($1.name) }
        guard groups.count == ourGroups.count else { throw fail("\(id): \(ourGroups.count) groups, want \(groups.count)") }
        for (group, theirs) in zip(ourGroups, groups) {
            guard hex(group.name) == theirs["name"] as? String, group.lastID.description == theirs["last_id"] as? String else {
                throw fail("\(id): group \(hex(group.name)) differs")
            }
            // Redis keeps an invalid entries_read as -1 (saved as the 64-bit pattern) and reports it as nil.
            let entriesRead = group.entriesRead.flatMap { $0 == UInt64.max ? nil : Int($0) }
            if let theirRead = theirs["entries_read"] as? Int, entriesRead != theirRead {
                throw fail("\(id): entries_read \(String(describing: group.entriesRead)) != \(theirRead)")
            }
            var owner: [RDBStreamID: String] = [:]
            for consumer in group.consumers {
                for pendingID in consumer.pending { owner[pendingID] = hex(consumer.name) }
            }
            let pending = theirs["pending"] as! [[String: Any]]
            let ourPending = group.pending.sorted { $0.id < $1.id }
            guard pending.count == ourPending.count else { throw fail("\(id): PEL size \(ourPending.count)") }
            for (entry, want) in zip(ourPending, pending) {
                guard entry.id.description == want["id"] as? String,
                    owner[entry.id] == want["consumer"] as? String,
                    Int(entry.deliveryCount) == want["delivery_count"] as? Int,
                    Int(entry.deliveryTimeMilliseconds) == want["delivery_time_ms"] as? Int
                else { throw fail("\(id): pending entry \(entry.id) differs: \(entry) vs \(want)") }
            }
            let consumers = theirs["consumers"] as! [[String: Any]]
            let ourConsumers = group.consumers.sorted { hex($0.name) < hex($1.name) }
            guard consumers.count == ourConsumers.count else { throw fail("\(id): consumer count \(ourConsumers.count)") }
            for (consumer, want) in zip(ourConsumers, consumers) {
                let ids = consumer.pending.map(\.description).sorted { (RDBStreamID(parsing: $0)!) < RDBStreamID(parsing: $1)! }
                guard hex(consumer.name) == want["name"] as? String, ids == want["pending"] as? [String],
                    Int(consumer.seenTimeMilliseconds) == want["seen_time_ms"] as? Int
                else { throw fail("\(id): consumer \(hex(consumer.name)) differs") }
                if let active = want["active_time_ms"] as? Int, consumer.activeTimeMilliseconds.map(Int.init) != active {
                    throw fail("\(id): consumer \(hex(consumer.name)) active time differs")
                }
            }
        }
    }
}

extension RDBStreamID {
    public init?(parsing text: String) {
        let parts = text.split(separator: "-")
        guard parts.count == 2, let ms = UInt64(parts[0]), let seq = UInt64(parts[1]) else { return nil }
        self.init(milliseconds: ms, sequence: seq)
    }
}

