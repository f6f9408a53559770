import Formats
import Foundation
import Keyspace
import Logging
import NIOCore
import NIOPosix

// MARK: - Process life: configuration, daemonizing, logging, loading, listening, signals, exit

/// The redis-server process from argument parsing to exit.
enum ServerProcess {
    /// Runs the server until it shuts down; returns the exit status.
    static func run(arguments: [String]) -> Int32 {
        let config: ServerConfig
        do {
            switch try ServerConfig.parse(arguments: arguments) {
            case .version:
                print("Redis server v=\(RedisCompatibility.version) sha=00000000:0 malloc=libc bits=64 build=swift (redis-persistence)")
                return 0
            case .help:
                printUsage()
                return 0
            case .run(let parsed):
                config = parsed
            }
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            return 1
        }
        // Before any thread exists, so that every thread inherits the mask.
        let shutdownSignals = blockShutdownSignals()
        tuneAllocator()
        if config.daemonize { daemonize() }
        do {
            try LogSink.shared.configure(logfile: config.logfile, level: config.loglevel)
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            return 1
        }
        serverLog.warning("oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo")
        serverLog.warning(
            "Redis version=\(RedisCompatibility.version), bits=64, commit=00000000, modified=0, pid=\(getpid()), just started")
        if config.configFile == nil {
            serverLog.warning(
                "Warning: no config file specified, using the default config. In order to specify a config file use redis-server /path/to/redis.conf")
        } else {
            serverLog.warning("Configuration loaded")
        }
        guard chdir(config.dir) == 0 else {
            serverLog.warning("Can't chdir to '\(config.dir)': \(String(cString: strerror(errno)))")
            return 1
        }
        LogSink.shared.role = "M"
        LogSink.shared.writeRaw(banner(config))
        let pidfile = config.daemonize || config.pidfile != nil ? config.pidfile ?? "/var/run/redis.pid" : nil
        if let pidfile { writePidFile(pidfile) }
        let signalTarget = SignalTarget()
        startSignalThread(shutdownSignals, target: signalTarget, pidfile: pidfile)

        // The event loop runs on this, the main thread, as Redis's does; the dataset is loaded on it before it
        // serves. What clients create then comes from glibc's main arena, which grows by `brk` with a pad, where
        // another thread's arena grows one page per `mprotect`: thousands a second under writes, each taking the
        // process's mmap lock for writing, each a stall while anything reads /proc/PID/smaps (monitoring, the
        // persistence benchmark's sampler: p99 during a BGSAVE 4-5 ms, 1.5-2 ms once on this thread).
        let state = ProcessState()
        MultiThreadedEventLoopGroup.withCurrentThreadAsEventLoop { loop in
            let server = ServerCore(config: config, loop: loop)
            serverLog.notice("Server initialized")
            do {
                try server.loadDataset()
            } catch {
                serverLog.warning("Fatal error loading the DB: \(error). Exiting.")
                state.status = 1
                loop.shutdownGracefully { _ in }
                return
            }
            server.start().whenComplete { result in
                switch result {
                case .failure(let error):
                    serverLog.warning("\(error)")
                    state.status = 1
                    loop.shutdownGracefully { _ in }
                case .success:
                    signalTarget.set(server)
                    serverLog.notice("Ready to accept connections")
                    serverLog.notice("The server is now ready to accept connections on port \(config.port)")
                    server.closeFuture.whenComplete { _ in loop.shutdownGracefully { _ in } }
                }
            }
        }
        return state.status
    }

    /// glibc's main arena grows the heap by `brk` with a pad of 128 KiB: keys created during a save of a large
    /// dataset (each first write copies a path of the hash tree) took 160 `brk`s a save, each taking the process's
    /// mmap lock for writing, each a stall of the event loop while anything reads /proc/PID/smaps (monitoring, the
    /// persistence benchmark's sampler: p99 during a BGSAVE of 2.2M keys 2.5-2.9 ms, Redis 1.9-2.3; with this,
    /// 0.6). A 32 MiB pad is address space, not memory: pages count once touched. Setting it turns off glibc's
    /// sliding mmap threshold, which would leave every allocation from 128 KiB up to its own `mmap`/`munmap` (a
    /// write lock each, dozens a save); 4 MiB keeps save buffers and big strings in the heap, and the heap is
    /// trimmed past 8 MiB free at its top, twice that, as the sliding rule would have it. Not done when the
    /// operator tunes malloc through `GLIBC_TUNABLES`.
    static func tuneAllocator() {
        #if canImport(Glibc)
        if let tunables = getenv("GLIBC_TUNABLES"), String(cString: tunables).contains("glibc.malloc.") { return }
        // <malloc.h> is not in Swift's Glibc module: the function by name, its parameters by their (ABI-stable)
        // values, M_TRIM_THRESHOLD -1, M_TOP_PAD -2 and M_MMAP_THRESHOLD -3.
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        _ = mallopt(-2, 32 << 20)
        _ = mallopt(-3, 4 << 20)
        _ = mallopt(-1, 8 << 20)
        #endif
    }

    /// What the event loop's callbacks leave for the end of ``run(arguments:)``: all on the main thread (the
    /// loop's), the callbacks while it runs and the reads after it has stopped.
    private final class ProcessState: @unchecked Sendable {
        var status: Int32 = 0
    }

    /// One line with what test harnesses look for (`PID: <pid>`), in place of Redis's ASCII-art logo.
    static func banner(_ config: ServerConfig) -> String {
        "Redis \(RedisCompatibility.version) (redis-persistence, Swift) 64 bit, standalone mode, "
            + "port \(config.port), PID: \(getpid())\n"
    }

    static func printUsage() {
        let usage = """
            Usage: ./redis-server [/path/to/redis.conf] [options] [-]
                   ./redis-server - (read config from stdin)
                   ./redis-server -v or --version
                   ./redis-server -h or --help

            Examples:
                   ./redis-server (run the server with default conf)
                   ./redis-server /etc/redis/6379.conf
                   ./redis-server --port 7777
                   ./redis-server /etc/myredis.conf --loglevel verbose -
                   ./redis-server /etc/myredis.conf --loglevel verbose

            """
        FileHandle.standardError.write(Data(usage.utf8))
    }

    // MARK: - Daemon, pid file, signals

    /// Forks into the background (before any thread exists), as Redis's `daemonize()`.
    static func daemonize() {
        let child = fork()
        if child < 0 { return }
        if child > 0 { exit(0) }
        setsid()
        let null = open("/dev/null", O_RDWR, 0)
        if null >= 0 {
            dup2(null, STDIN_FILENO)
            dup2(null, STDOUT_FILENO)
            dup2(null, STDERR_FILENO)
            if null > STDERR_FILENO { close(null) }
        }
    }

    static func writePidFile(_ path: String) {
        guard let file = fopen(path, "w") else {
            serverLog.warning("Failed to write PID file: \(String(cString: strerror(errno)))")
            return
        }
        fputs("\(getpid())\n", file)
        fclose(file)
    }

    /// SIGTERM and SIGINT: blocked in every thread from the start of the process, and taken by one thread of
    /// their own with `sigwait` (``startSignalThread(_:target:pidfile:)``). A shutdown signal is then never
    /// lost nor ignored, whenever it comes; with a handler installed once the server is ready, one sent right
    /// after the ready line could arrive before the handler took over, and was ignored.
    static func blockShutdownSignals() -> sigset_t {
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGTERM)
        sigaddset(&signals, SIGINT)
        // The whole mask: a parent may have started this process with signals blocked (Foundation's `Process`
        // blocks nearly all of them), which would leave SIGPIPE's and the others' dispositions without effect.
        pthread_sigmask(SIG_SETMASK, &signals, nil)
        return signals
    }

    /// The running server, once it is ready: where the signal thread sends shutdowns.
    final class SignalTarget: @unchecked Sendable {
        private let monitor = Monitor()
        private var server: ServerCore?

        func set(_ server: ServerCore) {
            monitor.lock()
            self.server = server
            monitor.unlock()
        }

        var current: ServerCore? {
            monitor.lock()
            defer { monitor.unlock() }
            return server
        }
    }

    /// Takes the shutdown signals. Once the server is ready it shuts down on its loop (saving when save points
    /// are configured); before that (loading) the process exits at once without saving, as Redis does with a
    /// shutdown signal received while loading: what is on disk is what it was loading.
    static func startSignalThread(_ signals: sigset_t, target: SignalTarget, pidfile: String?) {
        DetachedThread.start {
            var signals = signals
            while true {
                var number: Int32 = 0
                guard sigwait(&signals, &number) == 0 else { continue }
                let name = number == SIGINT ? "SIGINT" : "SIGTERM"
                guard let server = target.current else {
                    serverLog.warning("Received shutdown signal during loading, scheduling shutdown.")
                    if let pidfile { unlink(pidfile) }
                    serverLog.warning("Redis is now ready to exit, bye bye...")
                    _exit(0)
                }
                server.loop.execute {
                    serverLog.warning("Received \(name) scheduling shutdown...")
                    if !server.shutdown(save: nil) {
                        serverLog.warning("SIGTERM received but errors trying to shut down the server, check the logs for more information")
                    }
                }
            }
        }
    }
}
