/* metrics — GET /metrics: the Prometheus text exposition (format 0.0.4) of
 * the hub's numbers. Rendering is pure: the caller gathers the figures
 * (the hub's through its host callback, the HTTP face's own) and this
 * module only formats them, so the output is unit tested byte for byte.
 *
 * Counters count since the hub process started; gauges are current. */
#ifndef COORDHUB_API_METRICS_H
#define COORDHUB_API_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

/* Distinct event types given their own label; later types are counted
 * under type="other" so a publisher cannot grow the exposition. */
#define METRICS_MAX_TYPES 64
#define METRICS_TYPE_MAX 72

struct metrics_event_counts {
    struct {
        char type[METRICS_TYPE_MAX];
        uint64_t n;
    } by_type[METRICS_MAX_TYPES];
    size_t ntypes;
    uint64_t other; /* events whose type found no free label */
    uint64_t total;
};

/* Count one event of the given type. */
void metrics_event_counts_add(struct metrics_event_counts *c, const char *type);

/* Figures the hub provides. */
struct metrics_hub {
    uint64_t store_last_seq;
    double loop_lag_seconds;
    double uptime_seconds;
    size_t sessions;
    size_t agents, agents_active;
    size_t leases, lock_waiters;
    size_t tasks_open, tasks_claimed;
    uint64_t lock_granted_total, lock_contended_total, lock_expired_total;
};

/* Figures of the HTTP face itself. */
struct metrics_face {
    size_t sse_clients;
    uint64_t sse_delivered_total; /* frames queued to live subscribers */
    uint64_t sse_cut_off_total;   /* subscribers disconnected at their queue bound */
    uint64_t sse_resync_total;    /* resync events sent */
    size_t http_connections;
    uint64_t http_requests_total;
    uint64_t http_rejected_total;     /* connections refused at the cap */
    uint64_t http_unauthorized_total; /* 401 answers */
};

/* Append the exposition to out. 0 or -ERR_TOO_LARGE past out's cap. */
COORDHUB_MUST_CHECK int metrics_render(struct buf *out, const struct metrics_hub *hub,
                                       const struct metrics_face *face,
                                       const struct metrics_event_counts *events);

#endif
