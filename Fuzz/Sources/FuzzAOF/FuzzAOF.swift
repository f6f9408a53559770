import Formats
import FuzzSupport
import NIOCore

// The AOF reader (RESP commands, annotations, MULTI/EXEC tracking, and an RDB preamble when the input starts
// with one) and the manifest parser.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAOF(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = bytes(data, size)
    var limits = RESPLimits()
    limits.maxBulkBytes = 1 << 20
    limits.maxArgumentCount = 1 << 16
    var rdbOptions = RDBReadOptions()
    rdbOptions.verifyChecksum = false
    rdbOptions.maxStringBytes = 1 << 20
    rdbOptions.maxBlobBytes = 1 << 20
    do {
        let source = try InputSource.memory(ByteBuffer(bytes: input))
        var reader = AOFReader(
            source: source, hasPreamble: AOFReader<InputSource>.startsWithRDB(Array(input.prefix(16))), limits: limits,
            rdbOptions: rdbOptions, chunkSize: 64)
        while let _ = try reader.next() {}
    } catch {}
    _ = try? AOFManifest(parsing: input)
    return 0
}

@_cdecl("FuzzAOF_main")
public func fuzzAOFMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzAOF)
}
