#!/usr/bin/env bash
# Persistence benchmark (issue #6): our redis-server vs Redis 7.0 — load, SAVE, BGSAVE, snapshot pause vs fork,
# latency and extra memory during a BGSAVE under writes. See Benchmarks/persistence.py; figures in
# docs/BENCHMARKS.md ("Persistence").
#
#   Benchmarks/persistence.sh [RDB]        default bench-data/mixed.rdb (made by make_dataset.py if missing)
# Environment: SKIP_BUILD=1 reuses the release binary; OURS (a redis-server binary to measure instead of the
# release build; implies SKIP_BUILD); BIG_KEYS (default 2000000) for the second dataset; LOAD_ROUNDS (default 5,
# 0 to skip) interleaved load-only rounds of both servers after the table.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RDB=${1:-$REPO/bench-data/mixed.rdb}
[[ -f "$RDB" ]] || python3 "$REPO/Benchmarks/make_dataset.py" "$RDB"
if [[ "${SKIP_BUILD:-0}" != 1 && -z "${OURS:-}" ]]; then
    (cd "$REPO" && swift build -c release --product redis-server >&2)
fi
OURS=${OURS:-"$(cd "$REPO" && swift build -c release --show-bin-path)/redis-server"}
echo "commit $(git -C "$REPO" rev-parse --short HEAD)$(git -C "$REPO" diff --quiet -- Sources || echo ' + uncommitted changes'); $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
python3 "$REPO/Benchmarks/persistence.py" "$OURS" "$RDB"
