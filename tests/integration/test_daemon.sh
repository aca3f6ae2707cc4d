#!/usr/bin/env bash
# The daemon is manageable: `serve --daemon` prints its pid, socket and URL;
# `coordhub stop` stops the hub gracefully and waits for it (exit 1 when
# none runs); a hub that a client command or a bridge started exits after
# its idle time without sessions, a hub started by hand does not; a bridge
# told the hub was stopped exits instead of starting it again, and a bridge
# whose client has gone never starts a new hub.
source "$(dirname "$0")/lib.sh"

MCP_PID=
stop_all() {
  exec 3>&- 4<&- 2>/dev/null || true
  [ -n "$MCP_PID" ] && kill "$MCP_PID" 2>/dev/null
  stop_hub "$STATE"
}
trap 'stop_all; cleanup' EXIT

# alive PID: running (a zombie waiting for whoever adopted the daemon to
# reap it has exited).
alive() {
  [ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 1
  [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]
}
# gone PID: poll (≤ 10 s) until PID has exited.
gone() { for _ in $(seq 200); do alive "$1" || return 0; sleep 0.05; done; return 1; }
# serve_procs: hubs running for this state dir.
serve_procs() { pgrep -f -- "serve --daemon --state-dir $STATE" || true; }

# ---- serve --daemon says what it started; stop stops it -------------------
"$COORDHUB" serve --daemon --http 127.0.0.1:0 >"$WORK/started" 2>"$WORK/err" || fail "serve --daemon: $(cat "$WORK/err")"
PID=$(hub_pid)
grep -qx "coordhub: hub pid $PID" "$WORK/started" && alive "$PID" \
  && ok "serve --daemon prints the hub's pid ($PID)" || fail "pid line: $(cat "$WORK/started")"
grep -qx "coordhub: listening on unix:$STATE/hub.sock" "$WORK/started" \
  && ok "and its socket" || fail "socket line: $(cat "$WORK/started")"
grep -qx "coordhub: http://$(cat "$STATE/http.addr")/?token=$(cat "$STATE/token")" "$WORK/started" \
  && ok "and its URL with the admin token" || fail "URL line: $(cat "$WORK/started")"

expect_code 0 "coordhub stop stops the hub" -- "$COORDHUB" stop
grep -q "hub pid $PID stopped" "$WORK/out" && ok "stop names the pid it stopped" || fail "stop said: $(cat "$WORK/out")"
! alive "$PID" && ok "the hub has exited when stop returns" || fail "hub $PID still runs"
grep -q "stop requested" "$STATE/hub.log" && grep -q "coordhub stopped" "$STATE/hub.log" \
  && ok "it stopped gracefully (hub.log)" || fail "hub.log: $(tail -n 5 "$STATE/hub.log")"
expect_code 1 "stop with no hub running exits 1" -- "$COORDHUB" stop
grep -q "no hub is running" "$WORK/err" && ok "and says no hub is running" || fail "stop said: $(cat "$WORK/err")"
[ -z "$(serve_procs)" ] && ! alive "$(hub_pid)" && ok "stop never starts a hub" || fail "a hub was started"

# ---- idle exit ------------------------------------------------------------
# A hub that a client command starts exits once it has had no session for
# its idle time.
COORDHUB_IDLE_EXIT=300ms "$COORDHUB" status >/dev/null || fail "status"
PID=$(hub_pid)
grep -q "idle-exit 300 ms" "$STATE/hub.log" && ok "an auto-started hub has the idle time asked for" \
  || fail "hub.log: $(tail -n 3 "$STATE/hub.log")"
gone "$PID" && ok "it exits once idle" || fail "hub $PID did not exit when idle"
grep -q "no session for 300 ms (--idle-exit)" "$STATE/hub.log" && ok "hub.log says why" || fail "no idle line"

# The default for an auto-started hub is 30 minutes; 0 or never turns it off.
"$COORDHUB" status >/dev/null
grep -q "idle-exit 1800000 ms" "$STATE/hub.log" && ok "auto-started: 30 min by default" || fail "default idle"
stop_hub "$STATE"
COORDHUB_IDLE_EXIT=never "$COORDHUB" status >/dev/null
tail -n 3 "$STATE/hub.log" | grep -q "idle-exit never" && ok "COORDHUB_IDLE_EXIT=never: no idle exit" || fail "never"
stop_hub "$STATE"
# A hub started by hand does not idle-exit unless asked.
"$COORDHUB" serve --daemon --no-http >/dev/null
tail -n 3 "$STATE/hub.log" | grep -q "idle-exit never" && ok "serve by hand: no idle exit" || fail "serve idle"
stop_hub "$STATE"
expect_code 4 "a bad --idle-exit is refused" -- "$COORDHUB" serve --no-http --idle-exit 5x
grep -q "idle-exit '5x'" "$WORK/err" && ok "naming the value" || fail "said: $(cat "$WORK/err")"
expect_code 1 "a bad COORDHUB_IDLE_EXIT is refused before a hub is started" -- \
  env COORDHUB_IDLE_EXIT=soon "$COORDHUB" status
[ -z "$(serve_procs)" ] && ok "nothing was started" || fail "a hub was started"

# ---- a bridge: sessions keep the hub up; stop ends the bridge -------------
mkfifo "$WORK/mcp.in" "$WORK/mcp.out"
start_bridge() {
  env "$@" "$COORDHUB" mcp <"$WORK/mcp.in" >"$WORK/mcp.out" 2>>"$WORK/bridge.err" &
  MCP_PID=$!
  exec 3>"$WORK/mcp.in" 4<"$WORK/mcp.out"
}
send() { printf '%s\n' "$1" >&3; }
# answer ID: the response with that id (10 s bound).
answer() {
  local line
  while IFS= read -r -t 10 -u 4 line; do
    [ "$(jq -r '.id // empty' <<<"$line" 2>/dev/null)" = "$1" ] && { printf '%s\n' "$line"; return 0; }
  done
  return 1
}
init_session() {
  send '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"it","version":"1"}}}'
  answer 1 >/dev/null || { fail "no initialize answer"; return 1; }
  send '{"jsonrpc":"2.0","method":"notifications/initialized"}'
  send '{"jsonrpc":"2.0","id":2,"method":"ping"}'
  answer 2 >/dev/null || fail "no ping answer"
}
close_bridge_stdin() { exec 3>&-; }

start_bridge COORDHUB_IDLE_EXIT=300ms
init_session
PID=$(hub_pid)
sleep 1.2 # four idle times
alive "$PID" && ok "a hub with a session open does not idle-exit" || fail "hub exited under a session"
close_bridge_stdin
gone "$MCP_PID" && ok "the bridge exits when its client closes stdin" || fail "bridge still runs"
exec 4<&-
gone "$PID" && ok "the hub exits once its last session ended and the idle time passed" || fail "hub stays"

start_bridge COORDHUB_IDLE_EXIT=never
init_session
PID=$(hub_pid)
expect_code 0 "stop with a bridge attached" -- "$COORDHUB" stop
gone "$MCP_PID" && ok "the bridge exits when the hub is stopped" || fail "bridge still runs after stop"
wait "$MCP_PID" 2>/dev/null; rc=$?
[ "$rc" = 0 ] && ok "with exit code 0" || fail "bridge exit code $rc"
grep -q "the hub was stopped" "$WORK/bridge.err" && ok "saying the hub was stopped" || fail "bridge: $(cat "$WORK/bridge.err")"
[ -z "$(serve_procs)" ] && ! alive "$(hub_pid)" && ok "and starts no new hub" || fail "a hub was started again"
exec 3>&- 4<&-

# ---- a relaying bridge (stdin a regular file) ends with the stopped hub ----
# It cannot be handed over, so it relays; its client's requests are all
# read (stdin at its end), and a long poll keeps the session open until
# the hub is stopped.
cat >"$WORK/relay.in" <<'JSON'
{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"it","version":"1"}}}
{"jsonrpc":"2.0","method":"notifications/initialized"}
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"wait_for_events","arguments":{"timeoutMs":30000}}}
JSON
COORDHUB_IDLE_EXIT=never "$COORDHUB" mcp <"$WORK/relay.in" >"$WORK/relay.out" 2>>"$WORK/relay.err" &
MCP_PID=$!
for _ in $(seq 100); do grep -q '"id":1' "$WORK/relay.out" 2>/dev/null && break; sleep 0.05; done
PID=$(hub_pid)
alive "$PID" && ok "a relaying bridge started the hub" || fail "no hub for the relaying bridge"
expect_code 0 "stop with a relaying bridge attached" -- "$COORDHUB" stop
gone "$MCP_PID" && ok "the relaying bridge exits" || fail "relaying bridge still runs"
wait "$MCP_PID" 2>/dev/null; rc=$?
[ "$rc" = 0 ] && ok "with exit code 0" || fail "relaying bridge exit code $rc"
[ -z "$(serve_procs)" ] && ok "and starts no new hub" || fail "a hub was started again: $(serve_procs)"
MCP_PID=

# ---- a bridge whose client has gone never starts a new hub ----------------
start_bridge COORDHUB_IDLE_EXIT=never
init_session
PID=$(hub_pid)
kill -STOP "$PID"  # the hub cannot see the client leave ...
close_bridge_stdin # ... which it does now,
kill -KILL "$PID"  # and then the hub dies.
gone "$MCP_PID" && ok "the bridge exits" || fail "bridge still runs"
wait "$MCP_PID" 2>/dev/null; rc=$?
[ "$rc" = 0 ] && ok "with exit code 0" || fail "bridge exit code $rc"
grep -q "the client has gone; not starting the hub" "$WORK/bridge.err" \
  && ok "saying its client has gone" || fail "bridge: $(cat "$WORK/bridge.err")"
[ -z "$(serve_procs)" ] && [ "$(hub_pid)" = "$PID" ] && ok "no new hub was started" \
  || fail "a new hub was started: $(serve_procs)"
exec 4<&-
MCP_PID=

finish
