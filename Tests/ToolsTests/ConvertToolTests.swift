import Formats
import Foundation
import NIOCore
import TestSupport
import Testing

/// Runs the built `redis-convert`: round trips through JSON Lines back to RDB against the fixtures' ground
/// truth, the JSON schema itself, filters, atomic and gzip output, usage and input errors.
@Suite struct ConvertToolTests {
    static let tool = Paths.builtProduct("redis-convert")

    /// Every valid fixture: real-server files and synthetic ones.
    static var fixtures: [String] {
        Paths.rdbFixtureNames.map { Paths.rdbFixtures.appendingPathComponent($0).path }
            + Paths.syntheticFixtureNames.map { Paths.syntheticFixtures.appendingPathComponent($0).path }
    }

    static func convert(_ arguments: [String], input: [UInt8]? = nil) throws -> ProcessResult {
        let tool = try #require(Self.tool, "redis-convert was not built")
        return try run(tool, arguments, input: input)
    }

    /// Runs a conversion with `-o` into a temporary file and returns the bytes (standard output as captured by
    /// `run` is decoded as UTF-8, which would change binary keys).
    static func convertToBytes(_ arguments: [String]) throws -> [UInt8] {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("output").path
        let result = try convert(arguments + ["-o", output])
        #expect(result.status == 0, "\(result.standardError)")
        return Array(try Data(contentsOf: URL(fileURLWithPath: output)))
    }

    static func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("convert-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    static func groundTruth(_ fixture: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: fixture.replacingOccurrences(of: ".rdb", with: ".json")))
    }

    static func truthKeys(_ fixture: String) throws -> [[String: Any]] {
        let document = try #require(try JSONSerialization.jsonObject(with: groundTruth(fixture)) as? [String: Any])
        return try #require(document["keys"] as? [[String: Any]])
    }

    /// The ground truth with its `rdb_version` replaced (the writer may write another version than the fixture's).
    static func truth(_ fixture: String, version: Int) throws -> Data {
        var document = try #require(try JSONSerialization.jsonObject(with: groundTruth(fixture)) as? [String: Any])
        document["rdb_version"] = version
        return try JSONSerialization.data(withJSONObject: document)
    }

    /// The RDB version to convert a fixture back to: its own when the writer has it (6 to 12), else the nearest.
    static func targetVersion(_ fixture: String) throws -> Int {
        let (info, _) = try readAll(Array(Data(contentsOf: URL(fileURLWithPath: fixture))))
        let version = try #require(info.header?.version)
        return min(max(version, 6), 12)
    }

    /// JSON Lines output parsed: the records, without the meta and after_keys lines.
    static func records(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }.filter { $0["meta"] == nil && $0["after_keys"] == nil }
    }

    // MARK: - 1. Round trips and the JSON schema

    @Test(arguments: fixtures)
    func jsonLinesBackToRDBMatchesGroundTruth(_ fixture: String) throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let jsonl = directory.appendingPathComponent("dump.jsonl").path
        let rdb = directory.appendingPathComponent("back.rdb").path
        let toJSON = try Self.convert([fixture, "--to", "jsonl", "-o", jsonl])
        #expect(toJSON.status == 0, "\(toJSON.standardError)")
        let version = try Self.targetVersion(fixture)
        let back = try Self.convert([jsonl, "--to", "rdb", "--rdb-version", String(version), "-o", rdb])
        #expect(back.status == 0, "\(back.standardError)")
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: rdb)))
        let compared = try GroundTruth.check(rdb: bytes, json: try Self.truth(fixture, version: version), name: fixture)
        #expect(compared == (try Self.truthKeys(fixture)).count)
    }

    @Test(arguments: fixtures)
    func jsonDocumentMatchesGroundTruth(_ fixture: String) throws {
        let result = try Self.convert([fixture, "--to", "json"])
        #expect(result.status == 0, "\(result.standardError)")
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        #expect(document["version"] as? Int == 1)
        let truth = try #require(try JSONSerialization.jsonObject(with: Self.groundTruth(fixture)) as? [String: Any])
        #expect(document["rdb_version"] as? Int == truth["rdb_version"] as? Int)
        let functions = try #require(document["functions"] as? [Any]).map { try JSONSchema.hex($0) }
        #expect(
            functions.sorted() == ((truth["functions"] as? [String]) ?? []).map { JSONSchema.hex(utf8: $0) }.sorted())
        let keys = try #require(document["keys"] as? [[String: Any]])
        try JSONSchema.compare(keys, with: try Self.truthKeys(fixture), name: fixture)
    }

    /// The JSON document form converts back too, read from standard input.
    @Test func jsonDocumentFromStandardInputBackToRDB() throws {
        let fixture = Paths.rdbFixtures.appendingPathComponent("redis-7.0-encodings.rdb").path
        let json = try Self.convert([fixture, "--to", "json"])
        #expect(json.status == 0)
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let rdb = directory.appendingPathComponent("back.rdb").path
        let back = try Self.convert(["-", "--to", "rdb", "-o", rdb], input: Array(json.standardOutput.utf8))
        #expect(back.status == 0, "\(back.standardError)")
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: rdb)))
        #expect(try GroundTruth.check(rdb: bytes, json: try Self.truth(fixture, version: 10), name: "stdin json") == 51)
    }

    /// Strings longer than the JSON reader's 256 KiB window, with escapes and multi-byte UTF-8 across its
    /// boundaries, in both byte-string forms, survive JSON Lines → RDB → JSON Lines.
    @Test func longStringsCrossReadWindows() throws {
        var generator = SplitMix64(seed: 7)
        let text = String(
            (0..<300_000).map { index -> Character in
                ["a", "\"", "\\", "é", "✓", "\n", "z", "\t"][Int(generator.next() % 8)]
            })
        let binary = (0..<400_000).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        var input = ByteBuffer()
        input.writeString("{\"db\":3,\"key\":\"long\",\"type\":\"list\",\"value\":[")
        input.writeBytes(
            try JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes]).dropFirst()
                .dropLast())
        input.writeString(",{\"b64\":\"\(Data(binary).base64EncodedString())\"}]}\n")
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let rdb = directory.appendingPathComponent("long.rdb").path
        let toRDB = try Self.convert(["-", "--to", "rdb", "-o", rdb], input: Array(input.readableBytesView))
        #expect(toRDB.status == 0, "\(toRDB.standardError)")
        let (_, entries) = try readAll(Array(try Data(contentsOf: URL(fileURLWithPath: rdb))))
        guard case .list(let items)? = entries.first?.value else {
            Issue.record("no list read back")
            return
        }
        #expect(items.count == 2)
        #expect(items.first?.text == text)
        #expect(items.last?.array == binary)
        let back = try Self.convert([rdb, "--to", "jsonl"])
        let record = try #require(try Self.records(back.standardOutput).first)
        let values = try #require(record["value"] as? [Any])
        #expect(values.first as? String == text)
        #expect((values.last as? [String: String])?["b64"] == Data(binary).base64EncodedString())
    }

    @Test func binaryBytesUseBase64() throws {
        let fixture = Paths.rdbFixtures.appendingPathComponent("redis-7.0-encodings.rdb").path
        let result = try Self.convert([fixture, "--to", "jsonl", "--key", "^bin:|^cl"])
        #expect(result.status == 0)
        let lines = result.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("{\"meta\":{\"version\":1,\"rdb_version\":10,") == true)
        // "bin:\0\xff\r\n" holds NUL and an invalid UTF-8 byte: base64; "clé-ü" is UTF-8 text: a string.
        #expect(
            lines.contains {
                $0.contains("\"key\":{\"b64\":\"YmluOgD/DQo=\"}")
                    && $0.contains("\"value\":{\"b64\":\"AP8NCnZhbHVlAA==\"}")
            })
        #expect(lines.contains { $0.contains("\"key\":\"clé-ü\"") && $0.contains("\"value\":\"värde-✓\"") })
    }

    /// Field expiries need RDB 12: the default version fails naming the key, unless --skip-unsupported.
    @Test func versionThatCannotHoldAValueFailsOrSkips() throws {
        let fixture = Paths.syntheticFixtures.appendingPathComponent("rdb12-hash-field-expiry.rdb").path
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("v10.rdb").path
        let failed = try Self.convert([fixture, "--to", "rdb", "-o", output])
        #expect(failed.status == 1)
        #expect(failed.standardError.contains("hash field expiries need RDB 12"))
        #expect(failed.standardError.contains("hfe:"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
        let skipped = try Self.convert([fixture, "--to", "rdb", "--skip-unsupported", "-o", output])
        #expect(skipped.status == 0)
        #expect(skipped.standardError.contains("skipped key \"hfe:dict\" (db 0)"))
        #expect(skipped.standardError.contains("skipped key \"hfe:lp\" (db 0)"))
        let (info, entries) = try readAll(Array(try Data(contentsOf: URL(fileURLWithPath: output))))
        #expect(info.header?.version == 10)
        #expect(entries.map(\.header.key.text) == ["plain"])
    }

    // MARK: - RESP output (shape; the real-server test checks what it builds)

    @Test func respCommandsAreBatchedAndFunctionsComeFirst() throws {
        let fixture = Paths.rdbFixtures.appendingPathComponent("redis-7.0-encodings.rdb").path
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("dump.aof").path
        let result = try Self.convert([fixture, "--to", "aof", "-o", path])
        #expect(result.status == 0, "\(result.standardError)")
        let commands = try RESPCommands.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        #expect(commands.prefix(2).allSatisfy { $0.prefix(2) == ["FUNCTION", "LOAD"] })
        #expect(commands[2] == ["SELECT", "0"])
        for command in commands {
            switch command[0] {
            case "RPUSH", "SADD": #expect(command.count <= 2 + 64)
            case "ZADD", "HSET": #expect(command.count <= 2 + 2 * 64)
            default: break
            }
        }
        // set:large has more than 512 members: several SADDs of 64.
        #expect(commands.filter { $0.count > 1 && $0[0] == "SADD" && $0[1] == "set:large" }.count > 8)
        #expect(commands.contains { $0.first == "PEXPIREAT" && $0.last == "4102444800123" })
        #expect(
            commands.contains { $0.first == "XSETID" && $0.contains("ENTRIESADDED") && $0.contains("MAXDELETEDID") })
        #expect(commands.contains { $0.prefix(2) == ["XGROUP", "CREATECONSUMER"] })
        #expect(commands.contains { $0.first == "XCLAIM" && $0.suffix(2) == ["FORCE", "JUSTID"] })
        #expect(commands.filter { $0 == ["SELECT", "1"] || $0 == ["SELECT", "5"] }.count == 2)
    }

    @Test func moduleValuesCannotBeCommands() throws {
        let fixture = Paths.syntheticFixtures.appendingPathComponent("rdb9-module.rdb").path
        let failed = try Self.convert([fixture, "--to", "resp"])
        #expect(failed.status == 1)
        #expect(failed.standardError.contains("cannot be expressed as commands"))
        let skipped = try Self.convert([fixture, "--to", "resp", "--skip-unsupported"])
        #expect(skipped.status == 0)
        #expect(skipped.standardError.contains("skipped key \"mod:key\" (db 0)"))
        #expect(skipped.standardError.contains("module AUX data of mymodtype"))
    }

    // MARK: - 3. memory-csv (the shape; accuracy against a real server is below)

    @Test func memoryCSVHasOneRowPerKey() throws {
        let fixture = Paths.rdbFixtures.appendingPathComponent("redis-7.0-encodings.rdb").path
        let csv = try Self.convertToBytes([fixture, "--to", "memory-csv"])
        #expect(
            csv.starts(
                with: Array("database,type,key,size_in_bytes,encoding,num_elements,len_largest_element,expiry\n".utf8)))
        let rows = try MemoryCSV.rows(csv)
        let truth = try Self.truthKeys(fixture)
        #expect(rows.count == truth.count)
        // The encoding column is what OBJECT ENCODING said on the Redis 7.0 that wrote the fixture.
        var encodings: [String: String] = [:]
        for key in truth { encodings["\(key["db"]!)/\(key["key"]!)"] = key["encoding"] as? String }
        for row in rows {
            #expect(
                encodings["\(row.database)/\(GroundTruth.hex(ByteBuffer(bytes: row.key)))"] == row.encoding, "\(row)")
        }
        let expiring = try #require(rows.first { $0.key == Array("exp:ms".utf8) })
        #expect(expiring.expiry == "2100-01-01T00:00:00.123Z")
        #expect(rows.first { $0.key == Array("str:int".utf8) }?.type == "string")
        #expect(rows.contains { $0.type == "sortedset" })

        let topRows = try MemoryCSV.rows(try Self.convertToBytes([fixture, "--to", "memory-csv", "--top", "3"]))
        #expect(topRows.count == 3)
        #expect(topRows.map(\.size) == rows.map(\.size).sorted(by: >).prefix(3).map { $0 })
    }

    // MARK: - 4. Filters

    @Test func filtersSelectKeys() throws {
        let fixture = Paths.rdbFixtures.appendingPathComponent("redis-7.0-encodings.rdb").path
        let truth = try Self.truthKeys(fixture)
        func keys(_ arguments: [String]) throws -> [[String: Any]] {
            let result = try Self.convert([fixture, "--to", "jsonl"] + arguments)
            #expect(result.status == 0, "\(result.standardError)")
            return try Self.records(result.standardOutput)
        }
        #expect(try keys([]).count == truth.count)

        let db1 = try keys(["--db", "1"])
        #expect(db1.count == 5 && db1.allSatisfy { $0["db"] as? Int == 1 })
        #expect(try keys(["--db", "1", "--db", "5"]).count == 9)

        let lists = try keys(["--key", "^list:"])
        #expect(lists.count == truth.filter { JSONSchema.text(hex: $0["key"] as! String).hasPrefix("list:") }.count)
        #expect(lists.allSatisfy { ($0["key"] as? String)?.hasPrefix("list:") == true })

        let hashesAndZsets = try keys(["--type", "hash", "--type", "zset"])
        #expect(hashesAndZsets.count == truth.filter { ["hash", "zset"].contains($0["type"] as! String) }.count)
        #expect(Set(hashesAndZsets.map { $0["type"] as! String }) == ["hash", "zset"])

        let combined = try keys(["--db", "0", "--type", "string", "--key", "^str:"])
        #expect(
            combined.count
                == truth.filter {
                    $0["db"] as? Int == 0 && $0["type"] as? String == "string"
                        && JSONSchema.text(hex: $0["key"] as! String).hasPrefix("str:")
                }.count)

        // The same filters drive every format.
        let csv = try Self.convert([fixture, "--to", "memory-csv", "--db", "5"])
        #expect(try MemoryCSV.rows(Array(csv.standardOutput.utf8)).count == 4)
    }

    /// Hand-written JSON Lines (no meta line) with a past, a future and no expiry.
    @Test func notExpiredDropsPastExpiries() throws {
        let input = """
            {"db":0,"key":"gone","type":"string","expire_at_ms":1000,"value":"old"}
            {"db":0,"key":"later","type":"string","expire_at_ms":4102444800000,"value":"new"}
            {"db":2,"key":"forever","type":"list","value":["a",{"b64":"AAE="}]}

            """
        let all = try Self.convert(["-", "--to", "jsonl"], input: Array(input.utf8))
        #expect(all.status == 0, "\(all.standardError)")
        #expect(try Self.records(all.standardOutput).count == 3)
        let live = try Self.convert(["-", "--to", "jsonl", "--not-expired"], input: Array(input.utf8))
        #expect(live.status == 0)
        let records = try Self.records(live.standardOutput)
        #expect(records.map { $0["key"] as? String } == ["later", "forever"])
        #expect(live.standardOutput.contains("\"value\":[\"a\",{\"b64\":\"AAE=\"}]"))
    }

    // MARK: - 5. Output files

    @Test func gzipOutputIsAtomicAndConvertsBack() throws {
        let fixture = Paths.rdbFixtures.appendingPathComponent("redis-6.2-encodings.rdb").path
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("dump.jsonl.gz")
        let result = try Self.convert([fixture, "--to", "jsonl", "-o", output.path])
        #expect(result.status == 0, "\(result.standardError)")
        let bytes = Array(try Data(contentsOf: output))
        #expect(bytes.starts(with: [0x1f, 0x8b]))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["dump.jsonl.gz"])

        let rdb = directory.appendingPathComponent("back.rdb.gz")
        let back = try Self.convert([output.path, "--to", "rdb", "--rdb-version", "9", "-o", rdb.path])
        #expect(back.status == 0, "\(back.standardError)")
        let packed = Array(try Data(contentsOf: rdb))
        #expect(packed.starts(with: [0x1f, 0x8b]))
        // Decompressed through InputSource, as the tools read .gz input.
        var source = try InputSource.memory(ByteBuffer(bytes: packed))
        var window = ByteBuffer()
        while try source.read(into: &window, atMost: 64 * 1024) > 0 {}
        let plain = Array(window.readableBytesView)
        #expect(plain.starts(with: Array("REDIS0009".utf8)))
        #expect(
            try GroundTruth.check(rdb: plain, json: try Self.truth(fixture, version: 9), name: "gzip round trip") == 51)
        #expect(
            Set(try FileManager.default.contentsOfDirectory(atPath: directory.path)) == [
                "dump.jsonl.gz", "back.rdb.gz",
            ])
    }

    /// A conversion that fails halfway leaves neither a temporary file nor a partial output, and keeps an
    /// existing file as it was.
    @Test func failedConversionLeavesNoFile() throws {
        let fixture = Paths.syntheticFixtures.appendingPathComponent("rdb9-module.rdb").path
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("out.resp")
        try Data("previous".utf8).write(to: output)
        let result = try Self.convert([fixture, "--to", "resp", "-o", output.path])
        #expect(result.status == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["out.resp"])
        #expect(try String(contentsOf: output, encoding: .utf8) == "previous")
    }

    // MARK: - Errors

    @Test func usageErrorsExit64() throws {
        let fixture = Paths.rdbFixtures.appendingPathComponent("redis-7.0-lfu.rdb").path
        #expect(try Self.convert([fixture]).status == 64)
        #expect(try Self.convert([fixture, "--to", "xml"]).status == 64)
        #expect(try Self.convert([fixture, "--to", "json", "--top", "3"]).status == 64)
        #expect(try Self.convert([fixture, "--to", "rdb", "--rdb-version", "5"]).status == 64)
        #expect(try Self.convert([fixture, "--to", "json", "--rdb-version", "10"]).status == 64)
        #expect(try Self.convert([fixture, "--to", "json", "--type", "bitmap"]).status == 64)
        #expect(try Self.convert([fixture, "--to", "json", "--key", "(unclosed"]).status == 64)
    }

    @Test func badInputExits1() throws {
        let missing = try Self.convert(["/nonexistent/dump.rdb", "--to", "json"])
        #expect(missing.status == 1)
        #expect(missing.standardError.contains("/nonexistent/dump.rdb"))

        let bytes = Array(try Data(contentsOf: Paths.rdbFixtures.appendingPathComponent("redis-7.0-encodings.rdb")))
        let truncated = try Self.convert(["-", "--to", "jsonl"], input: Array(bytes.prefix(bytes.count / 2)))
        #expect(truncated.status == 1)
        #expect(truncated.standardError.contains("truncated"))

        let json = try Self.convert(
            ["-", "--to", "rdb", "-o", "/dev/null"], input: Array("{\"keys\":[{\"db\":0,\"key\":\"k\"".utf8))
        #expect(json.status == 1)
        #expect(json.standardError.contains("JSON input ends early"))

        let record = try Self.convert(
            ["-", "--to", "resp"],
            input: Array("{\"db\":0,\"key\":\"k\",\"type\":\"zset\",\"value\":[[\"m\",\"x\"]]}\n".utf8))
        #expect(record.status == 1)
        #expect(record.standardError.contains("invalid score x"))
    }

    /// Records that would make an RDB file Redis refuses (found by FuzzJSON: they were written as they were, and
    /// the file did not load). Each must fail naming the key and the defect, and write nothing.
    @Test(arguments: [
        ("0001-hash-duplicate-field.jsonl", "key \"h2\"", "duplicate hash field \"f2\""),
        ("0002-set-duplicate-member-base64.jsonl", "key \"s\"", "duplicate set member \"a\""),
        ("0003-zset-duplicate-member.jsonl", "key \"z\"", "duplicate zset member \"m\""),
        ("0004-hash-field-expiry-beyond-48-bits.jsonl", "key \"hfe\"", "field expire_at_ms 281474976710656 is outside"),
    ])
    func invalidRecordsAreRefused(_ file: String, _ key: String, _ message: String) throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("dump.rdb").path
        let input = Paths.root.appendingPathComponent("Fixtures/json/corrupt/\(file)").path
        let result = try Self.convert([input, "--to", "rdb", "-o", output])
        #expect(result.status == 1)
        #expect(result.standardError.contains(message), "\(result.standardError)")
        #expect(result.standardError.contains(key), "\(result.standardError)")
        #expect(!FileManager.default.fileExists(atPath: output))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }
}

// MARK: - Helpers

/// Checks our JSON records against a fixture's ground truth (hex strings there, our byte-string scheme here).
enum JSONSchema {
    struct Mismatch: Error, CustomStringConvertible {
        var description: String
    }

    /// Hex of a byte string in our scheme: a JSON string (its UTF-8) or {"b64": …}.
    static func hex(_ value: Any) throws -> String {
        if let text = value as? String { return hex(utf8: text) }
        if let object = value as? [String: Any], object.count == 1, let b64 = object["b64"] as? String,
            let data = Data(base64Encoded: b64)
        {
            return data.map { String(format: "%02x", $0) }.joined()
        }
        throw Mismatch(description: "not a byte string: \(value)")
    }

    static func hex(utf8 text: String) -> String {
        text.utf8.map { String(format: "%02x", $0) }.joined()
    }

    static func text(hex: String) -> String {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func compare(_ records: [[String: Any]], with truth: [[String: Any]], name: String) throws {
        func fail(_ text: String) -> Mismatch { Mismatch(description: "\(name): \(text)") }
        var byKey: [String: [String: Any]] = [:]
        for record in records {
            byKey["\(record["db"] as! Int)/\(try hex(record["key"]!))"] = record
        }
        guard byKey.count == truth.count else { throw fail("\(byKey.count) records, ground truth has \(truth.count)") }
        for want in truth {
            let id = "\(want["db"] as! Int)/\(want["key"] as! String)"
            guard let record = byKey[id] else { throw fail("missing \(id)") }
            guard record["type"] as? String == want["type"] as? String else { throw fail("\(id): type") }
            guard (record["expire_at_ms"] as? Int) == (want["expire_at_ms"] as? Int) else {
                throw fail("\(id): expiry")
            }
            if let frequency = want["lfu_freq"] as? Int, record["freq"] as? Int != frequency {
                throw fail("\(id): freq")
            }
            if want["lru_idle"] is Int, !(record["idle"] is Int) { throw fail("\(id): idle") }
            let value = record["value"]!
            let expected = want["value"]!
            switch want["type"] as! String {
            case "string":
                guard try hex(value) == expected as? String else { throw fail("\(id): string value") }
            case "list":
                guard try (value as! [Any]).map(hex) == expected as? [String] else { throw fail("\(id): list") }
            case "set":
                guard try (value as! [Any]).map(hex).sorted() == expected as? [String] else { throw fail("\(id): set") }
            case "zset":
                let ours = try (value as! [[Any]]).map { pair -> [String] in
                    let score = pair[1] as? String ?? (pair[1] as! NSNumber).stringValue
                    return [try hex(pair[0]), score]
                }
                let theirs = expected as! [[String]]
                guard ours.count == theirs.count else { throw fail("\(id): zset size") }
                for pair in theirs {
                    guard let match = ours.first(where: { $0[0] == pair[0] }),
                        Self.score(match[1]) == Self.score(pair[1])
                    else {
                        throw fail("\(id): zset member \(pair)")
                    }
                }
            case "hash":
                let ours = try (value as! [[Any]]).map { item -> [String] in
                    try [hex(item[0]), hex(item[1])]
                        + (item.count > 2 ? [(item[2] as? NSNumber)?.stringValue ?? "null"] : [])
                }.sorted { $0[0] < $1[0] }
                let theirs = (expected as! [[Any]]).map { item -> [String] in
                    [item[0] as! String, item[1] as! String]
                        + (item.count > 2 ? [(item[2] as? NSNumber)?.stringValue ?? "null"] : [])
                }
                guard ours == theirs else { throw fail("\(id): hash \(ours) != \(theirs)") }
            case "stream":
                let ours = value as! [String: Any]
                let theirs = expected as! [String: Any]
                let entries = try (ours["entries"] as! [[String: Any]]).map { entry -> [String] in
                    [entry["id"] as! String]
                        + (try (entry["fields"] as! [[Any]]).flatMap { try [hex($0[0]), hex($0[1])] })
                }
                let wanted = (theirs["entries"] as! [[String: Any]]).map { entry -> [String] in
                    [entry["id"] as! String] + (entry["fields"] as! [[String]]).flatMap { $0 }
                }
                guard entries == wanted, ours["last_id"] as? String == theirs["last_id"] as? String,
                    ours["length"] as? Int == theirs["length"] as? Int,
                    (ours["groups"] as! [Any]).count == (theirs["groups"] as! [Any]).count
                else { throw fail("\(id): stream") }
            case "module":
                let ours = value as! [String: Any]
                let theirs = expected as! [String: Any]
                guard ours["module_name"] as? String == theirs["module_name"] as? String,
                    ours["encoding_version"] as? Int == theirs["encoding_version"] as? Int,
                    (ours["data"] as! [[Any]]).count == (theirs["data"] as! [[Any]]).count
                else { throw fail("\(id): module") }
            default:
                throw fail("\(id): unknown type")
            }
        }
    }

    static func score(_ text: String) -> Double? {
        switch text {
        case "inf", "+inf": .infinity
        case "-inf": -.infinity
        default: Double(text)
        }
    }
}

/// Parses RESP multibulk commands (what --to resp writes).
enum RESPCommands {
    struct Malformed: Error {}

    static func parse(_ bytes: [UInt8]) throws -> [[String]] {
        var commands: [[String]] = []
        var index = 0
        func line() throws -> String {
            guard let end = bytes[index...].firstIndex(of: 0x0D), end + 1 < bytes.count, bytes[end + 1] == 0x0A else {
                throw Malformed()
            }
            defer { index = end + 2 }
            return String(decoding: bytes[index..<end], as: UTF8.self)
        }
        while index < bytes.count {
            let header = try line()
            guard header.first == "*", let count = Int(header.dropFirst()) else { throw Malformed() }
            var command: [String] = []
            for _ in 0..<count {
                let size = try line()
                guard size.first == "$", let length = Int(size.dropFirst()), index + length + 2 <= bytes.count else {
                    throw Malformed()
                }
                command.append(String(decoding: bytes[index..<(index + length)], as: UTF8.self))
                index += length + 2
            }
            commands.append(command)
        }
        return commands
    }
}

/// Parses memory-csv output (RFC 4180 quoting, keys as raw bytes).
enum MemoryCSV {
    struct Row: CustomStringConvertible {
        var database: Int
        var type: String
        var key: [UInt8]
        var size: Int
        var encoding: String
        var elements: Int
        var largest: Int
        var expiry: String

        var description: String { "\(database) \(String(decoding: key, as: UTF8.self)) \(type) \(encoding) \(size)" }
    }

    struct Malformed: Error {}

    static func rows(_ bytes: [UInt8]) throws -> [Row] {
        var records: [[[UInt8]]] = []
        var record: [[UInt8]] = []
        var field: [UInt8] = []
        var quoted = false
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if quoted {
                if byte == UInt8(ascii: "\"") {
                    if index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "\"") {
                        field.append(byte)
                        index += 1
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(byte)
                }
            } else if byte == UInt8(ascii: "\"") {
                quoted = true
            } else if byte == UInt8(ascii: ",") {
                record.append(field)
                field = []
            } else if byte == 0x0A {
                record.append(field)
                records.append(record)
                record = []
                field = []
            } else {
                field.append(byte)
            }
            index += 1
        }
        guard
            records.first?.map({ String(decoding: $0, as: UTF8.self) }).joined(separator: ",")
                == "database,type,key,size_in_bytes,encoding,num_elements,len_largest_element,expiry"
        else { throw Malformed() }
        return try records.dropFirst().map { fields in
            guard fields.count == 8 else { throw Malformed() }
            let text = fields.map { String(decoding: $0, as: UTF8.self) }
            guard let database = Int(text[0]), let size = Int(text[3]), let elements = Int(text[5]),
                let largest = Int(text[6])
            else {
                throw Malformed()
            }
            return Row(
                database: database, type: text[1], key: fields[2], size: size, encoding: text[4], elements: elements,
                largest: largest,
                expiry: text[7])
        }
    }
}

// MARK: - Against a real Redis 7.0


@Suite(.serialized, .enabled(if: Paths.shouldRun(needing: "redis-server"), "redis-server is not installed (make deps)"))
struct ConvertAgainstRedisTests {
    /// RDB → RESP piped into a real Redis 7.0 with redis-cli --pipe: SAVE, then our reader must find the
    /// fixture's ground truth in the server's dump.
    @Test(arguments: ["redis-7.0-encodings", "redis-6.2-encodings"])
    func respRebuildsTheDataset(_ name: String) throws {
        let directory = try ConvertToolTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try RedisServer(
            binary: try #require(RedisServer.redis70, "Redis 7.0 is missing"), port: 7480, directory: directory)
        defer { server.stop() }
        #expect(try server.version().hasPrefix("7."), "the RESP output uses Redis 7.0 syntax (XSETID ENTRIESADDED)")
        let fixture = Paths.rdbFixtures.appendingPathComponent("\(name).rdb").path
        let resp = directory.appendingPathComponent("\(name).resp").path
        let converted = try ConvertToolTests.convert([fixture, "--to", "resp", "-o", resp])
        #expect(converted.status == 0, "\(converted.standardError)")
        let piped = try run("/bin/sh", ["-c", "'\(server.cli)' -p \(server.port) --pipe < '\(resp)'"])
        #expect(piped.status == 0)
        #expect(piped.standardOutput.contains("errors: 0,"), "\(piped.standardOutput)")
        #expect(try server.command(["SAVE"]) == "OK\n")
        let dump = Array(try Data(contentsOf: directory.appendingPathComponent("dump.rdb")))
        let truth = try Self.truthForReplay(fixture, dump: dump)
        #expect(
            try GroundTruth.check(rdb: dump, json: truth, name: "\(name) via RESP")
                == (try ConvertToolTests.truthKeys(fixture)).count)
    }

    /// The ground truth, less what commands cannot set: the RDB version (the server writes its own) and each
    /// stream consumer's seen / active time (XCLAIM and XGROUP CREATECONSUMER stamp the current time; those
    /// come from the server's dump).
    static func truthForReplay(_ fixture: String, dump: [UInt8]) throws -> Data {
        var document = try #require(
            try JSONSerialization.jsonObject(with: ConvertToolTests.groundTruth(fixture)) as? [String: Any])
        document.removeValue(forKey: "rdb_version")
        var times: [String: RDBStreamConsumer] = [:]
        for entry in try readAll(dump).entries {
            guard case .stream(let stream) = entry.value else { continue }
            for group in stream.groups {
                for consumer in group.consumers {
                    times[
                        [
                            String(entry.header.database), GroundTruth.hex(entry.header.key),
                            GroundTruth.hex(group.name),
                            GroundTruth.hex(consumer.name),
                        ].joined(separator: "/")
                    ] = consumer
                }
            }
        }
        var keys = try #require(document["keys"] as? [[String: Any]])
        for index in keys.indices where keys[index]["type"] as? String == "stream" {
            var value = try #require(keys[index]["value"] as? [String: Any])
            var groups = try #require(value["groups"] as? [[String: Any]])
            for groupIndex in groups.indices {
                var consumers = try #require(groups[groupIndex]["consumers"] as? [[String: Any]])
                for consumerIndex in consumers.indices {
                    let id =
                        [
                            keys[index]["db"]!, keys[index]["key"]!, groups[groupIndex]["name"]!,
                            consumers[consumerIndex]["name"]!,
                        ]
                        .map { "\($0)" }.joined(separator: "/")
                    let replayed = try #require(times[id], "consumer \(id) missing after the replay")
                    consumers[consumerIndex]["seen_time_ms"] = Int(replayed.seenTimeMilliseconds)
                    consumers[consumerIndex].removeValue(forKey: "active_time_ms")
                }
                groups[groupIndex]["consumers"] = consumers
            }
            value["groups"] = groups
            keys[index]["value"] = value
        }
        document["keys"] = keys
        return try JSONSerialization.data(withJSONObject: document)
    }

    /// memory-csv against MEMORY USAGE (SAMPLES 0: every element counted) of each key of a real Redis 7.0
    /// that loaded the same fixture. README records the figures.
    @Test(arguments: ["redis-7.0-encodings", "redis-6.2-encodings"])
    func memoryEstimateAgreesWithMemoryUsage(_ name: String) throws {
        let directory = try ConvertToolTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let fixture = Paths.rdbFixtures.appendingPathComponent("\(name).rdb")
        try FileManager.default.copyItem(at: fixture, to: directory.appendingPathComponent("\(name).rdb"))
        let server = try RedisServer(
            binary: try #require(RedisServer.redis70, "Redis 7.0 is missing"), port: 7481, directory: directory,
            dbfilename: "\(name).rdb")
        defer { server.stop() }
        #expect(try server.version().hasPrefix("7."))

        let rows = try MemoryCSV.rows(try ConvertToolTests.convertToBytes([fixture.path, "--to", "memory-csv"]))
        var lines: [String] = []
        for row in rows {
            lines.append("SELECT \(row.database)")
            lines.append("MEMORY USAGE \"\(row.key.map { String(format: "\\x%02x", $0) }.joined())\" SAMPLES 0")
        }
        let replies = try server.client([], input: Array((lines.joined(separator: "\n") + "\n").utf8)).standardOutput
            .split(separator: "\n", omittingEmptySubsequences: false)
        var ratios: [(ratio: Double, row: MemoryCSV.Row, actual: Int)] = []
        for (index, row) in rows.enumerated() {
            let actual = try #require(Int(replies[2 * index + 1]), "no MEMORY USAGE for \(row)")
            ratios.append((Double(row.size) / Double(actual), row, actual))
        }
        let sorted = ratios.map(\.ratio).sorted()
        let median = sorted[sorted.count / 2]
        let worst = try #require(ratios.max { max($0.ratio, 1 / $0.ratio) < max($1.ratio, 1 / $1.ratio) })
        let exact = ratios.filter { abs($0.ratio - 1) < 0.005 }.count
        print(
            "memory-csv vs MEMORY USAGE (\(name), \(rows.count) keys): median ratio \(median), \(exact) within 0.5%,"
                + " worst \(worst.ratio) for \(worst.row) (MEMORY USAGE \(worst.actual))"
        )
        #expect(median >= 0.5 && median <= 2)
        #expect(
            worst.ratio >= 0.5 && worst.ratio <= 2,
            "\(worst.row): estimate \(worst.row.size), MEMORY USAGE \(worst.actual)")
    }
}

/// The built tool's RDB output at versions 6, 9 and 10 is loaded by the real servers with the same dataset;
/// the Redis 7.0 dump downgraded to version 6 loads into Redis 6.2.
@Suite(.serialized, .enabled(if: Paths.shouldRun(needing: "redis-server"), "redis-server is not installed (make deps)"))
struct ConvertedRDBLoadsInRedisTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var fixture: String
        var version: Int
        var server: String
        var testDescription: String { "\(fixture) at RDB \(version) into Redis \(server)" }
    }

    static let cases = [
        Case(fixture: "redis-7.0-encodings", version: 6, server: "7.0"),
        Case(fixture: "redis-7.0-encodings", version: 9, server: "7.0"),
        Case(fixture: "redis-7.0-encodings", version: 10, server: "7.0"),
        Case(fixture: "redis-7.0-encodings", version: 6, server: "6.2"),
        Case(fixture: "redis-6.2-encodings", version: 9, server: "6.2"),
        Case(fixture: "redis-6.2-encodings", version: 10, server: "7.0"),
    ]

    @Test(arguments: cases)
    func convertedDumpLoads(_ test: Case) throws {
        let binary = try #require(test.server == "7.0" ? RedisServer.redis70 : RedisServer.redis62, "Redis \(test.server) is missing")
        let directory = try ConvertToolTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let fixture = Paths.rdbFixtures.appendingPathComponent("\(test.fixture).rdb").path
        let output = directory.appendingPathComponent("dump.rdb").path
        let converted = try ConvertToolTests.convert(
            [fixture, "--to", "rdb", "--rdb-version", String(test.version), "--skip-unsupported", "-o", output])
        #expect(converted.status == 0, "\(converted.standardError)")
        let server = try RedisServer(binary: binary, port: 7490 + test.version, directory: directory)
        try server.command(["SAVE"])
        server.stop()

        // Expected: the fixture less what the version cannot hold (streams before 9, functions before 10 or on 6.2).
        let (info, entries) = try readAll(Array(try Data(contentsOf: URL(fileURLWithPath: fixture))))
        let kept = entries.filter { test.version >= 9 || $0.header.type.kind != .stream }
        let keepsFunctions = test.version >= 10 && test.server == "7.0"
        let scope = NormalizedDataset.Scope(streamMetadata: false)
        let expected = NormalizedDataset(entries: kept, functions: keepsFunctions ? info.functions : [], scope: scope)
        var actual = try normalized(Array(try Data(contentsOf: URL(fileURLWithPath: output))), scope: scope)
        if !keepsFunctions { actual.functions = [] }
        let difference = actual.difference(from: expected)
        #expect(difference.isEmpty, "\(test.testDescription):\n\(difference)\n\(server.log.suffix(1000))")
        // The skipped keys were reported on standard error, one line each.
        let skippedStreams = entries.count - kept.count
        #expect(converted.standardError.split(separator: "\n").filter { $0.contains("skipped") }.count >= skippedStreams)
    }
}

/// A key larger than the memory the tools use: RDB → RDB conversion and checking keep their peak memory far
/// below the key's size (measured with /usr/bin/time).
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/time") || Paths.isCI, "/usr/bin/time is not installed (apt-get install time)"))
struct BoundedMemoryTests {
    @Test func hugeKeyPassesThroughInBoundedMemory() throws {
        let directory = try ConvertToolTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("huge.rdb").path
        // One list of 600,000 incompressible 100-byte items: a 60 MB key.
        var options = RDBWriteOptions()
        options.compression = false
        var writer = RDBWriter(sink: try FileSink(path: input), options: options)
        try writer.writeHeader()
        try writer.beginKey(RDBKeyHeader(database: 0, key: ByteBuffer(string: "huge"), type: .listQuicklist2))
        var generator = SplitMix64(seed: 11)
        for _ in 0..<600_000 {
            var item = ByteBuffer()
            for _ in 0..<12 { item.writeInteger(generator.next()) }
            item.writeInteger(UInt32(truncatingIfNeeded: generator.next()))
            try writer.writeElement(.listItem(.bytes(item)))
        }
        try writer.endKey()
        try writer.finish()
        let size = try FileManager.default.attributesOfItem(atPath: input)[.size] as! Int
        #expect(size > 60_000_000)

        let output = directory.appendingPathComponent("out.rdb").path
        let tool = try #require(Paths.builtProduct("redis-convert"))
        let measured = try run("/usr/bin/time", ["-f", "%M", tool, input, "--to", "rdb", "--rdb-version", "9", "-o", output])
        #expect(measured.status == 0, "\(measured.standardError)")
        let peakKiB = Int(measured.standardError.split(separator: "\n").last ?? "") ?? .max
        // Measured against the same conversion of a small fixture: the debug binary alone peaks at about 28 MiB,
        // and the bounded buffers (the writer's 8 MiB spool threshold, the read-ahead queue, staging) come on
        // top whatever the key's size.
        let small = try run(
            "/usr/bin/time",
            ["-f", "%M", tool, Paths.rdbFixtures.appendingPathComponent("redis-7.0-encodings.rdb").path, "--to", "rdb",
             "--rdb-version", "9", "-o", directory.appendingPathComponent("small.rdb").path])
        let baseKiB = Int(small.standardError.split(separator: "\n").last ?? "") ?? 0
        print("redis-convert peak RSS: \(peakKiB) KiB for a 60 MB key, \(baseKiB) KiB for a small file")
        #expect(peakKiB - baseKiB < 20 * 1024, "peak RSS \(peakKiB) KiB for a 60 MB key, \(baseKiB) KiB for a small file")

        let checker = try #require(Paths.builtProduct("redis-check-dump"))
        let checked = try run("/usr/bin/time", ["-f", "%M", checker, "--json", output])
        #expect(checked.status == 0)
        #expect(checked.standardOutput.contains("\"keys\":1"))
        let checkKiB = Int(checked.standardError.split(separator: "\n").last ?? "") ?? .max
        #expect(checkKiB < 40 * 1024, "check peak RSS \(checkKiB) KiB")
    }
}
