#!/usr/bin/env bash
# Install everything coordhub needs to build, run and test on Debian 12.
# Idempotent: installs only missing packages; runs `npm ci` only when the
# lockfile changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake pkg-config git
  libevent-dev libcjson-dev libsqlite3-dev libhiredis-dev libssl-dev libcmocka-dev
  sqlite3 redis-server redis-tools jq procps curl openssl python3
  valgrind clang clang-format clang-tidy
  nodejs npm
)

missing=()
for p in "${PACKAGES[@]}"; do
  # node/npm may come from elsewhere than Debian; accept them on PATH.
  case "$p" in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
  esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    SUDO=sudo
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The test setup starts private redis instances; never rely on the system one.
if command -v systemctl >/dev/null 2>&1; then :; fi

for dir in tests/e2e bench; do
  if [ -f "$dir/package-lock.json" ]; then
    stamp="$dir/node_modules/.coordhub-lock"
    if [ ! -f "$stamp" ] || ! cmp -s "$dir/package-lock.json" "$stamp"; then
      echo "setup: npm ci in $dir"
      (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
      cp "$dir/package-lock.json" "$stamp"
    fi
  fi
done
echo "setup: ok"
