import Foundation
import Formats
import NIOCore
import TestSupport
import Testing

/// One AOF file through `AOFReader`: RESP, RDB preamble + tail, and MULTI/EXEC tracking.
@Suite struct AOFReaderTests {
    struct Outcome {
        var commands: [[String]] = []
        var rdbKeys = 0
        var error: FormatError?
        var safeOffset: Int64 = 0
        var inTransaction = false
        var line: Int64 = 0
        var commandsOffset: Int64?
    }

    static func read(_ bytes: [UInt8], chunkSize: Int = 1 << 20, preamble: Bool? = nil) throws -> Outcome {
        var reader = AOFReader(
            source: try InputSource.memory(ByteBuffer(bytes: bytes)),
            hasPreamble: preamble ?? AOFReader<InputSource>.startsWithRDB(Array(bytes.prefix(8))), chunkSize: chunkSize)
        var outcome = Outcome()
        do throws(FormatError) {
            while let event = try reader.next() {
                switch event {
                case .command(let command): outcome.commands.append(command.arguments.map(\.text))
                case .rdb(.beginKey): outcome.rdbKeys += 1
                default: break
                }
            }
        } catch {
            outcome.error = error
        }
        outcome.safeOffset = reader.safeOffset
        outcome.inTransaction = reader.inTransaction
        outcome.line = reader.line
        outcome.commandsOffset = reader.commandsOffset
        return outcome
    }

    static let transaction = Array(
        "*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nset\r\n$1\r\na\r\n$1\r\nb\r\n*1\r\n$4\r\nexec\r\n".utf8)

    @Test func transactionsMoveTheSafeOffsetOnlyWhenClosed() throws {
        let whole = try Self.read(Self.transaction)
        #expect(whole.error == nil && !whole.inTransaction)
        #expect(whole.commands.count == 3)
        #expect(whole.safeOffset == Int64(Self.transaction.count))
        // Without the EXEC the safe point stays before the MULTI.
        let open = try Self.read(Array(Self.transaction.prefix(Self.transaction.count - 14)))
        #expect(open.error == nil && open.inTransaction)
        #expect(open.safeOffset == 0)
    }

    @Test func nestedMultiAndLoneExecAreCorrupt() throws {
        let nested = try Self.read(Array("*1\r\n$5\r\nmulti\r\n*1\r\n$5\r\nMULTI\r\n".utf8))
        #expect(nested.error?.code == .corrupt)
        #expect(nested.error?.offset == 15)
        // As redis-check-aof: the position and line count of the first argument of the offending command.
        var reader = AOFReader(
            source: try InputSource.memory(ByteBuffer(bytes: Array("*1\r\n$5\r\nmulti\r\n*2\r\n$5\r\nMULTI\r\n$1\r\nx\r\n".utf8))),
            hasPreamble: false)
        while (try? reader.next()) != nil {}
        #expect(reader.lastItemOffset == 23)
        #expect(reader.line == 7)
        #expect(reader.failureMessage == "Unexpected MULTI")
        let lone = try Self.read(Array("*1\r\n$4\r\nEXEC\r\n".utf8))
        #expect(lone.error?.code == .corrupt)
        #expect(lone.error?.detail == "Unexpected EXEC")
    }

    @Test(.enabled(if: Paths.sharedAssetsPresent || Paths.isCI, "shared/fixtures/redis-assets is not beside the checkout"))
    func preambleAndTail() throws {
        let bytes = try Paths.sharedAsset("rdb-preamble.aof")
        for chunkSize in [1, 7, 1 << 20] {
            let outcome = try Self.read(bytes, chunkSize: chunkSize)
            #expect(outcome.error == nil)
            #expect(outcome.rdbKeys == 2)
            #expect(outcome.commandsOffset == 117)
            #expect(outcome.commands == [["SELECT", "0"], ["set", "k3", "v3"]])
            #expect(outcome.line == 13)
        }
        // A cut inside the RDB is the RDB reader's truncation.
        let cut = try Self.read(Array(bytes.prefix(100)))
        #expect(cut.error?.code == .truncated)
    }

    @Test func everyPrefixOfACommandFileIsCleanOrTruncated() throws {
        let bytes = Self.transaction + Array("*2\r\n$3\r\ndel\r\n$1\r\na\r\n".utf8)
        for cut in 0...bytes.count {
            let outcome = try Self.read(Array(bytes.prefix(cut)), chunkSize: 5)
            if let error = outcome.error {
                #expect(error.code == .truncated, "cut \(cut)")
                #expect(error.offset <= Int64(cut), "cut \(cut)")
            }
            #expect(outcome.safeOffset <= Int64(cut), "cut \(cut)")
        }
    }
}

/// Gzip-compressed AOFs (Redis never writes one; people compress their backups): read through `InputSource` like
/// the plain file, with offsets in the decompressed data.
@Suite struct AOFReaderGzipTests {
    static let commands = AOFReaderTests.transaction + Array("*2\r\n$3\r\ndel\r\n$1\r\na\r\n#TS:7\r\n*1\r\n$4\r\nPING\r\n".utf8)

    static func reader(_ bytes: [UInt8], preamble: Bool = false) throws -> AOFReader<InputSource> {
        AOFReader(source: try InputSource.memory(ByteBuffer(bytes: bytes)), hasPreamble: preamble, chunkSize: 5)
    }

    @Test func gzipReadsLikeThePlainFile() throws {
        let plain = try AOFReaderTests.read(Self.commands, chunkSize: 5)
        let compressed = try AOFReaderTests.read(try gzipped(Self.commands), chunkSize: 5)
        #expect(compressed.error == nil)
        #expect(compressed.commands == plain.commands)
        #expect(compressed.safeOffset == plain.safeOffset)
        #expect(compressed.line == plain.line)
        var reader = try Self.reader(try gzipped(Self.commands))
        while try reader.next() != nil {}
        #expect(reader.readInputSize() == Int64(Self.commands.count))
    }

    @Test func cutInsideACommandReportsDecompressedOffsets() throws {
        // The gzip stream is whole; the AOF inside it is cut in the DEL command.
        let cut = Array(Self.commands.prefix(AOFReaderTests.transaction.count + 9))
        let plain = try AOFReaderTests.read(cut, chunkSize: 5)
        let compressed = try AOFReaderTests.read(try gzipped(cut), chunkSize: 5)
        #expect(compressed.error?.code == .truncated)
        #expect(compressed.error?.offset == plain.error?.offset)
        #expect(compressed.safeOffset == Int64(AOFReaderTests.transaction.count))
        var reader = try Self.reader(try gzipped(cut))
        while (try? reader.next()) != nil {}
        #expect(reader.readInputSize() == Int64(cut.count))
    }

    @Test func damagedCompressedDataIsAnErrorNotATrap() throws {
        let compressed = try gzipped(Self.commands)
        // Every cut of the compressed file: a clean read of a prefix or an error, never a trap; the size is at
        // most what was decompressed.
        for length in 10..<compressed.count {
            var reader = try Self.reader(Array(compressed.prefix(length)))
            var failed = false
            do throws(FormatError) {
                while try reader.next() != nil {}
            } catch {
                failed = true
            }
            #expect(failed, "cut at \(length) of \(compressed.count)")
            #expect(reader.readInputSize() <= Int64(Self.commands.count))
        }
    }

    @Test(.enabled(if: Paths.sharedAssetsPresent || Paths.isCI, "shared/fixtures/redis-assets is not beside the checkout"))
    func gzipPreamble() throws {
        let bytes = try Paths.sharedAsset("rdb-preamble.aof")
        let outcome = try AOFReaderTests.read(try gzipped(bytes), chunkSize: 7, preamble: true)
        #expect(outcome.error == nil)
        #expect(outcome.rdbKeys == 2)
        #expect(outcome.commandsOffset == 117)
        #expect(outcome.commands == [["SELECT", "0"], ["set", "k3", "v3"]])
    }
}
