#!/usr/bin/env bash
# A full disk under the state directory. The state dir is a 4 MiB tmpfs
# (the test mounts it; it fails, saying why, when it may not); once it is
# full every face answers a write as the hub's trouble, naming the cause
# SQLite gave — REST and POST /events 503 `store_error`, /mcp and the
# socket the JSON-RPC error -32603, the CLI exit code 1 — and records
# nothing. With space freed, the same writes succeed. Bounded: one hub,
# about twenty requests, a few seconds.
#
# SQLite reuses the space its WAL file already has, so a small write may
# still fit on a full disk. Each write here carries more data than the WAL
# holds when the disk fills (checked first), so it needs new space.
source "$(dirname "$0")/lib.sh"

mkdir -p "$STATE"
if ! mount -t tmpfs -o size=4m,mode=0700 coordhub-disk-full "$STATE" 2>"$WORK/mount.err"; then
  fail "cannot mount a 4 MiB tmpfs on the state dir (needs root or CAP_SYS_ADMIN): $(cat "$WORK/mount.err")"
  finish
  exit 1
fi
disk_cleanup() {
  stop_hub "$STATE"
  umount "$STATE" 2>/dev/null || umount -l "$STATE" 2>/dev/null || true
  cleanup
}
trap disk_cleanup EXIT
ok "a 4 MiB tmpfs is the state dir"

start_http_hub
req() {
  local m=$1 p=$2; shift 2
  curl -s -o "$WORK/body" -D "$WORK/head" -w '%{http_code}' -X "$m" "${AUTH[@]}" "$@" "$URL$p"
}
last_seq() { curl -s "${AUTH[@]}" "$URL/api/v1/health" | jq -r .store.lastSeq; }
CAUSE="database or disk is full"

# ---- the writes: each larger than the WAL ----------------------------------------
# payloads DIR: request bodies of about 300 KB (a task with 100 files of
# 3000-byte names; five events of 60 KB) for REST, POST /events, the socket
# and /mcp, and CLI arguments of about 140 KB (the per-argument limit is
# 128 KiB).
python3 - "$WORK" <<'PY'
import json, sys
d = sys.argv[1]
files = lambda tag, n: [f"big/{tag}-{i:03d}-" + "x" * 3000 for i in range(n)]
task = lambda tid: {"taskId": tid, "title": "big", "files": files(tid, 100)}
json.dump(task("BIG-REST"), open(f"{d}/rest.json", "w"))
json.dump([{"type": "ci:blob", "data": {"i": i, "blob": "y" * 60000}} for i in range(5)],
          open(f"{d}/events.json", "w"))
call = lambda tid: {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                    "params": {"name": "create_task", "arguments": task(tid)}}
json.dump(call("BIG-SOCK"), open(f"{d}/sock.json", "w"))
json.dump(call("BIG-MCP"), open(f"{d}/mcp.json", "w"))
open(f"{d}/cli.desc", "w").write("z" * 19000)
open(f"{d}/cli.files", "w").write(",".join(files("BIG-CLI", 40)))
PY
# sock_call: initialize an MCP session on hub.sock, send sock.json, print
# the answer to it.
sock_call() {
  python3 - "$STATE/hub.sock" "$WORK/sock.json" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect(sys.argv[1]); f = s.makefile("rwb")
def send(m): f.write((json.dumps(m) + "\n").encode()); f.flush()
def reply(i):
    for line in f:
        m = json.loads(line)
        if m.get("id") == i: return m
send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25",
      "capabilities": {}, "clientInfo": {"name": "disk-full-test", "version": "1"}}})
reply(1)
send({"jsonrpc": "2.0", "method": "notifications/initialized"})
send(json.load(open(sys.argv[2])))
print(json.dumps(reply(2)))
PY
}
MCP=(-H "Content-Type: application/json" -H "Accept: application/json, text/event-stream")
init='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}'
[ "$(req POST /mcp "${MCP[@]}" -d "$init")" = 200 ] || fail "mcp init: $(cat "$WORK/body")"
SID=$(grep -i '^MCP-Session-Id:' "$WORK/head" | tr -d '\r' | awk '{print $2}')
MCPS=("${MCP[@]}" -H "MCP-Session-Id: $SID" -H "MCP-Protocol-Version: 2025-11-25")
req POST /mcp "${MCPS[@]}" -d '{"jsonrpc":"2.0","method":"notifications/initialized"}' >/dev/null
cli_task() {
  "$COORDHUB" task add big --id BIG-CLI --description "$(cat "$WORK/cli.desc")" \
    --files "$(cat "$WORK/cli.files")"
}

expect_code 0 "a lease taken before the disk fills" -- "$COORDHUB" lock keep.c --agent alice
wal=$(stat -c %s "$STATE/hub.db-wal" 2>/dev/null || echo 0)
[ "$wal" -lt 100000 ] && ok "the WAL holds less than each write ($wal bytes)" ||
  fail "the WAL is $wal bytes: the writes below may fit in it"

# ---- fill it ---------------------------------------------------------------------
dd if=/dev/zero of="$STATE/ballast" bs=64k 2>/dev/null || true
dd if=/dev/zero of="$STATE/ballast2" bs=512 2>/dev/null || true
avail=$(df -k --output=avail "$STATE" | tail -n1 | tr -d ' ')
[ "$avail" = 0 ] && ok "the state dir is full" || fail "still $avail KiB free"
before=$(last_seq)

# ---- every face: the hub's trouble, with the cause, nothing recorded ---------------
st=$(req POST /api/v1/tasks "${JSON[@]}" -d @"$WORK/rest.json")
if [ "$st" = 503 ] && [ "$(jq -r .error.code "$WORK/body")" = store_error ] &&
  jq -e --arg c "$CAUSE" '.error.message | contains("nothing was recorded: " + $c)' "$WORK/body" >/dev/null; then
  ok "REST create_task: 503 store_error naming the cause"
else fail "REST: $st $(head -c 300 "$WORK/body")"; fi

st=$(req POST /events "${JSON[@]}" -d @"$WORK/events.json")
if [ "$st" = 503 ] && [ "$(jq -r .error.code "$WORK/body")" = store_error ] &&
  jq -e --arg c "$CAUSE" '.error.message | contains($c)' "$WORK/body" >/dev/null; then
  ok "POST /events: 503 store_error naming the cause"
else fail "POST /events: $st $(head -c 300 "$WORK/body")"; fi

sock_call >"$WORK/sock.out" || true
if jq -e --arg c "$CAUSE" '.error.code == -32603 and (.error.message | contains($c))' "$WORK/sock.out" >/dev/null; then
  ok "socket tools/call: JSON-RPC -32603 naming the cause"
else fail "socket: $(head -c 300 "$WORK/sock.out")"; fi

st=$(req POST /mcp "${MCPS[@]}" -d @"$WORK/mcp.json")
if [ "$st" = 200 ] && jq -e --arg c "$CAUSE" '.error.code == -32603 and (.error.message | contains($c))' "$WORK/body" >/dev/null; then
  ok "/mcp tools/call: JSON-RPC -32603 naming the cause"
else fail "/mcp: $st $(head -c 300 "$WORK/body")"; fi

expect_code 1 "CLI task add: exit 1 (the hub's trouble, not the arguments' 4)" -- cli_task
grep -q "store failure, nothing was recorded: $CAUSE" "$WORK/err" && ok "  and says why" ||
  fail "CLI text: $(head -c 300 "$WORK/err")"

[ "$(last_seq)" = "$before" ] && ok "nothing was recorded (lastSeq $before)" ||
  fail "lastSeq moved: $before -> $(last_seq)"
"$COORDHUB" tasks --json | jq -e '.tasks | length == 0' >/dev/null && ok "no task was created" ||
  fail "tasks: $("$COORDHUB" tasks --json | head -c 300)"
curl -s "${AUTH[@]}" "$URL/api/v1/health" | jq -e --arg c "$CAUSE" '.store.lastError == $c' >/dev/null &&
  ok "health names the store's last error" || fail "health: $(curl -s "${AUTH[@]}" "$URL/api/v1/health" | head -c 300)"
"$COORDHUB" locks --json | jq -e '[.locks[] | select(.file == "keep.c")] | length == 1' >/dev/null &&
  ok "the earlier lease is still there" || fail "keep.c: $("$COORDHUB" locks --json | head -c 300)"

# ---- space again: the same writes succeed ----------------------------------------------
rm -f "$STATE/ballast" "$STATE/ballast2"
st=$(req POST /api/v1/tasks "${JSON[@]}" -d @"$WORK/rest.json")
[ "$st" = 201 ] && ok "REST create_task succeeds once there is space" || fail "REST after: $st $(head -c 300 "$WORK/body")"
st=$(req POST /events "${JSON[@]}" -d @"$WORK/events.json")
[ "$st" = 201 ] && [ "$(jq '.ids | length' "$WORK/body")" = 5 ] && ok "POST /events succeeds" ||
  fail "POST /events after: $st $(head -c 300 "$WORK/body")"
sock_call >"$WORK/sock.out" || true
jq -e '.result.structuredContent.task.taskId == "BIG-SOCK"' "$WORK/sock.out" >/dev/null &&
  ok "socket tools/call succeeds" || fail "socket after: $(head -c 300 "$WORK/sock.out")"
st=$(req POST /mcp "${MCPS[@]}" -d @"$WORK/mcp.json")
[ "$st" = 200 ] && jq -e '.result.structuredContent.task.taskId == "BIG-MCP"' "$WORK/body" >/dev/null &&
  ok "/mcp tools/call succeeds" || fail "/mcp after: $st $(head -c 300 "$WORK/body")"
expect_code 0 "CLI task add succeeds" -- cli_task
"$COORDHUB" tasks --json | jq -e '[.tasks[].taskId] | sort == ["BIG-CLI","BIG-MCP","BIG-REST","BIG-SOCK"]' >/dev/null &&
  ok "the four tasks are there" || fail "tasks after: $("$COORDHUB" tasks --json | jq -c '[.tasks[].taskId]')"
curl -s "${AUTH[@]}" "$URL/api/v1/health" | jq -e '.store.lastError == null' >/dev/null &&
  ok "health clears the error after a good write" || fail "health after: $(curl -s "${AUTH[@]}" "$URL/api/v1/health" | jq -c .store)"
finish
