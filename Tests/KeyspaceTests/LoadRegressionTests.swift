import Formats
import Foundation
import Keyspace
import Testing
import TestSupport

/// Fuzzer findings on the RDB path, kept as fixtures in `Fixtures/rdb/corrupt/` (see its README): each must be
/// a clear error from the reader and from the server's loader, never a trap.
@Suite("RDB loading: fuzzer regressions")
struct LoadRegressionTests {
    @Test(arguments: [
        // FuzzRDB, 2026-11-26: the nodes of a stream out of ID order (each node in order); the reader checked the
        // order inside a node only, and the loader trapped on the precondition of StreamValue.append.
        ("0001-stream-nodes-out-of-order.rdb", "entry IDs not ascending", "stream:big")
    ])
    func refusedWithoutTrapping(_ file: String, _ message: String, _ key: String) throws {
        let path = Paths.rdbFixtures.appendingPathComponent("corrupt/\(file)").path
        var options = RDBReadOptions()
        options.verifyChecksum = false
        var reader = RDBReader(source: try InputSource.open(path), options: options)
        do {
            while try reader.next() != nil {}
            Issue.record("\(file) read without an error")
        } catch {
            #expect(error.code == .corrupt)
            #expect("\(error)".contains(message), "\(error)")
            #expect(error.key.map { Bytes($0).string } == key)
        }
        #expect(throws: FormatError.self) { _ = try Keyspace().loadRDB(path: path, options: options) }
    }
}
