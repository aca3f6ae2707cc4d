#!/usr/bin/env bash
# Three hubs on one workspace in one Redis, each with its own root, state
# dir and Unix socket: agents on different hubs race for one file and
# exactly one wins; all three hubs show the same log; a lease that expires
# is expired once in the log however many hubs notice it; and a request
# waiting on one hub is granted when the holder on another hub unlocks.
# The hubs and the redis-server run in the test's work directory and are
# stopped at the end.
source "$(dirname "$0")/lib.sh"

mkdir -p "$WORK/repo-b" "$WORK/repo-c"

redis_start || { finish; exit 1; }
URL="$REDIS_URL"

stop_all() {
  stop_hub "$WORK/repo-b/.coordhub"
  stop_hub "$WORK/repo-c/.coordhub"
  stop_hub "$STATE"
  kill -TERM "$REDIS_PID" 2>/dev/null || true
  wait "$REDIS_PID" 2>/dev/null || true
}
trap 'stop_all; cleanup' EXIT

# Hub a in the default root, hubs b and c in their own; all serve "shop".
a() { "$COORDHUB" "$@" --workspace shop --store "$URL"; }
b() { COORDHUB_ROOT="$WORK/repo-b" COORDHUB_STATE_DIR="$WORK/repo-b/.coordhub" "$COORDHUB" "$@" --workspace shop --store "$URL"; }
c() { COORDHUB_ROOT="$WORK/repo-c" COORDHUB_STATE_DIR="$WORK/repo-c/.coordhub" "$COORDHUB" "$@" --workspace shop --store "$URL"; }
a serve --daemon --no-http
b serve --daemon --no-http
c serve --daemon --no-http
socks=("$STATE/hub.sock" "$WORK/repo-b/.coordhub/hub.sock" "$WORK/repo-c/.coordhub/hub.sock")
for _ in $(seq 200); do [ -S "${socks[0]}" ] && [ -S "${socks[1]}" ] && [ -S "${socks[2]}" ] && break; sleep 0.05; done
[ -S "${socks[0]}" ] && [ -S "${socks[1]}" ] && [ -S "${socks[2]}" ] && ok "three hubs serve one workspace" \
  || { fail "hubs did not start"; cat "$STATE/hub.log" "$WORK"/repo-?/.coordhub/hub.log; finish; exit 1; }

# wait_locks HUB JQ-FILTER: poll a hub's `locks --json` until the filter holds.
wait_locks() {
  local who=$1 filter=$2
  for _ in $(seq 200); do
    $who locks --json >"$WORK/poll" 2>/dev/null && jq -e "$filter" "$WORK/poll" >/dev/null && return 0
    sleep 0.05
  done
  return 1
}

# same_log: poll until hubs b and c print exactly hub a's log (the same
# events with the same ids, in the same order) holding at least N events.
same_log() {
  local n=$1
  for _ in $(seq 200); do
    a events --json >"$WORK/ev-a" 2>/dev/null || true
    b events --json >"$WORK/ev-b" 2>/dev/null || true
    c events --json >"$WORK/ev-c" 2>/dev/null || true
    if [ "$(jq -s length "$WORK/ev-a")" -ge "$n" ] && cmp -s "$WORK/ev-a" "$WORK/ev-b" \
      && cmp -s "$WORK/ev-a" "$WORK/ev-c"; then return 0; fi
    sleep 0.05
  done
  return 1
}

# 1. Race: one agent per hub asks for src/race.c at the same moment. A hub
# whose append loses to another hub's evaluates its call again against the
# new state (docs/operations.md), so every call gets a grant or a refusal.
race() { # HUB AGENT
  local rc=0
  "$1" lock src/race.c --agent "$2" --json >"$WORK/race-$2.out" 2>"$WORK/race-$2.err" || rc=$?
  echo "$rc" >"$WORK/race-$2.rc"
}
race a ann & p1=$!
race b ben & p2=$!
race c cat & p3=$!
wait "$p1" "$p2" "$p3"
winners=0 refused=0 winner=
for ag in ann ben cat; do
  case $(cat "$WORK/race-$ag.rc") in
    0) winners=$((winners + 1)) winner=$ag ;;
    3) refused=$((refused + 1)) ;;
  esac
done
[ "$winners" = 1 ] && [ "$refused" = 2 ] && ok "exactly one of three racing agents gets src/race.c ($winner)" \
  || fail "race: $winners winners, $refused refused: $(cat "$WORK"/race-*.rc "$WORK"/race-*.err | tr '\n' ' ')"
for ag in ann ben cat; do
  [ "$ag" = "$winner" ] && continue
  cat "$WORK/race-$ag.out" "$WORK/race-$ag.err" | grep -q "$winner" && ok "$ag's refusal names $winner" \
    || fail "$ag's refusal: $(cat "$WORK/race-$ag.out" "$WORK/race-$ag.err")"
done
tok=$(jq -r .token "$WORK/race-$winner.out")
for h in a b c; do
  wait_locks $h "[.locks[] | select(.file==\"src/race.c\")] | map([.agentId, .token]) == [[\"$winner\", $tok]]" \
    && ok "hub $h shows src/race.c held only by $winner" || fail "hub $h locks: $(cat "$WORK/poll")"
done
if same_log 1; then
  ok "hubs a, b and c show the same events with the same ids"
else
  fail "logs differ: $(diff "$WORK/ev-a" "$WORK/ev-b"; diff "$WORK/ev-a" "$WORK/ev-c")"
fi
contiguous_ids "$WORK/ev-a" \
  && ok "the shared log has contiguous ids" || fail "ids: $(jq -c -s '[.[].id]' "$WORK/ev-a")"
[ "$(jq -s '[.[] | select(.type=="file:locked" and .data.file=="src/race.c")] | length' "$WORK/ev-a")" = 1 ] \
  && ok "the log holds one grant of src/race.c" || fail "grants: $(cat "$WORK/ev-a")"

# 2. Expiry once: a 1 s lease taken through hub a expires; every hub ticks,
# but the log holds one file:unlocked (expired) for it.
expect_code 0 "dan locks src/ttl.c for 1 s on hub a" -- a lock src/ttl.c --ttl 1 --agent dan --json
ttok=$(jq -r .token "$WORK/out")
for h in a b c; do
  wait_locks $h '[.locks[] | select(.file=="src/ttl.c")] | length == 0' \
    && ok "hub $h sees src/ttl.c expire" || fail "hub $h still shows src/ttl.c: $(cat "$WORK/poll")"
done
# A marker through each hub, after every hub has dropped the lease: an
# expiry any hub appended is in the log before these.
for h in a b c; do
  expect_code 0 "a marker lock on hub $h" -- $h lock "src/mark-$h.c" --agent "m$h"
done
if same_log 1; then ok "the three logs agree after the expiry"; else fail "logs differ after the expiry"; fi
n=$(jq -s "[.[] | select(.type==\"file:unlocked\" and .data.file==\"src/ttl.c\")] | length" "$WORK/ev-a")
[ "$n" = 1 ] && ok "one file:unlocked for src/ttl.c" || fail "$n file:unlocked for src/ttl.c: $(cat "$WORK/ev-a")"
jq -s -e "[.[] | select(.type==\"file:unlocked\" and .data.file==\"src/ttl.c\")][0]
  | .data.reason == \"expired\" and .data.agentId == \"dan\" and .data.token == $ttok" "$WORK/ev-a" >/dev/null \
  && ok "it is dan's lease, reason expired" || fail "expiry event: $(grep ttl.c "$WORK/ev-a")"

# 3. Waiting across hubs: eve holds src/w.c (shared) through hub a; fay on
# hub b waits for it exclusively; eve unlocks on a and fay gets it.
expect_code 0 "eve locks src/w.c shared on hub a" -- a lock src/w.c --mode shared --agent eve
wait_locks b '[.locks[] | select(.file=="src/w.c" and .agentId=="eve")] | length == 1' \
  && ok "hub b sees eve's lease" || fail "hub b never saw src/w.c"
( rc=0; b lock src/w.c --agent fay --wait 20000 --json >"$WORK/fay.out" 2>"$WORK/fay.err" || rc=$?
  echo "$rc" >"$WORK/fay.rc" ) &
fay=$!
# fay is queued once a shared request on hub b (compatible with eve's, not
# with fay's) is refused in her name. A probe that got in before her is
# released again.
queued=
for _ in $(seq 200); do
  rc=0
  b lock src/w.c --mode shared --agent gus >"$WORK/gus.out" 2>"$WORK/gus.err" || rc=$?
  if [ "$rc" = 3 ] && grep -q fay "$WORK/gus.err"; then queued=1; break; fi
  [ "$rc" = 0 ] && b unlock src/w.c --agent gus >/dev/null 2>&1
  sleep 0.05
done
[ -n "$queued" ] && ok "fay's request waits on hub b" || fail "fay never queued: $(cat "$WORK/gus.err")"
[ ! -f "$WORK/fay.rc" ] && ok "fay has no answer while eve holds src/w.c" || fail "fay answered early: $(cat "$WORK/fay.out" "$WORK/fay.err")"
expect_code 0 "eve unlocks src/w.c on hub a" -- a unlock src/w.c --agent eve
wait "$fay" || true
[ "$(cat "$WORK/fay.rc")" = 0 ] && ok "fay's wait on hub b ends in a grant" \
  || fail "fay: exit $(cat "$WORK/fay.rc"): $(cat "$WORK/fay.out" "$WORK/fay.err")"
jq -e '.locked == true and .mode == "exclusive" and (.waitedMs | type) == "number"' "$WORK/fay.out" >/dev/null \
  && ok "fay's grant is exclusive and says how long she waited" || fail "fay's answer: $(cat "$WORK/fay.out")"
ftok=$(jq -r .token "$WORK/fay.out")
wait_locks a "[.locks[] | select(.file==\"src/w.c\")] | map([.agentId, .token]) == [[\"fay\", $ftok]]" \
  && ok "hub a shows src/w.c held by fay" || fail "hub a locks: $(cat "$WORK/poll")"
if same_log 1; then ok "the three logs agree after the wait"; else fail "logs differ after the wait"; fi
finish
