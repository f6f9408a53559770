import Foundation
import Formats
import NIOCore

/// Paths of the repository's fixtures and of the shared Redis test-suite assets.
public enum Paths {
    /// The repository root (this file is Tests/TestSupport/Fixtures.swift).
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// `Fixtures/rdb`: files written by real Redis servers (Fixtures/MANIFEST.md).
    public static let rdbFixtures = root.appendingPathComponent("Fixtures/rdb")
    /// `Fixtures/synthetic`: hand-built files for what no available server writes (RDB 11, 12, Valkey 9, modules…).
    public static let syntheticFixtures = root.appendingPathComponent("Fixtures/synthetic")

    /// Every synthetic valid file.
    public static var syntheticFixtureNames: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: syntheticFixtures.path)) ?? [])
            .filter { $0.hasSuffix(".rdb") }.sorted()
    }

    /// Every synthetic corrupt sample (one defect per file).
    public static var corruptFixtureNames: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: syntheticFixtures.appendingPathComponent("corrupt").path)) ?? [])
            .filter { $0.hasSuffix(".rdb") }.sorted()
    }

    /// `../shared/fixtures/redis-assets`: files from Redis's own test suite, read in place.
    public static let sharedAssets = root.deletingLastPathComponent().appendingPathComponent("shared/fixtures/redis-assets")

    public static var isCI: Bool { ProcessInfo.processInfo.environment["CI"].map { !$0.isEmpty && $0 != "false" } ?? false }

    public static func sharedAsset(_ name: String) throws -> [UInt8] {
        let url = sharedAssets.appendingPathComponent(name)
        return Array(try Data(contentsOf: url))
    }

    public static var sharedAssetsPresent: Bool {
        FileManager.default.fileExists(atPath: sharedAssets.appendingPathComponent("encodings.rdb").path)
    }

    /// Every committed real-server RDB fixture.
    public static var rdbFixtureNames: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: rdbFixtures.path)) ?? [])
            .filter { $0.hasSuffix(".rdb") }.sorted()
    }

    /// Every RDB of the shared assets that is valid (the corrupt samples excluded).
    public static let validSharedRDBs = [
        "encodings.rdb", "hash-zipmap.rdb", "hash-ziplist.rdb", "zset-ziplist.rdb", "list-quicklist.rdb",
        "scriptbackup.rdb", "corrupt_empty_keys.rdb", "derived/encodings-v6-crc-ok.rdb", "derived/encodings-v6-crc-zero.rdb",
    ]
}

/// Reads a whole RDB from memory through the streaming reader.
public func readAll(_ bytes: [UInt8], options: RDBReadOptions = .init(), chunkSize: Int = 256 * 1024)
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
public func drain(_ bytes: [UInt8], chunkSize: Int = 64 * 1024) -> Result<Int, FormatError> {
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

/// Reads everything through the checker's fast path (`skipValue()` after each key); returns the element count.
public func drainSkipping(_ bytes: [UInt8], options: RDBReadOptions = .init(), chunkSize: Int = 64 * 1024)
    -> Result<Int, FormatError>
{
    countElements(bytes, options: options, chunkSize: chunkSize, skipping: true)
}

/// Reads everything, counting elements through the event path (or `skipValue()` when `skipping`).
public func countElements(_ bytes: [UInt8], options: RDBReadOptions = .init(), chunkSize: Int = 64 * 1024, skipping: Bool = false)
    -> Result<Int, FormatError>
{
    var buffer = ByteBuffer()
    buffer.writeBytes(bytes)
    do throws(FormatError) {
        var reader = RDBReader(source: try InputSource.memory(buffer), options: options, chunkSize: chunkSize)
        var elements = 0
        while let event = try reader.next() {
            switch event {
            case .beginKey where skipping: elements += try reader.skipValue()
            case .element: elements += 1
            case .elements(let block): elements += block.count
            default: break
            }
        }
        _ = try reader.readTrailingBytes()
        return .success(elements)
    } catch {
        return .failure(error)
    }
}

extension RDBString {
    public var text: String { String(decoding: bytes.readableBytesView, as: UTF8.self) }
}

extension ByteBuffer {
    public var text: String { String(decoding: readableBytesView, as: UTF8.self) }
}

/// Gzip-compresses through the system `gzip` (tests only).
public func gzipped(_ bytes: [UInt8]) throws -> [UInt8] {
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

/// A small deterministic generator for tests.
public struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

/// What a child process printed and returned.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var standardOutput: String
    public var standardError: String
}

/// Runs an executable with arguments and optional standard input; waits for it.
public func run(_ executable: String, _ arguments: [String], input: [UInt8]? = nil, environment: [String: String]? = nil)
    throws -> ProcessResult
{
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let output = Pipe()
    let error = Pipe()
    let inputPipe = Pipe()
    process.standardOutput = output
    process.standardError = error
    process.standardInput = inputPipe
    try process.run()
    if let input {
        inputPipe.fileHandleForWriting.write(Data(input))
    }
    try inputPipe.fileHandleForWriting.close()
    // Read both pipes concurrently so that neither fills up and blocks the child.
    nonisolated(unsafe) var errorData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
        errorData = error.fileHandleForReading.readDataToEndOfFile()
        group.leave()
    }
    let outputData = output.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return ProcessResult(
        status: process.terminationStatus, standardOutput: String(decoding: outputData, as: UTF8.self),
        standardError: String(decoding: errorData, as: UTF8.self))
}

/// Finds an executable on PATH.
public func which(_ name: String) -> String? {
    for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
        let path = "\(directory)/\(name)"
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return nil
}

extension Paths {
    /// A product built next to the test bundle (`swift test` builds every product of the package).
    public static func builtProduct(_ name: String) -> String? {
        var candidates: [URL] = []
        if let override = ProcessInfo.processInfo.environment["PRODUCTS_DIR"] {
            candidates.append(URL(fileURLWithPath: override))
        }
        candidates.append(Bundle.main.bundleURL)
        candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
        candidates.append(root.appendingPathComponent(".build/debug"))
        for directory in candidates {
            for base in [directory, directory.deletingLastPathComponent()] {
                let path = base.appendingPathComponent(name).path
                if FileManager.default.isExecutableFile(atPath: path) { return path }
            }
        }
        return nil
    }

    /// A tool the test needs from the system: in CI its absence is a failure, elsewhere the test is skipped.
    public static func requiredTool(_ name: String) -> String? {
        which(name)
    }

    /// True when a test that needs `name` should run; in CI a missing tool makes the test run and fail.
    public static func shouldRun(needing name: String) -> Bool {
        isCI || which(name) != nil
    }
}
