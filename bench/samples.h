/* samples — latency samples and their percentiles. */
#ifndef COORDHUB_BENCH_SAMPLES_H
#define COORDHUB_BENCH_SAMPLES_H

#include <stddef.h>
#include <stdint.h>

struct samples {
    int64_t *v; /* owned: durations in ns */
    size_t n;
    size_t cap;
};

void samples_init(struct samples *s);
void samples_deinit(struct samples *s);
/* Record one duration (ns). Aborts when memory runs out. */
void samples_add(struct samples *s, int64_t ns);
/* Sort ascending; percentiles need it. */
void samples_sort(struct samples *s);
/* The q-th quantile (0 < q ≤ 1, nearest rank) in µs of sorted samples;
 * 0 when empty. */
double samples_quantile_us(const struct samples *s, double q);
/* Monotonic clock in ns. */
int64_t samples_now_ns(void);

#endif
