#!/usr/bin/env python3
"""Start-up load of RDB files, any number of server binaries and Redis 7.0, interleaved.

    python3 Benchmarks/load_rounds.py ROUNDS RDB [RDB...] -- BINARY [BINARY...]

For each RDB: ROUNDS rounds, each starting every binary and then /usr/bin/redis-server (REDIS_SERVER overrides
it) once on a copy of the file (`--save "" --appendonly no`), reading the load time from the `DB loaded from
disk: N seconds` log line and the process's CPU time (user + system, /proc/PID/stat) once it answers PING
(persistence.py's start and stop). Prints one line per binary and file: median and minimum load time, ratio of
medians to Redis's, median CPU. Port 7965.

An RDB argument that is a directory is an AOF directory (`appendonlydir`, manifest and files): it is copied as
such and loaded with `--appendonly yes` (the `DB loaded from append only file` line), e.g. the AOF that
persistence.py has Redis write, kept with `cp -r` from its work directory or made by hand: start Redis 7.0 on
the RDB, `CONFIG SET aof-use-rdb-preamble no`, `CONFIG SET appendonly yes`, wait for the rewrite.

To see which kind of key costs what, split a dataset by key prefix first, e.g. mixed.rdb's small hashes:

    redis-convert bench-data/mixed.rdb --to rdb --key '^hash:small' -o /tmp/hash_small.rdb
"""
import os
import shutil
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
_arguments = sys.argv
sys.argv = [sys.argv[0], "unused"]  # what persistence.py reads when imported
import persistence  # noqa: E402

sys.argv = _arguments
REDIS = persistence.REDIS
PORT = 7965


def load(binary: str, directory: str, aof: bool) -> tuple[float, float]:
    """Starts `binary` on `directory` (persistence.py's start: until it answers PING); the logged load time and
    the process's CPU time then."""
    options = ("--appendonly", "yes", "--aof-use-rdb-preamble", "no") if aof else ("--appendonly", "no")
    process, client, ready, loaded = persistence.start(binary, PORT, directory, *options)
    with open(f"/proc/{process.pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    persistence.stop(process, client)
    return (loaded if loaded is not None else ready), cpu


def main() -> None:
    if "--" not in sys.argv or len(sys.argv) < 5:
        raise SystemExit(__doc__)
    split = sys.argv.index("--")
    rounds = int(sys.argv[1])
    files, binaries = sys.argv[2:split], sys.argv[split + 1:] + [REDIS]
    for rdb in files:
        aof = os.path.isdir(rdb)
        results: dict[str, list[tuple[float, float]]] = {binary: [] for binary in binaries}
        for _ in range(rounds):
            for binary in binaries:
                directory = tempfile.mkdtemp(prefix="load-rounds-")
                if aof:
                    shutil.copytree(rdb, os.path.join(directory, "appendonlydir"))
                else:
                    shutil.copy(rdb, os.path.join(directory, "dump.rdb"))
                results[binary].append(load(binary, directory, aof))
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
