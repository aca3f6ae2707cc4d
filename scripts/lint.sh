#!/usr/bin/env bash
# Formatting, banned functions, citations of documents outside the
# repository (scripts/check_citations.sh) and the layering of src/'s
# includes (scripts/check_layers.py against cmake/layers.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
files=$(git ls-files '*.c' '*.h' 2>/dev/null || true)
[ -n "$files" ] || files=$(find src tests fuzz bench -name '*.[ch]' 2>/dev/null)
fail=0
if ! clang-format --dry-run --Werror $files 2>/tmp/coordhub-format.$$; then
  echo "lint: formatting differs (run 'make format'):" >&2
  head -40 /tmp/coordhub-format.$$ >&2
  fail=1
fi
rm -f /tmp/coordhub-format.$$
if grep -nE '\b(sprintf|strcpy|strcat|atoi|gets|vsprintf)\s*\(' $files | grep -v 'snprintf\|vsnprintf'; then
  echo "lint: banned function used (docs/code-style.md, \"Banned functions\")" >&2
  fail=1
fi
if ! scripts/check_citations.sh; then
  fail=1
fi
if ! python3 scripts/check_layers.py; then
  echo "lint: an include crosses the layers of cmake/layers.txt (docs/architecture.md)" >&2
  fail=1
fi
[ $fail -eq 0 ] && echo "lint: ok"
exit $fail
