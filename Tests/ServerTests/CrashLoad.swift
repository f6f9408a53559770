import Foundation
import Testing
import TestSupport

// MARK: - The crash rounds' clients: a mixed write load, one connection each
//
// A client sends pipelines of one to three units and reads their replies in order. A unit is what one reply
// acknowledges: a write (after a SELECT when it changes database), or a MULTI/EXEC block whose EXEC reply
// acknowledges every command in it at once. The model predicts every reply, so a reply it did not predict is
// reported too (a server bug, or a model bug).

/// Commands sent together whose last reply acknowledges them.
struct CrashUnit {
    var commands: [[String]] = []
    var expected: [RESPReply] = []
    /// The client's keys once the unit ran.
    var after: ClientModel
    /// The connection's database after it.
    var db: Int
    /// Write commands in it.
    var writes = 0

    mutating func send(_ command: [String], reply: RESPReply) {
        commands.append(command)
        expected.append(reply)
    }
}

/// One client of the load. Confined to the thread running ``run(seed:)`` while the load runs, to the test's
/// thread otherwise.
final class CrashClient: @unchecked Sendable {
    let index: Int
    /// The state of its keys the server acknowledged.
    private(set) var acknowledged = ClientModel()
    /// Units sent, or about to be, whose replies did not all arrive.
    private(set) var inFlight: [CrashUnit] = []
    /// Acknowledged states since the last restart, oldest first, with the writes acknowledged up to each.
    private var history: [(model: ClientModel, writes: Int)] = [(ClientModel(), 0)]
    /// Write commands acknowledged since the last restart.
    private(set) var acknowledgedWrites = 0
    /// A reply the model did not predict.
    private(set) var unexpected: String?
    /// TTLs are absolute and far in the future (PEXPIREAT, SET … PXAT), so nothing expires during the test
    /// and a restarted server and a real Redis hold the same deadlines.
    private let expiryBase: Int64
    private var connection: RESPClient?

    init(index: Int, expiryBase: Int64) {
        self.index = index
        self.expiryBase = expiryBase
    }

    func connect(port: Int) throws { connection = try RESPClient(port: port) }

    /// Sends units until the connection breaks (the kill), or a reply differs from the model's.
    func run(seed: UInt64) {
        guard let connection else { return }
        defer { self.connection = nil }
        var generator = SplitMix64(seed: seed)
        var db = 0
        while unexpected == nil {
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                let unit = nextUnit(after: inFlight.last?.after ?? acknowledged, db: db, using: &generator)
                db = unit.db
                inFlight.append(unit)
            }
            let bytes = inFlight.flatMap { $0.commands.flatMap { RESPClient.encode($0.map { Array($0.utf8) }) } }
            guard (try? connection.sendRaw(bytes)) != nil else { return }
            while let unit = inFlight.first {
                var replies: [RESPReply] = []
                for _ in unit.commands {
                    guard let reply = try? connection.readReply() else { return }
                    replies.append(reply)
                }
                guard replies == unit.expected else {
                    unexpected = "client \(index): \(unit.commands) replied \(replies), the model expected \(unit.expected)"
                    return
                }
                acknowledged = unit.after
                acknowledgedWrites += unit.writes
                history.append((acknowledged, acknowledgedWrites))
                inFlight.removeFirst()
            }
        }
    }

    /// What a restart kept of this client's writes.
    struct Settlement {
        /// Units in flight at the kill that the server kept (a prefix of them) and did not keep.
        var applied = 0
        var notApplied = 0
        /// Acknowledged writes missing (0 unless the server lost some).
        var lost = 0
        /// False when the keys match no acknowledged state at all (not even an older one).
        var matched = true
        var difference = ""
    }

    /// Compares what the restarted server holds with the acknowledged state and the states after each unit in
    /// flight; the model then continues from what the server holds.
    func settle(observed: ClientModel) -> Settlement {
        var settlement = Settlement()
        let candidates = [acknowledged] + inFlight.map(\.after)
        if let applied = candidates.lastIndex(of: observed) {
            settlement.applied = applied
            settlement.notApplied = inFlight.count - applied
        } else {
            settlement.difference = observed.difference(from: acknowledged)
            if let kept = history.lastIndex(where: { $0.model == observed }) {
                settlement.lost = acknowledgedWrites - history[kept].writes
            } else {
                settlement.lost = acknowledgedWrites
                settlement.matched = false
            }
        }
        acknowledged = observed
        inFlight = []
        history = [(observed, 0)]
        acknowledgedWrites = 0
        unexpected = nil
        return settlement
    }

    // MARK: - The commands

    private func nextUnit(after state: ClientModel, db current: Int, using generator: inout SplitMix64) -> CrashUnit {
        var unit = CrashUnit(after: state, db: current)
        let target = Int.random(in: 0..<10, using: &generator) < 7 ? 0 : Int.random(in: 1...2, using: &generator)
        if target != unit.db {
            unit.send(["SELECT", String(target)], reply: .status("OK"))
            unit.db = target
        }
        guard Int.random(in: 0..<10, using: &generator) == 0 else {
            let command = randomWrite(in: unit.after, db: unit.db, using: &generator)
            unit.send(command, reply: unit.after.apply(command, db: unit.db))
            unit.writes = 1
            return unit
        }
        // A transaction, sometimes changing database inside: EXEC replies with every queued command's reply.
        unit.send(["MULTI"], reply: .status("OK"))
        var replies: [RESPReply] = []
        for _ in 0..<Int.random(in: 2...4, using: &generator) {
            if Int.random(in: 0..<4, using: &generator) == 0 {
                unit.db = Int.random(in: 0...2, using: &generator)
                unit.send(["SELECT", String(unit.db)], reply: .status("QUEUED"))
                replies.append(.status("OK"))
            }
            let command = randomWrite(in: unit.after, db: unit.db, using: &generator)
            replies.append(unit.after.apply(command, db: unit.db))
            unit.send(command, reply: .status("QUEUED"))
            unit.writes += 1
        }
        unit.send(["EXEC"], reply: .array(replies))
        return unit
    }

    /// A write to one of this client's keys in `db`, chosen to keep values small.
    private func randomWrite(in state: ClientModel, db: Int, using generator: inout SplitMix64) -> [String] {
        func pick(_ range: Range<Int>) -> Int { Int.random(in: range, using: &generator) }
        func distinct(_ prefix: String, _ count: Int, of universe: Int) -> [String] {
            (0..<universe).shuffled(using: &generator).prefix(count).map { "\(prefix)\($0)" }
        }
        let type = ClientModel.types[pick(0..<ClientModel.types.count)]
        let name = "c\(index):\(type):\(pick(0..<ClientModel.keysPerType))"
        switch pick(0..<20) {
        case 0:
            let other = "c\(index):\(ClientModel.types[pick(0..<ClientModel.types.count)]):\(pick(0..<ClientModel.keysPerType))"
            return other == name ? ["DEL", name] : ["DEL", name, other]
        case 1: return ["PEXPIREAT", name, String(expiryBase + Int64(pick(0..<1_000_000)))]
        case 2: return ["PERSIST", name]
        default: break
        }
        let value = state.entries[ModelKey(db: db, name: name)]?.value
        let shrink = pick(0..<3) == 0
        switch (type, value) {
        case ("str", .string(let text)?) where text.utf8.count < 200 && !shrink: return ["APPEND", name, "-\(pick(0..<1000))"]
        case ("str", _):
            let text = "v\(pick(0..<1_000_000))"
            return pick(0..<4) == 0 ? ["SET", name, text, "PXAT", String(expiryBase + Int64(pick(0..<1_000_000)))] : ["SET", name, text]
        case ("num", _): return shrink ? ["SET", name, String(pick(-1000..<1000))] : ["INCR", name]
        case ("list", .list(let items)?) where items.count > 20 || shrink: return ["LPOP", name]
        case ("list", _): return ["RPUSH", name] + (0..<pick(1..<4)).map { _ in "e\(pick(0..<1000))" }
        case ("set", _): return shrink ? ["SREM", name] + distinct("m", pick(1..<3), of: 16) : ["SADD", name] + distinct("m", pick(1..<4), of: 16)
        case ("hash", _):
            if shrink { return ["HDEL", name] + distinct("f", pick(1..<3), of: 10) }
            return ["HSET", name] + distinct("f", pick(1..<3), of: 10).flatMap { [$0, "h\(pick(0..<1000))"] }
        default:
            if shrink { return ["ZINCRBY", name, String(pick(1..<6)), "z\(pick(0..<10))"] }
            return ["ZADD", name] + distinct("z", pick(1..<3), of: 10).flatMap { [String(pick(-100..<100)), $0] }
        }
    }
}

/// Fires BGSAVE and BGREWRITEAOF at random moments until the connection breaks, so kills land during saves
/// and rewrites too.
final class CrashAdministrator: @unchecked Sendable {
    private var connection: RESPClient?
    private(set) var started = 0

    func connect(port: Int) throws { connection = try RESPClient(port: port) }

    func run(seed: UInt64) {
        guard let connection else { return }
        defer { self.connection = nil }
        var generator = SplitMix64(seed: seed)
        while true {
            usleep(UInt32.random(in: 20_000..<300_000, using: &generator))
            let command = Bool.random(using: &generator) ? "BGREWRITEAOF" : "BGSAVE"
            guard let reply = try? connection.send([command]) else { return }
            if case .status = reply { started += 1 }
        }
    }
}
