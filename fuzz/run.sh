#!/bin/sh
# Builds the libFuzzer targets into build/fuzz/, replays fuzz/regress/<target>/, then fuzzes each
# target for SECONDS from its seed corpus. Exits non-zero on any build failure, crash, leak, UB or
# timeout, and prints one final line per target.
#
#   sh fuzz/run.sh [SECONDS] [TARGET ...]      SECONDS defaults to 60; targets default to all
#
# Environment: FUZZ_CC (default clang), FUZZ_PARALLEL (targets fuzzed at once, default 2: the machine
# has 2 cores), FUZZ_MAX_LEN (default 4096). `make fuzz` runs this with 60 s, CI with 15 s.
set -u
cd "$(dirname "$0")/.." || exit 2

secs=${1:-60}
[ $# -gt 0 ] && shift
case $secs in '' | *[!0-9]*) echo "usage: sh fuzz/run.sh [SECONDS] [TARGET ...]" >&2; exit 2 ;; esac
CC=${FUZZ_CC:-clang}
parallel=${FUZZ_PARALLEL:-2}
max_len=${FUZZ_MAX_LEN:-4096}
out=build/fuzz
PKGS="jansson libsodium sqlite3 libmicrohttpd libpng libjpeg libwebp"

if ! command -v "$CC" >/dev/null 2>&1; then
  echo "fuzz: $CC not found (install clang and libclang-rt-14-dev: sh scripts/deps.sh test)" >&2
  exit 2
fi
pkg_cflags=$(pkg-config --cflags $PKGS 2>/dev/null) || { echo "fuzz: pkg-config cannot find: $PKGS" >&2; exit 2; }
pkg_libs=$(pkg-config --libs $PKGS)

SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CFLAGS="-std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Isrc -g -O1 $SAN $pkg_cflags"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# Sources of src/ each target links: the module under test plus src/base/ (through an archive, so
# only the objects a target needs are pulled in). A target whose module is not in the tree yet is
# reported as skipped.
target_src() {
  case $1 in
    router) echo src/http/router.c ;;
    stripe_sig) echo src/billing/stripe_sig.c ;;
    catalog) echo src/billing/catalog.c ;;
    forwarded) echo src/http/proxy.c ;;
    image) echo src/base/image.c ;;
    *) echo "" ;;
  esac
}

targets=${*:-$(for f in fuzz/*.c; do basename "$f" .c; done)}
mkdir -p "$out/obj" "$out/logs"

# 1. Build --------------------------------------------------------------------------------------
build_failed=0
lib="$out/libsrc.a"
objs=""
for src in src/base/*.c src/http/router.c src/http/proxy.c src/billing/stripe_sig.c src/billing/catalog.c src/billing/money.c; do
  [ -f "$src" ] || continue
  obj="$out/obj/$(echo "$src" | sed 's|^src/||; s|/|_|g; s|\.c$|.o|')"
  if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ -n "$(find src -name '*.h' -newer "$obj" 2>/dev/null | head -1)" ] \
     || [ "$0" -nt "$obj" ]; then
    $CC $CFLAGS -fsanitize=fuzzer-no-link -c -o "$obj" "$src" || { echo "fuzz: cannot compile $src" >&2; build_failed=1; }
  fi
  objs="$objs $obj"
done
[ $build_failed = 0 ] || exit 1
rm -f "$lib" && ar rcs "$lib" $objs

runnable=""
for t in $targets; do
  if [ ! -f "fuzz/$t.c" ]; then echo "fuzz: no target fuzz/$t.c" >&2; exit 2; fi
  need=$(target_src "$t")
  if [ -n "$need" ] && [ ! -f "$need" ]; then
    echo "fuzz: $t: SKIPPED ($need is not in the tree yet)"
    continue
  fi
  if ! $CC $CFLAGS -Wall -Wextra -Werror -fsanitize=fuzzer -o "$out/$t" "fuzz/$t.c" "$lib" $pkg_libs -lpthread -lm; then
    echo "fuzz: $t: FAILED to build" >&2
    exit 1
  fi
  runnable="$runnable $t"
done

# 2. Replay the regression inputs ------------------------------------------------------------------
status=0
for t in $runnable; do
  dir=fuzz/regress/$t
  files=$(find "$dir" -type f ! -name '*.md' 2>/dev/null | sort)
  [ -n "$files" ] || continue
  n=0
  bad=""
  : >"$out/logs/$t.regress.log"
  for f in $files; do
    n=$((n + 1))
    "$out/$t" -runs=1 "$f" >>"$out/logs/$t.regress.log" 2>&1 || bad="$bad $(basename "$f")"
  done
  if [ -z "$bad" ]; then
    echo "fuzz: $t: regress $n input(s) clean"
  else
    echo "fuzz: $t: REGRESSION in $dir:$bad (log: $out/logs/$t.regress.log)"
    grep -E 'invariant failed|runtime error|disagrees|round trip|ERROR: AddressSanitizer|LeakSanitizer' "$out/logs/$t.regress.log" | head -8
    status=1
  fi
done

# 3. Fuzz ----------------------------------------------------------------------------------------
fuzz_one() {
  t=$1
  work=fuzz/corpus-work/$t
  art=$out/artifacts/$t/
  mkdir -p "$work" "$art"
  [ -d "fuzz/corpus/$t" ] && cp -n fuzz/corpus/"$t"/* "$work"/ 2>/dev/null
  dict=""
  [ -f "fuzz/$t.dict" ] && dict="-dict=fuzz/$t.dict"
  # shellcheck disable=SC2086
  "$out/$t" -max_total_time="$secs" -max_len="$max_len" -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$art" $dict "$work" >"$out/logs/$t.log" 2>&1
  echo $? >"$out/logs/$t.rc"
}

if [ "$secs" -gt 0 ]; then
  set -- $runnable
  while [ $# -gt 0 ]; do
    batch=""
    i=0
    while [ $# -gt 0 ] && [ $i -lt "$parallel" ]; do
      fuzz_one "$1" &
      batch="$batch $1"
      i=$((i + 1))
      shift
    done
    wait
  done
fi

# 4. Report --------------------------------------------------------------------------------------
for t in $runnable; do
  [ "$secs" -gt 0 ] || { echo "fuzz: $t: built (0 s: not fuzzed)"; continue; }
  log=$out/logs/$t.log
  rc=$(cat "$out/logs/$t.rc" 2>/dev/null || echo 1)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  corpus=$(find "fuzz/corpus-work/$t" -type f | wc -l)
  if [ "$rc" = 0 ]; then
    echo "fuzz: $t: ok, ${execs:-?} execs in ${secs} s, cov ${cov:-?}, corpus $corpus"
  else
    crash=$(ls -t "$out/artifacts/$t/" 2>/dev/null | head -1)
    echo "fuzz: $t: FAILED (exit $rc) after ${execs:-?} execs; input: $out/artifacts/$t/$crash; log: $log"
    grep -E '^==[0-9]+==ERROR|invariant failed|runtime error|disagrees|round trip|SUMMARY' "$log" | head -5
    status=1
  fi
done
exit $status
