import Formats
import NIOCore

/// A canonical, order-insensitive rendering of a dataset, for comparing what two files hold (values, not
/// bytes: encodings, orders of unordered collections and LZF output may differ).
public struct NormalizedDataset: Equatable, CustomStringConvertible {
    public var keys: [String: String]
    public var functions: [String]

    public var description: String {
        keys.keys.sorted().map { "\($0) = \(keys[$0]!)" }.joined(separator: "\n")
    }

    /// What differs between two datasets, for messages.
    public func difference(from other: NormalizedDataset) -> String {
        var lines: [String] = []
        for key in Set(keys.keys).union(other.keys.keys).sorted() where keys[key] != other.keys[key] {
            let mine = keys[key] ?? "missing"
            let theirs = other.keys[key] ?? "missing"
            // Show where they part, not their (possibly huge) common prefix.
            let common = zip(mine, theirs).prefix { $0 == $1 }.count
            let start = max(0, common - 40)
            lines.append(
                "\(key): …\(mine.dropFirst(start).prefix(160)) vs …\(theirs.dropFirst(start).prefix(160)) (\(mine.count) vs \(theirs.count) chars)")
        }
        if functions != other.functions { lines.append("functions \(functions) vs \(other.functions)") }
        return lines.prefix(10).joined(separator: "\n")
    }

    public init(keys: [String: String], functions: [String]) {
        self.keys = keys
        self.functions = functions
    }

    /// Options for what to leave out of the comparison.
    public struct Scope: Sendable {
        /// Compare stream metadata (first id, max deleted id, entries added, entries read) and consumer times.
        public var streamMetadata = true
        /// Compare LRU/LFU data.
        public var evictionData = false
        public init(streamMetadata: Bool = true, evictionData: Bool = false) {
            self.streamMetadata = streamMetadata
            self.evictionData = evictionData
        }
    }

    public init(entries: [RDBEntry], functions: [RDBString], scope: Scope = .init()) {
        var keys: [String: String] = [:]
        for entry in entries {
            let name = "\(entry.header.database)/\(NormalizedDataset.hex(entry.header.key))"
            var text = "\(entry.header.type.kind.rawValue) exp=\(entry.header.expireAtMilliseconds.map(String.init) ?? "-") "
            if scope.evictionData {
                text += "freq=\(entry.header.lfuFrequency.map(String.init) ?? "-") "
            }
            text += NormalizedDataset.render(entry.value, scope: scope)
            keys[name] = text
        }
        self.keys = keys
        self.functions = functions.map { String(decoding: $0.bytes.readableBytesView, as: UTF8.self) }.sorted()
    }

    static func hex(_ bytes: ByteBuffer) -> String { GroundTruth.hex(bytes) }
    static func hex(_ string: RDBString) -> String { GroundTruth.hex(string) }

    static func render(_ value: RDBValue, scope: Scope) -> String {
        switch value {
        case .string(let string): return hex(string)
        case .list(let items): return "[" + items.map(hex).joined(separator: ",") + "]"
        case .set(let members): return "{" + members.map(hex).sorted().joined(separator: ",") + "}"
        case .zset(let members):
            return "{" + members.map { "\(hex($0.member)):\($0.score)" }.sorted().joined(separator: ",") + "}"
        case .hash(let fields):
            return "{" + fields.map { "\(hex($0.field))=\(hex($0.value))@\($0.expireAtMilliseconds.map(String.init) ?? "-")" }.sorted()
                .joined(separator: ",") + "}"
        case .module(let module):
            return "module \(module.moduleID) \(module.data)"
        case .stream(let stream):
            var text = "entries[" + stream.entries.map { entry in
                "\(entry.id):" + entry.fields.map { "\(hex($0.field))=\(hex($0.value))" }.joined(separator: ",")
            }.joined(separator: ";") + "]"
            if let metadata = stream.metadata {
                text += " length=\(metadata.length) last=\(metadata.lastID)"
                if scope.streamMetadata {
                    text += " first=\(metadata.firstID.map(\.description) ?? "-") maxdel=\(metadata.maxDeletedEntryID.map(\.description) ?? "-") added=\(metadata.entriesAdded.map(String.init) ?? "-")"
                }
            }
            let groups = stream.groups.map { group -> String in
                var text = "group \(hex(group.name)) last=\(group.lastID)"
                if scope.streamMetadata { text += " read=\(group.entriesRead.map(String.init) ?? "-")" }
                text += " pel[" + group.pending.sorted { $0.id < $1.id }.map { "\($0.id)@\($0.deliveryTimeMilliseconds)x\($0.deliveryCount)" }
                    .joined(separator: ",") + "]"
                text += " consumers[" + group.consumers.map { consumer in
                    var text = "\(hex(consumer.name)):" + consumer.pending.map(\.description).sorted().joined(separator: ",")
                    if scope.streamMetadata { text += " seen=\(consumer.seenTimeMilliseconds)" }
                    return text
                }.sorted().joined(separator: ";") + "]"
                return text
            }.sorted()
            return text + " " + groups.joined(separator: " ")
        }
    }
}

/// Reads a whole file and normalizes it.
public func normalized(_ bytes: [UInt8], scope: NormalizedDataset.Scope = .init()) throws -> NormalizedDataset {
    let (info, entries) = try readAll(bytes)
    return NormalizedDataset(entries: entries, functions: info.functions, scope: scope)
}

/// Writes entries at a version into memory; returns the bytes and what was skipped.
public func writeRDB(
    _ entries: [RDBEntry], functions: [RDBString] = [], moduleAux: [RDBModuleValue] = [], options: RDBWriteOptions
) throws -> (bytes: [UInt8], skipped: [String]) {
    var writer = RDBWriter(sink: BufferSink(), options: options)
    try writer.writeHeader(now: 1_700_000_000)
    for code in functions { try writer.writeFunction(code) }
    for module in moduleAux { try writer.writeModuleAux(module) }
    for entry in entries { try writer.writeEntry(entry) }
    try writer.finish()
    let skipped = writer.skippedKeys.map { "\($0.db)/\(GroundTruth.hex($0.key))" }
    return (writer.sink.bytes, skipped)
}

extension RDBValue {
    /// A type byte of the right kind for a value built in a test (the writer picks the real encoding).
    public var nominalType: RDBType {
        switch self {
        case .string: .string
        case .list: .listLinked
        case .set: .setHashtable
        case .zset: .zsetV2
        case .hash: .hashHashtable
        case .stream: .stream3
        case .module: .module
        }
    }
}
