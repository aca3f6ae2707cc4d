#!/usr/bin/env bash
# Connection quotas below the cap, seen by clients of a hub whose cap is
# 64 (COORDHUB_HTTP_MAX_CONNECTIONS; the quotas follow it: 16 connections
# without a credential per peer address, 16 per credential, the last 4
# slots for the admin token, 16 overflow connections for /healthz):
#   - 16 silent connections from 127.0.0.1 use that address's quota: a
#     17th closes the oldest of them and is served; when none of an
#     address's 16 is silent, a 17th is answered 503 too_many_connections
#     at once; another address still gets in;
#   - an API key holding 16 connections: its 17th is 503 naming the
#     credential's quota, and the admin token still gets in;
#   - with 60 connections open the last slots take the admin token only;
#   - at the cap /healthz is still answered (then closed), anything else
#     503; beyond the overflow a new connection closes the oldest silent
#     one (and is served), and when no connection is silent any more it is
#     closed at once.
# Loopback addresses 127.0.0.x stand for distinct peers. Bounded: about
# 110 connections, each answer awaited for at most 5 s.
source "$(dirname "$0")/lib.sh"

export COORDHUB_HTTP_MAX_CONNECTIONS=64
start_http_hub
KEY=$("$COORDHUB" key create --name quota --state read --rate 1000 --burst 1000 2>/dev/null)
PORT=${ADDR##*:}

python3 - "$PORT" "$TOKEN" "$KEY" >"$WORK/quotas" 2>&1 <<'PY' || true
import json, socket, sys, time
port, token, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
held = []

def conn(src):
    s = socket.socket()
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    held.append(s)
    return s

def answer(s, path, cred=None):
    """Send one GET, read one answer: (status, error code or -, closed)."""
    head = "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % (path, port)
    if cred:
        head += "Authorization: Bearer %s\r\n" % cred
    try:
        s.sendall((head + "\r\n").encode())
    except OSError:
        pass
    return read(s)

def read(s):
    s.settimeout(5)
    data = b""
    closed = False
    while True:
        end = data.find(b"\r\n\r\n")
        if end >= 0:
            length = 0
            for line in data[:end].split(b"\r\n")[1:]:
                n, _, v = line.partition(b":")
                if n.strip().lower() == b"content-length":
                    length = int(v)
            if len(data) >= end + 4 + length:
                break
        try:
            chunk = s.recv(65536)
        except (socket.timeout, OSError):
            closed = True
            break
        if not chunk:
            closed = True
            break
        data += chunk
    if not data:
        return (0, "-", True)
    status = int(data.split(b" ")[1])
    body = data[data.find(b"\r\n\r\n") + 4:]
    code = "-"
    try:
        code = json.loads(body)["error"]["code"]
    except Exception:
        pass
    if not closed:
        s.settimeout(0.3)
        try:
            closed = s.recv(1) == b""
        except socket.timeout:
            pass
        except OSError:
            closed = True
    return (status, code, closed)

def say(name, r):
    print("%s %d %s %s" % (name, r[0], r[1], "closed" if r[2] else "open"))

# 1. the unauthenticated quota of 127.0.0.1
def gone(s):
    s.settimeout(1)
    try:
        return s.recv(1) == b""
    except socket.timeout:
        return False
    except OSError:
        return True

oldest = conn("127.0.0.1")
second = conn("127.0.0.1")
for _ in range(14):
    conn("127.0.0.1")
time.sleep(0.3)
newest = conn("127.0.0.1")
time.sleep(0.3)
print("unauth-oldest %s" % ("closed" if gone(oldest) else "open"))
say("unauth-17th", answer(newest, "/healthz"))
busy = [conn("127.0.0.200") for _ in range(16)]
for b in busy:
    b.sendall(b"G")
time.sleep(0.3)
say("unauth-busy", read(conn("127.0.0.200")))
for b in busy:
    b.close()
    held.remove(b)
time.sleep(0.3)
say("other-peer", answer(conn("127.0.0.2"), "/healthz"))
# 2. the credential quota (connections from several addresses)
for i in range(16):
    r = answer(conn("127.0.0.%d" % (3 + i % 4)), "/api/v1/health", key)
    if r[0] != 200:
        say("key-%d" % i, r)
say("key-17th", answer(conn("127.0.0.7"), "/api/v1/health", key))
say("admin-after-key", answer(conn("127.0.0.7"), "/api/v1/health", token))
# 3. fill up to 60 with silent connections, then the reserve
open_now = 16 + 1 + 16 + 1  # unauth, other peer, key, admin (refused ones are closed)
n = open_now
src = 10
while n < 60:
    for _ in range(min(16, 60 - n)):
        conn("127.0.0.%d" % src)
        n += 1
    src += 1
time.sleep(0.3)
say("reserve-key", answer(conn("127.0.0.40"), "/api/v1/health", key))
say("reserve-admin", answer(conn("127.0.0.41"), "/api/v1/health", token))
# 4. at the cap: overflow connections
while n < 64:
    conn("127.0.0.42")
    n += 1
time.sleep(0.3)
say("overflow-healthz", answer(conn("127.0.0.43"), "/healthz"))
say("overflow-admin", answer(conn("127.0.0.44"), "/api/v1/health", token))
for _ in range(16):
    conn("127.0.0.45")
time.sleep(0.3)
say("beyond-overflow", answer(conn("127.0.0.46"), "/healthz"))
print("oldest-silent %s" % ("closed" if gone(second) else "open"))
# the answered connection has gone: one more fills every slot again, then
# every connection still open starts a head: none is silent any more
conn("127.0.0.45")
time.sleep(0.2)
for s in held:
    try:
        s.sendall(b"G")
    except OSError:
        pass
time.sleep(0.3)
say("all-busy", answer(conn("127.0.0.47"), "/healthz"))
for s in held:
    s.close()
time.sleep(0.5)
say("after", answer(socket.create_connection(("127.0.0.1", port)), "/healthz"))
PY
cat "$WORK/quotas"
has() { grep -qx "$1" "$WORK/quotas"; }
has "unauth-oldest closed" && has "unauth-17th 200 - open" &&
  ok "a 17th silent connection from one address closes its oldest and is served" ||
  fail "unauth quota makes room"
has "unauth-busy 503 too_many_connections closed" &&
  ok "with none of its 16 silent, a 17th: 503 too_many_connections, closed" ||
  fail "unauth quota refuses"
has "other-peer 200 - open" && ok "another address still gets in" || fail "other peer"
! grep -Eq '^key-[0-9]+ ' "$WORK/quotas" && ok "the key's 16 connections are served" || fail "key connections"
has "key-17th 503 too_many_connections closed" && ok "the key's 17th connection: 503 naming its quota" ||
  fail "credential quota"
has "admin-after-key 200 - open" && ok "the admin token still gets in" || fail "admin after key quota"
has "reserve-key 503 unavailable closed" && ok "in the reserve a key is refused" || fail "reserve key"
has "reserve-admin 200 - open" && ok "in the reserve the admin token gets in" || fail "reserve admin"
has "overflow-healthz 200 - closed" && ok "at the cap /healthz is answered, then closed" ||
  fail "overflow healthz"
has "overflow-admin 503 unavailable closed" && ok "at the cap anything else is 503" || fail "overflow other"
has "beyond-overflow 200 - closed" && ok "beyond the overflow: /healthz still answered" ||
  fail "beyond overflow"
has "oldest-silent closed" && ok "... the oldest silent connection made room" || fail "oldest silent"
has "all-busy 0 - closed" && ok "with no silent connection left: closed at once" || fail "all busy"
has "after 200 - open" && ok "once they go, the hub serves as before" || fail "after"
finish
