#!/usr/bin/env python3
"""The persistence table's BGSAVE-under-writes measure, repeated on fresh servers, interleaved with Redis 7.0.

    python3 Benchmarks/bgsave_interleaved.py TIMES RDB -- BINARY [BINARY...]

TIMES times: each BINARY, then /usr/bin/redis-server (REDIS_SERVER overrides it), is started on a copy of RDB and
does what Benchmarks/persistence.py does before its measure (SAVE, then an idle BGSAVE), then one BGSAVE while a
redis-py client SETs `bench:write:{i % 50000}` continuously (persistence.py's bgsave_round: the writes create new
keys), with the Pss sampler reading /proc/PID/smaps_rollup every 10 ms as in the table (NO_SAMPLER=1 leaves it
out). One line per run (p99 and worst latency of the client during the save, its writes, the save's wall time,
the peak extra Pss), then the median p99 per binary. One persistence.sh run gives one sample of a figure that
varies by 2x from minute to minute on a shared machine; this gives several, taken in the same minutes. Port 7966.
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
PORT = 7966


def main():
    if "--" not in sys.argv or sys.argv.index("--") != 3:
        sys.exit(__doc__)
    times, rdb = int(sys.argv[1]), sys.argv[2]
    binaries = sys.argv[4:] + [persistence.REDIS]
    if os.environ.get("NO_SAMPLER") == "1":
        persistence.tree_pss_kib = lambda pid: 0
    p99s = {binary: [] for binary in binaries}
    try:
        for _ in range(times):
            for binary in binaries:
                directory = tempfile.mkdtemp(prefix="bgsave-interleaved-")
                shutil.copy(rdb, os.path.join(directory, "dump.rdb"))
                process, client, _, _ = persistence.start(binary, PORT, directory)
                try:
                    client.save()
                    persistence.bgsave_round(client, process.pid, writers=False)
                    r = persistence.bgsave_round(client, process.pid, writers=True)
                finally:
                    persistence.stop(process, client)
                    shutil.rmtree(directory, ignore_errors=True)
                p99s[binary].append(r["p99_ms"])
                print(f"{binary:40} p99 {r['p99_ms']:.2f} ms  max {r['max_ms']:.2f} ms  {r['writes']} writes  "
                      f"{r['wall']:.2f} s  extra Pss {r['extra_pss_mib']:.1f} MiB", flush=True)
    finally:
        shutil.rmtree(persistence.WORK, ignore_errors=True)
    for binary, values in p99s.items():
        print(f"{binary:40} median p99 {statistics.median(values):.2f} ms over {len(values)}")


if __name__ == "__main__":
    main()
