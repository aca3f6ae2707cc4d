/* map — open addressing with linear probing and backward-shift deletion.
 *
 * Invariants: cap is 0 or a power of two; len <= cap * 3 / 4 after every
 * put; every entry sits in the probe run that starts at its home slot
 * (hash & (cap-1)) with no empty slot in between, which is what lookup
 * relies on and what deletion restores by shifting followers back. */
#include "base/map.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/xmalloc.h"

#define MAP_MIN_CAP 16

void map_init(struct map *m)
{
    m->slots = NULL;
    m->cap = 0;
    m->len = 0;
}

void map_deinit(struct map *m)
{
    if (!m)
        return;
    free(m->slots);
    map_init(m);
}

uint64_t map_hash(const char *key)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    /* Final mix so the low bits (the ones used as the index) depend on
     * every input byte. */
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ULL;
    h ^= h >> 32;
    return h;
}

/* Slot holding key, or the empty slot where it would go. */
static size_t map_find(const struct map *m, const char *key, uint64_t h)
{
    size_t mask = m->cap - 1;
    size_t i = (size_t)h & mask;
    while (m->slots[i].key) {
        if (m->slots[i].hash == h && strcmp(m->slots[i].key, key) == 0)
            return i;
        i = (i + 1) & mask;
    }
    return i;
}

static void map_grow(struct map *m)
{
    size_t ncap = m->cap ? m->cap * 2 : MAP_MIN_CAP;
    struct map_entry *old = m->slots;
    size_t ocap = m->cap;
    m->slots = xcalloc(ncap, sizeof(*m->slots));
    m->cap = ncap;
    for (size_t i = 0; i < ocap; i++) {
        if (!old[i].key)
            continue;
        size_t j = (size_t)old[i].hash & (ncap - 1);
        while (m->slots[j].key)
            j = (j + 1) & (ncap - 1);
        m->slots[j] = old[i];
    }
    free(old);
}

void *map_get(const struct map *m, const char *key)
{
    if (!m->len)
        return NULL;
    size_t i = map_find(m, key, map_hash(key));
    return m->slots[i].key ? m->slots[i].val : NULL;
}

void *map_put(struct map *m, const char *key, void *val)
{
    assert(key && val);
    if ((m->len + 1) * 4 > m->cap * 3)
        map_grow(m);
    uint64_t h = map_hash(key);
    size_t i = map_find(m, key, h);
    if (m->slots[i].key) {
        void *prev = m->slots[i].val;
        m->slots[i].key = key;
        m->slots[i].val = val;
        return prev;
    }
    m->slots[i].key = key;
    m->slots[i].val = val;
    m->slots[i].hash = h;
    m->len++;
    return NULL;
}

void *map_del(struct map *m, const char *key)
{
    if (!m->len)
        return NULL;
    size_t mask = m->cap - 1;
    size_t i = map_find(m, key, map_hash(key));
    if (!m->slots[i].key)
        return NULL;
    void *val = m->slots[i].val;
    /* Backward shift: pull each follower into the hole unless its home
     * slot lies cyclically in (hole, follower], where it must stay. */
    size_t hole = i, j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!m->slots[j].key)
            break;
        size_t home = (size_t)m->slots[j].hash & mask;
        bool stays = (hole <= j) ? (hole < home && home <= j) : (hole < home || home <= j);
        if (stays)
            continue;
        m->slots[hole] = m->slots[j];
        hole = j;
    }
    m->slots[hole].key = NULL;
    m->slots[hole].val = NULL;
    m->len--;
    return val;
}

bool map_next(const struct map *m, size_t *iter, const char **key, void **val)
{
    for (size_t i = *iter; i < m->cap; i++) {
        if (m->slots[i].key) {
            if (key)
                *key = m->slots[i].key;
            if (val)
                *val = m->slots[i].val;
            *iter = i + 1;
            return true;
        }
    }
    *iter = m->cap;
    return false;
}
