import Foundation
import Formats
import NIOCore
import TestSupport
import Testing

/// What we write, real servers load: each dataset written at a version is loaded by a real Redis, saved again
/// by it, and the server's own dump must hold exactly what we wrote.
@Suite(.enabled(if: Paths.shouldRun(needing: "redis-server"), "redis-server is not installed (make deps)"), .serialized)
struct RealServerInteropTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var server: String  // "7.0" or "6.2"
        var version: Int
        var testDescription: String { "Redis \(server) loads RDB \(version)" }
    }

    static let cases = [
        Case(server: "7.0", version: 6), Case(server: "7.0", version: 9), Case(server: "7.0", version: 10),
        Case(server: "6.2", version: 6), Case(server: "6.2", version: 9),
    ]

    /// The datasets: both real-server fixtures and a random one.
    static func datasets() throws -> [(String, [RDBEntry], [RDBString])] {
        var sets: [(String, [RDBEntry], [RDBString])] = []
        for name in ["redis-7.0-encodings.rdb", "redis-6.2-encodings.rdb"] {
            let (info, entries) = try readAll(Array(try Data(contentsOf: Paths.rdbFixtures.appendingPathComponent(name))))
            sets.append((name, entries, info.functions))
        }
        var generator = SplitMix64(seed: 4242)
        sets.append(("random", RandomInteropData.make(&generator), []))
        return sets
    }

    @Test(arguments: cases)
    func realServerLoadsWhatWeWrite(_ test: Case) throws {
        let binary = try #require(test.server == "7.0" ? RedisServer.redis70 : RedisServer.redis62, "Redis \(test.server) is missing")
        for (name, entries, functions) in try Self.datasets() {
            var options = RDBWriteOptions()
            options.version = test.version
            options.skipUnsupported = true
            let directory = try RedisServer.temporaryDirectory("interop")
            defer { try? FileManager.default.removeItem(at: directory) }
            let path = directory.appendingPathComponent("dump.rdb").path
            var writer = RDBWriter(sink: try FileSink(path: path), options: options)
            try writer.writeHeader()
            for code in functions { try writer.writeFunction(code) }
            for entry in entries { try writer.writeEntry(entry) }
            try writer.finish()
            let skipped = Set(writer.skippedKeys.map { "\($0.db)/\(GroundTruth.hex($0.key))" })
            let kept = entries.filter { !skipped.contains("\($0.header.database)/\(GroundTruth.hex($0.header.key))") }

            let port = 7600 + test.version * 4 + (test.server == "7.0" ? 0 : 1)  // 7624…7641: clear of the other suites
            let server = try RedisServer(binary: binary, port: port, directory: directory)
            try server.command(["SAVE"])
            server.stop()
            let reloaded = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
            // Stream metadata the server derives (type 15) and consumer times it may refresh are left out.
            let scope = NormalizedDataset.Scope(streamMetadata: false)
            let expected = NormalizedDataset(
                entries: kept, functions: test.version >= 10 && test.server == "7.0" ? functions : [], scope: scope)
            var actual = try normalized(reloaded, scope: scope)
            if !(test.version >= 10 && test.server == "7.0") { actual.functions = [] }
            let difference = actual.difference(from: expected)
            #expect(difference.isEmpty, "\(name) at RDB \(test.version) through Redis \(test.server):\n\(difference)\n\(server.log.suffix(1500))")
            #expect(actual.keys.count == kept.count, "\(name): \(actual.keys.count) keys back, \(kept.count) written")
        }
    }
}

/// A random dataset within what every target can hold side by side (no NaN, sane sizes).
enum RandomInteropData {
    static func make(_ generator: inout SplitMix64) -> [RDBEntry] {
        var entries: [RDBEntry] = []
        func text(_ length: Int) -> ByteBuffer {
            var buffer = ByteBuffer()
            for _ in 0..<length { buffer.writeInteger(UInt8(truncatingIfNeeded: generator.next())) }
            return buffer
        }
        for index in 0..<300 {
            let key = ByteBuffer(string: "k\(index):") .appending(text(Int(generator.next() % 6)))
            let count = generator.next() % 7 == 0 ? 600 : Int(generator.next() % 12) + 1
            let value: RDBValue
            switch index % 5 {
            case 0: value = .string(.bytes(text(Int(generator.next() % 200))))
            case 1: value = .list((0..<count).map { _ in .bytes(text(Int(generator.next() % 90))) })
            case 2: value = .set(Array(Set((0..<count).map { i in RDBString.bytes(ByteBuffer(string: "m\(i)-\(generator.next() % 5)")) })))
            case 3:
                value = .zset(
                    (0..<count).map { i in
                        // z1 scores -0 everywhere: "-0" in a listpack or ziplist, a type-3 text score in plain
                        // sets before RDB 8 (which wrote "0" once); Redis keeps the sign.
                        RDBScoredMember(
                            member: .bytes(ByteBuffer(string: "z\(i)")),
                            score: i == 1 ? -0.0 : Double(Int64(generator.next() % 2000) - 1000) / 8)
                    })
            default:
                value = .hash((0..<count).map { i in RDBHashField(field: .bytes(ByteBuffer(string: "f\(i)")), value: .bytes(text(Int(generator.next() % 100)))) })
            }
            let expire: Int64? = index % 10 == 0 ? 4_102_444_800_000 + Int64(index) : nil
            entries.append(
                RDBEntry(header: RDBKeyHeader(database: index % 3, key: key, type: value.nominalType, expireAtMilliseconds: expire), value: value))
        }
        return entries
    }
}

extension ByteBuffer {
    fileprivate func appending(_ other: ByteBuffer) -> ByteBuffer {
        var copy = self
        var other = other
        copy.writeBuffer(&other)
        return copy
    }
}
