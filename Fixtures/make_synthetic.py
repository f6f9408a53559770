#!/usr/bin/env python3
"""Generate the hand-built ("synthetic") RDB fixtures in Fixtures/synthetic/.

Usage:
    python3 Fixtures/make_synthetic.py [--out DIR] [--manifest PATH] [--no-manifest]
                                       [--check-rdb PATH] [--verify] [--server PATH]

No server available to the project writes RDB 11 (Redis 7.2), RDB 12 (Redis 7.4) or
Valkey 9 ("VALKEY080") files, and none writes the historical layouts (RDB 2 zipmaps,
EXPIRETIME in seconds, module values, 7.0-rc FUNCTION records, non-minimal 64-bit
lengths).  This script is a small RDB *encoder* (python3 standard library only) that
writes such files byte by byte after /work/shared/docs/FORMAT-SPEC.md section 1, each
with a ground-truth JSON in the schema of Fixtures/rdb/*.json, plus one-defect corrupt
files in DIR/corrupt/ with DIR/corrupt/expected.json.

Everything is deterministic (fixed timestamps, no randomness): rerunning produces
identical bytes.

Checks (both optional, only standard library):
  * redis-check-rdb (default /usr/bin/redis-check-rdb if present) is run on every file
    and its verdict is written to the manifest section;
  * --verify starts a redis-server (default /usr/bin/redis-server, Redis 7.0) on a
    7.0-loadable "twin" of every valid file (same bytes where 7.0 knows the type; types
    7.0 does not know are replaced by an equivalent it knows, e.g. the set listpack is
    loaded as a quicklist node holding the very same listpack bytes), with
    sanitize-dump-payload yes, and compares what the server reports with the ground
    truth.

The manifest section "## Synthetic files (Fixtures/synthetic)" at the end of
Fixtures/MANIFEST.md is replaced (or appended) on every run.
"""

import argparse
import hashlib
import json
import math
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "synthetic")
DEFAULT_MANIFEST = os.path.join(HERE, "MANIFEST.md")
SECTION_TITLE = "## Synthetic files (Fixtures/synthetic)"
PRODUCER = "synthetic (make_synthetic.py)"

# Fixed times (all in the future relative to 2024-2026, so no loader drops anything).
EXP_MS = 4102444800123        # 2100-01-01T00:00:00.123Z
CTIME = 1700000000            # AUX ctime
STREAM_T0 = 1700000000000
EXP_S_LEGACY = 2000000000     # 2033-05-18T03:33:20Z: EXPIRETIME is a signed 32-bit second count

# ---------------------------------------------------------------------------
# Primitives (FORMAT-SPEC 1.3 - 1.6)
# ---------------------------------------------------------------------------


def u8(v):
    return struct.pack("<B", v)


def le16(v):
    return struct.pack("<H", v & 0xFFFF)


def le32(v):
    return struct.pack("<I", v & 0xFFFFFFFF)


def le64(v):
    return struct.pack("<Q", v & 0xFFFFFFFFFFFFFFFF)


def ms64(t):
    """MS64: 8-byte little-endian signed milliseconds."""
    return struct.pack("<q", t)


def enc_len(n, form=None):
    """RDB LEN.  form None = shortest (what Redis writes); '32' / '64' force the
    0x80 / 0x81 forms (valid, non-minimal)."""
    assert n >= 0
    if form == "64":
        return b"\x81" + struct.pack(">Q", n)
    if form == "32":
        return b"\x80" + struct.pack(">I", n)
    if n < 64:
        return u8(n)
    if n < 16384:
        return u8(0x40 | (n >> 8)) + u8(n & 0xFF)
    if n <= 0xFFFFFFFF:
        return b"\x80" + struct.pack(">I", n)
    return b"\x81" + struct.pack(">Q", n)


def canonical_int(b, max_len=20):
    """The integer a string denotes if it is canonical decimal (Redis string2ll /
    lpStringToInt64 rules: optional '-', no leading zeros, no '+', "-0" excluded,
    fits int64), else None."""
    if not isinstance(b, (bytes, bytearray)) or len(b) == 0 or len(b) > max_len:
        return None
    s = b.decode("latin-1")
    if s == "0":
        return 0
    neg = s.startswith("-")
    digits = s[1:] if neg else s
    if not digits or not digits.isdigit() or not digits.isascii() or digits[0] == "0":
        return None
    v = -int(digits) if neg else int(digits)
    if not (-(1 << 63) <= v < (1 << 63)):
        return None
    return v


def enc_int_str(v):
    """RDB INT8 / INT16 / INT32 special string encodings (0xC0 / 0xC1 / 0xC2)."""
    if -128 <= v <= 127:
        return b"\xc0" + struct.pack("<b", v)
    if -32768 <= v <= 32767:
        return b"\xc1" + struct.pack("<h", v)
    if -(1 << 31) <= v < (1 << 31):
        return b"\xc2" + struct.pack("<i", v)
    raise ValueError(v)


def enc_str(b, mode="auto", len_form=None):
    """RDB STR.  'auto' = rdbSaveRawString with rdbcompression no: integer encoding
    when the bytes are canonical decimal of length <= 11 fitting int32, else plain.
    'raw' = always LEN + bytes (len_form may force the 32/64-bit length forms)."""
    if isinstance(b, str):
        b = b.encode()
    if mode == "auto" and len_form is None and len(b) <= 11:
        v = canonical_int(b)
        if v is not None and -(1 << 31) <= v < (1 << 31):
            return enc_int_str(v)
    return enc_len(len(b), len_form) + bytes(b)


def bin_double(d):
    return struct.pack("<d", d)


def str_double_legacy(d):
    """String double of type 3 ZSET as 2.x writes it (1 length byte + text; 253 NaN,
    254 +inf, 255 -inf; integral values within +-2^52 with the integer printer, else
    %.17g)."""
    if math.isnan(d):
        return b"\xfd"
    if math.isinf(d):
        return b"\xfe" if d > 0 else b"\xff"
    if d == int(d) and abs(d) < 2 ** 52:
        text = str(int(d)).encode()
    else:
        text = ("%.17g" % d).encode()
    return u8(len(text)) + text


def score_text(d):
    """Ground-truth score text: what Redis 7.0 replies for ZRANGE ... WITHSCORES."""
    if math.isinf(d):
        return "inf" if d > 0 else "-inf"
    return "%.17g" % d


def hexs(b):
    if isinstance(b, str):
        b = b.encode()
    return bytes(b).hex()


# ---------------------------------------------------------------------------
# CRC64 (FORMAT-SPEC 1.12): Jones polynomial, reflected, init 0, no final xor
# ---------------------------------------------------------------------------

_CRC_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x95AC9329AC4BC9B5 if _c & 1 else _c >> 1
    _CRC_TABLE.append(_c)


def crc64(data, crc=0):
    for b in data:
        crc = _CRC_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


assert crc64(b"123456789") == 0xE9C6D914C4B8D9CA

# ---------------------------------------------------------------------------
# Listpack (FORMAT-SPEC 1.11.4)
# ---------------------------------------------------------------------------


def lp_backlen(n):
    """Backlen of an element whose encoding+data is n bytes (listpack.c thresholds)."""
    if n <= 127:
        return bytes([n])
    if n < 16383:
        return bytes([n >> 7, (n & 127) | 128])
    if n < 2097151:
        return bytes([n >> 14, ((n >> 7) & 127) | 128, (n & 127) | 128])
    if n < 268435455:
        return bytes([n >> 21, ((n >> 14) & 127) | 128, ((n >> 7) & 127) | 128, (n & 127) | 128])
    return bytes([n >> 28, ((n >> 21) & 127) | 128, ((n >> 14) & 127) | 128,
                  ((n >> 7) & 127) | 128, (n & 127) | 128])


def lp_int_body(v):
    if 0 <= v <= 127:
        return bytes([v])
    if -4096 <= v <= 4095:
        u = v & 0x1FFF
        return bytes([0xC0 | (u >> 8), u & 0xFF])
    if -32768 <= v <= 32767:
        return b"\xf1" + struct.pack("<h", v)
    if -(1 << 23) <= v < (1 << 23):
        return b"\xf2" + struct.pack("<i", v)[:3]
    if -(1 << 31) <= v < (1 << 31):
        return b"\xf3" + struct.pack("<i", v)
    return b"\xf4" + struct.pack("<q", v)


def lp_str_body(b):
    n = len(b)
    if n < 64:
        return bytes([0x80 | n]) + b
    if n < 4096:
        return bytes([0xE0 | (n >> 8), n & 0xFF]) + b
    return b"\xf0" + le32(n) + b


def lp_entry(x):
    """One listpack element: int -> integer encoding; bytes -> integer encoding when
    canonical decimal (what lpAppend does), else string."""
    if isinstance(x, str):
        x = x.encode()
    if isinstance(x, int):
        body = lp_int_body(x)
    else:
        v = canonical_int(x)
        body = lp_int_body(v) if v is not None else lp_str_body(bytes(x))
    return body + lp_backlen(len(body))


def listpack(elements, count=None, total_delta=0, raw_entries=None):
    """A listpack blob.  raw_entries (already encoded elements) replaces the encoding of
    'elements' when given; count / total_delta let corrupt variants lie in the header."""
    body = b"".join(raw_entries) if raw_entries is not None else b"".join(lp_entry(e) for e in elements)
    n = len(elements) if count is None else count
    total = 6 + len(body) + 1
    return le32(total + total_delta) + le16(n if n < 65535 else 65535) + body + b"\xff"


# ---------------------------------------------------------------------------
# Ziplist (FORMAT-SPEC 1.11.1)
# ---------------------------------------------------------------------------


def zl_encoding_and_data(x, legacy):
    """Encoding + data of one ziplist element.  legacy=True: pre-RDB-6 writers (2.4),
    which only know int16/int32/int64; else the 2.6+ choice (immediate 0-12, int8,
    int16, int24, int32, int64)."""
    if isinstance(x, str):
        x = x.encode()
    v = canonical_int(x, max_len=31) if isinstance(x, (bytes, bytearray)) else x
    if v is not None:
        if not legacy and 0 <= v <= 12:
            return bytes([0xF1 + v])
        if not legacy and -128 <= v <= 127:
            return b"\xfe" + struct.pack("<b", v)
        if -32768 <= v <= 32767:
            return b"\xc0" + struct.pack("<h", v)
        if not legacy and -(1 << 23) <= v < (1 << 23):
            return b"\xf0" + struct.pack("<i", v)[:3]
        if -(1 << 31) <= v < (1 << 31):
            return b"\xd0" + struct.pack("<i", v)
        return b"\xe0" + struct.pack("<q", v)
    n = len(x)
    if n <= 63:
        return bytes([n]) + x
    if n <= 16383:
        return bytes([0x40 | (n >> 8), n & 0xFF]) + x
    return b"\x80" + struct.pack(">I", n) + x


def zl_prevlen(n):
    return bytes([n]) if n < 254 else b"\xfe" + le32(n)


def ziplist(elements, legacy=False, tail_delta=0, prevlen_override=None):
    """A ziplist blob.  prevlen_override = (index, value) writes a wrong prevlen."""
    entries = []
    prev = 0
    for i, e in enumerate(elements):
        data = zl_encoding_and_data(e, legacy)
        pl = prev
        if prevlen_override is not None and prevlen_override[0] == i:
            pl = prevlen_override[1]
        entry = zl_prevlen(pl) + data
        entries.append(entry)
        prev = len(entry)
    offsets = []
    pos = 10
    for e in entries:
        offsets.append(pos)
        pos += len(e)
    tail = offsets[-1] if offsets else 10
    body = b"".join(entries)
    total = 10 + len(body) + 1
    return le32(total) + le32(tail + tail_delta) + le16(min(len(entries), 65535)) + body + b"\xff"


# ---------------------------------------------------------------------------
# Intset and zipmap (FORMAT-SPEC 1.11.2, 1.11.3)
# ---------------------------------------------------------------------------


def intset(values, width=None, keep_order=False):
    vals = list(values) if keep_order else sorted(values)
    if width is None:
        width = 2
        for v in vals:
            if not (-32768 <= v <= 32767):
                width = 4
            if not (-(1 << 31) <= v < (1 << 31)):
                width = 8
                break
    fmt = {2: "<h", 4: "<i", 8: "<q"}.get(width)
    if fmt is None:  # deliberately invalid width: pad each value to 'width' bytes
        data = b"".join(struct.pack("<q", v)[:width] for v in vals)
    else:
        data = b"".join(struct.pack(fmt, v) for v in vals)
    return le32(width) + le32(len(vals)) + data


def zm_len(n):
    return bytes([n]) if n < 254 else b"\xfe" + le32(n)


def zipmap(pairs, free=None, value_len_override=None):
    """A zipmap blob.  free = {index: n} adds n padding bytes after that value;
    value_len_override = (index, n) writes a wrong value length."""
    free = free or {}
    out = bytes([len(pairs) if len(pairs) < 254 else 254])
    for i, (k, v) in enumerate(pairs):
        k = k.encode() if isinstance(k, str) else k
        v = v.encode() if isinstance(v, str) else v
        vl = len(v)
        if value_len_override is not None and value_len_override[0] == i:
            vl = value_len_override[1]
        f = free.get(i, 0)
        out += zm_len(len(k)) + k + zm_len(vl) + bytes([f]) + v + b"\x00" * f
    return out + b"\xff"


# ---------------------------------------------------------------------------
# Streams (FORMAT-SPEC 1.10.8 and 1.11.5, t_stream.c streamAppendItem)
# ---------------------------------------------------------------------------

FLAG_DELETED = 1
FLAG_SAMEFIELDS = 2


def parse_id(s):
    ms, seq = s.split("-")
    return int(ms), int(seq)


def stream_id_raw(s):
    ms, seq = parse_id(s)
    return struct.pack(">QQ", ms, seq)


def stream_node(master_id, entries, lp_count_delta=None):
    """One stream node listpack.  entries: list of (id, [(field, value), ...], deleted).
    The master entry takes the fields of the first entry (as streamAppendItem does when
    it creates a node); an entry whose field names equal the master fields is written
    with SAMEFIELDS.  lp_count_delta = (entry index, delta) corrupts one lp-count."""
    mms, mseq = parse_id(master_id)
    master_fields = [f for f, _ in entries[0][1]]
    live = sum(1 for e in entries if not e[2])
    deleted = len(entries) - live
    elems = [live, deleted, len(master_fields)] + master_fields + [0]
    for i, (eid, fields, is_deleted) in enumerate(entries):
        ms, seq = parse_id(eid)
        same = [f for f, _ in fields] == master_fields
        flags = (FLAG_SAMEFIELDS if same else 0) | (FLAG_DELETED if is_deleted else 0)
        elems += [flags, ms - mms, seq - mseq]
        if same:
            elems += [v for _, v in fields]
            lp_count = len(fields) + 3
        else:
            elems.append(len(fields))
            for f, v in fields:
                elems += [f, v]
            lp_count = 2 * len(fields) + 4
        if lp_count_delta is not None and lp_count_delta[0] == i:
            lp_count += lp_count_delta[1]
        elems.append(lp_count)
    return listpack([e.encode() if isinstance(e, str) else e for e in elems])


def stream_value(spec, version_type, node_key_override=None, node_lp_override=None):
    """Serialise a stream spec (dict, see rdb11 builder) as type 15/19/21."""
    out = enc_len(len(spec["nodes"]))
    for i, (master, entries) in enumerate(spec["nodes"]):
        key = stream_id_raw(master)
        if node_key_override is not None and node_key_override[0] == i:
            key = node_key_override[1]
        lp = stream_node(master, entries)
        if node_lp_override is not None and node_lp_override[0] == i:
            lp = node_lp_override[1]
        out += enc_str(key) + enc_str(lp)
    live = [(eid, f) for _, ents in spec["nodes"] for eid, f, d in ents if not d]
    out += enc_len(len(live))
    ms, seq = parse_id(spec["last_id"])
    out += enc_len(ms) + enc_len(seq)
    if version_type >= 19:
        for k in ("first_id", "max_deleted_id"):
            ms, seq = parse_id(spec[k])
            out += enc_len(ms) + enc_len(seq)
        out += enc_len(spec["entries_added"])
    out += enc_len(len(spec["groups"]))
    for g in sorted(spec["groups"], key=lambda g: g["name"]):
        out += enc_str(g["name"])
        ms, seq = parse_id(g["last_id"])
        out += enc_len(ms) + enc_len(seq)
        if version_type >= 19:
            out += enc_len(g["entries_read"])
        pel = sorted(g["pending"], key=lambda p: parse_id(p["id"]))
        out += enc_len(len(pel))
        for p in pel:
            out += stream_id_raw(p["id"]) + ms64(p["delivery_time_ms"]) + enc_len(p["delivery_count"])
        consumers = sorted(g["consumers"], key=lambda c: c["name"])
        out += enc_len(len(consumers))
        for c in consumers:
            out += enc_str(c["name"]) + ms64(c["seen_time_ms"])
            if version_type >= 21:
                out += ms64(c["active_time_ms"])
            ids = c.get("pel_override")
            if ids is None:
                ids = sorted((p["id"] for p in pel if p["consumer"] == c["name"]), key=parse_id)
            out += enc_len(len(ids))
            for pid in ids:
                out += stream_id_raw(pid)
    return out


def stream_truth(spec, with_active_time):
    entries = []
    for _, ents in spec["nodes"]:
        for eid, fields, d in ents:
            if not d:
                entries.append({"id": eid, "fields": [[hexs(f), hexs(v)] for f, v in fields]})
    groups = []
    for g in sorted(spec["groups"], key=lambda g: hexs(g["name"])):
        pel = sorted(g["pending"], key=lambda p: parse_id(p["id"]))
        consumers = []
        for c in sorted(g["consumers"], key=lambda c: hexs(c["name"])):
            item = {"name": hexs(c["name"]), "seen_time_ms": c["seen_time_ms"]}
            if with_active_time:
                item["active_time_ms"] = c["active_time_ms"]
            item["pending"] = [p["id"] for p in pel if p["consumer"] == c["name"]]
            consumers.append(item)
        groups.append({
            "name": hexs(g["name"]), "last_id": g["last_id"], "entries_read": g["entries_read"],
            "pending": [{"id": p["id"], "consumer": hexs(p["consumer"]),
                         "delivery_time_ms": p["delivery_time_ms"],
                         "delivery_count": p["delivery_count"]} for p in pel],
            "consumers": consumers,
        })
    return {"length": len(entries), "last_id": spec["last_id"], "entries": entries,
            "max_deleted_id": spec["max_deleted_id"], "entries_added": spec["entries_added"],
            "first_id": spec["first_id"], "groups": groups}


# ---------------------------------------------------------------------------
# Modules (FORMAT-SPEC 1.10.7)
# ---------------------------------------------------------------------------

MODULE_CHARSET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def module_id(name, encver):
    assert len(name) == 9 and 0 <= encver <= 1023
    v = 0
    for ch in name:
        v = (v << 6) | MODULE_CHARSET.index(ch)
    return (v << 10) | encver


def module_data(items):
    """Typed module opcode stream + EOF.  items: (kind, python value)."""
    out = b""
    for kind, val in items:
        if kind == "sint":
            out += enc_len(1) + enc_len(val & 0xFFFFFFFFFFFFFFFF)
        elif kind == "uint":
            out += enc_len(2) + enc_len(val)
        elif kind == "float":
            out += enc_len(3) + struct.pack("<f", val)
        elif kind == "double":
            out += enc_len(4) + struct.pack("<d", val)
        elif kind == "string":
            out += enc_len(5) + enc_str(val)
        elif kind == "opcode":  # raw opcode number (corrupt variants)
            out += enc_len(val)
        else:
            raise ValueError(kind)
    return out + enc_len(0)


def module_truth_data(items):
    out = []
    for kind, val in items:
        if kind == "sint":
            out.append(["sint", str(val & 0xFFFFFFFFFFFFFFFF)])
        elif kind == "uint":
            out.append(["uint", str(val)])
        elif kind == "float":
            out.append(["float", "%08x" % struct.unpack("<I", struct.pack("<f", val))[0]])
        elif kind == "double":
            out.append(["double", "%016x" % struct.unpack("<Q", struct.pack("<d", val))[0]])
        elif kind == "string":
            out.append(["string", hexs(val)])
    return out


# ---------------------------------------------------------------------------
# Cluster slot (CRC16-XMODEM of the key or its {hash tag}, mod 16384)
# ---------------------------------------------------------------------------


def crc16_xmodem(data):
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def key_slot(key):
    s = key.find(b"{")
    if s != -1:
        e = key.find(b"}", s + 1)
        if e != -1 and e != s + 1:
            key = key[s + 1:e]
    return crc16_xmodem(key) & 16383


# ---------------------------------------------------------------------------
# File builder with item offsets
# ---------------------------------------------------------------------------

OP_SLOT_INFO = 0xF4
OP_FUNCTION2 = 0xF5
OP_FUNCTION_PRE_GA = 0xF6
OP_MODULE_AUX = 0xF7
OP_IDLE = 0xF8
OP_FREQ = 0xF9
OP_AUX = 0xFA
OP_RESIZEDB = 0xFB
OP_EXPIRETIME_MS = 0xFC
OP_EXPIRETIME = 0xFD
OP_SELECTDB = 0xFE
OP_EOF = 0xFF

TYPE_NAMES = {
    0: "string", 1: "list", 2: "set", 3: "zset", 4: "hash", 5: "zset-2", 6: "module-pre-ga",
    7: "module-2", 9: "hash-zipmap", 10: "list-ziplist", 11: "set-intset", 12: "zset-ziplist",
    13: "hash-ziplist", 14: "list-quicklist", 15: "stream-listpacks", 16: "hash-listpack",
    17: "zset-listpack", 18: "list-quicklist-2", 19: "stream-listpacks-2", 20: "set-listpack",
    21: "stream-listpacks-3", 22: "hash-2", 24: "hash-metadata", 25: "hash-listpack-ex",
}


def prefix_expire_ms(t):
    return ("expire_ms", u8(OP_EXPIRETIME_MS) + ms64(t), t)


def prefix_expire_s(t):
    return ("expire_s", u8(OP_EXPIRETIME) + struct.pack("<i", t), t * 1000)


def prefix_idle(n):
    return ("idle", u8(OP_IDLE) + enc_len(n), n)


def prefix_freq(n):
    return ("freq", u8(OP_FREQ) + u8(n), n)


class RDBFile:
    def __init__(self, magic, checksum=True):
        self.magic = magic.encode() if isinstance(magic, str) else magic
        self.checksum = checksum
        self.items = []  # (kind, bytes, key-or-None)
        self.truth_keys = []
        self.functions = []
        self.server_functions = []  # library code as Redis 7.0.x holds it after loading
        self.module_aux = []
        self.db = 0
        self.type_counts = {}
        self.opcode_counts = {}

    def _count_op(self, name):
        self.opcode_counts[name] = self.opcode_counts.get(name, 0) + 1

    def add(self, kind, data, key=None):
        self.items.append((kind, bytes(data), key))
        return len(self.items) - 1

    def aux(self, name, value):
        self._count_op("AUX")
        return self.add("aux", u8(OP_AUX) + enc_str(name) + enc_str(value))

    def select(self, db, form=None):
        self.db = db
        self._count_op("SELECTDB")
        return self.add("selectdb", u8(OP_SELECTDB) + enc_len(db, form))

    def resize(self, keys, expires):
        self._count_op("RESIZEDB")
        return self.add("resizedb", u8(OP_RESIZEDB) + enc_len(keys) + enc_len(expires))

    def slot_info(self, slot, keys, expires):
        self._count_op("SLOT_INFO")
        return self.add("slot_info", u8(OP_SLOT_INFO) + enc_len(slot) + enc_len(keys) + enc_len(expires))

    def function2(self, code):
        self._count_op("FUNCTION2")
        self.functions.append(code)
        self.server_functions.append(code)
        return self.add("function2", u8(OP_FUNCTION2) + enc_str(code))

    def function_pre_ga(self, name, engine, desc, code):
        self._count_op("FUNCTION_PRE_GA")
        self.functions.append(code)
        # Redis 7.0 GA (rdbFunctionLoad) translates the 7.0-rc record into the FUNCTION2 form; 7.2+ refuse it.
        self.server_functions.append("#!%s name=%s\n%s" % (engine, name, code))
        data = u8(OP_FUNCTION_PRE_GA) + enc_str(name) + enc_str(engine)
        if desc is None:
            data += enc_len(0)
        else:
            data += enc_len(1) + enc_str(desc)
        return self.add("function_pre_ga", data + enc_str(code))

    def module_aux_record(self, name, encver, when, items, when_opcode=2):
        self._count_op("MODULE_AUX")
        self.module_aux.append({"module_name": name, "encoding_version": encver, "when": when,
                                "data": module_truth_data(items)})
        data = u8(OP_MODULE_AUX) + enc_len(module_id(name, encver)) + enc_len(when_opcode) + \
            enc_len(when) + module_data(items)
        return self.add("module_aux", data)

    def key(self, type_byte, key, payload, truth_type, value, prefixes=(), encoding=None,
            truth=True, key_bytes=None):
        """One key: prefixes (expire/idle/freq opcodes, in the given order), type byte,
        key STR, value payload."""
        kb = key.encode() if isinstance(key, str) else key
        data = b""
        truth_item = {"db": self.db, "key": hexs(kb), "type": truth_type,
                      "encoding": encoding or TYPE_NAMES.get(type_byte, str(type_byte)),
                      "expire_at_ms": None, "lru_idle": None, "lfu_freq": None, "value": value}
        for kind, raw, v in prefixes:
            data += raw
            if kind in ("expire_ms", "expire_s"):
                truth_item["expire_at_ms"] = v
                self._count_op("EXPIRETIME_MS" if kind == "expire_ms" else "EXPIRETIME")
            elif kind == "idle":
                truth_item["lru_idle"] = v
                self._count_op("IDLE")
            elif kind == "freq":
                truth_item["lfu_freq"] = v
                self._count_op("FREQ")
        data += u8(type_byte) + (key_bytes if key_bytes is not None else enc_str(kb)) + payload
        tn = "%d %s" % (type_byte, TYPE_NAMES.get(type_byte, "?").upper().replace("-", "_"))
        self.type_counts[tn] = self.type_counts.get(tn, 0) + 1
        if truth:
            self.truth_keys.append(truth_item)
        return self.add("key", data, kb)

    def raw(self, kind, data, key=None):
        return self.add(kind, data, key)

    def build(self, eof=True, crc_override=None):
        """Returns (bytes, offsets) where offsets[i] = (first, last) byte of item i;
        offsets["header"], offsets["trailer"] are the magic and the EOF+CRC ranges."""
        out = bytearray(self.magic)
        offs = {"header": (0, len(self.magic) - 1)}
        for i, (_, data, _) in enumerate(self.items):
            offs[i] = (len(out), len(out) + len(data) - 1)
            out += data
        if eof:
            eof_pos = len(out)
            out += u8(OP_EOF)
            self._count_op("EOF")
            if self.checksum:
                crc = crc64(bytes(out)) if crc_override is None else crc_override
                out += le64(crc)
            offs["trailer"] = (eof_pos, len(out) - 1)
        return bytes(out), offs

    def truth(self, rdb_version):
        keys = sorted(self.truth_keys, key=lambda k: (k["db"], bytes.fromhex(k["key"])))
        t = {"producer": PRODUCER, "rdb_version": rdb_version, "functions": list(self.functions),
             "keys": keys}
        if self.module_aux:
            t["module_aux"] = self.module_aux
        return t


def standard_aux(f, ver_name, ver, with_aof_base=True):
    f.aux(ver_name, ver)
    f.aux("redis-bits", "64")
    f.aux("ctime", str(CTIME))
    f.aux("used-mem", "1048576")
    if with_aof_base:
        f.aux("aof-base", "0")


# ---------------------------------------------------------------------------
# Value helpers (payload + truth in one place)
# ---------------------------------------------------------------------------


def set_truth(members):
    return sorted(hexs(m) for m in members)


def hash_truth(pairs):
    return sorted([[hexs(f), hexs(v)] for f, v in pairs], key=lambda p: p[0])


def hash_fe_truth(triples):
    return sorted([[hexs(f), hexs(v), e] for f, v, e in triples], key=lambda p: p[0])


def zset_truth(pairs):
    items = sorted(((s, m.encode() if isinstance(m, str) else m) for m, s in pairs),
                   key=lambda x: (x[0], x[1]))
    return [[hexs(m), score_text(s)] for s, m in items]


def zset_listpack_elems(pairs):
    """Sorted (score, member) pairs flattened for a ziplist/listpack zset: integral
    scores become integers (the blob stores the shortest form), others %.17g text."""
    items = sorted(((s, m.encode() if isinstance(m, str) else m) for m, s in pairs),
                   key=lambda x: (x[0], x[1]))
    out = []
    for s, m in items:
        out.append(m)
        if not math.isinf(s) and s == int(s) and abs(s) < 2 ** 53:
            out.append(str(int(s)).encode())
        else:
            out.append(score_text(s).encode())
    return out


# ---------------------------------------------------------------------------
# Valid files
# ---------------------------------------------------------------------------

STREAM_V3 = {
    "nodes": [
        ("1700000000000-0", [
            ("1700000000000-0", [("temp", "20"), ("hum", "40.5")], False),
            ("1700000000001-0", [("temp", "21"), ("hum", "41")], True),          # XDEL'd
            ("1700000000001-1", [("temp", "22"), ("note", "hi"), ("extra", "x")], False),
        ]),
        ("1700000000005-0", [
            ("1700000000005-0", [("sensor", "s1")], False),
            ("1700000000007-3", [("sensor", "s2"), ("level", "-12")], False),
        ]),
    ],
    "last_id": "1700000000007-3",
    "first_id": "1700000000000-0",
    "max_deleted_id": "1700000000001-0",
    "entries_added": 5,
    "groups": [{
        "name": "grp", "last_id": "1700000000005-0", "entries_read": 4,
        "pending": [
            {"id": "1700000000000-0", "consumer": "alice", "delivery_time_ms": 1700000099000, "delivery_count": 1},
            {"id": "1700000000001-1", "consumer": "alice", "delivery_time_ms": 1700000100000, "delivery_count": 2},
            {"id": "1700000000005-0", "consumer": "bob", "delivery_time_ms": 1700000101000, "delivery_count": 1},
        ],
        "consumers": [
            {"name": "alice", "seen_time_ms": 1700000200000, "active_time_ms": 1700000150000},
            {"name": "bob", "seen_time_ms": 1700000201000, "active_time_ms": 1700000160000},
        ],
    }],
}

SET_LP_MEMBERS = ["apple", "banana", "42", "-7", "4095", "-4096", "30000", "100000", "2000000000",
                  "9223372036854775807", "-9223372036854775808", "007", "12.5", "-0", ""]


def build_rdb11(twin=False):
    """rdb11-types.rdb; twin = RDB 10 file loadable by Redis 7.0 with the same data
    (the set listpack as a quicklist node holding the same listpack, the stream as
    type 19)."""
    f = RDBFile("REDIS0010" if twin else "REDIS0011")
    standard_aux(f, "redis-ver", "7.0.15" if twin else "7.2.4")
    f.select(0)
    f.resize(4, 1)
    lp = listpack([m.encode() for m in SET_LP_MEMBERS])
    if twin:
        f.key(18, "set:lp", enc_len(1) + enc_len(2) + enc_str(lp), "list",
              [hexs(m) for m in SET_LP_MEMBERS])
    else:
        f.key(20, "set:lp", enc_str(lp), "set", set_truth(SET_LP_MEMBERS))
    st = 19 if twin else 21
    f.key(st, "stream:v3", stream_value(STREAM_V3, st), "stream", stream_truth(STREAM_V3, not twin))
    f.key(0, "str:exp", enc_str("expiring value"), "string", hexs("expiring value"),
          prefixes=[prefix_expire_ms(EXP_MS)], encoding="string-raw")
    f.key(0, "str:int", enc_str("-123456"), "string", hexs("-123456"), encoding="string-int32")
    return f


HFE_DICT = [("f1", "v1", EXP_MS), ("f2", "no ttl", None), ("f3", "v3", EXP_MS + 877),
            ("big", "B" * 80, EXP_MS + 100000), ("7", "int-encoded field name", None)]
HFE_LP = [("a", "1", EXP_MS + 2000), ("b", "two", None), ("c", "300", EXP_MS + 377),
          ("d", "-5", None)]


def hash_metadata_payload(triples):
    exps = [e for _, _, e in triples if e is not None]
    min_exp = min(exps)
    out = ms64(min_exp) + enc_len(len(triples))
    for fld, val, e in triples:
        ttl = 0 if e is None else e - min_exp + 1
        out += enc_len(ttl) + enc_str(fld) + enc_str(val)
    return out


def hash_lp_ex_elems(triples):
    """Listpack order of a 7.4 listpackEx: fields with a TTL ascending by expiry, then
    the fields without TTL (expire 0) in insertion order."""
    with_ttl = sorted([t for t in triples if t[2] is not None], key=lambda t: t[2])
    without = [t for t in triples if t[2] is None]
    elems = []
    for fld, val, e in with_ttl + without:
        elems += [fld.encode(), val.encode(), e or 0]
    return elems


def build_rdb12(twin=False):
    f = RDBFile("REDIS0010" if twin else "REDIS0012")
    standard_aux(f, "redis-ver", "7.0.15" if twin else "7.4.0")
    f.select(0)
    f.resize(3, 1)
    exps = [e for _, _, e in HFE_LP if e is not None]
    lp = listpack(hash_lp_ex_elems(HFE_LP))

    def k_dict():
        if twin:
            pairs = [(a, b) for a, b, _ in HFE_DICT]
            payload = enc_len(len(pairs)) + b"".join(enc_str(a) + enc_str(b) for a, b in pairs)
            f.key(4, "hfe:dict", payload, "hash", hash_truth(pairs))
        else:
            f.key(24, "hfe:dict", hash_metadata_payload(HFE_DICT), "hash", hash_fe_truth(HFE_DICT))

    def k_lp():
        if twin:
            elems = hash_lp_ex_elems(HFE_LP)
            f.key(18, "hfe:lp", enc_len(1) + enc_len(2) + enc_str(lp), "list",
                  [hexs(e if isinstance(e, bytes) else str(e)) for e in elems])
        else:
            f.key(25, "hfe:lp", ms64(min(exps)) + enc_str(lp), "hash", hash_fe_truth(HFE_LP))

    def k_str():
        f.key(0, "plain", enc_str("plain string"), "string", hexs("plain string"),
              prefixes=[prefix_expire_ms(EXP_MS + 1)], encoding="string-raw")

    keys = [(b"hfe:dict", k_dict, 0), (b"hfe:lp", k_lp, 0), (b"plain", k_str, 1)]
    keys.sort(key=lambda k: (key_slot(k[0]), k[0]))
    last_slot = None
    for name, fn, has_exp in keys:
        slot = key_slot(name)
        if not twin and slot != last_slot:
            in_slot = [k for k in keys if key_slot(k[0]) == slot]
            f.slot_info(slot, len(in_slot), sum(k[2] for k in in_slot))
            last_slot = slot
        fn()
    return f


HASH2 = [("f1", "v1", EXP_MS), ("f2", "persistent", None), ("f3", "v3", EXP_MS + 99877),
         ("100", "int-encoded field", None)]
HASH_LP_PAIRS = [("name", "valkey"), ("version", "9"), ("n", "-300")]


def build_valkey9(twin=False):
    f = RDBFile("REDIS0010" if twin else "VALKEY080")
    if twin:
        standard_aux(f, "redis-ver", "7.0.15")
    else:
        standard_aux(f, "valkey-ver", "9.0.0")
    f.select(0)
    f.resize(3, 0)
    if twin:
        pairs = [(a, b) for a, b, _ in HASH2]
        payload = enc_len(len(pairs)) + b"".join(enc_str(a) + enc_str(b) for a, b in pairs)
        f.key(4, "h2", payload, "hash", hash_truth(pairs))
    else:
        payload = enc_len(len(HASH2))
        for fld, val, e in HASH2:
            payload += enc_str(fld) + enc_str(val) + ms64(-1 if e is None else e)
        f.key(22, "h2", payload, "hash", hash_fe_truth(HASH2), encoding="hash-2")
    f.key(0, "str", enc_str("hello valkey"), "string", hexs("hello valkey"), encoding="string-raw")
    lp = listpack([x.encode() for p in HASH_LP_PAIRS for x in p])
    f.key(16, "hlp", enc_str(lp), "hash", hash_truth(HASH_LP_PAIRS))
    return f


ZL_LIST = ["a", "1000", "-70000", "5000000000", "hello world", "7", "-1", "007", "x" * 70]
ZIPMAP_PAIRS = [("f1", "v1"), ("name", "redis"), ("n", "12"), ("empty", "")]
ZL_ZSET = [("a", 1.0), ("b", 2.5), ("c", 10.0), ("d", -3.0), ("e", 123456789.0)]
ZSET_LEGACY = [("neg", float("-inf")), ("x", 1.5), ("y", 3.0), ("pos", float("inf")),
               ("big", 5000000000.0), ("tenth", 0.1)]


def build_rdb2():
    f = RDBFile("REDIS0002", checksum=False)
    f.select(0)
    f.key(0, "s:raw", enc_str("hello"), "string", hexs("hello"), encoding="string-raw")
    f.key(0, "s:i8", enc_str("-100"), "string", hexs("-100"), encoding="string-int8")
    f.key(0, "s:i16", enc_str("1234"), "string", hexs("1234"), encoding="string-int16")
    f.key(0, "s:i32", enc_str("-2000000000"), "string", hexs("-2000000000"), encoding="string-int32")
    f.key(0, "s:big", enc_str("12345678901"), "string", hexs("12345678901"), encoding="string-raw")
    f.key(0, "s:exp", enc_str("bye"), "string", hexs("bye"), prefixes=[prefix_expire_s(EXP_S_LEGACY)],
          encoding="string-raw")
    zm = zipmap(ZIPMAP_PAIRS, free={1: 3})
    f.key(9, "zm", enc_str(zm, "raw"), "hash", hash_truth(ZIPMAP_PAIRS),
          prefixes=[prefix_expire_s(EXP_S_LEGACY + 1)])
    zl = ziplist([x.encode() for x in ZL_LIST], legacy=True)
    f.key(10, "zl:list", enc_str(zl, "raw"), "list", [hexs(x) for x in ZL_LIST])
    is16 = [-5, 1, 2, 300, 32767, -32768]
    f.key(11, "is:16", enc_str(intset(is16), "raw"), "set", set_truth([str(v) for v in is16]))
    is64 = [-(1 << 40), 0, 5000000000]
    f.key(11, "is:64", enc_str(intset(is64), "raw"), "set", set_truth([str(v) for v in is64]))
    zz = ziplist(zset_listpack_elems(ZL_ZSET), legacy=True)
    f.key(12, "zl:zset", enc_str(zz, "raw"), "zset", zset_truth(ZL_ZSET))
    payload = enc_len(len(ZSET_LEGACY))
    for m, s in ZSET_LEGACY:
        payload += enc_str(m) + str_double_legacy(s)
    f.key(3, "zset", payload, "zset", zset_truth(ZSET_LEGACY))
    lst = ["x", "y", "12"]
    f.key(1, "list", enc_len(3) + b"".join(enc_str(x) for x in lst), "list", [hexs(x) for x in lst])
    st = ["m1", "m2", "3"]
    f.key(2, "set", enc_len(3) + b"".join(enc_str(x) for x in st), "set", set_truth(st))
    hp = [("k", "v"), ("num", "42")]
    f.key(4, "hash", enc_len(2) + b"".join(enc_str(a) + enc_str(b) for a, b in hp), "hash", hash_truth(hp))
    return f


MODULE_NAME = "mymodtype"
MODULE_ITEMS = [("sint", -5), ("uint", 42), ("float", 1.5), ("double", 2.25), ("string", "payload")]
MODULE_AUX_ITEMS = [("uint", 7), ("string", "aux-data")]


def build_rdb9_module():
    f = RDBFile("REDIS0009")
    standard_aux(f, "redis-ver", "6.2.14", with_aof_base=False)
    f.aux("aof-preamble", "0")
    f.select(0)
    f.resize(5, 3)
    mid = module_id(MODULE_NAME, 3)
    truth = {"module_name": MODULE_NAME, "encoding_version": 3, "data": module_truth_data(MODULE_ITEMS)}
    f.key(7, "mod:key", enc_len(mid) + module_data(MODULE_ITEMS), "module", truth,
          prefixes=[prefix_freq(3)])
    f.key(0, "lru:key", enc_str("idle then expire"), "string", hexs("idle then expire"),
          prefixes=[prefix_idle(3600), prefix_expire_ms(EXP_MS)], encoding="string-raw")
    f.key(0, "lfu:key", enc_str("expire then freq"), "string", hexs("expire then freq"),
          prefixes=[prefix_expire_ms(EXP_MS + 1000), prefix_freq(7)], encoding="string-raw")
    f.key(0, "both", enc_str("freq idle expire"), "string", hexs("freq idle expire"),
          prefixes=[prefix_freq(200), prefix_idle(10), prefix_expire_ms(EXP_MS + 2000)], encoding="string-raw")
    f.key(0, "plain", enc_str("no prefix"), "string", hexs("no prefix"), encoding="string-raw")
    f.module_aux_record(MODULE_NAME, 3, 2, MODULE_AUX_ITEMS)
    return f


FUNC_PRE_GA_CODE = "redis.register_function('oldfunc', function(keys, args) return 'pre-ga' end)"
FUNC2_CODE = "#!lua name=galib\nredis.register_function('gafunc', function(keys, args) return 'ga' end)"


def build_rdb10_function():
    f = RDBFile("REDIS0010")
    standard_aux(f, "redis-ver", "7.0.0")
    f.function_pre_ga("oldlib", "LUA", "a library saved by 7.0-rc1/rc2", FUNC_PRE_GA_CODE)
    f.function2(FUNC2_CODE)
    f.select(0)
    f.resize(1, 0)
    f.key(0, "k", enc_str("v"), "string", hexs("v"), encoding="string-raw")
    return f


ZSET2 = [("big", 1e300), ("half", 1.5), ("zero", 0.0), ("neg", -2.5), ("ninf", float("-inf")),
         ("pinf", float("inf")), ("tiny", 2.5e-10)]


def build_rdb8():
    f = RDBFile("REDIS0008")
    standard_aux(f, "redis-ver", "4.0.14", with_aof_base=False)
    f.aux("aof-preamble", "0")
    f.select(0)
    f.resize(4, 0)
    st = ["a", "b", "c"]
    f.key(2, "set64", enc_len(3, "64") + b"".join(enc_str(x) for x in st), "set", set_truth(st))
    s = "sixty-four bit length"
    f.key(0, "str64", enc_str(s, "raw", "64"), "string", hexs(s), encoding="string-len64")
    s32 = "thirty-two bit length"
    f.key(0, "str32", enc_str(s32, "raw", "32"), "string", hexs(s32), encoding="string-len32")
    payload = enc_len(len(ZSET2))
    for m, sc in sorted(ZSET2, key=lambda p: (p[1], p[0]), reverse=True):
        payload += enc_str(m) + bin_double(sc)
    f.key(5, "zset2", payload, "zset", zset_truth(ZSET2))
    f.select(2)
    f.resize(0, 0)
    f.select(3, "64")
    f.resize(1, 0)
    f.key(0, "db3:key", enc_str("in db 3"), "string", hexs("in db 3"), encoding="string-raw")
    return f


VALID = [
    ("rdb11-types.rdb", 11, build_rdb11,
     "RDB 11 (REDIS0011, redis-ver 7.2.4): type 20 SET_LISTPACK (strings, 7-bit/13-bit/16/24/32/64-bit "
     "listpack integers, non-canonical numbers kept as strings), type 21 STREAM_LISTPACKS_3 (2 nodes, "
     "SAMEFIELDS and full-field entries, one XDEL'd entry, group with entries_read, 2 consumers with "
     "seen/active time, 3-entry PEL), string with EXPIRETIME_MS, INT32 string."),
    ("rdb12-hash-field-expiry.rdb", 12, build_rdb12,
     "RDB 12 (REDIS0012, redis-ver 7.4.0): SLOT_INFO (244) before every key (real CRC16 slots), type 24 "
     "HASH_METADATA (minExpire + relative TTLs, fields without TTL, int-encoded field name, 80-byte "
     "value), type 25 HASH_LISTPACK_EX (triples ordered by expiry, 0 = no TTL), string with expire."),
    ("valkey9-hash2.rdb", 80, build_valkey9,
     "Valkey 9 (VALKEY080, valkey-ver 9.0.0): type 22 HASH_2 (field, value, MS64 expiry, -1 = none), "
     "plain string, type 16 HASH_LISTPACK."),
    ("rdb2-legacy.rdb", 2, build_rdb2,
     "RDB 2 (REDIS0002, no AUX, no CRC trailer): EXPIRETIME (253, seconds) on a string and a zipmap, type 0 "
     "raw/INT8/INT16/INT32/12345678901-as-text, type 9 zipmap with free padding, type 10 ziplist with "
     "pre-RDB-6 int16/int32/int64 entries and a 70-byte string, type 11 intsets (16 and 64-bit), type 12 "
     "ziplist zset, type 3 zset with string-double scores incl. 254 (+inf) / 255 (-inf), types 1, 2, 4."),
    ("rdb9-module.rdb", 9, build_rdb9_module,
     "RDB 9 (REDIS0009): type 7 MODULE_2 value of module type 'mymodtype' encver 3 (SINT -5, UINT, FLOAT, "
     "DOUBLE, STRING, EOF), MODULE_AUX (247, when=2, after the keyspace), IDLE/FREQ/EXPIRETIME_MS prefixes in "
     "several orders (IDLE+expire, expire+FREQ, FREQ+IDLE+expire)."),
    ("rdb10-function-pre-ga.rdb", 10, build_rdb10_function,
     "RDB 10 (REDIS0010): FUNCTION_PRE_GA (246: name `oldlib`, engine `LUA`, has-desc 1, desc, code) and "
     "FUNCTION2 (245), one string key. Ground-truth `functions` holds the two code strings as stored; Redis "
     "7.0.x GA loads the 246 record as the library `#!LUA name=oldlib\\n` + code (7.2+ refuse the file)."),
    ("rdb8-64bit-len.rdb", 8, build_rdb8,
     "RDB 8 (REDIS0008): 0x81 64-bit LEN for a set count, a string length and a SELECTDB number, 0x80 32-bit "
     "LEN for a short string, type 5 ZSET_2 binary doubles (1e300, 1.5, 0, -2.5, 2.5e-10, +inf, -inf), an "
     "empty db 2 (SELECTDB + RESIZEDB 0 0, no keys) and db 3 with one key."),
]

LOADED_AS_IS = {"rdb2-legacy.rdb", "rdb8-64bit-len.rdb", "rdb10-function-pre-ga.rdb"}

TWINS = {
    "rdb11-types.rdb": lambda: build_rdb11(twin=True),
    "rdb12-hash-field-expiry.rdb": lambda: build_rdb12(twin=True),
    "valkey9-hash2.rdb": lambda: build_valkey9(twin=True),
    "rdb2-legacy.rdb": build_rdb2,
    "rdb10-function-pre-ga.rdb": build_rdb10_function,
    "rdb8-64bit-len.rdb": build_rdb8,
}

# ---------------------------------------------------------------------------
# Corrupt files: one defect each, in an otherwise valid small RDB 10/11 file
# ---------------------------------------------------------------------------


def corrupt_base(version=10):
    f = RDBFile("REDIS%04d" % version)
    f.aux("redis-ver", "7.0.15" if version == 10 else "7.2.4")
    f.aux("redis-bits", "64")
    f.select(0)
    f.resize(2, 0)
    f.key(0, "ok", enc_str("fine"), "string", hexs("fine"))
    return f


def lp_hash_entries(pairs):
    return [lp_entry(x.encode()) for p in pairs for x in p]


PAIRS = [("f1", "v1"), ("f2", "v2")]


def c_listpack_backlen():
    f = corrupt_base()
    ents = lp_hash_entries(PAIRS)
    e = bytearray(ents[1])
    e[-1] = 0x05  # element "v1" is 3 bytes of encoding+data, backlen says 5
    ents[1] = bytes(e)
    lp = listpack([b""] * 4, raw_entries=ents)
    i = f.key(16, "h", enc_str(lp), "hash", None)
    return f, i, "corrupt", "h", "listpack element backlen (5) differs from the element size (3)"


def c_listpack_count():
    f = corrupt_base()
    lp = listpack([x.encode() for p in PAIRS for x in p], count=6)
    i = f.key(16, "h", enc_str(lp), "hash", None)
    return f, i, "corrupt", "h", "listpack header says 6 elements, 4 follow"


def c_listpack_total():
    f = corrupt_base()
    lp = listpack([x.encode() for p in PAIRS for x in p], total_delta=1)
    i = f.key(16, "h", enc_str(lp), "hash", None)
    return f, i, "corrupt", "h", "listpack total-bytes header is 1 more than the blob size"


def c_listpack_f5():
    f = corrupt_base()
    ents = lp_hash_entries(PAIRS)
    ents[3] = b"\xf5\x01"  # 0xF5 is not a valid element encoding
    lp = listpack([b""] * 4, raw_entries=ents)
    i = f.key(16, "h", enc_str(lp), "hash", None)
    return f, i, "corrupt", "h", "listpack element with encoding byte 0xF5"


def c_ziplist_prevlen():
    f = corrupt_base()
    zl = ziplist([b"aa", b"bb", b"cc"], prevlen_override=(2, 9))
    i = f.key(10, "zl", enc_str(zl, "raw"), "list", None)
    return f, i, "corrupt", "zl", "ziplist entry 2 prevlen 9, previous entry is 4 bytes (type 10)"


def c_ziplist_tail():
    f = corrupt_base()
    zl = ziplist([b"aa", b"bb", b"cc"], tail_delta=-1)
    i = f.key(10, "zl", enc_str(zl, "raw"), "list", None)
    return f, i, "corrupt", "zl", "ziplist zltail points 1 byte before the last entry (type 10)"


def c_intset_order():
    f = corrupt_base()
    blob = intset([5, 3, 9], keep_order=True)
    i = f.key(11, "is", enc_str(blob, "raw"), "set", None)
    return f, i, "corrupt", "is", "intset members 5, 3, 9 not strictly ascending"


def c_intset_width():
    f = corrupt_base()
    blob = intset([1, 2], width=3)
    i = f.key(11, "is", enc_str(blob, "raw"), "set", None)
    return f, i, "corrupt", "is", "intset encoding (element width) 3"


def c_zipmap_overrun():
    f = corrupt_base()
    zm = zipmap([("f1", "v1"), ("f2", "v2")], value_len_override=(1, 40))
    i = f.key(9, "zm", enc_str(zm, "raw"), "hash", None)
    return f, i, "corrupt", "zm", "zipmap value length 40 runs past the end of the 16-byte blob"


def c_lzf_length():
    f = corrupt_base()
    comp = b"\x00a\xe0\x14\x00"  # literal "a" + back-reference 29 at distance 1 = 30 x 'a'
    payload = b"\xc3" + enc_len(len(comp)) + enc_len(31) + comp
    i = f.key(0, "lzf", payload, "string", None)
    return f, i, "corrupt", "lzf", "LZF string decompressing to 30 bytes, declared 31"


def c_string_c4():
    f = corrupt_base()
    i = f.key(0, "s", b"\xc4\x00\x00", "string", None)
    return f, i, "corrupt", "s", "string with special encoding 0xC4 (code 4)"


def c_len_82():
    f = corrupt_base()
    i = f.key(2, "set", b"\x82\x00\x00\x00\x00\x00\x00\x00\x02" + enc_str("a") + enc_str("b"), "set", None)
    return f, i, "corrupt", "set", "set count written with length byte 0x82"


def c_type_200():
    f = corrupt_base()
    i = f.raw("key", u8(200) + enc_str("x") + enc_str("y"))
    return f, i, "unsupported type", None, "top-level type byte 200"


def c_count_2pow32():
    f = corrupt_base()
    i = f.key(2, "big", enc_len(1 << 32, "64") + enc_str("a") + enc_str("b"), "set", None)
    return f, i, "limit exceeded", "big", "set count 2^32 (0x81 form) followed by two members"


def c_stream_node_key():
    f = corrupt_base()
    spec = {"nodes": [("1700000000000-0", [("1700000000000-0", [("a", "1")], False)])],
            "last_id": "1700000000000-0", "first_id": "1700000000000-0", "max_deleted_id": "0-0",
            "entries_added": 1, "groups": []}
    payload = stream_value(spec, 19, node_key_override=(0, stream_id_raw("1700000000000-0")[:15]))
    i = f.key(19, "st", payload, "stream", None)
    return f, i, "corrupt", "st", "stream node key of 15 bytes (type 19)"


def c_stream_lp_count():
    f = corrupt_base()
    entries = [("1700000000000-0", [("a", "1")], False), ("1700000000001-0", [("a", "2")], False)]
    spec = {"nodes": [("1700000000000-0", entries)], "last_id": "1700000000001-0",
            "first_id": "1700000000000-0", "max_deleted_id": "0-0", "entries_added": 2, "groups": []}
    lp = stream_node("1700000000000-0", entries, lp_count_delta=(1, 1))
    payload = stream_value(spec, 19, node_lp_override=(0, lp))
    i = f.key(19, "st", payload, "stream", None)
    return f, i, "corrupt", "st", "stream entry lp-count 5 instead of 4 (type 19)"


def c_stream_pel():
    f = corrupt_base()
    spec = {"nodes": [("1700000000000-0", [("1700000000000-0", [("a", "1")], False),
                                          ("1700000000001-0", [("a", "2")], False)])],
            "last_id": "1700000000001-0", "first_id": "1700000000000-0", "max_deleted_id": "0-0",
            "entries_added": 2,
            "groups": [{"name": "g", "last_id": "1700000000001-0", "entries_read": 2,
                        "pending": [{"id": "1700000000000-0", "consumer": "c", "delivery_time_ms": 1700000100000,
                                     "delivery_count": 1}],
                        "consumers": [{"name": "c", "seen_time_ms": 1700000200000, "active_time_ms": 1700000200000,
                                       "pel_override": ["1700000000000-0", "1700000000001-0"]}]}]}
    i = f.key(19, "st", stream_value(spec, 19), "stream", None)
    return f, i, "corrupt", "st", "consumer PEL lists 1700000000001-0, absent from the group PEL (type 19)"


def c_zset_ziplist_odd():
    f = corrupt_base()
    zl = ziplist([b"a", b"1", b"b"])
    i = f.key(12, "zz", enc_str(zl, "raw"), "zset", None)
    return f, i, "corrupt", "zz", "zset ziplist with 3 entries (member without score)"


def c_zset2_nan():
    f = corrupt_base()
    payload = enc_len(2) + enc_str("a") + bin_double(2.0) + enc_str("b") + struct.pack("<Q", 0x7FF8000000000000)
    i = f.key(5, "z", payload, "zset", None)
    return f, i, "corrupt", "z", "ZSET_2 member with a NaN score"


def c_hash_lp_dup():
    f = corrupt_base()
    lp = listpack([b"f1", b"v1", b"f1", b"v2"])
    i = f.key(16, "h", enc_str(lp), "hash", None)
    return f, i, "corrupt", "h", "hash listpack with field f1 twice"


def c_quicklist_container3():
    f = corrupt_base()
    lp = listpack([b"a", b"b"])
    i = f.key(18, "l", enc_len(1) + enc_len(3) + enc_str(lp), "list", None)
    return f, i, "corrupt", "l", "quicklist-v2 node container 3"


def c_module_opcode9():
    f = corrupt_base()
    payload = enc_len(module_id(MODULE_NAME, 3)) + module_data([("uint", 1), ("opcode", 9)])
    i = f.key(7, "m", payload, "module", None)
    return f, i, "corrupt", "m", "module value with opcode 9 (valid: 0-5)"


def c_module_aux_when1():
    f = corrupt_base()
    i = f.module_aux_record(MODULE_NAME, 3, 2, [("uint", 1)], when_opcode=1)
    f.module_aux = []
    return f, i, "corrupt", None, "MODULE_AUX whose when_opcode is 1 (must be 2 = UINT)"


def c_magic_radis():
    f = corrupt_base()
    f.magic = b"RADIS0010"
    return f, "header", "corrupt", None, "wrong signature RADIS0010"


def c_version_13():
    f = corrupt_base()
    f.magic = b"REDIS0013"
    return f, "header", "unsupported version", None, "REDIS0013"


def c_valkey_079():
    f = corrupt_base()
    f.magic = b"VALKEY079"
    return f, "header", "unsupported version", None, "VALKEY079 (Valkey magic, version below 80)"


def c_crc():
    f = corrupt_base()
    return f, "trailer", "checksum mismatch", None, "CRC64 trailer with its lowest bit flipped"


def c_expire_aux():
    f = corrupt_base()
    i = f.raw("expire+aux", u8(OP_EXPIRETIME_MS) + ms64(EXP_MS) + u8(OP_AUX) + enc_str("x") + enc_str("y"))
    f.key(0, "after", enc_str("v"), "string", None)
    return f, i, "corrupt", None, "EXPIRETIME_MS followed by AUX instead of a key type"


def c_selectdb_huge():
    f = corrupt_base()
    i = f.select(1 << 40, "64")
    f.resize(1, 0)
    f.key(0, "k", enc_str("v"), "string", None)
    return f, i, "limit exceeded", None, "SELECTDB 2^40 (0x81 form)"


def c_opcode_242():
    f = corrupt_base()
    i = f.raw("opcode", u8(0xF2) + enc_len(0))
    return f, i, "unsupported type", None, "unknown top-level opcode 242 in a REDIS0010 file"


def c_truncated():
    f = corrupt_base()
    lp = listpack([b"f1", b"v1", b"f2", b"v2"])
    i = f.key(16, "h", enc_str(lp), "hash", None)
    return f, i, "truncated", "h", "file ends 5 bytes into the listpack of the last key (no EOF, no CRC)"


def c_set_lp_dup():
    f = corrupt_base(11)
    lp = listpack([b"a", b"b", b"a"])
    i = f.key(20, "s", enc_str(lp), "set", None)
    return f, i, "corrupt", "s", "RDB 11 set listpack with member a twice"


def c_hfe_too_late():
    f = corrupt_base(12)
    payload = ms64(EXP_MS) + enc_len(1) + enc_len((1 << 48) - EXP_MS + 1) + enc_str("f") + enc_str("v")
    i = f.key(24, "h", payload, "hash", None)
    return f, i, "corrupt", "h", "RDB 12 HASH_METADATA field expiring at 2^48 ms (max 2^48-1)"


# Why redis-check-rdb 7.0.15 accepts some of the corrupt files (observed when this script was written; the
# redis-server lines come from loading the file with /usr/bin/redis-server 7.0.15).
CHECK_RDB_NOTES = {
    "module-unknown-opcode-9": "Its `rdbLoadCheckModuleValue` has no branch for unknown module opcodes and silently "
                               "reads on (here the next LEN is the EOF 0); redis-server refuses the file anyway "
                               "(no module 'mymodtype'). The expected code is `corrupt` (Redis reports bad module "
                               "data through `rdbReportCorruptRDB`), not `unsupported type`.",
    "expire-then-aux": "Redis (checker and server) loops over opcodes and keeps the pending expire: the server "
                       "loads the file and applies the expire to the next key `after`. Our reader is stricter "
                       "and rejects a non-key opcode after a key prefix.",
    "selectdb-huge": "The checker never range-checks the db number; redis-server 7.0.15 exits with \"FATAL: Data "
                     "file was created with a Redis server configured to handle more than 16 databases\".",
}

CORRUPT = [
    ("listpack-bad-backlen", c_listpack_backlen),
    ("listpack-count-mismatch", c_listpack_count),
    ("listpack-total-bytes-mismatch", c_listpack_total),
    ("listpack-bad-encoding-f5", c_listpack_f5),
    ("ziplist-prevlen-mismatch", c_ziplist_prevlen),
    ("ziplist-bad-tail-offset", c_ziplist_tail),
    ("intset-not-ascending", c_intset_order),
    ("intset-width-3", c_intset_width),
    ("zipmap-entry-overrun", c_zipmap_overrun),
    ("lzf-wrong-uncompressed-length", c_lzf_length),
    ("string-unknown-encoding-c4", c_string_c4),
    ("length-byte-0x82", c_len_82),
    ("unknown-type-200", c_type_200),
    ("set-count-2pow32", c_count_2pow32),
    ("stream-node-key-15-bytes", c_stream_node_key),
    ("stream-lp-count-wrong", c_stream_lp_count),
    ("stream-consumer-pel-not-in-group", c_stream_pel),
    ("zset-ziplist-odd-count", c_zset_ziplist_odd),
    ("zset2-nan-score", c_zset2_nan),
    ("hash-listpack-duplicate-field", c_hash_lp_dup),
    ("quicklist-container-3", c_quicklist_container3),
    ("module-unknown-opcode-9", c_module_opcode9),
    ("module-aux-when-opcode-1", c_module_aux_when1),
    ("bad-magic-radis", c_magic_radis),
    ("version-13", c_version_13),
    ("valkey-079", c_valkey_079),
    ("crc-mismatch", c_crc),
    ("expire-then-aux", c_expire_aux),
    ("selectdb-huge", c_selectdb_huge),
    ("unknown-opcode-242", c_opcode_242),
    ("truncated-in-value", c_truncated),
    ("set-listpack-duplicate-member", c_set_lp_dup),
    ("hash-metadata-expire-over-2pow48", c_hfe_too_late),
]


def build_corrupt(fn):
    f, item, code, key, what = fn()
    data, offs = f.build()
    if fn is c_crc:
        good = struct.unpack("<Q", data[-8:])[0]
        data, offs = f.build(crc_override=good ^ 1)
    if fn is c_truncated:
        first, last = offs[item]
        data = data[:last + 1 - 5]
        offs[item] = (first, len(data) - 1)
    rng = offs[item]
    return data, {"code": code, "key": None if key is None else hexs(key),
                  "offset_min": rng[0], "offset_max": rng[1]}, what


# ---------------------------------------------------------------------------
# Output helpers
# ---------------------------------------------------------------------------


def write_json(path, truth):
    head = [k for k in ("producer", "rdb_version", "functions") if k in truth]
    lines = ["{"]
    for k in head:
        lines.append(" %s: %s," % (json.dumps(k), json.dumps(truth[k])))
    if "module_aux" in truth:
        lines.append(" %s: %s," % (json.dumps("module_aux"), json.dumps(truth["module_aux"], separators=(",", ":"))))
    lines.append(' "keys": [')
    ks = truth["keys"]
    for i, k in enumerate(ks):
        lines.append("  " + json.dumps(k, separators=(",", ":")) + ("," if i + 1 < len(ks) else ""))
    lines.append(" ]")
    lines.append("}")
    text = "\n".join(lines) + "\n"
    assert json.loads(text) == truth
    with open(path, "w") as fh:
        fh.write(text)
    return text.encode()


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def run_check_rdb(binary, path):
    if not binary or not os.path.exists(binary):
        return None
    p = subprocess.run([binary, path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    out = p.stdout.decode("utf-8", "replace").splitlines()
    if p.returncode == 0:
        lines = [l for l in out if "Checksum" in l or "looks OK" in l or "checksum disabled" in l]
        keys = [l for l in out if l.startswith("[info]") and "keys read" in l]
        msg = " / ".join(l.split("] ", 1)[-1] for l in lines + keys)
        return "OK (exit 0): " + msg
    err = ""
    for i, l in enumerate(out):
        if "RDB ERROR DETECTED" in l and i + 1 < len(out):
            err = out[i + 1]
            break
    doing = [l.split("] ", 1)[-1] for l in out if "While doing" in l]
    return "error (exit %d): %s%s" % (p.returncode, err, (" (" + doing[0] + ")") if doing else "")


# ---------------------------------------------------------------------------
# Optional live check with redis-server (stdlib RESP client)
# ---------------------------------------------------------------------------


class RespError(Exception):
    pass


class Resp:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def _reply(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest
        if t == b"-":
            return RespError(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise ValueError(line)

    def cmd(self, *args):
        parts = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.s.sendall(b"".join(parts))
        r = self._reply()
        if isinstance(r, RespError):
            raise r
        return r


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def flat_to_dict(lst):
    return {lst[i].decode(): lst[i + 1] for i in range(0, len(lst), 2)}


def server_truth_of(c, item):
    """Read one key back through the server in ground-truth form (value only)."""
    key = bytes.fromhex(item["key"])
    t = item["type"]
    if t == "string":
        return hexs(c.cmd("GET", key))
    if t == "list":
        return [hexs(x) for x in c.cmd("LRANGE", key, 0, -1)]
    if t == "set":
        return sorted(hexs(x) for x in c.cmd("SMEMBERS", key))
    if t == "zset":
        r = c.cmd("ZRANGE", key, 0, -1, "WITHSCORES")
        pairs = [(float(r[i + 1]), r[i], r[i + 1].decode()) for i in range(0, len(r), 2)]
        pairs.sort(key=lambda p: (p[0], p[1]))
        return [[hexs(m), s] for _, m, s in pairs]
    if t == "hash":
        r = c.cmd("HGETALL", key)
        return sorted([[hexs(r[i]), hexs(r[i + 1])] for i in range(0, len(r), 2)], key=lambda p: p[0])
    if t == "stream":
        info = flat_to_dict(c.cmd("XINFO", "STREAM", key, "FULL"))
        entries = [{"id": e[0].decode(),
                    "fields": [[hexs(e[1][i]), hexs(e[1][i + 1])] for i in range(0, len(e[1]), 2)]}
                   for e in info["entries"]]
        groups = []
        for g in info["groups"]:
            g = flat_to_dict(g)
            consumers = []
            for cons in g["consumers"]:
                cons = flat_to_dict(cons)
                consumers.append({"name": hexs(cons["name"]), "seen_time_ms": cons["seen-time"],
                                  "pending": [p[0].decode() for p in cons["pending"]]})
            groups.append({"name": hexs(g["name"]), "last_id": g["last-delivered-id"].decode(),
                           "entries_read": g["entries-read"],
                           "pending": [{"id": p[0].decode(), "consumer": hexs(p[1]),
                                        "delivery_time_ms": p[2], "delivery_count": p[3]} for p in g["pending"]],
                           "consumers": sorted(consumers, key=lambda x: x["name"])})
        return {"length": info["length"], "last_id": info["last-generated-id"].decode(), "entries": entries,
                "max_deleted_id": info["max-deleted-entry-id"].decode(), "entries_added": info["entries-added"],
                "first_id": info["recorded-first-entry-id"].decode(),
                "groups": sorted(groups, key=lambda x: x["name"])}
    raise ValueError(t)


def verify_with_server(binary, f):
    """Load a 7.0-loadable twin and compare the server's view with its ground truth.
    Returns a one-line verdict."""
    data, _ = f.build()
    truth = f.truth(0)
    tmp = tempfile.mkdtemp(prefix="rdbsyn-")
    proc = None
    try:
        with open(os.path.join(tmp, "dump.rdb"), "wb") as fh:
            fh.write(data)
        port = free_port()
        proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", tmp,
                                 "--dbfilename", "dump.rdb", "--save", "", "--appendonly", "no",
                                 "--sanitize-dump-payload", "yes", "--databases", "16",
                                 "--logfile", os.path.join(tmp, "log")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        c = None
        for _ in range(100):
            if proc.poll() is not None:
                break
            try:
                c = Resp(port)
                c.cmd("PING")
                break
            except (OSError, EOFError, RespError):
                c = None
                time.sleep(0.05)
        if c is None:
            log = open(os.path.join(tmp, "log"), errors="replace").read().strip().splitlines()
            return "FAILED: server did not start: " + (log[-1] if log else "?")
        problems = []
        total = 0
        for db in sorted({k["db"] for k in truth["keys"]}):
            c.cmd("SELECT", db)
            want = [k for k in truth["keys"] if k["db"] == db]
            total += c.cmd("DBSIZE")
            for item in want:
                key = bytes.fromhex(item["key"])
                got = server_truth_of(c, item)
                exp = item["value"]
                if item["type"] == "stream":
                    exp = json.loads(json.dumps(exp))
                if got != exp:
                    problems.append("%s: value %r != %r" % (key, got, exp))
                pt = c.cmd("PEXPIRETIME", key)
                if (None if pt < 0 else pt) != item["expire_at_ms"]:
                    problems.append("%s: pexpiretime %s != %s" % (key, pt, item["expire_at_ms"]))
        if total != len(truth["keys"]):
            problems.append("server has %d keys, ground truth %d" % (total, len(truth["keys"])))
        funcs = c.cmd("FUNCTION", "LIST", "WITHCODE")
        codes = sorted(flat_to_dict(lib)["library_code"].decode() for lib in funcs)
        if codes != sorted(f.server_functions):
            problems.append("functions %r != %r" % (codes, f.server_functions))
        try:
            c.cmd("SHUTDOWN", "NOSAVE")
        except (EOFError, OSError, RespError):
            pass
        proc.wait(timeout=10)
        if problems:
            return "FAILED: " + "; ".join(problems)
        return "OK (%d keys, values and expiries match%s)" % (
            len(truth["keys"]), ", %d function libraries match" % len(codes) if codes else "")
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--manifest", default=DEFAULT_MANIFEST)
    ap.add_argument("--no-manifest", action="store_true")
    ap.add_argument("--check-rdb", default="/usr/bin/redis-check-rdb")
    ap.add_argument("--verify", action="store_true", help="load 7.0-loadable twins into redis-server")
    ap.add_argument("--server", default="/usr/bin/redis-server")
    args = ap.parse_args()

    out = args.out
    cdir = os.path.join(out, "corrupt")
    os.makedirs(cdir, exist_ok=True)
    for d in (out, cdir):
        for name in os.listdir(d):
            if name.endswith(".rdb") or name.endswith(".json"):
                os.remove(os.path.join(d, name))

    report_valid = []
    for name, version, builder, desc in VALID:
        f = builder()
        data, _ = f.build()
        assert len(data) < 4096, name
        path = os.path.join(out, name)
        with open(path, "wb") as fh:
            fh.write(data)
        jtext = write_json(path[:-4] + ".json", f.truth(version))
        check = run_check_rdb(args.check_rdb, path)
        live = None
        if args.verify and name in TWINS:
            live = verify_with_server(args.server, TWINS[name]())
        report_valid.append((name, data, jtext, desc, f, check, live))
        print("%-32s %5d bytes  check-rdb: %s%s" % (name, len(data), check,
                                                  ("  server: " + live) if live else ""))

    expected = {}
    report_corrupt = []
    for i, (what, fn) in enumerate(CORRUPT, 1):
        name = "%04d-%s.rdb" % (i, what)
        data, exp, desc = build_corrupt(fn)
        assert len(data) < 4096
        path = os.path.join(cdir, name)
        with open(path, "wb") as fh:
            fh.write(data)
        expected[name] = exp
        check = run_check_rdb(args.check_rdb, path)
        report_corrupt.append((name, data, desc, exp, check))
        print("%-48s %4d bytes  %-18s check-rdb: %s" % (name, len(data), exp["code"], check))
    etext = "{\n" + ",\n".join(" %s: %s" % (json.dumps(k), json.dumps(v)) for k, v in expected.items()) + "\n}\n"
    assert json.loads(etext) == expected
    with open(os.path.join(cdir, "expected.json"), "w") as fh:
        fh.write(etext)

    if not args.no_manifest:
        update_manifest(args.manifest, report_valid, report_corrupt, etext.encode(), args)


def update_manifest(path, report_valid, report_corrupt, etext, args):
    L = [SECTION_TITLE, ""]
    L.append("Hand-built with `Fixtures/make_synthetic.py` (python3 standard library only); do not edit by hand. "
             "Byte layouts follow `/work/shared/docs/FORMAT-SPEC.md` §1 and were cross-checked against Redis "
             "`rdb.c` / `t_stream.c` / `listpack.c` (7.2/7.4) and Valkey `rdb.c` (9.0). Deterministic: rerunning "
             "rewrites identical bytes (fixed timestamps, no randomness).")
    L.append("")
    L.append("```")
    L.append("python3 Fixtures/make_synthetic.py            # writes Fixtures/synthetic/, runs redis-check-rdb, "
             "rewrites this section")
    L.append("python3 Fixtures/make_synthetic.py --verify   # also loads 7.0-loadable twins into redis-server")
    L.append("```")
    L.append("")
    L.append("Note: `make_fixtures.py` rewrites the whole MANIFEST.md; rerun `make_synthetic.py` afterwards to put "
             "this section back.")
    L.append("")
    L.append("### Ground-truth schema extensions")
    L.append("")
    L.append("Same schema as `Fixtures/rdb/*.json`, `\"producer\": \"%s\"`, `\"rdb_version\"` = the number in the "
             "magic (80 for `VALKEY080`), `\"encoding\"` = the RDB type name (`set-listpack`, "
             "`stream-listpacks-3`, `hash-metadata`, ...; strings: `string-raw`, `string-int8/16/32`, "
             "`string-len32/64` for the non-minimal length forms). Keys are sorted by (db, key bytes). "
             "Additions:" % PRODUCER)
    L.append("")
    L.append("* **Hashes with field expiry** (types 24 HASH_METADATA, 25 HASH_LISTPACK_EX, Valkey 22 HASH_2): "
             "`value` = `[[hex field, hex value, expire]]` sorted by field, where `expire` is the absolute "
             "field expiry in ms (integer) or `null` for a field without TTL. Other hashes keep pairs.")
    L.append("* **Module values** (type 7): `\"type\": \"module\"`, `value` = `{\"module_name\", "
             "\"encoding_version\", \"data\": [[kind, text]]}` with kinds `sint` / `uint` (decimal of the "
             "64-bit LEN pattern, unsigned), `float` (8 hex digits: the 4-byte LE bits as u32), `double` "
             "(16 hex digits: the 8-byte LE bits as u64), `string` (hex bytes).")
    L.append("* **MODULE_AUX records**: top-level `\"module_aux\": [{\"module_name\", \"encoding_version\", "
             "\"when\", \"data\"}]` (same data format), only in `rdb9-module.json`.")
    L.append("* **Stream consumers in RDB 11** (type 21): each consumer also has `\"active_time_ms\"`.")
    L.append("* `lru_idle` / `lfu_freq` are the exact IDLE seconds / FREQ byte written.")
    L.append("")
    L.append("### Valid files")
    L.append("")
    for name, data, jtext, desc, f, check, live in report_valid:
        L.append("#### `%s`" % name)
        L.append("")
        L.append("* Exercises: %s" % desc)
        L.append("* Size: %d bytes, sha256 `%s`" % (len(data), sha256(data)))
        L.append("* Ground truth `%s`: %d bytes, sha256 `%s`" % (name[:-4] + ".json", len(jtext), sha256(jtext)))
        L.append("* Value type bytes: %s" % ", ".join("%s x%d" % (k, v) for k, v in
                                                      sorted(f.type_counts.items(), key=lambda kv: int(kv[0].split()[0]))))
        L.append("* Opcodes: %s" % ", ".join("%s x%d" % kv for kv in sorted(f.opcode_counts.items())))
        if check is not None:
            L.append("* redis-check-rdb 7.0.15: %s" % check)
        if live is not None:
            what = "the file itself" if name in LOADED_AS_IS else "its 7.0-loadable twin"
            L.append("* redis-server 7.0.15 load of %s (sanitize-dump-payload yes): %s" % (what, live))
        L.append("")
    L.append("Twins used by `--verify` (RDB 10 unless noted): `rdb11-types`: set listpack loaded as a "
             "LIST_QUICKLIST_2 node holding the same listpack bytes, stream as type 19 (no active_time); "
             "`rdb12-hash-field-expiry`: type 24 as a plain type 4 hash, the type-25 listpack as a quicklist "
             "node, no SLOT_INFO; `valkey9-hash2`: HASH_2 as type 4; "
             "`rdb2-legacy`, `rdb8-64bit-len` and `rdb10-function-pre-ga` (7.0.x still reads opcode 246): the files "
             "themselves. "
             "`rdb9-module` has no twin (needs the module).")
    L.append("")
    L.append("### Corrupt files (`Fixtures/synthetic/corrupt/`)")
    L.append("")
    L.append("Each is a small valid RDB 10 file (`corrupt_base`: AUX redis-ver + redis-bits, SELECTDB 0, "
             "RESIZEDB, string key `ok`) plus exactly one defective item, then EOF and a correct CRC64 "
             "(unless noted; 0032 is RDB 11, 0033 RDB 12). `expected.json` gives for each file the error "
             "`code` the reader must report, the `key` being read (hex) or null, and `offset_min`..`offset_max`: "
             "the byte range of the defective top-level item (first prefix opcode or type byte to the last "
             "byte of its value; 0..8 for header defects; EOF opcode through the CRC for the checksum).")
    L.append("")
    L.append("`expected.json`: %d bytes, sha256 `%s`" % (len(etext), sha256(etext)))
    L.append("")
    L.append("| File | Defect | Expected | Bytes | sha256 | redis-check-rdb 7.0.15 |")
    L.append("| --- | --- | --- | --- | --- | --- |")
    for name, data, desc, exp, check in report_corrupt:
        rng = "%s, key %s, offsets %d..%d" % (exp["code"], exp["key"] if exp["key"] is not None else "null",
                                             exp["offset_min"], exp["offset_max"])
        L.append("| `%s` | %s | %s | %d | `%s` | %s |" % (name, desc, rng, len(data), sha256(data),
                                                        (check or "not run").replace("|", "\\|")))
    L.append("")
    L.append("Where redis-check-rdb 7.0.15 disagrees (it cannot read RDB 11/12 or `VALKEY` files at all, so 0032, "
             "0033 and the version/magic cases only show that):")
    L.append("")
    for name, data, desc, exp, check in report_corrupt:
        if check is not None and check.startswith("OK"):
            L.append("* `%s`: redis-check-rdb reports OK. %s" % (name, CHECK_RDB_NOTES.get(name[5:-4], "")))
    L.append("* `0026-valkey-079.rdb`: Redis has no VALKEY family, so it says \"Wrong signature\"; the expected "
             "code is `unsupported version` (a VALKEY magic with a version outside the known set), while "
             "`0024` (RADIS) is `corrupt`.")
    L.append("")
    section = "\n".join(L) + "\n"

    text = open(path).read() if os.path.exists(path) else ""
    idx = text.find(SECTION_TITLE)
    if idx != -1:
        text = text[:idx].rstrip("\n") + "\n\n"
    else:
        text = text.rstrip("\n") + "\n\n"
    with open(path, "w") as fh:
        fh.write(text + section)


if __name__ == "__main__":
    main()
