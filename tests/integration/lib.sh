# Shared helpers for integration tests: a private workspace per test, the
# hub started in it, and cleanup of every process the test started.
set -euo pipefail

COORDHUB="${1:?usage: $0 path/to/coordhub}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/coordhub-it.XXXXXX")
ROOT="$WORK/repo"
STATE="$ROOT/.coordhub"
mkdir -p "$ROOT"
export COORDHUB_ROOT="$ROOT" COORDHUB_STATE_DIR="$STATE"
unset COORDHUB_AGENT
PASSED=0
FAILED=0

hub_pid() { [ -f "$STATE/hub.lock" ] && head -n1 "$STATE/hub.lock" 2>/dev/null || true; }

cleanup() {
  local pid
  pid=$(hub_pid)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  # Any other hub started for this state dir (should be none).
  pkill -KILL -f -- "--state-dir $STATE" 2>/dev/null || true
  jobs -p | xargs -r kill -KILL 2>/dev/null || true
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

ok() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
fail() { FAILED=$((FAILED + 1)); echo "not ok - $*"; }

# expect_code CODE DESCRIPTION -- command...
expect_code() {
  local want=$1 desc=$2; shift 3
  local got=0
  "$@" >"$WORK/out" 2>"$WORK/err" || got=$?
  if [ "$got" = "$want" ]; then ok "$desc"; else
    fail "$desc (exit $got, wanted $want)"; sed 's/^/    /' "$WORK/out" "$WORK/err"; fi
}

# wait_for FILE PATTERN [TRIES]: until FILE holds PATTERN (50 ms steps,
# 100 tries by default); non-zero when it never does.
wait_for() {
  for _ in $(seq "${3:-100}"); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
  return 1
}

# start_http_hub: a hub with its HTTP face on an ephemeral loopback port.
# Sets ADDR, URL, TOKEN (the admin token) and the curl arguments AUTH
# (that token as Bearer credential) and JSON (the content type); ends the
# test when the hub does not come up.
start_http_hub() {
  "$COORDHUB" serve --daemon --http 127.0.0.1:0
  if wait_for "$STATE/http.addr" ":"; then ok "hub up with HTTP"; else
    fail "no http.addr"; cat "$STATE/hub.log" 2>/dev/null; finish; exit 1; fi
  ADDR=$(cat "$STATE/http.addr")
  URL="http://$ADDR"
  TOKEN=$(cat "$STATE/token")
  AUTH=(-H "Authorization: Bearer $TOKEN")
  JSON=(-H "Content-Type: application/json")
}

start_hub() {
  "$COORDHUB" serve --daemon --no-http
  for _ in $(seq 100); do [ -S "$STATE/hub.sock" ] && return 0; sleep 0.05; done
  echo "hub did not start"; cat "$STATE/hub.log" 2>/dev/null; return 1
}

finish() {
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
}

# stop_hub STATE-DIR: stop the hub whose lock is in STATE-DIR (TERM, then
# KILL after 5 s). Nothing when none runs.
stop_hub() {
  local pid
  pid=$([ -f "$1/hub.lock" ] && head -n1 "$1/hub.lock" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
}

# redis_start [REDIS-SERVER-OPTIONS...]: a private redis-server listening
# only on the Unix socket $REDIS_DIR/redis.sock (REDIS_DIR defaults to
# $WORK/redis), append-only file on, no RDB saves, extra options after
# those. Sets SOCK, REDIS_URL (unix://…) and REDIS_PID; the caller stops it. Its
# log is appended to, so it may be started again on the same data.
redis_start() {
  command -v redis-server >/dev/null || { fail "redis-server is not installed (run make setup)"; return 1; }
  REDIS_DIR=${REDIS_DIR:-$WORK/redis}
  SOCK="$REDIS_DIR/redis.sock"
  REDIS_URL="unix://$SOCK"
  mkdir -p "$REDIS_DIR"
  redis-server --port 0 --unixsocket "$SOCK" --unixsocketperm 700 --dir "$REDIS_DIR" \
    --save "" --appendonly yes --daemonize no "$@" >>"$REDIS_DIR/redis.log" 2>&1 &
  REDIS_PID=$!
  for _ in $(seq 100); do redis-cli -s "$SOCK" ping 2>/dev/null | grep -q PONG && return 0; sleep 0.05; done
  fail "redis-server did not answer: $(tail -n 3 "$REDIS_DIR/redis.log")"
  kill -KILL "$REDIS_PID" 2>/dev/null || true
  return 1
}

# contiguous_ids FILE: the events in FILE (one JSON object a line, as
# `coordhub events --json` prints them) have the ids 1, 2, …, n.
contiguous_ids() {
  jq -s -e '[.[].id|tonumber] | . == [range(1; length+1)]' "$1" >/dev/null
}

# wait_same_log CMD-A CMD-B: poll (up to 10 s) until `CMD-A events --json`
# and `CMD-B events --json` print the same non-empty log, left in
# $WORK/ev-a and $WORK/ev-b. Each CMD is split on spaces ("a", "call b").
wait_same_log() {
  for _ in $(seq 200); do
    $1 events --json >"$WORK/ev-a" 2>/dev/null || true
    $2 events --json >"$WORK/ev-b" 2>/dev/null || true
    [ -s "$WORK/ev-a" ] && cmp -s "$WORK/ev-a" "$WORK/ev-b" && return 0
    sleep 0.05
  done
  return 1
}
