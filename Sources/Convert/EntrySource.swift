import Formats
import JSONRecords

/// Where the keys come from: an RDB file, our JSON document or our JSON Lines.
protocol EntrySource {
    /// What the input holds besides keys (version, AUX fields, functions, module AUX), as far as it has been read.
    var info: RDBFileInfo { get }
    /// Bytes of (decompressed) input consumed, for the progress bar.
    var offset: Int64 { get }
    /// The next key that `filter` accepts, with its whole value; nil at the end of the input.
    ///
    /// - Throws: `FormatError` for unreadable, damaged or invalid input.
    mutating func next(accepting filter: KeyFilter) throws(FormatError) -> RDBEntry?
}

extension RDBFileInfo {
    /// What `self` has beyond the first `aux`, `functions` and `moduleAux` counts of `earlier`: the
    /// metadata an input gave after its first key.
    func since(_ earlier: RDBFileInfo) -> RDBFileInfo {
        var delta = RDBFileInfo()
        delta.aux = Array(aux.dropFirst(earlier.aux.count))
        delta.functions = Array(functions.dropFirst(earlier.functions.count))
        delta.moduleAux = Array(moduleAux.dropFirst(earlier.moduleAux.count))
        return delta
    }

    var isEmpty: Bool { aux.isEmpty && functions.isEmpty && moduleAux.isEmpty }
}

extension JSONEntrySource: EntrySource {
    mutating func next(accepting filter: KeyFilter) throws(FormatError) -> RDBEntry? {
        while let entry = try nextRecord() {
            if filter.accepts(entry.header) { return entry }
        }
        return nil
    }
}
