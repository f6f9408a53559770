import Foundation
import Formats
import NIOCore
import TestSupport
import Testing

/// `AOFWriter`, `AppendFileSink` and manifest writing: exact bytes, round trips through `AOFReader`, and
/// directories that the real Redis 7.0 loads.
@Suite struct AOFWriterTests {
    static func resp(_ words: [String]) -> String {
        "*\(words.count)\r\n" + words.map { "$\($0.utf8.count)\r\n\($0)\r\n" }.joined()
    }

    /// Every item of an AOF, as text: commands as their words, annotations as `#…`.
    static func items(_ bytes: [UInt8], chunkSize: Int = 1 << 20) throws -> [[String]] {
        var reader = AOFReader(source: try InputSource.memory(ByteBuffer(bytes: bytes)), hasPreamble: false, chunkSize: chunkSize)
        var items: [[String]] = []
        while let event = try reader.next() {
            switch event {
            case .command(let command): items.append(command.arguments.map(\.text))
            case .annotation(let annotation): items.append(["#" + annotation.text])
            case .rdb: Issue.record("no RDB expected")
            }
        }
        return items
    }

    // MARK: - Encoding

    @Test func firstCommandAndEachDatabaseChangeGetASelect() throws {
        var writer = AOFWriter(sink: BufferSink())
        #expect(writer.selectedDatabase == nil)
        try writer.writeCommand(["SET", "a", "1"], database: 0)
        try writer.writeCommand(["SET", "b", "2"], database: 0)
        try writer.writeCommand(["SADD", "s", "x"], database: 3)
        try writer.writeCommand(["DEL", "a"], database: 0)
        try writer.finish()
        let expected =
            Self.resp(["SELECT", "0"]) + Self.resp(["SET", "a", "1"]) + Self.resp(["SET", "b", "2"])
            + Self.resp(["SELECT", "3"]) + Self.resp(["SADD", "s", "x"]) + Self.resp(["SELECT", "0"])
            + Self.resp(["DEL", "a"])
        #expect(writer.sink.bytes == Array(expected.utf8))
        #expect(writer.bytesWritten == Int64(expected.utf8.count))
        #expect(writer.selectedDatabase == 0)
    }

    @Test func argumentsAreBinarySafe() throws {
        let odd: [ByteBuffer] = [
            ByteBuffer(string: "SET"), ByteBuffer(bytes: [0, 13, 10, 0xff, 0x24]), ByteBuffer(),
        ]
        var writer = AOFWriter(sink: BufferSink())
        try writer.writeCommand(odd, database: 15)
        try writer.finish()
        #expect(writer.sink.bytes == Array((Self.resp(["SELECT", "15"]) + "*3\r\n$3\r\nSET\r\n$5\r\n").utf8)
            + [0, 13, 10, 0xff, 0x24] + Array("\r\n$0\r\n\r\n".utf8))
        var reader = AOFReader(source: try InputSource.memory(writer.sink.buffer), hasPreamble: false)
        _ = try reader.next()
        guard case .command(let command) = try reader.next() else {
            Issue.record("expected the command")
            return
        }
        #expect(command.arguments == odd)
        #expect(try reader.next() == nil)
    }

    @Test func byteCollectionArgumentsEncodeAsBuffersDo() throws {
        let arguments: [[UInt8]] = [Array("SET".utf8), [0, 13, 10, 0xff, 0x24], [], Array(repeating: 7, count: 300)]
        var options = AOFWriteOptions()
        options.timestampAnnotations = true
        var viaBuffers = AOFWriter(sink: BufferSink(), options: options)
        var viaBytes = AOFWriter(sink: BufferSink(), options: options)
        for (database, time) in [(0, Int64(100)), (0, 100), (3, 101)] {
            try viaBuffers.writeCommand(arguments.map { ByteBuffer(bytes: $0) }, database: database, unixTime: time)
            try viaBytes.writeCommand(bytes: arguments, database: database, unixTime: time)
        }
        try viaBuffers.finish()
        try viaBytes.finish()
        #expect(viaBytes.sink.bytes == viaBuffers.sink.bytes)
        #expect(viaBytes.bytesWritten == viaBuffers.bytesWritten)
        #expect(viaBytes.bytesWritten == Int64(viaBytes.sink.bytes.count))
    }

    @Test func timestampAnnotationsWhenTheSecondAdvances() throws {
        var options = AOFWriteOptions()
        options.timestampAnnotations = true
        var writer = AOFWriter(sink: BufferSink(), options: options)
        try writer.writeCommand(["SET", "a", "1"], database: 0, unixTime: 100)
        try writer.writeCommand(["SET", "b", "1"], database: 0, unixTime: 100)
        try writer.writeCommand(["SET", "c", "1"], database: 0, unixTime: 101)
        try writer.writeCommand(["SET", "d", "1"], database: 0, unixTime: 99)  // the clock went back: none
        try writer.writeCommand(["SET", "e", "1"], database: 2, unixTime: 102)
        try writer.writeTimestampAnnotation(102)  // forced, as a rewrite starts
        try writer.finish()
        #expect(
            try Self.items(writer.sink.bytes) == [
                ["#TS:100"], ["SELECT", "0"], ["SET", "a", "1"], ["SET", "b", "1"], ["#TS:101"], ["SET", "c", "1"],
                ["SET", "d", "1"], ["#TS:102"], ["SELECT", "2"], ["SET", "e", "1"], ["#TS:102"],
            ])
        #expect(writer.lastTimestamp == 102)
        // Without the option, no annotation, whatever the times.
        var plain = AOFWriter(sink: BufferSink())
        try plain.writeCommand(["PING"], database: 0, unixTime: 5)
        #expect(plain.sink.bytes.isEmpty)  // still in the writer's buffer
        try plain.flush()
        #expect(try Self.items(plain.sink.bytes) == [["SELECT", "0"], ["PING"]])
    }

    /// Random commands through a small buffer, read back at several chunk sizes: the same items, in order, with
    /// the SELECTs and annotations where the rules put them, and the reader's offsets and lines at the end.
    @Test(arguments: [1, 7, 4096])
    func roundTripThroughTheReader(chunkSize: Int) throws {
        var generator = SplitMix64(seed: 0xA0F + UInt64(chunkSize))
        var options = AOFWriteOptions()
        options.timestampAnnotations = true
        options.bufferBytes = 300
        var writer = AOFWriter(sink: BufferSink(), options: options)
        var expected: [[String]] = []
        var database: Int?
        var lastSecond: Int64?
        var second: Int64 = 1_700_000_000
        var lines: Int64 = 1
        for _ in 0..<400 {
            let db = generator.next() % 4 == 0 ? Int(generator.next() % 16) : database ?? 0
            second += Int64(generator.next() % 3) - 1
            var words = ["CMD\(generator.next() % 50)"]
            for _ in 0..<Int(generator.next() % 6) {
                let length = generator.next() % 20 == 0 ? 3000 : Int(generator.next() % 40)
                words.append(String((0..<length).map { _ in Character(Unicode.Scalar(UInt8(32 + generator.next() % 95))) }))
            }
            try writer.writeCommand(words, database: db, unixTime: second)
            if lastSecond.map({ second > $0 }) ?? true {
                expected.append(["#TS:\(second)"])
                lastSecond = second
            }
            if database != db {
                expected.append(["SELECT", String(db)])
                lines += 5
                database = db
            }
            expected.append(words)
            lines += 1 + Int64(words.count) * 2
        }
        try writer.finish()
        let bytes = writer.sink.bytes
        #expect(writer.bytesWritten == Int64(bytes.count))
        #expect(try Self.items(bytes, chunkSize: chunkSize) == expected)
        var reader = AOFReader(source: try InputSource.memory(ByteBuffer(bytes: bytes)), hasPreamble: false, chunkSize: chunkSize)
        while try reader.next() != nil {}
        #expect(reader.safeOffset == Int64(bytes.count))
        #expect(reader.line == lines)
    }

    @Test func sinkFailuresSurface() throws {
        /// Takes `budget` bytes, then fails as a full disk does.
        struct FullDisk: ByteSink {
            var budget: Int
            var taken = 0
            mutating func write(_ bytes: ByteBuffer) throws(FormatError) {
                guard taken + bytes.readableBytes <= budget else {
                    throw FormatError(.io, offset: Int64(taken), phase: .io, "write: No space left on device")
                }
                taken += bytes.readableBytes
            }
            mutating func finish() throws(FormatError) {}
        }
        var options = AOFWriteOptions()
        options.bufferBytes = 64
        var writer = AOFWriter(sink: FullDisk(budget: 200), options: options)
        var failure: FormatError?
        for index in 0..<100 {
            do throws(FormatError) {
                try writer.writeCommand(["SET", "key:\(index)", String(repeating: "v", count: 20)], database: 0)
            } catch {
                failure = error
                break
            }
        }
        #expect(failure?.code == .io)
        #expect(writer.sink.taken <= 200)

        /// Fails the first write, then takes everything.
        struct Flaky: ByteSink {
            var failures = 1
            var taken = BufferSink()
            mutating func write(_ bytes: ByteBuffer) throws(FormatError) {
                if failures > 0 {
                    failures -= 1
                    throw FormatError(.io, offset: 0, phase: .io, "write: Input/output error")
                }
                try taken.write(bytes)
            }
            mutating func finish() throws(FormatError) {}
        }
        var retrying = AOFWriter(sink: Flaky())
        try retrying.writeCommand(["SET", "a", "1"], database: 0)
        #expect(throws: FormatError.self) { try retrying.flush() }
        try retrying.writeCommand(["SET", "b", "2"], database: 0)
        try retrying.flush()  // the bytes of the failed flush are written once, before the new ones
        #expect(try Self.items(retrying.sink.taken.bytes) == [["SELECT", "0"], ["SET", "a", "1"], ["SET", "b", "2"]])
    }

    // MARK: - Files

    @Test func appendSessionsAccumulateInOneFile() throws {
        let directory = try RedisServer.temporaryDirectory("aofwriter")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("appendonly.aof.1.incr.aof").path

        var first = AOFWriter(sink: try AppendFileSink(path: path))
        try first.writeCommand(["SET", "a", "1"], database: 1)
        #expect(first.sink.size == 0)  // still in the writer's buffer
        try first.flush()
        #expect(first.sink.size == first.bytesWritten)
        try first.sink.sync()
        try first.writeCommand(["SET", "b", "2"], database: 1)
        try first.finish()
        let firstSize = first.bytesWritten
        #expect(throws: FormatError.self) { try first.sink.write(ByteBuffer(string: "x")) }

        // A later session (a restarted server) appends; its first command selects again.
        var second = AOFWriter(sink: try AppendFileSink(path: path))
        #expect(second.sink.size == firstSize)
        try second.writeCommand(["DEL", "a"], database: 1)
        try second.finish()
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(Int64(bytes.count) == firstSize + second.bytesWritten)
        #expect(
            try Self.items(bytes) == [
                ["SELECT", "1"], ["SET", "a", "1"], ["SET", "b", "2"], ["SELECT", "1"], ["DEL", "a"],
            ])
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/dev/full"), "no /dev/full"))
    func appendToAFullDeviceFails() throws {
        let sink = try AppendFileSink(path: "/dev/full")
        var writer = AOFWriter(sink: sink)
        try writer.writeCommand(["PING"], database: 0)
        #expect {
            try writer.flush()
        } throws: { error in
            (error as? FormatError)?.code == .io && "\(error)".contains("No space left on device")
        }
    }

    /// A sink whose first write lands only `landed` bytes and fails, as a partial write that could not be cut back.
    final class PartialWriteSink: ByteSink {
        var bytes: [UInt8] = []
        var landed: Int?

        init(landed: Int) { self.landed = landed }

        func write(_ buffer: ByteBuffer) throws(FormatError) {
            if let count = landed {
                landed = nil
                bytes += buffer.readableBytesView.prefix(count)
                throw FormatError(.io, offset: 0, phase: .io, "write: No space left on device")
            }
            bytes += buffer.readableBytesView
        }

        func finish() throws(FormatError) {}
    }

    @Test("After a partial write that stayed in the file, dropBuffered makes the next flush write only the rest")
    func dropBufferedAfterPartialWrite() throws {
        let sink = PartialWriteSink(landed: 10)
        var writer = AOFWriter(sink: sink)
        try writer.writeCommand(["SET", "a", "1"], database: 0)
        #expect(throws: FormatError.self) { try writer.flush() }
        writer.dropBuffered(10)
        try writer.writeCommand(["SET", "b", "2"], database: 0)
        try writer.flush()
        #expect(try Self.items(sink.bytes) == [["SELECT", "0"], ["SET", "a", "1"], ["SET", "b", "2"]])
    }

    @Test func wholeFileWriteReplacesTheFileAtFinish() throws {
        let directory = try RedisServer.temporaryDirectory("aofwriter")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("appendonly.aof.2.base.aof").path
        try Data("old".utf8).write(to: URL(fileURLWithPath: path))
        var writer = AOFWriter(sink: try FileSink(path: path))
        for index in 0..<5000 {
            try writer.writeCommand(["RPUSH", "list", String(index)], database: 0)
        }
        try writer.flush()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "old")
        try writer.finish()
        #expect(try Self.items(Array(try Data(contentsOf: URL(fileURLWithPath: path)))).count == 5001)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["appendonly.aof.2.base.aof"])
    }

    // MARK: - Manifest

    @Test func manifestTextIsRedisText() throws {
        // Redis 7.0 wrote this one (after BGREWRITEAOF): reading and writing it gives the same bytes.
        let fixture = Paths.root.appendingPathComponent("Fixtures/aof/redis-7.0-resp-rewrite/appendonlydir/appendonly.aof.manifest")
        let bytes = Array(try Data(contentsOf: fixture))
        #expect(try AOFManifest(parsing: bytes).serialized() == bytes)

        let manifest = AOFManifest(
            base: AOFManifestEntry(fileName: AOFManifest.baseFileName(sequence: 3, rdb: true), sequence: 3, type: .base),
            history: [AOFManifestEntry(fileName: AOFManifest.incrementalFileName(sequence: 4), sequence: 4, type: .history)],
            incrementals: [
                AOFManifestEntry(fileName: AOFManifest.incrementalFileName("my.aof", sequence: 5), sequence: 5, type: .incremental)
            ])
        #expect(
            String(decoding: manifest.serialized(), as: UTF8.self)
                == "file appendonly.aof.3.base.rdb seq 3 type b\nfile appendonly.aof.4.incr.aof seq 4 type h\n"
                + "file my.aof.5.incr.aof seq 5 type i\n")
        #expect(AOFManifest.manifestFileName() == "appendonly.aof.manifest")
    }

    @Test func oddNamesAreQuotedAndReadBack() throws {
        let names = ["a b.aof", "q\"x.aof", "it's.aof", "tab\there", "é.aof", "nl\n", "#hash", "\u{1}ctl"]
        let manifest = AOFManifest(
            incrementals: names.enumerated().map {
                AOFManifestEntry(fileName: $0.element, sequence: Int64($0.offset + 1), type: .incremental)
            })
        let text = String(decoding: manifest.serialized(), as: UTF8.self)
        #expect(text.hasPrefix("file \"a b.aof\" seq 1 type i\nfile \"q\\\"x.aof\" seq 2 type i\n"))
        #expect(try AOFManifest(parsing: manifest.serialized()).incrementals.map(\.fileName) == names)
    }

    @Test func manifestsRedisWouldRefuseAreNotWritten() throws {
        let directory = try RedisServer.temporaryDirectory("aofwriter")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("appendonly.aof.manifest").path
        let good = AOFManifest(
            base: AOFManifestEntry(fileName: "b.rdb", sequence: 1, type: .base),
            incrementals: [AOFManifestEntry(fileName: "i.aof", sequence: 1, type: .incremental)])
        try good.write(to: path)
        let written = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(written == good.serialized())

        let refused: [(AOFManifest, String)] = [
            (AOFManifest(), "Found an empty AOF manifest"),
            (AOFManifest(base: AOFManifestEntry(fileName: "dir/b.rdb", sequence: 1, type: .base)), "File can't be a path"),
            (AOFManifest(incrementals: [AOFManifestEntry(fileName: "i.aof", sequence: 0, type: .incremental)]), "Invalid AOF manifest file format"),
            (AOFManifest(incrementals: [
                AOFManifestEntry(fileName: "i2.aof", sequence: 2, type: .incremental),
                AOFManifestEntry(fileName: "i1.aof", sequence: 1, type: .incremental),
            ]), "Found a non-monotonic sequence number"),
            (AOFManifest(base: AOFManifestEntry(fileName: String(repeating: "x", count: 1100), sequence: 1, type: .base)), "too long line"),
        ]
        for (manifest, message) in refused {
            #expect("\(message)") {
                try manifest.write(to: path)
            } throws: { error in
                (error as? FormatError)?.code == .corrupt && (error as? FormatError)?.detail.contains(message) == true
            }
        }
        // The manifest in place is untouched and no temporary file is left.
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: path))) == written)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["appendonly.aof.manifest"])
    }
}

// MARK: - Against the real Redis 7.0

/// Directories written by us (a base, INCR files appended in two sessions, the manifest) are loaded by the real
/// Redis 7.0 with the expected content, pass its redis-check-aof, and Redis goes on appending to our INCR file.
@Suite(.serialized, .enabled(if: Paths.shouldRun(needing: "redis-server"), "redis-server is not installed (make deps)"))
struct AOFWriterRedisInteropTests {
    static func words(_ text: String) -> [String] { text.split(separator: " ").map(String.init) }

    /// The commands of the INCR file, in two sessions, in databases 0, 2 and 5.
    static func writeIncrementals(to path: String, timestamps: Bool) throws {
        var options = AOFWriteOptions()
        options.timestampAnnotations = timestamps
        var session = AOFWriter(sink: try AppendFileSink(path: path), options: options)
        try session.writeCommand(words("SET s2 v2"), database: 0)
        try session.writeCommand(words("RPUSH l d"), database: 0)
        try session.writeCommand(words("HSET h f3 v3"), database: 2)
        try session.writeCommand(words("DEL s1"), database: 0)
        try session.writeCommand(words("MULTI"), database: 0)
        try session.writeCommand(words("SET t1 x"), database: 0)
        try session.writeCommand(words("SET t2 y"), database: 0)
        try session.writeCommand(words("EXEC"), database: 0)
        try session.flush()
        try session.sink.sync()
        try session.finish()
        var later = AOFWriter(sink: try AppendFileSink(path: path), options: options)
        try later.writeCommand(words("INCR counter"), database: 5)
        try later.writeCommand([ByteBuffer(string: "SET"), ByteBuffer(string: "bin"), ByteBuffer(bytes: [0, 13, 10, 255])], database: 5)
        try later.finish()
    }

    /// What the server must hold after loading base + INCR.
    static func expectContent(_ server: RedisServer) throws {
        func ask(_ arguments: [String]) throws -> [String] {
            try server.command(arguments).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        }
        #expect(try ask(["GET", "s1"]) == ["", ""])
        #expect(try ask(["GET", "s2"]) == ["v2", ""])
        #expect(try ask(["LRANGE", "l", "0", "-1"]) == ["a", "b", "c", "d", ""])
        #expect(try ask(["MGET", "t1", "t2"]) == ["x", "y", ""])
        #expect(try ask(["-n", "2", "HGET", "h", "f1"]) == ["v1", ""])
        #expect(try ask(["-n", "2", "HGET", "h", "f3"]) == ["v3", ""])
        #expect(try ask(["-n", "2", "PEXPIRETIME", "h"]) == ["4102444800000", ""])
        #expect(try ask(["-n", "5", "GET", "counter"]) == ["1", ""])
        #expect(try ask(["-n", "5", "STRLEN", "bin"]) == ["4", ""])
        #expect(try ask(["DBSIZE"]) == ["5", ""])  // s2 l t1 t2 z
        #expect(try ask(["ZSCORE", "z", "m"]) == ["1.5", ""])
    }

    /// A fresh server directory and its `appendonlydir`.
    static func appendOnlyDirectory() throws -> (directory: URL, aof: URL) {
        let directory = try RedisServer.temporaryDirectory("aofwriter-redis")
        let aof = directory.appendingPathComponent("appendonlydir")
        try FileManager.default.createDirectory(at: aof, withIntermediateDirectories: true)
        return (directory, aof)
    }

    static func start(_ directory: URL, port: Int) throws -> RedisServer {
        let binary = try #require(RedisServer.redis70, "Redis 7.0 is missing")
        return try RedisServer(
            binary: binary, port: port, directory: directory,
            arguments: ["--appendonly", "yes", "--appenddirname", "appendonlydir", "--aof-load-truncated", "no"])
    }

    /// redis-check-aof 7.0 finds the directory valid (checked before the server touches it).
    static func expectRedisCheckAOFValid(_ manifest: URL) throws {
        guard let tool = FileManager.default.isExecutableFile(atPath: "/usr/bin/redis-check-aof")
            ? "/usr/bin/redis-check-aof" : Paths.requiredTool("redis-check-aof")
        else { return }
        let result = try run(tool, [manifest.path])
        #expect(result.status == 0, "\(result.standardOutput)")
        #expect(result.standardOutput.contains("All AOF files and manifest are valid"))
    }

    /// After Redis appended a command of its own to our INCR file, the file still reads cleanly, ending with it.
    static func expectRedisAppendsToOurFile(_ server: RedisServer, incr: URL) throws {
        try server.command(["SET", "after", "restart"])
        let bytes = Array(try Data(contentsOf: incr))
        let items = try AOFWriterTests.items(bytes)
        #expect(items.last == ["set", "after", "restart"] || items.last == ["SET", "after", "restart"])
    }

    @Test func redisLoadsAnRDBBaseWithIncrementals() throws {
        let (directory, aof) = try Self.appendOnlyDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let base = AOFManifest.baseFileName(sequence: 1, rdb: true)
        let incr = AOFManifest.incrementalFileName(sequence: 1)

        var rdb = RDBWriter(sink: try FileSink(path: aof.appendingPathComponent(base).path))
        try rdb.writeHeader(aux: [(key: "aof-base", value: "1")])
        func entry(_ db: Int, _ key: String, _ value: RDBValue, expire: Int64? = nil) -> RDBEntry {
            RDBEntry(
                header: RDBKeyHeader(database: db, key: ByteBuffer(string: key), type: value.nominalType, expireAtMilliseconds: expire),
                value: value)
        }
        func text(_ value: String) -> RDBString { .bytes(ByteBuffer(string: value)) }
        try rdb.writeEntry(entry(0, "s1", .string(text("v1"))))
        try rdb.writeEntry(entry(0, "l", .list([text("a"), text("b"), text("c")])))
        try rdb.writeEntry(entry(0, "z", .zset([RDBScoredMember(member: text("m"), score: 1.5)])))
        try rdb.writeEntry(entry(2, "h", .hash([RDBHashField(field: text("f1"), value: text("v1"))]), expire: 4_102_444_800_000))
        _ = try rdb.finish()
        try Self.writeIncrementals(to: aof.appendingPathComponent(incr).path, timestamps: false)
        try AOFManifest(
            base: AOFManifestEntry(fileName: base, sequence: 1, type: .base),
            incrementals: [AOFManifestEntry(fileName: incr, sequence: 1, type: .incremental)]
        ).write(to: aof.appendingPathComponent(AOFManifest.manifestFileName()).path)

        try Self.expectRedisCheckAOFValid(aof.appendingPathComponent(AOFManifest.manifestFileName()))
        let server = try Self.start(directory, port: 7760)
        defer { server.stop() }
        try Self.expectContent(server)
        #expect(!server.log.contains("Truncating"), "\(server.log.suffix(1500))")
        try Self.expectRedisAppendsToOurFile(server, incr: aof.appendingPathComponent(incr))
    }

    @Test func redisLoadsARESPBaseWithTimestampsAndHistory() throws {
        let (directory, aof) = try Self.appendOnlyDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let base = AOFManifest.baseFileName(sequence: 2, rdb: false)
        let history = AOFManifest.incrementalFileName(sequence: 1)
        let incrs = [AOFManifest.incrementalFileName(sequence: 2), AOFManifest.incrementalFileName(sequence: 3)]

        // The base as a RESP rewrite writes it: a forced annotation, then the keys database by database.
        var options = AOFWriteOptions()
        options.timestampAnnotations = true
        var writer = AOFWriter(sink: try FileSink(path: aof.appendingPathComponent(base).path), options: options)
        let now = Int64(Date().timeIntervalSince1970)
        try writer.writeTimestampAnnotation(now)
        try writer.writeCommand(Self.words("SET s1 v1"), database: 0, unixTime: now)
        try writer.writeCommand(Self.words("RPUSH l a b c"), database: 0, unixTime: now)
        try writer.writeCommand(Self.words("ZADD z 1.5 m"), database: 0, unixTime: now)
        try writer.writeCommand(Self.words("HSET h f1 v1"), database: 2, unixTime: now)
        try writer.writeCommand(Self.words("PEXPIREAT h 4102444800000"), database: 2, unixTime: now)
        try writer.finish()
        // A HISTORY file is not loaded: garbage in it must not matter.
        try Data("garbage, not an AOF".utf8).write(to: aof.appendingPathComponent(history))
        try Self.writeIncrementals(to: aof.appendingPathComponent(incrs[0]).path, timestamps: true)
        _ = try AppendFileSink(path: aof.appendingPathComponent(incrs[1]).path).finish()  // an empty INCR is fine
        try AOFManifest(
            base: AOFManifestEntry(fileName: base, sequence: 2, type: .base),
            history: [AOFManifestEntry(fileName: history, sequence: 1, type: .history)],
            incrementals: [
                AOFManifestEntry(fileName: incrs[0], sequence: 2, type: .incremental),
                AOFManifestEntry(fileName: incrs[1], sequence: 3, type: .incremental),
            ]
        ).write(to: aof.appendingPathComponent(AOFManifest.manifestFileName()).path)

        let server = try Self.start(directory, port: 7761)
        defer { server.stop() }
        try Self.expectContent(server)
        #expect(!server.log.contains("Truncating"), "\(server.log.suffix(1500))")
        try Self.expectRedisAppendsToOurFile(server, incr: aof.appendingPathComponent(incrs[1]))
    }
}
