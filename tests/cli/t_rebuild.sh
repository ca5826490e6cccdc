#!/bin/sh
# cdp-merge --undo, --rebuild, --rules and --rule: profiles built again from
# their stored events.
#
# - Undo of a manual merge gives back exactly the profiles of before (every
#   member of cdp-export --events, their consent included: an objection
#   written for one side stays with that side); a dry run changes nothing;
#   the merge log gains the undo; the two sides stay apart afterwards (a
#   pair is refused, an event carrying both goes to the strongest
#   identifier's side, a new identifier joins its own side) until a person
#   approves the refusal; undoing twice, a non-merge entry, a missing entry
#   and bad text are refused.
# - Undo of a merge an event made: the event stays, with the side of its
#   strongest identifier.
# - Rebuild: two stores fed the same events in opposite orders differ
#   (merge protection decides by arrival) and agree after a rebuild; a
#   rebuild of a store fed in time order changes nothing (events without
#   timestamp or messageId included); the salt's suppression list, saved
#   segments and consent written outside events survive it; --dry-run.
# - Survivorship: --rules, each rule on its own trait, the rules applied to
#   events ingested later and after a merge (frequent counts add up), the
#   same traits whatever the arrival order, a rule removed, bad rules.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1

merge() {
    run cdp-merge "$@"
}

# ends_with STATUS LINE: the last run exited STATUS and wrote LINE on stderr.
ends_with() {
    test "$status" -eq "$1" && err_line "$2"
}

# snapshot FILE [DB]: every profile of the store with its events, sorted, into FILE.
snapshot() {
    : >"$1.ids"
    "$CDP_BIN/cdp-export" -d "${2:-$CDP_DB}" 2>/dev/null | jq -r .id | sort >"$1.ids"
    while read -r id; do
        "$CDP_BIN/cdp-export" -d "${2:-$CDP_DB}" --lookup "$id" --events 2>/dev/null
    done <"$1.ids" >"$1"
}

id_of() {
    "$CDP_BIN/cdp-export" -d "${2:-$CDP_DB}" --lookup "$1" 2>/dev/null | jq -r .id
}

# ---- 1. Undo of a manual merge ----
cat >crm.ndjson <<'EOF'
{"type":"identify","userId":"u1","messageId":"c1","timestamp":"2025-01-01T10:00:00Z","traits":{"email":"ines@example.com","firstName":"Ines","city":"Toulouse"},"context":{"consent":{"purposes":{"analytics":"granted"}}}}
{"type":"track","userId":"u1","messageId":"c2","timestamp":"2025-01-02T10:00:00Z","event":"Order Completed","properties":{"order_id":"o1","total":30,"payment_method":"card"}}
EOF
cat >web.ndjson <<'EOF'
{"type":"identify","anonymousId":"a9","messageId":"w1","timestamp":"2025-01-03T10:00:00Z","traits":{"email":"ines.andre@outlook.com","firstName":"Inès","phone":"06 38 88 53 93","city":"Paris"}}
{"type":"page","anonymousId":"a9","messageId":"w2","timestamp":"2025-01-03T10:05:00Z","name":"Home"}
{"type":"identify","anonymousId":"a7","timestamp":"2025-01-04T10:00:00Z","traits":{"city":"Lyon","email":"zed@example.com"}}
{"type":"identify","anonymousId":"a7","messageId":"w4","traits":{"plan":"silver"}}
EOF
"$CDP_BIN/cdp-ingest" -q --source crm --country FR --now 2025-02-01T00:00:00Z crm.ndjson
"$CDP_BIN/cdp-ingest" -q --source web --now 2025-02-01T00:00:00Z web.ndjson 2>/dev/null
run cdp-consent --object email:ines.andre@outlook.com --now 2025-02-01T12:00:00Z
check "object: exit 0" test "$status" -eq 0
id_a=$(id_of user:u1)
id_b=$(id_of email:ines.andre@outlook.com)
snapshot before.json
check_eq "three profiles to start with" "$(wc -l <before.json.ids | tr -d ' ')" 3

echo "user:u1 email:ines.andre@outlook.com" | "$CDP_BIN/cdp-merge" -q --pairs --now 2025-02-02T00:00:00Z
check_eq "the pair merged" "$(id_of email:ines.andre@outlook.com)" "$id_a"
seq=$("$CDP_BIN/cdp-merge" --why user:u1 2>/dev/null | jq -r 'select(.action == "merge") | .seq')
check_eq "the merge's seq" "$seq" 1
snapshot merged.json

merge --undo "$seq" --dry-run --now 2025-02-03T00:00:00Z
check "undo --dry-run: exit 0" test "$status" -eq 0
check_eq "undo --dry-run: what it would do" \
    "$(jq -c '[.merge, .profiles_before, .profiles_after, .events, .dry_run]' "$out")" "[1,1,2,4,true]"
check "undo --dry-run: says so" err_line "cdp-merge: a dry run: nothing changed"
snapshot after_dry.json
check "undo --dry-run: the store is as it was" cmp -s merged.json after_dry.json

merge --undo "$seq" --now 2025-02-03T00:00:00Z
check "undo: exit 0" test "$status" -eq 0
check_eq "undo: the entry, the merge, the profile before and the two after" \
    "$(jq -c '[.undo, .merge, .before, (.profiles | sort)]' "$out")" \
    "[2,1,[\"$id_a\"],$(printf '%s\n%s\n' "$id_a" "$id_b" | sort | jq -R . | jq -cs .)]"
check_eq "undo: counts" \
    "$(jq -c '[.profiles_before, .profiles_after, .events, .not_replayed, .merges, .refused, .consent_carried, .grants_dropped]' "$out")" \
    "[1,2,4,0,0,0,4,0]"
check "undo: the summary" \
    err_line "cdp-merge: 1 profiles taken apart, 4 events replayed, 2 profiles made: 0 merges, 0 refused"
snapshot after.json
check "undo: every profile exactly as before the merge, events and consent included" \
    cmp -s before.json after.json
check_eq "undo: the objection stays with the side it was written for" \
    "$(cdp_consent() { "$CDP_BIN/cdp-consent" --status "$1" --now 2025-02-04T00:00:00Z 2>/dev/null; }
       echo "$(cdp_consent user:u1 | jq -c '[.records[] | .status] | unique')" \
            "$(cdp_consent email:ines.andre@outlook.com | jq -c '[.records[] | select(.status == "withdrawn") | .subject] | unique')")" \
    '["granted"] ["email:ines.andre@outlook.com"]'
merge --why user:u1
check_eq "undo: in the merge log after the merge" "$(jq -c '[.seq, .action, .merge]' "$out" | tr -d '\n')" \
    '[1,"merge",null][2,"undo",1]'

# The sides stay apart.
echo "user:u1 email:ines.andre@outlook.com" | "$CDP_BIN/cdp-merge" --pairs --now 2025-02-04T00:00:00Z 2>"$err" >"$out"
check "apart: the pair is refused" err_line \
    "cdp-merge: 1 pairs: 0 merges, 1 refused by merge protection (see --quarantine), 0 waiting there already, 0 already one profile"
merge --quarantine
check_eq "apart: the refusal, in the quarantine, names the undone merge" \
    "$(jq -c '[.seq, .reason]' "$out")" '[3,"kept apart since merge 1 was undone"]'
cat >both.ndjson <<'EOF'
{"type":"identify","userId":"u1","messageId":"x1","timestamp":"2025-03-01T10:00:00Z","traits":{"email":"ines.andre@outlook.com"}}
{"type":"identify","anonymousId":"a9","messageId":"x2","timestamp":"2025-03-02T10:00:00Z","traits":{"email":"ines.andre@outlook.com","phone":"+33 7 00 00 00 01"}}
EOF
run cdp-ingest --now 2025-03-05T00:00:00Z both.ndjson
check "apart: ingest says why" err_line "cdp-ingest: both.ndjson:1: warning: merge refused: kept apart since merge 1 was undone"
check_eq "apart: two profiles still" "$(id_of user:u1) $(id_of email:ines.andre@outlook.com)" "$id_a $id_b"
check_eq "apart: the event went to the side of its strongest identifier (after the refused link)" \
    "$("$CDP_BIN/cdp-export" --lookup user:u1 --events | jq -c '[.events[].messageId[0:10]]')" \
    '["c1","c2","cdp-merge-","x1"]'
check_eq "apart: a new identifier joins its own side" "$(id_of phone:+33700000001)" "$id_b"
merge --undo 1
check "undo twice: exit 1" ends_with 1 "cdp-merge: merge 1 was undone already"
merge --undo 3
check "undo of a refusal: exit 1" ends_with 1 "cdp-merge: merge-log entry 3 is a refused, not a merge (see --why)"
merge --undo 99
check "undo of nothing: exit 1" ends_with 1 "cdp-merge: merge-log entry 99 is not there, not a merge (see --why)"
merge --undo one
check "undo: bad seq: exit 2" test "$status" -eq 2
merge --rules --dry-run
check "--dry-run with --rules: exit 2" test "$status" -eq 2

# A person approves: the sides merge again.
merge --approve 3 --now 2025-03-06T00:00:00Z
check "approve after undo: exit 0" test "$status" -eq 0
check_eq "approve after undo: one profile" "$(id_of email:ines.andre@outlook.com)" "$id_a"

# ---- 2. Undo of a merge an event made ----
D2=$T/db2
cat >ev.ndjson <<'EOF'
{"type":"identify","userId":"u5","messageId":"e1","timestamp":"2025-01-01T00:00:00Z","traits":{"email":"a@x.test","city":"Nantes"}}
{"type":"identify","anonymousId":"k1","messageId":"e2","timestamp":"2025-01-02T00:00:00Z","traits":{"phone":"+33611111111","city":"Brest"}}
{"type":"identify","userId":"u5","messageId":"e3","timestamp":"2025-01-03T00:00:00Z","traits":{"phone":"+33611111111"}}
EOF
"$CDP_BIN/cdp-ingest" -q -d "$D2" --now 2025-02-01T00:00:00Z ev.ndjson
check_eq "event merge: one profile" "$(id_of user:u5 "$D2")" "$(id_of anon:k1 "$D2")"
merge -d "$D2" --undo 1 --now 2025-02-02T00:00:00Z
check_eq "event merge undone: counts" \
    "$(jq -c '[.profiles_before, .profiles_after, .events, .refused]' "$out")" "[1,2,3,1]"
check "event merge undone: two profiles" test "$(id_of user:u5 "$D2")" != "$(id_of anon:k1 "$D2")"
check_eq "event merge undone: the event stays with the user's side, the phone with its own" \
    "$("$CDP_BIN/cdp-export" -d "$D2" --lookup user:u5 --events | jq -c '[[.events[].messageId], .identifiers, .traits.city]')" \
    '[["e1","e3"],["email:a@x.test","user:u5"],"Nantes"]'
check_eq "event merge undone: the refusal is in the quarantine, marked as the undo's replay" \
    "$("$CDP_BIN/cdp-merge" -d "$D2" --quarantine 2>/dev/null | jq -c '[.message_id, .replay, .reason]')" \
    '["e3",2,"kept apart since merge 1 was undone"]'

# An imported event that carries a context.merge of its own is data: it
# counts, and an undo keeps it.
D3=$T/db3
cat >cm.ndjson <<'EOF'
{"type":"identify","userId":"u7","messageId":"k1","timestamp":"2025-01-01T00:00:00Z","traits":{"email":"a7@x.test"}}
{"type":"identify","anonymousId":"x7","messageId":"k2","timestamp":"2025-01-02T00:00:00Z","traits":{"email":"b7@x.test"}}
{"type":"track","userId":"u7","anonymousId":"x7","messageId":"k3","timestamp":"2025-01-03T00:00:00Z","event":"Order Completed","properties":{"order_id":"o9","total":9},"context":{"merge":{"rule":"crm-dedupe"}}}
EOF
"$CDP_BIN/cdp-ingest" -q -d "$D3" --source crm --now 2025-02-01T00:00:00Z cm.ndjson
check_eq "imported merge: the rule it names, and the event counts" \
    "$("$CDP_BIN/cdp-merge" -d "$D3" --why user:u7 2>/dev/null | jq -r .rule) $("$CDP_BIN/cdp-export" -d "$D3" --lookup user:u7 | jq -c '[.computed.events_count, .last_seen]')" \
    'crm-dedupe [3,"2025-01-03T00:00:00.000Z"]'
merge -d "$D3" --undo 1 --now 2025-02-02T00:00:00Z
check_eq "imported merge undone: every event kept, the order with the user" \
    "$("$CDP_BIN/cdp-export" -d "$D3" --lookup user:u7 --events | jq -c '[[.events[].messageId], .computed.orders_count]') $("$CDP_BIN/cdp-export" -d "$D3" --lookup anon:x7 --events | jq -c '[.events[].messageId]')" \
    '[["k1","k3"],1] ["k2"]'

# An approval that joined three profiles made two merges with one link
# event: undoing either undoes both, and the refusal waits again.
D4=$T/db4
cat >three.ndjson <<'EOF'
{"type":"identify","userId":"t1","messageId":"h1","timestamp":"2025-01-01T00:00:00Z","traits":{"email":"t1@x.test"}}
{"type":"identify","userId":"t2","anonymousId":"tx","messageId":"h2","timestamp":"2025-01-02T00:00:00Z"}
{"type":"identify","messageId":"h3","timestamp":"2025-01-03T00:00:00Z","traits":{"email":"t3@x.test"}}
{"type":"identify","userId":"t1","anonymousId":"tx","messageId":"h4","timestamp":"2025-01-04T00:00:00Z","traits":{"email":"t3@x.test"}}
EOF
"$CDP_BIN/cdp-ingest" -q -d "$D4" --now 2025-02-01T00:00:00Z three.ndjson 2>/dev/null
q=$("$CDP_BIN/cdp-merge" -d "$D4" --quarantine 2>/dev/null | jq -r .seq)
"$CDP_BIN/cdp-merge" -q -d "$D4" --approve "$q" --now 2025-02-02T00:00:00Z
check_eq "three: the approval made one profile" \
    "$(id_of user:t2 "$D4")" "$(id_of email:t3@x.test "$D4")"
second=$("$CDP_BIN/cdp-merge" -d "$D4" --why user:t1 2>/dev/null | jq -r 'select(.action == "merge") | .seq' | tail -n 1)
merge -d "$D4" --undo "$second" --now 2025-02-03T00:00:00Z
check_eq "three: both merges of the link undone, three profiles again" \
    "$(jq -c '[(.undone | length), .profiles_after]' "$out")" "[2,3]"
check_eq "three: the refusal waits in the quarantine again" \
    "$("$CDP_BIN/cdp-merge" -d "$D4" --quarantine 2>/dev/null | jq -c '[.message_id, .replay != null]')" \
    '["h4",true]'

# A later link keeps the identifiers the person named: after the first
# merge is undone, its replay joins what was named, not the strongest.
D5=$T/db5
cat >named.ndjson <<'EOF'
{"type":"identify","userId":"ua","messageId":"n1","timestamp":"2025-01-01T00:00:00Z","traits":{"email":"a@n.test"}}
{"type":"identify","anonymousId":"xb","messageId":"n2","timestamp":"2025-01-02T00:00:00Z","traits":{"email":"b@n.test"}}
{"type":"identify","anonymousId":"xc","messageId":"n3","timestamp":"2025-01-03T00:00:00Z","traits":{"email":"c@n.test"}}
EOF
"$CDP_BIN/cdp-ingest" -q -d "$D5" --now 2025-02-01T00:00:00Z named.ndjson
echo "user:ua anon:xb" | "$CDP_BIN/cdp-merge" -q -d "$D5" --pairs --now 2025-02-02T00:00:00Z
echo "anon:xb anon:xc" | "$CDP_BIN/cdp-merge" -q -d "$D5" --pairs --now 2025-02-03T00:00:00Z
check_eq "named: the link carries the identifiers given" \
    "$("$CDP_BIN/cdp-merge" -d "$D5" --why anon:xc 2>/dev/null | jq -c 'select(.seq == 2) | .event_identifiers')" \
    '["anon:xb","anon:xc"]'
merge -d "$D5" --undo 1 --now 2025-02-04T00:00:00Z
check_eq "named: the second link joins xb and xc again, apart from ua" \
    "$(id_of anon:xc "$D5") $(test "$(id_of anon:xb "$D5")" != "$(id_of user:ua "$D5")" && echo apart)" \
    "$(id_of anon:xb "$D5") apart"

# Erasing one side takes its identifiers out of the separation; with a
# side left empty the separation goes (store 2: the user's side erased).
check_eq "erasure: before it, the store keeps the separation" \
    "$(mdb_dump -p -s meta "$D2" | grep -c separations)" 1
"$CDP_BIN/cdp-consent" -q -d "$D2" --forget user:u5 --now 2025-02-03T00:00:00Z >/dev/null
check_eq "erasure: the separation named the person, so it is gone" \
    "$(mdb_dump -p -s meta "$D2" | grep -c separations)" 0
check "erasure: no byte of the person's e-mail is left in the store" \
    test "$(grep -c 'a@x.test' "$D2/data.mdb")" -eq 0

# ---- 3. Rebuild ----
cat >order.ndjson <<'EOF'
{"type":"identify","userId":"v1","messageId":"r1","timestamp":"2025-01-01T00:00:00Z","traits":{"email":"shared@x.test","city":"Nice"}}
{"type":"identify","userId":"v2","messageId":"r2","timestamp":"2025-01-02T00:00:00Z","traits":{"email":"shared@x.test","city":"Metz"}}
{"type":"track","anonymousId":"z9","messageId":"r3","timestamp":"2025-01-03T00:00:00Z","event":"Order Completed","properties":{"order_id":"o7","total":12},"context":{"traits":{"email":"shared@x.test"}}}
{"type":"track","userId":"v2","messageId":"r4","timestamp":"2025-01-04T00:00:00Z","event":"Order Completed","properties":{"order_id":"o7","total":12}}
EOF
tac order.ndjson >order-rev.ndjson
F1=$T/f1
F2=$T/f2
"$CDP_BIN/cdp-ingest" -q -d "$F1" --now 2025-02-01T00:00:00Z order.ndjson 2>/dev/null
"$CDP_BIN/cdp-ingest" -q -d "$F2" --now 2025-02-01T00:00:00Z order-rev.ndjson 2>/dev/null
snapshot f1.json "$F1"
snapshot f2.json "$F2"
check "rebuild: arrival order made different profiles" test "$(cat f1.json)" != "$(cat f2.json)"
merge -d "$F2" --rebuild --dry-run --now 2025-02-02T00:00:00Z
check_eq "rebuild --dry-run: the report" "$(jq -c '[.events, .dry_run]' "$out")" "[4,true]"
snapshot f2dry.json "$F2"
check "rebuild --dry-run: nothing changed" cmp -s f2.json f2dry.json
merge -d "$F2" --rebuild --now 2025-02-02T00:00:00Z
check "rebuild: exit 0" test "$status" -eq 0
merge -d "$F1" --rebuild --now 2025-02-02T00:00:00Z
check_eq "rebuild: the report of the store fed in time order" \
    "$(jq -c '[.profiles_before, .profiles_after, .events, .not_replayed, .refused]' "$out")" "[2,2,4,0,1]"
snapshot r1.json "$F1"
snapshot r2.json "$F2"
check "rebuild: the same profiles whatever the arrival order" cmp -s r1.json r2.json
check "rebuild: the store fed in time order is unchanged" cmp -s f1.json r1.json
check_eq "rebuild: the order counted once, on the profile that sent it first" \
    "$(jq -c 'select(.identifiers | index("user:v1")) | [.computed.orders_count, .identifiers]' r1.json)" \
    '[1,["anon:z9","email:shared@x.test","user:v1"]]'

# The first store: untimed events, made-up messageIds, consent, suppression, segments.
echo '{"type":"identify","userId":"gone","messageId":"g1","timestamp":"2025-01-05T00:00:00Z","traits":{"email":"gone@x.test"}}' >gone.ndjson
"$CDP_BIN/cdp-ingest" -q --now 2025-04-01T00:00:00Z gone.ndjson
"$CDP_BIN/cdp-segment" -q --save lyon 'traits.city == "Lyon"' --now 2025-04-01T00:00:00Z >/dev/null
"$CDP_BIN/cdp-consent" -q --forget email:gone@x.test --now 2025-04-01T00:00:00Z >/dev/null
snapshot pre.json
events=$(jq -s '[.[].events | length] | add' pre.json)
merge --rebuild --now 2025-04-02T00:00:00Z
check_eq "rebuild: every event replayed" "$(jq -c '[.events, .not_replayed]' "$out")" "[$events,0]"
check_eq "rebuild: 10 events" "$events" 10
snapshot post.json
check "rebuild: profiles, events and consent unchanged" cmp -s pre.json post.json
check_eq "rebuild: the untimed event keeps its time, the made-up messageId its id" \
    "$(jq -c 'select(.identifiers | index("anon:a7")) | [.events[] | [.messageId[0:4], .timestamp // "-"]]' post.json)" \
    '[["cdp-","2025-01-04T10:00:00Z"],["w4","-"]]'
check_eq "rebuild: the segment is still saved" \
    "$("$CDP_BIN/cdp-segment" --list 2>/dev/null | jq -r .name)" lyon
run cdp-ingest --now 2025-04-03T00:00:00Z gone.ndjson
check "rebuild: the erased person stays on the suppression list" err_line \
    "cdp-ingest: 1 read, 0 landed, 0 duplicates, 0 rejected, 0 warnings, 0 profiles created, 0 merges (0 refused), 1 dropped as erased"

# An event without a timestamp is replayed at the time it was stored with,
# not before every other event: here after the first sighting of the
# e-mail and of the order.
U=$T/untimed
echo '{"type":"track","userId":"u1","messageId":"m1","timestamp":"2025-01-01T10:00:00Z","event":"Order Completed","properties":{"order_id":"o1","total":5},"context":{"traits":{"email":"e@x.test"}}}' >u1.ndjson
echo '{"type":"track","userId":"u2","event":"Order Completed","properties":{"order_id":"o1","total":5},"context":{"traits":{"email":"e@x.test"}}}' >u2.ndjson
"$CDP_BIN/cdp-ingest" -q -d "$U" --now 2025-01-05T00:00:00Z u1.ndjson
"$CDP_BIN/cdp-ingest" -q -d "$U" --now 2025-02-01T00:00:00Z u2.ndjson 2>/dev/null
snapshot u-before.json "$U"
merge -q -d "$U" --rebuild --now 2025-03-01T00:00:00Z
snapshot u-after.json "$U"
check "untimed: the rebuild changes nothing" cmp -s u-before.json u-after.json
check_eq "untimed: the e-mail and the order stay with the first sighting" \
    "$(jq -c '[.identifiers, .computed.orders_count]' u-after.json | tr -d '\n')" \
    '[["user:u2"],0][["email:e@x.test","user:u1"],1]'

# Import options are the events' own: a CSV read with --date-format and
# --country, an event counted with --count; a rebuild needs none of them.
I=$T/imp
printf 'email;phone;first name;timestamp\nlea@x.test;06 12 34 56 78;Léa;02/03/2025\n' >imp.csv
"$CDP_BIN/cdp-ingest" -q -d "$I" --source crm --delimiter ';' --country FR \
    --date-format '%d/%m/%Y' --now 2025-04-01T00:00:00Z imp.csv
echo '{"type":"track","userId":"w1","messageId":"n1","timestamp":"2025-03-04T00:00:00Z","event":"Newsletter Opened","context":{"traits":{"email":"lea@x.test"}}}' >nl.ndjson
"$CDP_BIN/cdp-ingest" -q -d "$I" --source app --count 'Newsletter Opened=email_opens' \
    --now 2025-04-01T00:00:00Z nl.ndjson
snapshot imp1.json "$I"
merge -d "$I" --rebuild --now 2025-04-02T00:00:00Z
check_eq "import options: every event replayed" "$(jq -c '[.events, .not_replayed]' "$out")" "[2,0]"
snapshot imp2.json "$I"
check "import options: the profile is unchanged" cmp -s imp1.json imp2.json
check_eq "import options: the phone read in FR, the date in its format, the counter kept" \
    "$(jq -c '[.identifiers, .first_seen, .computed.email_opens]' imp2.json)" \
    '[["email:lea@x.test","phone:+33612345678","user:w1"],"2025-03-02T00:00:00.000Z",1]'

# ---- 4. Survivorship ----
S=$T/surv
cat >surv.ndjson <<'EOF'
{"type":"identify","userId":"p1","messageId":"s1","timestamp":"2025-01-01T00:00:00Z","traits":{"firstName":"Ines","city":"Toulouse","plan":"gold","nickname":"Nini"}}
{"type":"identify","userId":"p1","messageId":"s2","timestamp":"2025-01-02T00:00:00Z","traits":{"firstName":"Inès","city":"Paris","plan":"silver","nickname":""}}
{"type":"identify","userId":"p1","messageId":"s3","timestamp":"2025-01-03T00:00:00Z","traits":{"firstName":"INES","city":"Lyon","plan":"gold"}}
{"type":"identify","userId":"p1","messageId":"s4","timestamp":"2025-01-04T00:00:00Z","traits":{"plan":"gold","city":""}}
{"type":"identify","userId":"p1","messageId":"s5","timestamp":"2025-01-05T00:00:00Z","traits":{"plan":"silver"}}
EOF
# The sources, one per import: s1 crm, s2 web, s3 app, s4 and s5 web.
sed -n 1p surv.ndjson >s-crm.ndjson
sed -n 2p surv.ndjson >s-web.ndjson
sed -n 3p surv.ndjson >s-app.ndjson
sed -n '4,5p' surv.ndjson >>s-web.ndjson
ingest_surv() {
    "$CDP_BIN/cdp-ingest" -q -d "$1" --source crm --now 2025-02-01T00:00:00Z s-crm.ndjson
    "$CDP_BIN/cdp-ingest" -q -d "$1" --source web --now 2025-02-01T00:00:00Z s-web.ndjson
    "$CDP_BIN/cdp-ingest" -q -d "$1" --source app --now 2025-02-01T00:00:00Z s-app.ndjson
}
ingest_surv "$S"
traits() {
    "$CDP_BIN/cdp-export" -d "${2:-$S}" --lookup "$1" 2>/dev/null |
        jq -c '[.traits.firstName, .traits.city, .traits.plan, .traits.nickname]'
}
check_eq "rules: the latest value by default" "$(traits user:p1)" '["INES","","silver",""]'
merge -d "$S" --rules
check_eq "rules: none set: every trait keeps the latest" "$(cat "$out")" '{"trait":"*","rule":"recent"}'
merge -d "$S" --rule firstName=source:crm,web --rule city=nonempty --rule plan=frequent \
    --rule nickname=first --dry-run
check_eq "rule --dry-run: the report" "$(jq -c '[.profiles, .changed, .dry_run]' "$out")" "[1,1,true]"
check_eq "rule --dry-run: nothing saved" "$(traits user:p1)" '["INES","","silver",""]'
merge -d "$S" --rule firstName=source:crm,web --rule city=nonempty --rule plan=frequent \
    --rule nickname=first
check "rule: exit 0" test "$status" -eq 0
check "rule: the summary" err_line \
    "cdp-merge: rules saved; the traits of 1 profiles set again from their events, 1 changed"
check_eq "rule: source priority, non-empty, most frequent, first seen" \
    "$(traits user:p1)" '["Ines","Lyon","gold","Nini"]'
check_eq "rule: the kept value's time and source" \
    "$("$CDP_BIN/cdp-export" -d "$S" --subject user:p1 2>/dev/null | jq -c '[.trait_history.plan.time, .trait_history.plan.source, .trait_history.city.source]')" \
    '["2025-01-04T00:00:00.000Z","web","app"]'
merge -d "$S" --rules
check_eq "rules: listed by trait" "$(jq -c '[.trait, .rule]' "$out" | tr -d '\n')" \
    '["*","recent"]["city","nonempty"]["firstName","source:crm,web"]["nickname","first"]["plan","frequent"]'
# Later events follow the rules as they arrive.
cat >later.ndjson <<'EOF'
{"type":"identify","userId":"p1","messageId":"s6","timestamp":"2025-01-06T00:00:00Z","traits":{"firstName":"Inès B","city":" ","plan":"silver","nickname":"Ina"}}
{"type":"identify","userId":"p1","messageId":"s7","timestamp":"2025-01-07T00:00:00Z","traits":{"plan":"silver"}}
EOF
"$CDP_BIN/cdp-ingest" -q -d "$S" --source web --now 2025-02-02T00:00:00Z later.ndjson
check_eq "rules at ingest: web does not beat crm, a blank is empty, silver now most frequent" \
    "$(traits user:p1)" '["Ines","Lyon","silver","Nini"]'
snapshot surv-inc.json "$S"
merge -q -d "$S" --rebuild
snapshot surv-reb.json "$S"
check "rules: what ingest kept is what a rebuild keeps" cmp -s surv-inc.json surv-reb.json
# The same rules, the events in the opposite order.
S2=$T/surv2
merge -q -d "$S2" --rule firstName=source:crm,web --rule city=nonempty --rule plan=frequent \
    --rule nickname=first
"$CDP_BIN/cdp-ingest" -q -d "$S2" --source web --now 2025-02-02T00:00:00Z later.ndjson
"$CDP_BIN/cdp-ingest" -q -d "$S2" --source app --now 2025-02-01T00:00:00Z s-app.ndjson
"$CDP_BIN/cdp-ingest" -q -d "$S2" --source web --now 2025-02-01T00:00:00Z s-web.ndjson
"$CDP_BIN/cdp-ingest" -q -d "$S2" --source crm --now 2025-02-01T00:00:00Z s-crm.ndjson
check_eq "rules: the same traits whatever the arrival order" "$(traits user:p1 "$S2")" \
    '["Ines","Lyon","silver","Nini"]'
# Two profiles merged by an event: the counts of "frequent" add up.
cat >two.ndjson <<'EOF'
{"type":"identify","userId":"q1","messageId":"t1","timestamp":"2025-01-01T00:00:00Z","traits":{"plan":"gold"}}
{"type":"identify","userId":"q1","messageId":"t2","timestamp":"2025-01-02T00:00:00Z","traits":{"plan":"gold","email":"q@x.test"}}
{"type":"identify","anonymousId":"qa","messageId":"t3","timestamp":"2025-01-03T00:00:00Z","traits":{"plan":"bronze","phone":"+33622222222"}}
{"type":"identify","anonymousId":"qa","messageId":"t4","timestamp":"2025-01-04T00:00:00Z","traits":{"plan":"bronze"}}
{"type":"identify","anonymousId":"qa","messageId":"t5","timestamp":"2025-01-05T00:00:00Z","traits":{"plan":"gold","email":"q@x.test"}}
EOF
"$CDP_BIN/cdp-ingest" -q -d "$S" --now 2025-02-03T00:00:00Z two.ndjson
check_eq "frequent: the merged profile counts gold 3 times, bronze twice" \
    "$("$CDP_BIN/cdp-export" -d "$S" --lookup user:q1 | jq -c '[.traits.plan, (.identifiers | length)]')" '["gold",4]'
run cdp-export -d "$S" --format csv --fields id,traits.plan,traits.firstName
check_eq "frequent: CSV export reads the kept value" "$(sed -n '2,$p' "$out" | tr -d '\r' | cut -d, -f2- | sort | tr '\n' ' ')" \
    'gold, silver,Ines '
merge -d "$S" --rule plan= --rule city=
check_eq "rule removed: the latest value again" "$(traits user:p1)" '["Ines"," ","silver","Nini"]'
merge -d "$S" --rules
check_eq "rule removed: no longer listed" "$(jq -r .trait "$out" | tr '\n' ' ')" '* firstName nickname '
merge -d "$S" --rule plan=latest
check "rule: unknown rule: exit 2" ends_with 2 \
    "cdp-merge: --rule unknown rule 'latest' (recent, first, frequent, nonempty or source:A,B,...)"
merge -d "$S" --rule plan
check "rule: no '=': exit 2" ends_with 2 "cdp-merge: --rule wants TRAIT=RULE, not 'plan'"
merge -d "$S" --rule =first
check "rule: no trait: exit 2" ends_with 2 "cdp-merge: --rule: '' is not a trait name (or *)"
merge -d "$S" --rule plan=source:
check "rule: source without sources: exit 2" test "$status" -eq 2
merge -d "$S" --rule "$(printf 'pl\377an=first')"
check "rule: not UTF-8: exit 2" ends_with 2 "cdp-merge: --rule must be UTF-8 text"
merge -d "$S" --rebuild --country FRA
check "rebuild: --country of three letters: exit 2" ends_with 2 \
    "cdp-merge: --country takes a two-letter code such as FR"

finish
