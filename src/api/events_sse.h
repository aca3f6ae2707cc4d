/* events_sse — GET /events: the workspace's event log as Server-Sent
 * Events (docs/http-api.md).
 *
 * Each frame is `id: <seq>`, `event: <type>`, `data: <wire JSON>` — the
 * same JSON as everywhere else (docs/events.md, "Envelope"). A client
 * resumes from the id it last saw (`Last-Event-ID`, else `?since=N`;
 * neither: from now) and
 * gets every later event exactly once, in order: the backlog from the
 * bus ring, from the store for ids older than the ring, then the live
 * events. `?types=` filters by type pattern. If the ids it asks for were
 * trimmed from the log, or lie beyond its end, it first gets an `event:
 * resync` with `{"requested":N,"firstAvailable":M}` whose `id:` is where
 * the stream goes on from.
 *
 * An announcement of the bus (an event not in the log, such as
 * health:degraded while the store is away) is sent to every open stream
 * whose filter takes it, as a frame without `id:`, so resumption is
 * unaffected; it is never replayed.
 *
 * Publishers never wait for a subscriber: a live subscriber whose queue
 * passes its bound is disconnected (it resumes with Last-Event-ID), and a
 * subscriber catching up is fed in bounded steps as its socket drains. */
#ifndef COORDHUB_API_EVENTS_SSE_H
#define COORDHUB_API_EVENTS_SSE_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct http_request;
struct evkeyvalq;
struct bus;
struct store;
struct events_sse;
struct events_filter;

struct events_sse_config {
    struct event_base *base;
    struct bus *bus;       /* committed events: ring + live fan-out */
    struct store *store;   /* history older than the ring */
    const char *workspace; /* names the envelope of events read from the store */
    size_t max_clients;    /* open streams; 503 beyond */
    size_t max_pending;    /* bytes queued per subscriber before it is cut off */
    int64_t heartbeat_ms;
    int64_t retry_ms;
    int write_timeout_s;
};

struct events_sse_stats {
    size_t clients;
    uint64_t delivered; /* frames queued to live subscribers */
    uint64_t cut_off;   /* subscribers disconnected at their bound */
    uint64_t resyncs;   /* resync events sent */
    /* catch-up reads served by the bus ring (hits) or the store (misses) */
    uint64_t ring_reads, store_reads;
};

/* A new /events face, subscribed to cfg->bus (strings are copied). */
struct events_sse *events_sse_new(const struct events_sse_config *cfg);
/* End every stream (no callbacks) and unsubscribe. NULL ok. Call before
 * the HTTP server is freed. */
void events_sse_free(struct events_sse *e);
/* Serve one GET /events request: answer 400/503, or take it over as a
 * stream. query is the request's decoded query (borrowed). allow, when
 * not NULL, is what the credential may receive: the stream carries only
 * events matching both `types` and allow (borrowed: it must outlive the
 * stream). principal (opaque, may be NULL) names who opened it. */
void events_sse_handle(struct events_sse *e, struct http_request *req,
                       const struct evkeyvalq *query, const struct events_filter *allow,
                       const void *principal);
/* Close every stream opened by principal (a revoked credential). */
void events_sse_end_principal(struct events_sse *e, const void *principal);
void events_sse_stats(const struct events_sse *e, struct events_sse_stats *out);

#endif
