/* redisrt — raw Redis round trips for the Redis-store bench (redisrt.h). */
#define _GNU_SOURCE
#include "redisrt.h"

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "samples.h"

#define REDISRT_KEY "bench:rt:lock"
#define REDISRT_STREAM "bench:rt:log"

static redisContext *redisrt_connect(const char *socket)
{
    redisContext *c = redisConnectUnix(socket);
    if (!c || c->err) {
        fprintf(stderr, "lockbench: cannot reach redis at %s: %s\n", socket,
                c ? c->errstr : "out of memory");
        if (c)
            redisFree(c);
        return NULL;
    }
    return c;
}

/* Run one command and check its answer's type (and, for a status or a
 * string, its text). */
static bool redisrt_expect(redisContext *c, int type, const char *text, const char *fmt,
                           const char *arg)
{
    redisReply *r = redisCommand(c, fmt, arg);
    if (!r) {
        fprintf(stderr, "lockbench: redis: %s\n", c->errstr);
        return false;
    }
    bool ok = r->type == type && (!text || (r->str && strcmp(r->str, text) == 0));
    if (type == REDIS_REPLY_INTEGER)
        ok = ok && r->integer == 1;
    if (!ok)
        fprintf(stderr, "lockbench: redis answered %s to %s\n",
                r->type == REDIS_REPLY_ERROR ? r->str : "something unexpected", fmt);
    freeReplyObject(r);
    return ok;
}

int redisrt_pair(const struct redisrt_opts *o)
{
    redisContext *c = redisrt_connect(o->socket);
    if (!c)
        return -1;
    struct samples calls, pairs;
    samples_init(&calls);
    samples_init(&pairs);
    int rc = -1;
    int64_t measured_from = 0;
    for (long i = 0; i < o->warmup + o->n; i++) {
        bool keep = i >= o->warmup;
        int64_t t0 = samples_now_ns();
        if (i == o->warmup)
            measured_from = t0;
        if (!redisrt_expect(c, REDIS_REPLY_STATUS, "OK", "SET %s v NX PX 60000", REDISRT_KEY))
            goto out;
        int64_t t1 = samples_now_ns();
        if (!redisrt_expect(c, REDIS_REPLY_INTEGER, NULL, "DEL %s", REDISRT_KEY))
            goto out;
        int64_t t2 = samples_now_ns();
        if (keep) {
            samples_add(&calls, t1 - t0);
            samples_add(&calls, t2 - t1);
            samples_add(&pairs, t2 - t0);
        }
    }
    double secs = (double)(samples_now_ns() - measured_from) / 1e9;
    samples_sort(&calls);
    samples_sort(&pairs);
    printf("RESULT %s n=%ld pair_p50_us=%.1f pair_p99_us=%.1f call_p50_us=%.1f "
           "call_p90_us=%.1f call_p99_us=%.1f call_p999_us=%.1f call_max_us=%.1f "
           "calls_per_s=%.0f pairs_per_s=%.0f\n",
           o->label, o->n, samples_quantile_us(&pairs, 0.50), samples_quantile_us(&pairs, 0.99),
           samples_quantile_us(&calls, 0.50), samples_quantile_us(&calls, 0.90),
           samples_quantile_us(&calls, 0.99), samples_quantile_us(&calls, 0.999),
           samples_quantile_us(&calls, 1.0), (double)calls.n / secs, (double)pairs.n / secs);
    fflush(stdout);
    rc = 0;
out:
    samples_deinit(&calls);
    samples_deinit(&pairs);
    redisFree(c);
    return rc;
}

/* The reader's XREAD BLOCK answer: one stream, one entry, whose id is
 * written to last (for the next XREAD). */
static bool redisrt_entry(const redisReply *r, char *last, size_t cap)
{
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 1)
        return false;
    const redisReply *s = r->element[0];
    if (s->type != REDIS_REPLY_ARRAY || s->elements != 2)
        return false;
    const redisReply *es = s->element[1];
    if (es->type != REDIS_REPLY_ARRAY || es->elements != 1)
        return false;
    const redisReply *e = es->element[0];
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
        e->element[0]->type != REDIS_REPLY_STRING)
        return false;
    snprintf(last, cap, "%s", e->element[0]->str);
    return true;
}

/* Delete the bench's stream, whether or not it exists. */
static void redisrt_drop(redisContext *c)
{
    redisReply *r = redisCommand(c, "DEL %s", REDISRT_STREAM);
    if (r)
        freeReplyObject(r);
}

int redisrt_tail(const struct redisrt_opts *o)
{
    redisContext *w = redisrt_connect(o->socket);
    redisContext *r = w ? redisrt_connect(o->socket) : NULL;
    if (!r) {
        if (w)
            redisFree(w);
        return -1;
    }
    struct samples lat;
    samples_init(&lat);
    int rc = -1;
    char last[64] = "0-0"; /* the stream is empty: the first XADD is new */
    redisrt_drop(w);
    for (long i = 0; i < o->warmup + o->n; i++) {
        /* The reader's request goes out first and is flushed, so the
         * server normally holds it blocked before the XADD arrives. */
        int dummy = 0;
        if (redisAppendCommand(r, "XREAD BLOCK 5000 STREAMS %s %s", REDISRT_STREAM, last) !=
            REDIS_OK) {
            fprintf(stderr, "lockbench: redis: %s\n", r->errstr);
            goto out;
        }
        while (!dummy)
            if (redisBufferWrite(r, &dummy) != REDIS_OK) {
                fprintf(stderr, "lockbench: redis: %s\n", r->errstr);
                goto out;
            }
        /* A PING answered on the writer's connection gives the server a
         * loop turn to park the XREAD. Should it still come after the
         * XADD, it finds the entry at once (it reads after the last id
         * seen), so the answer is right either way. */
        if (!redisrt_expect(w, REDIS_REPLY_STATUS, "PONG", "PING", NULL))
            goto out;
        int64_t t0 = samples_now_ns();
        redisReply *a = redisCommand(w, "XADD %s * type bench:tick", REDISRT_STREAM);
        if (!a || a->type != REDIS_REPLY_STRING) {
            fprintf(stderr, "lockbench: XADD failed: %s\n", a ? "wrong answer" : w->errstr);
            if (a)
                freeReplyObject(a);
            goto out;
        }
        freeReplyObject(a);
        void *got = NULL;
        if (redisGetReply(r, &got) != REDIS_OK) {
            fprintf(stderr, "lockbench: XREAD failed: %s\n", r->errstr);
            goto out;
        }
        int64_t t1 = samples_now_ns();
        bool ok = redisrt_entry(got, last, sizeof(last));
        freeReplyObject(got);
        if (!ok) {
            fprintf(stderr, "lockbench: XREAD BLOCK did not answer the one new entry\n");
            goto out;
        }
        if (i >= o->warmup)
            samples_add(&lat, t1 - t0);
    }
    samples_sort(&lat);
    printf("RESULT %s n=%ld seen_p50_us=%.1f seen_p90_us=%.1f seen_p99_us=%.1f "
           "seen_max_us=%.1f\n",
           o->label, o->n, samples_quantile_us(&lat, 0.50), samples_quantile_us(&lat, 0.90),
           samples_quantile_us(&lat, 0.99), samples_quantile_us(&lat, 1.0));
    fflush(stdout);
    rc = 0;
out:
    redisrt_drop(w);
    samples_deinit(&lat);
    redisFree(r);
    redisFree(w);
    return rc;
}
