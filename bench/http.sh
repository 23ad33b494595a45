#!/bin/sh
# HTTP benchmark: Atrium against nginx serving the same bytes as a static file, on loopback.
#
#   make bench                      (builds ./atrium BUILD=release, then runs this)
#   sh bench/http.sh                (uses the ./atrium already built)
#
# Environment:
#   BENCH_SECONDS   seconds per wrk run (default 10)
#   BENCH_WARMUP    seconds of warm-up per target before the measured runs (default 2)
#   BENCH_CONNS     connection counts (default "64 128 256")
#   BENCH_TARGETS   "all" (default) or "nginx" to dry-run the yardstick alone
#   ATRIUM_BIN      the server binary (default ./atrium)
#
# Measures start-up to ready, idle RSS, and req/s, p50, p99 for: nginx static file, GET /healthz,
# GET /api/v1/system. The server and nginx are pinned to core 0 and wrk to core 1 when taskset is
# there and the machine has two cores or more. It is a benchmark, not a test: a missed target prints
# MISS and the exit status stays 0; only a broken run (a tool missing, a server that does not come
# up, wrk output that cannot be read, a route that does not answer 200) exits non-zero. See
# bench/README.md.
set -u
cd "$(dirname "$0")/.." || exit 2

SECONDS_PER_RUN=${BENCH_SECONDS:-10}
WARMUP=${BENCH_WARMUP:-2}
CONNS=${BENCH_CONNS:-64 128 256}
TARGETS=${BENCH_TARGETS:-all}
ATRIUM=${ATRIUM_BIN:-./atrium}

# Targets (bench/README.md).
TARGET_RATIO=50      # store-backed route req/s, % of nginx at 64 connections
TARGET_P99_MS=5      # store-backed route p99 at 64 connections
TARGET_RSS_MB=20     # idle RSS
TARGET_READY_MS=100  # spawn -> "Atrium is ready" line

die() {
  echo "bench: $*" >&2
  exit 1
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# --- tools ---------------------------------------------------------------------------------------
missing=""
for tool in wrk nginx curl awk ss; do
  command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
[ -z "$missing" ] || die "missing:$missing (install them with: sh scripts/deps.sh test — wrk, nginx-light, curl, iproute2)"
NGINX=$(command -v nginx)
if [ "$TARGETS" = all ]; then
  [ -x "$ATRIUM" ] || die "$ATRIUM not built (make atrium BUILD=release)"
fi

ncpu=$(nproc 2>/dev/null || echo 1)
if command -v taskset >/dev/null 2>&1 && [ "$ncpu" -ge 2 ]; then
  PIN_SERVER="taskset -c 0"
  PIN_CLIENT="taskset -c 1"
  pinning="servers on core 0, wrk on core 1 (taskset)"
else
  PIN_SERVER=""
  PIN_CLIENT=""
  pinning="not pinned (taskset missing or fewer than 2 cores: $ncpu)"
fi

# --- scratch space and cleanup --------------------------------------------------------------------
TMP=$(mktemp -d "${TMPDIR:-/tmp}/atrium-bench.XXXXXX") || die "mktemp failed"
chmod 755 "$TMP"
ATRIUM_PID=""
NGINX_PID=""
CAT_PID=""
WATCHDOG_PID=""
WRK_PID=""
cleanup() {
  [ -n "$WATCHDOG_PID" ] && kill "$WATCHDOG_PID" 2>/dev/null
  [ -n "$WRK_PID" ] && kill "$WRK_PID" 2>/dev/null
  for pid in $ATRIUM_PID $NGINX_PID; do
    kill -TERM "$pid" 2>/dev/null
  done
  for pid in $ATRIUM_PID $NGINX_PID; do
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
      sleep 0.1
      i=$((i + 1))
    done
    kill -KILL "$pid" 2>/dev/null
  done
  [ -n "$CAT_PID" ] && kill "$CAT_PID" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# free_port prints a loopback TCP port nobody listens on (from a pseudo-random start).
free_port() {
  p=$((20000 + ($$ * 7 + $(date +%N | sed 's/^0*//;s/^$/0/')) % 30000))
  while ss -Htln "sport = :$p" 2>/dev/null | grep -q .; do
    p=$((p + 1))
  done
  echo "$p"
}

# to_ms converts a wrk latency ("512.00us", "1.23ms", "2.00s") to milliseconds.
to_ms() {
  echo "$1" | awk '{ v = $1 + 0; if ($1 ~ /us$/) v /= 1000; else if ($1 ~ /ms$/) v = v; else if ($1 ~ /m$/) v *= 60000; else if ($1 ~ /s$/) v *= 1000; printf "%.3f", v }'
}

# cpu_ticks PID...: user+system CPU ticks of the processes (all their threads, live and exited).
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)
cpu_ticks() {
  t=0
  for p in "$@"; do
    v=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 }')
    t=$((t + ${v:-0}))
  done
  echo "$t"
}
# server_pids NAME: the processes whose CPU a run of NAME costs (nginx: master and worker).
server_pids() {
  if [ "$1" = nginx ]; then
    echo "$NGINX_PID $(cat /proc/"$NGINX_PID"/task/*/children 2>/dev/null)"
  else
    echo "$ATRIUM_PID"
  fi
}

# run_wrk NAME CONNS URL: runs wrk, appends "name conns rps p50 p99 errors non2xx requests cpu_us" to
# RESULTS, where cpu_us is the server's CPU time per request: unlike req/s it barely moves when other
# work shares the machine.
RESULTS=$TMP/results
: >"$RESULTS"
run_wrk() {
  name=$1 c=$2 url=$3
  set --
  case $name in bearer | billing | pdf) set -- -H "Authorization: Bearer $API_KEY" ;; esac
  log=$TMP/wrk-$name-$c.txt
  pids=$(server_pids "$name")
  # shellcheck disable=SC2086
  cpu0=$(cpu_ticks $pids)
  # shellcheck disable=SC2086
  # In the background and waited for, so a signal reaches the trap at once instead of after wrk.
  $PIN_CLIENT wrk -t1 -c"$c" -d"${SECONDS_PER_RUN}s" --timeout 5s --latency "$@" "$url" >"$log" 2>&1 &
  WRK_PID=$!
  wait "$WRK_PID" || die "wrk failed on $url (c=$c): $(tail -3 "$log")"
  WRK_PID=""
  # shellcheck disable=SC2086
  cpu1=$(cpu_ticks $pids)
  rps=$(awk '/^Requests\/sec:/ { print $2 }' "$log")
  p50=$(awk '$1 == "50%" { print $2 }' "$log")
  p99=$(awk '$1 == "99%" { print $2 }' "$log")
  reqs=$(awk '/requests in/ { print $1 }' "$log")
  errs=$(awk '/Socket errors:/ { gsub(",", ""); print $4 + $6 + $8 + $10 }' "$log")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $5 }' "$log")
  [ -n "$rps" ] && [ -n "$reqs" ] || die "cannot read wrk output for $url (c=$c): $(cat "$log")"
  [ -n "$p50" ] || p50=NaN
  [ -n "$p99" ] || p99=NaN
  [ "$p50" = NaN ] || p50=$(to_ms "$p50")
  [ "$p99" = NaN ] || p99=$(to_ms "$p99")
  cpu_us=$(awk -v d=$((cpu1 - cpu0)) -v hz="$CLK_TCK" -v n="$reqs" 'BEGIN { x = 0; if (n > 0) x = d * 1e6 / hz / n; printf "%.1f", x }')
  echo "$name $c $rps $p50 $p99 ${errs:-0} ${non2xx:-0} $reqs $cpu_us" >>"$RESULTS"
  printf 'bench:   %-8s c=%-4s %10s req/s  p50 %7s ms  p99 %7s ms  %6s us CPU/req  socket errors %s  non-2xx %s\n' \
    "$name" "$c" "$rps" "$p50" "$p99" "$cpu_us" "${errs:-0}" "${non2xx:-0}"
}

echo "bench: $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -srm), $ncpu cores, $pinning"
echo "bench: $(wrk --version 2>&1 | head -1 | cut -c1-60); $($NGINX -v 2>&1)"
load=$(cut -d' ' -f1 /proc/loadavg)
echo "bench: load average $load before the run"
awk -v l="$load" 'BEGIN { exit !(l > 1.0) }' &&
  echo "bench: WARNING: the machine is busy (load $load); figures will be noisy — ratios measured in the same run still compare"

# --- Atrium: migrate, start, ready, RSS ------------------------------------------------------------
READY_MS="" READYZ_MS="" RSS_KB="" BODY_BYTES=${BENCH_BODY_BYTES:-315}
if [ "$TARGETS" = all ]; then
  mkdir -p "$TMP/data"
  A_PORT=$(free_port)
  export ATRIUM_ENV=development
  export ATRIUM_DATA_DIR="$TMP/data"
  export ATRIUM_DATABASE_URL="sqlite:$TMP/data/atrium.db"
  export ATRIUM_LISTEN="127.0.0.1:$A_PORT"
  export ATRIUM_LOG_LEVEL=warn
  export ATRIUM_MAX_CONNECTIONS_PER_IP=1000
  export ATRIUM_MAX_CONNECTIONS=2000
  # The API-key route is measured, not its rate limit: the buckets are made too large to matter.
  export ATRIUM_KEY_RATE_PER_MINUTE=10000000 ATRIUM_KEY_BURST=10000000 ATRIUM_WORKSPACE_RATE_PER_MINUTE=10000000
  "$ATRIUM" migrate >"$TMP/migrate.log" 2>&1 || die "atrium migrate failed: $(tail -5 "$TMP/migrate.log")"
  "$ATRIUM" demo >"$TMP/demo.log" 2>&1 || die "atrium demo failed: $(tail -5 "$TMP/demo.log")"

  mkfifo "$TMP/stdout.fifo"
  t0=$(now_ms)
  # shellcheck disable=SC2086
  $PIN_SERVER "$ATRIUM" serve >"$TMP/stdout.fifo" 2>"$TMP/atrium.err" &
  ATRIUM_PID=$!
  # A server that never prints the ready line is killed after 30 s, which ends the read below.
  (sleep 30 && kill -KILL "$ATRIUM_PID" 2>/dev/null) &
  WATCHDOG_PID=$!
  exec 3<"$TMP/stdout.fifo"
  ready_line=""
  while IFS= read -r line <&3; do
    echo "$line" >>"$TMP/atrium.out"
    case $line in
      *"Atrium is ready at http://"*) ready_line=$line; break ;;
    esac
  done
  t_ready=$(now_ms)
  kill "$WATCHDOG_PID" 2>/dev/null
  WATCHDOG_PID=""
  # Keep draining stdout so the server never blocks on (or dies of) a full or closed pipe.
  cat <&3 >>"$TMP/atrium.out" &
  CAT_PID=$!
  exec 3<&-
  [ -n "$ready_line" ] || die "atrium serve exited before it was ready: $(tail -5 "$TMP/atrium.err")"
  READY_MS=$((t_ready - t0))
  A_URL=$(echo "$ready_line" | sed -n 's|.*\(http://[^ ]*/\).*|\1|p')
  [ -n "$A_URL" ] || die "cannot read the address in: $ready_line"
  i=0
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "${A_URL}readyz")" = 200 ]; do
    i=$((i + 1))
    [ $i -lt 500 ] || die "/readyz never answered 200"
    sleep 0.01
  done
  READYZ_MS=$(($(now_ms) - t0))
  echo "bench: atrium pid $ATRIUM_PID at $A_URL: ready line after $READY_MS ms, /readyz 200 after $READYZ_MS ms"

  code=$(curl -s -o "$TMP/system.json" -w '%{http_code}' "${A_URL}api/v1/system")
  [ "$code" = 200 ] || die "GET /api/v1/system answered $code: $(head -c 300 "$TMP/system.json")"
  code=$(curl -s -o /dev/null -w '%{http_code}' "${A_URL}healthz")
  [ "$code" = 200 ] || die "GET /healthz answered $code"
  BODY_BYTES=$(wc -c <"$TMP/system.json")
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    curl -s -o /dev/null "${A_URL}api/v1/system"
    curl -s -o /dev/null "${A_URL}healthz"
  done
  sleep 0.5
  RSS_KB=$(awk '/^VmRSS:/ { print $2 }' "/proc/$ATRIUM_PID/status")
  echo "bench: idle RSS $RSS_KB kB; GET /api/v1/system body $BODY_BYTES bytes"

  # A workspace API key for the Bearer-authenticated route (the demo owner signs in and makes one).
  csrf=$(curl -s -c "$TMP/jar" -H 'Content-Type: application/json' \
    -d '{"email":"owner@acme.test","password":"acme-owner-demo-2026"}' "${A_URL}api/v1/session" |
    sed -n 's/.*"csrf_token":"\([0-9a-f]*\)".*/\1/p')
  [ -n "$csrf" ] || die "cannot sign in as the demo owner"
  WS_ID=$(curl -s -b "$TMP/jar" "${A_URL}api/v1/workspaces" | sed -n 's/^{"items":\[{"id":"\(ws_[0-9A-Z]*\)".*/\1/p')
  [ -n "$WS_ID" ] || die "cannot find the demo workspace"
  API_KEY=$(curl -s -b "$TMP/jar" -H 'Content-Type: application/json' -H "X-CSRF-Token: $csrf" \
    -H "Origin: ${A_URL%/}" -d '{"name":"bench","scopes":["workspace:read","billing:read"],"owner":"workspace"}' \
    "${A_URL}api/v1/workspaces/$WS_ID/api-keys" | sed -n 's/.*"secret":"\(atr_[0-9A-Za-z]*\)".*/\1/p')
  [ -n "$API_KEY" ] || die "cannot create an API key"
  code=$(curl -s -o "$TMP/ws.json" -w '%{http_code}' -H "Authorization: Bearer $API_KEY" "${A_URL}api/v1/workspaces/$WS_ID")
  [ "$code" = 200 ] || die "GET the workspace with the key answered $code: $(head -c 300 "$TMP/ws.json")"
  echo "bench: Bearer route GET /api/v1/workspaces/$WS_ID answers $(wc -c <"$TMP/ws.json") bytes"
  # Billing: the overview (the heaviest read: subscription, seats, usage meters, the next invoice) and
  # the demo's first invoice as a PDF drawn with cairo on every request.
  code=$(curl -s -o "$TMP/billing.json" -w '%{http_code}' -H "Authorization: Bearer $API_KEY" "${A_URL}api/v1/workspaces/$WS_ID/billing")
  [ "$code" = 200 ] || die "GET the billing overview with the key answered $code: $(head -c 300 "$TMP/billing.json")"
  INVOICE_ID=$(curl -s -H "Authorization: Bearer $API_KEY" "${A_URL}api/v1/workspaces/$WS_ID/billing/invoices" |
    sed -n 's/^{"items":\[{"id":"\(in_[0-9A-Z]*\)".*/\1/p')
  [ -n "$INVOICE_ID" ] || die "cannot find the demo's invoice"
  code=$(curl -s -o "$TMP/invoice.pdf" -w '%{http_code}' -H "Authorization: Bearer $API_KEY" \
    "${A_URL}api/v1/workspaces/$WS_ID/billing/invoices/$INVOICE_ID/pdf")
  [ "$code" = 200 ] || die "GET the invoice PDF answered $code"
  echo "bench: billing overview $(wc -c <"$TMP/billing.json") bytes; invoice PDF $(wc -c <"$TMP/invoice.pdf") bytes"
fi

# --- nginx: the yardstick ----------------------------------------------------------------------------
N_PORT=$(free_port)
[ "$TARGETS" = all ] && [ "$N_PORT" = "$A_PORT" ] && N_PORT=$((N_PORT + 1))
mkdir -p "$TMP/nginx/www" "$TMP/nginx/logs"
chmod -R a+rX "$TMP/nginx"
if [ -f "$TMP/system.json" ]; then
  cp "$TMP/system.json" "$TMP/nginx/www/system.json"
else
  head -c "$BODY_BYTES" /dev/zero | tr '\0' 'x' >"$TMP/nginx/www/system.json"
fi
chmod a+r "$TMP/nginx/www/system.json"
cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
    client_body_temp_path $TMP/nginx/body;
    proxy_temp_path $TMP/nginx/proxy;
    fastcgi_temp_path $TMP/nginx/fastcgi;
    uwsgi_temp_path $TMP/nginx/uwsgi;
    scgi_temp_path $TMP/nginx/scgi;
    server {
        listen 127.0.0.1:$N_PORT;
        root $TMP/nginx/www;
        location / { default_type application/json; }
    }
}
EOF
# shellcheck disable=SC2086
$PIN_SERVER "$NGINX" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/logs/error.log" >/dev/null 2>&1 &
NGINX_PID=$!
N_URL="http://127.0.0.1:$N_PORT/system.json"
i=0
until [ "$(curl -s -o /dev/null -w '%{http_code}' "$N_URL")" = 200 ]; do
  i=$((i + 1))
  kill -0 "$NGINX_PID" 2>/dev/null || die "nginx did not start: $(cat "$TMP/nginx/logs/error.log")"
  [ $i -lt 300 ] || die "nginx never served $N_URL"
  sleep 0.01
done
echo "bench: nginx pid $NGINX_PID at $N_URL ($BODY_BYTES bytes)"

# --- load --------------------------------------------------------------------------------------------
set -- nginx "$N_URL"
if [ "$TARGETS" = all ]; then
  set -- "$@" healthz "${A_URL}healthz" system "${A_URL}api/v1/system" bearer "${A_URL}api/v1/workspaces/$WS_ID" \
    billing "${A_URL}api/v1/workspaces/$WS_ID/billing" pdf "${A_URL}api/v1/workspaces/$WS_ID/billing/invoices/$INVOICE_ID/pdf"
fi
echo "bench: wrk -t1, ${SECONDS_PER_RUN} s per run, connections: $CONNS"
while [ $# -gt 0 ]; do
  name=$1 url=$2
  shift 2
  if [ "$WARMUP" -gt 0 ]; then
    # shellcheck disable=SC2086
    if [ "$name" = bearer ] || [ "$name" = billing ] || [ "$name" = pdf ]; then
      $PIN_CLIENT wrk -t1 -c64 -d"${WARMUP}s" -H "Authorization: Bearer $API_KEY" "$url" >/dev/null 2>&1 &
    else
      $PIN_CLIENT wrk -t1 -c64 -d"${WARMUP}s" "$url" >/dev/null 2>&1 &
    fi
    WRK_PID=$!
    wait "$WRK_PID"
    WRK_PID=""
  fi
  for c in $CONNS; do
    run_wrk "$name" "$c" "$url"
  done
done
if [ -n "$ATRIUM_PID" ]; then
  kill -0 "$ATRIUM_PID" 2>/dev/null || die "atrium died under load: $(tail -5 "$TMP/atrium.err")"
  HWM_KB=$(awk '/^VmHWM:/ { print $2 }' "/proc/$ATRIUM_PID/status")
  THREADS=$(awk '/^Threads:/ { print $2 }' "/proc/$ATRIUM_PID/status")
fi

# --- report ------------------------------------------------------------------------------------------
echo
printf '%-26s %5s %9s %8s %8s %7s %8s %9s %6s\n' target conns 'req/s' 'p50 ms' 'p99 ms' '/nginx' 'CPU us' 'CPU/nginx' errors
awk '
  { name[NR] = $1; c[NR] = $2; rps[NR] = $3; p50[NR] = $4; p99[NR] = $5; err[NR] = $6 + $7; cpu[NR] = $9
    if ($1 == "nginx") { base[$2] = $3; bcpu[$2] = $9 } }
  END {
    label["nginx"] = "nginx static file"; label["healthz"] = "atrium GET /healthz"; label["system"] = "atrium GET /api/v1/system"; label["bearer"] = "atrium Bearer GET /workspaces/{id}"; label["billing"] = "atrium GET .../billing"; label["pdf"] = "atrium GET invoice PDF"
    for (i = 1; i <= NR; i++) {
      ratio = (base[c[i]] > 0) ? sprintf("%.0f %%", 100 * rps[i] / base[c[i]]) : "-"
      cratio = (cpu[i] > 0 && bcpu[c[i]] > 0) ? sprintf("%.0f %%", 100 * bcpu[c[i]] / cpu[i]) : "-"
      printf "%-26s %5d %9.0f %8s %8s %7s %8s %9s %6d\n", label[name[i]], c[i], rps[i], p50[i], p99[i], ratio, cpu[i], cratio, err[i]
    }
  }' "$RESULTS"
echo "(/nginx: req/s as a share of nginx at the same connections; CPU/nginx: nginx CPU per request divided by"
echo " the target's, i.e. the share of nginx's throughput it would reach with a core to itself)"
echo
if [ -n "$RSS_KB" ]; then
  printf 'idle RSS %.1f MB; after load: peak RSS %.1f MB, %s threads\n' "$(echo "$RSS_KB" | awk '{ print $1 / 1024 }')" \
    "$(echo "$HWM_KB" | awk '{ print $1 / 1024 }')" "$THREADS"
  echo "start-up to ready: $READY_MS ms to the ready line, $READYZ_MS ms to the first 200 from /readyz"
fi
echo

# verdict NAME OK TEXT
verdict() {
  if [ "$2" = 1 ]; then echo "PASS  $1: $3"; else echo "MISS  $1: $3"; fi
}
get() { awk -v n="$1" -v c="$2" -v f="$3" '$1 == n && $2 == c { print $f }' "$RESULTS"; }
if [ "$TARGETS" = all ]; then
  s_rps=$(get system 64 3) n_rps=$(get nginx 64 3) s_p99=$(get system 64 5)
  if [ -n "$s_rps" ] && [ -n "$n_rps" ]; then
    ok=$(awk -v a="$s_rps" -v b="$n_rps" -v t="$TARGET_RATIO" 'BEGIN { print (b > 0 && 100 * a / b >= t) ? 1 : 0 }')
    verdict "throughput" "$ok" "GET /api/v1/system at 64 connections: $(awk -v a="$s_rps" -v b="$n_rps" 'BEGIN { printf "%.0f %%", 100 * a / b }') of nginx (target >= $TARGET_RATIO %)"
    ok=$(awk -v a="$s_p99" -v t="$TARGET_P99_MS" 'BEGIN { print (a != "NaN" && a + 0 <= t) ? 1 : 0 }')
    verdict "latency" "$ok" "GET /api/v1/system p99 at 64 connections: $s_p99 ms (target <= $TARGET_P99_MS ms)"
  fi
  b_rps=$(get bearer 64 3) b_p99=$(get bearer 64 5) b_non2xx=$(get bearer 64 7)
  if [ -n "$b_rps" ] && [ -n "$n_rps" ]; then
    ok=$(awk -v a="$b_rps" -v b="$n_rps" -v t="$TARGET_RATIO" -v x="$b_non2xx" 'BEGIN { print (b > 0 && x == 0 && 100 * a / b >= t) ? 1 : 0 }')
    verdict "API key route" "$ok" "Bearer GET of the workspace document at 64 connections: $(awk -v a="$b_rps" -v b="$n_rps" 'BEGIN { printf "%.0f %%", 100 * a / b }') of nginx, non-2xx $b_non2xx (target >= $TARGET_RATIO %)"
    ok=$(awk -v a="$b_p99" -v t="$TARGET_P99_MS" 'BEGIN { print (a != "NaN" && a + 0 <= t) ? 1 : 0 }')
    verdict "API key latency" "$ok" "Bearer GET p99 at 64 connections: $b_p99 ms (target <= $TARGET_P99_MS ms)"
  fi
  for name in billing pdf; do
    r=$(get "$name" 64 3) p=$(get "$name" 64 5) x=$(get "$name" 64 7)
    [ -n "$r" ] && [ -n "$n_rps" ] &&
      echo "INFO  $name at 64 connections: $r req/s, $(awk -v a="$r" -v b="$n_rps" 'BEGIN { printf "%.1f %%", 100 * a / b }') of nginx, p99 $p ms, non-2xx $x (no target: reported for the record)"
  done
  for name in healthz system; do
    base=$(get "$name" 64 3)
    for c in $CONNS; do
      [ "$c" -gt 64 ] || continue
      rps=$(get "$name" "$c" 3) errs=$(get "$name" "$c" 6)
      # A stall shows as throughput collapsing (MHD epoll stalled outright at 128 and 256) or as
      # timed-out / refused connections.
      ok=$(awk -v r="$rps" -v b="$base" -v e="$errs" 'BEGIN { print (r > 0 && (b == "" || r >= 0.5 * b) && e == 0) ? 1 : 0 }')
      verdict "no stall" "$ok" "$name at $c connections: $rps req/s ($(awk -v r="$rps" -v b="$base" 'BEGIN { if (b > 0) printf "%.0f %% of c=64", 100 * r / b; else print "-" }')), $errs socket errors"
    done
  done
  ok=$(awk -v k="$RSS_KB" -v t="$TARGET_RSS_MB" 'BEGIN { print (k / 1024 <= t) ? 1 : 0 }')
  verdict "idle RSS" "$ok" "$(awk -v k="$RSS_KB" 'BEGIN { printf "%.1f", k / 1024 }') MB (target <= $TARGET_RSS_MB MB)"
  ok=$([ "$READY_MS" -le "$TARGET_READY_MS" ] && echo 1 || echo 0)
  verdict "start-up" "$ok" "$READY_MS ms to ready, $READYZ_MS ms to /readyz 200 (target <= $TARGET_READY_MS ms)"
  non2xx=$(awk '$1 != "nginx" { n += $7 } END { print n + 0 }' "$RESULTS")
  [ "$non2xx" = 0 ] || echo "NOTE  $non2xx non-2xx responses from atrium under load (see the errors column)"
else
  echo "bench: BENCH_TARGETS=$TARGETS: yardstick only, no Atrium targets judged"
fi
exit 0
