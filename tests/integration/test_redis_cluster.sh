#!/usr/bin/env bash
# Two hubs on one workspace in a Redis Cluster (three masters, no replicas,
# on 127.0.0.1, formed with `redis-cli --cluster create`), each given the
# URL of a different node, neither of which serves the workspace's slot:
# both find the master that does, racing agents get one winner, both hubs
# show the same events with the same ids, no mcp:lock:<file> key exists on
# any node (compatibility keys are off in Cluster mode), a foreign event
# published on a third node is ingested once, and when the
# workspace's slot is migrated to another node while the hubs run and an
# agent keeps locking, a call that meets the slot half-way is refused with
# nothing recorded, and the hubs follow it and keep serving one log. The
# nodes and hubs run in the test's work directory and are stopped at the end.
source "$(dirname "$0")/lib.sh"

command -v redis-server >/dev/null || { fail "redis-server is not installed (run make setup)"; finish; exit 1; }
mkdir -p "$WORK/repo-b"
PORTS=() PIDS=() IDS=()

stop_all() {
  stop_hub "$WORK/repo-b/.coordhub"
  stop_hub "$STATE"
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap 'stop_all; cleanup' EXIT

rc() { local n=$1; shift; redis-cli -h 127.0.0.1 -p "${PORTS[$n]}" "$@"; }

# start_node N: a cluster-enabled redis-server on a free port from the
# ephemeral range (its cluster bus 12000 above). A port some other process
# holds is detected (the server exits, or the one answering is not ours:
# its dir differs) and another is drawn.
start_node() {
  local n=$1 dir="$WORK/node$1" port pid
  mkdir -p "$dir"
  for _ in $(seq 20); do
    port=$((32768 + RANDOM % 16000))
    redis-server --port "$port" --bind 127.0.0.1 --cluster-enabled yes \
      --cluster-port $((port + 12000)) --cluster-config-file nodes.conf --dir "$dir" \
      --save "" --appendonly yes --appendfsync always --daemonize no >"$dir/redis.log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do
      kill -0 "$pid" 2>/dev/null || break
      if [ "$(redis-cli -h 127.0.0.1 -p "$port" config get dir 2>/dev/null | sed -n 2p)" = "$dir" ]; then
        PORTS[n]=$port PIDS[n]=$pid
        return 0
      fi
      sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  return 1
}

for n in 0 1 2; do
  start_node "$n" || { fail "node $n did not start: $(tail -5 "$WORK/node$n/redis.log")"; finish; exit 1; }
done
redis-cli --cluster create "127.0.0.1:${PORTS[0]}" "127.0.0.1:${PORTS[1]}" "127.0.0.1:${PORTS[2]}" \
  --cluster-replicas 0 --cluster-yes >"$WORK/create.log" 2>&1 \
  || { fail "redis-cli --cluster create failed: $(tail -5 "$WORK/create.log")"; finish; exit 1; }
cluster_ok() {
  local n
  for n in 0 1 2; do rc "$n" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || return 1; done
}
for _ in $(seq 200); do cluster_ok && break; sleep 0.05; done
cluster_ok && ok "a three-master cluster reached cluster_state:ok" \
  || { fail "the cluster is not ok: $(rc 0 cluster info | head -3 | tr '\r\n' '  ')"; finish; exit 1; }
for n in 0 1 2; do IDS[n]=$(rc "$n" cluster myid); done

SLOT=$(rc 0 cluster keyslot 'mcp:{shop}:seq')
# owner_seen_by N: the index of the node that node N says serves SLOT
# (CLUSTER NODES: "id ip:port@bus flags master ... connected 0-5460 ...";
# "[slot->-id]" entries are migrations in progress).
owner_seen_by() {
  local port n
  port=$(rc "$1" cluster nodes | awk -v s="$SLOT" '{
    for (i = 9; i <= NF; i++) {
      if ($i ~ /^\[/) continue
      k = split($i, r, "-"); lo = r[1] + 0; hi = (k > 1 ? r[2] : r[1]) + 0
      if (lo <= s && s <= hi) { split($2, a, "@"); n = split(a[1], hp, ":"); print hp[n] }
    } }')
  for n in 0 1 2; do [ "${PORTS[n]}" = "$port" ] && echo "$n"; done
  return 0
}
OWNER=$(owner_seen_by 0)
[ -n "$OWNER" ] && ok "slot $SLOT of workspace shop is served by node $OWNER" || { fail "no owner for slot $SLOT"; finish; exit 1; }
NA=$(((OWNER + 1) % 3)) NB=$(((OWNER + 2) % 3))
URL_A="redis://127.0.0.1:${PORTS[NA]}" URL_B="redis://127.0.0.1:${PORTS[NB]}"

a() { "$COORDHUB" "$@" --workspace shop --store "$URL_A"; }
b() { COORDHUB_ROOT="$WORK/repo-b" COORDHUB_STATE_DIR="$WORK/repo-b/.coordhub" "$COORDHUB" "$@" --workspace shop --store "$URL_B"; }
a serve --daemon --no-http
b serve --daemon --no-http
socks=("$STATE/hub.sock" "$WORK/repo-b/.coordhub/hub.sock")
for _ in $(seq 200); do [ -S "${socks[0]}" ] && [ -S "${socks[1]}" ] && break; sleep 0.05; done
[ -S "${socks[0]}" ] && [ -S "${socks[1]}" ] && ok "two hubs, given two other nodes' URLs, serve workspace shop" \
  || { fail "hubs did not start"; cat "$STATE/hub.log" "$WORK/repo-b/.coordhub/hub.log"; finish; exit 1; }
for h in "$STATE" "$WORK/repo-b/.coordhub"; do
  grep -q "served by redis cluster node 127.0.0.1:${PORTS[OWNER]}" "$h/hub.log" \
    && ok "$(basename "$(dirname "$h")") logs the node serving the slot" || fail "no owner line in $h/hub.log"
  grep -q "compatibility keys (mcp:lock:<file>, mcp:servers:registry) are off in Cluster mode" "$h/hub.log" \
    && ok "$(basename "$(dirname "$h")") logs that compatibility keys are off" || fail "no compat line in $h/hub.log"
done

# same_log N: poll until both hubs print the same events (same ids, same
# order), at least N of them.
same_log() {
  for _ in $(seq 200); do
    a events --json >"$WORK/ev-a" 2>/dev/null || true
    b events --json >"$WORK/ev-b" 2>/dev/null || true
    if [ "$(jq -s length "$WORK/ev-a")" -ge "$1" ] && cmp -s "$WORK/ev-a" "$WORK/ev-b"; then return 0; fi
    sleep 0.05
  done
  return 1
}
wait_locks() { # HUB JQ-FILTER
  for _ in $(seq 200); do
    $1 locks --json >"$WORK/poll" 2>/dev/null && jq -e "$2" "$WORK/poll" >/dev/null && return 0
    sleep 0.05
  done
  return 1
}

# 1. Race: one agent per hub asks for src/race.c at once. A call that loses
# an append conflict between hubs is answered exit 1 with nothing recorded
# (docs/operations.md) and retried, as a caller would.
race() { # HUB AGENT
  local code
  for _ in $(seq 50); do
    code=0
    "$1" lock src/race.c --agent "$2" --json >"$WORK/race-$2.out" 2>"$WORK/race-$2.err" || code=$?
    if [ "$code" != 1 ] || ! grep -q "nothing was recorded" "$WORK/race-$2.err"; then break; fi
  done
  echo "$code" >"$WORK/race-$2.rc"
}
race a ann & p1=$!
race b ben & p2=$!
wait "$p1" "$p2"
codes="$(cat "$WORK/race-ann.rc") $(cat "$WORK/race-ben.rc")"
case $codes in
  "0 3") winner=ann ;;
  "3 0") winner=ben ;;
  *) winner= ;;
esac
[ -n "$winner" ] && ok "exactly one of two racing agents gets src/race.c ($winner)" \
  || fail "race exit codes: $codes: $(cat "$WORK"/race-*.err | tr '\n' ' ')"
tok=$(jq -r .token "$WORK/race-$winner.out" 2>/dev/null || echo null)
for h in a b; do
  wait_locks $h "[.locks[] | select(.file==\"src/race.c\")] | map([.agentId, .token]) == [[\"$winner\", $tok]]" \
    && ok "hub $h shows src/race.c held only by $winner" || fail "hub $h locks: $(cat "$WORK/poll")"
done
expect_code 0 "bob locks src/b.c on hub b" -- b lock src/b.c --agent bob
wait_locks a '[.locks[] | select(.file=="src/b.c" and .agentId=="bob")] | length == 1' \
  && ok "hub a sees bob's lease" || fail "hub a never saw src/b.c"
same_log 2 && ok "both hubs show the same events with the same ids" || fail "logs differ: $(diff "$WORK/ev-a" "$WORK/ev-b")"
contiguous_ids "$WORK/ev-a" \
  && ok "the shared log has contiguous ids" || fail "ids: $(jq -c -s '[.[].id]' "$WORK/ev-a")"

# 2. No compatibility key anywhere; the workspace's keys on its node only.
lockkeys=0
for n in 0 1 2; do lockkeys=$((lockkeys + $(redis-cli -c -h 127.0.0.1 -p "${PORTS[n]}" keys 'mcp:lock:*' | grep -c . || true))); done
[ "$lockkeys" = 0 ] && ok "no mcp:lock:* key on any node" || fail "$lockkeys mcp:lock:* keys in the cluster"
[ "$(rc "$OWNER" exists 'mcp:{shop}:log')" = 1 ] && [ "$(rc "$NA" dbsize)" = 0 ] && [ "$(rc "$NB" dbsize)" = 0 ] \
  && ok "the workspace's keys live on node $OWNER only" || fail "keys: $(for n in 0 1 2; do rc "$n" keys '*' | tr '\n' ' '; done)"

# 2b. A foreign event PUBLISHed on a node that serves neither hub nor the
# slot reaches both hubs (PUBLISH is broadcast) and is in the log once,
# written on the slot's master.
n0=$(jq -s length "$WORK/ev-a")
rc "$NB" publish mcp:events '{"type":"health:status","source":"backend","data":{"marker":"cl"}}' >/dev/null
same_log $((n0 + 1)) && [ "$(jq -s '[.[] | select(.data.marker == "cl" and .source == "backend")] | length' "$WORK/ev-a")" = 1 ] \
  && ok "a foreign event published on node $NB is in both hubs' logs once" \
  || fail "foreign event: $(grep -c '"cl"' "$WORK/ev-a" "$WORK/ev-b" | tr '\n' ' ')"

# 3. The slot moves to node NA while the hubs run and cat keeps locking on
# hub a. Half-way (the version key moved, the log not yet) the append
# script's keys are split between two nodes: a call is refused with
# nothing recorded (TRYAGAIN/ASK, the hub goes degraded); once the slot has
# moved the hubs follow MOVED and serve again. Every call answered 0 must
# be in the log.
(
  for i in $(seq 30); do
    code=0
    a lock "src/m$i.c" --agent cat --json >"$WORK/m$i.out" 2>"$WORK/m$i.err" || code=$?
    echo "$i $code" >>"$WORK/moving.codes"
    sleep 0.05
  done
) & mover=$!
sleep 0.3
rc "$NA" cluster setslot "$SLOT" importing "${IDS[OWNER]}" >/dev/null
rc "$OWNER" cluster setslot "$SLOT" migrating "${IDS[NA]}" >/dev/null
rc "$OWNER" migrate 127.0.0.1 "${PORTS[NA]}" 'mcp:{shop}:seq' 0 5000 >/dev/null
expect_code 1 "gus's lock on hub a while the slot is half-way is refused" -- a lock src/half.c --agent gus
grep -q "nothing was recorded" "$WORK/err" && ok "the refusal says nothing was recorded" || fail "refusal: $(cat "$WORK/err")"
grep -Eq "slot $SLOT of workspace shop is being migrated .*\((TRYAGAIN|ASK)\)" "$STATE/hub.log" \
  && ok "hub a logs the half-migrated slot (TRYAGAIN/ASK)" || fail "no TRYAGAIN/ASK line: $(grep -h cluster "$STATE/hub.log")"
for k in $(rc "$OWNER" cluster getkeysinslot "$SLOT" 100); do
  rc "$OWNER" migrate 127.0.0.1 "${PORTS[NA]}" "$k" 0 5000 >/dev/null
done
for n in "$NA" "$OWNER" "$NB"; do rc "$n" cluster setslot "$SLOT" node "${IDS[NA]}" >/dev/null; done
moved=
for _ in $(seq 200); do
  [ "$(owner_seen_by 0)$(owner_seen_by 1)$(owner_seen_by 2)" = "$NA$NA$NA" ] && { moved=1; break; }
  sleep 0.05
done
[ -n "$moved" ] && ok "slot $SLOT moved to node $NA" || fail "the slot did not move"
wait "$mover"
answered=$(awk '$2 == 0' "$WORK/moving.codes" | wc -l)
refused=0 others=0
while read -r i code; do
  case $code in
    0) ;;
    1) grep -q "nothing was recorded" "$WORK/m$i.err" && refused=$((refused + 1)) || others=$((others + 1)) ;;
    *) others=$((others + 1)) ;;
  esac
done <"$WORK/moving.codes"
[ "$others" = 0 ] && [ "$answered" -ge 1 ] \
  && ok "locks during the move: $answered granted, $refused refused with nothing recorded" \
  || fail "locks during the move: $(cat "$WORK/moving.codes" | tr '\n' ' ')"
# until_granted HUB FILE AGENT: a call refused with nothing recorded is
# sent again (the hub may still be reloading after the move), as a caller
# would; 0 once granted.
until_granted() {
  local code
  for _ in $(seq 100); do
    code=0
    "$1" lock "$2" --agent "$3" >"$WORK/out" 2>"$WORK/err" || code=$?
    [ "$code" = 1 ] && grep -q "nothing was recorded" "$WORK/err" || return "$code"
    sleep 0.1
  done
  return 1
}
until_granted b src/after.c dan && ok "dan locks src/after.c on hub b after the move" \
  || fail "dan on hub b: $(cat "$WORK/err")"
until_granted a src/after2.c eve && ok "eve locks src/after2.c on hub a after the move" \
  || fail "eve on hub a: $(cat "$WORK/err")"
grep -q "moved to 127.0.0.1:${PORTS[NA]} (MOVED" "$STATE/hub.log" && grep -q "moved to 127.0.0.1:${PORTS[NA]} (MOVED" "$WORK/repo-b/.coordhub/hub.log" \
  && ok "both hubs followed MOVED to node $NA" || fail "no MOVED line: $(grep -h cluster "$STATE/hub.log" "$WORK/repo-b/.coordhub/hub.log")"
wait_locks a '[.locks[] | select(.file=="src/after.c" and .agentId=="dan")] | length == 1' \
  && ok "hub a hears hub b's events after the move" || fail "hub a never saw src/after.c"
wait_locks b '[.locks[] | select(.file=="src/after2.c" and .agentId=="eve")] | length == 1' \
  && ok "hub b hears hub a's events after the move" || fail "hub b never saw src/after2.c"
same_log 4 && ok "both hubs show the same log after the move" || fail "logs differ after the move: $(diff "$WORK/ev-a" "$WORK/ev-b")"
contiguous_ids "$WORK/ev-a" \
  && ok "ids stay contiguous across the move" || fail "ids: $(jq -c -s '[.[].id]' "$WORK/ev-a")"
[ "$(jq -s '[.[] | select(.type=="file:locked" and .data.file=="src/half.c")] | length' "$WORK/ev-a")" = 0 ] \
  && ok "gus's refused lock is not in the log" || fail "src/half.c is in the log"
missing=0
while read -r i code; do
  [ "$code" = 0 ] || continue
  t=$(jq -r .token "$WORK/m$i.out")
  jq -s -e "[.[] | select(.type==\"file:locked\" and .data.file==\"src/m$i.c\" and .data.token==$t)] | length == 1" \
    "$WORK/ev-a" >/dev/null || missing=$((missing + 1))
done <"$WORK/moving.codes"
[ "$missing" = 0 ] && ok "every lock answered during the move is in the log" || fail "$missing answered locks missing from the log"
[ "$(rc "$OWNER" dbsize)" = 0 ] && [ "$(rc "$NA" exists 'mcp:{shop}:log')" = 1 ] \
  && ok "the workspace's keys now live on node $NA only" || fail "keys after the move: $(for n in 0 1 2; do rc "$n" keys '*' | tr '\n' ' '; done)"
finish
