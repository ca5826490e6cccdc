#!/bin/sh
# Identity resolution and computed traits: merges by identify, e-mail and
# alias, merge protection and limits, profile ids independent of arrival
# order, orders and refunds, e-mail and custom counters, visits, abandoned
# carts.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1

field_in() {
    "$CDP_BIN/cdp-export" --db "$1" --lookup "$2" 2>/dev/null | jq -r "$3"
}
profiles_in() {
    "$CDP_BIN/cdp-export" --db "$1" 2>/dev/null | wc -l | tr -d ' '
}
events_in() {
    "$CDP_BIN/cdp-export" --db "$1" --lookup "$2" --events 2>/dev/null | jq -r '[.events[].messageId]|join(" ")'
}

# ---------------------------------------------------------------------------
# identify links an anonymous profile and a userId profile.
cat >two.ndjson <<'X'
{"type":"page","anonymousId":"anon-1","timestamp":"2025-01-01T10:00:00Z","messageId":"p1"}
{"type":"track","event":"Email Opened","userId":"u-1","timestamp":"2025-01-01T09:00:00Z","messageId":"p2"}
X
run cdp-ingest --db "$T/d1" two.ndjson
check_eq "identify: two profiles before" "$(profiles_in "$T/d1")" 2
printf '%s\n' '{"type":"identify","anonymousId":"anon-1","userId":"u-1","traits":{"firstName":"Ida"},"timestamp":"2025-01-01T10:01:00Z","messageId":"p3"}' >link.ndjson
run cdp-ingest --db "$T/d1" link.ndjson
check "identify merge: exit 0" test "$status" -eq 0
check "identify merge: counted in the summary" \
    err_starts "cdp-ingest: 1 read, 1 landed, 0 duplicates, 0 rejected, 0 warnings, 0 profiles created, 1 merges (0 refused)"
check_eq "identify merge: one profile" "$(profiles_in "$T/d1")" 1
check_eq "identify merge: both identifiers" "$(field_in "$T/d1" anon:anon-1 '.identifiers|join(" ")')" "anon:anon-1 user:u-1"
check_eq "identify merge: the same profile by either identifier" \
    "$(field_in "$T/d1" anon:anon-1 .id)" "$(field_in "$T/d1" user:u-1 .id)"
check_eq "identify merge: events carried over, in time order" "$(events_in "$T/d1" user:u-1)" "p2 p1 p3"
check_eq "identify merge: counters carried over" \
    "$(field_in "$T/d1" user:u-1 '.computed|[.events_count,.page_views,.email_opens,.visits]|@csv')" "3,1,1,2"
check_eq "identify merge: first and last seen of both" \
    "$(field_in "$T/d1" user:u-1 '[.first_seen,.last_seen]|join(" ")')" "2025-01-01T09:00:00.000Z 2025-01-01T10:01:00.000Z"

# ---------------------------------------------------------------------------
# Two profiles linked by an e-mail, and an alias.
cat >email.ndjson <<'X'
{"type":"identify","userId":"ua","traits":{"email":"a@example.com"},"timestamp":"2025-01-01T10:00:00Z","messageId":"e1"}
{"type":"page","anonymousId":"an-c","timestamp":"2025-01-01T11:00:00Z","messageId":"e2"}
{"type":"track","event":"Signed Up","anonymousId":"an-c","context":{"traits":{"email":" A@Example.com"}},"timestamp":"2025-01-02T10:00:00Z","messageId":"e3"}
X
run cdp-ingest --db "$T/d2" email.ndjson
check "e-mail link: one merge" err_starts "cdp-ingest: 3 read, 3 landed, 0 duplicates, 0 rejected, 0 warnings, 2 profiles created, 1 merges (0 refused)"
check_eq "e-mail link: one profile" "$(profiles_in "$T/d2")" 1
check_eq "e-mail link: identifiers" "$(field_in "$T/d2" user:ua '.identifiers|join(" ")')" "anon:an-c email:a@example.com user:ua"
check_eq "e-mail link: events" "$(events_in "$T/d2" anon:an-c)" "e1 e2 e3"

cat >alias.ndjson <<'X'
{"type":"page","anonymousId":"visitor-9","timestamp":"2025-01-01T10:00:00Z","messageId":"a1"}
{"type":"track","event":"Order Completed","userId":"cust-9","properties":{"order_id":"o9","total":5},"timestamp":"2025-01-02T10:00:00Z","messageId":"a2"}
X
run cdp-ingest --db "$T/d3" alias.ndjson
check_eq "alias: two profiles before" "$(profiles_in "$T/d3")" 2
printf '%s\n' '{"type":"alias","previousId":"visitor-9","userId":"cust-9","timestamp":"2025-01-03T10:00:00Z","messageId":"a3"}' >alias2.ndjson
run cdp-ingest --db "$T/d3" alias2.ndjson
check "alias: merge counted" err_starts "cdp-ingest: 1 read, 1 landed, 0 duplicates, 0 rejected, 0 warnings, 0 profiles created, 1 merges (0 refused)"
check_eq "alias: one profile" "$(profiles_in "$T/d3")" 1
check_eq "alias: identifiers and counters" \
    "$(field_in "$T/d3" anon:visitor-9 '[(.identifiers|join(" ")),.computed.events_count,.computed.orders_count,.first_seen]|@csv')" \
    '"anon:visitor-9 user:cust-9",3,1,"2025-01-01T10:00:00.000Z"'
printf '%s\n' '{"type":"alias","userId":"cust-9","timestamp":"2025-01-03T10:00:00Z","messageId":"a4"}' >alias3.ndjson
run cdp-ingest --db "$T/d3" alias3.ndjson
check "alias without previousId: rejected" err_line "cdp-ingest: alias3.ndjson:1: alias without a usable \"previousId\""

# ---------------------------------------------------------------------------
# Merge protection: an event with user A's e-mail and userId B.
cat >protect.ndjson <<'X'
{"type":"identify","userId":"user-a","traits":{"email":"a@example.com"},"timestamp":"2025-01-01T10:00:00Z","messageId":"m1"}
{"type":"identify","userId":"user-b","traits":{"email":"b@example.com"},"timestamp":"2025-01-01T10:00:00Z","messageId":"m2"}
{"type":"track","event":"Clicked","userId":"user-b","context":{"traits":{"email":"a@example.com"}},"timestamp":"2025-01-02T10:00:00Z","messageId":"m3"}
X
run cdp-ingest --db "$T/d4" protect.ndjson
check "merge refused: exit 0" test "$status" -eq 0
check "merge refused: counted" err_starts "cdp-ingest: 3 read, 3 landed, 0 duplicates, 0 rejected, 1 warnings, 2 profiles created, 0 merges (1 refused)"
check "merge refused: warning on stderr" err_starts "cdp-ingest: protect.ndjson:3: warning: merge refused"
check_eq "merge refused: two profiles" "$(profiles_in "$T/d4")" 2
check_eq "merge refused: A keeps its identifiers" "$(field_in "$T/d4" user:user-a '.identifiers|join(" ")')" \
    "email:a@example.com user:user-a"
check_eq "merge refused: B keeps its identifiers" "$(field_in "$T/d4" user:user-b '.identifiers|join(" ")')" \
    "email:b@example.com user:user-b"
check_eq "merge refused: the event goes to the userId's profile" "$(events_in "$T/d4" user:user-b)" "m2 m3"
check_eq "merge refused: A's profile does not get it" "$(events_in "$T/d4" user:user-a)" "m1"

# --limit email=1: a second e-mail is not attached.
printf '%s\n' '{"type":"identify","userId":"k1","traits":{"email":"k1@example.com"},"timestamp":"2025-01-01T10:00:00Z","messageId":"l1"}' \
    '{"type":"identify","userId":"k1","traits":{"email":"k1b@example.com"},"timestamp":"2025-01-02T10:00:00Z","messageId":"l2"}' >limit.ndjson
run cdp-ingest --db "$T/d5" --limit email=1 limit.ndjson
check "--limit: exit 0" test "$status" -eq 0
check "--limit: warning" err_starts "cdp-ingest: limit.ndjson:2: warning: identifier email:k1b@example.com not attached"
check_eq "--limit: one e-mail identifier" "$(field_in "$T/d5" user:k1 '.identifiers|join(" ")')" "email:k1@example.com user:k1"
check_eq "--limit: the event still landed" "$(field_in "$T/d5" user:k1 .computed.events_count)" 2
check_eq "--limit: the second e-mail finds no profile" "$(field_in "$T/d5" email:k1b@example.com .id)" ""
run cdp-ingest --db "$T/d6" limit.ndjson
check_eq "default limit: both e-mails" "$(field_in "$T/d6" user:k1 '.identifiers|join(" ")')" \
    "email:k1@example.com email:k1b@example.com user:k1"
run cdp-ingest --db "$T/d6" --limit mail=1 limit.ndjson
check "--limit with an unknown kind: usage error" test "$status" -eq 2

# ---------------------------------------------------------------------------
# Three profiles merged: the same result in any arrival order.
cp "$DATA/identity_three.ndjson" three.ndjson
run cdp-ingest --db "$T/o1" three.ndjson
check "three profiles: two merges" err_starts "cdp-ingest: 5 read, 5 landed, 0 duplicates, 0 rejected, 0 warnings, 3 profiles created, 2 merges (0 refused)"
"$CDP_BIN/cdp-export" --db "$T/o1" | sort >order1
check_eq "three profiles: one profile" "$(wc -l <order1 | tr -d ' ')" 1
check_eq "three profiles: all identifiers" "$(jq -r '.identifiers|join(" ")' order1)" \
    "anon:v-1 anon:v-2 email:sam@example.com user:c-7"
tac three.ndjson >three.rev
run cdp-ingest --db "$T/o2" three.rev
"$CDP_BIN/cdp-export" --db "$T/o2" | sort >order2
check "three profiles: reversed order gives the same export" cmp -s order1 order2
rm -f order3
for i in 3 5 1 4 2; do
    sed -n "${i}p" three.ndjson >one.ndjson
    "$CDP_BIN/cdp-ingest" --db "$T/o3" -q one.ndjson
done
"$CDP_BIN/cdp-export" --db "$T/o3" | sort >order3
check "three profiles: one event per run, shuffled, gives the same export" cmp -s order1 order3

# ---------------------------------------------------------------------------
# Orders, refunds, e-mail and custom counters.
cat >counters.ndjson <<'X'
{"type":"track","event":"Order Completed","userId":"w","properties":{"order_id":"ord-1","total":100},"timestamp":"2025-05-01T10:00:00Z","messageId":"c1"}
{"type":"track","event":"Order Completed","userId":"w","properties":{"order_id":"ord-1","total":100},"timestamp":"2025-05-01T10:00:05Z","messageId":"c2"}
{"type":"track","event":"Order Completed","userId":"w","properties":{"order_id":"ord-2","total":50},"timestamp":"2025-05-03T10:00:00Z","messageId":"c3"}
{"type":"track","event":"Order Refunded","userId":"w","properties":{"order_id":"ord-1"},"timestamp":"2025-05-04T10:00:00Z","messageId":"c4"}
{"type":"track","event":"Order Refunded","userId":"w","properties":{"order_id":"ord-1"},"timestamp":"2025-05-05T10:00:00Z","messageId":"c5"}
{"type":"track","event":"Order Refunded","userId":"w","properties":{"order_id":"ord-2"},"timestamp":"2025-05-06T10:00:00Z","messageId":"c6"}
{"type":"track","event":"Email Opened","userId":"w","timestamp":"2025-05-07T10:00:00Z","messageId":"c7"}
{"type":"track","event":"Email Opened","userId":"w","timestamp":"2025-05-08T10:00:00Z","messageId":"c8"}
{"type":"track","event":"Email Link Clicked","userId":"w","timestamp":"2025-05-08T10:01:00Z","messageId":"c9"}
{"type":"track","event":"Whitepaper Downloaded","userId":"w","timestamp":"2025-05-09T10:00:00Z","messageId":"c10"}
{"type":"track","event":"File Downloaded","userId":"w","timestamp":"2025-05-10T10:00:00Z","messageId":"c11"}
X
run cdp-ingest --db "$T/d7" --count 'Whitepaper Downloaded=downloads' counters.ndjson
check "counters: exit 0" test "$status" -eq 0
check_eq "orders deduplicated by order_id across messageIds" \
    "$(field_in "$T/d7" user:w '.computed|[.orders_count,.revenue_total,.avg_order_value]|@csv')" "2,150,75"
check_eq "Order Refunded: once per order_id" "$(field_in "$T/d7" user:w .computed.returns_count)" 2
check_eq "Email Opened and Email Link Clicked" "$(field_in "$T/d7" user:w '.computed|[.email_opens,.email_clicks]|@csv')" "2,1"
check_eq "--count maps a custom event (plus the default File Downloaded)" \
    "$(field_in "$T/d7" user:w .computed.downloads)" 2
check_eq "all events are kept" "$(field_in "$T/d7" user:w .computed.events_count)" 11
run cdp-ingest --db "$T/d8" counters.ndjson
check_eq "without --count the custom event counts nothing" "$(field_in "$T/d8" user:w .computed.downloads)" 1
run cdp-ingest --db "$T/d8" --count 'Whitepaper Downloaded=nonsense' counters.ndjson
check "--count with an unknown counter: usage error" test "$status" -eq 2
check "--count with an unknown counter: message" err_starts "cdp-ingest: unknown counter 'nonsense'"

# The same order twice in two runs, and refunds reversed.
tac counters.ndjson >counters.rev
run cdp-ingest --db "$T/d9" --count 'Whitepaper Downloaded=downloads' counters.rev
check_eq "orders and refunds in reverse order: same counts" \
    "$(field_in "$T/d9" user:w '.computed|[.orders_count,.revenue_total,.returns_count,.downloads]|@csv')" "2,150,2,2"

# ---------------------------------------------------------------------------
# Visits split at 30 minutes; abandoned carts within 24 hours.
cat >visits.ndjson <<'X'
{"type":"page","userId":"s","timestamp":"2025-06-01T10:00:00Z","messageId":"v1"}
{"type":"page","userId":"s","timestamp":"2025-06-01T10:20:00Z","messageId":"v2"}
{"type":"page","userId":"s","timestamp":"2025-06-01T10:55:00Z","messageId":"v3"}
{"type":"identify","userId":"s","timestamp":"2025-06-01T10:40:00Z","messageId":"v4"}
{"type":"track","event":"Checkout Started","userId":"k","timestamp":"2025-06-01T10:00:00Z","messageId":"k1"}
{"type":"track","event":"Order Completed","userId":"k","properties":{"order_id":"k-o"},"timestamp":"2025-06-02T09:00:00Z","messageId":"k2"}
{"type":"track","event":"Checkout Started","userId":"k","timestamp":"2025-06-10T10:00:00Z","messageId":"k3"}
{"type":"track","event":"Order Completed","userId":"k","properties":{"order_id":"k-o2"},"timestamp":"2025-06-11T10:00:01Z","messageId":"k4"}
X
run cdp-ingest --db "$T/d10" visits.ndjson
check_eq "visits: 10:00, 10:20, 10:55 make 2 visits and 1200 s" \
    "$(field_in "$T/d10" user:s '.computed|[.visits,.time_on_site_s]|@csv')" "2,1200"
check_eq "abandoned carts: the checkout without an order within 24 h" \
    "$(field_in "$T/d10" user:k '.computed|[.abandoned_carts,.orders_count]|@csv')" "1,2"
tac visits.ndjson >visits.rev
run cdp-ingest --db "$T/d11" visits.rev
check_eq "visits in reverse order" "$(field_in "$T/d11" user:s '.computed|[.visits,.time_on_site_s]|@csv')" "2,1200"
check_eq "abandoned carts in reverse order" "$(field_in "$T/d11" user:k .computed.abandoned_carts)" 1
# Events of one visit split across two profiles that then merge.
cat >visits2.ndjson <<'X'
{"type":"page","anonymousId":"vv","timestamp":"2025-06-01T10:00:00Z","messageId":"w1"}
{"type":"page","userId":"uu","timestamp":"2025-06-01T10:20:00Z","messageId":"w2"}
{"type":"page","anonymousId":"vv","timestamp":"2025-06-01T10:55:00Z","messageId":"w3"}
{"type":"identify","anonymousId":"vv","userId":"uu","timestamp":"2025-06-01T12:00:00Z","messageId":"w4"}
X
run cdp-ingest --db "$T/d12" visits2.ndjson
check_eq "visits recomputed after a merge" "$(field_in "$T/d12" user:uu '.computed|[.visits,.time_on_site_s,.page_views]|@csv')" "2,1200,3"
finish
