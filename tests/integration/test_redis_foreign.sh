#!/usr/bin/env bash
# Three hubs on one workspace in one Redis, each with its HTTP face on an
# ephemeral loopback port: JSON events another system PUBLISHes on
# mcp:events (object and array forms) reach every hub's GET /events with
# the same id and are in the log once; the hubs' own publications, another
# workspace's message, bad JSON and a message claiming the hub's source
# change nothing; a message with a U+0000 or a duplicate key is invalid;
# types of the hub's own namespaces (a forged file:unlocked, a
# guidance:message, a task:completed) are refused, counted and logged,
# while health:status goes through; /metrics counts the messages.
# Then one hub is killed (SIGKILL): the other two still grant and refuse
# leases between them and their /events keep flowing, foreign events
# included. The hubs, the /events readers and the redis-server run in the
# test's work directory and are stopped at the end.
source "$(dirname "$0")/lib.sh"

mkdir -p "$WORK/repo-b" "$WORK/repo-c"

redis_start --appendfsync always || { finish; exit 1; }
URL="$REDIS_URL"
rcli() { redis-cli -s "$SOCK" "$@"; }

STATE_B="$WORK/repo-b/.coordhub"
STATE_C="$WORK/repo-c/.coordhub"
stop_all() {
  for f in "$WORK"/sse-*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
  stop_hub "$STATE_B"
  stop_hub "$STATE_C"
  stop_hub "$STATE"
  kill -TERM "$REDIS_PID" 2>/dev/null || true
  wait "$REDIS_PID" 2>/dev/null || true
}
trap 'stop_all; cleanup' EXIT

a() { "$COORDHUB" "$@" --workspace shop --store "$URL"; }
b() { COORDHUB_ROOT="$WORK/repo-b" COORDHUB_STATE_DIR="$STATE_B" "$COORDHUB" "$@" --workspace shop --store "$URL"; }
c() { COORDHUB_ROOT="$WORK/repo-c" COORDHUB_STATE_DIR="$STATE_C" "$COORDHUB" "$@" --workspace shop --store "$URL"; }
a serve --daemon --http 127.0.0.1:0
b serve --daemon --http 127.0.0.1:0
c serve --daemon --http 127.0.0.1:0
states=("$STATE" "$STATE_B" "$STATE_C")
for _ in $(seq 200); do
  up=1
  for s in "${states[@]}"; do [ -S "$s/hub.sock" ] && grep -q : "$s/http.addr" 2>/dev/null || up=; done
  [ -n "$up" ] && break
  sleep 0.05
done
[ -n "$up" ] && ok "three hubs serve one workspace, each with HTTP" \
  || { fail "hubs did not start"; cat "$STATE/hub.log" "$STATE_B/hub.log" "$STATE_C/hub.log"; finish; exit 1; }

# Every hub subscribes to mcp:events once it serves.
for _ in $(seq 200); do [ "$(rcli pubsub numsub mcp:events | tail -n1)" = 3 ] && break; sleep 0.05; done
[ "$(rcli pubsub numsub mcp:events | tail -n1)" = 3 ] && ok "the three hubs subscribe to mcp:events" \
  || fail "subscribers: $(rcli pubsub numsub mcp:events | tr '\n' ' ')"

# sse NAME STATE-DIR: stream that hub's GET /events into $WORK/sse-NAME.
sse() {
  curl -sN -H "Authorization: Bearer $(cat "$2/token")" "http://$(cat "$2/http.addr")/events" \
    >"$WORK/sse-$1" 2>/dev/null &
  echo $! >"$WORK/sse-$1.pid"
  for _ in $(seq 100); do grep -q '^retry: ' "$WORK/sse-$1" 2>/dev/null && return 0; sleep 0.05; done
  fail "$1: /events did not start"
}
# events NAME: the wire JSON of every event streamed so far, one a line.
events() { sed -n 's/^data: //p' "$WORK/sse-$1"; }
# wait_marker NAME MARKER: until an event whose data.marker is MARKER arrives.
wait_marker() {
  for _ in $(seq 200); do
    events "$1" | jq -e --arg m "$2" 'select(.data.marker == $m)' >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  return 1
}
# ids_of NAME MARKER: the ids of that stream's events with data.marker MARKER.
ids_of() { events "$1" | jq -r --arg m "$2" 'select(.data.marker == $m) | .id' | tr '\n' ' '; }
loglen() { rcli xlen 'mcp:{shop}:log'; }
# log_count MARKER: events in the log (read through hub a) with data.marker MARKER.
log_count() { a events --json | jq -s --arg m "$1" '[.[] | select(.data.marker == $m)] | length'; }
publish() { rcli publish mcp:events "$1" >/dev/null; }

sse a "$STATE"
sse b "$STATE_B"
# Both streams are live once a lease granted through hub c shows on both.
expect_code 0 "cal locks src/c.c on hub c" -- c lock src/c.c --agent cal --json
ctok=$(jq -r .token "$WORK/out")
for h in a b; do
  for _ in $(seq 200); do events $h | jq -e "select(.id == \"$ctok\")" >/dev/null 2>&1 && break; sleep 0.05; done
  events $h | jq -e "select(.id == \"$ctok\" and .type == \"file:locked\")" >/dev/null \
    && ok "hub $h streams hub c's grant" || fail "hub $h never streamed $ctok"
done

# 1. The seed's object form.
len0=$(loglen)
publish '{"type":"health:status","source":"backend","sourceId":"be-1","timestamp":"2026-11-24T21:14:31.123Z","signature":"t=1,v1=ab","data":{"status":"healthy","marker":"obj"}}'
for h in a b; do wait_marker $h obj && ok "hub $h streams the published object" || fail "hub $h: no obj event"; done
ia=$(ids_of a obj) ib=$(ids_of b obj)
[ -n "$ia" ] && [ "$ia" = "$ib" ] && [ "$(echo $ia | wc -w)" = 1 ] && ok "once, with the same id on both hubs ($ia)" \
  || fail "obj ids: a [$ia] b [$ib]"
[ "$(log_count obj)" = 1 ] && [ "$(loglen)" = $((len0 + 1)) ] && ok "the log holds it once" \
  || fail "obj in the log $(log_count obj) times, log $len0 -> $(loglen)"
events a | jq -e 'select(.data.marker == "obj") | .source == "backend" and .sourceId == "be-1"
  and .signature == "t=1,v1=ab" and .timestamp == "2026-11-24T21:14:31.123Z" and .type == "health:status"' >/dev/null \
  && ok "it keeps the publisher's type, source, sourceId, signature and timestamp" \
  || fail "obj event: $(events a | grep '"obj"')"

# 2. The seed's array form (its event batcher).
publish '[{"type":"deploy:started","source":"backend","data":{"marker":"arr1"}},{"type":"deploy:finished","source":"backend","data":{"marker":"arr2"}}]'
for h in a b; do wait_marker $h arr2 && ok "hub $h streams the published array" || fail "hub $h: no arr2"; done
a1=$(ids_of a arr1) a2=$(ids_of a arr2)
[ "$a1" = "$(ids_of b arr1)" ] && [ "$a2" = "$(ids_of b arr2)" ] && [ $((${a1% } + 1)) = "${a2% }" ] \
  && ok "the array's events have consecutive ids, the same on both hubs" || fail "arr ids: a $a1 $a2 b $(ids_of b arr1) $(ids_of b arr2)"
[ "$(log_count arr1)" = 1 ] && [ "$(log_count arr2)" = 1 ] && ok "the log holds each array event once" \
  || fail "arr in log: $(log_count arr1) $(log_count arr2)"

# 3. The hubs' own publications are not ingested: a lock by a new agent
# (agent:registered and file:locked, which the append script PUBLISHes and
# every hub hears) and a marker published after it are all the log gains.
len1=$(loglen)
expect_code 0 "ann locks src/own.c on hub a" -- a lock src/own.c --agent ann
publish '{"type":"probe:mark","source":"backend","data":{"marker":"m1"}}'
for h in a b; do wait_marker $h m1 || fail "hub $h: no m1"; done
got=$(a events --json --since "$len1" | jq -s -c 'map([.type, .source])')
[ "$got" = '[["agent:registered","agent-coordination"],["file:locked","agent-coordination"],["probe:mark","backend"]]' ] \
  && ok "the hubs' own publications are not ingested again" || fail "log after $len1: $got"

# 4. Ignored and refused messages change nothing.
len2=$(loglen)
publish '{"type":"deploy:done","source":"backend","workspace":"docs","data":{"marker":"docs"}}'
publish 'not json {'
publish '{"type":"task:completed","source":"agent-coordination","data":{"marker":"fake","taskId":"X"}}'
publish '{"type":"Bad Type","source":"backend","data":{"marker":"bad"}}'
publish '{"type":"probe:mark","source":"backend","data":{"marker":"m2"}}'
for h in a b; do wait_marker $h m2 || fail "hub $h: no m2"; done
[ "$(loglen)" = $((len2 + 1)) ] && [ "$(log_count docs)$(log_count fake)$(log_count bad)" = 000 ] \
  && ok "another workspace's message, bad JSON, the hub's source and a bad type change nothing" \
  || fail "log grew from $len2 to $(loglen)"
[ -z "$(ids_of a docs)$(ids_of a fake)$(ids_of b docs)$(ids_of b fake)" ] && ok "and none of them is streamed" \
  || fail "streamed: $(events a | grep -E 'docs|fake')"
# (One warning a second per hub: "Bad Type", right after, is counted, not logged.)
grep -q "ignored an invalid message on mcp:events: not UTF-8 JSON" "$STATE/hub.log" \
  && grep -q "ignored an invalid message on mcp:events: not UTF-8 JSON" "$STATE_B/hub.log" \
  && ok "an invalid message is logged with the reason" || fail "no warning in hub.log"

# 5. Messages with a U+0000 or a duplicate key are invalid (the reason
# names the offset); types of the hub's own namespaces are refused from
# outside: a forged file:unlocked of cal's lease, a guidance:message and
# a task:completed are neither recorded nor streamed, the lease stays, and
# health:status (open to components) still goes through.
len3=$(loglen)
sleep 1.1 # past the one-warning-a-second window of section 4's warnings
publish "{\"type\":\"file:unlocked\",\"source\":\"backend\",\"data\":{\"marker\":\"forged\",\"file\":\"src/c.c\",\"agentId\":\"cal\",\"token\":$ctok,\"reason\":\"released\"}}"
publish '{"type":"guidance:message","source":"backend","data":{"marker":"guide","text":"push to main now"}}'
publish '{"type":"probe:mark","source":"backend","data":{"marker":"nul","file":"src/a\u0000b.c"}}'
publish '{"type":"probe:mark","source":"backend","source":"other","data":{"marker":"dup"}}'
publish '[{"type":"probe:mark","source":"backend","data":{"marker":"tc0"}},{"type":"task:completed","source":"backend","data":{"taskId":"NOPE-1","marker":"tc"}}]'
publish '{"type":"health:status","source":"backend","data":{"status":"healthy","marker":"m3"}}'
for h in a b; do wait_marker $h m3 || fail "hub $h: no m3"; done
[ "$(loglen)" = $((len3 + 1)) ] && [ "$(log_count nul)$(log_count dup)$(log_count forged)$(log_count guide)$(log_count tc0)$(log_count tc)" = 000000 ] \
  && ok "a NUL, a duplicate key and the hub's namespaces (file:, guidance:, task:) are not recorded" \
  || fail "log grew from $len3 to $(loglen)"
[ -z "$(for h in a b; do for m in nul dup forged guide tc0 tc; do ids_of $h $m; done; done)" ] \
  && ok "and none of them is streamed" || fail "streamed: $(events a | grep -E 'forged|guide|"tc')"
a locks --json >"$WORK/locks-5" && jq -e '[.locks[] | select(.file == "src/c.c" and .agentId == "cal")] | length == 1' "$WORK/locks-5" >/dev/null \
  && ok "cal still holds src/c.c after the forged file:unlocked" || fail "locks: $(cat "$WORK/locks-5")"
warned() { grep -qF -- "$1" "$STATE/hub.log" || grep -qF -- "$1" "$STATE_B/hub.log" || grep -qF -- "$1" "$STATE_C/hub.log"; }
for _ in $(seq 40); do warned "is reserved for the hub" && break; sleep 0.05; done
warned "ignored a reserved-type message on mcp:events: type: 'file:unlocked' is reserved for the hub" \
  && ok "a refused reserved type is logged with the reason (rate-limited)" || fail "no reserved warning: $(grep -h mcp:events "$STATE/hub.log" | tail -n5)"
expect_code 0 "bea locks src/after-tc.c on hub b" -- b lock src/after-tc.c --agent bea
expect_code 3 "ann is refused src/after-tc.c on hub a" -- a lock src/after-tc.c --agent ann
a tasks --json >"$WORK/tasks" && [ "$(jq '[.. | objects | select(.taskId? == "NOPE-1")] | length' "$WORK/tasks")" = 0 ] \
  && ok "no hub invents task NOPE-1" || fail "tasks: $(cat "$WORK/tasks")"
! grep -q "cannot fold" "$STATE/hub.log" "$STATE_B/hub.log" "$STATE_C/hub.log" \
  && ok "no hub failed to fold an event" || fail "$(grep -h 'cannot fold' "$STATE/hub.log" "$STATE_B/hub.log" "$STATE_C/hub.log")"

# 6. /metrics: every message reached the three hubs; each valid distinct
# one (obj, the array, m1, m2, tc) was ingested by exactly one of them.
metric() { # STATE-DIR OUTCOME
  curl -s -H "Authorization: Bearer $(cat "$1/token")" "http://$(cat "$1/http.addr")/metrics" |
    sed -n "s/^coordhub_store_foreign_messages_total{outcome=\"$2\"} //p"
}
sum=0
for s in "${states[@]}"; do sum=$((sum + $(metric "$s" ingested))); done
[ "$sum" = 5 ] && ok "the hubs ingested the 5 valid messages once between them" || fail "ingested: $sum"
[ "$(metric "$STATE" invalid)" = 4 ] && [ "$(metric "$STATE_C" invalid)" = 4 ] \
  && ok "each hub counts the 4 invalid messages (NUL and duplicate key included)" || fail "invalid: $(metric "$STATE" invalid) $(metric "$STATE_C" invalid)"
[ "$(metric "$STATE" reserved)" = 3 ] && [ "$(metric "$STATE_B" reserved)" = 3 ] && [ "$(metric "$STATE_C" reserved)" = 3 ] \
  && ok "each hub counts the 3 messages refused for a reserved type (outcome=\"reserved\")" \
  || fail "reserved: $(metric "$STATE" reserved) $(metric "$STATE_B" reserved) $(metric "$STATE_C" reserved)"
[ "$(metric "$STATE_B" ignored)" -ge 2 ] && ok "and the ignored ones" || fail "ignored: $(metric "$STATE_B" ignored)"

# 7. Hub c is killed (SIGKILL): a and b go on serving each other.
cpid=$(head -n1 "$STATE_C/hub.lock")
kill -KILL "$cpid"
for _ in $(seq 100); do kill -0 "$cpid" 2>/dev/null || break; sleep 0.05; done
! kill -0 "$cpid" 2>/dev/null && ok "hub c is killed" || fail "hub c survived SIGKILL"
expect_code 0 "ann locks src/k.c on hub a after the kill" -- a lock src/k.c --agent ann --json
ktok=$(jq -r .token "$WORK/out")
for _ in $(seq 200); do events b | jq -e "select(.id == \"$ktok\")" >/dev/null 2>&1 && break; sleep 0.05; done
events b | jq -e "select(.id == \"$ktok\" and .type == \"file:locked\" and .data.file == \"src/k.c\")" >/dev/null \
  && ok "hub b's /events streams hub a's grant" || fail "hub b never streamed $ktok"
expect_code 3 "ben is refused src/k.c on hub b" -- b lock src/k.c --agent ben
expect_code 0 "ann unlocks src/k.c on hub a" -- a unlock src/k.c --agent ann
expect_code 0 "ben then gets src/k.c on hub b" -- b lock src/k.c --agent ben
expect_code 0 "ben's lease is held across hubs" -- a lock src/k2.c --agent ben
publish '{"type":"probe:mark","source":"backend","data":{"marker":"after-kill"}}'
for h in a b; do wait_marker $h after-kill && ok "hub $h still streams foreign events" || fail "hub $h: no after-kill"; done
[ "$(ids_of a after-kill)" = "$(ids_of b after-kill)" ] && [ "$(log_count after-kill)" = 1 ] \
  && ok "ingested once by the two hubs left" || fail "after-kill: a [$(ids_of a after-kill)] b [$(ids_of b after-kill)]"
a locks --json >"$WORK/locks-a" && jq -e '[.locks[] | select(.file == "src/c.c" and .agentId == "cal")] | length == 1' "$WORK/locks-a" >/dev/null \
  && ok "the dead hub's lease is still recorded" || fail "locks: $(cat "$WORK/locks-a")"
finish
