#!/usr/bin/env bash
# Faults on the Redis store while clients write: redis-server and the hub
# are each killed with SIGKILL mid-run and started again. Every operation
# that was answered must be in the log afterwards, with contiguous ids
# (docs/architecture.md, "Group commit": nothing is answered before Redis
# has it; with appendfsync always Redis writes its append-only file
# before it replies, where everysec may postpone the write while an fsync
# runs). The test's
# redis-server runs on a Unix socket in the work directory and is stopped
# at the end.
source "$(dirname "$0")/lib.sh"

command -v redis-server >/dev/null || { fail "redis-server is not installed (run make setup)"; finish; exit 1; }
REDIS_DIR="$WORK/redis"
SOCK="$REDIS_DIR/redis.sock"
URL="unix://$SOCK"
mkdir -p "$REDIS_DIR"
REDIS_PID=
start_redis() { redis_start --appendfsync always; }
ch() { "$COORDHUB" "$@" --store "$URL"; }

start_redis
ch serve --daemon --no-http
for _ in $(seq 100); do [ -S "$STATE/hub.sock" ] && break; sleep 0.05; done

CLIENTS=4
PER_CLIENT=100
writer() {
  local c=$1
  for i in $(seq "$PER_CLIENT"); do
    if ch lock "dir$c/file$i" --agent "w$c" --json >"$WORK/ack.$c.$i" 2>/dev/null; then
      echo "dir$c/file$i $(jq -r .token "$WORK/ack.$c.$i")" >>"$WORK/acked.$c"
    fi
    rm -f "$WORK/ack.$c.$i"
  done
}
pids=()
for c in $(seq "$CLIENTS"); do writer "$c" & pids+=($!); done

# Redis dies twice and the hub once in between, while the writers run.
for round in 1 2; do
  sleep 0.$((RANDOM % 3 + 2))
  kill -KILL "$REDIS_PID" 2>/dev/null || true
  wait "$REDIS_PID" 2>/dev/null || true
  ok "killed redis (round $round)"
  sleep 0.2
  start_redis
  if [ "$round" = 1 ]; then
    sleep 0.$((RANDOM % 3 + 2))
    pid=$(hub_pid)
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null && ok "killed hub $pid"
  fi
done
wait "${pids[@]}" 2>/dev/null || true

cat "$WORK"/acked.* >"$WORK/acked" 2>/dev/null || true
acked=$(wc -l <"$WORK/acked")
[ "$acked" -gt 0 ] && ok "$acked operations were acknowledged" || fail "no operation acknowledged"
# The hub may still be reloading after the last restart (its retry backs
# off up to 5 s): wait until it serves fresh answers again (while Redis
# is away it answers reads marked stale).
served=1
for _ in $(seq 150); do
  if ch status --json 2>/dev/null | jq -e '.stale != true' >/dev/null; then served=0; break; fi
  sleep 0.1
done
[ "$served" = 0 ] && ok "the hub serves again" || fail "the hub did not come back"
ch events --json >"$WORK/events"
jq -r 'select(.type=="file:locked") | "\(.data.file) \(.data.token)"' "$WORK/events" \
  | sort >"$WORK/logged"
sort "$WORK/acked" >"$WORK/acked.sorted"
comm -23 "$WORK/acked.sorted" "$WORK/logged" >"$WORK/missing"
missing=$(wc -l <"$WORK/missing")
sed 's/^/    missing: /' "$WORK/missing" | head -20
[ "$missing" -eq 0 ] && ok "every acknowledged lock is in the log" || fail "$missing acknowledged locks lost"
contiguous_ids "$WORK/events" \
  && ok "event ids are contiguous" || fail "event ids have gaps"
ch locks --json >"$WORK/locks"
held=$(jq '.locks|length' "$WORK/locks")
[ "$held" -ge "$acked" ] && ok "all $acked leases still held ($held)" || fail "only $held of $acked held"
kill -TERM "$(hub_pid)" 2>/dev/null || true
kill -TERM "$REDIS_PID" 2>/dev/null || true
wait "$REDIS_PID" 2>/dev/null || true
finish
