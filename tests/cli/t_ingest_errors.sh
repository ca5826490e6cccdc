#!/bin/sh
# cdp-ingest on bad input: every reason a line is rejected (exit status 3, a
# message on stderr, an NDJSON record with --rejects) while the good lines
# around it land; warnings that do not reject; blank lines, CRLF, a last line
# without newline; the summary; timestamps and the time of import.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1

# The identifiers of all profiles, sorted, one per line.
all_identifiers() {
    "$CDP_BIN/cdp-export" "$@" 2>/dev/null | jq -r '.identifiers[]' | sort
}

# ---------------------------------------------------------------------------
# One file with a line for every rejection reason between good lines.
long=$(printf '%0300d' 7)
{
    printf '%s\n' '{"type":"page","anonymousId":"g1","messageId":"g1","timestamp":"2025-01-01T00:00:00Z"}'
    printf '%s\n' '{"type":"page", bad'
    printf '%s\n' '[1,2]'
    printf '%s\n' '"x"'
    printf '%s\n' '{"type":"page","messageId":"noid","properties":{"x":1}}'
    printf '{"type":"page","anonymousId":"u\377"}\n'
    printf '%s\n' '{"type":"page","anonymousId":"g9","timestamp":"yesterday-ish"}'
    printf '%s\n' '{"type":"bogus","anonymousId":"g9"}'
    printf '%s\n' '{"anonymousId":"g9","messageId":"notype"}'
    printf '%s\n' '{"type":"track","anonymousId":"g9"}'
    printf '%s\n' '{"type":"page","anonymousId":"g9","properties":{"a":{"b":{"c":{"d":1}}}}}'
    printf '{"type":"page","anonymousId":"g9","properties":{"x":"%s"}}\n' "$long"
    printf '\n'
    printf '%s\n' '{"type":"page","anonymousId":"g2","messageId":"g2","timestamp":"2025-01-02T00:00:00Z"}'
    printf ' \t \n'
    printf '%s\n' '{"type":"page","anonymousId":"g3","messageId":"g3","timestamp":"2025-01-03T00:00:00Z"}'
} >mixed.ndjson

run cdp-ingest --max-line 100 --max-depth 3 mixed.ndjson
check "rejects: exit status 3" test "$status" -eq 3
check "invalid JSON: message" err_starts "cdp-ingest: mixed.ndjson:2: invalid JSON"
check "array: not a JSON object" err_line "cdp-ingest: mixed.ndjson:3: not a JSON object"
check "string: not a JSON object" err_line "cdp-ingest: mixed.ndjson:4: not a JSON object"
check "no identifier: message" \
    err_line "cdp-ingest: mixed.ndjson:5: no identifier (userId, anonymousId, e-mail or phone)"
check "invalid UTF-8: message with its column" \
    err_line "cdp-ingest: mixed.ndjson:6: invalid UTF-8 at column 32"
check "unparseable timestamp: message" \
    err_line 'cdp-ingest: mixed.ndjson:7: unparseable timestamp "yesterday-ish"'
check "unknown type: message" err_line 'cdp-ingest: mixed.ndjson:8: unknown type "bogus"'
check "missing type: message" err_line 'cdp-ingest: mixed.ndjson:9: no "type" field'
check "track without event: message" \
    err_line 'cdp-ingest: mixed.ndjson:10: track without an "event" name'
check "nesting deeper than --max-depth: message" \
    err_starts "cdp-ingest: mixed.ndjson:11: nesting too deep"
check "line over --max-line: message" \
    err_line "cdp-ingest: mixed.ndjson:12: line longer than 100 bytes"
check_eq "one message per rejected line, none for blank lines" \
    "$(err_count 'cdp-ingest: mixed.ndjson:')" 11
check "summary counts read/landed/duplicates/rejected" \
    err_starts "cdp-ingest: 14 read, 3 landed, 0 duplicates, 11 rejected, 0 warnings, 3 profiles created"
check_eq "the good lines around the rejects landed" "$(all_identifiers | tr '\n' ' ')" \
    "anon:g1 anon:g2 anon:g3 "
check_eq "nothing of the rejected lines landed" "$(profile_field anon:g9 .id)" ""
check_eq "a good line after the rejects is whole" "$(profile_field anon:g3 .first_seen)" \
    "2025-01-03T00:00:00.000Z"

# The same lines again: the good ones are duplicates, the bad ones rejected again.
run cdp-ingest --max-line 100 --max-depth 3 mixed.ndjson
check "second run: exit status 3" test "$status" -eq 3
check "second run: summary" \
    err_starts "cdp-ingest: 14 read, 0 landed, 3 duplicates, 11 rejected, 0 warnings, 0 profiles created"

# --rejects: one NDJSON record per rejected line, into a fresh store.
run cdp-ingest --db "$T/db2" --max-line 100 --max-depth 3 --rejects rejects.ndjson mixed.ndjson
check "with --rejects: exit status 3" test "$status" -eq 3
check "rejects file is NDJSON" jq -e . rejects.ndjson >/dev/null
check_eq "rejects: one record per rejected line" "$(jq -s -c 'map(.line)' rejects.ndjson)" \
    "[2,3,4,5,6,7,8,9,10,11,12]"
check_eq "rejects: the four fields" "$(jq -s -c 'map(keys)|unique' rejects.ndjson)" \
    '[["excerpt","file","line","reason"]]'
check_eq "rejects: file name" "$(jq -r .file rejects.ndjson | sort -u)" "mixed.ndjson"
check_eq "rejects: excerpt is the line" "$(jq -r 'select(.line==3).excerpt' rejects.ndjson)" "[1,2]"
check_eq "rejects: reason" "$(jq -r 'select(.line==9).reason' rejects.ndjson)" 'no "type" field'
check_eq "rejects: reason of the long line" "$(jq -r 'select(.line==12).reason' rejects.ndjson)" \
    "line longer than 100 bytes"
check_eq "rejects: excerpt of the long line is its start, cut short" \
    "$(jq -r 'select(.line==12).excerpt|[startswith("{\"type\":\"page\",\"anonymousId\":\"g9\""), (length <= 200)]|@csv' rejects.ndjson)" \
    "true,true"
check_eq "rejects: bytes that are not UTF-8 are shown escaped" \
    "$(jq -r 'select(.line==6).excerpt' rejects.ndjson)" '{"type":"page","anonymousId":"u\xff"}'
# The reasons in the file are the ones printed without --rejects.
run cdp-ingest --db "$T/db3" --max-line 100 --max-depth 3 mixed.ndjson
jq -r '"cdp-ingest: \(.file):\(.line): \(.reason)"' rejects.ndjson >expected_messages
grep '^cdp-ingest: mixed.ndjson:' "$err" >got_messages
check "rejects file and stderr give the same reasons" cmp -s expected_messages got_messages
check_eq "with --rejects the good lines land too" "$(all_identifiers --db "$T/db2" | tr '\n' ' ')" \
    "anon:g1 anon:g2 anon:g3 "

# -q: no summary, the reject messages stay.
run cdp-ingest --db "$T/db4" -q --max-line 100 --max-depth 3 mixed.ndjson
check "-q: exit status still 3" test "$status" -eq 3
check "-q: no summary" sh -c "! grep -q ' read, ' '$err'"
check_eq "-q: reject messages are still printed" "$(err_count 'cdp-ingest: mixed.ndjson:')" 11

# --max-depth: nesting up to the limit is fine.
printf '%s\n' '{"type":"page","anonymousId":"d3","properties":{"a":{"b":1}},"timestamp":"2025-01-01T00:00:00Z"}' >depth.ndjson
run cdp-ingest --max-depth 3 depth.ndjson
check "nesting at --max-depth lands" test "$status" -eq 0
check_eq "nesting at --max-depth: profile" "$(profile_field anon:d3 '.identifiers[0]')" "anon:d3"
printf '%s\n' '{"type":"page","anonymousId":"d4","properties":{"a":"[[[[{{{{ \" [[[["},"timestamp":"2025-01-01T00:00:00Z"}' >brackets.ndjson
run cdp-ingest --max-depth 3 brackets.ndjson
check "brackets inside strings do not count as nesting" test "$status" -eq 0

# ---------------------------------------------------------------------------
# Warnings that do not reject: an invalid e-mail, junk identifiers.
printf '%s\n' '{"type":"identify","userId":"e1","traits":{"email":"not-an-email","firstName":"Eve"},"timestamp":"2025-01-01T00:00:00Z","messageId":"w1"}' >bademail.ndjson
run cdp-ingest --db "$T/dbw" bademail.ndjson
check "invalid e-mail alone: exit 0" test "$status" -eq 0
check "invalid e-mail: warning" \
    err_line "cdp-ingest: bademail.ndjson:1: warning: invalid e-mail 'not-an-email' ignored (email)"
check "invalid e-mail: counted as a warning, not a reject" \
    err_starts "cdp-ingest: 1 read, 1 landed, 0 duplicates, 0 rejected, 1 warnings"
check_eq "invalid e-mail: the event landed without it" \
    "$(all_identifiers --db "$T/dbw" | tr '\n' ' ')" "user:e1 "
check_eq "invalid e-mail: the rest of the event is there" \
    "$("$CDP_BIN/cdp-export" --db "$T/dbw" --lookup user:e1 | jq -r .traits.firstName)" "Eve"

cat >junk.ndjson <<'X'
{"type":"identify","userId":"null","anonymousId":"anon-j","traits":{"email":"test@test.com"},"timestamp":"2025-01-01T00:00:00Z","messageId":"j1"}
{"type":"identify","userId":"j1","anonymousId":"undefined","traits":{"email":"Test@Test.com","phone":"0000000000"},"timestamp":"2025-01-01T00:00:00Z","messageId":"j2"}
{"type":"page","userId":"NULL","anonymousId":" undefined ","timestamp":"2025-01-01T00:00:00Z","messageId":"j3"}
X
run cdp-ingest --db "$T/dbj" --country FR junk.ndjson
check "junk identifiers: only the all-junk line is rejected" test "$status" -eq 3
check "junk identifiers: warnings" err_line "cdp-ingest: junk.ndjson:1: warning: junk identifier 'null' ignored (user)"
check "junk e-mail: warning" \
    err_line "cdp-ingest: junk.ndjson:1: warning: junk identifier 'test@test.com' ignored (email)"
check "a line of junk identifiers only: no identifier" \
    err_line "cdp-ingest: junk.ndjson:3: no identifier (userId, anonymousId, e-mail or phone)"
check "junk identifiers: summary" err_starts "cdp-ingest: 3 read, 2 landed, 0 duplicates, 1 rejected"
check_eq "junk identifiers are dropped" "$(all_identifiers --db "$T/dbj" | tr '\n' ' ')" \
    "anon:anon-j user:j1 "
check_eq "two events with the same junk e-mail are not merged" \
    "$("$CDP_BIN/cdp-export" --db "$T/dbj" | wc -l | tr -d ' ')" 2

# ---------------------------------------------------------------------------
# CRLF line endings, blank CRLF lines, and a last line without newline.
printf '%s\r\n' '{"type":"page","anonymousId":"c1","messageId":"c1","timestamp":"2025-01-01T00:00:00Z"}' \
    '{"type":"page","anonymousId":"c2" oops}' '' \
    '{"type":"page","anonymousId":"c3","messageId":"c3","timestamp":"2025-01-01T00:00:00Z"}' >crlf.ndjson
printf '%s' '{"type":"page","anonymousId":"c4","messageId":"c4","timestamp":"2025-01-01T00:00:00Z"}' >>crlf.ndjson
run cdp-ingest --db "$T/dbc" --rejects crlf_rejects.ndjson crlf.ndjson
check "CRLF: one reject" test "$status" -eq 3
check_eq "CRLF: the good lines and the last line without newline land" \
    "$(all_identifiers --db "$T/dbc" | tr '\n' ' ')" "anon:c1 anon:c3 anon:c4 "
check_eq "CRLF: the reject is on line 2" "$(jq -r .line crlf_rejects.ndjson)" 2
check_eq "CRLF: the excerpt has no carriage return" "$(jq -r .excerpt crlf_rejects.ndjson)" \
    '{"type":"page","anonymousId":"c2" oops}'
check_eq "CRLF: the stored event is the line without its CR" \
    "$("$CDP_BIN/cdp-export" --db "$T/dbc" --lookup anon:c1 --events | jq -c '.events[0].messageId')" '"c1"'
check "CRLF: summary" err_starts "cdp-ingest: 4 read, 3 landed, 0 duplicates, 1 rejected"

printf '%s\n%s' '{"type":"page","anonymousId":"n1","timestamp":"2025-01-01T00:00:00Z"}' '{"type":"page"' >nonl.ndjson
run cdp-ingest --db "$T/dbn" nonl.ndjson
check "a bad last line without newline is rejected with its line number" \
    err_starts "cdp-ingest: nonl.ndjson:2: invalid JSON"

# A UTF-8 byte order mark before the first NDJSON line is not part of the JSON.
printf '\357\273\277%s\n' '{"type":"page","anonymousId":"bom1","timestamp":"2025-01-01T00:00:00Z"}' >bom.ndjson
run cdp-ingest --db "$T/dbb" bom.ndjson
check "NDJSON with a byte order mark: exit 0" test "$status" -eq 0
check_eq "NDJSON with a byte order mark: the line lands" \
    "$(all_identifiers --db "$T/dbb" | tr '\n' ' ')" "anon:bom1 "

# ---------------------------------------------------------------------------
# Times: none (the time of import, fixed by --now), epoch seconds and
# milliseconds, date only.
cat >times.ndjson <<'X'
{"type":"page","anonymousId":"t1","timestamp":1735689600,"messageId":"t1"}
{"type":"page","anonymousId":"t2","timestamp":1735689600123,"messageId":"t2"}
{"type":"page","anonymousId":"t3","timestamp":"2025-12-24","messageId":"t3"}
{"type":"page","anonymousId":"t4","timestamp":"1735689600","messageId":"t4"}
{"type":"page","anonymousId":"t5","originalTimestamp":"2025-03-01T10:00:00+02:00","messageId":"t5"}
X
run cdp-ingest --db "$T/dbt" times.ndjson
check "timestamps: exit 0" test "$status" -eq 0
check "timestamps given: no note about the time of import" sh -c "! grep -q 'time of import' '$err'"
tfield() { "$CDP_BIN/cdp-export" --db "$T/dbt" --lookup "$1" | jq -r .first_seen; }
check_eq "epoch seconds" "$(tfield anon:t1)" "2025-01-01T00:00:00.000Z"
check_eq "epoch milliseconds" "$(tfield anon:t2)" "2025-01-01T00:00:00.123Z"
check_eq "date only" "$(tfield anon:t3)" "2025-12-24T00:00:00.000Z"
check_eq "epoch seconds as a string" "$(tfield anon:t4)" "2025-01-01T00:00:00.000Z"
check_eq "originalTimestamp with an offset" "$(tfield anon:t5)" "2025-03-01T08:00:00.000Z"

printf '%s\n' '{"type":"page","anonymousId":"now1","messageId":"now1"}' \
    '{"type":"page","anonymousId":"now2","messageId":"now2","timestamp":"2025-01-01T00:00:00Z"}' >untimed.ndjson
run cdp-ingest --db "$T/dbu" --now 2025-06-15T12:00:00Z untimed.ndjson
check "untimed event: exit 0" test "$status" -eq 0
check "untimed event: counted as landed" err_starts "cdp-ingest: 2 read, 2 landed, 0 duplicates, 0 rejected"
check "untimed event: the summary says it took the time of import" \
    err_line "cdp-ingest: 1 events had no timestamp and took the time of import"
check_eq "untimed event: first_seen is --now" \
    "$("$CDP_BIN/cdp-export" --db "$T/dbu" --lookup anon:now1 | jq -r '[.first_seen,.last_seen]|join(" ")')" \
    "2025-06-15T12:00:00.000Z 2025-06-15T12:00:00.000Z"
run cdp-ingest --db "$T/dbu2" --now 1750000000 untimed.ndjson
check_eq "--now in epoch seconds" \
    "$("$CDP_BIN/cdp-export" --db "$T/dbu2" --lookup anon:now1 | jq -r .first_seen)" "2025-06-15T15:06:40.000Z"
run cdp-ingest --db "$T/dbu" --now 2030-01-01T00:00:00Z untimed.ndjson
check "untimed event imported again: a duplicate" err_starts "cdp-ingest: 2 read, 0 landed, 2 duplicates"
run cdp-ingest --db "$T/dbu3" --now yesterday untimed.ndjson
check "--now that is not a time: usage error" test "$status" -eq 2
check "--now that is not a time: message" err_line "cdp-ingest: --now: cannot read 'yesterday' as a time"
run cdp-ingest --db "$T/dbu4" --source "$(printf 'web\377')" untimed.ndjson
check "--source that is not UTF-8: usage error" test "$status" -eq 2
check "--source that is not UTF-8: message" err_line "cdp-ingest: --source must be UTF-8 text"
check "--source that is not UTF-8: no store made" test ! -e "$T/dbu4"
finish
