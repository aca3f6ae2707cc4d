/* bus — ring of committed events + two subscriber lists (events,
 * observations).
 *
 * Invariant: ring entries are in strictly increasing seq order; the ring
 * holds at most `cap` entries, overwriting the oldest. Subscribers may
 * unsubscribe themselves (or others) from inside a callback: removal only
 * marks the entry, and a list is compacted after its fan-out. Both lists
 * are one struct bus_subs, told apart by the callback they hold. */
#include "bus/bus.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/xmalloc.h"

struct bus_entry {
    struct event ev;
    char *text; /* owned wire JSON */
};

#define BUS_SUBS_FIRST_CAP 8

struct bus_sub {
    uint64_t id;
    union {
        bus_event_cb event;
        bus_observation_cb observation;
    } cb;
    void *arg;
    bool removed;
};

struct bus_subs {
    struct bus_sub *items;
    size_t len, cap;
    size_t live;    /* entries not removed */
    int publishing; /* fan-out depth */
};

struct bus {
    struct bus_entry *ring;  /* cap entries */
    size_t cap, head, count; /* head: index of the oldest */
    char *workspace;         /* owned */
    struct bus_subs events, observations;
    uint64_t next_sub_id;
    int observe_muted; /* bus_observe_mute depth */
};

struct bus *bus_new(size_t ring, const char *workspace)
{
    struct bus *b = xcalloc(1, sizeof(*b));
    b->cap = ring ? ring : 1;
    b->ring = xcalloc(b->cap, sizeof(*b->ring));
    b->workspace = xstrdup(workspace);
    b->next_sub_id = 1;
    return b;
}

void bus_free(struct bus *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->count; i++) {
        struct bus_entry *e = &b->ring[(b->head + i) % b->cap];
        event_deinit(&e->ev);
        free(e->text);
    }
    free(b->ring);
    free(b->events.items);
    free(b->observations.items);
    free(b->workspace);
    free(b);
}

static void bus_subs_compact(struct bus_subs *l)
{
    size_t w = 0;
    for (size_t r = 0; r < l->len; r++)
        if (!l->items[r].removed)
            l->items[w++] = l->items[r];
    l->len = w;
}

static struct bus_sub *bus_subs_add(struct bus *b, struct bus_subs *l, void *arg)
{
    if (l->len == l->cap) {
        l->cap = l->cap ? l->cap * 2 : BUS_SUBS_FIRST_CAP;
        l->items = xrealloc(l->items, l->cap * sizeof(*l->items));
    }
    struct bus_sub *s = &l->items[l->len++];
    memset(s, 0, sizeof(*s));
    s->id = b->next_sub_id++;
    s->arg = arg;
    l->live++;
    return s;
}

static int bus_subs_remove(struct bus_subs *l, uint64_t id)
{
    for (size_t i = 0; i < l->len; i++) {
        if (l->items[i].id == id && !l->items[i].removed) {
            l->items[i].removed = true;
            l->live--;
            if (!l->publishing)
                bus_subs_compact(l);
            return 0;
        }
    }
    return -ERR_NOT_FOUND;
}

/* Run every event subscriber registered before this fan-out began. */
static void bus_fan_out(struct bus *b, const struct event *ev, const char *text)
{
    struct bus_subs *l = &b->events;
    l->publishing++;
    size_t n = l->len; /* subscribers added during fan-out start next time */
    for (size_t i = 0; i < n; i++)
        if (!l->items[i].removed)
            l->items[i].cb.event(l->items[i].arg, ev, text);
    if (--l->publishing == 0)
        bus_subs_compact(l);
}

int bus_publish(struct bus *b, const struct event *ev)
{
    if (ev->seq == 0 || (b->count && ev->seq <= bus_newest(b)))
        return -ERR_INVALID;
    assert(b->cap > 0);
    struct bus_entry *e;
    if (b->count == b->cap) {
        e = &b->ring[b->head];
        event_deinit(&e->ev);
        free(e->text);
        b->head = (b->head + 1) % b->cap;
        b->count--;
    }
    e = &b->ring[(b->head + b->count) % b->cap];
    event_copy(&e->ev, ev);
    e->text = event_to_text(ev, b->workspace);
    b->count++;
    bus_fan_out(b, &e->ev, e->text);
    return 0;
}

int bus_announce(struct bus *b, const struct event *ev)
{
    if (ev->seq != 0)
        return -ERR_INVALID;
    /* A copy, like bus_publish: a subscriber may free what ev points into. */
    struct event copy;
    event_copy(&copy, ev);
    char *text = event_to_text(&copy, b->workspace);
    bus_fan_out(b, &copy, text);
    free(text);
    event_deinit(&copy);
    return 0;
}

uint64_t bus_subscribe(struct bus *b, bus_event_cb cb, void *arg)
{
    struct bus_sub *s = bus_subs_add(b, &b->events, arg);
    s->cb.event = cb;
    return s->id;
}

int bus_unsubscribe(struct bus *b, uint64_t id)
{
    return bus_subs_remove(&b->events, id);
}

/* ---- observations ---- */

uint64_t bus_observe_subscribe(struct bus *b, bus_observation_cb cb, void *arg)
{
    struct bus_sub *s = bus_subs_add(b, &b->observations, arg);
    s->cb.observation = cb;
    return s->id;
}

int bus_observe_unsubscribe(struct bus *b, uint64_t id)
{
    return bus_subs_remove(&b->observations, id);
}

bool bus_observing(const struct bus *b)
{
    return b->observations.live > 0 && b->observe_muted == 0;
}

void bus_observe(struct bus *b, const struct observation *o)
{
    if (!bus_observing(b))
        return;
    struct bus_subs *l = &b->observations;
    l->publishing++;
    size_t n = l->len; /* subscribers added during fan-out start next time */
    for (size_t i = 0; i < n; i++)
        if (!l->items[i].removed)
            l->items[i].cb.observation(l->items[i].arg, o);
    if (--l->publishing == 0)
        bus_subs_compact(l);
}

void bus_observe_mute(struct bus *b, bool mute)
{
    if (mute)
        b->observe_muted++;
    else if (b->observe_muted > 0)
        b->observe_muted--;
}

static void bus_observation_sink_fn(void *arg, const struct observation *o)
{
    bus_observe(arg, o);
}

static bool bus_observation_sink_wanted(void *arg)
{
    return bus_observing(arg);
}

struct observation_sink bus_observation_sink(struct bus *b)
{
    struct observation_sink sink = {
        .fn = bus_observation_sink_fn,
        .wanted = bus_observation_sink_wanted,
        .arg = b,
    };
    return sink;
}

uint64_t bus_oldest(const struct bus *b)
{
    return b->count ? b->ring[b->head].ev.seq : 0;
}

uint64_t bus_newest(const struct bus *b)
{
    return b->count ? b->ring[(b->head + b->count - 1) % b->cap].ev.seq : 0;
}

size_t bus_count(const struct bus *b)
{
    return b->count;
}

const struct event *bus_at(const struct bus *b, size_t i, const char **text)
{
    const struct bus_entry *e = &b->ring[(b->head + i) % b->cap];
    if (text)
        *text = e->text;
    return &e->ev;
}

size_t bus_find_after(const struct bus *b, uint64_t since)
{
    size_t lo = 0, hi = b->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (bus_at(b, mid, NULL)->seq <= since)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}
