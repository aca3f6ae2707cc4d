#!/usr/bin/env bash
# JSON the hub refuses on every HTTP face, with curl: a string holding
# U+0000 (an escaped "\u0000", which would cut a C string short) and an
# object with a duplicate key are answered with a precise error naming
# the offset — REST bodies (/api/v1) and POST /events with 400
# invalid_argument, Streamable HTTP /mcp with 400 and JSON-RPC -32600
# carrying the request's id — and change nothing: no event, no lease on
# the cut path, no agent or task. "\\u0000" (an escaped backslash) is no
# NUL and is taken. (stdio and the Unix socket: tests/e2e/bad_input;
# Redis ingestion: test_redis_foreign.sh.)
source "$(dirname "$0")/lib.sh"

start_http_hub
MCP=(-H "Content-Type: application/json" -H "Accept: application/json, text/event-stream")

req() {
  local m=$1 p=$2; shift 2
  curl -s -o "$WORK/body" -D "$WORK/head" -w '%{http_code}' -X "$m" "${AUTH[@]}" "$@" "$URL$p"
}
body() { jq -r "$1" "$WORK/body"; }
last_seq() { curl -s "${AUTH[@]}" "$URL/api/v1/health" | jq -r .store.lastSeq; }
# offset TEXT NEEDLE [last]: the byte offset of NEEDLE's first (or last) occurrence.
offset() {
  if [ "${3:-}" = last ]; then
    awk -v s="$1" -v n="$2" 'BEGIN { i = 0; p = 0; while ((j = index(substr(s, p + 1), n)) > 0) { i = p + j; p = i } print i - 1 }'
  else
    awk -v s="$1" -v n="$2" 'BEGIN { print index(s, n) - 1 }'
  fi
}
# state: leases, agents, tasks and seq, as one line to compare.
state() {
  printf '%s|%s|%s|%s' "$(curl -s "${AUTH[@]}" "$URL/api/v1/locks" | jq -c .locks)" \
    "$(curl -s "${AUTH[@]}" "$URL/api/v1/agents" | jq -c '[.agents[].agentId]')" \
    "$(curl -s "${AUTH[@]}" "$URL/api/v1/tasks" | jq -c .tasks)" "$(last_seq)"
}

# A lease by bob on src/other.c so "no lease changed" is not vacuous.
[ "$(req POST /api/v1/locks "${JSON[@]}" -d '{"file":"src/other.c","agentId":"bob"}')" = 201 ] ||
  fail "setup lock: $(cat "$WORK/body")"
base=$(state)

# ---- REST bodies ---------------------------------------------------------------
# rest_refused PATH BODY MESSAGE: 400 invalid_argument "the body is refused: MESSAGE".
rest_refused() {
  local st
  st=$(req POST "$1" "${JSON[@]}" -d "$2")
  if [ "$st" = 400 ] && [ "$(body .error.code)" = invalid_argument ] &&
    [ "$(body .error.message)" = "the body is refused: $3" ]; then
    return 0
  fi
  fail "POST $1 $2: $st $(cat "$WORK/body")"
  return 1
}
b='{"file":"src/a\u0000b.c","agentId":"bob"}'
rest_refused /api/v1/locks "$b" "string contains U+0000 at offset $(offset "$b" '\u0000')" &&
  ok "REST lock of src/a\\u0000b.c: 400 naming the offset" || true
b='{"pattern":"src/\u0000**","agentId":"bob"}'
rest_refused /api/v1/locks "$b" "string contains U+0000 at offset $(offset "$b" '\u0000')" &&
  ok "REST lock of the pattern src/\\u0000**: 400" || true
b='{"agentId":"nul\u0000agent"}'
rest_refused /api/v1/agents "$b" "string contains U+0000 at offset $(offset "$b" '\u0000')" &&
  ok "REST register of nul\\u0000agent: 400" || true
b='{"title":"t","agentId":"bob","title":"u"}'
rest_refused /api/v1/tasks "$b" "duplicate key \"title\" at offset $(offset "$b" '"title"' last)" &&
  ok "REST task with title twice: 400 naming the key and the offset" || true
b='{"file":"src/x.c","agentId":"bob","meta":{"k":1,"k":2}}'
rest_refused /api/v1/locks "$b" "duplicate key \"k\" at offset $(offset "$b" '"k"' last)" &&
  ok "REST body with a duplicate key nested: 400" || true
[ "$(state)" = "$base" ] && ok "nothing changed: no lease on src/a, no agent nul, no task, same seq" ||
  fail "state moved: $(state) vs $base"
curl -s "${AUTH[@]}" "$URL/api/v1/locks" | jq -e '[.locks[].file] == ["src/other.c"]' >/dev/null &&
  ok "the only lease is still bob's src/other.c" || fail "locks: $(curl -s "${AUTH[@]}" "$URL/api/v1/locks")"

# ---- POST /events ----------------------------------------------------------------
b='{"type":"build:done","data":{"target":"api\u0000x"}}'
rest_refused /events "$b" "string contains U+0000 at offset $(offset "$b" '\u0000')" &&
  ok "POST /events with U+0000 in data: 400" || true
b='[{"type":"build:done","data":{}},{"type":"build:done","type":"ci:x","data":{}}]'
rest_refused /events "$b" "duplicate key \"type\" at offset $(offset "$b" '"type"' last)" &&
  ok "POST /events with a duplicate type in the second event: 400, the whole array" || true
[ "$(state)" = "$base" ] && ok "nothing was published" || fail "state moved: $(state)"

# An escaped backslash before u0000 is six ordinary characters.
[ "$(req POST /events "${JSON[@]}" -d '{"type":"build:done","data":{"p":"\\u0000"}}')" = 201 ] &&
  id=$(body '.ids[0]') && curl -s "${AUTH[@]}" "$URL/api/v1/events?since=$((id - 1))" |
  jq -e '.events[0].data.p == "\\u0000"' >/dev/null &&
  ok "\"\\\\u0000\" is no NUL: published, and kept whole" || fail "escaped backslash: $(cat "$WORK/body")"
base=$(state)

# ---- Streamable HTTP /mcp -----------------------------------------------------------
init='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}'
[ "$(req POST /mcp "${MCP[@]}" -d "$init")" = 200 ] || fail "mcp init: $(cat "$WORK/body")"
SID=$(grep -i '^MCP-Session-Id:' "$WORK/head" | tr -d '\r' | awk '{print $2}')
req POST /mcp "${MCP[@]}" -H "MCP-Session-Id: $SID" -H "MCP-Protocol-Version: 2025-11-25" \
  -d '{"jsonrpc":"2.0","method":"notifications/initialized"}' >/dev/null
# mcp_refused ID BODY MESSAGE: 400, JSON-RPC -32600 with id ID (a JSON value) and MESSAGE.
mcp_refused() {
  local st
  st=$(req POST /mcp "${MCP[@]}" -H "MCP-Session-Id: $SID" -H "MCP-Protocol-Version: 2025-11-25" -d "$2")
  if [ "$st" = 400 ] && [ "$(body .error.code)" = -32600 ] && [ "$(jq -c .id "$WORK/body")" = "$1" ] &&
    [ "$(body .error.message)" = "Invalid Request: $3" ]; then
    return 0
  fi
  fail "POST /mcp $2: $st $(cat "$WORK/body")"
  return 1
}
b='{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"lock_file","arguments":{"file":"src/a\u0000b.c"}}}'
mcp_refused 7 "$b" "string contains U+0000 at offset $(offset "$b" '\u0000')" &&
  ok "/mcp lock_file src/a\\u0000b.c: 400, -32600 with id 7 and the offset" || true
b='{"jsonrpc":"2.0","id":"r8","method":"tools/call","params":{"name":"register_agent","arguments":{"agentId":"nul\u0000agent"}}}'
mcp_refused '"r8"' "$b" "string contains U+0000 at offset $(offset "$b" '\u0000')" &&
  ok "/mcp register_agent nul\\u0000agent: -32600 with id \"r8\"" || true
b='{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"lock_file","arguments":{"pattern":"src/**","pattern":"src/x.c"}}}'
mcp_refused 9 "$b" "duplicate key \"pattern\" at offset $(offset "$b" '"pattern"' last)" &&
  ok "/mcp with a duplicate argument: -32600 naming the key" || true
b='{"jsonrpc":"2.0","id":"a\u0000","method":"ping"}'
mcp_refused null "$b" "string contains U+0000 at offset $(offset "$b" '\u0000')" &&
  ok "/mcp with the NUL in the id itself: the id is not echoed (null)" || true
[ "$(state)" = "$base" ] && ok "/mcp refusals changed nothing" || fail "state moved: $(state)"
[ "$(req POST /mcp "${MCP[@]}" -H "MCP-Session-Id: $SID" -H "MCP-Protocol-Version: 2025-11-25" \
  -d '{"jsonrpc":"2.0","id":10,"method":"ping"}')" = 200 ] && [ "$(body .id)" = 10 ] &&
  ok "the /mcp session keeps working" || fail "ping after: $(cat "$WORK/body")"

for log in "$STATE/hub.log"; do
  if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$log" 2>/dev/null; then
    fail "sanitizer report in $log"
    grep -A30 -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$log" | head -40
  fi
done
finish
