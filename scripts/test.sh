#!/bin/sh
# The one test driver (`make test`, DESIGN.md §6). Runs every stage even when an earlier one fails,
# so one run reports everything, and ends with one plain line: `N passed, N failed`.
#
#   sh scripts/test.sh              build, unit, API (SQLite, PostgreSQL), e2e, ASan (unit + API), fuzz smoke
#   sh scripts/test.sh unit         unit tests only (with a throwaway PostgreSQL)
#   sh scripts/test.sh api [FILE…]  API suite on SQLite and PostgreSQL (optionally only some test files)
#   sh scripts/test.sh api-sqlite [FILE…] | api-pg [FILE…]
#   sh scripts/test.sh e2e          browser tests
#   sh scripts/test.sh asan         ASan+UBSan build, then the unit tests and the API suite on SQLite
#
# Environment: ATRIUM_TEST_PATTERN (node --test-name-pattern), FUZZ_SECONDS (smoke length, default 15),
# ATRIUM_TEST_PG_URL (use this PostgreSQL instead of starting one). Logs: tests/artifacts/run/.
set -u
cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)
MODE=${1:-all}
[ $# -gt 0 ] && shift
FILES="$*"

case $MODE in
  all | unit | api | api-sqlite | api-pg | e2e | asan) ;;
  *) echo "usage: sh scripts/test.sh [all|unit|api|api-sqlite|api-pg|e2e|asan] [TEST FILE ...]" >&2; exit 2 ;;
esac

# Logs go to tests/artifacts/run/; a second run in the same tree while one is going uses its own
# tests/artifacts/run-PID/ instead of clobbering the first one's.
ART=$ROOT/tests/artifacts/run
LOCK=""
mkdir -p "$ROOT/tests/artifacts"
if mkdir "$ART.lock" 2>/dev/null; then
  LOCK=$ART.lock
elif _other=$(cat "$ART.lock/pid" 2>/dev/null) && [ -n "$_other" ] && kill -0 "$_other" 2>/dev/null; then
  ART=$ROOT/tests/artifacts/run-$$
else
  rm -rf "$ART.lock"
  mkdir "$ART.lock" && LOCK=$ART.lock
fi
[ -n "$LOCK" ] && echo $$ >"$LOCK/pid"
rm -rf "$ART"
mkdir -p "$ART"
PASSED=0
FAILED=0
SKIPPED=0
REPORT=""
PG_TMP=""
PG_DIR=""
STARTED_AT=$(date +%s)

CURRENT_PIDFILE=""

cleanup() {
  # A stage still running (interrupted run): stop its whole process group (timeout made one).
  if [ -n "$CURRENT_PIDFILE" ] && [ -s "$CURRENT_PIDFILE" ]; then
    _pid=$(cat "$CURRENT_PIDFILE")
    kill -TERM "-$_pid" 2>/dev/null || kill -TERM "$_pid" 2>/dev/null || true
  fi
  if [ -n "$PG_DIR" ]; then
    sh scripts/pg.sh stop "$PG_DIR" >>"$ART/pg.log" 2>&1 || true
  fi
  [ -n "$PG_TMP" ] && rm -rf "$PG_TMP"
  [ -n "$LOCK" ] && rm -rf "$LOCK"
}
trap cleanup EXIT
trap 'echo "test.sh: interrupted" >&2; exit 130' INT TERM HUP

say() { printf '%s\n' "$*"; }
banner() { printf '\n==== %s ====\n' "$*"; }

# note STAGE PASSED FAILED SECONDS [COMMENT]: record one stage's result.
note() {
  PASSED=$((PASSED + $2))
  FAILED=$((FAILED + $3))
  REPORT="$REPORT$(printf '  %-12s %5s passed %5s failed  %4ss  %s' "$1" "$2" "$3" "$4" "${5:-}")
"
}

# run_logged NAME TIMEOUT CMD...: runs CMD with a time limit (the whole process group is killed when
# it runs over), output to the terminal and to $ART/NAME.log; sets RC and SECS.
run_logged() {
  _name=$1
  _limit=$2
  shift 2
  _t0=$(date +%s)
  CURRENT_PIDFILE=$ART/$_name.pid
  # In the background + wait, so a signal to this script runs its trap at once (a shell runs traps
  # only after a foreground command ends, but interrupts `wait`).
  {
    timeout --kill-after=20 "$_limit" "$@" &
    echo $! >"$CURRENT_PIDFILE"
    wait $!
    echo $? >"$ART/$_name.rc"
  } 2>&1 | tee "$ART/$_name.log" &
  wait $!
  rm -f "$CURRENT_PIDFILE"
  CURRENT_PIDFILE=""
  RC=$(cat "$ART/$_name.rc" 2>/dev/null || echo 1)
  SECS=$(($(date +%s) - _t0))
  if [ "$RC" = 124 ] || [ "$RC" = 137 ]; then
    say "test.sh: $_name ran over its ${_limit} s limit and was stopped"
  fi
}

# stage_plain NAME TIMEOUT CMD...: a step that is not a test runner (build, install); a failure
# counts as one failed test so the total never hides it. Returns the command's status.
stage_plain() {
  _n=$1
  banner "$_n"
  run_logged "$@"
  if [ "$RC" = 0 ]; then
    note "$_n" 0 0 "$SECS" ok
  else
    note "$_n" 0 1 "$SECS" "FAILED (exit $RC; log ${ART#"$ROOT"/}/$_n.log)"
  fi
  return "$RC"
}

# stage_criterion NAME TIMEOUT CMD...: counts from Criterion's Synthesis line.
stage_criterion() {
  _n=$1
  banner "$_n"
  run_logged "$@"
  _syn=$(sed 's/\x1b\[[0-9;]*m//g' "$ART/$_n.log" | grep 'Synthesis: Tested:' | tail -1)
  if [ -n "$_syn" ]; then
    _p=$(echo "$_syn" | sed -n 's/.*Passing: *\([0-9]*\).*/\1/p')
    _f=$(echo "$_syn" | sed -n 's/.*Failing: *\([0-9]*\).*/\1/p')
    _p=${_p:-0}
    _f=${_f:-0}
    if [ "$RC" != 0 ] && [ "$_f" = 0 ]; then _f=1; fi
    note "$_n" "$_p" "$_f" "$SECS" "$([ "$RC" = 0 ] && echo ok || echo "FAILED (exit $RC)")"
  else
    note "$_n" 0 1 "$SECS" "FAILED: no Criterion summary (exit $RC)"
  fi
}

# stage_node NAME TIMEOUT CONCURRENCY TEST_TIMEOUT_MS ENV PATHS...: node --test (with ENV, a list of
# VAR=value words) with the spec reporter on the terminal and TAP in a file, counted from TAP's
# `# pass N` / `# fail N` / `# cancelled N`.
stage_node() {
  _n=$1
  _limit=$2
  _conc=$3
  _tt=$4
  _env=$5
  shift 5
  banner "$_n"
  _tap=$ART/$_n.tap
  if [ -n "${ATRIUM_TEST_PATTERN:-}" ]; then
    set -- --test-name-pattern="$ATRIUM_TEST_PATTERN" "$@"
  fi
  # shellcheck disable=SC2086
  run_logged "$_n" "$_limit" env $_env node --test --test-concurrency="$_conc" --test-timeout="$_tt" \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$_tap" "$@"
  if [ -s "$_tap" ] && grep -q '^# pass ' "$_tap"; then
    _p=$(grep '^# pass ' "$_tap" | tail -1 | awk '{print $3}')
    _f=$(grep '^# fail ' "$_tap" | tail -1 | awk '{print $3}')
    _c=$(grep '^# cancelled ' "$_tap" | tail -1 | awk '{print $3}')
    _s=$(grep '^# skipped ' "$_tap" | tail -1 | awk '{print $3}')
    _f=$((${_f:-0} + ${_c:-0}))
    SKIPPED=$((SKIPPED + ${_s:-0}))
    if [ "$RC" != 0 ] && [ "$_f" = 0 ]; then _f=1; fi
    _c="$([ "$RC" = 0 ] && echo ok || echo "FAILED (exit $RC)")"
    [ "${_s:-0}" != 0 ] && _c="$_c, ${_s} skipped"
    note "$_n" "${_p:-0}" "$_f" "$SECS" "$_c"
  else
    note "$_n" 0 1 "$SECS" "FAILED: no test summary (exit $RC)"
  fi
}

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

ensure_node_modules() {
  if [ ! -f tests/node_modules/.package-lock.json ] ||
    [ -n "$(find tests/package-lock.json -newer tests/node_modules/.package-lock.json 2>/dev/null)" ]; then
    stage_plain npm-ci 600 sh -c 'cd tests && npm ci --no-audit --no-fund'
  fi
}

# start_pg: a throwaway PostgreSQL 15 (fsync off) for this run; exports ATRIUM_TEST_PG_URL.
start_pg() {
  if [ -n "${ATRIUM_TEST_PG_URL:-}" ]; then
    say "test.sh: using ATRIUM_TEST_PG_URL=$ATRIUM_TEST_PG_URL"
    return 0
  fi
  banner pg
  _t0=$(date +%s)
  if [ ! -f scripts/pg.sh ]; then
    note pg 0 1 0 "FAILED: scripts/pg.sh is missing"
    return 1
  fi
  PG_TMP=$(mktemp -d /tmp/atrium-pg.XXXXXX)
  chmod 755 "$PG_TMP"
  _port=$(free_port)
  _out=$(timeout 180 sh scripts/pg.sh start "$PG_TMP/data" "$_port" --fast 2>"$ART/pg.log")
  _rc=$?
  if [ "$_rc" = 2 ]; then # a pg.sh that wants the flag first: start [--fast] DIR PORT
    _out=$(timeout 180 sh scripts/pg.sh start --fast "$PG_TMP/data" "$_port" 2>>"$ART/pg.log")
    _rc=$?
  fi
  PG_DIR=$PG_TMP/data
  _url=$(printf '%s\n' "$_out" | grep '^postgres' | tail -1)
  if [ "$_rc" != 0 ] || [ -z "$_url" ]; then
    cat "$ART/pg.log"
    printf '%s\n' "$_out"
    note pg 0 1 $(($(date +%s) - _t0)) "FAILED: scripts/pg.sh start exited $_rc (log ${ART#"$ROOT"/}/pg.log)"
    return 1
  fi
  export ATRIUM_TEST_PG_URL="$_url"
  # With PostgreSQL up, every prerequisite of the suites is here: a missing one is a failure, not a skip.
  export ATRIUM_TEST_STRICT=1
  say "PostgreSQL at $ATRIUM_TEST_PG_URL"
  return 0
}

# Set to 0 when a build stage of this run failed: what it would have built is then not tested (an
# older binary left in the tree would give stale results).
BUILT=1
ASAN_BUILT=1

unit_tests() { # NAME BIN
  if [ "$(built_for "$2")" = 0 ]; then
    note "$1" 0 1 0 "NOT RUN: the build failed"
    return
  fi
  if [ ! -x "$2" ]; then
    note "$1" 0 1 0 "FAILED: $2 was not built"
    return
  fi
  stage_criterion "$1" 600 "$2"
}

built_for() { # BIN → 0 when the build that makes BIN failed in this run
  case $1 in
    build/asan/*) echo "$ASAN_BUILT" ;;
    *) echo "$BUILT" ;;
  esac
}

api_suite() { # NAME BACKEND BIN [TEST_TIMEOUT_MS [EXTRA_ENV]]
  _name=$1
  if [ "$(built_for "$3")" = 0 ]; then
    note "$_name" 0 1 0 "NOT RUN: the build failed"
    return
  fi
  if [ ! -x "$3" ]; then
    note "$_name" 0 1 0 "FAILED: $3 was not built"
    return
  fi
  if [ "$2" = pg ] && [ -z "${ATRIUM_TEST_PG_URL:-}" ]; then
    note "$_name" 0 1 0 "FAILED: no PostgreSQL to test against"
    return
  fi
  # shellcheck disable=SC2086
  stage_node "$_name" 900 2 "${4:-180000}" "ATRIUM_TEST_BACKEND=$2 ATRIUM_BIN=$3 ${5:-}" ${FILES:-tests/api/}
}

# The Stripe stand-in's own tests (tests/stripe-standin; node only, no atrium binary involved).
standin_suite() {
  stage_node stripe-standin 300 2 60000 "" tests/stripe-standin/
}

e2e_suite() {
  if [ -z "$(find tests/e2e -name '*.test.*' 2>/dev/null | head -1)" ]; then
    say "test.sh: tests/e2e has no tests yet; e2e skipped"
    return
  fi
  if [ "$BUILT" = 0 ]; then
    note e2e 0 1 0 "NOT RUN: the build failed"
    return
  fi
  stage_node e2e 1800 1 180000 "ATRIUM_TEST_BACKEND=sqlite ATRIUM_BIN=./atrium" tests/e2e/
}

asan_suite() {
  stage_plain asan-build 1500 make -j2 BUILD=asan build/asan/atrium build/asan/unit-tests || ASAN_BUILT=0
  _san=$ART/sanitizer
  mkdir -p "$_san"
  _leaks=1
  # LeakSanitizer needs ptrace-like access; some containers refuse it. Probe once, fall back to ASan only.
  if [ -x build/asan/atrium ] && ASAN_OPTIONS=detect_leaks=1 build/asan/atrium version 2>&1 | grep -q 'LeakSanitizer has encountered a fatal error'; then
    say "test.sh: LeakSanitizer does not work here; running ASan+UBSan without leak detection"
    _leaks=0
  fi
  export ASAN_OPTIONS="detect_leaks=$_leaks:abort_on_error=0:halt_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1:log_path=$_san/asan"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$_san/ubsan"
  unit_tests asan-unit build/asan/unit-tests
  # ATRIUM_TEST_SANITIZER lets a test relax memory or timing bounds that ASan inflates.
  api_suite asan-api sqlite build/asan/atrium 300000 ATRIUM_TEST_SANITIZER=asan
  unset ASAN_OPTIONS UBSAN_OPTIONS
  _reports=$(find "$_san" -type f 2>/dev/null | sort)
  if [ -n "$_reports" ]; then
    _nrep=$(echo "$_reports" | wc -l)
    banner "sanitizer reports ($_nrep)"
    for _r in $_reports; do
      say "--- $_r"
      head -60 "$_r"
    done
    note asan-reports 0 "$_nrep" 0 "FAILED: $_nrep sanitizer report(s) in ${ART#"$ROOT"/}/sanitizer/"
  else
    note asan-reports 1 0 0 "ok: no sanitizer reports"
  fi
}

fuzz_smoke() {
  if [ ! -f fuzz/run.sh ]; then
    say "test.sh: fuzz/run.sh is missing; fuzz smoke skipped"
    return
  fi
  banner fuzz
  run_logged fuzz 900 sh fuzz/run.sh "${FUZZ_SECONDS:-15}"
  # One result per target: failed if it crashed while fuzzing or failed its regression replay.
  grep -E '^fuzz: [^ ]+: ok' "$ART/fuzz.log" | cut -d' ' -f2 | sort -u >"$ART/fuzz.ok"
  grep -E '^fuzz: [^ ]+: (FAILED|REGRESSION)' "$ART/fuzz.log" | cut -d' ' -f2 | sort -u >"$ART/fuzz.bad"
  _bad=$(wc -l <"$ART/fuzz.bad")
  _ok=$(comm -23 "$ART/fuzz.ok" "$ART/fuzz.bad" | wc -l)
  if [ "$RC" != 0 ] && [ "$_bad" = 0 ]; then _bad=1; fi
  note fuzz "$_ok" "$_bad" "$SECS" "$([ "$RC" = 0 ] && echo ok || echo "FAILED (exit $RC)")"
}

# ---------------------------------------------------------------------------------------------------
case $MODE in
  all)
    stage_plain build 1500 make -j2 atrium build/debug/unit-tests || BUILT=0
    ensure_node_modules
    start_pg
    unit_tests unit build/debug/unit-tests
    api_suite api-sqlite sqlite ./atrium
    api_suite api-pg pg ./atrium
    standin_suite
    e2e_suite
    asan_suite
    fuzz_smoke
    ;;
  unit)
    start_pg
    unit_tests unit build/debug/unit-tests
    ;;
  api | api-sqlite | api-pg)
    ensure_node_modules
    [ "$MODE" = api-sqlite ] || start_pg
    [ "$MODE" = api-pg ] || api_suite api-sqlite sqlite ./atrium
    [ "$MODE" = api-sqlite ] || api_suite api-pg pg ./atrium
    [ "$MODE" != api ] || [ -n "$FILES" ] || standin_suite
    ;;
  e2e)
    ensure_node_modules
    e2e_suite
    ;;
  asan)
    ensure_node_modules
    start_pg
    asan_suite
    ;;
esac

banner summary
printf '%s' "$REPORT"
say "  total time $(($(date +%s) - STARTED_AT)) s; logs in ${ART#"$ROOT"/}/"
[ "$SKIPPED" != 0 ] && say "  ($SKIPPED skipped)"
say "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
