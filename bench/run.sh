#!/usr/bin/env bash
# bench/run.sh — the benchmarks of BENCHMARKS.md ("Budgets"), run as
# `make bench` (which builds the release preset first).
#
# Usage: bench/run.sh [PHASE...] — PHASE is `lock` (lock+unlock latency and
# lease throughput against raw ping-pongs and Redis), `sse` (GET /events
# fan-out and publish -> delivery latency against a minimal SSE writer) or
# `mcp-http` (tools/call over Streamable HTTP against the reference
# server) or `redis` (the hub on the Redis store: lease throughput with one
# and two hubs, lock+unlock latency, cross-hub event propagation, against
# redis-benchmark and raw hiredis round trips on the same redis-server);
# no PHASE runs all four.
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
# SSE runs the hub on CPU 1 and the subscribers+publisher process on CPU 0;
# its baseline writer is a child of that process, on CPU 1. mcp-http runs
# in both latency placements. The redis phase puts redis-server and the
# hubs on CPU 1 and every client (coordhub-bench, redis-benchmark) on
# CPU 0; its redis-server runs with appendonly yes, appendfsync everysec,
# the persistence docs/operations.md asks of a hub's Redis.
#
# Each hub is private: `coordhub serve` on a fresh state dir in a temp dir
# (`--no-http`, or `--http 127.0.0.1:0` for the HTTP phases, whose client
# reads the address from <state-dir>/http.addr and the admin token from
# <state-dir>/token), stopped after its run; Redis is private too (a Unix socket like
# hub.sock, and a loopback TCP port for reference) and stopped here.
# Other work on the machine skews a ratio as much as any code change, so
# each phase first waits (up to BENCH_QUIET_WAIT s) for the CPUs to be at
# most BENCH_MAX_BUSY % busy, and the report shows the load it began at.
#
# Environment: BENCH_BUILD_DIR (default build/release), BENCH_N (pairs per
# latency run, 10000), BENCH_WARMUP (1000), BENCH_SECONDS (throughput window,
# 5), BENCH_CLIENTS (64), BENCH_REDIS_N (requests per redis run, 300000),
# BENCH_MAX_BUSY (10), BENCH_QUIET_WAIT (60), BENCH_REV (the revision to print;
# default `git describe --dirty`); SSE: BENCH_SSE_SUBSCRIBERS (100),
# BENCH_SSE_EVENTS (fan-out events counted, 20000), BENCH_SSE_RATE (events/s,
# 10000), BENCH_SSE_SECONDS (latency window, 5); mcp-http: BENCH_HTTP_N
# (calls, 5000), BENCH_HTTP_WARMUP (500); redis: BENCH_PROP_N (events
# timed per propagation run, 4000; warm-up a tenth of it).
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
SSE_SUBS=${BENCH_SSE_SUBSCRIBERS:-100}
SSE_EVENTS=${BENCH_SSE_EVENTS:-20000}
SSE_RATE=${BENCH_SSE_RATE:-10000}
SSE_SECONDS=${BENCH_SSE_SECONDS:-5}
HTTP_N=${BENCH_HTTP_N:-5000}
HTTP_WARMUP=${BENCH_HTTP_WARMUP:-500}
PROP_N=${BENCH_PROP_N:-4000}
EVERYTHING=bench/node_modules/@modelcontextprotocol/server-everything/dist/index.js

PHASES=()
for a in "$@"; do
  case $a in
  lock | sse | mcp-http | redis) PHASES+=("$a") ;;
  *)
    echo "usage: bench/run.sh [lock|sse|mcp-http|redis]..." >&2
    exit 2
    ;;
  esac
done
((${#PHASES[@]})) || PHASES=(lock sse mcp-http redis)
want() { [[ " ${PHASES[*]} " == *" $1 "* ]]; }

for bin in "$HUB_BIN" "$BENCH_BIN"; do
  [ -x "$bin" ] || { echo "bench: $bin is missing; run 'make bench' (or build $BUILD)" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/coordhub-bench.XXXXXX)
results=$tmp/results
: >"$results"
failures=()
loads=()
HUB_PID=""
HUB_PIDS=()
REDIS_PID=""
NODE_PID=""

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
  local p
  for p in "${HUB_PIDS[@]}"; do stop_pid "$p"; done
  [ -n "$REDIS_PID" ] && stop_pid "$REDIS_PID"
  [ -n "$NODE_PID" ] && stop_pid "$NODE_PID"
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

note() { printf 'bench: %s\n' "$*" >&2; }
fail() { note "FAILED: $*"; failures+=("$*"); }

# get LABEL KEY — a figure from the RESULT lines ("" if absent).
get() {
  awk -v l="$1" -v k="$2" '$1 == "RESULT" && $2 == l {
    for (i = 3; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) print kv[2] } }' "$results"
}

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

# hub_start NAME CPU [http|-] [STORE_URL WORKSPACE] — a private hub on a
# fresh state dir; sets HUB_DIR and HUB_PID (hub_stop stops every hub
# started). With "http", its HTTP face listens on a loopback ephemeral
# port (HUB_ADDR, and the token in $HUB_DIR/state/token). With a store URL
# it keeps its log there, in the named workspace, instead of SQLite.
hub_start() {
  HUB_DIR=$tmp/$1
  HUB_ADDR=""
  local http=(--no-http) ready=$tmp/$1/state/hub.sock store=()
  [ -n "${4:-}" ] && store=(--store "$4" --workspace "$5")
  if [ "${3:-}" = http ]; then
    http=(--http 127.0.0.1:0)
    ready=$tmp/$1/state/http.addr
  fi
  mkdir -p "$HUB_DIR/root"
  pin "$2"
  "${PIN[@]}" "$HUB_BIN" serve --state-dir "$HUB_DIR/state" --root "$HUB_DIR/root" "${http[@]}" \
    "${store[@]}" --log-level warning >"$HUB_DIR/serve.out" 2>&1 &
  HUB_PID=$!
  HUB_PIDS+=("$HUB_PID")
  for _ in $(seq 200); do
    if [ -e "$ready" ]; then
      [ "${3:-}" = http ] && HUB_ADDR=$(cat "$ready")
      return 0
    fi
    kill -0 "$HUB_PID" 2>/dev/null || break
    sleep 0.05
  done
  fail "hub $1 did not start: $(tail -n 3 "$HUB_DIR/serve.out" | tr '\n' ' ')"
  hub_stop
  return 1
}

# Its loop variable is local: bash scoping is dynamic, so a bare `p` here
# would overwrite the caller's own `p` (latency_round's placement).
hub_stop() {
  local p
  for p in "${HUB_PIDS[@]}"; do stop_pid "$p"; done
  HUB_PIDS=()
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
  line=$(printf '%s\n' "$out" | awk -F'","' -v l="$label" -v c="$CLIENTS" 'NR == 2 && $(NF-6) > 0 {
    printf "RESULT %s clients=%s calls_per_s=%s call_p50_us=%.0f call_p99_us=%.0f\n",
      l, c, $(NF-6), $(NF-3) * 1000, $(NF-1) * 1000 }')
  if [ -n "$line" ]; then
    echo "$line" >>"$results"
    echo "$line" >&2
  else
    fail "$label: redis-benchmark: $(tail -n 2 "$dir/err" | tr '\n' ' ')"
  fi
  stop_pid "$REDIS_PID"
  REDIS_PID=""
}

# sse_round — fan-out and latency, each against the hub then the baseline
# writer sending frames of the size the hub's subscribers measured; the
# latency also with 10 subscribers (information: what one event costs when
# the machine is not writing 100 sockets per event).
sse_round() {
  local sub=(--subscribers "$SSE_SUBS") frame
  quiet sse-fanout
  if hub_start sse-fanout 1 http; then
    bench hub-sse-fanout 0 sse-fanout --addr "$HUB_ADDR" --token-file "$HUB_DIR/state/token" \
      "${sub[@]}" --events "$SSE_EVENTS"
    hub_stop
  fi
  frame=$(get hub-sse-fanout frame_bytes)
  bench base-sse-fanout 0 sse-fanout --baseline --server-cpu 1 --frame-bytes "${frame:-0}" \
    "${sub[@]}" --events "$SSE_EVENTS"
  quiet sse-latency
  if hub_start sse-latency 1 http; then
    bench hub-sse-latency 0 sse-latency --addr "$HUB_ADDR" --token-file "$HUB_DIR/state/token" \
      "${sub[@]}" --rate "$SSE_RATE" --seconds "$SSE_SECONDS"
    bench hub-sse-latency-10 0 sse-latency --addr "$HUB_ADDR" \
      --token-file "$HUB_DIR/state/token" --subscribers 10 --rate "$SSE_RATE" \
      --seconds "$SSE_SECONDS"
    hub_stop
  fi
  bench base-sse-latency 0 sse-latency --baseline --server-cpu 1 --frame-bytes "${frame:-0}" \
    "${sub[@]}" --rate "$SSE_RATE" --seconds "$SSE_SECONDS"
  bench base-sse-latency-10 0 sse-latency --baseline --server-cpu 1 --frame-bytes "${frame:-0}" \
    --subscribers 10 --rate "$SSE_RATE" --seconds "$SSE_SECONDS"
}

# everything_start CPU — the reference server in Streamable HTTP mode on a
# loopback ephemeral port; sets NODE_ADDR.
everything_start() {
  local portfile=$tmp/everything.port
  rm -f "$portfile"
  pin "$1"
  BENCH_PORT_FILE=$portfile "${PIN[@]}" node bench/everything-http.mjs >/dev/null \
    2>>"$tmp/everything-http.err" &
  NODE_PID=$!
  for _ in $(seq 200); do
    if [ -s "$portfile" ]; then
      NODE_ADDR=127.0.0.1:$(cat "$portfile")
      return 0
    fi
    kill -0 "$NODE_PID" 2>/dev/null || break
    sleep 0.05
  done
  fail "server-everything streamableHttp did not start: $(tail -n 3 "$tmp/everything-http.err" | tr '\n' ' ')"
  everything_stop
  return 1
}

everything_stop() {
  [ -n "$NODE_PID" ] || return 0
  stop_pid "$NODE_PID"
  NODE_PID=""
}

# mcp_http_round PLACEMENT SERVER_CPU — /mcp check_lock, then the reference
# server's echo, both over Streamable HTTP from the same client on CPU 0.
mcp_http_round() {
  local p=$1 scpu=$2
  local common=(--n "$HTTP_N" --warmup "$HTTP_WARMUP")
  quiet "mcp-http-$p"
  if hub_start "mcphttp-$p" "$scpu" http; then
    bench "hub-mcphttp-$p" 0 mcp-http --addr "$HUB_ADDR" --token-file "$HUB_DIR/state/token" \
      "${common[@]}"
    hub_stop
  fi
  if [ ! -f "$EVERYTHING" ]; then
    fail "everything-mcphttp-$p: $EVERYTHING missing (run 'make setup' or 'npm ci' in bench/)"
  elif everything_start "$scpu"; then
    bench "everything-mcphttp-$p" 0 mcp-http --tool echo --addr "$NODE_ADDR" "${common[@]}"
    everything_stop
  fi
}

# redis_start NAME — a private redis-server on CPU 1 on a Unix socket in a
# temp dir, appendonly yes, appendfsync everysec; sets REDIS_SOCK.
redis_start() {
  local dir=$tmp/$1
  mkdir -p "$dir"
  REDIS_SOCK=$dir/r.sock
  pin 1
  "${PIN[@]}" redis-server --port 0 --unixsocket "$REDIS_SOCK" --unixsocketperm 700 \
    --appendonly yes --appendfsync everysec --save '' --dir "$dir" --logfile "$dir/log" &
  REDIS_PID=$!
  for _ in $(seq 100); do
    redis-cli -s "$REDIS_SOCK" ping >/dev/null 2>&1 && return 0
    kill -0 "$REDIS_PID" 2>/dev/null || break
    sleep 0.05
  done
  fail "$1: redis-server did not start: $(tail -n 2 "$dir/log" | tr '\n' ' ')"
  redis_stop
  return 1
}

redis_stop() {
  [ -n "$REDIS_PID" ] || return 0
  stop_pid "$REDIS_PID"
  REDIS_PID=""
}

# redis_bench LABEL COMMAND... — one redis-benchmark run on CPU 0 against
# REDIS_SOCK; keeps its RESULT line. The CSV's fields are counted from the
# end: the first (the command) may itself hold '","'.
redis_bench() {
  local label=$1 out line
  shift
  pin 0
  out=$("${PIN[@]}" redis-benchmark -s "$REDIS_SOCK" -c "$CLIENTS" -n "$REDIS_N" -r 100000 -P 1 \
    --csv "$@" 2>"$tmp/$label.err")
  line=$(printf '%s\n' "$out" | awk -F'","' -v l="$label" -v c="$CLIENTS" 'NR == 2 && $(NF-6) > 0 {
    printf "RESULT %s clients=%s calls_per_s=%s call_p50_us=%.0f call_p99_us=%.0f\n",
      l, c, $(NF-6), $(NF-3) * 1000, $(NF-1) * 1000 }')
  if [ -n "$line" ]; then
    echo "$line" >>"$results"
    echo "$line" >&2
  else
    fail "$label: redis-benchmark: $(tail -n 2 "$tmp/$label.err" | tr '\n' ' ')"
  fi
}

# A compare-and-append of one event, shaped like the Redis store's append
# script (src/store/store_redis.c) without its compatibility keys; the
# stream is capped so a long run does not fill memory.
REDIS_APPEND_LUA="local cur = redis.call('GET', KEYS[1]) or '0'
local nxt = tostring(tonumber(cur) + 1)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', '100000', nxt .. '-0', 'type', 'file:locked', 'ts', '1700000000000', 'data', ARGV[1])
redis.call('PUBLISH', 'mcp:bench', ARGV[1])
redis.call('SET', KEYS[1], nxt)
return {'ok', nxt}"
REDIS_APPEND_EVENT='{"file":"src/bench/f12.c","agentId":"bench-17","mode":"exclusive","token":4242,"ttl":60,"reason":null}'

# redis_round — the hub on the Redis store beside SQLite and raw Redis, all
# on one redis-server (AOF everysec) started here; every hub gets its own
# workspace, the two-hub runs share one.
redis_round() {
  local url sha common=(--n "$N" --warmup "$WARMUP") tp
  local prop=(--n "$PROP_N" --warmup $((PROP_N / 10)))
  tp=(--clients "$CLIENTS" --seconds "$SECS" --warm-seconds 1)
  redis_start redis-store || return
  url=unix://$REDIS_SOCK
  quiet redis-throughput
  if hub_start rs-sqlite 1; then
    bench rs-sqlite-throughput 0 throughput --socket "$HUB_DIR/state/hub.sock" "${tp[@]}"
    hub_stop
  fi
  if hub_start rs-one 1 - "$url" rs-one; then
    bench rs-redis1-throughput 0 throughput --socket "$HUB_DIR/state/hub.sock" "${tp[@]}"
    hub_stop
  fi
  if hub_start rs-two-a 1 - "$url" rs-two; then
    local sock_a=$HUB_DIR/state/hub.sock
    if hub_start rs-two-b 1 - "$url" rs-two; then
      bench rs-redis2-throughput 0 throughput --retry --socket "$sock_a" \
        --socket "$HUB_DIR/state/hub.sock" "${tp[@]}"
    fi
    hub_stop
  fi
  redis_bench rs-setnx SET 'key:__rand_int__' v NX PX 60000
  sha=$(redis-cli -s "$REDIS_SOCK" script load \
    "return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', 60000)" 2>&1)
  if [[ $sha =~ ^[0-9a-f]{40}$ ]]; then
    redis_bench rs-evalsha EVALSHA "$sha" 1 'key:__rand_int__' v
  else
    fail "rs-evalsha: SCRIPT LOAD answered: $sha"
  fi
  # The shape of the hub's append script, one event per call, every client
  # on one workspace's two keys: read the version, XADD the event under
  # the next seq, PUBLISH it, set the version.
  sha=$(redis-cli -s "$REDIS_SOCK" script load "$REDIS_APPEND_LUA" 2>&1)
  if [[ $sha =~ ^[0-9a-f]{40}$ ]]; then
    redis_bench rs-evalsha-append EVALSHA "$sha" 2 'mcp:{bench}:seq' 'mcp:{bench}:log' \
      "$REDIS_APPEND_EVENT"
  else
    fail "rs-evalsha-append: SCRIPT LOAD answered: $sha"
  fi

  quiet redis-latency
  bench rs-raw-unix 0 pingpong-unix "${common[@]}" --server-cpu 1
  if hub_start rs-lat-sqlite 1; then
    bench rs-sqlite-sock 0 mcp --socket "$HUB_DIR/state/hub.sock" "${common[@]}"
    hub_stop
  fi
  if hub_start rs-lat-redis 1 - "$url" rs-lat; then
    bench rs-redis-sock 0 mcp --socket "$HUB_DIR/state/hub.sock" "${common[@]}"
    hub_stop
  fi
  bench rs-redis-pair 0 redis-pair --redis "$REDIS_SOCK" "${common[@]}"

  quiet redis-propagation
  if hub_start rs-prop-a 1 http "$url" rs-prop; then
    local sock_a=$HUB_DIR/state/hub.sock addr_a=$HUB_ADDR token_a=$HUB_DIR/state/token
    bench rs-prop-local 0 propagate --socket "$sock_a" --addr "$addr_a" --token-file "$token_a" \
      "${prop[@]}"
    if hub_start rs-prop-b 1 http "$url" rs-prop; then
      bench rs-prop-cross 0 propagate --socket "$sock_a" --addr "$HUB_ADDR" \
        --token-file "$HUB_DIR/state/token" "${prop[@]}"
    fi
    hub_stop
  fi
  bench rs-redis-tail 0 redis-tail --redis "$REDIS_SOCK" "${prop[@]}"
  redis_stop
}

started=$(date +%s)
rev=${BENCH_REV:-$(git describe --always --dirty 2>/dev/null || echo '?')}
note "coordhub $rev, $NCPU cores, phases: ${PHASES[*]}"
[ -n "$TASKSET" ] || note "taskset not found: runs are not pinned"

if want lock; then
  note "lock: N=$N pairs (+$WARMUP warm-up), $CLIENTS clients x ${SECS}s"
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
fi
if want sse; then
  note "sse: $SSE_SUBS subscribers, $SSE_EVENTS events (fan-out), $SSE_RATE events/s x ${SSE_SECONDS}s (latency)"
  sse_round
fi
if want mcp-http; then
  note "mcp-http: N=$HTTP_N calls (+$HTTP_WARMUP warm-up)"
  mcp_http_round one-cpu 0
  if [ "$NCPU" -ge 2 ]; then
    mcp_http_round two-cpu 1
  fi
fi
if want redis; then
  if command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null; then
    note "redis: $CLIENTS clients x ${SECS}s, N=$N pairs, $PROP_N propagated events"
    redis_round
  else
    fail "redis-server/redis-benchmark not installed"
  fi
fi

# ---- report --------------------------------------------------------------
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

# absolute NAME VALUE OP LIMIT UNIT — a budget BENCHMARKS.md states in absolute
# terms (the SSE ones), compared as it is written.
absolute() {
  local name=$1 v=$2 op=$3 limit=$4 unit=$5
  if [ -z "$v" ]; then
    printf '  %-5s %-64s %s\n' "-" "$name" "(not measured)"
    return
  fi
  awk -v v="$v" -v op="$op" -v lim="$limit" -v name="$name" -v u="$unit" 'BEGIN {
    ok = (op == "le") ? (v <= lim) : (v >= lim)
    printf "  %-5s %-64s %9.0f%s (budget %s %.0f%s)\n", ok ? "PASS" : "MISS", name, v, u,
      op == "le" ? "<=" : ">=", lim, u }'
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
echo "CPU busy when each phase began (other processes): ${loads[*]}"
if want lock; then
  echo "latency: $N lock+unlock pairs per run after $WARMUP warm-up pairs; message $(get raw-unix-one-cpu msg) bytes"
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
fi
if want sse; then
  echo
  echo "SSE fan-out, $SSE_SUBS subscribers            deliveries/s  events/s  frame B  client CPU %"
  for l in hub-sse-fanout base-sse-fanout; do
    case $l in
    hub-sse-fanout) d="hub GET /events (POST /events x100)" ;;
    base-sse-fanout) d="baseline SSE writer" ;;
    esac
    if [ -n "$(get $l deliveries_per_s)" ]; then
      printf '  %-40s %12.0f %9.0f %8s %13s\n' "$d" "$(get $l deliveries_per_s)" \
        "$(get $l events_per_s)" "$(get $l frame_bytes)" "$(get $l client_cpu_pct)"
    else
      printf '  %-40s %s\n' "$d" "(did not run)"
    fi
  done
  echo
  echo "publish -> delivery at $SSE_RATE events/s (µs)     p50      p90      p99    p99.9      max  arrivals/s  POST p99"
  for l in hub-sse-latency base-sse-latency hub-sse-latency-10 base-sse-latency-10; do
    case $l in
    hub-sse-latency) d="hub (POST /events -> GET /events)" ;;
    base-sse-latency) d="baseline SSE writer" ;;
    hub-sse-latency-10) d="hub, 10 subscribers (information)" ;;
    base-sse-latency-10) d="baseline, 10 subscribers" ;;
    esac
    if [ -n "$(get $l lat_p50_us)" ]; then
      printf '  %-36s %8.0f %8.0f %8.0f %8.0f %8.0f %11.0f %9s\n' "$d" "$(get $l lat_p50_us)" \
        "$(get $l lat_p90_us)" "$(get $l lat_p99_us)" "$(get $l lat_p999_us)" \
        "$(get $l lat_max_us)" "$(get $l arrival_rate)" "$(get $l post_p99_us | cut -d. -f1)"
    else
      printf '  %-36s %s\n' "$d" "(did not run)"
    fi
  done
fi
if want mcp-http; then
  echo
  echo "/mcp round trip, one call in flight (µs)           call p50  call p90  call p99  p99.9    calls/s"
  for p in one-cpu two-cpu; do
    for l in "hub-mcphttp-$p" "everything-mcphttp-$p"; do
      case $l in
      hub-*) d="[$p] hub check_lock" ;;
      *) d="[$p] server-everything echo" ;;
      esac
      [ "$p" = two-cpu ] && [ "$NCPU" -lt 2 ] && continue
      if [ -n "$(get "$l" calls_per_s)" ]; then
        printf '  %-48s %9s %9s %9s %6.0f %10.0f\n' "$d" "$(get "$l" call_p50_us)" \
          "$(get "$l" call_p90_us)" "$(get "$l" call_p99_us)" "$(get "$l" call_p999_us)" \
          "$(get "$l" calls_per_s)"
      else
        printf '  %-48s %s\n' "$d" "(did not run)"
      fi
    done
  done
fi
if want redis; then
  echo
  echo "Redis store: one redis-server, unix socket, appendonly yes, appendfsync everysec"
  echo "throughput, $CLIENTS clients                                   calls/s  call p50  call p99 (µs)  retries"
  for l in rs-sqlite-throughput rs-redis1-throughput rs-redis2-throughput rs-setnx rs-evalsha \
    rs-evalsha-append; do
    case $l in
    rs-sqlite-throughput) d="coordhub lock/unlock, one hub on sqlite" ;;
    rs-redis1-throughput) d="coordhub lock/unlock, one hub on redis" ;;
    rs-redis2-throughput) d="coordhub lock/unlock, two hubs on one redis ws" ;;
    rs-setnx) d="redis-benchmark SET NX PX" ;;
    rs-evalsha) d="redis-benchmark EVALSHA (script: SET NX PX)" ;;
    rs-evalsha-append) d="redis-benchmark EVALSHA (script: append 1 event)" ;;
    esac
    if [ -n "$(get $l calls_per_s)" ]; then
      printf '  %-53s %10.0f %9.0f %9.0f %8s\n' "$d" "$(get $l calls_per_s)" "$(get $l call_p50_us)" \
        "$(get $l call_p99_us)" "$(get $l retries)"
    else
      printf '  %-53s %s\n' "$d" "(did not run)"
    fi
  done
  echo
  echo "latency, client CPU 0, servers CPU 1 (µs)  pair p50  pair p99  call p50  call p99    calls/s"
  row rs-raw-unix "raw Unix-socket ping-pong (echo child)"
  row rs-sqlite-sock "hub.sock lock+unlock, hub on sqlite"
  row rs-redis-sock "hub.sock lock+unlock, hub on redis"
  row rs-redis-pair "hiredis SET NX PX + DEL"
  echo
  echo "event propagation, one in flight (µs)          seen p50  seen p90  seen p99  A call p50  seen-after-answer p50 p99"
  for l in rs-prop-local rs-prop-cross rs-redis-tail; do
    case $l in
    rs-prop-local) d="lock on hub A -> GET /events on A" ;;
    rs-prop-cross) d="lock on hub A -> GET /events on B" ;;
    rs-redis-tail) d="raw XADD -> XREAD BLOCK" ;;
    esac
    if [ -n "$(get $l seen_p50_us)" ]; then
      printf '  %-44s %9.0f %9.0f %9.0f %11s %9s %9s\n' "$d" "$(get $l seen_p50_us)" \
        "$(get $l seen_p90_us)" "$(get $l seen_p99_us)" "$(get $l call_p50_us)" \
        "$(get $l after_answer_p50_us)" "$(get $l after_answer_p99_us)"
    else
      printf '  %-44s %s\n' "$d" "(did not run)"
    fi
  done
fi
echo
echo "budgets (BENCHMARKS.md, \"Budgets\"), as ratios within this run:"
if want lock; then
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
    "$(get hub-throughput calls_per_s)" "$(get redis-unix calls_per_s)" ge 1
  verdict "64-client lease calls/s / redis SET NX PX (unix, AOF everysec)" \
    "$(get hub-throughput calls_per_s)" "$(get redis-unix-aof calls_per_s)" ge 1
  verdict "64-client lease calls/s / redis SET NX PX (TCP, no AOF)" \
    "$(get hub-throughput calls_per_s)" "$(get redis-tcp calls_per_s)" ge 1
fi
if want redis; then
  verdict "[redis] one hub on redis, 64-client calls/s / SET NX PX (same redis)" \
    "$(get rs-redis1-throughput calls_per_s)" "$(get rs-setnx calls_per_s)" ge 1
  verdict "[redis] two hubs on redis, 64-client calls/s / SET NX PX" \
    "$(get rs-redis2-throughput calls_per_s)" "$(get rs-setnx calls_per_s)" ge 1
  verdict "[redis] hub on sqlite, 64-client calls/s / SET NX PX (AOF everysec)" \
    "$(get rs-sqlite-throughput calls_per_s)" "$(get rs-setnx calls_per_s)" ge 1
fi
if want sse; then
  absolute "SSE fan-out to $SSE_SUBS subscribers, hub deliveries/s" \
    "$(get hub-sse-fanout deliveries_per_s)" ge 1000000 "/s"
  absolute "publish -> delivery p99 at $SSE_RATE events/s, hub" \
    "$(get hub-sse-latency lat_p99_us)" le 2000 "µs"
  absolute "the same p99, baseline writer (what the machine allows)" \
    "$(get base-sse-latency lat_p99_us)" le 2000 "µs"
fi
echo
echo "other readings of the same budgets (information only):"
if want lock; then
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
fi
if want sse; then
  ratio "SSE fan-out deliveries/s, hub / baseline writer" \
    "$(get hub-sse-fanout deliveries_per_s)" "$(get base-sse-fanout deliveries_per_s)"
  ratio "publish -> delivery p50 at $SSE_RATE/s, hub / baseline writer" \
    "$(get hub-sse-latency lat_p50_us)" "$(get base-sse-latency lat_p50_us)"
  ratio "publish -> delivery p99 at $SSE_RATE/s, hub / baseline writer" \
    "$(get hub-sse-latency lat_p99_us)" "$(get base-sse-latency lat_p99_us)"
  ratio "the same p99 with 10 subscribers, hub / baseline writer" \
    "$(get hub-sse-latency-10 lat_p99_us)" "$(get base-sse-latency-10 lat_p99_us)"
fi
if want redis; then
  ratio "[redis] one hub on redis / one hub on sqlite, 64-client calls/s" \
    "$(get rs-redis1-throughput calls_per_s)" "$(get rs-sqlite-throughput calls_per_s)"
  ratio "[redis] two hubs / one hub on redis, 64-client calls/s" \
    "$(get rs-redis2-throughput calls_per_s)" "$(get rs-redis1-throughput calls_per_s)"
  ratio "[redis] one hub on redis / redis EVALSHA, 64-client calls/s" \
    "$(get rs-redis1-throughput calls_per_s)" "$(get rs-evalsha calls_per_s)"
  ratio "[redis] one hub on redis / EVALSHA append-shaped, 64-client calls/s" \
    "$(get rs-redis1-throughput calls_per_s)" "$(get rs-evalsha-append calls_per_s)"
  ratio "[redis] two hubs on redis / redis EVALSHA, 64-client calls/s" \
    "$(get rs-redis2-throughput calls_per_s)" "$(get rs-evalsha calls_per_s)"
  ratio "[redis] two hubs on redis / EVALSHA append-shaped, 64-client calls/s" \
    "$(get rs-redis2-throughput calls_per_s)" "$(get rs-evalsha-append calls_per_s)"
  ratio "[redis] EVALSHA append-shaped / SET NX PX, redis-benchmark calls/s" \
    "$(get rs-evalsha-append calls_per_s)" "$(get rs-setnx calls_per_s)"
  ratio "[redis] EVALSHA / SET NX PX, redis-benchmark calls/s" \
    "$(get rs-evalsha calls_per_s)" "$(get rs-setnx calls_per_s)"
  ratio "[redis] lock+unlock pair p50, hub on redis / hub on sqlite" \
    "$(get rs-redis-sock pair_p50_us)" "$(get rs-sqlite-sock pair_p50_us)"
  ratio "[redis] lock+unlock pair p99, hub on redis / hub on sqlite" \
    "$(get rs-redis-sock pair_p99_us)" "$(get rs-sqlite-sock pair_p99_us)"
  ratio "[redis] lock+unlock pair p50, hub on redis / hiredis SET NX PX + DEL" \
    "$(get rs-redis-sock pair_p50_us)" "$(get rs-redis-pair pair_p50_us)"
  ratio "[redis] lock+unlock pair p50, hub on redis / raw Unix ping-pong pair" \
    "$(get rs-redis-sock pair_p50_us)" "$(get rs-raw-unix pair_p50_us)"
  ratio "[redis] propagation p50, hub A -> hub B / hub A -> hub A" \
    "$(get rs-prop-cross seen_p50_us)" "$(get rs-prop-local seen_p50_us)"
  ratio "[redis] propagation p99, hub A -> hub B / hub A -> hub A" \
    "$(get rs-prop-cross seen_p99_us)" "$(get rs-prop-local seen_p99_us)"
  ratio "[redis] propagation p50, hub A -> hub B / raw XADD -> XREAD BLOCK" \
    "$(get rs-prop-cross seen_p50_us)" "$(get rs-redis-tail seen_p50_us)"
fi
if want mcp-http; then
  for p in one-cpu two-cpu; do
    [ -n "$(get "hub-mcphttp-$p" calls_per_s)" ] || continue
    ratio "[$p] /mcp call p50, server-everything echo / hub check_lock" \
      "$(get "everything-mcphttp-$p" call_p50_us)" "$(get "hub-mcphttp-$p" call_p50_us)"
    ratio "[$p] /mcp call p99, server-everything echo / hub check_lock" \
      "$(get "everything-mcphttp-$p" call_p99_us)" "$(get "hub-mcphttp-$p" call_p99_us)"
  done
fi
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
