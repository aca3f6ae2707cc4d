/* throughput — many concurrent MCP sessions on the hub socket, each doing
 * lock_file+unlock_file on its own files, one request outstanding per
 * session (closed loop, like `redis-benchmark -c C -P 1`). With several
 * sockets (hubs sharing one Redis workspace) the sessions are dealt out
 * round robin; with retry, a call the hub refused with "nothing was
 * recorded" (two hubs' appends conflicted) is sent again and counted in
 * `retries`, as a client may resend a call on which nothing was recorded
 * (docs/architecture.md, "Group commit"). */
#ifndef COORDHUB_BENCH_THROUGHPUT_H
#define COORDHUB_BENCH_THROUGHPUT_H

#include <stdbool.h>

struct throughput_opts {
    const char *label;          /* names the RESULT line */
    const char *const *sockets; /* hub.sock paths: session i uses sockets[i % nsockets] */
    int nsockets;
    bool retry;          /* a call answered "nothing was recorded" is sent again */
    int clients;         /* concurrent sessions */
    unsigned files;      /* distinct files per session */
    double warm_seconds; /* run before counting starts */
    double seconds;      /* counted window */
};

/* Open the sessions, run the load, print one RESULT line on stdout.
 * 0, or -1 with the reason on stderr (a refused call is a failure). */
int throughput_run(const struct throughput_opts *o);

#endif
