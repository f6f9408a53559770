import Formats
import HashTreeCollections
import NIOCore
import Testing
import TestSupport

@testable import Keyspace

/// Small sets and hashes are flat arrays (Redis's intset and listpack counterparts) and become persistent trees
/// past their limits; both forms must hold the same contents, and copies (snapshots) must stay independent.
@Suite("Compact sets and hashes")
struct CompactCollectionTests {
    static func member(_ index: Int) -> Bytes { Bytes("member:\(index):padding-past-fifteen-bytes") }

    @Test("A set and a hash are one reference (a tree is boxed), so a key's slot in the keyspace stays small")
    func layout() {
        #expect(MemoryLayout<SetValue>.size == MemoryLayout<Int>.size)
        #expect(MemoryLayout<HashValue>.size == MemoryLayout<Int>.size)
        // A string's 16 bytes and a tag: the largest payload decides (a list is two words).
        #expect(MemoryLayout<Value>.size <= 17)
        #expect(MemoryLayout<(Bytes, Value)>.stride <= 40)
    }

    @Test("A set is flat up to its limit and a tree past it, with the same members; copies stay as they were")
    func setForms() {
        let limit = SetValue.compactLimit
        var set = SetValue()
        let inserted = (0..<limit).map { set.insert(Self.member($0)) }
        let again = set.insert(Self.member(7))
        #expect(inserted.allSatisfy { $0 } && !again)
        #expect(set.isCompact && set.count == limit)

        let flatCopy = set
        let grew = set.insert("one more")
        #expect(grew)
        #expect(!set.isCompact && set.count == limit + 1)
        #expect(flatCopy.isCompact && flatCopy.count == limit && !flatCopy.contains("one more"))
        #expect(Set(set) == Set((0..<limit).map(Self.member)).union(["one more"]))

        // Removing from the flat form moves the last member into the hole: every other member is still found.
        var smaller = flatCopy
        let removed = smaller.remove(Self.member(3))
        let removedTwice = smaller.remove(Self.member(3))
        #expect(removed && !removedTwice)
        #expect(!smaller.contains(Self.member(3)) && flatCopy.contains(Self.member(3)))
        #expect(Set(smaller) == Set((0..<limit).filter { $0 != 3 }.map(Self.member)))
        #expect((0..<limit).allSatisfy { $0 == 3 || smaller.contains(Self.member($0)) })

        // A tree that shrinks stays a tree.
        let shrank = set.remove("one more") && set.remove(Self.member(0))
        #expect(shrank)
        #expect(!set.isCompact && set.count == limit - 1)

        // Random positions reach every member of either form.
        var random = SystemRandomNumberGenerator()
        for form in [smaller, set] {
            var popped = form
            let all = popped.popRandomMembers(form.count - 1, using: &random) + Array(popped)
            #expect(all.count == form.count && Set(all) == Set(form))
        }
    }

    @Test("A set of integers is held ascending (Redis's intset) up to its limit; a string or one more member changes its form, copies stay")
    func integerForm() {
        let limit = SetValue.compactLimit
        var set = SetValue()
        // Inserted out of order, small and large, positive and negative.
        let values: [Int64] = (0..<limit).map { Int64(($0 * 7919) % limit) * ($0 % 2 == 0 ? 1 : -70_000_000_000) }
        let inserted = values.map { set.insert(Bytes(integer: $0)) }
        let again = set.insert(Bytes(integer: values[9]))
        #expect(inserted.filter { $0 }.count == Set(values).count && !again)
        let ascending = Set(values).sorted()
        #expect(set.ascendingIntegers == ascending && set.count == ascending.count)
        #expect(Array(set) == ascending.map { Bytes(integer: $0) })
        #expect(set.isIntset(limits: EncodingLimits()) && set.isCompact)
        // Only the canonical text of an integer is that member.
        #expect(set.contains(Bytes(integer: values[3])) && set.contains("0"))
        #expect(!set.contains("-0") && !set.contains("+7919") && !set.contains("00") && !set.contains("x"))
        #expect(set.member(at: 0) == Bytes(integer: ascending[0]))

        let copy = set
        let removed = set.remove(Bytes(integer: ascending[5]))
        let removedTwice = set.remove(Bytes(integer: ascending[5]))
        let notThere = set.remove("-0")
        #expect(removed && !removedTwice && !notThere)
        #expect(set.ascendingIntegers == ascending.filter { $0 != ascending[5] } && copy.ascendingIntegers == ascending)

        // A string joins: the integers become strings, ascending, the string last (Redis 7.2's conversion).
        var mixed = SetValue(ascendingIntegers: [-5, 3, 9])
        let joined = mixed.insert("text")
        #expect(joined && mixed.ascendingIntegers == nil && mixed.isCompact && Array(mixed) == ["-5", "3", "9", "text"])
        #expect(mixed.contains("3") && mixed.contains("text") && !mixed.isIntset(limits: EncodingLimits()))
        var wide = copy
        let widened = wide.insert("text")
        #expect(widened && !wide.isCompact && wide.count == copy.count + 1 && wide.contains(Bytes(integer: values[3])))

        // Past the limit: a tree with the same members.
        var full = SetValue()
        for index in 0..<limit { full.insert(Bytes(integer: Int64(index))) }
        #expect(full.ascendingIntegers?.count == limit)
        let grew = full.insert(Bytes(integer: -1))
        #expect(grew && !full.isCompact && full.count == limit + 1 && full.contains("-1") && full.contains("511"))
        var fullWithString = SetValue(ascendingIntegers: (0..<Int64(limit)).map { $0 })
        fullWithString.insert("s")
        #expect(!fullWithString.isCompact && fullWithString.count == limit + 1)

        // Emptied, the set takes the form its next first member calls for.
        var emptied = SetValue(ascendingIntegers: [4])
        let gone = emptied.remove("4")
        let first = emptied.insert("word")
        #expect(gone && first && emptied.ascendingIntegers == nil && Array(emptied) == ["word"])

        // Distinct members that are all integers (a set the algebra or a load built) are held the same way.
        #expect(SetValue(distinct: ["10", "-3", "7"]).ascendingIntegers == [-3, 7, 10])
        #expect(SetValue(distinct: ["10", "07"]).ascendingIntegers == nil)
        #expect(SetValue(ascendingIntegers: Array(0..<Int64(limit + 1))).isCompact == false)

        // Random positions reach every member.
        var random = SystemRandomNumberGenerator()
        var popped = copy
        let all = popped.popRandomMembers(copy.count - 1, using: &random) + Array(popped)
        #expect(Set(all) == Set(copy) && all.count == copy.count)
    }

    @Test("A hash is flat up to its limit and a tree past it; updates, removals and copies keep every pair right")
    func hashForms() {
        let limit = HashValue.compactLimit
        var hash = HashValue()
        let created = (0..<limit).map { hash.updateValue(Bytes(integer: Int64($0)), forField: Self.member($0)) }
        let replaced = hash.updateValue("new", forField: Self.member(5))
        #expect(created.allSatisfy { $0 == nil } && replaced == Bytes(integer: 5))
        #expect(hash.isCompact && hash.count == limit && hash[Self.member(5)] == "new")

        let flatCopy = hash
        let added = hash.updateValue("x", forField: "one more")
        #expect(added == nil)
        #expect(!hash.isCompact && hash.count == limit + 1 && hash["one more"] == "x")
        #expect(flatCopy.isCompact && flatCopy["one more"] == nil && flatCopy[Self.member(5)] == "new")

        var smaller = flatCopy
        let removedValue = smaller.removeValue(forField: Self.member(2))
        let removedAgain = smaller.removeValue(forField: Self.member(2))
        #expect(removedValue == Bytes(integer: 2) && removedAgain == nil)
        #expect(flatCopy[Self.member(2)] == Bytes(integer: 2))
        for index in 0..<limit where index != 2 {
            #expect(smaller[Self.member(index)] == (index == 5 ? "new" : Bytes(integer: Int64(index))))
        }
        let pairs = (0..<smaller.count).map { smaller.entry(at: $0) }
        #expect(Dictionary(uniqueKeysWithValues: pairs.map { ($0.field, $0.value) })
            == Dictionary(uniqueKeysWithValues: smaller.map { ($0.key, $0.value) }))
        #expect(Set(smaller.fields).count == limit - 1 && smaller.values.count == limit - 1)

        // The tree built for a scan holds the same pairs.
        #expect(smaller.tree.count == smaller.count && smaller.tree[Self.member(5)] == "new")
        let removedLast = hash.removeValue(forField: "one more")
        #expect(removedLast == "x" && !hash.isCompact)
    }

    @Test("Repeated members and fields in an RDB are kept once, the last value of a field winning, as a tree would")
    func repeatsCollapse() throws {
        #expect(ValueBuilder.withoutRepeats(["a", "b", "c"], stride: 1) == ["a", "b", "c"])
        #expect(ValueBuilder.withoutRepeats(["a", "b", "a", "c", "b"], stride: 1) == ["a", "b", "c"])
        #expect(ValueBuilder.withoutRepeats(["f", "1", "g", "2", "f", "3"], stride: 2) == ["f", "3", "g", "2"])

        // Plain encodings can repeat (a blob the reader checked cannot). The file by hand, since our writer would
        // turn the small hash into a listpack: RDB 10, a set (type 2) "s" = a b a, a hash (type 4) "h" = f:1 g:2
        // f:3, the end, a zero checksum (not computed).
        var file: [UInt8] = Array("REDIS0010".utf8)
        func string(_ text: String) { file += [UInt8(text.utf8.count)] + Array(text.utf8) }
        file += [2]
        string("s")
        file += [3]
        for member in ["a", "b", "a"] { string(member) }
        file += [4]
        string("h")
        file += [3]
        for text in ["f", "1", "g", "2", "f", "3"] { string(text) }
        // "big": 200 fields, past the flat limit, the first field repeated after the switch to a tree.
        file += [4]
        string("big")
        file += [0x40, 201]  // a 14-bit length
        for field in 0..<200 {
            string("f\(field)")
            string("v\(field)")
        }
        string("f0")
        string("last")
        file += [0xFF] + Array(repeating: 0, count: 8)

        let keyspace = Keyspace()
        var reader = RDBReader(source: ByteBufferSource(bytes: file))
        #expect(try keyspace.load(from: &reader).keysLoaded == 3)
        let entries = keyspace.databases[0].entries
        guard case .set(let set)? = entries["s"], case .hash(let hash)? = entries["h"] else {
            Issue.record("keys missing")
            return
        }
        #expect(set.count == 2 && Set(set) == ["a", "b"])
        #expect(hash.count == 2 && hash["f"] == "3" && hash["g"] == "2")
        guard case .hash(let big)? = entries["big"] else {
            Issue.record("big missing")
            return
        }
        #expect(!big.isCompact && big.count == 200 && big["f0"] == "last" && big["f199"] == "v199")
    }
}
