import Foundation

/// Makes file writes fail on demand in a process we start, without touching its code: an `LD_PRELOAD` library
/// (compiled here with the system C compiler) wraps `write`, `pwrite`, `writev` and `fsync`/`fdatasync`, and
/// once the writes to regular files whose path contains `FAULT_MATCH` pass `FAULT_AFTER` bytes, returns -1 with
/// `FAULT_ERRNO` (ENOSPC by default) — a disk that fills up, or fails (EIO), at an exact byte. With
/// `FAULT_FSYNC=1`, every fsync of such a file fails with that errno, with `FAULT_TRUNCATE=1` every ftruncate
/// (so a partial write cannot be cut back). Paths that also contain `FAULT_SKIP` are
/// left alone. With `FAULT_WHILE` set to a path, the disk fails only while that file exists (bytes count from
/// then on): a test creates it to make the disk fail mid-run and deletes it to give the disk room again.
///
/// Sockets and pipes are never affected, so a server keeps answering while its saves fail.
public enum FaultInjection {
    /// errno values the tests use.
    public static let ENOSPC: Int32 = 28
    public static let EIO: Int32 = 5

    /// The environment that makes a child process's writes to paths containing `match` (and not `skip`) fail
    /// after `afterBytes` bytes with `errno` (and, when `failFsync`, every fsync of such a file fails with the
    /// same errno; when `failTruncate`, every ftruncate). With `whileExists`, only while a file exists at that
    /// path.
    public static func environment(
        match: String, afterBytes: Int, errno: Int32 = ENOSPC, failFsync: Bool = false, failTruncate: Bool = false,
        skip: String? = nil, whileExists trigger: String? = nil
    ) throws -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["LD_PRELOAD"] = try libraryPath()
        environment["FAULT_MATCH"] = match
        environment["FAULT_AFTER"] = String(afterBytes)
        environment["FAULT_ERRNO"] = String(errno)
        environment["FAULT_FSYNC"] = failFsync ? "1" : "0"
        environment["FAULT_TRUNCATE"] = failTruncate ? "1" : "0"
        environment["FAULT_SKIP"] = skip
        environment["FAULT_WHILE"] = trigger
        return environment
    }

    /// The human text of `errno` as the C library words it (what the tools and Redis print).
    public static func message(_ errno: Int32) -> String { String(cString: strerror(errno)) }

    nonisolated(unsafe) private static var cached: String?
    private static let lock = NSLock()

    /// Builds the library once per test process.
    public static func libraryPath() throws -> String {
        lock.lock()
        defer { lock.unlock() }
        if let cached { return cached }
        let directory = try RedisServer.temporaryDirectory("faultinject")
        let source = directory.appendingPathComponent("faultinject.c")
        let library = directory.appendingPathComponent("libfaultinject.so")
        try cSource.write(to: source, atomically: true, encoding: .utf8)
        guard let compiler = which("cc") ?? which("gcc") ?? which("clang") else {
            throw RedisServer.ServerError(description: "no C compiler to build the fault-injection library")
        }
        let result = try run(compiler, ["-shared", "-fPIC", "-O1", "-o", library.path, source.path, "-ldl"])
        guard result.status == 0 else {
            throw RedisServer.ServerError(description: "building libfaultinject.so failed: \(result.standardError)")
        }
        cached = library.path
        return library.path
    }

    static let cSource = #"""
    #define _GNU_SOURCE
    #include <dlfcn.h>
    #include <errno.h>
    #include <stdio.h>
    #include <stdlib.h>
    #include <string.h>
    #include <sys/stat.h>
    #include <sys/types.h>
    #include <sys/uio.h>
    #include <unistd.h>

    static long long budget = -1;   /* bytes still allowed; -1: not configured */
    static int fault_errno = ENOSPC;
    static int fail_fsync = 0;
    static int fail_truncate = 0;
    static const char *match = NULL;
    static const char *skip = NULL;      /* paths containing it are never targeted */
    static const char *trigger = NULL;   /* when set, faults only while this file exists */

    static void configure(void) {
        static int done = 0;
        if (done) return;
        done = 1;
        match = getenv("FAULT_MATCH");
        skip = getenv("FAULT_SKIP");
        trigger = getenv("FAULT_WHILE");
        const char *after = getenv("FAULT_AFTER");
        const char *code = getenv("FAULT_ERRNO");
        const char *fsync_flag = getenv("FAULT_FSYNC");
        if (match && after) budget = atoll(after);
        if (code) fault_errno = atoi(code);
        if (fsync_flag) fail_fsync = atoi(fsync_flag);
        const char *truncate_flag = getenv("FAULT_TRUNCATE");
        if (truncate_flag) fail_truncate = atoi(truncate_flag);
    }

    /* Only regular files whose path contains FAULT_MATCH. */
    static int targeted(int fd) {
        configure();
        if (budget < 0 || !match) return 0;
        struct stat st;
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return 0;
        char link[64], path[4096];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, path, sizeof path - 1);
        if (n <= 0) return 0;
        path[n] = 0;
        if (strstr(path, match) == NULL) return 0;
        if (skip && *skip && strstr(path, skip) != NULL) return 0;
        if (trigger && *trigger && access(trigger, F_OK) != 0) return 0;
        return 1;
    }

    /* How many of `count` bytes may go through; -1 when none may (errno set). */
    static ssize_t allowance(int fd, size_t count) {
        if (!targeted(fd)) return (ssize_t)count;
        if (budget == 0) { errno = fault_errno; return -1; }
        if ((long long)count > budget) count = (size_t)budget;
        return (ssize_t)count;
    }

    ssize_t write(int fd, const void *buf, size_t count) {
        static ssize_t (*real)(int, const void *, size_t);
        if (!real) real = dlsym(RTLD_NEXT, "write");
        ssize_t allowed = allowance(fd, count);
        if (allowed < 0) return -1;
        ssize_t n = real(fd, buf, (size_t)allowed);
        if (n > 0 && targeted(fd)) budget -= n;
        return n;
    }

    ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset) {
        static ssize_t (*real)(int, const void *, size_t, off_t);
        if (!real) real = dlsym(RTLD_NEXT, "pwrite");
        ssize_t allowed = allowance(fd, count);
        if (allowed < 0) return -1;
        ssize_t n = real(fd, buf, (size_t)allowed, offset);
        if (n > 0 && targeted(fd)) budget -= n;
        return n;
    }

    ssize_t writev(int fd, const struct iovec *iov, int iovcnt) {
        static ssize_t (*real)(int, const struct iovec *, int);
        if (!real) real = dlsym(RTLD_NEXT, "writev");
        if (!targeted(fd)) return real(fd, iov, iovcnt);
        size_t total = 0;
        for (int i = 0; i < iovcnt; i++) total += iov[i].iov_len;
        if (budget == 0) { errno = fault_errno; return -1; }
        if ((long long)total > budget) {
            /* Past the budget: a short write of what fits of the first buffer, as a full disk gives. */
            if (iovcnt == 0) return 0;
            return write(fd, iov[0].iov_base, iov[0].iov_len);
        }
        ssize_t n = real(fd, iov, iovcnt);
        if (n > 0) budget -= n;
        return n;
    }


    int fsync(int fd) {
        static int (*real)(int);
        if (!real) real = dlsym(RTLD_NEXT, "fsync");
        if (fail_fsync && targeted(fd)) { errno = fault_errno; return -1; }
        return real(fd);
    }

    int ftruncate(int fd, off_t length) {
        static int (*real)(int, off_t);
        if (!real) real = dlsym(RTLD_NEXT, "ftruncate");
        if (fail_truncate && targeted(fd)) { errno = fault_errno; return -1; }
        return real(fd, length);
    }

    int fdatasync(int fd) {
        static int (*real)(int);
        if (!real) real = dlsym(RTLD_NEXT, "fdatasync");
        if (fail_fsync && targeted(fd)) { errno = fault_errno; return -1; }
        return real(fd);
    }
    """#
}
