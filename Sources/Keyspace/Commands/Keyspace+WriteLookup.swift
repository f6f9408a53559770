// MARK: - Lookups for write commands

extension Keyspace {
    /// The value of `key` as a `P` the way a write command looks it up (Redis `lookupKeyWrite`: an expired key is
    /// removed first; hits and misses are not counted). Nil when the key is missing.
    ///
    /// Used to check a key's type before changing anything; drop the result before mutating the key, or the
    /// mutation will copy the value.
    /// - Throws: `WRONGTYPE` when the key holds another type.
    /// - Complexity: O(log n)
    func payloadForWrite<P: ValuePayload>(_ type: P.Type, db: Int, key: Bytes) throws(CommandError) -> P? {
        guard let found = value(db: db, key: key) else { return nil }
        guard let payload = P.extract(found) else { throw .wrongType }
        return payload
    }
}
