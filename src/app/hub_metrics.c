/* hub_metrics — the figures of /metrics that only the hub can measure:
 * tool calls by tool and outcome with their latency, lock waits, task
 * totals and cycle time (the rest — store and commit timings, cache
 * reads — is counted where it happens, in hub.c and hub_tools.c, straight
 * into h->metrics).
 *
 * Cheap by construction: tool slots keyed by name, one per tool the
 * registry serves, made on its first call (then one lookup per call), plus
 * "other" for every name outside the registry, so a client cannot grow
 * the label set by calling made-up tools; fixed histogram arrays.
 *
 * Latency is the time from hub_tool_call receiving the parsed call to the
 * answer leaving the hub (hub_send_reply), so it includes the group
 * commit and, for queued lock requests and parked waits, the wait. The
 * same figure goes to the bus's observation subscribers as a tool latency
 * (docs/architecture.md, "Observations"), built only when one listens. */
#include <stdlib.h>
#include <string.h>

#include "app/hub_metrics.h"
#include "base/clock.h"
#include "base/json.h"
#include "base/xmalloc.h"
#include "bus/bus.h"
#include "rpc/registry.h"

/* A new label slot for name (copied); h->metrics.tools follows the
 * array when it moves. Its index. */
static int hub_metrics_slot_new(struct hub *h, const char *name)
{
    if (h->ntool_slots == h->tool_slots_cap) {
        h->tool_slots_cap = h->tool_slots_cap ? h->tool_slots_cap * 2 : 32;
        h->tools = xrealloc(h->tools, h->tool_slots_cap * sizeof(*h->tools));
    }
    struct metrics_tool *t = &h->tools[h->ntool_slots];
    memset(t, 0, sizeof(*t));
    char *copy = xstrdup(name);
    t->name = copy;
    size_t *index = xmalloc(sizeof(*index));
    *index = h->ntool_slots;
    map_put(&h->tool_slot_of, copy, index);
    h->metrics.tools = h->tools;
    h->metrics.ntools = ++h->ntool_slots;
    return (int)(h->ntool_slots - 1);
}

void hub_metrics_init(struct hub *h)
{
    memset(&h->metrics, 0, sizeof(h->metrics));
    h->tools = NULL;
    h->ntool_slots = h->tool_slots_cap = 0;
    map_init(&h->tool_slot_of);
    h->tool_other = SIZE_MAX; /* made with the first slot: nothing allocated yet */
}

void hub_metrics_fini(struct hub *h)
{
    size_t iter = 0;
    const char *key;
    void *index;
    while (map_next(&h->tool_slot_of, &iter, &key, &index))
        free(index);
    for (size_t i = 0; i < h->ntool_slots; i++)
        free((char *)h->tools[i].name);
    free(h->tools);
    h->tools = NULL;
    h->ntool_slots = h->tool_slots_cap = 0;
    map_deinit(&h->tool_slot_of);
    h->metrics.tools = NULL;
    h->metrics.ntools = 0;
}

int hub_metrics_tool(struct hub *h, const char *name)
{
    if (h->tool_other == SIZE_MAX)
        h->tool_other = (size_t)hub_metrics_slot_new(h, "other");
    const size_t *slot = map_get(&h->tool_slot_of, name);
    if (slot)
        return (int)*slot;
    /* A tool the registry serves gets its slot on its first call (a
     * provider's tools may come at run time); any other name counts as
     * "other", so a client cannot grow the label set with made-up names:
     * it is bounded by the tools ever served. */
    if (h->registry && tool_registry_find(h->registry, name))
        return hub_metrics_slot_new(h, name);
    return (int)h->tool_other;
}

void hub_metrics_answered(struct hub *h, struct hub_call_clock clock, const cJSON *result,
                          bool is_error)
{
    if (clock.tool < 0 || (size_t)clock.tool >= h->ntool_slots)
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
    if (h->bus && bus_observing(h->bus)) {
        struct observation o = {
            .kind = OBSERVATION_TOOL_LATENCY,
            .at_ms = hub_now(h),
            .tool = t->name,
            .latency_ms = ns > 0 ? (double)ns / 1e6 : 0,
            .error = is_error,
            .refused = !is_error && cJSON_IsFalse(success),
        };
        bus_observe(h->bus, &o);
    }
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
        /* Both times come from the store's clock (docs/architecture.md, "The store layer"). */
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
