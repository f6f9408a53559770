import Foundation
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

// MARK: - Shared counters, threads, process memory

/// Counters and failures shared by the test's threads.
final class HostileRecord: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var connections = 0
    private(set) var frames = 0
    private(set) var bytes = 0
    private(set) var kinds: [String: Int] = [:]
    private(set) var protocolErrors: [String: Int] = [:]
    private(set) var closed = 0
    private(set) var resets = 0
    /// Connections that got no reply and were not closed within the idle time (a request left incomplete).
    private(set) var quiet = 0
    private(set) var failures: [String] = []

    func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    func count(_ payload: HostilePayload, _ outcome: HostileOutcome, seed: UInt64) {
        locked {
            connections += 1
            frames += payload.frames
            bytes += payload.bytes.count
            kinds[payload.kind.rawValue, default: 0] += 1
            if let reason = outcome.protocolError { protocolErrors[Self.shortened(reason), default: 0] += 1 }
            if outcome.closedByServer { closed += 1 }
            if outcome.reset { resets += 1 }
            if outcome.replies == 0, !outcome.closedByServer, !outcome.reset { quiet += 1 }
            if let violation = outcome.violation {
                failures.append("\(payload.kind.rawValue) payload (seed \(seed)): \(violation)")
            }
        }
    }

    /// One line: what was sent and how the server answered.
    var summary: String {
        locked {
            let kinds = self.kinds.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            let errors = protocolErrors.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            return "\(connections) connections (junk: \(kinds)), \(frames) frames, \(ProcessMemory.megabytes(bytes)) "
                + "sent; junk closed by the server \(closed), reset \(resets), left waiting \(quiet); "
                + "protocol errors: \(errors.joined(separator: ", "))"
        }
    }

    func sent(connections: Int = 0, frames: Int = 0, bytes: Int = 0) {
        locked {
            self.connections += connections
            self.frames += frames
            self.bytes += bytes
        }
    }

    func fail(_ message: String) { locked { failures.append(message) } }

    /// "expected '$', got 'x'" → "expected '$'" (one bucket per reason).
    static func shortened(_ reason: String) -> String {
        reason.hasPrefix("expected '$'") ? "expected '$'" : reason
    }
}

/// A value handed to another thread as is (a test client used by one thread at a time, or by a reader and a
/// writer that touch separate state).
final class Handoff<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// A flag one thread sets and others poll.
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    var isSet: Bool { lock.withLock { stopped } }
    func set() { lock.withLock { stopped = true } }
}

/// Starts `body` on a new thread; `group` is left when it returns.
func spawn(_ group: DispatchGroup, _ body: @escaping @Sendable () -> Void) {
    group.enter()
    Thread.detachNewThread {
        body()
        group.leave()
    }
}

enum ProcessMemory {
    /// VmRSS of `pid` in bytes (from /proc/<pid>/status), nil when the process is gone.
    static func residentBytes(_ pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }.map { $0 * 1024 }
        }
        return nil
    }

    static func megabytes(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1_048_576) }
}

// MARK: - The probe

/// A well-behaved client using database 9: SET, GET and PING every few milliseconds, timing each.
final class Probe: @unchecked Sendable {
    let port: Int
    private let lock = NSLock()
    private var connection: RESPClient?
    private var latencies: [Double] = []
    private(set) var maxLatency = 0.0
    private(set) var slowest = ""
    private(set) var failures: [String] = []
    /// Probe key number → the last value written (checked at the end).
    private var written: [Int: String] = [:]

    init(port: Int) { self.port = port }

    var operations: Int { lock.withLock { latencies.count } }

    /// Runs `body` on the probe's connection (reconnecting if it was lost), between the probe's own operations.
    func use<T>(_ body: (RESPClient) throws -> T) throws -> T {
        try lock.withLock {
            if connection == nil {
                let client = try RESPClient(port: port)
                client.setTimeouts(receive: 30)
                guard try client.send(["SELECT", "9"]) == .status("OK") else {
                    throw HostileFailure(description: "probe: SELECT 9 failed")
                }
                connection = client
            }
            return try body(connection!)
        }
    }

    func run(until stop: StopFlag) {
        var n = 0
        while !stop.isSet {
            let key = "probe:\(n % 100)"
            let value = "value-\(n)"
            timed("SET") { try $0.send(["SET", key, value]) == .status("OK") }
            lock.withLock { written[n % 100] = value }
            timed("GET") { try $0.send(["GET", key]) == .bulk(Array(value.utf8)) }
            timed("PING") { try $0.send(["PING"]) == .status("PONG") }
            n += 1
            usleep(5_000)
        }
    }

    private func timed(_ name: String, _ operation: (RESPClient) throws -> Bool) {
        let start = Date()
        do {
            let correct = try use(operation)
            let latency = Date().timeIntervalSince(start)
            lock.withLock {
                latencies.append(latency)
                if latency > maxLatency { (maxLatency, slowest) = (latency, "\(name) at \(Date())") }
                if !correct { failures.append("\(name): wrong reply") }
            }
        } catch {
            lock.withLock {
                failures.append("\(name) after \(Date().timeIntervalSince(start)) s: \(error)")
                connection = nil
            }
            usleep(100_000)
        }
    }

    /// DBSIZE of database 9 and every key's last value.
    func verifyData() throws -> Bool {
        let written: [Int: String] = lock.withLock { self.written }
        let keys = written.keys.sorted()
        return try use { client -> Bool in
            guard try client.send(["DBSIZE"]) == .integer(Int64(written.count)) else { return false }
            let replies = try client.pipeline(keys.map { ["GET", "probe:\($0)"] })
            return replies == keys.map { RESPReply.bulk(Array(written[$0]!.utf8)) }
        }
    }

    var summary: String {
        lock.withLock {
            let sorted = latencies.sorted()
            func quantile(_ q: Double) -> String {
                sorted.isEmpty
                    ? "-"
                    : String(format: "%.1f ms", sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))] * 1000)
            }
            let slowest = String(format: "%.0f ms", maxLatency * 1000)
            return "\(sorted.count) ops, p50 \(quantile(0.5)), p99 \(quantile(0.99)), max \(slowest), \(failures.count) failures"
        }
    }
}

struct HostileFailure: Error, CustomStringConvertible {
    var description: String
}

/// Samples the server's VmRSS every 100 ms and keeps the peak.
final class MemoryMonitor: @unchecked Sendable {
    let pid: Int32
    private let lock = NSLock()
    private var highest = 0

    init(pid: Int32) { self.pid = pid }

    var peak: Int { lock.withLock { highest } }

    func run(until stop: StopFlag) {
        while !stop.isSet {
            if let bytes = ProcessMemory.residentBytes(pid) { lock.withLock { highest = max(highest, bytes) } }
            usleep(100_000)
        }
    }
}

final class PipelineCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var done = 0
    var count: Int { lock.withLock { done } }
    func add() { lock.withLock { done += 1 } }
}
