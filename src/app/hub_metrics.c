/* hub_metrics — the figures of /metrics that only the hub can measure:
 * tool calls by tool and outcome with their latency, lock waits, task
 * totals and cycle time (the rest — store and commit timings, cache
 * reads — is counted where it happens, in hub.c and hub_tools.c, straight
 * into h->metrics).
 *
 * Cheap by construction: a fixed array of tool slots (the catalog's names
 * in catalog order, then "other", so a client cannot grow the label set
 * by calling made-up tools), fixed histogram arrays, no allocation.
 *
 * Latency is the time from hub_tool_call receiving the parsed call to the
 * answer leaving the hub (hub_send_reply), so it includes the group
 * commit and, for queued lock requests and parked waits, the wait. */
#include <string.h>

#include "app/hub_internal.h"
#include "base/clock.h"
#include "base/json.h"
#include "rpc/tools.h"

void hub_metrics_init(struct hub *h)
{
    memset(&h->metrics, 0, sizeof(h->metrics));
    memset(h->tools, 0, sizeof(h->tools));
    size_t n = 0;
    const struct tool_def *defs = tools_all(&n);
    size_t k = 0;
    for (size_t i = 0; i < n && k < HUB_METRICS_TOOLS - 1; i++)
        h->tools[k++].name = defs[i].name;
    h->tools[k++].name = "other";
    h->metrics.tools = h->tools;
    h->metrics.ntools = k;
}

int hub_metrics_tool(struct hub *h, const char *name)
{
    size_t last = h->metrics.ntools - 1; /* "other" */
    for (size_t i = 0; i < last; i++)
        if (strcmp(h->tools[i].name, name) == 0)
            return (int)i;
    return (int)last;
}

void hub_metrics_answered(struct hub *h, struct hub_call_clock clock, const cJSON *result,
                          bool is_error)
{
    if (clock.tool < 0 || (size_t)clock.tool >= h->metrics.ntools)
        return; /* not a timed call (internal) */
    struct metrics_tool *t = &h->tools[clock.tool];
    const cJSON *success = cJSON_GetObjectItemCaseSensitive(result, "success");
    if (is_error)
        t->error++;
    else if (cJSON_IsFalse(success))
        t->refused++;
    else
        t->ok++;
    int64_t ns = clock_mono_ns() - clock.start_ns;
    metrics_histogram_observe(&t->seconds, METRICS_SCALE_LATENCY, ns > 0 ? (double)ns / 1e9 : 0);
}

void hub_metrics_event(struct hub *h, const struct event *ev)
{
    /* A foreign system's task:* events are streamed, not the hub's tasks. */
    if (strncmp(ev->type, "task:", 5) != 0 || !event_is_hub(ev))
        return;
    struct metrics_hub *m = &h->metrics;
    if (strcmp(ev->type, "task:failed") == 0) {
        m->tasks_failed_total++;
    } else if (strcmp(ev->type, "task:released") == 0) {
        m->tasks_released_total++;
    } else if (strcmp(ev->type, "task:completed") == 0) {
        m->tasks_completed_total++;
        int64_t claimed_at = 0;
        const char *id = json_get_str(ev->data, "taskId", NULL);
        /* Both times come from the store's clock (DESIGN §3). */
        if (id && workspace_task_claimed_at(h->ws, id, &claimed_at) == 0 && ev->ts_ms >= claimed_at)
            metrics_histogram_observe(&m->task_cycle_seconds, METRICS_SCALE_CYCLE,
                                      (double)(ev->ts_ms - claimed_at) / 1000.0);
    }
}

void hub_metrics_lock_wait_done(struct hub *h, struct hub_call_clock clock, bool granted)
{
    struct metrics_hub *m = &h->metrics;
    if (granted)
        m->lock_wait_granted_total++;
    else
        m->lock_wait_timed_out_total++;
    int64_t ns = clock_mono_ns() - clock.start_ns;
    metrics_histogram_observe(&m->lock_wait_seconds, METRICS_SCALE_WAIT,
                              ns > 0 ? (double)ns / 1e9 : 0);
}
