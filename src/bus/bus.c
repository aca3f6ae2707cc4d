/* bus — ring of committed events + subscriber list.
 *
 * Invariant: ring entries are in strictly increasing seq order; the ring
 * holds at most `cap` entries, overwriting the oldest. Subscribers may
 * unsubscribe themselves (or others) from inside a callback: removal only
 * marks the entry, and entries are compacted after the fan-out. */
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

struct bus_sub {
    uint64_t id;
    bus_event_cb cb;
    void *arg;
    bool removed;
};

struct bus {
    struct bus_entry *ring;  /* cap entries */
    size_t cap, head, count; /* head: index of the oldest */
    char *workspace;         /* owned */
    struct bus_sub *subs;
    size_t nsubs, subs_cap;
    uint64_t next_sub_id;
    int publishing; /* fan-out depth */
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
    free(b->subs);
    free(b->workspace);
    free(b);
}

static void bus_compact(struct bus *b)
{
    size_t w = 0;
    for (size_t r = 0; r < b->nsubs; r++)
        if (!b->subs[r].removed)
            b->subs[w++] = b->subs[r];
    b->nsubs = w;
}

/* Run every subscriber registered before this fan-out began. */
static void bus_fan_out(struct bus *b, const struct event *ev, const char *text)
{
    b->publishing++;
    size_t n = b->nsubs; /* subscribers added during fan-out start next time */
    for (size_t i = 0; i < n; i++)
        if (!b->subs[i].removed)
            b->subs[i].cb(b->subs[i].arg, ev, text);
    if (--b->publishing == 0)
        bus_compact(b);
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
    if (b->nsubs == b->subs_cap) {
        b->subs_cap = b->subs_cap ? b->subs_cap * 2 : 8;
        b->subs = xrealloc(b->subs, b->subs_cap * sizeof(*b->subs));
    }
    struct bus_sub *s = &b->subs[b->nsubs++];
    s->id = b->next_sub_id++;
    s->cb = cb;
    s->arg = arg;
    s->removed = false;
    return s->id;
}

int bus_unsubscribe(struct bus *b, uint64_t id)
{
    for (size_t i = 0; i < b->nsubs; i++) {
        if (b->subs[i].id == id && !b->subs[i].removed) {
            b->subs[i].removed = true;
            if (!b->publishing)
                bus_compact(b);
            return 0;
        }
    }
    return -ERR_NOT_FOUND;
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
