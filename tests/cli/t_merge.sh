#!/bin/sh
# cdp-merge end to end.
#
# - --dedupe on a hand-made CSV: 16 people with known duplicates (accents
#   and case, a typo in a surname, two birth-date digits swapped, a
#   postcode digit, a missing date, a quoted cell) and namesakes that are
#   other people, among 300 filler people drawn with a fixed seed (every
#   eighth with a corrupted copy).  Every row comes back unchanged with a
#   cluster_id, the smallest key of its cluster; which records are together
#   and which apart is asserted record by record.
# - The order of the input rows does not matter.
# - NDJSON in, NDJSON out (cluster_id appended as the last member); --fields
#   is required for NDJSON; numbers as values; lines that are not objects.
# - --link A B: pairs only across the files, the source column, records of
#   one file together only through the other file; headers that differ.
# - --explain: one line per scored pair; weight = prior + the field weights,
#   probability = 2^w / (1 + 2^w), the level names of lib/match.c, the
#   term-frequency adjustment against the model.
# - --evaluate with a column, with --truth-pattern and with a key,cluster
#   file, on a 7-record case worked out by hand.
# - --block rules (bad ones; one that puts nothing together), --threshold,
#   bad input (line numbers, exit 3), bad options (exit 2).
# - -o FILE; --model on stderr.
# - The Febrl datasets 1-3 (from ../shared/data/febrl next to the
#   repository; skipped when absent, and under valgrind, where they are
#   slow): F1 >= 0.99 with every column, >= 0.95 without soc_sec_id.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1

# merge ARGS...: cdp-merge through run ($out, $err, $status).
merge() {
    run cdp-merge "$@"
}

# starts STATUS PREFIX: the last run exited STATUS and a line of its stderr
# starts with PREFIX.
starts() {
    test "$status" -eq "$1" && err_starts "$2"
}

# ends STATUS LINE: the last run exited STATUS and wrote LINE on stderr.
ends() {
    test "$status" -eq "$1" && err_line "$2"
}

# cluster KEY [FILE]: the cluster_id of a record of a CSV output (default $out).
cluster() {
    awk -F, -v k="$1" '$1 == k { print $NF }' "${2:-$out}"
}

# clusters KEY...: the cluster_ids of records of $out, one line.
clusters() {
    for k in "$@"; do
        cluster "$k"
    done | tr '\n' ' ' | sed 's/ $//'
}

# lines FILE: the number of lines of FILE.
lines() {
    wc -l <"$1" | tr -d ' '
}

# summary_count WORDS: the number before WORDS in the summary line of the last
# run, e.g. summary_count "pairs compared".
summary_count() {
    sed -n "s/^cdp-merge: .*[^0-9]\([0-9][0-9]*\) $1.*/\1/p" "$err" | head -n 1
}

# members CLUSTER [FILE]: the keys of the records of a cluster, sorted.
members() {
    awk -F, -v c="$1" 'NR > 1 && $NF == c { print $1 }' "${2:-$out}" | sort | tr '\n' ' ' | sed 's/ $//'
}

# ---------------------------------------------------------------------------
# 1. A hand-made CSV among filler people.
#
# a01, a02, a11: Inès André (a02 in lower case without accents, a11
#   without a birth date);
# a03, a04: Jean Dupont / Dupond;       a14: another Jean Dupont;
# a05, a06: Marie Lefèvre, born 1976-12-21 / 1976-12-12;
# a07, a08: Paul Martin, postcode 33000 / 33100;   a09: another Paul Martin;
# a12, a13: Hugo and Léa Bernard, same postcode, other people;
# a15, a16: Seán O'Brien / Sean "O'Brien, Jr" (a quoted cell);
# a10: Claire Petit, alone.
cat >core.csv <<'X'
id,given_name,surname,date_of_birth,postcode
a01,Inès,ANDRÉ,1985-03-12,75011
a02,ines,andre,1985-03-12,75011
a03,Jean,Dupont,1970-06-01,69003
a04,Jean,Dupond,1970-06-01,69003
a05,Marie,Lefèvre,1976-12-21,13001
a06,Marie,Lefevre,1976-12-12,13001
a07,Paul,Martin,1990-01-15,33000
a08,Paul,Martin,1990-01-15,33100
a09,Paul,Martin,1962-08-30,59000
a10,Claire,Petit,1988-04-04,44000
a11,Inès,André,,75011
a12,Hugo,Bernard,1995-09-09,31000
a13,Léa,Bernard,2001-02-17,31000
a14,Jean,Dupont,1948-10-23,67000
a15,Seán,O'Brien,1979-07-07,29200
a16,Sean,"O'Brien, Jr",1979-07-07,29200
X
# Filler people f000..f299, distinct given name + surname, drawn with a
# Park-Miller generator; every eighth (f000, f008, ...) has a copy g000,
# g008, ... with one corruption: a letter of the surname lost, the given
# name in capitals, the last digit of the birth date or of the postcode.
cat >gen.awk <<'X'
function rnd(n) { x = (x * 16807) % 2147483647; return x % n }
BEGIN {
    x = 20240601
    ng = split("Adrien Alice Antoine Aurore Bastien Benoit Camille Cedric Chloe Damien Denise Elodie Emile Fabrice Florence Gabriel Gilles Helene Isabelle Jacques Julie Karim Laure Lucien Manon Mathis Nadia Noel Oscar Pauline Quentin Regis Sabine Simon Solene Thierry Valerie Victor Yann Zoe", G, " ")
    ns = split("Arnaud Aubert Barbier Blanc Boyer Brun Carre Chevalier Clement Colin David Denis Dumas Durand Fabre Faure Fournier Francois Gautier Gerard Girard Guerin Henry Joly Lambert Laurent Legrand Lemaire Leroux Marchand Masson Mathieu Mercier Meunier Michel Morel Muller Noel Perrin Picard", S, " ")
    for (k = 0; k < n; k++) {
        do { g = G[1 + rnd(ng)]; s = S[1 + rnd(ns)] } while ((g, s) in used)
        used[g, s] = 1
        dob = sprintf("%04d-%02d-%02d", 1940 + rnd(65), 1 + rnd(12), 1 + rnd(28))
        pc = sprintf("%02d%03d", 14 + 4 * rnd(20), 100 * rnd(3))
        id = sprintf("%03d", k)
        print "f" id "," g "," s "," dob "," pc
        if (k % 8 == 0) {
            t = rnd(4)
            if (t == 0) s = substr(s, 1, 2) substr(s, 4)
            else if (t == 1) g = toupper(g)
            else if (t == 2) dob = substr(dob, 1, 9) (substr(dob, 10, 1) == "9" ? "8" : "9")
            else pc = substr(pc, 1, 4) (substr(pc, 5, 1) == "0" ? "5" : "0")
            print "g" id "," g "," s "," dob "," pc
        }
    }
}
X
awk -v n=300 -f gen.awk >filler.csv
cat core.csv filler.csv >people.csv
check_eq "data: 16 + 300 + 38 records" "$(sed 1d people.csv | wc -l | tr -d ' ')" 354
check_eq "data: the filler names are distinct" "$(grep '^f' filler.csv | cut -d, -f2,3 | sort | uniq -d | wc -l | tr -d ' ')" 0

merge --dedupe <people.csv
cp "$out" people.out
check "dedupe: exit 0, the summary" \
    starts 0 "cdp-merge: 354 records, "
check_eq "dedupe: the header gets ,cluster_id" "$(head -n 1 people.out)" \
    "id,given_name,surname,date_of_birth,postcode,cluster_id"
check_eq "dedupe: the header and one line per record" "$(lines people.out)" 355
check "dedupe: every row unchanged before the cluster_id (a16's quoted cell too)" \
    cmp -s people.csv "$(sed 's/,[^,]*$//' people.out >rows.csv && echo rows.csv)"
check_eq "dedupe: Inès ANDRÉ, ines andre and Inès André (no date) together, as a01" \
    "$(clusters a01 a02 a11)" "a01 a01 a01"
check_eq "dedupe: Dupont / Dupond together, as a03; the other Jean Dupont apart" \
    "$(clusters a03 a04 a14)" "a03 a03 a14"
check_eq "dedupe: birth dates 1976-12-21 / 1976-12-12 together, as a05" "$(clusters a05 a06)" "a05 a05"
check_eq "dedupe: postcodes 33000 / 33100 together; the Paul Martin of Lille apart" \
    "$(clusters a07 a08 a09)" "a07 a07 a09"
check_eq "dedupe: Hugo and Léa Bernard, same postcode, apart" "$(clusters a12 a13)" "a12 a13"
check_eq "dedupe: Seán O'Brien and Sean \"O'Brien, Jr\" together, as a15" "$(clusters a15 a16)" "a15 a15"
check_eq "dedupe: Claire Petit alone" "$(members a10 people.out)" "a10"
check_eq "dedupe: the core clusters, exactly" \
    "$(awk -F, 'NR > 1 && $1 ~ /^a/ { print $NF }' people.out | sort | uniq -c | awk '{ printf "%s:%s ", $2, $1 }')" \
    "a01:3 a03:2 a05:2 a07:2 a09:1 a10:1 a12:1 a13:1 a14:1 a15:2 "
check_eq "dedupe: each corrupted copy gXXX with its fXXX, named fXXX" \
    "$(awk -F, 'NR > 1 && $1 ~ /^g/ && $NF != "f" substr($1, 2)' people.out | wc -l | tr -d ' ')" 0
check_eq "dedupe: no other filler linked: 300 + 10 clusters" \
    "$(sed 1d people.out | awk -F, '{ print $NF }' | sort -u | wc -l | tr -d ' ')" 310
check "dedupe: the summary counts 310 clusters and 45 links" \
    err_starts "cdp-merge: 354 records, $(summary_count 'pairs compared') pairs compared (5 blocking rules), 45 linked, 310 clusters; prior "
check_eq "dedupe: a cluster's id is the smallest key of its members" \
    "$(sed 1d people.out | awk -F, '{ print $NF "," $1 }' | sort | awk -F, '$1 != last { last = $1; if ($1 != $2) bad++ } END { print bad + 0 }')" 0

# -v: the rules (the default ones for these columns) and the pairs each found first.
merge --dedupe -v <people.csv
check "-v: the same output" cmp -s "$out" people.out
check_eq "-v: the default blocking rules for these columns" \
    "$(sed -n 's/^cdp-merge: blocking rule \([0-9]\): \(.*\): [0-9]* pairs$/\1 \2/p' "$err" | tr '\n' '|')" \
    "1 date_of_birth|2 postcode+surname:1|3 surname+given_name:1|4 given_name+surname:1+date_of_birth:4|5 given_name+postcode|"
check_eq "-v: the rules' pairs add up to the pairs compared" \
    "$(sed -n 's/^cdp-merge: blocking rule [0-9]: .*: \([0-9]*\) pairs$/\1/p' "$err" | awk '{ s += $1 } END { print s }')" \
    "$(summary_count 'pairs compared')"

# ---------------------------------------------------------------------------
# 2. The order of the rows does not matter: rows sorted by a hash of the key.
{
    head -n 1 people.csv
    sed 1d people.csv | awk -F, '{
        h = 7
        for (i = 1; i <= length($1); i++)
            h = (h * 131 + index("0123456789abcdefghijklmnopqrstuvwxyz", substr($1, i, 1))) % 1000003
        print h "\t" $0 }' | sort -n | cut -f 2-
} >shuffled.csv
check "order: the rows are shuffled" test "$(sed -n 2p shuffled.csv | cut -d, -f1)" != a01
merge --dedupe <shuffled.csv
check "order: exit 0" test "$status" -eq 0
check "order: rows in the shuffled order" cmp -s shuffled.csv "$(sed 's/,[^,]*$//' "$out" >rows2.csv && echo rows2.csv)"
sort "$out" >shuffled.sorted
sort people.out >people.sorted
check "order: the same cluster_id for every record" cmp -s shuffled.sorted people.sorted
{ head -n 1 people.csv; sed 1d people.csv | sort -r; } >reversed.csv
merge --dedupe -q <reversed.csv
check "order: reversed rows, the same clusters" cmp -s "$(sort "$out" >rev.sorted && echo rev.sorted)" people.sorted
# Threads: the comparisons split over four threads give the same output.
merge --dedupe --threads 1 <people.csv
check "threads 1: the same output" cmp -s "$out" people.out
merge --dedupe --threads 4 <people.csv
check "threads 4: the same output" cmp -s "$out" people.out
merge --dedupe --threads 0 <people.csv
check "threads 0: exit 2" ends 2 "cdp-merge: --threads wants a number from 1 to 64"

# ---------------------------------------------------------------------------
# 3. NDJSON.
sed 1d people.csv | awk -F, '{
    printf "{\"id\":\"%s\",\"given_name\":\"%s\",\"surname\":\"%s\",\"date_of_birth\":\"%s\",\"postcode\":\"%s\"}\n",
        $1, $2, $3, $4, $5 }' | grep -v '^{"id":"a16"' >people.ndjson
printf '%s\n' '{"id":"a16","given_name":"Sean","surname":"O'"'"'Brien, Jr","date_of_birth":"1979-07-07","postcode":"29200"}' \
    >>people.ndjson
merge --dedupe --fields given_name,surname,date_of_birth,postcode <people.ndjson
cp "$out" people.out.ndjson
check "ndjson: exit 0" test "$status" -eq 0
check_eq "ndjson: one line per record" "$(lines people.out.ndjson)" 354
check_eq "ndjson: cluster_id appended as the last member, the rest as it was" \
    "$(sed 's/,"cluster_id":"[^"]*"}$/}/' people.out.ndjson | cmp -s - people.ndjson && echo same)" same
check_eq "ndjson: cluster_id is the last key" "$(jq -r 'keys_unsorted | last' people.out.ndjson | sort -u)" cluster_id
check_eq "ndjson: the same clusters as the CSV" \
    "$(jq -r '[.id, .cluster_id] | join(",")' people.out.ndjson | sort | cksum)" \
    "$(sed 1d people.out | awk -F, '{ print $1 "," $NF }' | sort | cksum)"
merge --dedupe <people.ndjson
check "ndjson without --fields: exit 2, the message" ends 2 "cdp-merge: NDJSON input needs --fields"
check "ndjson without --fields: nothing on stdout" test ! -s "$out"
# --key, numbers as values, blanks before the closing brace, and lines
# that are not objects.
cat >odd.ndjson <<'X'
{"ref":"x1","name":{"last":"Roux"},"zip":75001  }
{"ref":"x2","name":{"last":"Roux"},"zip":"75001"}
[1]
not json
{"ref":"x3","name":{"last":"Blanc"},"zip":13000}
X
merge --dedupe --key ref --fields name.last,zip --block zip --prior 0.5 --threshold 0.001 <odd.ndjson
check "ndjson: lines not objects rejected with their line, exit 3" \
    test "$status" -eq 3 -a "$(grep -c '^cdp-merge: -:[34]: ' "$err")" -eq 2
check_eq "ndjson: --key ref, nested member, numbers compared as text" "$(cat "$out")" \
'{"ref":"x1","name":{"last":"Roux"},"zip":75001  ,"cluster_id":"x1"}
{"ref":"x2","name":{"last":"Roux"},"zip":"75001","cluster_id":"x1"}
{"ref":"x3","name":{"last":"Blanc"},"zip":13000,"cluster_id":"x3"}'

# ---------------------------------------------------------------------------
# 4. --link A B: A holds the odd core records, every fXXX and g000, g008;
# B the even core records and the other gXXX.  a01 and a11 (both in A)
# meet only through a02 (in B); f000 and g000 (both in A) never meet.
{ head -n 1 people.csv; grep -E '^(a(01|03|05|07|09|11|13|15)|f[0-9]+|g00[08]),' people.csv; } >A.csv
{ head -n 1 people.csv; grep -E '^(a(02|04|06|08|10|12|14|16)|g[0-9]+),' people.csv | grep -v -E '^g00[08],'; } >B.csv
merge --link A.csv B.csv
cp "$out" link.out
check "link: exit 0" starts 0 "cdp-merge: 354 records, "
check_eq "link: the header gets source and cluster_id" "$(head -n 1 link.out)" \
    "id,given_name,surname,date_of_birth,postcode,source,cluster_id"
check_eq "link: A's rows then B's, unchanged, with their source" \
    "$(sed 1d link.out | sed 's/,[^,]*$//' | cksum)" \
    "$({ sed 1d A.csv | sed 's/$/,A.csv/'; sed 1d B.csv | sed 's/$/,B.csv/'; } | cksum)"
check_eq "link: a01, a11 (A) through a02 (B)" "$(clusters a01 a11 a02)" "a01 a01 a01"
check_eq "link: the other core pairs" "$(clusters a03 a04 a05 a06 a07 a08 a15 a16)" "a03 a03 a05 a05 a07 a07 a15 a15"
check_eq "link: the namesakes apart" "$(clusters a09 a12 a13 a14)" "a09 a12 a13 a14"
check_eq "link: f000 and g000, both in A, apart; f016 (A) and g016 (B) together" \
    "$(clusters f000 g000 f008 g008 f016 g016)" "f000 g000 f008 g008 f016 f016"
check_eq "link: no cluster holds two records of one file but a01's" \
    "$(sed 1d link.out | awk -F, '{ n[$NF "," $(NF - 1)]++ } END { for (k in n) if (n[k] > 1) print k }')" "a01,A.csv"
merge --link A.csv B.csv --explain -q
check_eq "link --explain: no pair inside A or inside B" "$(
    jq -r '.a + " " + .b' "$out" | while read -r a b; do
        printf '%s %s\n' "$(grep -c "^$a," A.csv)" "$(grep -c "^$b," A.csv)"
    done | awk '$1 == $2' | wc -l | tr -d ' ')" 0
sed 's/^id,/key,/' B.csv >B2.csv
merge --link A.csv B2.csv
check "link: B's header differs: exit 1, the message" \
    ends 1 "cdp-merge: B2.csv: the header differs from the first file's"
merge --link A.csv missing.csv
check "link: a missing file: exit 1, named" starts 1 "cdp-merge: missing.csv: "

# ---------------------------------------------------------------------------
# 5. --explain
merge --dedupe --explain <people.csv
cp "$out" explain.ndjson
pairs=$(summary_count 'pairs compared')
check "explain: exit 0" test "$status" -eq 0
check_eq "explain: one line per pair compared" "$(lines explain.ndjson)" "$pairs"
check_eq "explain: the members of each line" \
    "$(jq -c '[keys_unsorted, (.fields | map(keys_unsorted) | unique)]' explain.ndjson | sort -u)" \
    '[["a","b","probability","weight","prior","fields"],[["field","a","b","level","weight"]]]'
check_eq "explain: the fields in their order" "$(jq -c '[.fields[].field]' explain.ndjson | sort -u)" \
    '["given_name","surname","date_of_birth","postcode"]'
check_eq "explain: a before b in key order, each pair once" \
    "$(jq -r 'select(.a >= .b)' explain.ndjson; jq -r '.a + " " + .b' explain.ndjson | sort | uniq -d)" ""
check_eq "explain: weight = prior + the field weights (within 1e-3), every line" \
    "$(jq -r '[.weight, .prior, ([.fields[].weight] | add)] | @tsv' explain.ndjson |
        awk '{ d = $1 - $2 - $3; if (d < -1e-3 || d > 1e-3) bad++ } END { print bad + 0 }')" 0
check_eq "explain: probability = 2^w / (1 + 2^w), every line" \
    "$(jq -r '[.probability, .weight] | @tsv' explain.ndjson |
        awk '{ p = 2 ^ $2 / (1 + 2 ^ $2); d = ($1 - p) / p; if (d < -1e-3 || d > 1e-3) bad++ } END { print bad + 0 }')" 0
check_eq "explain: the level names of each kind" \
    "$(jq -r '.fields[] | .field + " " + .level' explain.ndjson | awk '
        $1 ~ /name$/ && $2 ~ /^(else|jaro_winkler>=0\.70|jaro_winkler>=0\.88|jaro_winkler>=0\.92|exact|null)$/ { next }
        $1 == "date_of_birth" && $2 ~ /^(else|within_year|within_month|one_edit|exact|null)$/ { next }
        $1 == "postcode" && $2 ~ /^(else|damerau<=2|damerau<=1|exact|null)$/ { next }
        { bad++ } END { print bad + 0 }')" 0
check_eq "explain: a null level weighs nothing" \
    "$(jq -r '.fields[] | select(.level == "null") | .weight' explain.ndjson | sort -u)" 0
pair() {
    jq -c --arg a "$1" --arg b "$2" "select(.a == \$a and .b == \$b) | $3" explain.ndjson
}
check_eq "explain a01-a02: folded values, all exact" \
    "$(pair a01 a02 '[.fields[] | [.a, .b, .level]]')" \
    '[["ines","ines","exact"],["andre","andre","exact"],["1985-03-12","1985-03-12","exact"],["75011","75011","exact"]]'
check_eq "explain a03-a04: dupont / dupond is jaro_winkler>=0.92 (0.933)" \
    "$(pair a03 a04 '.fields[1] | [.a, .b, .level]')" '["dupont","dupond","jaro_winkler>=0.92"]'
check_eq "explain a05-a06: the swapped digits are one_edit" \
    "$(pair a05 a06 '.fields[2].level')" '"one_edit"'
check_eq "explain a07-a08: 33000 / 33100 is damerau<=1, 33000 / 59000 damerau<=2" \
    "$(pair a07 a08 '.fields[3].level') $(pair a07 a09 '.fields[3].level')" '"damerau<=1" "damerau<=2"'
check_eq "explain a01-a11: the missing date is null" "$(pair a01 a11 '.fields[2] | [.b, .level, .weight]')" '["","null",0]'
check_eq "explain a15-a16: seán / sean exact, o brien / o brien jr jaro_winkler>=0.92" \
    "$(pair a15 a16 '[.fields[0:2][] | .a, .b, .level]')" \
    '["sean","sean","exact","o brien","o brien jr","jaro_winkler>=0.92"]'
check "explain: the 45 links are the pairs of weight >= log2(0.95 / 0.05) = 4.24793" \
    test "$(jq -r 'select(.weight >= 4.24793) | 1' explain.ndjson | wc -l)" -eq 45
# Against the model: the prior's weight, a date's exact weight (no term
# frequency for dates), a name's exact weight with its term frequency:
# u = 3 / 354 for "ines" (a01, a02, a11).
merge --dedupe --model -q <people.csv
tail -n 1 "$err" >model.json
check_eq "model: the same clusters with --model" "$(cksum <"$out")" "$(cksum <people.out)"
check_eq "explain: prior = log2(lambda / (1 - lambda))" \
    "$(jq -r .prior model.json | awk '{ printf "%.3f", log($1 / (1 - $1)) / log(2) }')" \
    "$(pair a01 a02 .prior | awk '{ printf "%.3f", $1 }')"
check_eq "explain: an exact birth date weighs the model's log2(m/u)" \
    "$(jq -r '.fields[2].levels[4].weight' model.json | awk '{ printf "%.3f", $1 }')" \
    "$(pair a01 a02 '.fields[2].weight' | awk '{ printf "%.3f", $1 }')"
check_eq "explain: an exact given name weighs log2(m / (3/354)) for ines" \
    "$(jq -r '.fields[0].levels[4].m' model.json | awk '{ printf "%.3f", log($1 * 354 / 3) / log(2) }')" \
    "$(pair a01 a02 '.fields[0].weight' | awk '{ printf "%.3f", $1 }')"
merge --dedupe --model -q --no-tf <people.csv
notf=$(tail -n 1 "$err" | jq -r '.fields[0].levels[4].weight' | awk '{ printf "%.3f", $1 }')
merge --dedupe --explain --no-tf <people.csv
check_eq "explain --no-tf: an exact given name weighs the model's log2(m/u)" \
    "$(jq -r 'select(.a == "a01" and .b == "a02") | .fields[0].weight' "$out" | awk '{ printf "%.3f", $1 }')" "$notf"

# ---------------------------------------------------------------------------
# 6. --evaluate on seven records blocked by name, with an even prior and a
# low threshold, so that the four pairs the block makes are the links:
# predicted {r1 r2 r3} {r4 r5} {r6} {r7}: 3 + 1 = 4 pairs;
# true {r1 r2} {r3} {r4 r5 r6 r7}: 1 + 6 = 7 pairs;
# TP = r1r2, r4r5 = 2, FP = r1r3, r2r3 = 2, FN = 7 - 2 = 5;
# precision 2/4, recall 2/7, F1 = 2 PR / (P + R) = 4/11 = 0.363636.
cat >ev.csv <<'X'
id,name,city,truth
r1,anna,paris,T1
r2,anna,paris,T1
r3,anna,paris,T2
r4,bob,lyon,T3
r5,bob,lyon,T3
r6,carl,nice,T3
r7,dave,nice,T3
X
EV_ARGS="--dedupe --block name --prior 0.5 --threshold 0.001"
EV_WANT='{"records":7,"pairs_compared":4,"links":4,"predicted_clusters":4,"true_clusters":3,"predicted_pairs":4,"true_pairs":7,"true_positives":2,"false_positives":2,"false_negatives":5,"precision":0.500000,"recall":0.285714,"f1":0.363636}'
merge $EV_ARGS --evaluate truth <ev.csv
check "evaluate column: exit 0" test "$status" -eq 0
check_eq "evaluate column: the numbers worked out by hand" "$(cat "$out")" "$EV_WANT"
merge $EV_ARGS <ev.csv
check_eq "evaluate: without it, the column is compared like the others" "$(head -n 1 "$err")" \
    "cdp-merge: 7 records, 4 pairs compared (1 blocking rules), 4 linked, 4 clusters; prior 0.5"
check_eq "evaluate: the clusters behind the numbers" "$(sed 1d "$out" | cut -d, -f1,5 | tr '\n' ' ')" \
    "r1,r1 r2,r1 r3,r1 r4,r4 r5,r4 r6,r6 r7,r7 "
# The truth in the key: rec-N-... with --truth-pattern.
sed -e 's/^r1,/rec-1-org,/' -e 's/^r2,/rec-1-dup-0,/' -e 's/^r3,/rec-2-org,/' -e 's/^r4,/rec-3-org,/' \
    -e 's/^r5,/rec-3-dup-0,/' -e 's/^r6,/rec-3-dup-1,/' -e 's/^r7,/rec-3-dup-2,/' -e 's/,T[0-9]$//' \
    -e '1s/,truth$//' ev.csv >ev2.csv
merge $EV_ARGS --evaluate id --truth-pattern '^rec-[0-9]+' <ev2.csv
check_eq "evaluate --truth-pattern: the same numbers" "$(cat "$out")" "$EV_WANT"
merge $EV_ARGS --evaluate id <ev2.csv
check_eq "evaluate the key itself: no true pair, precision 0, recall 1 (nothing to find)" \
    "$(jq -c '[.true_clusters, .true_pairs, .true_positives, .false_positives, .precision, .recall, .f1]' "$out")" \
    '[7,0,0,4,0,1,0]'
# A file of key,cluster; r3 is not in it: a cluster of its own.
printf 'r1,A\nr2,A\nr4,B\nr5,B\nr6,B\nr7,B\n' >truth.csv
sed 's/,T[0-9]$//;1s/,truth$//' ev.csv >ev3.csv
merge $EV_ARGS --evaluate truth.csv <ev3.csv
check_eq "evaluate FILE: the same numbers" "$(cat "$out")" "$EV_WANT"
merge $EV_ARGS --evaluate nothing.csv <ev3.csv
check "evaluate: neither a column nor a file: exit 2" \
    starts 2 "cdp-merge: --evaluate: 'nothing.csv' is neither a column nor a file: "
merge $EV_ARGS --evaluate truth --truth-pattern '(' <ev.csv
check "evaluate: a bad --truth-pattern: exit 2" \
    ends 2 "cdp-merge: --truth-pattern: not a regular expression: ("
merge $EV_ARGS --explain --evaluate truth <ev.csv
check "--explain with --evaluate: exit 2" \
    ends 2 "cdp-merge: --explain and --evaluate write different things: give one"
merge $EV_ARGS --truth-pattern x <ev.csv
check "--truth-pattern without --evaluate: exit 2" ends 2 "cdp-merge: --truth-pattern goes with --evaluate"
# The same on NDJSON, the truth a member.
sed 1d ev.csv | awk -F, '{ printf "{\"id\":\"%s\",\"name\":\"%s\",\"city\":\"%s\",\"t\":{\"c\":\"%s\"}}\n", $1, $2, $3, $4 }' >ev.ndjson
merge $EV_ARGS --fields name,city --evaluate t.c <ev.ndjson
check_eq "evaluate NDJSON member: the same numbers" "$(cat "$out")" "$EV_WANT"

# ---------------------------------------------------------------------------
# 7. --block
merge --dedupe --block nope <people.csv
check "block: an unknown field: exit 2, named" \
    ends 2 "cdp-merge: blocking rule 'nope': no field 'nope' among --fields"
merge --dedupe --block 'surname+zip:2' <people.csv
check "block: an unknown field after +: exit 2, named" \
    ends 2 "cdp-merge: blocking rule 'surname+zip:2': no field 'zip' among --fields"
for bad in surname:0 surname:x surname:65 surname:1x; do
    merge --dedupe --block "$bad" <people.csv
    check "block: '$bad': exit 2" ends 2 "cdp-merge: blocking rule '$bad': ':N' wants a number of characters from 1 to 64"
done
merge --dedupe --block '' <people.csv
check "block: an empty rule: exit 2" ends 2 "cdp-merge: an empty blocking rule"
merge --dedupe --block 'surname++postcode' <people.csv
check "block: an empty part: exit 2" starts 2 "cdp-merge: blocking rule 'surname++postcode': no field ''"
merge --dedupe --block 'given_name+surname:1+date_of_birth:4+postcode:2+surname' <people.csv
check "block: five parts: exit 2" starts 2 "cdp-merge: blocking rule 'given_name+surname:1+date_of_birth:4+postcode:2+surname': at most 4 fields"
# The filler people all differ in given name + surname: nothing together.
{ head -n 1 people.csv; grep '^f' filler.csv; } >distinct.csv
merge --dedupe --block given_name+surname <distinct.csv
check "block: a rule that puts nothing together: exit 0, no pair" \
    starts 0 "cdp-merge: 300 records, 0 pairs compared (1 blocking rules), 0 linked, 300 clusters;"
check_eq "block: every record its own cluster" \
    "$(sed 1d "$out" | awk -F, '$1 != $NF' | wc -l | tr -d ' ')" 0
# The first letter of the surname and the year of birth.
merge --dedupe --block surname:1+date_of_birth:4 <people.csv
check_eq "block surname:1+date_of_birth:4: the core duplicates found" \
    "$(clusters a01 a02 a03 a04 a05 a06 a07 a08 a15 a16 a11)" "a01 a01 a03 a03 a05 a05 a07 a07 a15 a15 a11"
merge --dedupe --block surname:1+date_of_birth:4 --explain <people.csv
check_eq "block surname:1+date_of_birth:4: pairs only inside the blocks" \
    "$(jq -r '[.fields[1].a[0:1], .fields[1].b[0:1], .fields[2].a[0:4], .fields[2].b[0:4]] | @tsv' "$out" |
        awk '$1 != $2 || $3 != $4' | wc -l | tr -d ' ')" 0
merge --dedupe --block surname --fields given_name:name,date_of_birth <people.csv
check "block: a field that is not compared cannot block: exit 2" \
    ends 2 "cdp-merge: blocking rule 'surname': no field 'surname' among --fields"
merge --dedupe --fields name:exact,city:code <ev.csv
check "fields: no default rule fits: exit 2" \
    ends 2 "cdp-merge: no default blocking rule fits these fields: give --block"

# ---------------------------------------------------------------------------
# 8. --threshold
merge --dedupe --explain -q <people.csv
# p >= 0.5 when w >= 0, p >= 0.999999 when w >= log2(999999) = 19.93157
# (on the weights: the probabilities are printed rounded).
between=$(jq -r 'select(.weight >= 0 and .weight < 19.93157) | 1' "$out" | wc -l | tr -d ' ')
merge --dedupe --threshold 0.5 <people.csv
low=$(summary_count linked)
cp "$out" t05.out
merge --dedupe --threshold 0.999999 <people.csv
high=$(summary_count linked)
check "threshold: some pairs lie between 0.5 and 0.999999" test "$between" -gt 0
check_eq "threshold: 0.5 links the pairs of 0.999999 and those between" "$low" "$((high + between))"
check "threshold: 0.999999 links fewer" test "$high" -lt "$low"
check "threshold: fewer clusters at 0.5" test \
    "$(sed 1d t05.out | awk -F, '{ print $NF }' | sort -u | wc -l)" -le \
    "$(sed 1d "$out" | awk -F, '{ print $NF }' | sort -u | wc -l)"
check_eq "threshold: every cluster at 0.999999 inside one at 0.5" \
    "$(paste -d, "$out" t05.out | sed 1d | awk -F, '{ print $6 "," $12 }' | sort -u | awk -F, '{ print $1 }' | uniq -d | wc -l | tr -d ' ')" 0
for bad in 0 1 1.5 -0.1 abc 0.5x ''; do
    merge --dedupe --threshold "$bad" <people.csv
    check "threshold '$bad': exit 2" ends 2 "cdp-merge: --threshold wants a probability between 0 and 1, not '$bad'"
done
merge --dedupe --prior 1 <people.csv
check "prior 1: exit 2" ends 2 "cdp-merge: --prior wants a probability between 0 and 1, not '1'"
# --recall divides the estimated prior: half the recall, twice the prior.
merge --dedupe --model <people.csv
prior1=$(sed -n 2p "$err" | jq .prior)
merge --dedupe --model --recall 0.5 <people.csv
prior05=$(sed -n 2p "$err" | jq .prior)
check "recall 0.5: the prior doubled" awk -v a="$prior1" -v b="$prior05" 'BEGIN { r = b / a; exit !(r > 1.9999 && r < 2.0001) }'
merge --dedupe --recall 1 <people.csv
check "recall 1: exit 0" test "$status" -eq 0
merge --dedupe --recall 0 <people.csv
check "recall 0: exit 2" ends 2 "cdp-merge: --recall wants a probability between 0 and 1, not '0'"

# ---------------------------------------------------------------------------
# 9. Bad input.
{
    cat people.csv
    echo 'a17,Too,Many,1999-01-01,75000,extra'
    echo 'a01,Dup,Key,1999-01-01,75000'
    echo ',No,Key,1999-01-01,75000'
    echo 'a18,Short'
} >bad.csv
merge --dedupe <bad.csv
check_eq "bad rows: exit 3" "$status" 3
check_eq "bad rows: each on stderr with its line" "$(grep -v 'records, ' "$err")" \
"cdp-merge: -:356: 6 fields where the header has 5; record skipped
cdp-merge: -:359: 2 fields where the header has 5; record skipped
cdp-merge: -:357: a duplicate key 'a01'; record skipped
cdp-merge: -:358: no key ''; record skipped"
check "bad rows: the others clustered as before" cmp -s "$out" people.out
printf 'id,surname,postcode\nk1,Roux,75001\nk2,Roux,75001\nk1,Roux,75001\n' >dupkey.csv
merge --dedupe --block surname <dupkey.csv
check "duplicate key: exit 3, a warning with its line" ends 3 "cdp-merge: -:4: a duplicate key 'k1'; record skipped"
check_eq "duplicate key: the first kept" "$(sed 1d "$out" | cut -d, -f1 | tr '\n' ' ')" "k1 k2 "
merge --dedupe --link A.csv B.csv
check "--dedupe and --link: exit 2" ends 2 "cdp-merge: give one of --dedupe, --link A B, --fuzzy, --pairs, --why ID, --quarantine, --approve SEQ, --reject SEQ, --rebuild, --undo SEQ, --rules, --rule TRAIT=RULE"
merge <people.csv
check "neither --dedupe nor --link: exit 2" ends 2 "cdp-merge: give one of --dedupe, --link A B, --fuzzy, --pairs, --why ID, --quarantine, --approve SEQ, --reject SEQ, --rebuild, --undo SEQ, --rules, --rule TRAIT=RULE"
merge --link A.csv
check "--link with one file: exit 2" ends 2 "cdp-merge: --link wants two files"
merge --dedupe people.csv
check "--dedupe with a file: exit 2" ends 2 "cdp-merge: unexpected argument 'people.csv' (--dedupe reads stdin)"
merge --dedupe --fields given_name,nope <people.csv
check "--fields: an unknown column: exit 2, named" ends 2 "cdp-merge: --fields: the input has no column 'nope'"
merge --dedupe --fields surname:fuzzy <people.csv
check "--fields: an unknown kind: exit 2" ends 2 "cdp-merge: --fields: 'fuzzy' is not a kind (name, code, date, exact)"
merge --dedupe --key nope <people.csv
check "--key: an unknown column: exit 2" ends 2 "cdp-merge: --key: the input has no column 'nope'"
# --max-block 2: the block of the three annas is skipped, bob's two kept.
merge $EV_ARGS --max-block 2 <ev.csv
check "--max-block 2: one pair, the skipped block said" \
    starts 0 "cdp-merge: 7 records, 1 pairs compared (1 blocking rules, some blocks too large were skipped), 1 linked, 6 clusters;"
check_eq "--max-block 2: only bob linked" "$(sed 1d "$out" | cut -d, -f1,5 | tr '\n' ' ')" "r1,r1 r2,r2 r3,r3 r4,r4 r5,r4 r6,r6 r7,r7 "
merge --dedupe --max-block 1 <people.csv
check "--max-block 1: exit 2" ends 2 "cdp-merge: --max-block wants a number from 2 to 10000000"
merge --dedupe </dev/null
check "no input: exit 1" ends 1 "cdp-merge: no input"
# A semicolon-separated file.
tr ',' ';' <core.csv >core.ssv
merge --dedupe --delimiter ';' --block postcode --prior 0.5 --threshold 0.001 -q <core.ssv
check_eq "--delimiter ';': the header and a quoted cell kept" \
    "$(sed -n '1p;17p' "$out" | tr '\n' '|')" "id;given_name;surname;date_of_birth;postcode;cluster_id|a16;Sean;\"O'Brien; Jr\";1979-07-07;29200;a15|"

# ---------------------------------------------------------------------------
# 10. -o FILE, --model
merge --dedupe -q -o dedupe.out <people.csv
check "-o: exit 0, nothing on stdout" test "$status" -eq 0 -a ! -s "$out"
check "-o: the file holds what stdout would" cmp -s dedupe.out people.out
echo old >kept.out
merge --dedupe --fields nope -o kept.out <people.csv
check_eq "-o, a failed run: exit 2, the file left as it was" "$status $(cat kept.out)" "2 old"
check "-o: no temporary file left" test -z "$(ls | grep '\.tmp\.')"
# Without -o, standard output is left as the shell opened it.
echo old >app.csv
"$CDP_BIN/cdp-merge" --dedupe -q --block name <ev.csv >>app.csv
check_eq "stdout appended to (>>): what was there is kept" "$(head -n 1 app.csv) $(lines app.csv)" "old 9"
merge --dedupe -q -o rejected.out <bad.csv
check_eq "-o, rejected rows: exit 3" "$status" 3
check "-o, rejected rows: the file holds the clusters" cmp -s rejected.out people.out
merge --dedupe --model <people.csv
check_eq "--model: the summary, then one JSON line" "$(wc -l <"$err" | tr -d ' ')" 2
tail -n 1 "$err" >model.json
check_eq "--model: the prior as in the summary" \
    "$(jq -r .prior model.json | awk '{ printf "%.3g", $1 }')" "$(sed -n 's/.*; prior //p' "$err")"
check_eq "--model: the fields, kinds, tf and level names" \
    "$(jq -c '[.fields[] | [.field, .kind, .tf, [.levels[].level]]]' model.json)" \
    '[["given_name","name",true,["else","jaro_winkler>=0.70","jaro_winkler>=0.88","jaro_winkler>=0.92","exact"]],["surname","name",true,["else","jaro_winkler>=0.70","jaro_winkler>=0.88","jaro_winkler>=0.92","exact"]],["date_of_birth","date",false,["else","within_year","within_month","one_edit","exact"]],["postcode","code",true,["else","damerau<=2","damerau<=1","exact"]]]'
check_eq "--model: m and u of each field add up to 1, each in (0, 1)" \
    "$(jq -r '.fields[] | [([.levels[].m] | add), ([.levels[].u] | add), ([.levels[] | .m, .u | select(. <= 0 or . >= 1)] | length)] | @tsv' model.json |
        awk '{ if ($1 < 0.9999 || $1 > 1.0001 || $2 < 0.9999 || $2 > 1.0001 || $3 != 0) bad++ } END { print NR, bad + 0 }')" "4 0"
check_eq "--model: weight = log2(m/u) (within 1e-3)" \
    "$(jq -r '.fields[].levels[] | [.m, .u, .weight] | @tsv' model.json |
        awk '{ d = log($1 / $2) / log(2) - $3; if (d < -1e-3 || d > 1e-3) bad++ } END { print NR, bad + 0 }')" "19 0"
check_eq "--model: an exact match is more likely among matches" \
    "$(jq -r '.fields[] | .levels[-1] | .m > .u' model.json | sort -u)" true
merge --dedupe --no-tf --model -q <people.csv
check_eq "--model --no-tf: tf false everywhere" "$(tail -n 1 "$err" | jq -c '[.fields[].tf] | unique')" '[false]'

# cdp-gen's people (Febrl-style ids), when it is built.
if [ -x "$top/scripts/cdp-gen" ]; then
    "$top/scripts/cdp-gen" --format people-csv --people 400 >gen.csv
    merge --dedupe --evaluate rec_id --truth-pattern '^rec-[0-9]+' <gen.csv
    check "cdp-gen people: F1 >= 0.95" test "$(jq '.f1 >= 0.95' "$out")" = true
else
    echo "t_merge: scripts/cdp-gen is not built, its check skipped"
fi

# ---------------------------------------------------------------------------
# 11. The Febrl datasets.  They are slow under valgrind: only without it.
febrl=$top/../shared/data/febrl
NO_SSN=given_name,surname,street_number,address_1,address_2,suburb,postcode,state,date_of_birth
if [ "${CDP_VALGRIND:-0}" = 1 ]; then
    echo "t_merge: under valgrind, Febrl checks skipped"
elif [ ! -f "$febrl/dataset1.csv" ] || [ ! -f "$febrl/dataset2.csv" ] || [ ! -f "$febrl/dataset3.csv" ]; then
    echo "t_merge: ../shared/data/febrl not found, Febrl checks skipped"
else
    for d in 1:1000:500:500 2:5000:4000:1934 3:5000:2000:6538; do
        IFS=: read -r n records entities true_pairs <<EOF
$d
EOF
        merge --dedupe --evaluate rec_id --truth-pattern '^rec-[0-9]+' <"$febrl/dataset$n.csv"
        cp "$out" "febrl$n.json"
        check "febrl $n: exit 0" test "$status" -eq 0
        check_eq "febrl $n: records, true clusters and true pairs as SOURCE.md counts" \
            "$(jq -c '[.records, .true_clusters, .true_pairs]' "febrl$n.json")" "[$records,$entities,$true_pairs]"
        check_eq "febrl $n: precision, recall, f1 and the pairs are numbers in range" \
            "$(jq -c '[.precision, .recall, .f1 | (type == "number" and . >= 0 and . <= 1)] + [.pairs_compared, .links, .predicted_pairs | type == "number" and . >= 0] | unique' "febrl$n.json")" '[true]'
        check_eq "febrl $n: TP + FP = predicted pairs, TP + FN = true pairs" \
            "$(jq -c '[.true_positives + .false_positives == .predicted_pairs, .true_positives + .false_negatives == .true_pairs]' "febrl$n.json")" '[true,true]'
        check "febrl $n: F1 >= 0.99 with every column ($(jq .f1 "febrl$n.json"))" \
            test "$(jq '.f1 >= 0.99' "febrl$n.json")" = true
        merge --dedupe --evaluate rec_id --truth-pattern '^rec-[0-9]+' --fields "$NO_SSN" <"$febrl/dataset$n.csv"
        check "febrl $n: F1 >= 0.95 without soc_sec_id ($(jq .f1 "$out"))" \
            test "$status" -eq 0 -a "$(jq '.f1 >= 0.95' "$out")" = true
    done
    merge --dedupe -q <"$febrl/dataset1.csv"
    # The blank after each comma is read as padding and not written back.
    check_eq "febrl 1: every record, the cells without their padding, and the cluster_id column" \
        "$(sed 1d "$out" | sed 's/,[^,]*$//' | cksum)" "$(sed 1d "$febrl/dataset1.csv" | sed 's/, /,/g' | cksum)"
    check_eq "febrl 1: the header" "$(head -n 1 "$out")" \
        "rec_id,given_name,surname,street_number,address_1,address_2,suburb,postcode,state,date_of_birth,soc_sec_id,cluster_id"
fi

finish
