/* sseload — GET /events subscribers and the POST /events publisher: the
 * SSE fan-out and publish-to-delivery latency benches, against the hub or
 * against the baseline writer (ssewriter.h).
 *
 * One process, one epoll loop: S subscriber connections that decode the
 * chunked stream and the SSE frames in place, and (hub only) a pool of
 * keep-alive publisher connections. Every subscriber must receive every
 * event exactly once (checked per subscriber with a bitmap of the events'
 * own counters, and by ids strictly increasing); a subscriber that is cut
 * off, a duplicate, a refused POST or a missing event fails the run. */
#ifndef COORDHUB_BENCH_SSELOAD_H
#define COORDHUB_BENCH_SSELOAD_H

#include <stdbool.h>
#include <stddef.h>

struct sseload_opts {
    const char *label;      /* names the RESULT line */
    const char *addr;       /* the hub's HOST:PORT, or NULL: run the baseline writer */
    const char *token_file; /* the hub's admin token */
    int subscribers;
    bool latency;        /* paced at rate, else as fast as possible */
    long events;         /* fan-out: counted events (after warmup) */
    long warmup;         /* fan-out: uncounted events first */
    double rate;         /* latency: events/s */
    double seconds;      /* latency: counted window */
    double warm_seconds; /* latency: uncounted window first */
    int batch;           /* events per POST /events (hub) */
    int connections;     /* publisher connections (hub) */
    long window;         /* fan-out: events published but not yet everywhere */
    size_t frame_bytes;  /* baseline: SSE frame size to match */
    int server_cpu;      /* baseline: CPU of the writer, -1 = any */
};

/* Run one bench; prints one RESULT line on stdout. 0, or -1 with the
 * reason on stderr. Every process started is reaped before returning. */
int sseload_run(const struct sseload_opts *o);

#endif
