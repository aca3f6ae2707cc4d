#!/usr/bin/env bash
# check_citations — comments and docs cite the project's own documents,
# never a design or style document the repository does not hold
# (docs/code-style.md, "No outside citations"). Part of scripts/lint.sh.
#
# Usage: scripts/check_citations.sh [ROOT] — ROOT (default: this
# repository) is searched through `git grep` over its tracked files, or
# with grep when it is not a git work tree. A file matching a line of
# ROOT/scripts/lint-citations-allow.txt (a path or a glob, as bash's
# [[ == ]] matches it) is reported on stderr but does not fail the check.
# This script and lint.sh, which hold the pattern, are not searched.
# Exit status: 0 when no citation is left outside the allowlist, else 1.
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root"
cite_re='DESIGN §|STYLE §|DESIGN\.md|STYLE\.md'
allow=()
if [ -f scripts/lint-citations-allow.txt ]; then
  while IFS= read -r line || [ -n "$line" ]; do
    line=${line%%#*}
    line=${line//[[:space:]]/}
    [ -n "$line" ] && allow+=("$line")
  done <scripts/lint-citations-allow.txt
fi
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  hits=$(git grep -InE "$cite_re" -- . ':!scripts/lint.sh' ':!scripts/check_citations.sh' || true)
else
  hits=$(grep -rInE "$cite_re" --exclude-dir=.git --exclude-dir=build --exclude-dir=node_modules . |
    sed 's|^\./||' | grep -vE '^scripts/(lint|check_citations)\.sh:' || true)
fi
failed=0 allowed=0
while IFS= read -r hit; do
  [ -n "$hit" ] || continue
  file=${hit%%:*}
  ok=0
  for pat in "${allow[@]+"${allow[@]}"}"; do
    # shellcheck disable=SC2053 # the allowlist's lines are globs on purpose
    if [[ $file == $pat ]]; then
      ok=1
      break
    fi
  done
  if [ $ok -eq 1 ]; then
    echo "lint: outside citation (allowed for now): $hit" >&2
    allowed=$((allowed + 1))
  else
    echo "lint: outside citation: $hit" >&2
    failed=$((failed + 1))
  fi
done <<<"$hits"
if [ $allowed -gt 0 ]; then
  echo "lint: $allowed outside citation(s) left in files of scripts/lint-citations-allow.txt" >&2
fi
if [ $failed -gt 0 ]; then
  echo "lint: $failed citation(s) of a document outside the repository; cite docs/ instead" \
    "(docs/code-style.md, \"No outside citations\")" >&2
  exit 1
fi
exit 0
