/* redis_compat — the seed-compatibility projection of the redis store:
 * what each appended event means for the keys the seed server kept and
 * its clients may still read, outside the workspace's hash tag:
 *   mcp:lock:<file>       JSON {agentId, reason, lockedAt} of the
 *                         exclusive holder, expiring with the lease
 *   mcp:servers:registry  the set of JSON server objects, kept in step
 *                         with the hub's server:registered and
 *                         server:removed events
 * Pure: an event in, the append script's compatibility arguments out (the
 * script writes them with redis.pcall and ignores their errors,
 * redis_scripts.c). The keys lie outside the workspace's slot, so the
 * store turns the projection off in Cluster mode (every operation "-"). */
#ifndef COORDHUB_STORE_REDIS_COMPAT_H
#define COORDHUB_STORE_REDIS_COMPAT_H

#include <stdbool.h>

#include "core/event.h"
#include "store/redis_args.h"

#define REDIS_COMPAT_REGISTRY "mcp:servers:registry"
#define REDIS_COMPAT_LOCK_PREFIX "mcp:lock:"

/* One event's lock-key operation. op "set": key := value expiring at
 * pxat (ms since epoch); "renew": the same, keeping the stored lockedAt
 * if the same agent holds it; "del": delete key if value (an agent id)
 * holds it; "-": nothing (key, value "", pxat "0"). */
struct redis_compat_lock {
    const char *op, *key, *value, *pxat;
};

/* One event's registry operation. op "reg": member (the server object's
 * JSON) stands for id in the set, replacing what stood for it; "rm": what
 * stood for id leaves the set; "-": nothing (id, member ""). */
struct redis_compat_reg {
    const char *op, *id, *member;
};

/* A hub-sourced exclusive file:locked (not a pattern lease, with a ttl)
 * is "set" ("renew" when renewed); a file:unlocked, or a lock in shared
 * mode, is "del" for its agent; anything else, or on == false, is "-".
 * Strings made here are owned by keep. */
void redis_compat_lock(const struct event *ev, bool on, struct redis_args *keep,
                       struct redis_compat_lock *out);

/* A hub-sourced server:registered whose data has a serverId is "reg";
 * a hub-sourced server:removed with one is "rm"; anything else, or
 * on == false, is "-". Strings made here are owned by keep. */
void redis_compat_registry(const struct event *ev, bool on, struct redis_args *keep,
                           struct redis_compat_reg *out);

#endif
