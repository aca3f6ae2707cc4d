#!/usr/bin/env bash
# kill -9 the hub while clients write: every answered operation must be in
# the log after the restart (docs/architecture.md, "Group commit":
# nothing is answered before commit).
source "$(dirname "$0")/lib.sh"

start_hub
CLIENTS=4
PER_CLIENT=60
writer() {
  local c=$1
  for i in $(seq "$PER_CLIENT"); do
    if "$COORDHUB" lock "dir$c/file$i" --agent "w$c" --json >"$WORK/ack.$c.$i" 2>/dev/null; then
      echo "dir$c/file$i $(jq -r .token "$WORK/ack.$c.$i")" >>"$WORK/acked.$c"
    fi
    rm -f "$WORK/ack.$c.$i"
  done
}
for c in $(seq "$CLIENTS"); do writer "$c" & done

# Kill the hub twice while the writers run; the CLI restarts it on demand.
for round in 1 2; do
  sleep 0.$((RANDOM % 5 + 3))
  pid=$(hub_pid)
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null && ok "killed hub $pid (round $round)"
done
wait $(jobs -p) 2>/dev/null || true

cat "$WORK"/acked.* >"$WORK/acked" 2>/dev/null || true
acked=$(wc -l <"$WORK/acked")
[ "$acked" -gt 0 ] && ok "$acked operations were acknowledged" || fail "no operation acknowledged"

"$COORDHUB" events --json >"$WORK/events"
jq -r 'select(.type=="file:locked") | "\(.data.file) \(.data.token)"' "$WORK/events" \
  | sort >"$WORK/logged"
sort "$WORK/acked" >"$WORK/acked.sorted"
comm -23 "$WORK/acked.sorted" "$WORK/logged" >"$WORK/missing"
missing=$(wc -l <"$WORK/missing")
sed 's/^/    missing: /' "$WORK/missing" | head -20
[ "$missing" -eq 0 ] && ok "every acknowledged lock is in the log after restart" \
  || fail "$missing acknowledged locks lost"

# Ids are contiguous: nothing half-written.
contiguous_ids "$WORK/events" \
  && ok "event ids are contiguous" || fail "event ids have gaps"

"$COORDHUB" locks --json >"$WORK/locks"
held=$(jq '.locks|length' "$WORK/locks")
[ "$held" -ge "$acked" ] && ok "all $acked leases still held" || fail "only $held of $acked held"
finish
