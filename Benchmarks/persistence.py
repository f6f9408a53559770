#!/usr/bin/env python3
"""Persistence benchmark (issue #6): our redis-server against Redis 7.0 on the same data, side by side.

    python3 Benchmarks/persistence.py OURS_BINARY [RDB]      (Benchmarks/persistence.sh builds and calls it)

For each server, on copies of the same files: start-up load time of the RDB and of an AOF (no preamble),
SAVE time, BGSAVE time, the pause the command thread sees (our snapshot vs Redis's fork: INFO
latest_fork_usec) on the mixed dataset and on a second, bigger one, the p99 and max latency a client sees
while writing continuously through a BGSAVE, and the extra memory of a BGSAVE under those writes, two ways:
INFO rdb_last_cow_size (Redis counts the child's copied pages only, we count the growth of our resident size,
which also holds the keys written meanwhile), and the same measure for both, taken here: the peak of the
proportional set size (Pss, /proc/PID/smaps_rollup) of the server and its children during the save, minus
its value when the save starts (a forked child's shared pages count once, split between the two).
Then the RDB load alone, both servers alternately, LOAD_ROUNDS times (default 5; 0 skips it): medians
and the median of the rounds' ratios, which a noisy machine moves far less than a single load.
Prints markdown tables. Ports 7950-7959.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import redis

REDIS = os.environ.get("REDIS_SERVER", "/usr/bin/redis-server")
OURS = sys.argv[1]
RDB = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "..", "bench-data", "mixed.rdb")
WORK = tempfile.mkdtemp(prefix="persistence-bench-")


def start(binary, port, directory, *args):
    os.makedirs(directory, exist_ok=True)
    log = os.path.join(directory, "log")
    started = time.time()
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", directory,
                                "--save", "", "--logfile", log, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port, socket_timeout=600, protocol=2)
    while True:
        try:
            if client.ping():
                break
        except (redis.ConnectionError, redis.BusyLoadingError):
            if process.poll() is not None:
                raise RuntimeError(f"{binary} exited: {open(log).read()[-2000:]}")
            time.sleep(0.02)
    ready = time.time() - started
    loaded = None
    for line in (open(log) if os.path.exists(log) else []):
        m = re.search(r"DB loaded from (?:disk|append only file): ([0-9.]+) seconds", line)
        if m:
            loaded = float(m.group(1))
    return process, client, ready, loaded


def stop(process, client):
    try:
        client.shutdown(nosave=True)
    except Exception:
        pass
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def info(client, field):
    return client.info("all")[field]


def wait_idle(client, field):
    while info(client, field):
        time.sleep(0.005)


def tree_pss_kib(pid):
    """Pss of the process and its children (Redis's BGSAVE child), in KiB: physical memory, shared pages split."""
    try:
        children = [int(c) for c in open(f"/proc/{pid}/task/{pid}/children").read().split()]
    except OSError:
        children = []
    total = 0
    for p in [pid] + children:
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass  # a child that just exited
    return total


def bgsave_round(client, pid, writers=True):
    """BGSAVE while a client writes continuously: wall time, pause, latencies, extra memory."""
    latencies = []
    stop_flag = threading.Event()
    sampling = threading.Event()
    peak = [0]

    def sampler():
        while not sampling.is_set():
            peak[0] = max(peak[0], tree_pss_kib(pid))
            time.sleep(0.01)

    def writer():
        c = redis.Redis(port=client.connection_pool.connection_kwargs["port"], protocol=2)
        i = 0
        while not stop_flag.is_set():
            t = time.perf_counter()
            c.set(f"bench:write:{i % 50000}", "x" * 64)
            latencies.append(time.perf_counter() - t)
            i += 1

    thread = threading.Thread(target=writer)
    if writers:
        thread.start()
        time.sleep(0.3)
    baseline = len(latencies)
    pss_start = tree_pss_kib(pid)
    peak[0] = pss_start
    watcher = threading.Thread(target=sampler)
    watcher.start()
    started = time.perf_counter()
    client.bgsave()
    time.sleep(0.01)
    wait_idle(client, "rdb_bgsave_in_progress")
    wall = time.perf_counter() - started
    sampling.set()
    watcher.join()
    during = latencies[baseline:]
    if writers:
        stop_flag.set()
        thread.join()
    during.sort()
    p99 = during[int(len(during) * 0.99)] * 1000 if during else 0
    worst = during[-1] * 1000 if during else 0
    return {
        "wall": wall, "pause_us": info(client, "latest_fork_usec"), "p99_ms": p99, "max_ms": worst,
        "writes": len(during), "extra_mib": info(client, "rdb_last_cow_size") / 1048576,
        "extra_pss_mib": (peak[0] - pss_start) / 1024,
        "status": info(client, "rdb_last_bgsave_status"),
    }


def measure(name, binary, port, rdb, aofdir, label):
    row = {"server": name}
    d = os.path.join(WORK, f"{name}-{label}-rdb")
    os.makedirs(d)
    shutil.copy(rdb, os.path.join(d, "dump.rdb"))
    process, client, ready, loaded = start(binary, port, d)
    row["keys"] = client.dbsize() + sum(v["keys"] for k, v in client.info("keyspace").items() if k != "db0")
    row["load_rdb"] = loaded if loaded is not None else ready
    row["rss_mib"] = info(client, "used_memory_rss") / 1048576
    t = time.perf_counter()
    client.save()
    row["save"] = time.perf_counter() - t
    idle = bgsave_round(client, process.pid, writers=False)
    row["bgsave"] = idle["wall"]
    row["pause_idle_us"] = idle["pause_us"]
    busy = bgsave_round(client, process.pid, writers=True)
    row.update({"pause_us": busy["pause_us"], "p99_ms": busy["p99_ms"], "max_ms": busy["max_ms"],
                "writes": busy["writes"], "extra_mib": busy["extra_mib"], "extra_pss_mib": busy["extra_pss_mib"],
                "bgsave_busy": busy["wall"],
                "status": busy["status"]})
    stop(process, client)
    d = os.path.join(WORK, f"{name}-{label}-aof")
    os.makedirs(d)
    shutil.copytree(aofdir, os.path.join(d, "appendonlydir"))
    process, client, ready, loaded = start(binary, port, d, "--appendonly", "yes", "--aof-use-rdb-preamble", "no")
    row["load_aof"] = loaded if loaded is not None else ready
    row["aof_keys"] = client.dbsize()
    stop(process, client)
    return row


def load_rounds(rdb, label, rounds):
    """Start-up load of the same RDB, ours and Redis's alternately, `rounds` times each: one load per server is
    at the mercy of whatever else the machine runs at that second; the median of interleaved rounds, and the
    median of each round's ratio, are not."""
    times = {"ours": [], "redis-7.0": []}
    for index in range(rounds):
        for name, binary, port in [("ours", OURS, 7954), ("redis-7.0", REDIS, 7955)]:
            d = os.path.join(WORK, f"rounds-{name}-{label}-{index}")
            os.makedirs(d)
            shutil.copy(rdb, os.path.join(d, "dump.rdb"))
            process, client, ready, loaded = start(binary, port, d)
            stop(process, client)
            times[name].append(loaded if loaded is not None else ready)
            shutil.rmtree(d, ignore_errors=True)
    ratios = sorted(o / r for o, r in zip(times["ours"], times["redis-7.0"]))
    median = lambda values: sorted(values)[len(values) // 2]
    return {"dataset": label, "ours": times["ours"], "redis": times["redis-7.0"],
            "ratio_of_medians": median(times["ours"]) / median(times["redis-7.0"]), "median_ratio": median(ratios)}


def make_aof(rdb):
    """An AOF of the dataset without preamble, written by Redis 7.0 (a rewrite of the loaded RDB)."""
    d = os.path.join(WORK, "make-aof")
    os.makedirs(d)
    shutil.copy(rdb, os.path.join(d, "dump.rdb"))
    process, client, _, _ = start(REDIS, 7950, d, "--aof-use-rdb-preamble", "no")
    client.config_set("appendonly", "yes")
    time.sleep(0.2)
    wait_idle(client, "aof_rewrite_in_progress")
    stop(process, client)
    size = sum(os.path.getsize(os.path.join(d, "appendonlydir", f)) for f in os.listdir(os.path.join(d, "appendonlydir")))
    return os.path.join(d, "appendonlydir"), size


def make_big(rdb, keys):
    """A second, bigger dataset: the mixed one plus `keys` small strings (DEBUG POPULATE), saved by Redis."""
    d = os.path.join(WORK, "make-big")
    os.makedirs(d)
    shutil.copy(rdb, os.path.join(d, "dump.rdb"))
    process, client, _, _ = start(REDIS, 7951, d, "--enable-debug-command", "yes")
    client.execute_command("DEBUG", "POPULATE", keys, "big", 32)
    client.save()
    stop(process, client)
    return os.path.join(d, "dump.rdb")


def main():
    aofdir, aofsize = make_aof(RDB)
    big = make_big(RDB, int(os.environ.get("BIG_KEYS", "2000000")))
    print(f"RDB {RDB}: {os.path.getsize(RDB)} bytes; AOF (no preamble, Redis 7.0 rewrite) {aofsize} bytes; "
          f"big RDB {os.path.getsize(big)} bytes")
    rows = []
    datasets = [(RDB, "mixed"), (big, f"mixed+{os.environ.get('BIG_KEYS', '2000000')}")]
    for rdb, label in datasets:
        for name, binary, port in [("ours", OURS, 7952), ("redis-7.0", REDIS, 7953)]:
            row = measure(name, binary, port, rdb, aofdir, label)
            row["dataset"] = label
            rows.append(row)
            print(row, flush=True)
    print()
    print("| dataset | server | keys | RSS MiB | load RDB s | load AOF s | SAVE s | BGSAVE s (idle) | pause µs (idle) | pause µs (writing) | BGSAVE s (writing) | writes during | p99 ms | max ms | extra MiB (INFO) | extra MiB (Pss, both) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['dataset']} | {r['server']} | {r['keys']} | {r['rss_mib']:.0f} | {r['load_rdb']:.3f} | {r['load_aof']:.3f} | "
              f"{r['save']:.3f} | {r['bgsave']:.3f} | {r['pause_idle_us']} | {r['pause_us']} | {r['bgsave_busy']:.3f} | "
              f"{r['writes']} | {r['p99_ms']:.2f} | {r['max_ms']:.2f} | {r['extra_mib']:.1f} | {r['extra_pss_mib']:.1f} |")
    rounds = int(os.environ.get("LOAD_ROUNDS", "5"))
    if rounds > 0:
        print()
        print(f"RDB load alone, {rounds} interleaved rounds (ours, Redis, ours, …), seconds sorted:")
        print()
        print("| dataset | ours s | redis-7.0 s | ratio of medians | median of the rounds' ratios |")
        print("|---|---|---|---:|---:|")
        for rdb, label in datasets:
            r = load_rounds(rdb, label, rounds)
            print(f"| {r['dataset']} | {' / '.join(f'{t:.3f}' for t in sorted(r['ours']))} | "
                  f"{' / '.join(f'{t:.3f}' for t in sorted(r['redis']))} | {r['ratio_of_medians']:.2f}x | {r['median_ratio']:.2f}x |",
                  flush=True)
    shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
