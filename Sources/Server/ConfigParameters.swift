// MARK: - The configuration parameters redis-server accepts
//
// Every parameter of Redis 7.0's table (the names and defaults its CONFIG GET * reports), so that a stock redis.conf
// loads, plus the Windows port's maxheap, heapdir and persistence-available. Most are accepted, validated by kind,
// stored and reported by CONFIG GET without further effect; the ones this server acts on are marked `live` in
// `Config.swift` and applied by the server when they change.

/// How a parameter's value is read and validated.
enum ConfigKind: Sendable, Equatable {
    /// `yes` / `no`.
    case bool
    /// A decimal integer in a range.
    case integer(ClosedRange<Int64>)
    /// A size with an optional unit (`1gb`, `512mb`, `100k`), stored in bytes.
    case memory(ClosedRange<Int64>)
    /// One of a fixed set of lower-case words.
    case enumeration([String])
    /// Any text.
    case string
    /// Several words on one line (`bind`, `save`, `client-output-buffer-limit`…).
    case list
}

/// One parameter of the table.
struct ConfigParameter: Sendable {
    var name: String
    var aliases: [String]
    var kind: ConfigKind
    var defaultValue: String
    /// False when CONFIG SET refuses it (`can't set immutable config`).
    var mutable: Bool

    init(_ name: String, _ kind: ConfigKind, _ defaultValue: String, aliases: [String] = [], mutable: Bool = true) {
        self.name = name
        self.aliases = aliases
        self.kind = kind
        self.defaultValue = defaultValue
        self.mutable = mutable
    }
}

extension ConfigParameter {
    private static let anyInteger = Int64.min...Int64.max
    private static let nonNegative = Int64(0)...Int64.max

    /// The parameters this server acts on, with Redis's kinds and ranges.
    static let live: [ConfigParameter] = [
        ConfigParameter("port", .integer(0...65535), "6379", mutable: false),
        ConfigParameter("bind", .list, "127.0.0.1", mutable: false),
        ConfigParameter("dir", .string, "./"),
        ConfigParameter("dbfilename", .string, "dump.rdb"),
        ConfigParameter("databases", .integer(1...Int64(Int32.max)), "16", mutable: false),
        ConfigParameter("requirepass", .string, ""),
        ConfigParameter("maxclients", .integer(1...Int64(Int32.max)), "10000"),
        ConfigParameter("proto-max-bulk-len", .memory(1024 * 1024...Int64.max), "536870912"),
        ConfigParameter("client-query-buffer-limit", .memory(1024 * 1024...Int64.max), "1073741824"),
        ConfigParameter("daemonize", .bool, "no", mutable: false),
        ConfigParameter("pidfile", .string, "", mutable: false),
        ConfigParameter("logfile", .string, "", mutable: false),
        ConfigParameter("loglevel", .enumeration(["debug", "verbose", "notice", "warning"]), "notice"),
        ConfigParameter("hz", .integer(0...Int64(Int32.max)), "10"),
        ConfigParameter("timeout", .integer(0...Int64(Int32.max)), "0"),
        ConfigParameter("enable-debug-command", .enumeration(["yes", "no", "local"]), "local", mutable: false),
        ConfigParameter("always-show-logo", .bool, "no", mutable: false),
        ConfigParameter("tcp-backlog", .integer(0...Int64(Int32.max)), "511", mutable: false),
        ConfigParameter("save", .list, "3600 1 300 100 60 10000"),
        ConfigParameter("appendonly", .bool, "no"),
        ConfigParameter("hash-max-listpack-entries", .integer(nonNegative), "512", aliases: ["hash-max-ziplist-entries"]),
        ConfigParameter("hash-max-listpack-value", .integer(nonNegative), "64", aliases: ["hash-max-ziplist-value"]),
        ConfigParameter("zset-max-listpack-entries", .integer(nonNegative), "128", aliases: ["zset-max-ziplist-entries"]),
        ConfigParameter("zset-max-listpack-value", .integer(nonNegative), "64", aliases: ["zset-max-ziplist-value"]),
        ConfigParameter("set-max-intset-entries", .integer(nonNegative), "512"),
        ConfigParameter("list-max-listpack-size", .integer(anyInteger), "-2", aliases: ["list-max-ziplist-size"]),
        // The Windows port's: the size of its memory-mapped heap and where that file lives. This server uses the
        // system allocator, so both are accepted and reported only.
        ConfigParameter("maxheap", .memory(nonNegative), "0", mutable: false),
        ConfigParameter("heapdir", .string, "", mutable: false),
        // The Windows port's switch for RDB/AOF persistence: `no` means no load at start-up and no saving.
        ConfigParameter("persistence-available", .bool, "yes", mutable: false),
    ]

    /// The rest of Redis 7.0's table: accepted, stored and reported (kinds inferred from the default where the
    /// value is a yes/no or a number).
    static let accepted: [ConfigParameter] = [
        ("acl-pubsub-default", "resetchannels"), ("aclfile", ""), ("acllog-max-len", "128"),
        ("active-defrag-cycle-max", "25"), ("active-defrag-cycle-min", "1"),
        ("active-defrag-ignore-bytes", "104857600"), ("active-defrag-max-scan-fields", "1000"),
        ("active-defrag-threshold-lower", "10"), ("active-defrag-threshold-upper", "100"),
        ("active-expire-effort", "1"), ("activedefrag", "no"), ("activerehashing", "yes"),
        ("aof-disable-auto-gc", "no"), ("aof-load-truncated", "yes"), ("aof-rewrite-incremental-fsync", "yes"),
        ("aof-timestamp-enabled", "no"), ("aof-use-rdb-preamble", "yes"), ("aof_rewrite_cpulist", ""),
        ("appenddirname", "appendonlydir"), ("appendfilename", "appendonly.aof"), ("appendfsync", "everysec"),
        ("auto-aof-rewrite-min-size", "67108864"), ("auto-aof-rewrite-percentage", "100"), ("bgsave_cpulist", ""),
        ("bind-source-addr", ""), ("bio_cpulist", ""), ("busy-reply-threshold", "5000"),
        ("cluster-allow-pubsubshard-when-down", "yes"), ("cluster-allow-reads-when-down", "no"),
        ("cluster-allow-replica-migration", "yes"), ("cluster-announce-bus-port", "0"),
        ("cluster-announce-hostname", ""), ("cluster-announce-ip", ""), ("cluster-announce-port", "0"),
        ("cluster-announce-tls-port", "0"), ("cluster-config-file", "nodes.conf"), ("cluster-enabled", "no"),
        ("cluster-link-sendbuf-limit", "0"), ("cluster-migration-barrier", "1"), ("cluster-node-timeout", "15000"),
        ("cluster-port", "0"), ("cluster-preferred-endpoint-type", "ip"), ("cluster-replica-no-failover", "no"),
        ("cluster-replica-validity-factor", "10"), ("cluster-require-full-coverage", "yes"),
        ("crash-log-enabled", "yes"), ("crash-memcheck-enabled", "yes"), ("disable-thp", "yes"),
        ("dynamic-hz", "yes"), ("enable-module-command", "no"), ("enable-protected-configs", "no"),
        ("hll-sparse-max-bytes", "3000"), ("ignore-warnings", ""), ("io-threads", "1"),
        ("io-threads-do-reads", "no"), ("jemalloc-bg-thread", "yes"), ("latency-monitor-threshold", "0"),
        ("latency-tracking", "yes"), ("lazyfree-lazy-eviction", "no"), ("lazyfree-lazy-expire", "no"),
        ("lazyfree-lazy-server-del", "no"), ("lazyfree-lazy-user-del", "no"), ("lazyfree-lazy-user-flush", "no"),
        ("lfu-decay-time", "1"), ("lfu-log-factor", "10"), ("list-compress-depth", "0"), ("lua-time-limit", "5000"),
        ("masterauth", ""), ("masteruser", ""), ("maxmemory", "0"), ("maxmemory-clients", "0"),
        ("maxmemory-eviction-tenacity", "10"), ("maxmemory-policy", "noeviction"), ("maxmemory-samples", "5"),
        ("min-replicas-max-lag", "10"), ("min-replicas-to-write", "0"), ("no-appendfsync-on-rewrite", "no"),
        ("notify-keyspace-events", ""), ("oom-score-adj", "no"), ("proc-title-template", "{title} {listen-addr} {server-mode}"),
        ("propagation-error-behavior", "ignore"), ("protected-mode", "yes"), ("rdb-del-sync-files", "no"),
        ("rdb-save-incremental-fsync", "yes"), ("rdbchecksum", "yes"), ("rdbcompression", "yes"),
        ("repl-backlog-size", "1048576"), ("repl-backlog-ttl", "3600"), ("repl-disable-tcp-nodelay", "no"),
        ("repl-diskless-load", "disabled"), ("repl-diskless-sync", "yes"), ("repl-diskless-sync-delay", "5"),
        ("repl-diskless-sync-max-replicas", "0"), ("repl-ping-replica-period", "10"), ("repl-timeout", "60"),
        ("replica-announce-ip", ""), ("replica-announce-port", "0"), ("replica-announced", "yes"),
        ("replica-ignore-disk-write-errors", "no"), ("replica-ignore-maxmemory", "yes"), ("replica-lazy-flush", "no"),
        ("replica-priority", "100"), ("replica-read-only", "yes"), ("replica-serve-stale-data", "yes"),
        ("replicaof", ""), ("sanitize-dump-payload", "no"), ("server_cpulist", ""), ("set-proc-title", "yes"),
        ("shutdown-on-sigint", "default"), ("shutdown-on-sigterm", "default"), ("shutdown-timeout", "10"),
        ("slowlog-log-slower-than", "10000"), ("slowlog-max-len", "128"), ("socket-mark-id", "0"),
        ("stop-writes-on-bgsave-error", "yes"), ("stream-node-max-bytes", "4096"), ("stream-node-max-entries", "100"),
        ("supervised", "no"), ("syslog-enabled", "no"), ("syslog-facility", "local0"), ("syslog-ident", "redis"),
        ("tcp-keepalive", "300"), ("tls-auth-clients", "yes"), ("tls-ca-cert-dir", ""), ("tls-ca-cert-file", ""),
        ("tls-cert-file", ""), ("tls-ciphers", ""), ("tls-ciphersuites", ""), ("tls-client-cert-file", ""),
        ("tls-client-key-file", ""), ("tls-client-key-file-pass", ""), ("tls-cluster", "no"), ("tls-dh-params-file", ""),
        ("tls-key-file", ""), ("tls-key-file-pass", ""), ("tls-port", "0"), ("tls-prefer-server-ciphers", "no"),
        ("tls-protocols", ""), ("tls-replication", "no"), ("tls-session-cache-size", "20480"),
        ("tls-session-cache-timeout", "300"), ("tls-session-caching", "yes"), ("tracking-table-max-keys", "1000000"),
        ("unixsocket", ""), ("unixsocketperm", "0"),
    ].map { name, value in ConfigParameter(name, inferredKind(value), value, aliases: acceptedAliases[name] ?? []) }
        + [
            ConfigParameter("client-output-buffer-limit", .list, "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"),
            ConfigParameter("oom-score-adj-values", .list, "0 200 800"),
            ConfigParameter("latency-tracking-info-percentiles", .list, "50 99 99.9"),
        ]

    /// Redis 7.0's old names for replica settings.
    private static let acceptedAliases: [String: [String]] = [
        "cluster-replica-no-failover": ["cluster-slave-no-failover"],
        "cluster-replica-validity-factor": ["cluster-slave-validity-factor"],
        "min-replicas-max-lag": ["min-slaves-max-lag"], "min-replicas-to-write": ["min-slaves-to-write"],
        "repl-ping-replica-period": ["repl-ping-slave-period"], "replica-announce-ip": ["slave-announce-ip"],
        "replica-announce-port": ["slave-announce-port"], "replica-ignore-maxmemory": ["slave-ignore-maxmemory"],
        "replica-lazy-flush": ["slave-lazy-flush"], "replica-priority": ["slave-priority"],
        "replica-read-only": ["slave-read-only"], "replica-serve-stale-data": ["slave-serve-stale-data"],
        "replicaof": ["slaveof"],
    ]

    private static func inferredKind(_ value: String) -> ConfigKind {
        if value == "yes" || value == "no" { return .bool }
        // Redis reads most numeric parameters as memory values (`64mb`); accepting units for all is harmless.
        if Int64(value) != nil { return .memory(anyInteger) }
        return .string
    }

    /// Every parameter, by canonical name and by alias.
    static let table: [String: ConfigParameter] = {
        var table: [String: ConfigParameter] = [:]
        for parameter in accepted + live {
            table[parameter.name] = parameter
            for alias in parameter.aliases { table[alias] = parameter }
        }
        return table
    }()
}
