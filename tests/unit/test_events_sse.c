/* Unit tests for events_sse, through the HTTP face (api_new) on an
 * ephemeral loopback port, with a memory store, a small bus ring and raw
 * HTTP/1.0 clients on the same loop (and an HTTP/1.1 one, whose stream is
 * chunked): catch-up from the store and the ring while events keep being
 * published (no gap, no duplicate, exact chunk framing), resume
 * by Last-Event-ID with a type filter, resync over trimmed history and
 * beyond the end, and a subscriber that stops reading being cut off at its
 * bound while a reading one gets everything. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "api/api.h"
#include "base/buf.h"
#include "base/clock.h"
#include "bus/bus.h"
#include "net/http.h"
#include "store/store.h"

#define TOKEN "t0k3n-for-tests"
#define MAX_IDS 200000

struct fixture {
    struct event_base *base;
    struct store *store;
    struct bus *bus;
    struct api *api;
    uint64_t seq;
};

struct client {
    struct bufferevent *bev;
    struct buf raw; /* HTTP/1.1: body bytes not yet de-chunked */
    struct buf in;  /* unparsed bytes of the event stream */
    bool head_done; /* response head consumed */
    bool chunked;   /* the body is chunked (Transfer-Encoding) */
    bool ended;     /* the last chunk came */
    int status;     /* HTTP status */
    uint64_t *ids;  /* ids of data events, in order */
    size_t nids;
    char last_type[64]; /* event: of the last frame */
    char resync[128];   /* data of the last resync frame */
    uint64_t resync_id;
    int resyncs;
    bool retry_seen;
    bool closed;
    int announcements;  /* frames without id: (bus announcements) */
    char announce[256]; /* data of the last one */
};

static void append_done(void *arg, int status, uint64_t current)
{
    (void)current;
    *(int *)arg = status;
}

/* Commit one event the way the hub does: store first, then the bus. */
static void publish(struct fixture *f, const char *type)
{
    struct event ev;
    event_init(&ev, type, 1700000000000LL + (int64_t)f->seq, NULL);
    ev.seq = f->seq + 1;
    int st = -1;
    assert_int_equal(f->store->ops->append(f->store, f->seq, &ev, 1, append_done, &st), 0);
    assert_int_equal(st, 0);
    f->seq++;
    assert_int_equal(bus_publish(f->bus, &ev), 0);
    event_deinit(&ev);
}

static cJSON *host_status(void *arg)
{
    (void)arg;
    return cJSON_CreateObject();
}

static void host_stats(void *arg, struct metrics_hub *m)
{
    (void)arg;
    memset(m, 0, sizeof(*m));
}

static void fixture_init(struct fixture *f, size_t ring)
{
    memset(f, 0, sizeof(*f));
    f->base = event_base_new();
    assert_non_null(f->base);
    char *err = NULL;
    struct store_open_opts so = {.workspace = "ws"};
    assert_int_equal(store_open("memory:", &so, &f->store, &err), 0);
    f->bus = bus_new(ring, "ws");
}

static void fixture_start(struct fixture *f)
{
    struct api_config cfg = {
        .addr = "127.0.0.1:0",
        .token = TOKEN,
        .bus = f->bus,
        .store = f->store,
        .workspace = "ws",
        .version = "test",
        .sse_heartbeat_ms = 60000,
        .host = {.arg = f, .status = host_status, .stats = host_stats},
    };
    char *err = NULL;
    int rc = api_new(f->base, &cfg, &f->api, &err);
    if (rc)
        fail_msg("api_new: %s", err ? err : "?");
}

static void fixture_deinit(struct fixture *f)
{
    api_free(f->api);
    bus_free(f->bus);
    store_close(f->store);
    event_base_free(f->base);
}

/* ---- a raw SSE client ---------------------------------------------------- */

static void client_frame(struct client *c, char *frame)
{
    char *id = NULL, *type = NULL, *data = NULL;
    for (char *line = strtok(frame, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "id: ", 4) == 0)
            id = line + 4;
        else if (strncmp(line, "event: ", 7) == 0)
            type = line + 7;
        else if (strncmp(line, "data: ", 6) == 0)
            data = line + 6;
        else if (strncmp(line, "retry: ", 7) == 0)
            c->retry_seen = true;
    }
    if (!type)
        return;
    snprintf(c->last_type, sizeof(c->last_type), "%s", type);
    if (strcmp(type, "resync") == 0) {
        c->resyncs++;
        snprintf(c->resync, sizeof(c->resync), "%s", data ? data : "");
        c->resync_id = id ? strtoull(id, NULL, 10) : 0;
        return;
    }
    if (!id) {
        c->announcements++;
        snprintf(c->announce, sizeof(c->announce), "%s", data ? data : "");
        return;
    }
    assert_true(c->nids < MAX_IDS);
    c->ids[c->nids++] = strtoull(id, NULL, 10);
}

/* Move the payload of every complete chunk from c->raw to c->in,
 * checking the framing byte for byte: `<hex>\r\n<payload>\r\n`. */
static void client_dechunk(struct client *c)
{
    for (;;) {
        char *eol = c->raw.len ? strstr(c->raw.data, "\r\n") : NULL;
        if (!eol || c->ended)
            return;
        char *end;
        unsigned long long size = strtoull(c->raw.data, &end, 16);
        if (end == c->raw.data || end != eol)
            fail_msg("bad chunk-size line: %.20s", c->raw.data);
        size_t head = (size_t)(eol + 2 - c->raw.data);
        if (c->raw.len < head + size + 2)
            return;
        if (memcmp(c->raw.data + head + size, "\r\n", 2) != 0)
            fail_msg("chunk of %llu bytes not followed by CRLF", size);
        if (size == 0)
            c->ended = true;
        assert_int_equal(buf_append(&c->in, c->raw.data + head, (size_t)size), 0);
        buf_consume(&c->raw, head + (size_t)size + 2);
    }
}

static void client_read(struct bufferevent *bev, void *arg)
{
    struct client *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t n = evbuffer_get_length(in);
    char *tmp = malloc(n);
    evbuffer_remove(in, tmp, n);
    assert_int_equal(buf_append(c->head_done && c->chunked ? &c->raw : &c->in, tmp, n), 0);
    free(tmp);
    if (!c->head_done) {
        char *end = strstr(c->in.data, "\r\n\r\n");
        if (!end)
            return;
        c->status = (int)strtol(c->in.data + 9, NULL, 10); /* "HTTP/1.x NNN" */
        c->head_done = true;
        *end = '\0';
        c->chunked = strstr(c->in.data, "Transfer-Encoding: chunked") != NULL;
        buf_consume(&c->in, (size_t)(end + 4 - c->in.data));
        if (c->chunked) { /* what came after the head is chunked body */
            assert_int_equal(buf_append(&c->raw, c->in.data, c->in.len), 0);
            buf_consume(&c->in, c->in.len);
        }
    }
    if (c->chunked)
        client_dechunk(c);
    char *sep;
    while ((sep = strstr(c->in.data, "\n\n"))) {
        size_t len = (size_t)(sep - c->in.data);
        char *frame = malloc(len + 1);
        memcpy(frame, c->in.data, len);
        frame[len] = '\0';
        buf_consume(&c->in, len + 2);
        client_frame(c, frame);
        free(frame);
    }
}

static void client_event(struct bufferevent *bev, short what, void *arg)
{
    struct client *c = arg;
    (void)bev;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        c->closed = true;
}

/* A GET /events as HTTP/1.<minor>. */
static void client_open_minor(struct fixture *f, struct client *c, const char *query,
                              const char *header, int minor)
{
    memset(c, 0, sizeof(*c));
    buf_init(&c->in, 0);
    buf_init(&c->raw, 0);
    c->ids = calloc(MAX_IDS, sizeof(*c->ids));
    struct http_addr a;
    const char *why;
    assert_int_equal(http_addr_parse(api_address(f->api), &a, &why), 0);
    c->bev = bufferevent_socket_new(f->base, -1, BEV_OPT_CLOSE_ON_FREE);
    bufferevent_setcb(c->bev, client_read, NULL, client_event, c);
    assert_int_equal(bufferevent_socket_connect(c->bev, (struct sockaddr *)&a.ss, (int)a.len), 0);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    evbuffer_add_printf(bufferevent_get_output(c->bev),
                        "GET /events?token=" TOKEN "%s%s HTTP/1.%d\r\nHost: test\r\n%s\r\n",
                        query ? "&" : "", query ? query : "", minor, header ? header : "");
}

static void client_open(struct fixture *f, struct client *c, const char *query, const char *header)
{
    client_open_minor(f, c, query, header, 0);
}

static void client_close(struct client *c)
{
    bufferevent_free(c->bev);
    buf_deinit(&c->raw);
    buf_deinit(&c->in);
    free(c->ids);
}

/* Run the loop until pred(arg) or 90 s pass (then fail). The bound only
 * matters when something is broken; it is generous because the suite also
 * runs under valgrind on a busy 2-core machine. */
static void run_until(struct fixture *f, bool (*pred)(void *), void *arg)
{
    int64_t deadline = clock_mono_ns() + 90LL * 1000000000;
    struct timeval tick = {0, 2000};
    while (!pred(arg)) {
        if (clock_mono_ns() > deadline)
            fail_msg("timed out");
        event_base_loopexit(f->base, &tick);
        event_base_dispatch(f->base);
    }
}

struct want {
    struct client *c;
    uint64_t last;
};

static bool has_last(void *arg)
{
    struct want *w = arg;
    return w->c->nids > 0 && w->c->ids[w->c->nids - 1] >= w->last;
}

static bool is_open(void *arg)
{
    struct client *c = arg;
    return c->retry_seen || c->closed;
}

static bool is_closed(void *arg)
{
    return ((struct client *)arg)->closed;
}

static void assert_ids(const struct client *c, uint64_t from, uint64_t to)
{
    if (c->nids != to - from + 1)
        fail_msg("got %zu events, wanted %llu..%llu", c->nids, (unsigned long long)from,
                 (unsigned long long)to);
    for (size_t i = 0; i < c->nids; i++)
        if (c->ids[i] != from + i)
            fail_msg("event #%zu has id %llu, wanted %llu", i, (unsigned long long)c->ids[i],
                     (unsigned long long)(from + i));
}

/* ---- tests --------------------------------------------------------------- */

struct publisher {
    struct fixture *f;
    struct event *ev;
    int left;
};

static void publish_some(evutil_socket_t fd, short what, void *arg)
{
    struct publisher *p = arg;
    (void)fd;
    (void)what;
    for (int i = 0; i < 7 && p->left > 0; i++, p->left--)
        publish(p->f, "file:locked");
    if (p->left == 0)
        event_del(p->ev);
}

/* Catch up on 10000 stored events while 700 more are committed, as
 * HTTP/1.<minor>. */
static void catch_up_while_publishing(int minor)
{
    struct fixture f;
    fixture_init(&f, 16); /* the ring holds 16: the backlog comes from the store */
    for (int i = 0; i < 10000; i++)
        publish(&f, i % 2 ? "file:locked" : "task:created");
    fixture_start(&f);
    struct client c;
    client_open_minor(&f, &c, "since=0", NULL, minor);
    /* Keep committing while the client catches up, across the switch to
     * live delivery. */
    struct publisher p = {.f = &f, .left = 700};
    p.ev = event_new(f.base, -1, EV_PERSIST, publish_some, &p);
    struct timeval iv = {0, 500};
    event_add(p.ev, &iv);
    struct want w = {.c = &c, .last = 10700};
    run_until(&f, has_last, &w);
    assert_int_equal(p.left, 0);
    assert_int_equal(c.status, 200);
    assert_true(c.retry_seen);
    assert_int_equal(c.resyncs, 0);
    assert_ids(&c, 1, 10700);
    assert_int_equal(c.chunked, minor == 1);
    assert_false(c.ended);
    event_free(p.ev);
    client_close(&c);
    fixture_deinit(&f);
}

static void test_events_sse__catch_up_while_publishing_has_no_gap_nor_duplicate(void **state)
{
    (void)state;
    catch_up_while_publishing(0);
}

/* HTTP/1.1: the same stream, chunked; frames after the first are framed
 * by sse.c itself, and every chunk must be exact. */
static void test_events_sse__http11_stream_is_chunked_exactly(void **state)
{
    (void)state;
    catch_up_while_publishing(1);
}

static void test_events_sse__last_event_id_with_types_filter(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, 64);
    fixture_start(&f);
    for (int i = 1; i <= 10; i++)
        publish(&f, i % 2 ? "file:locked" : "task:completed");
    struct client c;
    /* Last-Event-ID wins over ?since= (an EventSource reconnecting keeps
     * its original URL). */
    client_open(&f, &c, "since=0&types=task:*", "Last-Event-ID: 4\r\n");
    run_until(&f, is_open, &c);
    publish(&f, "task:completed"); /* 11: live */
    publish(&f, "file:unlocked");  /* 12: filtered out */
    publish(&f, "task:claimed");   /* 13 */
    struct want w = {.c = &c, .last = 13};
    run_until(&f, has_last, &w);
    static const uint64_t want[] = {6, 8, 10, 11, 13};
    assert_int_equal(c.nids, 5);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(c.ids[i], want[i]);
    client_close(&c);
    fixture_deinit(&f);
}

/* An announcement (seq 0) reaches open streams that take its type at
 * once, without id:, and is never replayed; the ids around it go on. */
static void test_events_sse__announcement_has_no_id_and_is_not_replayed(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, 64);
    fixture_start(&f);
    publish(&f, "file:locked"); /* 1 */
    struct client health, tasks;
    client_open(&f, &health, "types=health:*,file:*", NULL);
    client_open(&f, &tasks, "types=task:*", NULL);
    run_until(&f, is_open, &health);
    run_until(&f, is_open, &tasks);
    struct event ev;
    event_init(&ev, "health:degraded", 1700000000000LL, cJSON_Parse("{\"component\":\"store\"}"));
    assert_int_equal(bus_announce(f.bus, &ev), 0);
    event_deinit(&ev);
    publish(&f, "file:unlocked"); /* 2 */
    publish(&f, "task:created");  /* 3 */
    struct want w = {.c = &health, .last = 2};
    run_until(&f, has_last, &w);
    struct want wt = {.c = &tasks, .last = 3};
    run_until(&f, has_last, &wt);
    assert_int_equal(health.announcements, 1);
    assert_string_equal(health.last_type, "file:unlocked");
    assert_non_null(strstr(health.announce, "\"component\":\"store\""));
    assert_null(strstr(health.announce, "\"id\""));
    assert_ids(&health, 2, 2);
    assert_int_equal(tasks.announcements, 0); /* its filter does not take health:* */
    assert_ids(&tasks, 3, 3);
    /* Resuming from the start replays the log only. */
    struct client again;
    client_open(&f, &again, "since=0", NULL);
    struct want wa = {.c = &again, .last = 3};
    run_until(&f, has_last, &wa);
    assert_int_equal(again.announcements, 0);
    assert_ids(&again, 1, 3);
    client_close(&again);
    client_close(&tasks);
    client_close(&health);
    fixture_deinit(&f);
}

static void test_events_sse__resync_over_trimmed_history(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, 16);
    for (int i = 0; i < 200; i++)
        publish(&f, "file:locked");
    assert_int_equal(f.store->ops->snapshot_save(f.store, 100, "{}", 2), 0);
    assert_int_equal(f.store->ops->trim(f.store, 100), 0);
    fixture_start(&f);
    struct client c;
    client_open(&f, &c, "since=5", NULL);
    struct want w = {.c = &c, .last = 200};
    run_until(&f, has_last, &w);
    assert_int_equal(c.resyncs, 1);
    assert_string_equal(c.resync, "{\"requested\":5,\"firstAvailable\":101}");
    assert_int_equal(c.resync_id, 100);
    assert_ids(&c, 101, 200);
    client_close(&c);
    fixture_deinit(&f);
}

static void test_events_sse__resync_beyond_the_end(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, 16);
    for (int i = 0; i < 20; i++)
        publish(&f, "file:locked");
    fixture_start(&f);
    struct client c;
    client_open(&f, &c, "since=999", NULL);
    run_until(&f, is_open, &c);
    publish(&f, "file:unlocked");
    struct want w = {.c = &c, .last = 21};
    run_until(&f, has_last, &w);
    assert_int_equal(c.resyncs, 1);
    assert_string_equal(c.resync, "{\"requested\":999,\"firstAvailable\":1}");
    assert_int_equal(c.resync_id, 20);
    assert_ids(&c, 21, 21);
    client_close(&c);
    fixture_deinit(&f);
}

/* A huge requested id comes back as its exact digits, never as 1.8e+19. */
static void test_events_sse__resync_prints_huge_ids_exactly(void **state)
{
    (void)state;
    static const char *const ids[] = {"18446744073709551615", "1000000000000000",
                                      "9007199254740993"};
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        struct fixture f;
        fixture_init(&f, 16);
        for (int k = 0; k < 3; k++)
            publish(&f, "file:locked");
        fixture_start(&f);
        struct client c;
        char q[64];
        snprintf(q, sizeof(q), "since=%s", ids[i]);
        client_open(&f, &c, q, NULL);
        run_until(&f, is_open, &c);
        publish(&f, "file:unlocked");
        struct want w = {.c = &c, .last = 4};
        run_until(&f, has_last, &w);
        assert_int_equal(c.resyncs, 1);
        char want[96];
        snprintf(want, sizeof(want), "{\"requested\":%s,\"firstAvailable\":1}", ids[i]);
        assert_string_equal(c.resync, want);
        client_close(&c);
        fixture_deinit(&f);
    }
}

static void test_events_sse__bad_parameters_are_400(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, 16);
    fixture_start(&f);
    static const char *const queries[] = {"since=abc", "since=-1", "types=File:*", "types="};
    for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
        struct client c;
        client_open(&f, &c, queries[i], NULL);
        run_until(&f, is_closed, &c);
        if (c.status != 400)
            fail_msg("%s: status %d", queries[i], c.status);
        client_close(&c);
    }
    struct client c;
    client_open(&f, &c, NULL, "Last-Event-ID: x1\r\n");
    run_until(&f, is_closed, &c);
    assert_int_equal(c.status, 400);
    client_close(&c);
    /* An empty Last-Event-ID is no id: ?since= applies. */
    publish(&f, "file:locked");
    client_open(&f, &c, "since=0", "Last-Event-ID: \r\n");
    struct want w = {.c = &c, .last = 1};
    run_until(&f, has_last, &w);
    assert_int_equal(c.status, 200);
    assert_ids(&c, 1, 1);
    client_close(&c);
    fixture_deinit(&f);
}

struct two {
    struct client *slow, *fast;
    uint64_t last;
};

static bool slow_cut_fast_done(void *arg)
{
    struct two *t = arg;
    return t->slow->closed && t->fast->nids > 0 && t->fast->ids[t->fast->nids - 1] >= t->last;
}

static void test_events_sse__stalled_subscriber_is_cut_off_others_keep_up(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, 4096);
    fixture_start(&f);
    struct client slow, fast;
    client_open(&f, &slow, NULL, NULL);
    client_open(&f, &fast, NULL, NULL);
    run_until(&f, is_open, &slow);
    run_until(&f, is_open, &fast);
    bufferevent_disable(slow.bev, EV_READ); /* it stops reading */
    /* ~23 MB of frames in batches; after each batch the loop runs until the
     * reading client has it all (not for a fixed time: on a loaded machine,
     * under valgrind, a fixed tick let it fall 4 MiB behind and be cut off
     * too), while the stalled one passes its 4 MiB bound (plus what the
     * kernel buffers on both sides). */
    while (f.seq < 100000) {
        for (int i = 0; i < 250; i++)
            publish(&f, "file:locked");
        struct want caught_up = {.c = &fast, .last = f.seq};
        run_until(&f, has_last, &caught_up);
    }
    /* It reads again: what the kernel held, then the end of the stream. */
    struct two t = {.slow = &slow, .fast = &fast, .last = f.seq};
    bufferevent_enable(slow.bev, EV_READ);
    run_until(&f, slow_cut_fast_done, &t);
    assert_ids(&fast, 1, f.seq);
    assert_true(slow.nids < f.seq);
    client_close(&slow);
    client_close(&fast);
    fixture_deinit(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events_sse__catch_up_while_publishing_has_no_gap_nor_duplicate),
        cmocka_unit_test(test_events_sse__http11_stream_is_chunked_exactly),
        cmocka_unit_test(test_events_sse__last_event_id_with_types_filter),
        cmocka_unit_test(test_events_sse__announcement_has_no_id_and_is_not_replayed),
        cmocka_unit_test(test_events_sse__resync_over_trimmed_history),
        cmocka_unit_test(test_events_sse__resync_beyond_the_end),
        cmocka_unit_test(test_events_sse__resync_prints_huge_ids_exactly),
        cmocka_unit_test(test_events_sse__bad_parameters_are_400),
        cmocka_unit_test(test_events_sse__stalled_subscriber_is_cut_off_others_keep_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
