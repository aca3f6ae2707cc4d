#!/usr/bin/env bash
# Run every unit test and the store contract suite under valgrind memcheck:
# any leak or memory error fails. Usage: scripts/valgrind.sh BUILD_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/dev}
fail=0
run() {
  if ! valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect,possible \
      --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 \
      "$@" >"$build/valgrind.out" 2>&1; then
    echo "valgrind: FAIL $*" >&2
    tail -40 "$build/valgrind.out" >&2
    fail=1
  fi
}
for t in "$build"/test_*; do
  [ -x "$t" ] || continue
  case "$(basename "$t")" in
    test_store_contract) run "$t" memory; run "$t" sqlite; run "$t" redis; run "$t" redis-cluster ;;
    test_store_crash*) ;; # forks and SIGKILLs children on purpose
    *) run "$t" ;;
  esac
done
[ $fail -eq 0 ] && echo "valgrind: ok"
exit $fail
