/* redis_args — see redis_args.h. */
#include "store/redis_args.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xmalloc.h"

void redis_args_init(struct redis_args *a)
{
    memset(a, 0, sizeof(*a));
}

void redis_args_free(struct redis_args *a)
{
    for (size_t i = 0; i < a->nheap; i++)
        free(a->heap[i]);
    free(a->heap);
    free(a->argv);
    free(a->lens);
    memset(a, 0, sizeof(*a));
}

void redis_args_push(struct redis_args *a, const char *s, size_t len)
{
    if ((size_t)a->argc == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 32;
        a->argv = xrealloc(a->argv, a->cap * sizeof(*a->argv));
        a->lens = xrealloc(a->lens, a->cap * sizeof(*a->lens));
    }
    a->argv[a->argc] = s;
    a->lens[a->argc++] = len;
}

void redis_args_pushs(struct redis_args *a, const char *s)
{
    redis_args_push(a, s, strlen(s));
}

const char *redis_args_keep(struct redis_args *a, char *s)
{
    if (a->nheap == a->heapcap) {
        a->heapcap = a->heapcap ? a->heapcap * 2 : 16;
        a->heap = xrealloc(a->heap, a->heapcap * sizeof(*a->heap));
    }
    a->heap[a->nheap++] = s;
    return s;
}

const char *redis_args_u64(struct redis_args *a, uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof(buf), "%" PRIu64, v);
    return redis_args_keep(a, xstrdup(buf));
}
