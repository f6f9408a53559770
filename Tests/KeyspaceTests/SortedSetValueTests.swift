import HashTreeCollections
import Testing

@testable import Keyspace

@Suite("Sorted set value (chunked order)")
struct SortedSetValueTests {
    typealias Element = SortedSetValue.ScoredMember

    /// The chunk invariants: every chunk non-empty and at most the capacity, counts in step, the whole order
    /// strictly increasing, and the tree holding exactly the same members and scores.
    static func checkInvariants(_ zset: SortedSetValue, sourceLocation: SourceLocation = #_sourceLocation) {
        let storage = zset.storage
        #expect(storage.chunks.count == storage.counts.count, sourceLocation: sourceLocation)
        #expect(storage.chunks.count == storage.lastScores.count, sourceLocation: sourceLocation)
        for (index, chunk) in storage.chunks.enumerated() {
            #expect(!chunk.isEmpty && chunk.count <= SortedSetValue.chunkCapacity, sourceLocation: sourceLocation)
            #expect(chunk.count == Int(storage.counts[index]), sourceLocation: sourceLocation)
            #expect(chunk.last?.score == storage.lastScores[index], sourceLocation: sourceLocation)
        }
        let order = Array(zset)
        #expect(order.count == zset.count, sourceLocation: sourceLocation)
        for index in order.indices.dropFirst() where !Element.precedes(order[index - 1], order[index]) {
            Issue.record("order broken at \(index)", sourceLocation: sourceLocation)
            break
        }
        for element in order where zset.score(of: element.member) != element.score {
            Issue.record("tree and order disagree on \(element.member)", sourceLocation: sourceLocation)
            break
        }
        // The member → score tree exists once the set has passed the threshold, and then holds every member.
        if let index = storage.scores {
            #expect(index.count == order.count, sourceLocation: sourceLocation)
            #expect(order.allSatisfy { index[$0.member] == $0.score }, sourceLocation: sourceLocation)
        } else {
            #expect(order.count <= SortedSetValue.indexThreshold, sourceLocation: sourceLocation)
        }
    }

    static func model(_ scores: [Bytes: Double]) -> [Element] {
        scores.map { Element(member: $0.key, score: $0.value) }.sorted(by: Element.precedes)
    }

    @Test("The value is one reference: Value stays small")
    func layout() {
        #expect(MemoryLayout<SortedSetValue>.size <= 16)
        #expect(MemoryLayout<SortedSetValue>.size == MemoryLayout<Int>.size)
    }

    /// Members drawn from `universe`: 1500 passes the index threshold early, 100 never does (no tree: every
    /// lookup scans the order), 140 hovers around it.
    @Test(
        "Random inserts, updates and removals keep ranks, ranges and chunks right",
        arguments: zip([1, 2, 3, 4, 5] as [UInt64], [1500, 1500, 1500, 100, 140]))
    func randomOperations(seed: UInt64, universe: Int) {
        var generator = ListSetRandom(seed: seed)
        var zset = SortedSetValue()
        var scores: [Bytes: Double] = [:]
        let scoreChoices: [Double] = [-.infinity, -3, -0.5, 0, 1, 1.5, 2, 10, .infinity]
        for step in 0..<6000 {
            let member = Bytes("m\(Int.random(in: 0..<universe, using: &generator))")
            switch Int.random(in: 0..<10, using: &generator) {
            case 0..<6:
                let score =
                    Bool.random(using: &generator)
                    ? scoreChoices.randomElement(using: &generator)!
                    : Double(Int.random(in: -50..<50, using: &generator))
                #expect(zset.insert(member, score: score) == scores[member])
                scores[member] = score
            case 6..<9:
                #expect(zset.remove(member) == scores.removeValue(forKey: member))
            default:
                guard step % 10 == 0, !scores.isEmpty else { continue }
                let lower = Int.random(in: 0..<scores.count, using: &generator)
                let upper = Swift.min(scores.count, lower + Int.random(in: 0..<300, using: &generator))
                let expected = Array(Self.model(scores)[lower..<upper])
                #expect(zset.removeElements(inRanks: lower..<upper) == expected)
                for element in expected { scores[element.member] = nil }
            }
        }
        Self.checkInvariants(zset)
        let model = Self.model(scores)
        #expect(Array(zset) == model)
        for rank in stride(from: 0, to: model.count, by: 7) {
            #expect(zset.rank(of: model[rank].member) == rank)
            #expect(zset[rank: rank] == model[rank])
        }
        #expect(zset.rank(of: "absent") == nil)
        #expect(zset.elements(inRanks: 10..<250) == Array(model[10..<Swift.min(250, model.count)]))
        #expect(zset.elements(inRanks: -5..<3) == Array(model.prefix(3)))
        let ranks = [5, 0, 5, model.count - 1, 17]
        #expect(zset.elements(atRanks: ranks) == ranks.map { model[$0] })
        for range in [
            ScoreRange(min: -1, max: 2), ScoreRange(min: -1, max: 2, minExclusive: true, maxExclusive: true),
            ScoreRange(min: -.infinity, max: .infinity), ScoreRange(min: 2, max: 1),
            ScoreRange(min: 1, max: 1, maxExclusive: true),
        ] {
            let expected = model.indices.filter { range.contains(model[$0].score) }
            let ranks = zset.ranks(in: range)
            #expect(Array(ranks) == expected)
        }
    }

    @Test("Sequential loads fill chunks densely; removing most members merges the small chunks")
    func density() {
        var zset = SortedSetValue()
        for index in 0..<10_000 { zset.insert(Bytes("m\(index)"), score: Double(index)) }
        Self.checkInvariants(zset)
        #expect(zset.storage.chunks.count == (10_000 + 127) / 128)
        var descending = SortedSetValue()
        for index in (0..<10_000).reversed() { descending.insert(Bytes("m\(index)"), score: Double(index)) }
        #expect(descending.storage.chunks.count == (10_000 + 127) / 128)
        for index in 0..<10_000 where index % 50 != 0 { zset.remove(Bytes("m\(index)")) }
        Self.checkInvariants(zset)
        #expect(zset.count == 200)
        #expect(zset.storage.chunks.count <= 10)
        let built = SortedSetValue(ordered: Array(descending))
        Self.checkInvariants(built)
        #expect(Array(built) == Array(descending))
    }

    @Test("A copy shares storage; the first write copies it and leaves the copy unchanged")
    func copyOnWrite() {
        var zset = SortedSetValue()
        for index in 0..<1000 { zset.insert(Bytes("m\(index)"), score: Double(index % 37)) }
        let snapshot = zset
        #expect(snapshot.storage === zset.storage)
        zset.insert("m5", score: 1000)
        zset.remove("m6")
        zset.removeElements(inRanks: 0..<10)
        #expect(snapshot.storage !== zset.storage)
        #expect(snapshot.count == 1000 && snapshot.score(of: "m5") == 5 && snapshot.score(of: "m6") == 6)
        Self.checkInvariants(snapshot)
        Self.checkInvariants(zset)
        // Chunks the write did not touch are still shared.
        let shared = zip(snapshot.storage.chunks, zset.storage.chunks).filter { a, b in
            a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { y in x.baseAddress == y.baseAddress } }
        }
        #expect(!shared.isEmpty)
        // -0 is stored as 0; an unchanged score is not a write.
        var other = zset
        other.insert("z", score: -0.0)
        #expect(other.score(of: "z")?.sign == .plus)
        let before = other.storage
        other.insert("z", score: 0)
        #expect(other.storage === before)
    }

    @Test("A small set has no member tree; the loader's unchecked appends build one past the threshold")
    func indexThreshold() {
        let threshold = SortedSetValue.indexThreshold
        var zset = SortedSetValue()
        for index in 0..<threshold { zset.insertNew(Bytes("m\(index)"), score: Double(threshold - index)) }
        #expect(zset.storage.scores == nil && zset.count == threshold)
        #expect(zset.score(of: "m5") == Double(threshold - 5) && zset.score(of: "absent") == nil)
        #expect(zset.rank(of: "m0") == threshold - 1)
        let small = zset
        zset.insertNew("one more", score: -1)
        #expect(zset.storage.scores?.count == threshold + 1 && zset.rank(of: "one more") == 0)
        #expect(small.storage.scores == nil && small.count == threshold && small.score(of: "one more") == nil)
        Self.checkInvariants(zset)
        Self.checkInvariants(small)
        // Shrinking keeps the tree, in step with the order.
        zset.removeElements(inRanks: 0..<(threshold - 10))
        #expect(zset.count == 11 && zset.storage.scores?.count == 11)
        Self.checkInvariants(zset)
    }

    @Test(
        "A file's members build the set in one pass in either order; out of order or repeated, member by member",
        arguments: [5, SortedSetValue.indexThreshold + 1, 1_000])
    func loaded(count: Int) {
        // Scores with ties (ordered by member then), a -0 stored as 0.
        let ascending = (0..<count).map { Element(member: Bytes("m\($0 % 7)-\($0)"), score: Double($0 / 3)) }
            .sorted(by: Element.precedes)
        var withNegativeZero = ascending
        withNegativeZero[0].score = -0.0
        var shuffled = ascending
        shuffled.swapAt(0, count - 1)
        for (elements, mayRepeat) in [(ascending, false), (ascending, true), (Array(ascending.reversed()), true),
                                      (shuffled, false), (withNegativeZero, false)] {
            let zset = SortedSetValue(loaded: elements, mayRepeat: mayRepeat)
            Self.checkInvariants(zset)
            #expect(Array(zset) == ascending.map { Element(member: $0.member, score: $0.score == 0 ? 0 : $0.score) })
            #expect(zset.allSatisfy { $0.score != 0 || $0.score.sign == .plus }, "-0 is stored as 0")
        }
        // A repeated member (a plain encoding may hold one): the last score wins, in order or not.
        var repeated = ascending
        repeated.append(Element(member: ascending[0].member, score: 1e9))
        let zset = SortedSetValue(loaded: repeated, mayRepeat: true)
        Self.checkInvariants(zset)
        #expect(zset.count == count && zset.score(of: ascending[0].member) == 1e9)
        var strictlyOrderedRepeat = ascending
        strictlyOrderedRepeat.append(Element(member: ascending[1].member, score: 2e9))  // still ascending
        let second = SortedSetValue(loaded: strictlyOrderedRepeat, mayRepeat: true)
        Self.checkInvariants(second)
        #expect(second.count == count && second.score(of: ascending[1].member) == 2e9)
    }
}
