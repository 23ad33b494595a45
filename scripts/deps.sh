#!/bin/sh
# Installs the Debian packages Atrium needs that this machine lacks. `deps.sh run` installs what
# building and serving need; `deps.sh test` adds what the test suites need (PostgreSQL 15, Chromium,
# wrk, nginx, clang's fuzzer runtime; systemd-analyze, Caddy and openssl for the deploy/ recipes).
# Uses apt-get as root, sudo otherwise; does nothing when all is present.
set -eu
mode=${1:-run}
pkgs="build-essential pkg-config libmicrohttpd-dev libjansson-dev libsqlite3-dev libpq-dev libsodium-dev
libcurl4-gnutls-dev libinih-dev libcairo2-dev libpng-dev libjpeg62-turbo-dev libwebp-dev fonts-dejavu-core fonts-wqy-microhei sqlite3 ca-certificates tzdata python3 python3-yaml"
if [ "$mode" = test ]; then
  pkgs="$pkgs libcriterion-dev clang libclang-rt-14-dev postgresql-15 postgresql-client-15 chromium wrk
nginx-light curl procps python3-aiosmtpd poppler-utils systemd caddy openssl"
fi
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  missing="$missing nodejs npm"
fi
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
