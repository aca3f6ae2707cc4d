/* propagate — cross-hub event propagation: a session on hub A (--socket)
 * locks and unlocks files one call at a time while a GET /events
 * subscriber on hub B (--addr, its token) waits for each event. Timed
 * from the send of the call on A to the SSE frame's arrival from B, and
 * beside it A's own answer time, so "seen on B" can be read against
 * "committed on A". With A and B the same hub it measures the local path
 * (commit -> fan-out on one hub), the baseline of the cross-hub figure. */
#ifndef COORDHUB_BENCH_PROPAGATE_H
#define COORDHUB_BENCH_PROPAGATE_H

struct propagate_opts {
    const char *label;      /* names the RESULT line */
    const char *socket;     /* hub A's hub.sock */
    const char *addr;       /* hub B's HTTP HOST:PORT */
    const char *token_file; /* hub B's admin token */
    long n;                 /* measured events (lock and unlock each count) */
    long warmup;            /* discarded events first */
    unsigned files;         /* distinct files cycled through */
};

/* Run one bench; prints one RESULT line on stdout. 0, or -1 with the
 * reason on stderr (a refused call, a lost event, a cut stream). */
int propagate_run(const struct propagate_opts *o);

#endif
