#!/usr/bin/env python3
"""http_raw — send raw bytes to an HTTP server and report what comes back.

Usage: http_raw.py PORT [--split N] [--split-head N] [--delay S] [--wait S]
       < request-bytes

The request bytes (stdin, sent as they are) go out in N writes of about
equal size (default 1) with S seconds between them (default 0.05); with
--split-head only the first head (up to its blank line) is cut into N
writes, and the rest follows in one. Then
everything the server sends is read until it closes the connection or
--wait seconds (default 5) pass without a byte. Printed on stdout: one
line per response, "STATUS <code> <json error code or ->", then "CLOSED"
when the server closed the connection (else "OPEN"). A write the server
refuses (it closed first) ends the sending quietly.
"""
import json
import socket
import sys
import time


def parse_responses(data):
    out = []
    while data.startswith(b"HTTP/1."):
        end = data.find(b"\r\n\r\n")
        if end < 0:
            break
        head = data[:end].decode("latin-1").split("\r\n")
        status = int(head[0].split(" ")[1])
        length = 0
        chunked = False
        for line in head[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
            if name.strip().lower() == "transfer-encoding":
                chunked = True
        body = data[end + 4:end + 4 + length]
        data = data[end + 4 + length:]
        code = "-"
        try:
            code = json.loads(body)["error"]["code"]
        except Exception:
            pass
        out.append("STATUS %d %s" % (status, code))
        if chunked or status == 100:
            continue
    return out


def main():
    port = int(sys.argv[1])
    args = sys.argv[2:]
    split, delay, wait, head_only = 1, 0.05, 5.0, False
    while args:
        opt, val = args[0], args[1]
        args = args[2:]
        if opt == "--split":
            split = int(val)
        elif opt == "--split-head":
            split = int(val)
            head_only = True
        elif opt == "--delay":
            delay = float(val)
        elif opt == "--wait":
            wait = float(val)
    payload = sys.stdin.buffer.read()
    s = socket.create_connection(("127.0.0.1", port))
    cut = len(payload)
    if head_only and payload.find(b"\r\n\r\n") >= 0:
        cut = payload.find(b"\r\n\r\n") + 4
    step = max(1, (cut + split - 1) // split)
    pieces = [payload[i:i + step] for i in range(0, cut, step)]
    if cut < len(payload):
        pieces.append(payload[cut:])
    try:
        for i, piece in enumerate(pieces):
            s.sendall(piece)
            if i + 1 < len(pieces):
                time.sleep(delay)
    except OSError:
        pass
    s.settimeout(wait)
    data = b""
    closed = False
    while True:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        except OSError:
            closed = True
            break
        if not chunk:
            closed = True
            break
        data += chunk
    for line in parse_responses(data):
        print(line)
    print("CLOSED" if closed else "OPEN")


if __name__ == "__main__":
    main()
