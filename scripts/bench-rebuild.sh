#!/usr/bin/env bash
# bench-rebuild.sh - time cdp-merge --rebuild against the import it replays,
# and check that it gives one result whatever order the events arrived in.
#
# Usage: scripts/bench-rebuild.sh [EVENTS]      (default: 1000000)
#
# Run from the repository root after `make`.  It generates EVENTS events
# with `cdp-gen` (seed 1; PEOPLE people, by default EVENTS/20 as in
# bench-ingest.sh), then times as whole processes:
#
#   cdp-ingest              the import, in the generated order, into store A;
#   cdp-merge --rebuild     every profile of A built again from its events;
#   cdp-ingest              the same events shuffled, into store B (smaller
#                           inputs only: see below), then B rebuilt;
#
# and prints the times, the ratio rebuild/import, the peak RSS of each, and
# whether the exports of A and B agree after their rebuilds.  The shuffled
# store is made only up to 200,000 events, since its import reads the
# store in random order.  There is no target; the figures go beside the
# others in the README.
#
# Environment: CDP_GEN, CDP_BIN, PEOPLE, TMPDIR.

set -u
export LC_ALL=C

CDP_GEN=${CDP_GEN:-scripts/cdp-gen}
CDP_BIN=${CDP_BIN:-./cmd}
TIME=/usr/bin/time
N=${1:-1000000}
PEOPLE=${PEOPLE:-$((N / 20))}

die() {
    printf 'bench-rebuild: %s\n' "$*" >&2
    exit 1
}

for tool in "$TIME" "$CDP_GEN" "$CDP_BIN/cdp-ingest" "$CDP_BIN/cdp-merge" "$CDP_BIN/cdp-export"; do
    [ -x "$tool" ] || die "$tool is missing (make; sh scripts/install-deps.sh --bench)"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-rebuild.XXXXXX") || die "no temporary directory"
trap 'rm -rf "$work"' EXIT INT TERM

# timed NAME COMMAND...: runs it, prints "NAME: elapsed s, peak RSS MB".
timed() {
    name=$1
    shift
    "$TIME" -f '%e %M' -o "$work/time" "$@" >"$work/out" 2>"$work/err" || {
        cat "$work/err" >&2
        die "failed: $*"
    }
    read -r secs kb <"$work/time"
    printf '%s: %s s, peak RSS %d MB\n' "$name" "$secs" $((kb / 1024))
    echo "$secs" >"$work/$name.secs"
}

"$CDP_GEN" --events "$N" --people "$PEOPLE" --seed 1 >"$work/events.ndjson" || die "cdp-gen failed"
echo "events: $N of $PEOPLE people (cdp-gen --seed 1)"
timed import "$CDP_BIN/cdp-ingest" -q -d "$work/a" --country FR --now 2026-01-01T00:00:00Z \
    "$work/events.ndjson"
timed rebuild "$CDP_BIN/cdp-merge" -d "$work/a" --rebuild --now 2026-01-02T00:00:00Z
cat "$work/out"
awk -v r="$(cat "$work/rebuild.secs")" -v i="$(cat "$work/import.secs")" \
    'BEGIN { printf "rebuild / import: %.2f\n", r / i }'

if [ "$N" -le 200000 ]; then
    shuf --random-source=<(yes) "$work/events.ndjson" >"$work/shuffled.ndjson"
    timed import-shuffled "$CDP_BIN/cdp-ingest" -q -d "$work/b" --country FR \
        --now 2026-01-01T00:00:00Z "$work/shuffled.ndjson"
    timed rebuild-shuffled "$CDP_BIN/cdp-merge" -q -d "$work/b" --rebuild \
        --now 2026-01-02T00:00:00Z
    "$CDP_BIN/cdp-export" -d "$work/a" >"$work/a.ndjson"
    "$CDP_BIN/cdp-export" -d "$work/b" >"$work/b.ndjson"
    if cmp -s "$work/a.ndjson" "$work/b.ndjson"; then
        echo "after rebuild, in order and shuffled: the same $(wc -l <"$work/a.ndjson") profiles"
    else
        echo "after rebuild, in order and shuffled: DIFFERENT profiles"
    fi
fi
