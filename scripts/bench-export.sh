#!/usr/bin/env bash
# bench-export.sh - time cdp-export's CSV and hashed audience outputs from a
# store, against jq writing the same CSV from the exported NDJSON.
#
# Usage: scripts/bench-export.sh [EVENTS]          (default: 1000000)
#        BENCH_STORE=DIR scripts/bench-export.sh   (use an existing store)
#
# Run from the repository root after `make`.  Without BENCH_STORE it
# generates EVENTS events with cdp-gen and ingests them into a temporary
# store (not timed).  Then it times, as whole processes with /usr/bin/time,
# BENCH_RUNS runs (default 3, after one warm-up) of
#     cdp-export -f csv --fields F                      (the default fields)
#     cdp-export -f google-customer-match --no-consent-check --country FR
#     jq -r '[...F...] | @csv' PROFILES.ndjson           (the peer)
# and prints the medians, the profiles per second, the ratio to jq and the
# peak RSS.  Targets: 1,000,000 profiles a second to CSV and 500,000 a
# second hashed, with flat memory; a missed target is flagged MISSED but
# does not change the exit status.
#
# Environment: CDP_GEN, CDP_INGEST, CDP_EXPORT, CDP_SEGMENT, JQ, BENCH_RUNS,
# BENCH_STORE, TMPDIR.

set -u

CDP_GEN=${CDP_GEN:-scripts/cdp-gen}
CDP_INGEST=${CDP_INGEST:-./cmd/cdp-ingest}
CDP_EXPORT=${CDP_EXPORT:-./cmd/cdp-export}
CDP_SEGMENT=${CDP_SEGMENT:-./cmd/cdp-segment}
JQ=${JQ:-jq}
RUNS=${BENCH_RUNS:-3}
TIME=/usr/bin/time
EVENTS=${1:-1000000}
FIELDS=id,traits.email,traits.firstName,traits.lastName,computed.orders_count,computed.revenue_total,last_seen

die() {
    printf 'bench-export: %s\n' "$*" >&2
    exit 1
}

for tool in "$TIME" "$CDP_EXPORT" "$CDP_SEGMENT"; do
    [ -x "$tool" ] || command -v "$tool" >/dev/null 2>&1 || die "missing $tool (run 'make', or sh scripts/install-deps.sh --bench)"
done
command -v "$JQ" >/dev/null 2>&1 || die "missing $JQ"
case $RUNS in '' | *[!0-9]* | 0) die "BENCH_RUNS must be a positive integer" ;; esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-export.XXXXXX") || die "cannot create a temporary directory"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

store=${BENCH_STORE:-}
if [ -z "$store" ]; then
    [ -x "$CDP_GEN" ] || die "missing $CDP_GEN (run 'make')"
    [ -x "$CDP_INGEST" ] || die "missing $CDP_INGEST (run 'make')"
    store=$tmp/store
    printf 'generating and ingesting %s events (not timed)...\n' "$EVENTS"
    "$CDP_GEN" --events "$EVENTS" >"$tmp/events.ndjson" || die "cdp-gen failed"
    "$CDP_INGEST" -q --country FR -d "$store" "$tmp/events.ndjson" || die "cdp-ingest failed"
    rm -f "$tmp/events.ndjson"
fi
profiles=$("$CDP_SEGMENT" -d "$store" --count 'computed.events_count >= 0') || die "cannot count profiles"
"$CDP_EXPORT" -q -d "$store" >"$tmp/profiles.ndjson" || die "cdp-export failed"
printf 'profiles=%s store=%s\n' "$profiles" "$(du -sh "$store" | cut -f1)"

# Runs "$@" BENCH_RUNS times after a warm-up; prints "median_seconds max_rss_kb".
measure() {
    "$@" >/dev/null 2>&1
    : >"$tmp/times"
    for _ in $(seq "$RUNS"); do
        "$TIME" -f '%e %M' -o "$tmp/t" "$@" >/dev/null 2>"$tmp/err" || die "failed: $* ($(head -c 200 "$tmp/err"))"
        cat "$tmp/t" >>"$tmp/times"
    done
    sort -n "$tmp/times" | awk '{ t[NR] = $1; if ($2 > m) m = $2 } END { print t[int((NR + 1) / 2)], m }'
}

read -r csv_s csv_kb < <(measure "$CDP_EXPORT" -q -d "$store" -f csv --fields "$FIELDS")
read -r gcm_s gcm_kb < <(measure "$CDP_EXPORT" -q -d "$store" -f google-customer-match --no-consent-check --country FR)
jq_filter='[.id, .traits.email, .traits.firstName, .traits.lastName, .computed.orders_count, .computed.revenue_total, .last_seen] | @csv'
read -r jq_s jq_kb < <(measure "$JQ" -r "$jq_filter" "$tmp/profiles.ndjson")

awk -v n="$profiles" -v c="$csv_s" -v ck="$csv_kb" -v g="$gcm_s" -v gk="$gcm_kb" -v j="$jq_s" '
function rate(s) { return s > 0 ? n / s : 0 }
BEGIN {
    ratio = c > 0 ? j / c : 0
    miss_c = rate(c) >= 1000000 ? "" : " (target 1000000/s MISSED)"
    miss_g = rate(g) >= 500000 ? "" : " (target 500000/s MISSED)"
    printf "csv: %.2fs %.0f profiles/s peak_rss=%.0fMB jq=%.2fs (jq/cdp %.1fx)%s\n", c, rate(c), ck / 1024, j, ratio, miss_c
    printf "google-customer-match: %.2fs %.0f profiles/s peak_rss=%.0fMB%s\n", g, rate(g), gk / 1024, miss_g
}'
