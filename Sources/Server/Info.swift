import Foundation
import Keyspace

// MARK: - INFO: Redis's sections and field names
//
// Sections: server, clients, memory, persistence, stats, replication, cpu, commandstats, errorstats, keyspace.
// `INFO` and `INFO default` give the default ones, `INFO all` / `everything` add commandstats and errorstats.

/// Memory figures from the allocator and the kernel.
enum MemoryUsage {
    /// What INFO reports as `used_memory`. Redis counts its allocator's bytes; the system allocator offers no
    /// cheap equivalent here, so this is the resident set size.
    static var allocatedBytes: Int { residentBytes }

    /// Resident set size from /proc/self/statm, read with two system calls into a stack buffer (INFO and the
    /// background jobs' memory sampling call it; Foundation's file reading cost more than the rest of INFO).
    static var residentBytes: Int {
        let descriptor = open("/proc/self/statm", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return 0 }
        defer { close(descriptor) }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 128) { buffer in
            let count = read(descriptor, buffer.baseAddress, buffer.count)
            guard count > 0 else { return 0 }
            // "size resident shared …": the second field, in pages.
            var field = 0
            var pages = 0
            for byte in buffer[..<count] {
                if byte == UInt8(ascii: " ") {
                    field += 1
                    if field > 1 { break }
                } else if field == 1, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                    pages = pages &* 10 &+ Int(byte &- UInt8(ascii: "0"))
                }
            }
            return pages &* pageSize
        }
    }

    static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
    static let physicalMemory = Int(ProcessInfo.processInfo.physicalMemory)

    /// Redis's human-readable size (`1.32M`, `200B`).
    static func human(_ bytes: Int) -> String {
        let value = Double(bytes)
        if value < 1024 { return "\(bytes)B" }
        let units = ["K", "M", "G", "T", "P"]
        var scaled = value / 1024
        var unit = 0
        while scaled >= 1024, unit < units.count - 1 {
            scaled /= 1024
            unit += 1
        }
        return fixed(scaled, decimals: 2) + units[unit]
    }

    /// `value` with `decimals` digits after the point, rounded half away from zero (what `%.2f` prints but for
    /// the exact ties of binary fractions, which these statistics never show), without Foundation's formatter.
    static func fixed(_ value: Double, decimals: Int) -> String {
        precondition(decimals > 0, "at least one decimal")
        guard value.isFinite else { return value.isNaN ? "nan" : (value < 0 ? "-inf" : "inf") }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        guard scaled < 9e18 else { return String(value) }
        let units = Int(scaled)
        let divisor = Int(scale)
        let fraction = String(units % divisor)
        let sign = value < 0 && units != 0 ? "-" : ""
        return "\(sign)\(units / divisor)." + String(repeating: "0", count: decimals - fraction.count) + fraction
    }
}

extension ServerCore {
    static let defaultSections = ["server", "clients", "memory", "persistence", "stats", "replication", "cpu", "cluster", "keyspace"]
    static let allSections = ["server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules", "commandstats", "errorstats", "cluster", "keyspace"]

    /// The INFO text for the requested section names (lower-case; empty for the default set).
    func info(sections requested: [String]) -> String {
        var wanted: [String] = []
        for name in requested.isEmpty ? ["default"] : requested {
            switch name {
            case "default": wanted += ServerCore.defaultSections
            case "all", "everything": wanted += ServerCore.allSections
            default: wanted.append(name)
            }
        }
        var text = ""
        for section in ServerCore.allSections where wanted.contains(section) {
            guard let lines = infoSection(section) else { continue }
            if !text.isEmpty { text += "\r\n" }
            text += "# \(section.prefix(1).uppercased() + section.dropFirst())\r\n"
            for line in lines { text += line + "\r\n" }
        }
        return text
    }

    private func infoSection(_ name: String) -> [String]? {
        let now = Date()
        let uptime = Int(now.timeIntervalSince(startTime))
        switch name {
        case "server":
            return [
                "redis_version:\(RedisCompatibility.version)", "redis_git_sha1:00000000", "redis_git_dirty:0",
                "redis_build_id:0", "redis_mode:standalone", "os:\(ServerCore.operatingSystem)", "arch_bits:64",
                "monotonic_clock:POSIX clock_gettime", "multiplexing_api:epoll", "atomicvar_api:c11-builtin",
                "gcc_version:0.0.0", "process_id:\(getpid())", "process_supervised:no", "run_id:\(runID)",
                "tcp_port:\(config.port)", "server_time_usec:\(Int64(now.timeIntervalSince1970 * 1_000_000))",
                "uptime_in_seconds:\(uptime)", "uptime_in_days:\(uptime / 86400)", "hz:\(config.hz)",
                "configured_hz:\(config.hz)", "lru_clock:\(Int64(now.timeIntervalSince1970) & 0xFFFFFF)",
                "executable:\(ServerCore.executablePath)", "config_file:\(config.configFile ?? "")",
                "io_threads_active:0",
            ]
        case "clients":
            return [
                "connected_clients:\(clients.count)", "cluster_connections:0", "maxclients:\(config.maxClients)",
                "client_recent_max_input_buffer:0", "client_recent_max_output_buffer:0", "blocked_clients:0",
                "tracking_clients:0", "clients_in_timeout_table:0",
            ]
        case "memory":
            let rss = MemoryUsage.residentBytes
            let used = rss  // MemoryUsage.allocatedBytes, read once
            return [
                "used_memory:\(used)", "used_memory_human:\(MemoryUsage.human(used))", "used_memory_rss:\(rss)",
                "used_memory_rss_human:\(MemoryUsage.human(rss))", "used_memory_peak:\(used)",
                "used_memory_peak_human:\(MemoryUsage.human(used))",
                "total_system_memory:\(MemoryUsage.physicalMemory)",
                "total_system_memory_human:\(MemoryUsage.human(MemoryUsage.physicalMemory))",
                "maxmemory:\(config["maxmemory"])", "maxmemory_human:\(MemoryUsage.human(Int(config["maxmemory"]) ?? 0))",
                "maxmemory_policy:\(config["maxmemory-policy"])",
                "mem_fragmentation_ratio:"
                    + (used > 0 ? MemoryUsage.fixed(Double(rss) / Double(used), decimals: 2) : "0.00"),
                "mem_allocator:libc", "lazyfree_pending_objects:0", "lazyfreed_objects:0",
            ]
        case "persistence":
            return persistenceInfo
        case "stats":
            return [
                "total_connections_received:\(stats.connectionsReceived)",
                "total_commands_processed:\(keyspace.commandsProcessed)",
                "instantaneous_ops_per_sec:\(instantaneousOpsPerSecond)",
                "total_net_input_bytes:\(stats.netInputBytes)", "total_net_output_bytes:\(stats.netOutputBytes)",
                "rejected_connections:\(stats.rejectedConnections)", "expired_keys:\(keyspace.expiredKeys)",
                "evicted_keys:0", "keyspace_hits:\(keyspace.keyspaceHits)",
                "keyspace_misses:\(keyspace.keyspaceMisses)", "pubsub_channels:0", "pubsub_patterns:0",
                "latest_fork_usec:\(persistence.latestSnapshotMicroseconds)", "total_forks:\(persistence.snapshotsTaken)", "total_error_replies:\(stats.errorReplies)",
            ]
        case "replication":
            return [
                "role:master", "connected_slaves:0", "master_failover_state:no-failover",
                "master_replid:\(runID)", "master_replid2:0000000000000000000000000000000000000000",
                "master_repl_offset:0", "second_repl_offset:-1", "repl_backlog_active:0",
                "repl_backlog_size:1048576", "repl_backlog_first_byte_offset:0", "repl_backlog_histlen:0",
            ]
        case "cpu":
            var usage = rusage()
            getrusage(__rusage_who_t(0), &usage)  // RUSAGE_SELF
            func seconds(_ time: timeval) -> String {
                let micros = String(time.tv_usec)
                return "\(time.tv_sec)." + String(repeating: "0", count: max(0, 6 - micros.count)) + micros
            }
            return [
                "used_cpu_sys:\(seconds(usage.ru_stime))", "used_cpu_user:\(seconds(usage.ru_utime))",
                "used_cpu_sys_children:0.000000", "used_cpu_user_children:0.000000",
            ]
        case "modules":
            return []
        case "commandstats":
            var lines: [String] = []
            for (index, spec) in names.specs.enumerated() where stats.calls[index] > 0 || stats.rejectedCalls[index] > 0 {
                let calls = stats.calls[index]
                let usec = stats.microseconds[index]
                let perCall = calls > 0 ? MemoryUsage.fixed(Double(usec) / Double(calls), decimals: 2) : "0.00"
                lines.append(
                    "cmdstat_\(spec.name):calls=\(calls),usec=\(usec),usec_per_call=\(perCall),"
                        + "rejected_calls=\(stats.rejectedCalls[index]),failed_calls=\(stats.failedCalls[index])")
            }
            return lines
        case "errorstats":
            return stats.errorCodes.keys.sorted().map { "errorstat_\($0):count=\(stats.errorCodes[$0]!)" }
        case "cluster":
            return ["cluster_enabled:0"]
        case "keyspace":
            return keyspace.databases.enumerated().compactMap { index, database in
                database.isEmpty
                    ? nil
                    : "db\(index):keys=\(database.count),expires=\(database.expires.count),"
                        + "avg_ttl=\(keyspace.averageTTL[index] ?? 0)"
            }
        default:
            return nil
        }
    }

    static let operatingSystem: String = {
        var name = utsname()
        uname(&name)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
        }
        return "\(field(name.sysname)) \(field(name.release)) \(field(name.machine))"
    }()

    static let executablePath: String = {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }()
}
