// What OBJECT ENCODING and OBJECT REFCOUNT report: Redis 7.0's internal representation of a value, derived
// from the value's content.
//
// Redis decides an encoding when a value is written and never converts back to a compact one when the value
// shrinks (a set that once held a non-integer stays a hashtable after SREM). We keep no such history, so we
// report what the current content would get when written afresh. The differences:
//   - strings built by APPEND, SETRANGE or SETBIT are "raw" in Redis whatever their content; we report
//     int / embstr / raw by content and length, as SET would;
//   - a set, sorted set or hash that grew past a limit and shrank back is reported compact here;
//   - lists are always "quicklist" (Redis 7.0 has no listpack-encoded lists; 7.2 added them).

import HashTreeCollections

extension Value {
    /// The name OBJECT ENCODING replies with, for Redis 7.0 and the given thresholds.
    /// - Complexity: O(1) for strings, lists and streams; O(min(n, limit)) for sets, sorted sets and hashes.
    public func encodingName(limits: EncodingLimits) -> String {
        switch self {
        case .string(let bytes):
            // tryObjectEncoding: integers of at most 20 characters that fit a long, then embedded strings of at
            // most 44 bytes (OBJ_ENCODING_EMBSTR_SIZE_LIMIT).
            if bytes.integerValue != nil { return "int" }
            return bytes.count <= 44 ? "embstr" : "raw"
        case .list:
            return "quicklist"
        case .set(let set):
            return set.isIntset(limits: limits) ? "intset" : "hashtable"
        case .sortedSet(let zset):
            return zset.isListpack(limits: limits) ? "listpack" : "skiplist"
        case .hash(let hash):
            return hash.isListpack(limits: limits) ? "listpack" : "hashtable"
        case .stream:
            return "stream"
        }
    }

    /// What OBJECT REFCOUNT replies: Redis shares the integers 0 to 9999 (`OBJ_SHARED_INTEGERS`) and reports
    /// them with `OBJ_SHARED_REFCOUNT` (INT_MAX); every other value has one reference.
    /// - Complexity: O(1)
    public var referenceCount: Int64 {
        if case .string(let bytes) = self, let value = bytes.integerValue, value >= 0, value < 10_000 {
            return Int64(Int32.max)
        }
        return 1
    }
}
