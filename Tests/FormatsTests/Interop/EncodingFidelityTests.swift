import Foundation
import Formats
import NIOCore
import TestSupport
import Testing

/// Encodings chosen as Redis chooses them: a dataset built by commands on a real server and saved by it without
/// compression is read and written again by us at that server's RDB version, and the keys must come out byte for
/// byte as the server wrote them: quicklist nodes split where Redis splits them, stream nodes too, sorted-set
/// scores in compact encodings as that release prints them ("%.17g" before Redis 7.2).
@Suite(.enabled(if: Paths.shouldRun(needing: "redis-server"), "redis-server is not installed (make deps)"), .serialized)
struct EncodingFidelityTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var server: String  // "7.0" or "6.2"
        var version: Int
        var port: Int
        var testDescription: String { "RDB \(version) keys as Redis \(server) encodes them" }
    }

    static let cases = [Case(server: "7.0", version: 10, port: 7652), Case(server: "6.2", version: 9, port: 7653)]

    /// Commands (inline, one per line) for lists of mixed item sizes, small and large sorted sets with fractional
    /// scores, small hashes, and streams whose entries vary in fields and sizes (no deletions: the reader hands
    /// out live entries only).
    static func commands() -> [UInt8] {
        var generator = SplitMix64(seed: 0x5EED)
        func word(_ length: Int) -> String {
            let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
            return String((0..<length).map { _ in letters[Int(generator.next() % UInt64(letters.count))] })
        }
        func size() -> Int {
            switch generator.next() % 10 {
            case 0: return 200 + Int(generator.next() % 400)
            case 1, 2: return 64 + Int(generator.next() % 100)
            default: return 1 + Int(generator.next() % 40)
            }
        }
        func score() -> String {
            let value = Double(Int64(generator.next() % 2_000_000_001) - 1_000_000_000) / Double(1 + generator.next() % 100_000)
            return generator.next() % 8 == 0 ? String(Int64(value)) : "\(value)"
        }
        var lines: [String] = []
        for list in 0..<6 {
            for _ in 0..<(list == 0 ? 40 : 1500) {
                lines.append(generator.next() % 5 == 0 ? "RPUSH list:\(list) \(Int64(bitPattern: generator.next()) >> Int(generator.next() % 60))" : "RPUSH list:\(list) \(word(size()))")
            }
        }
        for zset in 0..<40 {
            for _ in 0..<(zset == 0 ? 300 : 1 + Int(generator.next() % 120)) {
                lines.append("ZADD zset:\(zset) \(score()) \(word(1 + Int(generator.next() % 30)))")
            }
        }
        for hash in 0..<20 {
            for field in 0..<(1 + Int(generator.next() % 100)) {
                lines.append("HSET hash:\(hash) f\(field) \(generator.next() % 3 == 0 ? score() : word(1 + Int(generator.next() % 60)))")
            }
        }
        for stream in 0..<4 {
            for entry in 0..<700 {
                let fields = generator.next() % 4 == 0 ? "kind \(word(4)) size \(word(size()))" : "sensor s\(entry % 7) value \(word(size())) n \(entry)"
                lines.append("XADD stream:\(stream) \(1_700_000_000_000 + entry * 3)-\(generator.next() % 3) \(fields)")
            }
        }
        return Array((lines.joined(separator: "\n") + "\n").utf8)
    }

    @Test(arguments: cases)
    func keysComeOutAsTheServerWroteThem(_ test: Case) throws {
        let binary = try #require(test.server == "7.0" ? RedisServer.redis70 : RedisServer.redis62, "Redis \(test.server) is missing")
        let directory = try RedisServer.temporaryDirectory("fidelity")
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try RedisServer(binary: binary, port: test.port, directory: directory, arguments: ["--rdbcompression", "no"])
        let filled = try server.client(["--pipe"], input: Self.commands())
        #expect(filled.status == 0, "redis-cli: \(filled.standardError)")
        try server.command(["SAVE"])
        server.stop()
        let original = Array(try Data(contentsOf: directory.appendingPathComponent("dump.rdb")))

        let (info, entries) = try readAll(original)
        #expect(info.header?.version == test.version)
        var options = RDBWriteOptions()
        options.version = test.version
        options.compression = false
        var writer = RDBWriter(sink: BufferSink(), options: options)
        try writer.writeHeader()
        for entry in entries { try writer.writeEntry(entry) }
        try writer.finish()

        // The keys: from each file's first key to its end opcode (AUX fields and the checksum differ).
        let ours = try keySection(writer.sink.bytes)
        let theirs = try keySection(original)
        if ours != theirs {
            let at = zip(ours, theirs).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(ours.count, theirs.count)
            let key = entries.last { $0.header.offset <= Int64(theirs.startIndex + at) }
                .map { String(decoding: $0.header.key.readableBytesView, as: UTF8.self) } ?? "?"
            func around(_ bytes: ArraySlice<UInt8>) -> String {
                bytes.dropFirst(max(at - 24, 0)).prefix(64).map { String($0, radix: 16) }.joined(separator: " ")
            }
            Issue.record(
                "\(ours.count) vs \(theirs.count) bytes of keys; the first difference at byte \(at) of the key section, in or after key \(key)\nours:   \(around(ours))\ntheirs: \(around(theirs))")
        }
        #expect(entries.count == 4 + 6 + 40 + 20)
    }

    /// The bytes from the first key's entry (its expiry or type byte; after SELECTDB and RESIZEDB) to the end
    /// opcode.
    func keySection(_ bytes: [UInt8]) throws -> ArraySlice<UInt8> {
        let (_, entries) = try readAll(bytes)
        let start = try #require(entries.first?.header.offset)
        let end = bytes.count - 9  // EOF opcode + 8-byte checksum
        #expect(bytes[end] == 0xFF)
        return bytes[Int(start)..<end]
    }
}
