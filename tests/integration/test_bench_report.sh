#!/usr/bin/env bash
# The benchmark script reports what it measured: a short `bench/run.sh
# lock` against this build labels every latency row with its placement and
# prints a figure, not "(not measured)", for every lock-phase budget.
# (Regression: a loop variable in hub_stop overwrote latency_round's
# placement, so the stdio rows were labelled with a pid.) The figures
# themselves are not judged here: only that each was measured.
source "$(dirname "$0")/lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(dirname "$(realpath "$COORDHUB")")

if [ ! -x "$BUILD/bench/coordhub-bench" ]; then
  fail "coordhub-bench is not built beside $COORDHUB"
  finish
  exit
fi

out=$WORK/bench.out
BENCH_BUILD_DIR=$BUILD BENCH_N=300 BENCH_WARMUP=30 BENCH_SECONDS=1 BENCH_CLIENTS=8 \
  BENCH_REDIS_N=20000 BENCH_QUIET_WAIT=0 BENCH_MAX_BUSY=100 BENCH_REV=test \
  bash "$SRC/bench/run.sh" lock >"$out" 2>"$WORK/bench.err"
rc=$?
[ "$rc" -eq 0 ] && ok "bench/run.sh lock exits 0" ||
  { fail "bench/run.sh lock exits $rc"; tail -n 20 "$WORK/bench.err" | sed 's/^/    /'; }

for p in one-cpu two-cpu; do
  [ "$p" = two-cpu ] && [ "$(nproc)" -lt 2 ] && continue
  if grep -q "^latency, $p (µs)" "$out"; then ok "latency table for $p"; else
    fail "no latency table for $p"; fi
  for row in "hub.sock lock_file + unlock_file" "coordhub mcp lock_file + unlock_file" \
    "raw pipe ping-pong (echo child)"; do
    # The row must sit in its own placement's table and carry figures.
    if awk -v p="$p" -v r="$row" '
      /^latency, / { t = ($2 == p) } t && index($0, r) && $0 !~ /did not run/ { f = 1 }
      END { exit !f }' "$out"; then ok "[$p] $row measured"; else fail "[$p] $row not measured"; fi
  done
done
if grep -E '^latency, [0-9]+ ' "$out" >/dev/null; then
  fail "a latency table is labelled with a number"
else
  ok "no latency table is labelled with a number"
fi

budgets=$(sed -n '/^budgets/,/^other readings/p' "$out")
n=$(grep -c 'PASS\|MISS' <<<"$budgets" || true)
if grep -q 'not measured' <<<"$budgets"; then
  fail "budget lines not measured:"; grep 'not measured' <<<"$budgets" | sed 's/^/    /'
else
  ok "every lock budget measured ($n lines)"
fi
[ "$n" -ge 6 ] && ok "at least six lock budgets printed" || fail "only $n lock budgets printed"
[ "$rc" -eq 0 ] || sed 's/^/    /' "$out"
finish
