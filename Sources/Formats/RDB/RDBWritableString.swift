// What the RDB writer's value encodings take: any string that can lend its bytes, so that a caller with its own
// storage (the keyspace's strings, sets, hashes…) is written without first becoming `RDBValue` (an array, a
// buffer and a reference count per element: a third of a save's time when it did).

import NIOCore

/// A string the RDB writer encodes from wherever its owner keeps the bytes.
///
/// A conforming type implements every requirement itself (no defaults): the writer's generic code is then
/// specialised for it down to the bytes, where a default in this module would be called unspecialised.
public protocol RDBWritableString {
    /// The length of the string's bytes (for an integer, of its decimal text).
    var byteCount: Int { get }
    /// The integer the string is the canonical decimal text of (Redis's `string2ll`), when that text has at
    /// most `maxLength` characters; nil otherwise.
    func canonicalInteger(maxLength: Int) -> Int64?
    /// Calls `body` with the string's bytes (valid only during the call).
    func withRawBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R
}

extension RDBString: RDBWritableString {
    public func canonicalInteger(maxLength: Int) -> Int64? {
        switch self {
        case .integer(let value): RDBString.decimalLength(value) <= maxLength ? value : nil
        case .bytes(let bytes): CanonicalInteger.parse(bytes, maxLength: maxLength)
        }
    }

    public func withRawBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        switch self {
        case .bytes(let bytes): bytes.withUnsafeReadableBytes(body)
        case .integer(let value): CanonicalInteger.withText(value, body)
        }
    }
}

/// A sorted-set member with its score, as the RDB writer takes it.
public protocol RDBScoredElement {
    associatedtype Member: RDBWritableString
    var member: Member { get }
    var score: Double { get }
}

extension RDBScoredMember: RDBScoredElement {}
