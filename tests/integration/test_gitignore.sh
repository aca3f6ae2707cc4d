#!/usr/bin/env bash
# The state directory stays out of git: the hub writes <state-dir>/.gitignore
# ("*") so `git add -A` never commits the admin token or the database — in a
# fresh state directory, and in an existing one that has none.
source "$(dirname "$0")/lib.sh" "$@"

git -C "$ROOT" init -q
echo "int main(void) { return 0; }" >"$ROOT/main.c"

start_hub
"$COORDHUB" lock main.c --agent ann >/dev/null || fail "lock main.c"
[ -f "$STATE/token" ] && [ -f "$STATE/hub.db" ] || fail "the state dir holds a token and a database"
grep -qx '\*' "$STATE/.gitignore" && ok ".coordhub/.gitignore ignores everything" \
  || fail ".coordhub/.gitignore: $(cat "$STATE/.gitignore" 2>&1)"
git -C "$ROOT" status --porcelain --untracked-files=all >"$WORK/status"
if grep -q '\.coordhub' "$WORK/status"; then
  fail "git status shows the state dir:"; sed 's/^/    /' "$WORK/status"
else ok "git status shows nothing from .coordhub"; fi
git -C "$ROOT" add -A
git -C "$ROOT" diff --cached --name-only >"$WORK/staged"
[ "$(cat "$WORK/staged")" = "main.c" ] && ok "git add -A stages main.c only" \
  || { fail "git add -A staged:"; sed 's/^/    /' "$WORK/staged"; }
git -C "$ROOT" reset -q

# An existing state directory without .gitignore (made by an older hub)
# gets one at the next start.
stop_hub "$STATE"
rm "$STATE/.gitignore"
git -C "$ROOT" status --porcelain --untracked-files=all | grep -q '\.coordhub/token' \
  && ok "(without it git would show the token)" || fail "git should see the token without .gitignore"
start_hub
[ -f "$STATE/.gitignore" ] && ok "a restarted hub writes the missing .gitignore" || fail "no .gitignore after restart"
git -C "$ROOT" status --porcelain --untracked-files=all | grep -q '\.coordhub' \
  && fail "git status shows .coordhub after the restart" || ok "git status is clean again"

# A .gitignore of the user's is left as it is.
stop_hub "$STATE"
printf 'hub.log\n' >"$STATE/.gitignore"
start_hub
[ "$(cat "$STATE/.gitignore")" = "hub.log" ] && ok "an existing .gitignore is not changed" \
  || fail "the user's .gitignore was changed: $(cat "$STATE/.gitignore")"
stop_hub "$STATE"

# A state dir that is a working tree's top (it has .git) gets no "*".
OTHER="$WORK/other"
mkdir -p "$OTHER" && git -C "$OTHER" init -q
COORDHUB_STATE_DIR="$OTHER" "$COORDHUB" serve --daemon --no-http
[ -e "$OTHER/.gitignore" ] && fail "a .gitignore was written at a repository's top" \
  || ok "no .gitignore at a repository's top used as state dir"
stop_hub "$OTHER"

finish
