#!/usr/bin/env bash
# Running out of descriptors (issue 10): a hub started under a soft and
# hard limit of 256 open files (so the start-up raise cannot go higher)
# meets more Unix-socket connections than the limit allows — 400 that
# send nothing and 40 agent sessions, against the caps it fitted to 256
# descriptors — and 400 idle TCP connections to its HTTP port. Checks what a client and an operator see:
# the hub's CPU time over a 3 s window stays under half of it (clock
# ticks from /proc, not wall time), its log grows by kilobytes, not
# megabytes, `coordhub status` answers, /healthz answers, ordinary
# sessions beyond the cap get the JSON-RPC error, and once the clients
# leave the hub serves sessions and /healthz again.
# COORDHUB_TEST_HTTP_FLOOD=0 leaves the TCP flood out (to look at the
# socket alone).
# Bounded: 840 connections, about 15 s.
source "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
LIMIT=256
HTTP_FLOOD=${COORDHUB_TEST_HTTP_FLOOD:-1}

# The limit applies to the hub only (a subshell), not to this script.
(ulimit -n "$LIMIT" && exec "$COORDHUB" serve --daemon --http 127.0.0.1:0) >"$WORK/serve.out"
if wait_for "$STATE/http.addr" ":"; then ok "hub up under ulimit -n $LIMIT"; else
  fail "hub did not come up: $(cat "$WORK/serve.out" "$STATE/hub.log" 2>/dev/null)"; finish; exit 1; fi
ADDR=$(cat "$STATE/http.addr")
PID=$(hub_pid)
SOCK="$STATE/hub.sock"
if grep -q "open files: $LIMIT" "$STATE/hub.log" && grep -q "scaled down" "$STATE/hub.log"; then
  ok "the limit and the scaled caps are logged: $(grep -o 'caps: .*' "$STATE/hub.log")"
else fail "no open-files or caps line: $(cat "$STATE/hub.log")"; fi

ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
log_bytes() { stat -c %s "$STATE/hub.log"; }
hz=$(getconf CLK_TCK)

tcp=0
[ "$HTTP_FLOOD" = 1 ] && tcp=400
log0=$(log_bytes)
python3 "$HERE/sockets.py" "$SOCK" "$ADDR" 400 40 "$tcp" "$WORK/ready" "$WORK/release" &
for _ in $(seq 600); do [ -f "$WORK/ready" ] && break; sleep 0.05; done
if [ -f "$WORK/ready" ]; then ok "clients connected: $(cat "$WORK/ready")"; else
  fail "the clients never got going"; fi
r() { jq -r "$1" "$WORK/ready" 2>/dev/null; }
if [ "$(r .idle_unix)" = 400 ] && [ "$(r .refused)" -ge 1 ] && [ "$(r .answered)" -ge 1 ] &&
   r '.messages[0]' | grep -q 'session limit reached'; then
  ok "$(r .answered) sessions served, $(r .refused) beyond the cap refused: $(r '.messages[0]')"
else fail "sessions: $(cat "$WORK/ready" 2>/dev/null)"; fi
if [ "$HTTP_FLOOD" = 1 ]; then
  if [ "$(r .idle_tcp)" = 400 ]; then ok "400 idle TCP connections"; else
    fail "idle TCP connections: $(r .idle_tcp)"; fi
fi

# Held: a 3 s window of the hub's CPU time.
t0=$(ticks)
sleep 3
t1=$(ticks)
used=$((t1 - t0))
if [ "$used" -lt $((3 * hz / 2)) ]; then ok "hub CPU over 3 s: $used ticks (bound $((3 * hz / 2)))"
else fail "hub spins: $used ticks in 3 s (bound $((3 * hz / 2)))"; fi

if timeout 10 "$COORDHUB" status >"$WORK/status" 2>&1; then ok "coordhub status answers"
else fail "coordhub status: $(head -c 300 "$WORK/status")"; fi

if curl -s -m 5 -o "$WORK/hz" -w '%{http_code}' "http://$ADDR/healthz" >"$WORK/hzcode" 2>/dev/null &&
   [ "$(cat "$WORK/hzcode")" = 200 ]; then ok "/healthz answers"
else fail "/healthz: $(cat "$WORK/hzcode" 2>/dev/null)"; fi

grown=$(($(log_bytes) - log0))
if [ "$grown" -lt 65536 ]; then ok "log grew by $grown bytes"; else
  fail "log grew by $grown bytes"; tail -n 5 "$STATE/hub.log"; fi

# The clients leave: the hub serves sessions and /healthz again.
touch "$WORK/release"
wait
rm -f "$WORK/ready" "$WORK/release"
touch "$WORK/release"
for _ in $(seq 100); do
  python3 "$HERE/sockets.py" "$SOCK" - 0 1 0 "$WORK/ready" "$WORK/release"
  [ "$(r .answered)" = 1 ] && break
  rm -f "$WORK/ready"; sleep 0.1
done
if [ "$(r .answered)" = 1 ]; then ok "a session is served after the flood"; else
  fail "no session after the flood: $(cat "$WORK/ready" 2>/dev/null)"; fi
if [ "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://$ADDR/healthz")" = 200 ]; then
  ok "/healthz after the flood"; else fail "/healthz after the flood"; fi
if timeout 10 "$COORDHUB" status >/dev/null 2>&1; then ok "coordhub status after the flood"; else
  fail "coordhub status after the flood"; fi
if curl -s -m 5 -H "Authorization: Bearer $(cat "$STATE/token")" "http://$ADDR/metrics" >"$WORK/metrics" &&
   grep -q '^coordhub_socket_dropped_total [1-9]' "$WORK/metrics" &&
   grep -q '^coordhub_socket_refused_total [1-9]' "$WORK/metrics" &&
   grep -q '^coordhub_accept_failures_total{listener="socket"} ' "$WORK/metrics"; then
  ok "metrics count the dropped and refused connections"
else fail "metrics: $(grep -E 'socket|accept' "$WORK/metrics")"; fi

finish
