import Foundation
import Logging

// MARK: - Log lines in Redis's style
//
//   12345:M 26 Nov 2026 10:55:21.640 * Ready to accept connections
//   pid  role  local time, milliseconds  level (. debug, - verbose, * notice, # warning)  message
//
// swift-log levels map onto Redis's: debug/trace → debug, info → verbose, notice → notice, warning and above →
// warning. The role is C while the configuration is read (Redis's "child/config" letter before the server is up)
// and M afterwards.

/// Where log lines go: standard output, or a file opened for appending (`logfile`). Thread-safe.
final class LogSink: @unchecked Sendable {
    static let shared = LogSink()

    private let lock = NSLock()
    private var file: UnsafeMutablePointer<FILE>? = nil
    /// Standard output as a stream of our own (the C global is not concurrency-safe to name in Swift 6).
    private let standardOutput = fdopen(STDOUT_FILENO, "a")
    private var path = ""
    /// The lowest level written (`loglevel`).
    private(set) var minimumLevel: Logger.Level = .notice
    /// `M` once the server runs, `C` before.
    var role: Character = "C"

    /// Sends lines to `path` (appending), or to standard output when it is empty.
    /// - Throws: when the file cannot be opened.
    func configure(logfile: String, level: String) throws {
        lock.lock()
        defer { lock.unlock() }
        minimumLevel = LogSink.level(named: level)
        guard logfile != path else { return }
        if let file { fclose(file) }
        file = nil
        path = logfile
        if !logfile.isEmpty {
            guard let opened = fopen(logfile, "a") else {
                throw LogFileError(path: logfile, reason: String(cString: strerror(errno)))
            }
            file = opened
        }
    }

    struct LogFileError: Error, CustomStringConvertible {
        var path: String
        var reason: String
        var description: String { "Can't open the log file: \(reason)" }
    }

    func setLevel(_ name: String) {
        lock.lock()
        minimumLevel = LogSink.level(named: name)
        lock.unlock()
    }

    static func level(named name: String) -> Logger.Level {
        switch name {
        case "debug": .debug
        case "verbose": .info
        case "warning": .warning
        default: .notice
        }
    }

    /// Writes one line if `level` passes `loglevel`.
    func write(_ level: Logger.Level, _ message: String) {
        guard level >= minimumLevel else { return }
        let mark: Character =
            switch level {
            case .trace, .debug: "."
            case .info: "-"
            case .notice: "*"
            default: "#"
            }
        var now = timeval()
        gettimeofday(&now, nil)
        var seconds = now.tv_sec
        var parts = tm()
        localtime_r(&seconds, &parts)
        var stamp = [CChar](repeating: 0, count: 64)
        let length = strftime(&stamp, stamp.count, "%d %b %Y %H:%M:%S.", &parts)
        let date = String(decoding: stamp[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let milliseconds = String(Int(now.tv_usec) / 1000)
        let padded = String(repeating: "0", count: 3 - milliseconds.count) + milliseconds
        let line = "\(getpid()):\(role) \(date)\(padded) \(mark) \(message)\n"
        lock.lock()
        defer { lock.unlock() }
        guard let target = file ?? standardOutput else { return }
        fputs(line, target)
        fflush(target)
    }

    /// Writes a line whatever `loglevel` says (start-up banner lines).
    func writeRaw(_ text: String) {
        lock.lock()
        defer { lock.unlock() }
        guard let target = file ?? standardOutput else { return }
        fputs(text, target)
        fflush(target)
    }
}

/// A swift-log handler that writes through ``LogSink``.
struct RedisLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(
        level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String,
        function: String, line: UInt
    ) {
        LogSink.shared.write(level, message.description)
    }
}

/// The server's logger.
let serverLog: Logger = {
    var logger = Logger(label: "redis-server") { _ in RedisLogHandler() }
    logger.logLevel = .trace
    return logger
}()
