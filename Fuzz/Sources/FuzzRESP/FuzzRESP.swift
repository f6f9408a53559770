import Formats
import FuzzSupport
import NIOCore

// The RESP command decoder the server and the AOF reader share: multibulk and inline commands, with input
// delivered in windows of 1, 7 and 4096 bytes, which must all give the same commands or the same error.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRESP(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = bytes(data, size)
    var limits = RESPLimits()
    limits.maxBulkBytes = 1 << 20
    limits.maxArgumentCount = 1 << 16
    var outcomes: [String] = []
    for chunk in [1, 7, 4096] {
        var outcome = ""
        do {
            let source = try InputSource.memory(ByteBuffer(bytes: input))
            var decoder = RESPCommandDecoder(source: source, limits: limits, chunkSize: chunk)
            while let item = try decoder.next() {
                switch item {
                case .command(let command): outcome += "C\(command.arguments.count):\(command.offset);"
                case .annotation(let annotation): outcome += "A\(annotation.offset);"
                }
            }
        } catch {
            outcome += "E\(error.code):\(error.offset)"
        }
        outcomes.append(outcome)
    }
    // The split of the input must not change what is decoded.
    precondition(outcomes[0] == outcomes[1] && outcomes[1] == outcomes[2], "decoding depends on chunking: \(outcomes)")
    return 0
}

@_cdecl("FuzzRESP_main")
public func fuzzRESPMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzRESP)
}
