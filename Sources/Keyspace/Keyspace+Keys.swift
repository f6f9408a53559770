// Whole-key operations the string and generic-key commands share: storing a value with its expiry as one
// change, renaming and moving a key between databases, and the expiry rules of Redis's `checkAlreadyExpired`.

import HashTreeCollections

// MARK: - Storing and moving keys

extension Keyspace {
    /// Stores `value` under `key`, replacing what was there, with the absolute expiry `expireAt` (none when nil).
    /// Counts one change and signals the key modified, as Redis's `setKey` followed by `setExpire` and one
    /// `server.dirty++`. `value` must not be an empty collection.
    /// - Complexity: O(log n)
    public func store(db: Int, key: Bytes, value: Value, expireAt: Int64?) {
        databases[db].entries[key] = value
        if let expireAt {
            databases[db].expires[key] = expireAt
        } else if !databases[db].expires.isEmpty {
            databases[db].expires.removeValue(forKey: key)
        }
        modified(db: db, key: key)
    }

    /// Moves the value and expiry of `source` in `sourceDB` to `destination` in `destinationDB`, replacing what
    /// the destination held (RENAME, MOVE). The source must exist. Counts one change and signals both keys.
    /// - Complexity: O(log n)
    public func moveKey(_ source: Bytes, db sourceDB: Int, to destination: Bytes, db destinationDB: Int) {
        guard let value = databases[sourceDB].entries.removeValue(forKey: source) else {
            preconditionFailure("moveKey from a missing key")
        }
        let expireAt = databases[sourceDB].expires.isEmpty ? nil : databases[sourceDB].expires.removeValue(forKey: source)
        modified(db: sourceDB, key: source, changes: 0)
        store(db: destinationDB, key: destination, value: value, expireAt: expireAt)
    }

    /// Whether an absolute expiry time given by a command has already passed, so that the key must be deleted
    /// rather than given the expiry (Redis `checkAlreadyExpired`). Never while loading or replaying
    /// (``expiryEnabled`` false), where the command must reproduce the key as it was.
    /// - Complexity: O(1)
    public func isAlreadyExpired(_ expireAt: Int64) -> Bool {
        expiryEnabled && expireAt <= currentTime
    }

    /// The index of a database given as a command argument (MOVE, COPY DB, SWAPDB): an integer that fits 32 bits
    /// (Redis `getIntFromObjectOrReply`). Whether that database exists is checked by the caller.
    /// - Throws: `message` when given, else Redis's two errors for a non-integer and for one out of 32 bits.
    static func databaseIndex(_ argument: Bytes, message: CommandError? = nil) throws(CommandError) -> Int {
        guard let value = argument.integerValue else { throw message ?? .notInteger }
        guard value >= Int64(Int32.min), value <= Int64(Int32.max) else {
            throw message ?? CommandError("ERR value is out of range, value must between -2147483648 and 2147483647")
        }
        return Int(value)
    }
}

// MARK: - Errors shared by the string and key commands

extension CommandError {
    /// SETRANGE, APPEND past `proto-max-bulk-len` (512 MB).
    static let stringTooLong = CommandError("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
    static let databaseOutOfRange = CommandError("ERR DB index is out of range")
    static let sameObject = CommandError("ERR source and destination objects are the same")
}

/// Redis's default `proto-max-bulk-len`: the largest string a command may build.
let maxStringBytes = 512 * 1024 * 1024
