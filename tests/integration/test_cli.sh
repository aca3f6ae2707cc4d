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
expect_code 0 "task done" -- "$COORDHUB" task done ARCH-1 --agent carol --result ok
expect_code 0 "tasks --json" -- "$COORDHUB" tasks --json
[ "$(jq -r '.tasks[0].status' "$WORK/out")" = completed ] && ok "task completed" || fail "task status"

expect_code 0 "events" -- "$COORDHUB" events --json
grep -q '"type":"file:locked"' "$WORK/out" && ok "events include file:locked" || fail "events"
n=$(wc -l <"$WORK/out")
expect_code 0 "events --since" -- "$COORDHUB" events --json --since 3
m=$(wc -l <"$WORK/out")
[ "$m" -eq $((n - 3)) ] && ok "--since skips the first 3 events" || fail "since: $n vs $m"

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
