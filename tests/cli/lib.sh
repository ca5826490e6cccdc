# Shared setup of the command-line tests; each t_*.sh sources it.
#
#   run cdp-ingest ARGS...   runs a program; its stdout, stderr and exit status
#                            land in $out, $err and $status
#   check NAME COMMAND...    one assertion: passes when COMMAND succeeds
#   check_eq NAME GOT WANT   one assertion on two strings
#   err_starts, err_line, err_count   look at what the last run wrote on stderr
#   finish                   prints "FILE: N passed, M failed" and exits
#
# Each test file gets its own temporary directory $T (removed at exit, kept
# when KEEP_T is set, to look into a failure) and an empty store directory
# $T/db in $CDP_DB.
set -u
LC_ALL=C
export LC_ALL
top=$(cd "$(dirname "$0")/../.." && pwd)
CDP_BIN=${CDP_BIN:-$top/cmd}
DATA=$top/tests/data
T=$(mktemp -d)
trap "${KEEP_T:+:} rm -rf \"$T\"" EXIT INT TERM
CDP_DB=$T/db
export CDP_DB
out=$T/stdout
err=$T/stderr
status=0
tests_passed=0
tests_failed=0

run() {
    prog=$1
    shift
    if [ "${CDP_VALGRIND:-0}" = 1 ]; then
        valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 \
            "$CDP_BIN/$prog" "$@" >"$out" 2>"$err"
    else
        "$CDP_BIN/$prog" "$@" >"$out" 2>"$err"
    fi
    status=$?
    if [ "$status" -ge 99 ] || grep -q 'Sanitizer\|runtime error:' "$err"; then
        echo "FAIL: $prog $*: crashed or a sanitizer/valgrind report (exit $status)"
        sed 's/^/    /' "$err" | head -n 30
        tests_failed=$((tests_failed + 1))
    fi
    return 0
}

check() {
    name=$1
    shift
    if "$@"; then
        tests_passed=$((tests_passed + 1))
    else
        tests_failed=$((tests_failed + 1))
        echo "FAIL: $name"
        echo "    command: $*"
        echo "    exit status of the last run: $status"
        sed 's/^/    stderr: /' "$err" 2>/dev/null | head -n 10
    fi
}

check_eq() {
    name=$1 got=$2 want=$3
    if [ "$got" = "$want" ]; then
        tests_passed=$((tests_passed + 1))
    else
        tests_failed=$((tests_failed + 1))
        echo "FAIL: $name"
        echo "    got:  $got"
        echo "    want: $want"
    fi
}

# True when a line of stderr starts with $1 (a fixed string).
err_starts() {
    awk -v p="$1" 'index($0, p) == 1 { found = 1 } END { exit !found }' "$err"
}

# True when stderr holds the line $1 exactly.
err_line() {
    grep -qxF -- "$1" "$err"
}

# The number of lines of stderr that start with $1.
err_count() {
    awk -v p="$1" 'index($0, p) == 1 { n++ } END { print n + 0 }' "$err"
}

# The value of a jq filter over the profile that holds identifier $1.
profile_field() {
    "$CDP_BIN/cdp-export" --lookup "$1" 2>/dev/null | jq -r "$2"
}

finish() {
    echo "$(basename "$0" .sh): $tests_passed passed, $tests_failed failed"
    [ "$tests_failed" -eq 0 ]
    exit $?
}
