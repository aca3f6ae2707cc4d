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

start_hub() {
  "$COORDHUB" serve --daemon --no-http
  for _ in $(seq 100); do [ -S "$STATE/hub.sock" ] && return 0; sleep 0.05; done
  echo "hub did not start"; cat "$STATE/hub.log" 2>/dev/null; return 1
}

finish() {
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
}
