import NIOCore

/// A binary-safe Redis string: keys, values, members, fields and command arguments.
///
/// Owned bytes, never a slice of a receive buffer (a stored key must not pin a 64 KiB read window). The storage
/// is private so that a smaller representation (inline short strings) can replace it without touching callers.
public struct Bytes: Sendable, Hashable, Comparable, RandomAccessCollection, ExpressibleByStringLiteral,
    CustomStringConvertible
{
    @usableFromInline var storage: [UInt8]

    @inlinable public init() { storage = [] }
    @inlinable public init(_ array: [UInt8]) { storage = array }
    @inlinable public init<S: Sequence>(_ bytes: S) where S.Element == UInt8 { storage = Array(bytes) }
    public init(_ string: String) { storage = Array(string.utf8) }
    public init(stringLiteral value: String) { storage = Array(value.utf8) }
    /// Copies the readable bytes of `buffer`.
    public init(_ buffer: ByteBuffer) { storage = Array(buffer.readableBytesView) }

    /// The canonical decimal text of `value` (what Redis replies for an integer-encoded string).
    public init(integer value: Int64) { storage = Array(String(value).utf8) }

    // MARK: - Collection

    public typealias Index = Int
    public typealias Element = UInt8
    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { storage.count }
    @inlinable public subscript(position: Int) -> UInt8 { storage[position] }
    @inlinable public var count: Int { storage.count }
    @inlinable public var isEmpty: Bool { storage.isEmpty }

    @inlinable public func withContiguousStorageIfAvailable<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R? {
        try storage.withUnsafeBufferPointer(body)
    }

    /// The bytes as an array (shares storage, O(1)).
    @inlinable public var array: [UInt8] { storage }

    @inlinable
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        // Array.withUnsafeBytes is rethrows; bridge typed throws through Result.
        let result: Result<R, E> = storage.withUnsafeBytes { raw in
            do throws(E) { return .success(try body(raw)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Appends bytes in place.
    @inlinable public mutating func append<S: Sequence>(contentsOf bytes: S) where S.Element == UInt8 {
        storage.append(contentsOf: bytes)
    }

    /// Replaces all bytes with `array` (the caller keeps no other copy).
    @inlinable public mutating func withMutableStorage<R>(_ body: (inout [UInt8]) throws -> R) rethrows -> R {
        try body(&storage)
    }

    /// The bytes as a `ByteBuffer` (for the writers in `Formats`).
    public var byteBuffer: ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: storage.count)
        buffer.writeBytes(storage)
        return buffer
    }

    /// The bytes decoded as UTF-8, invalid sequences replaced (for messages and names, never for data).
    public var string: String { String(decoding: storage, as: UTF8.self) }

    public var description: String { string }

    /// ASCII-lowercased copy as a `String`: command names and option keywords.
    public var lowercasedASCII: String {
        String(decoding: storage.map { $0 &- 65 < 26 ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    /// Case-insensitive ASCII comparison with a keyword given in lower case (`arg.isKeyword("ex")`).
    public func isKeyword(_ lowercaseKeyword: StaticString) -> Bool {
        guard storage.count == lowercaseKeyword.utf8CodeUnitCount else { return false }
        let keyword = UnsafeBufferPointer(start: lowercaseKeyword.utf8Start, count: lowercaseKeyword.utf8CodeUnitCount)
        for index in 0..<storage.count {
            let byte = storage[index]
            let lower = byte &- 65 < 26 ? byte | 0x20 : byte
            if lower != keyword[index] { return false }
        }
        return true
    }

    // MARK: - Hashing and ordering

    public static func == (lhs: Bytes, rhs: Bytes) -> Bool { lhs.storage == rhs.storage }

    public func hash(into hasher: inout Hasher) {
        storage.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    /// Byte-wise order, shorter first on a common prefix (Redis's `memcmp` then length, as ZRANGEBYLEX uses).
    public static func < (lhs: Bytes, rhs: Bytes) -> Bool {
        lhs.storage.withUnsafeBytes { a in
            rhs.storage.withUnsafeBytes { b in
                let common = Swift.min(a.count, b.count)
                if common > 0 {
                    let order = memcmp(a.baseAddress!, b.baseAddress!, common)
                    if order != 0 { return order < 0 }
                }
                return a.count < b.count
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
