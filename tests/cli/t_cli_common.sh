#!/bin/sh
# What every program does the same way: --help, --version, unknown options,
# the store chosen by --db or CDP_DB, a closed pipe, a full disk, and (for
# cdp-ingest) a file operand that cannot be read.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1

is_empty() {
    test ! -s "$1"
}

for prog in cdp-ingest cdp-export; do
    run "$prog" --help
    check "$prog --help: exit 0" test "$status" -eq 0
    check "$prog --help: usage on stdout" grep -q "^Usage: $prog " "$out"
    check "$prog --help: lists the common options" grep -q -- "--db DIR" "$out"
    check "$prog --help: nothing on stderr" is_empty "$err"
    run "$prog" -h
    check "$prog -h: usage on stdout" grep -q "^Usage: $prog " "$out"

    run "$prog" --version
    check "$prog --version: exit 0" test "$status" -eq 0
    check "$prog --version: name and version" grep -Eq "^$prog \\(cdp\\) [0-9]+\\.[0-9]+(\\.[0-9]+)?" "$out"
    check_eq "$prog --version: one line" "$(wc -l <"$out" | tr -d ' ')" 1
    run "$prog" -V
    check "$prog -V: the same" grep -Eq "^$prog \\(cdp\\) [0-9]" "$out"

    run "$prog" --no-such-option
    check "$prog unknown long option: exit 2" test "$status" -eq 2
    check "$prog unknown long option: try --help" err_line "Try '$prog --help' for more information."
    check "$prog unknown long option: nothing on stdout" is_empty "$out"
    run "$prog" -Z
    check "$prog unknown short option: exit 2" test "$status" -eq 2
    check "$prog unknown short option: try --help" err_line "Try '$prog --help' for more information."

    "$CDP_BIN/$prog" --help >/dev/full 2>"$err"
    status=$?
    check "$prog --help to /dev/full: exit 1" test "$status" -eq 1
    check "$prog --help to /dev/full: write error" err_starts "$prog: write error"
done

# ---------------------------------------------------------------------------
# --db and CDP_DB choose the store; --db wins over CDP_DB.
printf '%s\n' '{"type":"page","anonymousId":"s1","timestamp":"2025-01-01T00:00:00Z","messageId":"s1"}' >one.ndjson
printf '%s\n' '{"type":"page","anonymousId":"s2","timestamp":"2025-01-01T00:00:00Z","messageId":"s2"}' >two.ndjson
CDP_DB=$T/env "$CDP_BIN/cdp-ingest" -q one.ndjson
CDP_DB=$T/env "$CDP_BIN/cdp-ingest" -q --db "$T/opt" two.ndjson
CDP_DB=$T/env "$CDP_BIN/cdp-ingest" -q -d "$T/short" two.ndjson
check "CDP_DB: the store is created there" test -f "$T/env/data.mdb"
check "--db: the store is created there" test -f "$T/opt/data.mdb"
check "-d: the store is created there" test -f "$T/short/data.mdb"
check "no store in the current directory" test ! -e "$T/cdp.db"
check_eq "cdp-export with CDP_DB" \
    "$(CDP_DB=$T/env "$CDP_BIN/cdp-export" | jq -r '.identifiers|join(" ")')" "anon:s1"
check_eq "cdp-export with --db (over CDP_DB)" \
    "$(CDP_DB=$T/env "$CDP_BIN/cdp-export" --db "$T/opt" | jq -r '.identifiers|join(" ")')" "anon:s2"
check_eq "cdp-export with -d" "$("$CDP_BIN/cdp-export" -d "$T/short" | jq -r '.identifiers|join(" ")')" "anon:s2"
check_eq "--db went to its store only" \
    "$(CDP_DB=$T/env "$CDP_BIN/cdp-export" --lookup anon:s2 2>&1)" "cdp-export: no profile holds anon:s2"
run cdp-ingest --db "" one.ndjson
check "--db with an empty name: usage error" test "$status" -eq 2

# ---------------------------------------------------------------------------
# Many profiles: a reader that stops early, and a full disk.
awk 'BEGIN { for (i = 1; i <= 2000; i++)
    printf "{\"type\":\"page\",\"anonymousId\":\"m%d\",\"timestamp\":\"2025-01-01T00:00:00Z\",\"messageId\":\"m%d\"}\n", i, i }' >many.ndjson
run cdp-ingest many.ndjson
check "2000 profiles: summary" err_starts "cdp-ingest: 2000 read, 2000 landed, 0 duplicates, 0 rejected, 0 warnings, 2000 profiles created"
"$CDP_BIN/cdp-export" >all.ndjson 2>/dev/null
check "the export is larger than a pipe holds" test "$(wc -c <all.ndjson)" -gt 200000

({ "$CDP_BIN/cdp-export" 2>head.err; echo $? >head.status; } | head -n 1 >head.out)
check_eq "export | head -n 1: exit 0" "$(cat head.status)" 0
check "export | head -n 1: nothing on stderr" is_empty head.err
check_eq "export | head -n 1: the first profile" "$(cat head.out)" "$(head -n 1 all.ndjson)"
({ "$CDP_BIN/cdp-export" -f csv 2>head.err; echo $? >head.status; } | head -n 1 >head.out)
check_eq "export -f csv | head -n 1: exit 0" "$(cat head.status)" 0
check "export -f csv | head -n 1: nothing on stderr" is_empty head.err

"$CDP_BIN/cdp-export" >/dev/full 2>"$err"
status=$?
check "export to /dev/full: exit 1" test "$status" -eq 1
check "export to /dev/full: write error" err_starts "cdp-export: write error"
run cdp-export -o /dev/full
check "export -o /dev/full: exit 1" test "$status" -eq 1
check "export -o /dev/full: write error" err_starts "cdp-export: write error"
"$CDP_BIN/cdp-export" --lookup anon:m1 >/dev/full 2>"$err"
status=$?
check "export --lookup to /dev/full: exit 1" test "$status" -eq 1
check "export --lookup to /dev/full: write error" err_starts "cdp-export: write error"
"$CDP_BIN/cdp-export" -f csv >/dev/full 2>"$err"
status=$?
check "export -f csv to /dev/full: exit 1" test "$status" -eq 1
check "export -f csv to /dev/full: write error" err_starts "cdp-export: write error"

# ---------------------------------------------------------------------------
# A file operand that does not exist: a warning, exit 1, the others land.
printf '%s\n' '{"type":"page","anonymousId":"f1","timestamp":"2025-01-01T00:00:00Z","messageId":"f1"}' >f1.ndjson
printf '%s\n' '{"type":"page","anonymousId":"f2","timestamp":"2025-01-01T00:00:00Z","messageId":"f2"}' >f2.ndjson
run cdp-ingest --db "$T/dbf" f1.ndjson missing.ndjson f2.ndjson
check "missing file: exit 1" test "$status" -eq 1
check "missing file: warning names it" err_line "cdp-ingest: missing.ndjson: No such file or directory"
check "missing file: the others counted" err_starts "cdp-ingest: 2 read, 2 landed, 0 duplicates, 0 rejected"
check_eq "missing file: the others land" \
    "$("$CDP_BIN/cdp-export" --db "$T/dbf" | jq -r '.identifiers[]' | sort | tr '\n' ' ')" "anon:f1 anon:f2 "
run cdp-ingest --db "$T/dbf2" missing.ndjson
check "only a missing file: exit 1" test "$status" -eq 1
printf '%s\n' '{"type":"page", bad' >bad.ndjson
run cdp-ingest --db "$T/dbf3" missing.ndjson bad.ndjson
check "missing file and a reject: failure wins (exit 1)" test "$status" -eq 1
check "missing file and a reject: the reject is reported" err_starts "cdp-ingest: bad.ndjson:1: invalid JSON"
# '-' is stdin among files.
run cdp-ingest --db "$T/dbf4" f1.ndjson - <f2.ndjson
check_eq "'-' reads stdin" \
    "$("$CDP_BIN/cdp-export" --db "$T/dbf4" | jq -r '.identifiers[]' | sort | tr '\n' ' ')" "anon:f1 anon:f2 "

# cdp-export takes no operand.
run cdp-export extra
check "cdp-export with an operand: exit 2" test "$status" -eq 2
check "cdp-export with an operand: message" err_line "cdp-export: unexpected argument 'extra'"
finish
