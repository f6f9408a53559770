// Keys written from the caller's own storage (the keyspace's values), without an `RDBValue`: the same encoding
// decisions and bytes as `writeEntry(_:)` for the same strings, elements and order.

import NIOCore

extension RDBWriter {
    /// Writes a key holding a string.
    ///
    /// The `writeKey` family writes a key (in `database`, selected first when it is not the current one) with
    /// its expiry, the type its value gets at the target version (as ``writeEntry(_:)`` decides it) and its
    /// value; `count` is the number of elements the sequence yields (a different number stops the process: the
    /// file would be corrupt), which it must be able to yield more than once (the encoding is decided first).
    public mutating func writeKey<Key: RDBWritableString, Value: RDBWritableString>(
        database: Int, key: Key, expireAtMilliseconds: Int64?, string: Value
    ) throws(FormatError) {
        try writeKey(database: database, key: key, expireAtMilliseconds: expireAtMilliseconds, type: .string) {
            (writer) throws(FormatError) in try writer.writeString(string)
        }
    }

    /// Writes a key holding a list, items head to tail (see ``writeKey(database:key:expireAtMilliseconds:string:)``).
    public mutating func writeKey<Key: RDBWritableString, Items: Sequence>(
        database: Int, key: Key, expireAtMilliseconds: Int64?, list items: Items, count: Int
    ) throws(FormatError) where Items.Element: RDBWritableString {
        let type = listType(items)
        try writeKey(database: database, key: key, expireAtMilliseconds: expireAtMilliseconds, type: type) {
            (writer) throws(FormatError) in try writer.writeList(items, count: count, type: type)
        }
    }

    /// Writes a key holding a set of distinct members (see ``writeKey(database:key:expireAtMilliseconds:string:)``).
    public mutating func writeKey<Key: RDBWritableString, Members: Sequence>(
        database: Int, key: Key, expireAtMilliseconds: Int64?, set members: Members, count: Int
    ) throws(FormatError) where Members.Element: RDBWritableString {
        let type = setType(members, count: count)
        try writeKey(database: database, key: key, expireAtMilliseconds: expireAtMilliseconds, type: type) {
            (writer) throws(FormatError) in try writer.writeSet(members, count: count, type: type)
        }
    }

    /// Writes a key holding a set of distinct integers in ascending order (an intset's members): the intset is
    /// made from them as they are when the target takes one, otherwise their decimal texts are written as
    /// ``writeKey(database:key:expireAtMilliseconds:set:count:)`` writes a set's members.
    public mutating func writeKey<Key: RDBWritableString>(
        database: Int, key: Key, expireAtMilliseconds: Int64?, ascendingIntegers integers: [Int64]
    ) throws(FormatError) {
        guard !integers.isEmpty, integers.count <= options.setMaxIntsetEntries else {
            let members = integers.lazy.map { RDBString.integer($0) }
            return try writeKey(database: database, key: key, expireAtMilliseconds: expireAtMilliseconds, set: members, count: integers.count)
        }
        try writeKey(database: database, key: key, expireAtMilliseconds: expireAtMilliseconds, type: .setIntset) {
            (writer) throws(FormatError) in try writer.writeBlob(Intset.build(ascending: integers))
        }
    }

    /// Writes a key holding a sorted set: its distinct members in (score, member) order, and the same members
    /// highest first (neither order is checked: Redis would load the file but find its set out of order), see
    /// ``writeKey(database:key:expireAtMilliseconds:string:)``.
    /// - Throws: `.corrupt` naming the member when a score is NaN, as ``writeEntry(_:)`` does.
    public mutating func writeKey<Key: RDBWritableString, Ascending: Sequence, Descending: Sequence>(
        database: Int, key: Key, expireAtMilliseconds: Int64?, sortedSet ascending: Ascending, highestFirst: Descending,
        count: Int
    ) throws(FormatError) where Ascending.Element: RDBScoredElement, Descending.Element == Ascending.Element {
        let type = zsetType(ascending.lazy.map { $0.member }, count: count)
        try writeKey(database: database, key: key, expireAtMilliseconds: expireAtMilliseconds, type: type) {
            (writer) throws(FormatError) in
            switch type {
            case .zsetListpack, .zsetZiplist: try writer.writeCompactZset(ascending, type: type)
            default: try writer.writeSkiplistZset(highestFirst, count: count, type: type)
            }
        }
    }

    /// Writes a key holding a hash of distinct fields without expiries (see
    /// ``writeKey(database:key:expireAtMilliseconds:string:)``).
    public mutating func writeKey<Key: RDBWritableString, Fields: Sequence, Field: RDBWritableString>(
        database: Int, key: Key, expireAtMilliseconds: Int64?, hash fields: Fields, count: Int
    ) throws(FormatError) where Fields.Element == (field: Field, value: Field) {
        let type = hashType(fields, count: count)
        try writeKey(database: database, key: key, expireAtMilliseconds: expireAtMilliseconds, type: type) {
            (writer) throws(FormatError) in try writer.writeHash(fields, count: count, type: type)
        }
    }

    /// The key's frame around `body`, which writes the value: database, expiry, type, key; the error of a failed
    /// value names the key.
    private mutating func writeKey<Key: RDBWritableString>(
        database: Int, key: Key, expireAtMilliseconds: Int64?, type: RDBType,
        _ body: (inout RDBWriter) throws(FormatError) -> Void
    ) throws(FormatError) {
        if !databaseSelected || database != self.database {
            try selectDB(database)
        }
        if let expire = expireAtMilliseconds {
            staging.appendInteger(RDBOpcode.expireTimeMilliseconds.rawValue)
            writeMilliseconds(expire)
        }
        staging.appendInteger(type.rawValue)
        do throws(FormatError) {
            try writeString(key)
            try body(&self)
        } catch {
            var error = error
            if error.key == nil { error.key = key.withRawBytes { ByteBuffer(bytes: $0) } }
            throw error
        }
        keysWritten += 1
        try flushIfFull()
    }
}
