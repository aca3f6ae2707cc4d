#!/usr/bin/env bash
# A REST lock request queued with waitMs whose client hangs up is
# cancelled, as an MCP client's is: when the holder lets go, the key is
# not granted to the departed REST agent and no file:locked names it; a
# client that stays gets its grant.
source "$(dirname "$0")/lib.sh"

start_http_hub

# The number of queued lock requests, from /metrics.
waiters() {
  curl -s "${AUTH[@]}" "$URL/metrics" | awk '$1 == "coordhub_lock_waiters" {print $2}'
}
# wait_waiters N: poll until N requests are queued.
wait_waiters() {
  for _ in $(seq 100); do [ "$(waiters)" = "$1" ] && return 0; sleep 0.05; done
  return 1
}

expect_code 0 "holder takes a.c" -- "$COORDHUB" lock a.c --agent holder

# A client that hangs up while it waits.
curl -s -o "$WORK/gone.out" -X POST "${AUTH[@]}" "${JSON[@]}" \
  -d '{"file":"a.c","agentId":"rest-gone","waitMs":20000}' "$URL/api/v1/locks" &
CURL_PID=$!
wait_waiters 1 && ok "the REST request is queued" || fail "not queued: $(waiters)"
kill -KILL "$CURL_PID" 2>/dev/null || true
wait "$CURL_PID" 2>/dev/null || true
wait_waiters 0 && ok "its hang-up takes it off the queue" || fail "still queued: $(waiters)"

expect_code 0 "holder releases a.c" -- "$COORDHUB" unlock a.c --agent holder
sleep 0.3
"$COORDHUB" locks --json >"$WORK/locks.json"
[ "$(jq '[.locks[] | select(.file == "a.c")] | length' "$WORK/locks.json")" = 0 ] &&
  ok "a.c is free afterwards, not leased to the departed client" ||
  fail "a.c leased: $(cat "$WORK/locks.json")"
curl -s "${AUTH[@]}" "$URL/api/v1/events?since=0&limit=1000" >"$WORK/events.json"
[ "$(jq '[.events[] | select(.type == "file:locked" and .data.agentId == "rest-gone")] | length' \
  "$WORK/events.json")" = 0 ] && ok "no file:locked for the departed REST agent" ||
  fail "granted after hang-up: $(jq -c '.events[] | select(.data.agentId == "rest-gone")' \
    "$WORK/events.json")"

# A client that stays is granted when the key frees (the cancel is only
# for clients that left).
expect_code 0 "holder takes a.c again" -- "$COORDHUB" lock a.c --agent holder
curl -s -o "$WORK/stay.out" -w '%{http_code}' -X POST "${AUTH[@]}" "${JSON[@]}" \
  -d '{"file":"a.c","agentId":"rest-stays","waitMs":20000}' "$URL/api/v1/locks" >"$WORK/stay.code" &
STAY_PID=$!
wait_waiters 1 && ok "a second REST request is queued" || fail "not queued: $(waiters)"
expect_code 0 "holder releases a.c again" -- "$COORDHUB" unlock a.c --agent holder
wait "$STAY_PID" || true
[ "$(cat "$WORK/stay.code")" = 201 ] && [ "$(jq -r .success "$WORK/stay.out")" = true ] &&
  ok "the client that waited is granted (201)" ||
  fail "stay: $(cat "$WORK/stay.code") $(cat "$WORK/stay.out")"

finish
