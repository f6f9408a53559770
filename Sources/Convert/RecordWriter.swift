import Formats

/// One output format: receives the input's metadata, then each key, then what the input gave after its keys.
protocol RecordWriter {
    /// Called once, before the first key (or at the end for an input without keys), with everything the input
    /// said before its first key.
    mutating func begin(_ info: RDBFileInfo) throws(FormatError)
    mutating func write(_ entry: RDBEntry) throws(FormatError)
    /// Writes what is left and finishes the output; `trailing` is the metadata that came after the first key
    /// (in Redis's files: MODULE_AUX records saved "after the keyspace").
    mutating func finish(trailing: RDBFileInfo) throws(FormatError)
    /// After an error: discards a partly written output file.
    func abort()

    /// True when the writer can take a key element by element (``beginKey(_:)``, ``writeElement(_:)``,
    /// ``endKey()``), so that a key larger than memory passes through; false to receive whole values.
    var streamsElements: Bool { get }
    mutating func beginKey(_ header: RDBKeyHeader) throws(FormatError)
    mutating func writeElement(_ element: RDBElement) throws(FormatError)
    mutating func endKey() throws(FormatError)
    /// True when the writer wants the strings that the input stored LZF-compressed (``offerCompressedStrings(_:)``).
    var reusesCompressedStrings: Bool { get }
    /// Strings that the input stored LZF-compressed (their decompression verified), read for the event that
    /// follows: a writer may store those compressed bytes again where it writes the same strings.
    mutating func offerCompressedStrings(_ strings: [RDBCompressedString])
}

extension RecordWriter {
    var streamsElements: Bool { false }
    var reusesCompressedStrings: Bool { false }
    mutating func beginKey(_ header: RDBKeyHeader) throws(FormatError) { preconditionFailure("not a streaming writer") }
    mutating func writeElement(_ element: RDBElement) throws(FormatError) { preconditionFailure("not a streaming writer") }
    mutating func endKey() throws(FormatError) { preconditionFailure("not a streaming writer") }
    mutating func offerCompressedStrings(_ strings: [RDBCompressedString]) {}
}
