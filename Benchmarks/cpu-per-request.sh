#!/usr/bin/env bash
# Server CPU time per request: the user + system time a running server's process spends over one pipelined
# redis-benchmark run, divided by the requests. Steadier than requests per second on a shared machine (about ±2%),
# and the same measure for our server and Redis. Prints one line per run.
#
#   Benchmarks/cpu-per-request.sh PORT TEST [REQUESTS]     e.g. Benchmarks/cpu-per-request.sh 7858 get
#
# The server on PORT must already run on this machine (started by hand, e.g. with --save "" --appendonly no).
# Environment: PIPELINE (-P, default 16), CLIENTS (-c, default 50), REDIS_BENCHMARK (default /usr/bin/redis-benchmark).
set -euo pipefail

PORT=${1:?usage: cpu-per-request.sh PORT TEST [REQUESTS]}
TEST=${2:?usage: cpu-per-request.sh PORT TEST [REQUESTS]}
REQUESTS=${3:-2000000}
PIPELINE=${PIPELINE:-16}
CLIENTS=${CLIENTS:-50}
REDIS_BENCHMARK=${REDIS_BENCHMARK:-/usr/bin/redis-benchmark}

# The process listening on PORT.
PID=$(ss -Htlnp "sport = :$PORT" | grep -o "pid=[0-9]*" | head -1 | cut -d= -f2 || true)
if [[ -z "$PID" ]]; then
    echo "no server listens on port $PORT" >&2
    exit 1
fi
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$PID/stat"; }

before=$(cpu_ticks)
rate=$("$REDIS_BENCHMARK" -p "$PORT" -t "$TEST" -n "$REQUESTS" -c "$CLIENTS" -P "$PIPELINE" -q \
    | tr '\r' '\n' | awk '/requests per second/ { print $2 }' | tail -1)
after=$(cpu_ticks)
awk -v a="$before" -v b="$after" -v n="$REQUESTS" -v r="$rate" -v t="$TEST" -v p="$PORT" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "port %s %-6s %10.0f requests/s  server CPU %5.0f ns/request\n", p, t, r, (b - a) / hz * 1e9 / n }'
