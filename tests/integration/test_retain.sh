#!/usr/bin/env bash
# --retain-events: the hub trims the log behind its snapshots and keeps the
# given number of events; "all" (the SQLite default) keeps everything. Bad
# values are refused at start with exit code 2. A restart after trimming
# starts from the snapshot plus the tail, at the same seq.
source "$(dirname "$0")/lib.sh"

for bad in 10 999 -5 abc "" 1e6; do
  expect_code 4 "--retain-events '$bad' is refused as an invalid value" -- "$COORDHUB" serve --no-http --retain-events "$bad"
  grep -q "retain-events" "$WORK/err" || fail "the refusal of '$bad' names the option"
done
[ -S "$STATE/hub.sock" ] && fail "a refused start left a socket" || ok "no hub was started"

# post N: N events in arrays of 100 through POST /events.
post() {
  local n=$1 batch i
  while [ "$n" -gt 0 ]; do
    batch=$((n > 100 ? 100 : n))
    body=$(for ((i = 0; i < batch; i++)); do printf '%s{"type":"load:tick","data":{"i":%d}}' \
      "$([ "$i" -gt 0 ] && echo ,)" "$i"; done)
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
      -H 'Content-Type: application/json' --data "[$body]" "$URL/events")
    [ "$code" = 201 ] || { fail "POST /events answered $code"; return 1; }
    n=$((n - batch))
  done
}
gauge() {
  curl -s -H "Authorization: Bearer $TOKEN" "$URL/metrics" | awk -v k="$1" '$1 == k { print $2 }'
}
start() {
  rm -f "$STATE/http.addr"
  "$COORDHUB" serve --daemon --http 127.0.0.1:0 "$@"
  wait_for "$STATE/http.addr" ":" || { fail "hub did not start: $(tail -3 "$STATE/hub.log")"; finish; exit 1; }
  URL="http://$(cat "$STATE/http.addr")"
  TOKEN=$(cat "$STATE/token")
}
stop() {
  local pid
  pid=$(hub_pid)
  kill -TERM "$pid"
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.05; done
  fail "hub did not stop"
}

start --retain-events 1000
post 2600
last=$(gauge coordhub_store_last_seq)
first=$(gauge coordhub_store_first_seq)
[ "$last" -ge 2600 ] && ok "2600 events recorded (last seq $last)" || fail "last seq $last"
# Snapshots come every 1000 events; after the one past seq 2000 the log
# keeps 1000 events behind it.
if [ "$first" -gt 1000 ] && [ "$first" -le $((last - 1000)) ]; then
  ok "the log was trimmed behind the snapshot (first seq $first, last $last)"
else fail "first seq $first with last $last and 1000 retained"; fi
trimmed=$(gauge coordhub_store_trimmed_total)
[ "$trimmed" = $((first - 1)) ] && ok "trimmed_total counts the dropped events ($trimmed)" ||
  fail "trimmed_total $trimmed, first seq $first"

stop
# A restart with the default (SQLite keeps everything) loads snapshot + tail.
start
[ "$(gauge coordhub_store_last_seq)" = "$last" ] && ok "restarted at the same seq ($last)" ||
  fail "restarted at $(gauge coordhub_store_last_seq), wanted $last"
[ "$(gauge coordhub_store_first_seq)" = "$first" ] && ok "the trimmed log still begins at $first" ||
  fail "first seq after restart $(gauge coordhub_store_first_seq)"
# The restarted hub's memory holds only the newest events: history comes
# from the log, which now begins at $first.
"$COORDHUB" events --since 0 --json >"$WORK/ev" 2>"$WORK/err" || fail "events --since 0"
got_first=$(head -n1 "$WORK/ev" | sed -E 's/.*"id":"([0-9]+)".*/\1/')
[ "$got_first" = "$first" ] && ok "reading from 0 starts where the log begins ($got_first)" ||
  fail "events --since 0 starts at '$got_first', first seq $first"
"$COORDHUB" lock src/after.c >/dev/null && ok "the restarted hub serves" || fail "lock after restart"
post 1200
[ "$(gauge coordhub_store_first_seq)" = "$first" ] && ok "the default on SQLite trims nothing more" ||
  fail "first seq moved to $(gauge coordhub_store_first_seq) with the default retention"
stop
finish
