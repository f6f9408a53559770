import Formats
import NIOCore

/// Keys of our JSON document or JSON Lines, read one record at a time (a document's "keys" array is walked
/// element by element, never held whole).
public struct JSONEntrySource<Source: ByteSource> {
    private enum State {
        case documentStart
        case documentKeys(first: Bool)
        case documentAfterKeys
        case lines
        case done
    }

    private var scanner: JSONScanner<Source>
    private var state: State
    /// What the input held besides keys (version, AUX fields, functions, module AUX), as far as it has been read.
    public private(set) var info = RDBFileInfo()

    /// Reads a JSON document, or JSON Lines when `lines`, `chunkSize` bytes at a time.
    public init(source: Source, lines: Bool, chunkSize: Int = 256 * 1024) {
        scanner = JSONScanner(source: source, chunkSize: chunkSize)
        state = lines ? .lines : .documentStart
    }

    /// The offset of the next byte in the input.
    public var offset: Int64 { scanner.offset }

    /// The next key record; nil at the end of the input.
    ///
    /// - Throws: `FormatError` naming the offset for malformed JSON or an invalid record.
    public mutating func nextRecord() throws(FormatError) -> RDBEntry? {
        while true {
            switch state {
            case .done:
                return nil
            case .lines:
                guard try scanner.peekToken() != nil else {
                    state = .done
                    return nil
                }
                let start = scanner.offset
                let value = try scanner.parseValue()
                if let meta = value["meta"] ?? value["after_keys"] {
                    try JSONRecordReader.readMetadata(meta, into: &info, at: start)
                } else {
                    return try JSONRecordReader.entry(value, at: start)
                }
            case .documentStart:
                try scanner.expect(UInt8(ascii: "{"), "'{' opening the document")
                if try scanner.consume(UInt8(ascii: "}")) {
                    try finishDocument()
                    continue
                }
                try readDocumentMembers(untilKeys: true)
            case .documentKeys(let first):
                if try scanner.consume(UInt8(ascii: "]")) {
                    state = .documentAfterKeys
                    continue
                }
                if !first { try scanner.expect(UInt8(ascii: ","), "',' or ']' in \"keys\"") }
                _ = try scanner.peekToken()
                let start = scanner.offset
                let record = try scanner.parseValue()
                state = .documentKeys(first: false)
                return try JSONRecordReader.entry(record, at: start)
            case .documentAfterKeys:
                if try scanner.consume(UInt8(ascii: ",")) {
                    try readDocumentMembers(untilKeys: false)
                } else {
                    try scanner.expect(UInt8(ascii: "}"), "',' or '}' after \"keys\"")
                    try finishDocument()
                }
            }
        }
    }

    /// Reads members of the document object (metadata) up to "keys" or the closing brace.
    private mutating func readDocumentMembers(untilKeys: Bool) throws(FormatError) {
        repeat {
            guard try scanner.peekToken() == UInt8(ascii: "\"") else { throw scanner.corrupt("expected a member name") }
            let start = scanner.offset
            let name = String(decoding: try scanner.parseString(), as: UTF8.self)
            try scanner.expect(UInt8(ascii: ":"), "':'")
            if name == "keys" {
                guard untilKeys else { throw scanner.corrupt("a second \"keys\" member", at: start) }
                try scanner.expect(UInt8(ascii: "["), "'[' opening \"keys\"")
                state = .documentKeys(first: true)
                return
            }
            let value = try scanner.parseValue()
            if name == "after_keys" {
                try JSONRecordReader.readMetadata(value, into: &info, at: start)
            } else {
                try JSONRecordReader.readMetadata(
                    .object([JSONMember(name: name, value: value)]), into: &info, at: start)
            }
        } while try scanner.consume(UInt8(ascii: ","))
        try scanner.expect(UInt8(ascii: "}"), "',' or '}'")
        try finishDocument()
    }

    private mutating func finishDocument() throws(FormatError) {
        if try scanner.peekToken() != nil { throw scanner.corrupt("data after the end of the JSON document") }
        state = .done
    }
}
