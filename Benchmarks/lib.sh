# Helpers for the benchmark scripts: `source "$BENCH/lib.sh"` after setting REPO (the repository root).
# (aof.sh uses them; run.sh and convert.sh carry their own copies of the same code.)

# source_state: the commit and a hash of Sources/ + Package.swift as they are now, to print beside figures.
source_state() {
    local state changed
    state="commit $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    changed=$(git -C "$REPO" status --porcelain -- Sources Package.swift 2>/dev/null | wc -l)
    ((changed == 0)) || state+=" + $changed uncommitted change(s) under Sources/"
    state+=", sources sha256 $(cd "$REPO" && find Sources Package.swift -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-12)"
    echo "$state"
}

# time_command STDOUT STDERR COMMAND...: runs COMMAND under /usr/bin/time with its output in the two files; sets
# WALL (seconds, measured around the run with date +%s%N) and RSS_KIB (peak RSS, %M). Returns COMMAND's status.
time_command() {
    local out=$1 err=$2 start end status=0
    shift 2
    start=$(date +%s%N)
    /usr/bin/time -f "%e %M" -o "$err.time" "$@" >"$out" 2>"$err" || status=$?
    end=$(date +%s%N)
    WALL=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", (e - s) / 1e9 }')
    RSS_KIB=$(tail -1 "$err.time" | awk '{ print $2 }')
    return "$status"
}

# is_less A B: true when B is empty or A < B (numbers), to keep the best of several rounds.
is_less() { [[ -z "$2" ]] || awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

# require_executables PATH...: dies (through the script's `die`) naming the first that is missing.
require_executables() {
    local tool
    [[ -x /usr/bin/time ]] || die "/usr/bin/time missing (apt-get install time)"
    for tool; do
        [[ -x "$tool" ]] || die "$tool not found (install Debian's redis-server and redis-tools)"
    done
}

# stop_pid PID: stops a process this script started, if it still runs, and reaps it.
stop_pid() {
    [[ -n "$1" ]] && kill -0 "$1" 2>/dev/null || return 0
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# build_product PRODUCT SCRATCH [PREBUILT]: sets OURS to the release binary of PRODUCT, built with
# --scratch-path SCRATCH unless SKIP_BUILD=1, or PREBUILT when given; sets SOURCE_STATE to say which.
build_product() {
    local product=$1 scratch=$2 prebuilt=${3:-}
    if [[ -n "$prebuilt" ]]; then
        OURS=$(realpath "$prebuilt")
        SOURCE_STATE="prebuilt binary $OURS"
    else
        SOURCE_STATE=$(source_state)  # taken before the build: others may edit Sources/ while this runs
        if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
            echo "# building $product (release, --scratch-path $(basename "$scratch"))" >&2
            (cd "$REPO" && swift build -c release --product "$product" --scratch-path "$scratch" >&2) \
                || die "building $product failed"
            SOURCE_STATE="built from $SOURCE_STATE"
        else
            SOURCE_STATE="SKIP_BUILD: existing binary; sources now: $SOURCE_STATE"
        fi
        OURS="$(cd "$REPO" && swift build -c release --scratch-path "$scratch" --show-bin-path)/$product"
    fi
    [[ -x "$OURS" ]] || die "$OURS not built"
}
