/* lockbench — the measuring half of `make bench` (bench/run.sh is the
 * other: it starts hubs and Redis, runs the modes below and turns their
 * RESULT lines into ratios against the budgets in BENCHMARKS.md).
 *
 * Every latency mode runs the same loop: `warmup + n` iterations, each a
 * pair of request/response exchanges sent one at a time and timed
 * singly ("call") and together ("pair"); the warm-up iterations are
 * discarded. What differs is only the peer and the two lines:
 *   pingpong-unix / pingpong-pipe — a forked echo child over a socketpair
 *       or two pipes, the message being a lock_file request line, so the
 *       baseline moves exactly the bytes a lock request moves;
 *   mcp — lock_file then unlock_file of `bench/f<i % files>` for the
 *       session's own agent, over --socket (hub.sock) or the stdin/stdout
 *       of a command (`coordhub mcp`); with --tool echo, two calls of the
 *       echo tool of a reference server, padded to the same line size.
 * throughput — see throughput.c.
 * sse-fanout / sse-latency — GET /events subscribers and a POST /events
 *     publisher, against the hub (--addr) or the baseline SSE writer
 *     (--baseline); see sseload.c and ssewriter.c.
 * mcp-http — tools/call round trips over Streamable HTTP; see mcphttp.c.
 * redis-pair / redis-tail — raw Redis round trips (SET NX PX + DEL) and
 *     XADD -> XREAD BLOCK on a redis-server's socket; see redisrt.c.
 * propagate — a lock on hub A until hub B's GET /events shows it; see
 *     propagate.c.
 *
 * Output: one `RESULT <label> key=value…` line on stdout per run; figures
 * are absolute here (µs, calls/s) and only ever compared, by run.sh, with
 * a baseline measured in the same invocation. Exit status 0, or 1 if the
 * run could not complete (a refused call counts: timing failures would be
 * meaningless). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcphttp.h"
#include "mcpline.h"
#include "peer.h"
#include "propagate.h"
#include "redisrt.h"
#include "samples.h"
#include "sseload.h"
#include "throughput.h"

/* The representative lock request: a mid-run id and a two-digit file. */
#define LOCKBENCH_SAMPLE_ID 1000ULL
#define LOCKBENCH_SAMPLE_FILE "bench/f10"
#define LOCKBENCH_SAMPLE_AGENT "bench-0"

enum lockbench_mode {
    LOCKBENCH_PINGPONG_UNIX,
    LOCKBENCH_PINGPONG_PIPE,
    LOCKBENCH_MCP,
    LOCKBENCH_THROUGHPUT,
    LOCKBENCH_SIZE,
    LOCKBENCH_SSE_FANOUT,
    LOCKBENCH_SSE_LATENCY,
    LOCKBENCH_MCP_HTTP,
    LOCKBENCH_REDIS_PAIR,
    LOCKBENCH_REDIS_TAIL,
    LOCKBENCH_PROPAGATE,
};

/* Hubs one throughput run may spread its sessions over. */
#define LOCKBENCH_MAX_SOCKETS 4

struct lockbench_opts {
    enum lockbench_mode mode;
    const char *label;
    long n;
    long warmup;
    unsigned files;
    const char *socket;                         /* the first --socket */
    const char *sockets[LOCKBENCH_MAX_SOCKETS]; /* every --socket */
    int nsockets;
    bool retry;        /* throughput: --retry */
    const char *redis; /* redis modes: --redis SOCKET */
    bool echo_tool;    /* --tool echo */
    const char *stderr_path;
    int server_cpu; /* CPU for the echo child or COMMAND, -1 = any */
    int clients;
    double seconds;
    double warm_seconds;
    char **command;         /* argv after "--", NULL-terminated, or NULL */
    const char *addr;       /* HTTP modes: HOST:PORT of the server */
    const char *token_file; /* HTTP modes: bearer token file */
    bool baseline;          /* SSE modes: the baseline writer instead of --addr */
    int subscribers;
    long events;        /* sse-fanout: counted events */
    long warmup_events; /* sse-fanout: uncounted events first */
    double rate;        /* sse-latency: events/s */
    int batch;          /* SSE modes: events per POST /events */
    int connections;    /* SSE modes: publisher connections */
    long window;        /* sse-fanout: events ahead of the slowest subscriber */
    long frame_bytes;   /* --baseline: SSE frame size to match */
};

/* What one latency run sends: raw lines, or tools/call requests. */
struct lockbench_load {
    bool raw;        /* ping-pong: send msg, expect it back */
    const char *msg; /* raw message (with '\n') */
    size_t msg_len;
    bool echo;                /* echo tool instead of lock/unlock */
    const char *echo_message; /* padded message for echo */
    char agent[160];          /* lock/unlock: the session's agent */
    unsigned files;
};

static void lockbench_usage(FILE *to)
{
    fprintf(to,
            "usage: coordhub-bench MODE [options] [-- COMMAND ARGS...]\n"
            "modes:\n"
            "  pingpong-unix  round trips to a forked echo child over a socketpair\n"
            "  pingpong-pipe  the same over two pipes\n"
            "  mcp            lock_file+unlock_file pairs over --socket PATH, or over the\n"
            "                 stdin/stdout of COMMAND (e.g. coordhub mcp ...); with\n"
            "                 --tool echo, pairs of echo calls (a reference server)\n"
            "  throughput     --clients sessions on --socket doing lock+unlock (--socket given\n"
            "                 up to 4 times: sessions dealt out round robin over the hubs)\n"
            "  size           print the lock request line size (the ping-pong size)\n"
            "  sse-fanout     --subscribers on GET /events of --addr, events POSTed as fast as\n"
            "                 they are delivered; or the same against --baseline, a minimal\n"
            "                 SSE writer started here\n"
            "  sse-latency    the same at a fixed --rate: publish -> delivery latency\n"
            "  mcp-http       tools/call round trips on POST /mcp of --addr (check_lock, or\n"
            "                 with --tool echo the echo tool of a reference server)\n"
            "  redis-pair     SET NX PX + DEL pairs on --redis SOCKET (hiredis)\n"
            "  redis-tail     XADD on one connection -> XREAD BLOCK on another, --redis SOCKET\n"
            "  propagate      lock/unlock on --socket (hub A) until GET /events of --addr\n"
            "                 (hub B, --token-file) shows it\n"
            "options:\n"
            "  --label NAME      name of the RESULT line (default: the mode)\n"
            "  --n N             measured pairs (default 5000)\n"
            "  --warmup N        discarded pairs first (default 500)\n"
            "  --files K         distinct files per session (default 16)\n"
            "  --socket PATH     hub.sock of a running hub\n"
            "  --retry           throughput: send a call refused with \"nothing was recorded\"\n"
            "                    again (hubs sharing a Redis workspace conflict)\n"
            "  --redis SOCKET    redis modes: redis-server's Unix socket\n"
            "  --tool lock|echo  what mcp mode calls (default lock)\n"
            "  --stderr FILE     where COMMAND's stderr goes (default /dev/null)\n"
            "  --server-cpu N    run the echo child or COMMAND on CPU N\n"
            "  --clients C       throughput sessions (default 64)\n"
            "  --seconds S       throughput counted window (default 5)\n"
            "  --warm-seconds S  throughput warm-up (default 1)\n"
            "  --addr HOST:PORT  HTTP modes: the server (e.g. the hub's http.addr)\n"
            "  --token-file F    HTTP modes: send the token in F as Bearer credential\n"
            "  --baseline        SSE modes: run against the baseline writer\n"
            "  --subscribers S   SSE subscribers (default 100)\n"
            "  --events N        sse-fanout: counted events (default 20000)\n"
            "  --warmup-events N sse-fanout: uncounted events first (default 2000)\n"
            "  --rate R          sse-latency: events/s (default 10000; --seconds default 5,\n"
            "                    --warm-seconds 1)\n"
            "  --batch B         events per POST /events, 1..100 (fan-out 100, latency 1)\n"
            "  --connections K   publisher connections (fan-out 2, latency 64)\n"
            "  --window W        sse-fanout: events ahead of the slowest subscriber (2000)\n"
            "  --frame-bytes N   --baseline: SSE frame size to match (the hub's)\n");
}

static int lockbench_parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int lockbench_parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi))
        return -1;
    *out = v;
    return 0;
}

static int lockbench_parse(int argc, char **argv, struct lockbench_opts *o)
{
    static const struct {
        const char *name;
        enum lockbench_mode mode;
    } modes[] = {{"pingpong-unix", LOCKBENCH_PINGPONG_UNIX},
                 {"pingpong-pipe", LOCKBENCH_PINGPONG_PIPE},
                 {"mcp", LOCKBENCH_MCP},
                 {"throughput", LOCKBENCH_THROUGHPUT},
                 {"size", LOCKBENCH_SIZE},
                 {"sse-fanout", LOCKBENCH_SSE_FANOUT},
                 {"sse-latency", LOCKBENCH_SSE_LATENCY},
                 {"mcp-http", LOCKBENCH_MCP_HTTP},
                 {"redis-pair", LOCKBENCH_REDIS_PAIR},
                 {"redis-tail", LOCKBENCH_REDIS_TAIL},
                 {"propagate", LOCKBENCH_PROPAGATE}};
    *o = (struct lockbench_opts){.n = 5000,
                                 .warmup = 500,
                                 .files = 16,
                                 .server_cpu = -1,
                                 .clients = 64,
                                 .seconds = 5,
                                 .warm_seconds = -1,
                                 .subscribers = 100,
                                 .events = 20000,
                                 .warmup_events = 2000,
                                 .rate = 10000,
                                 .window = 2000};
    if (argc < 2)
        return -1;
    bool found = false;
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
        if (strcmp(argv[1], modes[i].name) == 0) {
            o->mode = modes[i].mode;
            o->label = modes[i].name;
            found = true;
        }
    if (!found)
        return -1;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            o->command = i + 1 < argc ? &argv[i + 1] : NULL;
            break;
        }
        if (strcmp(a, "--baseline") == 0) {
            o->baseline = true;
            continue;
        }
        if (strcmp(a, "--retry") == 0) {
            o->retry = true;
            continue;
        }
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long l;
        if (!v)
            return -1;
        i++;
        if (strcmp(a, "--label") == 0) {
            o->label = v;
        } else if (strcmp(a, "--n") == 0) {
            if (lockbench_parse_long(v, 1, 100000000, &o->n))
                return -1;
        } else if (strcmp(a, "--warmup") == 0) {
            if (lockbench_parse_long(v, 0, 100000000, &o->warmup))
                return -1;
        } else if (strcmp(a, "--files") == 0) {
            if (lockbench_parse_long(v, 1, 1000000, &l))
                return -1;
            o->files = (unsigned)l;
        } else if (strcmp(a, "--clients") == 0) {
            if (lockbench_parse_long(v, 1, 4000, &l))
                return -1;
            o->clients = (int)l;
        } else if (strcmp(a, "--seconds") == 0) {
            if (lockbench_parse_double(v, 0.1, 3600, &o->seconds))
                return -1;
        } else if (strcmp(a, "--warm-seconds") == 0) {
            if (lockbench_parse_double(v, 0, 3600, &o->warm_seconds))
                return -1;
        } else if (strcmp(a, "--server-cpu") == 0) {
            if (lockbench_parse_long(v, 0, 4095, &l))
                return -1;
            o->server_cpu = (int)l;
        } else if (strcmp(a, "--addr") == 0) {
            o->addr = v;
        } else if (strcmp(a, "--token-file") == 0) {
            o->token_file = v;
        } else if (strcmp(a, "--subscribers") == 0) {
            if (lockbench_parse_long(v, 1, 1000, &l))
                return -1;
            o->subscribers = (int)l;
        } else if (strcmp(a, "--events") == 0) {
            if (lockbench_parse_long(v, 1, 100000000, &o->events))
                return -1;
        } else if (strcmp(a, "--warmup-events") == 0) {
            if (lockbench_parse_long(v, 0, 100000000, &o->warmup_events))
                return -1;
        } else if (strcmp(a, "--rate") == 0) {
            if (lockbench_parse_double(v, 1, 1e7, &o->rate))
                return -1;
        } else if (strcmp(a, "--batch") == 0) {
            if (lockbench_parse_long(v, 1, 100, &l))
                return -1;
            o->batch = (int)l;
        } else if (strcmp(a, "--connections") == 0) {
            if (lockbench_parse_long(v, 1, 256, &l))
                return -1;
            o->connections = (int)l;
        } else if (strcmp(a, "--window") == 0) {
            if (lockbench_parse_long(v, 1, 1000000, &o->window))
                return -1;
        } else if (strcmp(a, "--frame-bytes") == 0) {
            if (lockbench_parse_long(v, 0, 2000, &o->frame_bytes))
                return -1;
        } else if (strcmp(a, "--socket") == 0) {
            if (o->nsockets == LOCKBENCH_MAX_SOCKETS)
                return -1;
            o->sockets[o->nsockets++] = v;
            if (!o->socket)
                o->socket = v;
        } else if (strcmp(a, "--redis") == 0) {
            o->redis = v;
        } else if (strcmp(a, "--stderr") == 0) {
            o->stderr_path = v;
        } else if (strcmp(a, "--tool") == 0) {
            if (strcmp(v, "echo") != 0 && strcmp(v, "lock") != 0)
                return -1;
            o->echo_tool = strcmp(v, "echo") == 0;
        } else {
            return -1;
        }
    }
    if (o->mode == LOCKBENCH_MCP && !o->socket == !o->command)
        return -1; /* exactly one of --socket and a command */
    if (o->mode == LOCKBENCH_THROUGHPUT && !o->socket)
        return -1;
    if (o->mode != LOCKBENCH_THROUGHPUT && (o->nsockets > 1 || o->retry))
        return -1; /* several hubs and retries are for throughput only */
    bool redis = o->mode == LOCKBENCH_REDIS_PAIR || o->mode == LOCKBENCH_REDIS_TAIL;
    if (!redis != !o->redis)
        return -1;
    if (o->mode == LOCKBENCH_PROPAGATE && (!o->socket || !o->addr || !o->token_file))
        return -1;
    bool sse = o->mode == LOCKBENCH_SSE_FANOUT || o->mode == LOCKBENCH_SSE_LATENCY;
    if (sse && (!o->addr == !o->baseline || (o->addr && !o->token_file)))
        return -1; /* exactly one of --addr (with its token) and --baseline */
    if (o->mode == LOCKBENCH_MCP_HTTP && !o->addr)
        return -1;
    bool latency = o->mode == LOCKBENCH_SSE_LATENCY;
    if (o->warm_seconds < 0)
        o->warm_seconds = 1;
    if (!o->batch)
        o->batch = latency ? 1 : 100;
    if (!o->connections)
        o->connections = latency ? 64 : 2;
    return 0;
}

/* The representative lock request line; its length is the message size
 * of every baseline. */
static size_t lockbench_sample_request(char *out, size_t cap)
{
    return mcpline_format_call(out, cap, MCPLINE_LOCK, LOCKBENCH_SAMPLE_ID, LOCKBENCH_SAMPLE_FILE,
                               LOCKBENCH_SAMPLE_AGENT);
}

/* One exchange of the loop: send, wait for the answer, check it. */
static int lockbench_exchange(struct peer *p, const struct lockbench_load *ld,
                              unsigned long long id, long iter, int half)
{
    const char *line;
    size_t len;
    if (ld->raw) {
        if (peer_send(p, ld->msg, ld->msg_len) != 0)
            return -1;
        line = peer_read_line(p, &len);
        if (!line || len + 1 != ld->msg_len) {
            fprintf(stderr, "lockbench: the echo child answered %s\n", line ? "short" : "nothing");
            return -1;
        }
        return 0;
    }
    char req[1024], file[64];
    enum mcpline_call call = ld->echo ? MCPLINE_ECHO : half ? MCPLINE_UNLOCK : MCPLINE_LOCK;
    snprintf(file, sizeof(file), "bench/f%lu", (unsigned long)iter % ld->files);
    size_t n = mcpline_format_call(req, sizeof(req), call, id, ld->echo ? ld->echo_message : file,
                                   ld->agent);
    if (!n || peer_send(p, req, n) != 0) {
        fprintf(stderr, "lockbench: cannot send request %llu\n", id);
        return -1;
    }
    line = mcpline_wait(p, id, &len);
    if (!line) {
        fprintf(stderr, "lockbench: the server closed before answering request %llu\n", id);
        return -1;
    }
    if (!mcpline_call_ok(call, line, len)) {
        fprintf(stderr, "lockbench: call %llu failed: %.*s\n", id, (int)len, line);
        return -1;
    }
    return 0;
}

/* The latency loop shared by every mode; prints the RESULT line. */
static int lockbench_pairs(const struct lockbench_opts *o, struct peer *p,
                           const struct lockbench_load *ld, size_t msg_size)
{
    struct samples calls, pairs;
    samples_init(&calls);
    samples_init(&pairs);
    unsigned long long id = 3;
    int rc = -1;
    int64_t measured_from = 0;
    for (long i = 0; i < o->warmup + o->n; i++) {
        bool keep = i >= o->warmup;
        int64_t t0 = samples_now_ns();
        if (i == o->warmup)
            measured_from = t0;
        int64_t t = t0;
        for (int half = 0; half < 2; half++) {
            if (lockbench_exchange(p, ld, id++, i, half) != 0)
                goto out;
            int64_t t1 = samples_now_ns();
            if (keep)
                samples_add(&calls, t1 - t);
            t = t1;
        }
        if (keep)
            samples_add(&pairs, t - t0);
    }
    double secs = (double)(samples_now_ns() - measured_from) / 1e9;
    samples_sort(&calls);
    samples_sort(&pairs);
    printf("RESULT %s n=%ld msg=%zu pair_p50_us=%.1f pair_p99_us=%.1f call_p50_us=%.1f "
           "call_p90_us=%.1f call_p99_us=%.1f call_p999_us=%.1f call_max_us=%.1f "
           "calls_per_s=%.0f pairs_per_s=%.0f\n",
           o->label, o->n, msg_size, samples_quantile_us(&pairs, 0.50),
           samples_quantile_us(&pairs, 0.99), samples_quantile_us(&calls, 0.50),
           samples_quantile_us(&calls, 0.90), samples_quantile_us(&calls, 0.99),
           samples_quantile_us(&calls, 0.999), samples_quantile_us(&calls, 1.0),
           (double)calls.n / secs, (double)pairs.n / secs);
    fflush(stdout);
    rc = 0;
out:
    samples_deinit(&calls);
    samples_deinit(&pairs);
    return rc;
}

static int lockbench_pingpong(const struct lockbench_opts *o, enum peer_echo_kind kind)
{
    char msg[512];
    struct lockbench_load ld = {.raw = true, .msg = msg};
    ld.msg_len = lockbench_sample_request(msg, sizeof(msg));
    struct peer p;
    int rc = peer_echo(&p, kind, o->server_cpu);
    if (rc) {
        fprintf(stderr, "lockbench: cannot start the echo child: %s\n", strerror(-rc));
        peer_close(&p);
        return -1;
    }
    rc = lockbench_pairs(o, &p, &ld, ld.msg_len);
    peer_close(&p);
    return rc;
}

static int lockbench_mcp(const struct lockbench_opts *o)
{
    struct lockbench_load ld = {.echo = o->echo_tool, .files = o->files};
    char sample[512], padding[512];
    size_t size = lockbench_sample_request(sample, sizeof(sample));
    if (ld.echo) {
        /* Pad the echo message so the request line is as long as a lock's. */
        char bare[512];
        size_t base =
            mcpline_format_call(bare, sizeof(bare), MCPLINE_ECHO, LOCKBENCH_SAMPLE_ID, "", NULL);
        size_t pad = size > base ? size - base : 0;
        memset(padding, 'x', pad);
        padding[pad] = '\0';
        ld.echo_message = padding;
    }
    struct peer p;
    int rc = o->socket ? peer_connect_unix(&p, o->socket)
                       : peer_spawn(&p, o->command, o->stderr_path, o->server_cpu);
    if (rc) {
        fprintf(stderr, "lockbench: cannot reach %s: %s\n", o->socket ? o->socket : o->command[0],
                strerror(-rc));
        peer_close(&p);
        return -1;
    }
    rc = mcpline_handshake(&p, ld.echo ? NULL : LOCKBENCH_SAMPLE_AGENT, ld.agent, sizeof(ld.agent));
    if (rc == 0)
        rc = lockbench_pairs(o, &p, &ld, size);
    peer_close(&p);
    return rc;
}

int main(int argc, char **argv)
{
    struct lockbench_opts o;
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        lockbench_usage(stdout);
        return 0;
    }
    if (lockbench_parse(argc, argv, &o) != 0) {
        lockbench_usage(stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    int rc = -1;
    switch (o.mode) {
    case LOCKBENCH_PINGPONG_UNIX:
        rc = lockbench_pingpong(&o, PEER_ECHO_UNIX);
        break;
    case LOCKBENCH_PINGPONG_PIPE:
        rc = lockbench_pingpong(&o, PEER_ECHO_PIPE);
        break;
    case LOCKBENCH_MCP:
        rc = lockbench_mcp(&o);
        break;
    case LOCKBENCH_THROUGHPUT: {
        struct throughput_opts t = {.label = o.label,
                                    .sockets = o.sockets,
                                    .nsockets = o.nsockets,
                                    .retry = o.retry,
                                    .clients = o.clients,
                                    .files = o.files,
                                    .warm_seconds = o.warm_seconds,
                                    .seconds = o.seconds};
        rc = throughput_run(&t);
        break;
    }
    case LOCKBENCH_SSE_FANOUT:
    case LOCKBENCH_SSE_LATENCY: {
        struct sseload_opts so = {.label = o.label,
                                  .addr = o.baseline ? NULL : o.addr,
                                  .token_file = o.token_file,
                                  .subscribers = o.subscribers,
                                  .latency = o.mode == LOCKBENCH_SSE_LATENCY,
                                  .events = o.events,
                                  .warmup = o.warmup_events,
                                  .rate = o.rate,
                                  .seconds = o.seconds,
                                  .warm_seconds = o.warm_seconds,
                                  .batch = o.batch,
                                  .connections = o.connections,
                                  .window = o.window,
                                  .frame_bytes = (size_t)o.frame_bytes,
                                  .server_cpu = o.server_cpu};
        rc = sseload_run(&so);
        break;
    }
    case LOCKBENCH_MCP_HTTP: {
        struct mcphttp_opts mo = {.label = o.label,
                                  .addr = o.addr,
                                  .token_file = o.token_file,
                                  .echo = o.echo_tool,
                                  .n = o.n,
                                  .warmup = o.warmup};
        rc = mcphttp_run(&mo);
        break;
    }
    case LOCKBENCH_REDIS_PAIR:
    case LOCKBENCH_REDIS_TAIL: {
        struct redisrt_opts ro = {
            .label = o.label, .socket = o.redis, .n = o.n, .warmup = o.warmup};
        rc = o.mode == LOCKBENCH_REDIS_PAIR ? redisrt_pair(&ro) : redisrt_tail(&ro);
        break;
    }
    case LOCKBENCH_PROPAGATE: {
        struct propagate_opts po = {.label = o.label,
                                    .socket = o.socket,
                                    .addr = o.addr,
                                    .token_file = o.token_file,
                                    .n = o.n,
                                    .warmup = o.warmup,
                                    .files = o.files};
        rc = propagate_run(&po);
        break;
    }
    case LOCKBENCH_SIZE: {
        char sample[512];
        printf("%zu\n", lockbench_sample_request(sample, sizeof(sample)));
        rc = 0;
        break;
    }
    }
    return rc == 0 ? 0 : 1;
}
