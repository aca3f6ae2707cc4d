"""Hold many connections to a hub, for the load tests.

usage: sockets.py SOCK HTTP_ADDR IDLE_UNIX SESSIONS IDLE_TCP READY RELEASE

Opens IDLE_UNIX Unix-socket connections to SOCK that send nothing,
SESSIONS Unix-socket connections that each send an MCP initialize line
and read the first answer line, and IDLE_TCP TCP connections to
HTTP_ADDR ("HOST:PORT", or "-" for none) that send nothing. Then writes
one JSON line to READY: how many of each were opened, how many sessions
were answered (a result) and how many got a JSON-RPC error (its message
too), and waits until the file RELEASE exists (at most 120 s), closes
everything and exits. Every connection has a 5 s timeout; what could not
be opened is counted, never fatal.
"""
import json
import os
import resource
import socket
import sys
import time

sock_path, http_addr, idle_unix, sessions, idle_tcp, ready, release = sys.argv[1:8]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

held = []
report = {"idle_unix": 0, "idle_tcp": 0, "sessions": 0, "answered": 0, "refused": 0,
          "closed": 0, "messages": [], "errors": 0}


def unix():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(sock_path)
    return s


def first_line(s):
    buf = b""
    while b"\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            return None
        buf += chunk
    return buf.split(b"\n", 1)[0]


for _ in range(int(idle_unix)):
    try:
        held.append(unix())
        report["idle_unix"] += 1
    except OSError:
        report["errors"] += 1

INIT = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                   "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                              "clientInfo": {"name": "load", "version": "1"}}}) + "\n"
for _ in range(int(sessions)):
    try:
        s = unix()
        s.sendall(INIT.encode())
        line = first_line(s)
        report["sessions"] += 1
        if line is None:
            report["closed"] += 1
            continue
        msg = json.loads(line)
        if "result" in msg:
            report["answered"] += 1
            held.append(s)
        else:
            report["refused"] += 1
            m = msg.get("error", {}).get("message", "")
            if m not in report["messages"]:
                report["messages"].append(m)
            report["refused_id_null"] = msg.get("id", 0) is None
            report["refused_code"] = msg.get("error", {}).get("code")
            report["eof_after_refusal"] = first_line(s) is None
            s.close()
    except (OSError, ValueError):
        report["errors"] += 1

if http_addr != "-":
    host, port = http_addr.rsplit(":", 1)
    for _ in range(int(idle_tcp)):
        try:
            t = socket.create_connection((host, int(port)), timeout=5)
            held.append(t)
            report["idle_tcp"] += 1
        except OSError:
            report["errors"] += 1

with open(ready + ".tmp", "w") as f:
    f.write(json.dumps(report) + "\n")
os.rename(ready + ".tmp", ready)
deadline = time.monotonic() + 120
while not os.path.exists(release) and time.monotonic() < deadline:
    time.sleep(0.05)
for s in held:
    s.close()
