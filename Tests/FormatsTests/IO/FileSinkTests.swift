import Formats
import Foundation
import Testing

@Suite struct FileSinkTests {
    @Test func abandonedTemporaryFilesAreThoseOfWritersThatNoLongerRun() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("filesink-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let sink = try FileSink(path: directory.appendingPathComponent("dump.rdb").path)
        let temporary = URL(fileURLWithPath: sink.temporaryPath).lastPathComponent

        // This process still runs: its file is not abandoned.
        #expect(FileSink.removeAbandonedTemporaryFiles(in: directory.path).isEmpty)
        #expect(FileManager.default.fileExists(atPath: sink.temporaryPath))

        // The same name with the id of a process that has exited.
        let exited = Process()
        exited.executableURL = URL(fileURLWithPath: "/bin/true")
        try exited.run()
        exited.waitUntilExit()
        let own = "-\(ProcessInfo.processInfo.processIdentifier)-"
        #expect(temporary.hasPrefix(".dump.rdb.tmp") && temporary.contains(own), "\(temporary)")
        let orphan = temporary.replacingOccurrences(of: own, with: "-\(exited.processIdentifier)-")
        try Data("partial".utf8).write(to: directory.appendingPathComponent(orphan))
        try Data("other".utf8).write(to: directory.appendingPathComponent(".dump.rdb.tmp-\(exited.processIdentifier)"))

        #expect(FileSink.removeAbandonedTemporaryFiles(in: directory.path, destinations: ["other.rdb"]).isEmpty)
        #expect(FileSink.removeAbandonedTemporaryFiles(in: directory.path, destinations: ["dump.rdb"])
            == [directory.appendingPathComponent(orphan).path])
        #expect(FileManager.default.fileExists(atPath: sink.temporaryPath))
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent(".dump.rdb.tmp-\(exited.processIdentifier)").path))
        sink.abort()
    }
}
