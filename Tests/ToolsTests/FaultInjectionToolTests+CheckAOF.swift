import Foundation
import Testing
import TestSupport

// MARK: - redis-check-aof --fix on a full or failing disk
//
// --fix first copies the tail it cuts into FILE.truncated-<time> (temporary file, fsync, rename), then truncates
// the AOF in place and fsyncs it. The copy is the only file written, so a fault there must leave everything as it
// was; a failing fsync after the truncation is reported as such. `FAULT_ROUNDS` adds random byte budgets.

extension FaultInjectionToolTests {
    /// A damaged AOF: 100 whole commands, then a MULTI that never reaches EXEC (about 1.6 MB of commands) and a
    /// cut command. --fix keeps the first 100 commands.
    struct DamagedAOF {
        let directory: URL
        let file: URL
        let original: Data
        /// Where --fix cuts (the MULTI).
        let okUpTo: Int

        init(_ prefix: String, timestamps: Bool = false) throws {
            directory = try RedisServer.temporaryDirectory(prefix)
            file = directory.appendingPathComponent("appendonly.aof")
            func command(_ arguments: [String]) -> String {
                "*\(arguments.count)\r\n" + arguments.map { "$\($0.utf8.count)\r\n\($0)\r\n" }.joined()
            }
            var text = timestamps ? "#TS:100\r\n" : ""
            text += command(["SELECT", "0"])
            for i in 0..<100 { text += command(["SET", "key:\(i)", "value-\(i)"]) }
            okUpTo = text.utf8.count
            if timestamps { text += "#TS:200\r\n" }
            text += command(["MULTI"])
            for i in 0..<3_000 { text += command(["SET", "big:\(i)", String(repeating: Character(UnicodeScalar(97 + i % 26)!), count: 500)]) }
            text += "*3\r\n$3\r\nSET\r\n$3\r\ncut\r\n$100\r\nonly part"
            original = Data(text.utf8)
            try original.write(to: file)
        }

        var tail: Int { original.count - okUpTo }

        func leftovers() throws -> [String] { try FaultInjectionToolTests.leftovers(directory, keep: [file.lastPathComponent]) }

        func backups() throws -> [URL] {
            try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
                .filter { $0.lastPathComponent.contains(".truncated-") }
        }
    }

    static var checkAOF: String? { Paths.builtProduct("redis-check-aof") }

    /// The byte budgets of a run: the given ones, then `FAULT_ROUNDS - 1` random ones inside the copied tail.
    static func budgets(_ fixed: [Int], below tail: Int) -> [Int] {
        let rounds = ProcessInfo.processInfo.environment["FAULT_ROUNDS"].flatMap(Int.init) ?? 1
        return fixed + (0..<max(0, rounds - 1)).map { _ in Int.random(in: 0..<tail) }
    }

    @Test(
        "redis-check-aof --fix, the copy of the cut tail meets a full or failing disk: exit 1, the error named, the AOF unchanged, no copy and no temporary file left",
        arguments: [
            (FaultInjection.ENOSPC, 0), (FaultInjection.EIO, 1_000), (FaultInjection.ENOSPC, 300_000),
            (FaultInjection.EIO, 1_400_000),
        ])
    func checkAOFFixCopyFails(errno: Int32, afterBytes: Int) throws {
        let tool = try #require(Self.checkAOF)
        for budget in Self.budgets([afterBytes], below: 1_400_000) {
            let aof = try DamagedAOF("fault-check-aof")
            #expect(budget < aof.tail)
            let environment = try FaultInjection.environment(match: aof.directory.lastPathComponent, afterBytes: budget, errno: errno)
            let result = try run(tool, ["--fix", "--yes", aof.file.path], environment: environment)
            #expect(result.status == 1)
            #expect(result.standardOutput.contains("ok_up_to=\(aof.okUpTo)"))
            #expect(result.standardOutput.contains("Failed to truncate AOF \(aof.file.path)\n"))
            #expect(result.standardOutput.contains("\(FaultInjection.message(errno)). Nothing was changed."), "budget \(budget): \(result.standardOutput.suffix(600))")
            #expect(try Data(contentsOf: aof.file) == aof.original, "budget \(budget)")
            #expect(try aof.leftovers() == [], "budget \(budget)")
        }
    }

    @Test("redis-check-aof --fix, the fsync of the copy fails: exit 1, the AOF unchanged, nothing left")
    func checkAOFFixCopyFsyncFails() throws {
        let tool = try #require(Self.checkAOF)
        let aof = try DamagedAOF("fault-check-aof-fsync")
        let environment = try FaultInjection.environment(
            match: aof.directory.lastPathComponent, afterBytes: 1 << 30, errno: FaultInjection.EIO, failFsync: true)
        let result = try run(tool, ["--fix", "--yes", aof.file.path], environment: environment)
        #expect(result.status == 1)
        #expect(result.standardOutput.contains("Failed to truncate AOF"))
        #expect(result.standardOutput.contains("fsync"))
        #expect(result.standardOutput.contains("Input/output error. Nothing was changed."), "\(result.standardOutput.suffix(600))")
        #expect(try Data(contentsOf: aof.file) == aof.original)
        #expect(try aof.leftovers() == [])
    }

    @Test("redis-check-aof --fix, the fsync of the cut AOF fails: exit 1, and the report says the file was cut but may not stay so; the copy of the tail is kept")
    func checkAOFFixFinalFsyncFails() throws {
        let tool = try #require(Self.checkAOF)
        let aof = try DamagedAOF("fault-check-aof-cut-fsync")
        // Only the AOF itself: the copy (`appendonly.aof.truncated-…`) is written and synced normally.
        let environment = try FaultInjection.environment(
            match: aof.directory.lastPathComponent, afterBytes: 1 << 30, errno: FaultInjection.EIO, failFsync: true,
            skip: ".truncated-")
        let result = try run(tool, ["--fix", "--yes", aof.file.path], environment: environment)
        #expect(result.status == 1)
        let backup = try #require(try aof.backups().first)
        #expect(result.standardOutput.contains("Failed to truncate AOF"))
        #expect(result.standardOutput.contains(
            "fsync \(aof.file.path): Input/output error. The file was cut to \(aof.okUpTo) bytes, but the cut may not survive a crash; the removed bytes are in \(backup.path)."),
            "\(result.standardOutput.suffix(600))")
        #expect(try Data(contentsOf: aof.file) == aof.original.prefix(aof.okUpTo))
        #expect(try Data(contentsOf: backup) == aof.original.suffix(from: aof.okUpTo))
        #expect(try aof.leftovers() == [backup.lastPathComponent])
    }

    @Test("Control: redis-check-aof --fix under the injector with room to spare cuts the tail and keeps it in the copy")
    func checkAOFFixControl() throws {
        let tool = try #require(Self.checkAOF)
        let aof = try DamagedAOF("fault-check-aof-control")
        let environment = try FaultInjection.environment(match: aof.directory.lastPathComponent, afterBytes: 1 << 30)
        let result = try run(tool, ["--fix", "--yes", aof.file.path], environment: environment)
        #expect(result.status == 0, "\(result.standardOutput.suffix(600))")
        #expect(result.standardOutput.contains("Successfully truncated AOF"))
        let backup = try #require(try aof.backups().first)
        #expect(try Data(contentsOf: aof.file) == aof.original.prefix(aof.okUpTo))
        #expect(try Data(contentsOf: backup) == aof.original.suffix(from: aof.okUpTo))
        #expect(try aof.leftovers() == [backup.lastPathComponent])
    }

    @Test("redis-check-aof --truncate-to-timestamp on a full disk: exit 1, the AOF unchanged, nothing left")
    func truncateToTimestampFails() throws {
        let tool = try #require(Self.checkAOF)
        let aof = try DamagedAOF("fault-check-aof-timestamp", timestamps: true)
        let environment = try FaultInjection.environment(match: aof.directory.lastPathComponent, afterBytes: 4_096)
        let result = try run(tool, ["--truncate-to-timestamp", "150", aof.file.path], environment: environment)
        #expect(result.status == 1)
        #expect(result.standardOutput.contains("Failed to truncate AOF \(aof.file.path) to timestamp 150"))
        #expect(result.standardOutput.contains("No space left on device. Nothing was changed."), "\(result.standardOutput.suffix(600))")
        #expect(try Data(contentsOf: aof.file) == aof.original)
        #expect(try aof.leftovers() == [])
    }
}
