/* store_memory — the in-memory backend: the reference implementation of
 * the store contract and the fake used by tests.
 *
 * The log is a vector of deep copies of the appended events. Invariants:
 *   - log.items[i].seq == trimmed + 1 + i (the log is contiguous), so a
 *     read finds its start by arithmetic;
 *   - last == trimmed + log.len, and it never decreases (trimming keeps it);
 *   - snap_text is NULL exactly when no snapshot was saved.
 * Nothing survives close: "reopening" gives an empty store. Appends
 * complete synchronously (the callback runs before append returns). */
#include "store/store.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base/clock.h"
#include "base/xmalloc.h"

struct store_memory {
    struct store base;
    struct event_vec log; /* owned deep copies; contiguous seqs */
    uint64_t trimmed;     /* highest seq dropped by trim (0: none) */
    uint64_t last;        /* last appended seq (0: empty log) */
    uint64_t snap_seq;    /* seq of the newest snapshot */
    char *snap_text;      /* owned; NULL when there is no snapshot */
    int64_t last_now;     /* ms since epoch; now() never goes below it */
    cJSON *meta;          /* owned: meta_claim's key -> value */
};

static struct store_memory *store_memory_of(struct store *s)
{
    return (struct store_memory *)s;
}

static int store_memory_open(const char *url, const struct store_open_opts *opts,
                             struct store **out, char **errmsg)
{
    (void)opts;
    *out = NULL;
    *errmsg = NULL;
    if (!url || strncmp(url, "memory:", 7) != 0) {
        *errmsg = xstrdup("memory store URL must start with 'memory:'");
        return -ERR_INVALID;
    }
    struct store_memory *m = xcalloc(1, sizeof(*m));
    m->base.ops = &store_memory_ops;
    event_vec_init(&m->log);
    m->meta = cJSON_CreateObject();
    *out = &m->base;
    return 0;
}

static void store_memory_close(struct store *s)
{
    if (!s)
        return;
    struct store_memory *m = store_memory_of(s);
    event_vec_deinit(&m->log);
    free(m->snap_text);
    cJSON_Delete(m->meta);
    free(m);
}

static int store_memory_append(struct store *s, uint64_t expected_seq, const struct event *evs,
                               size_t n, store_append_cb cb, void *arg)
{
    struct store_memory *m = store_memory_of(s);
    if (!cb)
        return -ERR_INVALID;
    int rc = store_check_batch(expected_seq, evs, n);
    if (rc)
        return rc;
    if (expected_seq != m->last) {
        cb(arg, -ERR_CONFLICT, m->last);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        struct event copy;
        event_copy(&copy, &evs[i]);
        event_vec_push(&m->log, &copy);
    }
    m->last = expected_seq + n;
    cb(arg, 0, m->last);
    return 0;
}

static int store_memory_read(struct store *s, uint64_t since, size_t limit, struct event_vec *out)
{
    struct store_memory *m = store_memory_of(s);
    if (!out)
        return -ERR_INVALID;
    size_t start = since <= m->trimmed ? 0 : (size_t)(since - m->trimmed);
    for (size_t i = start; i < m->log.len && limit > 0; i++, limit--) {
        struct event copy;
        event_copy(&copy, &m->log.items[i]);
        event_vec_push(out, &copy);
    }
    return 0;
}

static int store_memory_last_seq(struct store *s, uint64_t *seq)
{
    *seq = store_memory_of(s)->last;
    return 0;
}

static int store_memory_first_seq(struct store *s, uint64_t *seq)
{
    *seq = store_memory_of(s)->trimmed + 1;
    return 0;
}

static int store_memory_snapshot_save(struct store *s, uint64_t seq, const char *text, size_t len)
{
    struct store_memory *m = store_memory_of(s);
    if (!text || memchr(text, '\0', len) || seq > m->last)
        return -ERR_INVALID;
    if (m->snap_text && seq < m->snap_seq)
        return -ERR_INVALID; /* never replace a newer snapshot with an older one */
    free(m->snap_text);
    m->snap_text = xstrndup(text, len);
    m->snap_seq = seq;
    return 0;
}

static int store_memory_snapshot_load(struct store *s, uint64_t *seq, char **text)
{
    struct store_memory *m = store_memory_of(s);
    *seq = m->snap_text ? m->snap_seq : 0;
    *text = xstrdup(m->snap_text);
    return 0;
}

static int store_memory_now(struct store *s, int64_t *ms)
{
    struct store_memory *m = store_memory_of(s);
    *ms = store_clock_monotone(&m->last_now);
    return 0;
}

static int store_memory_trim(struct store *s, uint64_t upto)
{
    struct store_memory *m = store_memory_of(s);
    if (upto > (m->snap_text ? m->snap_seq : 0))
        return -ERR_INVALID;
    if (upto <= m->trimmed)
        return 0;
    size_t drop = (size_t)(upto - m->trimmed);
    for (size_t i = 0; i < drop; i++)
        event_deinit(&m->log.items[i]);
    memmove(m->log.items, m->log.items + drop, (m->log.len - drop) * sizeof(*m->log.items));
    m->log.len -= drop;
    m->trimmed = upto;
    return 0;
}

static int store_memory_meta_claim(struct store *s, const char *key, const char *value,
                                   char **recorded)
{
    struct store_memory *m = store_memory_of(s);
    *recorded = NULL;
    if (store_check_meta(key, value))
        return -ERR_INVALID;
    const cJSON *held = cJSON_GetObjectItemCaseSensitive(m->meta, key);
    if (!held)
        held = cJSON_AddStringToObject(m->meta, key, value);
    *recorded = xstrdup(held->valuestring);
    return 0;
}

const struct store_ops store_memory_ops = {
    .name = "memory",
    .caps = {.shared = false,
             .may_go_away = false,
             .trims = true,
             .ingests = false,
             .default_retain = 0},
    .open = store_memory_open,
    .close = store_memory_close,
    .append = store_memory_append,
    .read = store_memory_read,
    .last_seq = store_memory_last_seq,
    .first_seq = store_memory_first_seq,
    .snapshot_save = store_memory_snapshot_save,
    .snapshot_load = store_memory_snapshot_load,
    .now = store_memory_now,
    .listen = NULL,
    .trim = store_memory_trim,
    .meta_claim = store_memory_meta_claim,
};
