@testable import Keyspace
import Formats
import NIOCore
import Testing

/// A save writes the keyspace's values straight from their storage (`RDBWriter.writeKey`); the converter and
/// DUMP go through `RDBValue` (`writeEntry`). Both must give the same bytes: the same encoding decisions at
/// every version, the same element order and integer forms, LZF on the same strings.
@Suite("Direct value writing")
struct DirectWriteTests {
    /// Strings of every form an element can take: integers (small, 16/32/64-bit, negative, non-canonical), short
    /// and long text, compressible and incompressible, one past the listpack limit, one over the staging size.
    static func strings(_ count: Int, seed: inout UInt64) -> [Bytes] {
        func next() -> UInt64 {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return seed >> 33
        }
        return (0..<count).map { index in
            switch next() % 12 {
            case 0: return Bytes(integer: Int64(next() % 13))
            case 1: return Bytes(integer: -Int64(next() % 40_000))
            case 2: return Bytes(integer: Int64(next()) << 20)
            case 3: return Bytes("007")
            case 4: return Bytes("-0")
            case 5: return Bytes("m\(index)-\(next() % 1000)")
            case 6: return Bytes(String(repeating: "abc", count: 7 + Int(next() % 30)))
            case 7: return Bytes((0..<(21 + Int(next() % 80))).map { _ in UInt8(truncatingIfNeeded: next()) })
            case 8: return Bytes(String(repeating: "z", count: 65))
            case 9 where next() % 8 == 0: return Bytes(String(repeating: "large ", count: 12_000))
            case 10: return Bytes(integer: Int64.min)
            default: return Bytes("field:\(index)")
            }
        }
    }

    static func values(seed: UInt64) -> [(name: String, value: Value)] {
        var seed = seed
        var result: [(String, Value)] = []
        for count in [0, 1, 5, 100, 129, 600] {
            let items = strings(count, seed: &seed)
            result.append(("string \(count)", .string(items.first ?? "")))
            if count > 0 { result.append(("list \(count)", .list(ListValue(items)))) }
            var set = SetValue()
            for item in items { set.insert(item) }
            if count > 0 { result.append(("set \(count)", .set(set))) }
            var integers = SetValue()
            for index in 0..<count { integers.insert(Bytes(integer: Int64(index) * (count > 100 ? 70_000 : -3))) }
            if count > 0 { result.append(("intset \(count)", .set(integers))) }
            var zset = SortedSetValue()
            for (index, item) in items.enumerated() {
                let score = index % 3 == 0 ? Double(index) : index % 3 == 1 ? 1.0 / Double(index + 3) : -.infinity
                _ = zset.insert(item, score: score)
            }
            if count > 0 { result.append(("zset \(count)", .sortedSet(zset))) }
            var hash = HashValue()
            for (index, item) in items.enumerated() { _ = hash.updateValue(items[(index * 7) % count], forField: item) }
            if count > 0 { result.append(("hash \(count)", .hash(hash))) }
        }
        // Long runs of one size: several quicklist nodes.
        result.append(("list of many nodes", .list(ListValue((0..<5000).map { Bytes("element number \($0)") }))))
        return result
    }

    @Test("writeKey writes what writeEntry writes for the same value, at every version", arguments: RDBWriteOptions.supportedVersions)
    func sameBytes(version: Int) throws {
        for compression in [true, false] {
            var options = RDBWriteOptions()
            options.version = version
            options.compression = compression
            for (index, (name, value)) in Self.values(seed: UInt64(version)).enumerated() {
                let key = Bytes("key:\(name)")
                let expire: Int64? = index % 2 == 0 ? 4_102_444_800_000 : nil
                var direct = RDBWriter(sink: BufferSink(), options: options)
                direct.beginFragment(database: 0)
                try direct.writeKey(key, value, expireAtMilliseconds: expire, database: 3)
                try direct.flushFragment()
                var converted = RDBWriter(sink: BufferSink(), options: options)
                converted.beginFragment(database: 0)
                try converted.writeEntry(Keyspace.entry(key, value, expire, 3))
                try converted.flushFragment()
                let directBytes = direct.takeFragment()
                #expect(directBytes == converted.takeFragment(), "\(name) at RDB \(version), compression \(compression)")
                #expect(directBytes.readableBytes > 4, "\(name)")
            }
        }
    }
}
