import Formats
import FuzzSupport
import Keyspace
import NIOCore

// The RDB reader four ways: every event (small windows, so items straddle refills), the checker's skipping
// fast path, and the server's loader (values assembled into the keyspace), with element blocks and without.
// Any FormatError is fine; a trap, a leak or an out-of-bounds access is a finding.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRDB(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = bytes(data, size)
    var options = RDBReadOptions()
    options.maxStringBytes = 1 << 20
    options.maxBlobBytes = 1 << 20
    // Checksums would stop most mutations at the first byte; the trailer is checked in the tests.
    options.verifyChecksum = false
    do {
        let source = try InputSource.memory(ByteBuffer(bytes: input))
        var reader = RDBReader(source: source, options: options, chunkSize: 64)
        while let _ = try reader.next() {}
    } catch {}
    do {
        let source = try InputSource.memory(ByteBuffer(bytes: input))
        var reader = RDBReader(source: source, options: options, chunkSize: 4096)
        while let event = try reader.next() {
            if case .beginKey = event { _ = try reader.skipValue() }
        }
    } catch {}
    do {
        let source = try InputSource.memory(ByteBuffer(bytes: input))
        var reader = RDBReader(source: source, options: options)
        let keyspace = Keyspace()
        _ = try keyspace.load(from: &reader)
    } catch {}
    // The server's start-up load reads elements in blocks (RDBElementBlock), built into values the same way.
    do {
        var grouped = options
        grouped.groupsBlobElements = true
        let source = try InputSource.memory(ByteBuffer(bytes: input))
        var reader = RDBReader(source: source, options: grouped, chunkSize: 64)
        let keyspace = Keyspace()
        _ = try keyspace.load(from: &reader)
    } catch {}
    return 0
}

@_cdecl("FuzzRDB_main")
public func fuzzRDBMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzRDB)
}
