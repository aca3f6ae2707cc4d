#!/usr/bin/env bash
# A batch the store refuses leaves nothing behind in the hub: an MCP
# session whose first call registered its agent implicitly, refused by the
# store (its ACL user may not run the append script), is not left holding
# an agent the log never recorded — its next call, once the store accepts
# appends again, registers the agent and is granted.
source "$(dirname "$0")/lib.sh"

redis_start || { finish; exit 1; }
stop_all() {
  exec 3>&- 4<&- 2>/dev/null
  [ -z "${MCP_PID:-}" ] || kill "$MCP_PID" 2>/dev/null || true # it may have ended with its stdin
  stop_hub "$STATE"
  kill -TERM "$REDIS_PID" 2>/dev/null || true
  wait "$REDIS_PID" 2>/dev/null || true
}
trap 'stop_all; cleanup' EXIT
rcli() { redis-cli -s "$SOCK" "$@" >/dev/null; }
rcli ACL SETUSER hub on '>pw' '~mcp:*' '&*' +@all
STORE="unix://hub:pw@$SOCK"
"$COORDHUB" serve --daemon --no-http --store "$STORE"
for _ in $(seq 100); do [ -S "$STATE/hub.sock" ] && break; sleep 0.05; done
[ -S "$STATE/hub.sock" ] && ok "hub up on redis as an ACL user" || { fail "no hub"; finish; exit 1; }

mkfifo "$WORK/mcp.in" "$WORK/mcp.out"
"$COORDHUB" mcp --store "$STORE" <"$WORK/mcp.in" >"$WORK/mcp.out" &
MCP_PID=$!
exec 3>"$WORK/mcp.in" 4<"$WORK/mcp.out"
send() { printf '%s\n' "$1" >&3; }
# answer ID: the response with that id (notifications skipped), 10 s bound.
answer() {
  local line
  while IFS= read -r -t 10 line <&4; do
    [ "$(jq -r '.id // empty' <<<"$line")" = "$1" ] && { printf '%s\n' "$line"; return 0; }
  done
  return 1
}
call() { # ID FILE
  send "{\"jsonrpc\":\"2.0\",\"id\":$1,\"method\":\"tools/call\",\"params\":{\"name\":\"lock_file\",\"arguments\":{\"file\":\"$2\"}}}"
  # a result's text, or a JSON-RPC error as "CODE MESSAGE" (store failures)
  answer "$1" | jq -r '.result.content[0].text // "\(.error.code) \(.error.message)"'
}
send '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"probe","version":"1"}}}'
answer 1 >/dev/null && ok "MCP session initialized" || fail "no initialize answer"
send '{"jsonrpc":"2.0","method":"notifications/initialized"}'

rcli ACL SETUSER hub -evalsha
first=$(call 2 src/a.c)
grep -q "^-32603 store failure, nothing was recorded: NOPERM" <<<"$first" &&
  ok "the first call is refused by the store (JSON-RPC -32603, Redis's reason)" ||
  fail "first call: $first"
rcli ACL SETUSER hub +evalsha
second=$(call 3 src/b.c)
[ "$(jq -r .locked <<<"$second" 2>/dev/null)" = true ] &&
  ok "the next call registers the agent and is granted" || fail "second call: $second"
"$COORDHUB" events --json --store "$STORE" >"$WORK/ev"
jq -s -e '[.[].type] == ["agent:registered","file:locked"]' "$WORK/ev" >/dev/null &&
  ok "the log holds the registration and the lock, nothing of the refused call" ||
  fail "log: $(cat "$WORK/ev")"
finish
