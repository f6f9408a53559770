#!/usr/bin/env bash
# Benchmark our redis-check-aof against Redis's own redis-check-aof (Debian's 7.0) on the AOF of the mixed
# dataset, as a multi-part directory (the manifest) and as the plain single file (the base file itself), with
# and without an RDB preamble. Prints markdown tables.
#
#   Benchmarks/aof.sh [RDB]        default RDB: bench-data/mixed.rdb (made by make_dataset.py if missing)
#
# The AOFs are made once from the RDB by a private Redis 7.0 and kept in bench-data/aof-<RDB name>/:
#   resp/      redis-server loads the RDB; CONFIG SET aof-use-rdb-preamble no; CONFIG SET appendonly yes, whose
#              rewrite writes appendonly.aof.1.base.aof (RESP, about 170 MiB), an empty INCR file and the manifest
#   preamble/  then CONFIG SET aof-use-rdb-preamble yes; BGREWRITEAOF: appendonly.aof.2.base.rdb (the same data
#              as an RDB), an empty INCR file and the manifest
# A gzip -6 copy of the RESP base is made per run (ours only: Redis's tool cannot read gzip).
#
# Environment:
#   RUNS             timed rounds (default 3); every command runs once per round, interleaved; best wall kept
#   SKIP_BUILD=1     reuse the release binary in .build-aof-rel/ instead of building it
#   OUR_CHECK_AOF    a redis-check-aof binary of ours to measure instead (no build)
#   CALLGRIND=1      also count instructions of both tools on the two plain files (valgrind; minutes)
#   REDIS_SERVER, REDIS_CLI, REDIS_CHECK_AOF   default /usr/bin/...: `redis-server` on PATH may be a pyenv shim
#                    for another Redis version
#   BENCH_PORT       the private server's port while the AOFs are made (default 7778)
#
# Checked before the figures are trusted (any failure exits non-zero): every run of both tools exits 0, and
# both tools print the same "AOF analyzed:" lines (size, ok_up_to, ok_up_to_line, diff) for every input, and
# the same key count for the RDB preamble.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$REPO/Benchmarks"
RUNS=${RUNS:-3}
REDIS_SERVER=${REDIS_SERVER:-/usr/bin/redis-server}
REDIS_CLI=${REDIS_CLI:-/usr/bin/redis-cli}
REDIS_CHECK_AOF=${REDIS_CHECK_AOF:-/usr/bin/redis-check-aof}
BENCH_PORT=${BENCH_PORT:-7778}
DEFAULT_RDB="$REPO/bench-data/mixed.rdb"
RDB=$(realpath -m "${1:-$DEFAULT_RDB}")
DATA="$(dirname "$RDB")/aof-$(basename "$RDB" .rdb)"
SCRATCH="$REPO/.build-aof-rel"
# shellcheck source=lib.sh
source "$BENCH/lib.sh"

die() { echo "aof.sh: $*" >&2; exit 1; }
note() { echo "# $*" >&2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/aof-bench.XXXXXX")
SERVER_PID=""
cleanup() {
    stop_pid "$SERVER_PID"
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- tools ------------------------------------------------------------------------------------------
require_executables "$REDIS_SERVER" "$REDIS_CLI" "$REDIS_CHECK_AOF"
command -v gzip >/dev/null || die "gzip not found"
build_product redis-check-aof "$SCRATCH" "${OUR_CHECK_AOF:-}"

# --- datasets ---------------------------------------------------------------------------------------
if [[ ! -f "$RDB" ]]; then
    [[ "$RDB" == "$DEFAULT_RDB" ]] || die "$RDB: no such file"
    note "$RDB missing: generating it with make_dataset.py"
    python3 "$BENCH/make_dataset.py" "$RDB" >&2 || die "make_dataset.py failed"
fi

cli() { "$REDIS_CLI" -p "$BENCH_PORT" "$@"; }
wait_for() {  # wait_for WHAT PATTERN...: until INFO persistence has a line equal to each pattern
    local what=$1 deadline=$((SECONDS + 600)) info pattern ok
    shift
    while true; do
        kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$WORK/gen/redis.log" >&2; die "redis-server exited ($what)"; }
        info=$(cli INFO persistence 2>/dev/null | tr -d '\r' || true) ok=1
        for pattern in "$@"; do grep -qx "$pattern" <<<"$info" || ok=0; done
        ((ok)) && return 0
        ((SECONDS < deadline)) || die "timed out waiting for $what"
        sleep 0.3
    done
}
make_aofs() {  # the two AOF directories, from the RDB, through a private Redis 7.0
    local gen="$WORK/gen"
    mkdir -p "$gen"
    cp "$RDB" "$gen/dump.rdb"
    ! cli PING >/dev/null 2>&1 || die "port $BENCH_PORT is in use; set BENCH_PORT"
    "$REDIS_SERVER" --port "$BENCH_PORT" --bind 127.0.0.1 --dir "$gen" --dbfilename dump.rdb --save "" \
        --appendonly no --logfile "$gen/redis.log" >/dev/null 2>&1 &
    SERVER_PID=$!
    wait_for "loading the RDB" "loading:0"
    cli CONFIG SET aof-use-rdb-preamble no >/dev/null
    cli CONFIG SET appendonly yes >/dev/null
    wait_for "the RESP rewrite" "aof_enabled:1" "aof_rewrites:1" "aof_rewrite_in_progress:0" "aof_rewrite_scheduled:0" \
        "aof_last_bgrewrite_status:ok"
    rm -rf "$DATA" && mkdir -p "$DATA"
    cp -r "$gen/appendonlydir" "$DATA/resp"
    cli CONFIG SET aof-use-rdb-preamble yes >/dev/null
    cli BGREWRITEAOF >/dev/null
    wait_for "the preamble rewrite" "aof_rewrites:2" "aof_rewrite_in_progress:0" "aof_rewrite_scheduled:0" \
        "aof_last_bgrewrite_status:ok"
    cp -r "$gen/appendonlydir" "$DATA/preamble"
    cli SHUTDOWN NOSAVE >/dev/null 2>&1 || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
    echo "made by $("$REDIS_SERVER" --version | cut -d' ' -f1-3) from $(basename "$RDB")" >"$DATA/complete"
}
if [[ ! -f "$DATA/complete" ]]; then
    note "making the AOFs of $RDB in $DATA (a private Redis on port $BENCH_PORT)"
    make_aofs
fi
RESP_BASE=$(ls "$DATA"/resp/*.base.aof) || die "no RESP base in $DATA/resp"
RDB_BASE=$(ls "$DATA"/preamble/*.base.rdb) || die "no RDB base in $DATA/preamble"
RESP_MANIFEST=$(ls "$DATA"/resp/*.manifest)
RDB_MANIFEST=$(ls "$DATA"/preamble/*.manifest)
GZ="$WORK/$(basename "$RESP_BASE").gz"
note "gzip -6 copy of the RESP base"
gzip -c -6 "$RESP_BASE" >"$GZ"
files_bytes() { cat "$@" | wc -c; }

# --- commands -----------------------------------------------------------------------------------------
# Even indexes are ours, odd ones Redis's tool on the same input; the last one is ours on the gzip copy.
NAMES=("ours, RESP manifest" "redis-check-aof, RESP manifest" "ours, RESP plain file" "redis-check-aof, RESP plain file"
    "ours, preamble manifest" "redis-check-aof, preamble manifest" "ours, preamble plain file"
    "redis-check-aof, preamble plain file" "ours, RESP plain file gzip -6")
INPUTS=("$RESP_MANIFEST" "$RESP_MANIFEST" "$RESP_BASE" "$RESP_BASE" "$RDB_MANIFEST" "$RDB_MANIFEST" "$RDB_BASE" "$RDB_BASE" "$GZ")
COUNT=${#NAMES[@]}
BYTES=()
for ((i = 0; i < COUNT; i++)); do
    case ${INPUTS[i]} in
        *.manifest) BYTES[i]=$(files_bytes "$(dirname "${INPUTS[i]}")"/*) ;;
        *.gz) BYTES[i]=$(stat -c %s "$RESP_BASE") ;;  # rated by the decompressed bytes
        *) BYTES[i]=$(stat -c %s "${INPUTS[i]}") ;;
    esac
done
command_for() {  # command_for INDEX: sets CMD
    if (($1 % 2 == 0)); then CMD=("$OURS" "${INPUTS[$1]}"); else CMD=("$REDIS_CHECK_AOF" "${INPUTS[$1]}"); fi
}
cat "$RESP_BASE" "$RDB_BASE" "$GZ" >/dev/null  # page cache warm for every timed run

# --- correctness pass: both tools accept every input and agree on what they analyzed ---------------------
analyzed() { grep -E '^AOF analyzed:|^\[info\] [0-9]+ keys read' "$1" | sort; }
for ((i = 0; i < COUNT; i++)); do
    command_for "$i"
    "${CMD[@]}" >"$WORK/check.$i" 2>"$WORK/check.$i.err" \
        || { tail -20 "$WORK/check.$i" "$WORK/check.$i.err" >&2; die "${NAMES[i]} rejects ${INPUTS[i]}"; }
done
for pair in "0 1" "2 3" "4 5" "6 7"; do
    set -- $pair
    diff <(analyzed "$WORK/check.$1") <(analyzed "$WORK/check.$2") >&2 \
        || die "${NAMES[$1]} and ${NAMES[$2]} disagree (above)"
done
diff <(analyzed "$WORK/check.2" | sed 's/filename=[^,]*,//') <(analyzed "$WORK/check.8" | sed 's/filename=[^,]*,//') >&2 \
    || die "the gzip copy is analyzed differently from the plain file (above)"
ANALYZED_RESP=$(grep '^AOF analyzed:' "$WORK/check.3" | sed 's/^AOF analyzed: filename=[^,]*, //')
KEYS=$(sed -n 's/^\[info\] \([0-9]*\) keys read$/\1/p' "$WORK/check.7")

# --- timing -----------------------------------------------------------------------------------------
BEST=() RSS=() ROUND_WALLS=()
for ((i = 0; i < COUNT; i++)); do BEST[i]="" RSS[i]=0 ROUND_WALLS[i]=""; done
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
note "timing ($RUNS interleaved rounds of $COUNT commands, page cache warm; load average before: $LOAD_BEFORE)"
for ((round = 1; round <= RUNS; round++)); do
    for ((i = 0; i < COUNT; i++)); do
        command_for "$i"
        time_command /dev/null "$WORK/err.$i" "${CMD[@]}" \
            || { tail -20 "$WORK/err.$i" >&2; die "${NAMES[i]} failed (round $round): ${CMD[*]}"; }
        note "  round $round ${NAMES[i]}: $WALL s, peak RSS $RSS_KIB KiB"
        ROUND_WALLS[i]+=" $WALL"
        ! is_less "$WALL" "${BEST[i]}" || BEST[i]=$WALL
        ((RSS_KIB <= RSS[i])) || RSS[i]=$RSS_KIB
    done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

INSN=()
if [[ "${CALLGRIND:-0}" == 1 ]]; then
    command -v valgrind >/dev/null || die "CALLGRIND=1 needs valgrind"
    # valgrind 3.19 cannot read the DWARF 5 that swiftc emits: count on a copy without debug info.
    strip --strip-debug -o "$WORK/redis-check-aof" "$OURS" || die "strip failed"
    for i in 2 3 6 7; do
        note "callgrind: ${NAMES[i]}"
        command_for "$i"
        (($i % 2 == 1)) || CMD[0]="$WORK/redis-check-aof"
        valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.$i" "${CMD[@]}" >/dev/null 2>"$WORK/cg.$i.err" \
            || { tail "$WORK/cg.$i.err" >&2; die "callgrind run of ${NAMES[i]} failed"; }
        INSN[i]=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$WORK/cg.$i.err")
    done
fi

# --- report -------------------------------------------------------------------------------------------
row() {  # row INDEX [REFERENCE_INDEX]: the ratio columns compare with the reference (Redis's tool)
    local i=$1 ref=${2:-}
    awk -v name="${NAMES[i]}" -v t="${BEST[i]}" -v bytes="${BYTES[i]}" -v rss="${RSS[i]}" \
        -v rt="${ref:+${BEST[$ref]}}" -v rrss="${ref:+${RSS[$ref]}}" 'BEGIN {
        wall = rt == "" ? "" : sprintf("%.2fx", t / rt); mem = rt == "" ? "" : sprintf("%.2fx", rss / rrss)
        printf "| %s | %.1f | %.3f | %.1f | %.1f | %s | %s |\n", name, bytes / 1e6, t, bytes / t / 1e6, rss / 1024, wall, mem
    }'
}
OUR_VERSION=$("$OURS" --version 2>/dev/null | head -1)
REDIS_VERSION=$("$REDIS_SERVER" --version | sed 's/^Redis server v=\([^ ]*\).*/\1/')
echo "RDB: $RDB ($(stat -c %s "$RDB") bytes); AOFs in $DATA ($(cat "$DATA/complete"))"
echo "RESP base: $(basename "$RESP_BASE"), $ANALYZED_RESP; gzip -6 copy $(stat -c %s "$GZ") bytes"
echo "RDB base: $(basename "$RDB_BASE"), $(stat -c %s "$RDB_BASE") bytes, $KEYS keys; the INCR files are empty"
echo "Tools: $OUR_VERSION ($SOURCE_STATE); redis-check-aof of Redis $REDIS_VERSION ($REDIS_CHECK_AOF)"
echo "Load average before timing: $LOAD_BEFORE, after: $LOAD_AFTER ($(nproc) cores)"
echo "Best of $RUNS interleaved rounds; MB/s = input bytes (every file of a manifest's directory; decompressed for"
echo "gzip) / wall / 10^6; peak RSS = highest of the rounds (/usr/bin/time %M). Checks passed: both tools find"
echo "every input valid and print the same AOF analyzed lines (and key count for the preamble)."
echo
echo "| tool, input | input MB | wall s | MB/s | peak RSS MiB | wall ours/theirs | RSS ours/theirs |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for pair in "0 1" "2 3" "4 5" "6 7"; do
    set -- $pair
    row "$1" "$2"
    row "$2"
done
row 8 3
echo
awk -v a="${BEST[0]}" -v b="${BEST[1]}" -v c="${BEST[2]}" -v d="${BEST[3]}" -v e="${BEST[4]}" -v f="${BEST[5]}" \
    -v g="${BEST[6]}" -v h="${BEST[7]}" 'BEGIN {
    printf "Speed-up (redis-check-aof wall / ours): RESP manifest %.2fx, RESP plain %.2fx, preamble manifest %.2fx, preamble plain %.2fx (target >= 1x)\n",
        b / a, d / c, f / e, h / g
}'
if ((${#INSN[@]})); then
    awk -v o1="${INSN[2]}" -v t1="${INSN[3]}" -v o2="${INSN[6]}" -v t2="${INSN[7]}" 'BEGIN {
        printf "Instructions (callgrind): RESP plain ours %.3f G vs %.3f G (%.2fx); preamble plain ours %.3f G vs %.3f G (%.2fx)\n",
            o1 / 1e9, t1 / 1e9, o1 / t1, o2 / 1e9, t2 / 1e9, o2 / t2
    }'
fi
echo
echo "Per-round wall times (s):"
echo
echo "| command | rounds |"
echo "|---|---|"
for ((i = 0; i < COUNT; i++)); do echo "| ${NAMES[i]} |${ROUND_WALLS[i]} |"; done
