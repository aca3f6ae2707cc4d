#!/usr/bin/env bash
# Workspace discovery as a user meets it: no COORDHUB_ROOT, the CLI run in a
# repository's main working tree and in a linked worktree (`git worktree
# add`) shares one hub, keying each path relative to its own worktree.
source "$(dirname "$0")/lib.sh"
unset COORDHUB_ROOT COORDHUB_STATE_DIR
command -v git >/dev/null || { fail "git is not installed"; finish; exit 1; }

g() { git -c user.name=t -c user.email=t@example.invalid -c init.defaultBranch=main "$@"; }
g init -q "$ROOT"
mkdir -p "$ROOT/src"
echo a >"$ROOT/src/a.c"
g -C "$ROOT" add src/a.c
g -C "$ROOT" commit -q -m init
WT="$WORK/wt-feature"
g -C "$ROOT" worktree add -q -b feature "$WT"
[ -f "$WT/.git" ] && ok "git worktree add made a linked worktree" || fail "no linked worktree"

expect_code 0 "alice locks src/a.c in the linked worktree" -- \
  bash -c "cd '$WT' && exec '$COORDHUB' lock src/a.c --agent alice"
[ -S "$STATE/hub.sock" ] && ok "the hub's state dir is the main tree's .coordhub" \
  || fail "no socket in $STATE"
[ ! -e "$WT/.coordhub" ] && ok "the worktree has no .coordhub of its own" || fail "worktree got its own .coordhub"
expect_code 3 "bob is refused src/a.c in the main tree" -- \
  bash -c "cd '$ROOT' && exec '$COORDHUB' lock src/a.c --agent bob"
grep -q alice "$WORK/err" && ok "the refusal names alice" || fail "refusal text"
expect_code 0 "status from the worktree's subdirectory reaches the same hub" -- \
  bash -c "cd '$WT/src' && exec '$COORDHUB' locks --json"
[ "$(jq -r '.locks[0].file' "$WORK/out")" = src/a.c ] && ok "the key is worktree-relative" \
  || fail "key $(jq -c . "$WORK/out")"

finish
