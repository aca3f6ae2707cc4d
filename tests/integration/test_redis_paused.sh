#!/usr/bin/env bash
# The hub while Redis is slow (docs/operations.md, "A slow Redis"): Redis
# holds every write for a while (CLIENT PAUSE … WRITE) while writes come
# in. The hub's loop does not wait for it: /healthz, list_tasks, an MCP
# ping and get_status are answered while the writes still wait — before
# the first write is answered, and in a fraction of the time it waited —
# and the reads show none of the waiting writes (no answer reveals an
# event the store has not taken). Once Redis takes them, every write is
# answered, the log holds them all in the order they were sent, with
# contiguous ids, and list_tasks shows them. Relative timings only: the
# reads are compared with the writes of the same run. The test runs its
# own redis-server on a Unix socket in its work directory and stops it.
source "$(dirname "$0")/lib.sh"

command -v redis-server >/dev/null || { fail "redis-server is not installed (run make setup)"; finish; exit 1; }
command -v python3 >/dev/null || { fail "python3 is not installed (run make setup)"; finish; exit 1; }
REDIS_PID=
stop_redis() {
  kill -TERM "$REDIS_PID" 2>/dev/null || true
  wait "$REDIS_PID" 2>/dev/null || true
}
trap 'stop_redis; cleanup' EXIT
redis_start --appendfsync always || { finish; exit 1; }
ch() { "$COORDHUB" "$@" --store "$REDIS_URL"; }

ch serve --daemon --http 127.0.0.1:0
wait_for "$STATE/http.addr" ":" && ok "hub up on redis with HTTP" || { fail "no http.addr"; cat "$STATE/hub.log"; finish; exit 1; }
URL="http://$(cat "$STATE/http.addr")"
TOKEN=$(cat "$STATE/token")
expect_code 0 "task T0 is created before the pause" -- ch task add "before" --id T0 --json

PAUSE_MS=2000
WRITES=5
python3 "$(dirname "$0")/redis_pause.py" "$URL" "$TOKEN" "$SOCK" "$PAUSE_MS" "$WRITES" "$WORK/r.json" \
  >"$WORK/py.out" 2>&1 && ok "the driver ran" || { fail "the driver failed"; cat "$WORK/py.out"; }
R="$WORK/r.json"

# Every write answered, created.
n=$(jq '[.writes[] | select(.status == 201)] | length' "$R")
[ "$n" = "$WRITES" ] && ok "all $WRITES writes answered 201" || { fail "$n of $WRITES writes created"; jq -c '.writes[] | {name, status, body}' "$R"; }
# The pause held the writes: the first answer came late (a sanity check
# that the test tested something).
first_w=$(jq '[.writes[].answered] | min' "$R")
wait_w=$(jq '[.writes[] | .answered - .sent] | min' "$R")
# Every read answered, before the first write was, and fast compared with
# what the writes waited.
for name in healthz list_tasks ping get_status; do
  st=$(jq -r --arg n "$name" '.reads[] | select(.name == $n) | .status' "$R")
  ans=$(jq -r --arg n "$name" '.reads[] | select(.name == $n) | .answered' "$R")
  lat=$(jq -r --arg n "$name" '.reads[] | select(.name == $n) | .answered - .sent' "$R")
  [ "$st" = 200 ] && ok "$name answered 200 while the writes wait" || fail "$name: status $st"
  if jq -n -e --argjson a "$ans" --argjson w "$first_w" '$a < $w' >/dev/null; then
    ok "$name answered before the first write ($(printf %.0f "$ans") ms < $(printf %.0f "$first_w") ms after the pause)"
  else
    fail "$name answered at $ans ms, after the first write ($first_w ms): the loop waited for Redis"
  fi
  if jq -n -e --argjson l "$lat" --argjson w "$wait_w" '$l * 4 < $w' >/dev/null; then
    ok "$name took under a quarter of the writes' wait ($(printf %.0f "$lat") ms vs $(printf %.0f "$wait_w") ms)"
  else
    fail "$name took $lat ms, the writes waited $wait_w ms"
  fi
done
jq -e '.reads[] | select(.name == "ping") | .message.result == {}' "$R" >/dev/null \
  && ok "ping answered with an empty result" || fail "ping: $(jq -c '.reads[] | select(.name == "ping")' "$R")"
jq -e '.reads[] | select(.name == "get_status") | .message.result.isError != true' "$R" >/dev/null \
  && ok "get_status answered without error" || fail "get_status: $(jq -c '.reads[] | select(.name == "get_status")' "$R")"
# Nothing unrecorded shown: list_tasks has T0 and none of the waiting writes.
tasks=$(jq -r '.reads[] | select(.name == "list_tasks") | .body | fromjson | [.tasks[].taskId] | sort | join(",")' "$R")
[ "$tasks" = "T0" ] && ok "list_tasks during the pause shows the committed T0 only" || fail "list_tasks showed $tasks"

# Afterwards: the log holds the writes in the order they were sent, nothing lost.
ch events --json >"$WORK/ev" 2>"$WORK/err" || true
contiguous_ids "$WORK/ev" && ok "the log's ids are contiguous" || fail "ids not contiguous"
order=$(jq -r 'select(.type == "task:created") | .data.taskId // .data.task.taskId' "$WORK/ev" | paste -sd, -)
want="T0$(seq -f ',W%g' 1 "$WRITES" | paste -sd '' -)"
[ "$order" = "$want" ] && ok "the log holds every write in the order sent ($order)" || fail "log order $order, wanted $want"
got=$(curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/tasks" | jq -r '[.tasks[].taskId] | sort | join(",")')
[ "$got" = "$want" ] && ok "list_tasks now shows all of them" || fail "list_tasks: $got"
finish
