import Foundation
import Testing
import TestSupport

/// Writers that meet a full or failing disk (issue #7): the built tools run with writes to their output failing
/// after N bytes (see ``FaultInjection``). Each must report the error, leave no temporary file behind and keep
/// the previous output intact.
@Suite("Fault injection: tools")
struct FaultInjectionToolTests {
    static let fixture = Paths.rdbFixtures.appendingPathComponent("redis-7.0-encodings.rdb")

    /// Files in `directory` other than `keep`.
    static func leftovers(_ directory: URL, keep: Set<String>) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { !keep.contains($0) }.sorted()
    }

    @Test(
        "redis-convert -o keeps the previous file and removes its temp file when the disk fills or fails",
        arguments: [
            ("out.rdb", ["--to", "rdb"], FaultInjection.ENOSPC, 0),
            ("out.rdb", ["--to", "rdb"], FaultInjection.ENOSPC, 1000),
            ("out.rdb", ["--to", "rdb", "--rdb-version", "11"], FaultInjection.EIO, 5000),
            ("out.jsonl", ["--to", "jsonl"], FaultInjection.ENOSPC, 3000),
            ("out.resp.gz", ["--to", "resp"], FaultInjection.ENOSPC, 200),
        ])
    func convertOutput(name: String, options: [String], errno: Int32, afterBytes: Int) throws {
        let tool = try #require(Paths.builtProduct("redis-convert"))
        let directory = try RedisServer.temporaryDirectory("fault-convert")
        let output = directory.appendingPathComponent(name)
        let previous = Data("previous content that must survive\n".utf8)
        try previous.write(to: output)
        let environment = try FaultInjection.environment(match: directory.lastPathComponent, afterBytes: afterBytes, errno: errno)
        let result = try run(tool, [FaultInjectionToolTests.fixture.path] + options + ["-o", output.path], environment: environment)
        #expect(result.status != 0)
        let expected = errno == FaultInjection.ENOSPC ? "No space left on device" : "Input/output error"
        #expect(result.standardError.contains(expected), "stderr: \(result.standardError)")
        #expect(try Data(contentsOf: output) == previous)
        #expect(try FaultInjectionToolTests.leftovers(directory, keep: [name]) == [])
    }

    @Test("With the fault past the end of the output, the same run succeeds (the injector is not the cause)")
    func control() throws {
        let tool = try #require(Paths.builtProduct("redis-convert"))
        let directory = try RedisServer.temporaryDirectory("fault-control")
        let output = directory.appendingPathComponent("out.rdb")
        let environment = try FaultInjection.environment(match: directory.lastPathComponent, afterBytes: 1 << 30)
        let result = try run(tool, [FaultInjectionToolTests.fixture.path, "--to", "rdb", "-o", output.path], environment: environment)
        #expect(result.status == 0, "stderr: \(result.standardError)")
        #expect(try Data(contentsOf: output).count > 100)
        #expect(try FaultInjectionToolTests.leftovers(directory, keep: ["out.rdb"]) == [])
    }

    @Test("A failing fsync is reported too, and the previous file stays")
    func fsyncFailure() throws {
        let tool = try #require(Paths.builtProduct("redis-convert"))
        let directory = try RedisServer.temporaryDirectory("fault-fsync")
        let output = directory.appendingPathComponent("out.rdb")
        let previous = Data("previous".utf8)
        try previous.write(to: output)
        // Every write goes through; the fsync of the temp file fails with EIO.
        let environment = try FaultInjection.environment(
            match: directory.lastPathComponent, afterBytes: 1 << 30, errno: FaultInjection.EIO, failFsync: true)
        let result = try run(tool, [FaultInjectionToolTests.fixture.path, "--to", "rdb", "-o", output.path], environment: environment)
        #expect(result.status != 0)
        #expect(try Data(contentsOf: output) == previous)
        #expect(try FaultInjectionToolTests.leftovers(directory, keep: ["out.rdb"]) == [])
    }
}
