#!/usr/bin/env bash
# Queued lock requests survive a rebuild of the hub's state after a lost
# compare-and-append. Two hubs share a workspace on one Redis; hub a runs
# as its own ACL user. fay and then hal wait on hub a for src/w.c, held by
# eve. The test takes XREAD from hub a's user, so hub a stops hearing hub
# b, and has hub b append: eve's unlock on hub a then loses its append to
# hub b's events. Hub a rebuilds its state from the log, runs the unlock
# again and grants fay — her request kept its place before hal's — and
# hal follows when fay unlocks. The hubs and the redis-server run in the
# test's work directory and are stopped at the end.
source "$(dirname "$0")/lib.sh"

ROOT_B="$WORK/repo-b"
STATE_B="$ROOT_B/.coordhub"
mkdir -p "$ROOT_B"
redis_start --appendfsync always || { finish; exit 1; }
rcli() { redis-cli -s "$SOCK" "$@" >/dev/null; }
rcli ACL SETUSER huba on '>pw-a' '~mcp:*' '&*' +@all

stop_all() {
  stop_hub "$STATE_B"
  stop_hub "$STATE"
  kill -TERM "$REDIS_PID" 2>/dev/null || true
  wait "$REDIS_PID" 2>/dev/null || true
}
trap 'stop_all; cleanup' EXIT

a() { "$COORDHUB" "$@" --workspace shop --store "unix://huba:pw-a@$SOCK"; }
b() { COORDHUB_ROOT="$ROOT_B" COORDHUB_STATE_DIR="$STATE_B" "$COORDHUB" "$@" --workspace shop --store "unix://$SOCK"; }
a serve --daemon --http 127.0.0.1:0
b serve --daemon --no-http
for _ in $(seq 200); do [ -s "$STATE/http.addr" ] && [ -S "$STATE_B/hub.sock" ] && break; sleep 0.05; done
[ -S "$STATE/hub.sock" ] && [ -S "$STATE_B/hub.sock" ] && [ -s "$STATE/http.addr" ] && ok "two hubs serve one workspace" \
  || { fail "hubs did not start"; cat "$STATE/hub.log" "$STATE_B/hub.log"; finish; exit 1; }
metric() {
  curl -s -H "Authorization: Bearer $(cat "$STATE/token")" "http://$(cat "$STATE/http.addr")/metrics" \
    | awk -v k="$1" '$1 == k { print $2; found = 1 } END { if (!found) print 0 }'
}

expect_code 0 "eve locks src/w.c on hub a" -- a lock src/w.c --agent eve
# waiter NAME: a background request on hub a waiting up to 60 s; its exit
# code and output land in $WORK/NAME.rc and $WORK/NAME.out.
waiter() {
  ( rc=0; timeout 90 "$COORDHUB" lock src/w.c --agent "$1" --wait 60000 --json --workspace shop \
      --store "unix://huba:pw-a@$SOCK" >"$WORK/$1.out" 2>"$WORK/$1.err" || rc=$?
    echo "$rc" >"$WORK/$1.rc" ) &
}
# registered NAME: NAME's agent is in hub a's state. A waiter's request
# registers its agent in the command that queues it, so once the agent
# shows, the request waits in the queue.
registered() {
  for _ in $(seq 200); do
    a status --json >"$WORK/status" 2>/dev/null \
      && jq -e --arg a "$1" '.activeAgents | index($a) != null' "$WORK/status" >/dev/null && return 0
    sleep 0.05
  done
  return 1
}
# answered NAME: wait up to 10 s for NAME's answer.
answered() {
  for _ in $(seq 200); do [ -f "$WORK/$1.rc" ] && return 0; sleep 0.05; done
  return 1
}
waiter fay
registered fay && ok "fay queues for src/w.c" || fail "fay never queued"
waiter hal
registered hal && ok "hal queues behind her" || fail "hal never queued"

# Hub a stops hearing hub b: its tail's XREAD is refused from now on (the
# one blocked in Redis ends with hub b's next event). Each refusal drops
# the tail's connection; the hub then reads the log to see whether the
# store answers (catching up), and the tail retries after 100 ms doubling
# to 5 s. After the sixth refusal (about 3.1 s in) the next retry is 3.2 s
# away: hub b's next event stays unheard by hub a for that long.
rcli ACL SETUSER huba -xread
expect_code 0 "bob locks src/b1.c on hub b" -- b lock src/b1.c --agent bob
refused() { grep -c "tailing .* failed" "$STATE/hub.log" || true; }
for _ in $(seq 200); do [ "$(refused)" -ge 6 ] && break; sleep 0.05; done
[ "$(refused)" -ge 6 ] && ok "hub a's tail is refused ($(refused) times)" \
  || fail "hub a's tail: $(refused) refusals: $(tail -3 "$STATE/hub.log")"
expect_code 0 "bob locks src/b2.c on hub b (hub a does not hear it)" -- b lock src/b2.c --agent bob
before=$(metric coordhub_store_conflicts_total)

# eve's unlock on hub a: its append meets hub b's event as a conflict; the
# hub catches up, runs the unlock again, and the queue grants fay.
expect_code 0 "eve unlocks src/w.c on hub a" -- a unlock src/w.c --agent eve
after=$(metric coordhub_store_conflicts_total)
[ "$after" -gt "$before" ] && ok "the unlock lost its first append to hub b's ($before -> $after conflicts)" \
  || fail "no conflict: $before -> $after"
[ "$(metric coordhub_commands_reevaluated_total)" -ge 1 ] && ok "the unlock was evaluated again" \
  || fail "coordhub_commands_reevaluated_total: $(metric coordhub_commands_reevaluated_total)"
if answered fay; then
  [ "$(cat "$WORK/fay.rc")" = 0 ] && jq -e '.locked == true' "$WORK/fay.out" >/dev/null \
    && ok "fay's wait ends in a grant after the rebuild" \
    || fail "fay: exit $(cat "$WORK/fay.rc"): $(cat "$WORK/fay.out" "$WORK/fay.err")"
else
  fail "fay got no answer after eve unlocked (the rebuild lost her request)"
fi
[ ! -f "$WORK/hal.rc" ] && ok "hal still waits, behind fay" || fail "hal answered: $(cat "$WORK"/hal.*)"

# Hub a hears hub b again (its tail reconnects with backoff).
rcli ACL SETUSER huba +xread
expect_code 0 "fay unlocks src/w.c on hub a" -- a unlock src/w.c --agent fay
if answered hal; then
  [ "$(cat "$WORK/hal.rc")" = 0 ] && jq -e '.locked == true' "$WORK/hal.out" >/dev/null \
    && ok "hal's wait ends in a grant" || fail "hal: exit $(cat "$WORK/hal.rc"): $(cat "$WORK/hal.out" "$WORK/hal.err")"
else
  fail "hal got no answer after fay unlocked"
fi
wait_same_log a b && ok "both hubs show the same events" || fail "logs differ: $(diff "$WORK/ev-a" "$WORK/ev-b" | head -5)"
contiguous_ids "$WORK/ev-a" \
  && ok "event ids are contiguous" || fail "ids: $(jq -c -s '[.[].id]' "$WORK/ev-a")"
jq -s -r '[.[] | select(.data.file == "src/w.c") | "\(.type) \(.data.agentId)"] | join(", ")' "$WORK/ev-a" \
  >"$WORK/w-history"
[ "$(cat "$WORK/w-history")" = "file:locked eve, file:unlocked eve, file:locked fay, file:unlocked fay, file:locked hal" ] \
  && ok "src/w.c went eve, fay, hal in the log" || fail "src/w.c history: $(cat "$WORK/w-history")"
finish
