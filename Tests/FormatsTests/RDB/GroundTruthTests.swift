import Foundation
import Formats
import TestSupport
import NIOCore
import Testing

@Suite struct GroundTruthTests {
    @Test(arguments: Paths.rdbFixtureNames)
    func fixtureDecodesToGroundTruth(_ name: String) throws {
        let rdb = Array(try Data(contentsOf: Paths.rdbFixtures.appendingPathComponent(name)))
        let json = try Data(contentsOf: Paths.rdbFixtures.appendingPathComponent(name.replacingOccurrences(of: ".rdb", with: ".json")))
        let count = try GroundTruth.check(rdb: rdb, json: json, name: name)
        #expect(count > 0)
    }

    @Test(arguments: Paths.syntheticFixtureNames)
    func syntheticFixtureDecodesToGroundTruth(_ name: String) throws {
        let rdb = Array(try Data(contentsOf: Paths.syntheticFixtures.appendingPathComponent(name)))
        let json = try Data(contentsOf: Paths.syntheticFixtures.appendingPathComponent(name.replacingOccurrences(of: ".rdb", with: ".json")))
        #expect(try GroundTruth.check(rdb: rdb, json: json, name: name) > 0)
    }

    @Test func everyCommittedFixtureIsTested() {
        #expect(Paths.syntheticFixtureNames.count >= 7)
        #expect(Paths.rdbFixtureNames.count >= 7)
    }

    @Test(arguments: Paths.rdbFixtureNames)
    func gzippedFixtureDecodesTheSame(_ name: String) throws {
        let rdb = Array(try Data(contentsOf: Paths.rdbFixtures.appendingPathComponent(name)))
        let json = try Data(contentsOf: Paths.rdbFixtures.appendingPathComponent(name.replacingOccurrences(of: ".rdb", with: ".json")))
        _ = try GroundTruth.check(rdb: try gzipped(rdb), json: json, name: name + ".gz")
    }

    /// Tiny windows force every read to straddle refills.
    @Test(arguments: Paths.rdbFixtureNames)
    func smallChunksDecodeTheSame(_ name: String) throws {
        let rdb = Array(try Data(contentsOf: Paths.rdbFixtures.appendingPathComponent(name)))
        let whole = try readAll(rdb)
        let chunked = try readAll(rdb, chunkSize: 7)
        #expect(whole.entries.count == chunked.entries.count)
        for (a, b) in zip(whole.entries, chunked.entries) {
            #expect(a.header.key == b.header.key)
            #expect(a.value == b.value)
        }
        #expect(whole.info.checksum == chunked.info.checksum)
    }
}

@Suite struct OffsetTests {
    /// Offsets must not depend on how the input was chunked: compare every event's offset across window sizes.
    @Test(arguments: Paths.rdbFixtureNames)
    func offsetsAreIndependentOfChunking(_ name: String) throws {
        let rdb = Array(try Data(contentsOf: Paths.rdbFixtures.appendingPathComponent(name)))
        func offsets(_ chunk: Int) throws -> [Int64] {
            var buffer = ByteBuffer()
            buffer.writeBytes(rdb)
            var reader = RDBReader(source: ByteBufferSource(buffer), chunkSize: chunk)
            var offsets: [Int64] = []
            while try reader.next() != nil { offsets.append(reader.offset) }
            return offsets
        }
        let reference = try offsets(1 << 20)
        #expect(reference.last == Int64(rdb.count))
        for chunk in [1, 5, 64, 1000] {
            #expect(try offsets(chunk) == reference, "chunk size \(chunk)")
        }
    }
}
