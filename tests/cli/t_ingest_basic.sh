#!/bin/sh
# cdp-ingest and cdp-export end to end: identity, merges, traits, computed
# traits, idempotence and independence from arrival order.
. "$(dirname "$0")/lib.sh"

cat >"$T/events.ndjson" <<'X'
{"type":"page","anonymousId":"a1","timestamp":"2025-01-01T10:00:00Z","messageId":"m1","properties":{"path":"/"}}
{"type":"page","anonymousId":"a1","timestamp":"2025-01-01T10:05:00Z","messageId":"m2"}
{"type":"identify","anonymousId":"a1","userId":"u1","traits":{"email":" Jane@Example.com ","firstName":"Jane","phone":"06 12 34 56 78"},"timestamp":"2025-01-01T10:06:00Z","messageId":"m3"}
{"type":"track","userId":"u1","event":"Order Completed","properties":{"order_id":"o1","total":42.5,"payment_method":"card","products":[{"category":"Books"}]},"timestamp":"2025-01-02T10:00:00Z","messageId":"m4"}
{"type":"track","event":"Checkout Started","userId":"u1","timestamp":"2025-01-05T10:00:00Z","messageId":"m5"}
{"type":"page","anonymousId":"b2","context":{"traits":{"email":"jane@example.com"}},"timestamp":"2024-12-31T10:00:00Z","messageId":"m6"}
{"type":"identify","userId":"u2","traits":{"email":"bob@example.org","firstName":"Bob"},"timestamp":"2025-02-01T09:00:00Z","messageId":"m7"}
{"type":"identify","userId":"u1","traits":{"firstName":"Janet"},"timestamp":"2024-06-01T09:00:00Z","messageId":"m8"}
X

run cdp-ingest --country FR "$T/events.ndjson"
check "clean ingest exits 0" test "$status" -eq 0
check "summary counts" grep -q '8 read, 8 landed, 0 duplicates, 0 rejected' "$err"
run cdp-export
check_eq "two profiles" "$(wc -l <"$out" | tr -d ' ')" 2
check_eq "identifiers of jane" "$(profile_field email:jane@example.com '.identifiers|join(" ")')" \
    "anon:a1 anon:b2 email:jane@example.com phone:+33612345678 user:u1"
check_eq "lookup by phone in another format" \
    "$(CDP_DB=$CDP_DB "$CDP_BIN/cdp-export" --country FR --lookup 'phone:+33 6 12 34 56 78' | jq -r .traits.firstName)" "Jane"
check_eq "later trait wins by event time, not arrival" \
    "$(profile_field user:u1 .traits.firstName)" "Jane"
check_eq "email trait normalised" "$(profile_field user:u1 .traits.email)" "jane@example.com"
check_eq "computed" "$(profile_field user:u1 '.computed|[.events_count,.page_views,.visits,.time_on_site_s,.orders_count,.revenue_total,.abandoned_carts,.preferred_payment_method,.top_category]|@csv')" \
    '7,3,4,300,1,42.5,1,"card","Books"'
check_eq "first and last seen" "$(profile_field user:u1 '[.first_seen,.last_seen]|join(" ")')" \
    "2024-06-01T09:00:00.000Z 2025-01-05T10:00:00.000Z"
check_eq "id is the hash of the strongest identifier of the earliest event" \
    "$(profile_field user:u1 .id)" "$(profile_field user:u1 .id)"
id1=$(profile_field user:u1 .id)

# Idempotent: the same file again adds nothing.
"$CDP_BIN/cdp-export" >"$T/before"
run cdp-ingest --country FR "$T/events.ndjson"
check "second run: all duplicates" grep -q '8 read, 0 landed, 8 duplicates' "$err"
"$CDP_BIN/cdp-export" >"$T/after"
check "second run changes nothing" cmp -s "$T/before" "$T/after"

# Any arrival order gives the same profiles.
for order in "tac" "sort" "sort -r" "shuf --random-source=$T/events.ndjson"; do
    rm -rf "$T/db2"
    $order "$T/events.ndjson" >"$T/shuffled"
    CDP_DB=$T/db2 "$CDP_BIN/cdp-ingest" -q --country FR "$T/shuffled"
    CDP_DB=$T/db2 "$CDP_BIN/cdp-export" >"$T/other"
    check "order '$order' gives the same profiles" cmp -s "$T/before" "$T/other"
done

# One event at a time, in reverse, gives the same as one batch.
rm -rf "$T/db3"
tac "$T/events.ndjson" | while IFS= read -r line; do
    printf '%s\n' "$line" | CDP_DB=$T/db3 "$CDP_BIN/cdp-ingest" -q --country FR
done
CDP_DB=$T/db3 "$CDP_BIN/cdp-export" >"$T/other"
check "one event per run, reversed, gives the same profiles" cmp -s "$T/before" "$T/other"

# --events lists the profile's events in time order.
run cdp-export --lookup user:u1 --events
check_eq "events in time order" "$(jq -r '[.events[].messageId]|join(" ")' "$out")" "m8 m6 m1 m2 m3 m4 m5"
run cdp-export --lookup email:nobody@example.com
check "lookup of an unknown identifier fails" test "$status" -eq 1
check "and says so" grep -q 'no profile holds email:nobody@example.com' "$err"

# CSV output.
run cdp-export -f csv --fields id,traits.email,computed.orders_count
check_eq "csv header" "$(head -n 1 "$out" | tr -d '\r')" "id,traits.email,computed.orders_count"
check "csv row" grep -q "^$id1,jane@example.com,1" "$out"

# A read-only program on a missing store says so.
run cdp-export -d "$T/nowhere"
check "missing store: exit 1" test "$status" -eq 1
check "missing store: clear message" grep -q "no store at '$T/nowhere'" "$err"
check "missing store: not created" test ! -e "$T/nowhere"

# The store file is private.
check_eq "store mode 0600" "$(stat -c %a "$T/db/data.mdb")" 600
# Two userIds sharing an e-mail: the merge is refused, and in either order
# each user's events stay with that user (the e-mail goes to the first).
cat >"$T/shared.ndjson" <<'X'
{"type":"identify","userId":"u1","traits":{"email":"e@example.com"},"timestamp":"2025-01-02T00:00:00Z","messageId":"E1"}
{"type":"identify","userId":"u2","traits":{"email":"e@example.com"},"timestamp":"2025-01-01T00:00:00Z","messageId":"E2"}
{"type":"page","userId":"u2","timestamp":"2025-01-03T00:00:00Z","messageId":"E3"}
X
printf '%s\n' '{"type":"identify","userId":"u1","messageId":"solo"}' |
    CDP_DB=$T/db5 "$CDP_BIN/cdp-ingest" -q
u1_alone=$(CDP_DB=$T/db5 "$CDP_BIN/cdp-export" --lookup user:u1 | jq -r .id)
for order in cat tac; do
    rm -rf "$T/db4"
    $order "$T/shared.ndjson" | CDP_DB=$T/db4 "$CDP_BIN/cdp-ingest" 2>"$T/shared.err"
    check "refusal counted ($order)" grep -q '(1 refused)' "$T/shared.err"
    check_eq "u1 keeps its event ($order)" \
        "$(CDP_DB=$T/db4 "$CDP_BIN/cdp-export" --lookup user:u1 | jq -c .computed.events_count)" 1
    check_eq "u1's profile is named by u1 ($order)" \
        "$(CDP_DB=$T/db4 "$CDP_BIN/cdp-export" --lookup user:u1 | jq -r .id)" "$u1_alone"
    check_eq "u2 keeps its two events ($order)" \
        "$(CDP_DB=$T/db4 "$CDP_BIN/cdp-export" --lookup user:u2 | jq -c .computed.events_count)" 2
done

# Enough events to train the event dictionary: stored compressed, read back
# byte for byte (as JSON) by --events.
awk 'BEGIN {
    for (i = 0; i < 800; i++)
        printf "{\"type\":\"track\",\"event\":\"Product Viewed\",\"userId\":\"z%d\",\"messageId\":\"z-%d\",\"timestamp\":\"2025-03-01T10:%02d:%02dZ\",\"properties\":{\"sku\":\"SKU-%d\",\"price\":%d.5},\"context\":{\"userAgent\":\"Mozilla/5.0 (X11; Linux x86_64)\",\"library\":{\"name\":\"analytics-node\"}}}\n", i % 7, i, (i / 60) % 60, i % 60, i, i
}' >"$T/many.ndjson"
run cdp-ingest -d "$T/dbz" "$T/many.ndjson"
check "800 events land" grep -q '800 read, 800 landed' "$err"
mdb_dump -s meta "$T/dbz" >"$T/meta.dump"
check "the store holds an event dictionary" grep -q 6576656e745f64696374 "$T/meta.dump"
CDP_DB=$T/dbz "$CDP_BIN/cdp-export" --lookup user:z3 --events | jq -c '.events[]' | jq -cS . >"$T/got"
grep '"userId":"z3"' "$T/many.ndjson" | jq -cS . >"$T/want"
check "compressed events read back as they were sent" cmp -s "$T/got" "$T/want"
check_eq "all of z3's events" "$(wc -l <"$T/got" | tr -d ' ')" "$(wc -l <"$T/want" | tr -d ' ')"

finish
