import HashTreeCollections
import Keyspace
import Testing

/// Helpers for the list and set command tests: running commands, replaying what was propagated, and a logical
/// view of a dataset to compare two keyspaces by content.
enum ListSetTestSupport {
    /// Runs `commands` on `keyspace` in one session and returns the replies.
    @discardableResult
    static func run(_ keyspace: Keyspace, _ commands: [[Bytes]], session: Session = Session()) -> [Reply] {
        commands.map { keyspace.execute($0, session: session) }
    }

    /// A fresh keyspace after replaying `propagated` (each command in its database, as an AOF would).
    static func replay(_ propagated: [PropagatedCommand]) -> Keyspace {
        let replayed = Keyspace()
        let session = Session()
        for command in propagated {
            session.db = command.db
            // DEL belongs to the key commands: apply it directly while the engine may not have it.
            if command.argv.first?.lowercasedASCII == "del", replayed.commands["del"] == nil {
                for key in command.argv.dropFirst() { replayed.remove(db: command.db, key: key) }
                continue
            }
            let reply = replayed.execute(command.argv, session: session)
            if reply.isError { Issue.record("replaying \(command.argv.map(\.string)): \(reply)") }
        }
        return replayed
    }

    /// One key's content in a comparable form: its type, its elements (sorted for a set), its expiry.
    struct Content: Equatable, CustomStringConvertible {
        var type: String
        var elements: [Bytes]
        var expiry: Int64?
        var description: String { "\(type)\(elements.map(\.string))\(expiry.map { " expires \($0)" } ?? "")" }
    }

    /// The logical content of every database: database → key → content.
    static func content(of databases: [Database]) -> [Int: [Bytes: Content]] {
        var result: [Int: [Bytes: Content]] = [:]
        for (index, database) in databases.enumerated() where !database.isEmpty {
            var keys: [Bytes: Content] = [:]
            for (key, value) in database.entries {
                let elements: [Bytes] = switch value {
                case .string(let bytes): [bytes]
                case .list(let list): Array(list)
                case .set(let set): set.sorted()
                case .hash(let hash): hash.map { Bytes($0.key.array + [0] + $0.value.array) }.sorted()
                case .sortedSet(let zset): zset.map { Bytes($0.member.array + Array("\0\($0.score)".utf8)) }
                case .stream: []
                }
                keys[key] = Content(type: value.typeName, elements: elements, expiry: database.expires[key])
            }
            result[index] = keys
        }
        return result
    }

    /// Records an issue per key whose content differs between `ours` and `expected`, and checks that their
    /// DEBUG DIGESTs agree.
    static func expectSameContent(
        _ ours: Keyspace, _ expected: Keyspace, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(ours.digest() == expected.digest(), "DEBUG DIGEST", sourceLocation: sourceLocation)
        let a = content(of: ours.snapshot())
        let b = content(of: expected.snapshot())
        #expect(Set(a.keys) == Set(b.keys), "databases differ", sourceLocation: sourceLocation)
        for (db, keys) in b {
            for (key, value) in keys where a[db]?[key] != value {
                Issue.record("db \(db) key \(key): \(a[db]?[key]?.description ?? "missing") vs \(value)",
                    sourceLocation: sourceLocation)
            }
            for key in a[db]?.keys ?? [:].keys where keys[key] == nil {
                Issue.record("db \(db) key \(key) should not exist", sourceLocation: sourceLocation)
            }
        }
    }
}

/// A keyspace, a session and a one-line way to run a command on them (`run("LPUSH", "k", "v")`).
final class ListSetHarness {
    let keyspace = Keyspace()
    let session = Session()

    @discardableResult
    func callAsFunction(_ argv: Bytes...) -> Reply { keyspace.execute(argv, session: session) }

    /// The list stored at `key` in the session's database.
    func list(_ key: Bytes) -> ListValue? {
        guard case .list(let list)? = keyspace.databases[session.db].entries[key] else { return nil }
        return list
    }

    /// The members of the set stored at `key` in the session's database.
    func members(_ key: Bytes) -> Set<Bytes>? {
        guard case .set(let set)? = keyspace.databases[session.db].entries[key] else { return nil }
        return Set(set)
    }

    /// The bulk strings of an array reply, nil for any other reply.
    static func bulks(_ reply: Reply) -> [Bytes]? {
        guard case .array(let items) = reply else { return nil }
        var result: [Bytes] = []
        for item in items {
            guard case .bulk(let bytes) = item else { return nil }
            result.append(bytes)
        }
        return result
    }
}

/// A seedable generator (SplitMix64) so that random scripts are the same on every run.
struct ListSetRandom: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
