import HashTreeCollections

// MARK: - SINTER, SUNION, SDIFF, their STORE forms, SINTERCARD

extension SetCommand {
    enum Operation {
        case intersection, union, difference
    }

    /// SINTER / SUNION / SDIFF (`destination` nil: the members) and their STORE forms (the size of the stored
    /// result; an empty result deletes the destination). Every key is type-checked, missing ones included in the
    /// operation as empty sets.
    ///
    /// The persistent trees combine structurally: the result shares nodes with its inputs, so a union or
    /// difference does not copy subtrees that come through unchanged.
    /// - Complexity: intersection O(smallest × sets × log n); union and difference O(total of the inputs) at most.
    static func combine(
        _ context: inout CommandContext, _ operation: Operation, keysFrom first: Int, destination: Bytes?
    ) throws(CommandError) -> Reply {
        let inputs = try sets(context, keys: context.argv[first...], forWrite: destination != nil)
        let result: TreeSet<Bytes> = switch operation {
        case .intersection: intersection(inputs)
        case .union: union(inputs)
        case .difference: difference(inputs)
        }
        guard let destination else { return .bulks(result) }
        let keyspace = context.keyspace
        if result.isEmpty {
            keyspace.remove(db: context.db, key: destination)
        } else {
            keyspace.set(db: context.db, key: destination, value: .set(SetValue(result)))
        }
        return .count(result.count)
    }

    /// SINTERCARD `numkeys key… [LIMIT n]`: the size of the intersection, counting stops at `n` (0: no limit).
    /// - Complexity: O(smallest × sets) membership tests at most.
    static func intersectionCardinality(_ context: inout CommandContext) throws(CommandError) -> Reply {
        let numberOfKeys = try CollectionArguments.atLeast(1, context[1], orError: "numkeys should be greater than 0")
        guard numberOfKeys <= Int64(context.count - 2) else {
            throw CommandError("ERR Number of keys can't be greater than number of args")
        }
        let keysEnd = 2 + Int(numberOfKeys)
        var limit = 0
        var index = keysEnd
        while index < context.count {
            guard context[index].isKeyword("limit"), index + 1 < context.count else { throw .syntax }
            limit = try CollectionArguments.nonNegative(context[index + 1], orError: "LIMIT can't be negative")
            index += 2
        }
        let inputs = try sets(context, keys: context.argv[2..<keysEnd], forWrite: false)
        var present: [TreeSet<Bytes>] = []
        for input in inputs {
            guard let input else { return .integer(0) }
            present.append(input.tree)
        }
        present.sort { $0.count < $1.count }
        var cardinality = 0
        for member in present[0] where present.dropFirst().allSatisfy({ $0.contains(member) }) {
            cardinality += 1
            if cardinality == limit { break }
        }
        return .count(cardinality)
    }

    // MARK: - Helpers

    /// The sets at `keys` (nil for a missing key), every key type-checked. Read commands count hits and misses
    /// (Redis `lookupKeyRead`); the STORE forms look up for writing.
    /// - Throws: `WRONGTYPE` when any key holds another type.
    private static func sets(
        _ context: CommandContext, keys: ArraySlice<Bytes>, forWrite: Bool
    ) throws(CommandError) -> [SetValue?] {
        var result: [SetValue?] = []
        result.reserveCapacity(keys.count)
        for key in keys {
            if forWrite {
                result.append(try context.keyspace.payloadForWrite(SetValue.self, db: context.db, key: key))
            } else {
                result.append(try context.keyspace.read(SetValue.self, db: context.db, key: key))
            }
        }
        return result
    }

    /// Empty as soon as one input is missing; otherwise intersected from the smallest set up.
    private static func intersection(_ inputs: [SetValue?]) -> TreeSet<Bytes> {
        var present: [TreeSet<Bytes>] = []
        for input in inputs {
            guard let input else { return [] }
            present.append(input.tree)
        }
        present.sort { $0.count < $1.count }
        var result = present[0]
        for other in present.dropFirst() {
            if result.isEmpty { break }
            result = result.intersection(other)
        }
        return result
    }

    /// Grown from the largest set, so that its nodes are shared rather than re-inserted.
    private static func union(_ inputs: [SetValue?]) -> TreeSet<Bytes> {
        var present = inputs.compactMap { $0?.tree }
        guard let largest = present.indices.max(by: { present[$0].count < present[$1].count }) else { return [] }
        var result = present.remove(at: largest)
        for other in present { result.formUnion(other) }
        return result
    }

    /// The first set without the members of the others (a missing first set gives an empty result).
    private static func difference(_ inputs: [SetValue?]) -> TreeSet<Bytes> {
        guard let first = inputs[0] else { return [] }
        var result = first.tree
        for other in inputs.dropFirst() {
            guard let other else { continue }
            if result.isEmpty { break }
            result.subtract(other.tree)
        }
        return result
    }
}
