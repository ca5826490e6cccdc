#!/usr/bin/env bash
# bench-merge.sh - the quality and the speed of cdp-merge's matching.
#
# Usage: scripts/bench-merge.sh [RECORDS]     (default: 1000000)
#
# Run from the repository root after `make`.
#
# Quality: on the Febrl data sets 1 to 3 (../shared/data/febrl, or
# FEBRL_DIR; skipped when absent), the pairwise F1 of
#     cdp-merge --dedupe --evaluate rec_id --truth-pattern '^rec-[0-9]+'
# with every column, and without soc_sec_id (which alone nearly solves
# Febrl), next to the peer a data engineer writes first: an exact rule in
# awk that links records with the same given name, surname and date of
# birth.  Targets: F1 >= 0.99 with every column, >= 0.95 without
# soc_sec_id.
#
# Speed: RECORDS person records from `cdp-gen --format people-csv` (a
# quarter of the persons with corrupted copies), deduplicated end to end
# with the default rules and every processor (target: 1,000,000 records in
# under 60 s), and the comparison rate on one thread over a fifth of them
# (target: 1,000,000 scored pairs a second per core).  A missed target is
# flagged MISSED; the exit status is 0 unless a command fails.
#
# Environment: CDP_GEN, CDP_MERGE, FEBRL_DIR, TMPDIR.

set -u
export LC_ALL=C

CDP_GEN=${CDP_GEN:-scripts/cdp-gen}
CDP_MERGE=${CDP_MERGE:-./cmd/cdp-merge}
FEBRL_DIR=${FEBRL_DIR:-../shared/data/febrl}
TIME=/usr/bin/time
N=${1:-1000000}
TRUTH='^rec-[0-9]+'

die() {
    printf 'bench-merge: %s\n' "$*" >&2
    exit 1
}

for tool in "$TIME" "$CDP_GEN" "$CDP_MERGE"; do
    [ -x "$tool" ] || die "$tool is missing (make; sh scripts/install-deps.sh --bench)"
done
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-merge.XXXXXX") || die "no temporary directory"
trap 'rm -rf "$work"' EXIT INT TERM

f1_of() {
    sed -n 's/.*"precision":\([0-9.]*\),"recall":\([0-9.]*\),"f1":\([0-9.]*\).*/P=\1 R=\2 F1=\3/p'
}

# The peer: records with equal given name, surname and birth date are one
# person; pairwise precision, recall and F1 against the rec-N truth.
exact_rule() {
    awk -F', *' 'NR > 1 {
        match($1, /^rec-[0-9]+/); truth = substr($1, 1, RLENGTH)
        key = ($2 != "" && $3 != "" && $10 != "") ? $2 "|" $3 "|" $10 : "\001" NR
        t[truth]++; k[key]++; both[key SUBSEP truth]++
    }
    function pairs(n) { return n * (n - 1) / 2 }
    END {
        for (x in t) tp_true += pairs(t[x])
        for (x in k) tp_pred += pairs(k[x])
        for (x in both) tp += pairs(both[x])
        p = tp_pred ? tp / tp_pred : 1; r = tp_true ? tp / tp_true : 1
        printf "P=%.6f R=%.6f F1=%.6f\n", p, r, (p + r) ? 2 * p * r / (p + r) : 0
    }' "$1"
}

flag() { # value op target
    awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN { exit !(op == ">=" ? v >= t : v < t) }' || printf ' MISSED'
}

if [ -r "$FEBRL_DIR/dataset1.csv" ]; then
    for d in 1 2 3; do
        f=$FEBRL_DIR/dataset$d.csv
        all=$("$CDP_MERGE" -q --dedupe --evaluate rec_id --truth-pattern "$TRUTH" <"$f" | f1_of) ||
            die "cdp-merge failed on $f"
        nossn=$("$CDP_MERGE" -q --dedupe --evaluate rec_id --truth-pattern "$TRUTH" \
            --fields given_name,surname,street_number,address_1,address_2,suburb,postcode,state,date_of_birth \
            <"$f" | f1_of) || die "cdp-merge failed on $f"
        printf 'febrl dataset%d all columns: %s%s\n' "$d" "$all" "$(flag "${all##*F1=}" '>=' 0.99)"
        printf 'febrl dataset%d without soc_sec_id: %s%s; exact rule (awk): %s\n' "$d" "$nossn" \
            "$(flag "${nossn##*F1=}" '>=' 0.95)" "$(exact_rule "$f")"
    done
else
    printf 'febrl: %s not found, quality skipped\n' "$FEBRL_DIR"
fi

people=$(((N * 2 + 2) / 3)) # a person has 1.5 records on average
"$CDP_GEN" --format people-csv --people "$people" >"$work/people.csv" || die "cdp-gen failed"
records=$(($(wc -l <"$work/people.csv") - 1))
"$TIME" -f '%e %U %M' -o "$work/time" "$CDP_MERGE" -q --dedupe --evaluate rec_id \
    --truth-pattern "$TRUTH" <"$work/people.csv" >"$work/eval.json" || die "cdp-merge failed"
read -r elapsed user rss <"$work/time"
printf 'generated %d records: %ss (user %ss, peak_rss=%dMB) %s (target < 60s for 1,000,000%s)\n' \
    "$records" "$elapsed" "$user" $((rss / 1024)) "$(f1_of <"$work/eval.json")" \
    "$(flag "$elapsed" '<' 60)"
sed -n 's/.*"pairs_compared":\([0-9]*\).*/  pairs compared: \1/p' "$work/eval.json"

head -n $((records / 5 + 1)) "$work/people.csv" >"$work/part.csv"
rate=$("$CDP_MERGE" -v --threads 1 --dedupe <"$work/part.csv" 2>&1 >/dev/null |
    sed -n 's/.*: \([0-9]*\) a second per thread/\1/p')
printf 'one thread, %d records: %s scored pairs a second (target 1000000%s)\n' \
    $((records / 5)) "$rate" "$(flag "${rate:-0}" '>=' 1000000)"
