#!/usr/bin/env bash
# Request ids that are not plain integers, on every transport that takes
# JSON-RPC: the hub's Unix socket, the stdio bridge (`coordhub mcp`), and
# Streamable HTTP /mcp (one message per POST, and batches in a 2025-03-26
# session). Each request of the table is answered at once — a hang fails
# within 5 s — with its own id as sent when it is a valid one (a string,
# an integer within ±(2^53 - 1)), -32600 under its own digits when it is
# an integer the hub cannot keep (2^53, 2^64, -0), and -32600 under null
# when it is no integer at all (0.5, 1e2, 1e300, true, null, {}, []). The
# hub then still serves each transport and holds no request (a POST that
# held one kept its connection slot forever, its idle timeout suspended).
# Bounded: about 60 requests per transport, well under 30 s.
source "$(dirname "$0")/lib.sh"

start_http_hub
command -v python3 >/dev/null || { fail "python3 is needed"; finish; exit 1; }

cat >"$WORK/ids.py" <<'EOF'
import http.client, json, os, socket, subprocess, sys, threading

state, addr, token, coordhub = sys.argv[1:5]
host, port = addr.rsplit(":", 1)
REFUSED = ('Invalid Request: "id" must be a string or an integer from -(2^53 - 1) to '
           '2^53 - 1 written plainly (no fraction, exponent or -0)')
HUGE = '"' + "k" * 200000 + '"'
# (id text, answered with a result, the answer's id text)
TABLE = [
    ("0.5", False, "null"), ("1.5", False, "null"), ("-0", False, "-0"),
    ("1e2", False, "null"), ("1E2", False, "null"), ("100.0", False, "null"),
    ("1e300", False, "null"), ("-1e-7", False, "null"),
    ("9007199254740992", False, "9007199254740992"),
    ("9007199254740993", False, "9007199254740993"),
    ("-9007199254740993", False, "-9007199254740993"),
    ("18446744073709551616", False, "18446744073709551616"),
    ("9007199254740991", True, "9007199254740991"),
    ("-9007199254740991", True, "-9007199254740991"),
    ("1000000000000000", True, "1000000000000000"),
    ("-1", True, "-1"), ("0", True, "0"),
    ('"1"', True, '"1"'), ('""', True, '""'), (HUGE, True, HUGE),
    ('"\\u00e9\\n"', True, '"\u00e9\\n"'),
    ("true", False, "null"), ("null", False, "null"), ("{}", False, "null"), ("[]", False, "null"),
]
failed = 0

def check(where, idt, taken, echo, text):
    """text: one JSON-RPC answer; its id must be echo (as text), result iff taken."""
    global failed
    try:
        v = json.loads(text)
        pre = '{"jsonrpc":"2.0","id":'
        assert text.startswith(pre), "not compact jsonrpc first"
        _, end = json.JSONDecoder().raw_decode(text, len(pre))
        got = text[len(pre):end]
        assert got == echo, "id %s, want %s" % (got[:40], echo[:40])
        if taken:
            assert v.get("result") == {}, "no result"
        else:
            assert v["error"]["code"] == -32600 and v["error"]["message"] == REFUSED, v.get("error")
    except Exception as e:  # noqa: BLE001 - any mismatch is a failure
        failed += 1
        print("not ok - %s id %s: %s: %s" % (where, idt[:40], e, text[:200]))

def ping(idt):
    return '{"jsonrpc":"2.0","id":%s,"method":"ping"}' % idt

class Lines:
    def __init__(self, rfile, wfile):
        self.r, self.w = rfile, wfile
    def ask(self, line):
        self.w.write((line + "\n").encode()); self.w.flush()
        got = self.r.readline()
        if not got:
            raise RuntimeError("connection closed")
        return got.decode().rstrip("\n")

def line_table(where, lines):
    global failed
    before = failed
    for idt, taken, echo in TABLE:
        try:
            check(where, idt, taken, echo, lines.ask(ping(idt)))
        except Exception as e:  # a timeout: the request was never answered
            failed += 1
            print("not ok - %s id %s: no answer (%s)" % (where, idt[:40], e))
            return
    check(where + " afterwards", "7", True, "7", lines.ask(ping("7")))
    if failed == before:
        print("ok - %s: every id answered at once as the table says" % where)

# ---- the Unix socket ----
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(os.path.join(state, "hub.sock"))
line_table("hub.sock", Lines(s.makefile("rb"), s.makefile("wb")))
s.close()

# ---- the stdio bridge ----
p = subprocess.Popen([coordhub, "mcp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
timer = threading.Timer(20, p.kill)  # a hang fails, never blocks the test
timer.start()
line_table("stdio bridge", Lines(p.stdout, p.stdin))
p.stdin.close(); p.wait(10); timer.cancel()

# ---- Streamable HTTP /mcp ----
def post(body, sid=None, version="2025-11-25"):
    c = http.client.HTTPConnection(host, int(port), timeout=5)
    h = {"Authorization": "Bearer " + token, "Content-Type": "application/json",
         "Accept": "application/json, text/event-stream"}
    if sid:
        h["MCP-Session-Id"] = sid
        h["MCP-Protocol-Version"] = version
    c.request("POST", "/mcp", body=body.encode(), headers=h)
    r = c.getresponse()
    out = (r.status, r.getheader("MCP-Session-Id"), r.read().decode())
    c.close()
    return out

def session(version):
    init = ('{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"%s",'
            '"capabilities":{},"clientInfo":{"name":"ids","version":"1"}}}' % version)
    st, sid, _ = post(init)
    assert st == 200 and sid, st
    post('{"jsonrpc":"2.0","method":"notifications/initialized"}', sid, version)
    return sid

sid = session("2025-11-25")
bad = 0
for idt, taken, echo in TABLE:
    try:
        st, _, body = post(ping(idt), sid)
    except Exception as e:  # the POST was held: main's hang
        failed += 1; bad += 1
        print("not ok - POST /mcp id %s: no answer in 5 s (%s)" % (idt[:40], e))
        continue
    if st != (200 if taken else 400):
        failed += 1; bad += 1
        print("not ok - POST /mcp id %s: status %d" % (idt[:40], st))
        continue
    check("POST /mcp", idt, taken, echo, body)
if bad == 0:
    print("ok - POST /mcp: every id answered at once (200 taken, 400 refused)")

# A batch (2025-03-26): taken ids come back as sent in one array; a member
# with a refused id refuses the batch whole, at once, naming the member.
sid = session("2025-03-26")
st, _, body = post("[%s,%s,%s]" % (ping("9007199254740991"), ping('"x"'), ping("-1")), sid,
                   "2025-03-26")
ids = sorted(json.dumps(m["id"]) for m in json.loads(body)) if st == 200 else None
if ids == sorted(["9007199254740991", '"x"', "-1"]):
    print("ok - a batch of valid ids: 200, each answer under its id as sent")
else:
    failed += 1
    print("not ok - batch of valid ids: %d %s" % (st, body[:300]))
for idt in ("0.5", "1e2", "9007199254740993", "true"):
    try:
        st, _, body = post("[%s,%s]" % (ping("1"), ping(idt)), sid, "2025-03-26")
    except Exception as e:
        failed += 1
        print("not ok - batch with id %s: no answer in 5 s (%s)" % (idt, e))
        continue
    v = json.loads(body)
    if st == 400 and v["error"]["code"] == -32600 and \
            v["error"]["message"] == "batch member 1: " + REFUSED:
        print("ok - a batch with a member of id %s: 400 at once, naming member 1" % idt)
    else:
        failed += 1
        print("not ok - batch with id %s: %d %s" % (idt, st, body[:300]))
st, _, body = post(ping("8"), sid, "2025-03-26")
if st == 200 and json.loads(body).get("id") == 8:
    print("ok - the session still serves: ping 8 answered")
else:
    failed += 1
    print("not ok - after the refused batches: %d %s" % (st, body[:200]))
sys.exit(1 if failed else 0)
EOF

if python3 "$WORK/ids.py" "$STATE" "$ADDR" "$TOKEN" "$COORDHUB"; then
  ok "the id table on every transport"
else
  fail "the id table (see above)"
fi
# Nothing is held: the hub still answers over HTTP at once.
[ "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "${AUTH[@]}" "$URL/status")" = 200 ] &&
  ok "the hub still serves HTTP" || fail "no /status"
finish
