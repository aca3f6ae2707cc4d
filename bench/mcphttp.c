/* mcphttp — the /mcp round trip: one raw HTTP/1.1 client with keep-alive
 * that drives the hub and the reference server alike.
 *
 * Each measured call is one POST /mcp carrying a tools/call, timed from
 * the first byte written to the last byte of its response read. The two
 * servers answer differently — the hub with application/json, the
 * reference server with a short text/event-stream — and the client
 * accepts both (it offers both in Accept, as the transport requires). The
 * echo request is padded so that its body is as long as check_lock's, so
 * both sides move the same bytes in. */
#define _GNU_SOURCE
#include "mcphttp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpc.h"
#include "mcpline.h"
#include "samples.h"

#define MCPHTTP_PROTOCOL "2025-06-18"
#define MCPHTTP_FILE "bench/f0"

struct mcphttp_ctx {
    const struct mcphttp_opts *o;
    struct httpc_conn conn;
    char auth[320]; /* "Authorization: Bearer …\r\n" or "" */
    char session[160];
    char pad[256]; /* the echo message */
};

/* Format the POST of body into out. Its length, or 0 if it does not fit. */
static size_t mcphttp_request(const struct mcphttp_ctx *x, const char *body, char *out, size_t cap)
{
    char sess[256] = "";
    if (x->session[0])
        snprintf(sess, sizeof(sess), "MCP-Session-Id: %s\r\nMCP-Protocol-Version: %s\r\n",
                 x->session, MCPHTTP_PROTOCOL);
    int n = snprintf(out, cap,
                     "POST /mcp HTTP/1.1\r\nHost: %s\r\n%s%sContent-Type: application/json\r\n"
                     "Accept: application/json, text/event-stream\r\nContent-Length: %zu\r\n\r\n%s",
                     x->o->addr, x->auth, sess, strlen(body), body);
    return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

static size_t mcphttp_call_body(const struct mcphttp_ctx *x, unsigned long long id, char *out,
                                size_t cap)
{
    int n;
    if (x->o->echo)
        n = snprintf(out, cap,
                     "{\"jsonrpc\":\"2.0\",\"id\":%llu,\"method\":\"tools/call\",\"params\":"
                     "{\"name\":\"echo\",\"arguments\":{\"message\":\"%s\"}}}",
                     id, x->pad);
    else
        n = snprintf(out, cap,
                     "{\"jsonrpc\":\"2.0\",\"id\":%llu,\"method\":\"tools/call\",\"params\":"
                     "{\"name\":\"check_lock\",\"arguments\":{\"file\":\"" MCPHTTP_FILE "\"}}}",
                     id);
    return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

/* Send body; 0 if the answer has status want (and, for a request, is its
 * successful response), else -1 with the reason on stderr. */
static int mcphttp_exchange(struct mcphttp_ctx *x, const char *body, int want,
                            unsigned long long id, bool tool)
{
    char req[4096];
    size_t n = mcphttp_request(x, body, req, sizeof(req));
    if (!n) {
        fprintf(stderr, "mcphttp: request %llu does not fit\n", id);
        return -1;
    }
    int rc = httpc_conn_roundtrip(&x->conn, req, n);
    if (rc) {
        fprintf(stderr, "mcphttp: request %llu: %s\n", id, strerror(-rc));
        return -1;
    }
    const struct httpc_head *h = &x->conn.head;
    const char *b = x->conn.body;
    size_t bl = x->conn.body_len;
    bool ok = h->status == want;
    if (ok && id) /* a request: its own answer, a result, not an error */
        ok = mcpline_is_response(b, bl, id) && memmem(b, bl, "\"result\":", 9) &&
             !memmem(b, bl, "\"isError\":true", 14);
    if (ok && tool)
        ok = x->o->echo ? memmem(b, bl, "Echo: ", 6) != NULL
                        : memmem(b, bl, "\"locked\":false", 14) != NULL;
    if (!ok) {
        fprintf(stderr, "mcphttp: request %llu: status %d (want %d): %.300s\n", id, h->status, want,
                b);
        return -1;
    }
    return 0;
}

static int mcphttp_handshake(struct mcphttp_ctx *x)
{
    static const char init[] =
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
        "\"" MCPHTTP_PROTOCOL "\",\"capabilities\":{},\"clientInfo\":{\"name\":\"coordhub-bench\","
        "\"version\":\"1\"}}}";
    static const char initialized[] =
        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}";
    if (mcphttp_exchange(x, init, 200, 1, false) != 0)
        return -1;
    if (!x->conn.head.session[0]) {
        fprintf(stderr, "mcphttp: initialize answered no MCP-Session-Id\n");
        return -1;
    }
    memcpy(x->session, x->conn.head.session, sizeof(x->session));
    return mcphttp_exchange(x, initialized, 202, 0, false);
}

int mcphttp_run(const struct mcphttp_opts *o)
{
    struct mcphttp_ctx x;
    memset(&x, 0, sizeof(x));
    x.o = o;
    x.conn.fd = -1;
    if (o->token_file) {
        char token[256];
        int rc = httpc_read_line_file(o->token_file, token, sizeof(token));
        if (rc) {
            fprintf(stderr, "mcphttp: %s: %s\n", o->token_file, strerror(-rc));
            return -1;
        }
        snprintf(x.auth, sizeof(x.auth), "Authorization: Bearer %s\r\n", token);
    }
    if (o->echo) {
        /* Pad the echo message so its body is as long as check_lock's. */
        struct mcphttp_ctx lock = x;
        lock.o = &(struct mcphttp_opts){.echo = false};
        char a[1024], b[1024];
        size_t want = mcphttp_call_body(&lock, 1000, a, sizeof(a));
        size_t base = mcphttp_call_body(&x, 1000, b, sizeof(b));
        size_t pad = want > base && want - base < sizeof(x.pad) ? want - base : 0;
        memset(x.pad, 'x', pad);
        x.pad[pad] = '\0';
    }
    int rc = httpc_conn_open(&x.conn, o->addr);
    if (rc) {
        fprintf(stderr, "mcphttp: connect %s: %s\n", o->addr, strerror(-rc));
        return -1;
    }
    struct samples calls;
    samples_init(&calls);
    rc = mcphttp_handshake(&x);
    int64_t measured_from = samples_now_ns();
    size_t msg = 0;
    for (long i = 0; rc == 0 && i < o->warmup + o->n; i++) {
        char body[1024];
        unsigned long long id = 2 + (unsigned long long)i;
        msg = mcphttp_call_body(&x, id, body, sizeof(body));
        if (i == o->warmup)
            measured_from = samples_now_ns();
        int64_t t0 = samples_now_ns();
        rc = mcphttp_exchange(&x, body, 200, id, true);
        if (rc == 0 && i >= o->warmup)
            samples_add(&calls, samples_now_ns() - t0);
    }
    if (rc == 0) {
        double secs = (double)(samples_now_ns() - measured_from) / 1e9;
        samples_sort(&calls);
        printf("RESULT %s n=%ld body=%zu call_p50_us=%.1f call_p90_us=%.1f call_p99_us=%.1f "
               "call_p999_us=%.1f call_max_us=%.1f calls_per_s=%.0f\n",
               o->label, o->n, msg, samples_quantile_us(&calls, 0.50),
               samples_quantile_us(&calls, 0.90), samples_quantile_us(&calls, 0.99),
               samples_quantile_us(&calls, 0.999), samples_quantile_us(&calls, 1.0),
               (double)calls.n / secs);
        fflush(stdout);
    }
    samples_deinit(&calls);
    httpc_conn_close(&x.conn);
    return rc == 0 ? 0 : -1;
}
