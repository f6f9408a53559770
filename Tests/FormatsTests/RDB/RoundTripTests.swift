import Foundation
import Formats
import NIOCore
import TestSupport
import Testing

/// read(write(x)) == x: every fixture re-written at every version, and random datasets.
@Suite struct RoundTripTests {
    static var fixtures: [String] {
        Paths.rdbFixtureNames.map { "rdb/" + $0 } + Paths.syntheticFixtureNames.map { "synthetic/" + $0 }
    }

    static func bytes(_ name: String) throws -> [UInt8] {
        let url = name.hasPrefix("rdb/")
            ? Paths.rdbFixtures.appendingPathComponent(String(name.dropFirst(4)))
            : Paths.syntheticFixtures.appendingPathComponent(String(name.dropFirst(10)))
        return Array(try Data(contentsOf: url))
    }

    @Test(arguments: fixtures)
    func fixtureRewrittenAtEveryVersionReadsBackEqual(_ name: String) throws {
        let original = try Self.bytes(name)
        let (info, entries) = try readAll(original)
        for version in RDBWriteOptions.supportedVersions {
            var options = RDBWriteOptions()
            options.version = version
            options.skipUnsupported = true
            let (written, skipped) = try writeRDB(entries, functions: info.functions, moduleAux: info.moduleAux, options: options)
            let back = try readAll(written)
            #expect(back.info.header?.version == version)
            if version >= 5 {
                guard case .verified = back.info.checksum else {
                    Issue.record("\(name) v\(version): checksum \(String(describing: back.info.checksum))")
                    continue
                }
            }
            // What the version can hold must come back identical; what it cannot is reported, not lost silently.
            let kept = entries.filter { !skipped.contains("\($0.header.database)/\(GroundTruth.hex($0.header.key))") }
            // Stream metadata that older versions do not store (first id, entries added…) is derived on load.
            // (Type 15 streams, RDB 9 and older, have none: the writer derives it as Redis's loader does.)
            let scope = NormalizedDataset.Scope(streamMetadata: version >= 10 && info.header!.version >= 10)
            var expected = NormalizedDataset(entries: kept, functions: version >= 10 ? info.functions : [], scope: scope)
            var actual = NormalizedDataset(entries: back.entries, functions: back.info.functions, scope: scope)
            if version < 10 || back.info.header!.version < 10 {
                expected.functions = []
                actual.functions = []
            }
            let difference = actual.difference(from: expected)
            #expect(difference.isEmpty, "\(name) at v\(version):\n\(difference)")
            #expect(back.entries.count == kept.count)
            for skip in skipped where version >= 12 {
                Issue.record("\(name): \(skip) skipped at v12")
            }
        }
    }

    @Test func unsupportedValueIsAnErrorNamingTheKey() throws {
        var stream = RDBStream()
        stream.entries = [RDBStreamEntry(id: RDBStreamID(milliseconds: 1, sequence: 0), fields: [(.bytes(ByteBuffer(string: "f")), .integer(1))])]
        let entry = RDBEntry(
            header: RDBKeyHeader(database: 0, key: ByteBuffer(string: "events"), type: .stream, offset: 0),
            value: .stream(stream))
        var options = RDBWriteOptions()
        options.version = 6
        do {
            _ = try writeRDB([entry], options: options)
            Issue.record("a stream was written at RDB 6")
        } catch let error as FormatError {
            #expect(error.code == .unsupportedType)
            #expect(error.key == ByteBuffer(string: "events"))
            #expect(error.detail.contains("RDB 9"))
        }
        options.skipUnsupported = true
        let (bytes, skipped) = try writeRDB([entry], options: options)
        #expect(skipped == ["0/" + GroundTruth.hex(ByteBuffer(string: "events"))])
        #expect(try readAll(bytes).entries.isEmpty)
    }

    /// Random datasets: binary keys and values, every type, empty and huge members, TTLs.
    @Test(arguments: 0..<6)
    func randomDatasetRoundTrips(_ seed: Int) throws {
        var generator = SplitMix64(seed: UInt64(seed) &* 7919 &+ 17)
        let entries = RandomDataset.make(count: 120, generator: &generator)
        for version in RDBWriteOptions.supportedVersions {
            var options = RDBWriteOptions()
            options.version = version
            options.skipUnsupported = true
            options.compression = seed % 2 == 0
            let (bytes, skipped) = try writeRDB(entries, options: options)
            let kept = entries.filter { !skipped.contains("\($0.header.database)/\(GroundTruth.hex($0.header.key))") }
            let scope = NormalizedDataset.Scope(streamMetadata: false)
            let expected = NormalizedDataset(entries: kept, functions: [], scope: scope)
            let actual = try normalized(bytes, scope: scope)
            let difference = actual.difference(from: expected)
            #expect(difference.isEmpty, "seed \(seed) v\(version):\n\(difference)")
            // Skips are exactly the values the version cannot hold.
            for entry in entries where !kept.contains(where: { $0.header.key == entry.header.key && $0.header.database == entry.header.database }) {
                switch entry.value {
                case .stream: #expect(version < 9)
                case .hash(let fields): #expect(version < 12 && fields.contains { $0.expireAtMilliseconds != nil })
                default: Issue.record("unexpected skip of \(entry.header.type) at v\(version)")
                }
            }
        }
    }
}

/// Random values of every type for property tests.
enum RandomDataset {
    static func bytes(_ generator: inout SplitMix64, maxCount: Int) -> ByteBuffer {
        let count: Int
        switch generator.next() % 10 {
        case 0: count = 0
        case 1: count = Int(generator.next() % UInt64(max(maxCount, 1) * 4))  // occasionally larger (LZF, longer length forms)
        default: count = Int(generator.next() % UInt64(max(maxCount, 1)))
        }
        var buffer = ByteBuffer()
        let style = generator.next() % 4
        for index in 0..<count {
            switch style {
            case 0: buffer.writeInteger(UInt8(truncatingIfNeeded: generator.next()))  // binary
            case 1: buffer.writeInteger(UInt8(ascii: "a") + UInt8(index % 3))  // compressible
            case 2: buffer.writeInteger(UInt8(ascii: "0") + UInt8(generator.next() % 10))  // digits, some canonical
            default: buffer.writeInteger([0, 0xFF, 0x0D, 0x0A, 0x22][Int(generator.next() % 5)])
            }
        }
        return buffer
    }

    static func string(_ generator: inout SplitMix64, maxCount: Int = 24) -> RDBString {
        switch generator.next() % 5 {
        case 0:
            let value = Int64(bitPattern: generator.next()) >> (generator.next() % 63)
            return .bytes(ByteBuffer(string: String(value)))
        case 1: return .integer(Int64(bitPattern: generator.next()) >> (generator.next() % 63))
        default: return .bytes(bytes(&generator, maxCount: maxCount))
        }
    }

    static func make(count: Int, generator: inout SplitMix64) -> [RDBEntry] {
        var entries: [RDBEntry] = []
        var seen = Set<String>()
        while entries.count < count {
            let key = bytes(&generator, maxCount: 12)
            let database = Int(generator.next() % 3)
            guard seen.insert("\(database)/\(GroundTruth.hex(key))").inserted else { continue }
            let expire: Int64? = generator.next() % 4 == 0 ? 4_102_444_800_000 + Int64(generator.next() % 1_000_000) : nil
            let size = generator.next() % 5 == 0 ? 700 : Int(generator.next() % 20)
            let value: RDBValue
            switch generator.next() % 7 {
            case 0: value = .string(string(&generator, maxCount: generator.next() % 8 == 0 ? 30000 : 40))
            case 1: value = .list((0..<max(size, 1)).map { _ in string(&generator) })
            case 2:
                var members: [ByteBuffer: RDBString] = [:]
                let integers = generator.next() % 2 == 0
                for _ in 0..<max(size, 1) {
                    let member: RDBString = integers ? .integer(Int64(bitPattern: generator.next()) >> 20) : string(&generator)
                    members[member.bytes] = member
                }
                value = .set(Array(members.values))
            case 3:
                var members: [ByteBuffer: RDBScoredMember] = [:]
                for _ in 0..<max(size, 1) {
                    let member = string(&generator)
                    let score: Double
                    switch generator.next() % 5 {
                    case 0: score = Double(Int64(generator.next() % 1000) - 500)
                    case 1: score = .infinity * (generator.next() % 2 == 0 ? 1 : -1)
                    default: score = Double(bitPattern: generator.next() & 0x3FFF_FFFF_FFFF_FFFF) * (generator.next() % 2 == 0 ? 1 : -1)
                    }
                    members[member.bytes] = RDBScoredMember(member: member, score: score.isNaN ? 0 : score)
                }
                value = .zset(Array(members.values))
            case 4, 5:
                var fields: [ByteBuffer: RDBHashField] = [:]
                let withExpiry = generator.next() % 4 == 0
                for _ in 0..<max(size, 1) {
                    let field = string(&generator)
                    let expire: Int64? = withExpiry && generator.next() % 2 == 0 ? 1_900_000_000_000 + Int64(generator.next() % 1000) : nil
                    fields[field.bytes] = RDBHashField(field: field, value: string(&generator), expireAtMilliseconds: expire)
                }
                value = .hash(Array(fields.values))
            default:
                var stream = RDBStream()
                var id = RDBStreamID(milliseconds: 1_700_000_000_000, sequence: 0)
                for _ in 0..<Int(generator.next() % 250) {
                    id = generator.next() % 3 == 0
                        ? RDBStreamID(milliseconds: id.milliseconds, sequence: id.sequence + 1)
                        : RDBStreamID(milliseconds: id.milliseconds + generator.next() % 1000 + 1, sequence: 0)
                    let fieldCount = 1 + Int(generator.next() % 3)
                    let shared = generator.next() % 2 == 0
                    stream.entries.append(
                        RDBStreamEntry(
                            id: id,
                            fields: (0..<fieldCount).map { index in
                                (shared ? .bytes(ByteBuffer(string: "f\(index)")) : string(&generator), string(&generator))
                            }))
                }
                stream.metadata = RDBStreamMetadata(
                    length: UInt64(stream.entries.count), lastID: stream.entries.last?.id ?? RDBStreamID(milliseconds: 0, sequence: 0))
                if let first = stream.entries.first, generator.next() % 2 == 0 {
                    let consumer = RDBStreamConsumer(
                        name: ByteBuffer(string: "alice"), seenTimeMilliseconds: 1_700_000_000_123, activeTimeMilliseconds: nil,
                        pending: [first.id])
                    stream.groups.append(
                        RDBStreamGroup(
                            name: ByteBuffer(string: "g"), lastID: first.id, entriesRead: nil,
                            pending: [RDBPendingEntry(id: first.id, deliveryTimeMilliseconds: 1_700_000_000_100, deliveryCount: 2)],
                            consumers: [consumer]))
                }
                value = .stream(stream)
            }
            let type = value.nominalType
            entries.append(RDBEntry(header: RDBKeyHeader(database: database, key: key, type: type, expireAtMilliseconds: expire, offset: 0), value: value))
        }
        return entries
    }
}

/// Writing element by element (beginKey / writeElement / endKey, spooling big values to disk) gives the same
/// data as writing whole values.
@Suite struct StreamingWriteTests {
    static func streamCopy(_ bytes: [UInt8], options: RDBWriteOptions) throws -> (bytes: [UInt8], skipped: Int) {
        var buffer = ByteBuffer()
        buffer.writeBytes(bytes)
        var reader = RDBReader(source: ByteBufferSource(buffer))
        var writer = RDBWriter(sink: BufferSink(), options: options)
        try writer.writeHeader(now: 1_700_000_000)
        while let event = try reader.next() {
            switch event {
            case .function(let code): try writer.writeFunction(code)
            case .moduleAux(let module): try writer.writeModuleAux(module)
            case .beginKey(let header): try writer.beginKey(header)
            case .element(let element): try writer.writeElement(element)
            case .endKey: try writer.endKey()
            default: break
            }
        }
        try writer.finish()
        return (writer.sink.bytes, writer.skippedKeys.count)
    }

    @Test(arguments: RoundTripTests.fixtures)
    func streamedCopyEqualsWholeValueCopy(_ name: String) throws {
        let original = try RoundTripTests.bytes(name)
        let (info, entries) = try readAll(original)
        for version in [6, 8, 9, 10, 12] {
            for spool in [false, true] {
                var options = RDBWriteOptions()
                options.version = version
                options.skipUnsupported = true
                if spool {
                    // Force every collection of more than 2 elements through the spool file.
                    options.spoolElements = 2
                    options.spoolBytes = 64
                }
                let (streamed, _) = try Self.streamCopy(original, options: options)
                let (whole, _) = try writeRDB(entries, functions: info.functions, moduleAux: info.moduleAux, options: options)
                let scope = NormalizedDataset.Scope(streamMetadata: version >= 10 && info.header!.version >= 10)
                let a = try normalized(streamed, scope: scope)
                let b = try normalized(whole, scope: scope)
                let difference = a.difference(from: b)
                #expect(difference.isEmpty, "\(name) v\(version) spool \(spool):\n\(difference)")
                #expect(a.keys.count == b.keys.count)
            }
        }
    }

    /// A list far larger than the spool threshold keeps its order and splits into ~8 KB nodes.
    @Test func bigListThroughTheSpool() throws {
        var options = RDBWriteOptions()
        options.spoolElements = 1000
        var writer = RDBWriter(sink: BufferSink(), options: options)
        try writer.writeHeader()
        try writer.beginKey(RDBKeyHeader(database: 0, key: ByteBuffer(string: "big"), type: .listQuicklist2))
        for index in 0..<50_000 {
            try writer.writeElement(.listItem(index % 3 == 0 ? .integer(Int64(index)) : .bytes(ByteBuffer(string: "item-\(index)"))))
        }
        try writer.endKey()
        try writer.finish()
        var buffer = ByteBuffer()
        buffer.writeBytes(writer.sink.bytes)
        var reader = RDBReader(source: ByteBufferSource(buffer))
        var info = RDBFileInfo()
        let entry = try #require(try reader.nextEntry(info: &info))
        guard case .list(let items) = entry.value else {
            Issue.record("not a list")
            return
        }
        #expect(items.count == 50_000)
        #expect(items[3] == .bytes(ByteBuffer(string: "3")) && items[4] == .bytes(ByteBuffer(string: "item-4")))
        #expect(items.last == .bytes(ByteBuffer(string: "item-49999")))
        #expect(entry.header.type == .listQuicklist2)
    }
}
