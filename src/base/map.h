/* map — a string-keyed hash map (open addressing, linear probing).
 *
 * Keys are BORROWED: the map stores the caller's pointer, so a key must
 * stay valid and unchanged while its entry is in the map (the usual way is
 * to key a record by a string the record itself owns). Values are opaque
 * pointers the map never frees. Deletion shifts entries back instead of
 * leaving tombstones, so lookups stay short after heavy churn.
 *
 * Iteration order is unspecified; callers that need determinism collect
 * and sort. The map must not be modified while it is being iterated. */
#ifndef COORDHUB_BASE_MAP_H
#define COORDHUB_BASE_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct map_entry {
    const char *key; /* borrowed; NULL = empty slot */
    void *val;
    uint64_t hash;
};

struct map {
    struct map_entry *slots; /* owned; cap entries */
    size_t cap;              /* 0 or a power of two */
    size_t len;
};

/* Initialise an empty map (allocates nothing). */
void map_init(struct map *m);
/* Release the slot array (not keys or values). NULL ok; reusable after. */
void map_deinit(struct map *m);
/* The value stored under key, or NULL. */
void *map_get(const struct map *m, const char *key);
/* Store val under key (val must not be NULL). Returns the previous value
 * for an existing key (whose stored key pointer is replaced by key), or
 * NULL for a new one. */
void *map_put(struct map *m, const char *key, void *val);
/* Remove key; returns its value, or NULL when absent. */
void *map_del(struct map *m, const char *key);
static inline size_t map_len(const struct map *m)
{
    return m->len;
}
/* Iterate: start with *iter = 0; returns false when done. */
bool map_next(const struct map *m, size_t *iter, const char **key, void **val);
/* The hash used by the map (64-bit FNV-1a), exposed for tests. */
uint64_t map_hash(const char *key);

#endif
