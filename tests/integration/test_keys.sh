#!/usr/bin/env bash
# API keys with the real binary, curl, jq and openssl: `key create|list|
# revoke` (exit codes, --json shape, keys.json 0600 without secrets); the
# auth matrix (401 without/with a wrong/revoked credential, 403 outside a
# key's rights on every route family, 200 inside them); canSubscribe on
# GET /events and GET /api/v1/events; canPublish on POST /events and the
# publish_event tool (all or nothing); read keys on /mcp; the rate limit
# (429 with Retry-After); signed events (valid, forged, replayed, stale,
# malformed, unsigned when required, by the admin token); revocation
# closing an open event stream and ending the key's /mcp sessions (a held
# wait_for_events ends with -32001 "unauthorized (401)…", its resumption
# and next request get 401); REST calls by keys below admin act as the
# named agent (the core's ownership rules), a key that requires signatures
# may not publish over /mcp, signed events keep their signature.
source "$(dirname "$0")/lib.sh"

start_http_hub

# req CRED METHOD PATH [curl args...]: the status on stdout, the body in $WORK/body.
req() {
  local cred=$1 m=$2 p=$3; shift 3
  local auth=()
  [ -n "$cred" ] && auth=(-H "Authorization: Bearer $cred")
  curl -s -o "$WORK/body" -D "$WORK/head" -w '%{http_code}' -X "$m" "${auth[@]}" "$@" "$URL$p"
}
body() { jq -r "$1" "$WORK/body"; }
last_seq() { curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/health" | jq -r .store.lastSeq; }
# sign KEY T BODY: the v1 of BODY at time T for credential KEY.
sign() {
  local hk
  hk=$(printf '%s' "$1" | openssl dgst -sha256 -binary | od -An -tx1 | tr -d ' \n')
  printf '%s.%s' "$2" "$3" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$hk" | awk '{print $NF}'
}
stop_hub() {
  local pid
  pid=$(hub_pid)
  kill -TERM "$pid"
  for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
}
mkkey() { "$COORDHUB" key create "$@" 2>/dev/null; }

# ---- the CLI ----------------------------------------------------------------------
READ=$(mkkey --name reader --state read --subscribe 'ci:*,file:*')
WRITE=$(mkkey --name writer --state write --publish 'ci:*')
ADMIN=$(mkkey --name admin --state admin --publish '*' --subscribe '*')
NONE=$(mkkey --name pub-only --publish 'ci:*,deploy:done')
SIGNED=$(mkkey --name signer --publish 'ci:*' --require-signature)
for k in "$READ" "$WRITE" "$ADMIN" "$NONE" "$SIGNED"; do
  [[ "$k" =~ ^chk_[0-9a-f]{12}_[0-9a-f]{64}$ ]] || fail "key shape: '$k'"
done
ok "key create prints chk_<12 hex>_<64 hex> once"
"$COORDHUB" key list --json >"$WORK/list"
[ "$(jq '.keys | length' "$WORK/list")" = 5 ] &&
  [ "$(jq -r '.keys[0] | [.id,.name,.canAccessState,(.canSubscribe|join(",")),.requireSignature,.rateLimit.perSecond,.rateLimit.burst,.revoked,.revokedAt] | map(tostring) | join(" ")' "$WORK/list")" = \
    "${READ:4:12} reader read ci:*,file:* false 50 100 false null" ] &&
  [ "$(jq -r '.keys[4].requireSignature' "$WORK/list")" = true ] &&
  jq -e '.keys[0].createdAt | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T")' "$WORK/list" >/dev/null &&
  ok "key list --json: {keys:[{id,name,createdAt,canPublish,canSubscribe,canAccessState,requireSignature,rateLimit,revoked,revokedAt}]}" ||
  fail "list shape: $(cat "$WORK/list")"
secret_in() { grep -c -- "${READ:17}\|${WRITE:17}\|${ADMIN:17}\|${NONE:17}\|${SIGNED:17}" "$1" || true; }
[ "$(secret_in "$WORK/list")" = 0 ] && ! jq -e '.. | .sha256? // empty' "$WORK/list" >/dev/null &&
  "$COORDHUB" key list | grep -q reader && [ "$(secret_in <("$COORDHUB" key list))" = 0 ] &&
  ok "key list never shows a secret or a hash" || fail "list leaks"
[ "$(stat -c %a "$STATE/keys.json")" = 600 ] && [ "$(secret_in "$STATE/keys.json")" = 0 ] &&
  [ "$(jq -r '.keys[0].sha256' "$STATE/keys.json")" = "$(printf '%s' "$READ" | openssl dgst -sha256 | awk '{print $NF}')" ] &&
  ok "keys.json is 0600 and holds SHA-256 digests, no secret" || fail "keys.json"
expect_code 4 "key create --state root: exit 4" -- "$COORDHUB" key create --state root
grep -q "state: must be none, read, write or admin" "$WORK/err" || fail "state message: $(cat "$WORK/err")"
expect_code 4 "key create --publish 'Bad Pattern': exit 4" -- "$COORDHUB" key create --publish 'Bad Pattern'
expect_code 4 "key create --rate fast: exit 4" -- "$COORDHUB" key create --rate fast
expect_code 4 "key create --burst 0: exit 4" -- "$COORDHUB" key create --burst 0
expect_code 4 "key create --rate 1e-300 --burst 1: exit 4" -- "$COORDHUB" key create --rate 1e-300 --burst 1
grep -q "rate: must be a number from 0.01 to 100000" "$WORK/err" || fail "rate message: $(cat "$WORK/err")"
expect_code 2 "key frobnicate: exit 2 (usage)" -- "$COORDHUB" key frobnicate
expect_code 4 "key revoke of an unknown id: exit 4" -- "$COORDHUB" key revoke 000000000000
[ "$("$COORDHUB" key list --json | jq '.keys | length')" = 5 ] && ok "refused creates stored nothing" ||
  fail "refused create stored a key"
"$COORDHUB" key --help | grep -q "key create|list|revoke" && ok "key --help" || fail "key --help"

# ---- 401 ----------------------------------------------------------------------------
[ "$(req "" GET /status)" = 401 ] && ok "no credential: 401" || fail "401 none"
[ "$(req "chk_${READ:4:12}_$(printf '0%.0s' $(seq 64))" GET /status)" = 401 ] &&
  [ "$(body .error.code)" = unauthorized ] && ok "a key id with a wrong secret: 401" || fail "401 wrong"
[ "$(req "chk_nothing" GET /status)" = 401 ] && ok "a malformed key: 401" || fail "401 malformed"
[ "$(req "$READ" GET "/healthz")" = 200 ] && ok "/healthz stays public" || fail "healthz"

# ---- state access ---------------------------------------------------------------------
for p in / /status /metrics /api/v1/agents /api/v1/locks /api/v1/tasks /api/v1/health; do
  [ "$(req "$READ" GET "$p")" = 200 ] || fail "read key GET $p: $(cat "$WORK/body")"
done
ok "a read key may GET /, /status, /metrics and /api/v1/*"
for p in /status /metrics /api/v1/agents; do
  [ "$(req "$NONE" GET "$p")" = 403 ] && [ "$(body .error.code)" = forbidden ] &&
    body .error.message | grep -q "needs canAccessState 'read'; this API key has 'none'" ||
    fail "none key GET $p: $(cat "$WORK/body")"
done
ok "a key without state access: 403 forbidden naming the right"
seq0=$(last_seq)
[ "$(req "$READ" POST /api/v1/tasks "${JSON[@]}" -d '{"title":"x"}')" = 403 ] &&
  body .error.message | grep -q "needs canAccessState 'write'; this API key has 'read'" &&
  [ "$(req "$READ" DELETE "/api/v1/locks?file=a.c&agentId=bob")" = 403 ] &&
  [ "$(last_seq)" = "$seq0" ] && ok "a read key may not POST or DELETE /api/v1: 403, nothing changed" ||
  fail "read write: $(cat "$WORK/body")"
[ "$(req "$WRITE" POST /api/v1/locks "${JSON[@]}" -d '{"file":"src/a.c","agentId":"bob"}')" = 201 ] &&
  [ "$(req "$WRITE" POST /api/v1/tasks "${JSON[@]}" -d '{"taskId":"T-1","title":"x"}')" = 201 ] &&
  ok "a write key acts for agents through /api/v1" || fail "write: $(cat "$WORK/body")"
[ "$(req "$WRITE" DELETE "/api/v1/locks?file=src/a.c&agentId=carol&force=true")" = 403 ] &&
  body .error.message | grep -q "a forced unlock needs canAccessState 'admin'" &&
  [ "$(req "$ADMIN" DELETE "/api/v1/locks?file=src/a.c&agentId=carol&force=true")" = 200 ] &&
  ok "a forced unlock needs an admin key" || fail "force: $(cat "$WORK/body")"

# ---- events: subscribe ---------------------------------------------------------------
[ "$(req "$WRITE" GET /api/v1/events)" = 403 ] &&
  body .error.message | grep -q "needs canSubscribe patterns; this API key has none" &&
  [ "$(curl -s -o /dev/null -w '%{http_code}' -m 2 -H "Authorization: Bearer $WRITE" "$URL/events")" = 403 ] &&
  ok "a key without canSubscribe: 403 on GET /events and /api/v1/events" || fail "subscribe 403"
curl -s -N -H "Authorization: Bearer $READ" "$URL/events?types=ci:*,deploy:*" >"$WORK/sse" &
SSE_PID=$!
wait_for "$WORK/sse" "retry:" || fail "no stream"
before=$(last_seq)
[ "$(req "$ADMIN" POST /events "${JSON[@]}" -d '[{"type":"deploy:done","data":{}},{"type":"ci:green","data":{"n":1}}]')" = 201 ] ||
  fail "admin key publish: $(cat "$WORK/body")"
wait_for "$WORK/sse" '"ci:green"' && ! grep -q deploy:done "$WORK/sse" &&
  ok "GET /events delivers the intersection of types and canSubscribe" || fail "sse: $(cat "$WORK/sse")"
[ "$(req "$READ" GET "/api/v1/events?since=$before")" = 200 ] &&
  [ "$(body '[.events[].type] | join(",")')" = ci:green ] && [ "$(body .lastId)" = $((before + 2)) ] &&
  ok "GET /api/v1/events answers only the key's events (lastId moves past the rest)" ||
  fail "rest events: $(cat "$WORK/body")"

# ---- events: publish -------------------------------------------------------------------
seq0=$(last_seq)
[ "$(req "$READ" POST /events "${JSON[@]}" -d '{"type":"ci:x","data":{}}')" = 403 ] &&
  body .error.message | grep -q "needs canPublish patterns" && ok "a key without canPublish: 403" ||
  fail "publish none: $(cat "$WORK/body")"
[ "$(req "$NONE" POST /events "${JSON[@]}" -d '[{"type":"ci:ok","data":{}},{"type":"deploy:start","data":{}}]')" = 403 ] &&
  body .error.message | grep -q "event \[1\]: type 'deploy:start' is outside this API key's canPublish" &&
  [ "$(last_seq)" = "$seq0" ] && ok "one type outside canPublish refuses the whole array: 403, nothing published" ||
  fail "publish partial: $(cat "$WORK/body")"
[ "$(req "$NONE" POST /events "${JSON[@]}" -d '[{"type":"ci:ok","data":{}},{"type":"deploy:done","data":{}}]')" = 201 ] &&
  [ "$(last_seq)" = $((seq0 + 2)) ] && ok "types inside canPublish: 201" || fail "publish ok: $(cat "$WORK/body")"

# ---- /mcp with a read key --------------------------------------------------------------
MCP=(-H "Content-Type: application/json" -H "Accept: application/json, text/event-stream")
init='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}'
[ "$(req "$READ" POST /mcp "${MCP[@]}" -d "$init")" = 200 ] || fail "mcp init: $(cat "$WORK/body")"
SID=$(grep -i '^MCP-Session-Id:' "$WORK/head" | tr -d '\r' | awk '{print $2}')
call() { req "$1" POST /mcp "${MCP[@]}" -H "MCP-Session-Id: $SID" -d "{\"jsonrpc\":\"2.0\",\"id\":$2,\"method\":\"tools/call\",\"params\":{\"name\":\"$3\",\"arguments\":$4}}"; }
[ "$(call "$READ" 2 list_locked_files '{}')" = 200 ] && [ "$(body .result.isError)" != true ] &&
  ok "a read key calls a read-only tool over /mcp" || fail "mcp read: $(cat "$WORK/body")"
[ "$(call "$READ" 3 lock_file '{"file":"x.c"}')" = 200 ] && [ "$(body .result.isError)" = true ] &&
  body '.result.content[0].text' | grep -q "tool 'lock_file' changes state" &&
  ok "a read key may not call lock_file: a tool error" || fail "mcp write: $(cat "$WORK/body")"
[ "$(call "$WRITE" 4 list_locked_files '{}')" = 403 ] &&
  ok "another credential may not use the session: 403" || fail "session theft: $(cat "$WORK/body")"
[ "$(req "$NONE" POST /mcp "${MCP[@]}" -d "$init")" = 403 ] && ok "a key without state access: 403 on /mcp" ||
  fail "mcp none"
[ "$(req "$WRITE" POST /mcp "${MCP[@]}" -d "$init")" = 200 ] || fail "mcp init write"
SID=$(grep -i '^MCP-Session-Id:' "$WORK/head" | tr -d '\r' | awk '{print $2}')
seq0=$(last_seq)
[ "$(call "$WRITE" 5 publish_event '{"type":"deploy:x","data":{}}')" = 200 ] &&
  [ "$(body .result.isError)" = true ] && body '.result.content[0].text' | grep -q "outside this API key's canPublish" &&
  [ "$(last_seq)" = "$seq0" ] && [ "$(call "$WRITE" 6 publish_event '{"type":"ci:y","data":{}}')" = 200 ] &&
  [ "$(body .result.isError)" != true ] && [ "$(last_seq)" = $((seq0 + 1)) ] &&
  ok "publish_event over /mcp is held to canPublish" || fail "mcp publish: $(cat "$WORK/body")"
[ "$(req "$TOKEN" POST /api/v1/locks "${JSON[@]}" -d '{"file":"held.c","agentId":"bob"}')" = 201 ] || fail "lock held.c"
[ "$(call "$WRITE" 7 unlock_file '{"file":"held.c","force":true}')" = 200 ] &&
  body '.result.content[0].text' | grep -q "only an admin may force an unlock" || fail "force: $(cat "$WORK/body")"
[ "$(call "$WRITE" 8 lock_file '{"file":"other.c","agentId":"carol"}')" = 200 ] &&
  body '.result.content[0].text' | grep -q "you may act only as your own agent" || fail "other: $(cat "$WORK/body")"
[ "$(req "$TOKEN" GET /api/v1/locks)" = 200 ] &&
  [ "$(body '[.locks[] | select(.file == "held.c")][0].agentId')" = bob ] &&
  [ "$(body '[.locks[] | select(.file == "other.c")] | length')" = 0 ] &&
  ok "a write key's /mcp session may neither force an unlock nor act for another agent" ||
  fail "write key acted as admin: $(cat "$WORK/body")"

SIGW=$(mkkey --name signed-writer --state write --publish 'ci:*' --require-signature)
[ "$(req "$SIGW" POST /mcp "${MCP[@]}" -d "$init")" = 200 ] || fail "mcp init signed writer"
SID=$(grep -i '^MCP-Session-Id:' "$WORK/head" | tr -d '\r' | awk '{print $2}')
seq0=$(last_seq)
[ "$(call "$SIGW" 9 publish_event '{"type":"ci:unsigned","data":{}}')" = 200 ] &&
  [ "$(body .result.isError)" = true ] && body '.result.content[0].text' | grep -q "requires signed events" &&
  [ "$(last_seq)" = "$seq0" ] && ok "a key that requires signatures may not publish_event over /mcp" ||
  fail "mcp unsigned publish: $(cat "$WORK/body")"

# ---- REST: a key below admin acts as the agent it names ------------------------------------
task_of() { req "$TOKEN" GET /api/v1/tasks >/dev/null; body ".tasks[] | select(.taskId == \"$1\") | \"\\(.status) \\(.claimedBy)\""; }
[ "$(req "$TOKEN" POST /api/v1/tasks "${JSON[@]}" -d '{"title":"alice work"}')" = 201 ] || fail "create task"
T1=$(body .task.taskId)
[ "$(req "$TOKEN" POST "/api/v1/tasks/$T1/claim" "${JSON[@]}" -d '{"agentId":"alice"}')" = 200 ] || fail "claim: $(cat "$WORK/body")"
seq0=$(last_seq)
[ "$(req "$WRITE" POST "/api/v1/tasks/$T1/complete" "${JSON[@]}" -d '{"agentId":"mallory"}')" = 409 ] &&
  body .error.message | grep -q "claimed by alice" && [ "$(task_of "$T1")" = "claimed alice" ] &&
  ok "a write key may not complete another agent's task over REST: 409, the task stays claimed" ||
  fail "write key completed alice's task: $(cat "$WORK/body") $(task_of "$T1")"
[ "$(req "$WRITE" POST "/api/v1/tasks/$T1/release" "${JSON[@]}" -d '{"agentId":"mallory"}')" = 409 ] &&
  [ "$(task_of "$T1")" = "claimed alice" ] && ok "nor release it" || fail "write key released: $(cat "$WORK/body")"
[ "$(req "$TOKEN" POST /api/v1/locks "${JSON[@]}" -d '{"file":"alice.c","agentId":"alice"}')" = 201 ] || fail "lock alice.c"
[ "$(req "$WRITE" DELETE "/api/v1/locks?file=alice.c&agentId=mallory")" = 409 ] &&
  [ "$(req "$TOKEN" GET /api/v1/locks/alice.c)" = 200 ] && [ "$(body .lockedBy)" = alice ] &&
  ok "nor unlock another agent's file" || fail "write key unlocked alice.c: $(cat "$WORK/body")"
[ "$(req "$WRITE" POST "/api/v1/tasks/$T1/complete" "${JSON[@]}" -d '{"agentId":"alice"}')" = 200 ] &&
  [ "$(task_of "$T1")" = "completed alice" ] && ok "a write key acting as the claimer completes the task" ||
  fail "write key as alice: $(cat "$WORK/body")"
[ "$(req "$TOKEN" POST /api/v1/tasks "${JSON[@]}" -d '{"title":"bob work"}')" = 201 ] || fail "create task 2"
T2=$(body .task.taskId)
[ "$(req "$TOKEN" POST "/api/v1/tasks/$T2/claim" "${JSON[@]}" -d '{"agentId":"bob"}')" = 200 ] || fail "claim 2"
[ "$(req "$ADMIN" POST "/api/v1/tasks/$T2/complete" "${JSON[@]}" -d '{"agentId":"mallory"}')" = 200 ] &&
  [ "$(task_of "$T2")" = "completed bob" ] && ok "an admin key completes another agent's task" ||
  fail "admin key: $(cat "$WORK/body") $(task_of "$T2")"

# ---- signatures -------------------------------------------------------------------------
B='{"type":"ci:signed","data":{"n":1}}'
now=$(date +%s)
seq0=$(last_seq)
[ "$(req "$SIGNED" POST /events "${JSON[@]}" -d "$B")" = 401 ] && [ "$(body .error.code)" = signature_required ] &&
  ok "a key that requires signatures refuses an unsigned POST /events: 401" || fail "unsigned: $(cat "$WORK/body")"
v1=$(sign "$SIGNED" "$now" "$B")
[ "$(req "$SIGNED" POST /events "${JSON[@]}" -H "X-Coordhub-Signature: t=$now,v1=$v1" -d "$B")" = 201 ] &&
  ok "a valid signature: 201" || fail "signed: $(cat "$WORK/body")"
[ "$(req "$TOKEN" GET "/api/v1/events?since=$seq0")" = 200 ] &&
  [ "$(body '.events[] | select(.type == "ci:signed") | .signature')" = "t=$now,v1=$v1" ] &&
  ok "the recorded event carries its signature" || fail "signature not recorded: $(cat "$WORK/body")"
[ "$(req "$SIGNED" POST /events "${JSON[@]}" -H "X-Coordhub-Signature: t=$now,v1=$v1" -d "$B")" = 401 ] &&
  [ "$(body .error.code)" = invalid_signature ] && body .error.message | grep -q replay &&
  ok "the same signature again: 401 (replay)" || fail "replay: $(cat "$WORK/body")"
forged=$(sign "$SIGNED" "$now" '{"type":"ci:signed","data":{"n":2}}')
[ "$(req "$SIGNED" POST /events "${JSON[@]}" -H "X-Coordhub-Signature: t=$now,v1=$forged" -d "$B")" = 401 ] &&
  body .error.message | grep -q "does not match" && ok "a signature of another body: 401" || fail "forged"
other=$(sign "$WRITE" "$((now + 1))" "$B")
[ "$(req "$SIGNED" POST /events "${JSON[@]}" -H "X-Coordhub-Signature: t=$((now + 1)),v1=$other" -d "$B")" = 401 ] &&
  ok "a signature made with another key: 401" || fail "other key"
old=$((now - 400))
[ "$(req "$SIGNED" POST /events "${JSON[@]}" -H "X-Coordhub-Signature: t=$old,v1=$(sign "$SIGNED" "$old" "$B")" -d "$B")" = 401 ] &&
  body .error.message | grep -q "more than 300 s" && ok "a stale timestamp: 401" || fail "stale: $(cat "$WORK/body")"
[ "$(req "$SIGNED" POST /events "${JSON[@]}" -H "X-Coordhub-Signature: t=$now" -d "$B")" = 400 ] &&
  body .error.message | grep -q "X-Coordhub-Signature" && ok "a malformed signature header: 400" || fail "malformed"
[ "$(last_seq)" = $((seq0 + 1)) ] && ok "only the valid signed request published" || fail "signed seq"
t2=$((now + 2))
[ "$(req "$TOKEN" POST /events "${JSON[@]}" -H "X-Coordhub-Signature: t=$t2,v1=$(sign "$TOKEN" "$t2" "$B")" -d "$B")" = 201 ] &&
  [ "$(req "$TOKEN" POST /events "${JSON[@]}" -H "X-Coordhub-Signature: t=$t2,v1=$forged" -d "$B")" = 401 ] &&
  ok "the admin token's signatures are checked with the token's digest" || fail "admin sig: $(cat "$WORK/body")"

# ---- rate limit ---------------------------------------------------------------------------
SLOW=$(mkkey --name slow --state read --rate 0.5 --burst 3)
codes=""
for _ in 1 2 3 4; do codes="$codes$(req "$SLOW" GET /status) "; done
[ "$codes" = "200 200 200 429 " ] && [ "$(body .error.code)" = rate_limited ] &&
  grep -qi '^Retry-After: [1-9]' "$WORK/head" && ok "over its burst a key gets 429 with Retry-After" ||
  fail "rate: $codes $(cat "$WORK/body")"
for _ in 1 2 3 4 5; do [ "$(req "$TOKEN" GET /status)" = 200 ] || fail "admin token limited"; done
ok "the admin token is not rate limited"

# ---- revocation -------------------------------------------------------------------------------
# A wait_for_events of the key held in its /mcp session (an SSE answer).
[ "$(req "$READ" POST /mcp "${MCP[@]}" -d "$init")" = 200 ] || fail "mcp init before revoke"
RSID=$(grep -i '^MCP-Session-Id:' "$WORK/head" | tr -d '\r' | awk '{print $2}')
curl -s -N -m 30 -H "Authorization: Bearer $READ" "${MCP[@]}" -H "MCP-Session-Id: $RSID" "$URL/mcp" \
  -d '{"jsonrpc":"2.0","id":50,"method":"tools/call","params":{"name":"wait_for_events","arguments":{"types":["ci:never"],"timeoutMs":60000}}}' \
  >"$WORK/held" &
HELD_PID=$!
wait_for "$WORK/held" "id: r1-0" || fail "the wait is not held: $(cat "$WORK/held")"
"$COORDHUB" key revoke "${READ:4:12}" >/dev/null && ok "key revoke: exit 0" || fail "revoke"
for _ in $(seq 100); do kill -0 "$HELD_PID" 2>/dev/null || break; sleep 0.05; done
held=$(sed -n 's/^data: //p' "$WORK/held" | grep '"id":50' || true)
! kill -0 "$HELD_PID" 2>/dev/null &&
  jq -e '.error.code == -32001 and (.error.message | startswith("unauthorized (401): the credential of this MCP session was revoked"))' \
    <<<"$held" >/dev/null &&
  ok "its held wait_for_events ends at once with -32001 unauthorized (401)" ||
  fail "held wait after revoke: $(cat "$WORK/held")"
[ "$(req "$READ" GET /mcp -H "Accept: text/event-stream" -H "MCP-Session-Id: $RSID" -H "Last-Event-ID: r1-0")" = 401 ] &&
  [ "$(req "$READ" POST /mcp "${MCP[@]}" -H "MCP-Session-Id: $RSID" -d '{"jsonrpc":"2.0","id":51,"method":"ping"}')" = 401 ] &&
  [ "$(req "$TOKEN" POST /mcp "${MCP[@]}" -H "MCP-Session-Id: $RSID" -d '{"jsonrpc":"2.0","id":52,"method":"ping"}')" = 404 ] &&
  ok "its resumption and its next request get 401; the session is gone (404)" ||
  fail "after revoke: $(cat "$WORK/body")"
for _ in $(seq 100); do kill -0 "$SSE_PID" 2>/dev/null || break; sleep 0.05; done
! kill -0 "$SSE_PID" 2>/dev/null && ok "the revoked key's event stream is closed" || fail "stream still open"
[ "$(req "$READ" GET /status)" = 401 ] && ok "a revoked key: 401" || fail "revoked works"
expect_code 3 "revoking it again: exit 3 (refused)" -- "$COORDHUB" key revoke "${READ:4:12}"
[ "$("$COORDHUB" key list --json | jq -r ".keys[] | select(.id == \"${READ:4:12}\") | .revoked")" = true ] &&
  ok "key list shows it revoked" || fail "list revoked"

# ---- restart: the keys survive, the revocation too ------------------------------------------
stop_hub
"$COORDHUB" serve --daemon --http 127.0.0.1:0
wait_for "$STATE/http.addr" ":" || fail "no restart"
URL="http://$(cat "$STATE/http.addr")"
[ "$(req "$WRITE" GET /status)" = 200 ] && [ "$(req "$READ" GET /status)" = 401 ] &&
  ok "after a restart keys still work and revoked ones do not" || fail "restart"
stop_hub
echo '{"version":1,"keys":[{"id":"zz"}]}' >"$STATE/keys.json"
expect_code 1 "a malformed keys.json is a start-up error" -- "$COORDHUB" serve --daemon --http 127.0.0.1:0
cat "$WORK/err" "$STATE/hub.log" 2>/dev/null | grep -q "key \[0\]: id must be 12 lower-case hex" &&
  ok "it names the record and the field" || fail "bad file message: $(cat "$WORK/err")"
finish
