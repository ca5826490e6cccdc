#!/usr/bin/env bash
# bench-ingest.sh - compare cdp-ingest with `jq -c .` on generated events.
#
# Usage: scripts/bench-ingest.sh [EVENTS...]      (default: 1000000)
#        e.g. scripts/bench-ingest.sh 1000000 5000000
#
# Run from the repository root after `make`. For each size N it generates
# N events once with cdp-gen into a temporary directory (removed on exit),
# then times, as whole processes with /usr/bin/time (elapsed seconds and
# max RSS), BENCH_RUNS runs (default 3) of
#     jq -c . FILE >/dev/null
#     cdp-ingest -q --country FR -d STORE FILE   (a fresh STORE each run)
# and prints one line per size with the median elapsed times, their ratio,
# the peak RSS of cdp-ingest, the store size and the ingest rate.
#
# Targets: ratio cdp-ingest/jq <= 0.75, peak RSS < 200 MB. A missed target
# is flagged MISSED but does not change the exit status; a missing tool or
# a failing command does (exit 1).
#
# Environment:
#   CDP_GEN     generator binary   (default: scripts/cdp-gen)
#   CDP_INGEST  ingest binary      (default: ./cmd/cdp-ingest)
#   JQ          jq binary          (default: jq)
#   BENCH_RUNS  runs per command   (default: 3)
#   TMPDIR      where the data and stores go (needs about 1.5x the event
#               file size: ~700 bytes per event, plus the store)

set -u

CDP_GEN=${CDP_GEN:-scripts/cdp-gen}
CDP_INGEST=${CDP_INGEST:-./cmd/cdp-ingest}
JQ=${JQ:-jq}
RUNS=${BENCH_RUNS:-3}
TIME=/usr/bin/time
RATIO_TARGET=0.75
RSS_TARGET_MB=200

die() {
    printf 'bench-ingest: %s\n' "$*" >&2
    exit 1
}

# Resolves a command name or path to something executable, or fails.
have() {
    case $1 in
    */*) [ -x "$1" ] && [ ! -d "$1" ] ;;
    *) command -v "$1" >/dev/null 2>&1 ;;
    esac
}

missing=""
have "$TIME" || missing="$missing
  $TIME (GNU time; Debian package 'time')"
have "$JQ" || missing="$missing
  $JQ (Debian package 'jq', or set JQ=...)"
have "$CDP_GEN" || missing="$missing
  $CDP_GEN (run 'make' first, or set CDP_GEN=...)"
have "$CDP_INGEST" || missing="$missing
  $CDP_INGEST (run 'make' first, or set CDP_INGEST=...)"
[ -n "$missing" ] && die "missing tools:$missing"

case $RUNS in
'' | *[!0-9]* | 0) die "BENCH_RUNS must be a positive integer, not '$RUNS'" ;;
esac

[ $# -eq 0 ] && set -- 1000000
for n in "$@"; do
    case $n in
    '' | *[!0-9]* | 0) die "not a positive event count: '$n'" ;;
    esac
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-ingest.XXXXXX") || die "cannot create a temporary directory"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# Machine and tool versions, once.
cpu=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo 2>/dev/null | head -n 1)
[ -n "$cpu" ] || cpu=$(uname -m)
printf 'machine: %s cpus, %s\n' "$(nproc 2>/dev/null || echo '?')" "$cpu"
printf 'jq: %s\n' "$("$JQ" --version 2>&1 | head -n 1)"
ver=$("$CDP_INGEST" --version 2>/dev/null | head -n 1)
printf 'cdp-ingest: %s%s\n' "$CDP_INGEST" "${ver:+ ($ver)}"
printf 'runs per command: %s (median elapsed reported)\n' "$RUNS"

# timed OUT CMD... : runs CMD under /usr/bin/time, stdout discarded;
# leaves "elapsed maxrss_kib" on the last line of OUT. Returns CMD's status.
timed() {
    local out=$1
    shift
    "$TIME" -f '%e %M' -o "$out" "$@" >/dev/null 2>"$out.err"
}

# Last "elapsed rss" line written by /usr/bin/time.
time_line() {
    tail -n 1 "$1"
}

median() {
    sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}

failed=0

for n in "$@"; do
    data=$tmp/events-$n.ndjson
    printf 'generating %s events...\n' "$n" >&2
    if ! "$CDP_GEN" --events "$n" >"$data"; then
        printf 'events=%s generation FAILED (%s)\n' "$n" "$CDP_GEN"
        failed=1
        rm -f "$data"
        continue
    fi
    bytes=$(wc -c <"$data" | tr -d ' ')

    jq_times=""
    jq_ok=1
    for i in $(seq 1 "$RUNS"); do
        printf '  jq run %s/%s\n' "$i" "$RUNS" >&2
        if ! timed "$tmp/t" "$JQ" -c . "$data"; then
            jq_ok=0
            break
        fi
        jq_times="$jq_times $(time_line "$tmp/t" | cut -d' ' -f1)"
    done

    ing_times=""
    ing_rss=""
    store_kib=0
    ing_ok=1
    for i in $(seq 1 "$RUNS"); do
        printf '  cdp-ingest run %s/%s\n' "$i" "$RUNS" >&2
        rm -rf "$tmp/db"
        if ! timed "$tmp/t" "$CDP_INGEST" -q --country FR -d "$tmp/db" "$data"; then
            ing_ok=0
            break
        fi
        read -r elapsed rss <<EOF_T
$(time_line "$tmp/t")
EOF_T
        ing_times="$ing_times $elapsed"
        ing_rss="$ing_rss $rss"
        if [ -e "$tmp/db" ]; then
            store_kib=$(du -sk "$tmp/db" | cut -f1)
        fi
    done
    rm -rf "$tmp/db"

    if [ $jq_ok -eq 0 ]; then
        printf 'events=%s bytes=%s jq FAILED: %s\n' "$n" "$bytes" \
            "$(tail -n 3 "$tmp/t.err" "$tmp/t" 2>/dev/null | tr '\n' ' ')"
        failed=1
        rm -f "$data"
        continue
    fi
    if [ $ing_ok -eq 0 ]; then
        printf 'events=%s bytes=%s cdp-ingest FAILED: %s\n' "$n" "$bytes" \
            "$(cat "$tmp/t.err" "$tmp/t" 2>/dev/null | tail -n 4 | tr '\n' ' ')"
        failed=1
        rm -f "$data"
        continue
    fi

    # the time lists are split into words on purpose
    # shellcheck disable=SC2086
    jq_med=$(printf '%s\n' $jq_times | median)
    # shellcheck disable=SC2086
    ing_med=$(printf '%s\n' $ing_times | median)
    # shellcheck disable=SC2086
    rss_max=$(printf '%s\n' $ing_rss | sort -n | tail -n 1)

    awk -v n="$n" -v bytes="$bytes" -v jq="$jq_med" -v ing="$ing_med" \
        -v rss="$rss_max" -v store="$store_kib" \
        -v rt="$RATIO_TARGET" -v mt="$RSS_TARGET_MB" 'BEGIN {
        ratio = jq > 0 ? ing / jq : 0
        rss_mb = rss / 1024
        rate = ing > 0 ? n / ing : 0
        printf "events=%d bytes=%d jq=%.2fs cdp-ingest=%.2fs", n, bytes, jq, ing
        printf " ratio=%.2f (target <= %s%s)", ratio, rt, ratio <= rt + 0 ? "" : " MISSED"
        printf " peak_rss=%.0fMB (target < %sMB%s)", rss_mb, mt, rss_mb < mt + 0 ? "" : " MISSED"
        printf " store=%.0fMB events/s=%.0f\n", store / 1024, rate
    }'
    rm -f "$data"
done

exit $failed
