import Foundation
import Formats
import TestSupport
import NIOCore
import Testing

/// Hostile input: every prefix of every fixture, and random byte flips in the style of Redis's
/// corrupt-dump-fuzzer. A trap would end the test process, so passing means no crash.
@Suite struct CorruptionTests {
    /// Every valid RDB we have: the real-server fixtures and the shared assets that are valid.
    static var allValid: [String] {
        var names = Paths.rdbFixtureNames.map { "rdb/" + $0 } + Paths.syntheticFixtureNames.map { "synthetic/" + $0 }
        if Paths.sharedAssetsPresent {
            names += Paths.validSharedRDBs.map { "shared/" + $0 }
        }
        return names
    }

    static func bytes(_ name: String) throws -> [UInt8] {
        if name.hasPrefix("shared/") { return try Paths.sharedAsset(String(name.dropFirst(7))) }
        if name.hasPrefix("synthetic/") {
            return Array(try Data(contentsOf: Paths.syntheticFixtures.appendingPathComponent(String(name.dropFirst(10)))))
        }
        return Array(try Data(contentsOf: Paths.rdbFixtures.appendingPathComponent(String(name.dropFirst(4)))))
    }

    /// The cut points to try: every one for files up to 32 KiB (all the committed fixtures); for anything
    /// larger the first and last 2 KiB densely and a seeded sample in between.
    static func cuts(_ count: Int, seed: UInt64) -> [Int] {
        if count <= 32 * 1024 { return Array(0..<count) }
        var cuts = Set(0..<2048).union((count - 2048)..<count)
        var generator = SplitMix64(seed: seed)
        while cuts.count < 4096 + 400 { cuts.insert(Int(generator.next() % UInt64(count))) }
        return cuts.sorted()
    }

    @Test(arguments: allValid)
    func everyPrefixIsTruncated(_ name: String) throws {
        let bytes = try Self.bytes(name)
        #expect(throws: Never.self) { try drain(bytes).get() }
        for cut in Self.cuts(bytes.count, seed: UInt64(bytes.count)) {
            // The checker's path (skipValue) is the faster one; the event path gives the same errors
            // (corruptSampleGivesItsError, randomByteFlipsNeverTrap).
            switch drainSkipping(Array(bytes[..<cut]), chunkSize: 4096) {
            case .success:
                Issue.record("\(name) cut at \(cut) of \(bytes.count) parsed as complete")
            case .failure(let error):
                #expect(error.code == .truncated, "\(name) cut at \(cut): \(error)")
                #expect(error.offset <= Int64(cut), "\(name) cut at \(cut): offset \(error.offset)")
            }
        }
    }

    @Test(arguments: allValid)
    func gzipPrefixesAreTruncated(_ name: String) throws {
        let compressed = try gzipped(try Self.bytes(name))
        var generator = SplitMix64(seed: 99)
        for _ in 0..<60 {
            let cut = Int(generator.next() % UInt64(compressed.count))
            if case .failure(let error) = drain(Array(compressed[..<cut])) {
                #expect(error.code == .truncated || error.code == .corrupt, "\(name).gz cut at \(cut): \(error)")
            } else {
                Issue.record("\(name).gz cut at \(cut) parsed as complete")
            }
        }
    }

    @Test(arguments: allValid)
    func randomByteFlipsNeverTrap(_ name: String) throws {
        let original = try Self.bytes(name)
        var generator = SplitMix64(seed: 0xF1_1B5 ^ UInt64(original.count))
        let rounds = original.count > 20_000 ? 300 : 1500
        var errors = 0
        for _ in 0..<rounds {
            var bytes = original
            let flips = 1 + Int(generator.next() % 4)
            for _ in 0..<flips {
                let at = Int(generator.next() % UInt64(bytes.count))
                switch generator.next() % 3 {
                case 0: bytes[at] ^= UInt8(1 << (generator.next() % 8))
                case 1: bytes[at] = UInt8(truncatingIfNeeded: generator.next())
                default: bytes[at] = [0x00, 0x7F, 0x80, 0xFF, 0xC3, 0xFE][Int(generator.next() % 6)]
                }
            }
            // Without the checksum most flips reach the decoders instead of the trailer check.
            var options = RDBReadOptions()
            options.verifyChecksum = false
            let slow = countElements(bytes, options: options, chunkSize: 1024)
            let fast = drainSkipping(bytes, options: options, chunkSize: 1024)
            // Element blocks (the server's loader reads this way): the same elements, or the same error.
            var groupedOptions = options
            groupedOptions.groupsBlobElements = true
            switch (slow, countElements(bytes, options: groupedOptions, chunkSize: 1024)) {
            case (.success(let a), .success(let b)):
                #expect(a == b, "\(name): element counts differ with blocks")
            case (.failure(let error), .failure(let other)):
                #expect("\(error)" == "\(other)", "\(name): \(error) vs \(other) with blocks")
            case (let single, let grouped):
                Issue.record("\(name): event path \(single) but with blocks \(grouped)")
            }
            switch (slow, fast) {
            case (.success(let a), .success(let b)):
                #expect(a == b, "\(name): element counts differ between the event and skip paths")
            case (.failure(let error), .failure(let other)):
                errors += 1
                #expect(error.offset >= 0 && error.offset <= Int64(bytes.count), "\(name): \(error)")
                #expect(error.code == other.code && error.offset == other.offset, "\(name): \(error) vs \(other)")
            default:
                Issue.record("\(name): event path \(slow) but skip path \(fast)")
            }
        }
        #expect(errors > 0, "no flip of \(name) was detected at all")
    }

    /// One defect per file (Fixtures/synthetic/corrupt, named after the defect), with the error expected.
    @Test(arguments: Paths.corruptFixtureNames)
    func corruptSampleGivesItsError(_ name: String) throws {
        let directory = Paths.syntheticFixtures.appendingPathComponent("corrupt")
        let expectations = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("expected.json")))
                as? [String: [String: Any]])
        let expected = try #require(expectations[name], "\(name) has no expectation")
        let bytes = Array(try Data(contentsOf: directory.appendingPathComponent(name)))
        // The checker's fast path must find exactly the same error.
        switch (drain(bytes), drainSkipping(bytes)) {
        case (.failure(let slow), .failure(let fast)):
            #expect(slow.code == fast.code && slow.offset == fast.offset && slow.key == fast.key, "\(name): \(slow) vs \(fast)")
        default:
            Issue.record("\(name): event path and skipValue() path disagree")
        }
        switch drain(bytes) {
        case .success:
            Issue.record("\(name) was accepted")
        case .failure(let error):
            #expect(error.code.description == expected["code"] as? String, "\(name): \(error)")
            let key = expected["key"] as? String
            #expect(error.key.map(GroundTruth.hex) == key, "\(name): \(error)")
            let low = try #require(expected["offset_min"] as? Int)
            let high = try #require(expected["offset_max"] as? Int)
            #expect(error.offset >= Int64(low) && error.offset <= Int64(high), "\(name): \(error)")
        }
    }

    @Test func hugeDeclaredCountIsALimitError() throws {
        // REDIS0010, SELECTDB 0, a set (type 2) declaring 2^32 members through the 64-bit LEN form.
        var bytes = Array("REDIS0010".utf8) + [0xFE, 0x00, 0x02, 0x01, UInt8(ascii: "k")]
        bytes += [0x81, 0, 0, 0, 1, 0, 0, 0, 0]
        bytes += [0x01, UInt8(ascii: "a")]
        switch drain(bytes) {
        case .success: Issue.record("accepted")
        case .failure(let error):
            #expect(error.code == .limitExceeded)
            #expect(error.key?.text == "k")
        }
    }

    @Test func hugeStringLengthIsALimitErrorNotAnAllocation() throws {
        // A 200 MB string declared in a tiny file, with a 16 MiB limit.
        let bytes = Array("REDIS0010".utf8) + [0xFE, 0x00, 0x00, 0x01, UInt8(ascii: "k"), 0x80, 0x0B, 0xEB, 0xC2, 0x00]
        var options = RDBReadOptions()
        options.maxStringBytes = 16 << 20
        var buffer = ByteBuffer()
        buffer.writeBytes(bytes)
        var reader = RDBReader(source: ByteBufferSource(buffer), options: options)
        do {
            while try reader.next() != nil {}
            Issue.record("accepted")
        } catch {
            #expect(error.code == .limitExceeded)
        }
        // Within the limit it is a truncation, found without reading 200 MB of nothing.
        #expect(throws: FormatError.self) { try drain(bytes).get() }
    }

    /// A source over bytes in memory that notes the largest window it was handed and the largest read asked of it.
    final class ReservationLog {
        var largestCapacity = 0
        var largestRequest = 0
    }

    struct RecordingSource: ByteSource {
        var inner: ByteBufferSource
        let log: ReservationLog

        mutating func read(into window: inout ByteBuffer, atMost count: Int) throws(FormatError) -> Int {
            log.largestCapacity = max(log.largestCapacity, window.capacity)
            log.largestRequest = max(log.largestRequest, count)
            return try inner.read(into: &window, atMost: count)
        }
    }

    /// FuzzRestore, 2026-11-26 (CI): a 25-byte RESTORE payload whose string header declared 1 GiB made the reader
    /// reserve a window of that size (2 GiB once rounded) before finding the input short. A declared length is
    /// not an allocation: the window grows with the bytes that arrive, and the answer is a truncation.
    @Test func declaredStringLengthIsNotReservedAhead() throws {
        // 400 MiB: under the reader's 512 MB limit on strings (RESTORE's blob limit is 1 GiB).
        let bytes = Array("REDIS0010".utf8) + [0xFE, 0x00, 0x00, 0x01, UInt8(ascii: "k"), 0x80, 0x19, 0x00, 0x00, 0x00]
            + Array(repeating: UInt8(ascii: "v"), count: 100)
        let log = ReservationLog()
        var reader = RDBReader(source: RecordingSource(inner: ByteBufferSource(bytes: bytes), log: log))
        do {
            while try reader.next() != nil {}
            Issue.record("accepted")
        } catch {
            #expect(error.code == .truncated)
            #expect(error.key?.text == "k")
            #expect("\(error)".contains("needed 419430400 bytes"), "\(error)")
        }
        #expect(log.largestRequest <= 16 << 20, "asked the source for \(log.largestRequest) bytes at once")
        #expect(log.largestCapacity <= 32 << 20, "reserved a window of \(log.largestCapacity) bytes")
    }

    /// The same for a large string that is really there: it arrives whole, through a window that grew to hold it.
    @Test func largeStringStillReadsWhole() throws {
        let length = 40 << 20
        var bytes = Array("REDIS0010".utf8) + [0xFE, 0x00, 0x00, 0x01, UInt8(ascii: "k"), 0x80]
        bytes += withUnsafeBytes(of: UInt32(length).bigEndian) { Array($0) }
        bytes += Array(repeating: UInt8(ascii: "v"), count: length) + [0xFF] + Array(repeating: 0, count: 8)
        var options = RDBReadOptions()
        options.verifyChecksum = false
        let log = ReservationLog()
        var reader = RDBReader(source: RecordingSource(inner: ByteBufferSource(bytes: bytes), log: log), options: options)
        var sizes: [Int] = []
        while let event = try reader.next() {
            if case .element(.string(let value)) = event { sizes.append(value.bytes.readableBytes) }
        }
        #expect(sizes == [length])
        #expect(log.largestRequest <= 16 << 20)
    }

    /// An LZF string claiming more than 88 times its compressed size cannot be valid: refused before allocating.
    @Test func lzfClaimBeyondMaximumExpansionIsCorrupt() {
        let compressed = ByteBuffer(bytes: [0x00, 0x61])
        do {
            _ = try LZF.decompress(compressed, uncompressedCount: 1 << 30)
            Issue.record("accepted")
        } catch {
            #expect(error.code == .corrupt)
            #expect("\(error)".contains("2 compressed bytes cannot decode to 1073741824"), "\(error)")
        }
        // 88 times is reachable (and here merely wrong), so it gets as far as liblzf.
        #expect(throws: FormatError.self) { try LZF.decompress(compressed, uncompressedCount: 176) }
    }

    @Test func unknownVersionsAndMagic() {
        for (magic, code) in [
            ("REDIS0013", FormatError.Code.unsupportedVersion), ("REDIS0000", .unsupportedVersion),
            ("VALKEY079", .unsupportedVersion), ("RADIS0010", .corrupt), ("REDIS00x1", .unsupportedVersion),
        ] {
            switch drain(Array(magic.utf8) + [0xFF]) {
            case .success: Issue.record("\(magic) accepted")
            case .failure(let error): #expect(error.code == code, "\(magic): \(error)")
            }
        }
        if case .failure(let error) = drain(Array("REDIS".utf8)) {
            #expect(error.code == .truncated)
        } else {
            Issue.record("5-byte file accepted")
        }
    }
}
