#!/bin/sh
# Durability of the store: two writers at once lose nothing, a writer killed
# with -9 and run again ends where a clean run ends, the map size is
# recorded, and the batch size does not change the result.
. "$(dirname "$0")/lib.sh"

# gen N PEOPLE PREFIX: N events over PEOPLE people (userId, anonymousId on two
# devices, e-mail, pages, checkouts, orders), messageIds PREFIX-0, PREFIX-1...
# Deterministic: the same arguments give the same bytes.
gen() {
    awk -v N="$1" -v P="$2" -v PFX="$3" '
    function iso(t,    days, s, z, era, doe, yoe, y, doy, mp, d, m) {
        days = int(t / 86400); s = t - days * 86400
        z = days + 719468; era = int(z / 146097); doe = z - era * 146097
        yoe = int((doe - int(doe / 1460) + int(doe / 36524) - int(doe / 146096)) / 365)
        y = yoe + era * 400; doy = doe - (365 * yoe + int(yoe / 4) - int(yoe / 100))
        mp = int((5 * doy + 2) / 153); d = doy - int((153 * mp + 2) / 5) + 1
        m = mp < 10 ? mp + 3 : mp - 9
        if (m <= 2) y++
        return sprintf("%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, int(s / 3600), int(s % 3600 / 60), s % 60)
    }
    BEGIN {
        x = 42
        for (i = 0; i < N; i++) {
            x = (x * 16807) % 2147483647
            p = x % P
            d = int(x / P) % 2
            ts = iso(1735689600 + i * 37 + (int(x / 7) % 13) * 600)
            mid = PFX "-" i
            r = i % 10
            if (r == 0)
                printf "{\"type\":\"identify\",\"userId\":\"u%d\",\"anonymousId\":\"a%d-%d\",\"traits\":{\"email\":\"person%d@example.com\",\"firstName\":\"N%d\",\"plan\":\"p%d\"},\"timestamp\":\"%s\",\"messageId\":\"%s\"}\n", p, p, d, p, p, i % 3, ts, mid
            else if (r == 1)
                printf "{\"type\":\"track\",\"event\":\"Order Completed\",\"userId\":\"u%d\",\"properties\":{\"order_id\":\"o%s\",\"total\":%d.%02d,\"payment_method\":\"%s\",\"category\":\"c%d\"},\"timestamp\":\"%s\",\"messageId\":\"%s\"}\n", p, mid, i % 97, i % 100, (i % 3 ? "card" : "paypal"), i % 5, ts, mid
            else if (r == 2)
                printf "{\"type\":\"track\",\"event\":\"Checkout Started\",\"anonymousId\":\"a%d-%d\",\"timestamp\":\"%s\",\"messageId\":\"%s\"}\n", p, d, ts, mid
            else if (r == 3)
                printf "{\"type\":\"track\",\"event\":\"Email Opened\",\"context\":{\"traits\":{\"email\":\"Person%d@Example.com\"}},\"timestamp\":\"%s\",\"messageId\":\"%s\"}\n", p, ts, mid
            else
                printf "{\"type\":\"page\",\"anonymousId\":\"a%d-%d\",\"properties\":{\"path\":\"/p%d\"},\"timestamp\":\"%s\",\"messageId\":\"%s\"}\n", p, d, i % 50, ts, mid
        }
    }'
}

# summary FIELD FILE: the number before FIELD ("read", "landed", "profiles
# created", "merges", ...) in the last summary line of a cdp-ingest stderr.
# Prints -1 when there is no such line, so that the checks fail and say so.
summary() {
    v=$(grep ' read, .* landed, ' "$2" | tail -n 1 |
        sed -n "s/.*[ :]\([0-9][0-9]*\) $1[ ,].*/\1/p;s/.*[ :]\([0-9][0-9]*\) $1\$/\1/p" | head -n 1)
    echo "${v:--1}"
}

# In the foreground only: a background job must be the program itself, so
# that $! is its process id.
ingest() {
    "$CDP_BIN/cdp-ingest" "$@"
}

# export_sorted DB FILE: every profile of the store in DB, sorted.
export_sorted() {
    "$CDP_BIN/cdp-export" -d "$1" | sort >"$2"
}

nap() {
    sleep 0.05 2>/dev/null || sleep 1
}

N=50000
gen $N 2000 m >"$T/all.ndjson"
check_eq "generator gives $N lines" "$(wc -l <"$T/all.ndjson" | tr -d ' ')" $N
check_eq "generator gives unique messageIds" \
    "$(sed 's/.*"messageId":"\([^"]*\)".*/\1/' "$T/all.ndjson" | sort -u | wc -l | tr -d ' ')" $N
awk 'NR % 2 == 1' "$T/all.ndjson" >"$T/odd.ndjson"
awk 'NR % 2 == 0' "$T/all.ndjson" >"$T/even.ndjson"

# The clean reference: one process, the whole file.
ingest -d "$T/clean" "$T/all.ndjson" 2>"$T/clean.err"
check "clean run exits 0" test $? -eq 0
check_eq "clean run: all landed" "$(summary landed "$T/clean.err")" $N
export_sorted "$T/clean" "$T/clean.out"
nprofiles=$(wc -l <"$T/clean.out" | tr -d ' ')
check "clean run: profiles exported" test "$nprofiles" -gt 100
check_eq "clean run: created minus merged is what is left" \
    "$(($(summary 'profiles created' "$T/clean.err") - $(summary merges "$T/clean.err")))" "$nprofiles"

# ---- Two writers at the same time, on a store that does not exist yet ----
ingest -d "$T/single" "$T/odd.ndjson" "$T/even.ndjson" 2>"$T/single.err"
export_sorted "$T/single" "$T/single.out"
check "one process, two files: same profiles as the whole file" cmp -s "$T/clean.out" "$T/single.out"

"$CDP_BIN/cdp-ingest" -d "$T/both" --batch 2000 "$T/odd.ndjson" 2>"$T/odd.err" &
pid1=$!
"$CDP_BIN/cdp-ingest" -d "$T/both" --batch 2000 "$T/even.ndjson" 2>"$T/even.err" &
pid2=$!
wait $pid1
st1=$?
wait $pid2
st2=$?
check "first concurrent writer exits 0" test $st1 -eq 0
check "second concurrent writer exits 0" test $st2 -eq 0
export_sorted "$T/both" "$T/both.out"
check "concurrent writers: same export as one process" cmp -s "$T/single.out" "$T/both.out"
if ! cmp -s "$T/single.out" "$T/both.out"; then
    diff "$T/single.out" "$T/both.out" | head -n 6 | cut -c1-300 | sed 's/^/    /'
fi
check_eq "concurrent writers: reads add up" \
    "$(($(summary read "$T/odd.err") + $(summary read "$T/even.err")))" $N
check_eq "concurrent writers: landed add up" \
    "$(($(summary landed "$T/odd.err") + $(summary landed "$T/even.err")))" $N
check_eq "concurrent writers: no duplicates, no rejects" \
    "$(summary duplicates "$T/odd.err") $(summary duplicates "$T/even.err") $(summary rejected "$T/odd.err") $(summary rejected "$T/even.err")" \
    "0 0 0 0"
created=$(($(summary 'profiles created' "$T/odd.err") + $(summary 'profiles created' "$T/even.err")))
merges=$(($(summary merges "$T/odd.err") + $(summary merges "$T/even.err")))
check_eq "concurrent writers: created minus merged is what is left" \
    "$((created - merges))" "$(wc -l <"$T/both.out" | tr -d ' ')"
# Running both again concurrently adds nothing.
"$CDP_BIN/cdp-ingest" -d "$T/both" "$T/even.ndjson" 2>"$T/even2.err" &
pid1=$!
"$CDP_BIN/cdp-ingest" -d "$T/both" "$T/odd.ndjson" 2>"$T/odd2.err" &
pid2=$!
wait $pid1
wait $pid2
check_eq "concurrent re-runs: all duplicates" \
    "$(($(summary duplicates "$T/odd2.err") + $(summary duplicates "$T/even2.err")))" $N
export_sorted "$T/both" "$T/both2.out"
check "concurrent re-runs change nothing" cmp -s "$T/both.out" "$T/both2.out"

# The same with the project's generator, when it is built (realistic data:
# aliases, late arrivals, phone numbers in national formats).
if [ -x "$top/scripts/cdp-gen" ]; then
    "$top/scripts/cdp-gen" --events 20000 --people 1000 --seed 7 >"$T/gen.ndjson"
    head -n 10000 "$T/gen.ndjson" >"$T/gen1.ndjson"
    tail -n +10001 "$T/gen.ndjson" >"$T/gen2.ndjson"
    ingest -q -d "$T/gsingle" --country FR "$T/gen.ndjson" 2>/dev/null
    "$CDP_BIN/cdp-ingest" -d "$T/gboth" --country FR --batch 1000 "$T/gen1.ndjson" 2>"$T/gen1.err" &
    pid1=$!
    "$CDP_BIN/cdp-ingest" -d "$T/gboth" --country FR --batch 1000 "$T/gen2.ndjson" 2>"$T/gen2.err" &
    pid2=$!
    wait $pid1
    wait $pid2
    export_sorted "$T/gsingle" "$T/gsingle.out"
    export_sorted "$T/gboth" "$T/gboth.out"
    check "generated data: concurrent writers give the export of one process" \
        cmp -s "$T/gsingle.out" "$T/gboth.out"
    check_eq "generated data: reads add up" \
        "$(($(summary read "$T/gen1.err") + $(summary read "$T/gen2.err")))" 20000
else
    echo "note: scripts/cdp-gen is not built; its part of the concurrency test is skipped"
fi

# ---- kill -9 in the middle of an ingest, then the same input again ----
# (The re-run takes the default batch size: fewer commits, a quicker test.)
"$CDP_BIN/cdp-ingest" -q -d "$T/killed" --batch 500 "$T/all.ndjson" 2>"$T/killed.err" &
pid=$!
i=0
while [ $i -lt 400 ] && kill -0 $pid 2>/dev/null; do
    size=0
    [ -f "$T/killed/data.mdb" ] && size=$(wc -c <"$T/killed/data.mdb")
    [ "${size:-0}" -gt 10000000 ] && break
    nap
    i=$((i + 1))
done
kill -9 $pid 2>/dev/null
{ wait $pid; } 2>/dev/null
kst=$?
if [ $kst -eq 0 ]; then
    echo "note: the ingest finished before it could be killed; the re-run is checked all the same"
else
    check_eq "killed ingest died of SIGKILL" $kst 137
fi
ingest -d "$T/killed" "$T/all.ndjson" 2>"$T/rerun.err"
check "re-run after kill exits 0" test $? -eq 0
landed=$(summary landed "$T/rerun.err")
dups=$(summary duplicates "$T/rerun.err")
check_eq "re-run: landed + duplicates = all" "$((landed + dups))" $N
check_eq "re-run: nothing rejected" "$(summary rejected "$T/rerun.err")" 0
[ $kst -ne 0 ] && echo "note: $dups events had been committed before the kill"
export_sorted "$T/killed" "$T/killed.out"
check "after kill and re-run: the export of a clean run, byte for byte" \
    cmp -s "$T/clean.out" "$T/killed.out"
if ! cmp -s "$T/clean.out" "$T/killed.out"; then
    diff "$T/clean.out" "$T/killed.out" | head -n 6 | cut -c1-300 | sed 's/^/    /'
fi
# Events too: the --events view of a few profiles matches.
for who in user:u1 user:u777 email:person1999@example.com anon:a5-1; do
    check "$who has a profile" "$CDP_BIN/cdp-export" -d "$T/clean" -q --lookup "$who" -o /dev/null
    a=$("$CDP_BIN/cdp-export" -d "$T/clean" --lookup "$who" --events 2>&1 | cksum)
    b=$("$CDP_BIN/cdp-export" -d "$T/killed" --lookup "$who" --events 2>&1 | cksum)
    check_eq "after kill and re-run: events of $who" "$b" "$a"
done

# ---- The map: recorded, and at least the initial size ----
if command -v mdb_stat >/dev/null 2>&1; then
    mdb_stat -e "$T/clean" >"$T/stat" 2>&1
    mapsize=$(sed -n 's/^ *Map size: *\([0-9][0-9]*\).*/\1/p' "$T/stat")
    check "mdb_stat shows a map size" test -n "$mapsize"
    check "the map is at least 256 MiB" test "${mapsize:-0}" -ge 268435456
    check "the store is smaller than its map" test "$(wc -c <"$T/clean/data.mdb")" -le "${mapsize:-0}"
else
    echo "note: mdb_stat (lmdb-utils) is not installed; the map size check is skipped"
fi

# ---- Batch size does not change the result ----
gen 300 20 b >"$T/small.ndjson"
for b in 1 7 5000; do
    ingest -d "$T/batch$b" --batch $b "$T/small.ndjson" 2>"$T/batch$b.err"
    check "--batch $b exits 0" test $? -eq 0
    export_sorted "$T/batch$b" "$T/batch$b.out"
done
check "small input makes merges" test "$(summary merges "$T/batch5000.err")" -gt 0
check "--batch 1 and --batch 5000 give the same export" cmp -s "$T/batch1.out" "$T/batch5000.out"
check "--batch 7 and --batch 5000 give the same export" cmp -s "$T/batch7.out" "$T/batch5000.out"
check_eq "--batch 1 and 7: the same summary" \
    "$(grep ' read, ' "$T/batch1.err" | tail -n 1)" "$(grep ' read, ' "$T/batch7.err" | tail -n 1)"
check "user:u3 has a profile" "$CDP_BIN/cdp-export" -d "$T/batch1" -q --lookup user:u3 -o /dev/null
for b in 7 5000; do
    a=$("$CDP_BIN/cdp-export" -d "$T/batch1" --lookup user:u3 --events 2>&1 | cksum)
    c=$("$CDP_BIN/cdp-export" -d "$T/batch$b" --lookup user:u3 --events 2>&1 | cksum)
    check_eq "--batch 1 and $b: the events of a profile" "$c" "$a"
done

finish
