import Foundation
import Formats
import NIOCore
import Testing
import TestSupport

/// `RDBReadOptions.groupsBlobElements`: a blob's elements, and runs of a plain encoding's, handed out as one
/// `.elements` event; with it here, `inlinesStringValues`: a string key's value read with its key (the loader sets
/// both). Whatever the file, the blocks and inlined strings must stand for exactly the events the reader gives
/// without the options, and a damaged file must fail with the same error.
@Suite struct ElementBlockTests {
    /// An event with its block expanded: what a reader without grouping gives.
    enum Flat: Equatable {
        case key(RDBString, offset: Int64, RDBType)
        case element(RDBElement)
        case endKey
        case other
    }

    /// The events of `bytes`, blocks and inlined strings expanded; also how many blocks of each kind were seen and
    /// their sizes, and how many strings came inlined.
    static func events(_ bytes: [UInt8], grouped: Bool, chunkSize: Int = 256 * 1024) throws
        -> (events: [Flat], blocks: [RDBElementBlock.Kind: [Int]], inlined: Int)
    {
        var buffer = ByteBuffer()
        buffer.writeBytes(bytes)
        var options = RDBReadOptions()
        options.groupsBlobElements = grouped
        options.inlinesStringValues = grouped
        var reader = RDBReader(source: try InputSource.memory(buffer), options: options, chunkSize: chunkSize)
        var events: [Flat] = []
        var blocks: [RDBElementBlock.Kind: [Int]] = [:]
        var inlined = 0
        while let event = try reader.next() {
            switch event {
            case .beginKey(let header):
                events.append(.key(.bytes(header.key), offset: header.offset, header.type))
                #expect((header.stringValue != nil) == (grouped && header.type == .string), "\(header.type)")
                if let value = header.stringValue {
                    events += [.element(.string(value)), .endKey]
                    inlined += 1
                }
            case .element(let element): events.append(.element(element))
            case .elements(let block):
                #expect(grouped, "a block without groupsBlobElements")
                #expect(block.count > 0)
                try #require(inPlace(block) == block.elements, "in-place entries differ from the expansion")
                events += block.elements.map { .element($0) }
                blocks[block.kind, default: []].append(block.count)
            case .endKey: events.append(.endKey)
            default: events.append(.other)
            }
        }
        return (events, blocks, inlined)
    }

    /// The block's elements as read through `withEntries` (what a loader does), for comparison with `elements`.
    static func inPlace(_ block: RDBElementBlock) -> [RDBElement] {
        block.withEntries { entries in
            func string(_ index: Int) -> RDBString {
                switch entries[index] {
                case .integer(let value): return .integer(value)
                case .bytes(let raw):
                    var buffer = ByteBuffer()
                    buffer.writeBytes(raw)
                    return .bytes(buffer)
                }
            }
            return Swift.stride(from: 0, to: entries.count, by: block.stride).map { index -> RDBElement in
                switch block.kind {
                case .listItems: .listItem(string(index))
                case .setMembers: .setMember(string(index))
                case .zsetMembers: .zsetMember(string(index), score: entries.score(index))
                case .hashFields: .hashField(string(index), value: string(index + 1), expireAtMilliseconds: nil)
                }
            }
        }
    }

    static var fixtures: [String] {
        Paths.rdbFixtureNames.map { "rdb/" + $0 } + Paths.syntheticFixtureNames.map { "synthetic/" + $0 }
    }

    static func fixture(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: Paths.root.appendingPathComponent("Fixtures").appendingPathComponent(name)))
    }

    @Test("a file read in blocks gives the elements it gives one by one", arguments: fixtures)
    func blocksStandForTheSameElements(_ name: String) throws {
        let bytes = try Self.fixture(name)
        let single = try Self.events(bytes, grouped: false)
        let grouped = try Self.events(bytes, grouped: true)
        #expect(single.blocks.isEmpty && single.inlined == 0)
        #expect(grouped.events == single.events)
        // Tiny windows: a plain block's strings straddle refills.
        #expect(try Self.events(bytes, grouped: true, chunkSize: 7).events == single.events)
    }

    @Test("Redis 7.0's and 6.2's encodings give blocks of every kind")
    func everyKindOfBlob() throws {
        for name in ["rdb/redis-7.0-encodings.rdb", "rdb/redis-6.2-encodings.rdb"] {
            let read = try Self.events(try Self.fixture(name), grouped: true)
            #expect(Set(read.blocks.keys) == [.listItems, .setMembers, .zsetMembers, .hashFields], "\(name): \(read.blocks.keys)")
            #expect(read.inlined > 0, "\(name): no string key")
        }
    }

    private static func text(_ string: String) -> RDBString {
        var buffer = ByteBuffer()
        buffer.writeString(string)
        return .bytes(buffer)
    }

    private static func entry(_ key: String, _ value: RDBValue) -> RDBEntry {
        var buffer = ByteBuffer()
        buffer.writeString(key)
        return RDBEntry(header: RDBKeyHeader(database: 0, key: buffer, type: .string), value: value)
    }

    /// Large collections in the plain encodings (RDB 10, and RDB 6 for linked lists and string scores): members
    /// short and long, raw, integer-encoded and LZF-compressed.
    static func plainFile(version: Int) throws -> [UInt8] {
        var options = RDBWriteOptions()
        options.version = version
        let long = String(repeating: "compressible text ", count: 60)  // 1,080 bytes: stored LZF-compressed
        let set: [RDBString] = (0..<3000).map { text("member:\($0)") }
        let integers: [RDBString] = (0..<600).map { RDBString.integer(Int64($0) * 1_000_003) }
        let fields: [RDBHashField] = (0..<300).map { RDBHashField(field: text("f\($0)"), value: text("\($0) " + long)) }
        let members: [RDBScoredMember] = (0..<2000).map { index in
            RDBScoredMember(member: text("z\(index)"), score: index == 7 ? .infinity : Double(index) * -0.5)
        }
        let items: [RDBString] = (0..<2500).map { index in
            if index % 3 == 0 { return .integer(Int64(index)) }
            return text("item \(index) " + (index % 50 == 1 ? long : ""))
        }
        let entries: [RDBEntry] = [
            entry("set", .set(set)), entry("intset-too-big", .set(integers)), entry("hash", .hash(fields)),
            entry("zset", .zset(members)), entry("list", .list(items)),
        ]
        return try writeRDB(entries, options: options).bytes
    }

    @Test("plain encodings are grouped in blocks of at most 1,024 elements or about 64 KiB", arguments: [10, 6])
    func plainBlocks(version: Int) throws {
        let bytes = try Self.plainFile(version: version)
        let single = try Self.events(bytes, grouped: false)
        let grouped = try Self.events(bytes, grouped: true)
        #expect(grouped.events == single.events)
        #expect(try Self.events(bytes, grouped: true, chunkSize: 5).events == single.events)
        let sets = grouped.blocks[.setMembers] ?? []
        #expect(sets == [1024, 1024, 952, 600])
        // 300 fields of about 1 KiB: cut by bytes, not by count.
        let hashes = grouped.blocks[.hashFields] ?? []
        #expect(hashes.reduce(0, +) == 300)
        #expect(hashes.count >= 4 && hashes.allSatisfy { $0 <= 70 }, "\(hashes)")
        #expect(grouped.blocks[.zsetMembers] == [1024, 976])
        if version == 6 {
            // A linked list (RDB 6): plain items, the long ones cutting the blocks short.
            let lists = grouped.blocks[.listItems] ?? []
            #expect(lists.reduce(0, +) == 2500)
            #expect(lists.allSatisfy { $0 <= 1024 })
        }
    }

    /// The error of reading `bytes` to its end.
    static func failure(_ bytes: [UInt8], grouped: Bool) -> String? {
        do {
            _ = try events(bytes, grouped: grouped)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test("a cut file fails at the same offset, with the same error, read in blocks or not")
    func cutFilesFailTheSame() throws {
        for bytes in [try Self.plainFile(version: 10), try Self.plainFile(version: 6), try Self.fixture("rdb/redis-7.0-encodings.rdb")] {
            // About 80 cuts per file, at odd offsets so that most land inside a string.
            let step = max(97, bytes.count / 80) | 1
            var cut = 9
            var failures = 0
            while cut < bytes.count {
                let prefix = Array(bytes.prefix(cut))
                let single = Self.failure(prefix, grouped: false)
                #expect(single != nil, "cut at \(cut) read to the end")
                #expect(Self.failure(prefix, grouped: true) == single, "cut at \(cut)")
                failures += 1
                cut += step
            }
            #expect(failures > 20)
        }
    }

    @Test("LZF strings kept by the caller stay intact while the reader decompresses the next ones")
    func heldCompressedStrings() throws {
        // Distinct compressible values of 21 bytes to 4 KiB and beyond (the reader's reused buffer takes up to
        // 4 KiB): each one is held while the next ones are decompressed.
        let values = (0..<200).map { index in
            "\(index):" + String(repeating: "abcdefgh\(index % 7)", count: 2 + index * index / 8)
        }
        let strings = values.enumerated().map { Self.entry("s\($0.offset)", .string(Self.text($0.element))) }
        let list = Self.entry("list", .list(values.map(Self.text)))
        var options = RDBWriteOptions()
        options.version = 6  // a linked list: its items are plain LZF strings too
        let bytes = try writeRDB(strings + [list], options: options).bytes
        for grouped in [false, true] {
            var buffer = ByteBuffer()
            buffer.writeBytes(bytes)
            var readOptions = RDBReadOptions()
            readOptions.inlinesStringValues = grouped
            var reader = RDBReader(source: try InputSource.memory(buffer), options: readOptions)
            var held: [RDBString] = []
            while let event = try reader.next() {
                switch event {
                case .beginKey(let header): if let value = header.stringValue { held.append(value) }
                case .element(.string(let value)), .element(.listItem(let value)): held.append(value)
                default: break
                }
            }
            #expect(held.map { String(buffer: $0.bytes) } == values + values, "grouped: \(grouped)")
        }
    }

    @Test("skipValue counts a value's elements the same with blocks")
    func skipValueCounts() throws {
        for bytes in [try Self.plainFile(version: 10), try Self.fixture("rdb/redis-7.0-encodings.rdb")] {
            func counts(grouped: Bool) throws -> [Int] {
                var buffer = ByteBuffer()
                buffer.writeBytes(bytes)
                var options = RDBReadOptions()
                options.groupsBlobElements = grouped
                options.inlinesStringValues = grouped
                var reader = RDBReader(source: try InputSource.memory(buffer), options: options)
                var counts: [Int] = []
                while let event = try reader.next() {
                    if case .beginKey = event { counts.append(try reader.skipValue()) }
                }
                return counts
            }
            let single = try counts(grouped: false)
            #expect(single.max()! > 100)
            #expect(try counts(grouped: true) == single)
        }
    }
}
