#!/usr/bin/env bash
# scripts/check_citations.sh (part of scripts/lint.sh, docs/code-style.md,
# "No outside citations"):
#  * passes on the repository's own tracked files;
#  * on a scratch git tree, fails on each of the four forms of a citation
#    of a design or style document the repository does not hold, naming
#    file and line; passes on citations of docs/;
#  * a file matching a line (path or glob) of the allowlist is reported,
#    not failed, and the others still fail;
#  * untracked files are not searched; without git, grep finds the same.
# The forbidden strings are assembled at run time so that this file holds
# none of them.
source "$(dirname "$0")/lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
CHECK=$SRC/scripts/check_citations.sh
D=DESIGN S=STYLE
SEC=$(printf '\302\247') # the section sign, as UTF-8

if "$CHECK" "$SRC" >"$WORK/out" 2>"$WORK/err"; then ok "the repository passes"; else
  fail "the repository fails"; sed 's/^/    /' "$WORK/err"; fi

# scratch: an empty git tree in $WORK/tree with the allowlist given as $1.
scratch() {
  rm -rf "$WORK/tree"
  mkdir -p "$WORK/tree/src/core" "$WORK/tree/docs" "$WORK/tree/scripts"
  git -C "$WORK/tree" init -q
  printf '%s' "$1" >"$WORK/tree/scripts/lint-citations-allow.txt"
  printf '/* fine: the envelope (docs/events.md, "Envelope"). */\n' >"$WORK/tree/src/core/a.c"
  printf '# Notes\n\nSee docs/architecture.md.\n' >"$WORK/tree/docs/notes.md"
  git -C "$WORK/tree" add -A
}
# cite FILE LINE: append LINE to FILE of the scratch tree and track it.
cite() {
  printf '%s\n' "$2" >>"$WORK/tree/$1"
  git -C "$WORK/tree" add -A
}
# refused DESCRIPTION PLACE: the check fails on the scratch tree and its
# stderr holds PLACE (file:line:).
refused() {
  local got=0
  "$CHECK" "$WORK/tree" >"$WORK/out" 2>"$WORK/err" || got=$?
  if [ "$got" = 1 ] && grep -qF -- "lint: outside citation: $2" "$WORK/err"; then ok "$1"; else
    fail "$1 (exit $got, wanted 1 naming $2)"; sed 's/^/    /' "$WORK/err"; fi
}

scratch ''
expect_code 0 "citations of docs/ pass" -- "$CHECK" "$WORK/tree"

for form in "$D $SEC""3" "$S $SEC""21" "$D.md" "$S.md"; do
  scratch ''
  cite src/core/a.c "/* the store ($form) */"
  refused "'$form' in a source file fails with its place" "src/core/a.c:2:"
done

scratch ''
cite docs/notes.md "As $D.md says."
refused "a citation in a doc fails with its place" "docs/notes.md:4:"

scratch $'# comment line\nsrc/app/hub*.c\n  src/rpc/tools.h  # trailing comment\n'
mkdir -p "$WORK/tree/src/app" "$WORK/tree/src/rpc"
cite src/app/hub_x.c "/* ($D $SEC""5) */"
cite src/rpc/tools.h "/* ($D $SEC""4) */"
expect_code 0 "files of the allowlist (a glob, a path) do not fail" -- "$CHECK" "$WORK/tree"
if grep -qF "lint: outside citation (allowed for now): src/app/hub_x.c:1:" "$WORK/err" &&
  grep -qF "lint: outside citation (allowed for now): src/rpc/tools.h:1:" "$WORK/err" &&
  grep -qF "lint: 2 outside citation(s) left" "$WORK/err"; then
  ok "files of the allowlist are reported"
else
  fail "files of the allowlist are not reported"; sed 's/^/    /' "$WORK/err"
fi
cite src/core/a.c "/* ($S $SEC""18) */"
refused "a file outside the allowlist still fails beside allowed ones" "src/core/a.c:2:"
if grep -qF "src/app/hub_x.c" "$WORK/err" && ! grep -qF "lint: outside citation: src/app/" "$WORK/err"; then
  ok "the allowed file stays a report when another fails"
else fail "the allowed file is not reported as allowed"; sed 's/^/    /' "$WORK/err"; fi

scratch ''
printf '/* (%s) */\n' "$D.md" >"$WORK/tree/src/core/untracked.c"
expect_code 0 "an untracked file is not searched" -- "$CHECK" "$WORK/tree"

scratch ''
cite src/core/a.c "/* ($D $SEC""2) */"
rm -rf "$WORK/tree/.git"
refused "without git, grep finds the citation" "src/core/a.c:2:"

finish
