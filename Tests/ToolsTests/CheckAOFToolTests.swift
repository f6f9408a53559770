import Foundation
import Formats
import NIOCore
import TestSupport
import Testing

/// Runs the built `redis-check-aof` on Redis's derived samples (the 7.4.1 outputs listed in
/// `../shared/fixtures/redis-assets/README.md` §2.2/§2.3), on real Redis 7.0 AOFs, and repairs.
@Suite struct CheckAOFToolTests {
    static let tool = Paths.builtProduct("redis-check-aof")
    static let derived = Paths.sharedAssets.appendingPathComponent("derived")
    static let aofFixtures = Paths.root.appendingPathComponent("Fixtures/aof")

    static func check(_ arguments: [String], input: [UInt8]? = nil, in directory: URL? = nil) throws -> ProcessResult {
        let tool = try #require(Self.tool, "redis-check-aof was not built")
        guard let directory else { return try run(tool, arguments, input: input) }
        // Run from `directory` so that names print as Redis's tests print them (relative).
        let quoted = ([tool] + arguments).map { "'\($0)'" }.joined(separator: " ")
        return try run("/bin/sh", ["-c", "cd '\(directory.path)' && exec \(quoted)"], input: input)
    }

    static func temporaryDirectory() throws -> URL {
        try RedisServer.temporaryDirectory("checkaof")
    }

    /// Copies files (read in place from ../shared or Fixtures) into a fresh directory.
    static func copy(_ sources: [URL], into directory: URL) throws {
        for source in sources {
            let target = directory.appendingPathComponent(source.lastPathComponent)
            try Data(contentsOf: source).write(to: target)
        }
    }

    static func bytes(_ url: URL) throws -> [UInt8] { Array(try Data(contentsOf: url)) }

    static func lines(_ result: ProcessResult) -> [String] {
        result.standardOutput.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    static func json(_ result: ProcessResult) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
    }

    static func backups(in directory: URL) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { $0.lastPathComponent.contains(".truncated-") }
    }

    // MARK: - Redis's samples (7.4.1 column)

    static let sampleOutputs: [(String, [String], Int32)] = [
        ("ok.aof", ["AOF analyzed: filename=ok.aof, size=56, ok_up_to=56, ok_up_to_line=13, diff=0", "AOF ok.aof is valid"], 0),
        ("truncated.aof", [
            "0x              52: Expected to read 7 bytes, got 3 bytes",
            "AOF analyzed: filename=truncated.aof, size=85, ok_up_to=56, ok_up_to_line=19, diff=29",
            "AOF truncated.aof is not valid. Use the --fix option to try fixing it.",
        ], 1),
        ("badformat.aof", [
            "AOF badformat.aof format error",
            "AOF analyzed: filename=badformat.aof, size=61, ok_up_to=56, ok_up_to_line=13, diff=5",
            "AOF badformat.aof is not valid. Use the --fix option to try fixing it.",
        ], 1),
        ("unfinished-multi.aof", [
            "0x              61: Reached EOF before reading EXEC for MULTI",
            "AOF analyzed: filename=unfinished-multi.aof, size=104, ok_up_to=56, ok_up_to_line=23, diff=48",
            "AOF unfinished-multi.aof is not valid. Use the --fix option to try fixing it.",
        ], 1),
        ("empty.aof", ["AOF empty.aof is empty"], 0),
    ]

    @Test(.enabled(if: Paths.sharedAssetsPresent || Paths.isCI, "shared/fixtures/redis-assets is not beside the checkout"))
    func samplesGiveRedisOutput() throws {
        for (name, expected, status) in Self.sampleOutputs {
            let result = try Self.check([name], in: Self.derived)
            #expect(result.status == status, "\(name)")
            #expect(Self.lines(result) == ["Start checking Old-Style AOF"] + expected + [""], "\(name)")
        }
    }

    @Test(.enabled(if: Paths.sharedAssetsPresent || Paths.isCI, "shared/fixtures/redis-assets is not beside the checkout"))
    func preambleAOF() throws {
        let result = try Self.check(["rdb-preamble.aof"], in: Paths.sharedAssets)
        #expect(result.status == 0)
        let lines = Self.lines(result)
        #expect(lines.first == "Start checking Old-Style AOF")
        #expect(lines.contains("RDB preamble is OK, proceeding with AOF tail..."))
        #expect(lines.contains("AOF analyzed: filename=rdb-preamble.aof, size=169, ok_up_to=169, ok_up_to_line=13, diff=0"))
        #expect(lines.contains("AOF rdb-preamble.aof is valid"))
    }

    @Test(.enabled(if: Paths.sharedAssetsPresent || Paths.isCI, "shared/fixtures/redis-assets is not beside the checkout"))
    func multiPartSample() throws {
        let sample = Self.derived.appendingPathComponent("multipart/appendonlydir")
        for argument in ["appendonly.aof.manifest", "."] {
            let result = try Self.check([argument], in: sample)
            #expect(result.status == 0)
            let lines = Self.lines(result).filter { !$0.hasPrefix("[") }
            #expect(
                lines == [
                    "Start checking Multi Part AOF", "Start to check BASE AOF (RDB format).",
                    "RDB preamble is OK, proceeding with AOF tail...",
                    "AOF analyzed: filename=appendonly.aof.1.base.rdb, size=169, ok_up_to=169, ok_up_to_line=13, diff=0",
                    "BASE AOF appendonly.aof.1.base.rdb is valid", "Start to check INCR files.",
                    "AOF analyzed: filename=appendonly.aof.1.incr.aof, size=147, ok_up_to=147, ok_up_to_line=34, diff=0",
                    "INCR AOF appendonly.aof.1.incr.aof is valid", "All AOF files and manifest are valid", "",
                ], "\(argument)")
        }
    }

    @Test(.enabled(if: Paths.sharedAssetsPresent || Paths.isCI, "shared/fixtures/redis-assets is not beside the checkout"))
    func truncateToTimestamp() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let sample = Self.derived.appendingPathComponent("multipart/appendonlydir")
        try Self.copy(
            ["appendonly.aof.1.base.rdb", "appendonly.aof.1.incr.aof", "appendonly.aof.manifest"].map {
                sample.appendingPathComponent($0)
            }, into: directory)
        let incr = directory.appendingPathComponent("appendonly.aof.1.incr.aof")
        let original = try Self.bytes(incr)

        let first = try Self.check(["--truncate-to-timestamp", "1628217471", "appendonly.aof.manifest"], in: directory)
        #expect(first.status == 0)
        #expect(first.standardOutput.contains("Truncate nothing in AOF appendonly.aof.1.base.rdb to timestamp 1628217471\n"))
        #expect(first.standardOutput.contains("Successfully truncated AOF appendonly.aof.1.incr.aof to timestamp 1628217471\n"))
        #expect(try Self.bytes(incr) == Array(original.prefix(98)))
        let kept = try #require(try Self.backups(in: directory).first)
        #expect(try Self.bytes(kept) == Array(original.dropFirst(98)))

        let again = try Self.check(["--truncate-to-timestamp", "1628217471", "appendonly.aof.manifest"], in: directory)
        #expect(again.status == 0)
        #expect(again.standardOutput.contains("Truncate nothing in AOF appendonly.aof.1.incr.aof to timestamp 1628217471\n"))

        let early = try Self.check(["--truncate-to-timestamp", "1628217469", "appendonly.aof.manifest"], in: directory)
        #expect(early.status == 1)
        #expect(early.standardOutput.contains("AOF ./appendonly.aof.1.incr.aof has nothing before timestamp 1628217469, aborting...\n"))
        #expect(try Self.bytes(incr) == Array(original.prefix(98)))
    }

    // MARK: - Repair

    @Test(.enabled(if: Paths.sharedAssetsPresent || Paths.isCI, "shared/fixtures/redis-assets is not beside the checkout"))
    func fixWithYesRestoresOkAndKeepsTheCut() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.copy([Self.derived.appendingPathComponent("truncated.aof")], into: directory)
        let original = try Self.bytes(directory.appendingPathComponent("truncated.aof"))
        let result = try Self.check(["--fix", "--yes", "truncated.aof"], in: directory)
        #expect(result.status == 0)
        let lines = Self.lines(result)
        #expect(lines.contains("This will shrink the AOF truncated.aof from 85 bytes, with 29 bytes, to 56 bytes"))
        #expect(lines.contains("Successfully truncated AOF truncated.aof"))
        #expect(!result.standardOutput.contains("Continue?"))
        #expect(try Self.bytes(directory.appendingPathComponent("truncated.aof")) == Self.bytes(Self.derived.appendingPathComponent("ok.aof")))
        let kept = try Self.backups(in: directory)
        #expect(kept.count == 1)
        #expect(kept.first?.lastPathComponent.hasPrefix("truncated.aof.truncated-") == true)
        #expect(try kept.first.map(Self.bytes) == Array(original.dropFirst(56)))
        // The repaired file checks valid.
        #expect(try Self.check(["truncated.aof"], in: directory).status == 0)
    }

    @Test(.enabled(if: Paths.sharedAssetsPresent || Paths.isCI, "shared/fixtures/redis-assets is not beside the checkout"))
    func promptAnswers() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.copy([Self.derived.appendingPathComponent("truncated.aof")], into: directory)
        let file = directory.appendingPathComponent("truncated.aof")
        let original = try Self.bytes(file)
        for answer in ["n\n", "", "no\n", "x\n"] {
            let result = try Self.check(["--fix", "truncated.aof"], input: Array(answer.utf8), in: directory)
            #expect(result.status == 1, "\(answer.debugDescription)")
            #expect(result.standardOutput.contains("Continue? [y/N]: Aborting...\n"), "\(answer.debugDescription)")
            #expect(try Self.bytes(file) == original)
            #expect(try Self.backups(in: directory).isEmpty)
        }
        let yes = try Self.check(["--fix", "truncated.aof"], input: Array("Y\n".utf8), in: directory)
        #expect(yes.status == 0)
        #expect(yes.standardOutput.contains("Continue? [y/N]: "))
        #expect(yes.standardOutput.hasSuffix("Successfully truncated AOF truncated.aof\n"))
        #expect(try Self.bytes(file).count == 56)
    }

    @Test(.enabled(if: Paths.sharedAssetsPresent || Paths.isCI, "shared/fixtures/redis-assets is not beside the checkout"))
    func unfinishedMultiIsCutWholeAndCorruptionIsLeftAlone() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.copy(["unfinished-multi.aof", "badformat.aof"].map { Self.derived.appendingPathComponent($0) }, into: directory)
        let multi = try Self.check(["--fix", "--yes", "unfinished-multi.aof"], in: directory)
        #expect(multi.status == 0)
        #expect(try Self.bytes(directory.appendingPathComponent("unfinished-multi.aof")) == Self.bytes(Self.derived.appendingPathComponent("ok.aof")))

        let bad = try Self.check(["--fix", "--yes", "badformat.aof"], in: directory)
        #expect(bad.status == 1)
        #expect(bad.standardOutput.contains("is corrupt, not truncated. Nothing was changed."))
        #expect(try Self.bytes(directory.appendingPathComponent("badformat.aof")) == Self.bytes(Self.derived.appendingPathComponent("badformat.aof")))
    }

    /// Damage in a file that is not the last one: reported with the file and offset, nothing changed.
    @Test func damageBeforeTheLastFileIsNotCut() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = Self.aofFixtures.appendingPathComponent("redis-7.0-resp-rewrite/appendonlydir")
        let names = try FileManager.default.contentsOfDirectory(atPath: source.path)
        try Self.copy(names.map { source.appendingPathComponent($0) }, into: directory)
        let base = directory.appendingPathComponent("appendonly.aof.2.base.aof")
        let cut = Array(try Self.bytes(base).dropLast(3))
        try Data(cut).write(to: base)
        let result = try Self.check(["--fix", "--yes", "appendonly.aof.manifest"], in: directory)
        #expect(result.status == 1)
        #expect(result.standardOutput.contains("Failed to truncate AOF appendonly.aof.2.base.aof because it is not the last file\n"))
        #expect(result.standardOutput.contains("Nothing was changed"))
        #expect(try Self.bytes(base) == cut)
        #expect(try Self.backups(in: directory).isEmpty)
    }

    @Test func damagedRDBBaseIsNeverFixed() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = Self.aofFixtures.appendingPathComponent("redis-7.0-preamble-rewrite/appendonlydir")
        let names = try FileManager.default.contentsOfDirectory(atPath: source.path)
        try Self.copy(names.map { source.appendingPathComponent($0) }, into: directory)
        let base = directory.appendingPathComponent("appendonly.aof.2.base.rdb")
        var bytes = try Self.bytes(base)
        bytes[bytes.count - 3] ^= 0xff  // inside the CRC64 trailer
        try Data(bytes).write(to: base)
        let result = try Self.check(["--fix", "--yes", "appendonly.aof.manifest"], in: directory)
        #expect(result.status == 1)
        #expect(result.standardOutput.contains("RDB preamble of AOF file is not sane, aborting.\n"))
        #expect(try Self.bytes(base) == bytes)
    }

    @Test func manifestErrorsUseRedisBanner() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let manifest = directory.appendingPathComponent("appendonly.aof.manifest")
        try Data("file a.aof seq 2 type i\nfile b.aof seq 1 type i\n".utf8).write(to: manifest)
        let result = try Self.check([manifest.path])
        #expect(result.status == 1)
        #expect(result.standardOutput.contains("*** FATAL AOF MANIFEST FILE ERROR ***"))
        #expect(result.standardOutput.contains("Reading the manifest file, at line 2\n>>> 'file b.aof seq 1 type i'\nFound a non-monotonic sequence number"))
        try Data("file a.aof seq 1 type i\n".utf8).write(to: manifest)
        let missing = try Self.check([manifest.path])
        #expect(missing.status == 1)
        #expect(missing.standardOutput.contains("Cannot open file \(directory.path)/a.aof"))
    }

    // MARK: - Beyond Redis

    @Test(.enabled(if: Paths.sharedAssetsPresent || Paths.isCI, "shared/fixtures/redis-assets is not beside the checkout"))
    func jsonReport() throws {
        let result = try Self.check(["--json", "truncated.aof"], in: Self.derived)
        #expect(result.status == 1)
        let report = try Self.json(result)
        #expect(report["valid"] as? Bool == false)
        let files = try #require(report["files"] as? [[String: Any]])
        #expect(files.count == 1)
        #expect(files[0]["name"] as? String == "truncated.aof")
        #expect(files[0]["kind"] as? String == "aof")
        #expect(files[0]["size"] as? Int == 85)
        #expect(files[0]["ok_up_to"] as? Int == 56)
        #expect(files[0]["ok_up_to_line"] as? Int == 19)
        #expect(files[0]["diff"] as? Int == 29)
        let error = try #require(files[0]["error"] as? [String: Any])
        #expect(error["code"] as? String == "truncated")
        #expect(error["offset"] as? Int == 56)
        let valid = try Self.json(try Self.check(["--json", "multipart/appendonlydir"], in: Self.derived))
        #expect(valid["valid"] as? Bool == true)
        #expect((valid["files"] as? [[String: Any]])?.map { $0["kind"] as? String } == ["base-rdb", "incr"])
    }

    @Test func suspiciousCommandsDoNotAffectValidity() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("odd.aof")
        try Data("*2\r\n$7\r\nFOOBARX\r\n$1\r\na\r\n*1\r\n$3\r\nset\r\n*3\r\n$3\r\nset\r\n$1\r\nk\r\n$1\r\nv\r\n".utf8).write(to: file)
        let text = try Self.check([file.path])
        #expect(text.status == 0)
        #expect(text.standardError.contains("suspicious: 0x               0: unknown command 'FOOBARX'"))
        #expect(text.standardError.contains("suspicious: 0x              18: wrong number of arguments for 'set': 1"))
        let report = try Self.json(try Self.check(["--json", file.path]))
        #expect(report["valid"] as? Bool == true)
        let suspicious = try #require(report["suspicious"] as? [[String: Any]])
        #expect(suspicious.map { $0["offset"] as? Int } == [0, 24])
        #expect(suspicious.map { $0["line"] as? Int } == [1, 6])
    }

    // MARK: - Gzip input

    /// The report lines that do not depend on the file's name or compression.
    static func gzipNeutral(_ result: ProcessResult, name: String) -> [String] {
        lines(result).filter { !$0.contains("is gzip-compressed") }.map { $0.replacingOccurrences(of: name, with: "NAME") }
    }

    static let gzipSample = Array(
        ("*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n#TS:1700000000\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n"
            + "#TS:1700000005\r\n*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n*1\r\n$4\r\nEXEC\r\n").utf8)

    /// A gzip file gives the plain file's report (sizes and offsets of the decompressed data), with a note.
    @Test func gzipSingleFileIsCheckedLikeThePlainOne() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let cuts = [Self.gzipSample.count, 70, Self.gzipSample.count - 3, 60]
        for cut in cuts {
            let plainBytes = Array(Self.gzipSample.prefix(cut))
            try Data(plainBytes).write(to: directory.appendingPathComponent("p.aof"))
            try Data(try gzipped(plainBytes)).write(to: directory.appendingPathComponent("g.aof.gz"))
            let plain = try Self.check(["p.aof"], in: directory)
            let compressed = try Self.check(["g.aof.gz"], in: directory)
            #expect(compressed.status == plain.status, "cut \(cut)")
            #expect(compressed.standardOutput.contains("AOF g.aof.gz is gzip-compressed: sizes and offsets are those of the decompressed data\n"))
            #expect(Self.gzipNeutral(compressed, name: "g.aof.gz") == Self.gzipNeutral(plain, name: "p.aof"), "cut \(cut)")
            let report = try Self.json(try Self.check(["--json", "g.aof.gz"], in: directory))
            let files = try #require(report["files"] as? [[String: Any]])
            #expect(files.first?["gzip"] as? Bool == true)
            #expect(files.first?["size"] as? Int == cut)
        }
        #expect(try Self.check(["g.aof.gz"], in: directory).status == 1)  // the last cut is inside a command
    }

    @Test func gzipPreambleAOFIsChecked() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let base = Self.aofFixtures.appendingPathComponent("redis-7.0-preamble-rewrite/appendonlydir/appendonly.aof.2.base.rdb")
        let bytes = try Self.bytes(base) + Array("*1\r\n$4\r\nPING\r\n".utf8)
        try Data(try gzipped(bytes)).write(to: directory.appendingPathComponent("preamble.aof.gz"))
        let result = try Self.check(["preamble.aof.gz"], in: directory)
        #expect(result.status == 0, "\(result.standardOutput)")
        #expect(result.standardOutput.contains("RDB preamble is OK, proceeding with AOF tail..."))
        #expect(result.standardOutput.contains("size=\(bytes.count), ok_up_to=\(bytes.count),"))
        #expect(result.standardOutput.hasSuffix("AOF preamble.aof.gz is valid\n"))
    }

    /// Damaged compressed data (a cut .gz file) is reported at its decompressed offset; never fixed.
    @Test func damagedGzipIsNotValid() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let compressed = try gzipped(Self.gzipSample)
        let file = directory.appendingPathComponent("cut.aof.gz")
        try Data(compressed.dropLast(4)).write(to: file)  // the gzip trailer is incomplete
        let result = try Self.check([file.path])
        #expect(result.status == 1)
        #expect(result.standardOutput.contains("gzip stream ends before its trailer"))
        #expect(result.standardOutput.contains("is not valid"))
    }

    @Test func gzipIsNeverCut() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("t.aof.gz")
        let compressed = try gzipped(Array(Self.gzipSample.dropLast(3)))
        try Data(compressed).write(to: file)
        let fixed = try Self.check(["--fix", "--yes", "t.aof.gz"], in: directory)
        #expect(fixed.status == 1)
        #expect(fixed.standardOutput.contains(
            "Cannot fix AOF t.aof.gz: it is gzip-compressed, and the cut would be at offset 82 of the decompressed data. Decompress it (gzip -d), then run --fix on the plain file. Nothing was changed.\n"))
        let timestamp = try Self.check(["--truncate-to-timestamp", "1700000001", "t.aof.gz"], in: directory)
        #expect(timestamp.status == 1)
        #expect(timestamp.standardOutput.contains("Cannot truncate AOF t.aof.gz to timestamp 1700000001: it is gzip-compressed"))
        #expect(try Self.bytes(file) == compressed)
        #expect(try Self.backups(in: directory).isEmpty)
        // Nothing to cut: the report only.
        try Data(try gzipped(Self.gzipSample)).write(to: file)
        #expect(try Self.check(["--fix", "--yes", "t.aof.gz"], in: directory).status == 0)
    }

    /// Redis loads the files of a manifest as they are: a compressed one (or manifest) is refused.
    @Test func gzipInAManifestIsRefused() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = Self.aofFixtures.appendingPathComponent("redis-7.0-resp/appendonlydir")
        let names = try FileManager.default.contentsOfDirectory(atPath: source.path)
        try Self.copy(names.map { source.appendingPathComponent($0) }, into: directory)
        let incr = directory.appendingPathComponent("appendonly.aof.1.incr.aof")
        try Data(try gzipped(try Self.bytes(incr))).write(to: incr)
        let result = try Self.check(["appendonly.aof.manifest"], in: directory)
        #expect(result.status == 1)
        #expect(result.standardOutput.contains(
            "AOF appendonly.aof.1.incr.aof is gzip-compressed: Redis cannot load a compressed file named in a manifest, aborting...\n"))

        let manifest = directory.appendingPathComponent("appendonly.aof.manifest")
        try Data(try gzipped(try Self.bytes(manifest))).write(to: manifest)
        let compressedManifest = try Self.check(["appendonly.aof.manifest"], in: directory)
        #expect(compressedManifest.status == 1)
        #expect(compressedManifest.standardOutput.contains("AOF manifest appendonly.aof.manifest is gzip-compressed: Redis cannot read it, aborting...\n"))
    }

    @Test func usageErrors() throws {
        #expect(try Self.check([]).status == 64)
        #expect(try Self.check(["--fix", "--truncate-to-timestamp", "5", "x.aof"]).status == 64)
        #expect(try Self.check(["--truncate-to-timestamp", "abc", "x.aof"]).status == 64)
        #expect(try Self.check(["--fix", "-"]).status == 64)
        #expect(try Self.check(["--json", "--fix", "x.aof"]).status == 64)
    }

    /// Every real Redis 7.0 fixture directory checks valid.
    @Test func realFixturesAreValid() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.aofFixtures.path).sorted()
        #expect(names.count == 4)
        for name in names {
            let result = try Self.check([Self.aofFixtures.appendingPathComponent("\(name)/appendonlydir").path])
            #expect(result.status == 0, "\(name): \(result.standardOutput)")
            #expect(result.standardOutput.hasSuffix("All AOF files and manifest are valid\n"), "\(name)")
        }
    }
}

// MARK: - Against Redis's own tools and server

/// The same verdicts and numbers as the installed `redis-check-aof` (Redis 7.0).
@Suite(.enabled(if: Paths.shouldRun(needing: "redis-check-aof"), "redis-check-aof is not installed (apt-get install redis-tools)"))
struct CheckAOFAgainstRedisCheckAOFTests {
    /// The lines to compare. After a line cut by the end of input, Redis prints "Expected \r\n, got: 00" and
    /// one uninitialized byte of its stack buffer; that byte is masked.
    static func keyLines(_ text: String) -> [String] {
        text.split(separator: "\n").map { line in
            line.hasSuffix("Expected \\r\\n, got: 00" + line.suffix(2)) && line.hasSuffix(", got: 00" + line.suffix(2))
                ? String(line.dropLast(2)) + "??" : String(line)
        }.filter {
            $0.hasPrefix("0x") || $0.hasPrefix("AOF ") || $0.hasPrefix("BASE AOF") || $0.hasPrefix("INCR AOF")
                || $0.hasPrefix("All AOF")
        }
    }

    @Test func sameReportOnDamagedFiles() throws {
        let redis = try #require(Paths.requiredTool("redis-check-aof"), "redis-check-aof is missing")
        let directory = try CheckAOFToolTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let incr = Array(try Data(contentsOf: CheckAOFToolTests.aofFixtures.appendingPathComponent(
            "redis-7.0-resp/appendonlydir/appendonly.aof.1.incr.aof")))
        // Every cut of a real AOF, and a few corruptions.
        var samples: [(String, [UInt8])] = (0...incr.count).map { ("cut-\($0).aof", Array(incr.prefix($0))) }
        for index in stride(from: 0, to: incr.count, by: 37) {
            var flipped = incr
            flipped[index] = UInt8(ascii: "!")
            samples.append(("flip-\(index).aof", flipped))
        }
        samples += [
            ("nested-multi.aof", "*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nset\r\n$1\r\na\r\n$1\r\nb\r\n*2\r\n$5\r\nmulti\r\n$1\r\nx\r\n"),
            ("lone-exec.aof", "*1\r\n$4\r\nEXEC\r\n"),
            ("negative-length.aof", "*1\r\n$-3\r\nab\r\n"),
            ("annotations.aof", "#TS:5\r\n*1\r\n$4\r\nPING\r\n#TS:6\r\n*1\r\n$4\r\nPI"),
        ].map { ($0.0, Array($0.1.utf8)) }
        for (name, bytes) in samples {
            try Data(bytes).write(to: directory.appendingPathComponent(name))
            let ours = try CheckAOFToolTests.check([name], in: directory)
            let theirs = try run("/bin/sh", ["-c", "cd '\(directory.path)' && exec '\(redis)' '\(name)'"])
            #expect(ours.status == theirs.status, "\(name)")
            #expect(Self.keyLines(ours.standardOutput) == Self.keyLines(theirs.standardOutput), "\(name)")
        }
    }
}

/// Cut a real AOF at command boundaries and inside commands, repair it, and have the real Redis 7.0 load it
/// with `aof-load-truncated no`: it must start and hold exactly the keys of the commands before the cut.
@Suite(.serialized, .enabled(if: Paths.shouldRun(needing: "redis-server"), "redis-server is not installed (make deps)"))
struct CheckAOFRepairAgainstRedisTests {
    static let creating: Set<String> = ["set", "rpush", "sadd", "hset", "zadd", "incr", "incrby"]

    /// The keys that the complete commands of `bytes` create, transactions counting only with their EXEC.
    static func keys(_ bytes: [UInt8]) throws -> Set<String> {
        var reader = AOFReader(source: try InputSource.memory(ByteBuffer(bytes: bytes)), hasPreamble: false)
        var keys: Set<String> = []
        var pending: Set<String> = []
        while let event = try? reader.next() {
            guard case .command(let command) = event else { continue }
            if command.name == "exec" {
                keys.formUnion(pending)
                pending = []
            } else if command.name == "multi" {
                pending = []
            } else if Self.creating.contains(command.name) {
                let key = command.arguments[1].text
                if reader.inTransaction { pending.insert(key) } else { keys.insert(key) }
            }
        }
        return keys
    }

    @Test(arguments: ["redis-7.0-resp", "redis-7.0-preamble-rewrite"])
    func repairedFilesLoad(_ fixture: String) throws {
        let binary = try #require(RedisServer.redis70, "Redis 7.0 is missing")
        let source = CheckAOFToolTests.aofFixtures.appendingPathComponent("\(fixture)/appendonlydir")
        let names = try FileManager.default.contentsOfDirectory(atPath: source.path)
        let incrName = try #require(names.first { $0.hasSuffix(".incr.aof") })
        let incr = Array(try Data(contentsOf: source.appendingPathComponent(incrName)))
        let expectedAll = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: source.deletingLastPathComponent().appendingPathComponent("expected.json")))
                as? [String: Any])["keys"] as? [String: String]
        let baseKeys = Set(expectedAll!.keys).subtracting(try Self.keys(incr))
        // Command boundaries, and cuts inside commands (in a length line, in a bulk, inside a MULTI).
        var boundaries: [Int] = []
        var reader = AOFReader(source: try InputSource.memory(ByteBuffer(bytes: incr)), hasPreamble: false)
        while let event = try reader.next() {
            if case .command(let command) = event { boundaries.append(Int(command.endOffset)) }
        }
        let cuts = Array(Set(boundaries.prefix(4) + [boundaries.last!] + [1, 5, 13, 30, incr.count / 2, incr.count - 1, 170]))
            .filter { $0 > 0 && $0 <= incr.count }.sorted()
        for (index, cut) in cuts.enumerated() {
            let directory = try CheckAOFToolTests.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let aofDirectory = directory.appendingPathComponent("appendonlydir")
            try FileManager.default.createDirectory(at: aofDirectory, withIntermediateDirectories: true)
            try CheckAOFToolTests.copy(names.map { source.appendingPathComponent($0) }, into: aofDirectory)
            let prefix = Array(incr.prefix(cut))
            try Data(prefix).write(to: aofDirectory.appendingPathComponent(incrName))
            let fixed = try CheckAOFToolTests.check(["--fix", "--yes", aofDirectory.path])
            #expect(fixed.status == 0, "cut \(cut): \(fixed.standardOutput)")
            let server = try RedisServer(
                binary: binary, port: 7700 + index + (fixture == "redis-7.0-resp" ? 0 : 40), directory: directory,
                arguments: ["--appendonly", "yes", "--aof-load-truncated", "no", "--appenddirname", "appendonlydir"])
            defer { server.stop() }
            let loaded = Set(try server.command(["KEYS", "*"]).split(separator: "\n").map(String.init))
            #expect(loaded == baseKeys.union(try Self.keys(prefix)), "cut \(cut): \(loaded.sorted()) \(baseKeys.sorted())")
            #expect(!server.log.contains("Truncating the AOF"), "cut \(cut)")
        }
    }
}
