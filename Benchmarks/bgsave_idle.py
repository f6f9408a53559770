#!/usr/bin/env python3
"""Idle BGSAVE and SAVE, our server against Redis 7.0, interleaved: wall time and the CPU time a save costs.

    python3 Benchmarks/bgsave_idle.py OURS_BINARY [RDB] [ROUNDS]

Starts both servers on copies of RDB (default bench-data/mixed.rdb), runs one BGSAVE on each to warm up (a
process's first save grows its allocator's arenas), then ROUNDS (default 4) rounds, one server after the other in
each: a BGSAVE watched by persistence.py's Pss sampler (as persistence.sh measures it: /proc/PID/smaps_rollup every
10 ms, about a third of a core), a BGSAVE without it (INFO polled every 10 ms), and a SAVE. CPU is the server
process's user + system time over the unwatched BGSAVE, its reaped children's included (Redis's forked child; our
encoder threads are the process's own). Prints a markdown table of medians with every round's figure.
Ports 7940-7941. REDIS_SERVER overrides /usr/bin/redis-server.
"""
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
ours = sys.argv[1]
rdb = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "..", "bench-data", "mixed.rdb")
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 4
sys.argv = [sys.argv[0], ours, rdb]  # what persistence.py reads when imported
import persistence  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """User + system time of the process and of its reaped children."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / TICKS


def unwatched_bgsave(client, pid):
    before = cpu_seconds(pid)
    started = time.perf_counter()
    client.bgsave()
    time.sleep(0.01)
    while client.info("persistence")["rdb_bgsave_in_progress"]:
        time.sleep(0.01)
    wall = time.perf_counter() - started
    time.sleep(0.05)  # Redis reaps its child in serverCron
    return wall, cpu_seconds(pid) - before


servers = [("ours", ours), ("redis-7.0", persistence.REDIS)]
running = {}
figures = {name: {"watched": [], "wall": [], "cpu": [], "save": []} for name, _ in servers}
try:
    for index, (name, binary) in enumerate(servers):
        directory = tempfile.mkdtemp(prefix="bgsave-idle-")
        shutil.copy(rdb, os.path.join(directory, "dump.rdb"))
        process, client, _, _ = persistence.start(binary, 7940 + index, directory)
        running[name] = (process, client, directory)
        unwatched_bgsave(client, process.pid)
    for _ in range(rounds):
        for name, _ in servers:
            process, client, _ = running[name]
            figures[name]["watched"].append(persistence.bgsave_round(client, process.pid, writers=False)["wall"])
            wall, cpu = unwatched_bgsave(client, process.pid)
            figures[name]["wall"].append(wall)
            figures[name]["cpu"].append(cpu)
            started = time.perf_counter()
            client.save()
            figures[name]["save"].append(time.perf_counter() - started)
finally:
    for process, client, directory in running.values():
        persistence.stop(process, client)
        shutil.rmtree(directory, ignore_errors=True)


def cell(values):
    return f"**{statistics.median(values):.2f}** ({' / '.join(f'{v:.2f}' for v in values)})"


print(f"load {os.getloadavg()[0]:.2f}; {rounds} rounds; {os.path.basename(rdb)}\n")
print("| server | BGSAVE s, sampler on | BGSAVE s, no sampler | CPU s of that BGSAVE | SAVE s |")
print("|---|---|---|---|---|")
for name, _ in servers:
    f = figures[name]
    print(f"| {name} | {cell(f['watched'])} | {cell(f['wall'])} | {cell(f['cpu'])} | {cell(f['save'])} |")
