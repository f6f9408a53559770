import Formats
import FuzzSupport
import Keyspace
import NIOCore

// RESTORE's payload decoder (an RDB value, 2-byte RDB version, CRC64), through the command table as a client
// would reach it; then the restored value is read back with DUMP and the type's read commands.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRestore(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let keyspace = Keyspace()
    let session = Session(id: 1)
    session.authenticated = true
    let payload = Bytes(bytes(data, size))
    // SKIPCHECKSUM is not a Redis option; mutations would never get past the CRC64, so the fuzzer appends a
    // valid one itself when the input is long enough (see FuzzRestore+Checksum).
    let reply = keyspace.execute(["RESTORE", "k", "0", withValidChecksum(payload)], session: session)
    if case .status = reply {
        _ = keyspace.execute(["DUMP", "k"], session: session)
        _ = keyspace.execute(["TYPE", "k"], session: session)
        _ = keyspace.execute(["DEBUG", "DIGEST-VALUE", "k"], session: session)
    }
    return 0
}

/// The payload with its last 8 bytes replaced by the CRC64 of the rest (Redis's DUMP trailer).
func withValidChecksum(_ payload: Bytes) -> Bytes {
    guard payload.count > 10 else { return payload }
    var body = Array(payload.array.dropLast(8))
    var crc = CRC64()
    crc.update(body)
    withUnsafeBytes(of: crc.value.littleEndian) { body.append(contentsOf: $0) }
    return Bytes(body)
}

@_cdecl("FuzzRestore_main")
public func fuzzRestoreMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzRestore)
}
