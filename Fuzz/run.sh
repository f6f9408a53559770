#!/usr/bin/env bash
# Runs the libFuzzer targets (issue #7) under AddressSanitizer for a bounded time each.
#
#   Fuzz/run.sh [SECONDS_PER_TARGET] [TARGET…]      default: 60 s, every target
#
# Seeds come from the repository's fixtures (real-server RDB and AOF files, hand-made and corrupt samples).
# Findings are written to Fuzz/findings/<target>/ (crash-*, timeout-*, oom-*) and make the script exit 1;
# turn each into a regression fixture under Fixtures/*/corrupt/ with a test. Prints executions per target.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SECONDS_PER_TARGET=${1:-60}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(FuzzRDB FuzzAOF FuzzRESP FuzzRestore FuzzJSON)
SCRATCH=${FUZZ_SCRATCH:-$ROOT/.build-fuzz}
# release (optimised, with ASan) runs many times faster; CI uses debug, which builds faster (FUZZ_CONFIG=debug).
CONFIG=${FUZZ_CONFIG:-release}

echo "building fuzz targets ($CONFIG, sanitize=fuzzer,address) in $SCRATCH"
swift build --package-path Fuzz --scratch-path "$SCRATCH" -c "$CONFIG" -Xswiftc -sanitize=fuzzer,address 2>&1 | tail -3

seed() {  # seed <corpus dir> <target>
    local corpus=$1
    mkdir -p "$corpus"
    case $2 in
        FuzzRDB|FuzzRestore)
            find Fixtures/rdb Fixtures/synthetic -name '*.rdb' -size -32k -exec cp {} "$corpus"/ \; ;;
        FuzzAOF)
            find Fixtures/aof -type f \( -name '*.aof' -o -name '*.rdb' -o -name '*.manifest' \) -size -32k |
                while read -r f; do cp "$f" "$corpus/$(echo "$f" | tr '/' '_')"; done ;;
        FuzzRESP)
            find Fixtures/aof -type f -name '*.aof' -size -32k |
                while read -r f; do cp "$f" "$corpus/$(echo "$f" | tr '/' '_')"; done
            printf 'PING\r\nSET a b\r\n' > "$corpus/inline"
            printf '*2\r\n$3\r\nGET\r\n$1\r\na\r\n' > "$corpus/multibulk" ;;
        FuzzJSON)  # redis-convert's output for some fixtures (every type, metadata), and a hand-written file
            cp Fuzz/Seeds/FuzzJSON/* "$corpus"/ ;;
    esac
}

status=0
printf '%-12s %10s %12s %8s %s\n' target seconds executions exec/s findings
for target in "${TARGETS[@]}"; do
    corpus=$(mktemp -d)
    seed "$corpus" "$target"
    findings=$ROOT/Fuzz/findings/$target
    mkdir -p "$findings"
    log=$(mktemp)
    set +e
    ASAN_OPTIONS=detect_leaks=0 "$SCRATCH/$CONFIG/$target" "$corpus" -max_total_time="$SECONDS_PER_TARGET" \
        -timeout=10 -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1 -artifact_prefix="$findings/" \
        >"$log" 2>&1
    rc=$?
    set -e
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
    found=$(find "$findings" -type f | wc -l)
    printf '%-12s %10s %12s %8s %s\n' "$target" "$SECONDS_PER_TARGET" "${runs:-0}" "${rate:-0}" "$found"
    if [ $rc -ne 0 ] || [ "$found" -gt 0 ]; then
        status=1
        echo "--- $target exited $rc; last lines of its log:"
        tail -30 "$log"
    fi
    rm -rf "$corpus" "$log"
done
exit $status
