#!/usr/bin/env python3
"""Start-up load of RDB files, any number of server binaries and Redis 7.0, interleaved.

    python3 Benchmarks/load_rounds.py ROUNDS RDB [RDB...] -- BINARY [BINARY...]

For each RDB: ROUNDS rounds, each starting every binary and then /usr/bin/redis-server (REDIS_SERVER overrides
it) once on a copy of the file (`--save "" --appendonly no`), reading the load time from the `DB loaded from
disk: N seconds` log line and the process's CPU time (user + system, /proc/PID/stat) once it is ready. Prints one
line per binary and file: median and minimum load time, ratio of medians to Redis's, median CPU. A server that
has not exited 5 s after SIGTERM is reported and killed. Port 7965.

To see which kind of key costs what, split a dataset by key prefix first, e.g. mixed.rdb's small hashes:

    redis-convert bench-data/mixed.rdb --to rdb --key '^hash:small' -o /tmp/hash_small.rdb
"""
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REDIS = os.environ.get("REDIS_SERVER", "/usr/bin/redis-server")
PORT = "7965"


def load(binary: str, directory: str) -> tuple[float, float]:
    """Starts `binary` on `directory`, waits until it is ready; the logged load time and the CPU time then."""
    log_path = os.path.join(directory, "log")
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [binary, "--port", PORT, "--dir", directory, "--save", "", "--appendonly", "no"],
            stdout=log, stderr=subprocess.STDOUT)
    text = ""
    deadline = time.monotonic() + 120
    while "ready to accept" not in text.lower():
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{binary} did not start:\n{text}")
        time.sleep(0.005)
        with open(log_path) as log:
            text = log.read()
    with open(f"/proc/{process.pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    process.terminate()
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        print(f"{binary}: still running 5 s after SIGTERM, killed", flush=True)
        process.kill()
        process.wait()
    seconds = re.search(r"DB loaded from disk: ([0-9.]+)", text)
    if not seconds:
        raise SystemExit(f"{binary}: no 'DB loaded from disk' line:\n{text}")
    return float(seconds.group(1)), cpu


def main() -> None:
    if "--" not in sys.argv or len(sys.argv) < 5:
        raise SystemExit(__doc__)
    split = sys.argv.index("--")
    rounds = int(sys.argv[1])
    files, binaries = sys.argv[2:split], sys.argv[split + 1:] + [REDIS]
    for rdb in files:
        directory = tempfile.mkdtemp(prefix="load-rounds-")
        shutil.copy(rdb, os.path.join(directory, "dump.rdb"))
        results: dict[str, list[tuple[float, float]]] = {binary: [] for binary in binaries}
        for _ in range(rounds):
            for binary in binaries:
                results[binary].append(load(binary, directory))
        shutil.rmtree(directory)
        reference = statistics.median(seconds for seconds, _ in results[REDIS])
        print(f"== {os.path.basename(rdb)}")
        for binary in binaries:
            times = [seconds for seconds, _ in results[binary]]
            cpu = statistics.median(cpu for _, cpu in results[binary])
            median = statistics.median(times)
            print(f"{binary:40s} median {median:.3f} s  min {min(times):.3f} s  {median / reference:.2f}x  "
                  f"CPU {cpu:.2f} s", flush=True)


if __name__ == "__main__":
    main()
