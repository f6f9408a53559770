#!/usr/bin/env bash
# Benchmark redis-check-dump against Redis's own redis-check-rdb on the same RDB, then the Formats
# primitives (CRC64, LZF) through FormatsBench. Prints plain-text markdown tables.
#
#   Benchmarks/run.sh [RDB]        default RDB: bench-data/mixed.rdb (made by make_dataset.py if missing)
#
# Environment: RUNS (timed runs per row, best wall time kept; default 3), REDIS_CHECK_RDB (default
# /usr/bin/redis-check-rdb: a pyenv shim on PATH may be another Redis version), SKIP_BUILD=1 to reuse
# the existing release binaries, CALLGRIND=1 to also count instructions of both checkers under
# valgrind's callgrind (about a minute each; unlike wall time, independent of other load).
#
# Exits non-zero if a build fails, a tool exits non-zero (on any run), or the two tools disagree on
# the number of keys.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$REPO/Benchmarks"
RUNS=${RUNS:-3}
REDIS_CHECK_RDB=${REDIS_CHECK_RDB:-/usr/bin/redis-check-rdb}
DEFAULT_RDB="$REPO/bench-data/mixed.rdb"
RDB=${1:-$DEFAULT_RDB}

die() { echo "run.sh: $*" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/rdb-bench-run.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# --- tools ------------------------------------------------------------------------------------------
if [[ ! -x /usr/bin/time ]]; then
    echo "# /usr/bin/time missing: installing Debian's 'time' package" >&2
    apt-get install -y time >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y time >/dev/null; } \
        || die "cannot install /usr/bin/time"
fi
[[ -x "$REDIS_CHECK_RDB" ]] || die "$REDIS_CHECK_RDB not found (install Debian's redis-tools)"
command -v gzip >/dev/null || die "gzip not found"

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    echo "# building release binaries" >&2
    (cd "$REPO" && swift build -c release --product redis-check-dump >&2) || die "building redis-check-dump failed"
    (cd "$BENCH" && swift build -c release --product FormatsBench >&2) || die "building FormatsBench failed"
fi
OURS="$(cd "$REPO" && swift build -c release --show-bin-path)/redis-check-dump"
FORMATSBENCH="$(cd "$BENCH" && swift build -c release --show-bin-path)/FormatsBench"
[[ -x "$OURS" ]] || die "$OURS not built"
[[ -x "$FORMATSBENCH" ]] || die "$FORMATSBENCH not built"

# --- dataset ----------------------------------------------------------------------------------------
if [[ ! -f "$RDB" ]]; then
    [[ "$RDB" == "$DEFAULT_RDB" ]] || die "$RDB: no such file"
    echo "# $RDB missing: generating it with make_dataset.py" >&2
    python3 "$BENCH/make_dataset.py" "$RDB" >&2 || die "make_dataset.py failed"
fi
RDB_BYTES=$(stat -c %s "$RDB")
GZ="$WORK/$(basename "$RDB").gz"
gzip -c -6 "$RDB" >"$GZ"
GZ_BYTES=$(stat -c %s "$GZ")
cat "$RDB" "$GZ" >/dev/null  # warm the page cache: every timed run reads from memory

# --- correctness pass: both tools must accept the file and agree on the key count ------------------
"$OURS" --json "$RDB" >"$WORK/ours.json" 2>"$WORK/ours.err" \
    || { cat "$WORK/ours.json" "$WORK/ours.err" >&2; die "redis-check-dump rejected $RDB"; }
"$REDIS_CHECK_RDB" "$RDB" >"$WORK/theirs.txt" 2>&1 \
    || { tail -20 "$WORK/theirs.txt" >&2; die "redis-check-rdb rejected $RDB"; }
OUR_KEYS=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["keys"])' "$WORK/ours.json")
THEIR_KEYS=$(sed -n 's/^\[info\] \([0-9]*\) keys read$/\1/p' "$WORK/theirs.txt")
[[ -n "$THEIR_KEYS" ]] || die "could not read the key count from redis-check-rdb's output"
[[ "$OUR_KEYS" == "$THEIR_KEYS" ]] || die "key counts differ: redis-check-dump $OUR_KEYS, redis-check-rdb $THEIR_KEYS"
"$OURS" --json "$GZ" >"$WORK/gz.json" 2>"$WORK/gz.err" \
    || { cat "$WORK/gz.json" "$WORK/gz.err" >&2; die "redis-check-dump rejected the gzip copy"; }
GZ_KEYS=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["keys"])' "$WORK/gz.json")
[[ "$GZ_KEYS" == "$OUR_KEYS" ]] || die "gzip copy: $GZ_KEYS keys, plain: $OUR_KEYS"
KEYS=$OUR_KEYS

# --- timing -----------------------------------------------------------------------------------------
# The four commands run interleaved (round 1 of each, then round 2, ...), so a burst of load from
# elsewhere on the machine hits all of them alike. Per command: best wall time, highest peak RSS.
NAMES=("redis-check-dump" "redis-check-rdb" "redis-check-dump (gzip)" "redis-check-dump --no-duplicate-check")
command_for() {  # command_for INDEX: sets CMD
    case $1 in
        0) CMD=("$OURS" "$RDB") ;;
        1) CMD=("$REDIS_CHECK_RDB" "$RDB") ;;
        2) CMD=("$OURS" "$GZ") ;;
        3) CMD=("$OURS" --no-duplicate-check "$RDB") ;;
    esac
}
BEST=("" "" "" "") RSS=(0 0 0 0)
echo "# timing ($RUNS interleaved rounds, page cache warm; load average before: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
for ((round = 1; round <= RUNS; round++)); do
    for index in 0 1 2 3; do
        command_for "$index"
        start=$(date +%s%N)
        if ! /usr/bin/time -f "%e %M" -o "$WORK/time.out" "${CMD[@]}" >"$WORK/run.out" 2>"$WORK/run.err"; then
            tail -20 "$WORK/run.out" "$WORK/run.err" >&2
            die "${NAMES[$index]} failed (round $round) on $RDB"
        fi
        end=$(date +%s%N)
        wall=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", (e - s) / 1e9 }')
        rss=$(tail -1 "$WORK/time.out" | awk '{ print $2 }')
        echo "#   round $round ${NAMES[$index]}: ${wall} s, peak RSS ${rss} KiB" >&2
        if [[ -z "${BEST[$index]}" ]] || awk -v a="$wall" -v b="${BEST[$index]}" 'BEGIN { exit !(a < b) }'; then
            BEST[$index]=$wall
        fi
        if ((rss > RSS[index])); then RSS[index]=$rss; fi
    done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
OURS_T=${BEST[0]} OURS_RSS=${RSS[0]}
THEIRS_T=${BEST[1]} THEIRS_RSS=${RSS[1]}
GZ_T=${BEST[2]} GZ_RSS=${RSS[2]}
NODUP_T=${BEST[3]} NODUP_RSS=${RSS[3]}

INSN_OURS="" INSN_THEIRS=""
if [[ "${CALLGRIND:-0}" == 1 ]]; then
    command -v valgrind >/dev/null || die "CALLGRIND=1 needs valgrind"
    echo "# callgrind (instruction counts)" >&2
    # valgrind 3.19 cannot read the DWARF 5 that swiftc emits: count on a copy without debug info.
    objcopy --strip-debug "$OURS" "$WORK/redis-check-dump" || die "objcopy failed"
    valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.ours" "$WORK/redis-check-dump" "$RDB" \
        >/dev/null 2>"$WORK/cg.ours.err" || { tail "$WORK/cg.ours.err" >&2; die "callgrind run of redis-check-dump failed"; }
    valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.theirs" "$REDIS_CHECK_RDB" "$RDB" \
        >/dev/null 2>"$WORK/cg.theirs.err" || { tail "$WORK/cg.theirs.err" >&2; die "callgrind run of redis-check-rdb failed"; }
    INSN_OURS=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$WORK/cg.ours.err")
    INSN_THEIRS=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$WORK/cg.theirs.err")
    [[ -n "$INSN_OURS" && -n "$INSN_THEIRS" ]] || die "could not read callgrind's instruction counts"
    if [[ -n "${CALLGRIND_KEEP:-}" ]]; then
        mkdir -p "$CALLGRIND_KEEP" && cp "$WORK/cg.ours" "$WORK/cg.theirs" "$CALLGRIND_KEEP/"
    fi
fi

echo "# FormatsBench" >&2
"$FORMATSBENCH" >"$WORK/formats.txt" 2>"$WORK/formats.err" \
    || { cat "$WORK/formats.txt" "$WORK/formats.err" >&2; die "FormatsBench failed"; }

# --- report -----------------------------------------------------------------------------------------
row() {  # row TOOL INPUT SECONDS RSS_KIB
    awk -v tool="$1" -v input="$2" -v t="$3" -v rss="$4" -v bytes="$RDB_BYTES" -v keys="$KEYS" \
        -v tt="$THEIRS_T" -v trss="$THEIRS_RSS" 'BEGIN {
        printf "| %s | %s | %.3f | %.1f | %.0f | %.1f | %.2fx | %.2fx |\n",
            tool, input, t, bytes / t / 1e6, keys / t, rss / 1024, t / tt, rss / trss
    }'
}

OUR_VERSION=$("$OURS" --version 2>/dev/null | head -1)
SOURCE_STATE="commit $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
CHANGED=$(git -C "$REPO" status --porcelain -- Sources Package.swift 2>/dev/null | wc -l)
((CHANGED == 0)) || SOURCE_STATE+=" + $CHANGED uncommitted change(s) under Sources/"
SOURCE_STATE+=", sources sha256 $(cd "$REPO" && find Sources Package.swift -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-12)"
THEIR_VERSION=$("$REDIS_CHECK_RDB" --version 2>/dev/null | head -1)
echo "RDB: $RDB ($RDB_BYTES bytes, $(awk -v b="$RDB_BYTES" 'BEGIN { printf "%.1f", b / 1048576 }') MiB; gzip -6 copy $GZ_BYTES bytes), $KEYS keys"
echo "Tools: $OUR_VERSION ($SOURCE_STATE); $THEIR_VERSION"
echo "Load average after timing: $LOAD_AFTER (2 cores; anything above ~0.5 means other work shared the machine)"
echo "Best of $RUNS runs; MB/s = RDB bytes (uncompressed) / wall / 10^6; peak RSS = highest of the runs (/usr/bin/time %M)."
echo
echo "| tool | input | wall s | MB/s | keys/s | peak RSS MiB | wall ours/theirs | RSS ours/theirs |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
row "redis-check-dump" "rdb" "$OURS_T" "$OURS_RSS"
row "redis-check-rdb" "rdb" "$THEIRS_T" "$THEIRS_RSS"
row "redis-check-dump" "rdb.gz" "$GZ_T" "$GZ_RSS"
row "redis-check-dump --no-duplicate-check" "rdb" "$NODUP_T" "$NODUP_RSS"
echo
awk -v o="$OURS_T" -v t="$THEIRS_T" -v orss="$OURS_RSS" 'BEGIN {
    printf "Speed-up (redis-check-rdb wall / redis-check-dump wall): %.2fx (target >= 1x, aim 2x)\n", t / o
    printf "redis-check-dump peak RSS: %.1f MiB (target < 64 MiB)\n", orss / 1024
}'
if [[ -n "$INSN_OURS" ]]; then
    awk -v o="$INSN_OURS" -v t="$INSN_THEIRS" -v keys="$KEYS" 'BEGIN {
        printf "Instructions (callgrind): redis-check-dump %.3f G, redis-check-rdb %.3f G, ours/theirs %.2fx; per key %.0f vs %.0f\n",
            o / 1e9, t / 1e9, o / t, o / keys, t / keys
    }'
fi
echo
echo "| figure | value | unit | detail |"
echo "|---|---:|---|---|"
awk '{ name = $1; value = $2; unit = $3; $1 = $2 = $3 = ""; sub(/^ +/, ""); printf "| %s | %s | %s | %s |\n", name, value, unit, $0 }' \
    "$WORK/formats.txt"
