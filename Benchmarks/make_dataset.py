#!/usr/bin/env python3
"""Build the benchmark RDB: a deterministic, mixed dataset written by a private, real Redis 7.0.

    python3 Benchmarks/make_dataset.py [OUTPUT.rdb]      (default: bench-data/mixed.rdb at the repo root)

Starts `redis-server --port 6399 --dir TMPDIR --save "" --appendonly no`, fills it with redis-py
pipelines from a seeded generator, runs SAVE and copies dump.rdb to OUTPUT. The same seed and the
same Redis version give the same keys, values and encodings (the RDB differs only in its aux fields:
ctime, used-mem, ...).

The mix, about 214k keys and ~100 MB of RDB (Redis 7.0 default encoding thresholds):
  strings   small (10-60 bytes), integers (int-encoded), large compressible text and large
            incompressible random bytes (4-32 KiB each: LZF-compressed vs raw in the RDB)
  lists     small (one listpack quicklist node) and large (many quicklist nodes)
  sets      intset, small sets of strings, large hashtable sets
  zsets     small (listpack) and large (skiplist)
  hashes    small (listpack) and large (hashtable)
  streams   with consumer groups, consumers, pending entries (XREADGROUP) and acknowledgements
  a few keys in db 1; PEXPIREAT (year 2100) on one key in ten.

Environment: REDIS_SERVER (default /usr/bin/redis-server: a pyenv shim on PATH may be another
version), BENCH_PORT (default 6399), BENCH_SEED (default 20240611), BENCH_SCALE (default 1.0:
multiplies every key count, for a quicker, smaller dataset).
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import redis

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUTPUT = os.path.join(REPO_ROOT, "bench-data", "mixed.rdb")
REDIS_SERVER = os.environ.get("REDIS_SERVER", "/usr/bin/redis-server")
PORT = int(os.environ.get("BENCH_PORT", "6399"))
SEED = int(os.environ.get("BENCH_SEED", "20240611"))
SCALE = float(os.environ.get("BENCH_SCALE", "1.0"))
FAR_FUTURE_MS = 4102444800000  # 2100-01-01T00:00:00Z
BATCH = 1000  # commands per pipeline round trip

WORDS = (
    "the of and to in is was for on that with as by at from his her it an were are which this be "
    "or has had not but one all their they have been there who its new more after first two also "
    "user session order payment cart item product price total status pending shipped delivered "
    "error warning info debug request response latency timeout retry cache hit miss token expired "
    "account email address city country region name value count index offset limit page cursor "
    "created updated deleted active inactive enabled disabled true false null none default config"
).split()


def scaled(n: int) -> int:
    return max(1, int(n * SCALE))


class Generator:
    def __init__(self, client: redis.Redis, rng: random.Random) -> None:
        self.r = client
        self.rng = rng
        self.pipe = client.pipeline(transaction=False)
        self.pending = 0
        self.keys: dict[int, list[bytes]] = {0: [], 1: []}
        self.commands = 0

    # -- pipeline plumbing -------------------------------------------------------------------
    def cmd(self, *args) -> None:
        self.pipe.execute_command(*args)
        self.pending += 1
        self.commands += 1
        if self.pending >= BATCH:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.pipe.execute()
            self.pending = 0

    def key(self, name: str, db: int = 0) -> bytes:
        k = name.encode()
        self.keys[db].append(k)
        return k

    # -- value makers ----------------------------------------------------------------------------
    def text(self, n: int) -> bytes:
        """About n bytes of word soup with numbers: compresses 2-4x with LZF, like JSON/logs."""
        rng = self.rng
        parts: list[str] = []
        size = 0
        while size < n:
            words = rng.choices(WORDS, k=12)
            line = '{"%s":"%s","id":%d,"%s":%d.%02d,"msg":"%s"}\n' % (
                words[0], words[1], rng.randrange(10**9), words[2], rng.randrange(10000),
                rng.randrange(100), " ".join(words[3:]))
            parts.append(line)
            size += len(line)
        return "".join(parts).encode()[:n]

    def member(self, prefix: str, i: int) -> bytes:
        return ("%s:%d:%s" % (prefix, i, self.rng.choice(WORDS))).encode()

    # -- categories ----------------------------------------------------------------------------------
    def strings(self) -> None:
        rng = self.rng
        for i in range(scaled(108_000)):
            self.cmd("SET", self.key("str:small:%d" % i), self.text(rng.randint(10, 60)))
        for i in range(scaled(2_000)):
            self.cmd("SET", self.key("db1:str:%d" % i, db=1), self.text(rng.randint(10, 60)))
        for i in range(scaled(30_000)):
            self.cmd("SET", self.key("str:int:%d" % i), str(rng.randint(-(2**62), 2**62)))
        for i in range(scaled(2_200)):
            self.cmd("SET", self.key("str:text:%d" % i), self.text(rng.randint(4096, 32768)))
        for i in range(scaled(900)):
            self.cmd("SET", self.key("str:rand:%d" % i), rng.randbytes(rng.randint(4096, 32768)))

    def lists(self) -> None:
        rng = self.rng
        for i in range(scaled(20_000)):
            k = self.key("list:small:%d" % i)
            self.cmd("RPUSH", k, *[self.member("e", j) for j in range(rng.randint(3, 20))])
        for i in range(scaled(100)):
            k = self.key("list:large:%d" % i)
            n = rng.randint(3000, 8000)
            for start in range(0, n, 500):
                self.cmd("RPUSH", k, *[self.text(rng.randint(8, 40)) if j % 3 else str(rng.randrange(10**6))
                                       for j in range(start, min(n, start + 500))])

    def sets(self) -> None:
        rng = self.rng
        for i in range(scaled(10_000)):
            k = self.key("set:int:%d" % i)
            self.cmd("SADD", k, *[rng.randrange(10**9) for _ in range(rng.randint(5, 200))])
        for i in range(scaled(10_000)):
            k = self.key("set:small:%d" % i)
            self.cmd("SADD", k, *[self.member("m", rng.randrange(10**6)) for _ in range(rng.randint(3, 20))])
        for i in range(scaled(50)):
            k = self.key("set:large:%d" % i)
            n = rng.randint(5000, 15000)
            for start in range(0, n, 1000):
                self.cmd("SADD", k, *[self.member("m", j) for j in range(start, min(n, start + 1000))])

    def zsets(self) -> None:
        rng = self.rng
        for i in range(scaled(10_000)):
            k = self.key("zset:small:%d" % i)
            args = []
            for j in range(rng.randint(3, 60)):
                args += [rng.choice((rng.randrange(1000), round(rng.uniform(-1e6, 1e6), 3))), self.member("z", j)]
            self.cmd("ZADD", k, *args)
        for i in range(scaled(50)):
            k = self.key("zset:large:%d" % i)
            n = rng.randint(3000, 8000)
            for start in range(0, n, 500):
                args = []
                for j in range(start, min(n, start + 500)):
                    args += [round(rng.uniform(0, 1e9), 2), self.member("z", j)]
                self.cmd("ZADD", k, *args)

    def hashes(self) -> None:
        rng = self.rng
        for i in range(scaled(20_000)):
            k = self.key("hash:small:%d" % i)
            args = []
            for j in range(rng.randint(3, 30)):
                args += ["f%d" % j, self.text(rng.randint(1, 40)) if j % 2 else str(rng.randrange(10**8))]
            self.cmd("HSET", k, *args)
        for i in range(scaled(40)):
            k = self.key("hash:large:%d" % i)
            n = rng.randint(3000, 8000)
            for start in range(0, n, 500):
                args = []
                for j in range(start, min(n, start + 500)):
                    args += ["field:%d" % j, self.text(rng.randint(8, 120))]
                self.cmd("HSET", k, *args)

    def streams(self) -> None:
        rng = self.rng
        count = scaled(200)
        for i in range(count):
            k = self.key("stream:%d" % i)
            base = 1_700_000_000_000 + i * 1_000_000
            n = rng.randint(100, 600)
            for j in range(n):
                fields = ["sensor", "s%d" % rng.randrange(50), "temp", "%.2f" % rng.uniform(-20, 40),
                          "note", self.text(rng.randint(5, 60))]
                self.cmd("XADD", k, "%d-%d" % (base + j * 7, j % 3), *fields)
            if rng.random() < 0.1:
                self.cmd("XDEL", k, "%d-%d" % (base + 7, 1))  # a tombstone in the first listpack
        self.flush()
        # Consumer groups: two per stream on most streams; read part of the stream so entries are
        # pending (PEL + consumer PELs), then acknowledge some of them.
        for i in range(count):
            k = b"stream:%d" % i
            if i % 5 == 4:
                continue  # some streams without groups
            for g in range(1 + (i % 2)):
                group = "group%d" % g
                self.cmd("XGROUP", "CREATE", k, group, "0")
                for c in range(1 + rng.randrange(3)):
                    self.cmd("XREADGROUP", "GROUP", group, "consumer%d" % c, "COUNT", rng.randint(5, 40),
                             "STREAMS", k, ">")
            self.flush()
            if i % 3 == 0:
                pending = self.r.xpending_range(k, "group0", min="-", max="+", count=10)
                ids = [p["message_id"] for p in pending[: len(pending) // 2]]
                if ids:
                    self.cmd("XACK", k, "group0", *ids)

    def expires(self) -> int:
        n = 0
        for db, names in self.keys.items():
            if not names:
                continue
            self.flush()
            self.cmd("SELECT", db)
            for index, k in enumerate(names):
                if index % 10 == 0:
                    self.cmd("PEXPIREAT", k, FAR_FUTURE_MS + index)
                    n += 1
            self.flush()
        self.cmd("SELECT", 0)
        self.flush()
        return n


def wait_for_port(port: int, proc: subprocess.Popen, deadline: float) -> None:
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit("redis-server exited early with status %d" % proc.returncode)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("redis-server did not start listening on port %d" % port)


def main() -> int:
    output = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUTPUT
    started = time.time()
    version = subprocess.run([REDIS_SERVER, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    print("server: %s" % version)
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", PORT)) == 0:
            raise SystemExit("port %d is already in use; set BENCH_PORT" % PORT)

    tmpdir = tempfile.mkdtemp(prefix="rdb-bench-")
    proc = subprocess.Popen(
        [REDIS_SERVER, "--port", str(PORT), "--bind", "127.0.0.1", "--dir", tmpdir, "--save", "",
         "--appendonly", "no", "--dbfilename", "dump.rdb", "--logfile", os.path.join(tmpdir, "redis.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        wait_for_port(PORT, proc, time.time() + 20)
        client = redis.Redis(host="127.0.0.1", port=PORT, socket_timeout=600)
        client.flushall()
        gen = Generator(client, random.Random(SEED))

        phases = [("strings", gen.strings), ("lists", gen.lists), ("sets", gen.sets),
                  ("zsets", gen.zsets), ("hashes", gen.hashes), ("streams", gen.streams)]
        for name, phase in phases:
            t0 = time.time()
            phase()
            gen.flush()
            print("  %-8s %6.1f s" % (name, time.time() - t0), flush=True)
        # db 1 keys were created on db 0 under a db1: prefix, so the pipeline stays on db 0; move them.
        for k in gen.keys[1]:
            gen.cmd("MOVE", k, 1)
        gen.flush()
        expires = gen.expires()

        # Report the encodings the server chose for one key of each category.
        print("  encodings:")
        for sample in (b"str:small:0", b"str:int:0", b"str:text:0", b"str:rand:0", b"list:small:0",
                       b"list:large:0", b"set:int:0", b"set:small:0", b"set:large:0", b"zset:small:0",
                       b"zset:large:0", b"hash:small:0", b"hash:large:0", b"stream:0"):
            print("    %-14s %s" % (sample.decode(), (client.object("encoding", sample) or b"(missing)").decode()))

        keys = client.dbsize() + redis.Redis(host="127.0.0.1", port=PORT, db=1).dbsize()
        t0 = time.time()
        client.save()
        save_seconds = time.time() - t0
        os.makedirs(os.path.dirname(output), exist_ok=True)
        shutil.copyfile(os.path.join(tmpdir, "dump.rdb"), output + ".tmp")
        os.replace(output + ".tmp", output)
        size = os.path.getsize(output)
        info = client.info("memory")
        try:
            client.shutdown(nosave=True)
        except redis.exceptions.ConnectionError:
            pass  # the server closes the connection as it exits
    finally:
        if proc.poll() is None:
            proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(tmpdir, ignore_errors=True)

    print("keys: %d (db0 + db1), with TTL: %d, commands sent: %d" % (keys, expires, gen.commands))
    print("redis used_memory: %.1f MiB" % (info["used_memory"] / 2**20))
    print("rdb: %s, %d bytes (%.1f MiB), SAVE took %.2f s" % (output, size, size / 2**20, save_seconds))
    print("time taken: %.1f s" % (time.time() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
