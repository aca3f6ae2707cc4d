#!/usr/bin/env bash
# The control lines of hub.sock (docs/socket-protocol.md) against the real
# binary, over raw Unix-socket connections: a first line that is a control
# line the hub cannot read (not JSON, U+0000, a duplicate key, over 64 KiB,
# cut short, no or an unknown kind, an ill-typed member) is answered with
# one line saying why, {"coordhub":KIND|"error","ok":false,"code",
# "error"}, and the connection closes; an owner's request without the
# token is refused as unauthorized before its members are judged; an
# attach line without its descriptors is told to relay ("refused"); a
# control line with whitespace inside is still one. Nothing changes: no
# key appears, the hub keeps serving.
source "$(dirname "$0")/lib.sh"

start_hub && ok "hub up"
TOKEN=$(cat "$STATE/token")

# send TEXT: write TEXT (raw bytes; no newline added) as a connection's
# first bytes and print every line the hub answers before it closes the
# connection (or 5 s pass: then "TIMEOUT").
send() { python3 "$(dirname "$0")/sockline.py" "$STATE/hub.sock" "$1"; }

# refused NAME TEXT KIND CODE MESSAGE: TEXT is answered with exactly one
# line, a refusal of kind KIND with CODE whose error contains MESSAGE.
refused() {
  local name=$1 text=$2 kind=$3 code=$4 msg=$5
  send "$text" >"$WORK/ans"
  if [ "$(wc -l <"$WORK/ans")" = 1 ] &&
    jq -e --arg k "$kind" --arg c "$code" --arg m "$msg" \
      '.coordhub == $k and .ok == false and .code == $c and (.error | contains($m))' \
      "$WORK/ans" >/dev/null; then
    ok "$name: one refusal line ($kind, $code), then closed"
  else
    fail "$name: $(head -c 400 "$WORK/ans")"
  fi
}

refused "not JSON" $'{"coordhub":"admin",\n' error parse_error "offset"
refused "cut short (no newline)" '{"coordhub":"stop","token":"x"' error parse_error \
  "must reach the hub whole"
refused "U+0000 in a string" '{"coordhub":"resume","agent":"a\u0000b"}'$'\n' error \
  invalid_argument "U+0000"
refused "a duplicate key" '{"coordhub":"key","op":"list","op":"create"}'$'\n' error \
  invalid_argument 'duplicate key "op"'
refused "no kind" '{"coordhub":7}'$'\n' error invalid_argument '"coordhub" names its kind'
refused "an unknown kind" '{"coordhub":"frob"}'$'\n' error invalid_argument \
  'unknown control line kind "frob"'
refused "a hub line sent to the hub" '{"coordhub":"attached"}'$'\n' error invalid_argument \
  'unknown control line kind "attached"'
big=$(printf '{"coordhub":"resume","cwd":"/%070000d"}' 0)
refused "over 64 KiB" "$big"$'\n' error too_large "at most 65536 bytes"
refused "a relative cwd" '{"coordhub":"resume","cwd":"src"}'$'\n' resume invalid_argument \
  "cwd: must be an absolute path"
refused "init not an object" '{"coordhub":"resume","init":[]}'$'\n' resume invalid_argument \
  "init: must be an object"
refused "an ill-typed key member with the token" \
  '{"coordhub":"key","op":"create","name":5,"token":"'"$TOKEN"'"}'$'\n' key invalid_argument \
  "name: must be a string"
refused "an unknown key op with the token" \
  '{"coordhub":"key","op":"rotate","token":"'"$TOKEN"'"}'$'\n' key invalid_argument \
  "op: must be create, list or revoke"
refused "an ill-typed key member without the token" \
  '{"coordhub":"key","op":"create","name":5}'$'\n' key unauthorized "admin token"
refused "a stop with a wrong token" '{"coordhub":"stop","token":"0'"$TOKEN"'"}'$'\n' stop \
  unauthorized "admin token is wrong"

# An attach line whose descriptors did not come: the bridge is told to
# relay instead.
send '{"coordhub":"attach","cwd":"/"}'$'\n' >"$WORK/ans"
if [ "$(wc -l <"$WORK/ans")" = 1 ] &&
  jq -e '.coordhub == "refused" and (.error | contains("relay instead"))' "$WORK/ans" >/dev/null; then
  ok "attach without descriptors: {\"coordhub\":\"refused\"}, then closed"
else
  fail "attach without descriptors: $(head -c 400 "$WORK/ans")"
fi

# Whitespace inside the control line does not make it an MCP message: the
# admin line opens an admin session and the MCP messages follow it.
python3 - "$STATE/hub.sock" "$TOKEN" >"$WORK/admin" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.settimeout(5)
f = s.makefile("rwb")
init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-11-25", "capabilities": {},
    "clientInfo": {"name": "protocol-test", "version": "1"}}}
f.write(('{ "coordhub" : "admin", "token": "%s" }\n' % sys.argv[2]).encode())
f.write((json.dumps(init) + "\n").encode())
f.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
f.write((json.dumps({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
    "name": "unlock_file", "arguments": {"file": "src/none.c", "force": True}}}) + "\n").encode())
f.flush()
for line in f:
    m = json.loads(line)
    if m.get("id") == 2:
        print(json.dumps(m))
        break
PY
if jq -e '.result.isError != true' "$WORK/admin" >/dev/null; then
  ok "a control line with whitespace is one: the admin session may force an unlock"
else
  fail "whitespace admin line: $(head -c 400 "$WORK/admin")"
fi

# Nothing changed: no key was made, the hub serves the CLI.
if "$COORDHUB" key list --json >"$WORK/keys" 2>"$WORK/err" && jq -e '.keys == []' "$WORK/keys" >/dev/null; then
  ok "no key was created; the hub still answers"
else
  fail "key list after the refusals: $(cat "$WORK/keys" "$WORK/err")"
fi
grep -q 'a control line on the socket refused (no known kind): unknown control line kind "frob"' \
  "$STATE/hub.log" && ok "the hub log names the refusal" || fail "hub.log: $(tail -n 5 "$STATE/hub.log")"

finish
