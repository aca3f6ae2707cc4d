#!/usr/bin/env bash
# bench/run.sh — the DESIGN §10 benchmarks that bench/ implements, run as
# `make bench` (which builds the release preset first).
#
# Every figure is set beside a baseline measured in this same invocation
# and judged only as a ratio: machines are noisy, absolute times are not
# asserted. Budgets are printed PASS/MISS for information; the exit status
# is 0 unless something failed to run.
#
# Latency runs twice: pinned (client, server and their children on one
# CPU with taskset — the deterministic configuration, where the baseline is
# pure syscall and context-switch cost) and unpinned (the scheduler's
# choice; on a small VM a cross-CPU wake-up alone costs tens of µs and
# varies run to run). Throughput runs unpinned, like redis-benchmark.
#
# Each hub is private: `coordhub serve --no-http` on a fresh state dir in a
# temp dir, stopped after its run; Redis is private too (Unix socket, and a
# loopback TCP port for reference) and stopped by this script.
#
# Environment: BENCH_BUILD_DIR (default build/release), BENCH_N (pairs per
# latency run, 5000), BENCH_WARMUP (500), BENCH_SECONDS (throughput window,
# 5), BENCH_CLIENTS (64), BENCH_REDIS_N (requests per redis run, 300000).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

BUILD=${BENCH_BUILD_DIR:-build/release}
HUB_BIN=$(realpath -m "$BUILD/coordhub")
BENCH_BIN=$(realpath -m "$BUILD/bench/coordhub-bench")
N=${BENCH_N:-5000}
WARMUP=${BENCH_WARMUP:-500}
SECS=${BENCH_SECONDS:-5}
CLIENTS=${BENCH_CLIENTS:-64}
REDIS_N=${BENCH_REDIS_N:-300000}
EVERYTHING=bench/node_modules/@modelcontextprotocol/server-everything/dist/index.js

for bin in "$HUB_BIN" "$BENCH_BIN"; do
  [ -x "$bin" ] || { echo "bench: $bin is missing; run 'make bench' (or build $BUILD)" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/coordhub-bench.XXXXXX)
results=$tmp/results
: >"$results"
failures=()
HUB_PID=""
REDIS_PID=""

cleanup() {
  [ -n "$HUB_PID" ] && kill "$HUB_PID" 2>/dev/null && wait "$HUB_PID" 2>/dev/null
  [ -n "$REDIS_PID" ] && kill "$REDIS_PID" 2>/dev/null && wait "$REDIS_PID" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

note() { printf 'bench: %s\n' "$*" >&2; }
fail() { note "FAILED: $*"; failures+=("$*"); }

# bench LABEL PIN CMD... — run one coordhub-bench mode, keep its RESULT line.
bench() {
  local label=$1 pin=$2
  shift 2
  local pre=()
  [ "$pin" = pinned ] && pre=(taskset -c 0)
  if "${pre[@]}" "$BENCH_BIN" "$@" --label "$label" >>"$results" 2>"$tmp/$label.err"; then
    tail -n 1 "$results" >&2
  else
    fail "$label ($(tail -n 3 "$tmp/$label.err" | tr '\n' ' '))"
  fi
}

# hub_start NAME PIN — a private hub on a fresh state dir; sets HUB_DIR.
hub_start() {
  HUB_DIR=$tmp/$1
  mkdir -p "$HUB_DIR/root"
  local pre=()
  [ "$2" = pinned ] && pre=(taskset -c 0)
  "${pre[@]}" "$HUB_BIN" serve --state-dir "$HUB_DIR/state" --root "$HUB_DIR/root" --no-http \
    --log-level warning >"$HUB_DIR/serve.out" 2>&1 &
  HUB_PID=$!
  for _ in $(seq 200); do
    [ -S "$HUB_DIR/state/hub.sock" ] && return 0
    kill -0 "$HUB_PID" 2>/dev/null || break
    sleep 0.05
  done
  fail "hub $1 did not start: $(tail -n 3 "$HUB_DIR/serve.out" | tr '\n' ' ')"
  hub_stop
  return 1
}

hub_stop() {
  [ -n "$HUB_PID" ] || return 0
  kill -TERM "$HUB_PID" 2>/dev/null
  wait "$HUB_PID" 2>/dev/null
  HUB_PID=""
}

latency_round() {
  local pin=$1 common=(--n "$N" --warmup "$WARMUP")
  bench "raw-unix-$pin" "$pin" pingpong-unix "${common[@]}"
  if hub_start "sock-$pin" "$pin"; then
    bench "hub-sock-$pin" "$pin" mcp --socket "$HUB_DIR/state/hub.sock" "${common[@]}"
    hub_stop
  fi
  bench "raw-pipe-$pin" "$pin" pingpong-pipe "${common[@]}"
  if hub_start "mcp-$pin" "$pin"; then
    bench "hub-mcp-$pin" "$pin" mcp "${common[@]}" --stderr "$HUB_DIR/bridge.err" -- \
      "$HUB_BIN" mcp --state-dir "$HUB_DIR/state" --root "$HUB_DIR/root"
    hub_stop
  fi
  if [ -f "$EVERYTHING" ]; then
    bench "echo-$pin" "$pin" mcp --tool echo "${common[@]}" --stderr "$tmp/everything.err" -- \
      node "$EVERYTHING" stdio
  else
    fail "echo-$pin: $EVERYTHING missing (run 'make setup' or 'npm ci' in bench/)"
  fi
}

# redis_run LABEL ARGS... — private redis-server, one redis-benchmark run.
redis_run() {
  local label=$1
  shift
  local dir=$tmp/$label target=()
  mkdir -p "$dir"
  local tries=1
  [ "$1" = tcp ] && tries=5
  for _ in $(seq "$tries"); do
    if [ "$1" = tcp ]; then
      local port=$((20000 + RANDOM % 40000))
      redis-server --bind 127.0.0.1 --port "$port" "${@:2}" --save '' --dir "$dir" \
        --logfile "$dir/log" &
      target=(-h 127.0.0.1 -p "$port")
    else
      redis-server --port 0 --unixsocket "$dir/r.sock" --unixsocketperm 700 "${@:2}" --save '' \
        --dir "$dir" --logfile "$dir/log" &
      target=(-s "$dir/r.sock")
    fi
    REDIS_PID=$!
    for _ in $(seq 100); do
      redis-cli "${target[@]}" ping >/dev/null 2>&1 && break
      kill -0 "$REDIS_PID" 2>/dev/null || break
      sleep 0.05
    done
    kill -0 "$REDIS_PID" 2>/dev/null && break
    wait "$REDIS_PID" 2>/dev/null
    REDIS_PID=""
  done
  if [ -z "$REDIS_PID" ]; then
    fail "$label: redis-server did not start"
    return
  fi
  local out rps
  out=$(redis-benchmark "${target[@]}" -c "$CLIENTS" -n "$REDIS_N" -r 100000 -P 1 --csv \
    SET 'key:__rand_int__' v NX PX 60000 2>"$dir/err")
  rps=$(printf '%s\n' "$out" | awk -F'","' 'NR==2 {print $2}')
  if [ -n "$rps" ]; then
    local p50 p99
    p50=$(printf '%s\n' "$out" | awk -F'","' 'NR==2 {print $5 * 1000}')
    p99=$(printf '%s\n' "$out" | awk -F'","' 'NR==2 {print $7 * 1000}')
    echo "RESULT $label clients=$CLIENTS calls_per_s=$rps call_p50_us=$p50 call_p99_us=$p99" |
      tee -a "$results" >&2
  else
    fail "$label: redis-benchmark: $(tail -n 2 "$dir/err" | tr '\n' ' ')"
  fi
  kill "$REDIS_PID" 2>/dev/null
  wait "$REDIS_PID" 2>/dev/null
  REDIS_PID=""
}

started=$(date +%s)
note "coordhub $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores, N=$N pairs (+$WARMUP warm-up), $CLIENTS clients x ${SECS}s"

if command -v taskset >/dev/null 2>&1; then
  latency_round pinned
else
  note "taskset not found: pinned latency runs skipped"
fi
latency_round unpinned

if hub_start throughput unpinned; then
  bench hub-throughput unpinned throughput --socket "$HUB_DIR/state/hub.sock" \
    --clients "$CLIENTS" --seconds "$SECS" --warm-seconds 1
  hub_stop
fi
if command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null; then
  redis_run redis-unix unix --appendonly no
  redis_run redis-unix-aof unix --appendonly yes --appendfsync everysec
  redis_run redis-tcp tcp --appendonly no
else
  fail "redis-server/redis-benchmark not installed"
fi

# ---- report --------------------------------------------------------------
# get LABEL KEY — a figure from the RESULT lines ("" if absent).
get() {
  awk -v l="$1" -v k="$2" '$1 == "RESULT" && $2 == l {
    for (i = 3; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) print kv[2] } }' "$results"
}

row() { # LABEL DESCRIPTION
  local l=$1
  [ -n "$(get "$l" calls_per_s)" ] || { printf '  %-44s %s\n' "$2" "(did not run)"; return; }
  printf '  %-44s %9s %9s %9s %9s %10s\n' "$2" "$(get "$l" pair_p50_us)" "$(get "$l" pair_p99_us)" \
    "$(get "$l" call_p50_us)" "$(get "$l" call_p99_us)" "$(get "$l" calls_per_s)"
}

# verdict NAME NUM DEN OP LIMIT — NUM/DEN compared with LIMIT (le or ge).
verdict() {
  local name=$1 num=$2 den=$3 op=$4 limit=$5
  if [ -z "$num" ] || [ -z "$den" ]; then
    printf '  %-5s %-66s %s\n' "-" "$name" "(not measured)"
    return
  fi
  awk -v n="$num" -v d="$den" -v op="$op" -v lim="$limit" -v name="$name" 'BEGIN {
    r = (d > 0) ? n / d : 0
    ok = (op == "le") ? (r <= lim) : (r >= lim)
    printf "  %-5s %-66s %6.2fx (budget %s %.1fx)\n", ok ? "PASS" : "MISS", name, r,
      op == "le" ? "<=" : ">=", lim }'
}

echo
echo "coordhub benchmarks — $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, git $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "latency: $N lock+unlock pairs per run after $WARMUP warm-up pairs; message $(get raw-unix-unpinned msg) bytes"
echo
for pin in pinned unpinned; do
  [ -n "$(get "raw-unix-$pin" calls_per_s)" ] || [ -n "$(get "hub-sock-$pin" calls_per_s)" ] || continue
  echo "latency, $pin (µs)                              pair p50  pair p99  call p50  call p99    calls/s"
  row "raw-unix-$pin" "raw Unix-socket ping-pong (echo child)"
  row "hub-sock-$pin" "hub.sock lock_file+unlock_file"
  row "raw-pipe-$pin" "raw pipe ping-pong (echo child)"
  row "hub-mcp-$pin" "coordhub mcp lock_file+unlock_file"
  row "echo-$pin" "server-everything echo x2 (stdio)"
  echo
done
echo "throughput, $CLIENTS clients                                          calls/s  call p50  call p99 (µs)"
for l in hub-throughput redis-unix redis-unix-aof redis-tcp; do
  case $l in
  hub-throughput) d="coordhub lock/unlock calls (hub.sock, sqlite)" ;;
  redis-unix) d="redis SET NX PX (unix socket, no AOF)" ;;
  redis-unix-aof) d="redis SET NX PX (unix socket, AOF everysec)" ;;
  redis-tcp) d="redis SET NX PX (loopback TCP, no AOF)" ;;
  esac
  if [ -n "$(get $l calls_per_s)" ]; then
    printf '  %-60s %10s %9s %9s\n' "$d" "$(get $l calls_per_s)" "$(get $l call_p50_us)" "$(get $l call_p99_us)"
  else
    printf '  %-60s %s\n' "$d" "(did not run)"
  fi
done
echo
echo "budgets (DESIGN §10), as ratios within this run:"
for pin in pinned unpinned; do
  [ -n "$(get "raw-unix-$pin" calls_per_s)" ] || continue
  verdict "[$pin] hub.sock lock+unlock p50 / raw Unix ping-pong pair p50" \
    "$(get "hub-sock-$pin" pair_p50_us)" "$(get "raw-unix-$pin" pair_p50_us)" le 1.5
  verdict "[$pin] coordhub mcp lock+unlock p50 / raw pipe ping-pong pair p50" \
    "$(get "hub-mcp-$pin" pair_p50_us)" "$(get "raw-pipe-$pin" pair_p50_us)" le 1.5
  verdict "[$pin] server-everything echo call p99 / coordhub mcp call p99" \
    "$(get "echo-$pin" call_p99_us)" "$(get "hub-mcp-$pin" call_p99_us)" ge 3
done
verdict "64-client lease calls/s / redis SET NX PX (unix, no AOF)" \
  "$(get hub-throughput calls_per_s)" "$(get redis-unix calls_per_s)" ge 2
verdict "64-client lease calls/s / redis SET NX PX (unix, AOF everysec)" \
  "$(get hub-throughput calls_per_s)" "$(get redis-unix-aof calls_per_s)" ge 2
verdict "64-client lease calls/s / redis SET NX PX (TCP, no AOF)" \
  "$(get hub-throughput calls_per_s)" "$(get redis-tcp calls_per_s)" ge 2
echo
echo "raw results:"
sed 's/^/  /' "$results"
echo "total run time: $(($(date +%s) - started)) s"

if ((${#failures[@]})); then
  echo
  echo "bench: ${#failures[@]} run(s) failed:" >&2
  printf '  %s\n' "${failures[@]}" >&2
  exit 1
fi
exit 0
