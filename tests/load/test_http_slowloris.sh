#!/usr/bin/env bash
# Slow heads: with a header deadline of 3 s (COORDHUB_HTTP_HEADER_TIMEOUT_MS;
# 10 s by default) a client trickling its head one byte every half second
# is answered 408 request_timeout and closed long before it is done (the
# deadline runs from the head's first byte and is not reset by more
# bytes), a connection that sends nothing is closed without an answer,
# and a keep-alive connection trickling its second head is cut like a
# fresh one. Twenty trickling connections do not keep others from being
# answered. Bounded: 23 connections for at most 20 s.
source "$(dirname "$0")/lib.sh"

export COORDHUB_HTTP_HEADER_TIMEOUT_MS=3000
start_http_hub
PORT=${ADDR##*:}

python3 - "$PORT" >"$WORK/slow" 2>&1 <<'PY' &
import json, select, socket, sys, time
port = int(sys.argv[1])
head = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Slow: " % port + b"a" * 40
conns = []  # [name, socket, bytes to trickle, sent, answer, closed-at-byte]

def add(name, s, trickle):
    s.setblocking(False)
    conns.append([name, s, trickle, 0, b"", None])

add("trickle", socket.create_connection(("127.0.0.1", port)), head)
add("silent", socket.create_connection(("127.0.0.1", port)), b"")
k = socket.create_connection(("127.0.0.1", port))
k.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % port)
k.settimeout(5)
first = k.recv(65536)
print("keepalive-first", first.split(b" ")[1].decode(), flush=True)
add("keepalive", k, head)
for i in range(20):
    add("crowd", socket.create_connection(("127.0.0.1", port)), head)
t0 = time.time()
while time.time() - t0 < 20 and any(c[5] is None for c in conns):
    for c in conns:
        if c[5] is not None:
            continue
        try:
            data = c[1].recv(65536)
            if data == b"":
                c[5] = c[3]
            else:
                c[4] += data
        except BlockingIOError:
            pass
        except OSError:
            c[5] = c[3]
        if c[5] is None and c[3] < len(c[2]):
            try:
                c[1].send(c[2][c[3]:c[3] + 1])
                c[3] += 1
            except OSError:
                c[5] = c[3]
    time.sleep(0.5)
for c in conns:
    status, code = 0, "-"
    if c[4].startswith(b"HTTP/1."):
        status = int(c[4].split(b" ")[1])
        try:
            code = json.loads(c[4][c[4].find(b"\r\n\r\n") + 4:])["error"]["code"]
        except Exception:
            pass
    closed = "closed-after-%d-of-%d" % (c[5], len(c[2])) if c[5] is not None else "open"
    print(c[0], status, code, closed, flush=True)
print("DONE", flush=True)
PY
slow=$!
sleep 1.5
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$URL/healthz")
wait_for "$WORK/slow" "^DONE" 500 || true
wait "$slow" 2>/dev/null || true
cat "$WORK/slow"
[ "$code" = 200 ] && ok "others are answered while heads trickle" || fail "healthz while trickling: $code"
# cut LINE-PREFIX: the connection was answered 408 and closed before its head was sent.
cut() {
  awk -v n="$1" '$1 == n && $2 == 408 && $3 == "request_timeout" && $4 ~ /^closed-after-/ {
    split($4, a, "-"); if (a[3] + 0 < a[5] + 0) c++ } END { print c + 0 }' "$WORK/slow"
}
[ "$(cut trickle)" = 1 ] && ok "a trickled head: 408 and closed at the deadline, before its end" ||
  fail "trickle: $(grep '^trickle' "$WORK/slow")"
grep -q '^silent 0 - closed-after-0-of-0$' "$WORK/slow" &&
  ok "a silent connection: closed at the deadline, no answer" || fail "silent: $(grep '^silent' "$WORK/slow")"
grep -q '^keepalive-first 200$' "$WORK/slow" && [ "$(cut keepalive)" = 1 ] &&
  ok "a keep-alive connection trickling its second head: 408 and closed" ||
  fail "keepalive: $(grep '^keepalive' "$WORK/slow" | tr '\n' ' ')"
[ "$(cut crowd)" = 20 ] && ok "all twenty trickling connections are cut" ||
  fail "crowd: $(cut crowd) of 20 cut"
[ "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$URL/healthz")" = 200 ] && ok "the hub still serves" ||
  fail "healthz after"
finish
