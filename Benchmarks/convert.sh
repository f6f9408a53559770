#!/usr/bin/env bash
# Benchmark redis-convert against rdb-py (RDB -> JSON Lines), redis-rdb-tools (RDB -> RESP, RDB -> JSON) and
# Redis's own SAVE (writing an RDB), and show that its memory does not grow with the file. Prints markdown.
#
#   Benchmarks/convert.sh [RDB]     default RDB: bench-data/mixed.rdb (made by make_dataset.py if missing)
#
# Environment:
#   RUNS          timed rounds (default 3); every command runs once per round, interleaved; best wall kept
#   SCRATCH_PATH  the release build's scratch path (default .build-bench/; relative to the repository)
#   SKIP_BUILD=1  reuse the release binary in the scratch path instead of building it
#   REDIS_CONVERT a redis-convert binary to measure instead (no build; e.g. one built from another commit)
#   BIG_RDB       the larger dataset for the memory table (default bench-data/mixed-2x.rdb, made with
#                 BENCH_SCALE=2 make_dataset.py if missing: about a minute); BIG_RDB=none skips it
#   REDIS_SERVER, REDIS_CLI, REDIS_CHECK_RDB   default /usr/bin/...: `redis-server` on PATH may be a pyenv
#                 shim for another Redis version
#   PYTHON        the interpreter that has rdb-py, rdbtools and python-lzf (default: python3's real path)
#
# Needs: pip install rdb-py rdbtools python-lzf; Debian's redis-server / redis-tools 7.x.
#
# What is checked before the figures are trusted (any failure exits non-zero):
#   - every tool exits 0 on every run;
#   - redis-check-rdb accepts the v9 copy and every RDB that redis-convert writes;
#   - our JSON Lines and a JSON Lines export built from rdb-py's records are identical, line for line
#     (sorted), for every key rdb-py reports (rdb-py skips streams);
#   - Redis loads our RDB 10 output, and replays our RESP output, to the same DEBUG DIGEST as the original.
#
# Round 1 writes every standard output to a file (to measure its size and run the checks above); later rounds
# write it to /dev/null. The RDB writers always write a real file with -o (fsync + rename, as SAVE does).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$REPO/Benchmarks"
RUNS=${RUNS:-3}
REDIS_SERVER=${REDIS_SERVER:-/usr/bin/redis-server}
REDIS_CLI=${REDIS_CLI:-/usr/bin/redis-cli}
REDIS_CHECK_RDB=${REDIS_CHECK_RDB:-/usr/bin/redis-check-rdb}
DEFAULT_RDB="$REPO/bench-data/mixed.rdb"
RDB=$(realpath -m "${1:-$DEFAULT_RDB}")
DEFAULT_BIG="$REPO/bench-data/mixed-2x.rdb"
BIG_RDB=${BIG_RDB:-$DEFAULT_BIG}
SCRATCH=$(cd "$REPO" && realpath -m "${SCRATCH_PATH:-.build-bench}")

die() { echo "convert.sh: $*" >&2; exit 1; }
note() { echo "# $*" >&2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/rdb-bench-convert.XXXXXX")
SERVER_PIDS=()
cleanup() {
    local pid
    for pid in "${SERVER_PIDS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- tools ------------------------------------------------------------------------------------------
[[ -x /usr/bin/time ]] || die "/usr/bin/time missing (apt-get install time)"
for tool in "$REDIS_SERVER" "$REDIS_CLI" "$REDIS_CHECK_RDB"; do
    [[ -x "$tool" ]] || die "$tool not found (install Debian's redis-server and redis-tools)"
done
# The real interpreter, not the pyenv shim (the shim adds a bash start-up to every timed run).
PYTHON=${PYTHON:-$(python3 -c 'import sys; print(sys.executable)')}
"$PYTHON" -c 'import rdb, rdbtools, lzf' 2>/dev/null \
    || die "$PYTHON lacks rdb-py, rdbtools or python-lzf: pip install rdb-py rdbtools python-lzf"
RDBTOOLS="$(dirname "$PYTHON")/rdb"  # rdbtools' console script (rdb-py installs none)
[[ -x "$RDBTOOLS" ]] && grep -qs rdbtools "$RDBTOOLS" \
    || die "rdbtools' 'rdb' script not found beside $PYTHON"

source_state() {  # the commit and a hash of Sources/ + Package.swift as they are now
    local state changed
    state="commit $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    changed=$(git -C "$REPO" status --porcelain -- Sources Package.swift 2>/dev/null | wc -l)
    ((changed == 0)) || state+=" + $changed uncommitted change(s) under Sources/"
    state+=", sources sha256 $(cd "$REPO" && find Sources Package.swift -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-12)"
    echo "$state"
}
if [[ -n "${REDIS_CONVERT:-}" ]]; then
    OURS=$(realpath "$REDIS_CONVERT")
    SOURCE_STATE="prebuilt binary $OURS"
else
    SOURCE_STATE=$(source_state)  # taken before the build: others may edit Sources/ while this runs
    STATE_AT_BUILD=$SOURCE_STATE
    if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
        note "building redis-convert (release, --scratch-path $SCRATCH)"
        (cd "$REPO" && swift build -c release --product redis-convert --scratch-path "$SCRATCH" >&2) \
            || die "building redis-convert failed"
        SOURCE_STATE="built from $SOURCE_STATE"
    else
        SOURCE_STATE="SKIP_BUILD: existing binary; sources now: $SOURCE_STATE"
    fi
    OURS="$(cd "$REPO" && swift build -c release --scratch-path "$SCRATCH" --show-bin-path)/redis-convert"
fi
[[ -x "$OURS" ]] || die "$OURS not built"

# --- datasets ---------------------------------------------------------------------------------------
free_port() { "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

if [[ ! -f "$RDB" ]]; then
    [[ "$RDB" == "$DEFAULT_RDB" ]] || die "$RDB: no such file"
    note "$RDB missing: generating it with make_dataset.py"
    BENCH_PORT=$(free_port) "$PYTHON" "$BENCH/make_dataset.py" "$RDB" >&2 || die "make_dataset.py failed"
fi
if [[ "$BIG_RDB" != none && ! -f "$BIG_RDB" ]]; then
    [[ "$BIG_RDB" == "$DEFAULT_BIG" ]] || die "$BIG_RDB: no such file"
    note "$BIG_RDB missing: generating it with BENCH_SCALE=2 make_dataset.py"
    BENCH_SCALE=2 BENCH_PORT=$(free_port) "$PYTHON" "$BENCH/make_dataset.py" "$BIG_RDB" >&2 \
        || die "make_dataset.py (BENCH_SCALE=2) failed"
fi

V9="$WORK/$(basename "$RDB" .rdb)-v9.rdb"
note "making the RDB 9 copy for rdbtools: redis-convert --to rdb --rdb-version 9"
"$OURS" "$RDB" --to rdb --rdb-version 9 -o "$V9" 2>"$WORK/v9.err" \
    || { cat "$WORK/v9.err" >&2; die "redis-convert could not write the RDB 9 copy"; }
"$REDIS_CHECK_RDB" "$V9" >"$WORK/check-v9.txt" 2>&1 \
    || { tail -20 "$WORK/check-v9.txt" >&2; die "redis-check-rdb rejects our RDB 9 copy"; }

RDB_BYTES=$(stat -c %s "$RDB")
V9_BYTES=$(stat -c %s "$V9")
BIG_BYTES=0
[[ "$BIG_RDB" == none ]] || BIG_BYTES=$(stat -c %s "$BIG_RDB")
cat "$RDB" "$V9" >/dev/null  # page cache warm for every timed run
[[ "$BIG_RDB" == none ]] || cat "$BIG_RDB" >/dev/null

# rdb-py has no export of its own: iterate its records, and (mode jsonl) write them as our JSON Lines records
# ({"db","key","type","expire_at_ms","value"}, bytes as UTF-8 text or {"b64":…} like our writer), which is
# what a JSON Lines export built on it would do.
cat >"$WORK/rdbpy.py" <<'EOF'
import base64, json, re, sys
import rdb

# Our writer's rule: text unless the bytes are invalid UTF-8 or hold a control character (Unicode Cc)
# other than tab, newline, return.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

def text(b):
    try:
        t = b.decode("utf-8")
    except UnicodeDecodeError:
        return {"b64": base64.b64encode(b).decode("ascii")}
    if CONTROL.search(t):
        return {"b64": base64.b64encode(b).decode("ascii")}
    return t

mode, path = sys.argv[1], sys.argv[2]
keys = 0
if mode == "iterate":
    for item in rdb.RdbDecoder(path):
        if item["type"] in ("string", "list", "set", "sorted_set", "hash"):
            keys += 1
else:
    out = sys.stdout
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    db = 0
    for item in rdb.RdbDecoder(path):
        kind = item["type"]
        if kind == "select_db":
            db = item["db"]
            continue
        if kind == "string":
            value = text(item["value"])
        elif kind == "list":
            value = [text(v) for v in item["values"]]
        elif kind == "set":
            value = [text(m) for m in item["members"]]
        elif kind == "sorted_set":
            kind = "zset"
            value = [[text(m), score] for score, m in item["values"]]
        elif kind == "hash":
            value = [[text(f), text(v)] for f, v in item["values"].items()]
        else:
            continue
        out.write(dumps({"db": db, "key": text(item["key"]), "type": kind,
                         "expire_at_ms": item["expiry"], "value": value}))
        out.write("\n")
        keys += 1
print("keys", keys, file=sys.stderr)
EOF

# --- Redis server for SAVE (and the digest checks) ------------------------------------------------------
# start_server NAME [DBFILE]: a private redis-server on a free loopback port, dir $WORK/NAME, loading DBFILE
# (copied in) if given; waits until it answers PING and has finished loading. Sets PORT and PID.
start_server() {
    local name=$1 dbfile=${2:-} dir="$WORK/$1" deadline
    mkdir -p "$dir"
    [[ -z "$dbfile" ]] || cp "$dbfile" "$dir/dump.rdb"
    PORT=$(free_port)
    "$REDIS_SERVER" --port "$PORT" --bind 127.0.0.1 --dir "$dir" --dbfilename dump.rdb --save "" \
        --appendonly no --enable-debug-command local --logfile "$dir/redis.log" >/dev/null 2>&1 &
    PID=$!
    SERVER_PIDS+=("$PID")
    deadline=$((SECONDS + 300))
    until [[ "$("$REDIS_CLI" -p "$PORT" PING 2>/dev/null)" == PONG ]] \
        && [[ "$("$REDIS_CLI" -p "$PORT" INFO persistence 2>/dev/null)" == *$'\nloading:0'* ]]; do
        kill -0 "$PID" 2>/dev/null || { tail -20 "$dir/redis.log" >&2; die "redis-server ($name) exited while starting"; }
        ((SECONDS < deadline)) || die "redis-server ($name) did not finish loading in 300 s"
        sleep 0.2
    done
}
stop_server() {  # stop_server PID
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}
server_keys() {  # server_keys PORT: keys in all databases
    "$REDIS_CLI" -p "$1" INFO keyspace | sed -n 's/^db[0-9]*:keys=\([0-9]*\),.*/\1/p' | awk '{ n += $1 } END { print n + 0 }'
}
digest() { "$REDIS_CLI" -p "$1" DEBUG DIGEST; }

note "starting $REDIS_SERVER on a copy of $(basename "$RDB")"
start_server save "$RDB"
SAVE_PORT=$PORT SAVE_PID=$PID
KEYS=$(server_keys "$SAVE_PORT")
((KEYS > 0)) || die "Redis loaded no keys from $RDB"
DIGEST=$(digest "$SAVE_PORT")
[[ "$DIGEST" =~ ^[0-9a-f]{40}$ ]] || die "DEBUG DIGEST failed: $DIGEST"
SAVE_FILE="$WORK/save/dump.rdb"

# --- commands -----------------------------------------------------------------------------------------
# Name, input bytes and command of each timed row. "stdout" rows write standard output; SAVE is timed as
# the wall time of `redis-cli SAVE`.
NAMES=() INPUTS=() KIND=()
add() { NAMES+=("$1"); INPUTS+=("$2"); KIND+=("$3"); }
add "ours jsonl v10"        "$RDB_BYTES" stdout   # 0
add "rdb-py iterate v10"    "$RDB_BYTES" stdout   # 1
add "rdb-py jsonl v10"      "$RDB_BYTES" stdout   # 2
add "ours resp v9"          "$V9_BYTES"  stdout   # 3
add "rdbtools protocol v9"  "$V9_BYTES"  stdout   # 4
add "ours resp v10"         "$RDB_BYTES" stdout   # 5
add "ours jsonl v9"         "$V9_BYTES"  stdout   # 6
add "rdbtools json v9"      "$V9_BYTES"  stdout   # 7
add "ours rdb 10"           "$RDB_BYTES" file     # 8
add "redis SAVE"            "$RDB_BYTES" save     # 9
add "ours rdb 9"            "$RDB_BYTES" file     # 10
add "ours rdb 6 skip"       "$RDB_BYTES" file     # 11
add "ours rdb 10 recompress" "$RDB_BYTES" file    # 12
if [[ "$BIG_RDB" != none ]]; then
    add "ours jsonl 2x"     "$BIG_BYTES" stdout   # 13
    add "ours resp 2x"      "$BIG_BYTES" stdout   # 14
    add "ours rdb 10 2x"    "$BIG_BYTES" file     # 15
    add "ours rdb 6 skip 2x" "$BIG_BYTES" file    # 16
fi
COUNT=${#NAMES[@]}
command_for() {  # command_for INDEX: sets CMD (and OUTFILE for the rdb writers)
    OUTFILE=""
    case $1 in
        0) CMD=("$OURS" "$RDB" --to jsonl) ;;
        1) CMD=("$PYTHON" "$WORK/rdbpy.py" iterate "$RDB") ;;
        2) CMD=("$PYTHON" "$WORK/rdbpy.py" jsonl "$RDB") ;;
        3) CMD=("$OURS" "$V9" --to resp) ;;
        4) CMD=("$RDBTOOLS" --command protocol "$V9") ;;
        5) CMD=("$OURS" "$RDB" --to resp) ;;
        6) CMD=("$OURS" "$V9" --to jsonl) ;;
        7) CMD=("$RDBTOOLS" --command json "$V9") ;;
        8) OUTFILE="$WORK/out-10.rdb"; CMD=("$OURS" "$RDB" --to rdb -o "$OUTFILE") ;;
        9) CMD=("$REDIS_CLI" -p "$SAVE_PORT" SAVE) ;;
        10) OUTFILE="$WORK/out-9.rdb"; CMD=("$OURS" "$RDB" --to rdb --rdb-version 9 -o "$OUTFILE") ;;
        11) OUTFILE="$WORK/out-6.rdb"; CMD=("$OURS" "$RDB" --to rdb --rdb-version 6 --skip-unsupported -o "$OUTFILE") ;;
        12) OUTFILE="$WORK/out-10-recompress.rdb"; CMD=("$OURS" "$RDB" --to rdb --recompress -o "$OUTFILE") ;;
        13) CMD=("$OURS" "$BIG_RDB" --to jsonl) ;;
        14) CMD=("$OURS" "$BIG_RDB" --to resp) ;;
        15) OUTFILE="$WORK/out-10-2x.rdb"; CMD=("$OURS" "$BIG_RDB" --to rdb -o "$OUTFILE") ;;
        16) OUTFILE="$WORK/out-6-2x.rdb"; CMD=("$OURS" "$BIG_RDB" --to rdb --rdb-version 6 --skip-unsupported -o "$OUTFILE") ;;
    esac
}

# --- checks on round 1's outputs ----------------------------------------------------------------------
STREAM_RECORD='^\{"db":[0-9]+,"key":("([^"\\]|\\.)*"|\{"b64":"[^"]*"\}),"type":"stream"'
count_records() { grep -c '^{"db":' "$1" || true; }
count_streams() { grep -cE "$STREAM_RECORD" "$1" || true; }

check_round1() {
    local r1="$WORK/r1" port pid d
    note "checking round 1's outputs"
    # Key counts: ours must output every key Redis loaded; rdb-py and rdbtools skip streams.
    OUR_KEYS=$(count_records "$r1/0")
    STREAMS=$(count_streams "$r1/0")
    [[ "$OUR_KEYS" == "$KEYS" ]] || die "ours jsonl: $OUR_KEYS records, Redis loaded $KEYS keys"
    [[ "$(count_records "$r1/6")" == "$KEYS" ]] || die "ours jsonl on the v9 copy: $(count_records "$r1/6") records, expected $KEYS"
    PY_KEYS=$(sed -n 's/^keys //p' "$WORK/err.2")
    [[ "$(sed -n 's/^keys //p' "$WORK/err.1")" == "$PY_KEYS" ]] || die "rdb-py iterate and jsonl disagree on the key count"
    [[ "$PY_KEYS" == "$((KEYS - STREAMS))" ]] \
        || die "rdb-py reported $PY_KEYS keys; the file has $KEYS, $STREAMS of them streams"
    # Same records as rdb-py, byte for byte, apart from the streams it skips.
    grep -vE "$STREAM_RECORD" "$r1/0" | grep '^{"db":' | LC_ALL=C sort >"$WORK/ours.sorted"
    LC_ALL=C sort "$r1/2" >"$WORK/rdbpy.sorted"
    cmp -s "$WORK/ours.sorted" "$WORK/rdbpy.sorted" || {
        diff "$WORK/ours.sorted" "$WORK/rdbpy.sorted" | head -c 2000 >&2
        die "our JSON Lines and rdb-py's records differ (above: < ours, > rdb-py)"
    }
    rm -f "$WORK/ours.sorted" "$WORK/rdbpy.sorted"
    # rdbtools' JSON ([{db 0 keys}, {db 1 keys}, ...]) holds every key; it writes streams as {}.
    RDBTOOLS_JSON=$("$PYTHON" -c 'import json, sys
dbs = json.load(open(sys.argv[1]))
print(sum(len(db) for db in dbs), sum(1 for db in dbs for v in db.values() if v == {}))' "$r1/7") \
        || die "rdbtools' JSON output does not parse"
    [[ "${RDBTOOLS_JSON% *}" == "$KEYS" ]] || die "rdbtools' JSON holds ${RDBTOOLS_JSON% *} keys, expected $KEYS"
    # Every RDB we wrote passes redis-check-rdb.
    for d in out-10 out-9 out-6 out-10-recompress out-10-2x out-6-2x; do
        [[ -f "$WORK/$d.rdb" ]] || continue
        "$REDIS_CHECK_RDB" "$WORK/$d.rdb" >"$WORK/check-$d.txt" 2>&1 \
            || { tail -20 "$WORK/check-$d.txt" >&2; die "redis-check-rdb rejects $d.rdb"; }
        grep -q 'RDB looks OK' "$WORK/check-$d.txt" || die "redis-check-rdb did not report $d.rdb OK"
    done
    CHECK_OUT=$(grep -E 'Checksum OK|RDB looks OK|keys read' "$WORK/check-out-10.txt" | sed 's/^\[[^]]*\] *//' | paste -sd ';' | sed 's/;/; /g')
    # Redis loads our RDB 10 to the same dataset.
    start_server load "$WORK/out-10.rdb"
    port=$PORT pid=$PID
    [[ "$(server_keys "$port")" == "$KEYS" ]] || die "Redis loaded $(server_keys "$port") keys from our RDB 10, expected $KEYS"
    [[ "$(digest "$port")" == "$DIGEST" ]] || die "DEBUG DIGEST of our RDB 10 differs from the original's"
    stop_server "$pid"
    start_server load "$WORK/out-10-recompress.rdb"
    port=$PORT pid=$PID
    [[ "$(digest "$port")" == "$DIGEST" ]] || die "DEBUG DIGEST of our RDB 10 written with --recompress differs from the original's"
    stop_server "$pid"
    # Replaying our RESP (from the v10 file) into an empty Redis gives the same dataset.
    start_server replay
    port=$PORT pid=$PID
    "$REDIS_CLI" -p "$port" --pipe <"$r1/5" >"$WORK/pipe.txt" 2>&1 || { cat "$WORK/pipe.txt" >&2; die "redis-cli --pipe failed"; }
    grep -q '^errors: 0,' "$WORK/pipe.txt" || { cat "$WORK/pipe.txt" >&2; die "replaying our RESP gave errors"; }
    [[ "$(digest "$port")" == "$DIGEST" ]] || die "DEBUG DIGEST after replaying our RESP differs from the original's"
    stop_server "$pid"
    # --rdb-version 6 --skip-unsupported leaves out exactly the streams, one warning each.
    SKIPPED=$(grep -c '^redis-convert: skipped key' "$WORK/err.11" || true)
    [[ "$SKIPPED" == "$STREAMS" ]] || die "--rdb-version 6 --skip-unsupported skipped $SKIPPED keys, expected the $STREAMS streams"
    if [[ -f "$r1/13" ]]; then
        BIG_KEYS=$(count_records "$r1/13")
        BIG_STREAMS=$(count_streams "$r1/13")
        SKIPPED=$(grep -c '^redis-convert: skipped key' "$WORK/err.16" || true)
        [[ "$SKIPPED" == "$BIG_STREAMS" ]] || die "2x: --rdb-version 6 --skip-unsupported skipped $SKIPPED keys, expected $BIG_STREAMS streams"
    fi
}

# --- timing -------------------------------------------------------------------------------------------
BEST=() RSS=() OUT_BYTES=() ROUND_WALLS=()
for ((i = 0; i < COUNT; i++)); do BEST[i]="" RSS[i]=0 OUT_BYTES[i]=0 ROUND_WALLS[i]=""; done
BIG_KEYS=0 BIG_STREAMS=0
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
note "timing ($RUNS interleaved rounds of $COUNT commands, page cache warm; load average before: $LOAD_BEFORE)"
mkdir -p "$WORK/r1"
for ((round = 1; round <= RUNS; round++)); do
    for ((i = 0; i < COUNT; i++)); do
        command_for "$i"
        sink=/dev/null
        ((round > 1)) || [[ "${KIND[i]}" != stdout ]] || sink="$WORK/r1/$i"
        [[ "${KIND[i]}" != save ]] || sink="$WORK/save.reply"
        [[ -z "$OUTFILE" ]] || rm -f "$OUTFILE"
        start=$(date +%s%N)
        if ! /usr/bin/time -f "%e %M" -o "$WORK/time.out" "${CMD[@]}" >"$sink" 2>"$WORK/err.$i"; then
            tail -20 "$WORK/err.$i" >&2
            die "${NAMES[i]} failed (round $round): ${CMD[*]}"
        fi
        end=$(date +%s%N)
        if [[ "${KIND[i]}" == save ]]; then
            [[ "$(tr -d '\r\n' <"$sink")" == OK ]] || die "SAVE answered: $(cat "$sink")"
            rss=$(awk '/^VmHWM:/ { print $2 }' "/proc/$SAVE_PID/status")  # the server's, not redis-cli's
            OUT_BYTES[i]=$(stat -c %s "$SAVE_FILE")
        else
            rss=$(tail -1 "$WORK/time.out" | awk '{ print $2 }')
        fi
        wall=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", (e - s) / 1e9 }')
        note "  round $round ${NAMES[i]}: ${wall} s, peak RSS ${rss} KiB"
        ROUND_WALLS[i]+=" $wall"
        if [[ -z "${BEST[i]}" ]] || awk -v a="$wall" -v b="${BEST[i]}" 'BEGIN { exit !(a < b) }'; then BEST[i]=$wall; fi
        ((rss <= RSS[i])) || RSS[i]=$rss
        if ((round == 1)); then
            if [[ -n "$OUTFILE" ]]; then OUT_BYTES[i]=$(stat -c %s "$OUTFILE"); fi
            if [[ "${KIND[i]}" == stdout ]]; then OUT_BYTES[i]=$(stat -c %s "$sink"); fi
        fi
    done
    if ((round == 1)); then
        check_round1
        rm -rf "$WORK/r1"
    fi
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
stop_server "$SAVE_PID"

# --- report -------------------------------------------------------------------------------------------
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
keys_of() {  # keys_of INDEX: keys the row's tool outputs
    case $1 in
        1 | 2 | 4 | 11) echo $((KEYS - STREAMS)) ;;
        13 | 14 | 15) echo "$BIG_KEYS" ;;
        16) echo $((BIG_KEYS - BIG_STREAMS)) ;;
        *) echo "$KEYS" ;;
    esac
}
# row INDEX LABEL REF_INDEX: input rate, keys/s, RSS, speed relative to REF (REF wall / this wall)
row() {
    local i=$1 ref=$3
    awk -v label="$2" -v t="${BEST[i]}" -v in_bytes="${INPUTS[i]}" -v out="${OUT_BYTES[i]}" -v keys="$(keys_of "$i")" \
        -v rss="${RSS[i]}" -v rt="${BEST[ref]}" 'BEGIN {
        printf "| %s | %d | %.1f | %.3f | %.1f | %.0f | %.1f | %.2fx |\n",
            label, keys, out / 1e6, t, in_bytes / t / 1e6, keys / t, rss / 1024, rt / t
    }'
}
# wrow INDEX LABEL: a writer row, rated by output bytes, relative to Redis SAVE's write rate
wrow() {
    local i=$1
    awk -v label="$2" -v t="${BEST[i]}" -v out="${OUT_BYTES[i]}" -v keys="$(keys_of "$i")" -v rss="${RSS[i]}" \
        -v rt="${BEST[9]}" -v rout="${OUT_BYTES[9]}" 'BEGIN {
        printf "| %s | %d | %.1f | %.3f | %.1f | %.0f | %.1f | %.2fx |\n",
            label, keys, out / 1e6, t, out / t / 1e6, keys / t, rss / 1024, (out / t) / (rout / rt)
    }'
}

OUR_VERSION=$("$OURS" --version 2>/dev/null | head -1)
PYVERSIONS=$("$PYTHON" -c 'import importlib.metadata as m, platform
print("rdb-py %s, rdbtools %s, python-lzf %s (Python %s)" % (m.version("rdb-py"), m.version("rdbtools"), m.version("python-lzf"), platform.python_version()))')
REDIS_VERSION=$("$REDIS_SERVER" --version | sed 's/^Redis server v=\([^ ]*\).*/\1/')

echo "RDB: $RDB ($RDB_BYTES bytes, RDB $(head -c 9 "$RDB" | tail -c 4 | sed 's/^0*//')), $KEYS keys ($STREAMS streams); RDB 9 copy by redis-convert: $V9_BYTES bytes"
[[ "$BIG_RDB" == none ]] || echo "2x: $BIG_RDB ($BIG_BYTES bytes), $BIG_KEYS keys"
echo "Tools: $OUR_VERSION ($SOURCE_STATE); $PYVERSIONS; Redis $REDIS_VERSION"
if [[ -n "${STATE_AT_BUILD:-}" && "$(source_state)" != "$STATE_AT_BUILD" ]]; then
    echo "Note: the sources changed during the run (now: $(source_state)); the figures are the binary's above."
fi
echo "Load average before timing: $LOAD_BEFORE, after: $LOAD_AFTER (2 cores)"
echo "Best of $RUNS interleaved rounds; MB/s = bytes / wall / 10^6; peak RSS = highest of the rounds (/usr/bin/time %M)."
echo "Checks passed: outputs identical to rdb-py's records (its $((KEYS - STREAMS)) keys); redis-check-rdb OK on the v9 copy and on every RDB written ($CHECK_OUT for RDB 10); DEBUG DIGEST of our RDB 10 loaded and of our RESP replayed = the original's ($DIGEST)."
echo
echo "1. RDB -> JSON Lines (input RDB 10). rdb-py skips streams. Speed = rdb-py iterate + json.dumps wall / this wall."
echo
echo "| tool | keys out | output MB | wall s | input MB/s | keys/s | peak RSS MiB | speed |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
row 0 "redis-convert --to jsonl" 2
row 1 "rdb-py: iterate only" 2
row 2 "rdb-py: iterate + json.dumps (JSONL)" 2
echo
echo "2. RDB -> RESP and RDB -> JSON (input: the RDB 9 copy; rdbtools reads RDB <= 9; it writes no commands for streams, and streams as {} in JSON: ${RDBTOOLS_JSON#* } empty objects). Speed = rdbtools' wall (same output kind) / this wall."
echo
echo "| tool | keys out | output MB | wall s | input MB/s | keys/s | peak RSS MiB | speed |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
row 3 "redis-convert --to resp (v9)" 4
row 4 "rdbtools --command protocol (v9)" 4
row 5 "redis-convert --to resp (v10 original)" 4
row 6 "redis-convert --to jsonl (v9)" 7
row 7 "rdbtools --command json (v9)" 7
echo
echo "3. Writing an RDB (input RDB 10; ours reads, decodes and re-encodes it; Redis SAVE serializes its memory; both fsync + rename). Rate = output bytes / wall; peak RSS of Redis is the server's VmHWM (whole dataset in memory). Relative = write rate / SAVE's."
echo
echo "| writer | keys | output MB | wall s | write MB/s | keys/s | peak RSS MiB | relative |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
wrow 8 "redis-convert --to rdb (RDB 10, LZF, checksum)"
wrow 9 "Redis $REDIS_VERSION SAVE (RDB 10)"
wrow 10 "redis-convert --to rdb --rdb-version 9"
wrow 11 "redis-convert --to rdb --rdb-version 6 --skip-unsupported"
wrow 12 "redis-convert --to rdb --recompress (every string compressed anew)"
if [[ "$BIG_RDB" != none ]]; then
    echo
    echo "4. Peak RSS of redis-convert, 1x vs 2x dataset (BENCH_SCALE=2: twice the keys, same largest values)."
    echo
    echo "| conversion | 1x wall s | 1x peak RSS MiB | 2x wall s | 2x peak RSS MiB | RSS 2x/1x |"
    echo "|---|---:|---:|---:|---:|---:|"
    for pair in "0 13 --to jsonl" "5 14 --to resp" "8 15 --to rdb" "11 16 --to rdb --rdb-version 6 --skip-unsupported"; do
        set -- $pair
        awk -v label="${*:3}" -v t1="${BEST[$1]}" -v r1="${RSS[$1]}" -v t2="${BEST[$2]}" -v r2="${RSS[$2]}" 'BEGIN {
            printf "| %s | %.3f | %.1f | %.3f | %.1f | %.2fx |\n", label, t1, r1 / 1024, t2, r2 / 1024, r2 / r1 }'
    done
fi
echo
MAX_RSS=0 MAX_ROW=""
for i in 0 3 5 6 8 10 11 12 13 14 15 16; do
    ((i < COUNT)) || continue
    ((RSS[i] <= MAX_RSS)) || { MAX_RSS=${RSS[i]}; MAX_ROW=${NAMES[i]}; }
done
MAX_RSS_MAIN=0
for i in 0 3 5 6 8 10 12 13 14 15; do  # without --skip-unsupported
    ((i < COUNT)) || continue
    ((RSS[i] <= MAX_RSS_MAIN)) || MAX_RSS_MAIN=${RSS[i]}
done
awk -v o="${BEST[0]}" -v it="${BEST[1]}" -v js="${BEST[2]}" -v w="${BEST[8]}" -v wb="${OUT_BYTES[8]}" \
    -v s="${BEST[9]}" -v sb="${OUT_BYTES[9]}" -v r="${BEST[12]}" -v rb="${OUT_BYTES[12]}" -v m="$MAX_RSS" -v mrow="$MAX_ROW" -v mm="$MAX_RSS_MAIN" 'BEGIN {
    printf "RDB -> JSONL vs rdb-py: %.2fx its iterate + json.dumps rate, %.2fx its iterate-only rate (target >= 2x)\n", js / o, it / o
    printf "Writing: %.1f MB/s vs SAVE %.1f MB/s = %.2fx (target >= 1x); every string compressed anew (--recompress): %.1f MB/s = %.2fx\n", wb / w / 1e6, sb / s / 1e6, (wb / w) / (sb / s), rb / r / 1e6, (rb / r) / (sb / s)
    printf "Highest peak RSS of redis-convert: %.1f MiB without --skip-unsupported; %.1f MiB over all rows (%s) (target: bounded, well under 100 MiB)\n", mm / 1024, m / 1024, mrow
}'
echo
echo "Per-round wall times (s):"
echo
echo "| command | rounds |"
echo "|---|---|"
for ((i = 0; i < COUNT; i++)); do echo "| ${NAMES[i]} |${ROUND_WALLS[i]} |"; done
