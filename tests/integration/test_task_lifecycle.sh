#!/usr/bin/env bash
# The task and agent lifecycle through the real binary: `coordhub task
# cancel|reopen|update`, `coordhub agent remove`, `coordhub agents [--all]`
# and their REST twins (POST /api/v1/tasks/ID/cancel|reopen|update, PATCH
# /api/v1/tasks/ID, DELETE /api/v1/agents/ID), with the bad input of each
# refused precisely and changing nothing; the events task:cancelled,
# task:reopened, task:updated and agent:removed in the log.
source "$(dirname "$0")/lib.sh"

start_http_hub
req() {
  local m=$1 p=$2; shift 2
  curl -s -o "$WORK/body" -D "$WORK/head" -w '%{http_code}' -X "$m" "${AUTH[@]}" "$@" "$URL$p"
}
body() { jq -r "$1" "$WORK/body"; }
last_seq() { curl -s "${AUTH[@]}" "$URL/api/v1/health" | jq -r .store.lastSeq; }
task_field() { "$COORDHUB" tasks --json | jq -r ".tasks[] | select(.taskId == \"$1\") | .$2"; }
events_of() {
  curl -s "${AUTH[@]}" "$URL/api/v1/events?since=0&limit=1000" |
    jq -c "[.events[] | select(.type == \"$1\")]"
}

# ---- CLI: task cancel / reopen / update -------------------------------------------
expect_code 0 "task add" -- "$COORDHUB" task add "first" --id T-1 --files a.c
expect_code 0 "task claim by bob" -- "$COORDHUB" task claim T-1 --agent bob
before=$(last_seq)
expect_code 4 "task cancel of an unknown task: invalid (4)" -- "$COORDHUB" task cancel NOPE
grep -q "no task 'NOPE'" "$WORK/err" && ok "  and names the task" || fail "msg: $(cat "$WORK/err")"
expect_code 2 "task cancel without an id: usage (2)" -- "$COORDHUB" task cancel
expect_code 4 "task update with nothing to change: invalid (4)" -- "$COORDHUB" task update T-1
grep -q "at least one of" "$WORK/err" && ok "  and says what to give" || fail "msg: $(cat "$WORK/err")"
expect_code 3 "task update of a claimed task: refused (3)" -- "$COORDHUB" task update T-1 --title x
grep -q "only open tasks" "$WORK/err" && ok "  and says why" || fail "msg: $(cat "$WORK/err")"
expect_code 3 "task reopen of a claimed task: refused (3)" -- "$COORDHUB" task reopen T-1
[ "$(last_seq)" = "$before" ] && [ "$(task_field T-1 status)" = claimed ] &&
  ok "the refusals changed nothing" || fail "state changed: $(last_seq) vs $before"

expect_code 0 "task cancel --reason" -- "$COORDHUB" task cancel T-1 --reason "not needed"
grep -q "T-1 cancelled" "$WORK/out" && ok "  prints the new status" || fail "out: $(cat "$WORK/out")"
[ "$(task_field T-1 status)" = cancelled ] && [ "$(task_field T-1 failureReason)" = "not needed" ] &&
  ok "T-1 is cancelled with its reason" || fail "T-1: $("$COORDHUB" tasks --json)"
[ "$("$COORDHUB" locks --json | jq '.locks | length')" = 0 ] &&
  ok "the claimer's task lease was released" || fail "locks left"
expect_code 3 "cancelling it again: refused (3)" -- "$COORDHUB" task cancel T-1
expect_code 0 "task reopen" -- "$COORDHUB" task reopen T-1
[ "$(task_field T-1 status)" = open ] && [ "$(task_field T-1 claimedBy)" = null ] &&
  ok "T-1 is open again, unclaimed" || fail "T-1 reopened: $("$COORDHUB" tasks --json)"
expect_code 0 "task update --title --priority 0 --files --capabilities" -- \
  "$COORDHUB" task update T-1 --title renamed --priority 0 --files b.c,c.c --capabilities rust
[ "$(task_field T-1 title)" = renamed ] && [ "$(task_field T-1 priority)" = 0 ] &&
  [ "$(task_field T-1 'files | join(",")')" = b.c,c.c ] &&
  [ "$(task_field T-1 'capabilities | join(",")')" = rust ] &&
  ok "the given fields were replaced" || fail "update: $("$COORDHUB" tasks --json)"
expect_code 4 "task update with a path outside the workspace: invalid (4)" -- \
  "$COORDHUB" task update T-1 --files ../../etc/passwd
[ "$(task_field T-1 'files | join(",")')" = b.c,c.c ] && ok "  and changed nothing" ||
  fail "files changed"
for t in task:cancelled task:reopened task:updated; do
  [ "$(events_of "$t" | jq length)" -ge 1 ] && ok "the log has $t" || fail "no $t"
done
[ "$(events_of task:cancelled | jq -r '.[0].data.reason')" = "not needed" ] &&
  ok "task:cancelled carries the reason" || fail "cancelled: $(events_of task:cancelled)"

# ---- CLI: agents, agents --all, agent remove ---------------------------------------
# bob (an agent only the CLI acts for) lost its last lease with the cancel.
"$COORDHUB" agents --all --json | jq -e '.agents[] | select(.agentId == "bob" and .status == "offline")' \
  >/dev/null && ok "agents --all lists bob, offline since its last lease ended" ||
  fail "agents --all: $("$COORDHUB" agents --all --json)"
"$COORDHUB" agents --json | jq -e '[.agents[] | select(.agentId == "bob")] | length == 0' >/dev/null &&
  ok "agents (default) leaves offline agents out" || fail "agents: $("$COORDHUB" agents --json)"
"$COORDHUB" agents | grep -q bob && fail "the table lists bob" || ok "so does the table"
"$COORDHUB" agents --all | grep -q bob && ok "agents --all table lists bob" || fail "table --all"

expect_code 0 "carol takes c.c" -- "$COORDHUB" lock c.c --agent carol
expect_code 0 "carol claims T-2" -- bash -c "'$COORDHUB' task add second --id T-2 >/dev/null &&
  '$COORDHUB' task claim T-2 --agent carol >/dev/null"
before=$(last_seq)
expect_code 4 "agent remove of an unknown agent: invalid (4)" -- "$COORDHUB" agent remove nobody
grep -q "no agent 'nobody'" "$WORK/err" && ok "  and names it" || fail "msg: $(cat "$WORK/err")"
expect_code 2 "agent remove without an id: usage (2)" -- "$COORDHUB" agent remove
expect_code 2 "agent with another verb: usage (2)" -- "$COORDHUB" agent delete carol
[ "$(last_seq)" = "$before" ] && ok "the refusals changed nothing" || fail "state changed"
expect_code 0 "agent remove carol" -- "$COORDHUB" agent remove carol
grep -q "removed agent carol (1 leases released, 1 tasks back to open)" "$WORK/out" &&
  ok "  says what was released" || fail "out: $(cat "$WORK/out")"
[ "$("$COORDHUB" locks --json | jq '.locks | length')" = 0 ] && [ "$(task_field T-2 status)" = open ] &&
  ok "carol's lease is gone and T-2 is open" || fail "after remove"
"$COORDHUB" agents --all --json | jq -e '[.agents[] | select(.agentId == "carol")] | length == 0' \
  >/dev/null && ok "carol is gone, also from agents --all" || fail "carol listed"
[ "$(events_of agent:removed | jq -r '.[0].data.agentId + " " + .[0].data.reason')" = "carol removed" ] &&
  ok "agent:removed {agentId, reason:removed}" || fail "event: $(events_of agent:removed)"

# ---- REST twins --------------------------------------------------------------------
[ "$(req POST /api/v1/tasks/T-2/cancel "${JSON[@]}" -d '{"reason":"dup"}')" = 200 ] &&
  [ "$(body .task.status)" = cancelled ] && ok "POST /api/v1/tasks/T-2/cancel: 200" ||
  fail "cancel: $(cat "$WORK/body")"
[ "$(req POST /api/v1/tasks/T-2/cancel "${JSON[@]}" -d '{}')" = 409 ] &&
  body .error.message | grep -q "is cancelled" && ok "cancelling it again: 409 naming its status" ||
  fail "409: $(cat "$WORK/body")"
[ "$(req POST /api/v1/tasks/NOPE/cancel "${JSON[@]}" -d '{}')" = 404 ] &&
  ok "an unknown task: 404" || fail "404: $(cat "$WORK/body")"
[ "$(req POST /api/v1/tasks/T-2/reopen "${JSON[@]}" -d '{}')" = 200 ] &&
  [ "$(body .task.status)" = open ] && ok "POST …/reopen: 200, open" || fail "reopen: $(cat "$WORK/body")"
[ "$(req PATCH /api/v1/tasks/T-2 "${JSON[@]}" -d '{"title":"patched","priority":5}')" = 200 ] &&
  [ "$(body .task.title)" = patched ] && [ "$(body .task.priority)" = 5 ] &&
  ok "PATCH /api/v1/tasks/T-2: 200, updated" || fail "patch: $(cat "$WORK/body")"
[ "$(req POST /api/v1/tasks/T-2/update "${JSON[@]}" -d '{"description":"d"}')" = 200 ] &&
  [ "$(body .task.description)" = d ] && ok "POST …/update: 200" || fail "update: $(cat "$WORK/body")"
[ "$(req PATCH /api/v1/tasks/T-2 "${JSON[@]}" -d '{"title":""}')" = 400 ] &&
  body .error.message | grep -q "'title'" && ok "an empty title: 400 naming it" ||
  fail "400: $(cat "$WORK/body")"
[ "$(task_field T-2 title)" = patched ] && ok "  and nothing changed" || fail "title changed"
expect_code 0 "dave takes d.c" -- "$COORDHUB" lock d.c --agent dave
[ "$(req DELETE /api/v1/agents/nobody)" = 404 ] && ok "DELETE an unknown agent: 404" ||
  fail "404 agent: $(cat "$WORK/body")"
KEY=$("$COORDHUB" key create --name w --state write 2>/dev/null)
st=$(curl -s -o "$WORK/body" -w '%{http_code}' -X DELETE -H "Authorization: Bearer $KEY" \
  "$URL/api/v1/agents/dave")
[ "$st" = 403 ] && body .error.message | grep -q "admin" &&
  ok "DELETE /api/v1/agents/dave with a write key: 403 (admin only)" || fail "403: $st $(cat "$WORK/body")"
[ "$("$COORDHUB" locks --json | jq '.locks | length')" = 1 ] && ok "  and dave keeps d.c" ||
  fail "dave lost d.c"
[ "$(req DELETE /api/v1/agents/dave)" = 200 ] && [ "$(body .success)" = true ] &&
  [ "$(body '.unlockedFiles | join(",")')" = d.c ] && ok "DELETE /api/v1/agents/dave: 200" ||
  fail "delete: $(cat "$WORK/body")"

finish
