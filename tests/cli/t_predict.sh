#!/bin/sh
# cdp-predict end to end.
#
# - The BG/NBD paper's table on the CDNOW sample (CSV and NDJSON input):
#   r, alpha, a, b and the log-likelihood, the Gamma-Gamma p, q, gamma on
#   the 946 repeat customers, and customer 00004's summary and expected
#   purchases over 39 weeks; the holdout, P(alive), the expected order
#   value and the lifetime value against their formulas; the RFM scores
#   against their quintile rule and the segment table; independence from
#   the order of the input lines.
# - --params: reusing a fit, in the same unit and converted to days.
# - Small cases worked out by hand: one purchase, same-day orders, the
#   as-of day and the holdout window, later purchases, the discount; a fit
#   that fails (nobody buys twice).
# - Bad input (line numbers, exit 3), a header without the column, other
#   column names, delimiter, date format and decimal comma, bad options.
# - The store: predictions agree with --transactions on the same orders;
#   cdp-segment and cdp-export read them; duplicate orders; --dry-run
#   writes nothing; a run replaces the previous one; --forget removes a
#   prediction; a failed fit keeps the previous ones; --count.
# - -o FILE.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1

# predict ARGS...: cdp-predict through run ($out, $err, $status).
predict() {
    run cdp-predict "$@"
}

# True when the last run exited 0 and wrote nothing on stderr.
quiet_ok() {
    test "$status" -eq 0 && test ! -s "$err"
}

# ends STATUS LINE: the last run exited STATUS and wrote LINE on stderr.
ends() {
    test "$status" -eq "$1" && err_line "$2"
}

# starts STATUS PREFIX: the last run exited STATUS and a line of its stderr
# starts with PREFIX.
starts() {
    test "$status" -eq "$1" && err_starts "$2"
}

# same_as FILE: the last run exited 0 and wrote FILE's bytes on stdout.
same_as() {
    test "$status" -eq 0 && cmp -s "$out" "$1"
}

# line_of CUSTOMER [FILE]: the NDJSON line of a customer (default: $out).
line_of() {
    grep "^{\"customer\":\"$1\"," "${2:-$out}"
}

# summary_of CUSTOMER [FILE]: orders, frequency, recency, T, monetary_value,
# total, p_alive, churn_risk and holdout_orders of a customer, one line.
summary_of() {
    line_of "$@" | jq -c '[.orders, .frequency, .recency, .T, .monetary_value, .total,
        .predicted.p_alive, .predicted.churn_risk, .holdout_orders]'
}

# params FILE FORMAT JQ...: numbers of a saved parameters file, rounded.
params() {
    file=$1 format=$2
    shift 2
    for path in "$@"; do
        jq -r "$path" "$file"
    done | awk -v f="$format" '{ printf "%s" f, (NR > 1 ? " " : ""), $1 }'
}

# lines FILE: the number of lines of FILE.
lines() {
    wc -l <"$1" | tr -d ' '
}

# ---------------------------------------------------------------------------
# 1. The paper's table.  CDNOW_sample.txt: master id, sample id, date
# (YYYYMMDD), CDs, amount, separated by blanks, with CRLF line ends.
tr -d '\r' <"$DATA/cdnow/CDNOW_sample.txt" |
    awk 'BEGIN { print "customer,date,amount" } { print $1 "," $3 "," $5 }' >cdnow.csv
check_eq "cdnow: 6919 transactions" "$(lines cdnow.csv)" 6920
CDNOW_ARGS="--transactions --as-of 1997-09-30 --unit weeks --horizon 39w"

predict $CDNOW_ARGS --save-params P.json <cdnow.csv
cp "$out" cdnow.ndjson
cp "$err" cdnow.err
check "cdnow: exit 0, the summary line" \
    ends 0 "cdp-predict: 2357 customers bought by 1997-09-30 (946 of them again), 6919 orders read; unit weeks"
check_eq "cdnow: one line per customer, 2357" "$(lines cdnow.ndjson)" 2357
jq -r .customer cdnow.ndjson >names.txt
check "cdnow: the customers, each once, sorted by name" sort -c -u names.txt
check_eq "cdnow: saved unit, as-of and customers (all, repeat)" \
    "$(jq -c '[.unit, .as_of, .customers, .bgnbd.customers, .gamma_gamma.customers]' P.json)" \
    '["weeks","1997-09-30",2357,2357,946]'
check_eq "cdnow: r, alpha, a, b = 0.243, 4.414, 0.793, 2.426" \
    "$(params P.json %.3f .bgnbd.r .bgnbd.alpha .bgnbd.a .bgnbd.b)" "0.243 4.414 0.793 2.426"
check_eq "cdnow: BG/NBD log-likelihood -9582.4" "$(params P.json %.1f .bgnbd.log_likelihood)" -9582.4
check_eq "cdnow: p, q, gamma = 6.25, 3.74, 15.44" \
    "$(params P.json %.2f .gamma_gamma.p .gamma_gamma.q .gamma_gamma.gamma)" "6.25 3.74 15.44"
check_eq "cdnow: the parameters on stderr" "$(grep -c '^cdp-predict: BG/NBD fitted: r=0.242595 alpha=4.4136 a=0.792922 b=2.42591 log-likelihood=-9582.429' cdnow.err)" 1

# Customer 00004 (sample id 1): purchases 1997-01-01, 01-18, 08-02 (14.96)
# and 12-12 (after the as-of day): x = 2, t_x = 213/7, T = 272/7 weeks.
check_eq "cdnow 00004: orders, x, t_x, T, mean repeat spend, total" \
    "$(line_of 00004 cdnow.ndjson | jq -r '[.orders, .frequency, .recency, .T, .monetary_value, .total] | @tsv' |
        awk '{ printf "%d %d %.2f %.2f %s %s", $1, $2, $3, $4, $5, $6 }')" "3 2 30.43 38.86 22.345 74.02"
check_eq "cdnow 00004: expected purchases over 39 weeks: 1.22599, the published 1.226" \
    "$(line_of 00004 cdnow.ndjson | jq .predicted.expected_orders | awk '{ printf "%s %.3f", $1, $1 }')" "1.22599 1.226"
check_eq "cdnow 00004: one purchase day in the holdout, horizon 273 days" \
    "$(line_of 00004 cdnow.ndjson | jq -c '[.holdout_orders, .predicted.horizon_days, .predicted.as_of]')" \
    '[1,273,"1997-09-30T00:00:00.000Z"]'
# P(alive) = 1 / (1 + a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x))
jq -r '[.bgnbd.r, .bgnbd.alpha, .bgnbd.a, .bgnbd.b, .gamma_gamma.p, .gamma_gamma.q, .gamma_gamma.gamma] | @tsv' \
    P.json >P.tsv
check_eq "cdnow 00004: P(alive) by its formula" "$(line_of 00004 cdnow.ndjson | jq .predicted.p_alive)" \
    "$(awk '{ x = 2; tx = 213 / 7; TT = 272 / 7
              printf "%.6g", 1 / (1 + $3 / ($4 + x - 1) * (($2 + TT) / ($2 + tx)) ^ ($1 + x)) }' P.tsv)"
# E(value) = (gamma p + p x mbar) / (p x + q - 1)
check_eq "cdnow 00004: expected order value by its formula" \
    "$(line_of 00004 cdnow.ndjson | jq .predicted.expected_aov)" \
    "$(awk '{ x = 2; m = (29.73 + 14.96) / 2; printf "%.6g", ($7 * $5 + $5 * x * m) / ($5 * x + $6 - 1) }' P.tsv)"
check_eq "cdnow: without a discount, clv = expected_orders x expected_aov (all customers)" \
    "$(jq -r '.predicted | [.clv, .expected_orders, .expected_aov] | @tsv' cdnow.ndjson |
        awk '{ d = $1 - $2 * $3; if (d < 0) d = -d; if (d > 2e-5 * $1 + 1e-9) bad++ } END { print bad + 0 }')" 0
check_eq "cdnow: 1411 customers without a repeat purchase, all with P(alive) 1" \
    "$(jq -r 'select(.frequency == 0) | [.predicted.p_alive, .predicted.churn_risk, .monetary_value] | @tsv' cdnow.ndjson |
        sort | uniq -c | awk '{ $1 = $1; print }')" "1411 1 0 0"
check_eq "cdnow: 2457 repeat purchase days in all" \
    "$(jq -r .frequency cdnow.ndjson | awk '{ s += $1 } END { print s }')" 2457
# The holdout: distinct (customer, day) after 1997-09-30 (39 weeks cover the rest).
holdout=$(awk -F, 'NR > 1 && $2 > "19970930" && !seen[$1 "," $2]++ { n++ } END { print n }' cdnow.csv)
check_eq "cdnow: holdout purchase days, per customer, add up" \
    "$(jq -r .holdout_orders cdnow.ndjson | awk '{ s += $1 } END { print s }')" "$holdout"
check "cdnow: the holdout line on stderr" \
    grep -q "^cdp-predict: holdout: [0-9.]* purchases expected in the 273 days after the as-of day, $holdout made" cdnow.err

# RFM.  The scores are 1..5, rfm_score their digits, the segment the first
# matching row of the table.
check_eq "cdnow: RFM scores are 1..5 and rfm_score is RFM" \
    "$(jq -r '.predicted | [.rfm_recency, .rfm_frequency, .rfm_monetary, .rfm_score] | @tsv' cdnow.ndjson |
        awk '$1 !~ /^[1-5]$/ || $2 !~ /^[1-5]$/ || $3 !~ /^[1-5]$/ || $4 != 100 * $1 + 10 * $2 + $3 { bad++ }
             END { print bad + 0 }')" 0
jq -r '.predicted | [.rfm_recency, .rfm_frequency, .rfm_monetary, .rfm_segment] | @tsv' cdnow.ndjson >rfm.tsv
check_eq "cdnow: every segment follows the table" "$(awk -F '\t' '
    function seg(r, f, m) {
        if (r >= 4 && f >= 4 && m >= 4) return "Champions"
        if (r >= 3 && f >= 4) return "Loyal"
        if (r <= 2 && f >= 4 && m >= 4) return "Cannot lose them"
        if (r <= 2 && f >= 3) return "At risk"
        if (r >= 4 && f == 1) return "New"
        if (r >= 3) return "Potential loyalist"
        if (r == 2) return "Hibernating"
        return "Lost"
    }
    seg($1, $2, $3) != $4 { bad++ } END { print bad + 0 }' rfm.tsv)" 0
check_eq "cdnow: all eight segments occur" "$(cut -f 4 rfm.tsv | sort -u | tr '\n' '|')" \
    "At risk|Cannot lose them|Champions|Hibernating|Lost|Loyal|New|Potential loyalist|"
# Quintile cuts: the values at ranks ceil(j n / 5) in ascending order; a
# score is 1 + the number of cuts strictly below the value.
cuts() {
    sort -g | awk '{ v[NR] = $1 } END { for (j = 1; j <= 4; j++) printf "%s%.6g", (j > 1 ? " " : ""), v[int((j * NR + 4) / 5)] }'
}
fcuts=$(jq -r .orders cdnow.ndjson | cuts)
mcuts=$(jq -r .total cdnow.ndjson | cuts)
check "cdnow: frequency cuts on stderr" err_line "cdp-predict: RFM frequency (orders) quintile cuts: $fcuts"
check "cdnow: monetary cuts on stderr" err_line "cdp-predict: RFM monetary (total) quintile cuts: $mcuts"
score_ok() {
    # score_ok MEMBER SCORE CUTS: every customer's score from the cuts
    jq -r "[.$1, .predicted.$2] | @tsv" cdnow.ndjson | awk -v cuts="$3" '
        BEGIN { split(cuts, c, " ") }
        { s = 1; for (j = 1; j <= 4; j++) if (c[j] + 0 < $1 + 0) s++; if (s != $2) bad++ }
        END { exit bad > 0 }'
}
check "cdnow: frequency scores from the cuts" score_ok orders rfm_frequency "$fcuts"
check "cdnow: monetary scores from the cuts" score_ok total rfm_monetary "$mcuts"

# The same through NDJSON.
awk -F, 'NR > 1 { printf "{\"customer\":\"%s\",\"date\":\"%s\",\"amount\":%s}\n", $1, $2, $3 }' cdnow.csv >cdnow.jsonl
predict $CDNOW_ARGS -i ndjson --save-params P2.json <cdnow.jsonl
check "ndjson: exit 0, the same predictions" same_as cdnow.ndjson
check "ndjson: the same parameters" cmp -s P2.json P.json
predict $CDNOW_ARGS -q <cdnow.jsonl
check "ndjson guessed from the first line: the same predictions" cmp -s "$out" cdnow.ndjson

# The order of the lines does not matter.  Reversed by customer and day,
# same-day lines kept in their order:
{ head -n 1 cdnow.csv; sed 1d cdnow.csv | sort -s -t , -k 1,1r -k 2,2r; } >shuffled.csv
predict $CDNOW_ARGS -q <shuffled.csv
check "order: customers and days reversed, the same predictions" cmp -s "$out" cdnow.ndjson
# Every line reversed, same-day lines too:
{ head -n 1 cdnow.csv; sed 1d cdnow.csv | sort -r; } >reversed.csv
predict $CDNOW_ARGS --save-params P3.json <reversed.csv
check_eq "order: all lines reversed, the same BG/NBD" "$(jq -c .bgnbd P3.json)" "$(jq -c .bgnbd P.json)"
check_eq "order: all lines reversed, the same summaries" "$(jq -c '[.customer, .orders, .frequency, .recency, .T]' "$out" | cksum)" \
    "$(jq -c '[.customer, .orders, .frequency, .recency, .T]' cdnow.ndjson | cksum)"
check "order: all lines reversed, same-day lines too, the same predictions" cmp -s "$out" cdnow.ndjson

# The horizon in weeks or days is the same horizon.
predict --transactions --as-of 1997-09-30 --unit weeks --horizon 273d -q <cdnow.csv
check "--horizon 273d is 39w" cmp -s "$out" cdnow.ndjson
# Without --as-of: the day of the latest purchase.
predict --transactions --unit weeks <cdnow.csv
check_eq "default as-of: the latest purchase day" "$(sed -n 1p "$err"); $(jq -r .predicted.as_of "$out" | sort -u)" \
    "cdp-predict: 2357 customers bought by 1998-06-30 (1139 of them again), 6919 orders read; unit weeks; 1998-06-30T00:00:00.000Z"

# ---------------------------------------------------------------------------
# 2. --params: a saved fit, reused.
predict $CDNOW_ARGS --params P.json <cdnow.csv
check "--params: exit 0, the same predictions as the fit" same_as cdnow.ndjson
check "--params: the parameters named on stderr, no fit" \
    test "$(grep 'BG/NBD' "$err")" = "cdp-predict: BG/NBD from P.json: r=0.242595 alpha=4.4136 a=0.792922 b=2.42591"
# In days: alpha times 7, the summaries in days, the predictions the same.
predict --transactions --as-of 1997-09-30 --unit days --horizon 273d --params P.json <cdnow.csv
check "--params in days: alpha converted" \
    err_line "cdp-predict: BG/NBD from P.json: r=0.242595 alpha=30.8952 a=0.792922 b=2.42591"
check_eq "--params in days: 00004 in days" "$(line_of 00004 | jq -c '[.frequency, .recency, .T, .predicted.expected_orders, .predicted.p_alive]')" \
    "[2,213,272,1.22599,0.72662]"
check_eq "--params in days: every prediction as in weeks" "$(jq -c .predicted "$out" | cksum)" \
    "$(jq -c .predicted cdnow.ndjson | cksum)"
# Recency in days: the cuts (descending) and scores.
rcuts=$(jq -r '.T - .recency' "$out" | sort -g -r | awk '{ v[NR] = $1 } END { for (j = 1; j <= 4; j++) printf "%s%s", (j > 1 ? " " : ""), v[int((j * NR + 4) / 5)] }')
check "--params in days: recency cuts on stderr" err_line "cdp-predict: RFM recency (days since the last purchase) quintile cuts: $rcuts"
check "--params in days: recency scores from the cuts" test "$(jq -r '[.T - .recency, .predicted.rfm_recency] | @tsv' "$out" |
    awk -v cuts="$rcuts" 'BEGIN { split(cuts, c, " ") }
        { s = 1; for (j = 1; j <= 4; j++) if (c[j] + 0 > $1 + 0) s++; if (s != $2) bad++ } END { print bad + 0 }')" -eq 0
# Bad parameter files: exit 1.
predict --transactions --params missing.json <cdnow.csv
check "--params missing file: exit 1, message" starts 1 "cdp-predict: missing.json:"
jq '.unit = "months"' P.json >months.json
predict --transactions --params months.json <cdnow.csv
check "--params unit months: exit 1, message" ends 1 "cdp-predict: months.json: unit is missing, or neither days nor weeks"
jq '.bgnbd.r = -1' P.json >negative.json
predict --transactions --params negative.json <cdnow.csv
check "--params r < 0: exit 1, message" ends 1 "cdp-predict: negative.json: bgnbd.r is missing or not a positive number"

# ---------------------------------------------------------------------------
# 3. Small cases, by hand, in days, as of 1997-09-30 (day 273 of 1997),
# among the first 200 CDNOW customers (so that the fit converges).
#   x-once     one purchase on 03-01 (day 60): T = 213, x = 0
#   x-sameday  02-01 twice (5 and 7), 03-01 (20): 3 orders, 2 purchase
#              days, x = 1, t_x = 28, T = 241, mean repeat spend 20
#   x-holdout  05-01 (day 121, 15) and 09-30 23:59:59 (25, the as-of day
#              is included); then 10-01 twice, 11-15, 1998-06-01: holdout
#              2 purchase days within 90 days (10-01 and 11-15)
#   x-later    only 10-05: after the as-of day, no prediction
awk -F, 'NR == 1 { next } !($1 in seen) { seen[$1]; n++ } n <= 200' cdnow.csv >first200.rows
{ echo customer,date,amount; cat first200.rows; } >first200.csv
cat >hand.csv <<'X'
customer,date,amount
x-once,1997-03-01,10
x-sameday,1997-02-01T10:00:00Z,5
x-sameday,1997-02-01T18:00:00Z,7
x-sameday,1997-03-01,20
x-holdout,1998-06-01,3
x-holdout,1997-11-15,2
x-holdout,1997-10-01T12:00:00Z,1
x-holdout,1997-10-01T00:00:00Z,30
x-holdout,1997-09-30T23:59:59Z,25
x-holdout,1997-05-01,15
x-later,1997-10-05,9
X
cat first200.rows >>hand.csv
predict --transactions --as-of 1997-09-30 --save-params H.json <hand.csv
cp "$out" hand.ndjson
check "hand: exit 0, the summary line" \
    ends 0 "cdp-predict: 203 customers bought by 1997-09-30 (82 of them again), 668 orders read; unit days"
check_eq "hand: one purchase: x 0, P(alive) 1" "$(summary_of x-once)" "[1,0,0,213,0,10,1,0,0]"
check_eq "hand: same-day orders are one purchase day" \
    "$(line_of x-sameday | jq -c '[.orders, .frequency, .recency, .T, .monetary_value, .total, .holdout_orders]')" \
    "[3,1,28,241,20,32,0]"
check_eq "hand: same-day: P(alive) by its formula (x 1, t_x 28, T 241)" "$(line_of x-sameday | jq .predicted.p_alive)" \
    "$(jq -r '[.bgnbd.r, .bgnbd.alpha, .bgnbd.a, .bgnbd.b] | @tsv' H.json |
        awk '{ printf "%.6g", 1 / (1 + $3 / $4 * (($2 + 241) / ($2 + 28)) ^ ($1 + 1)) }')"
check_eq "hand: the as-of day included, later days in the holdout" \
    "$(line_of x-holdout | jq -c '[.orders, .frequency, .recency, .T, .monetary_value, .total, .holdout_orders]')" \
    "[2,1,152,152,25,40,2]"
check "hand: a customer who bought only after the as-of day is left out" test -z "$(line_of x-later)"
check_eq "hand: churn_risk is 1 - p_alive" \
    "$(jq -r '.predicted | [.p_alive, .churn_risk] | @tsv' hand.ndjson | awk '{ d = $1 + $2 - 1; if (d < -2e-6 || d > 2e-6) bad++ } END { print bad + 0 }')" 0
check_eq "hand: one order, the fewest: frequency score 1" "$(line_of x-once | jq .predicted.rfm_frequency)" 1
check_eq "hand: bought on the as-of day, alone: recency score 5" "$(line_of x-holdout | jq .predicted.rfm_recency)" 5
# The holdout window: 45 days after 10-01 end on 11-15 at 00:00, excluded.
predict --transactions --as-of 1997-09-30 --horizon 45d -q <hand.csv
check_eq "hand: --horizon 45d: 11-15 is out of the window" "$(line_of x-holdout | jq .holdout_orders)" 1
predict --transactions --as-of 1997-09-30 --horizon 46d -q <hand.csv
check_eq "hand: --horizon 46d: 11-15 is in" "$(line_of x-holdout | jq .holdout_orders)" 2
predict --transactions --as-of 1997-09-30 --horizon 365d -q <hand.csv
check_eq "hand: --horizon 365d: 1998-06-01 too" "$(line_of x-holdout | jq -c '[.holdout_orders, .predicted.horizon_days]')" "[3,365]"
# --as-of 1997-10-01: the two 10-01 orders join the summary.
predict --transactions --as-of 1997-10-01 -q <hand.csv
check_eq "hand: --as-of 10-01" "$(line_of x-holdout | jq -c '[.orders, .frequency, .recency, .T, .total, .holdout_orders]')" \
    "[4,2,153,153,71,1]"
# The discount: 30 days are one period, discounted once.
predict --transactions --as-of 1997-09-30 --horizon 30d -q <hand.csv
jq -r '.predicted | [.clv, .expected_orders] | @tsv' "$out" >d0.tsv
predict --transactions --as-of 1997-09-30 --horizon 30d --discount 0.01 -q <hand.csv
jq -r '.predicted | [.clv, .expected_orders] | @tsv' "$out" >d1.tsv
check_eq "--discount 0.01 over 30 days: clv / 1.01, expected orders unchanged" \
    "$(paste d0.tsv d1.tsv | awk '{ d = $1 / 1.01 - $3; if (d < 0) d = -d
                                    if ($1 <= 0 || d > 2e-5 * $1 || $2 != $4) bad++ } END { print NR, bad + 0 }')" "203 0"
predict --transactions --as-of 1997-09-30 --horizon 90d --discount 0.01 -q <hand.csv
jq -r .predicted.clv hand.ndjson >d2.txt
jq -r .predicted.clv "$out" >d3.txt
check_eq "--discount 0.01 over 90 days: every clv lower" \
    "$(paste d2.txt d3.txt | awk '!($2 < $1) { bad++ } END { print NR, bad + 0 }')" "203 0"

# A fit that fails: 300 customers, each with one purchase.
awk 'BEGIN { print "customer,date,amount"
             for (i = 1; i <= 300; i++) printf "c%03d,2025-%02d-%02d,%d.50\n", i, i % 12 + 1, i % 28 + 1, 10 + i % 37 }' >once.csv
predict --transactions --save-params failed.json -o failed.ndjson <once.csv
check "nobody buys twice: exit 1, fit failed" starts 1 \
    "cdp-predict: the BG/NBD fit failed: the data do not identify the model (300 customers; best point r="
check "nobody buys twice: nothing on stdout, no file" test ! -s "$out" -a ! -e failed.ndjson -a ! -e failed.json
# With saved parameters there is nothing to fit.
predict --transactions --params P.json <once.csv
check_eq "nobody buys twice, --params: 300 customers alive" "$(jq -c '[.frequency, .predicted.p_alive]' "$out" | sort | uniq -c | awk '{ $1 = $1; print }')" \
    "300 [0,1]"
# No purchase at all.
: >empty.csv
predict --transactions <empty.csv
check "empty input: exit 1, message" ends 1 "cdp-predict: no orders to learn from on stdin"
predict --transactions --as-of 1996-12-31 <hand.csv
check "nobody bought by the as-of day: exit 1, message" \
    ends 1 "cdp-predict: the BG/NBD fit failed: invalid input (no customer bought by the as-of day); nothing was written"
printf 'customer,date,amount\n' >header.csv
predict --transactions <header.csv
check "only a header: exit 1, message" ends 1 "cdp-predict: no orders to learn from on stdin"

# ---------------------------------------------------------------------------
# 4. Bad input: each bad row is reported with its line and left out.
{
    cat <<'X'
customer,date,amount
x-once,1997-03-01,10
x-bad,1997-02-30,5
x-bad,1997-02-01,12abc
,1997-02-01,5
x-bad,1997-02-01
x-bad,,4
X
    sed 1d hand.csv | sed 1d
} >bad.csv
predict --transactions --as-of 1997-09-30 <bad.csv
check "bad rows: exit 3" test "$status" -eq 3
check_eq "bad rows: one message each, with its line" "$(grep -v '^cdp-predict: [0-9]* customers\|BG/NBD\|Gamma-Gamma\|RFM\|holdout:' "$err")" \
"cdp-predict: -:3: no date, or a date that cannot be read; transaction skipped
cdp-predict: -:4: no amount, or an amount that is not a number; transaction skipped
cdp-predict: -:5: no customer; transaction skipped
cdp-predict: -:6: no amount, or an amount that is not a number; transaction skipped
cdp-predict: -:7: no date, or a date that cannot be read; transaction skipped"
check "bad rows: the other rows give the same predictions" cmp -s "$out" hand.ndjson
# NDJSON: bad lines, a customer as a number, an epoch date, a decimal comma.
jq -c -R 'split(",") | select(.[0] != "customer") | {customer: .[0], date: .[1], amount: (.[2] | tonumber)}' hand.csv >hand.jsonl
{
    echo '{"customer":"x-bad","date":"1997-02-01"}'
    echo 'not json'
    echo '[1,2]'
    echo '{"customer":7,"date":857174400,"amount":"3,5"}'
    echo ''
    echo '{"customer":"7","date":"1997-02-28T00:00:00Z","amount":1.5}'
    cat hand.jsonl
} >bad.jsonl
predict --transactions --as-of 1997-09-30 <bad.jsonl
check "ndjson bad lines: exit 3" test "$status" -eq 3
# (the parser's own words for line 2 left out)
check_eq "ndjson: one message each, with its line" \
    "$(grep '^cdp-predict: -:' "$err" | sed 's/^\(cdp-predict: -:2: \).*\(; transaction skipped\)$/\1...\2/')" \
"cdp-predict: -:1: no amount, or an amount that is not a number; transaction skipped
cdp-predict: -:2: ...; transaction skipped
cdp-predict: -:3: not a JSON object; transaction skipped"
check_eq "ndjson: customer 7 (a number, an epoch date, 3,5) and \"7\" are one" \
    "$(line_of 7 | jq -c '[.orders, .frequency, .recency, .total, .monetary_value]')" "[2,1,1,5,3.5]"
check_eq "ndjson: the others as from CSV" "$(grep -v '^{"customer":"7",' "$out" | jq -c 'del(.predicted)' | cksum)" \
    "$(jq -c 'del(.predicted)' hand.ndjson | cksum)"

# A header without the column: exit 1, the column named.
printf 'client,date,amount\na,2025-01-01,1\n' >client.csv
predict --transactions <client.csv
check "no customer column: exit 1, message" \
    ends 1 "cdp-predict: -:1: the header has no column 'customer' (name the columns with --customer, --date and --amount)"
printf 'customer,date,total\na,2025-01-01,1\n' >total.csv
predict --transactions --date DATE <total.csv
check "no amount column: exit 1, message" \
    ends 1 "cdp-predict: -:1: the header has no column 'amount' (name the columns with --customer, --date and --amount)"

# Other names, a semicolon, day/month/year and a decimal comma.
awk -F, 'NR == 1 { print " Client ;Jour;MONTANT"; next }
         { a = $3; sub(/\./, ",", a); d = $2
           d = substr(d, 7, 2) "/" substr(d, 5, 2) "/" substr(d, 1, 4)
           print $1 ";" d ";" a }' first200.csv >fr.csv
predict --transactions --as-of 1997-09-30 <first200.csv
cp "$out" first200.ndjson
check "first 200: exit 0, the summary line" \
    ends 0 "cdp-predict: 200 customers bought by 1997-09-30 (80 of them again), 657 orders read; unit days"
predict --transactions --as-of 1997-09-30 -q --delimiter ';' --customer client --date jour --amount montant \
    --date-format %d/%m/%Y <fr.csv
check "--delimiter, --customer, --date, --amount, --date-format: the same predictions" cmp -s "$out" first200.ndjson
tr , '\t' <first200.csv >first200.tsv
predict --transactions --as-of 1997-09-30 -q --delimiter tab <first200.tsv
check "--delimiter tab: the same predictions" cmp -s "$out" first200.ndjson

# Bad options: exit 2.
bad_option() {
    # bad_option MESSAGE ARGS...
    msg=$1
    shift
    predict "$@" <first200.csv
    check "$*: exit 2, message" ends 2 "cdp-predict: $msg"
}
bad_option "--unit is days or weeks, not 'months'" --transactions --unit months
bad_option "--horizon wants whole days or weeks up to 100 years, such as 90d or 39w, not '0d'" --transactions --horizon 0d
bad_option "--horizon wants whole days or weeks up to 100 years, such as 90d or 39w, not '36h'" --transactions --horizon 36h
bad_option "--discount wants a rate in [0, 1) such as 0.01, not '2'" --transactions --discount 2
bad_option "--params reuses a fit and --save-params saves one: give one of them" --transactions --params P.json --save-params Q.json
bad_option "--dry-run is for the store: --transactions never writes to it" --transactions --dry-run
bad_option "--as-of wants a date such as 2025-12-31, not 'soon'" --transactions --as-of soon
bad_option "-o is for what is written to stdout: with --transactions or --dry-run" -o x.ndjson
check "bad options: no file made" test ! -e Q.json -a ! -e x.ndjson

# ---------------------------------------------------------------------------
# 5. The store.  The first 200 CDNOW customers' orders as Order Completed
# events (a second apart within a day), "late" who starts buying in
# August, and "nobody" who never buys.
awk -F, '{ d = $2
           printf "{\"type\":\"track\",\"event\":\"Order Completed\",\"userId\":\"%s\",\"properties\":{\"orderId\":\"o%d\",\"revenue\":%s},\"timestamp\":\"%s-%s-%sT00:%02d:%02dZ\",\"messageId\":\"m%d\"}\n",
               $1, NR, $3, substr(d, 1, 4), substr(d, 5, 2), substr(d, 7, 2), int(NR / 60), NR % 60, NR }' first200.rows >events.ndjson
cat >>events.ndjson <<'X'
{"type":"track","event":"Order Completed","userId":"late","properties":{"orderId":"L-1","revenue":40},"timestamp":"1997-08-15T10:00:00Z","messageId":"l1"}
{"type":"track","event":"Order Completed","userId":"late","properties":{"orderId":"L-2","revenue":20},"timestamp":"1997-09-10T10:00:00Z","messageId":"l2"}
{"type":"identify","userId":"nobody","traits":{"email":"nobody@example.com"},"timestamp":"1997-03-01T10:00:00Z","messageId":"n1"}
X
"$CDP_BIN/cdp-ingest" -q -d "$CDP_DB" events.ndjson
"$CDP_BIN/cdp-export" | jq -r '[(.identifiers[] | select(startswith("user:")) | ltrimstr("user:")), .id] | @tsv' | sort >ids.tsv
check_eq "store: 202 profiles" "$(lines ids.tsv)" 202
id_4=$(awk '$1 == "00004" { print $2 }' ids.tsv)
id_late=$(awk '$1 == "late" { print $2 }' ids.tsv)
id_nobody=$(awk '$1 == "nobody" { print $2 }' ids.tsv)
# The same orders as a stream, with the same times.
{
    echo customer,date,amount
    jq -r 'select(.event == "Order Completed") | [.userId, .timestamp, (.properties.revenue | tostring)] | join(",")' events.ndjson
} >store.csv

run cdp-segment --count 'predicted.p_alive >= 0'
check_eq "store: no predictions before the first run" "$(cat "$out")" 0
predict --dry-run --as-of 1997-09-30 --save-params D.json
cp "$out" dry.ndjson
check "--dry-run: exit 0, the summary line" \
    ends 0 "cdp-predict: 201 customers bought by 1997-09-30 (81 of them again), 659 orders read; unit days"
check_eq "--dry-run: one line per profile with orders, by id" "$(jq -r .id dry.ndjson | tr '\n' ' ')" \
    "$(awk '$1 != "nobody" { print $2 }' ids.tsv | sort | tr '\n' ' ')"
check "--dry-run: no holdout_orders member" test "$(grep -c holdout_orders dry.ndjson)" -eq 0
run cdp-segment --count 'predicted.p_alive >= 0'
check_eq "--dry-run: nothing stored" "$(cat "$out")" 0
predict --transactions --as-of 1997-09-30 --save-params S.json <store.csv
cp "$out" stream.ndjson
# The likelihoods add the customers up in another order (ids, names): the
# same parameters to 10 digits.
params10() {
    jq -r '[.. | numbers] | .[]' "$1" | awk '{ printf "%.10g ", $1 }'
}
check_eq "store and stream: the same parameters" "$(params10 D.json)" "$(params10 S.json)"
# Each line without its id (store) or name and holdout (stream), by name.
jq -r '[.id, (del(.id) | tojson)] | @tsv' dry.ndjson |
    awk -F '\t' 'NR == FNR { name[$2] = $1; next } { print name[$1] "\t" $2 }' ids.tsv - | sort >dry.byname
jq -r '[.customer, (del(.customer, .holdout_orders) | tojson)] | @tsv' stream.ndjson | sort >stream.byname
check_eq "store and stream: 201 customers" "$(lines stream.byname)" 201
check "store and stream: the same summaries and predictions" cmp -s dry.byname stream.byname
check_eq "store and stream: 00004" "$(grep "$id_4" dry.ndjson | jq -c '.predicted | [.p_alive, .expected_orders]')" \
    "$(line_of 00004 stream.ndjson | jq -c '.predicted | [.p_alive, .expected_orders]')"

predict --as-of 1997-09-30
check "store: exit 0, the last line" ends 0 "cdp-predict: 201 profiles scored; the predictions of the previous run replaced"
check "store: nothing on stdout" test ! -s "$out"
run cdp-segment --count 'predicted.p_alive >= 0'
check_eq "store: 201 predictions" "$(cat "$out")" 201
run cdp-segment --count 'predicted.p_alive < 0.5'
low=$(jq -c 'select(.predicted.p_alive < 0.5)' dry.ndjson | wc -l | tr -d ' ')
check "store: some customers are probably gone" test "$low" -gt 0
check_eq "store: cdp-segment predicted.p_alive < 0.5 as --dry-run" "$(cat "$out")" "$low"
run cdp-segment --ids "predicted.churn_risk > 0.5 and predicted.rfm_segment = 'Potential loyalist'"
check "store: some potential loyalists are likely gone" test -s "$out"
check_eq "store: cdp-segment on churn_risk and rfm_segment" "$(cat "$out")" \
    "$(jq -r 'select(.predicted.churn_risk > 0.5 and .predicted.rfm_segment == "Potential loyalist") | .id' dry.ndjson)"
run cdp-export -f csv --fields id,predicted.clv
tr -d '\r' <"$out" >export.csv
check_eq "export csv: the header and 202 rows" "$(sed -n 1p export.csv),$(lines export.csv)" "id,predicted.clv,203"
check_eq "export csv: every clv as --dry-run's" "$(grep -v "^id,\|^$id_nobody," export.csv)" \
    "$(jq -r '[.id, .predicted.clv] | join(",")' dry.ndjson)"
check_eq "export csv: no clv without orders" "$(grep "^$id_nobody," export.csv)" "$id_nobody,"
"$CDP_BIN/cdp-export" >export1.ndjson
check_eq "export: the predicted objects are --dry-run's" \
    "$(jq -c 'select(has("predicted")) | [.id, .predicted]' export1.ndjson)" "$(jq -c '[.id, .predicted]' dry.ndjson)"
check_eq "export: no predicted member without orders" "$(jq -r "select(.id == \"$id_nobody\") | has(\"predicted\")" export1.ndjson)" false

# A duplicate order (same orderId, another messageId) counts once.
echo '{"type":"track","event":"Order Completed","userId":"00004","properties":{"orderId":"o1","revenue":29.33},"timestamp":"1997-09-01T10:00:00Z","messageId":"dup-1"}' >dup.ndjson
run cdp-ingest dup.ndjson
check "duplicate order: the event lands" \
    err_line "cdp-ingest: 1 read, 1 landed, 0 duplicates, 0 rejected, 0 warnings, 0 profiles created, 0 merges (0 refused)"
predict --dry-run --as-of 1997-09-30 -q
check "duplicate order: --dry-run as before" cmp -s "$out" dry.ndjson

# A second run replaces the first.
predict --as-of 1997-06-30 -q
check "second run: exit 0" quiet_ok
"$CDP_BIN/cdp-export" >export2.ndjson
check_eq "second run: every prediction as of 06-30" "$(jq -r 'select(has("predicted")) | .predicted.as_of' export2.ndjson | sort | uniq -c | awk '{ $1 = $1; print }')" \
    "200 1997-06-30T00:00:00.000Z"
check_eq "second run: late has none any more" "$(jq -r "select(.id == \"$id_late\") | has(\"predicted\")" export2.ndjson)" false
run cdp-segment --count 'predicted.as_of < 1997-07-01'
check_eq "second run: cdp-segment sees 200" "$(cat "$out")" 200
# A fit that fails keeps them: on 1997-01-01 nobody has bought twice.
predict --as-of 1997-01-01
check "failed fit: exit 1, message" starts 1 \
    "cdp-predict: the BG/NBD fit failed: the data do not identify the model ("
"$CDP_BIN/cdp-export" >export3.ndjson
check "failed fit: the predictions of the second run stay" cmp -s export2.ndjson export3.ndjson

# --forget takes the prediction with the profile.
entries() {
    mdb_stat -s predictions "$CDP_DB" | awk '/Entries:/ { print $2 }'
}
run cdp-consent --forget user:00004
check "forget: exit 0" test "$status" -eq 0
run cdp-segment --count 'predicted.p_alive >= 0'
check_eq "forget: 199 predictions" "$(cat "$out")" 199
if command -v mdb_stat >/dev/null 2>&1; then
    check_eq "forget: 199 records after" "$(entries)" 199
else
    echo "note: mdb_stat (lmdb-utils) is not installed; the predictions database is not counted"
fi
run cdp-export --lookup "$id_4"
check "forget: the profile is gone" test -z "$(cat "$out")"

# --count: another event name counts as an order.  "mixed" has an Order
# Completed and a Purchase; "counted" only Purchases, ingested with the
# same --count; "purchases" only Purchases, ingested without it.
cat >purchase.ndjson <<'X'
{"type":"track","event":"Order Completed","userId":"mixed","properties":{"orderId":"M-1","revenue":10},"timestamp":"1997-03-01T10:00:00Z","messageId":"pm1"}
{"type":"track","event":"Purchase","userId":"mixed","properties":{"orderId":"M-2","revenue":30},"timestamp":"1997-06-01T10:00:00Z","messageId":"pm2"}
{"type":"track","event":"Purchase","userId":"purchases","properties":{"orderId":"P-1","revenue":40},"timestamp":"1997-03-01T10:00:00Z","messageId":"pp1"}
{"type":"track","event":"Purchase","userId":"purchases","properties":{"orderId":"P-2","revenue":60},"timestamp":"1997-05-01T10:00:00Z","messageId":"pp2"}
X
"$CDP_BIN/cdp-ingest" -q -d "$CDP_DB" purchase.ndjson
echo '{"type":"track","event":"Purchase","userId":"counted","properties":{"orderId":"C-1","revenue":5},"timestamp":"1997-03-01T10:00:00Z","messageId":"pc1"}
{"type":"track","event":"Purchase","userId":"counted","properties":{"orderId":"C-2","revenue":6},"timestamp":"1997-04-01T10:00:00Z","messageId":"pc2"}' |
    "$CDP_BIN/cdp-ingest" -q -d "$CDP_DB" --count 'Purchase=orders'
id_mixed=$("$CDP_BIN/cdp-export" --lookup user:mixed | jq -r .id)
id_counted=$("$CDP_BIN/cdp-export" --lookup user:counted | jq -r .id)
id_purchases=$("$CDP_BIN/cdp-export" --lookup user:purchases | jq -r .id)
predict --dry-run --as-of 1997-09-30 -q
check_eq "without --count: mixed has one order" "$(grep "$id_mixed" "$out" | jq -c '[.orders, .total]')" "[1,10]"
check "without --count: counted has none" test "$(grep -c "$id_counted" "$out")" -eq 0
predict --dry-run --as-of 1997-09-30 -q --count 'Purchase=orders'
check_eq "--count Purchase=orders: mixed has two" "$(grep "$id_mixed" "$out" | jq -c '[.orders, .frequency, .total]')" "[2,1,40]"
check_eq "--count Purchase=orders: counted has two" "$(grep "$id_counted" "$out" | jq -c '[.orders, .frequency, .total]')" "[2,1,11]"
check_eq "--count Purchase=orders: purchases has two" "$(grep "$id_purchases" "$out" | jq -c '[.orders, .frequency, .total]')" "[2,1,100]"

# ---------------------------------------------------------------------------
# 6. -o FILE: the NDJSON, whole.
predict --transactions --as-of 1997-09-30 -q -o hand.out <hand.csv
check "-o: exit 0, nothing on stdout" test "$status" -eq 0 -a ! -s "$out"
check "-o: the file holds what stdout would" cmp -s hand.out hand.ndjson
predict --dry-run --as-of 1997-09-30 -q -o dry.out
predict --dry-run --as-of 1997-09-30 -q
check "--dry-run -o: the file holds what stdout would" cmp -s dry.out "$out"
echo old >kept.out
predict --transactions -o kept.out <once.csv
check_eq "-o, failed fit: exit 1, the file is left as it was" "$status $(cat kept.out)" "1 old"
check "-o: no temporary file left" test -z "$(ls | grep '\.tmp\.')"
predict --transactions --as-of 1997-09-30 -q -o rejected.out <bad.csv
check "-o, rejected rows: exit 3" test "$status" -eq 3
check "-o, rejected rows: the file holds the predictions" cmp -s rejected.out hand.ndjson

finish
