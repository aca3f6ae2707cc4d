#!/usr/bin/env bash
# The HTTP face of a real hub, with curl: liveness, the admin token,
# /status, errors, body cap, keep-alive, /metrics, GET /events (live, resume
# by Last-Event-ID and ?since, type filter, resync, heartbeat), http.addr,
# and start-up when the address is taken (explicit: error; default: warn).
source "$(dirname "$0")/lib.sh"

# Pids of the hubs of the other state dirs this test starts (a file: they
# are started from command substitutions, i.e. subshells).
EXTRA_PIDS="$WORK/extra.pids"
: >"$EXTRA_PIDS"
# Stop those hubs, then lib.sh's cleanup (the main hub, background jobs,
# the work dir).
stop_extra() {
  local pid
  while read -r pid; do kill -TERM "$pid" 2>/dev/null || true; done <"$EXTRA_PIDS"
  while read -r pid; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done <"$EXTRA_PIDS"
  cleanup
}
trap stop_extra EXIT

# wait_for FILE PATTERN [TRIES]: until grep finds PATTERN in FILE (50 ms steps).

# A hub on an ephemeral port, short heartbeats, debug logs (so request
# logging is exercised by the "token never logged" check).
COORDHUB_SSE_HEARTBEAT_MS=300 "$COORDHUB" serve --daemon --http 127.0.0.1:0 --log-level debug
wait_for "$STATE/http.addr" ":" && ok "http.addr written" || { fail "no http.addr"; finish; }
ADDR=$(cat "$STATE/http.addr")
TOKEN=$(cat "$STATE/token")
URL="http://$ADDR"
[[ "$ADDR" =~ ^127\.0\.0\.1:[0-9]+$ ]] && [ "${ADDR#*:}" != 0 ] &&
  ok "http.addr holds the bound port ($ADDR)" || fail "http.addr: $ADDR"

# code METHOD PATH [curl args...]: print the HTTP status.
code() {
  local m=$1 p=$2; shift 2
  curl -s -o "$WORK/body" -D "$WORK/head" -w '%{http_code}' -X "$m" "$@" "$URL$p"
}
AUTH=(-H "Authorization: Bearer $TOKEN")

# ---- liveness, credentials ---------------------------------------------------
[ "$(code GET /healthz)" = 200 ] && [ "$(jq -r .status "$WORK/body")" = ok ] &&
  ok "GET /healthz without a credential: 200 {status:ok}" || fail "healthz"
[ "$(code GET /status)" = 401 ] && ok "/status without a credential: 401" || fail "no credential"
grep -qi '^WWW-Authenticate: Bearer' "$WORK/head" && ok "401 carries WWW-Authenticate: Bearer" ||
  fail "WWW-Authenticate missing"
[ "$(jq -r .error.code "$WORK/body")" = unauthorized ] && [ -n "$(jq -r .error.message "$WORK/body")" ] &&
  ok "401 body is {error:{code,message}}" || fail "401 body: $(cat "$WORK/body")"
[ "$(code GET /status -H "Authorization: Bearer wrong$TOKEN")" = 401 ] &&
  ok "wrong Bearer token: 401" || fail "wrong bearer"
[ "$(code GET "/status?token=${TOKEN%?}")" = 401 ] && ok "wrong ?token=: 401" || fail "wrong query token"
[ "$(code GET /status -H "Authorization: Basic dXNlcjpwYXNz")" = 401 ] &&
  ok "a non-Bearer Authorization: 401" || fail "basic auth"
[ "$(code GET /nope)" = 401 ] && ok "unknown paths need the credential too" || fail "unknown path unauth"
[ "$(code GET /status "${AUTH[@]}")" = 200 ] && ok "Bearer token: 200" || fail "bearer"
[ "$(code GET "/status?token=$TOKEN")" = 200 ] && ok "?token=: 200" || fail "query token"

# ---- /status -----------------------------------------------------------------
expect_code 0 "alice locks a file" -- "$COORDHUB" lock src/a.c --agent alice --reason edit
expect_code 0 "a task is claimed" -- "$COORDHUB" task add "Split API" --id T-1 --files src/b.c
expect_code 0 "carol claims it" -- "$COORDHUB" task claim T-1 --agent carol
code GET /status "${AUTH[@]}" >/dev/null
jq -e '(.enabled == true) and (.activeAgents|type=="array") and (.lockedFiles|type=="array")
       and (.activeTasks|type=="array") and (.systemHealth|type=="object")
       and (.details|type=="object")' "$WORK/body" >/dev/null &&
  ok "/status has the seed's shape plus details" || fail "status shape: $(cat "$WORK/body")"
jq -e '(.activeAgents|index("alice")) and (.lockedFiles|index("src/a.c")) and
       (.activeTasks|index("T-1")) and (.details.locks[0].agentId=="alice")' "$WORK/body" >/dev/null &&
  ok "/status lists the agent, the locked file and the active task" || fail "status content"
"$COORDHUB" status --json >"$WORK/cli_status"
[ "$(jq -c '.lockedFiles' "$WORK/body")" = "$(jq -c '.lockedFiles' "$WORK/cli_status")" ] &&
  ok "/status agrees with get_coordination_status" || fail "status differs from the CLI's"

# ---- errors, limits, keep-alive ----------------------------------------------
[ "$(code GET /nope "${AUTH[@]}")" = 404 ] && [ "$(jq -r .error.code "$WORK/body")" = not_found ] &&
  ok "unknown path: 404 JSON error" || fail "404"
[ "$(code POST /status "${AUTH[@]}")" = 405 ] && grep -qi '^Allow: GET' "$WORK/head" &&
  [ "$(jq -r .error.code "$WORK/body")" = method_not_allowed ] &&
  ok "wrong method: 405 with Allow" || fail "405"
[ "$(code POST /healthz)" = 405 ] && ok "POST /healthz: 405" || fail "405 healthz"
head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' 'x' >"$WORK/big"
[ "$(code POST /status "${AUTH[@]}" --data-binary @"$WORK/big")" = 413 ] &&
  ok "a body over 1 MiB: 413" || fail "413"
[ "$(code POST /anything "${AUTH[@]}" --data-binary @"$WORK/big")" = 413 ] &&
  ok "the body cap holds on any path" || fail "413 any path"
curl -sv "${AUTH[@]}" "$URL/healthz" "$URL/status" -o /dev/null -o /dev/null 2>"$WORK/kv"
grep -qi 're-using existing connection' "$WORK/kv" && ok "keep-alive: two requests, one connection" ||
  fail "keep-alive"

# ---- /metrics ----------------------------------------------------------------
[ "$(code GET /metrics "${AUTH[@]}")" = 200 ] && grep -qi '^Content-Type: text/plain; version=0.0.4' "$WORK/head" &&
  ok "/metrics: 200 Prometheus text" || fail "metrics"
for m in coordhub_events_total coordhub_leases coordhub_lock_contended_total \
  coordhub_lock_expired_total coordhub_agents coordhub_sessions coordhub_sse_clients \
  coordhub_loop_lag_seconds coordhub_store_last_seq; do
  grep -q "^$m " "$WORK/body" || fail "metrics lacks $m"
done
ok "/metrics has the documented families"
last=$("$COORDHUB" events --json | tail -n1 | jq -r .id)
grep -q "^coordhub_store_last_seq $last\$" "$WORK/body" && grep -q '^coordhub_leases 2$' "$WORK/body" &&
  ok "/metrics figures match the hub (last seq $last, 2 leases)" || fail "metrics figures"

# ---- GET /events ---------------------------------------------------------------
# sse NAME [curl args...]: stream /events into $WORK/NAME in the background.
sse() {
  local name=$1; shift
  curl -sN "$@" >"$WORK/$name" 2>/dev/null &
  echo $! >"$WORK/$name.pid"
  wait_for "$WORK/$name" '^retry: ' || fail "$name: no retry line"
}
stop_sse() { kill "$(cat "$WORK/$1.pid")" 2>/dev/null || true; wait "$(cat "$WORK/$1.pid")" 2>/dev/null || true; }
ids() { grep '^id: ' "$WORK/$1" | grep -v resync | cut -d' ' -f2; }
data_ids() { awk '/^event: resync/{skip=1} /^id: /{id=$2} /^data: /{if(!skip)print id; skip=0}' "$WORK/$1"; }

sse live "${AUTH[@]}" "$URL/events"
head -n1 "$WORK/live" | grep -q '^retry: [0-9]' && ok "the stream starts with retry:" || fail "retry first"
before=$last
expect_code 0 "bob locks" -- "$COORDHUB" lock src/c.c --agent bob
expect_code 0 "bob unlocks" -- "$COORDHUB" unlock src/c.c --agent bob
expect_code 0 "carol completes T-1" -- "$COORDHUB" task done T-1 --agent carol
"$COORDHUB" events --json --since "$before" | jq -r .id >"$WORK/want_live"
wait_for "$WORK/live" "^id: $(tail -n1 "$WORK/want_live")\$" || true
diff <(data_ids live) "$WORK/want_live" >/dev/null &&
  ok "live events arrive in order, each once ($(wc -l <"$WORK/want_live") events)" ||
  fail "live ids: $(data_ids live | tr '\n' ' ') vs $(tr '\n' ' ' <"$WORK/want_live")"
grep -q '^event: file:locked$' "$WORK/live" && grep -q '^data: {"id":"' "$WORK/live" &&
  ok "frames carry event: <type> and data: <wire JSON>" || fail "frame shape"
wait_for "$WORK/live" '^: heartbeat' 40 && ok "a heartbeat comment arrives" || fail "heartbeat"
code GET /metrics "${AUTH[@]}" >/dev/null
grep -q '^coordhub_sse_clients 1$' "$WORK/body" && ok "coordhub_sse_clients counts the stream" ||
  fail "sse_clients: $(grep sse_clients "$WORK/body")"
stop_sse live

# A subscriber cut after event K resumes with Last-Event-ID: K and gets
# exactly what it missed.
"$COORDHUB" events --json | jq -r .id >"$WORK/all_before"
K=$(sed -n '3p' "$WORK/all_before")
for i in 1 2 3; do "$COORDHUB" lock "src/r$i.c" --agent dave >/dev/null; done
"$COORDHUB" events --json --since "$K" | jq -r .id >"$WORK/want_resume"
sse resume "${AUTH[@]}" -H "Last-Event-ID: $K" "$URL/events"
wait_for "$WORK/resume" "^id: $(tail -n1 "$WORK/want_resume")\$" || true
sleep 0.2
diff <(data_ids resume) "$WORK/want_resume" >/dev/null &&
  ok "Last-Event-ID: $K delivers exactly the $(wc -l <"$WORK/want_resume") later events" ||
  fail "resume: $(data_ids resume | tr '\n' ' ') vs $(tr '\n' ' ' <"$WORK/want_resume")"
stop_sse resume
sse since "$URL/events?token=$TOKEN&since=$K"
wait_for "$WORK/since" "^id: $(tail -n1 "$WORK/want_resume")\$" || true
diff <(data_ids since) "$WORK/want_resume" >/dev/null && ok "?since=$K does the same" ||
  fail "since: $(data_ids since | tr '\n' ' ')"
stop_sse since

sse typed "${AUTH[@]}" "$URL/events?since=0&types=file:*,task:completed"
"$COORDHUB" events --json | jq -r 'select(.type|test("^file:|^task:completed$")) | .id' >"$WORK/want_typed"
wait_for "$WORK/typed" "^id: $(tail -n1 "$WORK/want_typed")\$" || true
sleep 0.2
diff <(data_ids typed) "$WORK/want_typed" >/dev/null &&
  ! grep '^event: ' "$WORK/typed" | grep -qv -e '^event: file:' -e '^event: task:completed$' &&
  ok "?types=file:*,task:completed filters" || fail "types: $(grep '^event:' "$WORK/typed" | sort | uniq -c)"
stop_sse typed

last=$("$COORDHUB" events --json | tail -n1 | jq -r .id)
sse beyond "${AUTH[@]}" -H "Last-Event-ID: 999999" "$URL/events"
wait_for "$WORK/beyond" '^data: ' || true
grep -A2 '^event: resync' "$WORK/beyond" | grep -q '^data: {"requested":999999,"firstAvailable":1}$' &&
  grep -B1 '^event: resync' "$WORK/beyond" | grep -q "^id: $last\$" &&
  ok "an id beyond the log's end gets resync {requested,firstAvailable}, id: $last" ||
  fail "resync: $(cat "$WORK/beyond")"
"$COORDHUB" unlock src/r1.c --agent dave >/dev/null
wait_for "$WORK/beyond" "^id: $((last + 1))\$" && ok "…and goes on live from there" || fail "after resync"
stop_sse beyond

[ "$(code GET "/events?since=abc" "${AUTH[@]}")" = 400 ] && ok "?since=abc: 400" || fail "since 400"
[ "$(code GET "/events?types=FILE" "${AUTH[@]}")" = 400 ] && ok "a bad type pattern: 400" || fail "types 400"
[ "$(code GET /events)" = 401 ] && ok "/events needs the credential" || fail "events 401"

# ---- secrets stay out of the log --------------------------------------------
grep -q "http: GET /status" "$STATE/hub.log" && ok "requests are logged (method and path)" ||
  fail "no request log lines"
! grep -q "$TOKEN" "$STATE/hub.log" && ok "the token never reaches hub.log" || fail "token in hub.log"

# ---- start-up: taken ports, refusals, --no-http ------------------------------
other_hub() { # other_hub DIR ARGS...: serve another workspace; prints the exit code
  local dir=$1; shift
  mkdir -p "$dir"
  local rc=0
  COORDHUB_ROOT="$dir" COORDHUB_STATE_DIR="$dir/.coordhub" "$COORDHUB" serve --daemon "$@" \
    >"$dir.out" 2>"$dir.err" || rc=$?
  local pid
  pid=$(head -n1 "$dir/.coordhub/hub.lock" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then echo "$pid" >>"$EXTRA_PIDS"; fi
  echo "$rc"
}
stop_hub_dir() {
  local pid
  pid=$(head -n1 "$1/.coordhub/hub.lock" 2>/dev/null || true)
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
}

rc=$(other_hub "$WORK/b" --http "$ADDR")
[ "$rc" = 1 ] && ok "an explicit --http on a taken port is a start-up error" || fail "taken explicit: rc $rc"
grep -qi "cannot listen on $ADDR" "$WORK/b/.coordhub/hub.log" && ok "…saying which address" ||
  fail "message: $(cat "$WORK/b/.coordhub/hub.log")"
rc=0
timeout 10 "$COORDHUB" serve --state-dir "$WORK/c/.coordhub" --root "$WORK" --http "$ADDR" \
  >"$WORK/c.out" 2>"$WORK/c.err" || rc=$?
[ "$rc" = 1 ] && grep -q "HTTP: cannot listen on $ADDR: Address already in use" "$WORK/c.err" &&
  ok "in the foreground the error is on stderr" || fail "foreground: rc $rc $(cat "$WORK/c.err")"
rc=$(other_hub "$WORK/d" --http 0.0.0.0:0)
[ "$rc" = 1 ] && grep -q "non-loopback" "$WORK/d/.coordhub/hub.log" &&
  ok "a non-loopback address is refused" || fail "non-loopback: rc $rc"
rc=$(other_hub "$WORK/e" --http nonsense)
[ "$rc" = 1 ] && grep -q "invalid HTTP address" "$WORK/e/.coordhub/hub.log" &&
  ok "a malformed address is refused" || fail "bad address: rc $rc"
rc=$(other_hub "$WORK/f" --no-http)
[ "$rc" = 0 ] && [ ! -e "$WORK/f/.coordhub/http.addr" ] && ok "--no-http: no HTTP face" || fail "no-http"
stop_hub_dir "$WORK/f"
rc=$(COORDHUB_HTTP=127.0.0.1:0 other_hub "$WORK/g")
[ "$rc" = 0 ] && [ -s "$WORK/g/.coordhub/http.addr" ] && ok "COORDHUB_HTTP chooses the address" ||
  fail "COORDHUB_HTTP: rc $rc"
stop_hub_dir "$WORK/g"

# The default port taken (by a hub of ours holding 127.0.0.1:7420, or by
# someone else's): a hub without --http starts anyway, warns, has no
# http.addr. Retried because other hubs may take and release 7420 meanwhile.
default_ok=0
for attempt in 1 2 3 4 5; do
  holder=$(other_hub "$WORK/h$attempt" --http 127.0.0.1:7420)
  rc=$(other_hub "$WORK/i$attempt")
  if [ "$rc" = 0 ] && [ ! -e "$WORK/i$attempt/.coordhub/http.addr" ] &&
    grep -q "127.0.0.1:7420.*running without the HTTP face" "$WORK/i$attempt/.coordhub/hub.log"; then
    default_ok=1
  fi
  stop_hub_dir "$WORK/i$attempt"
  stop_hub_dir "$WORK/h$attempt"
  [ $default_ok = 1 ] && break
  [ "$holder" = 0 ] && break # we held the port and it still failed: a real failure
  sleep 0.5
done
[ $default_ok = 1 ] && ok "default port taken: the hub starts without HTTP and warns" ||
  fail "default port taken: $(tail -n3 "$WORK/i$attempt/.coordhub/hub.log")"

# ---- shutdown ----------------------------------------------------------------
# With streams open (one live, one idle keep-alive connection) the hub
# still stops cleanly.
sse open1 "${AUTH[@]}" "$URL/events?since=0"
pid=$(hub_pid)
kill -TERM "$pid"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
! kill -0 "$pid" 2>/dev/null && ok "the hub stops with a stream open" || fail "hub still running"
[ ! -e "$STATE/http.addr" ] && ok "http.addr is removed at shutdown" || fail "http.addr left behind"
for _ in $(seq 50); do kill -0 "$(cat "$WORK/open1.pid")" 2>/dev/null || break; sleep 0.1; done
! kill -0 "$(cat "$WORK/open1.pid")" 2>/dev/null && ok "the subscriber sees the end of its stream" ||
  fail "curl still connected"
# A sanitizer build reports memory errors and leaks in the daemon's log.
for log in "$STATE/hub.log" "$WORK"/*/.coordhub/hub.log; do
  if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$log" 2>/dev/null; then
    fail "sanitizer report in $log"
    grep -A30 -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$log" | head -40
  fi
done
finish
