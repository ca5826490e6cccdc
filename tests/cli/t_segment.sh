#!/bin/sh
# cdp-segment end to end, on a store of six people with known answers:
# computed fields, traits, identifiers, event conditions (with events that
# arrived out of time order), consent, every output format, --stdin
# composition and bad input lines, saved segments and their changes, error
# messages and exit statuses, and a closed pipe on a bigger store.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1

# Every query runs with the same "now", so that the answers never depend on
# the day the test runs.
NOW=2025-06-30T00:00:00Z
TAB=$(printf '\t')

# Six people.  Each person's first line is a later event than the ones after
# it (an order that arrived before the older history), so that every count
# depends on time order, not on arrival order.
#   alice  pro, Lyon, age 34; orders 2024-09-01 (200), 2025-05-10 (80),
#          2025-06-20 (120); checkout 2025-06-19; e-mail opened 2025-06-25
#   bob    free, Paris; order 2025-01-15 (50); e-mail opened 2025-05-01;
#          checkout 2025-06-27, no order after it
#   carol  pro, Villeurbanne; orders 2025-06-01 (30), 2025-06-15 (45);
#          e-mail opened 2025-06-10
#   dave   anonymous first, then identified; Lyon, no plan; checkout and
#          order 2025-06-26 (500, key orderId); e-mail opened 2025-07-05,
#          after now
#   eve    anonymous, two pages in 2024-12, nothing else
#   frank  enterprise; orders 2024-03-01 (1000, older than a year) and
#          2025-06-29 (10)
cat >events.ndjson <<'X'
{"type":"track","event":"Order Completed","userId":"alice","properties":{"orderId":"A-3","revenue":120},"timestamp":"2025-06-20T10:00:00Z","messageId":"a6"}
{"type":"identify","userId":"alice","traits":{"email":"Alice@Example.com","firstName":"Alice","plan":"pro","city":"Lyon","age":34},"timestamp":"2024-08-01T09:00:00Z","messageId":"a1"}
{"type":"page","userId":"alice","properties":{"path":"/"},"timestamp":"2024-08-01T09:01:00Z","messageId":"a2"}
{"type":"track","event":"Order Completed","userId":"alice","properties":{"orderId":"A-1","revenue":200},"timestamp":"2024-09-01T10:00:00Z","messageId":"a3"}
{"type":"track","event":"Order Completed","userId":"alice","properties":{"orderId":"A-2","revenue":80},"timestamp":"2025-05-10T10:00:00Z","messageId":"a4"}
{"type":"track","event":"Checkout Started","userId":"alice","timestamp":"2025-06-19T10:00:00Z","messageId":"a5"}
{"type":"track","event":"Email Opened","userId":"alice","timestamp":"2025-06-25T08:00:00Z","messageId":"a7"}
{"type":"page","userId":"bob","properties":{"path":"/cart"},"timestamp":"2025-06-27T17:59:00Z","messageId":"b5"}
{"type":"identify","userId":"bob","traits":{"email":"bob@example.org","firstName":"Bob","plan":"free","city":"Paris"},"timestamp":"2024-11-02T12:00:00Z","messageId":"b1"}
{"type":"track","event":"Order Completed","userId":"bob","properties":{"orderId":"B-1","revenue":50},"timestamp":"2025-01-15T12:00:00Z","messageId":"b2"}
{"type":"track","event":"Email Opened","userId":"bob","timestamp":"2025-05-01T07:00:00Z","messageId":"b3"}
{"type":"track","event":"Checkout Started","userId":"bob","timestamp":"2025-06-27T18:00:00Z","messageId":"b4"}
{"type":"track","event":"Order Completed","userId":"carol","properties":{"order_id":"C-2","revenue":45},"timestamp":"2025-06-15T09:00:00Z","messageId":"c3"}
{"type":"identify","userId":"carol","traits":{"email":"carol@shop.example.com","firstName":"Carol","plan":"pro","city":"Villeurbanne"},"timestamp":"2025-02-01T09:00:00Z","messageId":"c1"}
{"type":"track","event":"Order Completed","userId":"carol","properties":{"order_id":"C-1","revenue":30},"timestamp":"2025-06-01T09:00:00Z","messageId":"c2"}
{"type":"track","event":"Email Opened","userId":"carol","timestamp":"2025-06-10T09:00:00Z","messageId":"c4"}
{"type":"page","anonymousId":"anon-d","properties":{"path":"/"},"timestamp":"2025-03-01T10:00:00Z","messageId":"d1"}
{"type":"identify","anonymousId":"anon-d","userId":"dave","traits":{"email":"dave@example.com","firstName":"Dave","city":"Lyon"},"timestamp":"2025-03-01T10:05:00Z","messageId":"d2"}
{"type":"track","event":"Checkout Started","userId":"dave","timestamp":"2025-06-26T10:00:00Z","messageId":"d3"}
{"type":"track","event":"Order Completed","userId":"dave","properties":{"orderId":"D-1","revenue":500},"timestamp":"2025-06-26T10:05:00Z","messageId":"d4"}
{"type":"track","event":"Email Opened","userId":"dave","timestamp":"2025-07-05T10:00:00Z","messageId":"d5"}
{"type":"page","anonymousId":"anon-e","properties":{"path":"/"},"timestamp":"2024-12-01T15:02:00Z","messageId":"e2"}
{"type":"page","anonymousId":"anon-e","properties":{"path":"/pricing"},"timestamp":"2024-12-01T15:00:00Z","messageId":"e1"}
{"type":"track","event":"Order Completed","userId":"frank","properties":{"orderId":"F-2","revenue":10},"timestamp":"2025-06-29T10:00:00Z","messageId":"f3"}
{"type":"identify","userId":"frank","traits":{"email":"frank@example.net","firstName":"Frank","plan":"enterprise"},"timestamp":"2024-02-01T10:00:00Z","messageId":"f1"}
{"type":"track","event":"Order Completed","userId":"frank","properties":{"orderId":"F-1","revenue":1000},"timestamp":"2024-03-01T10:00:00Z","messageId":"f2"}
X

# seg ARGS...: cdp-segment at the fixed now (through run: $out, $err, $status).
seg() {
    run cdp-segment --now "$NOW" "$@"
}

# True when the last run exited 0 and wrote nothing on stderr.
quiet_ok() {
    test "$status" -eq 0 && test ! -s "$err"
}

# True when the last run wrote nothing on stdout.
no_output() {
    test ! -s "$out"
}

# ids NAME...: the profile ids of the people named, sorted (the store's order).
ids() {
    for who in "$@"; do
        eval "printf '%s\\n' \"\$id_$who\""
    done | sort
}

# expect NAME EXPRESSION PEOPLE...: --ids gives exactly these people's ids,
# exit 0, nothing on stderr.
expect() {
    name=$1 expression=$2
    shift 2
    seg --ids "$expression"
    check_eq "$name" "$(cat "$out")" "$(ids "$@")"
    check "$name: exit 0, nothing on stderr" quiet_ok
}

# export_lines IDSFILE [EXPORT]: the lines of a cdp-export output (default
# the main store's) whose id is in IDSFILE, in the export's order.
export_lines() {
    awk 'NR == FNR { want[$0] = 1; next } substr($0, 8, 32) in want' "$1" "${2:-$T/export.ndjson}"
}

# caret_ok: the last run's stderr is a compile error of expression $1:
# exactly three lines, the expression indented by two spaces, and a caret
# under the column the first line names.
caret_ok() {
    [ "$(wc -l <"$err" | tr -d ' ')" -eq 3 ] || return 1
    col=$(sed -n -E '1s/^cdp-segment: (syntax|type) error at column ([0-9]+): .*/\2/p' "$err")
    [ -n "$col" ] || return 1
    [ "$(sed -n 2p "$err")" = "  $1" ] || return 1
    [ "$(sed -n 3p "$err")" = "$(printf '  %*s^' $((col - 1)) '')" ]
}

# ---------------------------------------------------------------------------
# The store.
run cdp-ingest events.ndjson
check "ingest: exit 0" test "$status" -eq 0
check "ingest: six profiles" err_starts "cdp-ingest: 26 read, 26 landed, 0 duplicates, 0 rejected, 0 warnings, 6 profiles created, 0 merges"
"$CDP_BIN/cdp-export" >export.ndjson
check_eq "six profiles exported" "$(wc -l <export.ndjson | tr -d ' ')" 6
check "export lines start with the id" test "$(grep -c '^{"id":"[0-9a-f]\{32\}",' export.ndjson)" -eq 6
for who in alice bob carol dave frank; do
    eval "id_$who=\$(profile_field user:$who .id)"
done
id_eve=$(profile_field anon:anon-e .id)
check_eq "six distinct ids" "$(ids alice bob carol dave eve frank | uniq | grep -c '^[0-9a-f]\{32\}$')" 6
check_eq "the out-of-order orders are all counted" \
    "$(for who in alice bob carol dave frank; do profile_field user:$who '.computed|[.orders_count,.revenue_total]|@csv'; done | tr '\n' ' ')" \
    "3,400 1,50 2,75 1,500 2,1010 "
check_eq "last order of alice: the first line of the file, not the last" \
    "$(profile_field user:alice .computed.last_order_at)" "2025-06-20T10:00:00.000Z"

# ---------------------------------------------------------------------------
# Computed fields and first/last seen.
expect "orders_count >= 2" 'computed.orders_count >= 2' alice carol frank
expect "orders_count = 1" 'computed.orders_count = 1' bob dave
expect "orders_count = 0 (no orders is 0, not missing)" 'computed.orders_count = 0' eve
expect "revenue_total > 100" 'computed.revenue_total > 100' alice dave frank
expect "revenue_total between" 'computed.revenue_total >= 50 and computed.revenue_total <= 400' alice bob carol
expect "last_order_at > now - 90d" 'computed.last_order_at > now - 90d' alice carol dave frank
expect "last_order_at > now - 30d" 'computed.last_order_at > now - 30d' alice carol dave frank
expect "last_order_at > now - 14d" 'computed.last_order_at > now - 14d' alice dave frank
expect "last_order_at > now - 7d" 'computed.last_order_at > now - 7d' dave frank
expect "last_order_at < now - 90d" 'computed.last_order_at < now - 90d' bob
expect "first_order_at before a date" "computed.first_order_at < 2024-12-31" alice frank
expect "first_order_at before an ISO string" "computed.first_order_at < '2024-12-31'" alice frank
expect "first_seen < 2025-01-01" 'first_seen < 2025-01-01' alice bob eve frank
expect "first_seen within a range" 'first_seen >= 2025-01-01 and first_seen < 2025-03-01T00:00:00Z' carol
expect "last_seen >= a time" 'last_seen >= 2025-06-27T00:00:00Z' bob dave frank
expect "last_seen of a profile with an event after now" 'last_seen > now' dave
expect "computed.first_seen is first_seen" 'computed.first_seen = first_seen' alice bob carol dave eve frank
expect "arithmetic: average order" 'computed.revenue_total / computed.orders_count > 100' alice dave frank
expect "division by zero is null, not a match" 'computed.revenue_total / computed.orders_count >= 0' alice bob carol dave frank
expect "abandoned cart" 'computed.abandoned_carts > 0' bob
expect "email_opens" 'computed.email_opens = 1' alice bob carol dave

# Traits and identifiers.
expect "trait equality" "traits.plan = 'pro'" alice carol
expect "trait equality with == and AND" "traits.plan == 'pro' AND computed.orders_count >= 3" alice
expect "trait inequality: a missing trait is not different" "traits.plan <> 'pro'" bob frank
expect "trait in a list" "traits.city in ['Lyon', 'Villeurbanne']" alice carol dave
expect "trait not in a list" "traits.city not in ['Lyon']" bob carol
expect "trait contains" "traits.email contains 'example.com'" alice carol dave
expect "trait starts_with" "traits.email starts_with 'b'" bob
expect "trait ends_with" "traits.email ends_with '.net'" frank
expect "trait matches" "traits.email matches '^[a-c][a-z]*@(example|shop)'" alice bob carol
expect "trait exists" 'traits.age exists' alice
expect "numeric trait" 'traits.age > 30' alice
expect "numeric trait against a numeric string" "traits.age > '30'" alice
expect "a string trait against a number compares false" 'traits.firstName > 5' 
expect "bracketed trait name" "traits[\"firstName\"] = 'Bob'" bob
expect "missing trait: = is false" "traits.nope = 'x'"
expect "missing trait: != is false" "traits.nope != 'x'"
expect "missing trait: = null" 'traits.plan = null' dave eve
expect "missing trait: not exists" 'not traits.email exists' eve
expect "e-mail normalised in traits" "traits.email = 'alice@example.com'" alice
expect "identifiers contains an e-mail" "identifiers contains 'email:dave@example.com'" dave
expect "identifiers contains an unknown e-mail" "identifiers contains 'email:nobody@example.com'"
expect "identifiers starts_with, or" "identifiers contains 'anon:anon-d' or identifiers starts_with 'anon:anon-e'" dave eve
expect "id equality" "id = '$id_carol'" carol
expect "not binds looser than a comparison" 'not computed.orders_count > 1' bob dave eve
expect "true matches everyone" 'true' alice bob carol dave eve frank
expect "false matches no one" 'false'

# ---------------------------------------------------------------------------
# Event conditions.
expect "count within 90d >= 2" "count(event = 'Order Completed', within 90d) >= 2" alice carol
expect "count without a window" "count(event = 'Order Completed') >= 2" alice carol frank
expect "count within 400d" "count(event = 'Order Completed', within 400d) = 2" carol
expect "count within 500d" "count(event = 'Order Completed', within 500d) = 2" carol frank
expect "count of pages" "count(type = 'page') = 2" eve
expect "sum within 365d > 100" "sum(properties.revenue, event = 'Order Completed', within 365d) > 100" alice dave
expect "sum without a window > 100" "sum(properties.revenue, event = 'Order Completed') > 100" alice dave frank
expect "sum within 365d exact" "sum(properties.revenue, event = 'Order Completed', within 365d) = 400" alice
expect "max" "max(properties.revenue, event = 'Order Completed') >= 500" dave frank
expect "avg" "avg(properties.revenue, event = 'Order Completed') = 37.5" carol
expect "first" "first(event = 'Order Completed') < 2024-10-01" alice frank
expect "last > now - 30d" "last(event = 'Email Opened') > now - 30d" alice carol dave
expect "last within 30d: an event after now is outside" "last(event = 'Email Opened', within 30d) > now - 30d" alice carol
expect "ever" "ever(event = 'Email Opened')" alice bob carol dave
expect "count within 365d leaves out the event after now" "count(event = 'Email Opened', within 365d) >= 1" alice bob carol
expect "checkout without an order in 7 days" \
    "ever(event = 'Checkout Started') and not ever(event = 'Order Completed', within 7d)" alice bob
expect "event path in a condition" "ever(event = 'Order Completed' and properties.revenue >= 1000)" frank
expect "message_id" "ever(message_id = 'c2')" carol
expect "event conditions with traits" "traits.city = 'Lyon' and count(event = 'Order Completed', within 30d) >= 1" alice dave

# The same answers from the same events in the reverse order.
tac events.ndjson >reversed.ndjson
"$CDP_BIN/cdp-ingest" -q -d "$T/rdb" reversed.ndjson
for e in "count(event = 'Order Completed', within 90d) >= 2" \
    "sum(properties.revenue, event = 'Order Completed', within 365d) > 100" \
    "last(event = 'Email Opened') > now - 30d" \
    "ever(event = 'Checkout Started') and not ever(event = 'Order Completed', within 7d)" \
    'computed.last_order_at > now - 30d' 'first_seen < 2025-01-01'; do
    seg --ids "$e"
    cp "$out" forward.ids
    seg -d "$T/rdb" --ids "$e"
    check "reverse arrival order, same ids: $e" cmp -s forward.ids "$out"
    check "reverse arrival order, some ids: $e" test -s "$out"
done

# ---------------------------------------------------------------------------
# Consent: no records yet, so every consent is false.
seg --count 'consent.email_marketing'
check_eq "--count consent.email_marketing" "$(cat "$out")" 0
check "--count consent: exit 0, nothing on stderr" quiet_ok
expect "not consent.email_marketing: everyone" 'not consent.email_marketing' alice bob carol dave eve frank
expect "consent and a trait" "consent.email_marketing or traits.plan = 'free'" bob

# ---------------------------------------------------------------------------
# Outputs.
seg "traits.plan = 'pro'"
check "ndjson: exit 0, nothing on stderr" quiet_ok
ids alice carol >want.ids
export_lines want.ids >want.pro
check "ndjson: the lines of cdp-export" cmp -s "$out" want.pro
check_eq "ndjson: two lines" "$(wc -l <"$out" | tr -d ' ')" 2
for e in 'computed.orders_count >= 1' "count(event = 'Order Completed', within 90d) >= 2" 'true' 'false'; do
    seg --ids "$e"
    cp "$out" got.ids
    seg "$e"
    export_lines got.ids >want.ndjson
    check "ndjson equals cdp-export for: $e" cmp -s "$out" want.ndjson
done

seg --ids 'computed.orders_count >= 2'
check "--ids: one id a line, newline-terminated" test "$(tail -c 1 "$out" | od -An -c | tr -d ' ')" = '\n'
check_eq "--ids: three lines" "$(wc -l <"$out" | tr -d ' ')" 3

seg --count 'computed.orders_count >= 2'
check_eq "--count" "$(cat "$out")" 3
check "--count: one line" test "$(wc -l <"$out" | tr -d ' ')" -eq 1
seg --count 'false'
check_eq "--count with no match: 0" "$(cat "$out")" 0
check "--count with no match: exit 0" quiet_ok
seg 'false'
check "no match: nothing on stdout" no_output
check "no match: exit 0" quiet_ok

crlf() {
    printf '%s\r\n' "$@"
}
seg -f csv --fields id,traits.email "traits.plan = 'pro'"
{
    crlf "id,traits.email"
    printf '%s\n' "$id_alice,alice@example.com" "$id_carol,carol@shop.example.com" | sort |
        while IFS= read -r row; do crlf "$row"; done
} >want.csv
check "csv with a header: exact bytes" cmp -s "$out" want.csv
check "csv: exit 0" quiet_ok
seg -f csv --fields id,traits.email --header "traits.plan = 'pro'"
check "csv --header: the same" cmp -s "$out" want.csv
seg --format csv --fields id,traits.email --no-header "traits.plan = 'pro'"
tail -n +2 want.csv >want.noheader
check "csv --no-header" cmp -s "$out" want.noheader
seg -f csv --fields id,traits.email --no-header --delimiter ';' "traits.plan = 'pro'"
tr ',' ';' <want.noheader >want.semi
check "csv --delimiter ';'" cmp -s "$out" want.semi
seg -f csv --fields id,traits.email 'false'
check_eq "csv with no match: the header alone" "$(cat "$out")" "$(crlf id,traits.email)"
seg -f csv "traits.plan = 'pro'"
check_eq "csv default field: id" "$(tr -d '\r' <"$out")" "$(printf 'id\n'; ids alice carol)"
seg -f csv --fields id,traits.firstName,computed.orders_count 'computed.orders_count = 1'
check_eq "csv numbers" "$(tr -d '\r' <"$out" | sort)" "$(printf '%s\n' "$id_bob,Bob,1" "$id_dave,Dave,1" id,traits.firstName,computed.orders_count | sort)"
seg -f xml 'true'
check "unknown format: exit 2" test "$status" -eq 2
check "unknown format: message" err_starts "cdp-segment: unknown format 'xml'"
seg --delimiter ';;' 'true'
check "--delimiter of two characters: exit 2" test "$status" -eq 2

seg -o result.ids --ids "traits.plan = 'pro'"
check "-o FILE: exit 0, nothing on stderr" quiet_ok
check "-o FILE: nothing on stdout" no_output
check_eq "-o FILE: the ids in the file" "$(cat result.ids)" "$(ids alice carol)"
seg --output result.ndjson "traits.plan = 'pro'"
check "--output FILE: ndjson in the file" cmp -s result.ndjson want.pro

"$CDP_BIN/cdp-segment" --now "$NOW" --ids 'true' >/dev/full 2>"$err"
status=$?
check "stdout on a full disk: exit 1" test "$status" -eq 1
check "stdout on a full disk: write error" err_starts "cdp-segment: write error"

# ---------------------------------------------------------------------------
# --stdin: profiles as cdp-export writes them.
for e in "traits.plan = 'pro'" 'computed.orders_count >= 2' 'computed.last_order_at > now - 90d' \
    'first_seen < 2025-01-01' "traits.city in ['Lyon', 'Villeurbanne']" \
    "identifiers contains 'email:dave@example.com'" 'traits.nope exists' 'not consent.email_marketing' \
    "count(event = 'Order Completed', within 90d) >= 2" \
    "ever(event = 'Checkout Started') and not ever(event = 'Order Completed', within 7d)"; do
    seg --ids "$e"
    cp "$out" store.ids
    seg --stdin --ids "$e" <export.ndjson
    check "--stdin gives the store's ids: $e" cmp -s "$out" store.ids
    check "--stdin: exit 0, nothing on stderr: $e" quiet_ok
done
seg --stdin "traits.plan = 'pro'" <export.ndjson
check "--stdin ndjson: the input lines unchanged" cmp -s "$out" want.pro
seg --stdin --count 'computed.orders_count >= 2' <export.ndjson
check_eq "--stdin --count" "$(cat "$out")" 3
seg --stdin -f csv --fields id,traits.email --no-header "traits.plan = 'pro'" <export.ndjson
check "--stdin csv" cmp -s "$out" want.noheader

# Composes with itself: A | B is "A and B" on the store.
"$CDP_BIN/cdp-export" | "$CDP_BIN/cdp-segment" --now "$NOW" --stdin 'computed.orders_count >= 1' |
    "$CDP_BIN/cdp-segment" --now "$NOW" --stdin --ids 'computed.last_order_at > now - 30d' >piped.ids 2>piped.err
seg --ids 'computed.orders_count >= 1 and computed.last_order_at > now - 30d'
check "--stdin | --stdin: same ids as 'and' on the store" cmp -s piped.ids "$out"
check_eq "--stdin | --stdin: the ids" "$(cat piped.ids)" "$(ids alice carol dave frank)"
check "--stdin | --stdin: nothing on stderr" test ! -s piped.err
"$CDP_BIN/cdp-segment" --now "$NOW" "traits.plan != 'free'" |
    "$CDP_BIN/cdp-segment" --now "$NOW" --stdin "count(event = 'Order Completed', within 90d) >= 1" |
    "$CDP_BIN/cdp-segment" --now "$NOW" --stdin --ids 'not traits.age exists' >piped.ids 2>piped.err
check_eq "store | --stdin events | --stdin" "$(cat piped.ids)" "$(ids carol frank)"
check "store | --stdin | --stdin: nothing on stderr" test ! -s piped.err

# Event conditions on --stdin read the events of the store named by -d.
seg -d "$T/rdb" --stdin --ids "count(event = 'Order Completed', within 90d) >= 2" <export.ndjson
check_eq "--stdin with -d: events read from that store" "$(cat "$out")" "$(ids alice carol)"
printf '%s\n' '{"type":"page","anonymousId":"zz","timestamp":"2025-01-01T00:00:00Z","messageId":"zz"}' |
    "$CDP_BIN/cdp-ingest" -q -d "$T/lone"
seg -d "$T/lone" --stdin --ids "ever(event = 'Order Completed')" <export.ndjson
check "--stdin with a store without these profiles: no events, no match" no_output
check "--stdin with a store without these profiles: exit 0" quiet_ok
seg -d "$T/nowhere" --stdin --ids "traits.plan = 'pro'" <export.ndjson
check_eq "--stdin without event conditions needs no store" "$(cat "$out")" "$(ids alice carol)"
seg -d "$T/nowhere" --stdin --ids "ever(event = 'Order Completed')" <export.ndjson
check "--stdin with events and a missing store: exit 1" test "$status" -eq 1
check "--stdin with events and a missing store: names it" err_starts "cdp-segment: no store at '$T/nowhere'"
check "missing store: not created" test ! -e "$T/nowhere"

# consent on --stdin is the object's own "consent" member.
printf '%s\n' '{"id":"00000000000000000000000000000001","consent":{"email_marketing":true}}' \
    '{"id":"00000000000000000000000000000002","consent":{"email_marketing":false}}' \
    '{"id":"00000000000000000000000000000003","consent":{"email_marketing":"yes"}}' \
    '{"id":"00000000000000000000000000000004"}' >consent.ndjson
seg --stdin --ids 'consent.email_marketing' <consent.ndjson
check_eq "--stdin consent: only JSON true" "$(cat "$out")" 00000000000000000000000000000001
seg --stdin --count 'consent.email_marketing' <export.ndjson
check_eq "--stdin consent on cdp-export's objects: 0" "$(cat "$out")" 0

# Bad lines are reported with their number, skipped; the rest is output; exit 3.
{
    sed -n 1,2p export.ndjson
    echo 'not json'
    echo '[1,2]'
    echo
    sed -n '3,$p' export.ndjson
} >mixed.ndjson
seg --stdin --ids 'computed.orders_count >= 0' <mixed.ndjson
check "bad lines: exit 3" test "$status" -eq 3
check_eq "bad lines: the good lines are output" "$(cat "$out")" "$(ids alice bob carol dave eve frank)"
check "bad lines: line 3 (not JSON) reported" err_starts "cdp-segment: -:3: "
check "bad lines: line 4 (an array) reported" err_line "cdp-segment: -:4: not a JSON object"
check_eq "bad lines: two lines on stderr (a blank line is no error)" "$(wc -l <"$err" | tr -d ' ')" 2
seg --stdin "traits.plan = 'pro'" <mixed.ndjson
check "bad lines, ndjson: exit 3" test "$status" -eq 3
check "bad lines, ndjson: good lines unchanged" cmp -s "$out" want.pro
seg --stdin --count 'true' <mixed.ndjson
check_eq "bad lines, --count: the good lines" "$(cat "$out")" 6
check "bad lines, --count: exit 3" test "$status" -eq 3
printf '%s\n' '{"id":"x"' >broken.ndjson
seg --stdin --ids 'true' <broken.ndjson
check "truncated object: exit 3" test "$status" -eq 3
check "truncated object: reported on line 1" err_starts "cdp-segment: -:1: "
seg --stdin --ids 'true' </dev/null
check "empty stdin: nothing, exit 0" quiet_ok
check "empty stdin: no output" no_output

# ---------------------------------------------------------------------------
# Saved segments, on their own store (events are added below).
S=$T/sdb
"$CDP_BIN/cdp-ingest" -q -d "$S" events.ndjson
RECENT='computed.last_order_at > now - 30d'
run cdp-segment -d "$S" --list
check "--list with no segments: nothing, exit 0" quiet_ok
check "--list with no segments: no output" no_output

seg -d "$S" --save recent "$RECENT"
check "--save: exit 0, nothing on stderr" quiet_ok
cp "$out" saved.ndjson
seg -d "$S" "$RECENT"
check "--save writes the matches like a query" cmp -s saved.ndjson "$out"
check_eq "--save: four matches" "$(wc -l <saved.ndjson | tr -d ' ')" 4
for n in recent_ids recent_count recent_csv acc; do
    seg -d "$S" --save "$n" --count "$RECENT"
    check_eq "--save $n --count" "$(cat "$out")" 4
done
run cdp-segment -d "$S" --list
check "--list: exit 0" quiet_ok
cp "$out" list.before
check_eq "--list: in name order" "$(jq -r .name "$out" | tr '\n' ' ')" "acc recent recent_count recent_csv recent_ids "
check_eq "--list: name, expression, members, saved_at, last_run" \
    "$(grep '"name":"recent"' "$out" | jq -r '[.name,.expression,.members,.saved_at,.last_run]|@tsv')" \
    "recent${TAB}${RECENT}${TAB}4${TAB}2025-06-30T00:00:00.000Z${TAB}2025-06-30T00:00:00.000Z"
check_eq "--list: the keys" "$(grep '"name":"recent"' "$out" | jq -c 'keys')" \
    '["expression","last_run","members","name","saved_at"]'

run cdp-segment -d "$S" --now 2025-07-01T00:00:00Z --run recent --ids
check "--run: exit 0" quiet_ok
check_eq "--run: the same matches" "$(cat "$out")" "$(ids alice carol dave frank)"
run cdp-segment -d "$S" --now 2025-12-01T00:00:00Z --run recent --count
check_eq "--run much later: no one" "$(cat "$out")" 0
run cdp-segment -d "$S" --list
check "--run records nothing: --list unchanged" cmp -s list.before "$out"

seg -d "$S" --changes recent
check "--changes right after --save: exit 0" quiet_ok
check "--changes right after --save: nothing" no_output
seg -d "$S" --changes recent --count
check_eq "--changes --count right after --save" "$(cat "$out")" "entered${TAB}0
exited${TAB}0"

# Bob orders again on 2025-07-10.  On 2025-07-18 bob has entered and carol
# (last order 2025-06-15) has left; alice, dave and frank stay.
printf '%s\n' '{"type":"track","event":"Order Completed","userId":"bob","properties":{"orderId":"B-2","revenue":70},"timestamp":"2025-07-10T12:00:00Z","messageId":"b6"}' >more.ndjson
"$CDP_BIN/cdp-ingest" -q -d "$S" more.ndjson
LATER=2025-07-18T00:00:00Z
"$CDP_BIN/cdp-export" -d "$S" >export2.ndjson

run cdp-segment -d "$S" --now $LATER --changes recent_ids --ids
check "--changes --ids: exit 0" quiet_ok
check_eq "--changes --ids: entered and exited, in id order" "$(cat "$out")" \
    "$(printf 'entered\t%s\nexited\t%s\n' "$id_bob" "$id_carol" | sort -t "$TAB" -k2,2)"
run cdp-segment -d "$S" --now $LATER --changes recent_ids --ids
check "--changes again right after: nothing" no_output
check "--changes again right after: exit 0" quiet_ok

run cdp-segment -d "$S" --now $LATER --changes recent_count --count
check_eq "--changes --count" "$(cat "$out")" "entered${TAB}1
exited${TAB}1"

run cdp-segment -d "$S" --now $LATER --changes recent
check "--changes ndjson: exit 0" quiet_ok
check_eq "--changes ndjson: two lines" "$(wc -l <"$out" | tr -d ' ')" 2
grep "\"id\":\"$id_bob\"" "$out" >entered.line
grep "\"id\":\"$id_carol\"" "$out" >exited.line
check "--changes ndjson: \"change\" first for who entered" \
    grep -q "^{\"change\":\"entered\",\"id\":\"$id_bob\"," entered.line
check "--changes ndjson: \"change\" first for who exited" \
    grep -q "^{\"change\":\"exited\",\"id\":\"$id_carol\"," exited.line
echo "$id_bob" >b.ids
echo "$id_carol" >c.ids
check_eq "--changes ndjson: the rest is cdp-export's profile (entered)" \
    "$(sed 's/^{"change":"entered",/{/' entered.line)" "$(export_lines b.ids export2.ndjson)"
check_eq "--changes ndjson: the rest is cdp-export's profile (exited)" \
    "$(sed 's/^{"change":"exited",/{/' exited.line)" "$(export_lines c.ids export2.ndjson)"

run cdp-segment -d "$S" --now $LATER --changes recent_csv -f csv --fields id,traits.email
check_eq "--changes csv: a first column change" "$(cat "$out")" \
    "$(crlf change,id,traits.email; { crlf "entered,$id_bob,bob@example.org"; crlf "exited,$id_carol,carol@shop.example.com"; } | sort -t, -k2,2)"

run cdp-segment -d "$S" --list
check_eq "--list after --changes: members and last_run" \
    "$(grep '"name":"recent"' "$out" | jq -r '[.members,.saved_at,.last_run]|@tsv')" \
    "4${TAB}2025-06-30T00:00:00.000Z${TAB}2025-07-18T00:00:00.000Z"
check_eq "--list: acc untouched" \
    "$(grep '"name":"acc"' "$out" | jq -r '[.members,.last_run]|@tsv')" "4${TAB}2025-06-30T00:00:00.000Z"

# Across two runs: on 2025-07-22 alice (last order 2025-06-20) leaves too.
run cdp-segment -d "$S" --now 2025-07-22T00:00:00Z --changes recent_ids --ids
check_eq "--changes, second run: only what changed since the first" "$(cat "$out")" "exited${TAB}$id_alice"
run cdp-segment -d "$S" --now 2025-07-22T00:00:00Z --changes acc --ids
check_eq "--changes since --save, over both periods" "$(cat "$out")" \
    "$(printf 'entered\t%s\nexited\t%s\nexited\t%s\n' "$id_bob" "$id_carol" "$id_alice" | sort -t "$TAB" -k2,2)"
run cdp-segment -d "$S" --now 2025-07-22T00:00:00Z --changes acc --count
check_eq "--changes --count right after: zeros" "$(cat "$out")" "entered${TAB}0
exited${TAB}0"
run cdp-segment -d "$S" --list
check_eq "--list: members after two runs" "$(grep '"name":"recent_ids"' "$out" | jq -r '[.members,.last_run]|@tsv')" \
    "3${TAB}2025-07-22T00:00:00.000Z"
run cdp-segment -d "$S" --now 2025-07-22T00:00:00Z --run recent_ids --ids
check_eq "--run after --changes: the current matches" "$(cat "$out")" "$(ids bob dave frank)"

# --save again overwrites the definition and the members.
seg -d "$S" --save recent --ids "traits.plan = 'pro'"
check_eq "--save over an existing segment: its matches" "$(cat "$out")" "$(ids alice carol)"
run cdp-segment -d "$S" --list
check_eq "--save over an existing segment: new definition" \
    "$(grep '"name":"recent"' "$out" | jq -r '[.expression,.members]|@tsv')" "traits.plan = 'pro'${TAB}2"
seg -d "$S" --changes recent --ids
check "--changes after a new --save: nothing" no_output

# --delete.
run cdp-segment -d "$S" --delete recent
check "--delete: exit 0, nothing on stderr" quiet_ok
check "--delete: no output" no_output
run cdp-segment -d "$S" --list
check_eq "--delete: gone from --list" "$(jq -r .name "$out" | tr '\n' ' ')" "acc recent_count recent_csv recent_ids "
run cdp-segment -d "$S" --run recent
check "--run of a deleted segment: exit 1" test "$status" -eq 1
check "--run of a deleted segment: message" err_line "cdp-segment: no saved segment 'recent' (see --list)"
check "--run of a deleted segment: no output" no_output
run cdp-segment -d "$S" --changes recent
check "--changes of a deleted segment: exit 1" test "$status" -eq 1
check "--changes of a deleted segment: message" err_line "cdp-segment: no saved segment 'recent' (see --list)"
run cdp-segment -d "$S" --delete recent
check "--delete twice: exit 1" test "$status" -eq 1
check "--delete twice: message" err_line "cdp-segment: no saved segment 'recent' (see --list)"
seg -d "$S" --save recent --count "traits.plan = 'pro'"
seg -d "$S" --now 2025-07-22T00:00:00Z --changes recent --count
check_eq "deleted then saved again: no left-over members" "$(cat "$out")" "entered${TAB}0
exited${TAB}0"

# Names.
long64=$(printf '%064d' 0 | tr 0 a)
for bad in 'bad name' '' 'a/b' "${long64}a" 'é'; do
    seg -d "$S" --save "$bad" 'true'
    check "invalid name '$bad': exit 2" test "$status" -eq 2
    check "invalid name '$bad': message" err_starts "cdp-segment: segment names are 1 to 64 letters, digits"
done
run cdp-segment -d "$S" --run 'no/such'
check "invalid name with --run: exit 2" test "$status" -eq 2
seg -d "$S" --save "${long64%a}" --count 'true'
check "a name of 63 bytes: exit 0" quiet_ok
# The longest name: 64 bytes (the member key is name . NUL . id).
seg -d "$S" --save "$long64" --count 'true'
check "a name of 64 bytes: exit 0" quiet_ok
check_eq "a name of 64 bytes: its members" "$(cat "$out")" 6
run cdp-segment -d "$S" --delete "$long64"
check "a name of 64 bytes: --delete" quiet_ok
seg -d "$S" --save A.b-c_9 --count 'true'
check "a name of letters, digits, '.', '-', '_': exit 0" quiet_ok
seg -d "$S" --save a --run b
check "--save with --run: exit 2" test "$status" -eq 2
seg -d "$S" --stdin --save a 'true' </dev/null
check "--stdin with --save: exit 2" test "$status" -eq 2
seg -d "$S" --save nothing
check "--save without an expression: exit 2" test "$status" -eq 2
check "--save without an expression: message" err_starts "cdp-segment: no expression given"
seg -d "$S" --save bad_expr 'traits.plan ='
check "--save with a syntax error: exit 2" test "$status" -eq 2
run cdp-segment -d "$S" --list
check "--save with a syntax error saves nothing" test "$(grep -c '"name":"bad_expr"' "$out")" -eq 0

# A member merged away: it exits as an id alone.
M=$T/mdb
printf '%s\n' '{"type":"identify","userId":"gina","traits":{"email":"gina@example.com"},"timestamp":"2025-05-01T10:00:00Z","messageId":"g1"}' \
    '{"type":"page","anonymousId":"anon-h","timestamp":"2025-04-01T10:00:00Z","messageId":"h1"}' >gina.ndjson
"$CDP_BIN/cdp-ingest" -q -d "$M" gina.ndjson
gina_before=$("$CDP_BIN/cdp-export" -d "$M" --lookup user:gina | jq -r .id)
seg -d "$M" --save gina --ids "identifiers contains 'user:gina'"
check_eq "gina: saved with her profile" "$(cat "$out")" "$gina_before"
printf '%s\n' '{"type":"identify","userId":"gina","anonymousId":"anon-h","timestamp":"2025-05-02T10:00:00Z","messageId":"g2"}' |
    "$CDP_BIN/cdp-ingest" -q -d "$M"
gina_after=$("$CDP_BIN/cdp-export" -d "$M" --lookup user:gina | jq -r .id)
check_eq "gina: the merged profile takes the id of the earlier anonymous one" \
    "$gina_after" "$("$CDP_BIN/cdp-export" -d "$M" --lookup anon:anon-h | jq -r .id)"
check "gina: the id changed" test "$gina_before" != "$gina_after"
seg -d "$M" --changes gina
check "merged away: exit 0" quiet_ok
check "merged away: exits as the id alone" grep -qxF "{\"change\":\"exited\",\"id\":\"$gina_before\"}" "$out"
check "merged away: the merged profile enters" grep -q "^{\"change\":\"entered\",\"id\":\"$gina_after\",\"identifiers\":\\[\"anon:anon-h\"" "$out"
check_eq "merged away: two lines" "$(wc -l <"$out" | tr -d ' ')" 2

# ---------------------------------------------------------------------------
# Errors.
expr='traits.plan = '"'pro'"' and (computed.orders_count > 1'
seg --ids "$expr"
check "syntax error: exit 2" test "$status" -eq 2
check "syntax error: nothing on stdout" no_output
check_eq "syntax error: exact message" "$(cat "$err")" \
    "cdp-segment: syntax error at column 51: expected ')', found the end of the expression
  $expr
                                                    ^"
for e in 'computed.orders_count >= and x' "traits.plan = 'pro' )" 'traits.plan = = 1' \
    "count(event = 'x' > 1" "traits.city = 'Évry' )" '(' "traits.plan = 'pro"; do
    seg --ids "$e"
    check "syntax error: exit 2: $e" test "$status" -eq 2
    check "syntax error: first line: $e" err_starts "cdp-segment: syntax error at column "
    check "syntax error: expression and caret: $e" caret_ok "$e"
done
# Errors that a reader could file as syntax or as type: either, but shown
# the same way.
for e in "count(event = 'x', within 5) > 1" 'foo.bar = 1' "traits.email matches '('"; do
    seg --ids "$e"
    check "compile error: exit 2: $e" test "$status" -eq 2
    check "compile error: nothing on stdout: $e" no_output
    check "compile error: message, expression and caret: $e" caret_ok "$e"
done
seg --ids "traits.city = 'Évry' )"
check "the column counts characters, not bytes" err_starts "cdp-segment: syntax error at column 22: "
seg --ids "$(printf 'traits.plan =\t= 1')"
check "a tab in the expression is shown as a space" err_line "  traits.plan = = 1"

seg --ids "computed.last_order_at > 'yesterday'"
check "type error: exit 2" test "$status" -eq 2
check "type error: nothing on stdout" no_output
check_eq "type error: exact message" "$(cat "$err")" \
    "cdp-segment: type error at column 26: cannot compare a time with the string 'yesterday', which is not a time
  computed.last_order_at > 'yesterday'
                           ^"
for e in "first_seen < 'abc'" "computed.orders_count > 'abc'" "last(event = 'Email Opened') > 'soon'"; do
    seg --ids "$e"
    check "type error: exit 2: $e" test "$status" -eq 2
    check "type error: first line: $e" err_starts "cdp-segment: type error at column "
    check "type error: expression and caret: $e" caret_ok "$e"
done

seg
check "no expression: exit 2" test "$status" -eq 2
check "no expression: message" err_starts "cdp-segment: no expression given"
check "no expression: nothing on stdout" no_output
seg computed.orders_count '>' 1
check "an expression in pieces: exit 2" test "$status" -eq 2
check "an expression in pieces: message" err_starts "cdp-segment: unexpected argument '>'"
seg --no-such-option 'true'
check "unknown option: exit 2" test "$status" -eq 2
check "unknown option: message" err_starts "cdp-segment: unknown option"
check "unknown option: try --help" err_line "Try 'cdp-segment --help' for more information."
check "unknown option: nothing on stdout" no_output
seg --ids --count 'true'
check "--ids with --count: exit 2" test "$status" -eq 2
check "--ids with --count: message" err_starts "cdp-segment: --ids and --count exclude each other"
run cdp-segment --now yesterday 'true'
check "--now that is not a time: exit 2" test "$status" -eq 2
seg -d "$T/nowhere" --ids 'true'
check "missing store: exit 1" test "$status" -eq 1
check "missing store: names it" err_starts "cdp-segment: no store at '$T/nowhere'"
check "missing store: nothing on stdout" no_output
check "missing store: not created" test ! -e "$T/nowhere"
run cdp-segment -d "$T/nowhere" --list
check "missing store, --list: exit 1" test "$status" -eq 1
run cdp-segment --help
check "--help: exit 0, usage on stdout" grep -q '^Usage: cdp-segment ' "$out"
check "--help: nothing on stderr" quiet_ok

# ---------------------------------------------------------------------------
# A bigger store: a closed pipe ends quietly, and the same answers from the
# store and from --stdin.
B=$T/big
if [ -x "$top/scripts/cdp-gen" ]; then
    "$top/scripts/cdp-gen" --events 3000 --people 300 --seed 3 >big.ndjson
else
    # Without the generator: 900 events over 300 people.
    awk 'BEGIN {
        for (i = 0; i < 900; i++) {
            p = i % 300
            if (i < 300)
                printf "{\"type\":\"identify\",\"userId\":\"u%d\",\"traits\":{\"email\":\"p%d@example.com\",\"plan\":\"p%d\"},\"timestamp\":\"2025-01-%02dT10:00:00Z\",\"messageId\":\"g%d\"}\n", p, p, p % 3, p % 28 + 1, i
            else if (i < 600)
                printf "{\"type\":\"track\",\"event\":\"Order Completed\",\"userId\":\"u%d\",\"properties\":{\"orderId\":\"o%d\",\"revenue\":%d},\"timestamp\":\"2025-%02d-10T10:00:00Z\",\"messageId\":\"g%d\"}\n", p, i, i % 97, p % 6 + 1, i
            else
                printf "{\"type\":\"page\",\"userId\":\"u%d\",\"timestamp\":\"2025-06-%02dT10:00:00Z\",\"messageId\":\"g%d\"}\n", p, p % 28 + 1, i
        }
    }' >big.ndjson
fi
"$CDP_BIN/cdp-ingest" -q --country FR -d "$B" big.ndjson
"$CDP_BIN/cdp-export" -d "$B" >big.export
nbig=$(wc -l <big.export | tr -d ' ')
check "big store: a few hundred profiles" test "$nbig" -ge 200
BIGNOW=2026-01-01T00:00:00Z
{
    "$CDP_BIN/cdp-segment" -d "$B" --now $BIGNOW 'true' 2>pipe.err
    echo $? >pipe.status
} | head -n 1 >pipe.out
check_eq "| head -n 1: exit 0" "$(cat pipe.status)" 0
check "| head -n 1: nothing on stderr" test ! -s pipe.err
check_eq "| head -n 1: the first profile" "$(cat pipe.out)" "$(head -n 1 big.export)"
check "| head -n 1: more output than a pipe holds" test "$(wc -c <big.export)" -gt 200000
{
    "$CDP_BIN/cdp-segment" --stdin --now $BIGNOW 'true' <big.export 2>pipe.err
    echo $? >pipe.status
} | head -n 1 >pipe.out
check_eq "--stdin | head -n 1: exit 0" "$(cat pipe.status)" 0
check "--stdin | head -n 1: nothing on stderr" test ! -s pipe.err

run cdp-segment -d "$B" --now $BIGNOW 'true'
check "big store: 'true' gives every profile as cdp-export" cmp -s "$out" big.export
for e in "count(event = 'Order Completed', within 365d) >= 1" 'computed.orders_count >= 1' \
    "ever(type = 'page') and not traits.email exists" "sum(properties.revenue, event = 'Order Completed') > 50" \
    "last(type = 'page', within 180d) > now - 90d"; do
    run cdp-segment -d "$B" --now $BIGNOW --ids "$e"
    cp "$out" big.ids
    n=$(wc -l <big.ids | tr -d ' ')
    check "big store: some but not all match: $e" test "$n" -gt 0 -a "$n" -lt "$nbig"
    run cdp-segment -d "$B" --now $BIGNOW --count "$e"
    check_eq "big store: --count is the number of --ids: $e" "$(cat "$out")" "$n"
    run cdp-segment -d "$B" --now $BIGNOW --stdin --ids "$e" <big.export
    check "big store: --stdin gives the same ids: $e" cmp -s "$out" big.ids
    run cdp-segment -d "$B" --now $BIGNOW "$e"
    export_lines big.ids big.export >big.want
    check "big store: ndjson equals cdp-export: $e" cmp -s "$out" big.want
done

finish
