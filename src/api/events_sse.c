/* events_sse — subscribers of GET /events, their catch-up and the live
 * fan-out.
 *
 * A subscriber has a cursor: every event with seq <= cursor has been sent
 * to it or skipped by its filter. It is in one of two modes:
 *   catch-up — it is behind the newest published event. events_sse_pump
 *              sends it the next events (from the bus ring when the ring
 *              still holds cursor+1, else from the store) in steps bounded
 *              in bytes and events examined, and runs again when its
 *              socket has drained (or from the loop when a step wrote
 *              nothing). A network store is read without waiting
 *              (store_ops.read_async): the step ends there and the read's
 *              callback sends the chunk and goes on. The fan-out skips it.
 *   live     — cursor == the newest published event: the bus callback
 *              sends it each new event as it is published.
 * The switch happens inside a pump step, on the loop thread, at the
 * moment cursor reaches bus_newest(): an event is published either
 * before that moment (then the pump sees it in the ring) or after (then
 * the fan-out sees the subscriber live), never both and never neither.
 * The fan-out also refuses any seq <= cursor, so a duplicate is
 * impossible even if the two paths overlapped.
 *
 * Gaps: when the next event the log holds is above cursor+1 (trimmed
 * history), the subscriber gets a resync frame and its cursor jumps.
 *
 * Announcements (bus.h, seq 0) bypass the cursor: every open stream that
 * wants the type gets them at once, without `id:`.
 *
 * Ownership: a subscriber record lives from the handler until its
 * stream's `closed` callback, which unlinks and frees it (libuv's close
 * rule). The fan-out only marks streams closing, so the list is never
 * changed while it is walked. */
#include "api/events_sse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "core/events_filter.h"
#include "base/buf.h"
#include "base/json.h"
#include "base/log.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "bus/bus.h"
#include "net/http.h"
#include "net/sse.h"
#include "store/store.h"

#define EVENTS_SSE_STEP_BYTES (256 * 1024) /* output per catch-up step */
#define EVENTS_SSE_STEP_EVENTS 4096        /* events examined per step */
#define EVENTS_SSE_STORE_CHUNK 256         /* events per store read */

struct events_sse_client {
    struct events_sse *owner;
    uint64_t id; /* for logs */
    struct sse_stream *stream;
    struct events_filter filter;
    const struct events_filter *allow; /* borrowed: the credential's patterns, NULL: all */
    const void *principal;             /* who opened it (events_sse_end_principal) */
    uint64_t cursor;
    bool live;
    struct event *step_ev; /* continues a catch-up step that wrote nothing */
    /* The store read it waits for (store_ops.read_async), or NULL. */
    struct store_read *reading;
    struct events_sse_client *prev, *next;
};

struct events_sse {
    struct events_sse_config cfg;
    char *workspace; /* owned copy */
    uint64_t bus_sub;
    struct events_sse_client *clients;
    size_t nclients;
    uint64_t next_client_id;
    struct buf frame; /* scratch: the frame of the event being fanned out */
    struct events_sse_stats stats;
};

/* ---- frames -------------------------------------------------------------- */

/* Does c get events of this type: its `types` and its credential allow it. */
static bool events_sse_wanted(const struct events_sse_client *c, const char *type)
{
    return events_filter_match(&c->filter, type) &&
           (!c->allow || events_filter_match(c->allow, type));
}

static int events_sse_frame(struct buf *out, uint64_t seq, const char *type, const char *text)
{
    char id[STR_INT_LEN];
    snprintf(id, sizeof(id), "%llu", (unsigned long long)seq);
    return sse_encode_event(out, id, type, text, strlen(text));
}

/* Append a resync frame telling the client that the ids after `requested`
 * up to first_available-1 (or beyond the end) do not exist; the frame's id
 * is `resume_at`, where the stream goes on from. */
static int events_sse_resync(struct events_sse *e, struct buf *out, uint64_t requested,
                             uint64_t first_available, uint64_t resume_at)
{
    cJSON *d = cJSON_CreateObject();
    json_add_u64(d, "requested", requested);
    json_add_u64(d, "firstAvailable", first_available);
    char *text = json_print(d);
    cJSON_Delete(d);
    char id[STR_INT_LEN];
    snprintf(id, sizeof(id), "%llu", (unsigned long long)resume_at);
    int rc = sse_encode_event(out, id, "resync", text, strlen(text));
    free(text);
    e->stats.resyncs++;
    return rc;
}

/* The lowest id still readable: the store's first, or the ring's oldest if
 * the ring reaches further back. */
static uint64_t events_sse_first_available(struct events_sse *e)
{
    uint64_t first = 1;
    if (e->cfg.store->ops->first_seq(e->cfg.store, &first) != 0)
        first = 1;
    uint64_t oldest = bus_oldest(e->cfg.bus);
    if (oldest && oldest < first)
        first = oldest;
    return first;
}

/* ---- catch-up ------------------------------------------------------------ */

/* Add to out the client's next events from the ring, within the step's
 * budgets. */
static void events_sse_from_ring(struct events_sse_client *c, struct buf *out, uint64_t target,
                                 size_t *examined)
{
    struct bus *bus = c->owner->cfg.bus;
    size_t n = bus_count(bus);
    for (size_t i = bus_find_after(bus, c->cursor); i < n; i++) {
        if (out->len >= EVENTS_SSE_STEP_BYTES || *examined >= EVENTS_SSE_STEP_EVENTS)
            break;
        const char *text;
        const struct event *ev = bus_at(bus, i, &text);
        if (ev->seq > target)
            break;
        (*examined)++;
        if (events_sse_wanted(c, ev->type) && events_sse_frame(out, ev->seq, ev->type, text) != 0)
            break; /* the frame is invalid (a type with a newline): impossible, skip */
        c->cursor = ev->seq;
    }
}

/* Add to out the client's next events of chunk (read from the store
 * after its cursor: ids older than the ring), or a resync when the log no
 * longer holds cursor+1. */
static void events_sse_take_chunk(struct events_sse_client *c, const struct event_vec *chunk,
                                  struct buf *out, uint64_t target, size_t *examined)
{
    struct events_sse *e = c->owner;
    uint64_t next = chunk->len ? chunk->items[0].seq : UINT64_MAX;
    uint64_t oldest = bus_oldest(e->cfg.bus);
    bool ring_is_next = oldest && oldest < next;
    if (ring_is_next)
        next = oldest;
    if (next == UINT64_MAX)
        next = target + 1; /* nothing anywhere: cannot happen while cursor < target */
    if (next > c->cursor + 1) {
        (void)events_sse_resync(e, out, c->cursor, next, next - 1);
        c->cursor = next - 1;
    }
    if (ring_is_next)
        return;
    for (size_t i = 0; i < chunk->len; i++) {
        const struct event *ev = &chunk->items[i];
        if (ev->seq <= c->cursor)
            continue;
        if (ev->seq > target || out->len >= EVENTS_SSE_STEP_BYTES ||
            *examined >= EVENTS_SSE_STEP_EVENTS)
            break;
        (*examined)++;
        if (events_sse_wanted(c, ev->type)) {
            char *text = event_to_text(ev, e->workspace);
            int frc = events_sse_frame(out, ev->seq, ev->type, text);
            free(text);
            if (frc)
                break;
        }
        c->cursor = ev->seq;
    }
}

/* The same with a blocking read of the store. Returns 0 or the store's
 * error. */
static int events_sse_from_store(struct events_sse_client *c, struct buf *out, uint64_t target,
                                 size_t *examined)
{
    struct events_sse *e = c->owner;
    struct event_vec chunk;
    event_vec_init(&chunk);
    int rc = e->cfg.store->ops->read(e->cfg.store, c->cursor, EVENTS_SSE_STORE_CHUNK, &chunk);
    if (rc == 0)
        events_sse_take_chunk(c, &chunk, out, target, examined);
    event_vec_deinit(&chunk);
    return rc;
}

static void events_sse_pump(struct events_sse_client *c);

static void events_sse_cannot_read(struct events_sse_client *c)
{
    log_warn("events: subscriber %llu: cannot read the event log; closing its stream",
             (unsigned long long)c->id);
    sse_stream_close(c->stream);
}

/* The asynchronous store read came back: send what it gives, then go on. */
static void events_sse_read_done(void *arg, int status, struct event_vec *chunk)
{
    struct events_sse_client *c = arg;
    c->reading = NULL;
    if (sse_stream_closing(c->stream))
        return;
    if (status != 0) {
        events_sse_cannot_read(c);
        return;
    }
    struct buf out;
    buf_init(&out, 0);
    size_t examined = 0;
    events_sse_take_chunk(c, chunk, &out, bus_newest(c->owner->cfg.bus), &examined);
    int rc = out.len ? sse_stream_send(c->stream, out.data, out.len) : 0;
    bool wrote = out.len > 0;
    buf_deinit(&out);
    if (rc != 0)
        return; /* the stream is closing */
    if (wrote)
        return; /* the drain pumps on */
    events_sse_pump(c);
}

/* Ask the store for the client's next chunk without waiting, where the
 * store can (a network store on the hub's loop): true when asked. */
static bool events_sse_read_later(struct events_sse_client *c)
{
    struct store *st = c->owner->cfg.store;
    return st->ops->read_async && st->ops->read_async(st, c->cursor, EVENTS_SSE_STORE_CHUNK,
                                                      events_sse_read_done, c, &c->reading) == 0;
}

/* One catch-up step for c (see the top of the file). */
static void events_sse_pump(struct events_sse_client *c)
{
    struct events_sse *e = c->owner;
    if (c->live || c->reading || sse_stream_closing(c->stream))
        return;
    uint64_t target = bus_newest(e->cfg.bus);
    struct buf out;
    buf_init(&out, 0);
    size_t examined = 0;
    while (c->cursor < target && out.len < EVENTS_SSE_STEP_BYTES &&
           examined < EVENTS_SSE_STEP_EVENTS) {
        uint64_t oldest = bus_oldest(e->cfg.bus);
        uint64_t before = c->cursor;
        if (oldest && c->cursor + 1 >= oldest) {
            e->stats.ring_reads++;
            events_sse_from_ring(c, &out, target, &examined);
        } else {
            e->stats.store_reads++;
            if (events_sse_read_later(c))
                break; /* events_sse_read_done goes on */
            if (events_sse_from_store(c, &out, target, &examined) != 0) {
                events_sse_cannot_read(c);
                buf_deinit(&out);
                return;
            }
        }
        if (c->cursor == before && out.len == 0)
            break; /* no progress possible (an unsendable frame): stop, resume later */
    }
    if (out.len && sse_stream_send(c->stream, out.data, out.len) != 0) {
        buf_deinit(&out);
        return; /* the stream is closing */
    }
    bool wrote = out.len > 0;
    buf_deinit(&out);
    if (c->reading) {
        /* Its read comes back to events_sse_read_done. */
    } else if (c->cursor >= target) {
        c->live = true;
        log_debug("events: subscriber %llu is live at %llu", (unsigned long long)c->id,
                  (unsigned long long)c->cursor);
    } else if (!wrote) {
        event_active(c->step_ev, EV_TIMEOUT, 0); /* no drain will come to wake us */
    }
}

static void events_sse_drained(void *arg)
{
    events_sse_pump(arg);
}

static void events_sse_step(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    events_sse_pump(arg);
}

static void events_sse_client_closed(void *arg)
{
    struct events_sse_client *c = arg;
    struct events_sse *e = c->owner;
    if (c->prev)
        c->prev->next = c->next;
    else
        e->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    e->nclients--;
    if (c->reading)
        e->cfg.store->ops->read_cancel(e->cfg.store, c->reading);
    log_debug("events: subscriber %llu left at %llu", (unsigned long long)c->id,
              (unsigned long long)c->cursor);
    events_filter_deinit(&c->filter);
    event_free(c->step_ev);
    free(c); /* the stream frees itself after this callback */
}

/* ---- live fan-out -------------------------------------------------------- */

/* An announcement (bus.h: seq 0, not in the log) goes to every open
 * stream that wants its type, live or catching up, as a frame without
 * `id:`: a client's Last-Event-ID stays the last logged event it saw, so
 * resuming neither skips nor repeats anything. */
static void events_sse_announce(struct events_sse *e, const struct event *ev, const char *text)
{
    bool framed = false;
    for (struct events_sse_client *c = e->clients; c; c = c->next) {
        if (sse_stream_closing(c->stream) || !events_sse_wanted(c, ev->type))
            continue;
        if (!framed) {
            buf_reset(&e->frame);
            if (sse_encode_event(&e->frame, NULL, ev->type, text, strlen(text)) != 0)
                return;
            framed = true;
        }
        if (sse_stream_send(c->stream, e->frame.data, e->frame.len) == 0)
            e->stats.delivered++;
        else
            e->stats.cut_off++;
    }
}

static void events_sse_on_event(void *arg, const struct event *ev, const char *text)
{
    struct events_sse *e = arg;
    if (ev->seq == 0) {
        events_sse_announce(e, ev, text);
        return;
    }
    bool framed = false;
    for (struct events_sse_client *c = e->clients; c; c = c->next) {
        if (!c->live || ev->seq <= c->cursor || sse_stream_closing(c->stream))
            continue;
        c->cursor = ev->seq;
        if (!events_sse_wanted(c, ev->type))
            continue;
        if (!framed) {
            buf_reset(&e->frame);
            if (events_sse_frame(&e->frame, ev->seq, ev->type, text) != 0)
                return;
            framed = true;
        }
        if (sse_stream_send(c->stream, e->frame.data, e->frame.len) == 0) {
            e->stats.delivered++;
        } else {
            e->stats.cut_off++;
            log_info("events: subscriber %llu cut off before event %llu: more than %zu bytes "
                     "queued (it can resume with Last-Event-ID)",
                     (unsigned long long)c->id, (unsigned long long)ev->seq, e->cfg.max_pending);
        }
    }
}

/* ---- the handler --------------------------------------------------------- */

void events_sse_handle(struct events_sse *e, struct http_request *req,
                       const struct evkeyvalq *query, const struct events_filter *allow,
                       const void *principal)
{
    if (e->nclients >= e->cfg.max_clients) {
        char msg[96];
        snprintf(msg, sizeof(msg), "too many event streams (at most %zu); retry later",
                 e->cfg.max_clients);
        http_reply_error(req, 503, "unavailable", msg);
        return;
    }
    struct events_filter filter;
    events_filter_init(&filter);
    const struct evkeyval *kv;
    TAILQ_FOREACH(kv, query, next)
    {
        const char *why;
        if (strcmp(kv->key, "types") == 0 && events_filter_parse(&filter, kv->value, &why) != 0) {
            char msg[160];
            snprintf(msg, sizeof(msg), "types: %s", why);
            events_filter_deinit(&filter);
            http_reply_error(req, 400, "invalid_argument", msg);
            return;
        }
    }
    uint64_t newest = bus_newest(e->cfg.bus);
    uint64_t cursor = newest; /* neither header nor since: from now */
    const char *last = http_request_header(req, "Last-Event-ID");
    if (last && !last[strspn(last, " \t")])
        last = NULL; /* an empty id is no id (the SSE spec never sends one) */
    const char *since = evhttp_find_header(query, "since");
    if (last || since) {
        if (sse_parse_id(last ? last : since, &cursor) != 0) {
            events_filter_deinit(&filter);
            http_reply_error(req, 400, "invalid_argument",
                             last ? "Last-Event-ID: must be an event id (decimal digits)"
                                  : "since: must be an event id (decimal digits)");
            return;
        }
    }
    struct events_sse_client *c = xcalloc(1, sizeof(*c));
    c->owner = e;
    c->id = ++e->next_client_id;
    c->filter = filter;
    c->allow = allow;
    c->principal = principal;
    c->cursor = cursor;
    c->step_ev = event_new(e->cfg.base, -1, 0, events_sse_step, c);
    if (!c->step_ev)
        abort(); /* out of memory, as xmalloc would */
    c->next = e->clients;
    if (e->clients)
        e->clients->prev = c;
    e->clients = c;
    e->nclients++;
    struct sse_stream_opts so = {.max_pending = e->cfg.max_pending,
                                 .heartbeat_ms = e->cfg.heartbeat_ms,
                                 .retry_ms = e->cfg.retry_ms,
                                 .write_timeout_s = e->cfg.write_timeout_s};
    struct sse_stream_cbs cbs = {.drained = events_sse_drained, .closed = events_sse_client_closed};
    c->stream = sse_stream_start(e->cfg.base, req, &so, &cbs, c);
    log_debug("events: subscriber %llu from %llu (%zu type patterns)", (unsigned long long)c->id,
              (unsigned long long)cursor, filter.n);
    if (cursor > newest) {
        /* The client has seen ids this log never produced (the state was
         * reset): it must resync; the stream goes on from the end. */
        struct buf out;
        buf_init(&out, 0);
        if (events_sse_resync(e, &out, cursor, events_sse_first_available(e), newest) == 0)
            (void)sse_stream_send(c->stream, out.data, out.len); /* failure closes it */
        buf_deinit(&out);
        c->cursor = newest;
    }
    events_sse_pump(c);
}

/* ---- life cycle ---------------------------------------------------------- */

struct events_sse *events_sse_new(const struct events_sse_config *cfg)
{
    struct events_sse *e = xcalloc(1, sizeof(*e));
    e->cfg = *cfg;
    e->workspace = xstrdup(cfg->workspace);
    e->cfg.workspace = e->workspace;
    buf_init(&e->frame, 0);
    e->bus_sub = bus_subscribe(cfg->bus, events_sse_on_event, e);
    return e;
}

void events_sse_free(struct events_sse *e)
{
    if (!e)
        return;
    bus_unsubscribe(e->cfg.bus, e->bus_sub);
    while (e->clients) {
        struct events_sse_client *c = e->clients;
        e->clients = c->next;
        if (c->reading)
            e->cfg.store->ops->read_cancel(e->cfg.store, c->reading);
        sse_stream_free(c->stream);
        events_filter_deinit(&c->filter);
        event_free(c->step_ev);
        free(c);
    }
    buf_deinit(&e->frame);
    free(e->workspace);
    free(e);
}

void events_sse_end_principal(struct events_sse *e, const void *principal)
{
    /* Only marks: each stream's `closed` callback unlinks and frees it. */
    for (struct events_sse_client *c = e->clients; c; c = c->next)
        if (c->principal == principal)
            sse_stream_close(c->stream);
}

void events_sse_stats(const struct events_sse *e, struct events_sse_stats *out)
{
    *out = e->stats;
    out->clients = e->nclients;
}
