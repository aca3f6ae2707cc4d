#!/usr/bin/env bash
# Two hubs on one Redis workspace under write contention: agents on both
# hubs lock and unlock their own files and compete for one shared file
# (waiting for it), all at once. A hub whose append loses to the other
# hub's catches up and evaluates its calls again (docs/architecture.md, "Group
# commit"), so no call
# is answered with a store conflict or failure: every lock of a free file
# is granted, every shared-file request is granted or answered busy, the
# shared file never has two holders, and both hubs show the same log with
# contiguous ids. /metrics shows that conflicts happened and calls were
# evaluated again. The hubs and the redis-server run in the test's work
# directory and are stopped at the end.
source "$(dirname "$0")/lib.sh"

ROOT_B="$WORK/repo-b"
STATE_B="$ROOT_B/.coordhub"
mkdir -p "$ROOT_B"

redis_start --appendfsync always || { finish; exit 1; }
URL="$REDIS_URL"

stop_all() {
  stop_hub "$STATE_B"
  stop_hub "$STATE"
  kill -TERM "$REDIS_PID" 2>/dev/null || true
  wait "$REDIS_PID" 2>/dev/null || true
}
trap 'stop_all; cleanup' EXIT

a() { "$COORDHUB" "$@" --workspace shop --store "$URL"; }
b() { COORDHUB_ROOT="$ROOT_B" COORDHUB_STATE_DIR="$STATE_B" "$COORDHUB" "$@" --workspace shop --store "$URL"; }
# call HUB ARGS...: one CLI call on hub a or b; a call left unanswered
# for 20 s is stopped (exit 124) and counts as failed.
call() {
  local h=$1
  shift
  if [ "$h" = a ]; then timeout 20 "$COORDHUB" "$@" --workspace shop --store "$URL"
  else COORDHUB_ROOT="$ROOT_B" COORDHUB_STATE_DIR="$STATE_B" timeout 20 "$COORDHUB" "$@" --workspace shop --store "$URL"; fi
}
a serve --daemon --http 127.0.0.1:0
b serve --daemon --http 127.0.0.1:0
for _ in $(seq 200); do [ -s "$STATE/http.addr" ] && [ -s "$STATE_B/http.addr" ] && break; sleep 0.05; done
[ -S "$STATE/hub.sock" ] && [ -S "$STATE_B/hub.sock" ] && [ -s "$STATE/http.addr" ] && [ -s "$STATE_B/http.addr" ] \
  && ok "two hubs serve one workspace" \
  || { fail "hubs did not start"; cat "$STATE/hub.log" "$STATE_B/hub.log"; finish; exit 1; }

# metric STATE-DIR NAME: one counter from a hub's /metrics.
metric() {
  curl -s -H "Authorization: Bearer $(cat "$1/token")" "http://$(cat "$1/http.addr")/metrics" \
    | awk -v k="$2" '$1 == k { print $2; found = 1 } END { if (!found) print 0 }'
}

# own HUB CLIENT ROUNDS: lock and unlock files nobody else touches; every
# call's exit code and output are kept.
own() {
  local h=$1 c=$2 rc
  for i in $(seq "$3"); do
    for op in lock unlock; do
      rc=0
      call "$h" "$op" "own/$h$c/f$i.c" --agent "w$h$c" >>"$WORK/out.$h$c" 2>>"$WORK/err.$h$c" || rc=$?
      echo "$op $rc" >>"$WORK/rc.$h$c"
    done
  done
}
# shared HUB CLIENT ROUNDS: ask for src/shared.c, waiting up to 3 s; a
# grant is released again.
shared() {
  local h=$1 c=$2 rc
  for _ in $(seq "$3"); do
    rc=0
    call "$h" lock src/shared.c --agent "s$h$c" --wait 3000 >>"$WORK/out.s$h$c" 2>>"$WORK/err.s$h$c" || rc=$?
    echo "lock $rc" >>"$WORK/rc.s$h$c"
    if [ "$rc" = 0 ]; then
      rc=0
      call "$h" unlock src/shared.c --agent "s$h$c" >>"$WORK/out.s$h$c" 2>>"$WORK/err.s$h$c" || rc=$?
      echo "unlock $rc" >>"$WORK/rc.s$h$c"
    fi
  done
}
ROUNDS=15
pids=()
for h in a b; do
  for c in 1 2 3; do own "$h" "$c" "$ROUNDS" & pids+=($!); done
  for c in 1 2; do shared "$h" "$c" 8 & pids+=($!); done
done
wait "${pids[@]}" || true

own_calls=$(cat "$WORK"/rc.[ab]? | wc -l)
own_ok=$(cat "$WORK"/rc.[ab]? | grep -c ' 0$' || true)
[ "$own_calls" = $((2 * 3 * ROUNDS * 2)) ] && [ "$own_ok" = "$own_calls" ] \
  && ok "all $own_calls lock/unlock calls on own files succeeded" \
  || fail "own files: $own_ok of $own_calls succeeded: $(grep -v ' 0$' "$WORK"/rc.[ab]? | head -5)"
sh_locks=$(cat "$WORK"/rc.s* | grep -c '^lock' || true)
sh_granted=$(cat "$WORK"/rc.s* | grep -c '^lock 0$' || true)
sh_busy=$(cat "$WORK"/rc.s* | grep -c '^lock 3$' || true)
sh_unlocked=$(cat "$WORK"/rc.s* | grep -c '^unlock 0$' || true)
[ "$sh_locks" = 32 ] && [ $((sh_granted + sh_busy)) = "$sh_locks" ] && [ "$sh_granted" -gt 0 ] \
  && ok "every shared-file request was granted ($sh_granted) or answered busy ($sh_busy)" \
  || fail "shared file: $sh_locks requests, $sh_granted granted, $sh_busy busy: $(grep -hv ' [03]$' "$WORK"/rc.s* | head -5)"
[ "$sh_unlocked" = "$sh_granted" ] && ok "every grant of the shared file was released by its holder" \
  || fail "$sh_unlocked of $sh_granted grants released"
if grep -l -E 'nothing was recorded|store failure|conflict' "$WORK"/err.* >/dev/null 2>&1; then
  fail "a call was answered with a store error: $(grep -h -E 'nothing was recorded|store failure|conflict' "$WORK"/err.* | head -3)"
else
  ok "no call was answered with a store conflict or failure"
fi

# Both hubs show one log, with contiguous ids.
wait_same_log a b && ok "both hubs show the same events with the same ids" \
  || fail "logs differ: $(diff "$WORK/ev-a" "$WORK/ev-b" | head -5)"
contiguous_ids "$WORK/ev-a" \
  && ok "the shared log has contiguous ids" || fail "ids: $(jq -c -s '[.[].id]' "$WORK/ev-a" | head -c 300)"
# One holder at a time: replay src/shared.c's grants and releases.
holders=$(jq -s -r '
  reduce (.[] | select(.data.file == "src/shared.c")) as $e ({h: null, bad: 0, n: 0};
    if $e.type == "file:locked" then
      (if .h != null and .h != $e.data.agentId then .bad += 1 else . end) | .h = $e.data.agentId | .n += 1
    elif $e.type == "file:unlocked" then
      (if .h != $e.data.agentId then .bad += 1 else . end) | .h = null
    else . end) | "\(.bad) \(.n)"' "$WORK/ev-a")
[ "${holders% *}" = 0 ] && [ "${holders#* }" = "$sh_granted" ] \
  && ok "src/shared.c had one holder at a time (${holders#* } grants in the log)" \
  || fail "shared file in the log (overlaps, grants): $holders; answered grants: $sh_granted"
jq -s -e '[.[] | select(.type == "file:locked" and (.data.file | startswith("own/")))] | length == 90' \
  "$WORK/ev-a" >/dev/null && ok "the log holds each of the 90 own-file grants once" \
  || fail "own-file grants in the log: $(jq -s '[.[] | select(.type == "file:locked" and (.data.file | startswith("own/")))] | length' "$WORK/ev-a")"
a locks --json >"$WORK/locks"
jq -e '.locks | length == 0' "$WORK/locks" >/dev/null && ok "no lease is left" || fail "leases left: $(jq -c "[.locks[].file]" "$WORK/locks")"

# The race happened: appends lost to the other hub and calls evaluated again.
conflicts=$(($(metric "$STATE" coordhub_store_conflicts_total) + $(metric "$STATE_B" coordhub_store_conflicts_total)))
again=$(($(metric "$STATE" coordhub_commands_reevaluated_total) + $(metric "$STATE_B" coordhub_commands_reevaluated_total)))
[ "$conflicts" -gt 0 ] && ok "appends lost to the other hub: $conflicts" || fail "no conflict happened: the test raced nothing"
[ "$again" -gt 0 ] && ok "calls evaluated again after a conflict: $again" || fail "no call was evaluated again"
errors=$(($(metric "$STATE" coordhub_store_append_errors_total) + $(metric "$STATE_B" coordhub_store_append_errors_total)))
[ "$errors" = 0 ] && ok "no append failed" || fail "$errors appends failed"
finish
