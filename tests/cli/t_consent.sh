#!/bin/sh
# cdp-consent end to end, on stores built here: the ledger's time order
# (records imported out of order, expiry, ties), re-imports that add
# nothing, CSV and NDJSON imports and their rejects, consent carried by
# events, consent through merges, the consent object of cdp-export and
# cdp-segment, --require in pipelines, --object, the purpose vocabulary,
# and --forget: every trace of a person gone from the data file (the event
# dictionary included), the other profiles untouched, her events kept out.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1

# Every run takes the same "now", so that no answer depends on the day the
# test runs.
NOW=2025-06-30T00:00:00Z
NOWMS=2025-06-30T00:00:00.000Z

# con ARGS...: cdp-consent at the fixed now (through run: $out, $err, $status).
con() {
    run cdp-consent --now "$NOW" "$@"
}

# True when the last run exited 0 and wrote nothing on stderr.
quiet_ok() {
    test "$status" -eq 0 && test ! -s "$err"
}

# True when the last run wrote nothing on stdout.
no_output() {
    test ! -s "$out"
}

# pid ID [DB]: the profile id of the profile that holds identifier ID.
pid() {
    "$CDP_BIN/cdp-export" --now "$NOW" -d "${2:-$CDP_DB}" --lookup "$1" 2>/dev/null | jq -r .id
}

# status_of ID PURPOSE [TIME] [DB]: the status of a purpose in --status as of TIME.
status_of() {
    "$CDP_BIN/cdp-consent" --now "${3:-$NOW}" -d "${4:-$CDP_DB}" --status "$1" 2>/dev/null |
        jq -r --arg p "$2" '.consent[$p].status // "absent"'
}

# records_of ID [DB]: how many ledger records --status lists.
records_of() {
    "$CDP_BIN/cdp-consent" --now "$NOW" -d "${2:-$CDP_DB}" --status "$1" 2>/dev/null |
        jq '.records | length'
}

# ids_of FILE: the sorted ids of a file of profile objects.
ids_of() {
    jq -r .id "$1" | sort
}

# ids VAR...: the values of the variables named, sorted.
ids() {
    for v in "$@"; do
        eval "printf '%s\\n' \"\$$v\""
    done | sort
}

# hits FILE STRING: how many lines of the (binary) file hold STRING.
hits() {
    grep -c -a -F -- "$2" "$1"
}

# ---------------------------------------------------------------------------
# Usage errors: checked before any store is opened.
run cdp-consent --now "$NOW"
check "no mode: exit 2" test "$status" -eq 2
check "no mode: message" err_line "cdp-consent: no mode given (--import, --require, --status, ...)"
check "no mode: try --help" err_line "Try 'cdp-consent --help' for more information."
check "no mode: nothing on stdout" no_output
con --status user:ann --audit
check "two modes: exit 2" test "$status" -eq 2
check "two modes: message" err_starts "cdp-consent: one mode at a time (--import, --require, --status,"
con --import --forget user:ann
check "--import with --forget: exit 2" test "$status" -eq 2
check "--import with --forget: message" err_starts "cdp-consent: one mode at a time ("
con --purposes --purposes
check "the same mode twice: exit 2" test "$status" -eq 2
con --status user:ann extra
check "--status with an operand: exit 2" test "$status" -eq 2
check "--status with an operand: message" err_line "cdp-consent: unexpected argument 'extra'"
con --import --delimiter ';;'
check "--delimiter of two characters: exit 2" test "$status" -eq 2
con --no-such-option
check "unknown option: exit 2" test "$status" -eq 2
check "unknown option: message" err_starts "cdp-consent: unknown option"
run cdp-consent --help
check "--help: exit 0, nothing on stderr" quiet_ok
check "--help: usage on stdout" grep -q '^Usage: cdp-consent --import' "$out"
con -d "$T/nowhere" --status user:ann
check "missing store: exit 1" test "$status" -eq 1
check "missing store: names it" err_starts "cdp-consent: no store at '$T/nowhere'"
check "missing store: not created" test ! -e "$T/nowhere"

# ---------------------------------------------------------------------------
# The ledger store: four people from events, then consent records.
cat >people.ndjson <<'X'
{"type":"identify","userId":"ann","traits":{"email":"ann@example.com","firstName":"Ann","plan":"pro"},"timestamp":"2024-12-01T09:00:00Z","messageId":"a1"}
{"type":"identify","userId":"kim","traits":{"email":"kim@example.com","plan":"pro"},"timestamp":"2024-12-02T09:00:00Z","messageId":"k1"}
{"type":"identify","userId":"sam","traits":{"email":"sam@example.com","plan":"free"},"timestamp":"2024-12-03T09:00:00Z","messageId":"s1"}
{"type":"identify","userId":"eve","traits":{"email":"eve@example.com","plan":"pro"},"timestamp":"2024-12-04T09:00:00Z","messageId":"e1"}
X
run cdp-ingest --now "$NOW" people.ndjson
check "people: exit 0" test "$status" -eq 0

# The records, in an order that is not time order: ann's withdrawal (March)
# comes before her grant (January).  kim: an SMS grant that expired on
# 2025-01-01, a grant and a refusal of analytics at the same instant, an
# e-mail grant in force until 2026 (found by "identifier").  eve: an e-mail
# grant that expired.  theo: a person the store has never seen.
cat >ledger.ndjson <<'X'
{"email":"ann@example.com","purpose":"email_marketing","status":"withdrawn","time":"2025-03-01T00:00:00Z"}
{"email":"ann@example.com","purpose":"email_marketing","status":"granted","time":"2025-01-10T00:00:00Z","channel":"web","proof":"signup-form"}
{"userId":"ann","purpose":"analytics","status":"granted","time":"2025-01-10T00:00:00Z"}
{"userId":"kim","purpose":"sms_marketing","status":"granted","time":"2024-01-01T00:00:00Z","expires":"2025-01-01T00:00:00Z","channel":"sms"}
{"userId":"kim","purpose":"analytics","status":"granted","time":"2025-04-01T12:00:00Z","proof":"banner-v2"}
{"userId":"kim","purpose":"analytics","status":"denied","time":"2025-04-01T12:00:00Z","proof":"banner-v2"}
{"identifier":"user:kim","purpose":"email_marketing","status":true,"time":"2025-05-01T00:00:00Z","expires":"2026-01-01T00:00:00Z"}
{"email":"eve@example.com","purpose":"email_marketing","status":"yes","time":"2024-01-01T00:00:00Z","expires":"2025-01-01T00:00:00Z"}
{"email":"Theo@Example.FR","purpose":"analytics","status":"opt-in","time":"2025-05-21T00:00:00Z"}
X
con --import ledger.ndjson
check "ledger import: exit 0" test "$status" -eq 0
check_eq "ledger import: summary" "$(cat "$err")" "cdp-consent: 9 read, 9 records, 0 duplicates, 0 dropped as erased, 0 rejected, 0 warnings"
check "ledger import: nothing on stdout" no_output
# (A profile is named after its earliest event: eve's record of 2024-01-01,
# found by e-mail, renames her profile; so the ids are read now.)
id_ann=$(pid user:ann)
id_kim=$(pid user:kim)
id_sam=$(pid user:sam)
id_eve=$(pid user:eve)
check_eq "eve's earlier record renamed her profile after her e-mail" "$id_eve" \
    "$("$CDP_BIN/cdp-export" --now "$NOW" --lookup email:eve@example.com | jq -r .id)"
id_theo=$(pid email:theo@example.fr)
check "a record for an unknown person creates a profile" test -n "$id_theo"
check_eq "the new profile holds the normalised e-mail" \
    "$("$CDP_BIN/cdp-export" --now "$NOW" --lookup "$id_theo" | jq -c .identifiers)" '["email:theo@example.fr"]'

# ann as of now (June): withdrawn; the whole --status line.
con --status email:ann@example.com
check "--status: exit 0, nothing on stderr" quiet_ok
check_eq "--status of ann as of June: exact" "$(cat "$out")" \
    "{\"id\":\"$id_ann\",\"as_of\":\"$NOWMS\",\"consent\":{\"analytics\":{\"granted\":true,\"status\":\"granted\",\"time\":\"2025-01-10T00:00:00.000Z\",\"source\":\"consent\"},\"email_marketing\":{\"granted\":false,\"status\":\"withdrawn\",\"time\":\"2025-03-01T00:00:00.000Z\",\"source\":\"consent\"}},\"records\":[{\"purpose\":\"analytics\",\"status\":\"granted\",\"time\":\"2025-01-10T00:00:00.000Z\",\"source\":\"consent\",\"recorded\":\"$NOWMS\"},{\"purpose\":\"email_marketing\",\"status\":\"granted\",\"time\":\"2025-01-10T00:00:00.000Z\",\"channel\":\"web\",\"source\":\"consent\",\"proof\":\"signup-form\",\"recorded\":\"$NOWMS\"},{\"purpose\":\"email_marketing\",\"status\":\"withdrawn\",\"time\":\"2025-03-01T00:00:00.000Z\",\"source\":\"consent\",\"recorded\":\"$NOWMS\"}]}"
run cdp-consent --now 2025-02-01T00:00:00Z --status user:ann
check_eq "ann as of February: granted, by the January record" \
    "$(jq -c '[.as_of, .consent.email_marketing]' "$out")" \
    '["2025-02-01T00:00:00.000Z",{"granted":true,"status":"granted","time":"2025-01-10T00:00:00.000Z","source":"consent"}]'
check_eq "ann as of the withdrawal's instant: withdrawn" \
    "$(status_of user:ann email_marketing 2025-03-01T00:00:00Z)" withdrawn
check_eq "ann a millisecond before it: granted" \
    "$(status_of user:ann email_marketing 2025-02-28T23:59:59.999Z)" granted
run cdp-consent --now 2025-01-01T00:00:00Z --status user:ann
check_eq "ann before any record: no record" "$(jq -c .consent.email_marketing "$out")" \
    '{"granted":false,"status":"no record","time":null,"source":""}'
check_eq "--status by profile id" "$(status_of "$id_ann" email_marketing)" withdrawn

# The same file again, later: nothing new.
run cdp-consent --now 2025-07-01T00:00:00Z --import ledger.ndjson
check "re-import: exit 0" test "$status" -eq 0
check_eq "re-import: no records, nine duplicates" "$(cat "$err")" \
    "cdp-consent: 9 read, 0 records, 9 duplicates, 0 dropped as erased, 0 rejected, 0 warnings"
check_eq "re-import: ann still has three records" "$(records_of user:ann)" 3
check_eq "re-import: kim still has four records" "$(records_of user:kim)" 4
check_eq "re-import: the records keep the time they were first written" \
    "$("$CDP_BIN/cdp-consent" --now "$NOW" --status user:ann | jq -r '[.records[].recorded] | unique | .[]')" "$NOWMS"
# The same record carried by two other events (new message ids, same
# content): the record hash keeps it once.
printf '%s\n' \
    '{"type":"identify","userId":"kim","context":{"consent":{"purposes":{"analytics":{"status":"denied","proof":"banner-v2"}}}},"timestamp":"2025-04-01T12:00:00Z","messageId":"again-1"}' \
    '{"type":"identify","userId":"kim","context":{"consent":{"purposes":{"analytics":{"status":"refused","proof":"banner-v2"}}}},"timestamp":"2025-04-01T12:00:00Z","messageId":"again-2"}' >again.ndjson
con --import again.ndjson
check "the same record in new events: exit 0" test "$status" -eq 0
check_eq "the same record in new events: still four records for kim" "$(records_of user:kim)" 4

# Expiry and ties.
con --status user:kim
check_eq "kim: the whole consent object" "$(jq -c .consent "$out")" \
    '{"analytics":{"granted":false,"status":"denied","time":"2025-04-01T12:00:00.000Z","source":"consent"},"email_marketing":{"granted":true,"status":"granted","time":"2025-05-01T00:00:00.000Z","source":"consent"},"sms_marketing":{"granted":false,"status":"expired","time":null,"source":""}}'
check_eq "kim: the expiring records keep their expiry and channel" \
    "$(jq -c '[.records[] | select(.expires) | [.purpose, .expires, .channel]]' "$out")" \
    '[["email_marketing","2026-01-01T00:00:00.000Z",null],["sms_marketing","2025-01-01T00:00:00.000Z","sms"]]'
check_eq "kim: the grant before it expired" "$(status_of user:kim sms_marketing 2024-06-01T00:00:00Z)" granted
check_eq "kim: expired at the very instant of expiry" "$(status_of user:kim sms_marketing 2025-01-01T00:00:00Z)" expired
check_eq "kim: a grant and a refusal at the same time: denied" "$(status_of user:kim analytics)" denied
check_eq "kim: the tie stays denied later" "$(status_of user:kim analytics 2025-12-31T00:00:00Z)" denied
check_eq "kim: the e-mail grant lapses in 2026" "$(status_of user:kim email_marketing 2026-02-01T00:00:00Z)" expired
check_eq "eve: expired" "$(status_of user:eve email_marketing)" expired
check_eq "sam: no purpose in the consent object" "$("$CDP_BIN/cdp-consent" --now "$NOW" --status user:sam | jq -c '[.consent, .records]')" '[{},[]]'
con --status email:nobody@example.com
check "--status of an unknown person: exit 1" test "$status" -eq 1
check "--status of an unknown person: message" err_line "cdp-consent: no profile holds email:nobody@example.com"
check "--status of an unknown person: nothing on stdout" no_output
con --status nonsense
check "--status of something that is not an identifier: exit 2" test "$status" -eq 2

# ---------------------------------------------------------------------------
# NDJSON records that cannot be used: each rejected with its line number,
# the others land.
cat >bad.ndjson <<'X'
{"email":"ok1@example.com","purpose":"analytics","status":"yes","time":"2025-05-01T00:00:00Z"}
{"email":"x@example.com","purpose":"newsletter","status":"granted","time":"2025-05-01T00:00:00Z"}
{"email":"x@example.com","purpose":"analytics","status":"granted"}

{"email":"x@example.com","purpose":"analytics","status":"maybe","time":"2025-05-01T00:00:00Z"}
{"email":"x@example.com","status":"granted","time":"2025-05-01T00:00:00Z"}
not json
{"email":"ok2@example.com","purpose":"profiling","status":false,"time":"2025-05-02T00:00:00Z"}
{"purpose":"profiling","status":"granted","time":"2025-05-02T00:00:00Z"}
{"email":"x@example.com","purpose":"analytics","status":"granted","time":"garbage"}
X
con --import bad.ndjson
check "rejects: exit 3" test "$status" -eq 3
check "rejects: unknown purpose" err_line "cdp-consent: bad.ndjson:2: unknown purpose 'newsletter' (see cdp-consent --purposes)"
check "rejects: no time" err_line "cdp-consent: bad.ndjson:3: no time: a record needs the time the person gave it"
check "rejects: bad status" err_line "cdp-consent: bad.ndjson:5: no status, or not granted, denied or withdrawn"
check "rejects: no purpose" err_line "cdp-consent: bad.ndjson:6: no purpose"
check "rejects: not JSON" err_starts "cdp-consent: bad.ndjson:7: "
check "rejects: no identifier" err_line "cdp-consent: bad.ndjson:9: no identifier (userId, anonymousId, e-mail or phone)"
check "rejects: bad time" err_line "cdp-consent: bad.ndjson:10: unparseable timestamp \"garbage\""
check_eq "rejects: one line per reject and the summary" "$(wc -l <"$err" | tr -d ' ')" 8
check "rejects: the summary counts every line read" \
    err_line "cdp-consent: 9 read, 2 records, 0 duplicates, 0 dropped as erased, 7 rejected, 0 warnings"
check_eq "rejects: the good records land (ok1)" "$(status_of email:ok1@example.com analytics)" granted
check_eq "rejects: the good records land (ok2, status false)" "$(status_of email:ok2@example.com profiling)" denied
check_eq "rejects: no profile for the rejected person" "$(pid email:x@example.com)" ""
id_ok1=$(pid email:ok1@example.com)
id_ok2=$(pid email:ok2@example.com)

# ---------------------------------------------------------------------------
# CSV from a French CRM: ';', dd/mm/yyyy, oui/non, a BOM and CRLF.
printf '\357\273\277E-mail;Optin e-mail;Date\r\nmarie@example.fr;oui;15/03/2025\r\npaul@example.fr;non;02/04/2025\r\nTheo@Example.FR;Oui;20/05/2025\r\nnina@example.fr;;21/05/2025\r\nremi@example.fr;peut-etre;22/05/2025\r\nzoe@example.fr;oui;31/13/2025\r\nlucie@example.fr;retir\303\251;20/01/2025\r\n' >crm.csv
con --import --delimiter ';' --date-format '%d/%m/%Y' --map 'consent.email_marketing=Optin e-mail,timestamp=Date' crm.csv
check "CSV: exit 3 (one bad date)" test "$status" -eq 3
check_eq "CSV: diagnostics and summary" "$(cat "$err")" \
    "cdp-consent: crm.csv:6: warning: consent for 'email_marketing' ignored: unreadable status or expiry
cdp-consent: crm.csv:7: unparseable timestamp \"31/13/2025\"
cdp-consent: 7 read, 4 records, 0 duplicates, 0 dropped as erased, 1 rejected, 1 warnings"
run cdp-consent --now "$NOW" --status email:marie@example.fr
check_eq "CSV: oui is granted, at the row's date" "$(jq -c .consent "$out")" \
    '{"email_marketing":{"granted":true,"status":"granted","time":"2025-03-15T00:00:00.000Z","source":"consent"}}'
check_eq "CSV: non is denied, at the row's date" \
    "$("$CDP_BIN/cdp-consent" --now "$NOW" --status email:paul@example.fr | jq -c '[.consent.email_marketing.status, .consent.email_marketing.time]')" \
    '["denied","2025-04-02T00:00:00.000Z"]'
check_eq "CSV: retiré is withdrawn" "$(status_of email:lucie@example.fr email_marketing)" withdrawn
check_eq "CSV: Oui reaches the profile the ledger created (theo)" "$(pid email:theo@example.fr)" "$id_theo"
check_eq "CSV: theo has both purposes" \
    "$("$CDP_BIN/cdp-consent" --now "$NOW" --status email:theo@example.fr | jq -c '[.consent[] | .status]')" '["granted","granted"]'
check_eq "CSV: an empty cell records nothing" "$(records_of email:nina@example.fr)" 0
check_eq "CSV: an unreadable cell records nothing" "$(records_of email:remi@example.fr)" 0
check_eq "CSV: the rejected row creates no profile" "$(pid email:zoe@example.fr)" ""
id_marie=$(pid email:marie@example.fr)
id_paul=$(pid email:paul@example.fr)
id_nina=$(pid email:nina@example.fr)
id_remi=$(pid email:remi@example.fr)
id_lucie=$(pid email:lucie@example.fr)
con --import --delimiter ';' --map 'consent.newsletter=Optin e-mail,timestamp=Date' crm.csv
check "CSV: an unknown purpose in --map: exit 2" test "$status" -eq 2
check "CSV: an unknown purpose in --map: message" \
    err_line "cdp-consent: --map: unknown purpose 'newsletter' (see cdp-consent --purposes)"
check_eq "CSV: an unknown purpose in --map: nothing read" "$(err_count 'cdp-consent: ')" 1
con --import --delimiter ';' --map 'consent.email_marketing.expires=Optin e-mail,consent.ads=Date' crm.csv
check "CSV: an unknown purpose after a known one: exit 2" test "$status" -eq 2
check "CSV: an unknown purpose after a known one: message" \
    err_line "cdp-consent: --map: unknown purpose 'ads' (see cdp-consent --purposes)"

# ---------------------------------------------------------------------------
# The consent object in cdp-export, and consent.PURPOSE in cdp-segment.
"$CDP_BIN/cdp-export" --now "$NOW" >L.export
check_eq "twelve profiles" "$(wc -l <L.export | tr -d ' ')" 12
check_eq "export: ann's consent object is --status's" \
    "$(jq -c "select(.id == \"$id_ann\") | .consent" L.export)" \
    "$("$CDP_BIN/cdp-consent" --now "$NOW" --status user:ann | jq -c .consent)"
check_eq "export: kim's consent, as of now" "$(jq -c "select(.id == \"$id_kim\") | .consent | map_values(.status)" L.export)" \
    '{"analytics":"denied","email_marketing":"granted","sms_marketing":"expired"}'
check_eq "export: a profile without records has an empty consent object" \
    "$(jq -c "select(.id == \"$id_sam\") | .consent" L.export)" '{}'
check_eq "export: consent as of an earlier --now" \
    "$("$CDP_BIN/cdp-export" --now 2024-06-01T00:00:00Z --lookup user:kim | jq -c '.consent | map_values(.status)')" \
    '{"analytics":"no record","email_marketing":"no record","sms_marketing":"granted"}'

run cdp-segment --now "$NOW" --ids 'consent.email_marketing'
check_eq "segment: consent.email_marketing" "$(cat "$out")" "$(ids id_kim id_marie id_theo)"
check "segment: exit 0, nothing on stderr" quiet_ok
run cdp-segment --now "$NOW" --count 'not consent.email_marketing'
check_eq "segment: not consent.email_marketing" "$(cat "$out")" 9
run cdp-segment --now "$NOW" --ids "consent.email_marketing and traits.plan = 'pro'"
check_eq "segment: consent and a trait" "$(cat "$out")" "$id_kim"
run cdp-segment --now "$NOW" --ids 'consent.analytics'
check_eq "segment: consent.analytics (a tie is no consent)" "$(cat "$out")" "$(ids id_ann id_ok1 id_theo)"
run cdp-segment --now 2025-02-01T00:00:00Z --ids 'consent.email_marketing'
check_eq "segment: consent as of an earlier --now" "$(cat "$out")" "$id_ann"
run cdp-segment --now "$NOW" --stdin --ids 'consent.email_marketing' <L.export
check_eq "segment --stdin: the export's consent object" "$(cat "$out")" "$(ids id_kim id_marie id_theo)"
check "segment --stdin: exit 0, nothing on stderr" quiet_ok
"$CDP_BIN/cdp-export" --now "$NOW" | "$CDP_BIN/cdp-segment" --now "$NOW" --stdin --ids 'not consent.email_marketing' >pipe.ids 2>pipe.err
check_eq "cdp-export | cdp-segment --stdin: not consent" "$(cat pipe.ids)" \
    "$(ids id_ann id_sam id_eve id_paul id_nina id_remi id_lucie id_ok1 id_ok2)"
check "cdp-export | cdp-segment --stdin: nothing on stderr" test ! -s pipe.err

# ---------------------------------------------------------------------------
# --require.
"$CDP_BIN/cdp-export" --now "$NOW" | "$CDP_BIN/cdp-consent" --now "$NOW" --require email_marketing >req.out 2>req.err
echo $? >req.status
check_eq "--require in a pipeline: exit 0" "$(cat req.status)" 0
check_eq "--require: exactly the granted profiles" "$(ids_of req.out)" "$(ids id_kim id_marie id_theo)"
check_eq "--require: the summary" "$(cat req.err)" \
    "cdp-consent: 3 passed, 9 held back (5 no record, 1 denied, 2 withdrawn, 1 expired)"
grep -F -f req.out L.export >req.want
check "--require: the lines pass unchanged, in order" cmp -s req.out req.want

run cdp-consent --now "$NOW" --require email_marketing,analytics <L.export
check "--require two purposes: exit 0" test "$status" -eq 0
check_eq "--require two purposes: only theo has both" "$(ids_of "$out")" "$id_theo"
check_eq "--require two purposes: the summary (the first purpose that fails decides)" "$(cat "$err")" \
    "cdp-consent: 1 passed, 11 held back (6 no record, 2 denied, 2 withdrawn, 1 expired)"
run cdp-consent --now "$NOW" --require 'analytics, email_marketing' <L.export
check_eq "--require: blanks after the comma, other order" "$(ids_of "$out")" "$id_theo"
run cdp-consent --now 2025-02-01T00:00:00Z --require email_marketing <L.export
check_eq "--require as of February: ann" "$(ids_of "$out")" "$id_ann"
check_eq "--require as of February: the summary" "$(cat "$err")" \
    "cdp-consent: 1 passed, 11 held back (9 no record, 0 denied, 1 withdrawn, 1 expired)"
run cdp-consent --now "$NOW" -q --require email_marketing <L.export
check "--require -q: no summary" quiet_ok
check_eq "--require -q: the same profiles" "$(ids_of "$out")" "$(ids id_kim id_marie id_theo)"
run cdp-consent --now "$NOW" --require sms_marketing <L.export
check_eq "--require sms_marketing: expired kim held back" "$(cat "$err")" \
    "cdp-consent: 0 passed, 12 held back (11 no record, 0 denied, 0 withdrawn, 1 expired)"
check "--require sms_marketing: nothing passes" no_output

run cdp-consent --now "$NOW" --require newsletter <L.export
check "--require an unknown purpose: exit 2" test "$status" -eq 2
check "--require an unknown purpose: message" \
    err_line "cdp-consent: unknown purpose 'newsletter' (see cdp-consent --purposes)"
check "--require an unknown purpose: nothing on stdout" no_output
run cdp-consent --now "$NOW" --require Email_Marketing <L.export
check "--require a bad purpose name: exit 2" test "$status" -eq 2
check "--require a bad purpose name: message" \
    err_line "cdp-consent: 'Email_Marketing' is not a purpose name (a-z, 0-9, _)"

{
    grep -F "\"id\":\"$id_kim\"" L.export
    echo '{"name":"not a profile"}'
    echo '[1,2]'
    echo ''
    grep -F "\"id\":\"$id_ann\"" L.export
    echo '{"id":"zz"}'
    grep -F "\"id\":\"$id_marie\"" L.export
} >mixed.ndjson
run cdp-consent --now "$NOW" --require email_marketing <mixed.ndjson
check "--require, lines that are not profiles: exit 3" test "$status" -eq 3
check "--require, an object without an id: warning with the line" \
    err_line "cdp-consent: <stdin>:2: not a profile object with an id"
check "--require, an array: warning with the line" \
    err_line "cdp-consent: <stdin>:3: not a profile object with an id"
check "--require, a bad id: warning with the line" \
    err_line "cdp-consent: <stdin>:6: not a profile object with an id"
check "--require, lines that are not profiles: the summary" \
    err_line "cdp-consent: 2 passed, 1 held back (0 no record, 0 denied, 1 withdrawn, 0 expired)"
check_eq "--require, lines that are not profiles: the profiles still pass" "$(ids_of "$out")" "$(ids id_kim id_marie)"

# cdp-segment | cdp-consent --require | wc -l
n=$("$CDP_BIN/cdp-segment" --now "$NOW" "traits.plan = 'pro'" |
    "$CDP_BIN/cdp-consent" --now "$NOW" --require email_marketing 2>pipe.err | wc -l | tr -d ' ')
check_eq "cdp-segment | cdp-consent --require | wc -l" "$n" 1
check_eq "cdp-segment | cdp-consent --require: the summary" "$(cat pipe.err)" \
    "cdp-consent: 1 passed, 2 held back (0 no record, 0 denied, 1 withdrawn, 1 expired)"

# ---------------------------------------------------------------------------
# --object: an objection withdraws the marketing purposes, now.
con --object email:sam@example.com
check "--object: exit 0, nothing on stderr" quiet_ok
check_eq "--object: the answer" "$(cat "$out")" \
    "{\"id\":\"$id_sam\",\"action\":\"objection\",\"withdrawn\":[\"email_marketing\",\"sms_marketing\",\"ads_personalization\",\"profiling\"]}"
run cdp-consent --now "$NOW" --status user:sam
check_eq "--object: four withdrawals in --status" \
    "$(jq -c '.consent | map_values(.status)' "$out")" \
    '{"ads_personalization":"withdrawn","email_marketing":"withdrawn","profiling":"withdrawn","sms_marketing":"withdrawn"}'
check_eq "--object: records at now, with the objection as proof" \
    "$(jq -r '.records[] | [.purpose, .status, .time, .proof] | @tsv' "$out" | sort -u | cut -f 2- | uniq)" \
    "withdrawn	$NOWMS	objection to direct marketing (GDPR Art. 21)"
check_eq "--object: analytics and data sharing untouched" \
    "$(jq -c '[.consent.analytics, .consent.data_sharing]' "$out")" '[null,null]'
run cdp-consent --now "$NOW" --audit
check "--audit: exit 0, nothing on stderr" quiet_ok
grep '"action":"objection"' "$out" >objection.line
check_eq "--audit: one objection line" "$(wc -l <objection.line | tr -d ' ')" 1
check_eq "--audit: the objection line" \
    "$(jq -c '[.time, (.command | index("--object") != null), .purposes, .count, .profile]' objection.line)" \
    "[\"$NOWMS\",true,[\"email_marketing\",\"sms_marketing\",\"ads_personalization\",\"profiling\"],1,\"$id_sam\"]"
check_eq "--audit: the objection line keeps the profile id, not the e-mail" "$(grep -c 'sam@example' objection.line)" 0
check "--audit: the exports are there too" grep -q '"command":\[[^]]*cdp-export' "$out"
con --object user:nobody
check "--object of an unknown person: exit 1" test "$status" -eq 1
check "--object of an unknown person: message" err_line "cdp-consent: no profile holds user:nobody"
run cdp-consent --now "$NOW" --require email_marketing <L.export
check "--require after the objection: sam withdrawn" \
    err_line "cdp-consent: 3 passed, 9 held back (4 no record, 1 denied, 3 withdrawn, 1 expired)"

run cdp-consent --purposes
check "--purposes: exit 0, nothing on stderr" quiet_ok
check_eq "--purposes: the six defaults" "$(cat "$out")" "email_marketing
sms_marketing
ads_personalization
analytics
profiling
data_sharing"

# ---------------------------------------------------------------------------
# Consent carried by events through cdp-ingest.
E=$T/events
cat >consent-events.ndjson <<'X'
{"type":"identify","userId":"lea","traits":{"email":"lea@example.com"},"context":{"consent":{"categoryPreferences":{"Advertising":true,"Analytics":false}}},"timestamp":"2025-02-01T10:00:00Z","messageId":"l1"}
{"type":"track","event":"Segment Consent Preference Updated","userId":"lea","context":{"consent":{"categoryPreferences":{"Advertising":false,"Functional":true}}},"timestamp":"2025-04-01T10:00:00Z","messageId":"l2"}
{"type":"track","event":"Order Completed","userId":"lea","properties":{"orderId":"L-1","revenue":20},"context":{"consent":{"purposes":{"sms_marketing":{"status":"oui","expires":"2025-09-01T00:00:00Z","channel":"sms","proof":"kw-OUI"},"email_marketing":"maybe"}}},"timestamp":"2025-05-01T10:00:00Z","messageId":"l3"}
X
run cdp-ingest -d "$E" --now "$NOW" consent-events.ndjson
check "events: exit 0" test "$status" -eq 0
check "events: unknown category is a warning" \
    err_line "cdp-ingest: consent-events.ndjson:2: warning: consent for 'Functional' ignored: not a purpose (see cdp-consent --purposes)"
check "events: unreadable status is a warning" \
    err_line "cdp-ingest: consent-events.ndjson:3: warning: consent for 'email_marketing' ignored: unreadable status or expiry"
check "events: every event lands" \
    err_line "cdp-ingest: 3 read, 3 landed, 0 duplicates, 0 rejected, 2 warnings, 1 profiles created, 0 merges (0 refused)"
check_eq "events: all three stored" \
    "$("$CDP_BIN/cdp-export" -d "$E" --now "$NOW" --lookup user:lea --events | jq -c '[.events[].messageId]')" '["l1","l2","l3"]'
run cdp-consent -d "$E" --now "$NOW" --status user:lea
check_eq "events: the consent as of now" "$(jq -c '.consent | map_values(.status)' "$out")" \
    '{"ads_personalization":"denied","analytics":"denied","sms_marketing":"granted"}'
check_eq "events: the ledger, at the events' times" \
    "$(jq -c '[.records[] | [.purpose, .status, .time, .proof, .source, .channel, .expires]]' "$out")" \
    '[["ads_personalization","granted","2025-02-01T10:00:00.000Z","l1","default",null,null],["ads_personalization","denied","2025-04-01T10:00:00.000Z","l2","default",null,null],["analytics","denied","2025-02-01T10:00:00.000Z","l1","default",null,null],["sms_marketing","granted","2025-05-01T10:00:00.000Z","kw-OUI","default","sms","2025-09-01T00:00:00.000Z"]]'
check_eq "events: Advertising granted before the update" \
    "$(status_of user:lea ads_personalization 2025-03-31T00:00:00Z "$E")" granted
check_eq "events: ads_personalization denied after the update" \
    "$(status_of user:lea ads_personalization 2025-04-01T10:00:00Z "$E")" denied
check_eq "events: the SMS grant expires" "$(status_of user:lea sms_marketing 2025-09-01T00:00:00Z "$E")" expired
run cdp-ingest -d "$E" --now "$NOW" consent-events.ndjson
check "events again: duplicates" err_starts "cdp-ingest: 3 read, 0 landed, 3 duplicates,"
check_eq "events again: no new records" "$(records_of user:lea "$E")" 4
run cdp-segment -d "$E" --now "$NOW" --count 'consent.ads_personalization or consent.analytics'
check_eq "events: no segment consent for ads or analytics" "$(cat "$out")" 0

# CSV with an expiry column.
printf 'Mail,Opt,Date,Until\njo@example.com,yes,2025-01-01,2025-03-01\n' >expiry.csv
run cdp-consent -d "$E" --now "$NOW" --import \
    --map 'email=Mail,consent.sms_marketing=Opt,consent.sms_marketing.expires=Until,timestamp=Date' expiry.csv
check "CSV expiry: exit 0" test "$status" -eq 0
check_eq "CSV expiry: expired as of now" "$(status_of email:jo@example.com sms_marketing "$NOW" "$E")" expired
check_eq "CSV expiry: granted in February" "$(status_of email:jo@example.com sms_marketing 2025-02-01T00:00:00Z "$E")" granted

# ---------------------------------------------------------------------------
# Merges: a withdrawal is never lost to an older grant, whichever profile
# held it.
M=$T/merge
cat >merge-people.ndjson <<'X'
{"type":"identify","userId":"m1","traits":{"email":"m@example.com"},"timestamp":"2024-06-01T10:00:00Z","messageId":"m1"}
{"type":"identify","userId":"n1","traits":{"email":"n@example.com"},"timestamp":"2024-06-01T10:00:00Z","messageId":"n1"}
{"type":"page","anonymousId":"anon-m","timestamp":"2025-01-01T10:00:00Z","messageId":"m2"}
{"type":"page","anonymousId":"anon-n","timestamp":"2025-01-01T10:00:00Z","messageId":"n2"}
X
cat >merge-consent.ndjson <<'X'
{"userId":"m1","purpose":"email_marketing","status":"granted","time":"2025-01-05T00:00:00Z"}
{"anonymousId":"anon-m","purpose":"email_marketing","status":"withdrawn","time":"2025-03-05T00:00:00Z"}
{"userId":"n1","purpose":"email_marketing","status":"withdrawn","time":"2025-03-05T00:00:00Z"}
{"anonymousId":"anon-n","purpose":"email_marketing","status":"granted","time":"2025-01-05T00:00:00Z"}
X
"$CDP_BIN/cdp-ingest" -q -d "$M" --now "$NOW" merge-people.ndjson
run cdp-consent -d "$M" --now "$NOW" --import merge-consent.ndjson
check_eq "merge: four records" "$(cat "$err")" "cdp-consent: 4 read, 4 records, 0 duplicates, 0 dropped as erased, 0 rejected, 0 warnings"
check_eq "merge: before, m1 granted" "$(status_of user:m1 email_marketing "$NOW" "$M")" granted
check_eq "merge: before, anon-n granted" "$(status_of anon:anon-n email_marketing "$NOW" "$M")" granted
printf '%s\n' \
    '{"type":"identify","userId":"m1","anonymousId":"anon-m","timestamp":"2025-05-01T10:00:00Z","messageId":"m3"}' \
    '{"type":"identify","userId":"n1","anonymousId":"anon-n","timestamp":"2025-05-01T10:00:00Z","messageId":"n3"}' >merge.ndjson
run cdp-ingest -d "$M" --now "$NOW" merge.ndjson
check "merge: two merges" err_line "cdp-ingest: 2 read, 2 landed, 0 duplicates, 0 rejected, 0 warnings, 0 profiles created, 2 merges (0 refused)"
check_eq "merge: one profile for m" "$(pid user:m1 "$M")" "$(pid anon:anon-m "$M")"
check_eq "merge: one profile for n" "$(pid user:n1 "$M")" "$(pid anon:anon-n "$M")"
check_eq "merge: newer withdrawal on the anonymous profile wins" "$(status_of user:m1 email_marketing "$NOW" "$M")" withdrawn
check_eq "merge: newer withdrawal on the known profile wins" "$(status_of anon:anon-n email_marketing "$NOW" "$M")" withdrawn
check_eq "merge: both records moved (m)" "$(records_of user:m1 "$M")" 2
check_eq "merge: both records moved (n)" "$(records_of user:n1 "$M")" 2
check_eq "merge: the grant still answers for February" \
    "$(status_of email:m@example.com email_marketing 2025-02-01T00:00:00Z "$M")" granted
"$CDP_BIN/cdp-export" -d "$M" --now "$NOW" >M.export
check_eq "merge: two profiles left, both withdrawn" \
    "$(jq -r '.consent.email_marketing.status' M.export | tr '\n' ' ')" "withdrawn withdrawn "
run cdp-consent -d "$M" --now "$NOW" --require email_marketing <M.export
check_eq "merge: --require passes no one" "$(cat "$err")" \
    "cdp-consent: 0 passed, 2 held back (0 no record, 0 denied, 2 withdrawn, 0 expired)"

# ---------------------------------------------------------------------------
# The purpose vocabulary.
P=$T/purposes
"$CDP_BIN/cdp-ingest" -q -d "$P" --now "$NOW" people.ndjson
run cdp-consent -d "$P" --now "$NOW" --set-purposes 'email_marketing,newsletter'
check "--set-purposes: exit 0, nothing on stderr" quiet_ok
check "--set-purposes: no output" no_output
run cdp-consent -d "$P" --purposes
check_eq "--purposes after --set-purposes" "$(cat "$out")" "email_marketing
newsletter"
printf '%s\n' '{"userId":"ann","purpose":"analytics","status":"granted","time":"2025-05-01T00:00:00Z"}' \
    '{"userId":"ann","purpose":"newsletter","status":"granted","time":"2025-05-01T00:00:00Z"}' >vocab.ndjson
run cdp-consent -d "$P" --now "$NOW" --import vocab.ndjson
check "--set-purposes: analytics is now rejected: exit 3" test "$status" -eq 3
check "--set-purposes: analytics is now rejected: message" \
    err_line "cdp-consent: vocab.ndjson:1: unknown purpose 'analytics' (see cdp-consent --purposes)"
check_eq "--set-purposes: newsletter lands" "$(status_of user:ann newsletter "$NOW" "$P")" granted
run cdp-consent -d "$P" --now "$NOW" --require analytics </dev/null
check "--set-purposes: --require analytics: exit 2" test "$status" -eq 2
run cdp-consent -d "$P" --now "$NOW" --object user:ann
check "--set-purposes: --object: exit 0" test "$status" -eq 0
check_eq "--set-purposes: --object withdraws email_marketing" \
    "$(jq -c '.withdrawn | index("email_marketing") != null' "$out")" true
check_eq "--set-purposes: --object: withdrawn in --status" "$(status_of user:ann email_marketing "$NOW" "$P")" withdrawn
check_eq "--set-purposes: --object leaves newsletter alone" "$(status_of user:ann newsletter "$NOW" "$P")" granted
run cdp-consent -d "$P" --set-purposes 'email_marketing,Bad Name'
check "--set-purposes: a bad name: exit 2" test "$status" -eq 2
check "--set-purposes: a bad name: message" err_line "cdp-consent: 'Bad Name' is not a purpose name (a-z, 0-9, _)"
run cdp-consent -d "$P" --set-purposes ','
check "--set-purposes: an empty list: exit 2" test "$status" -eq 2
check "--set-purposes: an empty list: message" err_line "cdp-consent: no purpose given"
run cdp-consent -d "$P" --purposes
check_eq "--set-purposes: the failed runs changed nothing" "$(cat "$out" | tr '\n' ' ')" "email_marketing newsletter "

# ---------------------------------------------------------------------------
# --forget.  A store of generated people (or a stand-in), then jane, whose
# anonymous visit merges into her known profile, and bob.
F=$T/forget
others() {
    # others EVENTS PEOPLE SEED: generated people, else a stand-in.
    if [ -x "$top/scripts/cdp-gen" ]; then
        "$top/scripts/cdp-gen" --events "$1" --people "$2" --seed "$3"
    else
        awk -v n="$1" -v people="$2" 'BEGIN {
            for (i = 0; i < n; i++) {
                p = i % people
                if (i < people)
                    printf "{\"type\":\"identify\",\"userId\":\"g%d\",\"traits\":{\"email\":\"person%d@example.net\",\"firstName\":\"P%d\"},\"timestamp\":\"2025-01-%02dT10:00:00Z\",\"messageId\":\"g%d\"}\n", p, p, p, p % 28 + 1, i
                else
                    printf "{\"type\":\"track\",\"event\":\"Order Completed\",\"userId\":\"g%d\",\"properties\":{\"orderId\":\"o%d\",\"revenue\":%d},\"timestamp\":\"2025-%02d-10T10:%02d:00Z\",\"messageId\":\"g%d\"}\n", p, i, i % 97, p % 5 + 1, i % 60, i
            }
        }'
    fi
}
others 1500 80 11 >others.ndjson
check "the others do not share jane's strings" test "$(grep -c -i -e janette -e quill -e 612345678 -e u-jq- others.ndjson)" -eq 0
cat >jane.ndjson <<'X'
{"type":"page","anonymousId":"anon-jq","properties":{"path":"/"},"timestamp":"2025-01-10T09:00:00Z","messageId":"jq-1"}
{"type":"identify","userId":"u-jq-4417","traits":{"email":"janette.quill@example.org","phone":"+33 6 12 34 56 78","firstName":"Janette","lastName":"Quillfeather"},"timestamp":"2025-02-01T09:00:00Z","messageId":"jq-2"}
{"type":"track","event":"Order Completed","userId":"u-jq-4417","properties":{"orderId":"JQ-1","revenue":42},"timestamp":"2025-03-01T09:00:00Z","messageId":"jq-3"}
{"type":"identify","userId":"u-jq-4417","anonymousId":"anon-jq","timestamp":"2025-03-02T09:00:00Z","messageId":"jq-4"}
X
cat >bob.ndjson <<'X'
{"type":"identify","userId":"bob","traits":{"email":"bob@example.org","firstName":"Bob"},"timestamp":"2025-01-05T09:00:00Z","messageId":"b1"}
{"type":"track","event":"Order Completed","userId":"bob","properties":{"orderId":"B-1","revenue":10},"timestamp":"2025-04-01T09:00:00Z","messageId":"b2"}
X
cat >jane-consent.ndjson <<'X'
{"email":"janette.quill@example.org","purpose":"email_marketing","status":"granted","time":"2025-02-01T09:00:00Z","proof":"form-jq"}
{"phone":"+33612345678","purpose":"sms_marketing","status":"granted","time":"2025-02-01T09:00:00Z"}
{"userId":"u-jq-4417","purpose":"email_marketing","status":"withdrawn","time":"2025-05-01T09:00:00Z"}
{"userId":"bob","purpose":"email_marketing","status":"granted","time":"2025-02-01T09:00:00Z"}
X
"$CDP_BIN/cdp-ingest" -q -d "$F" --country FR --now "$NOW" others.ndjson
run cdp-ingest -d "$F" --now "$NOW" jane.ndjson bob.ndjson
check "forget store: jane's visit merges" \
    err_line "cdp-ingest: 6 read, 6 landed, 0 duplicates, 0 rejected, 0 warnings, 3 profiles created, 1 merges (0 refused)"
run cdp-consent -d "$F" --now "$NOW" --import jane-consent.ndjson
check_eq "forget store: four consent records" "$(cat "$err")" "cdp-consent: 4 read, 4 records, 0 duplicates, 0 dropped as erased, 0 rejected, 0 warnings"
JANE=email:janette.quill@example.org
id_jane=$(pid "$JANE" "$F")
id_bob=$(pid user:bob "$F")
check_eq "forget store: one profile holds all of jane's identifiers" \
    "$("$CDP_BIN/cdp-export" -d "$F" --now "$NOW" --lookup "$id_jane" | jq -c .identifiers)" \
    '["anon:anon-jq","email:janette.quill@example.org","phone:+33612345678","user:u-jq-4417"]'
run cdp-segment -d "$F" --now "$NOW" --save everyone --count 'true'
run cdp-segment -d "$F" --now "$NOW" --save buyers --count 'computed.orders_count >= 1'
run cdp-segment -d "$F" --now "$NOW" --save bobs --ids "traits.email = 'bob@example.org'"
check_eq "forget store: bob's segment" "$(cat "$out")" "$id_bob"
run cdp-segment -d "$F" --now "$NOW" --ids 'computed.orders_count >= 1'
check "forget store: jane is a buyer" grep -qx "$id_jane" "$out"
run cdp-export -d "$F" --now "$NOW" --subject "$JANE"
check "--subject: exit 0" test "$status" -eq 0
check_eq "--subject: her events and consent records" \
    "$(jq -c '[.subject, (.events | length), (.consent_records | length), .profile.traits.firstName]' "$out")" \
    '["email:janette.quill@example.org",7,3,"Janette"]'
run cdp-export -d "$F" --now "$NOW" --lookup user:u-jq-4417
# The same person in other spellings: the audit trail must not keep them.
run cdp-export -d "$F" --now "$NOW" --lookup email:Janette.Quill@Example.ORG
check_eq "--lookup by an e-mail in capitals finds her" "$(jq -r .id "$out")" "$id_jane"
run cdp-export -d "$F" --now "$NOW" --country FR --lookup 'phone:06 12 34 56 78'
check_eq "--lookup by a national phone number finds her" "$(jq -r .id "$out")" "$id_jane"
"$CDP_BIN/cdp-export" -d "$F" --now "$NOW" >F.before
"$CDP_BIN/cdp-export" -d "$F" --now "$NOW" --lookup user:bob --events >bob.before
"$CDP_BIN/cdp-consent" -d "$F" --now "$NOW" --status user:bob >bob-consent.before
nprofiles=$(wc -l <F.before | tr -d ' ')
for s in janette.quill@example.org 612345678 Janette Quillfeather u-jq-4417 anon-jq "$id_jane"; do
    check "before: '$s' is in data.mdb" test "$(hits "$F/data.mdb" "$s")" -gt 0
done

run cdp-consent -d "$F" --now "$NOW" --audit
cp "$out" audit.before
# Six lines name her: five --lookup (by e-mail, profile id, userId, e-mail
# in capitals, national phone number) and the --subject.
grep -i "u-jq-4417\\|janette\\|06 12 34 56 78\\|$id_jane" audit.before >named.before
named=$(wc -l <named.before | tr -d ' ')
check_eq "audit before: lines that name her" "$named" 6

run cdp-consent -d "$F" --now "$NOW" --forget "$JANE"
check "--forget: exit 0, nothing on stderr" quiet_ok
cp "$out" receipt.json
run cdp-consent -d "$F" --now "$NOW" --audit
cp "$out" audit.after
check_eq "--forget: the receipt, one line" "$(wc -l <receipt.json | tr -d ' ')" 1
# events: her four and the three identify events of her consent records.
check_eq "--forget: the receipt's counts" "$(jq -c '[.action, .requested, .counts]' receipt.json)" \
    "[\"erasure\",\"$NOWMS\",{\"events\":7,\"identifiers\":4,\"consent_records\":3,\"segment_memberships\":2,\"merge_log_entries\":1,\"audit_lines_redacted\":$named}]"
check_eq "--forget: four identifier hashes, none in clear" \
    "$(jq -r '.identifier_hashes[]' receipt.json | grep -c '^[0-9a-f]\{64\}$')" 4
check "--forget: the receipt does not name her" test "$(grep -c -i 'janette\|quill\|u-jq\|anon-jq\|612345678' receipt.json)" -eq 0
for s in janette.quill@example.org 612345678 Janette Quillfeather u-jq-4417 anon-jq "$id_jane"; do
    check_eq "after: '$s' is nowhere in data.mdb" "$(hits "$F/data.mdb" "$s")" 0
done
check_eq "after: not even in another case" "$(grep -c -a -i 'janette\|quillfeather' "$F/data.mdb")" 0
check_eq "after: nor her phone number as it was typed" "$(hits "$F/data.mdb" '06 12 34 56 78')" 0
check "after: no other file in the store" test "$(ls "$F" | sort | tr '\n' ' ')" = "data.mdb lock.mdb "

"$CDP_BIN/cdp-export" -d "$F" --now "$NOW" >F.after
awk -v id="$id_jane" 'substr($0, 8, 32) != id' F.before >F.want
check_eq "after: one profile fewer" "$(wc -l <F.after | tr -d ' ')" $((nprofiles - 1))
check "after: everyone else exports byte for byte as before" cmp -s F.want F.after
"$CDP_BIN/cdp-export" -d "$F" --now "$NOW" --lookup user:bob --events >bob.after
check "after: bob's profile and events are as before" cmp -s bob.before bob.after
"$CDP_BIN/cdp-consent" -d "$F" --now "$NOW" --status user:bob >bob-consent.after
check "after: bob's consent is as before" cmp -s bob-consent.before bob-consent.after

check_eq "--audit: one line more, the erasure" "$(wc -l <audit.after | tr -d ' ')" "$(($(wc -l <audit.before) + 1))"
check_eq "--audit: nothing names her" "$(grep -c -i 'janette\|quill\|u-jq\|anon-jq\|612345678' audit.after)" 0
check_eq "--audit: her id is gone from it" "$(grep -c "$id_jane" audit.after)" 0
grep '"action":"erasure"' audit.after >erasure.line
check_eq "--audit: the erasure line, with [erased] for her" \
    "$(jq -c '[.command[1:], .action, .count]' erasure.line)" '[["--forget","[erased]"],"erasure",1]'
check_eq "--audit: the erasure line holds the receipt" \
    "$(jq -c '[.requested, .counts]' erasure.line)" "$(jq -c '[.requested, .counts]' receipt.json)"
check_eq "--audit: the erasure line keeps the receipt's hashes" \
    "$(jq -c .identifier_hashes erasure.line)" "$(jq -c .identifier_hashes receipt.json)"
check_eq "--audit: the --subject line is redacted" "$(jq -r 'select(.subject) | .subject' audit.after)" "[erased]"
jq .seq named.before >named.seqs
check_eq "--audit: every line that named her now says [erased]" \
    "$(jq -c 'select(.seq as $s | $seqs | index($s)) | select(tostring | contains("[erased]")) | .seq' \
        --slurpfile seqs named.seqs audit.after | wc -l | tr -d ' ')" "$named"
grep -v -i "u-jq-4417\\|janette\\|06 12 34 56 78\\|$id_jane" audit.before >unnamed.before
grep -v -F '[erased]' audit.after >unnamed.after
check "--audit: the other lines are untouched" cmp -s unnamed.before unnamed.after

con -d "$F" --status "$JANE"
check "after: --status: exit 1" test "$status" -eq 1
check "after: --status: message" err_line "cdp-consent: no profile holds $JANE"
con -d "$F" --forget "$JANE"
check "--forget twice: exit 1" test "$status" -eq 1
check "--forget twice: message" err_line "cdp-consent: no profile holds $JANE"
check "--forget twice: nothing on stdout" no_output
con -d "$F" --forget user:nobody
check "--forget of an unknown person: exit 1" test "$status" -eq 1
check "--forget of an unknown person: message" err_line "cdp-consent: no profile holds user:nobody"
run cdp-export -d "$F" --now "$NOW" --subject "$JANE"
check "after: --subject: exit 1" test "$status" -eq 1
for who in user:u-jq-4417 anon:anon-jq phone:+33612345678; do
    check_eq "after: no profile holds $who" "$(pid "$who" "$F")" ""
done
run cdp-segment -d "$F" --now "$NOW" --ids 'computed.orders_count >= 1'
check "after: a segment no longer finds her" test "$(grep -c "$id_jane" "$out")" -eq 0
run cdp-segment -d "$F" --now "$NOW" --changes buyers --ids
check "after: --changes names no erased id" test "$(grep -c "$id_jane" "$out")" -eq 0
check "after: --changes: exit 0" quiet_ok

# Her old events again: dropped, and she does not come back.
run cdp-ingest -d "$F" --now "$NOW" jane.ndjson
check "re-import of her events: exit 0" test "$status" -eq 0
check "re-import of her events: dropped as erased" \
    err_line "cdp-ingest: 4 read, 0 landed, 0 duplicates, 0 rejected, 0 warnings, 0 profiles created, 0 merges (0 refused), 4 dropped as erased"
run cdp-consent -d "$F" --now "$NOW" --import jane-consent.ndjson
check "re-import of her consent records: bob's a duplicate, hers dropped as erased" \
    err_line "cdp-consent: 4 read, 0 records, 1 duplicates, 3 dropped as erased, 0 rejected, 0 warnings"
printf '%s\n' '{"type":"identify","userId":"u-jq-4417","traits":{"email":"new-jq@example.net"},"timestamp":"2025-06-01T09:00:00Z","messageId":"jq-new"}' |
    "$CDP_BIN/cdp-ingest" -d "$F" --now "$NOW" 2>new.err
check "an event with one of her identifiers and a new one: dropped" grep -q ', 1 dropped as erased$' new.err
check_eq "she does not come back through the new identifier" "$(pid email:new-jq@example.net "$F")" ""
"$CDP_BIN/cdp-export" -d "$F" --now "$NOW" >F.again
check "she does not come back: the export is unchanged" cmp -s F.after F.again
printf '%s\n' '{"type":"track","event":"Order Completed","userId":"bob","properties":{"orderId":"B-2","revenue":5},"timestamp":"2025-06-01T09:00:00Z","messageId":"b3"}' >bob2.ndjson
run cdp-ingest -d "$F" --now "$NOW" bob2.ndjson
check "after: the store takes new events" err_starts "cdp-ingest: 1 read, 1 landed,"
check_eq "after: bob's new order" "$("$CDP_BIN/cdp-export" -d "$F" --now "$NOW" --lookup user:bob | jq .computed.orders_count)" 2

# ---------------------------------------------------------------------------
# --forget when the event dictionary was trained on her events: 600 of them
# come first in the store's first import.
D=$T/dict
awk 'BEGIN {
    for (i = 0; i < 600; i++)
        printf "{\"type\":\"track\",\"event\":\"Product Viewed\",\"userId\":\"u-jq-4417\",\"properties\":{\"sku\":\"SKU-%d\",\"price\":%d},\"context\":{\"traits\":{\"email\":\"janette.quill@example.org\",\"firstName\":\"Janette\",\"phone\":\"+33612345678\"}},\"timestamp\":\"2025-01-%02dT10:%02d:%02dZ\",\"messageId\":\"jd-%d\"}\n", i % 50, i % 90 + 10, i % 28 + 1, i % 60, i % 60, i
}' >jane600.ndjson
others 1500 60 5 >others2.ndjson
cat jane600.ndjson others2.ndjson bob.ndjson >dict-first.ndjson
"$CDP_BIN/cdp-ingest" -q -d "$D" --country FR --now "$NOW" dict-first.ndjson
for s in janette.quill@example.org 612345678 u-jq-4417; do
    check "dictionary store, before: '$s' is in data.mdb" test "$(hits "$D/data.mdb" "$s")" -gt 0
done
"$CDP_BIN/cdp-export" -d "$D" --now "$NOW" | jq -r .id >D.ids
id_djane=$(pid user:u-jq-4417 "$D")
grep -v -x "$id_djane" D.ids >D.others
check "dictionary store: some other profiles" test "$(wc -l <D.others)" -ge 20
while read -r id; do
    "$CDP_BIN/cdp-export" -d "$D" --now "$NOW" --lookup "$id" --events
done <D.others >D.events.before
run cdp-consent -d "$D" --now "$NOW" -v --forget user:u-jq-4417
check "dictionary store: --forget: exit 0" test "$status" -eq 0
check_eq "dictionary store: --forget -v says the events were recompressed" "$(cat "$err")" \
    "cdp-consent: the event dictionary held the person's data: events recompressed with a new one"
# (One audit line named her: the --lookup that found her profile id.)
check_eq "dictionary store: the receipt's counts" "$(jq -c .counts "$out")" \
    '{"events":600,"identifiers":3,"consent_records":0,"segment_memberships":0,"merge_log_entries":0,"audit_lines_redacted":1}'
for s in janette.quill@example.org 612345678 Janette u-jq-4417 "$id_djane"; do
    check_eq "dictionary store, after: '$s' is nowhere in data.mdb" "$(hits "$D/data.mdb" "$s")" 0
done
while read -r id; do
    "$CDP_BIN/cdp-export" -d "$D" --now "$NOW" --lookup "$id" --events
done <D.others >D.events.after
check "dictionary store: every other profile's events read back identical" cmp -s D.events.before D.events.after
check_eq "dictionary store: every other profile is still there" \
    "$(wc -l <D.events.after | tr -d ' ')" "$(wc -l <D.others | tr -d ' ')"
printf '%s\n' '{"type":"track","event":"Order Completed","userId":"bob","properties":{"orderId":"B-9","revenue":9},"timestamp":"2025-06-02T09:00:00Z","messageId":"b9"}' >bob9.ndjson
run cdp-ingest -d "$D" --now "$NOW" bob9.ndjson jane600.ndjson
check "dictionary store: new events land, hers are dropped" \
    err_line "cdp-ingest: 601 read, 1 landed, 0 duplicates, 0 rejected, 0 warnings, 0 profiles created, 0 merges (0 refused), 600 dropped as erased"
check_eq "dictionary store: bob's events read back with the new dictionary" \
    "$("$CDP_BIN/cdp-export" -d "$D" --now "$NOW" --lookup user:bob --events | jq -c '[.events[].messageId]')" '["b1","b2","b9"]'

# ---- TC strings: the table from purposes to TCF purposes is the store's ----
# (A string made with the IAB's library: purposes 1, 2, 3, 4 and 7 consented,
# vendors 1, 2, 4, 8 and 16; see tests/data/tcf.)
TCS=CPy8ImAP4cULLAKACBENAwEgAPIAAEMAAAwIAQNEBAAEABCgAAAA
T=$PWD/tcf.db
printf '%s\n' '{"type":"identify","userId":"tina","traits":{"email":"tina@example.com"},"timestamp":"2025-01-01T00:00:00Z","messageId":"t1"}' >tina.ndjson
run cdp-ingest -q -d "$T" tina.ndjson
run cdp-consent -d "$T" --tcf-map
check_eq "--tcf-map: the default table" "$(cat "$out")" \
    '{"ads_personalization":[2,3,4],"analytics":[7,8,9,10],"profiling":[5,6,11]}'
run cdp-consent -d "$T" --now "$NOW" --tcf "$TCS" --record user:tina --vendor 2
check_eq "--tcf --record: the default table grants ads only" "$(jq -c .recorded "$out")" \
    '{"ads_personalization":"granted","analytics":"denied","profiling":"denied"}'
run cdp-consent -d "$T" --set-tcf-map 'ads_personalization=2,3;analytics=7'
check "--set-tcf-map: exit 0" test "$status" -eq 0
run cdp-consent -d "$T" --tcf-map
check_eq "--tcf-map: the store's table" "$(cat "$out")" '{"ads_personalization":[2,3],"analytics":[7]}'
run cdp-consent -d "$T" --now "$NOW" --tcf "$TCS" --record user:tina --vendor 2
check_eq "--tcf --record: the store's table grants analytics by purpose 7" \
    "$(jq -c .recorded "$out")" '{"ads_personalization":"granted","analytics":"granted"}'
run cdp-consent -d "$T" --now "$NOW" --tcf "$TCS" --record user:tina --vendor 3
check_eq "--tcf --record: a vendor without consent is granted nothing" \
    "$(jq -c .recorded "$out")" '{"ads_personalization":"denied","analytics":"denied"}'
run cdp-consent -d "$T" --set-tcf-map 'analytics=12'
check_eq "--set-tcf-map: purposes run from 1 to 11" "$status" 2
run cdp-consent -d "$T" --set-tcf-map 'nope=1'
check_eq "--set-tcf-map: an unknown purpose" "$status" 2

finish
