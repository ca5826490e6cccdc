#!/usr/bin/env bash
# bench-predict.sh - time cdp-predict fitting and scoring N customers, and
# show that its memory grows with the customers only.
#
# Usage: scripts/bench-predict.sh [CUSTOMERS]      (default: 1000000)
#
# Run from the repository root after `make`.  It generates the purchases of
# CUSTOMERS customers with `cdp-gen --format purchases-csv` (drawn from the
# BG/NBD and Gamma-Gamma models with known parameters: r 0.25, alpha 10,
# a 0.8, b 2.5, p 6, q 3.75, gamma 15, in days), then times as whole
# processes, BENCH_RUNS runs each (default 3) after one warm-up:
#
#   cdp-predict --transactions < purchases.csv > predictions.ndjson
#       read, summarise, fit both models, score and write every customer;
#   sqlite3: import the same CSV and compute each customer's summary
#       (purchase days, first and last day, total) with GROUP BY, the
#       part of the job a database does, as the peer;
#
# and prints the medians, the ratio sqlite/cdp, the fitted parameters
# next to the true ones, and the peak RSS of cdp-predict at a quarter, half
# and all of the customers.  Target: fit and score 1,000,000 customers in
# under 10 s.  A missed target is flagged MISSED; the exit status is 0
# unless a command fails.
#
# Environment: CDP_GEN, CDP_PREDICT, SQLITE, BENCH_RUNS, TMPDIR.

set -u
export LC_ALL=C

CDP_GEN=${CDP_GEN:-scripts/cdp-gen}
CDP_PREDICT=${CDP_PREDICT:-./cmd/cdp-predict}
SQLITE=${SQLITE:-sqlite3}
RUNS=${BENCH_RUNS:-3}
TIME=/usr/bin/time
N=${1:-1000000}
TARGET=10

die() {
    printf 'bench-predict: %s\n' "$*" >&2
    exit 1
}

for tool in "$TIME" "$CDP_GEN" "$CDP_PREDICT"; do
    [ -x "$tool" ] || die "$tool is missing (make; sh scripts/install-deps.sh --bench)"
done
command -v "$SQLITE" >/dev/null || die "$SQLITE is missing (sh scripts/install-deps.sh --bench)"

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-predict.XXXXXX") || die "no temporary directory"
trap 'rm -rf "$work"' EXIT INT TERM

# One timed run of a command reading IN and writing OUT: prints "elapsed user maxrss_kb".
timed() {
    in=$1 out=$2
    shift 2
    "$TIME" -f '%e %U %M' -o "$work/time" "$@" <"$in" >"$out" || die "failed: $*"
    cat "$work/time"
}

# The median of the first column of the lines on stdin, and the rest of that line.
median() {
    sort -n | awk '{ line[NR] = $0 } END { print line[int((NR + 1) / 2)] }'
}

"$CDP_GEN" --format purchases-csv --people "$N" >"$work/p.csv" || die "cdp-gen failed"
rows=$(($(wc -l <"$work/p.csv") - 1))
printf 'customers=%d purchases=%d bytes=%d\n' "$N" "$rows" "$(wc -c <"$work/p.csv")"

cat >"$work/summary.sql" <<'SQL'
.mode csv
.import purchases.csv p
CREATE TABLE s AS
  SELECT customer, count(DISTINCT date) AS days, min(date) AS first, max(date) AS last,
         sum(CAST(amount AS REAL)) AS total
  FROM p GROUP BY customer;
SELECT count(*), sum(days) FROM s;
SQL

run_cdp() {
    timed "$work/p.csv" "$work/out.ndjson" \
        "$CDP_PREDICT" -q --transactions --save-params "$work/fit.json"
}
run_sqlite() {
    rm -f "$work/s.db"
    (cd "$work" && ln -sf p.csv purchases.csv &&
        timed summary.sql /dev/null "$SQLITE" s.db)
}

run_cdp >/dev/null
run_sqlite >/dev/null
cdp=$(for _ in $(seq "$RUNS"); do run_cdp; done | median)
sql=$(for _ in $(seq "$RUNS"); do run_sqlite; done | median)
set -- $cdp
cdp_e=$1 cdp_u=$2 cdp_rss=$3
set -- $sql
sql_e=$1

scored=$(wc -l <"$work/out.ndjson")
[ "$scored" -eq "$N" ] || die "scored $scored customers, expected $N"
flag=""
awk -v t="$cdp_e" -v target="$TARGET" 'BEGIN { exit !(t >= target) }' && flag=" MISSED"
printf 'cdp-predict=%ss (user %ss, peak_rss=%dMB) sqlite-summary=%ss ratio=%s (target < %ss%s)\n' \
    "$cdp_e" "$cdp_u" $((cdp_rss / 1024)) "$sql_e" \
    "$(awk -v a="$sql_e" -v b="$cdp_e" 'BEGIN { printf "%.2f", a / b }')" "$TARGET" "$flag"

awk '
    /"bgnbd"/ { m = "bgnbd" } /"gamma_gamma"/ { m = "gg" }
    /"(r|alpha|a|b|p|q|gamma)":/ { gsub(/[",:]/, " "); v[m, $1] = $2 }
    END {
        printf "fitted r=%.4g alpha=%.4g a=%.4g b=%.4g p=%.4g q=%.4g gamma=%.4g\n",
            v["bgnbd", "r"], v["bgnbd", "alpha"], v["bgnbd", "a"], v["bgnbd", "b"],
            v["gg", "p"], v["gg", "q"], v["gg", "gamma"]
        print "true   r=0.25 alpha=10 a=0.8 b=2.5 p=6 q=3.75 gamma=15 (same-day purchases merge into one, so alpha comes out a little higher)"
    }' "$work/fit.json"

# Memory against the number of customers: a quarter, a half, all of them.
for part in 4 2 1; do
    n=$((N / part))
    awk -F, -v last="$(printf 'c%08d' "$n")" 'NR == 1 || $1 < last' "$work/p.csv" >"$work/part.csv"
    set -- $(timed "$work/part.csv" /dev/null "$CDP_PREDICT" -q --transactions)
    printf 'customers=%d peak_rss=%dMB elapsed=%ss\n' "$n" $(($3 / 1024)) "$1"
done
