import NIOCore
import TestSupport
import Testing

@testable import Formats

/// The duplicate check of compact blobs (listpack/ziplist sets, hashes, sorted sets): the first entry, in order,
/// whose text repeats an earlier one's, integers compared by their decimal text.
@Suite struct BlobEntryTests {
    /// Entries for `texts` in one blob: texts that are integers become integer entries when `integers` says so.
    static func entries(_ texts: [String], integers: Set<Int> = []) -> ([BlobEntry], ByteBuffer) {
        var blob = ByteBuffer()
        var entries: [BlobEntry] = []
        for (index, text) in texts.enumerated() {
            if integers.contains(index), let value = Int64(text) {
                entries.append(BlobEntry(integer: value))
            } else {
                entries.append(BlobEntry(offset: blob.writerIndex, length: text.utf8.count))
                blob.writeString(text)
            }
        }
        return (entries, blob)
    }

    /// The answer by brute force.
    static func expected(_ texts: [String], stride: Int) -> Int? {
        var seen: Set<String> = []
        for index in Swift.stride(from: 0, to: texts.count, by: stride) where !seen.insert(texts[index]).inserted {
            return index
        }
        return nil
    }

    @Test(arguments: [3, 16, 17, 40, 129, 5000])
    func findsTheFirstRepeat(count: Int) {
        var generator = SplitMix64(seed: UInt64(count))
        for stride in [1, 2, 3] {
            // Distinct texts of every length from 0 to 40 bytes (the hash reads 8 bytes at a time) and integers.
            var texts = (0..<count * stride).map { index -> String in
                index % 3 == 0 ? String(index * 7919) : String(repeating: "m", count: index % 41) + "\(index)"
            }
            let integers = Set((0..<texts.count).filter { $0 % 2 == 0 })
            var (entries, blob) = Self.entries(texts, integers: integers)
            #expect(BlobEntry.firstDuplicate(entries, stride: stride, in: blob) == nil)

            // Values (the entries between the checked ones) may repeat a member.
            if stride > 1 {
                texts[1] = texts[0]
                (entries, blob) = Self.entries(texts, integers: integers)
                #expect(BlobEntry.firstDuplicate(entries, stride: stride, in: blob) == nil)
            }

            for _ in 0..<20 {
                var repeated = texts
                let later = Int(generator.next() % UInt64(count - 1) + 1) * stride
                let earlier = Int(generator.next() % UInt64(later / stride)) * stride
                repeated[later] = repeated[earlier]
                // The earlier text as an integer entry and the later one as a string, or the other way round.
                let flipped = integers.symmetricDifference([earlier, later])
                for integerSet in [integers, flipped] {
                    let (entries, blob) = Self.entries(repeated, integers: integerSet)
                    let found = BlobEntry.firstDuplicate(entries, stride: stride, in: blob)
                    #expect(found == Self.expected(repeated, stride: stride), "count \(count) stride \(stride): \(earlier) and \(later)")
                }
            }
        }
    }

    @Test func integerAndTextOfTheSameNumberAreTheSameMember() {
        let texts = (0..<40).map { "member\($0)" } + ["-12", "7"] + ["-12"]
        let (entries, blob) = Self.entries(texts, integers: [40])
        #expect(BlobEntry.firstDuplicate(entries, stride: 1, in: blob) == 42)
        // "012" is not the integer 12's text.
        let (others, otherBlob) = Self.entries((0..<40).map { "m\($0)" } + ["12", "012"], integers: [40])
        #expect(BlobEntry.firstDuplicate(others, stride: 1, in: otherBlob) == nil)
    }
}
