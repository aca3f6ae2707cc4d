#!/usr/bin/env bash
# The state directory records how its hub was started (hub.json): a hub
# started by hand on Redis that dies is replaced, by the next client
# command, by a hub on the same Redis store — never by one on the default
# SQLite store, which would split this machine's agents off the shared
# workspace. A recorded password comes from COORDHUB_STORE; without it the
# start is refused, saying so. A hub started by hand on another store than
# the record's needs --store.
source "$(dirname "$0")/lib.sh"

redis_start || { finish; exit 1; }
stop_all() {
  stop_hub "$STATE"
  kill -TERM "$REDIS_PID" 2>/dev/null || true
  wait "$REDIS_PID" 2>/dev/null || true
}
trap 'stop_all; cleanup' EXIT
redis-cli -s "$SOCK" ACL SETUSER alice on '>s3cret' '~mcp:*' '&*' +@all >/dev/null
SECRET_URL="unix://alice:s3cret@$SOCK"

wait_socket() { for _ in $(seq 100); do [ -S "$STATE/hub.sock" ] && return 0; sleep 0.05; done; return 1; }
# kill_hub: SIGKILL the running hub and wait until it is gone.
kill_hub() {
  local pid
  pid=$(hub_pid)
  kill -KILL "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.05; done
  fail "hub $pid did not die"
}
backend() { "$COORDHUB" status --json | jq -r '.systemHealth.store.backend'; }

# 1. By hand on Redis (no password), then killed: a client command starts
#    the replacement on the recorded Redis store, leases intact.
"$COORDHUB" serve --daemon --no-http --store "$REDIS_URL" --workspace shop
wait_socket || fail "hub on redis"
jq -e --arg u "$REDIS_URL" '.store == $u and .workspace == "shop" and .http == false
  and .storeNeedsSecret == false' "$STATE/hub.json" >/dev/null \
  && ok "hub.json records the store, the workspace and --no-http" \
  || fail "hub.json: $(cat "$STATE/hub.json")"
"$COORDHUB" lock src/a.c --agent ann >/dev/null || fail "lock src/a.c"
kill_hub
[ "$(backend)" = "redis" ] && ok "status auto-starts the hub on the recorded Redis store" \
  || fail "the auto-started hub's store: $(backend) ($(tail -n 3 "$STATE/hub.log"))"
"$COORDHUB" locks --json | jq -e '.locks[] | select(.file == "src/a.c" and .agentId == "ann")' >/dev/null \
  && ok "the lease taken before the crash is there" || fail "lease lost: $("$COORDHUB" locks --json)"
args=$(tr '\0' ' ' <"/proc/$(hub_pid)/cmdline")
case "$args" in *"--workspace shop"*"--store $REDIS_URL"*"--no-http"*) ok "started as recorded: $args" ;;
  *) fail "the auto-started hub's arguments: $args" ;; esac
[ ! -e "$STATE/hub.db" ] && ok "no SQLite database was made" || fail "a hub.db appeared"

# 2. A hub started by hand on another store than the record's must be
#    asked for with --store; COORDHUB_STORE alone is not enough.
stop_hub "$STATE"
expect_code 2 "serve on the default store is refused (the record says redis)" -- \
  "$COORDHUB" serve --daemon --no-http
grep -q -- "--store" "$WORK/err" && grep -q "$REDIS_URL" "$WORK/err" \
  && ok "the refusal names the recorded store and --store" || fail "refusal: $(cat "$WORK/err")"
expect_code 2 "serve on COORDHUB_STORE=memory: is refused too" -- \
  env COORDHUB_STORE=memory: "$COORDHUB" serve --daemon --no-http
[ -z "$(hub_pid)" ] || ! kill -0 "$(hub_pid)" 2>/dev/null && ok "no hub was started" || fail "a hub runs"

# 3. By hand with an ACL user's password: the record keeps no password.
"$COORDHUB" serve --daemon --no-http --store "$SECRET_URL"
wait_socket || fail "hub as alice"
grep -q s3cret "$STATE/hub.json" && fail "hub.json holds the password" || ok "hub.json holds no password"
jq -e --arg u "unix://alice:***@$SOCK" '.store == $u and .storeNeedsSecret == true' \
  "$STATE/hub.json" >/dev/null && ok "hub.json: the URL with *** and storeNeedsSecret" \
  || fail "hub.json: $(cat "$STATE/hub.json")"
"$COORDHUB" lock src/b.c --agent bea >/dev/null || fail "lock src/b.c"
kill_hub
expect_code 1 "without the password in COORDHUB_STORE the auto-start is refused" -- \
  "$COORDHUB" status
grep -q "COORDHUB_STORE" "$WORK/err" && grep -q "password" "$WORK/err" \
  && ok "the refusal says the password is missing and where to put it" || fail "refusal: $(cat "$WORK/err")"
! kill -0 "$(hub_pid)" 2>/dev/null && [ ! -e "$STATE/hub.db" ] \
  && ok "no hub started, none on SQLite" || fail "a hub was started"
expect_code 1 "COORDHUB_STORE naming another user is refused" -- \
  env COORDHUB_STORE="unix://bob:s3cret@$SOCK" "$COORDHUB" status
grep -q "unix://bob:\*\*\*@" "$WORK/err" && ! grep -q s3cret "$WORK/err" \
  && ok "the refusal names the given store without its password" || fail "refusal: $(cat "$WORK/err")"
export COORDHUB_STORE="$SECRET_URL"
[ "$(backend)" = "redis" ] && ok "with COORDHUB_STORE the auto-start takes the password from it" \
  || fail "backend with COORDHUB_STORE: $(backend)"
"$COORDHUB" locks --json | jq -e '.locks[] | select(.file == "src/b.c")' >/dev/null \
  && ok "the lease is there" || fail "lease lost"
grep -q s3cret "/proc/$(hub_pid)/cmdline" && fail "the password is in the hub's process arguments" \
  || ok "the password stays out of the process list"
unset COORDHUB_STORE

# 4. An explicit --store moves the workspace; the record follows.
stop_hub "$STATE"
"$COORDHUB" serve --daemon --no-http --store "sqlite:$STATE/hub.db"
wait_socket || fail "hub on sqlite"
jq -e '.store | startswith("sqlite:")' "$STATE/hub.json" >/dev/null \
  && ok "serve --store moves the workspace and the record" || fail "hub.json: $(cat "$STATE/hub.json")"
[ "$(backend)" = "sqlite" ] && ok "on sqlite now" || fail "backend: $(backend)"

finish
