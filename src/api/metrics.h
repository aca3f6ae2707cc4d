/* metrics — GET /metrics: the Prometheus text exposition (format 0.0.4) of
 * the hub's numbers. Rendering is pure: the caller gathers the figures
 * (the hub's through its host callback, the HTTP face's own) and this
 * module only formats them, so the output is unit tested byte for byte.
 *
 * Counters count since the hub process started; gauges are current.
 *
 * Histograms are fixed arrays: a family's bucket bounds are a constant
 * scale (enum metrics_scale) known to both the code that observes and the
 * renderer, so observing allocates nothing and a zeroed histogram is a
 * valid empty one. Counts are kept per bucket and made cumulative (the
 * format's `le` semantics) only when rendered. */
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

/* Bucket scales (upper bounds; +Inf is always added). */
enum metrics_scale {
    METRICS_SCALE_LATENCY, /* seconds, 100 µs … 10 s: tool calls, store appends */
    METRICS_SCALE_WAIT,    /* seconds, 1 ms … 60 s: lock waits (waitMs ≤ 60 s) */
    METRICS_SCALE_CYCLE,   /* seconds, 1 s … 1 day: task claimed → completed */
    METRICS_SCALE_BATCH,   /* events, 1 … 4096: events per group commit */
};
#define METRICS_BUCKETS 16 /* most bounds a scale has */

struct metrics_histogram {
    uint64_t counts[METRICS_BUCKETS + 1]; /* per bucket (not cumulative); last: above every bound */
    uint64_t count;
    double sum;
};

/* Count one observation v (in the scale's unit). No allocation. */
void metrics_histogram_observe(struct metrics_histogram *h, enum metrics_scale scale, double v);

/* Tool calls of one tool, by outcome: ok (a result), refused (a result
 * with success:false — a domain refusal), error (isError: bad arguments,
 * unknown tool, store failure). Latency runs from the hub receiving the
 * parsed call to the answer being sent, group commit included. */
struct metrics_tool {
    const char *name; /* static: a catalog tool name, or "other" */
    uint64_t ok, refused, error;
    struct metrics_histogram seconds; /* METRICS_SCALE_LATENCY */
};

/* History reads served by the bus ring (hits) or the store (misses). */
struct metrics_cache {
    uint64_t hits, misses;
};

/* Figures the hub provides. Pointers are borrowed for the render call. */
struct metrics_hub {
    uint64_t store_last_seq;
    uint64_t store_first_seq; /* lowest seq still in the log, as this hub last saw it */
    uint64_t store_trimmed_total;
    double loop_lag_seconds;
    double uptime_seconds;
    size_t sessions;
    size_t agents, agents_active;
    size_t leases, lock_waiters;
    size_t tasks_open, tasks_claimed;
    uint64_t lock_granted_total, lock_contended_total, lock_expired_total;
    /* lock_file calls with waitMs that queued, by how the wait ended */
    uint64_t lock_wait_granted_total, lock_wait_timed_out_total, lock_wait_cancelled_total;
    struct metrics_histogram lock_wait_seconds; /* METRICS_SCALE_WAIT: granted or timed out */
    uint64_t tasks_completed_total, tasks_failed_total, tasks_released_total;
    struct metrics_histogram task_cycle_seconds; /* METRICS_SCALE_CYCLE */
    const struct metrics_tool *tools;            /* tools called at least once shown */
    size_t ntools;
    struct metrics_histogram store_append_seconds; /* METRICS_SCALE_LATENCY */
    uint64_t store_append_errors_total;
    uint64_t store_conflicts_total;               /* appends refused: another hub appended first */
    uint64_t commands_reevaluated_total;          /* calls evaluated again after a conflict */
    struct metrics_histogram commit_batch_events; /* METRICS_SCALE_BATCH */
    struct metrics_cache wait_cache;              /* wait_for_events history reads */
    /* Messages other systems published on the store's shared channel
     * (redis: mcp:events), by outcome; all 0 for a store that ingests
     * nothing. */
    struct {
        uint64_t ingested, duplicate, ignored, invalid, reserved, failed;
    } foreign;
    uint64_t publish_reserved_total; /* publish_event calls refused for a reserved type */
    /* The Unix socket: connections accepted whose first line has not been
     * read yet, sessions refused at its cap (a JSON-RPC error line),
     * pending connections dropped (first-line deadline, or the oldest
     * dropped for a new one at the pending cap), and accept() calls that
     * failed for want of descriptors (listener.h). */
    size_t socket_pending;
    uint64_t socket_refused_total;
    uint64_t socket_dropped_total;
    uint64_t socket_accept_failures_total;
};

/* Figures of the HTTP face itself. */
struct metrics_face {
    size_t sse_clients;
    uint64_t sse_delivered_total;   /* frames queued to live subscribers */
    uint64_t sse_cut_off_total;     /* subscribers disconnected at their queue bound */
    uint64_t sse_resync_total;      /* resync events sent */
    struct metrics_cache sse_cache; /* GET /events catch-up reads */
    size_t http_connections;
    uint64_t http_requests_total;
    uint64_t http_rejected_total;        /* refused by the connection cap or a quota */
    uint64_t http_timeouts_total;        /* closed at a header or body deadline */
    uint64_t http_malformed_total;       /* heads refused by the parser */
    uint64_t http_dropped_total;         /* silent connections closed at the full cap */
    uint64_t http_accept_failures_total; /* accept() failed for want of descriptors */
    uint64_t http_unauthorized_total;    /* 401 answers */
    uint64_t events_post_reserved_total; /* POST /events refused for a reserved type */
};

/* Append the exposition to out. 0 or -ERR_TOO_LARGE past out's cap. */
COORDHUB_MUST_CHECK int metrics_render(struct buf *out, const struct metrics_hub *hub,
                                       const struct metrics_face *face,
                                       const struct metrics_event_counts *events);

#endif
