import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Issue #7 point 4: random and malformed frames, half-open connections and a very large pipeline, all at once,
/// while a probe client keeps using the server. Ports 8100-8149 are this suite's.
///
/// Environment: `HOSTILE_SECONDS` (how long the hostile clients run, 20 by default), `HOSTILE_PIPELINE` (commands
/// in each big pipeline, 1,000,000), `HOSTILE_SEED` (to replay a run; printed otherwise), `HOSTILE_MAX_LATENCY`
/// (seconds, 3).
@Suite("Server under hostile clients", .serialized)
struct HostileClientTests {
    static let environment = ProcessInfo.processInfo.environment
    static let seconds = environment["HOSTILE_SECONDS"].flatMap(Double.init) ?? 20
    static let pipelineCommands = environment["HOSTILE_PIPELINE"].flatMap(Int.init) ?? 1_000_000
    // The slowest probe operation allowed. Every connection is served by one event loop, which reads at most
    // 64 KiB from a connection per turn, so a probe request waits behind one such slice of each busy connection
    // (measured with the debug build on a shared 2-core machine: p99 74 ms, max 131 ms). 3 s leaves twenty times
    // that for a loaded CI machine and still fails a server that serves one client's backlog before the others:
    // with 16 reads of 256 KiB per turn the probe waited up to 3.0 s here (p99 2.1 s).
    static let maxLatency = environment["HOSTILE_MAX_LATENCY"].flatMap(Double.init) ?? 3
    static let maxClients = 300

    @Test("Junk, half-open connections and a huge pipeline at once: the probe is answered throughout, nothing leaks")
    func hostileClients() throws {
        guard Persist.tools(needRedis: false) != nil else { return }
        let seed = Self.environment["HOSTILE_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 0...UInt64(UInt32.max))
        print("hostile clients: seed \(seed) (HOSTILE_SEED=\(seed) replays the payloads), \(Self.seconds) s")
        let server = try PersistedServer(
            port: 8100, directory: try RedisServer.temporaryDirectory("hostile"),
            arguments: ["--maxclients", String(Self.maxClients)])
        defer { server.stop() }
        let pid = server.processIdentifier
        let record = HostileRecord()
        let stop = StopFlag()
        let junkStop = StopFlag()
        // Threads still running when the test fails part-way stop too.
        defer {
            junkStop.set()
            stop.set()
        }
        let probe = Probe(port: server.port)
        func clients() -> Int? { try? probe.use { Int(try Persist.info($0, "clients")["connected_clients"] ?? "") } }
        let probes = DispatchGroup()
        spawn(probes) { probe.run(until: stop) }
        let memory = MemoryMonitor(pid: pid)
        spawn(probes) { memory.run(until: stop) }
        usleep(500_000)
        let baseline = ProcessMemory.residentBytes(pid) ?? 0

        // Phase A: junk on many connections, half-open connections held, big pipelines read slowly.
        let port = server.port
        let junk = DispatchGroup()
        for worker in 0..<4 {
            spawn(junk) {
                Self.junk(worker: worker, workers: 4, seed: seed, port: port, record: record, until: junkStop)
            }
        }
        spawn(junk) { Self.knownFrames(port: port, record: record, until: junkStop) }
        let pipelines = PipelineCounter()
        let pipelining = DispatchGroup()
        let deadline = Date().addingTimeInterval(Self.seconds)
        spawn(pipelining) {
            repeat {
                BigPipeline.run(port: port, commands: Self.pipelineCommands, round: pipelines.count, record: record)
                pipelines.add()
            } while Date() < deadline
        }
        var holders = try HalfOpenClients(port: port, record: record)
        while Date() < deadline { usleep(100_000) }
        pipelining.wait()
        junkStop.set()
        junk.wait()
        try holders.checkHalfClosed()
        let settled = Persist.waitUntil(30) { clients() == 1 + holders.openCount }
        #expect(settled, "\(clients()) clients registered, expected \(1 + holders.openCount)")

        // Phase B: fill the server to maxclients; the one over gets the error, the probe keeps its connection.
        var fillers: [RESPClient] = []
        var refused: RESPReply?
        for _ in 0..<(Self.maxClients + 10) {
            let client = try RESPClient(port: port)
            client.setTimeouts(receive: 30)
            let reply = try client.send(["PING"])
            if reply != .status("PONG") {
                refused = reply
                #expect(client.isClosedByPeer(timeout: 10))
                break
            }
            fillers.append(client)
        }
        #expect(refused == .error("ERR max number of clients reached"))
        #expect(clients() == Self.maxClients)
        #expect(try probe.use { try $0.send(["PING"]) } == .status("PONG"))
        try holders.checkUnreadPipelines()
        // What the stalled huge bulks hold (each has arrived whole by now).
        let holding = ProcessMemory.residentBytes(pid) ?? 0
        holders.close()
        fillers.removeAll()
        #expect(
            Persist.waitUntil(30) { clients() == 1 },
            "\(clients()) clients still registered after the hostile ones closed")
        #expect(try RESPClient(port: port, timeout: 1).send(["PING"]) == .status("PONG"))

        // The memory the hostile clients made the server hold is given back.
        let bound = baseline + HalfOpenClients.bigBulkCount * HalfOpenClients.bigBulkBytes / 2
        _ = Persist.waitUntil(15) { (ProcessMemory.residentBytes(pid) ?? 0) <= bound }
        stop.set()
        probes.wait()
        let after = ProcessMemory.residentBytes(pid) ?? Int.max

        // The server never exited and the probe's data is intact.
        #expect(try probe.verifyData())
        #expect(server.isRunning && server.processIdentifier == pid, "the server process exited")
        #expect(!server.log.contains("Fatal") && !server.log.contains("Crash"), "\(server.log.suffix(2000))")
        let stats = try probe.use { try Persist.info($0, "stats") }
        print(
            "hostile clients: \(record.summary); \(pipelines.count) pipelines of \(Self.pipelineCommands) commands; "
                + "probe \(probe.summary); server RSS baseline \(ProcessMemory.megabytes(baseline)), "
                + "holding \(ProcessMemory.megabytes(holding)), peak \(ProcessMemory.megabytes(memory.peak)), "
                + "after \(ProcessMemory.megabytes(after)); server counted "
                + "\(stats["total_connections_received"] ?? "?") connections (\(stats["rejected_connections"] ?? "?") "
                + "rejected), \(stats["total_net_input_bytes"] ?? "?") bytes in")
        for failure in record.locked({ record.failures }).prefix(20) { Issue.record("\(failure)") }
        for failure in probe.failures.prefix(20) { Issue.record("probe: \(failure)") }
        #expect(probe.operations > 100, "the probe hardly ran")
        #expect(probe.maxLatency < Self.maxLatency, "slowest probe operation \(probe.maxLatency) s (\(probe.slowest))")
        #expect(holding >= baseline + HalfOpenClients.bigBulkCount * HalfOpenClients.bigBulkBytes * 3 / 4)
        #expect(
            after <= bound,
            "RSS \(ProcessMemory.megabytes(after)) after the hostile clients left, baseline \(ProcessMemory.megabytes(baseline))")
    }

    @Test(
        "A deep pipeline gets a slice of the loop: a client polling meanwhile waits behind a few thousand of its commands"
    )
    func pipelineFairness() throws {
        guard Persist.tools(needRedis: false) != nil else { return }
        let server = try PersistedServer(port: 8101, directory: try RedisServer.temporaryDirectory("hostile-fairness"))
        defer { server.stop() }
        // 300,000 INCRs of 38 bytes each, written as fast as the server takes them and read back as they come.
        let commands = 300_000
        let incr = RESPClient.encode([Array("INCR".utf8), Array("fairness".utf8)])
        let pipeline = Handoff(try RESPClient(port: server.port))
        pipeline.value.setTimeouts(receive: 60, send: 60)
        let record = HostileRecord()
        let group = DispatchGroup()
        spawn(group) {
            do { try pipeline.value.sendRaw(Array((0..<commands).map { _ in incr }.joined())) } catch {
                record.fail("send: \(error)")
            }
        }
        spawn(group) {
            var replies = 0
            do {
                while replies < commands {
                    replies += try pipeline.value.readSome().reduce(0) { $1 == 10 ? $0 + 1 : $0 }
                }
            } catch {
                record.fail("read after \(replies) replies: \(error)")
            }
        }
        // The counter as another client sees it between its own requests.
        let poller = try server.client()
        var seen: [Int] = []
        var last = 0
        while last < commands, record.locked({ record.failures.isEmpty }) {
            guard case .bulk(let value) = try poller.send(["GET", "fairness"]) else { continue }
            last = Int(String(decoding: value, as: UTF8.self)) ?? 0
            if last < commands { seen.append(last) }
        }
        group.wait()
        for failure in record.locked({ record.failures }) { Issue.record("\(failure)") }
        // Each GET waits for what the loop does for the pipeline meanwhile: one read of at most 64 KiB (1,724 of
        // these commands) per turn, plus what the poller's own wake-up costs. Sixteen reads of 256 KiB per turn
        // were 110,000 commands between two GETs.
        let gaps = zip(seen.dropFirst(), seen).map { $0 - $1 }.sorted()
        let median = gaps.isEmpty ? commands : gaps[gaps.count / 2]
        print(
            "hostile pipeline fairness: \(seen.count) GETs while \(commands) INCRs ran, median gap \(median), "
                + "largest \(gaps.last ?? 0)")
        #expect(seen.count >= 5)
        #expect(median < 30_000)
    }

    // MARK: - Junk

    /// Connections with seeded random payloads until `stop`; connection `n` of the run uses seed `seed + n`.
    static func junk(worker: Int, workers: Int, seed: UInt64, port: Int, record: HostileRecord, until stop: StopFlag) {
        var index = UInt64(worker)
        while !stop.isSet {
            let connectionSeed = seed &+ index
            var input = HostileInput(seed: connectionSeed)
            let payload = input.next()
            do {
                let outcome = try HostileConnection.run(payload, port: port, input: &input)
                record.count(payload, outcome, seed: connectionSeed)
            } catch {
                record.fail("\(payload.kind.rawValue) payload (seed \(connectionSeed)): \(error)")
            }
            index += UInt64(workers)
        }
    }

    /// Frames with a known answer, sent again and again while everything else runs: Redis's protocol error texts.
    static let known: [(request: String, replies: [RESPReply], closes: Bool)] = [
        ("*2147483648\r\n", [.error("ERR Protocol error: invalid multibulk length")], true),
        ("*99999999999999999999\r\n", [.error("ERR Protocol error: invalid multibulk length")], true),
        ("*abc\r\n", [.error("ERR Protocol error: invalid multibulk length")], true),
        ("*1\r\n$-1\r\n", [.error("ERR Protocol error: invalid bulk length")], true),
        ("*1\r\n$600000000\r\n", [.error("ERR Protocol error: invalid bulk length")], true),
        ("*1\r\n$9223372036854775808\r\n", [.error("ERR Protocol error: invalid bulk length")], true),
        ("*1\r\n$1x\r\n", [.error("ERR Protocol error: invalid bulk length")], true),
        ("PING\r\n*1\r\n+PING\r\n", [.status("PONG"), .error("ERR Protocol error: expected '$', got '+'")], true),
        ("SET fz:q \"abc\r\n", [.error("ERR Protocol error: unbalanced quotes in request")], true),
        ("ECHO 'a'b\r\n", [.error("ERR Protocol error: unbalanced quotes in request")], true),
        (String(repeating: "a", count: 70_000), [.error("ERR Protocol error: too big inline request")], true),
        ("*" + String(repeating: "1", count: 70_000), [.error("ERR Protocol error: too big mbulk count string")], true),
        (
            "*1\r\n$" + String(repeating: "1", count: 70_000),
            [.error("ERR Protocol error: too big bulk count string")], true
        ),
        ("*-1\r\n*0\r\n\r\nPING\r\n", [.status("PONG")], false),
        ("*2\r\n$4\r\nECHO\r\n$3\r\na\r\n\r\n", [.bulk(Array("a\r\n".utf8))], false),
    ]

    static func knownFrames(port: Int, record: HostileRecord, until stop: StopFlag) {
        var index = 0
        while !stop.isSet {
            let (request, expected, closes) = known[index % known.count]
            index += 1
            do {
                let client = try RESPClient(port: port)
                client.setTimeouts(receive: 30)
                try client.sendRaw(Array(request.utf8))
                let replies = try expected.map { _ in try client.readReply() }
                if replies != expected {
                    record.fail("\(request.prefix(40).debugDescription): \(replies), expected \(expected)")
                }
                if closes, !client.isClosedByPeer(timeout: 30) {
                    record.fail("\(request.prefix(40).debugDescription): the connection stayed open")
                }
                record.sent(connections: 1, frames: 1, bytes: request.utf8.count)
            } catch {
                record.fail("\(request.prefix(40).debugDescription): \(error)")
            }
        }
    }
}
