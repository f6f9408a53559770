#!/usr/bin/env python3
"""BGSAVE under writes, several rounds on one server: how latency and extra memory change from the first save
(whose writes create 50,000 new keys) to later ones (whose writes overwrite them).

    python3 Benchmarks/bgsave_rounds.py BINARY [RDB] [ROUNDS] [PORT]

Starts BINARY on a copy of RDB (default bench-data/mixed.rdb), then runs ROUNDS (default 4) of persistence.py's
BGSAVE-under-writes measure (a redis-py client SETs `bench:write:{i % 50000}` continuously) and prints one line
per round: the client's p99 and worst latency during the save, the writes it made, the save's wall time and the
peak extra Pss of the server and its children. Run it for our server and for /usr/bin/redis-server in turn.
"""
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
binary = sys.argv[1]
rdb = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "..", "bench-data", "mixed.rdb")
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 4
port = int(sys.argv[4]) if len(sys.argv) > 4 else 7954
sys.argv = [sys.argv[0], binary, rdb]  # what persistence.py reads when imported
import persistence  # noqa: E402

directory = tempfile.mkdtemp(prefix="bgsave-rounds-")
shutil.copy(rdb, os.path.join(directory, "dump.rdb"))
process, client, _, _ = persistence.start(binary, port, directory)
try:
    for index in range(rounds):
        r = persistence.bgsave_round(client, process.pid, writers=True)
        print(f"{binary} round {index + 1}: p99 {r['p99_ms']:.2f} ms, max {r['max_ms']:.2f} ms, "
              f"{r['writes']} writes, {r['wall']:.2f} s, extra Pss {r['extra_pss_mib']:.1f} MiB", flush=True)
finally:
    persistence.stop(process, client)
    shutil.rmtree(directory, ignore_errors=True)
    shutil.rmtree(persistence.WORK, ignore_errors=True)
