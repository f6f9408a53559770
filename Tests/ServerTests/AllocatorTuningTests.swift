import Foundation
import Testing
import TestSupport

/// The server grows glibc's heap 32 MiB at a time (`ServerProcess.tuneAllocator`): a `brk` per 128 KiB of keys created
/// during a save took the mmap lock for writing each time, stalling the event loop behind any reader of
/// /proc/PID/smaps. What shows from outside: the `[heap]` mapping of a server that has just started spans the pad,
/// where glibc's default leaves a few hundred KiB; and an operator's `GLIBC_TUNABLES` for malloc wins.
@Suite("Allocator tuning", .serialized)
struct AllocatorTuningTests {
    /// The size of the process's `[heap]` mapping (address space, not memory), in bytes.
    static func heapSpan(_ pid: Int32) throws -> Int? {
        let maps = try String(contentsOfFile: "/proc/\(pid)/maps", encoding: .utf8)
        for line in maps.split(separator: "\n") where line.hasSuffix("[heap]") {
            let range = line.split(separator: " ")[0].split(separator: "-")
            guard range.count == 2, let start = Int(range[0], radix: 16), let end = Int(range[1], radix: 16) else { return nil }
            return end - start
        }
        return nil
    }

    static func span(port: Int, tunables: String?) throws -> Int? {
        var environment = ProcessInfo.processInfo.environment
        environment["GLIBC_TUNABLES"] = tunables
        let directory = try RedisServer.temporaryDirectory("allocator")
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try PersistedServer(port: port, directory: directory, environment: environment)
        defer { server.stop() }
        // Some keys, so that the heap has grown past its first allocation either way.
        let client = try server.client()
        for index in 0..<2_000 { _ = try client.send(["SET", "key:\(index)", String(repeating: "v", count: 100)]) }
        return try heapSpan(server.processIdentifier)
    }

    @Test("The heap grows by a pad of 32 MiB, unless GLIBC_TUNABLES sets malloc tunables")
    func heapPad() throws {
        guard Persist.tools(needRedis: false) != nil else { return }
        let tuned = try #require(try Self.span(port: 7933, tunables: nil), "no [heap] mapping")
        #expect(tuned >= 32 << 20, "heap spans \(tuned >> 10) KiB")
        let operators = try #require(try Self.span(port: 7934, tunables: "glibc.malloc.top_pad=0"), "no [heap] mapping")
        #expect(operators < 8 << 20, "heap spans \(operators >> 10) KiB with the operator's top_pad=0")
    }
}
