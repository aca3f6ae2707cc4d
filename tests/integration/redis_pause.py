"""The hub while Redis stalls (test_redis_paused.sh).

redis_pause.py URL TOKEN REDIS-SOCKET pause|sleep PAUSE-MS WRITES PREFIX OUT.json

Opens an MCP session over /mcp, has Redis pause every client's writes
(pause: CLIENT PAUSE PAUSE-MS WRITE) or stop answering anything at all
(sleep: DEBUG SLEEP, the server busy for PAUSE-MS), then sends WRITES
create_task calls (task ids PREFIX1, PREFIX2, …) over the REST API, one
after the other without waiting for their answers (each on its own
connection, 20 ms apart), and while they wait asks GET /healthz,
list_tasks (GET /api/v1/tasks), an MCP ping and get_status over /mcp.
OUT.json: for every request when it was sent and answered (ms since the
stall began), its status and body.

redis_pause.py URL TOKEN REDIS-SOCKET backfill PAUSE-MS LAST OUT.json

Stalls Redis (DEBUG SLEEP) and opens GET /events?since=0, whose backfill
(ids 1 to LAST, older than the hub's ring) comes from the store, then
asks GET /healthz while the stream waits. OUT.json: when /healthz was sent
and answered, the ids the stream delivered in order, when the last came."""
import http.client
import json
import subprocess
import sys
import threading
import time
import urllib.parse

url, token, sock, mode, pause_ms = sys.argv[1:6]
pause_ms = int(pause_ms)
u = urllib.parse.urlparse(url)
AUTH = {"Authorization": "Bearer " + token}
MCP_HEADERS = dict(AUTH, **{"Content-Type": "application/json",
                            "Accept": "application/json, text/event-stream"})
t0 = time.monotonic()
lock = threading.Lock()


def now_ms():
    return (time.monotonic() - t0) * 1000.0


def request(method, path, body=None, headers=None):
    """One request on a fresh connection: (status, body text, headers)."""
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    h = dict(AUTH)
    h.update(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        h.setdefault("Content-Type", "application/json")
    c.request(method, path, body=data, headers=h)
    r = c.getresponse()
    text = r.read().decode("utf-8", "replace")
    hdrs = dict((k.lower(), v) for k, v in r.getheaders())
    c.close()
    return r.status, text, hdrs


def mcp_body(text):
    """The JSON-RPC message of an /mcp answer (JSON or one SSE event)."""
    text = text.strip()
    if text.startswith("{"):
        return json.loads(text)
    for line in text.splitlines():
        if line.startswith("data:") and line[5:].strip().startswith("{"):
            return json.loads(line[5:])
    return None


def timed(into, name, method, path, body=None, headers=None):
    """A request, timed; its record is appended to list into."""
    sent = now_ms()
    try:
        st, text, _ = request(method, path, body, headers)
    except Exception as e:  # a refused or dropped connection is a result too
        st, text = 0, repr(e)
    rec = {"name": name, "sent": sent, "answered": now_ms(), "status": st, "body": text}
    with lock:
        into.append(rec)
    return rec


def stall(how):
    """Start the stall; returns the redis-cli process to wait for, or None."""
    global t0
    p = None
    if how == "pause":
        subprocess.run(["redis-cli", "-s", sock, "CLIENT", "PAUSE", str(pause_ms), "WRITE"],
                       check=True, stdout=subprocess.DEVNULL)
    else:  # DEBUG SLEEP answers when it is over: run it beside
        p = subprocess.Popen(["redis-cli", "-s", sock, "DEBUG", "SLEEP", "%.3f" % (pause_ms / 1000)],
                             stdout=subprocess.DEVNULL)
        time.sleep(0.05)  # the server is asleep now
    t0 = time.monotonic()
    return p


def writes_and_reads(writes, prefix, out):
    st, text, hdrs = request("POST", "/mcp", {
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                   "clientInfo": {"name": "pause", "version": "1"}}}, MCP_HEADERS)
    sid = hdrs.get("mcp-session-id")
    if st != 200 or not sid:
        sys.exit("initialize failed: %s %s" % (st, text))
    session = dict(MCP_HEADERS, **{"MCP-Session-Id": sid, "MCP-Protocol-Version": "2025-11-25"})
    request("POST", "/mcp", {"jsonrpc": "2.0", "method": "notifications/initialized"}, session)
    results = {"writes": [], "reads": []}
    sleeper = stall(mode)
    threads = []
    for i in range(1, writes + 1):
        th = threading.Thread(target=timed, args=(
            results["writes"], "%s%d" % (prefix, i), "POST", "/api/v1/tasks",
            {"title": "written while Redis stalls %d" % i, "taskId": "%s%d" % (prefix, i)}))
        th.start()
        threads.append(th)
        time.sleep(0.02)
    time.sleep(0.05)  # the writes are in the hub now, the first one sent to Redis
    reads = results["reads"]
    timed(reads, "healthz", "GET", "/healthz")
    timed(reads, "list_tasks", "GET", "/api/v1/tasks")
    timed(reads, "ping", "POST", "/mcp", {"jsonrpc": "2.0", "id": 2, "method": "ping"}, session)
    timed(reads, "get_status", "POST", "/mcp",
          {"jsonrpc": "2.0", "id": 3, "method": "tools/call",
           "params": {"name": "get_status", "arguments": {}}}, session)
    for th in threads:
        th.join()
    if sleeper:
        sleeper.wait()
    for r in reads:
        if r["name"] in ("ping", "get_status"):
            r["message"] = mcp_body(r["body"])
    results["writes"].sort(key=lambda r: r["sent"])
    with open(out, "w") as f:
        json.dump(results, f, indent=1)


def backfill(last, out):
    got = {"ids": [], "last_at": None}

    def stream():
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        c.request("GET", "/events?since=0", headers=AUTH)
        r = c.getresponse()
        while True:
            line = r.fp.readline()
            if not line:
                break
            if line.startswith(b"id: "):
                got["ids"].append(int(line[4:].strip() or b"0"))
                if got["ids"][-1] >= last:
                    got["last_at"] = now_ms()
                    break
        c.close()

    sleeper = stall("sleep")
    th = threading.Thread(target=stream)
    th.start()
    time.sleep(0.1)  # the stream has asked the store for its backfill
    reads = []
    timed(reads, "healthz", "GET", "/healthz")
    th.join(30)
    sleeper.wait()
    with open(out, "w") as f:
        json.dump({"healthz": reads[0], "ids": got["ids"], "last_at": got["last_at"]}, f)


if mode == "backfill":
    backfill(int(sys.argv[6]), sys.argv[7])
else:
    writes_and_reads(int(sys.argv[6]), sys.argv[7], sys.argv[8])
