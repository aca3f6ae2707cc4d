/* metrics — Prometheus text rendering.
 *
 * Every family is written with its HELP and TYPE lines, always, so a
 * scraper sees the same set of names from the first scrape (a counter
 * that has not moved yet is 0). Label values are escaped as the format
 * requires (backslash, double quote, newline). */
#include "api/metrics.h"

#include <string.h>

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

int metrics_render(struct buf *out, const struct metrics_hub *hub, const struct metrics_face *face,
                   const struct metrics_event_counts *events)
{
    size_t mark = out->len;
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
    if (!rc)
        rc = metrics_u64(out, "coordhub_store_last_seq", "gauge",
                         "Sequence number of the last event in the store.", hub->store_last_seq);
    if (!rc)
        rc = metrics_u64(out, "coordhub_leases", "gauge", "File leases held.", hub->leases);
    if (!rc)
        rc = metrics_u64(out, "coordhub_lock_waiters", "gauge",
                         "Lock requests queued for a busy file.", hub->lock_waiters);
    if (!rc)
        rc = metrics_u64(out, "coordhub_lock_granted_total", "counter", "Leases granted.",
                         hub->lock_granted_total);
    if (!rc)
        rc = metrics_u64(out, "coordhub_lock_contended_total", "counter",
                         "Lock requests that found the file held by another agent.",
                         hub->lock_contended_total);
    if (!rc)
        rc = metrics_u64(out, "coordhub_lock_expired_total", "counter",
                         "Leases released because their TTL ran out.", hub->lock_expired_total);
    if (!rc)
        rc = metrics_u64(out, "coordhub_agents", "gauge", "Agents known to the workspace.",
                         hub->agents);
    if (!rc)
        rc = metrics_u64(out, "coordhub_agents_active", "gauge", "Agents not offline.",
                         hub->agents_active);
    if (!rc)
        rc = metrics_family(out, "coordhub_tasks", "gauge", "Tasks by status.");
    if (!rc)
        rc = metrics_labelled(out, "coordhub_tasks", "status", "open", hub->tasks_open);
    if (!rc)
        rc = metrics_labelled(out, "coordhub_tasks", "status", "claimed", hub->tasks_claimed);
    if (!rc)
        rc = metrics_u64(out, "coordhub_sessions", "gauge",
                         "MCP sessions connected over the Unix socket.", hub->sessions);
    if (!rc)
        rc = metrics_u64(out, "coordhub_sse_clients", "gauge", "Open GET /events streams.",
                         face->sse_clients);
    if (!rc)
        rc = metrics_u64(out, "coordhub_sse_delivered_total", "counter",
                         "Events queued to live /events subscribers.", face->sse_delivered_total);
    if (!rc)
        rc = metrics_u64(out, "coordhub_sse_cut_off_total", "counter",
                         "Subscribers disconnected because their queue passed its bound.",
                         face->sse_cut_off_total);
    if (!rc)
        rc = metrics_u64(out, "coordhub_sse_resync_total", "counter",
                         "resync events sent to subscribers asking for trimmed history.",
                         face->sse_resync_total);
    if (!rc)
        rc = metrics_u64(out, "coordhub_http_connections", "gauge", "Open HTTP connections.",
                         face->http_connections);
    if (!rc)
        rc = metrics_u64(out, "coordhub_http_requests_total", "counter", "HTTP requests routed.",
                         face->http_requests_total);
    if (!rc)
        rc = metrics_u64(out, "coordhub_http_rejected_total", "counter",
                         "HTTP connections refused at the connection cap.",
                         face->http_rejected_total);
    if (!rc)
        rc = metrics_u64(out, "coordhub_http_unauthorized_total", "counter",
                         "HTTP requests answered 401.", face->http_unauthorized_total);
    if (!rc)
        rc = metrics_double(out, "coordhub_loop_lag_seconds",
                            "Lateness of the event loop's 1 s probe timer.", hub->loop_lag_seconds);
    if (!rc)
        rc = metrics_double(out, "coordhub_uptime_seconds", "Seconds since the hub started.",
                            hub->uptime_seconds);
    if (rc) {
        out->len = mark;
        if (out->data)
            out->data[mark] = '\0';
    }
    return rc;
}
