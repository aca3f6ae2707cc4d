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

# Outside a repository a client command names the root it would use and
# asks for --root instead of creating .coordhub/ and a hub there.
PLAIN="$WORK/plain"
mkdir -p "$PLAIN/sub"
expect_code 1 "status outside a repository is refused" -- \
  bash -c "cd '$PLAIN/sub' && exec '$COORDHUB' status"
grep -q "the workspace root would be $PLAIN/sub: give --root" "$WORK/err" \
  && ok "the refusal names the root and asks for --root" || fail "refusal text: $(cat "$WORK/err")"
expect_code 1 "lock outside a repository is refused too" -- \
  bash -c "cd '$PLAIN/sub' && exec '$COORDHUB' lock x.c --agent alice"
[ ! -e "$PLAIN/sub/.coordhub" ] && ok "no .coordhub/ was created" || fail ".coordhub/ created"
expect_code 0 "--root given explicitly counts as asking" -- \
  bash -c "cd '$PLAIN/sub' && exec '$COORDHUB' lock x.c --agent alice --root '$PLAIN'"
[ -S "$PLAIN/.coordhub/hub.sock" ] && ok "the hub runs for the given root" || fail "no hub for --root"
expect_code 0 "below that root its .coordhub/ is found without --root" -- \
  bash -c "cd '$PLAIN/sub' && exec '$COORDHUB' locks --json"
[ "$(jq -r '.locks[0].agentId' "$WORK/out")" = alice ] && ok "the same hub answers" || fail "other hub"
stop_hub "$PLAIN/.coordhub"

# An IDE bridge keeps auto-starting there, logging the root it chose.
IDE="$WORK/ide-dir"
mkdir -p "$IDE"
init='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}'
(cd "$IDE" && printf '%s\n' "$init" | timeout 20 "$COORDHUB" mcp >"$WORK/mcp.out" 2>"$WORK/mcp.err") || true
grep -q "coordhub mcp: workspace root $IDE (working directory, not a repository)" "$WORK/mcp.err" \
  && ok "the bridge logs the root it chose" || fail "bridge log: $(cat "$WORK/mcp.err")"
jq -e '.result.serverInfo' "$WORK/mcp.out" >/dev/null && ok "the bridge answered initialize" \
  || fail "bridge output: $(cat "$WORK/mcp.out")"
stop_hub "$IDE/.coordhub"

finish
