#!/bin/sh
# Builds the libFuzzer targets (tests/fuzz/fuzz_*.c) with clang, AddressSanitizer
# and UndefinedBehaviorSanitizer against the library sources (lib/*.c, compiled
# here with the same flags), then runs each one from its seed corpus
# (tests/fuzz/corpus/NAME/).  Each target is one test; the last line is
# "N passed, N failed", and the exit status is non-zero when one failed.
#
#   FUZZ_SECONDS=n     how long each target runs (default 20)
#   FUZZ_CC=cc         the compiler (default clang)
#   FUZZ_TARGETS="a b" run only these targets (names without .c)
#   FUZZ_ARTIFACTS=dir copy the inputs that made a target fail into dir
#   FUZZ_REPLAY=1      do not fuzz: run each target once on the inputs saved in
#                      tests/fuzz/crashes/NAME-* (failures found earlier)
#
# Everything is built and run in a temporary directory removed at the end;
# nothing is written into the source tree.  Without clang or libFuzzer the
# script says so and reports "0 passed, 0 failed".
set -u
LC_ALL=C
export LC_ALL
top=$(cd "$(dirname "$0")/../.." && pwd)
here=$top/tests/fuzz
seconds=${FUZZ_SECONDS:-20}
cc=${FUZZ_CC:-clang}

case $seconds in '' | *[!0-9]*) echo "fuzz: FUZZ_SECONDS must be a number of seconds" >&2; exit 2 ;; esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
trap 'rm -rf "$work"; exit 130' INT TERM

skip() {
    echo "fuzz: $1; fuzz targets not run"
    echo "0 passed, 0 failed"
    exit 0
}

command -v "$cc" >/dev/null 2>&1 || skip "no $cc found (clang is needed for libFuzzer)"
cat >"$work/probe.c" <<'EOF'
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { (void)data; (void)size; return 0; }
EOF
"$cc" -fsanitize=fuzzer,address,undefined -o "$work/probe" "$work/probe.c" >"$work/probe.log" 2>&1 ||
    skip "$cc cannot build libFuzzer targets (-fsanitize=fuzzer,address,undefined)"

pkgs="jansson lmdb libxxhash libsodium libzstd libutf8proc"
pkg_cflags=$(pkg-config --cflags $pkgs 2>/dev/null) || pkg_cflags=
pkg_libs=$(pkg-config --libs $pkgs 2>/dev/null) || pkg_libs="-ljansson -llmdb -lxxhash -lsodium -lzstd -lutf8proc"
cflags="-std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer -Wall -Wextra
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I$top/lib $pkg_cflags"
libs="$pkg_libs -lcsv -lm"

passed=0
failed=0

# Every library source, compiled once with the fuzzing flags.
mkdir -p "$work/obj" "$work/bin" "$work/tmp" "$work/artifacts"
lib_ok=true
objs=
for src in "$top"/lib/*.c; do
    obj=$work/obj/$(basename "$src" .c).o
    # shellcheck disable=SC2086
    if ! "$cc" $cflags -c -o "$obj" "$src" >"$work/build.log" 2>&1; then
        echo "fuzz: cannot compile lib/$(basename "$src"):"
        sed 's/^/    /' "$work/build.log" | head -n 20
        lib_ok=false
    fi
    objs="$objs $obj"
done

if [ -n "${FUZZ_TARGETS:-}" ]; then
    targets=
    for t in $FUZZ_TARGETS; do targets="$targets $here/$t.c"; done
else
    targets=$(ls "$here"/fuzz_*.c 2>/dev/null)
fi

for src in $targets; do
    name=$(basename "$src" .c)
    if [ ! -f "$src" ]; then
        echo "fuzz $name: FAILED (no $name.c)"
        failed=$((failed + 1))
        continue
    fi
    if ! $lib_ok; then
        echo "fuzz $name: FAILED (the library did not build)"
        failed=$((failed + 1))
        continue
    fi
    bin=$work/bin/$name
    # shellcheck disable=SC2086
    if ! "$cc" $cflags -o "$bin" "$src" $objs $libs >"$work/build.log" 2>&1; then
        echo "fuzz $name: FAILED (build)"
        sed 's/^/    /' "$work/build.log" | head -n 30
        failed=$((failed + 1))
        continue
    fi

    # New inputs go to a scratch corpus; the seeds in the tree are only read.
    corpus=$work/corpus/$name
    mkdir -p "$corpus"
    seeds=
    [ -d "$here/corpus/$name" ] && seeds=$here/corpus/$name
    dict=
    case $name in fuzz_ndjson | fuzz_ingest) dict=$here/json.dict ;; esac
    [ -f "$here/$name.dict" ] && dict=$here/$name.dict
    [ -n "$dict" ] && [ -f "$dict" ] && dict=-dict=$dict || dict=
    log=$work/$name.log
    if [ "${FUZZ_REPLAY:-0}" = 1 ]; then
        saved=$(ls "$here/crashes/$name"-* 2>/dev/null)
        if [ -z "$saved" ]; then
            echo "fuzz $name: ok (no saved inputs)"
            passed=$((passed + 1))
            continue
        fi
        # shellcheck disable=SC2086
        (cd "$work/tmp" &&
            TMPDIR=$work/tmp ASAN_OPTIONS=detect_leaks=1 \
            UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 "$bin" $saved) >"$log" 2>&1
        status=$?
        if [ "$status" -eq 0 ]; then
            echo "fuzz $name: ok ($(echo "$saved" | wc -l | tr -d ' ') saved inputs replayed)"
            passed=$((passed + 1))
        else
            failed=$((failed + 1))
            echo "fuzz $name: FAILED on a saved input (exit $status)"
            grep -E 'Running: |ERROR: |runtime error|property failed|SUMMARY|^ *#[0-9]+ ' "$log" |
                grep -v 'in fuzzer::' | head -n 40 | sed 's/^/    /'
        fi
        continue
    fi
    # shellcheck disable=SC2086
    (cd "$work/tmp" &&
        TMPDIR=$work/tmp \
        ASAN_OPTIONS=detect_leaks=1 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "$bin" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
            $dict -artifact_prefix="$work/artifacts/$name-" "$corpus" $seeds) >"$log" 2>&1
    status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
    [ -n "$runs" ] || runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n 1)
    if [ "$status" -eq 0 ] && grep -q '^Done [0-9]* runs' "$log"; then
        echo "fuzz $name: ok (${runs:-0} runs)"
        passed=$((passed + 1))
        continue
    fi
    failed=$((failed + 1))
    echo "fuzz $name: FAILED (exit $status after ${runs:-?} runs)"
    grep -E 'ERROR: |runtime error|property failed|fuzz_ingest: |SUMMARY|^ *#[0-9]+ |leak of' \
        "$log" | grep -v 'in fuzzer::' | head -n 40 | sed 's/^/    /'
    for a in "$work/artifacts/$name"-*; do
        [ -f "$a" ] || continue
        echo "    input ($(wc -c <"$a" | tr -d ' ') bytes), first bytes:"
        od -A d -c "$a" | head -n 8 | sed 's/^/      /'
        if [ -n "${FUZZ_ARTIFACTS:-}" ]; then
            mkdir -p "$FUZZ_ARTIFACTS" && cp "$a" "$FUZZ_ARTIFACTS/" &&
                echo "    kept as $FUZZ_ARTIFACTS/$(basename "$a")"
        fi
    done
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
