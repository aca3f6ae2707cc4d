#!/usr/bin/env bash
# The REST face and POST /events of a real hub, with curl and jq: every
# /api/v1 endpoint's success case; 400 naming the argument, 401, 404, 405
# with Allow, 409 with the holder, 413 and 415; POST /events single and
# array (all or nothing, reserved namespaces refused, nothing published);
# a malformed-body fuzz loop that never crashes the hub and changes no
# state; an SSE subscriber that receives a POSTed event.
source "$(dirname "$0")/lib.sh"

wait_for() {
  for _ in $(seq "${3:-100}"); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
  return 1
}

"$COORDHUB" serve --daemon --http 127.0.0.1:0
wait_for "$STATE/http.addr" ":" && ok "hub up with HTTP" || { fail "no http.addr"; finish; }
URL="http://$(cat "$STATE/http.addr")"
TOKEN=$(cat "$STATE/token")
AUTH=(-H "Authorization: Bearer $TOKEN")
JSON=(-H "Content-Type: application/json")

# req METHOD PATH [curl args...]: the status on stdout, the body in $WORK/body.
req() {
  local m=$1 p=$2; shift 2
  curl -s -o "$WORK/body" -D "$WORK/head" -w '%{http_code}' -X "$m" "${AUTH[@]}" "$@" "$URL$p"
}
body() { jq -r "$1" "$WORK/body"; }
# The store's last seq, read through the REST health endpoint.
last_seq() { curl -s "${AUTH[@]}" "$URL/api/v1/health" | jq -r .store.lastSeq; }

# ---- reads --------------------------------------------------------------------
for ep in agents:agents locks:locks tasks:tasks servers:servers; do
  path=${ep%%:*} key=${ep#*:}
  [ "$(req GET "/api/v1/$path")" = 200 ] && [ "$(body ".$key | type")" = array ] &&
    ok "GET /api/v1/$path: 200 {$key:[]}" || fail "GET /api/v1/$path: $(cat "$WORK/body")"
done
[ "$(req GET /api/v1/health)" = 200 ] && [ "$(body .overall)" = healthy ] &&
  [ "$(body .store.backend)" = sqlite ] && ok "GET /api/v1/health: unified health" ||
  fail "health: $(cat "$WORK/body")"
grep -qi '^Content-Type: application/json' "$WORK/head" && ok "REST answers are JSON" ||
  fail "content type"
[ "$(req GET "/api/v1/events?since=0")" = 200 ] && [ "$(body '.events | length')" = 0 ] &&
  [ "$(body .lastId)" = 0 ] && ok "GET /api/v1/events on an empty log: {events:[],lastId:0}" ||
  fail "events: $(cat "$WORK/body")"

[ "$(req GET /)" = 200 ] && [ -n "$(body '.endpoints["/api/v1"] // empty')" ] &&
  body '.endpoints["/events"]' | grep -q POST && ok "GET / lists /api/v1 and POST /events" ||
  fail "index: $(cat "$WORK/body")"

# ---- credentials, unknown paths, methods ---------------------------------------
[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/v1/agents")" = 401 ] &&
  ok "no credential: 401" || fail "401"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "${JSON[@]}" -d '{"type":"a:b","data":{}}' \
  "$URL/events")" = 401 ] && ok "POST /events without a credential: 401" || fail "401 post"
[ "$(req GET "/api/v1/agents?token=$TOKEN" -H "Authorization:")" = 200 ] &&
  ok "?token= works on REST and is not taken for an argument" || fail "?token=: $(cat "$WORK/body")"
[ "$(req GET /api/v1/nothing)" = 404 ] && [ "$(body .error.code)" = not_found ] &&
  ok "unknown path: 404 {error:{code:not_found}}" || fail "404 path"
[ "$(req POST /api/v1/tasks/T-1/approve "${JSON[@]}" -d '{}')" = 404 ] &&
  ok "unknown task action: 404" || fail "404 action: $(cat "$WORK/body")"
[ "$(req PUT /api/v1/locks)" = 405 ] && grep -qi '^Allow: GET, POST, DELETE' "$WORK/head" &&
  ok "PUT /api/v1/locks: 405 with Allow: GET, POST, DELETE" || fail "405 locks"
[ "$(req GET /api/v1/tasks/T-1/claim)" = 405 ] && grep -qi '^Allow: POST' "$WORK/head" &&
  ok "GET on a task action: 405 with Allow: POST" || fail "405 claim"
[ "$(req DELETE /events)" = 405 ] && grep -qi '^Allow: GET, POST' "$WORK/head" &&
  ok "DELETE /events: 405 with Allow: GET, POST" || fail "405 events"

# ---- bad input: 400 naming the argument, 413, 415 -------------------------------
[ "$(req POST /api/v1/locks "${JSON[@]}" -d '{"file":"a.c","agentId":"bob","ttl":"long"}')" = 400 ] &&
  [ "$(body .error.code)" = invalid_argument ] && body .error.message | grep -q "argument 'ttl'" &&
  ok "bad ttl: 400 naming 'ttl'" || fail "400 ttl: $(cat "$WORK/body")"
[ "$(req POST /api/v1/agents)" = 400 ] && body .error.message | grep -q "argument 'agentId'" &&
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz")" = 200 ] &&
  ok "POST /api/v1/agents with no body: 400 naming 'agentId', hub alive" || fail "empty register"
[ "$(req POST /api/v1/locks "${JSON[@]}" -d '{"file":"a.c"}')" = 400 ] &&
  body .error.message | grep -q "argument 'agentId': required" &&
  ok "lock without agentId: 400 naming 'agentId'" || fail "400 agentId: $(cat "$WORK/body")"
[ "$(req GET "/api/v1/events?limit=ten")" = 400 ] &&
  body .error.message | grep -q "query parameter 'limit'" &&
  ok "bad query parameter: 400 naming it" || fail "400 limit: $(cat "$WORK/body")"
[ "$(req GET "/api/v1/agents?colour=red")" = 400 ] &&
  body .error.message | grep -q "'colour'" && ok "unknown query parameter: 400 naming it" ||
  fail "400 unknown param"
[ "$(req GET "/api/v1/events?timeoutMs=5")" = 400 ] && ok "GET /api/v1/events refuses timeoutMs" ||
  fail "timeoutMs"
[ "$(req POST /api/v1/tasks -H 'Content-Type: text/plain' -d '{"title":"x"}')" = 415 ] &&
  [ "$(body .error.code)" = unsupported_media_type ] && ok "wrong Content-Type: 415" || fail "415"
[ "$(req POST /events -d '{"type":"a:b","data":{}}')" = 415 ] &&
  ok "POST /events without Content-Type: 415" || fail "415 events"
[ "$(req POST /api/v1/tasks "${JSON[@]}" -d '{"title":')" = 400 ] &&
  [ "$(body .error.code)" = parse_error ] && ok "malformed JSON: 400 parse_error" || fail "400 parse"
[ "$(req POST /api/v1/tasks "${JSON[@]}" -d '["title"]')" = 400 ] &&
  ok "a body that is not an object: 400" || fail "400 array body"
head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' >"$WORK/big"
[ "$(req POST /events "${JSON[@]}" --data-binary @"$WORK/big")" = 413 ] &&
  ok "POST /events over 1 MiB: 413" || fail "413"
[ "$(last_seq)" = 0 ] && ok "no refused request changed anything (seq 0)" || fail "seq moved"

# ---- writes ---------------------------------------------------------------------
[ "$(req POST /api/v1/agents "${JSON[@]}" -d '{"agentId":"alice","capabilities":["c"]}')" = 201 ] &&
  [ "$(body .agentId)" = alice ] && ok "POST /api/v1/agents registers: 201" ||
  fail "register: $(cat "$WORK/body")"
[ "$(req POST /api/v1/locks "${JSON[@]}" -d '{"file":"src/a.c","agentId":"bob","reason":"edit"}')" = 201 ] &&
  [ "$(body .locked)" = true ] && [ "$(body '.token | type')" = number ] &&
  ok "POST /api/v1/locks grants: 201 with a token" || fail "lock: $(cat "$WORK/body")"
[ "$(req GET "/api/v1/agents?status=active")" = 200 ] &&
  [ "$(body '[.agents[].agentId] | sort | join(",")')" = alice,bob ] &&
  ok "an unknown agentId is registered on first use (bob)" || fail "agents: $(cat "$WORK/body")"
[ "$(req POST /api/v1/locks "${JSON[@]}" -d '{"file":"src/a.c","agentId":"carol"}')" = 409 ] &&
  [ "$(body .error.code)" = busy ] && [ "$(body .result.lockedBy)" = bob ] &&
  [ "$(body .result.reason)" = edit ] && ok "lock held by another: 409 with the holder" ||
  fail "409: $(cat "$WORK/body")"
[ "$(req GET "/api/v1/locks?agentId=bob")" = 200 ] && [ "$(body '.locks[0].file')" = src/a.c ] &&
  ok "GET /api/v1/locks?agentId=bob lists the lease" || fail "locks list"
[ "$(req DELETE "/api/v1/locks?file=src/a.c&agentId=carol")" = 409 ] &&
  [ "$(body .result.lockedBy)" = bob ] && ok "unlock by a non-holder: 409" || fail "unlock 409: $(cat "$WORK/body")"
[ "$(req DELETE "/api/v1/locks?file=src/a.c&agentId=carol&force=true")" = 200 ] &&
  [ "$(body .unlocked)" = true ] && ok "forced unlock by the admin: 200" || fail "force: $(cat "$WORK/body")"
[ "$(req POST /api/v1/tasks "${JSON[@]}" -d '{"taskId":"T-1","title":"do it","files":["src/b.c"]}')" = 201 ] &&
  [ "$(body .task.status)" = open ] && ok "POST /api/v1/tasks creates: 201" || fail "create: $(cat "$WORK/body")"
[ "$(req GET "/api/v1/tasks?status=open")" = 200 ] && [ "$(body '.tasks | length')" = 1 ] &&
  ok "GET /api/v1/tasks?status=open" || fail "tasks list"
[ "$(req POST /api/v1/tasks/T-1/claim "${JSON[@]}" -d '{"agentId":"alice"}')" = 200 ] &&
  [ "$(body .task.claimedBy)" = alice ] && [ "$(body '.locks[0].file')" = src/b.c ] &&
  ok "POST /api/v1/tasks/T-1/claim: claimed with its leases" || fail "claim: $(cat "$WORK/body")"
[ "$(req POST /api/v1/tasks/T-1/claim "${JSON[@]}" -d '{"agentId":"bob"}')" = 409 ] &&
  ok "claiming a claimed task: 409" || fail "claim twice: $(cat "$WORK/body")"
[ "$(req POST /api/v1/tasks/NOPE/claim "${JSON[@]}" -d '{"agentId":"alice"}')" = 404 ] &&
  [ "$(body .error.code)" = not_found ] && body .error.message | grep -q NOPE &&
  ok "unknown task: 404 naming it" || fail "404 task: $(cat "$WORK/body")"
[ "$(req POST /api/v1/tasks/T-1/complete "${JSON[@]}" -d '{"agentId":"alice","result":"done"}')" = 200 ] &&
  [ "$(body .task.status)" = completed ] && ok "POST …/complete: completed" || fail "complete: $(cat "$WORK/body")"
req POST /api/v1/tasks "${JSON[@]}" -d '{"taskId":"T-2","title":"two"}' >/dev/null
req POST /api/v1/tasks/T-2/claim "${JSON[@]}" -d '{"agentId":"bob"}' >/dev/null
[ "$(req POST /api/v1/tasks/T-2/release "${JSON[@]}" -d '{"agentId":"bob","reason":"later"}')" = 200 ] &&
  [ "$(body .task.status)" = open ] && ok "POST …/release: open again" || fail "release: $(cat "$WORK/body")"

# A lock request that waits (waitMs) is answered when the holder lets go.
req POST /api/v1/locks "${JSON[@]}" -d '{"file":"src/w.c","agentId":"bob"}' >/dev/null
curl -s -o "$WORK/waited" -w '%{http_code}' -m 5 -X POST "${AUTH[@]}" "${JSON[@]}" \
  -d '{"file":"src/w.c","agentId":"carol","waitMs":3000}' "$URL/api/v1/locks" >"$WORK/waited.code" &
WAIT_PID=$!
sleep 0.3
[ ! -s "$WORK/waited.code" ] && ok "a lock request with waitMs waits while the file is held" ||
  fail "waitMs answered at once: $(cat "$WORK/waited.code") $(cat "$WORK/waited")"
[ "$(req DELETE "/api/v1/locks?file=src/w.c&agentId=bob")" = 200 ] || fail "unlock w.c"
wait "$WAIT_PID" || true
[ "$(cat "$WORK/waited.code")" = 201 ] && [ "$(jq -r .locked "$WORK/waited")" = true ] &&
  [ "$(curl -s "${AUTH[@]}" "$URL/api/v1/locks" | jq -r '[.locks[] | select(.file == "src/w.c")][0].agentId')" = carol ] &&
  ok "it is answered 201 when the file frees, and holds it" ||
  fail "waitMs: $(cat "$WORK/waited.code") $(cat "$WORK/waited")"
req DELETE "/api/v1/locks?file=src/w.c&agentId=carol" >/dev/null

# ---- POST /events -----------------------------------------------------------------
before=$(last_seq)
[ "$(req POST /events "${JSON[@]}" -d '{"type":"build:done","data":{"ok":true}}')" = 201 ] &&
  [ "$(body '.ids | length')" = 1 ] && [ "$(body '.ids[0]')" = $((before + 1)) ] &&
  ok "POST /events one event: 201 {ids:[seq]}" || fail "post one: $(cat "$WORK/body")"
[ "$(req POST /events "${JSON[@]}" -d '[{"type":"build:a","data":{}},{"type":"build:b","data":{"n":2}}]')" = 201 ] &&
  [ "$(body '.ids | join(",")')" = "$((before + 2)),$((before + 3))" ] &&
  ok "POST /events an array: 201 with the ids in order" || fail "post array: $(cat "$WORK/body")"
[ "$(req GET "/api/v1/events?since=$before&types=build:*")" = 200 ] &&
  [ "$(body '[.events[].type] | join(",")')" = build:done,build:a,build:b ] &&
  [ "$(body '.events[2].data.n')" = 2 ] && ok "the published events are in the log" ||
  fail "events: $(cat "$WORK/body")"
[ "$(req GET "/api/v1/events?since=$before&limit=1")" = 200 ] && [ "$(body '.events | length')" = 1 ] &&
  [ "$(body .lastId)" = $((before + 1)) ] && ok "GET /api/v1/events honours limit and returns the cursor" ||
  fail "limit"
seq_now=$(last_seq)
[ "$(req POST /events "${JSON[@]}" -d '[{"type":"build:c","data":{}},{"type":"file:locked","data":{}}]')" = 400 ] &&
  body .error.message | grep -q "event \[1\]: argument 'type': type 'file:locked' is reserved" &&
  ok "a reserved type in an array: 400 naming the item" || fail "reserved: $(cat "$WORK/body")"
for t in agent:x task:x server:x; do
  [ "$(req POST /events "${JSON[@]}" -d "{\"type\":\"$t\",\"data\":{}}")" = 400 ] || fail "$t accepted"
done
[ "$(req POST /events "${JSON[@]}" -d '{"type":"Bad Type","data":{}}')" = 400 ] &&
  body .error.message | grep -q "argument 'type'" && ok "a malformed type: 400" || fail "bad type"
[ "$(req POST /events "${JSON[@]}" -d '{"type":"a:b","data":[1]}')" = 400 ] &&
  body .error.message | grep -q "argument 'data'" && ok "data not an object: 400" || fail "bad data"
[ "$(req POST /events "${JSON[@]}" -d '{"type":"a:b","data":{},"extra":1}')" = 400 ] &&
  ok "an unknown event field: 400" || fail "extra field"
[ "$(req POST /events "${JSON[@]}" -d '[]')" = 400 ] && ok "an empty array: 400" || fail "empty array"
printf '[%s{"type":"a:b","data":{}}]' "$(printf '{"type":"a:b","data":{}},%.0s' $(seq 100))" >"$WORK/101"
[ "$(req POST /events "${JSON[@]}" --data-binary @"$WORK/101")" = 400 ] &&
  body .error.message | grep -q "1 to 100" && ok "101 events: 400" || fail "101: $(cat "$WORK/body")"
[ "$(last_seq)" = "$seq_now" ] && [ "$(req GET "/api/v1/events?since=$seq_now")" = 200 ] &&
  [ "$(body '.events | length')" = 0 ] && ok "refused batches published nothing" || fail "refused published"
printf '[%s{"type":"bulk:x","data":{}}]' "$(printf '{"type":"bulk:x","data":{}},%.0s' $(seq 99))" >"$WORK/100"
[ "$(req POST /events "${JSON[@]}" --data-binary @"$WORK/100")" = 201 ] && [ "$(body '.ids | length')" = 100 ] &&
  [ "$(last_seq)" = $((seq_now + 100)) ] && ok "100 events: 201, all recorded" || fail "100"

# ---- SSE subscriber receives a POSTed event ------------------------------------------
curl -s -N "$URL/events?token=$TOKEN&types=sse:*" >"$WORK/sse" 2>/dev/null &
SSE_PID=$!
wait_for "$WORK/sse" "retry:" || true
[ "$(req POST /events "${JSON[@]}" -d '{"type":"sse:hello","data":{"who":"rest"}}')" = 201 ] || fail "post sse"
id=$(body '.ids[0]')
wait_for "$WORK/sse" '"sse:hello"' && grep -q "^id: $id\$" "$WORK/sse" &&
  grep '^data:' "$WORK/sse" | grep -q '"who":"rest"' &&
  ok "an SSE subscriber receives the POSTed event with its id" || fail "sse: $(cat "$WORK/sse")"
kill "$SSE_PID" 2>/dev/null || true
wait "$SSE_PID" 2>/dev/null || true

# ---- fuzz: malformed bodies never crash the hub nor change state ------------------------
RANDOM=4242
seeds=('{"type":"fz:a","data":{"k":[1,2,{"x":"y"}]}}'
  '[{"type":"fz:a","data":{}},{"type":"fz:b","data":{"z":null}}]'
  '{"file":"src/z.c","agentId":"fuzz","reason":"r","ttl":30}'
  '{"taskId":"FZ-1","title":"t","files":["a"],"priority":3}'
  '{"agentId":"fuzz","result":"ok"}')
paths=(/events /api/v1/locks /api/v1/tasks /api/v1/tasks/T-2/claim /api/v1/agents)
seq_now=$(last_seq)
bad=0
for i in $(seq 200); do
  k=$((RANDOM % ${#seeds[@]}))
  s=${seeds[$k]}
  case $((i % 4)) in
    0 | 1) printf '%s' "${s:0:$((RANDOM % ${#s}))}" >"$WORK/fz" ;;          # truncated
    2) head -c $((RANDOM % 64 + 1)) /dev/urandom >"$WORK/fz" ;;             # random bytes
    3) printf '%s' "${s:0:$((RANDOM % ${#s}))}" >"$WORK/fz"                   # truncated +
       head -c $((RANDOM % 8 + 1)) /dev/urandom >>"$WORK/fz"
       printf '}' >>"$WORK/fz" ;;
  esac
  p=${paths[$k]}
  st=$(req POST "$p" "${JSON[@]}" --data-binary @"$WORK/fz" || true)
  case $st in 4??) ;; *) bad=$((bad + 1)); echo "    $p $(od -An -c "$WORK/fz" | head -3) -> $st" ;; esac
done
[ "$bad" = 0 ] && ok "200 malformed bodies: all refused with 4xx" || fail "$bad fuzz bodies not refused"
deep=$(printf '%.0s[' $(seq 100))
[ "$(req POST /events "${JSON[@]}" -d "$deep")" = 400 ] && ok "nesting past 64: 400" || fail "deep"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz")" = 200 ] && ok "the hub survived the fuzz" ||
  fail "hub died"
[ "$(last_seq)" = "$seq_now" ] && ok "the fuzz changed no state (seq unchanged)" || fail "fuzz changed seq"

finish
