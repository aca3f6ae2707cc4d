#!/usr/bin/env bash
# The CLI against a real hub: tables, --json, exit codes, refusals.
source "$(dirname "$0")/lib.sh"

expect_code 0 "version" -- "$COORDHUB" version
grep -q '^coordhub ' "$WORK/out" && ok "version prints the name" || fail "version output"
expect_code 2 "unknown command is a usage error" -- "$COORDHUB" frobnicate
expect_code 2 "unknown option is a usage error" -- "$COORDHUB" locks --frob
expect_code 2 "--config is refused, not ignored" -- "$COORDHUB" status --config "$WORK/coordhub.json"
grep -q -- '--config is not supported yet' "$WORK/err" && ok "--config refusal says why" || fail "--config message"
expect_code 0 "--help on a subcommand" -- "$COORDHUB" lock --help
grep -q 'usage: coordhub lock FILE' "$WORK/out" && ok "lock --help shows usage" || fail "lock --help"

# The first client command starts the hub by itself.
expect_code 0 "status starts the hub" -- "$COORDHUB" status
[ -S "$STATE/hub.sock" ] && ok "socket exists" || fail "socket missing"
[ "$(stat -c %a "$STATE/hub.sock")" = 600 ] && ok "socket is 0600" || fail "socket mode"
[ "$(stat -c %a "$STATE")" = 700 ] && ok "state dir is 0700" || fail "state dir mode"

expect_code 0 "alice locks a file" -- "$COORDHUB" lock src/a.c --agent alice --reason edit
grep -q 'locked src/a.c for alice' "$WORK/out" && ok "lock message" || fail "lock message"
expect_code 3 "bob is refused" -- "$COORDHUB" lock ./src//a.c --agent bob
grep -q 'alice' "$WORK/err" && ok "refusal names the holder" || fail "refusal text"
expect_code 4 "a path escaping the workspace is invalid" -- "$COORDHUB" lock ../etc/passwd --agent bob
expect_code 0 "locks --json" -- "$COORDHUB" locks --json
[ "$(jq -r '.locks[0].agentId' "$WORK/out")" = alice ] && ok "lock listed for alice" || fail "locks json"
tok1=$(jq -r '.locks[0].token' "$WORK/out")
expect_code 3 "bob cannot unlock alice's file" -- "$COORDHUB" unlock src/a.c --agent bob
expect_code 0 "alice unlocks" -- "$COORDHUB" unlock src/a.c --agent alice
expect_code 0 "erin locks" -- "$COORDHUB" lock src/e.c --agent erin
expect_code 0 "the owner forces it free as a new CLI agent" -- \
  env USER=owner "$COORDHUB" unlock src/e.c --force --json
[ "$(jq -r .forced "$WORK/out")" = true ] && ok "unlock reports forced" || fail "forced flag"
[ "$(jq -c .previousHolders "$WORK/out")" = '["erin"]' ] && ok "the forced unlock names erin" ||
  fail "out: $(cat "$WORK/out")"
expect_code 0 "erin locks again" -- "$COORDHUB" lock src/e.c --agent erin
expect_code 0 "a forced unlock for people" -- "$COORDHUB" unlock src/e.c --force
grep -q 'unlocked src/e.c (forced): ended the lease of erin' "$WORK/out" &&
  ok "the forced unlock says whose lease it ended" || fail "out: $(cat "$WORK/out")"
expect_code 0 "acting again for a known agent adds no spare agent" -- "$COORDHUB" lock src/e2.c --agent erin
"$COORDHUB" agents --json | jq -e '[.agents[].agentId] | index("erin-2") == null' >/dev/null \
  && ok "no erin-2" || fail "a spare erin-2 was registered"
# An agent the workspace does not know is registered by the hub in the same
# command as the call that names it; a refused call registers nobody.
expect_code 4 "a bad path for a new agent is invalid" -- "$COORDHUB" lock ../x.c --agent zoe
"$COORDHUB" agents --json | jq -e '[.agents[].agentId] | index("zoe") == null' >/dev/null \
  && ok "the refused call registered nobody" || fail "zoe was registered"
expect_code 0 "a new agent locks in one call" -- "$COORDHUB" lock src/y.c --agent yann
"$COORDHUB" events --json | tail -n 2 >"$WORK/ev"
[ "$(jq -r '"\(.type) \(.data.agentId)"' "$WORK/ev" | paste -sd,)" = \
  "agent:registered yann,file:locked yann" ] &&
  [ "$(jq -r .id "$WORK/ev" | paste -sd' ' | awk '{print $2 - $1}')" = 1 ] &&
  ok "agent:registered then file:locked, consecutive ids" || fail "events: $(cat "$WORK/ev")"
"$COORDHUB" agents --json | jq -e '.agents[] | select(.agentId == "yann") | .metadata.ide == "coordhub-cli"' \
  >/dev/null && ok "yann registered with metadata {ide:coordhub-cli}" || fail "yann metadata"
expect_code 0 "bob locks it now" -- "$COORDHUB" lock src/a.c --agent bob --json
tok2=$(jq -r '.token' "$WORK/out")
[ "$tok2" -gt "$tok1" ] && ok "fencing token grew ($tok1 → $tok2)" || fail "token $tok1 → $tok2"

expect_code 0 "task add" -- "$COORDHUB" task add "Split API" --id ARCH-1 --files src/b.c
expect_code 4 "task add with unknown dependency" -- "$COORDHUB" task add X --depends-on NOPE
expect_code 0 "task claim" -- "$COORDHUB" task claim ARCH-1 --agent carol
expect_code 3 "second claim refused" -- "$COORDHUB" task claim ARCH-1 --agent dave
grep -Eq "task 'ARCH-1' is claimed by carol since [0-9]{4}-[0-9]{2}-[0-9]{2}T" "$WORK/err" &&
  ok "the claim refusal names the claimer and since when" || fail "err: $(cat "$WORK/err")"
expect_code 3 "second claim refused (--json)" -- "$COORDHUB" task claim ARCH-1 --agent dave --json
jq -e '.success == false and .claimedBy == "carol" and (.claimedAt | test("^[0-9]{4}-"))' "$WORK/out" \
  >/dev/null && ok "the refusal carries claimedBy and claimedAt" || fail "out: $(cat "$WORK/out")"
expect_code 0 "task done" -- "$COORDHUB" task done ARCH-1 --agent carol --result ok
expect_code 0 "tasks --json" -- "$COORDHUB" tasks --json
[ "$(jq -r '.tasks[0].status' "$WORK/out")" = completed ] && ok "task completed" || fail "task status"

expect_code 0 "events" -- "$COORDHUB" events --json
grep -q '"type":"file:locked"' "$WORK/out" && ok "events include file:locked" || fail "events"
n=$(wc -l <"$WORK/out")
expect_code 0 "events --since" -- "$COORDHUB" events --json --since 3
m=$(wc -l <"$WORK/out")
[ "$m" -eq $((n - 3)) ] && ok "--since skips the first 3 events" || fail "since: $n vs $m"

# ---- arguments that are not UTF-8 are refused before sending (exit 4) ----
seq_now() { "$COORDHUB" status --json | jq -r .systemHealth.store.lastSeq; }
before=$(seq_now)
expect_code 4 "a non-UTF-8 FILE is refused" -- timeout 10 "$COORDHUB" lock "$(printf 'src/\xff.c')" --agent alice
grep -q 'argument 1 .src/\\xff.c. is not valid UTF-8' "$WORK/err" && ok "the refusal names the FILE argument" ||
  fail "err: $(cat "$WORK/err")"
expect_code 4 "a non-UTF-8 --reason is refused" -- timeout 10 "$COORDHUB" lock src/r.c --reason $'bad\xfe' --agent alice
grep -q -- '--reason is not valid UTF-8' "$WORK/err" && ok "the refusal names --reason" || fail "err: $(cat "$WORK/err")"
expect_code 4 "a non-UTF-8 task title is refused" -- timeout 10 "$COORDHUB" task add $'t\xff'
grep -q "argument 2 't\\\\xff' is not valid UTF-8" "$WORK/err" && ok "the refusal names the title" ||
  fail "err: $(cat "$WORK/err")"
expect_code 4 "a non-UTF-8 COORDHUB_AGENT is refused" -- env COORDHUB_AGENT=$'a\xff' timeout 10 "$COORDHUB" lock src/r.c
[ "$(seq_now)" = "$before" ] && ok "the refused commands changed nothing" || fail "events $before → $(seq_now)"

# ---- a client request never waits without a bound ----
# A fake hub on a socket of its own: "silent" accepts and never answers;
# "idnull" answers initialize, then every request with a parse error whose
# id is null (what a hub says when it cannot read a request).
cat >"$WORK/fakehub.py" <<'PY'
import json, os, socket, sys
mode, path = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path); s.listen(4)
open(path + ".ready", "w").close()
while True:
    c, _ = s.accept()
    f = c.makefile("rwb")
    for line in f:
        msg = json.loads(line)
        if mode == "silent" or "id" not in msg:
            continue
        if msg.get("method") == "initialize":
            out = {"jsonrpc": "2.0", "id": msg["id"], "result": {"protocolVersion": "2025-11-25",
                   "capabilities": {}, "serverInfo": {"name": "fake", "version": "0"}}}
        else:
            out = {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error: not UTF-8"}}
        f.write((json.dumps(out) + "\n").encode()); f.flush()
PY
for mode in silent idnull; do
  fdir="$WORK/fake-$mode"; mkdir -p "$fdir"; chmod 700 "$fdir"
  (umask 077; echo "fake-admin-token" >"$fdir/token") # the CLI opens with the admin line
  python3 "$WORK/fakehub.py" "$mode" "$fdir/hub.sock" &
  fpid=$!
  for _ in $(seq 100); do [ -e "$fdir/hub.sock.ready" ] && break; sleep 0.05; done
  expect_code 1 "$mode hub: the command ends with exit 1" -- \
    env COORDHUB_STATE_DIR="$fdir" COORDHUB_CLIENT_TIMEOUT_MS=400 timeout 10 "$COORDHUB" locks
  if [ "$mode" = silent ]; then
    grep -q 'did not answer within 400 ms' "$WORK/err" && ok "the silent hub is named as not answering" ||
      fail "err: $(cat "$WORK/err")"
  else
    grep -q 'Parse error: not UTF-8' "$WORK/err" && ok "an id:null error ends the request it answers" ||
      fail "err: $(cat "$WORK/err")"
  fi
  kill "$fpid" 2>/dev/null; wait "$fpid" 2>/dev/null || true
done
# The bound is the call's own wait plus the margin: a queued lock and a
# long poll outlive a short margin.
expect_code 0 "wally holds src/w.c" -- "$COORDHUB" lock src/w.c --agent wally
( sleep 1.2; "$COORDHUB" unlock src/w.c --agent wally >/dev/null ) &
upid=$!
expect_code 0 "lock --wait outlasts the reply margin" -- \
  env COORDHUB_CLIENT_TIMEOUT_MS=300 "$COORDHUB" lock src/w.c --agent vera --wait 5000
wait "$upid" 2>/dev/null || true
env COORDHUB_CLIENT_TIMEOUT_MS=300 "$COORDHUB" events --follow --from-now --json --types 'file:*' \
  >"$WORK/follow" 2>"$WORK/follow.err" &
fpid=$!
sleep 1
"$COORDHUB" task add "not a file event" >/dev/null
"$COORDHUB" lock src/f.c --agent fred >/dev/null
for _ in $(seq 100); do [ -s "$WORK/follow" ] && break; sleep 0.05; done
kill -0 "$fpid" 2>/dev/null && ok "events --follow keeps waiting past the margin" ||
  fail "follow ended: $(cat "$WORK/follow.err")"
kill "$fpid" 2>/dev/null; wait "$fpid" 2>/dev/null || true
[ "$(jq -r '"\(.type) \(.data.file)"' "$WORK/follow" | paste -sd,)" = "file:locked src/f.c" ] &&
  ok "--from-now --types file:* printed only the new file event, one per line" ||
  fail "follow: $(cat "$WORK/follow")"

# ---- one rule: usage errors exit 2, invalid values exit 4 ----
before=$(seq_now)
set -f # the table's patterns are arguments, not globs
while IFS='|' read -r want args; do
  # shellcheck disable=SC2086
  expect_code "$want" "exit $want: coordhub $args" -- $args
done <<EOF_TABLE
4|$COORDHUB lock src/t.c --ttl 0
4|$COORDHUB lock src/t.c --ttl abc
4|$COORDHUB lock src/t.c --ttl -5
4|$COORDHUB lock src/t.c --ttl 999999999
4|$COORDHUB lock src/t.c --ttl=1.5
4|$COORDHUB lock src/t.c --wait abc
4|$COORDHUB lock src/t.c --wait -1
4|$COORDHUB lock src/t.c --wait 99999999
4|$COORDHUB lock src/t.c --mode weird
4|$COORDHUB events --since abc
4|$COORDHUB events --since -1
4|$COORDHUB events --types bad!type
4|$COORDHUB events --types ,
4|$COORDHUB task add T --priority abc
4|$COORDHUB task add T --priority 99999999999
4|$COORDHUB agents --status weird
4|$COORDHUB tasks --status weird
4|$COORDHUB key create --rate abc
4|$COORDHUB key create --burst x
4|$COORDHUB serve --no-http --retain-events 5
2|$COORDHUB lock src/t.c --ttl
2|$COORDHUB lock
2|$COORDHUB lock src/a.c src/b.c
2|$COORDHUB lock src/t.c --pattern src/**
2|$COORDHUB lock src/t.c --frob
2|$COORDHUB lock src/t.c --json=1
2|$COORDHUB frobnicate
2|$COORDHUB task frob X
2|$COORDHUB task claim
2|$COORDHUB status extra
2|$COORDHUB events --since 1 --from-now
EOF_TABLE
set +f
expect_code 4 "--ttl 0 is refused as MCP refuses ttl:0" -- "$COORDHUB" lock src/t.c --ttl 0
grep -q "argument 'ttl': must be an integer between 1 and" "$WORK/err" && ok "with the hub's own message" ||
  fail "err: $(cat "$WORK/err")"
[ "$(seq_now)" = "$before" ] && ok "no refused value changed anything" || fail "events $before → $(seq_now)"

# ---- first hour: help, global options, status, patterns, --json ----
for cmd in serve mcp status agents locks lock unlock tasks task events key version help; do
  expect_code 0 "$cmd --help" -- "$COORDHUB" "$cmd" --help
  grep -q "^usage: coordhub $cmd" "$WORK/out" && grep -q '^example:' "$WORK/out" &&
    ok "$cmd --help has usage and an example" || fail "$cmd --help: $(cat "$WORK/out")"
done
expect_code 0 "task add --help" -- "$COORDHUB" task add --help
grep -q -- '--depends-on' "$WORK/out" && ok "task add --help lists its options" || fail "task add --help"
expect_code 0 "help lock" -- "$COORDHUB" help lock
grep -q -- '--pattern PATTERN' "$WORK/out" && grep -q -- '--ttl S' "$WORK/out" &&
  ok "help lock lists lock's options" || fail "help lock: $(cat "$WORK/out")"
expect_code 2 "help of an unknown command" -- "$COORDHUB" help frob
expect_code 2 "no command is a usage error" -- "$COORDHUB"
expect_code 0 "-h alone prints the usage" -- "$COORDHUB" -h
grep -q '^commands:' "$WORK/out" && ok "the usage lists the commands" || fail "out: $(cat "$WORK/out")"
expect_code 0 "global options before the command" -- "$COORDHUB" --json --agent alice locks
jq -e '.locks | type == "array"' "$WORK/out" >/dev/null && ok "--json before the command applies" ||
  fail "out: $(cat "$WORK/out")"
expect_code 0 "--state-dir before the command" -- \
  env -u COORDHUB_STATE_DIR "$COORDHUB" --state-dir "$STATE" --root "$ROOT" status --brief
expect_code 0 "status --brief" -- "$COORDHUB" status --brief
grep -q '^locks: ' "$WORK/out" && ! grep -q HOLDER "$WORK/out" && ok "--brief shows counts only" ||
  fail "out: $(cat "$WORK/out")"
expect_code 0 "gina locks with a reason" -- "$COORDHUB" lock src/g.c --agent gina --reason "fix the parser"
expect_code 0 "task add for status" -- "$COORDHUB" task add "Status task" --id ST-1
expect_code 0 "hank claims it" -- "$COORDHUB" task claim ST-1 --agent hank
expect_code 0 "status" -- "$COORDHUB" status
grep -Eq '^  src/g.c +gina +exclusive +[0-9]{4}-[^ ]+ +fix the parser$' "$WORK/out" &&
  ok "status shows the lock's holder, expiry and reason" || fail "status: $(cat "$WORK/out")"
grep -Eq '^  ST-1 +hank +[0-9]{4}-[^ ]+ +Status task$' "$WORK/out" &&
  ok "status shows the task in progress and its claimer" || fail "status: $(cat "$WORK/out")"
grep -Eq '^  gina +active' "$WORK/out" && ok "status lists agents" || fail "status: $(cat "$WORK/out")"

expect_code 0 "lock --pattern" -- "$COORDHUB" lock --pattern 'lib/**' --agent ivy --json
jq -e '.success and .pattern and .file == "lib/**"' "$WORK/out" >/dev/null && ok "a pattern lease" ||
  fail "out: $(cat "$WORK/out")"
expect_code 3 "a path under the pattern is refused to another agent" -- "$COORDHUB" lock lib/x.c --agent jon
grep -q 'ivy' "$WORK/err" && ok "the refusal names ivy" || fail "err: $(cat "$WORK/err")"
expect_code 0 "unlock --pattern" -- "$COORDHUB" unlock --pattern 'lib/**' --agent ivy
expect_code 0 "the path is free again" -- "$COORDHUB" lock lib/x.c --agent jon
before=$(seq_now)
expect_code 4 "lock src/ is refused" -- "$COORDHUB" lock src/ --agent jon
grep -qx "coordhub: src/ is a directory: use --pattern 'src/\*\*'" "$WORK/err" && ok "it says to use a pattern" ||
  fail "err: $(cat "$WORK/err")"
mkdir -p "$ROOT/pkg/web"
expect_code 4 "lock of an existing directory is refused" -- "$COORDHUB" lock pkg/web --agent jon
grep -q "pkg/web is a directory: use --pattern 'pkg/web/\*\*'" "$WORK/err" && ok "named with its pattern" ||
  fail "err: $(cat "$WORK/err")"
[ "$(seq_now)" = "$before" ] && ok "the refused directories changed nothing" || fail "events moved"

# --json: one document on stdout, errors included.
expect_code 4 "--json invalid argument" -- "$COORDHUB" lock ../x.c --agent jon --json
jq -e '.error.code == "invalid_argument" and (.error.message | test("workspace|escap|outside"))' "$WORK/out" \
  >/dev/null && [ "$(wc -l <"$WORK/out")" = 1 ] && ok "an error is one JSON document on stdout" ||
  fail "out: $(cat "$WORK/out")"
expect_code 2 "--json usage error" -- "$COORDHUB" --json lock --frob
jq -e '.error.code == "usage"' "$WORK/out" >/dev/null && ok "a usage error in JSON" || fail "out: $(cat "$WORK/out")"
expect_code 3 "--json refusal" -- "$COORDHUB" lock src/g.c --agent jon --json
jq -e '.success == false and .lockedBy == "gina"' "$WORK/out" >/dev/null &&
  ok "a refusal prints the tool's result" || fail "out: $(cat "$WORK/out")"
expect_code 0 "events --from-now without --follow" -- "$COORDHUB" events --from-now --json
[ ! -s "$WORK/out" ] && ok "--from-now starts at the end of the log" || fail "out: $(cat "$WORK/out")"
expect_code 0 "events --types" -- "$COORDHUB" events --json --types task:claimed
[ "$(jq -r .type "$WORK/out" | sort -u | paste -sd,)" = task:claimed ] && ok "--types filters" ||
  fail "out: $(cat "$WORK/out")"

expect_code 3 "a second serve refuses to start" -- "$COORDHUB" serve --no-http

# COORDHUB_STORE chooses the store; a hub a client command starts gets it
# through its environment, not on its command line (a password in the URL
# would show in the process list).
ENVSTATE="$WORK/envstore"
expect_code 0 "a client command starts a hub on COORDHUB_STORE" -- \
  env COORDHUB_STATE_DIR="$ENVSTATE" COORDHUB_STORE=memory: "$COORDHUB" lock src/env.c
envpid=$(head -n1 "$ENVSTATE/hub.lock" 2>/dev/null || true)
grep -q "store memory" "$ENVSTATE/hub.log" && ok "the started hub runs on the memory store" ||
  fail "hub.log: $(tail -2 "$ENVSTATE/hub.log")"
if [ -n "$envpid" ] && tr '\0' ' ' <"/proc/$envpid/cmdline" | grep -q -- '--store'; then
  fail "the store URL is on the hub's command line: $(tr '\0' ' ' <"/proc/$envpid/cmdline")"
else ok "the store URL is not on the started hub's command line"; fi
[ -n "$envpid" ] && kill -TERM "$envpid" 2>/dev/null
for _ in $(seq 100); do [ -n "$envpid" ] && kill -0 "$envpid" 2>/dev/null || break; sleep 0.05; done
expect_code 1 "a bad COORDHUB_STORE is refused at start" -- \
  env COORDHUB_STATE_DIR="$WORK/badstore" COORDHUB_STORE=bogus://x "$COORDHUB" serve --no-http
grep -q "bogus" "$WORK/err" && ok "the refusal names the store" || fail "err: $(cat "$WORK/err")"
expect_code 0 "--store overrides COORDHUB_STORE" -- \
  env COORDHUB_STATE_DIR="$WORK/flagstore" COORDHUB_STORE=bogus://x "$COORDHUB" serve --daemon \
  --no-http --store memory:
flagpid=$(head -n1 "$WORK/flagstore/hub.lock" 2>/dev/null || true)
[ -n "$flagpid" ] && kill -TERM "$flagpid" 2>/dev/null
for _ in $(seq 100); do [ -n "$flagpid" ] && kill -0 "$flagpid" 2>/dev/null || break; sleep 0.05; done
finish
