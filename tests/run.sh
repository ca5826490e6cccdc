#!/bin/sh
# Runs every unit test (tests/unit/test_*) and command-line test
# (tests/cli/t_*.sh) and ends with one line: "N passed, N failed".
#
#   CDP_BIN=dir    where the programs are (default: cmd/)
#   CDP_UNIT=dir   where the unit test binaries are (default: tests/unit/)
#   CDP_VALGRIND=1 run the programs of the command-line tests under valgrind
set -u
LC_ALL=C
export LC_ALL
top=$(cd "$(dirname "$0")/.." && pwd)
CDP_BIN=${CDP_BIN:-$top/cmd}
CDP_UNIT=${CDP_UNIT:-$top/tests/unit}
case $CDP_BIN in /*) ;; *) CDP_BIN=$top/$CDP_BIN ;; esac
case $CDP_UNIT in /*) ;; *) CDP_UNIT=$top/$CDP_UNIT ;; esac
export CDP_BIN CDP_UNIT
passed=0
failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# Adds up the "N passed, M failed" line a test printed last; a test that
# printed none, or died, counts as one failure.
count() {
    name=$1 status=$2 log=$3
    line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    if [ -z "$line" ]; then
        echo "FAIL $name: no result line (exit $status)"
        tail -n 20 "$log" | sed 's/^/    /'
        failed=$((failed + 1))
        return
    fi
    p=$(echo "$line" | sed -E 's/^(.*[^0-9])?([0-9]+) passed, ([0-9]+) failed.*$/\2/')
    f=$(echo "$line" | sed -E 's/^(.*[^0-9])?([0-9]+) passed, ([0-9]+) failed.*$/\3/')
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$f" -gt 0 ] || { [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; }; then
        [ "$f" -gt 0 ] || failed=$((failed + 1))
        echo "FAIL $name ($p passed, $f failed, exit $status)"
        grep -E 'FAIL' "$log" | head -n 40 | sed 's/^/    /'
    else
        echo "ok   $name ($p passed)"
    fi
}

for t in "$CDP_UNIT"/test_*; do
    case $t in *.c | *.h) continue ;; esac
    [ -x "$t" ] || continue
    name=unit/$(basename "$t")
    "$t" >"$tmp/log" 2>&1
    count "$name" $? "$tmp/log"
done

for t in "$top"/tests/cli/t_*.sh; do
    [ -f "$t" ] || continue
    name=cli/$(basename "$t" .sh)
    sh "$t" >"$tmp/log" 2>&1
    count "$name" $? "$tmp/log"
done

if [ $((passed + failed)) -eq 0 ]; then
    echo "no tests ran"
    echo "0 passed, 1 failed"
    exit 1
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
