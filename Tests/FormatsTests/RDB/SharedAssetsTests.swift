import Foundation
import Formats
import TestSupport
import NIOCore
import Testing

/// The files of Redis's own test suite (`../shared/fixtures/redis-assets`), against the contents their README
/// documents. In CI the folder must be there; elsewhere the suite is skipped when it is absent.
@Suite(.enabled(if: Paths.sharedAssetsPresent || Paths.isCI, "shared/fixtures/redis-assets is not beside the checkout"))
struct SharedAssetsTests {
    static func value(_ entries: [RDBEntry], _ key: String) -> RDBValue? {
        entries.first { $0.header.key.text == key }?.value
    }

    static func strings(_ value: RDBValue?) -> [String] {
        switch value {
        case .list(let items)?: items.map(\.text)
        case .set(let members)?: members.map(\.text).sorted()
        default: []
        }
    }

    static func pairs(_ value: RDBValue?) -> [String: String] {
        guard case .hash(let fields)? = value else { return [:] }
        return Dictionary(uniqueKeysWithValues: fields.map { ($0.field.text, $0.value.text) })
    }

    static func scores(_ value: RDBValue?) -> [(String, Double)] {
        guard case .zset(let members)? = value else { return [] }
        return members.sorted { $0.score < $1.score }.map { ($0.member.text, $0.score) }
    }

    @Test func encodingsRDBMatchesItsDocumentedContent() throws {
        for name in ["encodings.rdb", "derived/encodings-v6-crc-ok.rdb", "derived/encodings-v6-crc-zero.rdb"] {
            let (info, entries) = try readAll(try Paths.sharedAsset(name))
            #expect(entries.count == 13, "\(name)")
            #expect(entries.allSatisfy { $0.header.database == 0 && $0.header.expireAtMilliseconds == nil })
            let zset = Self.scores(Self.value(entries, "zset"))
            #expect(zset.map(\.0) == ["a", "b", "c", "aa", "bb", "cc", "aaa", "bbb", "ccc", "aaaa", "cccc", "bbbb"])
            #expect(zset.map(\.1) == [1, 2, 3, 10, 20, 30, 100, 200, 300, 1000, 123_456_789, 5_000_000_000])
            #expect(Self.strings(Self.value(entries, "set_zipped_1")) == ["1", "2", "3", "4"])
            #expect(Self.strings(Self.value(entries, "set_zipped_2")) == ["100000", "200000", "300000", "400000"])
            #expect(
                Self.strings(Self.value(entries, "set_zipped_3"))
                    == ["1000000000", "2000000000", "3000000000", "4000000000", "5000000000", "6000000000"])
            let listItems = ["1", "2", "3", "a", "b", "c", "100000", "6000000000"]
            #expect(Self.strings(Self.value(entries, "list_zipped")) == listItems)
            #expect(Self.strings(Self.value(entries, "list")) == listItems + listItems + listItems)
            #expect(Self.value(entries, "string") == .string(.bytes(ByteBuffer(string: "Hello World"))))
            #expect(Self.value(entries, "compressible") == .string(.bytes(ByteBuffer(string: String(repeating: "a", count: 137)))))
            #expect(Self.value(entries, "number") == .string(.integer(10)))
            #expect(Self.strings(Self.value(entries, "set")) == ["1", "100000", "2", "3", "6000000000", "a", "b", "c"])
            #expect(Self.pairs(Self.value(entries, "hash_zipped")) == ["a": "1", "b": "2", "c": "3"])
            #expect(Self.scores(Self.value(entries, "zset_zipped")).map(\.0) == ["a", "b", "c"])
            #expect(
                Self.pairs(Self.value(entries, "hash"))
                    == ["a": "1", "aa": "10", "aaa": "100", "b": "2", "bb": "20", "bbb": "200", "c": "3", "cc": "30",
                        "ccc": "300", "ddd": "400", "eee": "5000000000"])
            let types = Dictionary(uniqueKeysWithValues: entries.map { ($0.header.key.text, $0.header.type) })
            #expect(types["zset"] == .zsetV1 && types["list_zipped"] == .listZiplist && types["set_zipped_3"] == .setIntset)
            #expect(types["hash_zipped"] == .hashZiplist && types["zset_zipped"] == .zsetZiplist && types["list"] == .listLinked)
            switch name {
            case "encodings.rdb": #expect(info.header == RDBHeader(version: 4) && info.checksum == .absent)
            case "derived/encodings-v6-crc-ok.rdb":
                #expect(info.header == RDBHeader(version: 6))
                guard case .verified = info.checksum else { Issue.record("checksum not verified"); break }
            default: #expect(info.checksum == .disabled)
            }
        }
    }

    @Test func hashZipmap() throws {
        let (info, entries) = try readAll(try Paths.sharedAsset("hash-zipmap.rdb"))
        #expect(info.header?.version == 3)
        #expect(entries.count == 1 && entries[0].header.type == .hashZipmap)
        #expect(Self.pairs(entries[0].value) == ["f1": "v1", "f2": "v2"])
    }

    @Test func hashZiplist() throws {
        let (info, entries) = try readAll(try Paths.sharedAsset("hash-ziplist.rdb"))
        #expect(info.header?.version == 9)
        let aux = Dictionary(uniqueKeysWithValues: info.aux.map { ($0.key.text, $0.value.text) })
        #expect(aux["redis-ver"] == "255.255.255" && aux["ctime"] == "1620466888" && aux["used-mem"] == "830864")
        #expect(entries.count == 1 && entries[0].header.type == .hashZiplist)
        #expect(Self.pairs(entries[0].value) == ["f1": "v1", "f2": "v2"])
    }

    @Test func zsetZiplist() throws {
        let (_, entries) = try readAll(try Paths.sharedAsset("zset-ziplist.rdb"))
        #expect(entries.count == 1 && entries[0].header.type == .zsetZiplist)
        let scores = Self.scores(entries[0].value)
        #expect(scores.map(\.0) == ["one", "two"] && scores.map(\.1) == [1, 2])
    }

    @Test func listQuicklist() throws {
        let (info, entries) = try readAll(try Paths.sharedAsset("list-quicklist.rdb"))
        #expect(info.header?.version == 8)
        #expect(Self.strings(Self.value(entries, "list")) == ["7"])
        #expect(Self.value(entries, "x") == .string(.integer(7)))
    }

    @Test func scriptBackupHasOnlyAux() throws {
        let (info, entries) = try readAll(try Paths.sharedAsset("scriptbackup.rdb"))
        #expect(entries.isEmpty)
        let aux = Dictionary(uniqueKeysWithValues: info.aux.map { ($0.key.text, $0.value.text) })
        #expect(aux["lua"] == "return redis.call('set', 'foo', 'bar')")
        #expect(aux["repl-id"] == "349eeafec1f98f3f56277e95fc86bc48b30651a2")
    }

    @Test func emptyKeysAreReadAsEmptyValues() throws {
        let (_, entries) = try readAll(try Paths.sharedAsset("corrupt_empty_keys.rdb"))
        #expect(entries.count == 9)
        #expect(entries.allSatisfy { $0.value.count == 0 })
        #expect(
            Set(entries.map { $0.header.key.text })
                == ["set", "hash", "list_ziplist", "zset", "zset_listpack", "hash_ziplist", "list_quicklist", "zset_ziplist",
                    "list_quicklist_empty_ziplist"])
    }

    @Test func corruptZiplistNamesKeyTypeAndOffset() throws {
        do {
            _ = try readAll(try Paths.sharedAsset("corrupt_ziplist.rdb"))
            Issue.record("corrupt_ziplist.rdb was accepted")
        } catch let error as FormatError {
            #expect(error.code == .corrupt)
            #expect(error.key?.text == "key:000000000091")
            #expect(error.phase == .readValue(.hashZiplist))
            // The value's data starts at 489 (type byte at 470); redis-check-rdb reports 494, after the value.
            #expect(error.offset >= 470 && error.offset <= 494)
        }
    }

    @Test func badTypeByteIsUnsupportedType() throws {
        do {
            _ = try readAll(try Paths.sharedAsset("derived/encodings-v6-badtype.rdb"))
            Issue.record("badtype accepted")
        } catch let error as FormatError {
            #expect(error.code == .unsupportedType)
            #expect(error.offset == 206)
            #expect(error.detail.contains("66"))
        }
    }

    @Test func checksumMismatch() throws {
        do {
            _ = try readAll(try Paths.sharedAsset("derived/encodings-v6-crc-bad.rdb"))
            Issue.record("bad CRC accepted")
        } catch let error as FormatError {
            #expect(error.code == .checksumMismatch)
            #expect(error.offset == 667 && error.phase == .checksum)
        }
    }

    @Test func truncatedFile() throws {
        do {
            _ = try readAll(try Paths.sharedAsset("derived/encodings-v6-truncated.rdb"))
            Issue.record("truncated file accepted")
        } catch let error as FormatError {
            #expect(error.code == .truncated)
            #expect(error.key?.text == "number")
            #expect(error.phase == .readValue(.string))
            #expect(error.offset <= 300)
        }
    }

    /// The RDB part of a preamble AOF ends at offset 117; the RESP tail follows in the same reader.
    @Test func preambleAOFStopsAfterTheRDB() throws {
        var buffer = ByteBuffer()
        buffer.writeBytes(try Paths.sharedAsset("rdb-preamble.aof"))
        var reader = RDBReader(source: ByteBufferSource(buffer))
        var info = RDBFileInfo()
        var keys: [String: String] = [:]
        while let entry = try reader.nextEntry(info: &info) {
            if case .string(let value) = entry.value { keys[entry.header.key.text] = value.text }
        }
        #expect(keys == ["k1": "v1", "k2": "v2"])
        #expect(reader.offset == 117)
        var rest = reader.remainingInput
        #expect(try rest.readSlice(4).text == "*2\r\n")
    }
}
