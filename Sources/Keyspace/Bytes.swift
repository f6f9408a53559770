import Formats
import NIOCore

/// A binary-safe Redis string: keys, values, members, fields and command arguments.
///
/// Owned bytes, never a slice of a receive buffer (a stored key must not pin a 64 KiB read window). Sixteen
/// bytes, and no allocation up to 15 bytes (most keys, fields, members and numbers), the way Redis embeds short
/// strings in their object (`OBJ_ENCODING_EMBSTR`):
///
/// ```
///   small:  [ b0 b1 … b14 | count ]     bytes inline, unused ones zero; count 0…15 in the last byte
///   large:  [ array ref   | (spare) ]   a [UInt8] of 16 bytes or more
/// ```
///
/// The form follows the length alone (15 bytes or fewer: always small), so two equal strings have the same form
/// and equality and hashing can look at the form first.
public struct Bytes: Sendable, Hashable, Comparable, RandomAccessCollection, ExpressibleByStringLiteral,
    CustomStringConvertible
{
    /// The inline bytes of a small string: 15 bytes, no padding, so that the count fits in the 16th.
    @usableFromInline struct InlineBytes: Sendable {
        @usableFromInline var low: UInt64
        @usableFromInline var middle: UInt32
        @usableFromInline var high: UInt16
        @usableFromInline var last: UInt8

        @inlinable init() {
            low = 0
            middle = 0
            high = 0
            last = 0
        }
    }

    /// 0…15. A no-payload enum leaves the high bits of its byte spare, which is where `Storage` keeps its tag:
    /// the whole string is 16 bytes, not 17 rounded to 24.
    @usableFromInline enum SmallCount: UInt8, Sendable {
        case c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15
    }

    @usableFromInline enum Storage: Sendable {
        case small(InlineBytes, SmallCount)
        case large([UInt8])
    }

    /// The most bytes kept inline.
    public static let inlineCapacity = 15

    @usableFromInline var storage: Storage

    @inlinable public init() { storage = .small(InlineBytes(), .c0) }

    /// Copies `raw` (inline when it is short).
    @inlinable public init(_ raw: UnsafeRawBufferPointer) {
        if raw.count <= Bytes.inlineCapacity {
            var inline = InlineBytes()
            if raw.count > 0 {
                Swift.withUnsafeMutableBytes(of: &inline) { $0.baseAddress!.copyMemory(from: raw.baseAddress!, byteCount: raw.count) }
            }
            storage = .small(inline, SmallCount(rawValue: UInt8(truncatingIfNeeded: raw.count))!)
        } else {
            storage = .large(Array(raw))
        }
    }

    @inlinable public init(_ array: [UInt8]) {
        if array.count <= Bytes.inlineCapacity {
            self = array.withUnsafeBytes { Bytes($0) }
        } else {
            storage = .large(array)
        }
    }

    @inlinable public init<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        if let copied = bytes.withContiguousStorageIfAvailable({ Bytes(UnsafeRawBufferPointer($0)) }) {
            self = copied
        } else {
            self.init(Array(bytes))
        }
    }

    public init(_ string: String) {
        var string = string
        self = string.withUTF8 { Bytes(UnsafeRawBufferPointer($0)) }
    }

    public init(stringLiteral value: String) { self.init(value) }

    /// Copies the readable bytes of `buffer`.
    public init(_ buffer: ByteBuffer) {
        self = buffer.withUnsafeReadableBytes { Bytes($0) }
    }

    /// The canonical decimal text of `value` (what Redis replies for an integer-encoded string).
    public init(integer value: Int64) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        self = Swift.withUnsafeMutableBytes(of: &digits) { raw in
            let start = CanonicalInteger.format(value, rightAlignedIn: raw)
            return Bytes(UnsafeRawBufferPointer(rebasing: raw[start...]))
        }
    }

    // MARK: - Collection

    public typealias Index = Int
    public typealias Element = UInt8
    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { count }

    @inlinable public subscript(position: Int) -> UInt8 {
        switch storage {
        case .small(let inline, let count):
            precondition(position >= 0 && position < Int(count.rawValue), "Bytes index out of range")
            return Swift.withUnsafeBytes(of: inline) { $0[position] }
        case .large(let array):
            return array[position]
        }
    }

    @inlinable public var count: Int {
        switch storage {
        case .small(_, let count): Int(count.rawValue)
        case .large(let array): array.count
        }
    }

    @inlinable public var isEmpty: Bool { count == 0 }

    /// Calls `body` with the bytes, contiguous (valid only inside `body`).
    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        switch storage {
        case .small(var inline, let count):
            return try Swift.withUnsafeBytes(of: &inline) { raw in
                try body(UnsafeBufferPointer(start: raw.baseAddress!.assumingMemoryBound(to: UInt8.self), count: Int(count.rawValue)))
            }
        case .large(let array):
            return try array.withUnsafeBufferPointer(body)
        }
    }

    @inlinable public func withContiguousStorageIfAvailable<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R? {
        try withUnsafeBufferPointer(body)
    }

    /// The bytes as an array (shares storage for a large string; a small one is copied out).
    @inlinable public var array: [UInt8] {
        switch storage {
        case .small: withUnsafeBufferPointer { Array($0) }
        case .large(let array): array
        }
    }

    @inlinable
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        // withUnsafeBufferPointer is rethrows; bridge typed throws through Result.
        let result: Result<R, E> = withUnsafeBufferPointer { buffer in
            do throws(E) { return .success(try body(UnsafeRawBufferPointer(buffer))) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Appends bytes in place.
    @inlinable public mutating func append<S: Sequence>(contentsOf bytes: S) where S.Element == UInt8 {
        withMutableStorage { $0.append(contentsOf: bytes) }
    }

    /// Gives `body` the bytes as an array to change in place (a large string's array is not copied when this is
    /// its only holder).
    @inlinable public mutating func withMutableStorage<R>(_ body: (inout [UInt8]) throws -> R) rethrows -> R {
        var array = self.array
        storage = .small(InlineBytes(), .c0)  // drops this string's reference: `array` is then unique
        defer { self = Bytes(array) }
        return try body(&array)
    }

    /// The bytes as a `ByteBuffer` (for the writers in `Formats`).
    public var byteBuffer: ByteBuffer {
        withUnsafeBufferPointer { bytes in
            var buffer = ByteBufferAllocator().buffer(capacity: bytes.count)
            buffer.writeBytes(UnsafeRawBufferPointer(bytes))
            return buffer
        }
    }

    /// The bytes decoded as UTF-8, invalid sequences replaced (for messages and names, never for data).
    public var string: String { withUnsafeBufferPointer { String(decoding: $0, as: UTF8.self) } }

    public var description: String { string }

    /// ASCII-lowercased copy as a `String`: command names and option keywords.
    public var lowercasedASCII: String {
        withUnsafeBufferPointer { String(decoding: $0.map { $0 &- 65 < 26 ? $0 | 0x20 : $0 }, as: UTF8.self) }
    }

    /// Case-insensitive ASCII comparison with a keyword given in lower case (`arg.isKeyword("ex")`).
    public func isKeyword(_ lowercaseKeyword: StaticString) -> Bool {
        guard count == lowercaseKeyword.utf8CodeUnitCount else { return false }
        let keyword = UnsafeBufferPointer(start: lowercaseKeyword.utf8Start, count: lowercaseKeyword.utf8CodeUnitCount)
        return withUnsafeBufferPointer { bytes in
            for index in 0..<bytes.count {
                let byte = bytes[index]
                let lower = byte &- 65 < 26 ? byte | 0x20 : byte
                if lower != keyword[index] { return false }
            }
            return true
        }
    }

    // MARK: - Hashing and ordering

    @inlinable
    public static func == (lhs: Bytes, rhs: Bytes) -> Bool {
        switch (lhs.storage, rhs.storage) {
        case (.small(let a, let m), .small(let b, let n)):
            m == n && a.low == b.low && a.middle == b.middle && a.high == b.high && a.last == b.last
        case (.large(let a), .large(let b)): a == b
        default: false  // the form follows the length
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch storage {
        case .small(let inline, let count):
            // Unused bytes are zero, so the words and the count say everything; no small string equals a large one.
            hasher.combine(inline.low)
            hasher.combine(UInt64(inline.middle) | UInt64(inline.high) << 32 | UInt64(inline.last) << 48 | UInt64(count.rawValue) << 56)
        case .large(let array):
            array.withUnsafeBytes { hasher.combine(bytes: $0) }
        }
    }

    /// Byte-wise order, shorter first on a common prefix (Redis's `memcmp` then length, as ZRANGEBYLEX uses).
    public static func < (lhs: Bytes, rhs: Bytes) -> Bool {
        lhs.withUnsafeBufferPointer { a in
            rhs.withUnsafeBufferPointer { b in
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
