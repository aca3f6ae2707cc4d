/* samples — a growable array of durations; quantiles by nearest rank on
 * the sorted array, so p99 of 5000 samples is the 4950th, never an
 * interpolation between two. */
#include "samples.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>

void samples_init(struct samples *s)
{
    s->v = NULL;
    s->n = 0;
    s->cap = 0;
}

void samples_deinit(struct samples *s)
{
    free(s->v);
    samples_init(s);
}

void samples_add(struct samples *s, int64_t ns)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4096;
        int64_t *v = realloc(s->v, cap * sizeof(*v));
        if (!v)
            abort();
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = ns;
}

static int samples_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

void samples_sort(struct samples *s)
{
    if (s->n)
        qsort(s->v, s->n, sizeof(*s->v), samples_cmp);
}

double samples_quantile_us(const struct samples *s, double q)
{
    if (!s->n)
        return 0;
    size_t rank = (size_t)ceil(q * (double)s->n);
    if (rank < 1)
        rank = 1;
    if (rank > s->n)
        rank = s->n;
    return (double)s->v[rank - 1] / 1000.0;
}

int64_t samples_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
