#!/bin/sh
# cdp-export --subject (everything held on one person, for access and
# portability requests) and the audit line every export leaves in the store.
. "$(dirname "$0")/lib.sh"

NOW=2025-03-01T00:00:00Z

# Jane: an anonymous visit (anon:b2) that merges into her profile when she
# identifies with it; consent granted then withdrawn; an order; and, last to
# arrive, an event older than all the others, which renames her profile.
# Bob and Carol: other people, whose data must stay out of Jane's document.
cat >"$T/events.ndjson" <<'X'
{"type":"page","anonymousId":"a1","timestamp":"2025-01-01T10:00:00Z","messageId":"j1","properties":{"path":"/"}}
{"type":"identify","anonymousId":"a1","userId":"u1","traits":{"email":"Jane@Example.com","firstName":"Jane","phone":"06 12 34 56 78"},"timestamp":"2025-01-01T10:06:00Z","messageId":"j2","context":{"consent":{"purposes":{"email_marketing":{"status":"granted","proof":"form-1"}}}}}
{"type":"track","userId":"u1","event":"Order Completed","properties":{"order_id":"o1","total":42.5,"payment_method":"card"},"timestamp":"2025-01-02T10:00:00Z","messageId":"j3"}
{"type":"page","anonymousId":"b2","timestamp":"2024-12-31T10:00:00Z","messageId":"j4"}
{"type":"identify","anonymousId":"b2","userId":"u1","traits":{"email":"jane@example.com","lastName":"Doe"},"timestamp":"2025-01-03T10:00:00Z","messageId":"j5"}
{"type":"track","userId":"u1","event":"Unsubscribed","timestamp":"2025-02-01T10:00:00Z","messageId":"j6","context":{"consent":{"purposes":{"email_marketing":{"status":"withdrawn","proof":"unsub-9"}}}}}
{"type":"identify","userId":"u2","traits":{"email":"bob@example.org","firstName":"Bob"},"timestamp":"2025-02-01T09:00:00Z","messageId":"b1","context":{"consent":{"purposes":{"sms_marketing":{"status":"granted","proof":"bob-proof"}}}}}
{"type":"track","userId":"u2","event":"Order Completed","properties":{"order_id":"o2","total":10},"timestamp":"2025-02-02T09:00:00Z","messageId":"b2"}
{"type":"identify","userId":"u3","traits":{"email":"carol@example.net"},"timestamp":"2025-02-03T09:00:00Z","messageId":"c1"}
{"type":"track","userId":"u1","event":"Signed Up","timestamp":"2024-06-01T00:00:00Z","messageId":"j0"}
X

run cdp-ingest --country FR --source web --now "$NOW" "$T/events.ndjson"
check "ingest exits 0" test "$status" -eq 0
check "one merge" grep -q '1 merges' "$err"
run cdp-segment --now "$NOW" --save vip 'true' --count
check "segment saved" test "$status" -eq 0

jane=$("$CDP_BIN/cdp-export" --now "$NOW" --lookup user:u1 | jq -r .id)
bob=$("$CDP_BIN/cdp-export" --now "$NOW" --lookup user:u2 | jq -r .id)
check "jane and bob have profiles" test -n "$jane" -a -n "$bob" -a "$jane" != "$bob"

# ---- the document, found by e-mail ----
run cdp-export --now "$NOW" --subject email:Jane@Example.COM
check "subject by e-mail: exit 0" test "$status" -eq 0
check "subject by e-mail: nothing on stderr" test ! -s "$err"
cp "$out" "$T/by_email"
check_eq "one document on one line" "$(wc -l <"$T/by_email" | tr -d ' ')" 1
d() { jq -c "$1" "$T/by_email"; }
check_eq "members, in order" "$(d keys_unsorted)" \
    '["subject","exported_at","profile","identifiers","events","trait_history","consent_records","merge_log","segments"]'
check_eq "subject as given" "$(d .subject)" '"email:Jane@Example.COM"'
check_eq "exported_at is --now" "$(d .exported_at)" '"2025-03-01T00:00:00.000Z"'

# profile: exactly what --lookup writes, consent included.
"$CDP_BIN/cdp-export" --now "$NOW" --lookup user:u1 | jq -cS . >"$T/lookup"
d .profile | jq -cS . >"$T/profile"
check "profile is the --lookup object" cmp -s "$T/lookup" "$T/profile"
check_eq "profile id" "$(d .profile.id)" "\"$jane\""
check_eq "profile consent as of --now" "$(d .profile.consent)" \
    '{"email_marketing":{"granted":false,"status":"withdrawn","time":"2025-02-01T10:00:00.000Z","source":"web"}}'
check_eq "identifiers" "$(d .identifiers)" \
    '["anon:a1","anon:b2","email:jane@example.com","phone:+33612345678","user:u1"]'
check_eq "identifiers agree with the profile" "$(d '.identifiers == .profile.identifiers')" true

# events: all of them, in time order, as --events gives them.
check_eq "events count is computed.events_count" "$(d '(.events|length) == .profile.computed.events_count')" true
check_eq "seven events" "$(d '.events|length')" 7
check_eq "events in time order" "$(d '[.events[].messageId]|join(" ")')" '"j0 j4 j1 j2 j3 j5 j6"'
"$CDP_BIN/cdp-export" --now "$NOW" --lookup user:u1 --events | jq -c .events >"$T/ev_lookup"
d .events >"$T/ev_subject"
check "events are those of --events" cmp -s "$T/ev_lookup" "$T/ev_subject"

# trait_history: value, time and source of each trait.
check_eq "trait names" "$(d '.trait_history|keys_unsorted')" '["email","firstName","lastName","phone"]'
check_eq "trait values agree with the profile" \
    "$(d '(.trait_history|with_entries(.value |= .value)) == .profile.traits')" true
check_eq "email trait: latest time and source" "$(d .trait_history.email)" \
    '{"value":"jane@example.com","time":"2025-01-03T10:00:00.000Z","source":"web"}'
check_eq "firstName trait" "$(d .trait_history.firstName)" \
    '{"value":"Jane","time":"2025-01-01T10:06:00.000Z","source":"web"}'

# consent_records: both records of the ledger, with their proof.
check_eq "two consent records" "$(d '.consent_records|length')" 2
check_eq "grant then withdrawal" "$(d '[.consent_records[]|.status]')" '["granted","withdrawn"]'
check_eq "proofs" "$(d '[.consent_records[]|.proof]')" '["form-1","unsub-9"]'
check_eq "grant record complete" "$(d '.consent_records[0]')" \
    '{"purpose":"email_marketing","status":"granted","time":"2025-01-01T10:06:00.000Z","expires":null,"channel":null,"source":"web","proof":"form-1","recorded":"2025-03-01T00:00:00.000Z"}'

# merge_log: the merge (under her id of the time) and the rename to her id now.
check_eq "merge log: merge then rename" "$(d '[.merge_log[].action]')" '["merge","rename"]'
check_eq "merge log names the id" "$(d ".merge_log[-1].to")" "\"$jane\""
check_eq "the merge is the one her profile won before the rename" \
    "$(d '.merge_log[0].winner == .merge_log[1].from')" true
check_eq "the merge folded in the anonymous profile" \
    "$(d '.merge_log[0].winner_identifiers + .merge_log[0].loser_identifiers|sort|index("anon:b2") != null')" true
check_eq "merge log in sequence order" "$(d '[.merge_log[].seq]')" '[1,2]'

# segments.
check_eq "segments" "$(d .segments)" '[{"name":"vip","entered_at":"2025-03-01T00:00:00.000Z"}]'

# Nothing of the others.
check "no other person's e-mail" sh -c "! grep -qi -e bob -e carol '$T/by_email'"
check "no other person's id" sh -c "! grep -q '$bob' '$T/by_email'"
check "no other person's events" sh -c "! jq -e '.events[]|select(.userId != null and .userId != \"u1\")' '$T/by_email' >/dev/null"
check "no other person's consent" sh -c "! grep -q bob-proof '$T/by_email'"

# ---- the same document, found by phone and by profile id ----
run cdp-export --now "$NOW" --country FR --subject 'phone:06 12 34 56 78'
check "subject by national phone: exit 0" test "$status" -eq 0
check_eq "by phone: the same document" "$(jq -cS 'del(.subject)' "$out")" "$(jq -cS 'del(.subject)' "$T/by_email")"
run cdp-export --now "$NOW" --subject 'phone:+33 6 12 34 56 78'
check_eq "by international phone: the same document" "$(jq -cS 'del(.subject)' "$out")" "$(jq -cS 'del(.subject)' "$T/by_email")"
run cdp-export --now "$NOW" --subject "$jane"
check "subject by profile id: exit 0" test "$status" -eq 0
check_eq "by profile id: the same document" "$(jq -cS 'del(.subject)' "$out")" "$(jq -cS 'del(.subject)' "$T/by_email")"
check_eq "by profile id: subject as given" "$(jq -r .subject "$out")" "$jane"
run cdp-export --now "$NOW" --subject "id:$jane" -o "$T/by_id"
check "subject with id: prefix, to a file" test "$status" -eq 0 -a ! -s "$out"
check_eq "by id: prefix: the same document" "$(jq -cS 'del(.subject)' "$T/by_id")" "$(jq -cS 'del(.subject)' "$T/by_email")"

# Bob's document holds Bob's data and not Jane's.
run cdp-export --now "$NOW" --subject user:u2
check_eq "bob: his consent record" "$(jq -c '[.consent_records[]|.proof]' "$out")" '["bob-proof"]'
check_eq "bob: no merge log" "$(jq -c .merge_log "$out")" '[]'
check_eq "bob: two events" "$(jq -c '.events|length' "$out")" 2
check "bob: nothing of jane" sh -c "! grep -qi -e jane -e '$jane' '$out'"

# Not found, and usage errors.
run cdp-export --now "$NOW" --subject email:nobody@example.com
check "unknown subject: exit 1" test "$status" -eq 1
check "unknown subject: message" err_line "cdp-export: no profile holds email:nobody@example.com"
check "unknown subject: nothing written" test ! -s "$out"
run cdp-export --subject email:not-an-address
check "invalid e-mail: exit 1" test "$status" -eq 1
run cdp-export --subject nocolon
check "neither identifier nor id: exit 2" test "$status" -eq 2
run cdp-export --subject user:u1 --lookup user:u1
check "--subject with --lookup: exit 2" test "$status" -eq 2
run cdp-export --subject user:u1 -f csv
check "--subject with csv: exit 2" test "$status" -eq 2
run cdp-export --subject user:u1 --events
check "--subject with --events: exit 2" test "$status" -eq 2
run cdp-export -d "$T/nowhere" --subject user:u1
check "missing store: exit 1" test "$status" -eq 1
check "missing store: message" grep -q "no store at '$T/nowhere'" "$err"
check "missing store: not created" test ! -e "$T/nowhere"

# ---- the audit trail ----
if command -v mdb_dump >/dev/null 2>&1; then
    audit() {
        mdb_dump -p -s audit "${1:-$CDP_DB}" | sed -n 's/^ {/{/p'
    }
    before=$(audit | wc -l | tr -d ' ')
    check "the exports above were audited" test "$before" -ge 7
    run cdp-export --now "$NOW"
    check "full export: exit 0" test "$status" -eq 0
    run cdp-export --now "$NOW" -f csv -o "$T/all.csv"
    run cdp-export --now "$NOW" --lookup email:jane@example.com
    run cdp-export --now "$NOW" --lookup user:u2 --events
    run cdp-export --now "$NOW" --subject email:Jane@Example.COM
    run cdp-export --now "$NOW" --country FR --subject='phone:06 12 34 56 78'
    run cdp-export --now "$NOW" --subject "$jane"
    # Failures append nothing.
    run cdp-export --now "$NOW" --lookup email:nobody@example.com
    check "failed lookup: exit 1" test "$status" -eq 1
    run cdp-export --now "$NOW" --subject email:nobody@example.com
    run cdp-export --now "$NOW" --subject user:u1 --lookup user:u1
    "$CDP_BIN/cdp-export" --now "$NOW" --subject user:u1 >/dev/full 2>"$err"
    status=$?
    check "subject to a full disk: exit 1" test "$status" -eq 1
    "$CDP_BIN/cdp-export" --now "$NOW" >/dev/full 2>"$err"
    status=$?
    check "export to a full disk: exit 1" test "$status" -eq 1
    audit | tail -n +"$((before + 1))" >"$T/audit"
    check_eq "seven exports, seven audit lines" "$(wc -l <"$T/audit" | tr -d ' ')" 7
    a() { sed -n "${1}p" "$T/audit" | jq -c "$2"; }
    check_eq "sequence numbers follow" "$(jq -s -c '[.[].seq] == [range(.[0].seq; .[0].seq + 7)]' "$T/audit")" true
    check_eq "each names cdp-export" "$(jq -s -c 'all(.[]; .command[0] | endswith("cdp-export"))' "$T/audit")" true
    check_eq "each at --now" "$(jq -s -c '[.[].time]|unique' "$T/audit")" '["2025-03-01T00:00:00.000Z"]'
    check_eq "no purposes" "$(jq -s -c '[.[].purposes]|unique' "$T/audit")" '[null]'
    # The command is kept with its options; an argument that may name a
    # person is the identifier as stored, or "[identifier]" (cdp_audit_append
    # keeps it so); the line names the profile instead.
    check_eq "full export: its command" "$(a 1 '[.command[1], .command[3:]]')" '["--now",[]]'
    check_eq "full export: three profiles, no profile member" "$(a 1 '[.count, has("profile"), has("subject")]')" '[3,false,false]'
    check_eq "csv export: its command" "$(a 2 '.command[3:]')" '["-f","csv","-o","'"$T/all.csv"'"]'
    check_eq "csv export: three profiles" "$(a 2 .count)" 3
    check_eq "lookup: its option, count and profile" "$(a 3 '[.command[-2], .count, .profile]')" "[\"--lookup\",1,\"$jane\"]"
    check_eq "lookup: the identifier as stored, or kept out" \
        "$(a 3 '.command[-1] | IN("email:jane@example.com", "[identifier]")')" true
    check_eq "lookup: no subject member" "$(a 3 'has("subject")')" false
    check_eq "lookup with events: count and profile" "$(a 4 '[.command[-3], .count, .profile]')" "[\"--lookup\",1,\"$bob\"]"
    check_eq "subject by e-mail: line, identifier normalised" \
        "$(a 5 '[.command[-2], .count, .subject, .profile]')" \
        "[\"--subject\",1,\"email:jane@example.com\",\"$jane\"]"
    check_eq "subject by e-mail: argument as stored, or kept out" \
        "$(a 5 '.command[-1] | IN("email:jane@example.com", "[identifier]")')" true
    check_eq "subject by phone given with =: line, identifier normalised" \
        "$(a 6 '[.command[-1], .count, .subject, .profile]')" \
        "[\"--subject=phone:+33612345678\",1,\"phone:+33612345678\",\"$jane\"]"
    check_eq "subject by id: line" "$(a 7 '[.count, .subject, .profile]')" "[1,\"$jane\",\"$jane\"]"
    check_eq "no line is incomplete" "$(jq -s -c 'map(select(.incomplete))|length' "$T/audit")" 0
    check "the raw forms given are not in the trail" sh -c "! grep -q -e Jane@Example -e '06 12' '$T/audit'"

    # When cdp-consent can erase a person, the lines of these exports are
    # redacted with the rest (only checked when it is there).
    if [ -x "$CDP_BIN/cdp-consent" ] && "$CDP_BIN/cdp-consent" --help 2>/dev/null | grep -q -e '--forget'; then
        rm -rf "$T/erase"
        cp -r "$CDP_DB" "$T/erase"
        "$CDP_BIN/cdp-consent" -d "$T/erase" --now "$NOW" --forget user:u1 >/dev/null 2>&1
        audit "$T/erase" >"$T/erase.audit"
        check "after an erasure, no export line names jane" \
            sh -c "! grep -i -e jane -e '$jane' -e 33612345678 -e 'user:u1' '$T/erase.audit'"
    else
        echo "note: cdp-consent --forget is not there, the erasure check is skipped"
    fi

    # A reader that closes the pipe early: exit 0, and the profiles that left
    # are recorded, marked incomplete.
    awk 'BEGIN { for (i = 0; i < 3000; i++)
        printf "{\"type\":\"identify\",\"userId\":\"p%d\",\"traits\":{\"email\":\"p%d@example.com\"},\"timestamp\":\"2025-01-01T00:00:00Z\",\"messageId\":\"p-%d\"}\n", i, i, i }' \
        >"$T/many.ndjson"
    "$CDP_BIN/cdp-ingest" -q -d "$T/many" "$T/many.ndjson"
    ({ "$CDP_BIN/cdp-export" -d "$T/many" --now "$NOW" 2>"$T/pipe.err"; echo $? >"$T/pipe.status"; } |
        head -n 1 >/dev/null)
    check_eq "closed pipe: exit 0" "$(cat "$T/pipe.status")" 0
    check "closed pipe: quiet" test ! -s "$T/pipe.err"
    audit "$T/many" >"$T/many.audit"
    check_eq "closed pipe: one audit line" "$(wc -l <"$T/many.audit" | tr -d ' ')" 1
    check_eq "closed pipe: marked incomplete" "$(jq -c .incomplete "$T/many.audit")" true
    check_eq "closed pipe: some profiles, not all" "$(jq -c '.count > 0 and .count < 3000' "$T/many.audit")" true
    run cdp-export -d "$T/many" --now "$NOW" -o /dev/null
    check_eq "complete export of the big store: count" "$(audit "$T/many" | tail -n 1 | jq -c '[.count, has("incomplete")]')" '[3000,false]'

    # A store that cannot be written to: nothing is exported (as root,
    # permissions do not stop the writer, so this is skipped).
    if [ "$(id -u)" != 0 ]; then
        chmod a-w "$CDP_DB/data.mdb"
        n=$(audit | wc -l | tr -d ' ')
        run cdp-export --now "$NOW" --subject user:u1
        check "read-only store: exit 1" test "$status" -eq 1
        check "read-only store: nothing exported" test ! -s "$out"
        check "read-only store: says why" err_starts "cdp-export: store '$CDP_DB' is not writable"
        chmod u+w "$CDP_DB/data.mdb"
        check_eq "read-only store: no audit line" "$(audit | wc -l | tr -d ' ')" "$n"
    else
        echo "note: running as root, the read-only store check is skipped"
    fi
else
    echo "note: mdb_dump (lmdb-utils) is not installed, the audit checks are skipped"
fi

finish
