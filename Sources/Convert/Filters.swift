import Formats
import Foundation
import NIOCore

/// Which keys to convert (`--db`, `--key`, `--type`, `--not-expired`). Everything in it is known from a key's
/// header, so the RDB input can skip rejected values without assembling them.
struct KeyFilter {
    /// Databases to keep; empty keeps all.
    var databases: Set<Int> = []
    /// Searched (unanchored) in the key decoded as UTF-8, invalid bytes as U+FFFD.
    var keyPattern: NSRegularExpression?
    /// Kinds to keep; empty keeps all.
    var kinds: Set<RDBValueKind> = []
    /// Keys whose expiry is before this Unix time in milliseconds are dropped.
    var expiredBefore: Int64?

    func accepts(_ header: RDBKeyHeader) -> Bool {
        if !databases.isEmpty && !databases.contains(header.database) { return false }
        if !kinds.isEmpty && !kinds.contains(header.type.kind) { return false }
        if let expiredBefore, let expire = header.expireAtMilliseconds, expire < expiredBefore { return false }
        if let keyPattern {
            let key = String(decoding: header.key.readableBytesView, as: UTF8.self)
            if keyPattern.firstMatch(in: key, range: NSRange(key.startIndex..., in: key)) == nil { return false }
        }
        return true
    }
}
