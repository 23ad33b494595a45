#!/bin/sh
# A throwaway PostgreSQL 15 cluster for tests.
#
#   scripts/pg.sh start [--fast] DIR PORT   create (if needed) and start a cluster in DIR, listening
#                                           on 127.0.0.1:PORT only, trust auth; prints its URL
#   scripts/pg.sh stop DIR                  stop it (the files stay; rm -rf DIR to drop them)
#
# The data lives in DIR/data, the unix socket and the server log in DIR. Run as root, the cluster runs
# as the `postgres` OS user (PostgreSQL refuses to run as root), so DIR must be reachable by that user
# (e.g. under /tmp). --fast turns off fsync, synchronous_commit and full_page_writes: quicker, and
# unsafe on a crash, which a throwaway test cluster does not mind; the default keeps them on.
set -eu

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

usage() {
  echo "usage: $0 start [--fast] DIR PORT | $0 stop DIR" >&2
  exit 2
}

# as_pg CMD...: runs CMD as the cluster's owner (postgres when we are root, else ourselves).
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    if command -v runuser >/dev/null 2>&1; then
      runuser -u postgres -- "$@"
    else
      # su needs one command string; quote each argument for the shell.
      cmd=""
      for a in "$@"; do
        cmd="$cmd '$(printf '%s' "$a" | sed "s/'/'\\\\''/g")'"
      done
      su postgres -s /bin/sh -c "$cmd"
    fi
  else
    "$@"
  fi
}

start() {
  fast=0
  dir=""
  port=""
  for a in "$@"; do # --fast may come first or last
    case $a in
      --fast) fast=1 ;;
      -*) usage ;;
      *) if [ -z "$dir" ]; then dir=$a; elif [ -z "$port" ]; then port=$a; else usage; fi ;;
    esac
  done
  [ -n "$dir" ] && [ -n "$port" ] || usage
  case $port in '' | *[!0-9]*) echo "pg.sh: PORT must be a number" >&2; exit 2 ;; esac
  [ -x "$PGBIN/initdb" ] || { echo "pg.sh: $PGBIN/initdb not found; install postgresql-15" >&2; exit 1; }

  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || { echo "pg.sh: no postgres user; install postgresql-15" >&2; exit 1; }
    chown postgres: "$dir"
    if ! runuser -u postgres -- test -w "$dir" 2>/dev/null && ! su postgres -s /bin/sh -c "test -w '$dir'"; then
      echo "pg.sh: the postgres user cannot write $dir (a parent folder is closed to it); use a folder under /tmp" >&2
      exit 1
    fi
  fi
  chmod 700 "$dir"

  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_pg "$PGBIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 || {
      cat "$dir/initdb.log" >&2
      exit 1
    }
  fi

  if as_pg "$PGBIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    echo "pg.sh: already running in $dir" >&2
  else
    opts="-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir"
    if [ $fast = 1 ]; then
      opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    fi
    as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -o "$opts" -w -t 60 start >/dev/null || {
      tail -n 20 "$dir/server.log" >&2 || true
      exit 1
    }
  fi

  i=0
  until "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres; do
    i=$((i + 1))
    [ $i -lt 60 ] || { echo "pg.sh: server did not become ready" >&2; exit 1; }
    sleep 0.5
  done
  echo "postgres://postgres@127.0.0.1:$port/postgres"
}

stop() {
  [ $# -eq 1 ] || usage
  dir=$1
  [ -d "$dir/data" ] || { echo "pg.sh: no cluster in $dir" >&2; exit 0; }
  if as_pg "$PGBIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
  fi
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case $cmd in
  start) start "$@" ;;
  stop) stop "$@" ;;
  *) usage ;;
esac
