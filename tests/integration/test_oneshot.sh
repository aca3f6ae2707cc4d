#!/usr/bin/env bash
# One-shot calls on hub.sock (docs/socket-protocol.md, "One-shot calls")
# against the real binary: one line {"coordhub":"call","tool","arguments"}
# in, one answer line out, no MCP handshake, then the hub closes the
# connection. With the admin token the call is the owner's (acts for the
# agentId it names, may force); without it an agent's with no agent of its
# own (reads answer, acting for another agent and forcing are refused,
# nothing changes). An unknown or internal tool, bad arguments and a wrong
# token are refused with their code. A queued lock_file is answered when
# granted; one whose caller hung up leaves the queue and is never granted.
source "$(dirname "$0")/lib.sh"

start_hub && ok "hub up"

if python3 - "$STATE/hub.sock" "$(cat "$STATE/token")" "$(dirname "$0")" <<'PY'
import json, sys, threading, time

SOCK, TOKEN = sys.argv[1], sys.argv[2]
sys.path.insert(0, sys.argv[3])
from sockline import exchange
failed = 0

def check(cond, name, got=None):
    global failed
    if cond:
        print("ok - " + name)
    else:
        failed += 1
        print("not ok - %s: %s" % (name, json.dumps(got)[:400]))

def call(tool, args=None, token=None, extra=b"", hold=None):
    """One connection: the call line (and extra bytes); every answer line
    until the hub closes (hold: close ourselves after that many seconds)."""
    line = {"coordhub": "call", "tool": tool}
    if args is not None:
        line["arguments"] = args
    if token is not None:
        line["token"] = token
    buf = exchange(SOCK, (json.dumps(line) + "\n").encode() + extra, hold if hold else 30)
    if buf is None:
        return None
    return [json.loads(l) for l in buf.decode().splitlines() if l]

def one(answers):
    return answers[0] if answers and len(answers) == 1 else {"answers": answers}

a = one(call("lock_file", {"file": "src/a.c", "agentId": "alice"}, TOKEN))
check(a.get("coordhub") == "call" and a.get("ok") is True and a["result"].get("success") is True
      and isinstance(a["result"].get("token"), int),
      "with the token: lock_file for alice, one answer line", a)

a = one(call("check_lock", {"file": "src/a.c"}))
check(a.get("ok") is True and a["result"].get("lockedBy") == "alice",
      "without the token: check_lock reads the lease", a)

a = one(call("unlock_file", {"file": "src/a.c", "agentId": "alice"}))
check(a.get("ok") is False and a.get("code") == "forbidden" and "your own agent" in a.get("error", ""),
      "without the token: acting for alice is refused (forbidden)", a)
a = one(call("unlock_file", {"file": "src/a.c", "force": True}))
check(a.get("ok") is False and a.get("code") == "forbidden" and "only an admin" in a.get("error", ""),
      "without the token: a forced unlock is refused", a)
a = one(call("lock_file", {"file": "src/mine.c"}))
check(a.get("ok") is False and a.get("code") == "bad_state",
      "without the token: a call that needs an agent registers none", a)
a = one(call("list_agents"))
check(a.get("ok") is True and [x["agentId"] for x in a["result"]["agents"]] == ["alice"],
      "no agent was registered by the refused calls", a)
check([x.get("metadata", {}).get("ide") for x in a["result"]["agents"]] == ["agent"],
      "the agent an admin one-shot call registered names its client \"agent\"", a)

for tool, what in (("no_such_tool", "an unknown tool"), ("__resume_agent", "an internal tool")):
    a = one(call(tool, {"agentId": "x"}, TOKEN))
    check(a.get("ok") is False and a.get("code") == "not_found" and a.get("error", "").startswith("tool: no such tool"),
          what + " is refused (not_found)", a)
a = one(call("check_lock", {"file": 5}))
check(a.get("ok") is False and a.get("code") == "invalid_argument"
      and a.get("error") == "argument 'file': must be a string of 1 to 4096 characters",
      "bad arguments: the tool's schema message", a)
a = one(call("check_lock", {"file": "src/a.c"}, "0" + TOKEN))
check(a.get("ok") is False and a.get("code") == "unauthorized" and "admin token is wrong" in a.get("error", ""),
      "a wrong token is refused, not taken for none", a)
a = one(call("check_lock", {"file": "src/a.c"}, extra=b'{"jsonrpc":"2.0","id":1,"method":"initialize"}\n'))
check(a.get("ok") is True and a["result"].get("lockedBy") == "alice",
      "lines after the call line are ignored: one answer", a)

# A queued lock_file is answered once granted.
got = {}
t = threading.Thread(target=lambda: got.setdefault("a", call(
    "lock_file", {"file": "src/a.c", "agentId": "bob", "waitMs": 20000}, TOKEN)))
t.start()
time.sleep(0.5)
a = one(call("unlock_file", {"file": "src/a.c", "agentId": "alice"}, TOKEN))
check(a.get("ok") is True and a["result"].get("success") is True, "alice's lease released", a)
t.join(30)
a = one(got.get("a"))
check(a.get("ok") is True and a["result"].get("success") is True and a["result"].get("lockedBy", "bob") == "bob",
      "the queued one-shot lock_file is answered when granted", a)

# One whose caller hung up leaves the queue: never granted.
held = call("lock_file", {"file": "src/a.c", "agentId": "carol", "waitMs": 20000}, TOKEN, hold=0.5)
check(held is None, "a queued lock_file holds the answer until granted", held)
time.sleep(0.3)
a = one(call("unlock_file", {"file": "src/a.c", "agentId": "bob"}, TOKEN))
check(a.get("ok") is True and a["result"].get("success") is True, "bob's lease released", a)
time.sleep(0.5)
a = one(call("check_lock", {"file": "src/a.c"}))
check(a.get("ok") is True and a["result"].get("locked") is False,
      "the hung-up caller's wait was cancelled: the file stays free", a)
# The owner may force: dave's lease released by a one-shot with the token.
a = one(call("lock_file", {"file": "src/d.c", "agentId": "dave"}, TOKEN))
check(a.get("ok") is True and a["result"].get("success") is True, "dave's lease taken", a)
a = one(call("unlock_file", {"file": "src/d.c", "force": True}, TOKEN))
check(a.get("ok") is True and a["result"].get("success") is True, "with the token: a forced unlock", a)
sys.exit(1 if failed else 0)
PY
then ok "one-shot calls"; else fail "one-shot calls"; fi

# The hub still serves the CLI.
expect_code 0 "coordhub status after the one-shot calls" -- "$COORDHUB" status

finish
