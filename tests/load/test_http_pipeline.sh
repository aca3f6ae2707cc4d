#!/usr/bin/env bash
# Backpressure: a client pipelines up to 64 MiB of `GET /healthz` and
# never reads an answer. The hub reads one request at a time and the next
# only once the last answer is written, with unread input capped per
# connection, so the client is held back (it cannot send it all), the
# hub's resident memory grows by less than 32 MiB over what it was
# before, and another client is answered meanwhile. Bounded: one
# pipelining connection sending for at most 8 s.
source "$(dirname "$0")/lib.sh"

# Under AddressSanitizer freed memory sits in its quarantine (256 MiB by
# default) and would count as the hub's: keep that small.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4"
start_http_hub
PORT=${ADDR##*:}
LIMIT=$((64 * 1024 * 1024))

# Warm up, then the resident set before.
for _ in $(seq 20); do curl -s -o /dev/null "$URL/healthz"; done
rss0=$(hub_rss_kb)

python3 - "$PORT" "$LIMIT" >"$WORK/pipe" 2>&1 <<'PY' &
import socket, sys, time
port, limit = int(sys.argv[1]), int(sys.argv[2])
req = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % port
buf = req * (65536 // len(req))
s = socket.create_connection(("127.0.0.1", port))
s.setblocking(False)
sent, t0, last = 0, time.time(), time.time()
while sent < limit and time.time() - t0 < 8 and time.time() - last < 2:
    try:
        sent += s.send(buf)
        last = time.time()
    except BlockingIOError:
        time.sleep(0.01)
print("SENT %d" % sent, flush=True)
time.sleep(60)  # hold the connection, never read
PY
pipe=$!
wait_for "$WORK/pipe" "^SENT" 300 || fail "the pipelining client did not finish sending"
sent=$(awk '/^SENT/ {print $2}' "$WORK/pipe")
rss1=$(hub_rss_kb)
echo "# sent $sent of $LIMIT bytes; hub RSS $rss0 KiB before, $rss1 KiB after"
[ "${sent:-0}" -lt "$LIMIT" ] && ok "the pipelining client is held back ($sent of $LIMIT bytes sent)" ||
  fail "the client sent all $LIMIT bytes"
[ "$rss1" -gt 0 ] && [ $((rss1 - rss0)) -lt $((32 * 1024)) ] &&
  ok "the hub's memory grew by less than 32 MiB ($((rss1 - rss0)) KiB)" ||
  fail "the hub's memory grew from $rss0 to $rss1 KiB"
[ "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$URL/healthz")" = 200 ] &&
  ok "another client is answered meanwhile" || fail "healthz while pipelined"
kill "$pipe" 2>/dev/null || true
wait "$pipe" 2>/dev/null || true
[ "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$URL/healthz")" = 200 ] &&
  ok "and after the client left" || fail "healthz after"
finish
