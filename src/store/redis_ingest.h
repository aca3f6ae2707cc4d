/* redis_ingest — the redis store's subscriber on mcp:events
 * (docs/operations.md, "Foreign events on `mcp:events`").
 *
 * A connection of its own, attached to the hub's loop, SUBSCRIBEs to the
 * channel and hands every message to foreign_msg_parse(). A message that
 * is a hub's own publication or another workspace's is ignored (logged at
 * debug); an invalid one is logged at warn (at most one line a second,
 * the next saying how many were not logged) and dropped; a valid one is
 * given to the host's append with the SHA-256 of its raw bytes, which
 * appends its events to the log unless the same bytes were ingested
 * within the dedupe window (every hub on the channel receives the same
 * message; one of them appends it). Each outcome is counted
 * (struct store_ingest_stats).
 *
 * A lost connection is reopened after a capped, doubling delay
 * (min_ms .. max_ms, back to min_ms once subscribed again); messages
 * published while it is down are not seen (Pub/Sub keeps nothing). */
#ifndef COORDHUB_STORE_REDIS_INGEST_H
#define COORDHUB_STORE_REDIS_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "core/event.h"
#include "store/redis_url.h"
#include "store/store.h"

struct event_base;
struct redis_ingest;

/* Hex SHA-256 of a message: the dedupe key's suffix. */
#define REDIS_INGEST_DIGEST_LEN 64

/* What redis_ingest needs from the store that owns it. */
struct redis_ingest_host {
    /* The store's clock (ms since epoch), for events without a usable
     * timestamp. 0 or an error (the message then counts as failed). */
    int (*now)(void *arg, int64_t *ms);
    /* Append evs[0..n) (seq 0; the store assigns seqs) as one atomic
     * step unless digest was seen within the window: 0 appended,
     * REDIS_INGEST_DUPLICATE nothing written, or a negative error with
     * nothing written. */
    int (*append)(void *arg, const char *digest, const struct event *evs, size_t n);
    void *arg;
};

#define REDIS_INGEST_DUPLICATE 1

/* Start subscribing on loop. url (borrowed for the handle's life) says
 * where and how to authenticate; ws is the workspace (copied); host is
 * copied. Never NULL: connection failures are retried in the background. */
struct redis_ingest *redis_ingest_new(struct event_base *loop, const struct redis_url *url,
                                      const char *ws, const struct redis_ingest_host *host,
                                      int min_ms, int max_ms);

/* Unsubscribe and free. NULL ok. Must not be called from the host's
 * append (which runs inside a message callback). */
void redis_ingest_free(struct redis_ingest *ri);

/* The counters so far (zeros for NULL). */
void redis_ingest_stats(const struct redis_ingest *ri, struct store_ingest_stats *out);

#endif
