import Foundation
import Keyspace
import Testing
import TestSupport

extension Reply {
    /// The reply as a client would read it, to compare with a real server's.
    var resp: RESPReply {
        switch self {
        case .status(let text): .status(text)
        case .error(let text): .error(text)
        case .integer(let value): .integer(value)
        case .bulk(let bytes): .bulk(bytes.array)
        case .null: .null
        case .nullArray: .nullArray
        case .array(let items): .array(items.map(\.resp))
        }
    }
}

/// How to compare one command's replies.
enum Comparison {
    /// Byte for byte.
    case exact
    /// Arrays compared as multisets (SMEMBERS, HKEYS, KEYS…), recursively sorted.
    case unordered
    /// Only the reply kind and, for arrays, the length (SPOP, SRANDMEMBER, RANDOMKEY…).
    case shape
    /// Not compared (the command still runs on both).
    case ignore
}

/// Runs the same commands on a fresh ``Keyspace`` and on a real Redis 7.0 and reports every reply that differs.
///
/// One Redis per suite: create it once (`static let oracle = try? RedisOracle(port:)`), call ``compare(_:)``
/// per test. In CI a missing Redis fails the test; elsewhere it is skipped with a note.
final class RedisOracle: @unchecked Sendable {
    let server: RedisServer
    let client: RESPClient

    init(port: Int) throws {
        guard let binary = RedisServer.redis70 else { throw RedisServer.ServerError(description: "/usr/bin/redis-server (Redis 7.0) not installed") }
        let directory = try RedisServer.temporaryDirectory("oracle-\(port)")
        server = try RedisServer(binary: binary, port: port, directory: directory, arguments: ["--enable-debug-command", "yes"])
        client = try RESPClient(port: port)
    }

    /// The oracle for a suite, or nil (with a recorded issue in CI) when Redis 7.0 cannot run here.
    static func make(port: Int) -> RedisOracle? {
        do {
            return try RedisOracle(port: port)
        } catch {
            if Paths.isCI { Issue.record("Redis 7.0 is required in CI: \(error)") } else { print("skipping differential test (outside CI): \(error)") }
            return nil
        }
    }

    /// Runs `script` (each step a command and how to compare it) on both and records a test issue per mismatch.
    /// Both sides start empty (FLUSHALL, database 0). Returns our replies.
    @discardableResult
    func compare(
        _ script: [(command: [String], comparison: Comparison)], keyspace: Keyspace = Keyspace(),
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> [Reply] {
        try client.send(["FLUSHALL"])
        try client.send(["SELECT", "0"])
        let session = Session()
        var ours: [Reply] = []
        for (command, comparison) in script {
            let mine = keyspace.execute(command.map { Bytes($0) }, session: session)
            ours.append(mine)
            let theirs = try client.send(command)
            if !RedisOracle.matches(mine.resp, theirs, comparison) {
                Issue.record("\(command.joined(separator: " ")): ours \(mine.resp), Redis \(theirs)", sourceLocation: sourceLocation)
            }
        }
        return ours
    }

    /// ``compare(_:keyspace:sourceLocation:)`` with exact comparison for every command.
    @discardableResult
    func compare(_ commands: [[String]], sourceLocation: SourceLocation = #_sourceLocation) throws -> [Reply] {
        try compare(commands.map { ($0, Comparison.exact) }, sourceLocation: sourceLocation)
    }

    static func matches(_ a: RESPReply, _ b: RESPReply, _ comparison: Comparison) -> Bool {
        switch comparison {
        case .exact: return a == b
        case .ignore: return true
        case .unordered: return sorted(a) == sorted(b)
        case .shape:
            switch (a, b) {
            case (.array(let x), .array(let y)): return x.count == y.count
            case (.status, .status), (.error, .error), (.integer, .integer), (.bulk, .bulk), (.null, .null),
                (.nullArray, .nullArray):
                return true
            default: return false
            }
        }
    }

    static func sorted(_ reply: RESPReply) -> RESPReply {
        guard case .array(let items) = reply else { return reply }
        return .array(items.map(sorted).sorted { $0.description < $1.description })
    }
}
