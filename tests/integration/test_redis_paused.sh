#!/usr/bin/env bash
# The hub while Redis is slow (docs/operations.md, "A slow Redis"). Twice:
# Redis holds every write for a while (CLIENT PAUSE … WRITE), then it
# answers nothing at all for a while (DEBUG SLEEP); meanwhile writes come
# in. A third stall (DEBUG SLEEP again) meets an SSE client whose
# backfill is older than the hub's ring: /healthz is answered while the
# store read waits, and the stream then delivers every id in order. The hub's loop does not wait for it: /healthz, list_tasks, an MCP
# ping and get_status are answered while the writes wait — before the
# first write is answered, and in a fraction of the time it waited — and
# they show none of the waiting writes (no answer reveals an event the
# store has not taken). Once Redis takes them every write is answered,
# the log holds them all in the order they were sent with contiguous ids,
# and list_tasks shows them. Relative timings only: the reads are compared
# with the writes of the same run. The test runs its own redis-server on
# a Unix socket in its work directory and stops it.
source "$(dirname "$0")/lib.sh"

command -v redis-server >/dev/null || { fail "redis-server is not installed (run make setup)"; finish; exit 1; }
command -v python3 >/dev/null || { fail "python3 is not installed (run make setup)"; finish; exit 1; }
REDIS_PID=
stop_redis() {
  kill -TERM "$REDIS_PID" 2>/dev/null || true
  wait "$REDIS_PID" 2>/dev/null || true
}
trap 'stop_redis; cleanup' EXIT
# DEBUG SLEEP needs the debug command on (local connections only).
redis_start --appendfsync always --enable-debug-command local || { finish; exit 1; }
ch() { "$COORDHUB" "$@" --store "$REDIS_URL"; }

ch serve --daemon --http 127.0.0.1:0
wait_for "$STATE/http.addr" ":" && ok "hub up on redis with HTTP" || { fail "no http.addr"; cat "$STATE/hub.log"; finish; exit 1; }
URL="http://$(cat "$STATE/http.addr")"
TOKEN=$(cat "$STATE/token")
AUTH=(-H "Authorization: Bearer $TOKEN")
expect_code 0 "task T0 is created first" -- ch task add "before" --id T0 --json

PAUSE_MS=2000
WRITES=5
# tasks: the sorted task ids list_tasks shows now.
tasks() { curl -s "${AUTH[@]}" "$URL/api/v1/tasks" | jq -r '[.tasks[].taskId] | sort | join(",")'; }
# read_of R NAME FIELD: a field of the read NAME in the driver's results R.
read_of() { jq -r --arg n "$2" ".reads[] | select(.name == \$n) | $3" "$1"; }

# phase MODE PREFIX: one run of the driver (redis_pause.py) writing tasks
# PREFIX1…, then the assertions on what it saw.
phase() {
  local mode=$1 prefix=$2 R="$WORK/r-$1.json" before n first_w wait_w name ans lat
  before=$(tasks)
  python3 "$(dirname "$0")/redis_pause.py" "$URL" "$TOKEN" "$SOCK" "$mode" "$PAUSE_MS" "$WRITES" \
    "$prefix" "$R" >"$WORK/py.out" 2>&1 && ok "$mode: the driver ran" || { fail "$mode: the driver failed"; cat "$WORK/py.out"; return; }
  n=$(jq '[.writes[] | select(.status == 201)] | length' "$R")
  [ "$n" = "$WRITES" ] && ok "$mode: all $WRITES writes answered 201" \
    || { fail "$mode: $n of $WRITES writes created"; jq -c '.writes[] | {name, status, body}' "$R"; }
  first_w=$(jq '[.writes[].answered] | min' "$R")
  wait_w=$(jq '[.writes[] | .answered - .sent] | min' "$R")
  # The stall held the writes (else this phase tests nothing).
  jq -n -e --argjson w "$wait_w" --argjson p "$PAUSE_MS" '$w * 2 >= $p' >/dev/null \
    && ok "$mode: the writes waited for Redis ($(printf %.0f "$wait_w") ms)" || fail "$mode: the writes waited only $wait_w ms"
  for name in healthz list_tasks ping get_status; do
    [ "$(read_of "$R" "$name" .status)" = 200 ] && ok "$mode: $name answered 200" \
      || fail "$mode: $name: status $(read_of "$R" "$name" .status)"
    ans=$(read_of "$R" "$name" .answered)
    lat=$(read_of "$R" "$name" '.answered - .sent')
    if jq -n -e --argjson a "$ans" --argjson w "$first_w" '$a < $w' >/dev/null; then
      ok "$mode: $name answered before the first write ($(printf %.0f "$ans") ms < $(printf %.0f "$first_w") ms)"
    else
      fail "$mode: $name answered at $ans ms, after the first write ($first_w ms): the loop waited for Redis"
    fi
    if jq -n -e --argjson l "$lat" --argjson w "$wait_w" '$l * 4 < $w' >/dev/null; then
      ok "$mode: $name took under a quarter of the writes' wait ($(printf %.0f "$lat") ms vs $(printf %.0f "$wait_w") ms)"
    else
      fail "$mode: $name took $lat ms while the writes waited $wait_w ms"
    fi
  done
  [ "$(read_of "$R" ping '.message.result == {}')" = true ] && ok "$mode: ping's result is empty" \
    || fail "$mode: ping: $(read_of "$R" ping .body)"
  [ "$(read_of "$R" get_status '.message.result.isError')" != true ] && ok "$mode: get_status is no error" \
    || fail "$mode: get_status: $(read_of "$R" get_status .body)"
  # Nothing unrecorded shown: list_tasks had what was committed before.
  got=$(read_of "$R" list_tasks '.body | fromjson | [.tasks[].taskId] | sort | join(",")')
  [ "$got" = "$before" ] && ok "$mode: list_tasks showed the committed tasks only ($got)" \
    || fail "$mode: list_tasks showed $got, committed were $before"
}

phase pause P
phase sleep S

# The backfill of an SSE client older than the ring (4096 events) comes
# from the store: more events than that first, 100 per POST /events.
batch=$(jq -cn '[range(100) | {type: "bench:fill", data: {i: .}}]')
for _ in $(seq 42); do
  curl -s -o /dev/null -w '%{http_code}\n' "${AUTH[@]}" -H "Content-Type: application/json" \
    -d "$batch" "$URL/events"
done >"$WORK/codes"
[ "$(grep -c '^20[01]$' "$WORK/codes")" = 42 ] && ok "4200 events published" || fail "publishing: $(sort "$WORK/codes" | uniq -c)"
last=$(curl -s "${AUTH[@]}" "$URL/api/v1/health" | jq -r .store.lastSeq)
B="$WORK/r-backfill.json"
python3 "$(dirname "$0")/redis_pause.py" "$URL" "$TOKEN" "$SOCK" backfill "$PAUSE_MS" "$last" "$B" \
  >"$WORK/py.out" 2>&1 && ok "backfill: the driver ran" || { fail "backfill: the driver failed"; cat "$WORK/py.out"; }
jq -e --argjson n "$last" '.ids == [range(1; $n + 1)]' "$B" >/dev/null \
  && ok "backfill: the stream delivered ids 1 to $last in order" \
  || fail "backfill: ids $(jq -c '.ids | [length, first, last]' "$B")"
if jq -e '.healthz.status == 200 and .healthz.answered < .last_at' "$B" >/dev/null; then
  ok "backfill: /healthz answered before the stream got its backfill"
else
  fail "backfill: /healthz $(jq -c '.healthz | {status, sent, answered}' "$B"), last id at $(jq .last_at "$B")"
fi
if jq -e --argjson p "$PAUSE_MS" '(.healthz.answered - .healthz.sent) * 4 < .last_at and .last_at * 2 >= $p' "$B" >/dev/null; then
  ok "backfill: /healthz took under a quarter of the backfill's wait for Redis"
else
  fail "backfill: /healthz took $(jq '.healthz.answered - .healthz.sent' "$B") ms, the backfill $(jq .last_at "$B") ms"
fi

# Afterwards: the log holds the writes in the order they were sent, nothing lost.
ch events --json >"$WORK/ev" 2>"$WORK/err" || true
contiguous_ids "$WORK/ev" && ok "the log's ids are contiguous" || fail "ids not contiguous"
order=$(jq -r 'select(.type == "task:created") | .data.taskId // .data.task.taskId' "$WORK/ev" | paste -sd, -)
want="T0$(seq -f ',P%g' 1 "$WRITES" | paste -sd '' -)$(seq -f ',S%g' 1 "$WRITES" | paste -sd '' -)"
[ "$order" = "$want" ] && ok "the log holds every write in the order sent ($order)" || fail "log order $order, wanted $want"
got=$(tasks)
want_sorted=$(echo "$want" | tr , '\n' | sort | paste -sd, -)
[ "$got" = "$want_sorted" ] && ok "list_tasks now shows all of them" || fail "list_tasks: $got"
finish
