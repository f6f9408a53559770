import Foundation
import Formats
import NIOCore
import Testing

/// Paths of the repository's fixtures and of the shared Redis test-suite assets.
enum Paths {
    /// The repository root (this file is Tests/FormatsTests/Support/Fixtures.swift).
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// `Fixtures/rdb`: files written by real Redis servers (Fixtures/MANIFEST.md).
    static let rdbFixtures = root.appendingPathComponent("Fixtures/rdb")
    /// `../shared/fixtures/redis-assets`: files from Redis's own test suite, read in place.
    static let sharedAssets = root.deletingLastPathComponent().appendingPathComponent("shared/fixtures/redis-assets")

    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"].map { !$0.isEmpty && $0 != "false" } ?? false }

    static func sharedAsset(_ name: String) throws -> [UInt8] {
        let url = sharedAssets.appendingPathComponent(name)
        return Array(try Data(contentsOf: url))
    }

    static var sharedAssetsPresent: Bool {
        FileManager.default.fileExists(atPath: sharedAssets.appendingPathComponent("encodings.rdb").path)
    }

    /// Every committed real-server RDB fixture.
    static var rdbFixtureNames: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: rdbFixtures.path)) ?? [])
            .filter { $0.hasSuffix(".rdb") }.sorted()
    }

    /// Every RDB of the shared assets that is valid (the corrupt samples excluded).
    static let validSharedRDBs = [
        "encodings.rdb", "hash-zipmap.rdb", "hash-ziplist.rdb", "zset-ziplist.rdb", "list-quicklist.rdb",
        "scriptbackup.rdb", "corrupt_empty_keys.rdb", "derived/encodings-v6-crc-ok.rdb", "derived/encodings-v6-crc-zero.rdb",
    ]
}

/// Reads a whole RDB from memory through the streaming reader.
func readAll(_ bytes: [UInt8], options: RDBReadOptions = .init(), chunkSize: Int = 256 * 1024)
    throws(FormatError) -> (info: RDBFileInfo, entries: [RDBEntry])
{
    var buffer = ByteBuffer()
    buffer.writeBytes(bytes)
    var reader = RDBReader(source: try InputSource.memory(buffer), options: options, chunkSize: chunkSize)
    var info = RDBFileInfo()
    var entries: [RDBEntry] = []
    while let entry = try reader.nextEntry(info: &info) {
        entries.append(entry)
    }
    return (info, entries)
}

/// Pulls every event; returns the count, or the error.
func drain(_ bytes: [UInt8], chunkSize: Int = 256 * 1024) -> Result<Int, FormatError> {
    var buffer = ByteBuffer()
    buffer.writeBytes(bytes)
    do throws(FormatError) {
        var reader = RDBReader(source: try InputSource.memory(buffer), chunkSize: chunkSize)
        var count = 0
        while try reader.next() != nil { count += 1 }
        _ = try reader.readTrailingBytes()
        return .success(count)
    } catch {
        return .failure(error)
    }
}

extension RDBString {
    var text: String { String(decoding: bytes.readableBytesView, as: UTF8.self) }
}

extension ByteBuffer {
    var text: String { String(decoding: readableBytesView, as: UTF8.self) }
}

/// Gzip-compresses through the system `gzip` (tests only).
func gzipped(_ bytes: [UInt8]) throws -> [UInt8] {
    let input = FileManager.default.temporaryDirectory.appendingPathComponent("gz-\(UUID().uuidString)")
    try Data(bytes).write(to: input)
    defer { try? FileManager.default.removeItem(at: input) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", "gzip -c '\(input.path)'"]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Array(data)
}
