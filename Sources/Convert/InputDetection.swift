import Formats
import JSONRecords
import NIOCore

/// What kind of input a file is, told from its first bytes (after gzip decompression by ``InputSource``).
enum InputKind: Equatable {
    /// An RDB file (`REDIS` / `VALKEY` magic); also anything that is not JSON, so that the RDB reader reports
    /// the bad magic.
    case rdb
    /// One JSON document `{"version":1,…,"keys":[…]}`.
    case json
    /// JSON Lines: one object per line.
    case jsonLines

    /// Peeks at the start of `source`: the first non-blank byte, and for JSON the whole first line. JSON Lines
    /// when that line is one complete object holding "db" and "key" (a record) or "meta" / "after_keys";
    /// otherwise a document.
    ///
    /// - Returns: the kind and a source that still yields every byte.
    /// - Throws: what reading the source throws.
    static func detect<Source: ByteSource>(_ source: Source) throws(FormatError) -> (InputKind, PrefixedSource<Source>)
    {
        var source = source
        var prefix = ByteBufferAllocator().buffer(capacity: 64 * 1024)
        var ended = false
        func readMore(_ source: inout Source, _ prefix: inout ByteBuffer) throws(FormatError) -> Bool {
            try source.read(into: &prefix, atMost: 256 * 1024) > 0
        }
        let whitespace: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0D]
        var start = 0
        while true {
            let view = prefix.readableBytesView
            if let index = view.firstIndex(where: { !whitespace.contains($0) }) {
                start = index - view.startIndex
                break
            }
            if ended { return (.rdb, PrefixedSource(prefix: prefix, inner: source)) }
            ended = try !readMore(&source, &prefix)
        }
        let view = prefix.readableBytesView
        switch view[view.startIndex + start] {
        case UInt8(ascii: "{"): break
        case UInt8(ascii: "["): return (.json, PrefixedSource(prefix: prefix, inner: source))  // JSON, not ours
        default: return (.rdb, PrefixedSource(prefix: prefix, inner: source))
        }
        var lineEnd: Int? = nil
        while lineEnd == nil {
            let view = prefix.readableBytesView
            lineEnd = view[(view.startIndex + start)...].firstIndex(of: 0x0A).map { $0 - view.startIndex }
            if lineEnd == nil {
                if ended { break }
                ended = try !readMore(&source, &prefix)
            }
        }
        let line = prefix.getSlice(at: prefix.readerIndex + start, length: (lineEnd ?? prefix.readableBytes) - start)!
        var scanner = JSONScanner(source: ByteBufferSource(line))
        var kind = InputKind.json
        if let value = try? scanner.parseValue(), (try? scanner.peekToken()) == .some(nil),
            value["meta"] != nil || value["after_keys"] != nil || (value["db"] != nil && value["key"] != nil)
        {
            kind = .jsonLines
        }
        return (kind, PrefixedSource(prefix: prefix, inner: source))
    }
}

/// Serves bytes already read from an input, then the rest of it.
struct PrefixedSource<Inner: ByteSource>: ByteSource {
    private var prefix: ByteBuffer
    private var inner: Inner

    init(prefix: ByteBuffer, inner: Inner) {
        self.prefix = prefix
        self.inner = inner
    }

    mutating func read(into window: inout ByteBuffer, atMost count: Int) throws(FormatError) -> Int {
        if prefix.readableBytes > 0, let slice = prefix.readSlice(length: min(count, prefix.readableBytes)) {
            return window.writeImmutableBuffer(slice)
        }
        return try inner.read(into: &window, atMost: count)
    }
}
