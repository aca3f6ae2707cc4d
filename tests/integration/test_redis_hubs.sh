#!/usr/bin/env bash
# Two hubs on one workspace in one Redis: each hears the other's events
# through the store's tail (XREAD BLOCK), so a lease granted by one hub is
# seen, and respected, by the other. Both hubs and the redis-server run in
# the test's work directory and are stopped at the end.
source "$(dirname "$0")/lib.sh"

command -v redis-server >/dev/null || { fail "redis-server is not installed (run make setup)"; finish; exit 1; }
ROOT_B="$WORK/repo-b"
STATE_B="$ROOT_B/.coordhub"
mkdir -p "$ROOT_B"
redis_start || { finish; exit 1; }
URL="$REDIS_URL"

trap 'stop_hub "$STATE_B"; cleanup' EXIT

# Hub A in the default root, hub B in another; both serve workspace "shop".
a() { "$COORDHUB" "$@" --workspace shop --store "$URL"; }
b() { COORDHUB_ROOT="$ROOT_B" COORDHUB_STATE_DIR="$STATE_B" "$COORDHUB" "$@" --workspace shop --store "$URL"; }
a serve --daemon --no-http
b serve --daemon --no-http
for _ in $(seq 100); do [ -S "$STATE/hub.sock" ] && [ -S "$STATE_B/hub.sock" ] && break; sleep 0.05; done
[ -S "$STATE/hub.sock" ] && [ -S "$STATE_B/hub.sock" ] && ok "two hubs serve one workspace" \
  || { fail "hubs did not start"; cat "$STATE/hub.log" "$STATE_B/hub.log"; finish; exit 1; }

# This redis-server keeps Redis's default appendfsync everysec: the hub says
# that a killed Redis may lose answered operations.
grep -q "appendfsync everysec: answered operations may be lost" "$STATE/hub.log" \
  && ok "the hub warns about appendfsync everysec" || fail "no appendfsync warning in hub.log"

# wait_for CMD JQ-FILTER: poll a hub's --json output until the filter holds.
wait_for() {
  local who=$1 filter=$2
  for _ in $(seq 100); do
    $who locks --json >"$WORK/poll" 2>/dev/null && jq -e "$filter" "$WORK/poll" >/dev/null && return 0
    sleep 0.05
  done
  return 1
}

expect_code 0 "alice locks a.c on hub A" -- a lock src/a.c --agent alice --json
tok=$(jq -r .token "$WORK/out")
wait_for b "[.locks[] | select(.file==\"src/a.c\" and .agentId==\"alice\" and .token==$tok)] | length == 1" \
  && ok "hub B sees alice's lease with its token" || fail "hub B never saw a.c: $(cat "$WORK/poll")"
expect_code 3 "bob is refused a.c on hub B" -- b lock src/a.c --agent bob
grep -q alice "$WORK/err" && ok "the refusal names alice" || fail "refusal: $(cat "$WORK/err")"
expect_code 0 "bob locks b.c on hub B" -- b lock src/b.c --agent bob --json
wait_for a '[.locks[] | select(.file=="src/b.c" and .agentId=="bob")] | length == 1' \
  && ok "hub A sees bob's lease" || fail "hub A never saw b.c"
expect_code 0 "alice unlocks a.c on hub A" -- a unlock src/a.c --agent alice
wait_for b '[.locks[] | select(.file=="src/a.c")] | length == 0' \
  && ok "hub B sees a.c released" || fail "hub B still shows a.c"
expect_code 0 "bob now locks a.c on hub B" -- b lock src/a.c --agent bob

# One log: both hubs' events, ids contiguous.
a events --json >"$WORK/events"
contiguous_ids "$WORK/events" \
  && ok "the shared log has contiguous ids" || fail "ids: $(jq -c -s '[.[].id]' "$WORK/events")"
[ "$(jq -s '[.[] | select(.type=="file:locked")] | length' "$WORK/events")" = 3 ] \
  && ok "hub A's events hold all three locks" || fail "locks in the log: $(cat "$WORK/events")"
stop_hub "$STATE_B"
kill -TERM "$REDIS_PID" 2>/dev/null || true
wait "$REDIS_PID" 2>/dev/null || true
finish
