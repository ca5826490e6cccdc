#!/usr/bin/env bash
# bench-segment.sh - compare cdp-segment with jq and SQLite on the same questions.
#
# Usage: scripts/bench-segment.sh [PROFILES]      (default: 1000000)
#        e.g. scripts/bench-segment.sh 20000      (a quick check)
#
# Run from the repository root after `make` (and `sh scripts/install-deps.sh
# --bench` for sqlite3 and GNU time). With PROFILES=N it
#
#   1. generates about N profiles' worth of events, once:
#          cdp-gen --events 2P --people P --seed 1      with P = 4N/3
#      (about 2 events a person; 8% of the people have no event and a
#      quarter never log in, so their devices stay apart: the store ends up
#      with about N profiles, and the script prints the actual count), and
#      ingests them with `cdp-ingest --country FR` (timed and its summary
#      printed for information, not part of the comparison);
#   2. exports the profiles once with `cdp-export` to NDJSON (the file jq
#      reads; timed for information);
#   3. loads the same data into SQLite (not counted): a table of profiles
#      (id and the computed fields the questions use), a table of their
#      identifiers (from the export) and a table of the generator's events
#      (the very file that was ingested: name, time, and the identifier
#      cdp-ingest files it under: "user:" userId when there is one, else
#      "anon:" anonymousId), with indexes on the join keys and on
#      events(event, time);
#   4. answers two questions, with --now fixed so the answers do not move:
#        Q1 computed fields only:
#             computed.revenue_total > 100 or
#             (computed.visits >= 3 and computed.page_views >= 5)
#           cdp-segment --count (and --ids, to see the cost of output),
#           jq over the export, SQLite over the profiles table;
#        Q2 with an event condition:
#             computed.visits >= 2 and
#             count(event = 'Product Viewed', within 90d) >= 2
#           cdp-segment --count; SQLite joins events to identifiers to
#           profiles; jq reads the events file and then the export in one
#           pass, counting the matching events by identifier first.
#      The cdp-export NDJSON has no events, so the jq and SQL forms of Q2
#      also read the generator's events and take the identity graph (which
#      event belongs to which profile) from the export's identifiers: they
#      answer the same question only because every event's userId, else its
#      anonymousId, is among the identifiers of the profile cdp filed it
#      under. The script checks it: every tool must return the same count,
#      or it prints MISMATCH and exits 1.
#   5. times each command with /usr/bin/time (user, sys, max RSS; elapsed
#      from the shell's microsecond clock): one warm-up run (page cache
#      warm; its output is the answer that is checked), then BENCH_RUNS runs
#      whose medians are reported; jq on Q2 runs once (see BENCH_Q2_JQ).
#      jq, sqlite3 and cdp-segment all run pinned to one core (taskset -c
#      BENCH_CPU) when taskset is there: the target is "on one core".
#
# It prints a line per command (median elapsed, user and sys, largest RSS
# and its answer), then one summary line per question: the matches, the
# times, the ratios jq/cdp and sqlite/cdp by elapsed time and by CPU time
# (user + sys, steadier on a busy machine), and the 1-minute load average
# after it. The machines are shared: a load above the number of cores
# means the figures are pessimistic, and the script says so. cdp-segment's
# RSS counts the store pages it maps: the profile pages it reads and, by the
# kernel's fault-around, their neighbours that are in the page cache (0.4 to
# 1.7 GB at 1,000,000 profiles, depending on what is cached). They are
# shared page cache, not memory the scan allocates.
#
# Targets (Q1, cdp-segment --count): under 1.0 s for 1,000,000 profiles on
# one core, and at least 10 times faster than jq. A missed target is flagged
# MISSED but does not change the exit status; a missing tool, a failing
# command or a MISMATCH between the tools does (exit 1).
#
# Environment:
#   CDP_GEN      generator binary     (default: scripts/cdp-gen)
#   CDP_INGEST   ingest binary        (default: ./cmd/cdp-ingest)
#   CDP_EXPORT   export binary        (default: ./cmd/cdp-export)
#   CDP_SEGMENT  segment binary       (default: ./cmd/cdp-segment)
#   JQ           jq binary            (default: jq)
#   SQLITE       sqlite3 binary       (default: sqlite3)
#   BENCH_RUNS   timed runs per command, after one warm-up (default: 3)
#   BENCH_CPU    the core to pin to   (default: 0; empty: no pinning)
#   BENCH_Q2_JQ  once (default): jq answers Q2 in one run, no warm-up (over
#                a minute at 1,000,000 profiles, far above the noise);
#                full: warm-up and BENCH_RUNS runs like the others; skip
#   BENCH_NOW    the time taken as now (default: 2025-12-01T00:00:00Z, inside
#                the generator's default year 2025)
#   BENCH_STORE  an existing store to use instead of generating and ingesting
#                (it is opened read-only and kept); it must hold the events of
#                BENCH_EVENTS, or else of the generator run above for the same
#                PROFILES (regenerated here, as cdp-gen is deterministic), or
#                Q2's answers will not agree
#   BENCH_EVENTS the events file the store was built from (with BENCH_STORE)
#   BENCH_KEEP   1: keep the working directory (events, store, export, SQLite
#                database) and print where it is
#   TMPDIR       where the working directory goes; at 1,000,000 profiles it
#                needs about 8 GB at the peak (events 1.8 GB, store 1.7 GB,
#                export 0.7 GB, SQLite 0.7 GB and 2.5 GB of scratch while
#                loading)

set -u
export LC_ALL=C # decimal points in the shell's clock, awk and sort

CDP_GEN=${CDP_GEN:-scripts/cdp-gen}
CDP_INGEST=${CDP_INGEST:-./cmd/cdp-ingest}
CDP_EXPORT=${CDP_EXPORT:-./cmd/cdp-export}
CDP_SEGMENT=${CDP_SEGMENT:-./cmd/cdp-segment}
JQ=${JQ:-jq}
SQLITE=${SQLITE:-sqlite3}
RUNS=${BENCH_RUNS:-3}
CPU=${BENCH_CPU-0}
NOW=${BENCH_NOW:-2025-12-01T00:00:00Z}
Q2_JQ=${BENCH_Q2_JQ:-once}
TIME=/usr/bin/time
SEED=1
TIME_TARGET=1.0
JQ_RATIO_TARGET=10

# The questions, in each tool's language.
Q1_CDP='computed.revenue_total > 100 or (computed.visits >= 3 and computed.page_views >= 5)'
Q1_JQ='.computed.revenue_total > 100 or (.computed.visits >= 3 and .computed.page_views >= 5)'
Q1_SQL='revenue_total > 100 OR (visits >= 3 AND page_views >= 5)'
Q2_DAYS=90
Q2_EVENT='Product Viewed'
Q2_CDP="computed.visits >= 2 and count(event = '$Q2_EVENT', within ${Q2_DAYS}d) >= 2"

die() {
    printf 'bench-segment: %s\n' "$*" >&2
    exit 1
}

# Resolves a command name or path to something executable, or fails.
have() {
    case $1 in
    */*) [ -x "$1" ] && [ ! -d "$1" ] ;;
    *) command -v "$1" >/dev/null 2>&1 ;;
    esac
}

missing=""
have "$TIME" || missing="$missing
  $TIME (GNU time; Debian package 'time': sh scripts/install-deps.sh --bench)"
have "$JQ" || missing="$missing
  $JQ (Debian package 'jq', or set JQ=...)"
have "$SQLITE" || missing="$missing
  $SQLITE (Debian package 'sqlite3': sh scripts/install-deps.sh --bench, or set SQLITE=...)"
have "$CDP_SEGMENT" || missing="$missing
  $CDP_SEGMENT (run 'make' first, or set CDP_SEGMENT=...)"
have "$CDP_EXPORT" || missing="$missing
  $CDP_EXPORT (run 'make' first, or set CDP_EXPORT=...)"
if [ -z "${BENCH_STORE:-}" ] || [ -z "${BENCH_EVENTS:-}" ]; then
    have "$CDP_GEN" || missing="$missing
  $CDP_GEN (run 'make' first, or set CDP_GEN=...)"
fi
if [ -z "${BENCH_STORE:-}" ]; then
    have "$CDP_INGEST" || missing="$missing
  $CDP_INGEST (run 'make' first, or set CDP_INGEST=...)"
fi
[ -n "$missing" ] && die "missing tools:$missing"

case $RUNS in
'' | *[!0-9]* | 0) die "BENCH_RUNS must be a positive integer, not '$RUNS'" ;;
esac
case $Q2_JQ in
once | full | skip) ;;
*) die "BENCH_Q2_JQ must be once, full or skip, not '$Q2_JQ'" ;;
esac
[ $# -le 1 ] || die "one profile count at most (usage: $0 [PROFILES])"
n=${1:-1000000}
case $n in
'' | *[!0-9]* | 0) die "not a positive profile count: '$n'" ;;
esac
now_s=$(date -u -d "$NOW" +%s 2>/dev/null) || die "BENCH_NOW: not a time GNU date understands: '$NOW'"
# Q2's window as cdp-segment sees it: [now - 90d, now], both ends included.
win_from=$(date -u -d "@$((now_s - Q2_DAYS * 86400))" +%Y-%m-%dT%H:%M:%S.000Z)
win_to=$(date -u -d "@$now_s" +%Y-%m-%dT%H:%M:%S.000Z)

pin=()
if [ -n "$CPU" ]; then
    if have taskset; then
        pin=(taskset -c "$CPU")
        taskset -c "$CPU" true 2>/dev/null || die "BENCH_CPU=$CPU: taskset cannot pin to that core"
    else
        printf 'bench-segment: taskset not found (Debian package util-linux): not pinning to one core\n' >&2
    fi
fi

if [ -n "${BENCH_STORE:-}" ]; then
    [ -f "$BENCH_STORE/data.mdb" ] || die "BENCH_STORE=$BENCH_STORE: no store there (no data.mdb)"
    if [ -n "${BENCH_EVENTS:-}" ]; then
        [ -r "$BENCH_EVENTS" ] || die "BENCH_EVENTS=$BENCH_EVENTS: cannot read it"
    fi
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-segment.XXXXXX") || die "cannot create a temporary directory"
if [ "${BENCH_KEEP:-}" = 1 ]; then
    trap 'printf "kept: %s\n" "$tmp" >&2' EXIT
else
    trap 'rm -rf "$tmp"' EXIT
fi
trap 'exit 130' INT TERM

ncpu=$(nproc 2>/dev/null || echo '?')
loadavg() {
    cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo '?'
}

# Machine and tool versions, once.
cpu=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo 2>/dev/null | head -n 1)
[ -n "$cpu" ] || cpu=$(uname -m)
printf 'machine: %s cpus, %s; load average at start: %s\n' "$ncpu" "$cpu" \
    "$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
printf 'jq: %s; sqlite3: %s\n' "$("$JQ" --version 2>&1 | head -n 1)" \
    "$("$SQLITE" --version 2>&1 | cut -d' ' -f1)"
ver=$("$CDP_SEGMENT" --version 2>/dev/null | head -n 1)
printf 'cdp-segment: %s%s\n' "$CDP_SEGMENT" "${ver:+ ($ver)}"
# shellcheck disable=SC2016 # the quotes are meant literally
printf 'runs per command: 1 warm-up + %s (median reported)%s\n' "$RUNS" \
    "${pin[*]:+; every query pinned with '${pin[*]}'}"

# timed OUT DEST CMD... : runs CMD (pinned) under /usr/bin/time with stdout
# to DEST; leaves "elapsed user sys maxrss_kib" on the last line of OUT.
# Returns CMD's status.
timed() {
    local out=$1 dest=$2 t0 t1 rc
    shift 2
    t0=${EPOCHREALTIME:-}
    "$TIME" -f '%e %U %S %M' -o "$out" "${pin[@]}" "$@" >"$dest" 2>"$out.err"
    rc=$?
    t1=${EPOCHREALTIME:-}
    # %e counts in steps of 10 ms; the shell's clock (bash 5) has microseconds.
    if [ $rc -eq 0 ] && [ -n "$t0" ] && [ -n "$t1" ]; then
        local line
        line=$(tail -n 1 "$out")
        awk -v a="$t0" -v b="$t1" -v l="$line" \
            'BEGIN { split(l, f, " "); printf "%.4f %s %s %s\n", b - a, f[2], f[3], f[4] }' >>"$out"
    fi
    return $rc
}

# untimed-by-the-comparison steps: "elapsed" of a command, not pinned.
step() {
    local out=$1 dest=$2
    shift 2
    "$TIME" -f '%e %U %S %M' -o "$out" "$@" >"$dest" 2>"$out.err"
}

field() { # field N FILE: the Nth number of the last line /usr/bin/time wrote
    tail -n 1 "$2" | cut -d' ' -f"$1"
}

median() {
    sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}

failure() { # failure WHAT: the error output of the last command
    printf '%s FAILED: %s\n' "$1" "$(cat "$tmp/t.err" "$tmp/t" 2>/dev/null | tail -n 4 | tr '\n' ' ')"
}

mib() {
    awk -v b="$1" 'BEGIN { printf "%.0f", b / 1048576 }'
}

failed=0

# ---- the data ----

people=$(((n * 4 + 2) / 3))
events_n=$((people * 2))
gen_args=(--events "$events_n" --people "$people" --seed "$SEED")

if [ -n "${BENCH_STORE:-}" ] && [ -n "${BENCH_EVENTS:-}" ]; then
    events=$BENCH_EVENTS
    printf 'events: %s (BENCH_EVENTS)\n' "$events"
else
    events=$tmp/events.ndjson
    printf 'generating: cdp-gen %s\n' "${gen_args[*]}" >&2
    step "$tmp/t" "$events" "$CDP_GEN" "${gen_args[@]}" || {
        failure "generation ($CDP_GEN)"
        exit 1
    }
    printf 'events: cdp-gen %s: %s MB in %ss\n' "${gen_args[*]}" \
        "$(mib "$(wc -c <"$events")")" "$(field 1 "$tmp/t")"
fi

if [ -n "${BENCH_STORE:-}" ]; then
    store=$BENCH_STORE
    printf 'store: %s (BENCH_STORE, not rebuilt)\n' "$store"
else
    store=$tmp/store
    printf 'ingesting...\n' >&2
    step "$tmp/t" /dev/null "$CDP_INGEST" --country FR -d "$store" "$events"
    rc=$?
    if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then
        failure "ingest ($CDP_INGEST)"
        exit 1
    fi
    printf 'ingest (not measured): %ss, peak RSS %s MB, store %s MB; %s\n' "$(field 1 "$tmp/t")" \
        "$(($(field 4 "$tmp/t") / 1024))" "$(($(du -sk "$store" | cut -f1) / 1024))" \
        "$(grep -v '^Command exited' "$tmp/t.err" | tail -n 1)"
fi

profiles=$("$CDP_SEGMENT" -d "$store" --count 'computed.events_count >= 0' 2>"$tmp/t.err") || {
    failure "counting the profiles ($CDP_SEGMENT)"
    exit 1
}

printf 'exporting...\n' >&2
export_file=$tmp/profiles.ndjson
step "$tmp/t" "$export_file" "$CDP_EXPORT" -d "$store" || {
    failure "export ($CDP_EXPORT)"
    exit 1
}
exported=$(wc -l <"$export_file" | tr -d ' ')
printf 'profiles: %s (cdp-segment --count); export (not measured): %s lines, %s MB in %ss\n' \
    "$profiles" "$exported" "$(mib "$(wc -c <"$export_file")")" "$(field 1 "$tmp/t")"
if [ "$profiles" != "$exported" ]; then
    printf 'MISMATCH: cdp-segment counts %s profiles, cdp-export writes %s\n' "$profiles" "$exported"
    failed=1
fi

printf 'loading SQLite...\n' >&2
db=$tmp/bench.sqlite
scratch=$tmp/scratch.sqlite
# Lines are imported whole (ascii mode, unit separator 0x1f, which JSON text
# cannot hold raw), then taken apart with the JSON functions.
cat >"$tmp/load.sql" <<EOF_SQL
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
PRAGMA cache_size = -262144;
ATTACH '$scratch' AS s;
PRAGMA s.journal_mode = OFF;
PRAGMA s.synchronous = OFF;
CREATE TABLE s.raw(j TEXT);
.mode ascii
.separator "\037" "\n"
.import --schema s '$export_file' raw
CREATE TABLE profiles(id TEXT PRIMARY KEY, visits INTEGER, page_views INTEGER,
    orders_count INTEGER, revenue_total REAL, email_opens INTEGER, last_seen TEXT);
INSERT INTO profiles
SELECT json_extract(j, '\$.id'), json_extract(j, '\$.computed.visits'),
       json_extract(j, '\$.computed.page_views'), json_extract(j, '\$.computed.orders_count'),
       json_extract(j, '\$.computed.revenue_total'), json_extract(j, '\$.computed.email_opens'),
       json_extract(j, '\$.last_seen')
FROM s.raw;
CREATE TABLE identifiers(ident TEXT, profile TEXT);
INSERT INTO identifiers
SELECT i.value, json_extract(r.j, '\$.id') FROM s.raw r, json_each(r.j, '\$.identifiers') i;
CREATE INDEX identifiers_ident ON identifiers(ident);
DELETE FROM s.raw;
.import --schema s '$events' raw
CREATE TABLE events(ident TEXT, event TEXT, time TEXT);
INSERT INTO events
SELECT CASE WHEN json_extract(j, '\$.userId') IS NOT NULL THEN 'user:' || json_extract(j, '\$.userId')
            ELSE 'anon:' || json_extract(j, '\$.anonymousId') END,
       json_extract(j, '\$.event'),
       coalesce(json_extract(j, '\$.timestamp'), json_extract(j, '\$.originalTimestamp'),
                json_extract(j, '\$.sentAt'), json_extract(j, '\$.receivedAt'))
FROM s.raw;
DETACH s;
CREATE INDEX events_ident ON events(ident);
CREATE INDEX events_event_time ON events(event, time);
ANALYZE;
EOF_SQL
step "$tmp/t" /dev/null "$SQLITE" -batch -bail "$db" ".read '$tmp/load.sql'" || {
    failure "loading SQLite ($SQLITE)"
    exit 1
}
load_s=$(field 1 "$tmp/t")
rm -f "$scratch"
# Times are compared as text, which is exact only for one fixed format.
read -r sql_profiles sql_idents sql_dup_idents sql_events sql_odd_times <<EOF_C
$("$SQLITE" -batch -separator ' ' "$db" "SELECT (SELECT count(*) FROM profiles),
    (SELECT count(*) FROM identifiers),
    (SELECT count(*) - count(DISTINCT ident) FROM identifiers),
    (SELECT count(*) FROM events),
    (SELECT count(*) FROM events WHERE time IS NULL OR time NOT GLOB
      '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z')")
EOF_C
printf 'sqlite (load not measured): %ss, %s MB; %s profiles, %s identifiers, %s events\n' \
    "$load_s" "$(mib "$(wc -c <"$db")")" "$sql_profiles" "$sql_idents" "$sql_events"
if [ "$sql_profiles" != "$exported" ]; then
    printf 'MISMATCH: SQLite holds %s profiles, the export %s\n' "$sql_profiles" "$exported"
    failed=1
fi
[ "${sql_dup_idents:-0}" = 0 ] ||
    printf 'note: %s identifiers are held by more than one exported profile\n' "$sql_dup_idents"
[ "${sql_odd_times:-0}" = 0 ] ||
    printf 'note: %s event times are not YYYY-MM-DDTHH:MM:SS.mmmZ; the SQL and jq windows compare text\n' \
        "$sql_odd_times"

printf 'now: %s (Q2 window: %s .. %s)\n' "$NOW" "$win_from" "$win_to"
printf 'Q1: %s\n' "$Q1_CDP"
printf 'Q2: %s\n' "$Q2_CDP"

# ---- the measurements ----

# measure NAME WARMUP RUNS CMD... : with WARMUP=1 a warm-up run whose stdout
# goes to $tmp/NAME.out, then RUNS timed runs (stdout to /dev/null); with
# WARMUP=0 the first timed run's stdout goes to $tmp/NAME.out. Sets m_el,
# m_user, m_sys, m_cpu (user + sys; medians) and m_rss (KiB, the largest);
# returns 1 when a run failed.
measure() {
    local name=$1 warm=$2 runs=$3
    shift 3
    local els="" users="" syss="" cpus="" rsss="" i dest
    if [ "$warm" = 1 ]; then
        printf '  %s: warm-up\n' "$name" >&2
        timed "$tmp/t" "$tmp/$name.out" "$@" || return 1
    fi
    for i in $(seq 1 "$runs"); do
        printf '  %s: run %s/%s\n' "$name" "$i" "$runs" >&2
        dest=/dev/null
        [ "$warm" = 1 ] || [ "$i" -gt 1 ] || dest=$tmp/$name.out
        timed "$tmp/t" "$dest" "$@" || return 1
        els="$els $(field 1 "$tmp/t")"
        users="$users $(field 2 "$tmp/t")"
        syss="$syss $(field 3 "$tmp/t")"
        cpus="$cpus $(awk -v u="$(field 2 "$tmp/t")" -v s="$(field 3 "$tmp/t")" 'BEGIN { print u + s }')"
        rsss="$rsss $(field 4 "$tmp/t")"
    done
    # the lists are split into words on purpose
    # shellcheck disable=SC2086
    m_el=$(printf '%s\n' $els | median)
    # shellcheck disable=SC2086
    m_user=$(printf '%s\n' $users | median)
    # shellcheck disable=SC2086
    m_sys=$(printf '%s\n' $syss | median)
    # shellcheck disable=SC2086
    m_cpu=$(printf '%s\n' $cpus | median)
    # shellcheck disable=SC2086
    m_rss=$(printf '%s\n' $rsss | sort -n | tail -n 1)
    return 0
}

# answer NAME: the checked run's output: a count, or how many lines (--ids).
answer() {
    local a
    a=$(head -n 1 "$tmp/$1.out" | tr -d ' \r')
    case $a in
    '' | *[!0-9]*) printf '%s lines\n' "$(wc -l <"$tmp/$1.out" | tr -d ' ')" ;;
    *) printf '%s\n' "$a" ;;
    esac
}

# run_tool VAR LABEL WARMUP RUNS CMD...: measures CMD and prints a detail
# line; sets VAR_el and VAR_cpu, or prints FAILED and returns 1.
run_tool() {
    local var=$1 label=$2 warm=$3 runs=$4
    shift 4
    if ! measure "$var" "$warm" "$runs" "$@"; then
        failure "  $label"
        failed=1
        return 1
    fi
    printf -v "${var}_el" '%s' "$m_el"
    printf -v "${var}_cpu" '%s' "$m_cpu"
    awk -v l="$label" -v e="$m_el" -v u="$m_user" -v s="$m_sys" -v r="$m_rss" -v n="$runs" \
        -v a="$(answer "$var")" 'BEGIN {
        printf "  %-24s %9.3fs  user %7.2fs  sys %6.2fs  max RSS %5.0f MB  (%s run%s)  -> %s\n",
            l, e, u, s, r / 1024, n == 1 ? "one" : "median of " n, n == 1 ? "" : "s", a
    }'
    return 0
}

# check_same QUESTION NAME=COUNT...: MISMATCH unless all the counts agree.
check_same() {
    local q=$1 first=${2#*=} pair same=1
    shift
    for pair in "$@"; do
        case ${pair#*=} in
        '' | *[!0-9]*) same=0 ;;
        "$first") ;;
        *) same=0 ;;
        esac
    done
    [ $same -eq 1 ] && return 0
    printf 'MISMATCH %s: %s\n' "$q" "$*"
    failed=1
    return 1
}

# Q1: computed fields only.
printf 'Q1...\n' >&2
printf 'Q1 (computed fields only):\n'
ok=1
run_tool q1cdp "cdp-segment --count" 1 "$RUNS" \
    "$CDP_SEGMENT" -d "$store" --now "$NOW" --count "$Q1_CDP" || ok=0
run_tool q1ids "cdp-segment --ids" 1 "$RUNS" \
    "$CDP_SEGMENT" -d "$store" --now "$NOW" --ids "$Q1_CDP" || ok=0
run_tool q1jq "jq (export)" 1 "$RUNS" \
    "$JQ" -n "reduce (inputs | select($Q1_JQ)) as \$p (0; . + 1)" "$export_file" || ok=0
run_tool q1sql "sqlite3 (profiles)" 1 "$RUNS" \
    "$SQLITE" -readonly -batch "$db" "SELECT count(*) FROM profiles WHERE $Q1_SQL;" || ok=0
if [ $ok -eq 1 ]; then
    q1_matches=$(answer q1cdp)
    check_same q1 cdp="$q1_matches" cdp-ids="$(wc -l <"$tmp/q1ids.out" | tr -d ' ')" \
        jq="$(answer q1jq)" sqlite="$(answer q1sql)"
    # shellcheck disable=SC2154 # set by run_tool through printf -v
    awk -v n="$profiles" -v m="$q1_matches" -v cdp="$q1cdp_el" -v ids="$q1ids_el" -v jq="$q1jq_el" \
        -v sql="$q1sql_el" -v cdpc="$q1cdp_cpu" -v jqc="$q1jq_cpu" -v sqlc="$q1sql_cpu" \
        -v tt="$TIME_TARGET" -v rt="$JQ_RATIO_TARGET" -v load="$(loadavg)" 'BEGIN {
        jr = cdp > 0 ? jq / cdp : 1e9
        sr = cdp > 0 ? sql / cdp : 1e9
        jrc = cdpc > 0 ? sprintf("%.1f", jqc / cdpc) : "n/a"
        src = cdpc > 0 ? sprintf("%.2f", sqlc / cdpc) : "n/a"
        rate = cdp > 0 ? n / cdp : 0
        tflag = cdp < tt + 0 ? "" : " MISSED"
        rflag = jr >= rt + 0 ? "" : " MISSED"
        printf "q1 computed profiles=%d matches=%d cdp=%.3fs (target < %ss%s)", n, m, cdp, tt, tflag
        printf " jq=%.2fs jq/cdp=%.1f (target >= %s%s)", jq, jr, rt, rflag
        printf " sqlite=%.3fs sqlite/cdp=%.2f cdp_ids=%.3fs", sql, sr, ids
        printf " cpu_ratios: jq/cdp=%s sqlite/cdp=%s profiles/s=%.0f load=%s\n", jrc, src, rate, load
    }'
fi

# Q2: an event condition.
printf 'Q2...\n' >&2
printf 'Q2 (with an event condition):\n'
# jq: one pass over the events, then the profiles. Each line is first
# reduced to what the question needs ({k: identifier} for a matching event,
# under the identifier cdp files it under; {p: identifiers} for a profile
# with visits >= 2); the accumulator is one flat object, counts by
# identifier, and the matches under the key "" (no identifier is empty).
# The update uses setpath/getpath and nothing that backtracks: in jq 1.6 a
# pending backtrack point (//, +=, a nested path such as .c[$k]) keeps a
# second reference to the object, so that every update copies it and the
# run turns quadratic (over 20 minutes instead of a few at 1,000,000).
# shellcheck disable=SC2016 # jq variables, not the shell's
q2_jq='reduce (inputs
  | if .identifiers then select(.computed.visits >= 2) | {p: .identifiers}
    elif .event == $ev and ((.timestamp // .originalTimestamp // .sentAt // .receivedAt) as $t
                            | $t >= $from and $t <= $to)
    then {k: (if .userId != null then "user:\(.userId)" else "anon:\(.anonymousId)" end)}
    else empty end) as $r
  ({};
   if $r.k then setpath([$r.k]; getpath([$r.k]) + 1)
   elif ([$r.p[] as $i | getpath([$i])] | add) >= 2 then setpath([""]; getpath([""]) + 1)
   else . end)
| getpath([""]) // 0'
q2_sql="SELECT count(*) FROM (
  SELECT i.profile FROM events e
  JOIN identifiers i ON i.ident = e.ident
  JOIN profiles p ON p.id = i.profile
  WHERE e.event = '$Q2_EVENT' AND e.time BETWEEN '$win_from' AND '$win_to' AND p.visits >= 2
  GROUP BY i.profile HAVING count(*) >= 2);"
ok=1
run_tool q2cdp "cdp-segment --count" 1 "$RUNS" \
    "$CDP_SEGMENT" -d "$store" --now "$NOW" --count "$Q2_CDP" || ok=0
q2jq_el=0
q2jq_cpu=0
case $Q2_JQ in
skip) printf '  %-24s skipped (BENCH_Q2_JQ=skip)\n' "jq (events + export)" ;;
once) run_tool q2jq "jq (events + export)" 0 1 "$JQ" -n --arg ev "$Q2_EVENT" --arg from "$win_from" \
    --arg to "$win_to" "$q2_jq" "$events" "$export_file" || ok=0 ;;
*) run_tool q2jq "jq (events + export)" 1 "$RUNS" "$JQ" -n --arg ev "$Q2_EVENT" --arg from "$win_from" \
    --arg to "$win_to" "$q2_jq" "$events" "$export_file" || ok=0 ;;
esac
run_tool q2sql "sqlite3 (3 tables)" 1 "$RUNS" "$SQLITE" -readonly -batch "$db" "$q2_sql" || ok=0
if [ $ok -eq 1 ]; then
    q2_matches=$(answer q2cdp)
    if [ "$Q2_JQ" = skip ]; then
        check_same q2 cdp="$q2_matches" sqlite="$(answer q2sql)"
    else
        check_same q2 cdp="$q2_matches" jq="$(answer q2jq)" sqlite="$(answer q2sql)"
    fi
    # shellcheck disable=SC2154 # set by run_tool through printf -v
    awk -v n="$profiles" -v m="$q2_matches" -v cdp="$q2cdp_el" -v jq="$q2jq_el" -v sql="$q2sql_el" \
        -v cdpc="$q2cdp_cpu" -v jqc="$q2jq_cpu" -v sqlc="$q2sql_cpu" -v load="$(loadavg)" 'BEGIN {
        jr = cdp > 0 ? jq / cdp : 0
        sr = cdp > 0 ? sql / cdp : 0
        jrc = cdpc > 0 ? sprintf("%.1f", jqc / cdpc) : "n/a"
        src = cdpc > 0 ? sprintf("%.2f", sqlc / cdpc) : "n/a"
        printf "q2 events profiles=%d matches=%d cdp=%.3fs", n, m, cdp
        if (jq > 0)
            printf " jq=%.2fs jq/cdp=%.1f", jq, jr
        printf " sqlite=%.3fs sqlite/cdp=%.2f (no target) cpu_ratios:", sql, sr
        if (jq > 0)
            printf " jq/cdp=%s", jrc
        printf " sqlite/cdp=%s load=%s\n", src, load
    }'
fi

busy=$(awk -v l="$(loadavg)" -v c="$ncpu" 'BEGIN { print (c + 0 > 0 && l + 0 > c * 0.75) ? 1 : 0 }')
[ "$busy" = 1 ] &&
    printf 'note: the machine was busy (load average %s on %s cpus): the times are pessimistic\n' \
        "$(loadavg)" "$ncpu"

exit $failed
