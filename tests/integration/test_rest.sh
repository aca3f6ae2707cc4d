#!/usr/bin/env bash
# The REST face and POST /events of a real hub, with curl and jq: every
# /api/v1 endpoint's success case and bad inputs (state unchanged after
# each refusal); an unknown agent registered in the same command as the
# call that names it; 400 naming the argument, 401, 404, 405
# with Allow, 409 with the holder, 413 and 415; POST /events single and
# array (all or nothing, reserved namespaces refused, nothing published);
# a malformed-body fuzz loop that never crashes the hub and changes no
# state; an SSE subscriber that receives a POSTed event.
source "$(dirname "$0")/lib.sh"

start_http_hub

# req METHOD PATH [curl args...]: the status on stdout, the body in $WORK/body.
req() {
  local m=$1 p=$2; shift 2
  curl -s -o "$WORK/body" -D "$WORK/head" -w '%{http_code}' -X "$m" "${AUTH[@]}" "$@" "$URL$p"
}
body() { jq -r "$1" "$WORK/body"; }
# refused METHOD PATH BODY TEXT: answered 400 or 404 with a message that
# contains TEXT (BODY '' sends none); otherwise a failure, and 1.
refused() {
  local st
  if [ -n "$3" ]; then st=$(req "$1" "$2" "${JSON[@]}" -d "$3"); else st=$(req "$1" "$2"); fi
  case $st in 400 | 404) body .error.message | grep -qF -- "$4" && return 0 ;; esac
  fail "$1 $2 $3: $st $(cat "$WORK/body")"
  return 1
}
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

# ---- one command for an unknown agent -------------------------------------------------
# An admin call naming an agent nobody registered registers it in the same
# command: agent:registered then the action, consecutive ids, one commit.
before=$(last_seq)
[ "$(req POST /api/v1/locks "${JSON[@]}" -d '{"file":"src/atom.c","agentId":"dave"}')" = 201 ] &&
  [ "$(last_seq)" = $((before + 2)) ] && ok "a lock for unknown dave: 201, two events" ||
  fail "dave lock: $(cat "$WORK/body")"
[ "$(req GET "/api/v1/events?since=$before")" = 200 ] &&
  [ "$(body '[.events[] | "\(.id) \(.type) \(.data.agentId)"] | join(",")')" = \
    "$((before + 1)) agent:registered dave,$((before + 2)) file:locked dave" ] &&
  ok "agent:registered then file:locked, consecutive ids" || fail "events: $(cat "$WORK/body")"
[ "$(req GET /api/v1/agents)" = 200 ] &&
  [ "$(body '.agents[] | select(.agentId == "dave") | .metadata.ide')" = http ] &&
  ok "dave was registered with metadata {ide:http}" || fail "dave: $(cat "$WORK/body")"
before=$(last_seq)
[ "$(req POST /api/v1/locks "${JSON[@]}" -d '{"file":"../outside.c","agentId":"erin"}')" = 400 ] &&
  body .error.message | grep -q "argument 'file'" && ok "a bad lock for unknown erin: 400" ||
  fail "erin: $(cat "$WORK/body")"
[ "$(req POST /api/v1/tasks/NOPE/claim "${JSON[@]}" -d '{"agentId":"erin"}')" = 404 ] &&
  ok "a claim of no task for unknown erin: 404" || fail "erin claim: $(cat "$WORK/body")"
[ "$(req PUT /api/v1/agents/erin/status "${JSON[@]}" -d '{"status":"asleep"}')" = 400 ] &&
  ok "a bad status for unknown erin: 400" || fail "erin status: $(cat "$WORK/body")"
[ "$(last_seq)" = "$before" ] && [ "$(req GET /api/v1/agents)" = 200 ] &&
  [ "$(body '[.agents[] | select(.agentId == "erin")] | length')" = 0 ] &&
  ok "refused calls registered nobody and changed nothing" || fail "erin registered"

# ---- PUT|POST /api/v1/agents/{agentId}/status (set_agent_status) -------------------------
before=$(last_seq)
all=1
while IFS='|' read -r b re; do refused PUT /api/v1/agents/alice/status "$b" "$re" || all=; done <<'EOF'
{"status":"asleep"}|argument 'status'
{}|argument 'status'
{"status":"busy","note":7}|argument 'note'
{"status":"busy","agentId":"bob"}|argument 'agentId': not accepted here; it comes from the path
{"status":"busy","extra":1}|'extra'
EOF
[ -n "$all" ] && ok "bad status bodies: 400 naming the argument"
[ "$(req PUT '/api/v1/agents/bad%20id/status' "${JSON[@]}" -d '{"status":"busy"}')" = 400 ] &&
  body .error.message | grep -q "argument 'agentId'" && ok "a malformed agent id in the path: 400" ||
  fail "bad id: $(cat "$WORK/body")"
[ "$(req PUT "/api/v1/agents/alice/status?status=busy" "${JSON[@]}" -d '{"status":"busy"}')" = 400 ] &&
  body .error.message | grep -q "query parameter 'status'" && ok "status in the query: 400" ||
  fail "query status: $(cat "$WORK/body")"
[ "$(req PUT /api/v1/agents/alice/status -H 'Content-Type: text/plain' -d '{"status":"busy"}')" = 415 ] &&
  ok "status with a text body: 415" || fail "415 status"
[ "$(req GET /api/v1/agents/alice/status)" = 405 ] && grep -qi '^Allow: POST, PUT' "$WORK/head" &&
  ok "GET …/status: 405 with Allow: POST, PUT" || fail "405 status"
[ "$(req PUT /api/v1/agents/alice "${JSON[@]}" -d '{"status":"busy"}')" = 405 ] &&
  grep -qi '^Allow: DELETE' "$WORK/head" &&
  ok "PUT /api/v1/agents/alice: 405 with Allow: DELETE" || fail "405 agent"
# alice, an agent only REST acts for, went offline when its last lease
# ended (T-1's completion); the refusals above did not bring it back.
[ "$(last_seq)" = "$before" ] && [ "$(req GET /api/v1/agents)" = 200 ] &&
  [ "$(body '.agents[] | select(.agentId == "alice") | .status')" = offline ] &&
  ok "refused status changes changed nothing" || fail "status changed"
[ "$(req PUT /api/v1/agents/alice/status "${JSON[@]}" -d '{"status":"busy","note":"review"}')" = 200 ] &&
  [ "$(body .status)" = busy ] && [ "$(body .previous)" = active ] &&
  ok "PUT …/alice/status: 200 busy (previous active)" || fail "status: $(cat "$WORK/body")"
[ "$(req POST /api/v1/agents/alice/status "${JSON[@]}" -d '{"status":"idle"}')" = 200 ] &&
  [ "$(req GET "/api/v1/agents?status=idle")" = 200 ] &&
  [ "$(body '[.agents[].agentId] | join(",")')" = alice ] &&
  ok "POST …/status works too; alice is idle" || fail "status post: $(cat "$WORK/body")"
before=$(last_seq)
[ "$(req PUT /api/v1/agents/fay/status "${JSON[@]}" -d '{"status":"busy"}')" = 200 ] &&
  [ "$(req GET "/api/v1/events?since=$before")" = 200 ] &&
  [ "$(body '[.events[].type] | join(",")')" = agent:registered,agent:status_changed ] &&
  ok "a status for unknown fay registers her in the same command" || fail "fay: $(cat "$WORK/body")"

# ---- POST /api/v1/locks/renew (renew_locks) -----------------------------------------------
req POST /api/v1/locks "${JSON[@]}" -d '{"file":"src/r.c","agentId":"bob","ttl":60}' >/dev/null
rtok=$(body .token)
exp1=$(body .expiresAt)
before=$(last_seq)
all=1
while IFS='|' read -r b re; do refused POST /api/v1/locks/renew "$b" "$re" || all=; done <<'EOF'
{"agentId":"bob","ttl":"long"}|argument 'ttl'
{"agentId":"bob","ttl":0}|argument 'ttl'
{"agentId":"bob","files":[1]}|argument 'files
{"agentId":"bob","files":["../x.c"]}|argument 'files'
{"ttl":600}|argument 'agentId': required
{"agentId":"no body","ttl":600}|argument 'agentId'
EOF
[ -n "$all" ] && ok "bad renewals: 400 naming the argument"
[ "$(req POST "/api/v1/locks/renew?ttl=600" "${JSON[@]}" -d '{"agentId":"bob"}')" = 400 ] &&
  ok "renew with a query parameter: 400" || fail "renew query"
[ "$(req DELETE /api/v1/locks/renew)" = 405 ] && grep -qi '^Allow: GET, POST' "$WORK/head" &&
  ok "DELETE /api/v1/locks/renew: 405 with Allow: GET, POST" || fail "405 renew"
[ "$(last_seq)" = "$before" ] && [ "$(req GET /api/v1/locks/src/r.c)" = 200 ] &&
  [ "$(body .expiresAt)" = "$exp1" ] && ok "refused renewals changed nothing" || fail "renew changed"
[ "$(req POST /api/v1/locks/renew "${JSON[@]}" -d '{"agentId":"bob","files":["src/r.c","src/none.c"],"ttl":600}')" = 200 ] &&
  [ "$(body '.renewed[0].file')" = src/r.c ] && [ "$(body '.renewed[0].token')" = "$rtok" ] &&
  [ "$(body '.notHeld | join(",")')" = src/none.c ] &&
  [[ "$(body '.renewed[0].expiresAt')" > "$exp1" ]] &&
  ok "POST /api/v1/locks/renew: later expiry, same token, notHeld listed" ||
  fail "renew: $(cat "$WORK/body")"

# ---- GET /api/v1/locks/{file} (check_lock) -------------------------------------------------
[ "$(req GET /api/v1/locks/src/r.c)" = 200 ] && [ "$(body .locked)" = true ] &&
  [ "$(body .lockedBy)" = bob ] && [ "$(body .token)" = "$rtok" ] && [ "$(body .valid)" = null ] &&
  ok "GET /api/v1/locks/src/r.c: locked by bob" || fail "check: $(cat "$WORK/body")"
[ "$(req GET "/api/v1/locks/src/r.c?fencingToken=$rtok")" = 200 ] && [ "$(body .valid)" = true ] &&
  ok "?fencingToken= of the holder: valid" || fail "valid: $(cat "$WORK/body")"
[ "$(req GET "/api/v1/locks/src/r.c?fencingToken=$((rtok + 1000))&token=$TOKEN" -H "Authorization:")" = 200 ] &&
  [ "$(body .valid)" = false ] && ok "a stale fencing token: valid false (?token= is the credential)" ||
  fail "stale: $(cat "$WORK/body")"
[ "$(req GET '/api/v1/locks/src/free%20file.c')" = 200 ] && [ "$(body .locked)" = false ] &&
  [ "$(body .file)" = "src/free file.c" ] && ok "a free file (percent-decoded path): locked false" ||
  fail "free: $(cat "$WORK/body")"
all=1
while IFS='|' read -r q re; do refused GET "/api/v1/locks/$q" "" "$re" || all=; done <<'EOF'
src/r.c?fencingToken=x|query parameter 'fencingToken': must be an integer
src/r.c?fencingToken=-1|query parameter 'fencingToken'
src/r.c?file=src/x.c|query parameter 'file': not accepted here; it comes from the path
src/r.c?agentId=bob|query parameter 'agentId': not accepted here
..%2F..%2Fetc%2Fpasswd|argument 'file'
src/a%00.c|no such endpoint
EOF
[ -n "$all" ] && ok "bad checks: 400 naming the parameter, 404 for an undecodable path"
[ "$(req POST /api/v1/locks/src/r.c "${JSON[@]}" -d '{}')" = 405 ] && grep -qi '^Allow: GET' "$WORK/head" &&
  ok "POST /api/v1/locks/src/r.c: 405 with Allow: GET" || fail "405 check"

# ---- GET /api/v1/conflicts (detect_conflicts) ----------------------------------------------
[ "$(req GET "/api/v1/conflicts?files=src/r.c,src/free.c")" = 200 ] &&
  [ "$(body .hasConflicts)" = true ] && [ "$(body '.conflicts | length')" = 1 ] &&
  [ "$(body '.conflicts[0].lockedBy')" = bob ] && ok "GET /api/v1/conflicts: bob's lease" ||
  fail "conflicts: $(cat "$WORK/body")"
[ "$(req GET "/api/v1/conflicts?files=src/r.c&agentId=bob")" = 200 ] &&
  [ "$(body .hasConflicts)" = false ] && ok "…&agentId=bob: none for bob himself" ||
  fail "conflicts bob: $(cat "$WORK/body")"
[ "$(req GET "/api/v1/conflicts?patterns=src/**")" = 200 ] && [ "$(body .hasConflicts)" = true ] &&
  ok "…?patterns=src/**: conflicts under the pattern" || fail "conflicts pattern: $(cat "$WORK/body")"
[ "$(req GET "/api/v1/conflicts")" = 200 ] && [ "$(body .hasConflicts)" = false ] &&
  ok "no files, no conflicts" || fail "conflicts empty: $(cat "$WORK/body")"
all=1
while IFS='|' read -r q re; do refused GET "/api/v1/conflicts?$q" "" "$re" || all=; done <<'EOF'
files=../x.c|argument 'files'
limit=1|query parameter 'limit': not accepted here
agentId=bad%20id|argument 'agentId'
files=a&files=b|given more than once
EOF
[ -n "$all" ] && ok "bad conflict queries: 400 naming the parameter"
[ "$(req POST /api/v1/conflicts)" = 405 ] && grep -qi '^Allow: GET' "$WORK/head" &&
  ok "POST /api/v1/conflicts: 405" || fail "405 conflicts"

# ---- GET /api/v1/tasks/available (find_available_tasks) -------------------------------------
req POST /api/v1/tasks "${JSON[@]}" -d '{"taskId":"AV-RUST","title":"r","capabilities":["rust"],"priority":9}' >/dev/null
req POST /api/v1/tasks "${JSON[@]}" -d '{"taskId":"AV-FREE","title":"f","priority":8}' >/dev/null
req POST /api/v1/tasks "${JSON[@]}" -d '{"taskId":"AV-DEP","title":"d","dependsOn":["AV-FREE"],"priority":9}' >/dev/null
req POST /api/v1/tasks "${JSON[@]}" -d '{"taskId":"AV-BUSY","title":"b","files":["src/r.c"],"priority":9}' >/dev/null
[ "$(req GET /api/v1/tasks/available)" = 200 ] &&
  [ "$(body '[.tasks[].taskId] | index("AV-FREE") != null')" = true ] &&
  [ "$(body '[.tasks[].taskId] | map(select(. == "AV-RUST" or . == "AV-DEP" or . == "AV-BUSY")) | length')" = 0 ] &&
  ok "GET /api/v1/tasks/available: not the rust, dependent or leased ones" ||
  fail "available: $(cat "$WORK/body")"
[ "$(req GET "/api/v1/tasks/available?capabilities=rust&limit=1")" = 200 ] &&
  [ "$(body '[.tasks[].taskId] | join(",")')" = AV-RUST ] &&
  ok "…?capabilities=rust&limit=1: the rust task first, one only" || fail "available rust: $(cat "$WORK/body")"
[ "$(req GET "/api/v1/tasks/available?agentId=bob")" = 200 ] &&
  [ "$(body '[.tasks[].taskId] | index("AV-BUSY") != null')" = true ] &&
  ok "…?agentId=bob: bob's own lease does not block him" || fail "available bob: $(cat "$WORK/body")"
before=$(last_seq)
all=1
while IFS='|' read -r q re; do refused GET "/api/v1/tasks/available?$q" "" "$re" || all=; done <<'EOF'
limit=0|argument 'limit'
limit=x|query parameter 'limit'
status=open|query parameter 'status': not accepted here
agentId=bad%20id|argument 'agentId'
EOF
[ -n "$all" ] && ok "bad availability queries: 400 naming the parameter"
[ "$(req GET "/api/v1/tasks/available?agentId=ghost")" = 200 ] && [ "$(last_seq)" = "$before" ] &&
  [ "$(req GET /api/v1/agents)" = 200 ] &&
  [ "$(body '[.agents[] | select(.agentId == "ghost")] | length')" = 0 ] &&
  ok "a read for an unknown agent registers nobody" || fail "ghost: $(cat "$WORK/body")"
[ "$(req POST /api/v1/tasks/available "${JSON[@]}" -d '{}')" = 405 ] &&
  grep -qi '^Allow: GET' "$WORK/head" && ok "POST /api/v1/tasks/available: 405" || fail "405 available"
[ "$(req POST /api/v1/tasks/T-2/claim "${JSON[@]}" -d '{"agentId":"bob","taskId":"T-1"}')" = 400 ] &&
  body .error.message | grep -q "argument 'taskId': not accepted here; it comes from the path" &&
  ok "a taskId in the body of a task action: 400" || fail "taskId body: $(cat "$WORK/body")"

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
# n pseudo-random bytes from $RANDOM (seeded above: a failure reproduces)
rand_bytes() {
  local j b
  for ((j = 0; j < $1; j++)); do
    b=$((RANDOM % 256))
    printf "\\$(printf %03o "$b")"
  done
}
seq_now=$(last_seq)
bad=0
for i in $(seq 200); do
  k=$((RANDOM % ${#seeds[@]}))
  s=${seeds[$k]}
  case $((i % 4)) in
    0 | 1) printf '%s' "${s:0:$((RANDOM % ${#s}))}" >"$WORK/fz" ;;          # truncated
    2) rand_bytes $((RANDOM % 64 + 1)) >"$WORK/fz" ;;                       # random bytes
    3) printf '%s' "${s:0:$((RANDOM % ${#s}))}" >"$WORK/fz"                   # truncated +
       rand_bytes $((RANDOM % 8 + 1)) >>"$WORK/fz"
       printf '}' >>"$WORK/fz" ;;
  esac
  # Random bytes may complete a truncated seed ('{"agentId":"fu' + '"' + '}'):
  # a body that is valid JSON is made invalid, so every body here is malformed.
  if jq -e . "$WORK/fz" >/dev/null 2>&1; then printf ',' >>"$WORK/fz"; fi
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
