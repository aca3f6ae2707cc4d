#!/usr/bin/env bash
# clang-tidy over the project's sources and the benchmark drivers with the
# checks in .clang-tidy.
# Usage: scripts/tidy.sh BUILD_DIR (a configured build with compile_commands.json)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/dev}
[ -f "$build/compile_commands.json" ] || { echo "tidy: no $build/compile_commands.json" >&2; exit 1; }
files=$(git ls-files 'src/*.c' 'bench/*.c')
jobs=$(nproc 2>/dev/null || echo 2)
printf '%s\n' $files | xargs -P "$jobs" -n 4 clang-tidy -p "$build" --quiet 2>/dev/null >"$build/tidy.log" || {
  grep -E 'warning:|error:' "$build/tidy.log" | head -50 >&2
  echo "tidy: clang-tidy found problems (full log: $build/tidy.log)" >&2
  exit 1
}
echo "tidy: ok"
