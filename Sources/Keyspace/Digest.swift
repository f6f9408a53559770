// DEBUG DIGEST and DEBUG DIGEST-VALUE: a fingerprint of the dataset's logical content, computed exactly as
// Redis 7.0 computes it (debug.c), so that a dataset held here can be compared with a real server's by one line.
//
// Two primitives over a 20-byte accumulator D:
//
//   xor(D, s):  D ^= SHA1(s)                    order-independent: sets, hash fields, zset members, keys
//   mix(D, s):  D ^= SHA1(s); D = SHA1(D)       order-dependent: list elements, stream entries, key then value
//
// The dataset digest starts at zero. For every non-empty database j: mix(final, htonl(j)); then for every key
// a fresh K = 0, mix(K, key), the value's part (below), and xor(final, K's 20 bytes).
//
// A value's part, added to K:  mix(K, htonl(type))     type: string 0, list 1, set 2, zset 3, hash 4, stream 6
//   string   mix(K, bytes)
//   list     mix(K, element) for each element, head to tail
//   set      xor(K, member) for each member
//   zset     for each member: E = 0; mix(E, member); mix(E, "%.17g" of the score); xor(K, E's 20 bytes)
//   hash     for each field:  E = 0; mix(E, field); mix(E, value); xor(K, E's 20 bytes)
//   stream   for each entry: mix(K, "<ms>.<seq>"), then mix(K, field), mix(K, value) for each pair
//            (consumer groups are not part of it)
//   expiry   when the key has one: xor(K, "!!expire!!") (its time is not part of it)

import Formats
import HashTreeCollections
import NIOCore

// MARK: - Digest

extension Keyspace {
    /// What DEBUG DIGEST replies: 40 hexadecimal characters, all zeros for an empty dataset.
    ///
    /// Keys that have expired but are still stored count, as in Redis (it iterates its dictionaries without
    /// looking keys up).
    /// - Complexity: O(total elements)
    public func digest() -> String { Keyspace.digest(of: databases) }

    /// The DEBUG DIGEST of a snapshot (``snapshot()``), on any thread.
    /// - Complexity: O(total elements)
    public static func digest(of databases: [Database]) -> String {
        var final = SHA1.Hash.zero
        for (index, database) in databases.enumerated() where !database.isEmpty {
            var id = UInt32(index).bigEndian  // htonl(j)
            withUnsafeBytes(of: &id) { final.mix($0) }
            for (key, value) in database.entries {
                var keyDigest = SHA1.Hash.zero
                key.withUnsafeBytes { keyDigest.mix($0) }
                keyDigest.addValue(value, hasExpire: database.expires[key] != nil)
                final.xor(keyDigest)
            }
        }
        return final.hex
    }

    /// What DEBUG DIGEST-VALUE replies for one key: the digest of its value (and whether it has an expiry), the
    /// key itself left out; 40 zeros when the key does not exist. An expired key is removed first, as the
    /// lookup Redis does would.
    /// - Complexity: O(elements of the value)
    public func digest(of key: Bytes, db: Int) -> String {
        guard let value = value(db: db, key: key) else { return SHA1.Hash.zero.hex }
        var digest = SHA1.Hash.zero
        digest.addValue(value, hasExpire: databases[db].expires[key] != nil)
        return digest.hex
    }
}

// MARK: - Accumulation

extension SHA1.Hash {
    /// `xorDigest`: self ^= SHA1(bytes).
    mutating func xor(_ bytes: UnsafeRawBufferPointer) {
        self = self ^ SHA1.hash(bytes)
    }

    /// `xorDigest` of another digest's 20 bytes: self ^= SHA1(other).
    mutating func xor(_ other: SHA1.Hash) {
        self = self ^ other.rehashed()
    }

    /// `mixDigest`: self ^= SHA1(bytes), then self = SHA1(self).
    mutating func mix(_ bytes: UnsafeRawBufferPointer) {
        xor(bytes)
        self = rehashed()
    }

    /// The SHA1 of these 20 bytes.
    func rehashed() -> SHA1.Hash {
        var bytes = (words.0.bigEndian, words.1.bigEndian, words.2.bigEndian, words.3.bigEndian, words.4.bigEndian)
        return withUnsafeBytes(of: &bytes) { SHA1.hash($0) }
    }

    mutating func mix(_ bytes: Bytes) { bytes.withUnsafeBytes { mix($0) } }

    mutating func mix(_ string: RDBString) {
        switch string {
        case .bytes(let buffer): buffer.withUnsafeReadableBytes { mix($0) }
        case .integer(let value): mix(Bytes(integer: value))
        }
    }

    mutating func mix(_ text: String) {
        var text = text
        text.withUTF8 { mix(UnsafeRawBufferPointer($0)) }
    }

    /// The value's part of a key digest (Redis `xorObjectDigest`).
    mutating func addValue(_ value: Value, hasExpire: Bool) {
        var type = UInt32(Self.redisType(of: value)).bigEndian  // htonl(o->type)
        withUnsafeBytes(of: &type) { mix($0) }
        switch value {
        case .string(let bytes):
            mix(bytes)
        case .list(let list):
            for element in list { mix(element) }
        case .set(let set):
            for member in set { member.withUnsafeBytes { xor($0) } }
        case .sortedSet(let zset):
            for scored in zset {
                var element = SHA1.Hash.zero
                element.mix(scored.member)
                element.mix(Bytes(double: scored.score))
                xor(element)
            }
        case .hash(let hash):
            for (field, fieldValue) in hash {
                var element = SHA1.Hash.zero
                element.mix(field)
                element.mix(fieldValue)
                xor(element)
            }
        case .stream(let stream):
            for entry in stream.rdbStream.entries {
                mix("\(entry.id.milliseconds).\(entry.id.sequence)")
                for pair in entry.fields {
                    mix(pair.field)
                    mix(pair.value)
                }
            }
        }
        if hasExpire {
            var marker = "!!expire!!"
            marker.withUTF8 { xor(UnsafeRawBufferPointer($0)) }
        }
    }

    /// Redis's `OBJ_*` type numbers.
    private static func redisType(of value: Value) -> Int {
        switch value {
        case .string: 0
        case .list: 1
        case .set: 2
        case .sortedSet: 3
        case .hash: 4
        case .stream: 6
        }
    }
}
