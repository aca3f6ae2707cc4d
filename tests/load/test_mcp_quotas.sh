#!/usr/bin/env bash
# /mcp session quotas with small caps (COORDHUB_MCP_MAX_SESSIONS=6,
# _KEY_SESSIONS=2, _RESERVED_SESSIONS=2): one API key fills its quota and
# its next initialize gets 429 naming the quota and how many it holds; a
# second key still gets in; once keys hold the 4 ordinary sessions a
# third key gets 503 ("keys") while the admin token still opens the 2
# reserved ones, and only beyond the whole cap gets 503 ("sessions").
# Ending a session (DELETE) frees its slot; revoking a key ends its
# sessions (their ids answer 404) and frees its slots for others. Every
# refusal changes nothing: the open sessions still serve.
# Bounded: about 20 requests, each with curl --max-time 5; under 10 s.
source "$(dirname "$0")/lib.sh"

export COORDHUB_MCP_MAX_SESSIONS=6 COORDHUB_MCP_KEY_SESSIONS=2 COORDHUB_MCP_RESERVED_SESSIONS=2
start_http_hub
mkkey() { "$COORDHUB" key create "$@" 2>/dev/null; }
A=$(mkkey --name a --state read)
B=$(mkkey --name b --state read)
C=$(mkkey --name c --state read)
[[ "$A" == chk_* && "$B" == chk_* && "$C" == chk_* ]] && ok "three read keys" || fail "keys: $A $B $C"

INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"q","version":"1"}}}'
# mcp CREDENTIAL [curl args...]: POST /mcp; the status is printed, the body
# left in $WORK/body, the headers in $WORK/head.
mcp() {
  local cred=$1; shift
  curl -s --max-time 5 -o "$WORK/body" -D "$WORK/head" -w '%{http_code}' \
    -H "Authorization: Bearer $cred" -H "Content-Type: application/json" \
    -H "Accept: application/json, text/event-stream" "$@" "$URL/mcp"
}
# open CREDENTIAL: initialize; LAST is the status, SID the new session ("" if none).
open() {
  LAST=$(mcp "$1" -d "$INIT")
  SID=$(tr -d '\r' <"$WORK/head" | awk -F': ' 'tolower($1)=="mcp-session-id"{print $2}')
}
# ping CREDENTIAL SID: the session answers a ping (200 with its result).
ping_ok() {
  [ "$(mcp "$1" -H "MCP-Session-Id: $2" -d '{"jsonrpc":"2.0","id":9,"method":"ping"}')" = 200 ] &&
    jq -e '.id == 9 and .result == {}' "$WORK/body" >/dev/null
}
# refused STATUS QUOTA LIMIT HELD: the last answer was that refusal.
refused() {
  jq -e --arg q "$2" --argjson l "$3" --argjson h "$4" \
    '.id == 1 and .error.code == -32603 and .error.data == {quota: $q, limit: $l, held: $h}' \
    "$WORK/body" >/dev/null && [ "$1" = "$LAST" ]
}

open "$A"; A1=$SID
open "$A"; A2=$SID
[ "$LAST" = 200 ] && [ -n "$A1" ] && [ -n "$A2" ] && [ "$A1" != "$A2" ] &&
  ok "key a opens its 2 sessions" || fail "key a: $LAST $(cat "$WORK/body")"
open "$A"
refused 429 key 2 2 && [ -z "$SID" ] &&
  jq -r .error.message "$WORK/body" | grep -q "holds 2 of the 2 sessions one key may open" &&
  ok "its third: 429, -32603 naming the key quota (limit 2, held 2), no session" ||
  fail "a over quota: $LAST $(cat "$WORK/body")"
ping_ok "$A" "$A1" && ok "its sessions still serve" || fail "a1 after the refusal: $(cat "$WORK/body")"

open "$B"; B1=$SID
open "$B"; B2=$SID
[ "$LAST" = 200 ] && [ -n "$B1" ] && [ -n "$B2" ] && ok "a second key still gets in (2 sessions)" ||
  fail "key b: $LAST $(cat "$WORK/body")"
open "$C"
refused 503 keys 4 0 && jq -r .error.message "$WORK/body" | grep -q "2 more are reserved for the admin token" &&
  ok "a third key once keys hold the 4 ordinary sessions: 503 (quota keys, held 0)" ||
  fail "key c: $LAST $(cat "$WORK/body")"

open "$TOKEN"; T1=$SID
open "$TOKEN"; T2=$SID
[ "$LAST" = 200 ] && [ -n "$T1" ] && [ -n "$T2" ] && ping_ok "$TOKEN" "$T1" &&
  ok "the admin token still gets in: the 2 reserved sessions" || fail "admin: $LAST $(cat "$WORK/body")"
open "$TOKEN"
refused 503 sessions 6 2 && ok "beyond the whole cap the admin token too: 503 (quota sessions, held 2)" ||
  fail "admin over the cap: $LAST $(cat "$WORK/body")"

# DELETE frees a slot of the key's own quota.
[ "$(mcp "$B" -X DELETE -H "MCP-Session-Id: $B2")" = 204 ] || fail "delete b2"
open "$C"; C1=$SID
[ "$LAST" = 200 ] && ping_ok "$C" "$C1" && ok "a DELETE frees a slot: key c gets in" ||
  fail "c after delete: $LAST $(cat "$WORK/body")"

# Revoking a key ends its sessions and frees their slots.
"$COORDHUB" key revoke "${A:4:12}" >/dev/null || fail "revoke a"
[ "$(mcp "$TOKEN" -H "MCP-Session-Id: $A1" -d '{"jsonrpc":"2.0","id":9,"method":"ping"}')" = 404 ] &&
  [ "$(mcp "$A" -H "MCP-Session-Id: $A2" -d '{"jsonrpc":"2.0","id":9,"method":"ping"}')" = 401 ] &&
  ok "the revoked key's sessions are gone (404 for its ids; its requests 401)" || fail "a's sessions: $(cat "$WORK/body")"
open "$C"; C2=$SID
[ "$LAST" = 200 ] && ping_ok "$C" "$C2" && ok "its slots are free again: key c opens its second" ||
  fail "c after revoke: $LAST $(cat "$WORK/body")"
ping_ok "$B" "$B1" && ping_ok "$TOKEN" "$T2" && ok "the other sessions still serve" ||
  fail "b1/t2: $(cat "$WORK/body")"
finish
