#!/usr/bin/env bash
# The hub while Redis is away (docs/operations.md, "Redis going away")
# and after it comes back. Redis is
# killed after some answered writes; the idle hub notices at once (its
# tail of the log loses the connection) and tells an SSE /events client
# health:degraded before any call is made; reads answer from its replica
# marked stale, with the state as of the last answered write; writes are
# refused with the precise error and change nothing (the rebuild of the
# state when a write's append fails is unit-tested in test_hub_outage.c);
# an MCP session over /mcp gets it as a warning notification and its
# tools answer stale or refuse; /healthz and the unified health show the
# store away since when and why;
# wait_for_events still serves committed events. Redis is started again
# from its append-only file on the same socket: the hub recovers by itself
# (no write needed), the log then holds health:degraded (the original
# since) and health:recovered, none of the refused writes, and writes work
# again. The test runs its own redis-server on a Unix socket in its work
# directory and stops everything it started.
source "$(dirname "$0")/lib.sh"

command -v redis-server >/dev/null || { fail "redis-server is not installed (run make setup)"; finish; exit 1; }
REDIS_DIR="$WORK/redis"
SOCK="$REDIS_DIR/redis.sock"
STORE="unix://$SOCK"
REDIS_PID=
SSE_PID=
MCP_PID=
mkdir -p "$REDIS_DIR"

start_redis() { redis_start --appendfsync always; }
stop_redis() { # SIGKILL: only what the append-only file holds survives
  kill -KILL "$REDIS_PID" 2>/dev/null || true
  wait "$REDIS_PID" 2>/dev/null || true
}
stop_sse() {
  local p
  for p in $SSE_PID $MCP_PID; do
    kill -TERM "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  SSE_PID= MCP_PID=
}
trap 'stop_sse; stop_redis; cleanup' EXIT
ch() { "$COORDHUB" "$@" --store "$STORE"; }

start_redis
ch serve --daemon --http 127.0.0.1:0
wait_for "$STATE/http.addr" ":" && ok "hub up on redis with HTTP" || { fail "no http.addr"; finish; exit 1; }
URL="http://$(cat "$STATE/http.addr")"
TOKEN=$(cat "$STATE/token")
AUTH=(-H "Authorization: Bearer $TOKEN")
JSON=(-H "Content-Type: application/json")
# req METHOD PATH [curl args...]: the status on stdout, the body in $WORK/body.
req() {
  local m=$1 p=$2; shift 2
  curl -s -o "$WORK/body" -w '%{http_code}' -X "$m" "${AUTH[@]}" "$@" "$URL$p"
}
body() { jq -r "$1" "$WORK/body"; }

# ---- answered writes, then an event stream --------------------------------------
expect_code 0 "alice locks a.c" -- ch lock src/a.c --agent alice --reason edit --json
tok_a=$(jq -r .token "$WORK/out")
expect_code 0 "task T1 is created" -- ch task add "first task" --id T1 --json
last=$(curl -s "${AUTH[@]}" "$URL/api/v1/health" | jq -r .store.lastSeq)
[ "$last" -ge 3 ] && ok "the log holds $last events" || fail "lastSeq $last"
curl -s -N "${AUTH[@]}" "$URL/events?types=health:*,file:*" >"$WORK/sse" 2>/dev/null &
SSE_PID=$!
wait_for "$WORK/sse" "retry:" && ok "an SSE client follows /events" || fail "no SSE stream"
# An MCP session over HTTP with its GET stream open (notifications).
MCP=(-H "Content-Type: application/json" -H "Accept: application/json, text/event-stream")
init='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"outage","version":"1"}}}'
curl -s -D "$WORK/mh" -o "$WORK/init" "${AUTH[@]}" "${MCP[@]}" -d "$init" "$URL/mcp"
SID=$(grep -i '^MCP-Session-Id:' "$WORK/mh" | tr -d '\r' | awk '{print $2}')
MH=(-H "MCP-Session-Id: $SID" -H "MCP-Protocol-Version: 2025-11-25")
curl -s -o /dev/null "${AUTH[@]}" "${MCP[@]}" "${MH[@]}" \
  -d '{"jsonrpc":"2.0","method":"notifications/initialized"}' "$URL/mcp"
curl -s -N "${AUTH[@]}" "${MH[@]}" -H "Accept: text/event-stream" "$URL/mcp" >"$WORK/mcp" 2>/dev/null &
MCP_PID=$!
# mcp_call ID TOOL ARGS: a tools/call in the session, its answer in $WORK/body.
mcp_call() {
  curl -s -o "$WORK/body" "${AUTH[@]}" "${MCP[@]}" "${MH[@]}" \
    -d "{\"jsonrpc\":\"2.0\",\"id\":$1,\"method\":\"tools/call\",\"params\":{\"name\":\"$2\",\"arguments\":$3}}" \
    "$URL/mcp"
}
mcp_call 2 list_agents '{}'
[ -n "$SID" ] && [ "$(body '.result.structuredContent.agents | length')" -ge 1 ] &&
  ok "an MCP session over /mcp with its GET stream" || fail "mcp session: $(cat "$WORK/init" "$WORK/body")"

# ---- Redis goes away ----------------------------------------------------------------
stop_redis
# No call is made: the hub hears that the store went away by itself.
wait_for "$WORK/sse" "event: health:degraded" && ok "the idle hub tells the SSE client health:degraded" \
  || fail "no health:degraded on /events: $(cat "$WORK/sse")"
wait_for "$WORK/mcp" '"level":"warning"' && grep '"level":"warning"' "$WORK/mcp" |
  grep -q '"type":"health:degraded"' && ok "the MCP session is told: notifications/message, level warning" ||
  fail "no warning on the MCP stream: $(cat "$WORK/mcp")"
mcp_call 3 check_lock '{"file":"src/a.c"}'
[ "$(body .result.structuredContent.stale)" = true ] && [ "$(body .result.structuredContent.lockedBy)" = alice ] &&
  ok "check_lock over MCP answers from the replica, marked stale" || fail "mcp check_lock: $(cat "$WORK/body")"
mcp_call 4 lock_file '{"file":"src/m.c"}'
[ "$(body .result.isError)" = true ] && body '.result.content[0].text' | grep -q "nothing was recorded" &&
  ok "lock_file over MCP: a tool error, nothing recorded" || fail "mcp lock: $(cat "$WORK/body")"
expect_code 1 "bob's lock while redis is away is refused" -- ch lock src/b.c --agent bob --json
grep -q "lock_file was refused and nothing was recorded" "$WORK/out" "$WORK/err" \
  && ok "…saying nothing was recorded" || fail "refusal text: $(cat "$WORK/out" "$WORK/err")"
frame=$(awk '/^event: health:degraded/{f=1} f&&/^$/{exit} f' "$WORK/sse")
echo "$frame" | grep -q '^id:' && fail "the degraded announcement has an id: $frame" \
  || ok "…in a frame without id: (resumption unaffected)"
since=$(echo "$frame" | sed -n 's/^data: //p' | jq -r .data.since)
echo "$frame" | sed -n 's/^data: //p' | jq -e '.data.component == "store" and
  .data.status == "degraded" and (.data.reason | length > 0) and (has("id") | not)' >/dev/null \
  && ok "…with component store, status degraded, a reason and since $since" \
  || fail "degraded data: $frame"

# Reads: the replica as of the last answered write, marked stale.
expect_code 0 "list locks while redis is away" -- ch locks --json
jq -e '.stale == true' "$WORK/out" >/dev/null && ok "the answer is marked stale" \
  || fail "not marked stale: $(cat "$WORK/out")"
[ "$(jq -r .staleSince "$WORK/out")" = "$since" ] && ok "staleSince is when the store went away" \
  || fail "staleSince $(jq -r .staleSince "$WORK/out"), since $since"
files=$(jq -r '[.locks[].file] | sort | join(",")' "$WORK/out")
[ "$files" = "src/a.c" ] && ok "the locks are those answered before (the refused b.c is absent)" \
  || fail "stale locks are $files"
[ "$(req GET /api/v1/locks/src/a.c?fencingToken=$tok_a)" = 200 ] && [ "$(body .stale)" = true ] &&
  [ "$(body .valid)" = true ] && [ "$(body .lockedBy)" = alice ] &&
  ok "check_lock over REST answers from the replica and says it is stale" ||
  fail "check_lock: $(cat "$WORK/body")"
[ "$(req GET /api/v1/tasks)" = 200 ] && [ "$(body '[.tasks[].taskId] | join(",")')" = T1 ] &&
  [ "$(body .stale)" = true ] && ok "GET /api/v1/tasks: T1, stale" || fail "tasks: $(cat "$WORK/body")"
expect_code 0 "coordhub status while redis is away" -- ch status --json
[ "$(jq -r .stale "$WORK/out")" = true ] && ok "…is marked stale" || fail "status: $(cat "$WORK/out")"
[ "$(req GET /status)" = 200 ] && [ "$(body .stale)" = true ] &&
  [ "$(body .systemHealth.store.status)" = unhealthy ] &&
  ok "GET /status: stale, the store unhealthy" || fail "status: $(cat "$WORK/body")"
[ "$(req GET "/api/v1/events?since=0")" = 200 ] &&
  [ "$(body '[.events[].type] | index("file:locked") != null')" = true ] &&
  [ "$(body .lastId)" = "$last" ] && ok "wait_for_events still serves the committed events" ||
  fail "events: $(cat "$WORK/body")"

# Health.
[ "$(req GET /api/v1/health)" = 200 ] && [ "$(body .overall)" = unhealthy ] &&
  [ "$(body .store.status)" = unhealthy ] && [ "$(body .store.since)" = "$since" ] &&
  [ -n "$(body '.store.reason // empty')" ] && [ "$(body .store.staleReads)" = true ] &&
  ok "get_unified_health: the store unhealthy since $since, with the reason" ||
  fail "health: $(cat "$WORK/body")"
[ "$(curl -s -o "$WORK/body" -w '%{http_code}' "$URL/healthz")" = 200 ] &&
  [ "$(body .status)" = degraded ] && [ "$(body .store.since)" = "$since" ] &&
  ok "/healthz: alive, degraded, the store away since $since" || fail "healthz: $(cat "$WORK/body")"

# Writes: refused with the precise error, nothing changes.
expect_code 1 "carol's lock is refused" -- ch lock src/c.c --agent carol --json
grep -q "the redis store is unreachable since $since" "$WORK/err" &&
  grep -q "lock_file was refused and nothing was recorded" "$WORK/err" &&
  ok "…naming the store, since when, and that nothing was recorded" || fail "refusal: $(cat "$WORK/err")"
expect_code 1 "a task is refused" -- ch task add "second" --id T2 --json
[ "$(req POST /api/v1/locks "${JSON[@]}" -d '{"agentId":"dave","file":"src/d.c"}')" = 503 ] &&
  [ "$(body .error.code)" = unavailable ] && body .error.message | grep -q "nothing was recorded" &&
  ok "POST /api/v1/locks: 503 unavailable, nothing recorded" || fail "REST write: $(cat "$WORK/body")"
[ "$(req POST /events "${JSON[@]}" -d '{"type":"deploy:done","data":{}}')" != 200 ] &&
  ok "POST /events is refused too" || fail "POST /events: $(cat "$WORK/body")"
expect_code 0 "locks again" -- ch locks --json
[ "$(jq -r '[.locks[].file] | sort | join(",")' "$WORK/out")" = src/a.c ] &&
  ok "the refused writes changed nothing" || fail "locks now $(cat "$WORK/out")"

# ---- Redis comes back ----------------------------------------------------------------
start_redis
recovered=1
for _ in $(seq 150); do # the reload retry backs off up to 5 s
  if [ "$(req GET /api/v1/health)" = 200 ] && [ "$(body .store.status)" = healthy ]; then
    recovered=0; break
  fi
  sleep 0.1
done
[ "$recovered" = 0 ] && ok "the hub recovers by itself" || fail "no recovery: $(cat "$WORK/body")"
wait_for "$WORK/sse" "event: health:recovered" && ok "the SSE client hears health:recovered" \
  || fail "no health:recovered on /events"
wait_for "$WORK/mcp" '"level":"notice"' && grep '"level":"notice"' "$WORK/mcp" |
  grep -q '"type":"health:recovered"' && ok "the MCP session is told of the recovery (level notice)" ||
  fail "no notice on the MCP stream: $(cat "$WORK/mcp")"
expect_code 0 "the event log" -- ch events --json
cp "$WORK/out" "$WORK/log"
jq -s -e --arg since "$since" '
  (map(.type) | index("health:degraded")) as $d |
  $d != null and .[$d].data.since == $since and .[$d].data.component == "store" and
  .[$d + 1].type == "health:recovered" and .[$d + 1].data.since == $since and
  (.[$d + 1].data.downMs | type == "number" and . >= 0) and
  (.[$d + 1].id | tonumber) == (.[$d].id | tonumber) + 1' "$WORK/log" >/dev/null &&
  ok "the log holds health:degraded (since $since) then health:recovered" ||
  fail "outage record: $(jq -c 'select(.type | startswith("health:"))' "$WORK/log")"
jq -s -e '[.[] | select(.type == "file:locked" or .type == "task:created") | (.data.file // .data.task.taskId // .data.taskId)]
  | (index("src/b.c") == null) and (index("src/c.c") == null) and (index("src/d.c") == null)
  and (index("T2") == null) and (index("src/m.c") == null)' "$WORK/log" >/dev/null &&
  ! grep -q deploy:done "$WORK/log" && ok "none of the refused writes is in the log" ||
  fail "a refused write was recorded: $(cat "$WORK/log")"
jq -s -e '[.[].id | tonumber] | . == [range(1; length + 1)]' "$WORK/log" >/dev/null &&
  ok "event ids are contiguous" || fail "ids: $(jq -s -c '[.[].id]' "$WORK/log")"
degraded_id=$(jq -s -r 'map(select(.type == "health:degraded"))[0].id' "$WORK/log")
grep -q "^id: $degraded_id$" "$WORK/sse" && ok "the SSE client got the recorded degraded event too (id $degraded_id)" \
  || fail "no logged degraded event on /events"

expect_code 0 "writes work again: carol locks c.c" -- ch lock src/c.c --agent carol --json
expect_code 0 "locks after recovery" -- ch locks --json
[ "$(jq -r '[.locks[].file] | sort | join(",")' "$WORK/out")" = "src/a.c,src/c.c" ] &&
  [ "$(jq -r '.stale // false' "$WORK/out")" = false ] &&
  ok "fresh answers again (no stale mark): a.c and c.c" || fail "locks: $(cat "$WORK/out")"
[ "$(jq -r '[.locks[] | select(.file=="src/a.c")][0].token' "$WORK/out")" = "$tok_a" ] &&
  ok "a.c kept its token" || fail "a.c token changed"

stop_sse
kill -TERM "$(hub_pid)" 2>/dev/null || true
for _ in $(seq 100); do kill -0 "$(hub_pid)" 2>/dev/null || break; sleep 0.05; done
stop_redis
finish
