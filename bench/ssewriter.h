/* ssewriter — the baseline of the SSE benches: the least a server can do
 * to deliver the hub's frames to many subscribers over loopback TCP.
 *
 * A forked child accepts the subscribers' GET requests, answers each with
 * a chunked text/event-stream head and a `retry:` frame, then, once told
 * to go, writes events shaped like the hub's (`id:`, `event: bench:tick`,
 * `data:` with the same envelope, padded to the hub's frame size) — as
 * fast as the sockets take them, or at a fixed rate — formatting each
 * frame once and copying it to every subscriber's buffer, then one
 * write() per subscriber per round. No HTTP parsing beyond finding the
 * end of each request head, no store, no routing: the ceiling of the
 * machine for this traffic. */
#ifndef COORDHUB_BENCH_SSEWRITER_H
#define COORDHUB_BENCH_SSEWRITER_H

#include <stddef.h>
#include <sys/types.h>

struct ssewriter_opts {
    int subscribers;    /* connections to accept before going */
    long events;        /* events to write in all */
    double rate;        /* events/s, or 0 for as fast as possible */
    size_t frame_bytes; /* SSE frame size to match (0: unpadded) */
    int cpu;            /* CPU for the child, -1 = any */
};

struct ssewriter {
    pid_t pid;     /* the child, or -1 */
    int go_fd;     /* write end of the go pipe, or -1 */
    char addr[64]; /* 127.0.0.1:PORT it listens on */
};

/* Listen on an ephemeral loopback port and fork the writer. 0 or -errno;
 * on error nothing is left running. */
int ssewriter_start(struct ssewriter *w, const struct ssewriter_opts *o);
/* Tell the writer to start writing events (after every subscriber has its
 * response head). 0 or -errno. */
int ssewriter_go(struct ssewriter *w);
/* Reap the child: it exits once it has written everything and the
 * subscribers closed; after a grace period it is killed. 0 if it exited
 * with status 0, else -1. Idempotent. */
int ssewriter_finish(struct ssewriter *w);

#endif
