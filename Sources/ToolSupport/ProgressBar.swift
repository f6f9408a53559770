#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A one-line progress bar on standard error, shown only on a terminal and for inputs of 64 MiB or more.
/// Shared by the command-line tools.
public struct ProgressBar {
    private let totalBytes: Int64?
    private let enabled: Bool
    private var lastDraw: Double = 0
    private let started: Double
    private var drawn = false

    public static let minimumBytes: Int64 = 64 * 1024 * 1024

    public init(totalBytes: Int64?, enabled: Bool) {
        self.totalBytes = totalBytes
        self.enabled = enabled && isatty(STDERR_FILENO) == 1 && (totalBytes ?? Int64.max) >= ProgressBar.minimumBytes
        self.started = ProgressBar.now()
    }

    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    public mutating func update(_ offset: Int64) {
        guard enabled else { return }
        let now = ProgressBar.now()
        guard now - lastDraw >= 0.1 else { return }
        lastDraw = now
        let megabytes = Double(offset) / 1_048_576
        let rate = megabytes / max(now - started, 0.001)
        var line = "\r"
        if let totalBytes, totalBytes > 0 {
            let fraction = min(1, Double(offset) / Double(totalBytes))
            let width = 30
            let filled = Int(fraction * Double(width))
            line += "[" + String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled) + "] "
            line += "\(Int(fraction * 100))% "
        }
        line += "\(Int(megabytes)) MB, \(Int(rate)) MB/s "
        writeStandardError(line)
        drawn = true
    }

    public mutating func finish() {
        guard drawn else { return }
        writeStandardError("\r" + String(repeating: " ", count: 60) + "\r")
        drawn = false
    }
}

/// Writes text to standard error, unbuffered.
public func writeStandardError(_ text: String) {
    var text = text
    text.withUTF8 { bytes in
        _ = write(STDERR_FILENO, bytes.baseAddress, bytes.count)
    }
}
