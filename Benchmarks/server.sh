#!/usr/bin/env bash
# Benchmark our redis-server against Redis 7.0 with redis-benchmark, in the same run, interleaved, then the RSS of
# both holding the mixed dataset. Prints plain-text markdown tables (docs/BENCHMARKS.md, "Server").
#
#   Benchmarks/server.sh [RDB]      default RDB: bench-data/mixed.rdb (made by make_dataset.py if missing)
#
# Environment: ROUNDS (interleaved rounds, best throughput kept; default 3), REQUESTS (-n, default 200000),
# CLIENTS (-c, default 50), TESTS (default set,get,incr,lpush,hset,zadd), REDIS_SERVER (default
# /usr/bin/redis-server: the one on PATH may be a shim for another version), REDIS_BENCHMARK (default
# /usr/bin/redis-benchmark), SKIP_BUILD=1 to reuse the release binary, OURS (a redis-server binary to measure instead
# of the release build; implies SKIP_BUILD), PORTS (two free ports, default "7858 7859").
#
# Exits non-zero if a build fails, a server does not start, or redis-benchmark fails.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROUNDS=${ROUNDS:-3}
REQUESTS=${REQUESTS:-200000}
CLIENTS=${CLIENTS:-50}
TESTS=${TESTS:-set,get,incr,lpush,hset,zadd}
REDIS_SERVER=${REDIS_SERVER:-/usr/bin/redis-server}
REDIS_BENCHMARK=${REDIS_BENCHMARK:-/usr/bin/redis-benchmark}
REDIS_CLI=${REDIS_CLI:-/usr/bin/redis-cli}
read -r OUR_PORT THEIR_PORT <<<"${PORTS:-7858 7859}"
DEFAULT_RDB="$REPO/bench-data/mixed.rdb"
RDB=${1:-$DEFAULT_RDB}

die() { echo "server.sh: $*" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/server-bench.XXXXXX")
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

[[ -x "$REDIS_SERVER" ]] || die "$REDIS_SERVER not found (install Debian's redis-server)"
[[ -x "$REDIS_BENCHMARK" ]] || die "$REDIS_BENCHMARK not found (install Debian's redis-tools)"

if [[ "${SKIP_BUILD:-0}" != 1 && -z "${OURS:-}" ]]; then
    echo "# building the release server" >&2
    (cd "$REPO" && swift build -c release --product redis-server >&2) || die "building redis-server failed"
fi
OURS=${OURS:-"$(cd "$REPO" && swift build -c release --show-bin-path)/redis-server"}
[[ -x "$OURS" ]] || die "$OURS not built"

# start NAME BINARY PORT DIR [args…]: starts a server in the background and waits for PING.
start() {
    local name=$1 binary=$2 port=$3 dir=$4
    shift 4
    mkdir -p "$dir"
    "$binary" --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no --logfile "$dir/log" "$@" &
    PIDS+=($!)
    LAST_PID=$!
    for _ in $(seq 1 600); do
        "$REDIS_CLI" -p "$port" PING 2>/dev/null | grep -q PONG && return 0
        kill -0 "$LAST_PID" 2>/dev/null || break
        sleep 0.1
    done
    tail -20 "$dir/log" >&2
    die "$name did not start on port $port"
}

stop() {  # stop PORT PID
    "$REDIS_CLI" -p "$1" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
    for _ in $(seq 1 100); do kill -0 "$2" 2>/dev/null || return 0; sleep 0.05; done
    kill "$2" 2>/dev/null || true
}

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# --- throughput: the same redis-benchmark runs against both, interleaved --------------------------------
start ours "$OURS" "$OUR_PORT" "$WORK/ours"
OUR_PID=$LAST_PID
start redis "$REDIS_SERVER" "$THEIR_PORT" "$WORK/redis"
THEIR_PID=$LAST_PID

declare -A BEST
for round in $(seq 1 "$ROUNDS"); do
    for pipeline in 1 16; do
        for side in ours redis; do
            port=$OUR_PORT
            [[ $side == redis ]] && port=$THEIR_PORT
            "$REDIS_CLI" -p "$port" FLUSHALL >/dev/null
            out=$("$REDIS_BENCHMARK" -p "$port" -t "$TESTS" -n "$REQUESTS" -c "$CLIENTS" -P "$pipeline" --csv) \
                || die "redis-benchmark failed against $side"
            # CSV: "test","rps","avg_latency_ms",… (header line first)
            while IFS=, read -r test rps _; do
                test=${test//\"/}
                rps=${rps//\"/}
                [[ $test == test ]] && continue
                key="$side|$pipeline|$test"
                if [[ -z "${BEST[$key]:-}" ]] || awk -v a="$rps" -v b="${BEST[$key]}" 'BEGIN { exit !(a > b) }'; then
                    BEST[$key]=$rps
                fi
            done <<<"$out"
        done
    done
    echo "# round $round done" >&2
done
stop "$OUR_PORT" "$OUR_PID"
stop "$THEIR_PORT" "$THEIR_PID"

echo "## Throughput (requests per second, best of $ROUNDS interleaved rounds; -n $REQUESTS -c $CLIENTS)"
echo
echo "| test | pipeline | redis-server (ours) | Redis 7.0 | ratio |"
echo "|---|---:|---:|---:|---:|"
for pipeline in 1 16; do
    for test in $(echo "$TESTS" | tr ',' ' '); do
        upper=$(echo "$test" | tr '[:lower:]' '[:upper:]')
        ours=${BEST["ours|$pipeline|$upper"]:-}
        theirs=${BEST["redis|$pipeline|$upper"]:-}
        [[ -n $ours && -n $theirs ]] || { echo "| $upper | $pipeline | ${ours:-?} | ${theirs:-?} | ? |"; continue; }
        ratio=$(awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "%.2f", a / b }')
        printf '| %s | %s | %.0f | %.0f | %s |\n' "$upper" "$pipeline" "$ours" "$theirs" "$ratio"
    done
done
echo

# --- memory: RSS holding the mixed dataset -------------------------------------------------------------
if [[ ! -f "$RDB" ]]; then
    [[ "$RDB" == "$DEFAULT_RDB" ]] || die "$RDB: no such file"
    echo "# $RDB missing: generating it with make_dataset.py" >&2
    python3 "$REPO/Benchmarks/make_dataset.py" "$RDB" >&2 || die "make_dataset.py failed"
fi
for side in ours redis; do
    mkdir -p "$WORK/mem-$side"
    cp "$RDB" "$WORK/mem-$side/dump.rdb"
done
START_NS=$(date +%s%N)
start ours "$OURS" "$OUR_PORT" "$WORK/mem-ours"
OUR_LOAD_S=$(awk -v a="$START_NS" -v b="$(date +%s%N)" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
OUR_PID=$LAST_PID
START_NS=$(date +%s%N)
start redis "$REDIS_SERVER" "$THEIR_PORT" "$WORK/mem-redis"
THEIR_LOAD_S=$(awk -v a="$START_NS" -v b="$(date +%s%N)" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
THEIR_PID=$LAST_PID
sleep 1
OUR_KEYS=$("$REDIS_CLI" -p "$OUR_PORT" INFO keyspace | tr -d '\r' | grep '^db' | tr '\n' ' ')
THEIR_KEYS=$("$REDIS_CLI" -p "$THEIR_PORT" INFO keyspace | tr -d '\r' | grep '^db' | tr '\n' ' ')
OUR_RSS=$(rss_kib "$OUR_PID")
THEIR_RSS=$(rss_kib "$THEIR_PID")
stop "$OUR_PORT" "$OUR_PID"
stop "$THEIR_PORT" "$THEIR_PID"

echo "## Memory holding $(basename "$RDB") ($(stat -c %s "$RDB") bytes)"
echo
echo "| server | RSS (MiB) | start-up to first PONG (s) | keyspace |"
echo "|---|---:|---:|---|"
awk -v r="$OUR_RSS" -v s="$OUR_LOAD_S" -v k="$OUR_KEYS" 'BEGIN { printf "| redis-server (ours) | %.1f | %s | %s |\n", r / 1024, s, k }'
awk -v r="$THEIR_RSS" -v s="$THEIR_LOAD_S" -v k="$THEIR_KEYS" 'BEGIN { printf "| Redis 7.0 | %.1f | %s | %s |\n", r / 1024, s, k }'
awk -v a="$OUR_RSS" -v b="$THEIR_RSS" 'BEGIN { printf "\nRSS ratio (ours / Redis): %.2f\n", a / b }'
# avg_ttl is an estimate Redis samples; ours reports 0. Keys and expiries must agree.
strip_ttl() { sed 's/,avg_ttl=[0-9]*//g'; }
[[ "$(strip_ttl <<<"$OUR_KEYS")" == "$(strip_ttl <<<"$THEIR_KEYS")" ]] \
    || echo "WARNING: the keyspaces differ (ours: $OUR_KEYS; Redis: $THEIR_KEYS)"
