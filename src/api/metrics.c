/* metrics — Prometheus text rendering.
 *
 * Every family is written with its HELP and TYPE lines, always, so a
 * scraper sees the same set of names from the first scrape (a counter
 * that has not moved yet is 0). Label values are escaped as the format
 * requires (backslash, double quote, newline). */
#include "api/metrics.h"

#include <stdbool.h>
#include <string.h>

#include "rpc/tools.h"

static const double metrics_bounds_latency[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                                1,      2.5,     5,      10};
static const double metrics_bounds_wait[] = {0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1,
                                             2.5,   5,     10,   20,   30,  45,   60};
static const double metrics_bounds_cycle[] = {1,   5,    15,   30,   60,    120,   300,
                                              600, 1800, 3600, 7200, 14400, 28800, 86400};
static const double metrics_bounds_batch[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096};

static const struct {
    const double *bounds;
    size_t n;
} metrics_scales[] = {
    [METRICS_SCALE_LATENCY] = {metrics_bounds_latency,
                               sizeof(metrics_bounds_latency) / sizeof(metrics_bounds_latency[0])},
    [METRICS_SCALE_WAIT] = {metrics_bounds_wait,
                            sizeof(metrics_bounds_wait) / sizeof(metrics_bounds_wait[0])},
    [METRICS_SCALE_CYCLE] = {metrics_bounds_cycle,
                             sizeof(metrics_bounds_cycle) / sizeof(metrics_bounds_cycle[0])},
    [METRICS_SCALE_BATCH] = {metrics_bounds_batch,
                             sizeof(metrics_bounds_batch) / sizeof(metrics_bounds_batch[0])},
};

void metrics_histogram_observe(struct metrics_histogram *h, enum metrics_scale scale, double v)
{
    const double *b = metrics_scales[scale].bounds;
    size_t n = metrics_scales[scale].n;
    size_t i = 0;
    while (i < n && v > b[i])
        i++;
    h->counts[i]++;
    h->count++;
    h->sum += v;
}

void metrics_event_counts_add(struct metrics_event_counts *c, const char *type)
{
    c->total++;
    for (size_t i = 0; i < c->ntypes; i++) {
        if (strcmp(c->by_type[i].type, type) == 0) {
            c->by_type[i].n++;
            return;
        }
    }
    if (c->ntypes < METRICS_MAX_TYPES && strlen(type) < METRICS_TYPE_MAX) {
        memcpy(c->by_type[c->ntypes].type, type, strlen(type) + 1);
        c->by_type[c->ntypes].n = 1;
        c->ntypes++;
        return;
    }
    c->other++;
}

static int metrics_family(struct buf *out, const char *name, const char *type, const char *help)
{
    return buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static int metrics_u64(struct buf *out, const char *name, const char *type, const char *help,
                       uint64_t v)
{
    int rc = metrics_family(out, name, type, help);
    return rc ? rc : buf_printf(out, "%s %llu\n", name, (unsigned long long)v);
}

static int metrics_double(struct buf *out, const char *name, const char *help, double v)
{
    int rc = metrics_family(out, name, "gauge", help);
    return rc ? rc : buf_printf(out, "%s %.6f\n", name, v);
}

static int metrics_label_value(struct buf *out, const char *v)
{
    int rc = 0;
    for (const char *p = v; *p && !rc; p++) {
        if (*p == '\\')
            rc = buf_append(out, "\\\\", 2);
        else if (*p == '"')
            rc = buf_append(out, "\\\"", 2);
        else if (*p == '\n')
            rc = buf_append(out, "\\n", 2);
        else
            rc = buf_append(out, p, 1);
    }
    return rc;
}

static int metrics_labelled(struct buf *out, const char *name, const char *label, const char *value,
                            uint64_t v)
{
    int rc = buf_printf(out, "%s{%s=\"", name, label);
    if (!rc)
        rc = metrics_label_value(out, value);
    if (!rc)
        rc = buf_printf(out, "\"} %llu\n", (unsigned long long)v);
    return rc;
}

/* `name<suffix>{label="value"` or `name<suffix>{` when label is NULL; the
 * caller closes the brace, after more labels (comma first when label). */
static int metrics_open_labels(struct buf *out, const char *name, const char *suffix,
                               const char *label, const char *value)
{
    int rc = buf_printf(out, "%s%s{", name, suffix);
    if (!rc && label) {
        rc = buf_printf(out, "%s=\"", label);
        if (!rc)
            rc = metrics_label_value(out, value);
        if (!rc)
            rc = buf_append(out, "\"", 1);
    }
    return rc;
}

/* The series of one histogram: cumulative _bucket lines up to +Inf, then
 * _sum and _count; with an optional label (NULL: none). */
static int metrics_histogram_series(struct buf *out, const char *name, const char *label,
                                    const char *value, enum metrics_scale scale,
                                    const struct metrics_histogram *h)
{
    const double *b = metrics_scales[scale].bounds;
    size_t n = metrics_scales[scale].n;
    const char *comma = label ? "," : "";
    uint64_t cum = 0;
    int rc = 0;
    for (size_t i = 0; i <= n && !rc; i++) {
        cum += h->counts[i];
        rc = metrics_open_labels(out, name, "_bucket", label, value);
        if (!rc && i < n)
            rc = buf_printf(out, "%sle=\"%g\"} %llu\n", comma, b[i], (unsigned long long)cum);
        else if (!rc)
            rc = buf_printf(out, "%sle=\"+Inf\"} %llu\n", comma, (unsigned long long)cum);
    }
    if (!rc && label) {
        rc = metrics_open_labels(out, name, "_sum", label, value);
        if (!rc)
            rc = buf_printf(out, "} %.6f\n", h->sum);
        if (!rc)
            rc = metrics_open_labels(out, name, "_count", label, value);
        if (!rc)
            rc = buf_printf(out, "} %llu\n", (unsigned long long)h->count);
    } else if (!rc) {
        rc = buf_printf(out, "%s_sum %.6f\n%s_count %llu\n", name, h->sum, name,
                        (unsigned long long)h->count);
    }
    return rc;
}

static int metrics_histogram(struct buf *out, const char *name, const char *help,
                             enum metrics_scale scale, const struct metrics_histogram *h)
{
    int rc = metrics_family(out, name, "histogram", help);
    return rc ? rc : metrics_histogram_series(out, name, NULL, NULL, scale, h);
}

/* A counter family with one label and two series (e.g. the cache). */
static int metrics_cache(struct buf *out, const char *name, const char *help, bool hits,
                         const struct metrics_cache *wait, const struct metrics_cache *sse)
{
    int rc = metrics_family(out, name, "counter", help);
    if (!rc)
        rc = metrics_labelled(out, name, "reader", "events", hits ? sse->hits : sse->misses);
    if (!rc)
        rc = metrics_labelled(out, name, "reader", TOOL_WAIT_FOR_EVENTS,
                              hits ? wait->hits : wait->misses);
    return rc;
}

static int metrics_accept_failures(struct buf *out, const struct metrics_hub *hub,
                                   const struct metrics_face *face)
{
    const char *name = "coordhub_accept_failures_total";
    int rc = metrics_family(out, name, "counter",
                            "accept() calls that failed for want of descriptors or memory "
                            "(accepting then pauses), by listener.");
    if (!rc)
        rc = metrics_labelled(out, name, "listener", "http", face->http_accept_failures_total);
    if (!rc)
        rc = metrics_labelled(out, name, "listener", "socket", hub->socket_accept_failures_total);
    return rc;
}

static int metrics_tools(struct buf *out, const struct metrics_hub *hub)
{
    int rc = metrics_family(out, "coordhub_tool_calls_total", "counter",
                            "Tool calls answered, by tool and outcome (ok, refused: a result "
                            "with success false, error: isError).");
    static const char *const outcomes[] = {"ok", "refused", "error"};
    for (size_t i = 0; i < hub->ntools && !rc; i++) {
        const struct metrics_tool *t = &hub->tools[i];
        if (t->ok + t->refused + t->error == 0)
            continue;
        const uint64_t n[] = {t->ok, t->refused, t->error};
        for (size_t k = 0; k < 3 && !rc; k++) {
            rc = metrics_open_labels(out, "coordhub_tool_calls_total", "", "tool", t->name);
            if (!rc)
                rc = buf_printf(out, ",outcome=\"%s\"} %llu\n", outcomes[k],
                                (unsigned long long)n[k]);
        }
    }
    if (!rc)
        rc = metrics_family(out, "coordhub_tool_call_seconds", "histogram",
                            "Tool call latency, from the parsed call to the answer sent (group "
                            "commit included), by tool.");
    for (size_t i = 0; i < hub->ntools && !rc; i++) {
        const struct metrics_tool *t = &hub->tools[i];
        if (t->seconds.count)
            rc = metrics_histogram_series(out, "coordhub_tool_call_seconds", "tool", t->name,
                                          METRICS_SCALE_LATENCY, &t->seconds);
    }
    return rc;
}

/* Messages heard on the store's channel, one series per outcome. */
static int metrics_foreign(struct buf *out, const struct metrics_hub *hub)
{
    const char *name = "coordhub_store_foreign_messages_total";
    int rc = metrics_family(out, name, "counter",
                            "Messages other systems published on the store's channel "
                            "(mcp:events), by what became of them.");
    const struct {
        const char *outcome;
        uint64_t n;
    } rows[] = {
        {"ingested", hub->foreign.ingested}, {"duplicate", hub->foreign.duplicate},
        {"ignored", hub->foreign.ignored},   {"invalid", hub->foreign.invalid},
        {"reserved", hub->foreign.reserved}, {"failed", hub->foreign.failed},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]) && !rc; i++)
        rc = metrics_labelled(out, name, "outcome", rows[i].outcome, rows[i].n);
    return rc;
}

/* Events refused from outside because their type is in the hub's own
 * namespaces, one series per way in (docs/events.md). */
static int metrics_reserved(struct buf *out, const struct metrics_hub *hub,
                            const struct metrics_face *face)
{
    const char *name = "coordhub_events_reserved_refused_total";
    int rc = metrics_family(out, name, "counter",
                            "Events refused because their type is in the hub's own namespaces, "
                            "by the way they came in.");
    const struct {
        const char *way;
        uint64_t n;
    } rows[] = {
        {TOOL_PUBLISH_EVENT, hub->publish_reserved_total},
        {"post_events", face->events_post_reserved_total},
        {"redis", hub->foreign.reserved},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]) && !rc; i++)
        rc = metrics_labelled(out, name, "way", rows[i].way, rows[i].n);
    return rc;
}

/* One counter or gauge family of a single series. */
struct metrics_row {
    const char *name, *type, *help;
    uint64_t v;
};

static int metrics_rows(struct buf *out, const struct metrics_row *rows, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++)
        rc = metrics_u64(out, rows[i].name, rows[i].type, rows[i].help, rows[i].v);
    return rc;
}

#define METRICS_ROWS(out, rows) metrics_rows((out), (rows), sizeof(rows) / sizeof((rows)[0]))

/* Events committed, in all and by type. */
static int metrics_events(struct buf *out, const struct metrics_event_counts *events)
{
    int rc = metrics_u64(out, "coordhub_events_total", "counter",
                         "Events committed by this hub since it started.", events->total);
    if (!rc)
        rc = metrics_family(out, "coordhub_events_by_type_total", "counter",
                            "Events committed by this hub since it started, by type.");
    for (size_t i = 0; i < events->ntypes && !rc; i++)
        rc = metrics_labelled(out, "coordhub_events_by_type_total", "type", events->by_type[i].type,
                              events->by_type[i].n);
    if (!rc && events->other)
        rc = metrics_labelled(out, "coordhub_events_by_type_total", "type", "other", events->other);
    return rc;
}

/* Where the store's log stands. */
static int metrics_store_log(struct buf *out, const struct metrics_hub *hub)
{
    const struct metrics_row rows[] = {
        {"coordhub_store_last_seq", "gauge", "Sequence number of the last event in the store.",
         hub->store_last_seq},
        {"coordhub_store_first_seq", "gauge",
         "Lowest sequence number still in the store (older events were trimmed).",
         hub->store_first_seq},
        {"coordhub_store_trimmed_total", "counter",
         "Events this hub trimmed from the store behind its snapshots.", hub->store_trimmed_total},
    };
    return METRICS_ROWS(out, rows);
}

/* Leases, lock requests and the lock wait queues. */
static int metrics_locks(struct buf *out, const struct metrics_hub *hub)
{
    const struct metrics_row rows[] = {
        {"coordhub_leases", "gauge", "File leases held.", hub->leases},
        {"coordhub_lock_waiters", "gauge", "Lock requests queued for a busy file.",
         hub->lock_waiters},
        {"coordhub_lock_granted_total", "counter", "Leases granted.", hub->lock_granted_total},
        {"coordhub_lock_contended_total", "counter",
         "Lock requests that found the file held by another agent.", hub->lock_contended_total},
        {"coordhub_lock_expired_total", "counter", "Leases released because their TTL ran out.",
         hub->lock_expired_total},
        {"coordhub_lock_wait_granted_total", "counter",
         "Queued lock requests (waitMs) that were granted.", hub->lock_wait_granted_total},
        {"coordhub_lock_wait_timed_out_total", "counter",
         "Queued lock requests (waitMs) that timed out.", hub->lock_wait_timed_out_total},
        {"coordhub_lock_wait_cancelled_total", "counter",
         "Queued lock requests dropped: cancelled, or their session ended.",
         hub->lock_wait_cancelled_total},
    };
    int rc = METRICS_ROWS(out, rows);
    if (!rc)
        rc = metrics_histogram(out, "coordhub_lock_wait_seconds",
                               "Time queued lock requests waited until granted or timed out.",
                               METRICS_SCALE_WAIT, &hub->lock_wait_seconds);
    return rc;
}

/* Agents, tasks by status, task totals and cycle time. */
static int metrics_agents_tasks(struct buf *out, const struct metrics_hub *hub)
{
    const struct metrics_row agents[] = {
        {"coordhub_agents", "gauge", "Agents known to the workspace.", hub->agents},
        {"coordhub_agents_active", "gauge", "Agents not offline.", hub->agents_active},
    };
    const struct metrics_row totals[] = {
        {"coordhub_tasks_completed_total", "counter", "Tasks completed.",
         hub->tasks_completed_total},
        {"coordhub_tasks_failed_total", "counter", "Tasks released as failed.",
         hub->tasks_failed_total},
        {"coordhub_tasks_released_total", "counter", "Tasks released back to open.",
         hub->tasks_released_total},
    };
    int rc = METRICS_ROWS(out, agents);
    if (!rc)
        rc = metrics_family(out, "coordhub_tasks", "gauge", "Tasks by status.");
    if (!rc)
        rc = metrics_labelled(out, "coordhub_tasks", "status", "open", hub->tasks_open);
    if (!rc)
        rc = metrics_labelled(out, "coordhub_tasks", "status", "claimed", hub->tasks_claimed);
    if (!rc)
        rc = METRICS_ROWS(out, totals);
    if (!rc)
        rc = metrics_histogram(out, "coordhub_task_cycle_seconds",
                               "Time from a task's claim to its completion.", METRICS_SCALE_CYCLE,
                               &hub->task_cycle_seconds);
    return rc;
}

/* The group commit: append latency, failures, conflicts, batch size. */
static int metrics_commit(struct buf *out, const struct metrics_hub *hub)
{
    const struct metrics_row rows[] = {
        {"coordhub_store_append_errors_total", "counter",
         "Store appends that failed (their calls got the error).", hub->store_append_errors_total},
        {"coordhub_store_conflicts_total", "counter",
         "Store appends refused because another hub appended first.", hub->store_conflicts_total},
        {"coordhub_commands_reevaluated_total", "counter",
         "Tool calls evaluated again after their append lost to another hub's.",
         hub->commands_reevaluated_total},
    };
    int rc = metrics_histogram(out, "coordhub_store_append_seconds",
                               "Latency of one store append (a group commit).",
                               METRICS_SCALE_LATENCY, &hub->store_append_seconds);
    if (!rc)
        rc = METRICS_ROWS(out, rows);
    if (!rc)
        rc = metrics_histogram(out, "coordhub_commit_batch_events",
                               "Events written by one group commit.", METRICS_SCALE_BATCH,
                               &hub->commit_batch_events);
    return rc;
}

/* History reads served from the ring or the store. */
static int metrics_caches(struct buf *out, const struct metrics_hub *hub,
                          const struct metrics_face *face)
{
    int rc = metrics_cache(out, "coordhub_event_cache_hits_total",
                           "History reads served from the in-memory ring of recent events.", true,
                           &hub->wait_cache, &face->sse_cache);
    if (!rc)
        rc = metrics_cache(out, "coordhub_event_cache_misses_total",
                           "History reads that had to go to the store (older than the ring).",
                           false, &hub->wait_cache, &face->sse_cache);
    return rc;
}

/* The Unix socket's sessions and connections, and accept failures. */
static int metrics_socket(struct buf *out, const struct metrics_hub *hub,
                          const struct metrics_face *face)
{
    const struct metrics_row rows[] = {
        {"coordhub_sessions", "gauge", "MCP sessions connected over the Unix socket.",
         hub->sessions},
        {"coordhub_socket_pending", "gauge",
         "Unix-socket connections whose first line has not been read yet.", hub->socket_pending},
        {"coordhub_socket_refused_total", "counter",
         "Unix-socket sessions refused at the socket's session cap.", hub->socket_refused_total},
        {"coordhub_socket_dropped_total", "counter",
         "Unix-socket connections closed before their first line (deadline, "
         "or the oldest at the pending cap).",
         hub->socket_dropped_total},
    };
    int rc = METRICS_ROWS(out, rows);
    return rc ? rc : metrics_accept_failures(out, hub, face);
}

/* GET /events streams, then the HTTP face. */
static int metrics_sse_http(struct buf *out, const struct metrics_face *face)
{
    const struct metrics_row rows[] = {
        {"coordhub_sse_clients", "gauge", "Open GET /events streams.", face->sse_clients},
        {"coordhub_sse_delivered_total", "counter", "Events queued to live /events subscribers.",
         face->sse_delivered_total},
        {"coordhub_sse_cut_off_total", "counter",
         "Subscribers disconnected because their queue passed its bound.", face->sse_cut_off_total},
        {"coordhub_sse_resync_total", "counter",
         "resync events sent to subscribers asking for trimmed history.", face->sse_resync_total},
        {"coordhub_http_connections", "gauge", "Open HTTP connections.", face->http_connections},
        {"coordhub_http_requests_total", "counter", "HTTP requests routed.",
         face->http_requests_total},
        {"coordhub_http_rejected_total", "counter",
         "HTTP connections or requests refused by the connection cap or a quota.",
         face->http_rejected_total},
        {"coordhub_http_timeouts_total", "counter",
         "HTTP connections closed at a header or body deadline.", face->http_timeouts_total},
        {"coordhub_http_malformed_total", "counter",
         "HTTP request heads refused as malformed or over a limit.", face->http_malformed_total},
        {"coordhub_http_dropped_total", "counter",
         "Silent HTTP connections closed to make room at the full cap.", face->http_dropped_total},
        {"coordhub_http_unauthorized_total", "counter", "HTTP requests answered 401.",
         face->http_unauthorized_total},
    };
    return METRICS_ROWS(out, rows);
}

/* The event loop's lateness and the uptime. */
static int metrics_loop(struct buf *out, const struct metrics_hub *hub)
{
    int rc = metrics_double(out, "coordhub_loop_lag_seconds",
                            "Lateness of the event loop's 1 s probe timer.", hub->loop_lag_seconds);
    if (!rc)
        rc = metrics_double(out, "coordhub_uptime_seconds", "Seconds since the hub started.",
                            hub->uptime_seconds);
    return rc;
}

int metrics_render(struct buf *out, const struct metrics_hub *hub, const struct metrics_face *face,
                   const struct metrics_event_counts *events)
{
    size_t mark = out->len;
    int rc = metrics_events(out, events);
    if (!rc)
        rc = metrics_store_log(out, hub);
    if (!rc)
        rc = metrics_locks(out, hub);
    if (!rc)
        rc = metrics_agents_tasks(out, hub);
    if (!rc)
        rc = metrics_tools(out, hub);
    if (!rc)
        rc = metrics_commit(out, hub);
    if (!rc)
        rc = metrics_foreign(out, hub);
    if (!rc)
        rc = metrics_reserved(out, hub, face);
    if (!rc)
        rc = metrics_caches(out, hub, face);
    if (!rc)
        rc = metrics_socket(out, hub, face);
    if (!rc)
        rc = metrics_sse_http(out, face);
    if (!rc)
        rc = metrics_loop(out, hub);
    if (rc) {
        out->len = mark;
        if (out->data)
            out->data[mark] = '\0';
    }
    return rc;
}
