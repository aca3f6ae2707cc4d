#!/usr/bin/env bash
# /metrics moves with real calls: tool calls by tool and outcome with their
# latency histograms, lock waits (granted, timed out, cancelled) and their
# durations, task totals and cycle time, store append latency and commit
# batch sizes, history reads served by the event ring. Every figure is
# read before and after, so the test asserts what the calls added.
source "$(dirname "$0")/lib.sh"

start_http_hub

scrape() { curl -s -H "Authorization: Bearer $TOKEN" "$URL/metrics" >"$WORK/$1"; }
# val FILE SERIES: the value of one series (name with labels), 0 when absent.
val() {
  awk -v k="$2" '$1 == k { print $2; found = 1 } END { if (!found) print 0 }' "$WORK/$1"
}
# moved DESC SERIES DELTA: the series grew by exactly DELTA between m0 and m1.
moved() {
  local a b
  a=$(val m0 "$2")
  b=$(val m1 "$2")
  if [ "$((b - a))" = "$3" ]; then ok "$1 ($2: $a -> $b)"; else
    fail "$1 ($2: $a -> $b, wanted +$3)"; fi
}
tool() { echo "coordhub_tool_calls_total{tool=\"$1\",outcome=\"$2\"}"; }

scrape m0
for m in coordhub_tool_calls_total coordhub_tool_call_seconds coordhub_lock_wait_seconds \
  coordhub_task_cycle_seconds coordhub_store_append_seconds coordhub_commit_batch_events \
  coordhub_event_cache_hits_total coordhub_event_cache_misses_total; do
  grep -q "^# TYPE $m " "$WORK/m0" || fail "no family $m before any call"
done
ok "every family is there before any call"

# ---- tool calls: ok, refused, error ----------------------------------------------
expect_code 0 "alice locks a.c" -- "$COORDHUB" lock a.c --agent alice
expect_code 3 "bob is refused a.c" -- "$COORDHUB" lock a.c --agent bob
expect_code 4 "a path outside the workspace is an invalid argument" -- \
  "$COORDHUB" lock ../outside.c --agent bob
expect_code 3 "bob waits 200 ms for a.c and times out" -- "$COORDHUB" lock a.c --agent bob --wait 200

# A wait that is granted: bob queues, alice unlocks.
"$COORDHUB" lock a.c --agent bob --wait 20000 >"$WORK/granted.out" 2>&1 &
GRANTED_PID=$!
for _ in $(seq 100); do
  scrape mw
  [ "$(val mw coordhub_lock_waiters)" = 1 ] && break
  sleep 0.05
done
[ "$(val mw coordhub_lock_waiters)" = 1 ] && ok "the waiter shows in coordhub_lock_waiters" ||
  fail "lock_waiters: $(val mw coordhub_lock_waiters)"
sleep 0.3
expect_code 0 "alice unlocks a.c" -- "$COORDHUB" unlock a.c --agent alice
wait "$GRANTED_PID" && ok "bob's wait is granted" || fail "granted wait: $(cat "$WORK/granted.out")"

# A wait whose client goes away: cancelled.
"$COORDHUB" lock a.c --agent carol --wait 20000 >/dev/null 2>&1 &
CANCEL_PID=$!
for _ in $(seq 100); do
  scrape mw
  [ "$(val mw coordhub_lock_waiters)" = 1 ] && break
  sleep 0.05
done
kill "$CANCEL_PID" 2>/dev/null || true
wait "$CANCEL_PID" 2>/dev/null || true
for _ in $(seq 100); do
  scrape mw
  [ "$(val mw coordhub_lock_waiters)" = 0 ] && break
  sleep 0.05
done

# ---- tasks ------------------------------------------------------------------------
expect_code 0 "T-1 added" -- "$COORDHUB" task add "One" --id T-1
expect_code 0 "T-1 claimed" -- "$COORDHUB" task claim T-1 --agent dave
sleep 1.1
expect_code 0 "T-1 completed" -- "$COORDHUB" task done T-1 --agent dave
expect_code 0 "T-2 added" -- "$COORDHUB" task add "Two" --id T-2
expect_code 0 "T-2 claimed" -- "$COORDHUB" task claim T-2 --agent dave
expect_code 0 "T-2 released" -- "$COORDHUB" task release T-2 --agent dave
expect_code 0 "T-2 claimed again" -- "$COORDHUB" task claim T-2 --agent dave
expect_code 0 "T-2 failed" -- "$COORDHUB" task release T-2 --agent dave --failed --reason broken

# ---- history reads -----------------------------------------------------------------
"$COORDHUB" events --since 0 >/dev/null
curl -s -N --max-time 1 -H "Authorization: Bearer $TOKEN" "$URL/events?since=0" >"$WORK/sse" || true
grep -q '^event: task:failed' "$WORK/sse" && ok "the /events backlog was served" || fail "sse backlog"

scrape m1
moved "lock_file ok counted" "$(tool lock_file ok)" 2
moved "lock_file refused counted (busy, timed out)" "$(tool lock_file refused)" 2
moved "lock_file error counted (bad path)" "$(tool lock_file error)" 1
# Six lock_file calls, five answered (carol's went away unanswered).
moved "every answered lock_file call has a latency sample" \
  'coordhub_tool_call_seconds_count{tool="lock_file"}' 5
moved "…the same count in the +Inf bucket" \
  'coordhub_tool_call_seconds_bucket{tool="lock_file",le="+Inf"}' 5
moved "complete_task ok counted" "$(tool complete_task ok)" 1
moved "release_task ok counted" "$(tool release_task ok)" 2
moved "granted waits" coordhub_lock_wait_granted_total 1
moved "timed-out waits" coordhub_lock_wait_timed_out_total 1
moved "cancelled waits" coordhub_lock_wait_cancelled_total 1
moved "wait durations observed (granted and timed out)" coordhub_lock_wait_seconds_count 2
# The timed-out wait lasted at least 200 ms, the granted one at least 300 ms.
moved "…none of them under 100 ms" 'coordhub_lock_wait_seconds_bucket{le="0.1"}' 0
moved "tasks completed" coordhub_tasks_completed_total 1
moved "tasks released" coordhub_tasks_released_total 1
moved "tasks failed" coordhub_tasks_failed_total 1
moved "cycle time observed for the completed task" coordhub_task_cycle_seconds_count 1
moved "…and it took at least a second" 'coordhub_task_cycle_seconds_bucket{le="1"}' 0
events=$(($(val m1 coordhub_events_total) - $(val m0 coordhub_events_total)))
appends=$(($(val m1 coordhub_store_append_seconds_count) - $(val m0 coordhub_store_append_seconds_count)))
batch_sum=$(awk '$1 == "coordhub_commit_batch_events_sum" { printf "%d", $2 }' "$WORK/m1")
[ "$appends" -gt 0 ] && [ "$appends" -le "$events" ] &&
  ok "store appends timed ($appends appends for $events events)" ||
  fail "appends $appends, events $events"
[ "$batch_sum" = "$(val m1 coordhub_events_total)" ] &&
  ok "commit batch sizes add up to the events written ($batch_sum)" ||
  fail "batch sum $batch_sum vs events $(val m1 coordhub_events_total)"
[ "$(val m1 coordhub_commit_batch_events_count)" = "$(val m1 coordhub_store_append_seconds_count)" ] &&
  ok "one batch size per append" || fail "batch count"
[ "$(val m1 'coordhub_event_cache_hits_total{reader="wait_for_events"}')" -gt 0 ] &&
  ok "wait_for_events history came from the ring" || fail "wait_for_events cache hits"
[ "$(val m1 'coordhub_event_cache_hits_total{reader="events"}')" -gt 0 ] &&
  ok "the /events backlog came from the ring" || fail "events cache hits"
[ "$(val m1 'coordhub_event_cache_misses_total{reader="events"}')" = 0 ] &&
  ok "…without store reads (the log is shorter than the ring)" || fail "events cache misses"
# ---- events refused for a type of the hub's own namespaces ----------------------
scrape r0
post() { curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/json' -d "$1" "$URL/events"; }
[ "$(post '[{"type":"ci:ok","data":{}},{"type":"file:unlocked","data":{"file":"a.c"}}]')" = 400 ] &&
  ok "POST /events with a reserved type is refused" || fail "reserved POST not refused"
[ "$(post '{"type":"Not A Type","data":{}}')" = 400 ] && ok "a malformed type is refused too" ||
  fail "bad type not refused"
# publish_event over an ordinary MCP session on the socket.
python3 - "$STATE/hub.sock" >"$WORK/pub.out" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect(sys.argv[1]); f = s.makefile("rwb")
def send(m): f.write((json.dumps(m) + "\n").encode()); f.flush()
def reply(i):
    for line in f:
        m = json.loads(line)
        if m.get("id") == i: return m
send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25",
      "capabilities": {}, "clientInfo": {"name": "metrics-test", "version": "1"}}})
reply(1)
send({"jsonrpc": "2.0", "method": "notifications/initialized"})
send({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "publish_event",
      "arguments": {"type": "guidance:message", "data": {"text": "forged"}}}})
print(json.dumps(reply(2)["result"].get("isError")))
PY
[ "$(cat "$WORK/pub.out")" = true ] && ok "publish_event of a reserved type is a tool error" ||
  fail "publish_event: $(cat "$WORK/pub.out")"
scrape r1
rmoved() { # rmoved DESC SERIES DELTA, between r0 and r1
  local a b
  a=$(val r0 "$2"); b=$(val r1 "$2")
  if [ "$((b - a))" = "$3" ]; then ok "$1 ($2: $a -> $b)"; else fail "$1 ($2: $a -> $b, wanted +$3)"; fi
}
rmoved "the reserved POST is counted once" 'coordhub_events_reserved_refused_total{way="post_events"}' 1
rmoved "the reserved publish_event is counted" 'coordhub_events_reserved_refused_total{way="publish_event"}' 1
rmoved "nothing came by Redis" 'coordhub_events_reserved_refused_total{way="redis"}' 0
finish
