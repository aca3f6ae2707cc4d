/* fdlimit — the process's descriptor budget: raise the soft RLIMIT_NOFILE
 * toward the hard one at start, and fit the hub's connection caps inside
 * what the limit allows (docs/operations.md, "Descriptors").
 *
 * fdlimit_fit is pure arithmetic: every share (the socket's sessions, the
 * HTTP connections, …) names the cap it wants and how many descriptors
 * one unit of it may hold; when the sum does not fit in the limit less
 * the reserve, the descriptors are shared out fairly — a share that wants
 * less than an equal part keeps its want and leaves the rest to the
 * others — and no share goes below its minimum. */
#ifndef COORDHUB_NET_FDLIMIT_H
#define COORDHUB_NET_FDLIMIT_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

/* The soft limit is never raised above this: more descriptors than the
 * caps can use only hide a leak. */
#define FDLIMIT_CEILING 65536

/* Raise the soft RLIMIT_NOFILE to min(hard, ceiling), never lowering it.
 * *before and *after get the soft limit before and after (also on
 * failure, then equal). 0, or -errno of setrlimit. */
COORDHUB_MUST_CHECK int fdlimit_raise(size_t ceiling, size_t *before, size_t *after);

struct fdlimit_share {
    const char *what; /* names it in logs ("socket sessions") */
    size_t want;      /* the configured cap, in units */
    size_t cost;      /* descriptors one unit may hold (>= 1) */
    size_t min;       /* the cap never goes below this (even over the limit) */
    size_t got;       /* out: the fitted cap (<= want unless want < min) */
};

/* Fit the shares into limit - reserve descriptors. True when some share
 * got less than it wanted. */
bool fdlimit_fit(size_t limit, size_t reserve, struct fdlimit_share *shares, size_t n);

#endif
