#!/usr/bin/env bash
# Terminal injection: data from the hub cannot drive the terminal of the
# person running the CLI. A file name or pattern with a C0 control or DEL
# (an escape sequence, a line feed forging a table row) is refused at the
# lease through REST with a write key — 400 invalid_argument naming the
# character, nothing leased or registered; text that may hold anything (a
# task title, a lease reason, a capability, event data) is printed by
# `status`, `tasks`, `locks`, `agents` and `events` with every control
# character written out (`\x1b`, `\n`, `\u009b`), one row per record,
# while `--json` keeps the text itself (JSON escapes it).
source "$(dirname "$0")/lib.sh"

start_http_hub
KEY=$("$COORDHUB" key create --name writer --state write --publish 'ci:*' 2>/dev/null)
[ -n "$KEY" ] && ok "a write key" || fail "no key"
W=(-H "Authorization: Bearer $KEY" -H "Content-Type: application/json")
req() {
  local m=$1 p=$2; shift 2
  curl -s -o "$WORK/body" -w '%{http_code}' -X "$m" "$@" "$URL$p"
}
last_seq() { curl -s "${AUTH[@]}" "$URL/api/v1/health" | jq -r .store.lastSeq; }
# raw_controls FILE: FILE holds a byte a terminal acts on (C0 other than
# the line feeds between lines, DEL, or C1 as UTF-8).
raw_controls() {
  python3 - "$1" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
sys.exit(0 if any((b < 0x20 and b != 10) or b == 0x7f for b in d) or b"\xc2\x9b" in d or b"\xc2\x80" in d else 1)
PY
}

# ---- names with controls are refused at the lease, on REST ---------------------------
before=$(last_seq)
refused() { # DESC PATH BODY NEEDLE
  local st
  st=$(req POST "$2" "${W[@]}" -d "$3")
  if [ "$st" = 400 ] && [ "$(jq -r .error.code "$WORK/body")" = invalid_argument ] &&
    jq -e --arg n "$4" '.error.message | contains($n)' "$WORK/body" >/dev/null; then
    ok "$1: 400 invalid_argument naming it"
  else fail "$1: $st $(cat "$WORK/body")"; fi
}
refused "a file name with ESC and a line feed" /api/v1/locks \
  '{"file":"evil\u001b[2J\u001b[H\nsrc/forged.c   mallory","agentId":"mallory"}' \
  "argument 'file': path contains the control character \\x1b at byte 4"
refused "a file name with CR" /api/v1/locks '{"file":"a\rb.c","agentId":"mallory"}' '\r at byte 1'
refused "a file name with DEL" /api/v1/locks '{"file":"del\u007f.c","agentId":"mallory"}' '\x7f at byte 3'
refused "a pattern with a line feed" /api/v1/locks '{"pattern":"src/\n**","agentId":"mallory"}' \
  "argument 'pattern': pattern contains the control character \\n at byte 4"
refused "a task's files" /api/v1/tasks '{"taskId":"T-9","title":"t","files":["ok.c","x\u0007.c"]}' \
  '\x07 at byte 1'
[ "$(last_seq)" = "$before" ] && ok "nothing was recorded (no lease, no agent, no task)" ||
  fail "lastSeq moved: $before -> $(last_seq)"
[ "$("$COORDHUB" locks --json | jq '.locks | length')" = 0 ] && ok "nothing is leased" ||
  fail "locks: $("$COORDHUB" locks --json)"

# ---- text that may hold anything is printed escaped ---------------------------------
title='title\u001b]0;pwned\u0007\u009b2J'
[ "$(req POST /api/v1/agents "${W[@]}" -d '{"agentId":"mallory","capabilities":["rust\u001b[2J"]}')" = 201 ] ||
  fail "register: $(cat "$WORK/body")"
[ "$(req POST /api/v1/locks "${W[@]}" -d '{"file":"ok.c","agentId":"mallory","reason":"fix\u001b[31m\nok.c  root  exclusive"}')" = 201 ] ||
  fail "lock: $(cat "$WORK/body")"
[ "$(req POST /api/v1/tasks "${W[@]}" -d "{\"taskId\":\"T-1\",\"title\":\"$title\"}")" = 201 ] ||
  fail "task: $(cat "$WORK/body")"
[ "$(req POST /api/v1/tasks/T-1/claim "${W[@]}" -d '{"agentId":"mallory"}')" = 200 ] ||
  fail "claim: $(cat "$WORK/body")"
[ "$(req POST /events "${W[@]}" -d '{"type":"ci:note","data":{"msg":"\u001b[31mred\u007f\u0085"}}')" = 201 ] ||
  fail "publish: $(cat "$WORK/body")"

shown() { # DESC FILE NEEDLE...: FILE has no raw control and every NEEDLE
  local desc=$1 f=$2 n; shift 2
  if raw_controls "$f"; then fail "$desc: raw control characters: $(od -c "$f" | head -5)"; return; fi
  for n in "$@"; do
    grep -qF -- "$n" "$f" || { fail "$desc: lacks '$n': $(cat "$f")"; return; }
  done
  ok "$desc"
}
"$COORDHUB" status >"$WORK/status" 2>&1
shown "status: the reason and the title written out" "$WORK/status" \
  'fix\x1b[31m\nok.c  root  exclusive' 'title\x1b]0;pwned\x07\u009b2J'
"$COORDHUB" tasks >"$WORK/tasks" 2>&1
shown "tasks: the title written out" "$WORK/tasks" 'title\x1b]0;pwned\x07\u009b2J'
[ "$(wc -l <"$WORK/tasks")" = 2 ] && ok "  one row for the task" || fail "tasks rows: $(cat "$WORK/tasks")"
"$COORDHUB" locks >"$WORK/locks" 2>&1
shown "locks: no raw controls" "$WORK/locks" 'ok.c'
[ "$(wc -l <"$WORK/locks")" = 2 ] && ok "  one row for the lease" || fail "locks rows: $(cat "$WORK/locks")"
"$COORDHUB" agents >"$WORK/agents" 2>&1
shown "agents: the capability written out" "$WORK/agents" 'rust\u001b[2J'
"$COORDHUB" events >"$WORK/events" 2>&1
shown "events: the data written out (DEL and C1 too)" "$WORK/events" '\u001b[31mred\x7f\u0085'
# A refusal's message quotes hub text: escaped as well.
"$COORDHUB" task claim T-1 --agent other >"$WORK/out" 2>"$WORK/err" || true
shown "a refusal quoting the claimer is written out" "$WORK/err" "claimed by mallory"

# ---- --json keeps the text --------------------------------------------------------------
"$COORDHUB" tasks --json | jq -e --arg t "$(printf 'title\033]0;pwned\007\302\2332J')" \
  '.tasks[0].title == $t' >/dev/null && ok "tasks --json keeps the title as it is" ||
  fail "json: $("$COORDHUB" tasks --json)"
finish
