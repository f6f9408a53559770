// MARK: - HSCAN, ZSCAN

extension CommandContext {
    /// The value and options of `HSCAN` / `ZSCAN key cursor [MATCH pattern] [COUNT count]`, read in Redis's order:
    /// the cursor first, then the key, then the options. Nil when the key is missing (the reply is then an empty
    /// page with cursor 0, whatever the options).
    /// - Throws: `ERR invalid cursor`, `WRONGTYPE`, then `ERR syntax error` or the COUNT errors.
    func scanArguments<P: ValuePayload>(_ type: P.Type) throws(CommandError) -> (value: P, options: ScanOptions)? {
        let cursor = try CollectionArguments.scanCursor(self[2])
        guard let value = try keyspace.read(P.self, db: db, key: self[1]) else { return nil }
        // ScanOptions parses the cursor with its own rules: hand it a neutral one and keep ours.
        var arguments = argv
        arguments[2] = "0"
        var options = try ScanOptions(arguments, cursorIndex: 2)
        options.cursor = cursor
        return (value, options)
    }
}

extension Reply {
    /// A SCAN-family reply: the next cursor (0 at the end) and the page's items.
    static func scanPage(next: Int, _ items: [Reply]) -> Reply {
        .array([.bulk(Bytes(integer: Int64(next))), .array(items)])
    }
}
