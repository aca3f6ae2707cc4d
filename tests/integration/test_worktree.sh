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

# Relative paths resolve against the working directory, keyed relative to
# the caller's own worktree; absolute paths under it are made relative.
mkdir -p "$ROOT/src/deep" "$WT/src"
expect_code 0 "carol locks b.c from the main tree's src/" -- \
  bash -c "cd '$ROOT/src' && exec '$COORDHUB' lock b.c --agent carol --json"
[ "$(jq -r .file "$WORK/out")" = src/b.c ] && ok "b.c in src/ is the key src/b.c" \
  || fail "key $(jq -r .file "$WORK/out")"
expect_code 3 "dave is refused ../src/b.c from the worktree's src/deep" -- \
  bash -c "mkdir -p '$WT/src/deep' && cd '$WT/src/deep' && exec '$COORDHUB' lock ../b.c --agent dave"
grep -q carol "$WORK/err" && ok "the refusal names carol" || fail "refusal: $(cat "$WORK/err")"
expect_code 0 "an absolute path under the worktree is made relative" -- \
  bash -c "cd '$WT/src' && exec '$COORDHUB' lock '$WT/lib/c.c' --agent dave --json"
[ "$(jq -r .file "$WORK/out")" = lib/c.c ] && ok "absolute path keyed lib/c.c" \
  || fail "key $(jq -r .file "$WORK/out")"
expect_code 4 "a path escaping the worktree from src/ is invalid" -- \
  bash -c "cd '$ROOT/src' && exec '$COORDHUB' lock ../../x.c --agent dave"
grep -q "FILE: path '../../x.c' escapes the workspace root" "$WORK/err" \
  && ok "the error names the argument as given" || fail "error: $(cat "$WORK/err")"
expect_code 4 "an absolute path outside the worktree is invalid" -- \
  bash -c "cd '$ROOT/src' && exec '$COORDHUB' unlock /etc/passwd --agent dave"
expect_code 0 "unlock b.c from src/ releases src/b.c" -- \
  bash -c "cd '$ROOT/src' && exec '$COORDHUB' unlock b.c --agent carol"
expect_code 0 "task add --files/--patterns from src/" -- \
  bash -c "cd '$ROOT/src' && exec '$COORDHUB' task add 'edit api' --id T1 --files api.c,deep/x.c --patterns 'gen/**' --json"
[ "$(jq -c '[.task.files, .task.patterns]' "$WORK/out")" = '[["src/api.c","src/deep/x.c"],["src/gen/**"]]' ] \
  && ok "task files and patterns keyed below src/" || fail "task $(jq -c .task "$WORK/out")"
expect_code 4 "task add with an escaping --files entry is invalid" -- \
  bash -c "cd '$ROOT/src' && exec '$COORDHUB' task add bad --id T2 --files ok.c,../../no.c"
expect_code 0 "tasks lists no T2" -- "$COORDHUB" tasks --json --root "$ROOT"
[ "$(jq '[.tasks[] | select(.taskId == "T2")] | length' "$WORK/out")" = 0 ] \
  && ok "the refused task was not created" || fail "T2 exists"

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
