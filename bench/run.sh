#!/usr/bin/env bash
# bench/run.sh — the DESIGN §10 benchmarks that bench/ implements, run as
# `make bench` (which builds the release preset first).
#
# Every figure is set beside a baseline measured in this same invocation
# and judged only as a ratio: machines are noisy, absolute times are not
# asserted. Budgets are printed PASS/MISS for information; the exit status
# is 0 unless something failed to run.
#
# Placement is fixed with taskset, because on a 2-core machine it decides the
# figures more than the code does: a ping-pong whose two ends share a CPU
# costs a few µs, one whose ends sit on two CPUs pays a cross-CPU wake-up
# (tens of µs), and left to itself the scheduler picks either, differently
# from one run to the next — so a baseline and its subject could be
# measured in different worlds. Latency therefore runs twice:
#   one-cpu  client, server and their children on CPU 0: the baseline is
#            pure syscall and context-switch cost, and the server's own
#            work is fully exposed;
#   two-cpu  client on CPU 0, server (echo child, hub, reference server)
#            on CPU 1: the usual case of an agent and a hub on two cores.
# Throughput puts the server (hub, redis-server) on CPU 1 and the load
# generator (coordhub-bench, redis-benchmark) on CPU 0.
#
# Each hub is private: `coordhub serve --no-http` on a fresh state dir in a
# temp dir, stopped after its run; Redis is private too (a Unix socket like
# hub.sock, and a loopback TCP port for reference) and stopped here.
# Other work on the machine skews a ratio as much as any code change, so
# each phase first waits (up to BENCH_QUIET_WAIT s) for the CPUs to be at
# most BENCH_MAX_BUSY % busy, and the report shows the load it began at.
#
# Environment: BENCH_BUILD_DIR (default build/release), BENCH_N (pairs per
# latency run, 10000), BENCH_WARMUP (1000), BENCH_SECONDS (throughput window,
# 5), BENCH_CLIENTS (64), BENCH_REDIS_N (requests per redis run, 300000),
# BENCH_MAX_BUSY (10), BENCH_QUIET_WAIT (60), BENCH_REV (the revision to print;
# default `git describe --dirty`).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

BUILD=${BENCH_BUILD_DIR:-build/release}
HUB_BIN=$(realpath -m "$BUILD/coordhub")
BENCH_BIN=$(realpath -m "$BUILD/bench/coordhub-bench")
N=${BENCH_N:-10000}
WARMUP=${BENCH_WARMUP:-1000}
SECS=${BENCH_SECONDS:-5}
CLIENTS=${BENCH_CLIENTS:-64}
REDIS_N=${BENCH_REDIS_N:-300000}
MAX_BUSY=${BENCH_MAX_BUSY:-10}
QUIET_WAIT=${BENCH_QUIET_WAIT:-60}
EVERYTHING=bench/node_modules/@modelcontextprotocol/server-everything/dist/index.js

for bin in "$HUB_BIN" "$BENCH_BIN"; do
  [ -x "$bin" ] || { echo "bench: $bin is missing; run 'make bench' (or build $BUILD)" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/coordhub-bench.XXXXXX)
results=$tmp/results
: >"$results"
failures=()
loads=()
HUB_PID=""
REDIS_PID=""

# stop_pid PID — SIGTERM, SIGKILL after 5 s, and reap.
stop_pid() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
}

# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
  [ -n "$HUB_PID" ] && stop_pid "$HUB_PID"
  [ -n "$REDIS_PID" ] && stop_pid "$REDIS_PID"
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

note() { printf 'bench: %s\n' "$*" >&2; }
fail() { note "FAILED: $*"; failures+=("$*"); }

# pin CPU — set PIN to the prefix that runs a command on that CPU (empty
# without taskset or that CPU). A prefix, not a wrapper function: a
# background job must be the program itself (taskset execs it), so that
# $! is the pid to stop.
pin() {
  PIN=()
  if [ -n "$TASKSET" ] && [ "$1" -lt "$NCPU" ]; then
    PIN=(taskset -c "$1")
  fi
}
TASKSET=$(command -v taskset || true)
NCPU=$(nproc)
PIN=()

# busy_pct — percentage of all CPUs' time spent busy over the next second.
busy_pct() {
  local u n s i w q sq st t1 i1
  read -r _ u n s i w q sq st _ </proc/stat
  t1=$((u + n + s + i + w + q + sq + st)) i1=$((i + w))
  sleep 1
  read -r _ u n s i w q sq st _ </proc/stat
  local t=$((u + n + s + i + w + q + sq + st - t1))
  echo $((t > 0 ? 100 * (t - (i + w - i1)) / t : 0))
}

# quiet PHASE — wait for an idle machine; record the load the phase began at.
quiet() {
  local b waited=0
  b=$(busy_pct)
  while [ "$b" -gt "$MAX_BUSY" ] && [ "$waited" -lt "$QUIET_WAIT" ]; do
    waited=$((waited + 1))
    b=$(busy_pct)
  done
  [ "$b" -gt "$MAX_BUSY" ] && note "$1: the machine is still ${b}% busy; measuring anyway"
  loads+=("$1 ${b}%")
}

# bench LABEL CLIENT_CPU MODE ARGS... — one coordhub-bench run; keeps its
# RESULT line. The label goes right after the mode: anything after "--"
# is a command.
bench() {
  local label=$1 cpu=$2 mode=$3
  shift 3
  pin "$cpu"
  if "${PIN[@]}" "$BENCH_BIN" "$mode" --label "$label" "$@" >>"$results" 2>"$tmp/$label.err"; then
    tail -n 1 "$results" >&2
  else
    fail "$label ($(tail -n 3 "$tmp/$label.err" | tr '\n' ' '))"
  fi
}

# hub_start NAME CPU — a private hub on a fresh state dir; sets HUB_DIR.
hub_start() {
  HUB_DIR=$tmp/$1
  mkdir -p "$HUB_DIR/root"
  pin "$2"
  "${PIN[@]}" "$HUB_BIN" serve --state-dir "$HUB_DIR/state" --root "$HUB_DIR/root" --no-http \
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
  stop_pid "$HUB_PID"
  HUB_PID=""
}

# latency_round PLACEMENT SERVER_CPU — the five latency runs, client on CPU 0.
latency_round() {
  local p=$1 scpu=$2
  local common=(--n "$N" --warmup "$WARMUP" --server-cpu "$scpu")
  quiet "latency-$p"
  bench "raw-unix-$p" 0 pingpong-unix "${common[@]}"
  if hub_start "sock-$p" "$scpu"; then
    bench "hub-sock-$p" 0 mcp --socket "$HUB_DIR/state/hub.sock" "${common[@]}"
    hub_stop
  fi
  bench "raw-pipe-$p" 0 pingpong-pipe "${common[@]}"
  if hub_start "mcp-$p" "$scpu"; then
    bench "hub-mcp-$p" 0 mcp "${common[@]}" --stderr "$HUB_DIR/bridge.err" -- \
      "$HUB_BIN" mcp --state-dir "$HUB_DIR/state" --root "$HUB_DIR/root"
    hub_stop
  fi
  if [ -f "$EVERYTHING" ]; then
    bench "echo-$p" 0 mcp --tool echo "${common[@]}" --stderr "$tmp/everything.err" -- \
      node "$EVERYTHING" stdio
  else
    fail "echo-$p: $EVERYTHING missing (run 'make setup' or 'npm ci' in bench/)"
  fi
}

# redis_run LABEL unix|tcp REDIS_ARGS... — a private redis-server on CPU 1,
# one redis-benchmark run on CPU 0.
redis_run() {
  local label=$1 via=$2
  shift 2
  local dir=$tmp/$label target=() tries=1
  mkdir -p "$dir"
  [ "$via" = tcp ] && tries=5
  pin 1
  for _ in $(seq "$tries"); do
    if [ "$via" = tcp ]; then
      local port=$((20000 + RANDOM % 40000))
      "${PIN[@]}" redis-server --bind 127.0.0.1 --port "$port" "$@" --save '' --dir "$dir" \
        --logfile "$dir/log" &
      target=(-h 127.0.0.1 -p "$port")
    else
      "${PIN[@]}" redis-server --port 0 --unixsocket "$dir/r.sock" --unixsocketperm 700 "$@" \
        --save '' --dir "$dir" --logfile "$dir/log" &
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
    REDIS_PID="" # the port was taken: try another
  done
  if [ -z "$REDIS_PID" ]; then
    fail "$label: redis-server did not start"
    return
  fi
  local out
  pin 0
  out=$("${PIN[@]}" redis-benchmark "${target[@]}" -c "$CLIENTS" -n "$REDIS_N" -r 100000 -P 1 \
    --csv SET 'key:__rand_int__' v NX PX 60000 2>"$dir/err")
  # CSV: "test","rps","avg","min","p50","p95","p99","max" (latencies in ms)
  local line
  line=$(printf '%s\n' "$out" | awk -F'","' -v l="$label" -v c="$CLIENTS" 'NR == 2 && $2 > 0 {
    printf "RESULT %s clients=%s calls_per_s=%s call_p50_us=%.0f call_p99_us=%.0f\n",
      l, c, $2, $5 * 1000, $7 * 1000 }')
  if [ -n "$line" ]; then
    echo "$line" >>"$results"
    echo "$line" >&2
  else
    fail "$label: redis-benchmark: $(tail -n 2 "$dir/err" | tr '\n' ' ')"
  fi
  stop_pid "$REDIS_PID"
  REDIS_PID=""
}

started=$(date +%s)
rev=${BENCH_REV:-$(git describe --always --dirty 2>/dev/null || echo '?')}
note "coordhub $rev, $NCPU cores, N=$N pairs (+$WARMUP warm-up), $CLIENTS clients x ${SECS}s"
[ -n "$TASKSET" ] || note "taskset not found: runs are not pinned"

latency_round one-cpu 0
if [ "$NCPU" -ge 2 ]; then
  latency_round two-cpu 1
fi

quiet throughput
if hub_start throughput 1; then
  bench hub-throughput 0 throughput --socket "$HUB_DIR/state/hub.sock" \
    --clients "$CLIENTS" --seconds "$SECS" --warm-seconds 1
  hub_stop
fi
if command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null; then
  quiet redis
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
  [ -n "$(get "$l" calls_per_s)" ] || { printf '  %-40s %s\n' "$2" "(did not run)"; return; }
  printf '  %-40s %9s %9s %9s %9s %10.0f\n' "$2" "$(get "$l" pair_p50_us)" "$(get "$l" pair_p99_us)" \
    "$(get "$l" call_p50_us)" "$(get "$l" call_p99_us)" "$(get "$l" calls_per_s)"
}

# verdict NAME NUM DEN OP LIMIT — NUM/DEN compared with LIMIT (le or ge).
verdict() {
  local name=$1 num=$2 den=$3 op=$4 limit=$5
  if [ -z "$num" ] || [ -z "$den" ]; then
    printf '  %-5s %-64s %s\n' "-" "$name" "(not measured)"
    return
  fi
  awk -v n="$num" -v d="$den" -v op="$op" -v lim="$limit" -v name="$name" 'BEGIN {
    r = (d > 0) ? n / d : 0
    ok = (op == "le") ? (r <= lim) : (r >= lim)
    printf "  %-5s %-64s %6.2fx (budget %s %.1fx)\n", ok ? "PASS" : "MISS", name, r,
      op == "le" ? "<=" : ">=", lim }'
}

# ratio NAME NUM DEN — NUM/DEN, no verdict.
ratio() {
  if [ -z "$2" ] || [ -z "$3" ]; then
    printf '  %-5s %-64s %s\n' "" "$1" "(not measured)"
    return
  fi
  awk -v n="$2" -v d="$3" -v name="$1" 'BEGIN {
    printf "  %-5s %-64s %6.2fx\n", "", name, (d > 0) ? n / d : 0 }'
}

echo
echo "coordhub benchmarks — $(date -u +%Y-%m-%dT%H:%M:%SZ), $NCPU cores, git $rev"
echo "latency: $N lock+unlock pairs per run after $WARMUP warm-up pairs; message $(get raw-unix-one-cpu msg) bytes"
echo "CPU busy when each phase began (other processes): ${loads[*]}"
for p in one-cpu two-cpu; do
  [ -n "$(get "raw-unix-$p" calls_per_s)$(get "hub-sock-$p" calls_per_s)" ] || continue
  echo
  echo "latency, $p (µs)                     pair p50  pair p99  call p50  call p99    calls/s"
  row "raw-unix-$p" "raw Unix-socket ping-pong (echo child)"
  row "hub-sock-$p" "hub.sock lock_file + unlock_file"
  row "raw-pipe-$p" "raw pipe ping-pong (echo child)"
  row "hub-mcp-$p" "coordhub mcp lock_file + unlock_file"
  row "echo-$p" "server-everything echo x2 (stdio)"
done
echo
echo "throughput, $CLIENTS clients                                   calls/s  call p50  call p99 (µs)"
for l in hub-throughput redis-unix redis-unix-aof redis-tcp; do
  case $l in
  hub-throughput) d="coordhub lock/unlock calls (hub.sock, sqlite)" ;;
  redis-unix) d="redis SET NX PX (unix socket, no AOF)" ;;
  redis-unix-aof) d="redis SET NX PX (unix socket, AOF everysec)" ;;
  redis-tcp) d="redis SET NX PX (loopback TCP, no AOF)" ;;
  esac
  if [ -n "$(get $l calls_per_s)" ]; then
    printf '  %-53s %10.0f %9.0f %9.0f\n' "$d" "$(get $l calls_per_s)" "$(get $l call_p50_us)" \
      "$(get $l call_p99_us)"
  else
    printf '  %-53s %s\n' "$d" "(did not run)"
  fi
done
echo
echo "budgets (DESIGN §10), as ratios within this run:"
for p in one-cpu two-cpu; do
  [ -n "$(get "raw-unix-$p" calls_per_s)" ] || continue
  verdict "[$p] hub.sock lock+unlock p50 / raw Unix ping-pong pair p50" \
    "$(get "hub-sock-$p" pair_p50_us)" "$(get "raw-unix-$p" pair_p50_us)" le 1.5
  verdict "[$p] coordhub mcp lock+unlock p50 / raw pipe ping-pong pair p50" \
    "$(get "hub-mcp-$p" pair_p50_us)" "$(get "raw-pipe-$p" pair_p50_us)" le 1.5
  verdict "[$p] server-everything echo call p99 / coordhub mcp call p99" \
    "$(get "echo-$p" call_p99_us)" "$(get "hub-mcp-$p" call_p99_us)" ge 3
done
verdict "64-client lease calls/s / redis SET NX PX (unix, no AOF)" \
  "$(get hub-throughput calls_per_s)" "$(get redis-unix calls_per_s)" ge 2
verdict "64-client lease calls/s / redis SET NX PX (unix, AOF everysec)" \
  "$(get hub-throughput calls_per_s)" "$(get redis-unix-aof calls_per_s)" ge 2
verdict "64-client lease calls/s / redis SET NX PX (TCP, no AOF)" \
  "$(get hub-throughput calls_per_s)" "$(get redis-tcp calls_per_s)" ge 2
echo
echo "other readings of the same budgets (information only):"
for p in one-cpu two-cpu; do
  [ -n "$(get "raw-unix-$p" calls_per_s)" ] || continue
  ratio "[$p] hub.sock lock+unlock p50 / ONE raw Unix ping-pong p50" \
    "$(get "hub-sock-$p" pair_p50_us)" "$(get "raw-unix-$p" call_p50_us)"
  ratio "[$p] coordhub mcp lock+unlock p50 / ONE raw pipe ping-pong p50" \
    "$(get "hub-mcp-$p" pair_p50_us)" "$(get "raw-pipe-$p" call_p50_us)"
  ratio "[$p] echo x2 pair p99 / coordhub mcp lock+unlock pair p99" \
    "$(get "echo-$p" pair_p99_us)" "$(get "hub-mcp-$p" pair_p99_us)"
  ratio "[$p] echo call p99.9 / coordhub mcp call p99.9" \
    "$(get "echo-$p" call_p999_us)" "$(get "hub-mcp-$p" call_p999_us)"
done
ratio "64-client lease cycles/s (lock+unlock) / redis SET NX PX (unix, no AOF)" \
  "$(get hub-throughput calls_per_s)" "$(awk -v r="$(get redis-unix calls_per_s)" 'BEGIN { print 2 * r }')"
echo
echo "raw results (µs; calls/s):"
sed 's/^/  /' "$results"
echo "total run time: $(($(date +%s) - started)) s"

if ((${#failures[@]})); then
  echo
  echo "bench: ${#failures[@]} run(s) failed:" >&2
  printf '  %s\n' "${failures[@]}" >&2
  exit 1
fi
exit 0
