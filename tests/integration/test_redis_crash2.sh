#!/usr/bin/env bash
# Two hubs serve one workspace on one redis-server while clients on both
# write, each to files of its own plus one client per hub on a shared
# file; redis-server is killed with SIGKILL and started again on its
# append-only file (appendfsync always) twice. Afterwards every operation
# either hub answered as done is in the log exactly once, ids are
# contiguous, both hubs came back by themselves (the same processes), show
# the same events and last seq, and record new writes
# (docs/architecture.md, "Group commit"). The kills are paced by answered
# operations and by the hubs' own status, not by clocks. The hubs and the
# redis-server run in the test's work directory and are stopped at the
# end.
source "$(dirname "$0")/lib.sh"
export LC_ALL=C

ROOT_B="$WORK/repo-b"
STATE_B="$ROOT_B/.coordhub"
mkdir -p "$ROOT_B"

redis_start --appendfsync always || { finish; exit 1; }
URL="$REDIS_URL"

stop_all() {
  touch "$WORK/stop"
  stop_hub "$STATE_B"
  stop_hub "$STATE"
  kill -TERM "$REDIS_PID" 2>/dev/null || true
  wait "$REDIS_PID" 2>/dev/null || true
}
trap 'stop_all; cleanup' EXIT

# call HUB ARGS...: one CLI call on hub a or b; a call left unanswered for
# 20 s is stopped (exit 124) and counts as not answered.
call() {
  local h=$1
  shift
  if [ "$h" = a ]; then timeout 20 "$COORDHUB" "$@" --workspace shop --store "$URL"
  else COORDHUB_ROOT="$ROOT_B" COORDHUB_STATE_DIR="$STATE_B" timeout 20 "$COORDHUB" "$@" --workspace shop --store "$URL"; fi
}
state_of() { if [ "$1" = a ]; then echo "$STATE"; else echo "$STATE_B"; fi; }
pid_of() { head -n1 "$(state_of "$1")/hub.lock" 2>/dev/null || true; }

call a serve --daemon --no-http
call b serve --daemon --no-http
for _ in $(seq 200); do [ -S "$STATE/hub.sock" ] && [ -S "$STATE_B/hub.sock" ] && break; sleep 0.05; done
[ -S "$STATE/hub.sock" ] && [ -S "$STATE_B/hub.sock" ] && ok "two hubs serve one workspace" \
  || { fail "hubs did not start"; cat "$STATE/hub.log" "$STATE_B/hub.log"; finish; exit 1; }
PID_A=$(pid_of a)
PID_B=$(pid_of b)

# own HUB CLIENT: lock a new file of its own per call until told to stop;
# an answered grant is kept as "FILE TOKEN" in acked.HUB.CLIENT, a refusal
# in refused.HUB.CLIENT. Each file is asked for once, so it may be locked
# at most once in the log.
own() {
  local h=$1 c=$2 i=0 f
  while [ ! -e "$WORK/stop" ] && [ "$i" -lt 2000 ]; do
    i=$((i + 1))
    f="own/$h$c/f$i.c"
    if call "$h" lock "$f" --agent "w$h$c" --json >"$WORK/ack.$h$c" 2>"$WORK/err.$h$c"; then
      echo "$f $(jq -r .token "$WORK/ack.$h$c")" >>"$WORK/acked.$h.$c"
    else
      echo "$f $(tr '\n' ' ' <"$WORK/err.$h$c")" >>"$WORK/refused.$h.$c"
    fi
  done
}
# shared HUB: ask for src/shared.c (waiting up to 1 s), then release it;
# answered grants and releases are kept as "lock|unlock TOKEN". The release
# is asked for after every request, so a grant recorded but not answered
# (Redis died before its reply) is released again too.
shared() {
  local h=$1 i=0
  while [ ! -e "$WORK/stop" ] && [ "$i" -lt 2000 ]; do
    i=$((i + 1))
    echo lock >>"$WORK/asked.$h"
    if call "$h" lock src/shared.c --agent "s$h" --wait 1000 --json >"$WORK/sack.$h" 2>/dev/null; then
      echo "lock $(jq -r .token "$WORK/sack.$h")" >>"$WORK/shared.$h"
    fi
    echo unlock >>"$WORK/asked.$h"
    if call "$h" unlock src/shared.c --agent "s$h" --json >"$WORK/sack.$h" 2>/dev/null \
      && jq -e '.unlocked == true' "$WORK/sack.$h" >/dev/null; then
      echo "unlock $(jq -r .token "$WORK/sack.$h")" >>"$WORK/shared.$h"
    fi
  done
}
acked_on() { cat "$WORK"/acked."$1".* "$WORK/shared.$1" 2>/dev/null | wc -l; }
# grow HUB N: wait (up to 30 s) until HUB answered N more operations.
grow() {
  local from
  from=$(acked_on "$1")
  for _ in $(seq 600); do [ "$(acked_on "$1")" -ge $((from + $2)) ] && return 0; sleep 0.05; done
  return 1
}
# stale_is HUB true|false: wait (up to 30 s) until the hub's status says
# whether it answers from its replica (the store is away) or not.
stale_is() {
  for _ in $(seq 300); do
    if call "$1" status --json 2>/dev/null | jq -e --argjson s "$2" '(.stale == true) == $s' >/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

pids=()
for h in a b; do
  for c in 1 2; do own "$h" "$c" & pids+=($!); done
  shared "$h" & pids+=($!)
done

for round in 1 2; do
  if grow a 10 && grow b 10; then ok "both hubs answer writes (round $round)"
  else fail "writes stalled before round $round: a $(acked_on a), b $(acked_on b)"; fi
  kill -KILL "$REDIS_PID" 2>/dev/null || true
  wait "$REDIS_PID" 2>/dev/null || true
  ok "killed redis-server (round $round)"
  stale_is a true && stale_is b true && ok "both hubs noticed the store is away (round $round)" \
    || fail "a hub did not notice the store went away (round $round)"
  redis_start --appendfsync always || break
  stale_is a false && stale_is b false && ok "both hubs recovered by themselves (round $round)" \
    || fail "a hub did not recover (round $round): $(tail -n 3 "$STATE/hub.log" "$STATE_B/hub.log")"
done
if grow a 10 && grow b 10; then ok "both hubs answer writes after the last restart"
else fail "writes stalled after the last restart: a $(acked_on a), b $(acked_on b)"; fi
touch "$WORK/stop"
wait "${pids[@]}" || true

[ "$(pid_of a)" = "$PID_A" ] && [ "$(pid_of b)" = "$PID_B" ] && kill -0 "$PID_A" && kill -0 "$PID_B" \
  && ok "both hubs are the processes started first (no restart)" || fail "a hub was restarted or died"

# New writes on both hubs after the outages.
call a lock after/a.c --agent wa9 --json >"$WORK/new-a" 2>"$WORK/new-a.err" \
  && call b lock after/b.c --agent wb9 --json >"$WORK/new-b" 2>"$WORK/new-b.err" \
  && ok "both hubs record new writes" \
  || fail "a new write failed: $(cat "$WORK/new-a.err" "$WORK/new-b.err")"
echo "after/a.c $(jq -r .token "$WORK/new-a" 2>/dev/null)" >>"$WORK/acked.a.9"
echo "after/b.c $(jq -r .token "$WORK/new-b" 2>/dev/null)" >>"$WORK/acked.b.9"

# Both hubs show one log (hub b hears hub a's last write through its tail).
wait_same_log "call a" "call b" && ok "both hubs show the same events with the same ids" \
  || fail "logs differ: $(diff "$WORK/ev-a" "$WORK/ev-b" | head -5)"
contiguous_ids "$WORK/ev-a" \
  && ok "event ids are contiguous ($(wc -l <"$WORK/ev-a") events)" \
  || fail "ids: $(jq -c -s '[.[].id]' "$WORK/ev-a" | head -c 300)"
last=$(jq -s '.[-1].id|tonumber' "$WORK/ev-a")
seq_a=$(call a status --json | jq '.systemHealth.store.lastSeq')
seq_b=$(call b status --json | jq '.systemHealth.store.lastSeq')
[ "$seq_a" = "$last" ] && [ "$seq_b" = "$last" ] && ok "both hubs' last seq is $last" \
  || fail "last seq: a $seq_a, b $seq_b, log $last"

# Every answered own-file grant is in the log exactly once; no own file
# is locked twice (each was asked for once).
jq -r 'select(.type=="file:locked") | "\(.data.file) \(.data.token)"' "$WORK/ev-a" | sort >"$WORK/logged"
cat "$WORK"/acked.* | sort >"$WORK/acked"
acked=$(wc -l <"$WORK/acked")
refused=$(cat "$WORK"/refused.* 2>/dev/null | wc -l)
[ "$acked" -gt 40 ] && ok "$acked own-file grants answered, $refused refused" || fail "only $acked grants answered"
comm -23 "$WORK/acked" "$WORK/logged" >"$WORK/missing"
sed 's/^/    missing: /' "$WORK/missing" | head -10
[ ! -s "$WORK/missing" ] && ok "every answered grant is in the log" || fail "$(wc -l <"$WORK/missing") answered grants are not in the log"
dups=$(grep -E '^(own|after)/' "$WORK/logged" | cut -d' ' -f1 | uniq -d | head -5)
[ -z "$dups" ] && ok "no file asked for once is locked twice in the log" || fail "locked more than once: $dups"
# Answered shared-file grants and releases are in the log (a grant asked
# for again by its holder is a refresh with the same token, so a token
# may be answered and logged more than once), and no hub logged more of
# them than its client asked for.
for h in a b; do
  jq -r --arg a "s$h" 'select(.data.file == "src/shared.c" and .data.agentId == $a)
    | "\(.type | sub("^file:"; "") | sub("ed$"; "")) \(.data.token)"' "$WORK/ev-a" | LC_ALL=C sort >"$WORK/slogged.$h"
  LC_ALL=C sort "$WORK/shared.$h" >"$WORK/sacked.$h"
  LC_ALL=C comm -23 "$WORK/sacked.$h" "$WORK/slogged.$h" >"$WORK/smissing.$h"
  [ ! -s "$WORK/smissing.$h" ] && ok "hub $h's $(wc -l <"$WORK/sacked.$h") answered shared-file operations are in the log" \
    || fail "hub $h: answered shared-file operations not in the log: $(head -5 "$WORK/smissing.$h" | tr '\n' ' ')"
  for op in lock unlock; do
    asked=$(grep -c "^$op$" "$WORK/asked.$h" || true)
    logged=$(grep -c "^$op " "$WORK/slogged.$h" || true)
    [ "$logged" -le "$asked" ] && ok "hub $h: $logged shared-file ${op}s logged for $asked asked" \
      || fail "hub $h: $logged shared-file ${op}s logged but only $asked asked"
  done
done
holders=$(jq -s -r '
  reduce (.[] | select(.data.file == "src/shared.c")) as $e ({h: null, bad: 0, n: 0};
    if $e.type == "file:locked" then
      (if .h != null and .h != $e.data.agentId then .bad += 1 else . end) | .h = $e.data.agentId | .n += 1
    elif $e.type == "file:unlocked" then
      (if .h != $e.data.agentId then .bad += 1 else . end) | .h = null
    else . end) | "\(.bad) \(.n)"' "$WORK/ev-a")
[ "${holders% *}" = 0 ] && [ "${holders#* }" -gt 0 ] \
  && ok "src/shared.c had one holder at a time (${holders#* } grants in the log)" \
  || fail "shared file in the log (overlaps, grants): $holders"
finish
