#!/usr/bin/env bash
# The Unix socket's session cap (docs/operations.md, "Descriptors"): with
# a cap of 8 (COORDHUB_SOCKET_MAX_SESSIONS), of which 2 slots are kept for
# the admin token, six agent sessions open and the seventh is answered
# with one JSON-RPC error line (id null, -32000, naming the cap) and
# closed; `coordhub status` still answers from the reserve, and a bridge
# refused at the cap exits saying why, and a one-shot call is answered
# "unavailable" unless it carries the token; a connection
# that sends nothing is closed at its first-line deadline
# (COORDHUB_FIRST_LINE_MS); once the sessions leave, a new one opens.
# Bounded: 8 connections, about 5 s.
source "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)

export COORDHUB_SOCKET_MAX_SESSIONS=8 COORDHUB_FIRST_LINE_MS=500
start_hub
unset COORDHUB_SOCKET_MAX_SESSIONS COORDHUB_FIRST_LINE_MS
SOCK="$STATE/hub.sock"

# Seven sessions against six ordinary slots, held until released.
python3 "$HERE/sockets.py" "$SOCK" - 0 7 0 "$WORK/ready" "$WORK/release" &
for _ in $(seq 200); do [ -f "$WORK/ready" ] && break; sleep 0.05; done
if [ -f "$WORK/ready" ]; then ok "client report"; else fail "no client report"; fi
r() { jq -r "$1" "$WORK/ready" 2>/dev/null; }
if [ "$(r .answered)" = 6 ]; then ok "six sessions answered"; else
  fail "answered $(r .answered) of 7, wanted 6: $(cat "$WORK/ready")"; fi
if [ "$(r .refused)" = 1 ] && [ "$(r .refused_id_null)" = true ] && [ "$(r .refused_code)" = -32000 ]; then
  ok "the seventh got a JSON-RPC error with id null and code -32000"
else fail "seventh not refused by a JSON-RPC error: $(cat "$WORK/ready")"; fi
if r '.messages[0]' | grep -q '^coordhub: session limit reached (6 open'; then
  ok "the error names the cap: $(r '.messages[0]')"
else fail "message: $(r '.messages[0]')"; fi
if [ "$(r .eof_after_refusal)" = true ]; then ok "closed after the error line"; else
  fail "not closed after the error"; fi

# The admin token still gets in: the CLI's status is an admin session.
if timeout 10 "$COORDHUB" status >"$WORK/status" 2>&1; then ok "coordhub status answers at the cap"
else fail "coordhub status at the cap: $(cat "$WORK/status")"; fi

# A bridge (`coordhub mcp`) refused at the cap says why and exits: it
# neither retries nor starts another hub.
# (stdin and stdout pipes, so it hands them over).
got=0
set +o pipefail
sleep 5 | { timeout 10 "$COORDHUB" mcp 2>"$WORK/mcp.err" || echo "exit $?" >"$WORK/mcp.code"; } | cat >"$WORK/mcp.out"
set -o pipefail
[ -f "$WORK/mcp.code" ] && got=$(awk '{print $2}' "$WORK/mcp.code")
if [ "$got" = 1 ] && grep -q 'the hub refused the session: coordhub: session limit reached' "$WORK/mcp.err"; then
  ok "the bridge reports the cap and exits 1"
else fail "bridge at the cap: exit $got: $(cat "$WORK/mcp.err")"; fi

# The same in relay mode (stdout a regular file, which the hub cannot
# poll): the client gets the error line, the bridge exits 1 saying why.
got=0
sleep 5 | timeout 10 "$COORDHUB" mcp >"$WORK/relay.out" 2>"$WORK/relay.err" || got=$?
if [ "$got" = 1 ] && grep -q 'the hub refused the session: coordhub: session limit reached' "$WORK/relay.err" &&
   jq -e '.id == null and .error.code == -32000' "$WORK/relay.out" >/dev/null; then
  ok "a relaying bridge passes the error on and exits 1"
else fail "relaying bridge at the cap: exit $got: $(cat "$WORK/relay.err" "$WORK/relay.out")"; fi

# A one-shot call (docs/socket-protocol.md) takes a session slot too: an
# agent's is answered "unavailable" at the cap, the owner's (with the
# token) gets in through the reserve.
oneshot() {
  python3 - "$SOCK" "$1" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.settimeout(10)
line = {"coordhub": "call", "tool": "list_agents"}
if sys.argv[2]:
    line["token"] = sys.argv[2]
s.sendall((json.dumps(line) + "\n").encode())
buf = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    buf += d
sys.stdout.write(buf.decode())
PY
}
oneshot "" >"$WORK/call.out" 2>&1 || true
if jq -e '.coordhub == "call" and .ok == false and .code == "unavailable" and (.error | test("session limit reached"))' \
  "$WORK/call.out" >/dev/null; then ok "an agent's one-shot call at the cap is answered unavailable"
else fail "one-shot call at the cap: $(cat "$WORK/call.out")"; fi
oneshot "$(cat "$STATE/token")" >"$WORK/call.out" 2>&1 || true
if jq -e '.coordhub == "call" and .ok == true and (.result.agents | type == "array")' "$WORK/call.out" >/dev/null; then
  ok "the owner's one-shot call at the cap gets in through the reserve"
else fail "owner's one-shot call at the cap: $(cat "$WORK/call.out")"; fi

# A connection that sends nothing is closed at its deadline (0.5 s).
python3 - "$SOCK" >"$WORK/idle" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
t = time.monotonic()
print("eof" if s.recv(16) == b"" else "data", "%.1f" % (time.monotonic() - t))
PY
if grep -q '^eof' "$WORK/idle"; then ok "an idle connection is closed at its deadline ($(cat "$WORK/idle"))"
else fail "idle connection: $(cat "$WORK/idle")"; fi

# The sessions leave: a new session is served again.
touch "$WORK/release"
wait
rm -f "$WORK/ready" "$WORK/release"
touch "$WORK/release"
for _ in $(seq 100); do
  python3 "$HERE/sockets.py" "$SOCK" - 0 1 0 "$WORK/ready" "$WORK/release"
  [ "$(r .answered)" = 1 ] && break
  rm -f "$WORK/ready"; sleep 0.05
done
if [ "$(r .answered)" = 1 ]; then ok "a session opens once the others left"; else
  fail "no session after the others left: $(cat "$WORK/ready" 2>/dev/null)"; fi
if grep -q 'socket: a session refused at the session cap (1 time' "$STATE/hub.log"; then
  ok "the refusal is logged"; else fail "no refusal in the log"; fi

finish
