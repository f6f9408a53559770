#!/usr/bin/env python3
"""Generate the AOF fixtures in Fixtures/aof/ with a real Redis 7.0 server.

Usage:
    python3 Fixtures/make_aof_fixtures.py [--out DIR] [--server PATH] [--port-base N]

Each fixture is the `appendonlydir` of a private redis-server started as
    redis-server --port P --bind 127.0.0.1 --dir TMP --save "" --appendonly yes
                 --appendfsync always --appenddirname appendonlydir (+ per-fixture options)
after the commands below were sent with redis-py and the server was shut down
(SHUTDOWN NOSAVE).  Every fixture directory gets an `expected.json` with the
keys (db 0 unless said otherwise) and their types as the server reported them
before shutting down; the generator then starts the same binary on a copy of
the directory with `--aof-load-truncated no` and checks it loads exactly
those keys.  Fixtures/MANIFEST.md has a section describing these files (edit
it by hand if the commands change).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

try:
    import redis
except ImportError:  # pragma: no cover
    sys.exit("error: the python 'redis' package (redis-py) is required: pip install redis")

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "aof")
EXP_MS = 4102444800123  # 2100-01-01T00:00:00.123Z, absolute so replays agree


def start(server, port, directory, options):
    args = [server, "--port", str(port), "--bind", "127.0.0.1", "--dir", directory, "--save", "",
            "--appendonly", "yes", "--appendfsync", "always", "--appenddirname", "appendonlydir",
            "--daemonize", "no", "--logfile", os.path.join(directory, "server.log")] + options
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    for _ in range(200):
        try:
            client.ping()
            return process, client
        except redis.exceptions.ConnectionError:
            if process.poll() is not None:
                break
            time.sleep(0.05)
    log = open(os.path.join(directory, "server.log")).read()
    process.kill()
    sys.exit(f"error: {server} did not start:\n{log[-2000:]}")


def stop(process, client):
    try:
        client.shutdown(nosave=True)
    except redis.exceptions.ConnectionError:
        pass
    process.wait(timeout=10)


def wait_rewrite(client):
    for _ in range(200):
        info = client.info("persistence")
        if not info["aof_rewrite_in_progress"] and not info["aof_rewrite_scheduled"]:
            return
        time.sleep(0.05)
    sys.exit("error: BGREWRITEAOF did not finish")


def basic_commands(client):
    """Distinct keys, so the keys loaded from any prefix are those of the commands in it."""
    client.set("k1", "v1")
    client.rpush("list1", "a", "b", "c")
    pipe = client.pipeline(transaction=True)  # MULTI ... EXEC in the AOF
    pipe.set("tx1", "x")
    pipe.set("tx2", "y")
    pipe.execute()
    client.sadd("set1", "m1", "m2")
    client.hset("hash1", mapping={"f1": "v1", "f2": "v2"})
    client.zadd("zset1", {"a": 1, "b": 2.5})
    client.set("k2", b"binary\x00\xff\r\n")
    client.execute_command("PEXPIREAT", "k2", EXP_MS)
    client.set("k3", "x" * 300)
    client.incr("counter")


def rewrite_then_more(client):
    basic_commands(client)
    client.bgrewriteaof()
    wait_rewrite(client)
    client.set("after1", "a")
    pipe = client.pipeline(transaction=True)
    pipe.set("after-tx", "t")
    pipe.rpush("after-list", "1", "2")
    pipe.execute()
    client.set("after2", "b")


def timestamps(client):
    client.set("ts1", "a")
    time.sleep(1.1)
    client.set("ts2", "b")
    time.sleep(1.1)
    client.set("ts3", "c")


FIXTURES = [
    ("redis-7.0-resp", ["--aof-use-rdb-preamble", "no"], basic_commands,
     "aof-use-rdb-preamble no; no rewrite: an empty RESP base and one INCR file with every command"),
    ("redis-7.0-preamble-rewrite", ["--aof-use-rdb-preamble", "yes"], rewrite_then_more,
     "aof-use-rdb-preamble yes; BGREWRITEAOF after the basic commands (RDB base), then more commands (INCR)"),
    ("redis-7.0-resp-rewrite", ["--aof-use-rdb-preamble", "no"], rewrite_then_more,
     "aof-use-rdb-preamble no; BGREWRITEAOF after the basic commands (RESP base), then more commands (INCR)"),
    ("redis-7.0-timestamps", ["--aof-use-rdb-preamble", "no", "--aof-timestamp-enabled", "yes"], timestamps,
     "aof-timestamp-enabled yes; three SETs about a second apart, so the INCR file has #TS annotations"),
]


def keys_of(client):
    return {key.decode("latin-1"): client.type(key).decode() for key in client.keys("*")}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=DEFAULT_OUT)
    parser.add_argument("--server", default="/usr/bin/redis-server")
    parser.add_argument("--port-base", type=int, default=7790)
    options = parser.parse_args()
    os.makedirs(options.out, exist_ok=True)
    port = options.port_base
    for name, server_options, populate, _ in FIXTURES:
        with tempfile.TemporaryDirectory() as work:
            process, client = start(options.server, port, work, server_options)
            populate(client)
            expected = keys_of(client)
            stop(process, client)
            target = os.path.join(options.out, name)
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(os.path.join(work, "appendonlydir"), os.path.join(target, "appendonlydir"))
            with open(os.path.join(target, "expected.json"), "w") as handle:
                json.dump({"keys": dict(sorted(expected.items()))}, handle, indent=1, sort_keys=True)
                handle.write("\n")
        # Verify: the same server loads exactly those keys, refusing a truncated file.
        with tempfile.TemporaryDirectory() as work:
            shutil.copytree(os.path.join(target, "appendonlydir"), os.path.join(work, "appendonlydir"))
            process, client = start(options.server, port + 1, work, server_options + ["--aof-load-truncated", "no"])
            loaded = keys_of(client)
            stop(process, client)
            if loaded != expected:
                sys.exit(f"error: {name}: reloaded {sorted(loaded)} != {sorted(expected)}")
        files = sorted(os.listdir(os.path.join(target, "appendonlydir")))
        print(f"{name}: {len(expected)} keys, files {files}")
        port += 2


if __name__ == "__main__":
    main()
