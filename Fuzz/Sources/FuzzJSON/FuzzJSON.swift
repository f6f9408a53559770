import Formats
import FuzzSupport
import JSONRecords
import NIOCore

// redis-convert's JSON and JSON Lines reader, with input delivered in windows of 13 bytes and of 64 KiB, which
// must give the same records or the same error. The records read are then written as an RDB file (the
// JSON → RDB conversion) and what the writer accepts must read back whole, checksum included.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = bytes(data, size)
    // The first byte of a document is '{' either way; JSON Lines and the document are read the same way by
    // redis-convert once detected, so both readings are tried.
    for lines in [true, false] {
        var outcomes: [String] = []
        var entries: [RDBEntry] = []
        for chunk in [13, 64 * 1024] {
            var outcome = ""
            do {
                var source = JSONEntrySource(source: ByteBufferSource(ByteBuffer(bytes: input)), lines: lines, chunkSize: chunk)
                while let entry = try source.nextRecord() {
                    outcome += "K\(entry.header.database):\(entry.header.key.readableBytes)@\(entry.header.offset);"
                    if chunk == 13 { entries.append(entry) }
                }
                outcome += "I\(source.info.aux.count),\(source.info.functions.count),\(source.info.moduleAux.count)"
            } catch {
                outcome += "E\(error.code):\(error.offset)"
            }
            outcomes.append(outcome)
        }
        precondition(outcomes[0] == outcomes[1], "reading depends on chunking: \(outcomes)")
        roundTrip(entries)
    }
    return 0
}

/// Writes `entries` at RDB version 12 (every type it can hold) and reads the file back.
private func roundTrip(_ entries: [RDBEntry]) {
    guard !entries.isEmpty else { return }
    var options = RDBWriteOptions()
    options.version = 12
    options.skipUnsupported = true
    var writer = RDBWriter(sink: BufferSink(), options: options)
    do {
        try writer.writeHeader(now: 0)
        for entry in entries { _ = try writer.writeEntry(entry) }
        _ = try writer.finish()
    } catch {
        return  // a value the writer refuses (an error naming the key) is a fine outcome
    }
    var readOptions = RDBReadOptions()
    readOptions.verifyChecksum = true
    do {
        var reader = RDBReader(source: ByteBufferSource(writer.sink.buffer), options: readOptions)
        while let _ = try reader.next() {}
    } catch {
        preconditionFailure("an RDB written from JSON records does not read back: \(error)")
    }
}

@_cdecl("FuzzJSON_main")
public func fuzzJSONMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzJSON)
}
