#!/usr/bin/env bash
# The hub on the Redis store: leases survive a hub restart (the state is
# rebuilt from Redis), answered operations survive Redis being killed and
# restarted from its append-only file, and while Redis is away writes are
# refused and nothing is granted (test_redis_outage.sh has the rest of the
# outage: stale reads, events, health). The test runs its own redis-server on a
# Unix socket in its work directory (no TCP port) and stops it at the end.
source "$(dirname "$0")/lib.sh"

command -v redis-server >/dev/null || { fail "redis-server is not installed (run make setup)"; finish; exit 1; }
REDIS_DIR="$WORK/redis"
SOCK="$REDIS_DIR/redis.sock"
URL="unix://$SOCK"
REDIS_PID=
mkdir -p "$REDIS_DIR"

start_redis() { redis_start --appendfsync always; }
stop_redis() { # SIGKILL: no shutdown save, only what the append-only file holds
  kill -KILL "$REDIS_PID" 2>/dev/null || true
  wait "$REDIS_PID" 2>/dev/null || true
}
# Every CLI call names the store, so a hub the CLI starts by itself would
# use Redis too.
ch() { "$COORDHUB" "$@" --store "$URL"; }
start_redis_hub() {
  ch serve --daemon --no-http
  for _ in $(seq 100); do [ -S "$STATE/hub.sock" ] && return 0; sleep 0.05; done
  echo "hub did not start"; cat "$STATE/hub.log" 2>/dev/null; return 1
}
stop_hub() {
  local pid
  pid=$(hub_pid)
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  kill -0 "$pid" 2>/dev/null && { fail "hub $pid did not stop"; kill -KILL "$pid"; }
  return 0
}

start_redis
start_redis_hub
expect_code 0 "status on redis" -- ch status --json
backend=$(jq -r '.. | objects | select(has("store")) | .store.backend' "$WORK/out" | head -n1)
[ "$backend" = redis ] && ok "the hub reports the redis backend" || fail "backend is $backend"
grep -q "appendfsync" "$STATE/hub.log" && fail "a warning about appendfsync always" \
  || ok "no durability warning with appendfsync always"
expect_code 0 "alice locks a.c" -- ch lock src/a.c --agent alice --reason edit --json
tok_a=$(jq -r .token "$WORK/out")
expect_code 0 "bob locks b.c" -- ch lock src/b.c --agent bob --json
expect_code 0 "bob unlocks b.c" -- ch unlock src/b.c --agent bob
expect_code 3 "bob is refused a.c" -- ch lock src/a.c --agent bob
[ "$(redis-cli -s "$SOCK" get mcp:lock:src/a.c | jq -r .agentId)" = alice ] \
  && ok "the seed's key mcp:lock:src/a.c names alice" || fail "mcp:lock:src/a.c: $(redis-cli -s "$SOCK" get mcp:lock:src/a.c)"
[ "$(redis-cli -s "$SOCK" exists mcp:lock:src/b.c)" = 0 ] && ok "b.c's seed key is gone after the unlock" \
  || fail "mcp:lock:src/b.c remains"
ws=$(basename "$ROOT")
len=$(redis-cli -s "$SOCK" xlen "mcp:{$ws}:log")
last=$(redis-cli -s "$SOCK" get "mcp:{$ws}:seq")
[ "$len" -gt 0 ] && [ "$len" = "$last" ] && ok "the log is the stream mcp:{$ws}:log ($len events)" \
  || fail "stream has $len events, version is $last"

stop_hub
start_redis_hub
expect_code 0 "locks after a hub restart" -- ch locks --json
[ "$(jq -r '[.locks[] | select(.file=="src/a.c")][0].agentId' "$WORK/out")" = alice ] \
  && ok "alice still holds a.c" || fail "a.c lost: $(cat "$WORK/out")"
[ "$(jq -r '[.locks[] | select(.file=="src/a.c")][0].token' "$WORK/out")" = "$tok_a" ] \
  && ok "with the same token" || fail "token changed"
[ "$(jq '[.locks[] | select(.file=="src/b.c")] | length' "$WORK/out")" = 0 ] \
  && ok "b.c stays unlocked" || fail "b.c came back"
expect_code 0 "carol locks c.c" -- ch lock src/c.c --agent carol --json
tok_c=$(jq -r .token "$WORK/out")

# Redis killed: the hub refuses writes and grants nothing.
stop_redis
expect_code 1 "a lock while redis is away is refused" -- ch lock src/d.c --agent dave --json
# The first write may have been sent before the loss was seen: then the
# hub says it cannot know whether it was recorded (it was not: Redis was dead).
grep -Eq "nothing was recorded|whether this was recorded is unknown" "$WORK/out" "$WORK/err" &&
  ok "the refusal says nothing was recorded (or that it cannot know)" ||
  fail "refusal text: $(cat "$WORK/out" "$WORK/err")"
expect_code 1 "while redis is away writes are refused" -- ch lock src/d2.c --agent dave --json
grep -q "store unavailable: the redis store is unreachable" "$WORK/err" \
  && ok "the refusal says the store is unavailable" || fail "refusal: $(cat "$WORK/err")"
expect_code 0 "…and reads answered from the replica" -- ch locks --json
[ "$(jq -r .stale "$WORK/out")" = true ] && ok "marked stale" || fail "locks: $(cat "$WORK/out")"
pid=$(hub_pid)
[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && ok "the hub stays up while redis is away" \
  || fail "the hub stopped"
start_redis
got=1
for _ in $(seq 100); do
  if ch lock src/e.c --agent erin --json >"$WORK/out" 2>"$WORK/err"; then got=0; break; fi
  sleep 0.1
done
[ "$got" = 0 ] && ok "writes resume once redis is back" || fail "no write after redis came back"
[ "$(hub_pid)" = "$pid" ] && ok "the same hub process served again" || fail "the hub was replaced"
expect_code 0 "locks after the redis restart" -- ch locks --json
files=$(jq -r '[.locks[].file] | sort | join(",")' "$WORK/out")
[ "$files" = "src/a.c,src/c.c,src/e.c" ] && ok "answered locks survived, the refused one is absent" \
  || fail "locks are $files"
[ "$(jq -r '[.locks[] | select(.file=="src/c.c")][0].token' "$WORK/out")" = "$tok_c" ] \
  && ok "c.c kept its token" || fail "c.c token changed"

# And once more from scratch: a new hub on the restarted redis.
stop_hub
start_redis_hub
expect_code 0 "locks after both restarts" -- ch locks --json
files=$(jq -r '[.locks[].file] | sort | join(",")' "$WORK/out")
[ "$files" = "src/a.c,src/c.c,src/e.c" ] && ok "a fresh hub sees the same leases" \
  || fail "locks are $files"
stop_hub
stop_redis
finish
